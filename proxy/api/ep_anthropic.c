/* ep_anthropic: the Anthropic Messages entries of the endpoint table: POST /v1/messages (to
 * /api/chat, translated by anthropic.c, the stream's token lines by anthropic_fast.c) and POST
 * /v1/messages/count_tokens (answered by keepwarm itself: EP_LOCAL). Owns the SSE framing of
 * named events ("event: <type>\ndata: {json}\n\n", as Ollama's AnthropicWriter writes them),
 * the message ids, and what a stream needs from the request (meta.echo: the input_tokens
 * estimate for message_start; the model is the relay's, the request's own spelling). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anthropic.h"
#include "anthropic_fast.h"
#include "endpoint.h"
#include "id.h"
#include "sse.h"

#define SSE_WAITING ": waiting for model\n\n"

/* ---- SSE framing -------------------------------------------------------------------------- */

static enum endpoint_stream_result sse_frames(struct evbuffer *out, json_t *frames, int result) {
    sse_named_add_all(out, frames);
    if (result == ANTHROPIC_STREAM_DONE)
        return EP_STREAM_OVER;
    return result == ANTHROPIC_STREAM_ERROR ? EP_STREAM_FAILED : EP_STREAM_MORE;
}

/* An error event (a relay failure mid-stream): Anthropic's stream error has no request_id. */
static void stream_event(void *state, struct evbuffer *out, const json_t *payload) {
    (void)state;
    json_t *e = json_copy((json_t *)payload);
    json_object_del(e, "request_id");
    sse_named_add(out, e ? e : payload);
    json_decref(e);
}

/* ---- /v1/messages ------------------------------------------------------------------------- */

/* message_start's input_tokens (a stream's only: the message object has Ollama's count). */
static long long echo_estimate(const struct endpoint_meta *meta) {
    return (long long)json_integer_value(json_object_get(meta->echo, "input_tokens"));
}

static json_t *messages_request(const char *path, const json_t *in, struct endpoint_meta *meta,
                                struct api_err *err) {
    struct anthropic_meta m = {0};
    (void)path;
    json_t *native = anthropic_request_new(in, &m, err);
    if (!native)
        return NULL;
    meta->stream = m.stream;
    if (m.stream)
        meta->echo = json_pack("{s:I}", "input_tokens", (json_int_t)m.estimate);
    return native;
}

static int messages_answer(const struct endpoint_meta *meta, const char *model, const char *body,
                           size_t len, int framed, struct evbuffer *out,
                           struct endpoint_usage *usage, const char **why) {
    char id[ID_MAX];
    json_error_t jerr;
    json_t *native = json_loadb(body, len, 0, &jerr);
    if (!json_is_object(native)) {
        json_decref(native);
        *why = "Ollama answered with invalid JSON";
        return -1;
    }
    endpoint_note_tokens(usage, native);
    id_unique(ID_MESSAGE, id, sizeof(id));
    if (framed) { /* a streaming request whose answer came as one object: its events */
        struct anthropic_stream s;
        json_t *frames = json_array();
        anthropic_stream_init(&s, id, model, echo_estimate(meta));
        int rc = anthropic_stream_feed(&s, native, frames);
        if (rc == ANTHROPIC_STREAM_MORE)
            anthropic_stream_eof(&s, frames);
        sse_frames(out, frames, rc);
        json_decref(frames);
        anthropic_stream_close(&s);
    } else {
        json_t *o = anthropic_response_new(native, id);
        endpoint_add_json(out, o);
        json_decref(o);
    }
    json_decref(native);
    return 0;
}

static void messages_open(void *state, const struct endpoint_meta *meta, const char *model) {
    char id[ID_MAX];
    id_unique(ID_MESSAGE, id, sizeof(id));
    anthropic_stream_init(state, id, model, echo_estimate(meta));
}

/* The common token line (one delta in the open block) from its bytes; the rest through
 * jansson. */
static enum endpoint_stream_result messages_line(void *state, const char *line, size_t len,
                                                 struct evbuffer *out,
                                                 struct endpoint_usage *usage) {
    char fast[8192];
    size_t n = anthropic_stream_fast(state, line, len, fast, sizeof(fast));
    if (n) {
        metrics_fastpath_hit(FASTPATH_MESSAGES_TOKEN);
        evbuffer_add(out, fast, n);
        return EP_STREAM_MORE;
    }
    json_error_t jerr;
    json_t *v = json_loadb(line, len, 0, &jerr);
    if (!json_is_true(json_object_get(v, "done")))
        metrics_fastpath_decline(FASTPATH_MESSAGES_TOKEN);
    if (!json_is_object(v)) {
        json_decref(v);
        json_t *e = anthropic_error_new(502, "invalid JSON line from Ollama", NULL);
        stream_event(NULL, out, e);
        json_decref(e);
        return EP_STREAM_ABORT;
    }
    endpoint_note_tokens(usage, v);
    json_t *frames = json_array();
    enum endpoint_stream_result rc =
        sse_frames(out, frames, anthropic_stream_feed(state, v, frames));
    json_decref(frames);
    json_decref(v);
    return rc;
}

static void messages_end(void *state, struct evbuffer *out) {
    json_t *frames = json_array();
    sse_frames(out, frames, anthropic_stream_eof(state, frames));
    json_decref(frames);
}

static void messages_close(void *state) {
    anthropic_stream_close(state);
}

const struct endpoint endpoint_anthropic_messages = {
    .name = "anthropic.messages",
    .route = ROUTE_MESSAGES,
    .flags = EP_REPLAYABLE | EP_JSON_BODY | EP_POLICY | EP_ADMIT | EP_NOTE_MODEL,
    .native_method = "POST",
    .native_path = "/api/chat",
    .error_new = anthropic_error_new,
    .native_error_new = anthropic_error_from_native_new,
    .request_new = messages_request,
    .answer = messages_answer,
    .stream_type = "text/event-stream",
    .wait_text = SSE_WAITING,
    .stream_size = sizeof(struct anthropic_stream),
    .stream_open = messages_open,
    .stream_line = messages_line,
    .stream_end = messages_end,
    .stream_event = stream_event,
    .retry_body_new = anthropic_relax_thinking_new,
    .stream_close = messages_close,
};

/* ---- /v1/messages/count_tokens: answered here (stock Ollama has no such route) ------------- */

static json_t *count_request(const char *path, const json_t *in, struct endpoint_meta *meta,
                             struct api_err *err) {
    (void)path;
    (void)meta;
    return anthropic_count_tokens_new(in, err);
}

const struct endpoint endpoint_anthropic_count_tokens = {
    .name = "anthropic.count_tokens",
    .route = ROUTE_MESSAGES,
    .flags = EP_JSON_BODY | EP_LOCAL,
    .native_method = "POST", /* never sent: EP_LOCAL */
    .error_new = anthropic_error_new,
    .native_error_new = anthropic_error_from_native_new,
    .request_new = count_request,
    .stream_event = stream_event,
};
