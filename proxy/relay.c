/* relay: one client request <-> one upstream transfer. Owns struct relay: the translation
 * state, the partial-line splitter, the buffered answer (capped), and the two-owner free
 * (upstream side and client side must both be finished). See docs/architecture.md. */
#include "relay.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/time.h>

#include "log.h"
#include "ndjson.h"

#define HIGH_WATER (256 * 1024) /* client output queued before Ollama is paused */

enum relay_mode {
    MODE_UNDECIDED = 0,
    MODE_PASS,   /* bytes as they come */
    MODE_SSE,    /* NDJSON lines -> SSE events */
    MODE_BUFFER, /* the whole answer, translated at the end */
};

struct relay {
    struct relay_env *env;
    struct evhttp_request *req;      /* NULL once the client side is finished */
    struct evhttp_connection *evcon; /* the client's connection, while it lives */
    struct upstream_xfer *xfer;      /* NULL once the upstream side is finished */
    enum relay_kind kind;
    enum relay_mode mode;
    struct openai_meta meta;
    struct openai_stream stream;
    struct ndjson lines;
    struct evbuffer *answer;         /* MODE_BUFFER: the upstream answer, capped at max_line */
    struct evbuffer *out;            /* frames built during one upstream read */
    char *model;
    char method[8];
    char path[256];
    int reply_started;
    int reply_ended;
    int client_done;
    int upstream_done;
    int stream_over;                 /* SSE: [DONE] or an error event was written */
    int overflow;                    /* the buffered answer hit its cap */
    int cancelled;                   /* the client left before the answer was complete */
    int status;                      /* what the client was answered */
    struct timeval t0;
};

static const char *error_type_json = "application/json";

void relay_reply_json(struct evhttp_request *req, int status, const json_t *value)
{
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    char *s = json_dumps(value, JSON_COMPACT);
    if (s) {
        evbuffer_add(b, s, strlen(s));
        free(s);
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", error_type_json);
    evhttp_send_reply(req, status, NULL, b);
    evbuffer_free(b);
}

void relay_reply_error(struct evhttp_request *req, int openai, int status, const char *message,
                       const char *code)
{
    json_t *e = openai ? openai_error_new(status, message, code)
                       : json_pack("{s:s}", "error", message);
    relay_reply_json(req, status, e);
    json_decref(e);
}

static int is_openai(const struct relay *r)
{
    return r->kind != RELAY_RAW;
}

static void relay_free(struct relay *r)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    double ms = (double)(now.tv_sec - r->t0.tv_sec) * 1e3 + (double)(now.tv_usec - r->t0.tv_usec) / 1e3;
    log_info("msg=\"request\" method=%s path=\"%s\" model=\"%s\" status=%d duration_ms=%.1f "
             "cancelled=%d",
             r->method, r->path, r->model ? r->model : "", r->status, ms, r->cancelled);
    ndjson_cleanup(&r->lines);
    if (r->answer)
        evbuffer_free(r->answer);
    if (r->out)
        evbuffer_free(r->out);
    free(r->model);
    r->env->active--;
    free(r);
}

/* The client side is finished: the reply went out in full. */
static void on_complete(struct evhttp_request *req, void *arg)
{
    struct relay *r = arg;
    (void)req;
    if (r->evcon) {
        evhttp_connection_set_closecb(r->evcon, NULL, NULL);
        struct bufferevent *bev = evhttp_connection_get_bufferevent(r->evcon);
        struct timeval t = {r->env->idle_timeout_s, 0};
        if (bev && r->reply_started)
            bufferevent_set_timeouts(bev, &t, &t);
    }
    r->req = NULL;
    r->evcon = NULL;
    r->client_done = 1;
    if (r->upstream_done)
        relay_free(r);
}

/* The client's connection is going away (EOF, error, timeout, shutdown). */
static void on_client_close(struct evhttp_connection *evcon, void *arg)
{
    struct relay *r = arg;
    (void)evcon;
    if (r->client_done)
        return;
    r->client_done = 1;
    if (!r->reply_ended) {
        r->cancelled = 1;
        if (r->req && evhttp_request_get_connection(r->req) == NULL)
            evhttp_request_free(r->req); /* orphaned by evhttp: ours to free */
    }
    r->req = NULL;
    r->evcon = NULL;
    if (r->xfer) {
        log_debug("msg=\"client left, cancelling upstream\" path=\"%s\"", r->path);
        upstream_cancel(r->xfer);
        r->xfer = NULL;
        r->upstream_done = 1;
    }
    if (r->upstream_done)
        relay_free(r);
}

