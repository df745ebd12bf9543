/* Unit tests for access: key forms, admin switch, Origin and Host checks, CORS allowed headers,
 * and path normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "access.h"
#include "config.h"

static struct config cfg;

static int setup(void **state) {
    char err[CONFIG_ERR_LEN];
    (void)state;
    if (config_init(&cfg, NULL, err, sizeof(err)) < 0)
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    config_free(&cfg);
    return 0;
}

static void test_no_keys_is_open(void **state) {
    (void)state;
    assert_int_equal(access_check(&cfg, "/v1/chat/completions", NULL, NULL), ACCESS_OK);
    assert_int_equal(access_check(&cfg, "/api/pull", NULL, NULL), ACCESS_OK);
}

static void test_key_forms(void **state) {
    (void)state;
    char err[CONFIG_ERR_LEN];
    assert_int_equal(config_set(&cfg, NULL, "api_keys", "sk-one-key, sk-two-key", err, sizeof(err)),
                     0);
    const char *p = "/v1/chat/completions";
    assert_int_equal(access_check(&cfg, p, NULL, NULL), ACCESS_UNAUTHORIZED);
    assert_int_equal(access_check(&cfg, p, "Bearer sk-one-key", NULL), ACCESS_OK);
    assert_int_equal(access_check(&cfg, p, "bearer   sk-two-key", NULL), ACCESS_OK);
    assert_int_equal(access_check(&cfg, p, "Bearer sk-one-ke", NULL), ACCESS_UNAUTHORIZED);
    assert_int_equal(access_check(&cfg, p, "Bearer sk-one-keyX", NULL), ACCESS_UNAUTHORIZED);
    assert_int_equal(access_check(&cfg, p, "Bearer ", NULL), ACCESS_UNAUTHORIZED);
    assert_int_equal(access_check(&cfg, p, NULL, "sk-two-key"), ACCESS_OK);
    /* the OpenAI SDK's placeholder Bearer plus a real x-api-key */
    assert_int_equal(access_check(&cfg, p, "Bearer unused", "sk-one-key"), ACCESS_OK);
    /* Basic: "user:sk-one-key" and ":sk-two-key" */
    assert_int_equal(access_check(&cfg, p, "Basic dXNlcjpzay1vbmUta2V5", NULL), ACCESS_OK);
    assert_int_equal(access_check(&cfg, p, "Basic OnNrLXR3by1rZXk=", NULL), ACCESS_OK);
    assert_int_equal(access_check(&cfg, p, "Basic dXNlcjp3cm9uZw==", NULL), ACCESS_UNAUTHORIZED);
    assert_int_equal(access_check(&cfg, p, "Basic !!!", NULL), ACCESS_UNAUTHORIZED);
    /* Go's rules: padding required, nothing after it, the password whole (no NUL in it) */
    assert_int_equal(access_check(&cfg, p, "Basic OnNrLXR3by1rZXk", NULL), ACCESS_UNAUTHORIZED);
    assert_int_equal(access_check(&cfg, p, "Basic OnNrLXR3by1rZXk=junk", NULL),
                     ACCESS_UNAUTHORIZED);
    assert_int_equal(access_check(&cfg, p, "Basic dXNlcjpzay1vbmUta2V5AGp1bms=", NULL),
                     ACCESS_UNAUTHORIZED);
    assert_int_equal(access_check(&cfg, p, "Digest x", NULL), ACCESS_UNAUTHORIZED);
    assert_int_equal(access_check(&cfg, "/healthz", NULL, NULL), ACCESS_OK);
    assert_int_equal(access_check(&cfg, "/readyz", NULL, NULL), ACCESS_OK);
    assert_int_equal(access_check(&cfg, "/metrics", NULL, NULL), ACCESS_UNAUTHORIZED);
    assert_int_equal(access_check(&cfg, "/api/tags", NULL, NULL), ACCESS_UNAUTHORIZED);
}

