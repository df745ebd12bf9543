/* libFuzzer target: the non-stream fast path (proxy/fast/openai_fast.h) against the jansson path.
 * The input is an upstream body, given to openai_chat_response_fast and
 * openai_completion_response_fast. Whenever one answers, the body must be JSON that ep_openai.c's
 * json_loadb accepts, the answer must parse, and it must be byte for byte the compact dump of
 * openai_{chat,completion}_response_new of the parsed body (hence json_equal to it), with the
 * token counts ep_openai.c's note_tokens would read. An answer needs no more than len +
 * OPENAI_FAST_SLACK bytes, and one byte less than it took gives nothing. */
#include "fuzz.h"
#include "openai.h"
#include "openai_fast.h"

static void check_kind(int chat, const char *body, size_t size) {
    const char *id = chat ? "chatcmpl-123" : "cmpl-45";
    size_t cap = size + OPENAI_FAST_SLACK;
    char *out = malloc(cap);
    struct openai_fast_usage u = {-1, -1};
    if (!out)
        return;
    size_t n = chat ? openai_chat_response_fast(body, size, id, out, cap, &u)
                    : openai_completion_response_fast(body, size, id, out, cap, &u);
    const char *what = chat ? "chat" : "completion";
    if (!n) {
        FUZZ_CHECK("fast-usage-untouched", u.prompt_tokens == -1 && u.completion_tokens == -1,
                   "%s: usage written by a fallback", what);
        free(out);
        return;
    }
    json_error_t err;
    json_t *native = json_loadb(body, size, 0, &err);
    FUZZ_CHECK("fast-valid-input", native != NULL,
               "%s fast path answered a body json_loadb refuses (%s)", what, err.text);
    json_t *mine = json_loadb(out, n, 0, &err);
    FUZZ_CHECK("fast-valid-output", mine != NULL, "%s fast answer does not parse (%s): %.*s", what,
               err.text, (int)n, out);
    json_t *ref =
        chat ? openai_chat_response_new(native, id) : openai_completion_response_new(native, id);
    char *text = json_dumps(ref, JSON_COMPACT);
    FUZZ_CHECK("fast-equal", json_equal(mine, ref),
               "%s fast answer differs from the jansson path\n fast %.*s\n slow %s", what, (int)n,
               out, text ? text : "(null)");
    FUZZ_CHECK("fast-same-bytes", text && strlen(text) == n && !memcmp(text, out, n),
               "%s fast answer is not the jansson dump\n fast %.*s\n slow %s", what, (int)n, out,
               text ? text : "(null)");
    json_int_t p = 0, c = 0;
    if (json_is_true(json_object_get(native, "done"))) {
        p = json_integer_value(json_object_get(native, "prompt_eval_count"));
        c = json_integer_value(json_object_get(native, "eval_count"));
    }
    FUZZ_CHECK("fast-usage", u.prompt_tokens == p && u.completion_tokens == c,
               "%s fast usage %lld/%lld, note_tokens %lld/%lld", what, (long long)u.prompt_tokens,
               (long long)u.completion_tokens, (long long)p, (long long)c);
    struct openai_fast_usage t = {-1, -1};
    size_t short_n = chat ? openai_chat_response_fast(body, size, id, out, n - 1, &t)
                          : openai_completion_response_fast(body, size, id, out, n - 1, &t);
    FUZZ_CHECK("fast-short-buffer", short_n == 0 && t.prompt_tokens == -1,
               "%s fast path wrote %zu bytes into %zu", what, short_n, n - 1);
    free(text);
    json_decref(ref);
    json_decref(mine);
    json_decref(native);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* A copy of exactly size bytes, so ASan sees any read past the body. */
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    if (size)
        memcpy(body, data, size);
    check_kind(1, body, size);
    check_kind(0, body, size);
    free(body);
    return 0;
}
