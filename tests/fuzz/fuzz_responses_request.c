/* libFuzzer target: responses_request_new on a client body (parsed as server.c does), then
 * policy_apply under both keep_alive policies; and the answer and stream converter on the echo
 * it made, with a fixed native answer. Checks: a refusal is a 400 with a readable message and
 * no echo; an accepted body gives an object with a string model, messages, the stream flag
 * meta reports, options an object, no keep_alive before policy (a client's is dropped) and no
 * key besides the ones Ollama's layer writes; the input is never modified. */
#include "config_lines.h"
#include "openai.h"
#include "responses.h"

static struct config cfgs[2];

static const char *const native_keys[] = {"model", "messages", "stream", "format",
                                          "tools", "options",  "think",  NULL};

static int known_key(const char *k) {
    for (size_t i = 0; native_keys[i]; i++)
        if (!strcmp(k, native_keys[i]))
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!cfgs[0].upstream) {
        fuzz_fixed_config(&cfgs[0], KEEP_ALIVE_OVERRIDE);
        fuzz_fixed_config(&cfgs[1], KEEP_ALIVE_DEFAULT);
    }
    json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    json_t *copy = json_deep_copy(in), *echo = NULL;
    struct responses_err err = {0, ""};
    int stream = -1;
    json_t *out = responses_request_new(in, &stream, &echo, &err);
    if (!out) {
        FUZZ_CHECK("responses-error", (err.status == 400 || err.status == 500) && err.message[0],
                   "refused with %d \"%s\"", err.status, err.message);
        FUZZ_CHECK("responses-error-echo", echo == NULL, "an echo on failure");
        json_t *envelope = openai_error_new(err.status, err.message, NULL);
        FUZZ_CHECK("responses-error-envelope", envelope != NULL, "no envelope for \"%s\"",
                   err.message);
        json_decref(envelope);
    } else {
        const char *k;
        json_t *v;
        FUZZ_CHECK("responses-object", json_is_object(out) && json_is_object(echo),
                   "native body or echo not an object");
        FUZZ_CHECK("responses-model", json_is_string(json_object_get(out, "model")), "no model");
        FUZZ_CHECK("responses-stream",
                   json_is_boolean(json_object_get(out, "stream")) &&
                       json_is_true(json_object_get(out, "stream")) == stream,
                   "stream flag and meta disagree");
        FUZZ_CHECK("responses-options", json_is_object(json_object_get(out, "options")),
                   "options is not an object");
        json_object_foreach(out, k, v)
            FUZZ_CHECK("responses-keys", known_key(k), "native key \"%s\"", k);
        FUZZ_CHECK("responses-encodes", fuzz_encodes(out), "the native body does not encode");
        json_t *body = json_deep_copy(out);
        fuzz_policy_check(&cfgs[0], body);
        json_decref(body);
        fuzz_policy_check(&cfgs[1], out);

        /* the echo drives the answer and the stream */
        json_t *answer =
            json_pack("{s:s,s:s,s:{s:s,s:s,s:s},s:b,s:i,s:i}", "model", "m", "created_at",
                      "2024-01-01T00:00:00Z", "message", "role", "assistant", "content", "hi",
                      "thinking", "t", "done", 1, "prompt_eval_count", 1, "eval_count", 2);
        json_t *r = responses_response_new(answer, echo, "resp_1", "msg_1", 1);
        FUZZ_CHECK("responses-answer", json_is_object(r) && fuzz_encodes(r),
                   "no answer object for an accepted request");
        json_decref(r);
        struct responses_stream s;
        json_t *events = json_array();
        responses_stream_init(&s, echo, "resp_1", "msg_1");
        FUZZ_CHECK("responses-stream-done",
                   responses_stream_feed(&s, answer, 1, events) == RESPONSES_STREAM_DONE,
                   "a done line does not end the stream");
        FUZZ_CHECK("responses-stream-encodes", fuzz_encodes(events), "events do not encode");
        responses_stream_free(&s);
        json_decref(events);
        json_decref(answer);
    }
    FUZZ_CHECK("responses-input-unchanged", json_equal(in, copy) || (!in && !copy),
               "the translation modified the client's body");
    json_decref(out);
    json_decref(echo);
    json_decref(copy);
    json_decref(in);
    return 0;
}
