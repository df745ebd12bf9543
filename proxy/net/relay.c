/* relay: one client request <-> one upstream transfer. Owns struct relay: a copy of the
 * upstream request (for a retry), the endpoint's stream state, the partial-line splitter, the
 * buffered answer (capped), the waiting timer, and the two-sided lifetime: the client side
 * (client_let_go) and the upstream side (upstream_let_go) each let go once, and the relay is
 * freed only by its reap event, which the second of them activates. Transport only: every byte of
 * an answer's shape comes from the request's endpoint hooks (endpoint.h). See docs/architecture.md
 * for the lifecycle. */
#include "relay.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/time.h>

#include "chunkw.h"
#include "evcompat.h"
#include "log.h"
#include "ndjson.h"

#define HIGH_WATER      (256 * 1024) /* client output queued before Ollama is paused */
#define MAX_FWD_HEADERS 64
#define PIPELINE_MAX    (64 * 1024) /* pipelined bytes buffered while a request is relayed */
#define PASS_WHOLE_MAX  (64 * 1024) /* native answers of known length up to this go out whole */

enum relay_mode {
    MODE_UNDECIDED = 0,
    MODE_PASS,   /* bytes as they come */
    MODE_STREAM, /* NDJSON lines -> the endpoint's stream */
    MODE_BUFFER, /* the whole answer, translated (or passed on) at the end */
};

struct relay {
    struct relay_env *env;
    struct evhttp_request *req;      /* NULL once the client side is finished */
    struct evhttp_connection *evcon; /* the client's connection, while it lives */
    struct upstream_xfer *xfer;      /* NULL once the upstream side is finished */
    const struct endpoint *ep;
    enum relay_mode mode;
    struct endpoint_meta meta;
    struct ndjson lines;
    struct evbuffer *answer;     /* MODE_BUFFER: the upstream answer, capped at max_line */
    struct evbuffer *out;        /* bytes for the client built during one upstream read */
    struct chunkw cw;            /* writes out to the client (straight to the socket when it can) */
    struct event *waiting;       /* the endpoint's wait_text while nothing came */
    struct event *reap;          /* frees the relay once both sides have let go */
    struct relay *next, **pprev; /* in env->live */
    /* the upstream request, kept for a retry */
    char *up_method, *up_path, *up_body;
    size_t up_body_len;
    char *headers[MAX_FWD_HEADERS + 2];
    int retries_left;
    int body_retried; /* the entry's retry_body_new gave a second body (once) */
    int replayable;   /* safe to send twice (relay_start says which): only these are retried */
    long *inflight;   /* the model's in-flight counter, or NULL */
    void (*on_upstream_ok)(void *ok_arg, const char *model); /* NULL once called */
    void *ok_arg;
    void (*on_upstream_error)(void *ok_arg, const char *model, int status, const char *text);
    char *model;
    char method[8];
    char path[256];
    int reply_started;
    int reply_ended;
    int client_done;   /* the client side has let go: req and evcon are NULL */
    int upstream_done; /* the upstream side has let go: xfer is NULL */
    int streaming;     /* counted in keepwarm_active_streams */
    int got_first_byte;
    int stream_over; /* the stream's end (terminator or error event) was written */
    int overflow;    /* the buffered answer hit its cap */
    int cancelled;   /* the client left before the answer was complete */
    int status;      /* what the client was answered */
    size_t bytes;    /* body bytes sent to the client */
    double ttft_ms;  /* time to Ollama's first 200 byte; 0 if none */
    char request_id[64];
    struct endpoint_usage usage;
    char tail[ENDPOINT_TAIL_MAX]; /* the last bytes of a passthrough answer (ep->pass_usage) */
    size_t tail_len;              /* bytes kept, up to ENDPOINT_TAIL_MAX */
    size_t tail_at;               /* the ring's next write offset (keep_tail) */
    struct timeval t0;
    max_align_t state[]; /* the endpoint's stream state, ep->stream_size bytes */
};

static const struct upstream_cbs relay_cbs;

static double since(const struct timeval *t0) {
    struct timeval now;
    gettimeofday(&now, NULL);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_usec - t0->tv_usec) / 1e6;
}

/* Sends value as the whole answer with status; *bytes (if given) gets the body size. */
static void send_json(struct evhttp_request *req, int status, const json_t *value, size_t *bytes) {
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    endpoint_add_json(b, value);
    if (bytes)
        *bytes += evbuffer_get_length(b);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    chunkw_reply(req, status, NULL, b);
    evbuffer_free(b);
}

