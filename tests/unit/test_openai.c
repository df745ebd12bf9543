/* test_openai: unit tests for proxy/api/openai.c (base64 embeddings and images, error envelopes,
 * type errors, tool-call ids, stream edge cases) and the data-driven golden runner over
 * $TRANSLATE_CASES/<case>/ (layout in tests/translate/README.md). JSON is compared as values:
 * an integer equals a real of the same value and key order does not matter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "golden.h"
#include "openai.h"
#include "rfc3339.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static int is_call_id(const char *s) {
    if (!s || strlen(s) != 13 || strncmp(s, "call_", 5))
        return 0;
    for (int i = 5; i < 13; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

/* The placeholders in a golden file: "$CALL_ID" matches call_ + 8 [a-z0-9]; "$NOW" matches an
 * integer within 300 s of now. */
static int openai_match(const json_t *want, const json_t *got, const char *path, char *why,
                        size_t len) {
    if (json_is_string(want) && !strcmp(json_string_value(want), "$CALL_ID")) {
        if (json_is_string(got) && is_call_id(json_string_value(got)))
            return 1;
        snprintf(why, len, "%s: want a call_xxxxxxxx id", path);
        return 0;
    }
    if (json_is_string(want) && !strcmp(json_string_value(want), "$NOW")) {
        json_int_t now = (json_int_t)time(NULL);
        if (json_is_integer(got) && llabs(json_integer_value(got) - now) <= 300)
            return 1;
        snprintf(why, len, "%s: want an integer close to now", path);
        return 0;
    }
    return -1;
}

static void assert_json_eq(const json_t *want, const json_t *got) {
    golden_assert_eq(want, got, openai_match);
}

static void assert_json_text(const char *want, const json_t *got) {
    json_t *w = golden_parse(want);
    assert_json_eq(w, got);
    json_decref(w);
}

/* ---- the comparator itself ---------------------------------------------------------------- */

static int eq_text(const char *a, const char *b) {
    char why[256];
    json_t *x = golden_parse(a), *y = golden_parse(b);
    int r = golden_values_equal(x, y, openai_match, "$", why, sizeof(why));
    json_decref(x);
    json_decref(y);
    return r;
}

static void test_comparator(void **state) {
    (void)state;
    assert_true(eq_text("3", "3.0"));
    assert_true(eq_text("{\"a\":1,\"b\":[1,2]}", "{\"b\":[1,2.0],\"a\":1.0}"));
    assert_false(eq_text("3", "3.5"));
    assert_false(eq_text("3", "\"3\""));
    assert_false(eq_text("true", "1"));
    assert_false(eq_text("null", "false"));
    assert_false(eq_text("{\"a\":1}", "{\"a\":1,\"b\":2}"));
    assert_false(eq_text("{\"a\":1,\"b\":2}", "{\"a\":1}"));
    assert_false(eq_text("[1,2]", "[2,1]"));
    assert_false(eq_text("[1]", "[1,1]"));
    assert_false(eq_text("\"ab\"", "\"abc\""));
    assert_false(eq_text("{\"a\":{\"b\":null}}", "{\"a\":{\"b\":0}}"));
    assert_true(eq_text("\"$CALL_ID\"", "\"call_a1b2c3d4\""));
    assert_false(eq_text("\"$CALL_ID\"", "\"call_A1B2C3D4\""));
    assert_false(eq_text("\"$CALL_ID\"", "\"call_a1b2c3d\""));
    assert_false(eq_text("\"$NOW\"", "0"));
}

/* ---- error envelopes ---------------------------------------------------------------------- */

static void test_error_envelope(void **state) {
    json_t *e;
    (void)state;
    e = openai_error_new(400, "bad", NULL);
    assert_json_text("{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\","
                     "\"param\":null,\"code\":null}}",
                     e);
    json_decref(e);
    e = openai_error_new(404, "model 'x' not found", NULL);
    assert_json_text("{\"error\":{\"message\":\"model 'x' not found\",\"type\":\"not_found_error\","
                     "\"param\":null,\"code\":null}}",
                     e);
    json_decref(e);
    e = openai_error_new(500, "boom", "some_code");
    assert_json_text("{\"error\":{\"message\":\"boom\",\"type\":\"api_error\",\"param\":null,"
                     "\"code\":\"some_code\"}}",
                     e);
    json_decref(e);
    e = openai_error_new(503, NULL, NULL);
    assert_json_text("{\"error\":{\"message\":\"\",\"type\":\"api_error\",\"param\":null,"
                     "\"code\":null}}",
                     e);
    json_decref(e);
}

static void check_native_error(int status, const char *body, const char *want) {
    json_t *e = openai_error_from_native_new(status, body, body ? strlen(body) : 0);
    assert_non_null(e);
    assert_json_text(want, e);
    json_decref(e);
}

