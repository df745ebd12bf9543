/* test_anthropic: unit tests for proxy/api/anthropic.c and proxy/fast/anthropic_fast.c: the
 * golden runner over $ANTHROPIC_CASES/<case>/ (default tests/translate-anthropic; layout in
 * its README.md), the fast path held equal to the jansson converter on every line of every
 * golden stream (and on hand-made lines), the error envelope, relax_thinking's retry body and
 * the caps. JSON is compared as values; "$MSG_ID" and "$REQ_ID" match generated ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anthropic.h"
#include "anthropic_fast.h"
#include "golden.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static int is_hex_id(const char *s, const char *prefix) {
    size_t pl = strlen(prefix);
    if (!s || strlen(s) != pl + 24 || strncmp(s, prefix, pl))
        return 0;
    for (size_t i = pl; i < pl + 24; i++)
        if (!((s[i] >= 'a' && s[i] <= 'f') || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

/* The golden files' placeholders: "$MSG_ID" and "$REQ_ID" for ids made at run time. */
static int anthropic_match(const json_t *want, const json_t *got, const char *path, char *why,
                           size_t len) {
    const char *w = json_string_value(want);
    const char *prefix = !w                      ? NULL
                         : !strcmp(w, "$MSG_ID") ? "msg_"
                         : !strcmp(w, "$REQ_ID") ? "req_"
                                                 : NULL;
    if (!prefix)
        return -1;
    if (json_is_string(got) && is_hex_id(json_string_value(got), prefix))
        return 1;
    snprintf(why, len, "%s: want a %s<24 hex> id", path, prefix);
    return 0;
}

static json_t *J(const char *text) {
    return golden_parse(text);
}

static void assert_json_eq(const json_t *want, const json_t *got) {
    golden_assert_eq(want, got, anthropic_match);
}

/* The SSE bytes ep_anthropic.c writes for a frame. */
static void frame_bytes(const json_t *f, char **buf, size_t *len) {
    char *d = json_dumps(f, JSON_COMPACT);
    const char *type = json_string_value(json_object_get(f, "type"));
    size_t n = strlen(d) + strlen(type) + 32;
    *buf = realloc(*buf, *len + n);
    *len += (size_t)snprintf(*buf + *len, n, "event: %s\ndata: %s\n\n", type, d);
    free(d);
}

/* One line both ways from the same state: the fast path, when it takes the line, writes the
 * bytes of the frames the jansson converter gives, and leaves the state as the converter does.
 * Returns the converter's result; appends its frames to all. */
static int feed_both(struct anthropic_stream *s, const char *line, size_t len, json_t *all,
                     int *fast_hits) {
    char fast[8192];
    struct anthropic_stream before = *s;
    size_t n = anthropic_stream_fast(s, line, len, fast, sizeof(fast));
    json_error_t e;
    json_t *v = json_loadb(line, len, 0, &e);
    json_t *frames = json_array();
    int rc = ANTHROPIC_STREAM_MORE;
    if (json_is_object(v))
        rc = anthropic_stream_feed(s, v, frames);
    else if (n)
        fail_msg("the fast path took a line jansson refuses: %.*s", (int)len, line);
    if (n) {
        char *slow = NULL;
        size_t sl = 0;
        size_t i;
        json_t *f;
        json_array_foreach(frames, i, f) frame_bytes(f, &slow, &sl);
        if (sl != n || memcmp(slow, fast, n))
            fail_msg("fast and jansson differ for %.*s\n  fast: %.*s\n  slow: %.*s", (int)len, line,
                     (int)n, fast, (int)sl, slow ? slow : "");
        free(slow);
        /* a delta inside the open block changes no state */
        assert_int_equal(s->index, before.index);
        assert_int_equal(s->text_started, before.text_started);
        assert_int_equal(s->thinking_started, before.thinking_started);
        assert_int_equal(s->thinking_done, before.thinking_done);
        assert_int_equal(s->finished, before.finished);
        (*fast_hits)++;
    }
    json_array_extend(all, frames);
    json_decref(frames);
    json_decref(v);
    return rc;
}

/* ---- golden cases ---------------------------------------------------------------------------- */