static void test_admin(void **state) {
    (void)state;
    char err[CONFIG_ERR_LEN];
    assert_true(access_is_admin_path("/api/pull"));
    assert_true(access_is_admin_path("/api/blobs/sha256:abc"));
    assert_false(access_is_admin_path("/api/pullx"));
    assert_false(access_is_admin_path("/api/chat"));
    assert_int_equal(config_set(&cfg, NULL, "admin_api", "deny", err, sizeof(err)), 0);
    assert_int_equal(access_check(&cfg, "/api/delete", "Bearer sk-one-key", NULL),
                     ACCESS_FORBIDDEN);
    assert_int_equal(config_set(&cfg, NULL, "admin_api", "allow", err, sizeof(err)), 0);
    assert_int_equal(access_check(&cfg, "/api/delete", NULL, NULL), ACCESS_OK);
    assert_int_equal(config_set(&cfg, NULL, "admin_api", "keys", err, sizeof(err)), 0);
    assert_int_equal(access_check(&cfg, "/api/delete", NULL, NULL), ACCESS_UNAUTHORIZED);
}

static void test_equal(void **state) {
    (void)state;
    assert_true(access_equal("abc", "abc"));
    assert_false(access_equal("abc", "abd"));
    assert_false(access_equal("abc", "abcd"));
    assert_false(access_equal("", "a"));
    assert_true(access_equal("", ""));
}

static void test_cors(void **state) {
    (void)state;
    char err[CONFIG_ERR_LEN], out[256];
    assert_false(access_origin_allowed(&cfg, "https://app.example", NULL));
    assert_true(access_origin_allowed(&cfg, NULL, NULL));
    /* Ollama's defaults */
    assert_true(access_origin_allowed(&cfg, "http://localhost", NULL));
    assert_true(access_origin_allowed(&cfg, "http://localhost:8080", NULL));
    assert_true(access_origin_allowed(&cfg, "https://127.0.0.1:1", NULL));
    assert_true(access_origin_allowed(&cfg, "http://0.0.0.0", NULL));
    assert_true(access_origin_allowed(&cfg, "vscode-webview://x", NULL));
    assert_false(access_origin_allowed(&cfg, "http://localhost.evil", NULL));
    assert_false(access_origin_allowed(&cfg, "http://localhostx:80", NULL));
    assert_false(access_origin_allowed(&cfg, "null", NULL));
    assert_false(access_origin_allowed(&cfg, "chrome-extension://abc", NULL));
    /* same origin */
    assert_true(access_origin_allowed(&cfg, "http://box.example:11435", "box.example:11435"));
    assert_false(access_origin_allowed(&cfg, "http://box.example:11435", "box.example"));
    assert_int_equal(config_set(&cfg, NULL, "cors_origins",
                                "https://app.example, chrome-extension://*", err, sizeof(err)),
                     0);
    assert_true(access_origin_allowed(&cfg, "https://app.example", NULL));
    assert_true(access_origin_allowed(&cfg, "HTTPS://APP.EXAMPLE", NULL));
    assert_false(access_origin_allowed(&cfg, "https://app.example.evil", NULL));
    assert_true(access_origin_allowed(&cfg, "chrome-extension://abc", NULL));
    assert_int_equal(config_set(&cfg, NULL, "cors_origins", "*", err, sizeof(err)), 0);
    assert_true(access_origin_allowed(&cfg, "https://anything.example", NULL));
    access_allowed_headers("Authorization, X-Stainless-Lang,x-evil , content-type,OpenAI-Beta", out,
                           sizeof(out));
    assert_string_equal(out, "authorization, x-stainless-lang, content-type, openai-beta");
    access_allowed_headers(NULL, out, sizeof(out));
    assert_non_null(strstr(out, "authorization"));
    char tiny[8];
    access_allowed_headers("authorization, content-type", tiny, sizeof(tiny));
    assert_true(strlen(tiny) < sizeof(tiny)); /* capped, terminated */
}