static void test_error_from_native(void **state) {
    (void)state;
    /* V17: native 400 {"error":"model not found"} */
    check_native_error(400, "{\"error\":\"model not found\"}",
                       "{\"error\":{\"code\":null,\"message\":\"model not found\",\"param\":null,"
                       "\"type\":\"invalid_request_error\"}}");
    check_native_error(404, "{\"error\":\"model 'llama9' not found\"}",
                       "{\"error\":{\"code\":null,\"message\":\"model 'llama9' not found\","
                       "\"param\":null,\"type\":\"not_found_error\"}}");
    check_native_error(
        503,
        "{\"error\":\"server busy, please try again.  maximum pending requests "
        "exceeded\"}",
        "{\"error\":{\"code\":null,\"message\":\"server busy, please try again.  "
        "maximum pending requests exceeded\",\"param\":null,\"type\":\"api_error\"}}");
    check_native_error(400, "{\"error\":\"the input length exceeds the context length\"}",
                       "{\"error\":{\"code\":\"context_length_exceeded\",\"message\":\"the input "
                       "length exceeds the context length\",\"param\":null,"
                       "\"type\":\"invalid_request_error\"}}");
    /* plain text bodies (gin's 404, proxies) are the message, trimmed */
    check_native_error(404, "404 page not found\n",
                       "{\"error\":{\"code\":null,\"message\":\"404 page not found\","
                       "\"param\":null,\"type\":\"not_found_error\"}}");
    /* an OpenAI-shaped body keeps its message and code */
    check_native_error(429, "{\"error\":{\"message\":\"slow down\",\"code\":\"rate_limited\"}}",
                       "{\"error\":{\"code\":\"rate_limited\",\"message\":\"slow down\","
                       "\"param\":null,\"type\":\"api_error\"}}");
    /* JSON without an error text: the body itself */
    check_native_error(500, "{\"foo\":1}",
                       "{\"error\":{\"code\":null,\"message\":\"{\\\"foo\\\":1}\",\"param\":null,"
                       "\"type\":\"api_error\"}}");
    /* empty bodies still say something */
    check_native_error(502, "",
                       "{\"error\":{\"code\":null,\"message\":\"upstream returned HTTP 502\","
                       "\"param\":null,\"type\":\"api_error\"}}");
    check_native_error(500, NULL,
                       "{\"error\":{\"code\":null,\"message\":\"upstream returned HTTP 500\","
                       "\"param\":null,\"type\":\"api_error\"}}");
    check_native_error(500, "  \n",
                       "{\"error\":{\"code\":null,\"message\":\"upstream returned HTTP 500\","
                       "\"param\":null,\"type\":\"api_error\"}}");
}

static void test_error_from_native_not_nul_terminated(void **state) {
    const char body[] = "{\"error\":\"abc\"}XXXX";
    json_t *e;
    (void)state;
    e = openai_error_from_native_new(500, body, strlen(body) - 4);
    assert_json_text("{\"error\":{\"code\":null,\"message\":\"abc\",\"param\":null,"
                     "\"type\":\"api_error\"}}",
                     e);
    json_decref(e);
    e = openai_error_from_native_new(500, "plain textXXXX", 10);
    assert_json_text("{\"error\":{\"code\":null,\"message\":\"plain text\",\"param\":null,"
                     "\"type\":\"api_error\"}}",
                     e);
    json_decref(e);
}

/* ---- request type errors ------------------------------------------------------------------ */

enum kind { KIND_CHAT, KIND_COMPLETION, KIND_EMBED };

static json_t *translate(enum kind k, const json_t *in, struct openai_meta *meta,
                         struct openai_err *err) {
    switch (k) {
        case KIND_CHAT:
            return openai_chat_request_new(in, meta, err);
        case KIND_COMPLETION:
            return openai_completion_request_new(in, meta, err);
        case KIND_EMBED:
            return openai_embed_request_new(in, meta, err);
    }
    return NULL;
}

struct err_case {
    enum kind kind;
    const char *body;
    int status;
    const char *message;
};

#define MSGS                   "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]"
#define CHAT(extra)            "{\"model\":\"m\"," MSGS "," extra "}"
#define COMPLETION(extra)      "{\"model\":\"m\",\"prompt\":\"p\"," extra "}"
#define EMBED(extra)           "{\"model\":\"m\",\"input\":\"x\"," extra "}"
#define TYPE(field, want, got) "invalid type for '" field "': expected " want ", got " got