static void on_client_drained(struct evhttp_connection *evcon, void *arg)
{
    struct relay *r = arg;
    (void)evcon;
    if (r->xfer && upstream_paused(r->xfer))
        upstream_resume(r->xfer);
}

static void start_reply(struct relay *r, int status, const char *content_type, int sse)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
    if (content_type && *content_type)
        evhttp_add_header(h, "Content-Type", content_type);
    if (sse) {
        evhttp_add_header(h, "Cache-Control", "no-cache");
        evhttp_add_header(h, "X-Accel-Buffering", "no");
    }
    r->status = status;
    r->reply_started = 1;
    evhttp_send_reply_start(r->req, status, NULL);
    /* evhttp keeps EV_READ on while a reply streams, so its idle read timeout would cut a long
     * healthy stream (libevent#715): only a stalled writer times out now; on_complete restores
     * the idle timeout for the next request on this connection. */
    struct bufferevent *bev = r->evcon ? evhttp_connection_get_bufferevent(r->evcon) : NULL;
    struct timeval wt = {r->env->idle_timeout_s, 0};
    if (bev)
        bufferevent_set_timeouts(bev, NULL, &wt);
}

/* Sends what the current read produced; pauses Ollama if the client is not keeping up. */
static void flush_out(struct relay *r)
{
    if (!r->req || evbuffer_get_length(r->out) == 0)
        return;
    evhttp_send_reply_chunk_with_cb(r->req, r->out, on_client_drained, r);
    struct bufferevent *bev = evhttp_connection_get_bufferevent(r->evcon);
    if (r->xfer && bev && evbuffer_get_length(bufferevent_get_output(bev)) > HIGH_WATER)
        upstream_pause(r->xfer);
}

static int dump_to_evbuffer(const char *buf, size_t size, void *data)
{
    return evbuffer_add(data, buf, size);
}

static void add_event(struct relay *r, const json_t *payload)
{
    evbuffer_add(r->out, "data: ", 6);
    json_dump_callback(payload, dump_to_evbuffer, r->out, JSON_COMPACT);
    evbuffer_add(r->out, "\n\n", 2);
}

static void add_frames(struct relay *r, json_t *frames, int result)
{
    size_t i;
    json_t *f;
    json_array_foreach(frames, i, f) add_event(r, f);
    if (result == OPENAI_STREAM_DONE) {
        evbuffer_add(r->out, "data: [DONE]\n\n", 14);
        r->stream_over = 1;
    } else if (result == OPENAI_STREAM_ERROR) {
        r->stream_over = 1;
    }
}

static void add_error_event(struct relay *r, const char *message)
{
    json_t *e = openai_error_new(502, message, NULL);
    add_event(r, e);
    json_decref(e);
    r->stream_over = 1;
}

static int on_line(void *arg, const char *line, size_t len)
{
    struct relay *r = arg;
    if (r->stream_over)
        return 0;
    json_error_t jerr;
    json_t *v = json_loadb(line, len, 0, &jerr);
    if (!v || !json_is_object(v)) {
        json_decref(v);
        add_error_event(r, "invalid JSON line from Ollama");
        return -1;
    }
    json_t *frames = json_array();
    int rc = r->kind == RELAY_CHAT ? openai_chat_stream_feed(&r->stream, v, frames)
                                   : openai_completion_stream_feed(&r->stream, v, frames);
    add_frames(r, frames, rc);
    json_decref(frames);
    json_decref(v);
    return 0;
}

static void decide_mode(struct relay *r, struct upstream_xfer *x)
{
    long status = upstream_status(x);
    if (r->kind == RELAY_RAW) {
        r->mode = MODE_PASS;
        start_reply(r, (int)status, upstream_content_type(x), 0);
    } else if (r->meta.stream && status == 200 &&
               (r->kind == RELAY_CHAT || r->kind == RELAY_COMPLETION)) {
        r->mode = MODE_SSE;
        start_reply(r, 200, "text/event-stream", 1);
    } else {
        r->mode = MODE_BUFFER;
    }
}

static int on_data(void *ctx, struct upstream_xfer *x, const char *buf, size_t len)
{
    struct relay *r = ctx;
    if (r->client_done)
        return -1;
    if (r->mode == MODE_UNDECIDED)
        decide_mode(r, x);
    switch (r->mode) {
        case MODE_PASS:
            evbuffer_add(r->out, buf, len);
            break;
        case MODE_SSE: {
            int rc = ndjson_feed(&r->lines, buf, len, on_line, r);
            if (rc == -2)
                add_error_event(r, "a line from Ollama exceeds max_line_size");
            if (rc < 0) {
                flush_out(r);
                return -1;
            }
            break;
        }
        case MODE_BUFFER:
            if (evbuffer_get_length(r->answer) + len > r->env->cfg->max_line) {
                r->overflow = 1;
                return -1;
            }
            evbuffer_add(r->answer, buf, len);
            return 0;
        default:
            break;
    }
    flush_out(r);
    return 0;
}

