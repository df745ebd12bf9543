/* Unit tests for access: key forms, admin switch, CORS origins and allowed headers. */
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
    assert_false(access_origin_allowed(&cfg, "https://app.example"));
    assert_int_equal(
        config_set(&cfg, NULL, "cors_origins", "https://app.example", err, sizeof(err)), 0);
    assert_true(access_origin_allowed(&cfg, "https://app.example"));
    assert_true(access_origin_allowed(&cfg, "HTTPS://APP.EXAMPLE"));
    assert_false(access_origin_allowed(&cfg, "https://app.example.evil"));
    access_allowed_headers("Authorization, X-Stainless-Lang,x-evil , content-type,OpenAI-Beta", out,
                           sizeof(out));
    assert_string_equal(out, "authorization, x-stainless-lang, content-type, openai-beta");
    access_allowed_headers(NULL, out, sizeof(out));
    assert_non_null(strstr(out, "authorization"));
    char tiny[8];
    access_allowed_headers("authorization, content-type", tiny, sizeof(tiny));
    assert_true(strlen(tiny) < sizeof(tiny)); /* capped, terminated */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_keys_is_open),
        cmocka_unit_test(test_key_forms),
        cmocka_unit_test(test_admin),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_cors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
