/* server: evhttp listener, request limits, routing by the endpoint table (endpoint.h) and
 * keepwarm's own endpoints. A request's body becomes the native request in request_build
 * (request.h), then relay answers from then on. */
#include "server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "chunkw.h"
#include "evcompat.h"
#include "frontdoor.h"
#include "log.h"
#include "metrics.h"
#include "relay.h"
#include "request.h"
#include "warm.h"

#define MAX_HEADERS_SIZE (64 * 1024)
#define LISTEN_BACKLOG   4096 /* Linux's default somaxconn since 5.4; the kernel caps it */

#ifdef KEEPWARM_VERSION
#define KEEPWARM_VERSION_STRING KEEPWARM_VERSION
#else
#define KEEPWARM_VERSION_STRING "0.0.0"
#endif

struct server {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    const struct config *cfg;
    struct relay_env env;
    struct warm *warm;
    int port;
    /* Per-model requests in flight, for max_concurrent: one entry per model that has some (a
     * relay holds &n while it lives; entries back at 0 are freed by the next lookup). */
    struct inflight {
        long n;
        char name[]; /* as the client wrote it; matched with config_names_match */
    } * *inflight;
    size_t ninflight, inflight_cap;
    unsigned long long next_id;
    /* max_connections: the client bufferevents we handed evhttp, each with a reference of ours
     * (evhttp 2.1.12 has no connection-closed hook, so a swept bufferevent whose callbacks
     * evhttp cleared when freeing it is one connection fewer). */
    struct conn **conns;
    size_t nconns, conns_cap;
    struct lingering *lingering; /* refused sockets closing (the front door) */
    struct event *sweep;
    int accepting_paused;
    struct event *accept_retry; /* after EMFILE: accepting again in 100 ms */
    int accept_backoff;
    char date[40]; /* the Date header for replies in second date_at */
    time_t date_at;
    int listen_loopback; /* listening on a loopback address: Host is checked (DNS rebinding) */
    char hostname[256];  /* this machine's name, an allowed Host */
};

/* A client connection as the front door sees it: the request evhttp reads on it, which part
 * of it (head, body), the raw head scanned so far, and the deadline timer. */
enum conn_phase { PHASE_IDLE = 0, PHASE_HEAD, PHASE_BODY };
struct conn {
    struct server *s;
    struct bufferevent *bev; /* one reference ours, dropped by on_sweep */
    struct event *deadline;
    struct evhttp_request *req; /* the request whose header callback we set, not owned */
    enum conn_phase phase;
    int refused; /* the front door answered: the socket lingers before it closes */
    struct frontdoor_head head;
};

/* A socket the front door refused, closing: what the client still sends is read and dropped
 * for up to LINGER_MS (or until it closes), so that closing with unread bytes does not reset
 * the connection before the client has read the answer (nginx's lingering_close). */
#define LINGER_MS 2000
struct lingering {
    evutil_socket_t fd;
    struct event *ev;
    struct lingering *next, **pprev; /* in the server's list, closed by server_free */
};

static int path_is(const char *path, const char *want) {
    return strcmp(path, want) == 0;
}

static const char *method_name(enum evhttp_cmd_type cmd) {
    switch (cmd) {
        case EVHTTP_REQ_GET:
            return "GET";
        case EVHTTP_REQ_POST:
            return "POST";
        case EVHTTP_REQ_HEAD:
            return "HEAD";
        case EVHTTP_REQ_PUT:
            return "PUT";
        case EVHTTP_REQ_DELETE:
            return "DELETE";
        case EVHTTP_REQ_OPTIONS:
            return "OPTIONS";
        case EVHTTP_REQ_PATCH:
            return "PATCH";
        default:
            return "GET";
    }
}

/* Set when a request's body was large or its tree costly (request_out.costly): the heap is
 * handed back to the system by the next sweep (glibc keeps freed small blocks otherwise). */
static int trim_pending;

/* The in-flight counter for model, new at 0 if it has none; NULL only when out of memory.
 * The table holds only models with requests in flight (and the entry returned): the others,
 * left at 0 when their last relay ended, are freed on the way, so no number of names a
 * client makes up fills it, and a name of any length is counted. */