static const struct err_case err_cases[] = {
    {KIND_CHAT, "{\"model\":5," MSGS "}", 400, TYPE("model", "string", "number")},
    {KIND_CHAT, CHAT("\"stream\":\"yes\""), 400, TYPE("stream", "boolean", "string")},
    {KIND_CHAT, CHAT("\"stream\":1"), 400, TYPE("stream", "boolean", "number")},
    {KIND_CHAT, CHAT("\"stream_options\":true"), 400, TYPE("stream_options", "object", "boolean")},
    {KIND_CHAT, CHAT("\"stream_options\":{\"include_usage\":\"yes\"}"), 400,
     TYPE("stream_options.include_usage", "boolean", "string")},
    {KIND_CHAT, CHAT("\"n\":\"2\""), 400, TYPE("n", "integer", "string")},
    {KIND_CHAT, CHAT("\"n\":1.5"), 400, TYPE("n", "integer", "number")},
    {KIND_CHAT, "{\"model\":\"m\",\"messages\":\"Hi\"}", 400, TYPE("messages", "array", "string")},
    {KIND_CHAT, "{\"model\":\"m\",\"messages\":[\"Hi\"]}", 400,
     TYPE("messages[0]", "object", "string")},
    {KIND_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":[],\"content\":\"x\"}]}", 400,
     TYPE("messages[0].role", "string", "array")},
    {KIND_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"a\",\"content\":\"x\",\"reasoning\":1}]}", 400,
     TYPE("messages[0].reasoning", "string", "number")},
    {KIND_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"a\",\"content\":\"x\",\"name\":{}}]}",
     400, TYPE("messages[0].name", "string", "object")},
    {KIND_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"u\",\"content\":\"x\"},{\"role\":\"tool\","
     "\"content\":\"x\",\"tool_call_id\":7}]}",
     400, TYPE("messages[1].tool_call_id", "string", "number")},
    {KIND_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"a\",\"tool_calls\":{}}]}", 400,
     TYPE("messages[0].tool_calls", "array", "object")},
    {KIND_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"a\",\"tool_calls\":[1]}]}", 400,
     TYPE("messages[0].tool_calls[0]", "object", "number")},
    {KIND_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"a\",\"tool_calls\":[{\"id\":1,\"function\":{"
     "\"name\":\"f\",\"arguments\":\"{}\"}}]}]}",
     400, TYPE("messages[0].tool_calls[0].id", "string", "number")},
    {KIND_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"a\",\"tool_calls\":[{\"function\":\"f\"}]}]}", 400,
     TYPE("messages[0].tool_calls[0].function", "object", "string")},
    {KIND_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"a\",\"tool_calls\":[{\"function\":{\"name\":2,"
     "\"arguments\":\"{}\"}}]}]}",
     400, TYPE("messages[0].tool_calls[0].function.name", "string", "number")},
    {KIND_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"a\",\"tool_calls\":[{\"function\":{\"name\":\"f\","
     "\"arguments\":5}}]}]}",
     400, "invalid tool call arguments"},
    {KIND_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"a\",\"tool_calls\":[{\"function\":{\"name\":\"f\"}"
     "}]}]}",
     400, "invalid tool call arguments"},
    {KIND_CHAT, CHAT("\"max_tokens\":\"10\""), 400, TYPE("max_tokens", "integer", "string")},
    {KIND_CHAT, CHAT("\"max_completion_tokens\":true"), 400,
     TYPE("max_completion_tokens", "integer", "boolean")},
    {KIND_CHAT, CHAT("\"temperature\":\"hot\""), 400, TYPE("temperature", "number", "string")},
    {KIND_CHAT, CHAT("\"top_p\":[1]"), 400, TYPE("top_p", "number", "array")},
    {KIND_CHAT, CHAT("\"seed\":1.5"), 400, TYPE("seed", "integer", "number")},
    {KIND_CHAT, CHAT("\"frequency_penalty\":\"1\""), 400,
     TYPE("frequency_penalty", "number", "string")},
    {KIND_CHAT, CHAT("\"presence_penalty\":false"), 400,
     TYPE("presence_penalty", "number", "boolean")},
    {KIND_CHAT, CHAT("\"stop\":{}"), 400,
     "invalid type for 'stop': expected string or array of strings, got object"},
    {KIND_CHAT, CHAT("\"response_format\":\"json\""), 400,
     TYPE("response_format", "object", "string")},
    {KIND_CHAT, CHAT("\"response_format\":{\"type\":1}"), 400,
     TYPE("response_format.type", "string", "number")},
    {KIND_CHAT, CHAT("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":\"x\"}"), 400,
     TYPE("response_format.json_schema", "object", "string")},
    {KIND_CHAT, CHAT("\"tools\":{}"), 400, TYPE("tools", "array", "object")},
    {KIND_CHAT, CHAT("\"tools\":[1]"), 400, TYPE("tools[0]", "object", "number")},
    {KIND_CHAT, CHAT("\"tool_choice\":1"), 400,
     "invalid type for 'tool_choice': expected string or object, got number"},
    {KIND_CHAT, CHAT("\"reasoning\":\"high\""), 400, TYPE("reasoning", "object", "string")},
    {KIND_CHAT, CHAT("\"reasoning\":{\"effort\":1}"), 400,
     TYPE("reasoning.effort", "string", "number")},
    {KIND_CHAT, CHAT("\"reasoning_effort\":true"), 400,
     TYPE("reasoning_effort", "string", "boolean")},
    {KIND_CHAT, CHAT("\"reasoning\":{\"effort\":\"HIGH\"}"), 400,
     "invalid reasoning value: \"HIGH\" (must be \"minimal\", \"low\", \"medium\", \"high\", "
     "\"xhigh\", \"ultra\", \"max\", or \"none\")"},
    {KIND_CHAT, CHAT("\"logprobs\":1"), 400, TYPE("logprobs", "boolean", "number")},
    {KIND_CHAT, CHAT("\"top_logprobs\":\"5\""), 400, TYPE("top_logprobs", "integer", "string")},
    {KIND_CHAT, CHAT("\"options\":\"x\""), 400, TYPE("options", "object", "string")},
    {KIND_CHAT, CHAT("\"num_ctx\":\"4096\""), 400, TYPE("num_ctx", "integer", "string")},
    {KIND_CHAT, CHAT("\"_debug_render_only\":\"x\""), 400,
     TYPE("_debug_render_only", "boolean", "string")},
    {KIND_CHAT, CHAT("\"n\":-3"), 400, "-3 is less than the minimum of 1 - 'n'"},
    {KIND_CHAT, "{\"model\":\"m\"}", 400, "[] is too short - 'messages'"},
    {KIND_CHAT, "{\"model\":\"m\",\"messages\":null}", 400, "[] is too short - 'messages'"},
    {KIND_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}", 400,
     "model is required"},
    {KIND_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}", 400,
     "invalid message content type: <nil>"},
    {KIND_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[1]}]}", 400,
     "invalid message format"},
    {KIND_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
     "\"image_url\":{\"url\":\"data:image/svg+xml;base64,QQ==\"}}]}]}",
     400, "invalid image input"},
    {KIND_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
     "\"image_url\":{\"url\":\"http://example.com/a.png\"}}]}]}",
     400, "image URLs are not currently supported, please use base64 encoded data instead"},
    {KIND_CHAT,
     "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\","
     "\"input_audio\":{\"data\":\"***\"}}]}]}",
     400, "invalid message format"},
    {KIND_COMPLETION, "{\"model\":\"m\",\"prompt\":7}", 400, TYPE("prompt", "string", "number")},
    {KIND_COMPLETION, COMPLETION("\"suffix\":1"), 400, TYPE("suffix", "string", "number")},
    {KIND_COMPLETION, COMPLETION("\"logprobs\":true"), 400, TYPE("logprobs", "integer", "boolean")},
    {KIND_COMPLETION, COMPLETION("\"temperature\":\"1\""), 400,
     TYPE("temperature", "number", "string")},
    {KIND_COMPLETION, COMPLETION("\"stream\":\"no\""), 400, TYPE("stream", "boolean", "string")},
    {KIND_COMPLETION, COMPLETION("\"max_tokens\":[]"), 400, TYPE("max_tokens", "integer", "array")},
    {KIND_COMPLETION, COMPLETION("\"stop\":[\"a\",true]"), 400,
     "invalid type for 'stop' field: bool"},
    {KIND_COMPLETION, COMPLETION("\"stop\":[null]"), 400, "invalid type for 'stop' field: <nil>"},
    {KIND_COMPLETION, COMPLETION("\"stop\":[{}]"), 400,
     "invalid type for 'stop' field: map[string]interface {}"},
    {KIND_COMPLETION, COMPLETION("\"n\":2"), 400,
     "n > 1 is not supported: Ollama returns one choice"},
    {KIND_COMPLETION, COMPLETION("\"options\":[]"), 400, TYPE("options", "object", "array")},
    {KIND_EMBED, "{\"model\":1,\"input\":\"x\"}", 400, TYPE("model", "string", "number")},
    {KIND_EMBED, EMBED("\"dimensions\":\"3\""), 400, TYPE("dimensions", "integer", "string")},
    {KIND_EMBED, EMBED("\"encoding_format\":1"), 400, TYPE("encoding_format", "string", "number")},
    {KIND_EMBED, EMBED("\"options\":1"), 400, TYPE("options", "object", "number")},
    {KIND_EMBED, EMBED("\"num_ctx\":1.5"), 400, TYPE("num_ctx", "integer", "number")},
    {KIND_EMBED, "{\"model\":\"m\",\"input\":{}}", 400, "invalid input type"},
    {KIND_EMBED, "{\"model\":\"m\",\"input\":true}", 400, "invalid input type"},
    {KIND_EMBED, EMBED("\"encoding_format\":\"b64\""), 400,
     "Invalid value for 'encoding_format' = b64. Supported values: ['float', 'base64']."},
    {KIND_EMBED, "{\"model\":\"\",\"input\":\"x\"}", 404, "model '' not found"},
};

