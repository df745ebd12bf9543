/* Instructions per relayed token line, through an endpoint's stream hook as relay.c calls it
 * (stream_line into an evbuffer, drained as a write would): /v1/chat/completions against
 * /v1/responses (its fast path, and its jansson path alone for scale). Run by
 * tests/bench/stream_insns.sh, which builds this against build/proxy's objects and counts with
 * callgrind: (Collected(mode) - Collected(none)) / N is one token line.
 *
 *   build/stream_insns MODE N     MODE: none | chat | responses | responses-jansson */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "responses.h"

/* A token line as Ollama writes it (a word and its space). */
static const char line[] = "{\"model\":\"llama3.2:3b\",\"created_at\":\"2024-07-01T12:00:00."
                           "123456789Z\",\"message\":{\"role\":\"assistant\",\"content\":\" "
                           "fox\"},\"done\":false}";

static void frame(struct evbuffer *out, const json_t *events) {
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e) {
        evbuffer_add_printf(out,
                            "event: %s\ndata: ", json_string_value(json_object_get(e, "type")));
        endpoint_add_json(out, e);
        evbuffer_add(out, "\n\n", 2);
    }
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "none";
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    const struct endpoint *ep =
        !strcmp(mode, "chat") ? &endpoint_openai_chat : &endpoint_openai_responses;
    struct endpoint_meta meta = {.stream = 1};
    struct endpoint_usage usage = {0};
    struct evbuffer *out = evbuffer_new();
    json_t *in = json_pack("{s:s,s:s,s:b}", "model", "llama3.2:3b", "input", "hi", "stream", 1);
    struct responses_err err;
    int stream;
    json_t *native = responses_request_new(in, &stream, &meta.echo, &err);
    void *state = calloc(1, ep->stream_size);
    size_t len = sizeof(line) - 1;

    ep->stream_open(state, &meta, "llama3.2:3b");
    ep->stream_line(state, line, len, out, &usage); /* the first line opens the item */
    evbuffer_drain(out, evbuffer_get_length(out));
    for (int i = 0; i < n && strcmp(mode, "none"); i++) {
        if (!strcmp(mode, "responses-jansson")) {
            json_t *v = json_loadb(line, len, 0, NULL), *events = json_array();
            responses_stream_feed(state, v, 1700000000, events);
            frame(out, events);
            json_decref(events);
            json_decref(v);
        } else {
            ep->stream_line(state, line, len, out, &usage);
        }
        evbuffer_drain(out, evbuffer_get_length(out));
    }
    if (ep->stream_close)
        ep->stream_close(state);
    free(state);
    json_decref(meta.echo);
    json_decref(native);
    json_decref(in);
    evbuffer_free(out);
    return 0;
}
