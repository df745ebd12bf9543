/* One OpenAI request translation, fuzzed as the server runs it: the body parsed with
 * JSON_REJECT_DUPLICATES (server.c), translated, then rewritten by policy_apply under both
 * keep_alive policies. Included by fuzz_{chat,completion,embed}_request.c, which define
 * FUZZ_TRANSLATE and FUZZ_API. */
#ifndef KEEPWARM_FUZZ_REQUEST_H
#define KEEPWARM_FUZZ_REQUEST_H

#include "config_lines.h"
#include "openai.h"

enum { API_CHAT, API_COMPLETION, API_EMBED };

static struct config cfgs[2];

static void check_translation(const json_t *in, const json_t *out, const struct openai_meta *meta,
                              const struct openai_err *err) {
    if (!out) {
        /* Refused: a status the client can act on and a message it can read, as JSON. */
        FUZZ_CHECK("request-error",
                   (err->status == 400 || (err->status == 404 && FUZZ_API != API_CHAT)) &&
                       err->message[0] != '\0',
                   "refused with status %d message \"%s\"", err->status, err->message);
        json_t *envelope = openai_error_new(err->status, err->message, NULL);
        FUZZ_CHECK("request-error-envelope", envelope != NULL,
                   "openai_error_new cannot make an answer of \"%s\" (not UTF-8?)", err->message);
        json_decref(envelope);
        FUZZ_CHECK("request-meta-untouched",
                   meta->stream == -1 && meta->include_usage == -1 && meta->encoding_b64 == -1,
                   "meta written on failure");
        return;
    }
    FUZZ_CHECK("request-both", err->status == 0 && err->message[0] == '\0',
               "returned a value and an error (%d \"%s\")", err->status, err->message);
    FUZZ_CHECK("request-object", json_is_object(out), "the native body is not an object");
    FUZZ_CHECK("request-input-object", json_is_object(in), "accepted a non-object body");
    const json_t *model = json_object_get(out, "model");
    FUZZ_CHECK("request-model", json_is_string(model) && json_string_length(model) > 0,
               "native body without a model");
    FUZZ_CHECK("request-meta",
               (meta->stream == 0 || meta->stream == 1) &&
                   (meta->include_usage == 0 || meta->include_usage == 1) &&
                   (meta->encoding_b64 == 0 || meta->encoding_b64 == 1),
               "meta %d %d %d", meta->stream, meta->include_usage, meta->encoding_b64);
    if (FUZZ_API == API_EMBED)
        FUZZ_CHECK("request-meta-embed", meta->stream == 0 && !json_object_get(out, "stream"),
                   "embeddings do not stream");
    else
        FUZZ_CHECK("request-stream",
                   json_is_boolean(json_object_get(out, "stream")) &&
                       json_is_true(json_object_get(out, "stream")) == meta->stream,
                   "native stream flag and meta.stream disagree");
    const json_t *opts = json_object_get(out, "options");
    FUZZ_CHECK("request-options", !opts || json_is_object(opts), "options is not an object");
    FUZZ_CHECK("request-encodes", fuzz_encodes(out), "the native body does not encode");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!cfgs[0].upstream) {
        fuzz_fixed_config(&cfgs[0], KEEP_ALIVE_OVERRIDE);
        fuzz_fixed_config(&cfgs[1], KEEP_ALIVE_DEFAULT);
    }
    json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    json_t *copy = json_deep_copy(in);
    struct openai_meta meta = {-1, -1, -1};
    struct openai_err err = {0, ""};

    json_t *out = FUZZ_TRANSLATE(in, &meta, &err);
    check_translation(in, out, &meta, &err);

    /* Without meta and err the answer is the same. */
    json_t *out2 = FUZZ_TRANSLATE(in, NULL, NULL);
    FUZZ_CHECK("request-null-args", !out == !out2, "NULL meta/err changes the outcome");
    json_decref(out2);

    if (out) {
        json_t *body = json_deep_copy(out);
        fuzz_policy_check(&cfgs[0], body);
        json_decref(body);
        /* The second rewrite on the result itself: it shares subtrees with the input. */
        fuzz_policy_check(&cfgs[1], out);
    }
    FUZZ_CHECK("request-input-unchanged", json_equal(in, copy) || (!in && !copy),
               "the translation or policy_apply modified the client's body");
    json_decref(out);
    json_decref(copy);
    json_decref(in);
    return 0;
}

#endif