static void test_request_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        const struct err_case *c = &err_cases[i];
        struct openai_err err = {0, "untouched"};
        struct openai_meta meta = {0};
        json_t *in = golden_parse(c->body), *copy = json_deep_copy(in);
        json_t *out = translate(c->kind, in, &meta, &err);
        if (out) {
            char *o = golden_dump(out);
            fail_msg("case %zu (%s): expected an error, got %s", i, c->body, o);
        }
        if (err.status != c->status || strcmp(err.message, c->message))
            fail_msg("case %zu (%s):\n  want %d %s\n  got  %d %s", i, c->body, c->status,
                     c->message, err.status, err.message);
        assert_true(json_equal(in, copy));
        json_decref(in);
        json_decref(copy);
    }
}

static void test_body_not_object(void **state) {
    static const char *const bodies[] = {"[1]", "\"x\"", "3", "null", "true"};
    (void)state;
    for (int k = KIND_CHAT; k <= KIND_EMBED; k++) {
        struct openai_err err = {0};
        assert_null(translate((enum kind)k, NULL, NULL, &err));
        assert_int_equal(err.status, 400);
        assert_string_equal(err.message,
                            "invalid request body: expected a JSON object, got nothing");
        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
            json_t *in = golden_parse(bodies[i]);
            memset(&err, 0, sizeof(err));
            assert_null(translate((enum kind)k, in, NULL, &err));
            assert_int_equal(err.status, 400);
            assert_non_null(strstr(err.message, "expected a JSON object"));
            json_decref(in);
        }
    }
}

static void test_null_meta_and_err(void **state) {
    json_t *in = golden_parse(CHAT("\"temperature\":0.5")),
           *bad = golden_parse(CHAT("\"temperature\":\"x\""));
    json_t *out;
    (void)state;
    out = openai_chat_request_new(in, NULL, NULL);
    assert_non_null(out);
    json_decref(out);
    assert_null(openai_chat_request_new(bad, NULL, NULL));
    json_decref(in);
    json_decref(bad);
}

/* ---- base64 ------------------------------------------------------------------------------- */

