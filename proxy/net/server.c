/* server: the evhttp instance, request limits (Origin, Host, keys, max_concurrent), routing
 * by the endpoint table (endpoint.h) and keepwarm's own endpoints; the connection layer under
 * it (accepting, max_connections, the front door) is listener.c's. A request's body becomes the
 * native request in request_build (request.h), then relay answers from then on. */
#include "server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "chunkw.h"
#include "evcompat.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "relay.h"
#include "request.h"
#include "statuspage.h"
#include "unzstd.h"
#include "warm.h"

#ifdef KEEPWARM_VERSION
#define KEEPWARM_VERSION_STRING KEEPWARM_VERSION
#else
#define KEEPWARM_VERSION_STRING "0.0.0"
#endif

struct server {
    struct event_base *base;
    struct evhttp *http;
    struct listener *listener; /* connections, the front door, accepting */
    const struct config *cfg;
    struct relay_env env;
    struct warm *warm;
    /* Per-model requests in flight, for max_concurrent: one entry per model that has some (a
     * relay holds &n while it lives; entries back at 0 are freed by the next lookup). */
    struct inflight {
        long n;
        char name[]; /* as the client wrote it; matched with config_names_match */
    } * *inflight;
    size_t ninflight, inflight_cap;
    unsigned long long next_id;
    char date[40]; /* the Date header for replies in second date_at */
    time_t date_at;
    int listen_loopback; /* listening on a loopback address: Host is checked (DNS rebinding) */
    char hostname[256];  /* this machine's name, an allowed Host */
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

/* A request keepwarm refuses itself after routing it (no route, a method not allowed, a body it
 * cannot take): answered in the envelope of errors, counted under route, and written to the
 * access log as a relayed request is (so every 404 and 405 of keepwarm's own is seen). */
static void refuse(struct evhttp_request *req, const struct endpoint *errors,
                   enum metrics_route route, int status, const char *message, const char *rid) {
    relay_reply_error(req, errors, status, message, NULL);
    metrics_request_done(route, status, 0);
    log_access("msg=\"request\" request_id=%s method=%s path=\"%s\" status=%d reason=\"%s\"", rid,
               method_name(evhttp_request_get_command(req)), evhttp_request_get_uri(req), status,
               message);
}

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

/* /status: each model's requests in flight now ("in_flight"). */
static void add_in_flight(const struct server *s, json_t *models) {
    size_t i;
    json_t *o;
    json_array_foreach(models, i, o) {
        const char *name = json_string_value(json_object_get(o, "name"));
        long n = 0;
        for (size_t k = 0; name && k < s->ninflight; k++)
            if (config_names_match(s->inflight[k]->name, name))
                n += s->inflight[k]->n;
        json_object_set_new(o, "in_flight", json_integer(n));
    }
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

/* Ollama answered an error for model: the residency reads it for crashes and overflows. */
static void on_model_error(void *arg, const char *model, int status, const char *text) {
    struct server *s = arg;
    if (s->warm)
        warm_note_failure(s->warm, model, status, text);
}

/* Relays a native request to Ollama (the entry's method, rr.path): admission against
 * max_concurrent when the entry says EP_ADMIT (429 otherwise), the model told to the warm loop
 * when it says EP_NOTE_MODEL and Ollama answers 2xx, then the relay, which takes rr.body_owned
 * and rr.model_owned over (freed here when the request is turned away). */
static void relay_native(struct server *s, struct evhttp_request *req, struct relay_request rr,
                         const struct runopts *runner) {
    long *inflight = NULL;
    if ((rr.ep->flags & EP_ADMIT) && admit(s, req, rr.ep, rr.model_owned, &inflight) < 0) {
        free(rr.body_owned);
        free(rr.model_owned);
        json_decref(rr.meta.echo);
        return;
    }
    if (runner && rr.model_owned && s->warm) /* it goes to Ollama: the residency's churn count */
        warm_note_request(s->warm, rr.model_owned, runner);
    if (rr.ep->flags & EP_NOTE_MODEL) {
        rr.on_upstream_ok = on_model_ok;
        rr.on_upstream_error = on_model_error;
        rr.ok_arg = s;
    }
    rr.method = rr.ep->native_method;
    rr.json_body = rr.body_owned != NULL;
    rr.inflight = inflight;
    relay_start(&s->env, req, &rr);
}

/* Is a Content-Encoding value (NULL: absent) the coding named (ASCII case ignored, blanks
 * around it too, as HTTP's codings are tokens)? */
static int coding_is(const char *value, const char *name) {
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(name);
    if (strncasecmp(value, name, n) != 0)
        return 0;
    for (value += n; *value == ' ' || *value == '\t'; value++)
        ;
    return *value == '\0';
}

/* The request headers keepwarm itself reads, found in one walk of the list instead of one
 * evhttp_find_header walk each (six per request); the first of a repeated name, as
 * evhttp_find_header finds it. */
struct req_headers {
    const char *host, *origin, *authorization, *api_key, *request_id, *coding;
};

static void req_headers_read(const struct evkeyvalq *in, struct req_headers *h) {
    const struct evkeyval *kv;
    memset(h, 0, sizeof(*h));
    TAILQ_FOREACH(kv, in, next) {
        const char **slot = NULL, *name = NULL;
        switch (strlen(kv->key)) {
            case 4:
                slot = &h->host, name = "Host";
                break;
            case 6:
                slot = &h->origin, name = "Origin";
                break;
            case 9:
                slot = &h->api_key, name = "X-Api-Key";
                break;
            case 12:
                slot = &h->request_id, name = "X-Request-Id";
                break;
            case 13:
                slot = &h->authorization, name = "Authorization";
                break;
            case 16:
                slot = &h->coding, name = "Content-Encoding";
                break;
            default:
                continue;
        }
        if (!*slot && evutil_ascii_strcasecmp(kv->key, name) == 0)
            *slot = kv->value;
    }
}

/* The body of a request for ep as the entry reads it: a zstd body decompressed (unzstd.h)
 * for the entries that take one (endpoint_takes_zstd: Ollama's /v1 routes), capped at the
 * smaller of max_body_size and Ollama's 20 MiB. Returns 0 with *body and *n (and *owned, the
 * decompressed copy to free, or NULL), or -1 after answering in ep's envelope: 400 for a bad
 * zstd body or another coding (Ollama would read its bytes as JSON and refuse them), 413 past
 * the cap. */
static int body_for(struct server *s, struct evhttp_request *req, const struct endpoint *ep,
                    const char *rid, const char *coding, const char **body, size_t *n,
                    char **owned) {
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    *owned = NULL;
    *n = evbuffer_get_length(in);
    *body = *n ? (const char *)evbuffer_pullup(in, -1) : NULL;
    if (!coding || !endpoint_takes_zstd(ep) || coding_is(coding, "identity"))
        return 0;
    if (!coding_is(coding, "zstd")) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "unsupported Content-Encoding \"%.64s\": only zstd request bodies are decoded",
                 coding);
        refuse(req, ep, ep->route, 400, msg, rid);
        return -1;
    }
    size_t cap = s->cfg->max_body < UNZSTD_MAX_OUT ? s->cfg->max_body : UNZSTD_MAX_OUT;
    char msg[256];
    enum unzstd_result rc = unzstd_body_new(*body, *n, cap, owned, n, msg, sizeof(msg));
    if (rc != UNZSTD_OK) {
        refuse(req, ep, ep->route,
               rc == UNZSTD_TOO_LARGE ? 413
               : rc == UNZSTD_BAD     ? 400
                                      : 500,
               msg, rid);
        return -1;
    }
    *body = *owned;
    if (*n >= ((size_t)1 << 20))
        listener_trim_later();
    return 0;
}