static void test_hosts(void **state) {
    (void)state;
    char err[CONFIG_ERR_LEN];
    static const char *const ok[] = {"localhost",
                                     "LocalHost:11435",
                                     "127.0.0.1",
                                     "127.9.9.9:80",
                                     "[::1]:11435",
                                     "::1",
                                     "[::1]",
                                     "0.0.0.0",
                                     "10.0.0.1",
                                     "172.16.0.1",
                                     "172.31.255.255:1",
                                     "192.168.0.1",
                                     "[fd00::1]",
                                     "[::ffff:127.0.0.1]:1",
                                     "a.localhost",
                                     "box.local",
                                     "gpu.internal",
                                     "[::1]x.localhost", /* no split: whole, as Go */
                                     "mybox",
                                     "MYBOX:1",
                                     ""};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_true(access_host_allowed(&cfg, ok[i], "mybox"));
    static const char *const refused[] = {"evil.example",
                                          "evil.example:11435",
                                          "8.8.8.8",
                                          "172.32.0.1",
                                          "[2001:db8::1]:80",
                                          "localhost.evil",
                                          "local",
                                          "internal",
                                          "xlocalhost",
                                          "mybox.evil",
                                          "[::1",
                                          "1.2.3.4:80",
                                          "[::1]evil.example",
                                          "[::1].evil.example:80",
                                          "[::1]:80]"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        assert_false(access_host_allowed(&cfg, refused[i], "mybox"));
    assert_true(access_host_allowed(&cfg, NULL, NULL));
    assert_int_equal(config_set(&cfg, NULL, "allowed_hosts", "ollama.example.com, *.corp.example",
                                err, sizeof(err)),
                     0);
    assert_true(access_host_allowed(&cfg, "ollama.example.com:443", NULL));
    assert_true(access_host_allowed(&cfg, "a.corp.example", NULL));
    assert_false(access_host_allowed(&cfg, "evil.example", NULL));
    assert_int_equal(config_set(&cfg, NULL, "allowed_hosts", "*", err, sizeof(err)), 0);
    assert_true(access_host_allowed(&cfg, "evil.example", NULL));
}

static void check_path(const char *raw, const char *want) {
    char out[64];
    int rc = access_path_normalize(raw, strlen(raw), out, sizeof(out));
    if (!want) {
        assert_int_equal(rc, -1);
        return;
    }
    assert_int_equal(rc, 0);
    assert_string_equal(out, want);
}

static void test_paths(void **state) {
    (void)state;
    check_path("/", "/");
    check_path("/api/tags", "/api/tags");
    check_path("/api/%70ull", "/api/pull");
    check_path("/api/pul%6C", "/api/pull");
    check_path("/api/%70%75%6C%6c", "/api/pull");
    check_path("/api%2Fpull", "/api/pull");
    check_path("//api//pull", "/api/pull");
    check_path("/api/./pull", "/api/pull");
    check_path("/api/x/../pull", "/api/pull");
    check_path("/../../api/pull", "/api/pull");
    check_path("/api/%2e%2e/api/create", "/api/create");
    check_path("/api/pull/", "/api/pull/");
    check_path("/api/pull/.", "/api/pull/");
    check_path("/api/pull/..", "/api/");
    check_path("/..", "/");
    check_path("/a/b/../../..", "/");
    check_path("/a%20b", "/a b");
    check_path("/a%25b", "/a%b");
    check_path("/...", "/...");
    check_path("/a/.b", "/a/.b");
    check_path("/api/tags%00", NULL);
    check_path("/api/t%0aags", NULL);
    check_path("/api/t\x01ags", NULL);
    check_path("/api/\x7f", NULL);
    check_path("/api/%7F", NULL);
    check_path("/api/%zz", NULL);
    check_path("/api/%4", NULL);
    check_path("/api/%", NULL);
    check_path("api/tags", NULL);
    check_path("", NULL);
    check_path("/0123456789012345678901234567890123456789012345678901234567890123", NULL);
    char raw[3] = {'/', 1, 0};
    char out[8];
    assert_int_equal(access_path_normalize(raw, 2, out, sizeof(out)), -1);
    assert_int_equal(access_path_normalize("/a\0b", 3, out, sizeof(out)), -1);

    char enc[64];
    assert_int_equal(access_path_encode("/a b/%?#\xc3\xa9:@!", enc, sizeof(enc)), 0);
    assert_string_equal(enc, "/a%20b/%25%3F%23%C3%A9:@!");
    assert_int_equal(access_path_encode("/aaaa", enc, 5), -1);
    assert_true(access_is_admin_path("/api/pull/"));
    assert_true(access_is_admin_path("/api/blobs/sha256:1"));
    assert_false(access_is_admin_path("/api/pullx"));
    assert_false(access_is_admin_path("/api/"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_keys_is_open),
        cmocka_unit_test(test_key_forms),
        cmocka_unit_test(test_admin),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_cors),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
