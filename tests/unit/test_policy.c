/* Unit tests for policy: keep_alive by policy, pinned options, the num_predict cap, and the
 * warm ping carrying exactly what requests carry. Also the ndjson line splitter's cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "duration.h"
#include "ndjson.h"
#include "policy.h"

static struct config cfg;

static int setup(void **state) {
    char err[CONFIG_ERR_LEN];
    (void)state;
    if (config_init(&cfg, NULL, err, sizeof(err)) < 0)
        return -1;
    config_set(&cfg, "llama3.2:3b", "num_ctx", "8192", err, sizeof(err));
    config_set(&cfg, "llama3.2:3b", "keep_alive", "24h", err, sizeof(err));
    config_set(&cfg, "llama3.2:3b", "num_predict_max", "100", err, sizeof(err));
    config_set(&cfg, "nomic-embed-text", "num_batch", "64", err, sizeof(err));
    return 0;
}

static int teardown(void **state) {
    (void)state;
    config_free(&cfg);
    return 0;
}

static json_t *apply(const char *in, int want_rc, char *err, size_t errlen) {
    json_error_t jerr;
    json_t *body = json_loads(in, 0, &jerr);
    assert_non_null(body);
    int rc = policy_apply(&cfg, body, err, errlen);
    assert_int_equal(rc, want_rc);
    return body;
}

static void expect(const char *in, const char *want) {
    char err[256] = "";
    json_t *got = apply(in, 0, err, sizeof(err));
    json_error_t jerr;
    json_t *w = json_loads(want, 0, &jerr);
    assert_non_null(w);
    if (!json_equal(got, w)) {
        char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
        fail_msg("in %s\n got %s\nwant %s", in, g, want);
    }
    json_decref(got);
    json_decref(w);
}

static void test_override(void **state) {
    (void)state;
    cfg.keep_alive_policy = KEEP_ALIVE_OVERRIDE;
    cfg.keep_alive = DURATION_FOREVER;
    expect("{\"model\":\"x\"}", "{\"model\":\"x\",\"keep_alive\":-1}");
    expect("{\"model\":\"x\",\"keep_alive\":\"1d\"}", "{\"model\":\"x\",\"keep_alive\":-1}");
    expect("{\"model\":\"x\",\"keep_alive\":null,\"options\":null}",
           "{\"model\":\"x\",\"keep_alive\":-1}");
    /* per-model keep_alive and pinned options; client runner options replaced */
    expect("{\"model\":\"llama3.2:3b\",\"options\":{\"num_ctx\":2048,\"top_k\":3}}",
           "{\"model\":\"llama3.2:3b\",\"keep_alive\":86400,"
           "\"options\":{\"num_ctx\":8192,\"top_k\":3,\"num_predict\":100}}");
    /* num_predict: capped, unlimited (-1, -2) capped, smaller kept */
    expect("{\"model\":\"llama3.2:3b\",\"options\":{\"num_predict\":5000}}",
           "{\"model\":\"llama3.2:3b\",\"keep_alive\":86400,"
           "\"options\":{\"num_ctx\":8192,\"num_predict\":100}}");
    expect("{\"model\":\"llama3.2:3b\",\"options\":{\"num_predict\":-1}}",
           "{\"model\":\"llama3.2:3b\",\"keep_alive\":86400,"
           "\"options\":{\"num_ctx\":8192,\"num_predict\":100}}");
    expect("{\"model\":\"llama3.2:3b\",\"options\":{\"num_predict\":1e300}}",
           "{\"model\":\"llama3.2:3b\",\"keep_alive\":86400,"
           "\"options\":{\"num_ctx\":8192,\"num_predict\":100}}");
    expect("{\"model\":\"llama3.2:3b\",\"options\":{\"num_predict\":7}}",
           "{\"model\":\"llama3.2:3b\",\"keep_alive\":86400,"
           "\"options\":{\"num_ctx\":8192,\"num_predict\":7}}");
    cfg.keep_alive = 500000000;
    expect("{\"model\":\"x\"}", "{\"model\":\"x\",\"keep_alive\":\"500ms\"}");
    cfg.keep_alive = DURATION_FOREVER;
}