void relay_reply_json(struct evhttp_request *req, int status, const json_t *value) {
    send_json(req, status, value, NULL);
}

void relay_reply_error(struct evhttp_request *req, const struct endpoint *ep, int status,
                       const char *message, const char *code) {
    json_t *e = ep->error_new(status, message, code);
    relay_reply_json(req, status, e);
    json_decref(e);
}

/* The relay's final JSON answer. */
static void reply_json_last(struct relay *r, int status, const json_t *value) {
    r->status = status;
    r->reply_ended = 1;
    send_json(r->req, status, value, &r->bytes);
}

static void reply_error_last(struct relay *r, int status, const char *message) {
    json_t *e = r->ep->error_new(status, message, NULL);
    reply_json_last(r, status, e);
    json_decref(e);
}

static int is_passthrough(const struct relay *r) {
    return (r->ep->flags & EP_PASSTHROUGH) != 0;
}

/* Whether a failure before any answer byte may send the request again (retries): only for a
 * request that is harmless to repeat, never for model management or an unknown POST. */
static int can_retry(const struct relay *r) {
    return r->replayable && r->retries_left > 0;
}

static void relay_free(struct relay *r) {
    *r->pprev = r->next;
    if (r->next)
        r->next->pprev = r->pprev;
    double secs = since(&r->t0);
    metrics_request_done(r->ep->route, r->status, secs);
    if (r->streaming)
        metrics_streams_add(-1);
    if (r->usage.prompt_tokens || r->usage.completion_tokens)
        metrics_tokens(r->model ? r->model : "", r->usage.prompt_tokens,
                       r->usage.completion_tokens);
    log_access("msg=\"request\" request_id=%s method=%s path=\"%s\" model=\"%s\" status=%d "
               "bytes=%zu ttft_ms=%.1f duration_ms=%.1f prompt_tokens=%lld completion_tokens=%lld "
               "cancelled=%d",
               r->request_id, r->method, r->path, r->model ? r->model : "", r->status, r->bytes,
               r->ttft_ms, secs * 1e3, r->usage.prompt_tokens, r->usage.completion_tokens,
               r->cancelled);
    if (r->inflight)
        (*r->inflight)--;
    ndjson_cleanup(&r->lines);
    if (r->answer)
        evbuffer_free(r->answer);
    if (r->out)
        evbuffer_free(r->out);
    if (r->waiting)
        event_free(r->waiting);
    if (r->reap)
        event_free(r->reap);
    for (size_t i = 0; i < MAX_FWD_HEADERS + 2; i++)
        free(r->headers[i]);
    free(r->up_method);
    free(r->up_path);
    free(r->up_body);
    if (r->ep->stream_close)
        r->ep->stream_close(r->state);
    json_decref(r->meta.echo);
    free(r->model);
    r->env->active--;
    free(r);
}

static void on_reap(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    relay_free(arg);
}

/* Both sides have let go: the relay is freed by its reap event, after the callback running
 * now (and whatever called into the relay from it) has returned. */
static void reap_if_done(struct relay *r) {
    if (r->client_done && r->upstream_done)
        event_active(r->reap, EV_TIMEOUT, 1);
}

/* The client side lets go (once): the reply is complete or its connection is gone. */
static void client_let_go(struct relay *r) {
    r->req = NULL;
    r->evcon = NULL;
    r->client_done = 1;
    reap_if_done(r);
}

/* The upstream side lets go (once): the transfer is over, with no retry started, or
 * cancelled. */
static void upstream_let_go(struct relay *r) {
    r->xfer = NULL;
    r->upstream_done = 1;
    reap_if_done(r);
}

void relay_env_close(struct relay_env *env) {
    while (env->live) {
        struct relay *r = env->live;
        if (r->xfer) {
            upstream_cancel(r->xfer);
            metrics_cancel();
            r->xfer = NULL;
        }
        if (!r->client_done)
            r->cancelled = 1;
        relay_free(r);
    }
}

/* The client side is finished: the reply went out in full. */
static void on_complete(struct evhttp_request *req, void *arg) {
    struct relay *r = arg;
    (void)req;
    if (r->evcon) {
        evhttp_connection_set_closecb(r->evcon, NULL, NULL);
        evcompat_reply_done(r->evcon, r->env->idle_timeout_s);
    }
    client_let_go(r);
}