static void gen_id(char *buf, size_t len, const char *prefix)
{
    snprintf(buf, len, "%s%d", prefix, (int)(random() % 999));
}

/* MODE_BUFFER at the end: translate Ollama's whole answer. */
static void finish_buffered(struct relay *r, long status)
{
    size_t n = evbuffer_get_length(r->answer);
    const char *body = n ? (const char *)evbuffer_pullup(r->answer, -1) : "";
    if (status >= 400 || status < 200) {
        json_t *e = openai_error_from_native_new(status >= 400 ? (int)status : 502, body, n);
        r->status = status >= 400 ? (int)status : 502;
        relay_reply_json(r->req, r->status, e);
        json_decref(e);
        return;
    }
    json_error_t jerr;
    json_t *native = json_loadb(body, n, 0, &jerr);
    if (!native) {
        r->status = 502;
        relay_reply_error(r->req, 1, 502, "Ollama answered with invalid JSON", NULL);
        return;
    }
    char id[48];
    json_t *out = NULL;
    switch (r->kind) {
        case RELAY_CHAT:
            gen_id(id, sizeof(id), "chatcmpl-");
            out = openai_chat_response_new(native, id);
            break;
        case RELAY_COMPLETION:
            gen_id(id, sizeof(id), "cmpl-");
            out = openai_completion_response_new(native, id);
            break;
        case RELAY_EMBED:
            out = openai_embed_response_new(native, r->model ? r->model : "", r->meta.encoding_b64);
            break;
        case RELAY_MODELS:
            out = openai_models_list_new(native);
            break;
        case RELAY_MODEL:
            out = openai_model_new(r->model ? r->model : "", native);
            break;
        default:
            break;
    }
    json_decref(native);
    if (!out) {
        r->status = 502;
        relay_reply_error(r->req, 1, 502, "Ollama's answer could not be translated", NULL);
        return;
    }
    r->status = 200;
    relay_reply_json(r->req, 200, out);
    json_decref(out);
}

static void reply_failure(struct relay *r, enum upstream_result result, const char *detail)
{
    char msg[512];
    int status = result == UPSTREAM_TIMEOUT ? 504 : 502;
    if (r->overflow)
        snprintf(msg, sizeof(msg), "Ollama's answer exceeds max_line_size (%zu bytes)",
                 r->env->cfg->max_line);
    else if (result == UPSTREAM_REFUSED)
        snprintf(msg, sizeof(msg), "cannot reach Ollama at %s: %s", r->env->cfg->upstream, detail);
    else if (result == UPSTREAM_TIMEOUT)
        snprintf(msg, sizeof(msg), "Ollama at %s did not answer in time: %s", r->env->cfg->upstream,
                 detail);
    else
        snprintf(msg, sizeof(msg), "connection to Ollama failed: %s", detail);
    if (!r->reply_started) {
        r->status = status;
        r->reply_ended = 1;
        relay_reply_error(r->req, is_openai(r), status, msg, NULL); /* last use of r */
        return;
    }
    /* Mid-answer: say so in the stream's own framing, then end it. */
    if (r->mode == MODE_SSE && !r->stream_over)
        add_error_event(r, msg);
    flush_out(r);
}

static void on_done(void *ctx, struct upstream_xfer *x, enum upstream_result result,
                    const char *detail)
{
    struct relay *r = ctx;
    r->xfer = NULL;
    r->upstream_done = 1;
    if (r->client_done) {
        relay_free(r);
        return;
    }
    if (result == UPSTREAM_OK && r->mode == MODE_UNDECIDED) {
        /* No body at all (HEAD, 204, an empty answer). */
        if (r->kind == RELAY_RAW) {
            r->mode = MODE_PASS;
            start_reply(r, (int)upstream_status(x), upstream_content_type(x), 0);
        } else {
            r->mode = MODE_BUFFER;
        }
    }
    if (result != UPSTREAM_OK) {
        if (r->mode == MODE_PASS && r->reply_started &&
            strstr(upstream_content_type(x), "ndjson")) {
            char line[600];
            json_t *e = json_pack("{s:s+}", "error", "connection to Ollama failed: ", detail);
            char *s = json_dumps(e, JSON_COMPACT);
            snprintf(line, sizeof(line), "%s\n", s ? s : "{\"error\":\"upstream failed\"}");
            free(s);
            json_decref(e);
            evbuffer_add(r->out, line, strlen(line));
        }
        if (!r->reply_started) {
            reply_failure(r, result, detail); /* last use of r */
            return;
        }
        reply_failure(r, result, detail);
    } else if (r->mode == MODE_SSE) {
        ndjson_finish(&r->lines, on_line, r);
        if (!r->stream_over) {
            json_t *frames = json_array();
            int rc = r->kind == RELAY_CHAT ? openai_chat_stream_eof(&r->stream, frames)
                                           : openai_completion_stream_eof(&r->stream, frames);
            add_frames(r, frames, rc);
            json_decref(frames);
        }
        flush_out(r);
    } else if (r->mode == MODE_BUFFER) {
        r->reply_ended = 1;
        finish_buffered(r, upstream_status(x));
        return; /* last use of r: the reply may complete synchronously */
    }
    r->reply_ended = 1;
    evhttp_send_reply_end(r->req); /* last use of r */
}

