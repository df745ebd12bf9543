/* libFuzzer target: the /v1/embeddings answer as ep_openai.c writes it, Ollama's numbers spliced
 * in byte for byte (embraw.h), against the jansson translation of the same body
 * (openai_embed_response_new): whenever the entry answers, its bytes parse and are json_equal to
 * the jansson answer (the same keys, order aside, and numbers of the same value), and it answers
 * exactly when the jansson path does. Input: an upstream /api/embed body. */
#include <event2/buffer.h>

#include "endpoint.h"
#include "fuzz.h"
#include "openai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *body = (const char *)data;
    struct endpoint_meta meta = {0};
    struct endpoint_usage usage = {0};
    const char *why = NULL;
    struct evbuffer *out = evbuffer_new();
    if (!out)
        return 0;
    int rc = endpoint_openai_embeddings.answer(&meta, "m", body, size, 0, out, &usage, &why);

    json_t *native = json_loadb(body, size, 0, NULL);
    json_t *want = native ? openai_embed_response_new(native, "m", 0) : NULL;
    FUZZ_CHECK("embed-answers", (rc == 0) == (want != NULL), "the entry %s, the jansson path %s",
               rc == 0 ? "answered" : "refused", want ? "answers" : "refuses");
    if (rc == 0 && want) {
        size_t n = evbuffer_get_length(out);
        const char *text = (const char *)evbuffer_pullup(out, -1);
        json_error_t jerr;
        json_t *got = json_loadb(text ? text : "", n, 0, &jerr);
        FUZZ_CHECK("embed-parses", got != NULL, "the answer does not parse: %s", jerr.text);
        FUZZ_CHECK("embed-equal", json_equal(got, want), "%.*s differs from the jansson answer",
                   (int)(n < 400 ? n : 400), text);
        json_decref(got);
    }
    json_decref(want);
    json_decref(native);
    evbuffer_free(out);
    return 0;
}