static void check_embedding_b64(const char *vec, const char *want) {
    char native[256], expect[512];
    json_t *n, *out;
    snprintf(native, sizeof(native), "{\"embeddings\":[%s],\"prompt_eval_count\":1}", vec);
    snprintf(expect, sizeof(expect),
             "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"embedding\":\"%s\","
             "\"index\":0}],\"model\":\"e\",\"usage\":{\"prompt_tokens\":1,\"total_tokens\":1}}",
             want);
    n = golden_parse(native);
    out = openai_embed_response_new(n, "e", 1);
    assert_json_text(expect, out);
    json_decref(out);
    json_decref(n);
}

static void test_base64_embeddings(void **state) {
    (void)state;
    check_embedding_b64("[0.1,-0.2,0.3]", "zczMPc3MTL6amZk+"); /* no padding */
    check_embedding_b64("[1.0]", "AACAPw==");                  /* two pad chars */
    check_embedding_b64("[1,-0.0]", "AACAPwAAAIA=");           /* one pad char */
    check_embedding_b64("[0.25,-2.5,1e30]", "AACAPgAAIMDK8klx");
    check_embedding_b64("[]", "");
}

static json_t *image_request(const char *b64) {
    char body[512];
    json_t *in, *out;
    struct openai_err err = {0};
    snprintf(body, sizeof(body),
             "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
             "\"image_url\",\"image_url\":{\"url\":\"data:;base64,%s\"}}]}]}",
             b64);
    in = golden_parse(body);
    out = openai_chat_request_new(in, NULL, &err);
    json_decref(in);
    if (!out)
        assert_string_equal(err.message, "invalid image input");
    return out;
}

static void check_image(const char *b64, const char *want) {
    json_t *out = image_request(b64);
    json_t *img;
    if (!out)
        fail_msg("base64 \"%s\" refused", b64);
    img = json_array_get(
        json_object_get(json_array_get(json_object_get(out, "messages"), 0), "images"), 0);
    if (!json_is_string(img) || strcmp(json_string_value(img), want))
        fail_msg("base64 \"%s\": want \"%s\", got \"%s\"", b64, want,
                 json_is_string(img) ? json_string_value(img) : "(none)");
    json_decref(out);
}

static void test_base64_images(void **state) {
    static const char *const bad[] = {
        "Q",     "QQ",       "QQQ",  "QQ=",   "Q===",  "=QQQ",      "QQ==QQ==",
        "QQ==x", "QUJD=",    "QU=D", "QQ= =", "QQ== ", "QUJD QUJD", "QU*D",
        "QUJDQ", "QUJD\\n=", "QUJ-", "QUJ_",  "====",
    };
    (void)state;
    check_image("QUJD", "QUJD");
    check_image("QUI=", "QUI=");
    check_image("QQ==", "QQ==");
    check_image("", "");
    check_image("QR==", "QQ==");             /* non-zero trailing bits, as Go tolerates */
    check_image("QUJ\\r\\nD", "QUJD");       /* line breaks are ignored */
    check_image("QQ\\n=\\n=\\r\\n", "QQ=="); /* even inside and after the padding */
    check_image("+/+/", "+/+/");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *out = image_request(bad[i]);
        if (out) {
            json_decref(out);
            fail_msg("invalid base64 \"%s\" accepted", bad[i]);
        }
    }
}

/* ---- tool calls ---------------------------------------------------------------------------- */

static void test_tool_call_ids_generated(void **state) {
    json_t *calls = json_array(), *native, *out, *got;
    (void)state;
    for (int i = 0; i < 200; i++)
        json_array_append_new(calls,
                              golden_parse("{\"function\":{\"name\":\"f\",\"arguments\":{}}}"));
    json_array_append_new(calls, golden_parse("{\"id\":\"\",\"function\":{\"name\":\"g\"}}"));
    json_array_append_new(calls,
                          golden_parse("{\"id\":\"keep/me\",\"function\":{\"name\":\"h\"}}"));
    native = json_pack("{s:s,s:{s:s,s:o},s:b,s:s}", "model", "m", "message", "role", "assistant",
                       "tool_calls", calls, "done", 1, "done_reason", "stop");
    out = openai_chat_response_new(native, "x");
    got = json_object_get(
        json_object_get(json_array_get(json_object_get(out, "choices"), 0), "message"),
        "tool_calls");
    assert_int_equal(json_array_size(got), 202);
    for (size_t i = 0; i < 201; i++) {
        const char *id = json_string_value(json_object_get(json_array_get(got, i), "id"));
        if (!is_call_id(id))
            fail_msg("tool call %zu: bad generated id \"%s\"", i, id ? id : "(null)");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(id, json_string_value(json_object_get(json_array_get(got, j), "id"))))
                fail_msg("generated ids %zu and %zu collide: %s", j, i, id);
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(got, 201), "id")),
                        "keep/me");
    /* missing arguments -> "{}" */
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(got, 200), "function"), "arguments")),
                        "{}");
    json_decref(out);
    json_decref(native);
}

