/* libFuzzer target: a /v1/messages (or count_tokens) client body -> anthropic_request_new,
 * anthropic_estimate, anthropic_count_tokens_new (proxy/api/anthropic.h). The body is parsed
 * as server.c parses it (JSON_REJECT_DUPLICATES). Checks: the input is never changed; a refusal
 * is a 400 with a message; an accepted request is an object that encodes, with the model, the
 * messages, "stream" (bool) and options.num_predict (> 0), and never a keep_alive (the
 * client's is dropped, as Ollama drops it); the estimate is never negative and is what
 * count_tokens reports. */
#include <jansson.h>

#include "anthropic.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_error_t e;
    json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(in)) {
        json_decref(in);
        return 0;
    }
    json_t *copy = json_deep_copy(in);
    struct anthropic_meta meta = {0};
    struct api_err err = {0, ""};
    json_t *out = anthropic_request_new(in, &meta, &err);
    if (!out) {
        FUZZ_CHECK("refusal", err.status == 400 && err.message[0], "refused with %d \"%s\"",
                   err.status, err.message);
    } else {
        FUZZ_CHECK("encodes", fuzz_encodes(out), "the native body does not encode");
        FUZZ_CHECK("model", json_string_length(json_object_get(out, "model")) > 0, "no model");
        FUZZ_CHECK("messages", json_is_array(json_object_get(out, "messages")), "no messages");
        FUZZ_CHECK("stream",
                   json_is_boolean(json_object_get(out, "stream")) &&
                       json_is_true(json_object_get(out, "stream")) == meta.stream,
                   "stream missing or not the meta's");
        json_t *np = json_object_get(json_object_get(out, "options"), "num_predict");
        FUZZ_CHECK("num_predict", json_is_integer(np) && json_integer_value(np) > 0,
                   "options.num_predict missing");
        FUZZ_CHECK("no-keep-alive", !json_object_get(out, "keep_alive"),
                   "the client's keep_alive reached the native body");
        FUZZ_CHECK("estimate", meta.estimate == anthropic_estimate(in), "estimate differs");
    }
    long long est = anthropic_estimate(in);
    FUZZ_CHECK("estimate-sign", est >= 0, "negative estimate %lld", est);
    json_t *count = anthropic_count_tokens_new(in, &err);
    if (count)
        FUZZ_CHECK("count", json_integer_value(json_object_get(count, "input_tokens")) == est,
                   "count_tokens differs from the estimate");
    FUZZ_CHECK("input-unchanged", json_equal(in, copy), "the input was changed");
    json_decref(count);
    json_decref(out);
    json_decref(copy);
    json_decref(in);
    return 0;
}