/* The client's connection is going away (EOF, error, timeout, shutdown). */
static void on_client_close(struct evhttp_connection *evcon, void *arg) {
    struct relay *r = arg;
    (void)evcon;
    if (r->client_done)
        return;
    if (!r->reply_ended) {
        r->cancelled = 1;
        if (r->req)
            evcompat_request_free_orphan(r->req);
    }
    if (r->waiting)
        event_del(r->waiting);
    client_let_go(r);
    if (r->xfer) {
        log_debug("msg=\"client left, cancelling upstream\" path=\"%s\"", r->path);
        upstream_cancel(r->xfer);
        metrics_cancel();
        upstream_let_go(r);
    }
}

static void on_client_drained(struct evhttp_connection *evcon, void *arg) {
    struct relay *r = arg;
    (void)evcon;
    if (r->xfer && upstream_paused(r->xfer))
        upstream_resume(r->xfer);
}

/* stream: a translated stream, which proxies and gateways must not buffer. */
static void start_reply(struct relay *r, int status, const char *content_type, int stream) {
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
    if (content_type && *content_type)
        evhttp_add_header(h, "Content-Type", content_type);
    if (stream) {
        evhttp_add_header(h, "Cache-Control", "no-cache");
        evhttp_add_header(h, "X-Accel-Buffering", "no");
    }
    r->status = status;
    r->reply_started = 1;
    if (!r->streaming) {
        r->streaming = 1;
        metrics_streams_add(1);
    }
    evhttp_send_reply_start(r->req, status, NULL);
    chunkw_start(&r->cw, r->req);
    /* only a stalled writer times out now; on_complete restores the idle timeout */
    evcompat_stream_timeouts(r->evcon, r->env->idle_timeout_s);
}

/* Sends what the current read produced; pauses Ollama if the client is not keeping up. */
static void flush_out(struct relay *r) {
    if (!r->req || evbuffer_get_length(r->out) == 0)
        return;
    r->bytes += evbuffer_get_length(r->out);
    chunkw_send(&r->cw, r->req, r->out, on_client_drained, r);
    if (r->xfer && chunkw_queued(&r->cw) > HIGH_WATER && !upstream_paused(r->xfer)) {
        upstream_pause(r->xfer);
        metrics_pause();
    }
}

/* An error event in the endpoint's stream (the stream ends with it). */
static void add_error_event(struct relay *r, json_t *envelope) {
    r->ep->stream_event(r->state, r->out, envelope);
    r->stream_over = 1;
}

static void add_error_text(struct relay *r, const char *message) {
    json_t *e = r->ep->error_new(502, message, NULL);
    add_error_event(r, e);
    json_decref(e);
}

/* Tells the requester about an error answer from Ollama (text[0, len), cut at 1 KiB). */
static void tell_upstream_error(struct relay *r, int status, const char *text, size_t len) {
    char buf[1024];
    if (!r->on_upstream_error || !r->model)
        return;
    if (len > sizeof(buf) - 1)
        len = sizeof(buf) - 1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    r->on_upstream_error(r->ok_arg, r->model, status, buf);
}

/* One line of the stream, translated by the endpoint: the per-token path. */
static int on_line(void *arg, const char *line, size_t len) {
    struct relay *r = arg;
    if (r->stream_over)
        return 0;
    enum endpoint_stream_result rc = r->ep->stream_line(r->state, line, len, r->out, &r->usage);
    if (rc == EP_STREAM_MORE)
        return 0;
    r->stream_over = 1;
    if (rc == EP_STREAM_FAILED) {
        metrics_upstream_error(UPERR_BROKEN);
        tell_upstream_error(r, 200, line, len);
    }
    return rc == EP_STREAM_ABORT ? -1 : 0;
}

/* The stream's reply may have been started early by the waiting text. */
static void start_stream(struct relay *r) {
    if (!r->reply_started)
        start_reply(r, 200, r->ep->stream_type, 1);
}

/* Tells the requester, once, that Ollama took the request for r->model. */
static void tell_upstream_ok(struct relay *r, long status) {
    void (*cb)(void *, const char *) = r->on_upstream_ok;
    if (cb && r->model && status >= 200 && status < 300) {
        r->on_upstream_ok = NULL;
        cb(r->ok_arg, r->model);
    }
}