/* A request for ep (not a passthrough): its body made the native request (request_build),
 * then relayed, with admission and the warm loop's note as the entry says. */
static void handle_endpoint(struct server *s, struct evhttp_request *req, const struct endpoint *ep,
                            const char *path, const char *rid, const char *coding) {
    const char *body;
    size_t n;
    char *plain;
    if (body_for(s, req, ep, rid, coding, &body, &n, &plain) < 0)
        return;
    struct request_out out;
    struct api_err err;
    int rc = request_build(ep, s->cfg, path, body, n, &out, &err);
    free(plain);
    if (out.costly)
        listener_trim_later();
    if (rc < 0) {
        refuse(req, ep, ep->route, err.status, err.message, rid);
        return;
    }
    if (ep->flags & EP_LOCAL) { /* answered here: the built body is the answer */
        struct evbuffer *b = evbuffer_new();
        if (b && out.body)
            evbuffer_add(b, out.body, out.body_len);
        metrics_request_done(ep->route, 200, 0);
        log_access("msg=\"request\" request_id=%s method=%s path=\"%s\" status=200 bytes=%zu", rid,
                   method_name(evhttp_request_get_command(req)), evhttp_request_get_uri(req),
                   out.body_len); /* before the reply, which may free req */
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "application/json");
        chunkw_reply(req, 200, NULL, b);
        if (b)
            evbuffer_free(b);
        request_out_cleanup(&out);
        return;
    }
    struct relay_request rr = {.ep = ep,
                               .path = out.path,
                               .body_owned = out.body, /* taken over by the relay */
                               .body_len = out.body_len,
                               .model_owned = out.model, /* taken over too */
                               .meta = out.meta,
                               .request_id = rid};
    relay_native(s, req, rr, out.has_runner ? &out.runner : NULL);
}