static long *inflight_slot(struct server *s, const char *model) {
    struct inflight *hit = NULL;
    size_t kept = 0;
    for (size_t i = 0; i < s->ninflight; i++) {
        struct inflight *f = s->inflight[i];
        if (!hit && config_names_match(f->name, model))
            hit = f;
        else if (f->n == 0) {
            free(f);
            continue;
        }
        s->inflight[kept++] = f;
    }
    s->ninflight = kept;
    if (hit)
        return &hit->n;
    if (s->ninflight == s->inflight_cap) {
        size_t cap = s->inflight_cap ? s->inflight_cap * 2 : 16;
        struct inflight **nt = realloc(s->inflight, cap * sizeof(*nt));
        if (!nt)
            return NULL;
        s->inflight = nt;
        s->inflight_cap = cap;
    }
    size_t len = strlen(model);
    struct inflight *f = malloc(sizeof(*f) + len + 1);
    if (!f)
        return NULL;
    f->n = 0;
    memcpy(f->name, model, len + 1);
    s->inflight[s->ninflight++] = f;
    return &f->n;
}

/* max_concurrent: 429 with Retry-After when the model has its share in flight already.
 * Returns 0 and the counter the relay holds, or -1 after answering. */
static int admit(struct server *s, struct evhttp_request *req, const struct endpoint *ep,
                 const char *model, long **inflight) {
    *inflight = NULL;
    if (!model)
        return 0;
    const struct model_conf *mc = config_model(s->cfg, model);
    long long limit = mc && mc->max_concurrent ? mc->max_concurrent : s->cfg->max_concurrent;
    long *slot = inflight_slot(s, model);
    if (!slot) {
        relay_reply_error(req, ep, 503, "out of memory", NULL);
        metrics_request_done(ep->route, 503, 0);
        return -1;
    }
    if (limit > 0 && *slot >= limit) {
        char msg[256];
        snprintf(msg, sizeof(msg), "too many concurrent requests for model '%.120s' (max %lld)",
                 model, limit);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        relay_reply_error(req, ep, 429, msg, "rate_limit_exceeded");
        metrics_request_done(ep->route, 429, 0);
        return -1;
    }
    *inflight = slot;
    return 0;
}

/* Ollama answered 2xx for model: only now is it one the warm loop may track (a name a client
 * made up never gets there, so it can fill neither the table nor max_pinned). */
static void on_model_ok(void *arg, const char *model) {
    struct server *s = arg;
    if (s->warm)
        warm_note_model(s->warm, model);
}

/* Relays a native request to Ollama (the entry's method, rr.path): admission against
 * max_concurrent when limit is set (429 otherwise), the model told to the warm loop when note
 * is set and Ollama answers 2xx, then the relay, which takes rr.body_owned over (freed here when
 * the request is turned away). */
static void relay_native(struct server *s, struct evhttp_request *req, struct relay_request rr,
                         int limit, int note) {
    long *inflight = NULL;
    if (limit && admit(s, req, rr.ep, rr.model, &inflight) < 0) {
        free(rr.body_owned);
        return;
    }
    if (note) {
        rr.on_upstream_ok = on_model_ok;
        rr.ok_arg = s;
    }
    rr.method = rr.ep->native_method;
    rr.json_body = rr.body_owned != NULL;
    rr.inflight = inflight;
    relay_start(&s->env, req, &rr);
}

/* A request for ep (not a passthrough): its body made the native request (request_build),
 * then relayed, with admission and the warm loop's note as the entry says. */
static void handle_endpoint(struct server *s, struct evhttp_request *req, const struct endpoint *ep,
                            const char *path) {
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    const char *body = n ? (const char *)evbuffer_pullup(in, -1) : NULL;
    struct request_out out;
    struct api_err err;
    int rc = request_build(ep, s->cfg, path, body, n, &out, &err);
    if (out.costly)
        trim_pending = 1;
    if (rc < 0) {
        relay_reply_error(req, ep, err.status, err.message, NULL);
        return;
    }
    struct relay_request rr = {.ep = ep,
                               .path = out.path,
                               .body_owned = out.body, /* taken over by the relay */
                               .body_len = out.body_len,
                               .model = out.model,
                               .meta = out.meta};
    out.body = NULL;
    relay_native(s, req, rr, (ep->flags & EP_ADMIT) != 0, (ep->flags & EP_NOTE_MODEL) != 0);
    request_out_cleanup(&out); /* the model: relay copied it */
}

/* Everything else under /api/ and GET/HEAD /: relayed untouched, to path (normalised and
 * encoded) with the client's query. */