static void decide_mode(struct relay *r, struct upstream_xfer *x) {
    long status = upstream_status(x);
    tell_upstream_ok(r, status);
    int stream = r->meta.stream && r->ep->stream_type;
    if (status >= 500 && can_retry(r)) {
        r->mode = MODE_BUFFER; /* maybe a crashed runner: hold it back for a retry */
    } else if (is_passthrough(r) && upstream_content_length(x) >= 0 &&
               upstream_content_length(x) <= PASS_WHOLE_MAX &&
               (size_t)upstream_content_length(x) <= r->env->cfg->max_line) {
        /* A small answer of known length (non-stream native answers): sent whole, with its
         * Content-Length, when it is complete; a failure before then is still a clean 502. */
        r->mode = MODE_BUFFER;
    } else if (is_passthrough(r)) {
        r->mode = MODE_PASS;
        start_reply(r, (int)status, upstream_content_type(x), 0);
    } else if (stream && status == 200) {
        r->mode = MODE_STREAM;
        start_stream(r);
    } else {
        r->mode = MODE_BUFFER;
    }
    if (r->waiting)
        event_del(r->waiting);
    if (status == 200 && !r->got_first_byte) {
        r->got_first_byte = 1;
        r->ttft_ms = since(&r->t0) * 1e3;
        metrics_ttft(r->ttft_ms / 1e3);
    }
}

/* Keeps the last ENDPOINT_TAIL_MAX bytes of a passthrough answer, for an entry that reads its
 * token counts there: a ring written at tail_at, so a read (a token of a native stream) costs
 * one copy of its own bytes; put in order once, at the end (tail_linear). */
static void keep_tail(struct relay *r, const char *buf, size_t len) {
    const size_t cap = sizeof(r->tail);
    if (len >= cap) {
        memcpy(r->tail, buf + len - cap, cap);
        r->tail_at = 0;
        r->tail_len = cap;
        return;
    }
    size_t first = cap - r->tail_at < len ? cap - r->tail_at : len;
    memcpy(r->tail + r->tail_at, buf, first);
    memcpy(r->tail, buf + first, len - first);
    r->tail_at = (r->tail_at + len) % cap;
    r->tail_len = r->tail_len + len < cap ? r->tail_len + len : cap;
}

/* The kept tail in order, in out[ENDPOINT_TAIL_MAX]; returns its length. */
static size_t tail_linear(const struct relay *r, char *out) {
    /* the oldest bytes from tail_at on; none before the ring is full (tail_at == tail_len) */
    size_t old = r->tail_len - r->tail_at;
    memcpy(out, r->tail + r->tail_at, old);
    memcpy(out + old, r->tail, r->tail_len - old);
    return r->tail_len;
}

/* A passthrough answer is complete: the entry's token counts from its end (2xx only). */
static void pass_usage(struct relay *r, long status, const char *tail, size_t len) {
    if (r->ep->pass_usage && status >= 200 && status < 300)
        r->ep->pass_usage(tail, len, &r->usage);
}