static const struct upstream_cbs relay_cbs = {on_data, on_done};

/* Client headers that never go to Ollama: its own Host/Origin checks would 403 them, the key
 * is keepwarm's business, and hop-by-hop headers belong to the client's connection. */
static int header_dropped(const char *name)
{
    static const char *const drop[] = {
        "host",           "origin",  "authorization", "x-api-key",         "connection",
        "keep-alive",     "te",      "trailer",       "transfer-encoding", "upgrade",
        "content-length", "expect",  "proxy-authorization", "proxy-connection", "cookie",
        "accept-encoding", "referer",
    };
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
        if (strcasecmp(name, drop[i]) == 0)
            return 1;
    return 0;
}

#define MAX_FWD_HEADERS 64

void relay_start(struct relay_env *env, struct evhttp_request *req, const struct relay_request *rr)
{
    struct relay *r = calloc(1, sizeof(*r));
    char err[256];
    char *hdr_store[MAX_FWD_HEADERS + 2] = {0};
    const char *hdrs[MAX_FWD_HEADERS + 2] = {0};
    size_t nh = 0;

    if (!r) {
        relay_reply_error(req, rr->kind != RELAY_RAW, 500, "out of memory", NULL);
        return;
    }
    env->active++;
    gettimeofday(&r->t0, NULL);
    r->env = env;
    r->req = req;
    r->evcon = evhttp_request_get_connection(req);
    r->kind = rr->kind;
    r->meta = rr->meta;
    snprintf(r->method, sizeof(r->method), "%s", rr->method);
    snprintf(r->path, sizeof(r->path), "%s", evhttp_request_get_uri(req));
    r->model = rr->model ? strdup(rr->model) : NULL;
    r->answer = evbuffer_new();
    r->out = evbuffer_new();
    ndjson_init(&r->lines, env->cfg->max_line);
    char id[48];
    gen_id(id, sizeof(id), rr->kind == RELAY_COMPLETION ? "cmpl-" : "chatcmpl-");
    openai_stream_init(&r->stream, id, rr->meta.include_usage);
    if (!r->answer || !r->out)
        goto fail_oom;

    struct evkeyval *kv;
    TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next)
    {
        if (header_dropped(kv->key) || nh >= MAX_FWD_HEADERS)
            continue;
        if (rr->json_body && strcasecmp(kv->key, "content-type") == 0)
            continue;
        if (asprintf(&hdr_store[nh], "%s: %s", kv->key, kv->value) < 0) {
            hdr_store[nh] = NULL;
            goto fail_oom;
        }
        hdrs[nh] = hdr_store[nh];
        nh++;
    }
    if (rr->json_body)
        hdrs[nh++] = "Content-Type: application/json";
    hdrs[nh] = NULL;

    r->xfer = upstream_start(env->up, rr->method, rr->path, hdrs, rr->body, rr->body_len,
                             &relay_cbs, r, err, sizeof(err));
    for (size_t i = 0; i < MAX_FWD_HEADERS + 2; i++)
        free(hdr_store[i]);
    if (!r->xfer) {
        relay_reply_error(req, rr->kind != RELAY_RAW, 502, err, NULL);
        r->status = 502;
        r->req = NULL;
        r->upstream_done = r->client_done = 1;
        relay_free(r);
        return;
    }
    evhttp_request_set_on_complete_cb(req, on_complete, r);
    if (r->evcon)
        evhttp_connection_set_closecb(r->evcon, on_client_close, r);
    return;

fail_oom:
    for (size_t i = 0; i < MAX_FWD_HEADERS + 2; i++)
        free(hdr_store[i]);
    relay_reply_error(req, rr->kind != RELAY_RAW, 500, "out of memory", NULL);
    r->upstream_done = r->client_done = 1;
    relay_free(r);
}