static void run_request_case(const char *dir) {
    json_t *in = golden_load(dir, "request.json"),
           *cfg = golden_exists(dir, "case.json") ? golden_load(dir, "case.json") : json_object();
    struct anthropic_meta meta = {0};
    struct api_err err = {0, ""};
    json_t *out = anthropic_request_new(in, &meta, &err);
    if (golden_exists(dir, "native.json")) {
        json_t *want = golden_load(dir, "native.json");
        if (!out)
            fail_msg("refused: %d %s", err.status, err.message);
        assert_json_eq(want, out);
        json_t *v;
        if ((v = json_object_get(cfg, "estimate")))
            assert_int_equal(meta.estimate, json_integer_value(v));
        if ((v = json_object_get(cfg, "stream")))
            assert_int_equal(meta.stream, json_is_true(v));
        json_decref(want);
    } else {
        json_t *want = golden_load(dir, "error.json");
        if (out) {
            char *o = golden_dump(out);
            fail_msg("accepted: %s", o);
        }
        assert_int_equal(err.status, json_integer_value(json_object_get(want, "status")));
        assert_string_equal(err.message, json_string_value(json_object_get(want, "message")));
        json_decref(want);
    }
    json_decref(out);
    json_decref(in);
    json_decref(cfg);
}

static void run_count_case(const char *dir) {
    json_t *in = golden_load(dir, "request.json"), *want = golden_load(dir, "count_tokens.json");
    struct api_err err = {0, ""};
    json_t *out = anthropic_count_tokens_new(in, &err);
    if (!out)
        fail_msg("refused: %s", err.message);
    assert_json_eq(want, out);
    json_decref(out);
    json_decref(in);
    json_decref(want);
}

static void run_response_case(const char *dir) {
    json_t *native = golden_load(dir, "native.json"), *want = golden_load(dir, "response.json");
    json_t *out = anthropic_response_new(native, "msg_0123456789abcdef01234567");
    assert_json_eq(want, out);
    json_decref(out);
    json_decref(native);
    json_decref(want);
}

static void run_stream_case(const char *dir) {
    json_t *cfg = golden_exists(dir, "case.json") ? golden_load(dir, "case.json") : json_object();
    json_t *want = golden_load(dir, "events.json"), *all = json_array();
    char *p = golden_path(dir, "native.ndjson");
    FILE *f = fopen(p, "r");
    if (!f)
        fail_msg("cannot open %s", p);
    struct anthropic_stream s;
    anthropic_stream_init(&s, "msg_0123456789abcdef01234567",
                          json_string_value(json_object_get(cfg, "model")),
                          (long long)json_integer_value(json_object_get(cfg, "estimate")));
    char line[65536];
    int hits = 0;
    while (fgets(line, sizeof(line), f)) {
        size_t n = strcspn(line, "\n");
        if (n)
            feed_both(&s, line, n, all, &hits);
    }
    fclose(f);
    free(p);
    if (json_is_true(json_object_get(cfg, "eof")))
        anthropic_stream_eof(&s, all);
    assert_json_eq(want, all);
    anthropic_stream_close(&s);
    json_decref(all);
    json_decref(want);
    json_decref(cfg);
}

static void run_case(void **state) {
    const char *dir = *state;
    if (golden_exists(dir, "count_tokens.json"))
        run_count_case(dir);
    else if (golden_exists(dir, "request.json"))
        run_request_case(dir);
    else if (golden_exists(dir, "response.json"))
        run_response_case(dir);
    else if (golden_exists(dir, "native.ndjson"))
        run_stream_case(dir);
    else
        fail_msg("%s: no known layout", dir);
}

/* ---- unit tests ----------------------------------------------------------------------------- */

static void check_error(int status, const char *type) {
    json_t *e = anthropic_error_new(status, "boom", "code");
    char want[256];
    snprintf(want, sizeof(want),
             "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":\"boom\"},"
             "\"request_id\":\"$REQ_ID\"}",
             type);
    json_t *w = J(want);
    assert_json_eq(w, e);
    json_decref(w);
    json_decref(e);
}

