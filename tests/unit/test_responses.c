/* Unit tests for proxy/api/responses.c (the /v1/responses translation) and
 * proxy/fast/responses_fast.c (its stream fast path): the golden cases of
 * tests/translate-responses/ (README there), the fast path against the jansson path on every
 * golden stream (responses_equiv.h), and the caps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "responses.h"
#include "responses_equiv.h"
#include "responses_fast.h"

#define NOW 1700000000LL

/* ---- helpers ------------------------------------------------------------------------------- */

/* "$ID:<prefix>" matches <prefix> followed by one or more [0-9_]. */
static int id_matches(const char *want, const char *got) {
    size_t n = strlen(want);
    if (strncmp(got, want, n) || !got[n])
        return 0;
    for (got += n; *got; got++)
        if (!((*got >= '0' && *got <= '9') || *got == '_'))
            return 0;
    return 1;
}

/* The golden files' placeholder: "$ID:<prefix>" in want matches a generated id. */
static int responses_match(const json_t *want, const json_t *got, const char *path, char *why,
                           size_t len) {
    const char *w = json_string_value(want);
    if (!w || strncmp(w, "$ID:", 4) != 0)
        return -1;
    if (json_is_string(got) && id_matches(w + 4, json_string_value(got)))
        return 1;
    snprintf(why, len, "%s: want an id %s", path, w + 4);
    return 0;
}

static json_t *J(const char *text) {
    return golden_parse(text);
}

static void assert_json_eq(const json_t *want, const json_t *got) {
    golden_assert_eq(want, got, responses_match);
}

static json_t *echo_of(const char *request, json_t **native) {
    json_t *in = J(request), *echo = NULL;
    struct responses_err err = {0};
    int stream;
    json_t *n = responses_request_new(in, &stream, &echo, &err);
    if (!n)
        fail_msg("request refused: %s", err.message);
    json_decref(in);
    if (native)
        *native = n;
    else
        json_decref(n);
    return echo;
}

/* ---- request errors and details ----------------------------------------------------------------
 */

static void check_error(const char *request, const char *want) {
    json_t *in = J(request), *echo = (json_t *)1;
    struct responses_err err = {0};
    int stream;
    json_t *n = responses_request_new(in, &stream, &echo, &err);
    if (n) {
        char *d = golden_dump(n);
        fail_msg("%s: expected an error, got %s", request, d);
    }
    assert_null(echo);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.message, want);
    json_decref(in);
}

static void test_request_errors(void **state) {
    (void)state;
    check_error("{\"model\":\"m\",\"input\":[{\"content\":\"x\"}]}",
                "input[0]: input item missing required 'type' field");
    check_error("{\"model\":\"m\",\"input\":[{\"type\":\"x_item\"}]}",
                "input[0]: unknown input item type: \"x_item\"");
    check_error(
        "{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"nope\"}]}]}",
        "input[0]: content[0]: unknown content type: nope");
    check_error("{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
                "\"input_file\",\"file_id\":\"f\"}]}]}",
                "file inputs are not currently supported");
    check_error("{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
                "\"input_image\",\"image_url\":\"https://x/y.png\"}]}]}",
                "image URLs are not currently supported, please use base64 encoded data instead");
    check_error("{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
                "\"input_image\",\"image_url\":\"data:image/png;base64,!!\"}]}]}",
                "invalid image input");
    check_error("{\"model\":\"m\",\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c\","
                "\"output\":[{\"type\":\"refusal\"}]}]}",
                "input[0]: output[0]: unknown content type: refusal");
    check_error("{\"model\":\"m\",\"reasoning\":{\"effort\":\"HIGH\"}}",
                "invalid reasoning value: \"HIGH\" (must be \"minimal\", \"low\", \"medium\", "
                "\"high\", \"xhigh\", \"ultra\", \"max\", or \"none\")");
    check_error("{\"model\":\"m\",\"MODEL\":\"n\"}",
                "invalid key \"MODEL\": Ollama reads it as \"model\" (Go matches JSON keys "
                "case-insensitively); send \"model\" exactly, once");
    check_error("{\"model\":\"m\",\"temperature\":\"hot\"}",
                "json: cannot unmarshal string into Go struct field ResponsesRequest.temperature "
                "of type float64");
    check_error("{\"model\":\"m\",\"max_output_tokens\":1.5}",
                "json: cannot unmarshal number 1.5 into Go struct field "
                "ResponsesRequest.max_output_tokens of type int");
    check_error("{\"model\":\"m\",\"input\":[{\"type\":\"function_call\",\"call_id\":\"c\","
                "\"name\":\"f\",\"arguments\":\"{nope\"}]}",
                "failed to parse function call arguments: string or '}' expected near 'nope'");
}