static void handle_passthrough(struct server *s, struct evhttp_request *req, const char *path,
                               const char *query) {
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t plen = strlen(path), qlen = strlen(query);
    char *uri = malloc(plen + qlen + 1);
    if (!uri) {
        relay_reply_error(req, &endpoint_native_pass, 500, "out of memory", NULL);
        return;
    }
    memcpy(uri, path, plen);
    memcpy(uri + plen, query, qlen + 1);
    size_t n = evbuffer_get_length(in);
    const char *method = method_name(evhttp_request_get_command(req));
    struct relay_request rr = {
        .ep = &endpoint_native_pass,
        .method = method,
        .path = uri,
        .body = n ? (const char *)evbuffer_pullup(in, -1) : NULL,
        .body_len = n,
    };
    if (!rr.body && strcmp(method, "POST") == 0) {
        rr.body = "";
    }
    relay_start(&s->env, req, &rr); /* copies the path */
    free(uri);
}

static void reply_text(struct evhttp_request *req, int status, const char *type, const char *text) {
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add(b, text, strlen(text));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    chunkw_reply(req, status, NULL, b); /* HEAD: the length, no body */
    if (b)
        evbuffer_free(b);
}

/* keepwarm's own endpoints. Their requests are counted here; relayed ones in relay. */
static void handle_own(struct server *s, struct evhttp_request *req, const char *path,
                       enum evhttp_cmd_type cmd) {
    int status = 200;
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        status = 405;
        relay_reply_error(req, &endpoint_native_pass, 405, "method not allowed", NULL);
    } else if (path_is(path, "/healthz")) {
        reply_text(req, 200, "application/json", "{\"status\":\"ok\"}");
    } else if (path_is(path, "/readyz")) {
        if (s->warm) {
            warm_handle_readyz(s->warm, req); /* answers (and counts) asynchronously */
            return;
        } else {
            status = 503;
            relay_reply_error(req, &endpoint_native_pass, 503, "warm loop not running", NULL);
        }
    } else if (path_is(path, "/status")) {
        json_t *st = s->warm ? warm_status_new(s->warm) : json_object();
        json_object_set_new(st, "active_requests", json_integer((json_int_t)s->env.active));
        json_object_set_new(st, "version", json_string(KEEPWARM_VERSION_STRING));
        relay_reply_json(req, 200, st);
        json_decref(st);
    } else {
        struct evbuffer *b = evbuffer_new();
        if (b) {
            metrics_render(b);
            if (s->warm)
                warm_metrics(s->warm, b);
            evbuffer_add_printf(b,
                                "# HELP keepwarm_active_requests Requests being relayed.\n"
                                "# TYPE keepwarm_active_requests gauge\n"
                                "keepwarm_active_requests %llu\n",
                                s->env.active);
        }
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "text/plain; version=0.0.4; charset=utf-8");
        chunkw_reply(req, 200, NULL, b);
        if (b)
            evbuffer_free(b);
    }
    metrics_request_done(ROUTE_OWN, status, 0);
}

/* OPTIONS: CORS preflights (from an allowed origin) are answered here, never relayed. */
static void handle_options(struct evhttp_request *req, const char *origin) {
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    if (origin) {
        char allowed[512];
        access_allowed_headers(evhttp_find_header(in, "Access-Control-Request-Headers"), allowed,
                               sizeof(allowed));
        evhttp_add_header(out, "Access-Control-Allow-Methods", "GET, POST, HEAD, DELETE, OPTIONS");
        if (*allowed)
            evhttp_add_header(out, "Access-Control-Allow-Headers", allowed);
        evhttp_add_header(out, "Access-Control-Max-Age", "600");
    }
    evhttp_add_header(out, "Allow", "GET, POST, HEAD, DELETE, OPTIONS");
    evhttp_send_reply(req, 204, "No Content", NULL);
    metrics_request_done(ROUTE_OWN, 204, 0);
}