/* A passthrough entry's request (everything else under /api/ and /v1/, GET/HEAD /): relayed
 * untouched, to path (normalised and encoded) with the client's query. */
static void handle_passthrough(struct server *s, struct evhttp_request *req,
                               const struct endpoint *ep, const char *path, const char *query,
                               const char *rid) {
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t plen = strlen(path), qlen = strlen(query);
    char *uri = malloc(plen + qlen + 1);
    if (!uri) {
        relay_reply_error(req, ep, 500, "out of memory", NULL);
        return;
    }
    memcpy(uri, path, plen);
    memcpy(uri + plen, query, qlen + 1);
    size_t n = evbuffer_get_length(in);
    const char *method = method_name(evhttp_request_get_command(req));
    struct relay_request rr = {
        .ep = ep,
        .method = method,
        .path = uri,
        .body = n ? (const char *)evbuffer_pullup(in, -1) : NULL,
        .body_len = n,
        .request_id = rid,
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

/* The status page (statuspage.h), with its security headers; HEAD gets the length alone. */
static void reply_page(struct evhttp_request *req) {
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    for (const struct statuspage_header *h = statuspage_headers; h->name; h++)
        evhttp_add_header(out, h->name, h->value);
    reply_text(req, 200, statuspage_type, statuspage_html(NULL));
}

/* A request for the status page: any method on /ui (only GET and HEAD are served), GET or HEAD
 * /status from a client that prefers HTML (a browser's navigation). */
static int is_page(struct evhttp_request *req, const char *path, enum evhttp_cmd_type cmd) {
    if (path_is(path, "/ui") || path_is(path, "/ui/"))
        return 1;
    return path_is(path, "/status") && (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD) &&
           statuspage_wants_html(
               evhttp_find_header(evhttp_request_get_input_headers(req), "Accept"));
}

/* keepwarm's own endpoints. Their requests are counted here; relayed ones in relay. */
static void handle_own(struct server *s, struct evhttp_request *req, const char *path,
                       enum evhttp_cmd_type cmd, int page, const char *rid) {
    int status = 200;
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        refuse(req, &endpoint_native_pass, ROUTE_OWN, 405, "method not allowed", rid);
        return;
    }
    if (page) {
        reply_page(req);
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
        add_in_flight(s, json_object_get(st, "models"));
        json_object_set_new(st, "active_requests", json_integer((json_int_t)s->env.active));
        json_object_set_new(st, "version", json_string(KEEPWARM_VERSION_STRING));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Vary", "Accept"); /* page */
        evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
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

#define REQUEST_ID_GEN 17 /* a made X-Request-Id: 16 hex digits */

static void hex_put(char *out, unsigned long long v, int digits) {
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--, v >>= 4)
        out[i] = hex[v & 15];
}

/* X-Request-Id: the client's (when it is short and printable) or a new one, made in gen;
 * echoed to the client, and returned for the relay (its log line, and the first header Ollama
 * gets). */
static const char *set_request_id(struct server *s, struct evhttp_request *req, const char *rid,
                                  char gen[static REQUEST_ID_GEN]) {
    int ok = rid && *rid && strlen(rid) <= 128;
    for (const char *p = rid; ok && *p; p++)
        ok = *p > 0x20 && *p < 0x7f;
    if (!ok) {
        hex_put(gen, (unsigned long long)random(), 8);
        hex_put(gen + 8, ++s->next_id, 8);
        gen[16] = '\0';
        rid = gen;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "X-Request-Id", rid);
    return rid;
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

static void on_request(struct evhttp_request *req, void *arg) {
    struct server *s = arg;
    listener_request_read(req);
    const char *uri = evhttp_request_get_uri(req);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    /* path: as Ollama's router will read it, and what every decision here is taken on;
     * fwd: that path encoded again, what a passthrough forwards (with the client's query). */
    char path[2048], fwd[3 * sizeof(path)];
    size_t plen = strcspn(uri, "?#");
    if (plen >= sizeof(path) || uri[0] != '/') {
        relay_reply_error(req, &endpoint_native_pass, 414, "request URI too long or not a path",
                          NULL);
        metrics_request_done(ROUTE_OTHER, 414, 0);
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
    struct req_headers hd;
    req_headers_read(in, &hd);
    const char *host = hd.host, *origin = hd.origin;
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
    char gen[REQUEST_ID_GEN];
    const char *rid = set_request_id(s, req, hd.request_id, gen);
    evhttp_add_header(out, "Date", http_date(s));
    int page = is_page(req, path, cmd);
    switch (access_check(s->cfg, path, hd.authorization, hd.api_key)) {
        case ACCESS_OK:
            break;
        case ACCESS_UNAUTHORIZED:
            /* A browser asks for a key it may send as Basic's password only when told Basic. */
            evhttp_add_header(out, "WWW-Authenticate",
                              page ? "Basic realm=\"keepwarm\", charset=\"UTF-8\""
                                   : "Bearer realm=\"keepwarm\"");
            relay_reply_error(req, errors, 401, "missing or invalid API key", "invalid_api_key");
            metrics_request_done(ROUTE_OTHER, 401, 0);
            return;
        case ACCESS_FORBIDDEN:
            relay_reply_error(req, errors, 403, "model management is disabled on this server",
                              NULL);
            metrics_request_done(ROUTE_OTHER, 403, 0);
            return;
    }

    if (page || path_is(path, "/healthz") || path_is(path, "/readyz") || path_is(path, "/status") ||
        path_is(path, "/metrics")) {
        handle_own(s, req, path, cmd, page, rid);
        return;
    }
    int status = 404;
    const char *message = NULL;
    const struct endpoint *ep = endpoint_route(cmd, path, &status, &message, &errors);
    if (!ep) { /* keepwarm's own 404 or 405 */
        refuse(req, errors, ROUTE_OTHER, status, message, rid);
        return;
    }
    if (ep->route == ROUTE_V1_PASS)
        log_info("msg=\"/v1 path passed through to Ollama\" request_id=%s method=%s path=\"%s\"",
                 rid, method_name(cmd), path);
    if (!ep->native_method) /* the client's method and path: passed through */
        handle_passthrough(s, req, ep, fwd, query, rid);
    else
        handle_endpoint(s, req, ep, path, rid, hd.coding);
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
    evhttp_set_max_headers_size(s->http, LISTENER_MAX_HEADERS);
    evhttp_set_timeout(s->http, (int)s->env.idle_timeout_s);
    evhttp_set_flags(s->http, EVHTTP_SERVER_LINGERING_CLOSE);
    evhttp_set_gencb(s->http, on_request, s);
    if (!(s->listener = listener_new(base, s->http, cfg, up, err, errlen)))
        goto fail;
    s->listen_loopback = listener_loopback(s->listener);
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
    listener_free(s->listener);
    for (size_t i = 0; i < s->ninflight; i++)
        free(s->inflight[i]);
    free(s->inflight);
    free(s);
}

int server_port(const struct server *s) {
    return listener_port(s->listener);
}

void server_set_warm(struct server *s, struct warm *w) {
    s->warm = w;
    if (w)
        warm_set_reply(w, chunkw_reply);
}

void server_stop_accepting(struct server *s) {
    if (s->listener)
        listener_stop(s->listener);
}

void server_reconfigure(struct server *s) {
    s->env.idle_timeout_s = (long)(s->cfg->idle_timeout / 1000000000);
    evhttp_set_timeout(s->http, (int)s->env.idle_timeout_s);
    evhttp_set_max_body_size(s->http, (ev_ssize_t)s->cfg->max_body);
}

unsigned long long server_active(const struct server *s) {
    return s->env.active;
}