/* A client's keep_alive, options, num_ctx and think never reach the native body, in any
 * spelling; another spelling of a field the translation reads is refused (keepwarm). */
static void test_request_drops_extras(void **state) {
    json_t *native;
    (void)state;
    json_t *echo = echo_of("{\"model\":\"m\",\"input\":\"hi\",\"keep_alive\":\"1m\","
                           "\"options\":{\"num_ctx\":9},\"num_ctx\":9,\"think\":true,"
                           "\"KEEP_ALIVE\":0,\"temperature\":0.5,\"Options\":{}}",
                           &native);
    json_t *want = J("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                     "\"stream\":false,\"options\":{\"temperature\":0.5}}");
    assert_json_eq(want, native);
    json_decref(want);
    json_decref(native);
    json_decref(echo);
}

/* ---- stream details -------------------------------------------------------------------------- */

static json_t *feed(struct responses_stream *s, const char *line, int *rc) {
    json_t *v = J(line), *events = json_array();
    *rc = responses_stream_feed(s, v, NOW, events);
    json_decref(v);
    return events;
}

/* Past text_max the stream ends with an error event; the fast path declines first. */
static void test_text_cap(void **state) {
    struct responses_stream s;
    char out[8192];
    int rc;
    json_t *ev;
    const char *tok = "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"abcd\"},"
                      "\"done\":false}";
    (void)state;
    json_t *echo = echo_of("{\"model\":\"m\"}", NULL);
    responses_stream_init(&s, echo, "resp_1", "msg_1");
    s.text_max = 10;
    json_decref(feed(&s, tok, &rc)); /* opens the item: 4 bytes */
    assert_int_equal(rc, RESPONSES_STREAM_MORE);
    assert_true(responses_stream_fast(&s, tok, strlen(tok), out, sizeof(out)) > 0); /* 8 */
    assert_int_equal(responses_stream_fast(&s, tok, strlen(tok), out, sizeof(out)), 0);
    assert_int_equal(s.text.len, 8);
    ev = feed(&s, tok, &rc);
    assert_int_equal(rc, RESPONSES_STREAM_ERROR);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "type")), "error");
    json_decref(ev);
    ev = feed(&s, tok, &rc); /* nothing after the end */
    assert_int_equal(json_array_size(ev), 0);
    json_decref(ev);
    responses_stream_free(&s);
    json_decref(echo);
}

/* Completed items count against both caps: their text against text_max (with the open
 * texts), their number against items_max. */