static void test_default_policy(void **state) {
    (void)state;
    char err[256];
    cfg.keep_alive_policy = KEEP_ALIVE_DEFAULT;
    cfg.keep_alive = 600 * DURATION_SECOND;
    expect("{\"model\":\"x\"}", "{\"model\":\"x\",\"keep_alive\":600}");
    expect("{\"model\":\"x\",\"keep_alive\":\"-1\"}", "{\"model\":\"x\",\"keep_alive\":-1}");
    expect("{\"model\":\"x\",\"keep_alive\":\"300\"}", "{\"model\":\"x\",\"keep_alive\":300}");
    expect("{\"model\":\"x\",\"keep_alive\":\"5m\"}", "{\"model\":\"x\",\"keep_alive\":300}");
    expect("{\"model\":\"x\",\"keep_alive\":0}", "{\"model\":\"x\",\"keep_alive\":0}");
    expect("{\"model\":\"x\",\"keep_alive\":-3.5}", "{\"model\":\"x\",\"keep_alive\":-1}");
    json_t *b = apply("{\"model\":\"x\",\"keep_alive\":\"1d\"}", -1, err, sizeof(err));
    assert_string_equal(err, "invalid keep_alive: time: unknown unit \"d\" in duration \"1d\"");
    json_decref(b);
    /* strtod would take these; Ollama's Go decoder would not: */
    b = apply("{\"model\":\"x\",\"keep_alive\":\"nan\"}", -1, err, sizeof(err));
    assert_non_null(strstr(err, "invalid keep_alive: time: invalid duration"));
    json_decref(b);
    b = apply("{\"model\":\"x\",\"keep_alive\":\"1e300\"}", -1, err, sizeof(err));
    json_decref(b);
    b = apply("{\"model\":\"x\",\"keep_alive\":\"99999999999\"}", -1, err, sizeof(err));
    assert_non_null(strstr(err, "is too large"));
    json_decref(b);
    expect("{\"model\":\"x\",\"keep_alive\":\"1.5\"}", "{\"model\":\"x\",\"keep_alive\":\"1.5s\"}");
    b = apply("{\"model\":\"x\",\"keep_alive\":[]}", -1, err, sizeof(err));
    assert_string_equal(err, "invalid keep_alive: Unsupported type: '[]interface {}'");
    json_decref(b);
    cfg.keep_alive_policy = KEEP_ALIVE_OVERRIDE;
    cfg.keep_alive = DURATION_FOREVER;
}

static void test_bad_options(void **state) {
    (void)state;
    char err[256];
    json_t *b = apply("{\"model\":\"x\",\"options\":[1]}", -1, err, sizeof(err));
    assert_string_equal(err, "invalid type for 'options': expected object");
    json_decref(b);
}

/* The warm ping for a model carries exactly the keep_alive and runner options that requests
 * for that model carry, so it can never cause an options reload. */
static void test_ping_matches_requests(void **state) {
    (void)state;
    const char *models[] = {"llama3.2:3b", "nomic-embed-text", "unconfigured"};
    for (size_t i = 0; i < 3; i++) {
        json_t *ping = policy_ping_new(&cfg, models[i]);
        assert_non_null(ping);
        json_t *req = json_pack("{s:s,s:s}", "model", models[i], "prompt", "hi");
        char err[64];
        assert_int_equal(policy_apply(&cfg, req, err, sizeof(err)), 0);
        assert_true(
            json_equal(json_object_get(ping, "keep_alive"), json_object_get(req, "keep_alive")));
        json_t *po = json_object_get(ping, "options");
        json_t *ro = json_object_get(req, "options");
        const char *k;
        json_t *v;
        json_object_foreach(ro, k, v) {
            if (strcmp(k, "num_predict") == 0)
                continue; /* generation length, not a runner option */
            assert_true(json_equal(json_object_get(po, k), v));
        }
        assert_null(json_object_get(ping, "prompt"));
        assert_null(json_object_get(po, "num_predict"));
        json_decref(ping);
        json_decref(req);
    }
}

