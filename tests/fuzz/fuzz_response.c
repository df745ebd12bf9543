/* libFuzzer target: Ollama's non-streaming answers, translated back to OpenAI's shapes as
 * ep_openai.c's answer hooks do at the end of a buffered reply. The input is the upstream
 * body: parsed as they parse it (json_loadb, flags 0) and given to every response translator, and
 * given raw to openai_error_from_native_new (an error answer may be anything, JSON or not). */
#include "fuzz.h"
#include "openai.h"
#include "rfc3339.h"

static void check_head(const json_t *out, const char *object, const char *id) {
    FUZZ_CHECK("response-head",
               fuzz_str_is(json_object_get(out, "object"), object) &&
                   fuzz_str_is(json_object_get(out, "id"), id) &&
                   json_is_integer(json_object_get(out, "created")) &&
                   json_is_string(json_object_get(out, "model")),
               "%s head malformed", object);
    const json_t *u = json_object_get(out, "usage");
    FUZZ_CHECK("response-usage", fuzz_usage_ok(u), "%s usage missing or inconsistent", object);
    const json_t *choice = json_array_get(json_object_get(out, "choices"), 0);
    const json_t *fr = json_object_get(choice, "finish_reason");
    FUZZ_CHECK("response-choice",
               json_array_size(json_object_get(out, "choices")) == 1 &&
                   (json_is_null(fr) || json_string_length(fr) > 0),
               "%s choices malformed", object);
}

/* A translator's result: NULL exactly when the body is not an object; JSON that encodes. */
static void check_result(const char *what, const json_t *native, json_t *out) {
    FUZZ_CHECK("response-null", !out == !json_is_object(native),
               "%s returned %s for a%s object body", what, out ? "a value" : "NULL",
               json_is_object(native) ? "n" : " non-");
    if (out)
        FUZZ_CHECK("response-encodes", fuzz_encodes(out), "%s result does not encode", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_t *native = json_loadb((const char *)data, size, 0, NULL);
    json_t *copy = json_deep_copy(native);
    json_t *out;

    out = openai_chat_response_new(native, "chatcmpl-fuzz");
    check_result("openai_chat_response_new", native, out);
    if (out) {
        check_head(out, "chat.completion", "chatcmpl-fuzz");
        const json_t *msg =
            json_object_get(json_array_get(json_object_get(out, "choices"), 0), "message");
        FUZZ_CHECK("response-chat-message",
                   json_is_string(json_object_get(msg, "role")) &&
                       json_is_string(json_object_get(msg, "content")),
                   "chat message without role or content");
        const json_t *calls = json_object_get(msg, "tool_calls"), *tc;
        size_t i;
        json_array_foreach(calls, i, tc) {
            const json_t *args = json_object_get(json_object_get(tc, "function"), "arguments");
            FUZZ_CHECK("response-tool-call",
                       json_string_length(json_object_get(tc, "id")) > 0 && json_is_string(args),
                       "tool call %zu without an id or string arguments", i);
        }
    }
    json_decref(out);

    out = openai_completion_response_new(native, "cmpl-fuzz");
    check_result("openai_completion_response_new", native, out);
    if (out)
        check_head(out, "text_completion", "cmpl-fuzz");
    json_decref(out);

    for (int b64 = 0; b64 <= 1; b64++) {
        out = openai_embed_response_new(native, b64 ? NULL : "test-model", b64);
        check_result("openai_embed_response_new", native, out);
        if (out) {
            const json_t *d = json_object_get(out, "data"), *e;
            size_t i;
            FUZZ_CHECK("response-embed-data", json_is_array(d), "embeddings without data");
            json_array_foreach(d, i, e) FUZZ_CHECK(
                "response-embed-b64", !b64 || json_is_string(json_object_get(e, "embedding")),
                "base64 embedding %zu is not a string", i);
        }
        json_decref(out);
    }

    out = openai_models_list_new(native);
    check_result("openai_models_list_new", native, out);
    json_decref(out);

    /* /v1/models/{id}: the id comes from the path; use the body's own names as ids too. */
    const char *ids[3] = {"hf.co/org/repo:Q4_K_M@sha256:abc",
                          json_string_value(json_object_get(native, "model")),
                          json_string_value(json_object_get(native, "name"))};
    for (size_t i = 0; i < 3; i++) {
        if (!ids[i])
            continue;
        out = openai_model_new(ids[i], native);
        check_result("openai_model_new", native, out);
        if (out)
            FUZZ_CHECK("response-model-owner",
                       json_string_length(json_object_get(out, "owned_by")) > 0,
                       "model \"%s\" without owned_by", ids[i]);
        json_decref(out);
    }
    FUZZ_CHECK("response-input-unchanged", json_equal(native, copy) || (!native && !copy),
               "a response translator modified the native body");

    /* An error answer: any bytes, with any status relay passes on. */
    static const int statuses[] = {400, 404, 500, 502};
    int status = statuses[size % 4];
    out = openai_error_from_native_new(status, (const char *)data, size);
    FUZZ_CHECK("error-from-native-null", out != NULL,
               "openai_error_from_native_new returned NULL for a %zu-byte body", size);
    const json_t *e = json_object_get(out, "error");
    FUZZ_CHECK("error-from-native-shape",
               !out || (json_string_length(json_object_get(e, "message")) > 0 &&
                        json_is_string(json_object_get(e, "type"))),
               "error envelope without a message or type");
    json_decref(out);

    /* created_at parsing, and the UTF-8 repair error texts go through, on the body as a
     * string: valid text is kept as is, anything else still becomes a JSON string. */
    char *s = fuzz_strndup(data, size);
    if (s) {
        long long t;
        (void)rfc3339_parse(s, &t);
        json_t *text = openai_text_new(s);
        size_t n = strlen(s);
        FUZZ_CHECK("text-new", text != NULL, "openai_text_new failed on %zu bytes", n);
        if (fuzz_valid_utf8(s, n))
            FUZZ_CHECK("text-new-keeps",
                       json_string_length(text) == n && !memcmp(json_string_value(text), s, n),
                       "openai_text_new changed valid UTF-8");
        else
            FUZZ_CHECK("text-new-repairs", json_string_length(text) >= n,
                       "openai_text_new dropped bytes instead of replacing them");
        json_decref(text);
    }
    free(s);

    json_decref(copy);
    json_decref(native);
    return 0;
}