static void test_tool_call_arguments_text(void **state) {
    json_t *native =
        golden_parse("{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\","
                     "\"tool_calls\":[{\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":{"
                     "\"s\":\"tab\\there \\\"q\\\" \\\\ \\u00e9 \\u0001\",\"r\":0.1,"
                     "\"big\":1e300,\"neg\":-2.5,\"i\":-7,\"w\":5.0,\"a\":[],\"o\":{},"
                     "\"z\":[true,false,null]}}},"
                     "{\"function\":{\"name\":\"g\",\"arguments\":\"{\\\"pre\\\":1}\"}}]},"
                     "\"done\":true}");
    json_t *out = openai_chat_response_new(native, "x");
    json_t *calls = json_object_get(
        json_object_get(json_array_get(json_object_get(out, "choices"), 0), "message"),
        "tool_calls");
    const char *args = json_string_value(
        json_object_get(json_object_get(json_array_get(calls, 0), "function"), "arguments"));
    (void)state;
    /* compact, key order kept, reals as Go prints them */
    assert_string_equal(args, "{\"s\":\"tab\\there \\\"q\\\" \\\\ \xc3\xa9 \\u0001\",\"r\":0.1,"
                              "\"big\":1e+300,\"neg\":-2.5,\"i\":-7,\"w\":5,\"a\":[],\"o\":{},"
                              "\"z\":[true,false,null]}");
    /* arguments already a string pass through */
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(calls, 1), "function"), "arguments")),
                        "{\"pre\":1}");
    json_decref(out);
    json_decref(native);
}

/* ---- streams ------------------------------------------------------------------------------- */

static void test_stream_after_finish(void **state) {
    struct openai_stream s;
    json_t *frames = json_array();
    json_t *line =
        golden_parse("{\"model\":\"m\",\"created_at\":\"2009-02-13T23:31:30Z\",\"message\":{"
                     "\"content\":\"x\"},\"done\":true,\"done_reason\":\"stop\"}");
    json_t *err = golden_parse("{\"error\":\"boom\"}");
    (void)state;

    openai_stream_init(&s, "id", 0);
    assert_int_equal(openai_chat_stream_feed(&s, line, frames), OPENAI_STREAM_DONE);
    assert_int_equal(json_array_size(frames), 2);
    assert_int_equal(openai_chat_stream_feed(&s, line, frames), OPENAI_STREAM_DONE);
    assert_int_equal(openai_chat_stream_feed(&s, err, frames), OPENAI_STREAM_DONE);
    assert_int_equal(openai_chat_stream_eof(&s, frames), OPENAI_STREAM_DONE);
    assert_int_equal(json_array_size(frames), 2);

    json_array_clear(frames);
    openai_stream_init(&s, "id", 1);
    assert_int_equal(openai_completion_stream_feed(&s, err, frames), OPENAI_STREAM_ERROR);
    assert_int_equal(json_array_size(frames), 1);
    assert_int_equal(openai_completion_stream_feed(&s, line, frames), OPENAI_STREAM_ERROR);
    assert_int_equal(openai_completion_stream_eof(&s, frames), OPENAI_STREAM_ERROR);
    assert_int_equal(openai_chat_stream_eof(&s, frames), OPENAI_STREAM_ERROR);
    assert_int_equal(json_array_size(frames), 1);

    json_decref(line);
    json_decref(err);
    json_decref(frames);
}

static void test_stream_bad_lines(void **state) {
    static const char *const lines[] = {"[1,2]", "\"text\"", "{\"error\":{\"message\":\"nested\"}}",
                                        "{\"error\":42}"};
    static const char *const want[] = {
        "{\"error\":{\"message\":\"invalid response from upstream\",\"type\":\"api_error\","
        "\"param\":null,\"code\":null}}",
        "{\"error\":{\"message\":\"invalid response from upstream\",\"type\":\"api_error\","
        "\"param\":null,\"code\":null}}",
        "{\"error\":{\"message\":\"nested\",\"type\":\"api_error\",\"param\":null,\"code\":null}}",
        "{\"error\":{\"message\":\"42\",\"type\":\"api_error\",\"param\":null,\"code\":null}}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct openai_stream s;
        json_t *frames = json_array(), *line = golden_parse(lines[i]);
        openai_stream_init(&s, "id", 0);
        assert_int_equal(openai_chat_stream_feed(&s, line, frames), OPENAI_STREAM_ERROR);
        assert_int_equal(json_array_size(frames), 1);
        assert_json_text(want[i], json_array_get(frames, 0));
        assert_int_equal(openai_chat_stream_feed(&s, NULL, frames), OPENAI_STREAM_ERROR);
        json_decref(line);
        json_decref(frames);
    }
}

static void test_stream_created_now_when_missing(void **state) {
    static const char *const lines[] = {
        "{\"model\":\"m\",\"message\":{\"content\":\"a\"},\"done\":false}",
        "{\"model\":\"m\",\"created_at\":\"0001-01-01T00:00:00Z\",\"message\":{\"content\":\"a\"}}",
        "{\"model\":\"m\",\"created_at\":\"yesterday\",\"message\":{\"content\":\"a\"}}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct openai_stream s;
        json_t *frames = json_array(), *line = golden_parse(lines[i]);
        json_int_t now = (json_int_t)time(NULL), created;
        openai_stream_init(&s, "id", 0);
        assert_int_equal(openai_chat_stream_feed(&s, line, frames), OPENAI_STREAM_MORE);
        created = json_integer_value(json_object_get(json_array_get(frames, 0), "created"));
        assert_true(created >= now - 5 && created <= now + 5);
        json_decref(line);
        json_decref(frames);
    }
}