/* A key Go's decoder would take for one policy reads or writes is refused, with the key and
 * the name in the message; exact names, other keys and nested variants pass. */
static void refuse(const char *in, const char *want_in_err) {
    char err[512] = "";
    json_t *body = apply(in, -1, err, sizeof(err));
    if (!strstr(err, want_in_err))
        fail_msg("%s: error \"%s\" lacks \"%s\"", in, err, want_in_err);
    json_decref(body);
}

static void test_key_variants(void **state) {
    (void)state;
    refuse("{\"model\":\"m\",\"keep_alive\":-1,\"KEEP_ALIVE\":0}",
           "invalid key \"KEEP_ALIVE\": Ollama reads it as \"keep_alive\"");
    refuse("{\"model\":\"llama3.2:3b\",\"Options\":{\"num_ctx\":131072}}", "\"Options\"");
    refuse("{\"Model\":\"other\",\"model\":\"llama3.2:3b\"}", "\"Model\"");
    refuse("{\"model\":\"m\",\"\\u212Aeep_alive\":0}", "\"\\u212Aeep_alive\"");
    refuse("{\"model\":\"m\",\"option\\u017F\":{}}", "\"option\\u017F\"");
    refuse("{\"model\":\"m\",\"Stream\":true}", "as \"stream\"");
    refuse("{\"model\":\"m\",\"MESSAGES\":[]}", "as \"messages\"");
    refuse("{\"model\":\"m\",\"Prompt\":\"x\"}", "as \"prompt\"");
    refuse("{\"model\":\"m\",\"_DEBUG_render_only\":true}", "as \"_debug_render_only\"");
    /* not variants: other names, '-' for '_', keys inside options (Ollama's FromMap is exact) */
    expect("{\"model\":\"m\",\"keep-alive\":0,\"Raw\":true,\"System\":\"s\","
           "\"options\":{\"NUM_CTX\":1}}",
           "{\"model\":\"m\",\"keep-alive\":0,\"Raw\":true,\"System\":\"s\","
           "\"options\":{\"NUM_CTX\":1},\"keep_alive\":-1}");
}

struct lines {
    char got[8][64];
    int n;
};

static int collect(void *arg, const char *line, size_t len) {
    struct lines *l = arg;
    if (l->n >= 8 || len >= 64)
        return -1;
    memcpy(l->got[l->n], line, len);
    l->got[l->n][len] = '\0';
    l->n++;
    return 0;
}

static void test_ndjson(void **state) {
    (void)state;
    struct ndjson s;
    struct lines l = {0};
    ndjson_init(&s, 16);
    assert_int_equal(ndjson_feed(&s, "{\"a\":1}\n{\"b\"", 12, collect, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(ndjson_feed(&s, ":2}\r\n\n", 6, collect, &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.got[1], "{\"b\":2}");
    assert_int_equal(ndjson_feed(&s, "tail", 4, collect, &l), 0);
    assert_int_equal(ndjson_finish(&s, collect, &l), 0);
    assert_string_equal(l.got[2], "tail");
    /* the cap: one line longer than 16 bytes, whole or split across feeds */
    assert_int_equal(ndjson_feed(&s, "0123456789abcdefXYZ\n", 20, collect, &l), -2);
    ndjson_cleanup(&s);
    ndjson_init(&s, 16);
    assert_int_equal(ndjson_feed(&s, "0123456789", 10, collect, &l), 0);
    assert_int_equal(ndjson_feed(&s, "abcdefXYZ", 9, collect, &l), -2);
    ndjson_cleanup(&s);
    /* exactly at the cap is fine */
    ndjson_init(&s, 16);
    l.n = 0;
    assert_int_equal(ndjson_feed(&s, "01234567", 8, collect, &l), 0);
    assert_int_equal(ndjson_feed(&s, "89abcdef\n", 9, collect, &l), 0);
    assert_string_equal(l.got[0], "0123456789abcdef");
    ndjson_cleanup(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_override),    cmocka_unit_test(test_default_policy),
        cmocka_unit_test(test_bad_options), cmocka_unit_test(test_ping_matches_requests),
        cmocka_unit_test(test_ndjson),      cmocka_unit_test(test_key_variants),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
