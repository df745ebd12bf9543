/* ep_responses: the OpenAI Responses entry of the endpoint table (POST /v1/responses ->
 * POST /api/chat). Wraps responses.c's translators, framed as named SSE events (sse.h, as
 * Ollama's ResponsesWriter writes them); owns the response and message ids, the clock, and the
 * fast path for a stream's common token lines (responses_fast.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "endpoint.h"
#include "id.h"
#include "openai.h"
#include "responses.h"
#include "responses_fast.h"
#include "sse.h"

#define SSE_WAITING ": waiting for model\n\n"

/* resp_<n> and msg_<n>: one unique number each (id.h). */
static void new_ids(char *resp, char *msg) {
    char id[ID_MAX];
    id_unique(ID_RESPONSE, resp, ID_MAX);
    id_unique(ID_RESPONSE, id, sizeof(id));
    snprintf(msg, ID_MAX, "msg_%s", id + 5);
}

static json_t *request(const char *path, const json_t *in, struct endpoint_meta *meta,
                       struct api_err *err) {
    struct responses_err rerr = {0};
    int stream = 0;
    json_t *echo = NULL;
    (void)path;
    json_t *native = responses_request_new(in, &stream, &echo, &rerr);
    if (!native) {
        err->status = rerr.status ? rerr.status : 400;
        snprintf(err->message, sizeof(err->message), "%s", rerr.message);
        return NULL;
    }
    meta->stream = stream;
    meta->echo = echo;
    return native;
}

static int answer(const struct endpoint_meta *meta, const char *model, const char *body, size_t len,
                  int framed, struct evbuffer *out, struct endpoint_usage *usage,
                  const char **why) {
    char resp[ID_MAX], msg[ID_MAX];
    json_error_t jerr;
    (void)model;
    json_t *native = json_loadb(body, len, 0, &jerr);
    if (!json_is_object(native)) {
        json_decref(native);
        *why = "Ollama answered with invalid JSON";
        return -1;
    }
    endpoint_note_tokens(usage, native);
    new_ids(resp, msg);
    if (framed) { /* a stream whose answer came as one object: its events */
        struct responses_stream s;
        json_t *events = json_array();
        responses_stream_init(&s, meta->echo, resp, msg);
        responses_stream_feed(&s, native, (long long)time(NULL), events);
        responses_stream_eof(&s, events);
        sse_named_add_all(out, events);
        json_decref(events);
        responses_stream_free(&s);
        json_decref(native);
        return 0;
    }
    json_t *o = responses_response_new(native, meta->echo, resp, msg, (long long)time(NULL));
    json_decref(native);
    if (!o) {
        *why = "Ollama's answer could not be translated";
        return -1;
    }
    endpoint_add_json(out, o);
    json_decref(o);
    return 0;
}

static void stream_open(void *state, const struct endpoint_meta *meta, const char *model) {
    char resp[ID_MAX], msg[ID_MAX];
    (void)model;
    new_ids(resp, msg);
    responses_stream_init(state, meta->echo, resp, msg);
}

static enum endpoint_stream_result line_slow(struct responses_stream *s, const char *line,
                                             size_t len, struct evbuffer *out,
                                             struct endpoint_usage *usage) {
    json_error_t jerr;
    json_t *v = json_loadb(line, len, 0, &jerr);
    if (!json_is_object(v)) {
        json_decref(v);
        json_t *e = responses_error_event_new(s, "server_error", "invalid JSON line from Ollama");
        s->finished = 1;
        sse_named_add(out, e);
        json_decref(e);
        return EP_STREAM_ABORT;
    }
    endpoint_note_tokens(usage, v);
    json_t *events = json_array();
    int rc = responses_stream_feed(s, v, (long long)time(NULL), events);
    sse_named_add_all(out, events);
    json_decref(events);
    json_decref(v);
    if (rc == RESPONSES_STREAM_DONE)
        return EP_STREAM_OVER;
    return rc == RESPONSES_STREAM_ERROR ? EP_STREAM_FAILED : EP_STREAM_MORE;
}

/* Most lines are one text or thinking delta inside an open item: written from the bytes. */
static enum endpoint_stream_result stream_line(void *state, const char *line, size_t len,
                                               struct evbuffer *out, struct endpoint_usage *usage) {
    struct responses_stream *s = state;
    char fast[8192];
    size_t n = responses_stream_fast(s, line, len, fast, sizeof(fast));
    if (n) {
        metrics_fastpath_hit(FASTPATH_RESPONSES_TOKEN);
        evbuffer_add(out, fast, n);
        return EP_STREAM_MORE;
    }
    metrics_fastpath_decline(FASTPATH_RESPONSES_TOKEN);
    return line_slow(s, line, len, out, usage);
}

static void stream_end(void *state, struct evbuffer *out) {
    json_t *events = json_array();
    responses_stream_eof(state, events);
    sse_named_add_all(out, events);
    json_decref(events);
}

/* A keepwarm-made error after the stream started (an OpenAI envelope): an "error" event,
 * numbered by the stream (state), ending it. */
static void stream_event(void *state, struct evbuffer *out, const json_t *payload) {
    struct responses_stream *s = state;
    const json_t *e = json_object_get(payload, "error");
    const json_t *code = json_object_get(e, "code");
    json_t *ev = responses_error_event_new(s, json_is_string(code) ? json_string_value(code) : NULL,
                                           json_string_value(json_object_get(e, "message")));
    if (s)
        s->finished = 1;
    sse_named_add(out, ev);
    json_decref(ev);
}

static void stream_close(void *state) {
    responses_stream_free(state);
}

const struct endpoint endpoint_openai_responses = {
    .name = "openai.responses",
    .route = ROUTE_RESPONSES,
    .flags = EP_REPLAYABLE | EP_JSON_BODY | EP_POLICY | EP_ADMIT | EP_NOTE_MODEL,
    .native_method = "POST",
    .native_path = "/api/chat",
    .error_new = openai_error_new,
    .native_error_new = openai_error_from_native_new,
    .request_new = request,
    .answer = answer,
    .stream_type = "text/event-stream",
    .wait_text = SSE_WAITING,
    .stream_size = sizeof(struct responses_stream),
    .stream_open = stream_open,
    .stream_line = stream_line,
    .stream_end = stream_end,
    .stream_event = stream_event,
    .stream_close = stream_close,
};