static int on_data(void *ctx, struct upstream_xfer *x, const char *buf, size_t len) {
    struct relay *r = ctx;
    if (r->client_done)
        return -1;
    if (r->mode == MODE_UNDECIDED)
        decide_mode(r, x);
    switch (r->mode) {
        case MODE_PASS:
            /* Ollama writes and flushes each line of a native stream on its own, so an error
             * line that ends one starts a read: seen for the cost of one comparison per read. */
            if (len > 9 && memcmp(buf, "{\"error\":", 9) == 0)
                tell_upstream_error(r, (int)upstream_status(x), buf, len);
            evbuffer_add(r->out, buf, len);
            if (r->ep->pass_usage)
                keep_tail(r, buf, len);
            break;
        case MODE_STREAM: {
            int rc = ndjson_feed(&r->lines, buf, len, on_line, r);
            if (rc == -2)
                add_error_text(r, "a line from Ollama exceeds max_line_size");
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
    return 0; /* sent by on_read_end, or with the reply's end by on_done */
}

static void on_read_end(void *ctx, struct upstream_xfer *x) {
    (void)x;
    flush_out(ctx);
}

/* Ends the reply: what the last read produced goes out with the end, in one write. */
static void end_reply(struct relay *r) {
    r->reply_ended = 1;
    r->bytes += evbuffer_get_length(r->out);
    chunkw_end(&r->cw, r->req, r->out);
}

/* Texts Ollama uses when a runner died under a request (research notes §5). */
static int is_runner_crash(const char *text) {
    return strstr(text, "llama runner process has terminated") ||
           strstr(text, "llama runner process no longer running") ||
           strstr(text, "llama-server process has terminated") ||
           strstr(text, "model runner has unexpectedly stopped");
}

static int is_context_overflow(const char *text) {
    return strstr(text, "exceeds the context length") ||
           strstr(text, "longer than the context length") || strstr(text, "K-shift");
}

static int retry(struct relay *r, const char *why);

/* Replies with a finished error answer: in the stream if it was started early (waiting text),
 * else as the endpoint's JSON error. */
static void reply_error_json(struct relay *r, int status, json_t *envelope) {
    r->reply_ended = 1;
    if (r->reply_started) {
        add_error_event(r, envelope);
        end_reply(r);
        return;
    }
    r->status = status;
    reply_json_last(r, status, envelope);
}

static int start_upstream(struct relay *r, char *err, size_t errlen);

/* The entry's second body for a refusal (endpoint.h retry_body_new): sent once instead of
 * answering. 1 when the refusal is taken care of (sent again, or answered 502 when that
 * failed), 0 to answer it. */
static int retry_body(struct relay *r, long status, const char *answer, size_t n) {
    size_t len = 0;
    char *body = r->ep->retry_body_new((int)status, answer, n, r->up_body, r->up_body_len, &len);
    if (!body)
        return 0;
    char err[256];
    r->body_retried = 1;
    free(r->up_body);
    r->up_body = body;
    r->up_body_len = len;
    log_info("msg=\"sending again as the endpoint asks\" endpoint=%s model=\"%s\" status=%ld",
             r->ep->name, r->model ? r->model : "", status);
    if (start_upstream(r, err, sizeof(err)) < 0) { /* the refusal was for the other body */
        json_t *e = r->ep->error_new(502, err, NULL);
        reply_error_json(r, 502, e);
        json_decref(e);
    }
    return 1;
}

/* MODE_BUFFER at the end: translate (or pass on) Ollama's whole answer, or retry. */
static void finish_buffered(struct relay *r, struct upstream_xfer *x) {
    long status = upstream_status(x);
    size_t n = evbuffer_get_length(r->answer);
    const char *body = n ? (const char *)evbuffer_pullup(r->answer, -1) : "";
    /* The answer is not NUL-terminated: the text checks read a terminated prefix. */
    char text[1024];
    size_t tl = n < sizeof(text) - 1 ? n : sizeof(text) - 1;
    memcpy(text, body, tl);
    text[tl] = '\0';
    if (status >= 400)
        tell_upstream_error(r, (int)status, text, tl);
    if (status >= 500) {
        if (is_runner_crash(text)) {
            metrics_upstream_error(UPERR_RUNNER_CRASH);
            if (can_retry(r) && retry(r, text) == 0)
                return;
        } else {
            metrics_upstream_error(UPERR_STATUS_5XX);
        }
    }
    if (status >= 400 && is_context_overflow(text)) {
        const struct model_conf *mc = config_model(r->env->cfg, r->model);
        json_t *ctx = mc ? json_object_get(mc->options, "num_ctx") : NULL;
        metrics_upstream_error(UPERR_CONTEXT_OVERFLOW);
        log_warn("msg=\"context length exceeded\" model=\"%s\" pinned_num_ctx=%lld",
                 r->model ? r->model : "", ctx ? (long long)json_integer_value(ctx) : 0LL);
    }
    if (status >= 400 && r->ep->retry_body_new && !r->body_retried &&
        retry_body(r, status, body, n))
        return;
    if (is_passthrough(r)) {
        /* A held-back native error, or a small answer: pass it on as Ollama sent it. */
        size_t end = n < ENDPOINT_TAIL_MAX ? n : ENDPOINT_TAIL_MAX;
        pass_usage(r, status, body + n - end, end);
        r->reply_ended = 1;
        r->status = (int)status;
        struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
        const char *ct = upstream_content_type(x);
        evhttp_add_header(h, "Content-Type", *ct ? ct : "application/json");
        r->bytes += evbuffer_get_length(r->answer);
        chunkw_reply(r->req, (int)status, NULL, r->answer);
        return;
    }
    if (status >= 400 || status < 200) {
        int st = status >= 400 ? (int)status : 502;
        json_t *e = r->ep->native_error_new(st, body, n);
        reply_error_json(r, st, e);
        json_decref(e);
        return;
    }
    const char *why = NULL;
    if (r->ep->answer(&r->meta, r->model, body, n, r->reply_started, r->out, &r->usage, &why) < 0) {
        json_t *e = r->ep->error_new(502, why, NULL);
        reply_error_json(r, 502, e);
        json_decref(e);
        return;
    }
    if (r->reply_started) { /* a streaming request whose answer came as one object */
        r->stream_over = 1;
        end_reply(r);
        return;
    }
    r->status = 200;
    r->reply_ended = 1;
    r->bytes += evbuffer_get_length(r->out);
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Type",
                      "application/json");
    chunkw_reply(r->req, 200, NULL, r->out);
}

/* A native answer that broke off after its head went out: what came is sent, then the
 * client's connection is closed without the chunked body's last chunk, so the client sees a
 * transport error, never a short answer that looks whole (nginx does the same). An error line
 * added to an NDJSON stream would not do: the line it breaks off in is half a JSON value, and a
 * clean end tells any client the answer is complete. */
static void cut_reply(struct relay *r) {
    struct evhttp_connection *evcon = r->evcon;
    if (!evcon) { /* no connection to cut (evhttp gave none): end it as best we can */
        end_reply(r);
        return;
    }
    flush_out(r);
    r->reply_ended = 1;
    client_let_go(r); /* req goes with the connection */
    evcompat_conn_cut(evcon);
}

/* The transfer failed (no HTTP answer, or cut). answered: some answer bytes came. */
static void finish_failed(struct relay *r, enum upstream_result result, const char *detail,
                          int answered) {
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
    metrics_upstream_error(result == UPSTREAM_REFUSED   ? UPERR_REFUSED
                           : result == UPSTREAM_TIMEOUT ? UPERR_TIMEOUT
                                                        : UPERR_BROKEN);
    /* A connection reset before any answer byte: the runner may have crashed. Never after an
     * answer that came but did not parse (a 101, a garbage status line, bad chunks). */
    if (result == UPSTREAM_BROKEN && !answered && !r->reply_started && !r->overflow &&
        evbuffer_get_length(r->answer) == 0 && can_retry(r) && retry(r, detail) == 0)
        return;
    r->reply_ended = 1;
    if (!r->reply_started) {
        r->status = status;
        reply_error_last(r, status, msg);
        return;
    }
    /* Mid-answer. Ollama's own bytes (native): cut the client's connection. A translated
     * stream: say so in the endpoint's error event, then end it (its lines only ever carry
     * whole NDJSON lines, so nothing half is sent). */
    if (r->mode == MODE_PASS) {
        cut_reply(r);
        return;
    }
    if (!is_passthrough(r) && !r->stream_over)
        add_error_text(r, msg);
    end_reply(r);
}

/* The transfer is over and the client still waits: its answer, or a retry. */
static void finish(struct relay *r, struct upstream_xfer *x, enum upstream_result result,
                   const char *detail) {
    if (result != UPSTREAM_OK) {
        finish_failed(r, result, detail, upstream_answered(x));
        return;
    }
    if (r->mode == MODE_UNDECIDED) {
        /* No body at all (HEAD, 204, an empty answer). */
        tell_upstream_ok(r, upstream_status(x));
        if (is_passthrough(r) && !(upstream_status(x) >= 500 && can_retry(r))) {
            r->mode = MODE_PASS;
            if (evhttp_request_get_command(r->req) == EVHTTP_REQ_HEAD &&
                upstream_content_length(x) >= 0) {
                /* HEAD: Ollama's length of the body a GET would get (evhttp adds none). */
                char len[24];
                snprintf(len, sizeof(len), "%lld", upstream_content_length(x));
                evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Length", len);
            }
            start_reply(r, (int)upstream_status(x), upstream_content_type(x), 0);
        } else {
            r->mode = MODE_BUFFER;
        }
    }
    if (r->mode == MODE_BUFFER) {
        finish_buffered(r, x);
        return;
    }
    if (r->mode == MODE_STREAM) {
        ndjson_finish(&r->lines, on_line, r);
        if (!r->stream_over)
            r->ep->stream_end(r->state, r->out);
    }
    if (r->mode == MODE_PASS && r->ep->pass_usage) {
        char tail[ENDPOINT_TAIL_MAX];
        pass_usage(r, upstream_status(x), tail, tail_linear(r, tail));
    }
    end_reply(r);
}

/* upstream frees x after this returns; the upstream side lets go unless a retry started. */
static void on_done(void *ctx, struct upstream_xfer *x, enum upstream_result result,
                    const char *detail) {
    struct relay *r = ctx;
    r->xfer = NULL;
    if (r->waiting)
        event_del(r->waiting);
    if (!r->client_done)
        finish(r, x, result, detail);
    if (!r->xfer)
        upstream_let_go(r);
}

static const struct upstream_cbs relay_cbs = {on_data, on_done, on_read_end};

/* Sends r's request to Ollama. The previous answer (a retry's) is dropped only once the new
 * transfer has started: when it cannot start, the caller still reads that answer (the
 * finish_buffered that asked for the retry answers with it). */
static int start_upstream(struct relay *r, char *err, size_t errlen) {
    r->xfer = upstream_start(r->env->up, r->up_method, r->up_path, (const char *const *)r->headers,
                             r->up_body, r->up_body_len, &relay_cbs, r, err, errlen);
    if (!r->xfer)
        return -1;
    r->mode = MODE_UNDECIDED;
    r->overflow = 0;
    evbuffer_drain(r->answer, evbuffer_get_length(r->answer));
    upstream_set_replayable(r->xfer, r->replayable);
    return 0;
}

/* Sends the same request again (a crashed runner before any answer byte). */
static int retry(struct relay *r, const char *why) {
    char err[256];
    r->retries_left--;
    metrics_retry();
    log_warn("msg=\"retrying after a runner failure\" model=\"%s\" reason=\"%.200s\"",
             r->model ? r->model : "", why);
    return start_upstream(r, err, sizeof(err));
}

/* Stream clients get the endpoint's wait_text every wait_comment_interval while Ollama loads
 * or prefills, so idle timeouts in gateways do not cut them and a client that left is noticed
 * on write. */
static void on_waiting(evutil_socket_t fd, short what, void *arg) {
    struct relay *r = arg;
    (void)fd;
    (void)what;
    if (r->client_done || r->mode != MODE_UNDECIDED || !r->req)
        return;
    start_stream(r);
    evbuffer_add(r->out, r->ep->wait_text, strlen(r->ep->wait_text));
    flush_out(r);
    int64_t ns = r->env->cfg->wait_comment_interval;
    struct timeval tv = {(time_t)(ns / 1000000000), (suseconds_t)(ns % 1000000000 / 1000)};
    event_add(r->waiting, &tv);
}

/* Client headers that never go to Ollama: its own Host/Origin checks would 403 them, the key
 * is keepwarm's business, and hop-by-hop headers belong to the client's connection. */
static int header_dropped(const char *name) {
#define DROP(s)                                                                                    \
    { s, sizeof(s) - 1 }
    static const struct {
        const char *name;
        size_t len;
    } drop[] = {
        DROP("host"),
        DROP("origin"),
        DROP("authorization"),
        DROP("x-api-key"),
        DROP("connection"),
        DROP("keep-alive"),
        DROP("te"),
        DROP("trailer"),
        DROP("transfer-encoding"),
        DROP("upgrade"),
        DROP("content-length"),
        DROP("expect"),
        DROP("proxy-authorization"),
        DROP("proxy-connection"),
        DROP("cookie"),
        DROP("accept-encoding"),
        DROP("referer"),
        DROP("x-request-id"), /* goes first, once: copy_headers */
    };
#undef DROP
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
        if (drop[i].len == n && strcasecmp(name, drop[i].name) == 0)
            return 1;
    return 0;
}

/* "Name: value" in one allocation, without printf. */
static char *header_line_new(const char *key, const char *value) {
    size_t kl = strlen(key), vl = strlen(value);
    char *line = malloc(kl + vl + 3);
    if (line) {
        memcpy(line, key, kl);
        memcpy(line + kl, ": ", 2);
        memcpy(line + kl + 2, value, vl + 1);
    }
    return line;
}

/* The headers Ollama gets: the request id first (the one the client was answered with; first,
 * so that the cap never drops it), then the client's others up to MAX_FWD_HEADERS in all. */
static int copy_headers(struct relay *r, struct evhttp_request *req, int json_body,
                        const char *rid) {
    size_t nh = 0;
    struct evkeyval *kv;
    if (rid && !(r->headers[nh++] = header_line_new("X-Request-Id", rid)))
        return -1;
    TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next) {
        if (header_dropped(kv->key) || nh >= MAX_FWD_HEADERS)
            continue;
        /* a body keepwarm wrote: its type is JSON, its coding none (a zstd body was decoded) */
        if (json_body && (strcasecmp(kv->key, "content-type") == 0 ||
                          strcasecmp(kv->key, "content-encoding") == 0))
            continue;
        if (!(r->headers[nh] = header_line_new(kv->key, kv->value)))
            return -1;
        nh++;
    }
    if (json_body && !(r->headers[nh++] = strdup("Content-Type: application/json")))
        return -1;
    return 0;
}