static void test_stream_id(void **state) {
    struct openai_stream s;
    char long_id[100];
    json_t *frames = json_array();
    (void)state;
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    openai_stream_init(&s, long_id, 0);
    assert_int_equal(strlen(s.id), sizeof(s.id) - 1);
    openai_stream_init(&s, NULL, 0);
    assert_string_equal(s.id, "");
    openai_stream_init(&s, "chatcmpl-7", 0);
    assert_int_equal(openai_chat_stream_eof(&s, frames), OPENAI_STREAM_DONE);
    assert_int_equal(json_array_size(frames), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(frames, 1), "id")),
                        "chatcmpl-7");
    json_decref(frames);
}

/* ---- responses, models ---------------------------------------------------------------------- */

static void test_response_not_object(void **state) {
    json_t *arr = golden_parse("[1]");
    (void)state;
    assert_null(openai_chat_response_new(arr, "x"));
    assert_null(openai_chat_response_new(NULL, "x"));
    assert_null(openai_completion_response_new(arr, "x"));
    assert_null(openai_embed_response_new(arr, "m", 0));
    assert_null(openai_models_list_new(arr));
    assert_null(openai_model_new("m", arr));
    assert_null(openai_model_new(NULL, arr));
    json_decref(arr);
}

static void check_owner(const char *id, const char *want) {
    json_t *show = golden_parse("{}"), *m = openai_model_new(id, show);
    const char *got = json_string_value(json_object_get(m, "owned_by"));
    if (!got || strcmp(got, want))
        fail_msg("owned_by(%s): want %s, got %s", id, want, got ? got : "(null)");
    assert_string_equal(json_string_value(json_object_get(m, "id")), id);
    assert_int_equal(json_integer_value(json_object_get(m, "created")), 0);
    json_decref(m);
    json_decref(show);
}