static void test_items_cap(void **state) {
    struct responses_stream s;
    char out[8192];
    int rc;
    json_t *ev;
    const char *th = "{\"message\":{\"thinking\":\"abcdef\"},\"done\":false}";
    const char *tx = "{\"message\":{\"content\":\"12345\"},\"done\":false}";
    (void)state;
    json_t *echo = echo_of("{\"model\":\"m\"}", NULL);
    responses_stream_init(&s, echo, "resp_1", "msg_1");
    s.text_max = 10;
    json_decref(feed(&s, th, &rc)); /* 6 bytes of thinking */
    json_decref(feed(&s, "{\"message\":{\"content\":\"1\"},\"done\":false}", &rc));
    assert_int_equal(rc, RESPONSES_STREAM_MORE); /* the reasoning item keeps 6, text 1 */
    assert_int_equal(s.kept, 6);
    assert_int_equal(responses_stream_fast(&s, tx, strlen(tx), out, sizeof(out)), 0);
    ev = feed(&s, tx, &rc); /* 6 + 1 + 5 > 10 */
    assert_int_equal(rc, RESPONSES_STREAM_ERROR);
    json_decref(ev);
    responses_stream_free(&s);

    responses_stream_init(&s, echo, "resp_1", "msg_1");
    s.items_max = 2;
    json_decref(feed(&s, th, &rc));
    json_decref(feed(&s, tx, &rc)); /* item 1: reasoning */
    json_decref(feed(&s, th, &rc));
    json_decref(feed(&s, tx, &rc)); /* item 2 */
    assert_int_equal(rc, RESPONSES_STREAM_MORE);
    ev = feed(&s, th, &rc); /* a third item would pass items_max */
    assert_int_equal(rc, RESPONSES_STREAM_ERROR);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "type")), "error");
    json_decref(ev);
    responses_stream_free(&s);

    responses_stream_init(&s, echo, "resp_1", "msg_1");
    s.items_max = 1;
    ev = feed(&s,
              "{\"message\":{\"tool_calls\":[{\"function\":{\"name\":\"a\"}},{\"function\":"
              "{\"name\":\"b\"}}]},\"done\":false}",
              &rc);
    assert_int_equal(rc, RESPONSES_STREAM_ERROR);
    json_decref(ev);
    responses_stream_free(&s);
    json_decref(echo);
}

/* A delta longer than RESPONSES_FAST_DELTA_MAX goes to the jansson path, whole. */
static void test_fast_delta_max(void **state) {
    struct responses_equiv q;
    size_t big = RESPONSES_FAST_DELTA_MAX + 1;
    char *line = malloc(big + 128);
    const char *first = "{\"message\":{\"content\":\"a\"},\"done\":false}";
    (void)state;
    json_t *echo = echo_of("{\"model\":\"m\"}", NULL);
    responses_equiv_init(&q, echo);
    assert_int_equal(responses_equiv_line(&q, first, strlen(first)), 0);
    int n = sprintf(line, "{\"message\":{\"content\":\"");
    memset(line + n, 'x', big);
    n += (int)big;
    n += sprintf(line + n, "\"},\"done\":false}");
    assert_int_equal(responses_equiv_line(&q, line, (size_t)n), 0);
    assert_int_equal(q.fast_hits, 0);
    assert_int_equal(q.s.text.len, big + 1);
    n = sprintf(line, "{\"message\":{\"content\":\"%0*d\"},\"done\":false}",
                RESPONSES_FAST_DELTA_MAX, 7);
    assert_int_equal(responses_equiv_line(&q, line, (size_t)n), 0);
    assert_int_equal(q.fast_hits, 1);
    responses_equiv_free(&q);
    json_decref(echo);
    free(line);
}