/* Copies src into dst[len], truncated and terminated (snprintf "%s" without printf). */
static void copy_str(char *dst, size_t len, const char *src) {
    size_t n = strnlen(src, len - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void relay_start(struct relay_env *env, struct evhttp_request *req,
                 const struct relay_request *rr) {
    const struct endpoint *ep = rr->ep;
    struct relay *r = calloc(1, sizeof(*r) + ep->stream_size);
    char err[256];
    int status = 502;

    if (!r) {
        free(rr->body_owned);
        free(rr->model_owned);
        relay_reply_error(req, ep, 500, "out of memory", NULL);
        return;
    }
    env->active++;
    r->next = env->live;
    r->pprev = &env->live;
    if (r->next)
        r->next->pprev = &r->next;
    env->live = r;
    gettimeofday(&r->t0, NULL);
    r->env = env;
    r->req = req;
    r->evcon = evhttp_request_get_connection(req);
    r->ep = ep;
    r->meta = rr->meta;
    r->retries_left = (int)env->cfg->retries;
    /* Safe to send twice: reads, and inference (the endpoints that say so); not model
     * management, blobs or any other POST, PUT or DELETE. */
    r->replayable = (ep->flags & EP_REPLAYABLE) || strcmp(rr->method, "GET") == 0 ||
                    strcmp(rr->method, "HEAD") == 0 || strcmp(rr->method, "OPTIONS") == 0;
    r->inflight = rr->inflight;
    if (r->inflight)
        (*r->inflight)++;
    r->on_upstream_ok = rr->on_upstream_ok;
    r->on_upstream_error = rr->on_upstream_error;
    r->ok_arg = rr->ok_arg;
    copy_str(r->method, sizeof(r->method), rr->method);
    copy_str(r->path, sizeof(r->path), evhttp_request_get_uri(req));
    const char *rid = rr->request_id;
    copy_str(r->request_id, sizeof(r->request_id), rid ? rid : "-");
    r->model = rr->model_owned ? rr->model_owned : rr->model ? strdup(rr->model) : NULL;
    r->answer = evbuffer_new();
    r->out = evbuffer_new();
    r->reap = event_new(env->base, -1, 0, on_reap, r);
    r->up_method = strdup(rr->method);
    r->up_path = strdup(rr->path);
    r->up_body_len = rr->body_len;
    if (rr->body_owned)
        r->up_body = rr->body_owned; /* taken over: upstream sends it from here */
    else if (rr->body && (r->up_body = malloc(rr->body_len + 1)))
        memcpy(r->up_body, rr->body, rr->body_len);
    ndjson_init(&r->lines, env->cfg->max_line);
    if (ep->stream_open)
        ep->stream_open(r->state, &rr->meta, r->model);
    if (!r->answer || !r->out || !r->reap || !r->up_method || !r->up_path ||
        (rr->body && !r->up_body) || copy_headers(r, req, rr->json_body, rid) < 0) {
        snprintf(err, sizeof(err), "out of memory");
        goto fail;
    }
    if (start_upstream(r, err, sizeof(err)) < 0) {
        /* the client's own bytes cannot be sent on: its fault, not Ollama's */
        status = errno == EMSGSIZE ? 431 : errno == EINVAL ? 400 : 502;
        goto fail;
    }
    if (r->meta.stream && env->cfg->wait_comment_interval > 0 && r->evcon && ep->stream_type &&
        ep->wait_text) {
        r->waiting = evtimer_new(evhttp_connection_get_base(r->evcon), on_waiting, r);
        int64_t ns = env->cfg->wait_comment_interval;
        struct timeval tv = {(time_t)(ns / 1000000000), (suseconds_t)(ns % 1000000000 / 1000)};
        if (r->waiting)
            event_add(r->waiting, &tv);
    }
    evhttp_request_set_on_complete_cb(req, on_complete, r);
    if (r->evcon) {
        evhttp_connection_set_closecb(r->evcon, on_client_close, r);
        /* a client that hangs up while Ollama is silent is noticed (on_client_close) */
        evcompat_read_on(r->evcon, PIPELINE_MAX, r->env->idle_timeout_s);
    }
    return;

fail: /* neither side ever held r: nothing can reach it */
    r->status = status;
    relay_reply_error(req, ep, status, err, NULL);
    relay_free(r);
}