/* The Date header, formatted once a second (evhttp would format it for every reply). */
static const char *http_date(struct server *s) {
    time_t now = time(NULL);
    if (now != s->date_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(s->date, sizeof(s->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        s->date_at = now;
    }
    return s->date;
}

static void hex_put(char *out, unsigned long long v, int digits) {
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--, v >>= 4)
        out[i] = hex[v & 15];
}

/* X-Request-Id: the client's (when it is short and printable) or a new one; echoed to the
 * client and, through the forwarded headers, passed to Ollama. */
static void set_request_id(struct server *s, struct evhttp_request *req) {
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const char *rid = evhttp_find_header(in, "X-Request-Id");
    int ok = rid && *rid && strlen(rid) <= 128;
    for (const char *p = rid; ok && *p; p++)
        ok = *p > 0x20 && *p < 0x7f;
    char gen[40];
    if (!ok) {
        hex_put(gen, (unsigned long long)random(), 8);
        hex_put(gen + 8, ++s->next_id, 8);
        gen[16] = '\0';
        evhttp_remove_header(in, "X-Request-Id");
        evhttp_add_header(in, "X-Request-Id", gen);
        rid = gen;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "X-Request-Id", rid);
}

/* Any byte below 0x20 or DEL in the raw request target: Go's url.ParseRequestURI refuses it. */
static int uri_has_control(const char *uri) {
    for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

/* HTTP/1.1 requires a Host header (Go's server answers 400 without one); 1.0 does not. */
static int host_missing(struct evhttp_request *req, const char *host) {
    return !host && evcompat_request_http11(req);
}

/* The front door (frontdoor.h for the checks). evhttp 2.1 calls no hook when it starts a
 * request, so the connection's input buffer callback (on_input, which runs before evhttp's
 * read callback sees new bytes, and whenever evhttp drains a line) finds the request being
 * read (evcompat), sets on_headers as its header callback, scans the raw head and arms the
 * header deadline. on_headers runs after evhttp parsed the head and before it reads a body: a
 * request it refuses is answered there and the connection freed, so no byte after the head
 * is ever parsed. on_request ends the body deadline. */
#define FRONTDOOR_REPLY_MAX 1024

/* The connection whose input buffer evhttp last touched: on_headers and on_request run inside
 * the evhttp read callback that drained the head's last line or the body, right after it. */
static struct conn *reading_conn;

static int on_headers(struct evhttp_request *req, void *arg);

static void deadline_arm(struct conn *c, int64_t ms) {
    if (ms <= 0) {
        event_del(c->deadline);
        return;
    }
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    event_add(c->deadline, &tv);
}

/* Writes the front door's own answer straight to the socket (evhttp has nothing queued while
 * it reads a request) and lets evhttp free the connection, which shuts the socket down. */
static void frontdoor_reply(struct conn *c, struct evhttp_request *req, int status,
                            const char *message) {
    char out[FRONTDOOR_REPLY_MAX], body[512];
    const char *uri = evhttp_request_get_uri(req);
    int head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
    json_t *e = endpoint_errors_for(uri ? uri : "")->error_new(status, message, NULL);
    size_t bn = e ? json_dumpb(e, body, sizeof(body), JSON_COMPACT) : 0;
    json_decref(e);
    size_t n = bn && bn <= sizeof(body)
                   ? frontdoor_reply_format(out, sizeof(out), status, body, bn, head)
                   : 0;
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (n && fd >= 0 && send(fd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        log_debug("msg=\"front door answer not sent\" error=\"%s\"", strerror(errno));
    c->refused = 1;
    log_info("msg=\"request refused at the front door\" status=%d reason=\"%s\"", status, message);
    metrics_request_done(ROUTE_OTHER, status, 0);
}

static void head_scan(struct conn *c, struct evbuffer *buf, size_t from, size_t n) {
    struct evbuffer_ptr pos;
    struct evbuffer_iovec v[8];
    if (evbuffer_ptr_set(buf, &pos, from, EVBUFFER_PTR_SET) < 0)
        return;
    while (n > 0 && !c->head.done && c->head.bytes <= MAX_HEADERS_SIZE) {
        int k = evbuffer_peek(buf, (ev_ssize_t)n, &pos, v, 8);
        size_t took = 0;
        for (int i = 0; i < k && i < 8 && n > 0 && !c->head.done; i++) {
            size_t len = v[i].iov_len < n ? v[i].iov_len : n;
            frontdoor_head_feed(&c->head, v[i].iov_base, len);
            took += len;
            n -= len;
        }
        if (took == 0 || evbuffer_ptr_set(buf, &pos, took, EVBUFFER_PTR_ADD) < 0)
            break;
    }
}

static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg) {
    struct conn *c = arg;
    reading_conn = c;
    struct evhttp_request *req = evcompat_reading_request(c->bev);
    if (!req)
        return;
    if (evcompat_request_header_cb(req) != on_headers) {
        /* A new request: its bytes are the whole buffer (when evhttp's deferred read of a
         * pipelined request got here first, less the request line it drained). */
        int first = !c->req && c->phase == PHASE_HEAD; /* its deadline runs since accept */
        evhttp_request_set_header_cb(req, on_headers);
        c->req = req;
        c->phase = PHASE_HEAD;
        frontdoor_head_init(&c->head);
        head_scan(c, buf, 0, evbuffer_get_length(buf));
        if (!first)
            deadline_arm(c, c->s->cfg->header_timeout / 1000000);
    } else if (req == c->req && c->phase == PHASE_HEAD && info->n_added) {
        size_t len = evbuffer_get_length(buf);
        head_scan(c, buf, len - info->n_added, info->n_added);
    }
}

/* evhttp has the head; the body is still unread. -1 frees the connection. */
static int on_headers(struct evhttp_request *req, void *arg) {
    struct conn *c = reading_conn;
    struct frontdoor_verdict v;
    (void)arg;
    if (!c || c->req != req)
        return 0;
    c->phase = PHASE_BODY;
    event_del(c->deadline);
    if (c->head.bad) {
        v.status = 400;
        v.message = c->head.bad;
    } else {
        frontdoor_check(evhttp_request_get_command(req), evhttp_request_get_input_headers(req),
                        c->s->cfg->max_body, &v);
    }
    if (v.status) {
        frontdoor_reply(c, req, v.status, v.message);
        c->phase = PHASE_IDLE;
        return -1;
    }
    if (v.body && c->s->cfg->body_timeout > 0)
        deadline_arm(c, frontdoor_body_deadline_ms(c->s->cfg->body_timeout / 1000000,
                                                   v.body == 1 ? v.length : c->s->cfg->max_body));
    return 0;
}

/* header_timeout or body_timeout ran out: 408, and the connection is freed. */
static void on_deadline(evutil_socket_t fd, short what, void *arg) {
    struct conn *c = arg;
    (void)fd;
    (void)what;
    struct evhttp_request *req = evcompat_reading_request(c->bev);
    int silent = !c->req && c->phase == PHASE_HEAD; /* connected, not a byte since */
    if (!req || (!silent && (req != c->req || evcompat_request_header_cb(req) != on_headers)) ||
        c->phase == PHASE_IDLE)
        return;
    frontdoor_reply(c, req, 408,
                    c->phase == PHASE_HEAD ? "request head too slow (header_timeout)"
                                           : "request body too slow (body_timeout)");
    c->phase = PHASE_IDLE;
    evhttp_connection_free(evhttp_request_get_connection(req));
}

/* on_request's first step: the request is read, its deadline ends. */
static void frontdoor_request_read(struct evhttp_request *req) {
    struct conn *c = reading_conn;
    if (c && c->req == req) {
        event_del(c->deadline);
        c->phase = PHASE_IDLE;
    }
}

static void on_request(struct evhttp_request *req, void *arg) {
    struct server *s = arg;
    frontdoor_request_read(req);
    const char *uri = evhttp_request_get_uri(req);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    /* path: as Ollama's router will read it, and what every decision here is taken on;
     * fwd: that path encoded again, what a passthrough forwards (with the client's query). */
    char path[2048], fwd[3 * sizeof(path)];
    size_t plen = strcspn(uri, "?#");
    if (plen >= sizeof(path) || uri[0] != '/') {
        relay_reply_error(req, &endpoint_native_pass, 414, "request URI too long or not a path",
                          NULL);
        return;
    }
    if (uri_has_control(uri)) {
        relay_reply_error(req, &endpoint_native_pass, 400, "invalid request line", NULL);
        metrics_request_done(ROUTE_OTHER, 400, 0);
        return;
    }
    if (access_path_normalize(uri, plen, path, sizeof(path)) < 0 ||
        access_path_encode(path, fwd, sizeof(fwd)) < 0) {
        relay_reply_error(req, endpoint_errors_for(uri), 400,
                          "invalid request path: a bad %-escape or an encoded control character",
                          NULL);
        metrics_request_done(ROUTE_OTHER, 400, 0);
        return;
    }
    const char *query = uri + plen; /* "" or "?...", forwarded as the client wrote it */

    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    const struct endpoint *errors = endpoint_errors_for(path);
    const char *host = evhttp_find_header(in, "Host");
    const char *origin = evhttp_find_header(in, "Origin");
    /* Ollama's own checks, in its order (CORS, then allowed hosts): a request it would refuse
     * with 403 is refused here, because keepwarm forwards neither header. */
    if (!access_origin_allowed(s->cfg, origin, host)) {
        relay_reply_error(req, errors, 403, "origin not allowed (cors_origins)", NULL);
        metrics_request_done(ROUTE_OTHER, 403, 0);
        return;
    }
    if (host_missing(req, host)) {
        relay_reply_error(req, errors, 400, "missing required Host header", NULL);
        metrics_request_done(ROUTE_OTHER, 400, 0);
        return;
    }
    if (s->listen_loopback && !access_host_allowed(s->cfg, host, s->hostname)) {
        relay_reply_error(req, errors, 403, "host not allowed (allowed_hosts)", NULL);
        metrics_request_done(ROUTE_OTHER, 403, 0);
        return;
    }
    if (origin) {
        evhttp_add_header(out, "Access-Control-Allow-Origin", origin);
        evhttp_add_header(out, "Vary", "Origin");
        evhttp_add_header(out, "Access-Control-Expose-Headers", "x-request-id");
    }
    if (cmd == EVHTTP_REQ_OPTIONS) {
        handle_options(req, origin);
        return;
    }
    set_request_id(s, req);
    evhttp_add_header(out, "Date", http_date(s));
    switch (access_check(s->cfg, path, evhttp_find_header(in, "Authorization"),
                         evhttp_find_header(in, "X-Api-Key"))) {
        case ACCESS_OK:
            break;
        case ACCESS_UNAUTHORIZED:
            evhttp_add_header(out, "WWW-Authenticate", "Bearer realm=\"keepwarm\"");
            relay_reply_error(req, errors, 401, "missing or invalid API key", "invalid_api_key");
            metrics_request_done(ROUTE_OTHER, 401, 0);
            return;
        case ACCESS_FORBIDDEN:
            relay_reply_error(req, errors, 403, "model management is disabled on this server",
                              NULL);
            metrics_request_done(ROUTE_OTHER, 403, 0);
            return;
    }

    if (path_is(path, "/healthz") || path_is(path, "/readyz") || path_is(path, "/status") ||
        path_is(path, "/metrics")) {
        handle_own(s, req, path, cmd);
        return;
    }
    int status = 404;
    const char *message = NULL;
    const struct endpoint *ep = endpoint_route(cmd, path, &status, &message, &errors);
    if (!ep)
        relay_reply_error(req, errors, status, message, NULL);
    else if (!ep->native_method) /* the client's method and path: passed through */
        handle_passthrough(s, req, fwd, query);
    else
        handle_endpoint(s, req, ep, path);
}

static void listener_pause(struct server *s, int pause) {
    struct evconnlistener *l = s->sock ? evhttp_bound_socket_get_listener(s->sock) : NULL;
    if (!l || s->accepting_paused == pause)
        return;
    s->accepting_paused = pause;
    if (pause) {
        evconnlistener_disable(l);
        log_warn("msg=\"max_connections reached, new connections wait\" connections=%zu",
                 s->nconns);
    } else {
        evconnlistener_enable(l);
    }
}

/* The listener's error callback gets the listener's user data, which is evhttp's: the server
 * it belongs to is found here (one listening server per process). */
static struct server *accepting_server;

/* Out of descriptors (EMFILE/ENFILE) or memory: the listener would be readable and failing in
 * a loop, so it rests for 100 ms; pending clients wait in the kernel's backlog meanwhile. */
static void on_accept_error(struct evconnlistener *l, void *arg) {
    struct server *s = accepting_server;
    (void)arg;
    if (!s)
        return;
    int e = EVUTIL_SOCKET_ERROR();
    if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
        log_warn("msg=\"accept failed\" error=\"%s\"", strerror(e));
        return;
    }
    /* An idle connection to Ollama holds a descriptor a waiting client can use: the listener,
     * still readable, accepts again in the next loop turn. */
    if ((e == EMFILE || e == ENFILE) && upstream_close_idle(s->env.up)) {
        log_debug("msg=\"out of descriptors: closed an idle connection to Ollama to accept\"");
        return;
    }
    if (!s->accept_backoff)
        log_warn("msg=\"cannot accept: out of descriptors or memory; pausing accepts\" "
                 "error=\"%s\"",
                 strerror(e));
    s->accept_backoff = 1;
    evconnlistener_disable(l);
    struct timeval tv = {0, 100000};
    event_add(s->accept_retry, &tv);
}

static void on_accept_retry(evutil_socket_t fd, short what, void *arg) {
    struct server *s = arg;
    (void)fd;
    (void)what;
    struct evconnlistener *l = s->sock ? evhttp_bound_socket_get_listener(s->sock) : NULL;
    if (l && !s->accepting_paused)
        evconnlistener_enable(l);
    s->accept_backoff = 0; /* logged again if it fails again */
}

static void linger_end(struct lingering *l) {
    *l->pprev = l->next;
    if (l->next)
        l->next->pprev = l->pprev;
    event_free(l->ev);
    evutil_closesocket(l->fd);
    free(l);
}

static void on_linger(evutil_socket_t fd, short what, void *arg) {
    struct lingering *l = arg;
    char scratch[4096];
    ssize_t n = 0;
    if (what & EV_READ)
        while ((n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT)) > 0)
            ;
    if ((what & EV_TIMEOUT) || n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
        linger_end(l);
}

/* Closes a refused connection's socket after a linger; 0, or -1 when it must close now. */
static int linger_start(struct server *s, struct bufferevent *bev) {
    evutil_socket_t fd = bufferevent_getfd(bev);
    struct lingering *l = fd >= 0 ? calloc(1, sizeof(*l)) : NULL;
    if (!l)
        return -1;
    l->fd = fd;
    l->ev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_linger, l);
    struct timeval tv = {LINGER_MS / 1000, (LINGER_MS % 1000) * 1000};
    if (!l->ev || event_add(l->ev, &tv) < 0 || bufferevent_setfd(bev, -1) < 0) {
        if (l->ev)
            event_free(l->ev);
        free(l);
        return -1;
    }
    l->next = s->lingering;
    l->pprev = &s->lingering;
    if (l->next)
        l->next->pprev = &l->next;
    s->lingering = l;
    return 0;
}

static void conn_free(struct conn *c, int linger) {
    if (reading_conn == c)
        reading_conn = NULL;
    event_free(c->deadline);
    if (linger && c->refused)
        linger_start(c->s, c->bev); /* the bufferevent lets go of the socket */
    bufferevent_decref(c->bev);     /* the socket closes now, unless it lingers */
    free(c);
}

/* Drops the connections evhttp has freed (evcompat_conn_freed). */
static void on_sweep(evutil_socket_t fd, short what, void *arg) {
    struct server *s = arg;
    (void)fd;
    (void)what;
    size_t kept = 0;
    for (size_t i = 0; i < s->nconns; i++) {
        if (evcompat_conn_freed(s->conns[i]->bev))
            conn_free(s->conns[i], 1);
        else
            s->conns[kept++] = s->conns[i];
    }
    s->nconns = kept;
    if (trim_pending) { /* glibc keeps a freed tree's pages otherwise */
        trim_pending = 0;
        malloc_trim(0);
    }
    if (s->cfg->max_connections > 0 && s->nconns < (size_t)s->cfg->max_connections)
        listener_pause(s, 0);
}

/* evhttp asks for each new client connection's bufferevent. Every connection is tracked: the
 * front door watches its input, and max_connections counts it. */
static struct bufferevent *on_new_connection(struct event_base *base, void *arg) {
    struct server *s = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev)
        return NULL;
    if (s->nconns == s->conns_cap) {
        size_t cap = s->conns_cap ? s->conns_cap * 2 : 64;
        struct conn **nb = realloc(s->conns, cap * sizeof(*nb));
        if (!nb)
            return bev; /* untracked: no front door deadlines, counted as closed */
        s->conns = nb;
        s->conns_cap = cap;
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (!c || !(c->deadline = evtimer_new(base, on_deadline, c)) ||
        !evbuffer_add_cb(bufferevent_get_input(bev), on_input, c)) {
        if (c && c->deadline)
            event_free(c->deadline);
        free(c);
        return bev;
    }
    c->s = s;
    c->bev = bev;
    c->phase = PHASE_HEAD; /* the first request's head: header_timeout counts from accept */
    deadline_arm(c, s->cfg->header_timeout / 1000000);
    bufferevent_incref(bev);
    s->conns[s->nconns++] = c;
    if (s->cfg->max_connections > 0 && s->nconns >= (size_t)s->cfg->max_connections)
        listener_pause(s, 1);
    return bev;
}

/* Is the listening address a loopback one (127.0.0.0/8, ::1, ::ffff:127.x)? */
static int sockaddr_is_loopback(const struct sockaddr_storage *ss) {
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss->ss_family != AF_INET6)
        return 0;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

struct server *server_new(struct event_base *base, const struct config *cfg, struct upstream *up,
                          char *err, size_t errlen) {
    struct server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base = base;
    s->cfg = cfg;
    s->env.base = base;
    s->env.cfg = cfg;
    s->env.up = up;
    s->env.idle_timeout_s = (long)(cfg->idle_timeout / 1000000000);
    if (!(s->http = evhttp_new(base))) {
        snprintf(err, errlen, "cannot create the HTTP server");
        goto fail;
    }
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_default_content_type(s->http, "application/json");
    evhttp_set_max_body_size(s->http, (ev_ssize_t)cfg->max_body);
    evhttp_set_max_headers_size(s->http, MAX_HEADERS_SIZE);
    evhttp_set_timeout(s->http, (int)s->env.idle_timeout_s);
    evhttp_set_flags(s->http, EVHTTP_SERVER_LINGERING_CLOSE);
    evhttp_set_gencb(s->http, on_request, s);
    evhttp_set_bevcb(s->http, on_new_connection, s);
    if (!evcompat_ok())
        log_warn("msg=\"libevent %s is not 2.1.8-2.1.12: the front door's header checks and "
                 "deadlines are off\"",
                 event_get_version());
    struct timeval every = {0, 100000};
    s->sweep = event_new(base, -1, EV_PERSIST, on_sweep, s);
    if (!s->sweep || event_add(s->sweep, &every) < 0) {
        snprintf(err, errlen, "cannot create the connection sweep timer");
        goto fail;
    }
    s->sock =
        evhttp_bind_socket_with_handle(s->http, cfg->listen_host, (ev_uint16_t)cfg->listen_port);
    if (!s->sock) {
        snprintf(err, errlen, "cannot listen on %s:%d (address in use or not local?)",
                 cfg->listen_host, cfg->listen_port);
        goto fail;
    }
    evutil_socket_t fd = evhttp_bound_socket_get_fd(s->sock);
    /* evhttp listens with a backlog of 128; a burst of thousands of clients wants more (the
     * kernel caps it at net.core.somaxconn). */
    listen(fd, LISTEN_BACKLOG);
    s->accept_retry = evtimer_new(base, on_accept_retry, s);
    if (!s->accept_retry) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    accepting_server = s;
    evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(s->sock), on_accept_error);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        s->listen_loopback = sockaddr_is_loopback(&ss);
    }
    if (gethostname(s->hostname, sizeof(s->hostname)) < 0)
        s->hostname[0] = '\0';
    s->hostname[sizeof(s->hostname) - 1] = '\0';
    return s;