/* The fast path against jansson on hand-made lines: escapes, unicode, order, declines. */
static void test_fast_equiv_lines(void **state) {
    static const char *const lines[] = {
        "{\"model\":\"m\",\"created_at\":\"2024-01-01T00:00:00Z\",\"message\":{\"role\":"
        "\"assistant\",\"content\":\"\",\"thinking\":\"hm\"},\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":"
        "\" more\\n\\u00e9\\ud83d\\ude00\\\"\\/\\u001f\"},\"done\":false}",
        "{\"done\":false,\"message\":{\"thinking\":\"x\"}}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"<&>\\t\\b\\f\\r\"},"
        "\"done\":false}",
        " { \"message\" : { \"content\" : \"sp\" } , \"done\" : false } \n",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"x\"},\"done\":false,"
        "\"extra\":1}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"x\",\"images\":null},"
        "\"done\":false}",
        "{\"model\":\"m\",\"model\":\"n\",\"message\":{\"content\":\"x\"},\"done\":false}",
        "{\"message\":{\"content\":\"x\",\"thinking\":\"y\"},\"done\":false}",
        "{\"message\":{\"content\":\"x\"}}",
        "{\"message\":{\"content\":\"end\"},\"done\":true,\"done_reason\":\"stop\","
        "\"prompt_eval_count\":3,\"eval_count\":4}",
    };
    struct responses_equiv q;
    (void)state;
    json_t *echo = echo_of("{\"model\":\"m\",\"instructions\":\"x\"}", NULL);
    responses_equiv_init(&q, echo);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        if (responses_equiv_line(&q, lines[i], strlen(lines[i])) < 0)
            fail_msg("line %zu: %s", i, q.why);
    assert_int_equal(q.fast_hits, 4);
    assert_int_equal(q.done, 1);
    responses_equiv_free(&q);
    /* lines jansson refuses: the fast path declines them too (the stream ends there) */
    static const char *const bad[] = {
        "{\"message\":{\"content\":\"\\u0000\"},\"done\":false}",
        "{\"message\":{\"content\":\"x\"},\"done\":false}garbage",
        "{\"message\":{\"content\":\"\\ud800\"},\"done\":false}",
        "{\"message\":{\"content\":\"\xff\"},\"done\":false}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *open = "{\"message\":{\"content\":\"a\"},\"done\":false}";
        responses_equiv_init(&q, echo);
        assert_int_equal(responses_equiv_line(&q, open, strlen(open)), 0);
        if (responses_equiv_line(&q, bad[i], strlen(bad[i])) < 0)
            fail_msg("bad line %zu: %s", i, q.why);
        assert_int_equal(q.fast_hits, 0);
        assert_int_equal(q.done, 1);
        responses_equiv_free(&q);
    }
    json_decref(echo);
}

/* Ids of one stream: rs_<n> for each reasoning item, distinct. */
static void test_stream_ids(void **state) {
    struct responses_stream s;
    int rc;
    (void)state;
    json_t *echo = echo_of("{\"model\":\"m\"}", NULL);
    responses_stream_init(&s, echo, "resp_1", "msg_1");
    json_decref(feed(&s, "{\"message\":{\"thinking\":\"a\"}}", &rc));
    char first[ID_MAX];
    strcpy(first, s.rs_id);
    json_decref(feed(&s, "{\"message\":{\"content\":\"b\"}}", &rc));
    json_decref(feed(&s, "{\"message\":{\"thinking\":\"c\"}}", &rc));
    assert_true(id_matches("rs_", first));
    assert_true(id_matches("rs_", s.rs_id));
    assert_string_not_equal(first, s.rs_id);
    responses_stream_free(&s);
    json_decref(echo);
}

/* A namespace's nested tools: in the answer object, not in a stream's snapshots (created,
 * in_progress, completed); the echo they share is never changed, so the next answer still
 * has them. */
static void test_snapshot_tools(void **state) {
    struct responses_stream s;
    int rc;
    (void)state;
    json_t *echo = echo_of("{\"model\":\"m\",\"tools\":[{\"type\":\"namespace\",\"name\":"
                           "\"ns\",\"tools\":[{\"type\":\"function\",\"name\":\"f\"}]},"
                           "{\"type\":\"function\",\"name\":\"g\"}]}",
                           NULL);
    json_t *want_ns = J("{\"type\":\"namespace\",\"name\":\"ns\",\"description\":null,"
                        "\"strict\":null,\"parameters\":null}");
    json_t *want_g = J("{\"type\":\"function\",\"name\":\"g\",\"description\":null,"
                       "\"strict\":null,\"parameters\":null}");
    responses_stream_init(&s, echo, "resp_1", "msg_1");
    json_t *a = feed(&s, "{\"message\":{\"content\":\"b\"},\"done\":false}", &rc);
    json_t *b = feed(&s, "{\"message\":{\"content\":\"\"},\"done\":true}", &rc);
    assert_int_equal(rc, RESPONSES_STREAM_DONE);
    const json_t *snaps[] = {
        json_object_get(json_array_get(a, 0), "response"),
        json_object_get(json_array_get(a, 1), "response"),
        json_object_get(json_array_get(b, json_array_size(b) - 1), "response")};
    for (size_t i = 0; i < 3; i++) {
        const json_t *tools = json_object_get(snaps[i], "tools");
        assert_int_equal(json_array_size(tools), 2);
        assert_json_eq(want_ns, json_array_get(tools, 0));
        assert_json_eq(want_g, json_array_get(tools, 1));
    }
    json_t *native = J("{\"message\":{\"content\":\"x\"},\"done\":true}");
    json_t *o = responses_response_new(native, echo, "resp_2", "msg_2", NOW);
    const json_t *ns = json_array_get(json_object_get(o, "tools"), 0);
    assert_int_equal(json_array_size(json_object_get(ns, "tools")), 1);
    assert_int_equal(json_array_size(json_object_get(
                         json_array_get(json_object_get(echo, "tools"), 0), "tools")),
                     1);
    json_decref(o);
    json_decref(native);
    json_decref(a);
    json_decref(b);
    json_decref(want_ns);
    json_decref(want_g);
    responses_stream_free(&s);
    json_decref(echo);
}

/* A namespace's name prefixes its members' whole, however long (a 300-byte one was cut to
 * 255 bytes and lost its '.'); a member already prefixed keeps its name. */
static void test_namespace_long_name(void **state) {
    char ns[301], req[1024], want[700];
    json_t *native;
    (void)state;
    memset(ns, 'n', 300);
    ns[300] = '\0';
    snprintf(req, sizeof(req),
             "{\"model\":\"m\",\"tools\":[{\"type\":\"namespace\",\"name\":\"%s\",\"tools\":["
             "{\"type\":\"function\",\"name\":\"f\"},{\"type\":\"function\",\"name\":\"%s.g\"}]}]}",
             ns, ns);
    json_t *echo = echo_of(req, &native);
    const json_t *tools = json_object_get(native, "tools");
    assert_int_equal(json_array_size(tools), 2);
    snprintf(want, sizeof(want), "%s.f", ns);
    assert_string_equal(want, json_string_value(json_object_get(
                                  json_object_get(json_array_get(tools, 0), "function"), "name")));
    snprintf(want, sizeof(want), "%s.g", ns);
    assert_string_equal(want, json_string_value(json_object_get(
                                  json_object_get(json_array_get(tools, 1), "function"), "name")));
    json_decref(native);
    json_decref(echo);
}

static void test_response_not_object(void **state) {
    (void)state;
    json_t *echo = echo_of("{\"model\":\"m\"}", NULL), *v = J("[1]");
    assert_null(responses_response_new(v, echo, "resp_1", "msg_1", NOW));
    json_decref(v);
    json_decref(echo);
}

/* ---- golden cases ---------------------------------------------------------------------------- */

/* The request of a case: its native body (or NULL with err) and echo. */
static json_t *case_request(const char *dir, json_t **echo, int *stream,
                            struct responses_err *err) {
    json_t *in = golden_load(dir, "request.json"), *copy = json_deep_copy(in);
    json_t *native = responses_request_new(in, stream, echo, err);
    if (!json_equal(in, copy))
        fail_msg("the request was modified");
    json_decref(in);
    json_decref(copy);
    return native;
}

static void run_request_case(const char *dir) {
    json_t *echo = NULL, *want;
    struct responses_err err = {0};
    int stream = -1;
    json_t *native = case_request(dir, &echo, &stream, &err);
    if (golden_exists(dir, "error.json")) {
        want = golden_load(dir, "error.json");
        if (native) {
            char *o = golden_dump(native);
            fail_msg("expected an error, got %s", o);
        }
        assert_int_equal(err.status, json_integer_value(json_object_get(want, "status")));
        assert_string_equal(err.message, json_string_value(json_object_get(want, "message")));
    } else {
        want = golden_load(dir, "native.json");
        if (!native)
            fail_msg("unexpected error %d: %s", err.status, err.message);
        assert_json_eq(want, native);
        assert_int_equal(stream, json_is_true(json_object_get(want, "stream")));
    }
    json_decref(want);
    json_decref(native);
    json_decref(echo);
}

static void run_response_case(const char *dir) {
    json_t *echo = NULL;
    struct responses_err err = {0};
    int stream;
    json_t *native = case_request(dir, &echo, &stream, &err);
    json_t *answer = golden_load(dir, "answer.json"), *copy = json_deep_copy(answer);
    json_t *want = golden_load(dir, "response.json");
    if (!native)
        fail_msg("request refused: %s", err.message);
    json_t *got = responses_response_new(answer, echo, "resp_test", "msg_test", NOW);
    if (!json_equal(answer, copy))
        fail_msg("the native answer was modified");
    assert_json_eq(want, got);
    json_decref(got);
    json_decref(want);
    json_decref(answer);
    json_decref(copy);
    json_decref(native);
    json_decref(echo);
}

static void run_stream_case(const char *dir) {
    json_t *echo = NULL, *got = json_array(), *want = golden_load(dir, "events.json");
    struct responses_err err = {0};
    struct responses_stream s;
    struct responses_equiv q;
    int stream, ended = 0;
    json_t *native = case_request(dir, &echo, &stream, &err);
    char *p = golden_path(dir, "native.ndjson"), *line = NULL;
    size_t cap = 0;
    ssize_t n;
    FILE *f = fopen(p, "r");
    if (!native)
        fail_msg("request refused: %s", err.message);
    if (!f)
        fail_msg("cannot open %s", p);
    responses_stream_init(&s, echo, "resp_test", "msg_test");
    responses_equiv_init(&q, echo);
    while ((n = getline(&line, &cap, f)) > 0) {
        json_error_t e;
        if (n == 1 && line[0] == '\n')
            continue;
        json_t *v = json_loadb(line, (size_t)n, 0, &e);
        if (!v)
            fail_msg("%s: %s", p, e.text);
        int rc = responses_stream_feed(&s, v, NOW, got);
        if (rc != RESPONSES_STREAM_MORE)
            ended = 1;
        json_decref(v);
        if (responses_equiv_line(&q, line, (size_t)n) < 0)
            fail_msg("fast path: %s", q.why);
    }
    if (!ended) /* the native stream ended without done: the eof event */
        responses_stream_eof(&s, got);
    assert_json_eq(want, got);
    /* sequence numbers count from 0 in order */
    size_t i;
    json_t *ev;
    json_array_foreach(got, i, ev)
        assert_int_equal(json_integer_value(json_object_get(ev, "sequence_number")), (json_int_t)i);
    free(line);
    fclose(f);
    free(p);
    responses_stream_free(&s);
    responses_equiv_free(&q);
    json_decref(got);
    json_decref(want);
    json_decref(native);
    json_decref(echo);
}

static void run_case(void **state) {
    const char *dir = *state;
    if (!golden_exists(dir, "request.json"))
        fail_msg("%s: no request.json", dir);
    if (golden_exists(dir, "native.ndjson"))
        run_stream_case(dir);
    else if (golden_exists(dir, "answer.json"))
        run_response_case(dir);
    else if (golden_exists(dir, "native.json") || golden_exists(dir, "error.json"))
        run_request_case(dir);
    else
        fail_msg("%s: matches no layout", dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_errors), cmocka_unit_test(test_request_drops_extras),
        cmocka_unit_test(test_text_cap),       cmocka_unit_test(test_items_cap),
        cmocka_unit_test(test_fast_delta_max), cmocka_unit_test(test_fast_equiv_lines),
        cmocka_unit_test(test_stream_ids),     cmocka_unit_test(test_response_not_object),
        cmocka_unit_test(test_snapshot_tools), cmocka_unit_test(test_namespace_long_name),
    };
    int failed = cmocka_run_group_tests_name("responses", tests, NULL, NULL);
    failed +=
        golden_run("responses-golden", "RESPONSES_CASES", "tests/translate-responses", run_case);
    return failed ? 1 : 0;
}