static void test_error_types(void **state) {
    (void)state;
    check_error(400, "invalid_request_error");
    check_error(401, "authentication_error");
    check_error(403, "permission_error");
    check_error(404, "not_found_error");
    check_error(405, "api_error");
    check_error(413, "request_too_large");
    check_error(429, "rate_limit_error");
    check_error(500, "api_error");
    check_error(502, "api_error");
    check_error(503, "overloaded_error");
    check_error(529, "overloaded_error");
}

static void test_error_from_native(void **state) {
    (void)state;
    const char *body = "{\"error\":\"model 'x' not found\"}";
    json_t *e = anthropic_error_from_native_new(404, body, strlen(body));
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "error"), "message")),
                        "model 'x' not found");
    json_decref(e);
    e = anthropic_error_from_native_new(500, "plain\xff text", 11);
    assert_non_null(strstr(
        json_string_value(json_object_get(json_object_get(e, "error"), "message")), "plain"));
    json_decref(e);
}

/* middleware/anthropic_test.go TestAnthropicWriter_ErrorFromRoutes: the native status picks
 * the type, the native "error" text is the message. */
static void test_error_from_routes(void **state) {
    (void)state;
    static const struct {
        int status;
        const char *body, *type, *message;
    } cases[] = {
        {404, "{\"error\":\"model 'nonexistent' not found\"}", "not_found_error",
         "model 'nonexistent' not found"},
        {400, "{\"error\":\"model is required\"}", "invalid_request_error", "model is required"},
        {500, "{\"error\":\"something went wrong\"}", "api_error", "something went wrong"},
        {404, "{\"status\":\"\",\"error\":\"model not found via StatusError\"}", "not_found_error",
         "model not found via StatusError"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *e =
            anthropic_error_from_native_new(cases[i].status, cases[i].body, strlen(cases[i].body));
        const json_t *inner = json_object_get(e, "error");
        assert_string_equal(json_string_value(json_object_get(e, "type")), "error");
        assert_string_equal(json_string_value(json_object_get(inner, "type")), cases[i].type);
        assert_string_equal(json_string_value(json_object_get(inner, "message")), cases[i].message);
        json_decref(e);
    }
}

static void test_request_ids_unique(void **state) {
    (void)state;
    json_t *a = anthropic_error_new(400, "x", NULL), *b = anthropic_error_new(400, "x", NULL);
    assert_string_not_equal(json_string_value(json_object_get(a, "request_id")),
                            json_string_value(json_object_get(b, "request_id")));
    json_decref(a);
    json_decref(b);
}

static void test_relax_thinking(void **state) {
    (void)state;
    const char *body =
        "{\"model\":\"llama3.2:3b\",\"messages\":[],\"think\":true,\"keep_alive\":-1}";
    const char *refusal = "{\"error\":\"\\\"llama3.2:3b\\\" does not support thinking\"}";
    size_t n = 0;
    char *again =
        anthropic_relax_thinking_new(400, refusal, strlen(refusal), body, strlen(body), &n);
    assert_non_null(again);
    json_t *got = J(again),
           *want = J("{\"model\":\"llama3.2:3b\",\"messages\":[],\"keep_alive\":-1}");
    assert_json_eq(want, got);
    assert_int_equal(n, strlen(again));
    free(again);
    json_decref(got);
    json_decref(want);
    /* exactly that refusal: not another status, text, model, nor a body without think */
    assert_null(
        anthropic_relax_thinking_new(500, refusal, strlen(refusal), body, strlen(body), &n));
    const char *other = "{\"error\":\"\\\"qwen3:8b\\\" does not support thinking\"}";
    assert_null(anthropic_relax_thinking_new(400, other, strlen(other), body, strlen(body), &n));
    const char *tools = "{\"error\":\"registry.ollama.ai/library/llama3.2:3b does not support "
                        "tools\"}";
    assert_null(anthropic_relax_thinking_new(400, tools, strlen(tools), body, strlen(body), &n));
    const char *nothink = "{\"model\":\"llama3.2:3b\",\"messages\":[]}";
    assert_null(
        anthropic_relax_thinking_new(400, refusal, strlen(refusal), nothink, strlen(nothink), &n));
    assert_null(anthropic_relax_thinking_new(400, "not json", 8, body, strlen(body), &n));
}

/* The tool-call id set is capped: past ANTHROPIC_MAX_TOOL_IDS calls are sent, unchecked. */
static void test_tool_id_cap(void **state) {
    (void)state;
    struct anthropic_stream s;
    anthropic_stream_init(&s, "msg_x", "m", 1);
    json_t *frames = json_array();
    for (int i = 0; i < ANTHROPIC_MAX_TOOL_IDS + 10; i++) {
        char line[256];
        snprintf(line, sizeof(line),
                 "{\"message\":{\"content\":\"\",\"tool_calls\":[{\"id\":\"c%d\",\"function\":{"
                 "\"name\":\"f\",\"arguments\":{}}}]},\"done\":false}",
                 i);
        json_t *v = J(line);
        anthropic_stream_feed(&s, v, frames);
        json_decref(v);
    }
    assert_int_equal(s.ntool_ids, ANTHROPIC_MAX_TOOL_IDS);
    assert_int_equal(s.index, ANTHROPIC_MAX_TOOL_IDS + 10);
    /* a repeated id within the cap is still skipped */
    json_t *v = J("{\"message\":{\"content\":\"\",\"tool_calls\":[{\"id\":\"c5\",\"function\":{"
                  "\"name\":\"f\"}}]},\"done\":false}");
    anthropic_stream_feed(&s, v, frames);
    assert_int_equal(s.index, ANTHROPIC_MAX_TOOL_IDS + 10);
    json_decref(v);
    json_decref(frames);
    anthropic_stream_close(&s);
}

/* An id as long as a line is remembered by its hash: sent once, skipped when repeated. */
static void test_tool_id_long(void **state) {
    (void)state;
    size_t idlen = 1u << 20;
    char *line = malloc(idlen + 256);
    assert_non_null(line);
    int head = sprintf(line, "{\"message\":{\"content\":\"\",\"tool_calls\":[{\"id\":\"");
    memset(line + head, 'x', idlen);
    strcpy(line + head + idlen, "\",\"function\":{\"name\":\"f\"}}]},\"done\":false}");
    struct anthropic_stream s;
    anthropic_stream_init(&s, "msg_x", "m", 1);
    json_t *frames = json_array();
    for (int i = 0; i < 2; i++) {
        json_t *v = J(line);
        anthropic_stream_feed(&s, v, frames);
        json_decref(v);
    }
    assert_int_equal(s.ntool_ids, 1);
    assert_int_equal(s.index, 1);
    line[head + idlen - 1] = 'y'; /* another id of the same length */
    json_t *v = J(line);
    anthropic_stream_feed(&s, v, frames);
    json_decref(v);
    assert_int_equal(s.ntool_ids, 2);
    assert_int_equal(s.index, 2);
    json_decref(frames);
    anthropic_stream_close(&s);
    free(line);
}

static void test_model_cap(void **state) {
    (void)state;
    char *big = malloc(ANTHROPIC_MAX_MODEL * 2 + 1);
    memset(big, 'm', ANTHROPIC_MAX_MODEL * 2);
    big[ANTHROPIC_MAX_MODEL * 2] = '\0';
    struct anthropic_stream s;
    anthropic_stream_init(&s, "msg_x", big, 1);
    assert_int_equal(strlen(s.model_owned), ANTHROPIC_MAX_MODEL);
    anthropic_stream_close(&s);
    free(big);
}

/* Lines the fast path must decline (and the ones it must take), from an open text block. */
static void test_fast_declines(void **state) {
    (void)state;
    static const char *const decline[] = {
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"content\":\"a\"},\"done\":true}",
        "{\"model\":\"m\",\"message\":{\"content\":\"a\",\"thinking\":\"b\"},\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"content\":\"a\",\"tool_calls\":[]},\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"content\":\"a\"},\"done\":false,\"x\":1}",
        "{\"model\":\"m\",\"model\":\"m\",\"message\":{\"content\":\"a\"},\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"content\":\"a\",\"content\":\"b\"},\"done\":false}",
        "{\"mod\\u0065l\":\"m\",\"message\":{\"content\":\"a\"},\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"content\":\"a\\u0000\"},\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"content\":\"\xff\"},\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"content\":\"a\"},\"done\":false} x",
        "{\"model\":\"m\",\"message\":{\"content\":\"a\"}}",
        "{\"model\":\"m\",\"message\":{\"thinking\":\"a\"},\"done\":false}", /* no thinking open */
        "{\"error\":\"x\"}",
    };
    struct anthropic_stream s;
    char out[512];
    anthropic_stream_init(&s, "msg_x", "m", 1);
    /* not started: declined */
    const char *tok = "{\"model\":\"m\",\"message\":{\"content\":\"a\\n\\u00e9\"},\"done\":false}";
    assert_int_equal(anthropic_stream_fast(&s, tok, strlen(tok), out, sizeof(out)), 0);
    s.started = 1;
    s.text_started = 1;
    s.index = 3;
    for (size_t i = 0; i < sizeof(decline) / sizeof(decline[0]); i++)
        if (anthropic_stream_fast(&s, decline[i], strlen(decline[i]), out, sizeof(out)))
            fail_msg("taken: %s", decline[i]);
    size_t n = anthropic_stream_fast(&s, tok, strlen(tok), out, sizeof(out));
    const char *want = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
                       "\"index\":3,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\\n\xc3\xa9\"}}"
                       "\n\n";
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    /* too small a buffer: declined */
    assert_int_equal(anthropic_stream_fast(&s, tok, strlen(tok), out, 20), 0);
    /* finished: declined */
    s.finished = ANTHROPIC_FINISHED_DONE;
    assert_int_equal(anthropic_stream_fast(&s, tok, strlen(tok), out, sizeof(out)), 0);
    anthropic_stream_close(&s);
}

/* Hand-made token lines with every escape, run both ways through an open thinking block and an
 * open text block. */
static void test_fast_equivalence(void **state) {
    (void)state;
    static const char *const texts[] = {
        "plain",
        "\\\"q\\\"",
        "\\\\",
        "\\/",
        "\\b\\f\\n\\r\\t",
        "\\u0001",
        "\\u001f\\u007f",
        "\\u00e9\\u4e2d",
        "\\ud83d\\ude00",
        "\xe2\x80\xa8 <>&",
        "\xf0\x9f\x98\x80",
    };
    for (int kind = 0; kind < 2; kind++) {
        struct anthropic_stream s;
        json_t *all = json_array();
        int hits = 0;
        anthropic_stream_init(&s, "msg_0123456789abcdef01234567", "m", 2);
        const char *first = kind
                                ? "{\"model\":\"m\",\"message\":{\"content\":\"x\"},\"done\":false}"
                                : "{\"model\":\"m\",\"message\":{\"content\":\"\",\"thinking\":"
                                  "\"x\"},\"done\":false}";
        feed_both(&s, first, strlen(first), all, &hits);
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
            char line[256];
            snprintf(line, sizeof(line),
                     kind ? "{\"model\":\"m\",\"created_at\":\"t\",\"message\":{\"role\":"
                            "\"assistant\",\"content\":\"%s\"},\"done\":false}"
                          : " { \"done\" : false , \"message\" : { \"thinking\" : \"%s\" , "
                            "\"content\" : \"\" } , \"model\" : \"m\" } ",
                     texts[i]);
            feed_both(&s, line, strlen(line), all, &hits);
        }
        assert_int_equal(hits, (int)(sizeof(texts) / sizeof(texts[0])));
        json_decref(all);
        anthropic_stream_close(&s);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_types),       cmocka_unit_test(test_error_from_native),
        cmocka_unit_test(test_error_from_routes), cmocka_unit_test(test_request_ids_unique),
        cmocka_unit_test(test_relax_thinking),    cmocka_unit_test(test_tool_id_cap),
        cmocka_unit_test(test_tool_id_long),      cmocka_unit_test(test_model_cap),
        cmocka_unit_test(test_fast_declines),     cmocka_unit_test(test_fast_equivalence),
    };
    int failed = cmocka_run_group_tests_name("anthropic", tests, NULL, NULL);
    return failed |
           golden_run("anthropic-golden", "ANTHROPIC_CASES", "tests/translate-anthropic", run_case);
}