fail:
    server_free(s);
    return NULL;
}

void server_free(struct server *s) {
    if (!s)
        return;
    if (s->http)
        evhttp_free(s->http); /* closes every client: their relays cancel their transfers */
    relay_env_close(&s->env); /* frees them: none outlives the in-flight table below */
    if (s->sweep)
        event_free(s->sweep);
    if (s->accept_retry)
        event_free(s->accept_retry);
    if (accepting_server == s)
        accepting_server = NULL;
    for (size_t i = 0; i < s->nconns; i++)
        conn_free(s->conns[i], 0);
    while (s->lingering)
        linger_end(s->lingering);
    free(s->conns);
    for (size_t i = 0; i < s->ninflight; i++)
        free(s->inflight[i]);
    free(s->inflight);
    free(s);
}

int server_port(const struct server *s) {
    return s->port;
}

void server_set_warm(struct server *s, struct warm *w) {
    s->warm = w;
}

void server_stop_accepting(struct server *s) {
    if (s->sock) {
        evhttp_del_accept_socket(s->http, s->sock);
        s->sock = NULL;
    }
}

void server_reconfigure(struct server *s) {
    s->env.idle_timeout_s = (long)(s->cfg->idle_timeout / 1000000000);
    evhttp_set_timeout(s->http, (int)s->env.idle_timeout_s);
    evhttp_set_max_body_size(s->http, (ev_ssize_t)s->cfg->max_body);
}

unsigned long long server_active(const struct server *s) {
    return s->env.active;
}