static void test_owned_by(void **state) {
    (void)state;
    check_owner("llama3.2", "library");
    check_owner("llama3.2:3b", "library");
    check_owner("library/llama3.2:latest", "library");
    check_owner("namespace/exposed-model:latest", "namespace");
    check_owner("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "bartowski");
    check_owner("registry.example:5000/team/model:7b", "team");
    check_owner("a/b/c/d", "c");
    check_owner("ns/model@sha256:abc", "ns");
    check_owner("model@sha256:a/b", "library");
    check_owner("/model", "library");
    check_owner("", "library");
}

/* ---- golden cases --------------------------------------------------------------------------- */

static json_t *case_config(const char *dir) {
    return golden_exists(dir, "case.json") ? golden_load(dir, "case.json") : json_object();
}

static const char *cfg_str(const json_t *cfg, const char *key, const char *dflt) {
    const char *s = json_string_value(json_object_get(cfg, key));
    return s ? s : dflt;
}

static enum kind cfg_kind(const json_t *cfg) {
    const char *k = cfg_str(cfg, "kind", "chat");
    if (!strcmp(k, "completion"))
        return KIND_COMPLETION;
    if (!strcmp(k, "embed"))
        return KIND_EMBED;
    if (strcmp(k, "chat"))
        fail_msg("unknown kind \"%s\" for a request or stream case", k);
    return KIND_CHAT;
}

static void run_request_case(const char *dir, const json_t *cfg) {
    json_t *in = golden_load(dir, "request.json"), *copy = json_deep_copy(in), *out, *want;
    json_t *meta_want = json_object_get(cfg, "meta");
    struct openai_err err = {0};
    struct openai_meta meta = {-1, -1, -1};

    out = translate(cfg_kind(cfg), in, &meta, &err);
    if (!json_equal(in, copy))
        fail_msg("the request was modified");
    if (golden_exists(dir, "error.json")) {
        want = golden_load(dir, "error.json");
        if (out) {
            char *o = golden_dump(out);
            fail_msg("expected an error, got %s", o);
        }
        assert_int_equal(err.status, json_integer_value(json_object_get(want, "status")));
        assert_string_equal(err.message, json_string_value(json_object_get(want, "message")));
    } else {
        want = golden_load(dir, "native.json");
        if (!out)
            fail_msg("unexpected error %d: %s", err.status, err.message);
        assert_json_eq(want, out);
        if (meta_want) {
            const json_t *v;
            if ((v = json_object_get(meta_want, "stream")))
                assert_int_equal(meta.stream, json_integer_value(v));
            if ((v = json_object_get(meta_want, "include_usage")))
                assert_int_equal(meta.include_usage, json_integer_value(v));
            if ((v = json_object_get(meta_want, "encoding_b64")))
                assert_int_equal(meta.encoding_b64, json_integer_value(v));
        }
    }
    json_decref(out);
    json_decref(want);
    json_decref(in);
    json_decref(copy);
}

static void run_response_case(const char *dir, const json_t *cfg) {
    json_t *native = golden_load(dir, "native.json"), *copy = json_deep_copy(native), *out = NULL;
    json_t *want = golden_load(dir, "response.json");
    const char *kind = cfg_str(cfg, "kind", "chat");

    if (!strcmp(kind, "chat"))
        out = openai_chat_response_new(native, cfg_str(cfg, "id", "chatcmpl-test"));
    else if (!strcmp(kind, "completion"))
        out = openai_completion_response_new(native, cfg_str(cfg, "id", "cmpl-test"));
    else if (!strcmp(kind, "embed"))
        out = openai_embed_response_new(native, cfg_str(cfg, "model", NULL),
                                        json_is_true(json_object_get(cfg, "encoding_b64")));
    else if (!strcmp(kind, "models"))
        out = openai_models_list_new(native);
    else if (!strcmp(kind, "model"))
        out = openai_model_new(cfg_str(cfg, "id", ""), native);
    else
        fail_msg("unknown kind \"%s\"", kind);
    if (!json_equal(native, copy))
        fail_msg("the native answer was modified");
    assert_json_eq(want, out);
    json_decref(out);
    json_decref(want);
    json_decref(native);
    json_decref(copy);
}

static json_t *load_ndjson(const char *dir, const char *name) {
    char *p = golden_path(dir, name), *line = NULL;
    size_t cap = 0;
    ssize_t n;
    json_t *lines = json_array();
    FILE *f = fopen(p, "r");
    if (!f)
        fail_msg("cannot open %s", p);
    while ((n = getline(&line, &cap, f)) > 0) {
        json_error_t e;
        json_t *v;
        if (n == 1 && line[0] == '\n')
            continue;
        v = json_loadb(line, (size_t)n, JSON_DECODE_ANY, &e);
        if (!v)
            fail_msg("%s: %s", p, e.text);
        json_array_append_new(lines, v);
    }
    free(line);
    fclose(f);
    free(p);
    return lines;
}

static void run_stream_case(const char *dir, const json_t *cfg) {
    json_t *lines = load_ndjson(dir, "native.ndjson"), *copy = json_deep_copy(lines);
    json_t *want = golden_load(dir, "frames.json"), *got = json_array(), *line, *frame;
    enum kind kind = cfg_kind(cfg);
    int chat = kind == KIND_CHAT, done = 0, errored = 0, r;
    struct openai_stream s;
    json_int_t first_created;
    size_t i;

    if (kind == KIND_EMBED)
        fail_msg("embeddings do not stream");
    openai_stream_init(&s, cfg_str(cfg, "id", chat ? "chatcmpl-test" : "cmpl-test"),
                       json_is_true(json_object_get(cfg, "include_usage")));
    json_array_foreach(lines, i, line) {
        r = chat ? openai_chat_stream_feed(&s, line, got)
                 : openai_completion_stream_feed(&s, line, got);
        if (r == OPENAI_STREAM_DONE && !done && !errored) {
            json_array_append_new(got, json_string("[DONE]"));
            done = 1;
        } else if (r == OPENAI_STREAM_ERROR) {
            errored = 1;
        } else if (r == OPENAI_STREAM_MORE && (done || errored)) {
            fail_msg("line %zu: MORE after the stream ended", i);
        }
    }
    if (json_is_true(json_object_get(cfg, "eof"))) {
        r = chat ? openai_chat_stream_eof(&s, got) : openai_completion_stream_eof(&s, got);
        if (r == OPENAI_STREAM_DONE && !done && !errored)
            json_array_append_new(got, json_string("[DONE]"));
        else if (r == OPENAI_STREAM_ERROR && !errored)
            fail_msg("eof returned ERROR without an error line");
        else if (r == OPENAI_STREAM_MORE)
            fail_msg("eof returned MORE");
    }
    if (!json_equal(lines, copy))
        fail_msg("a native line was modified");
    assert_json_eq(want, got);

    /* every chunk shares unix(created_at of the first line) */
    if (rfc3339_parse(json_string_value(json_object_get(json_array_get(lines, 0), "created_at")),
                      &first_created) < 0)
        first_created = 0;
    if (first_created > 0) {
        json_array_foreach(got, i, frame) {
            json_t *c = json_object_get(frame, "created");
            if (c && json_integer_value(c) != first_created)
                fail_msg("frame %zu: created %" JSON_INTEGER_FORMAT " != %" JSON_INTEGER_FORMAT, i,
                         json_integer_value(c), first_created);
        }
    }
    json_decref(got);
    json_decref(want);
    json_decref(lines);
    json_decref(copy);
}

static void run_case(void **state) {
    const char *dir = *state;
    json_t *cfg = case_config(dir);
    if (golden_exists(dir, "request.json"))
        run_request_case(dir, cfg);
    else if (golden_exists(dir, "native.ndjson"))
        run_stream_case(dir, cfg);
    else if (golden_exists(dir, "native.json") && golden_exists(dir, "response.json"))
        run_response_case(dir, cfg);
    else
        fail_msg("%s: no request.json, native.ndjson or native.json+response.json", dir);
    json_decref(cfg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comparator),
        cmocka_unit_test(test_error_envelope),
        cmocka_unit_test(test_error_from_native),
        cmocka_unit_test(test_error_from_native_not_nul_terminated),
        cmocka_unit_test(test_request_errors),
        cmocka_unit_test(test_body_not_object),
        cmocka_unit_test(test_null_meta_and_err),
        cmocka_unit_test(test_base64_embeddings),
        cmocka_unit_test(test_base64_images),
        cmocka_unit_test(test_tool_call_ids_generated),
        cmocka_unit_test(test_tool_call_arguments_text),
        cmocka_unit_test(test_stream_after_finish),
        cmocka_unit_test(test_stream_bad_lines),
        cmocka_unit_test(test_stream_created_now_when_missing),
        cmocka_unit_test(test_stream_id),
        cmocka_unit_test(test_response_not_object),
        cmocka_unit_test(test_owned_by),
    };
    int failed = cmocka_run_group_tests_name("openai", tests, NULL, NULL);
    failed += golden_run("golden", "TRANSLATE_CASES", "tests/translate", run_case);
    return failed ? 1 : 0;
}
