/* upstream_curl: the upstream.h contract on libcurl's multi interface, driven by the server's
 * libevent loop (curl's hiperfifo pattern). Owns the CURLM, one struct event per socket curl
 * asks about, curl's single timer, the TLS and header settings copied from upstream_opts, a
 * small pool of reset easy handles, and every transfer (easy handle, header list, error
 * buffer and its timers, freed together after curl_multi_remove_handle).
 *
 * Callbacks: on_data runs inside curl's write callback; on_read_end and on_done run after
 * curl_multi_socket_action has returned (from this file's event callbacks), never inside an
 * upstream_* call: resume unpauses from a deferred event, a read timeout from its own timer.
 * No curl_multi_* call is made from inside a curl callback: a transfer cancelled while curl
 * is running (only possible from another transfer's on_data) is parked and removed after. */
#include "upstream_curl.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <event2/event_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http1.h"
#include "log.h"
#include "readtimer.h"
#include "xheaders.h"

#define EASY_POOL   64   /* idle easy handles kept: curl_easy_init is a large allocation */
#define URL_MAX     4096 /* base URL + path */
#define KEEPIDLE_S  30L  /* TCP keepalive: first probe after this much silence */
#define KEEPINTVL_S 10L  /* then one probe every this often */

struct upstream_xfer_curl {
    struct upstream_xfer_hdr hdr; /* first: upstream.c dispatches on it */
    struct upstream_curl *uc;
    CURL *easy;
    struct curl_slist *headers;
    const struct upstream_cbs *cbs;
    void *ctx;
    const char *body; /* borrowed */
    size_t body_len, body_off;
    int body_sent;  /* some of the body was handed to curl on this connection */
    int replayable; /* may be sent again after part of it was written (upstream.h) */
    long status;
    long long content_length;
    int answered; /* an answer byte came */
    int paused;
    int aborted;          /* on_data said stop */
    int cancelled;        /* cancelled while curl ran: removed after socket_action */
    int touched;          /* on_data ran in this socket_action pass: on_read_end due */
    int head_1xx;         /* the head being read is an interim 1xx */
    int head_over;        /* the final head ended: what curl hands on_header now are trailers */
    size_t head_bytes;    /* of the head (or the trailers) so far: capped as http1's */
    struct readtimer rt;  /* read timeout: Ollama silent for rt.ms */
    struct event unpause; /* resume's deferred curl_easy_pause(CONT) */
    char content_type[128];
    char why[160]; /* our own reason, preferred over curl's */
    char error[CURL_ERROR_SIZE];
    struct upstream_xfer_curl *prev, *next;   /* live list */
    struct upstream_xfer_curl *tprev, *tnext; /* touched list */
};

struct upstream_curl {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    int in_curl; /* inside curl_multi_socket_action or curl_easy_pause */
    char *base_url;
    char *ca_file, *client_cert, *client_key;
    int insecure;
    /* upstream_header's lines, sent with every request and replacing a caller's of the same
     * name (xh: checked and named as the builtin client's; extra: the same lines for curl). A
     * base URL's user:password is curl's own (CURLOPT_URL). */
    struct xheaders xh;
    struct curl_slist *extra;
    struct upstream_opts opts;
    /* opts.read_timeout_ms as a libevent common timeout, for readtimer_arm: every transfer's
     * timer in one O(1) queue rather than the heap (NULL: a plain timeval) */
    const struct timeval *read_tv;
    struct upstream_xfer_curl *live;
    size_t nlive;
    struct upstream_xfer_curl *touched; /* on_read_end due after this pass */
    CURL *idle[EASY_POOL];
    size_t nidle;
};

static const struct upstream_xfer_ops curl_xfer_ops;

#define XC(x)  ((struct upstream_xfer_curl *)(void *)(x))
#define XCC(x) ((const struct upstream_xfer_curl *)(const void *)(x))
#define PUB(x) ((struct upstream_xfer *)(void *)(x))

static int set_err(char *err, size_t errlen, const char *msg) {
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

int upstream_curl_wanted(const char *base_url, const struct upstream_opts *opts) {
    if (opts->client == UPSTREAM_CLIENT_CURL)
        return 1;
    if (opts->client == UPSTREAM_CLIENT_BUILTIN)
        return 0;
    return strncmp(base_url, "http://", 7) != 0;
}

/* ---- transfers ---- */

static void touched_remove(struct upstream_xfer_curl *x) {
    if (!x->touched)
        return;
    if (x->tprev)
        x->tprev->tnext = x->tnext;
    else
        x->uc->touched = x->tnext;
    if (x->tnext)
        x->tnext->tprev = x->tprev;
    x->touched = 0;
    x->tprev = x->tnext = NULL;
}

static void rtimer_stop(struct upstream_xfer_curl *x) {
    readtimer_stop(&x->rt);
}

/* Ollama has rt.ms from now to send something (not while paused: then the client is slow). */
static void rtimer_arm(struct upstream_xfer_curl *x) {
    if (!x->paused)
        readtimer_arm(&x->rt, x->uc->read_tv, x->uc->opts.read_timeout_ms);
}

/* Bytes came: the silence counts from now (arming the timer if it does not run yet). */
static void rtimer_read(struct upstream_xfer_curl *x) {
    if (x->rt.on)
        readtimer_read(&x->rt);
    else
        rtimer_arm(x);
}

/* Takes x off curl and frees it (no callback). Never from inside a curl callback. */
static void xfer_unlink_free(struct upstream_xfer_curl *x) {
    struct upstream_curl *uc = x->uc;
    if (x->prev)
        x->prev->next = x->next;
    else
        uc->live = x->next;
    if (x->next)
        x->next->prev = x->prev;
    uc->nlive--;
    touched_remove(x);
    rtimer_stop(x);
    event_del(&x->unpause);
    curl_multi_remove_handle(uc->multi, x->easy); /* closes a connection mid-transfer */
    if (uc->nidle < EASY_POOL) {
        curl_easy_reset(x->easy); /* connections live in the multi's cache, not here */
        uc->idle[uc->nidle++] = x->easy;
    } else {
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->headers);
    free(x);
}

static enum upstream_result map_result(CURLcode rc, const struct upstream_xfer_curl *x) {
    switch (rc) {
        case CURLE_OK:
            return UPSTREAM_OK;
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_USE_SSL_FAILED:
        case CURLE_LOGIN_DENIED:
        case CURLE_UNSUPPORTED_PROTOCOL:
            return UPSTREAM_REFUSED;
        case CURLE_OPERATION_TIMEDOUT:
            return UPSTREAM_TIMEOUT;
        case CURLE_WRITE_ERROR:
            return x->aborted ? UPSTREAM_ABORTED : UPSTREAM_BROKEN;
        default:
            return UPSTREAM_BROKEN;
    }
}

static void xfer_report(struct upstream_xfer_curl *x, enum upstream_result r, const char *detail) {
    if (r != UPSTREAM_OK && r != UPSTREAM_ABORTED)
        log_debug("msg=\"upstream transfer failed\" client=curl detail=\"%s\"", detail);
    if (x->cbs->on_done)
        x->cbs->on_done(x->ctx, PUB(x), r, r == UPSTREAM_OK ? "" : detail);
    xfer_unlink_free(x);
}

/* curl's error text with the user info of any URL in it replaced by "***": libcurl quotes
 * URLs in its errors ("Unsupported proxy scheme for 'http://user:pw@proxy'"), and this text
 * goes into the client's 502 and the log. */
static void redact_userinfo(const char *in, char *out, size_t len) {
    size_t o = 0;
    if (!len)
        return;
    for (const char *p = in; *p && o + 1 < len;) {
        const char *sep = strstr(p, "://");
        if (!sep) {
            o += (size_t)snprintf(out + o, len - o, "%s", p);
            break;
        }
        const char *auth = sep + 3;
        size_t alen = strcspn(auth, "/?#'\" \t\r\n");
        const char *at = NULL;
        for (const char *q = auth; q < auth + alen; q++)
            if (*q == '@')
                at = q;
        if (!at) {
            o += (size_t)snprintf(out + o, len - o, "%.*s", (int)(auth - p), p);
            p = auth;
        } else {
            o += (size_t)snprintf(out + o, len - o, "%.*s***", (int)(auth - p), p);
            p = at;
        }
        if (o >= len)
            o = len - 1;
    }
    out[o < len ? o : len - 1] = '\0';
}

/* After curl returned: finished transfers get on_done, transfers cancelled meanwhile go, and
 * those that got bytes in this pass get on_read_end. */
static void after_curl(struct upstream_curl *uc) {
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(uc->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result; /* copied before the handle goes */
        struct upstream_xfer_curl *x = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        if (!x)
            continue;
        if (x->cancelled) {
            xfer_unlink_free(x);
            continue;
        }
        enum upstream_result r = map_result(rc, x);
        char said[CURL_ERROR_SIZE];
        redact_userinfo(x->error, said, sizeof(said));
        if (r == UPSTREAM_ABORTED)
            snprintf(x->why, sizeof(x->why), "%s", "stopped by the receiver");
        else if (!x->why[0] &&
                 (rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR))
            /* the builtin client's words, curl's detail */
            snprintf(x->why, sizeof(x->why), "Ollama closed the connection %s: %.100s",
                     x->answered ? "mid-answer" : "before answering",
                     said[0] ? said : curl_easy_strerror(rc));
        const char *detail = x->why[0] ? x->why : said[0] ? said : curl_easy_strerror(rc);
        xfer_report(x, r, detail);
    }
    for (struct upstream_xfer_curl *x = uc->live, *next; x; x = next) {
        next = x->next;
        if (x->cancelled)
            xfer_unlink_free(x);
    }
    while (uc->touched) {
        struct upstream_xfer_curl *x = uc->touched;
        touched_remove(x);
        if (x->cbs->on_read_end)
            x->cbs->on_read_end(x->ctx, PUB(x));
    }
}

static void socket_action(struct upstream_curl *uc, curl_socket_t s, int flags) {
    int running;
    uc->in_curl++;
    curl_multi_socket_action(uc->multi, s, flags, &running);
    uc->in_curl--;
    after_curl(uc);
}

static void on_socket_ready(evutil_socket_t fd, short what, void *arg) {
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    socket_action(arg, fd, flags);
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    socket_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION: one non-repeating timer; never calls curl itself. */
static int on_curl_timer(CURLM *m, long ms, void *arg) {
    struct upstream_curl *uc = arg;
    (void)m;
    if (ms < 0)
        return evtimer_del(uc->timer);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return evtimer_add(uc->timer, &tv);
}

/* CURLMOPT_SOCKETFUNCTION: one struct event per socket, its argument uc (never the event). */
static int on_curl_socket(CURL *e, curl_socket_t s, int what, void *arg, void *sockp) {
    struct upstream_curl *uc = arg;
    struct event *ev = sockp;
    (void)e;
    if (what == CURL_POLL_REMOVE) {
        if (ev) {
            event_free(ev);
            curl_multi_assign(uc->multi, s, NULL);
        }
        return 0;
    }
    short kind =
        EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (!ev) {
        ev = event_new(uc->base, s, kind, on_socket_ready, uc);
        if (!ev)
            return -1;
        curl_multi_assign(uc->multi, s, ev);
    } else {
        event_del(ev);
        event_assign(ev, uc->base, s, kind, on_socket_ready, uc);
    }
    return event_add(ev, NULL);
}

static void on_read_timer(evutil_socket_t fd, short what, void *arg) {
    struct upstream_xfer_curl *x = arg;
    (void)fd;
    (void)what;
    if (!readtimer_fired(&x->rt))
        return; /* a read came meanwhile */
    snprintf(x->why, sizeof(x->why), "Ollama sent nothing for %ld ms (read_timeout)", x->rt.ms);
    xfer_report(x, UPSTREAM_TIMEOUT, x->why);
}

static void on_unpause(evutil_socket_t fd, short what, void *arg) {
    struct upstream_xfer_curl *x = arg;
    struct upstream_curl *uc = x->uc;
    (void)fd;
    (void)what;
    if (x->paused)
        return; /* paused again before this ran */
    rtimer_arm(x);
    uc->in_curl++;
    curl_easy_pause(x->easy, CURLPAUSE_CONT); /* may call on_data for held bytes */
    uc->in_curl--;
    after_curl(uc);
}

/* CURLOPT_PREREQFUNCTION: connected (TLS done), the request goes now: Ollama's silence counts. */
static int on_prereq(void *arg, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                     int conn_local_port) {
    struct upstream_xfer_curl *x = arg;
    (void)conn_primary_ip;
    (void)conn_local_ip;
    (void)conn_primary_port;
    (void)conn_local_port;
    if (!x->rt.on)
        rtimer_arm(x);
    return CURL_PREREQFUNC_OK;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg) {
    struct upstream_xfer_curl *x = arg;
    size_t room = size * n, left = x->body_len - x->body_off;
    size_t k = left < room ? left : room;
    if (k) {
        memcpy(buf, x->body + x->body_off, k);
        x->body_off += k;
        x->body_sent = 1;
    }
    return k;
}

/* curl rewinds the body to send the request again on a fresh connection after a kept-alive
 * one died before any answer byte: allowed when nothing of it went out, or it is replayable
 * (else the transfer fails instead of sending, say, a model deletion twice). */
static int on_seek(void *arg, curl_off_t off, int origin) {
    struct upstream_xfer_curl *x = arg;
    if (off != 0 || origin != SEEK_SET)
        return CURL_SEEKFUNC_CANTSEEK;
    if (x->body_sent && !x->replayable) {
        snprintf(x->why, sizeof(x->why), "%s",
                 "Ollama closed a kept-alive connection after part of the request was sent "
                 "(not sent again: it is not replayable)");
        return CURL_SEEKFUNC_FAIL;
    }
    x->body_off = 0;
    x->body_sent = 0;
    return CURL_SEEKFUNC_OK;
}

/* CURLOPT_HEADERFUNCTION: every line of every head (1xx, the final one) and of the trailers.
 * The same cap as the builtin client's, HTTP1_HEAD_MAX a head (and for the trailers, which
 * curl keeps too), so a hostile upstream's endless head ends at 32 KiB. */
static size_t on_header(char *buf, size_t size, size_t n, void *arg) {
    struct upstream_xfer_curl *x = arg;
    size_t len = size * n;
    x->answered = 1;
    rtimer_read(x);
    if (len > 5 && strncmp(buf, "HTTP/", 5) == 0 && !x->head_over)
        x->head_bytes = 0; /* a new head (after a 1xx) */
    x->head_bytes += len;
    if (x->head_bytes > HTTP1_HEAD_MAX) {
        snprintf(x->why, sizeof(x->why), "Ollama's answer headers exceed %d bytes", HTTP1_HEAD_MAX);
        return 0;
    }
    if (x->head_over) /* trailers: read by neither client */
        return len;
    if (len > 13 && strncasecmp(buf, "content-type:", 13) == 0) {
        const char *v = buf + 13;
        size_t vl = len - 13;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && isspace((unsigned char)v[vl - 1]))
            vl--;
        if (vl >= sizeof(x->content_type))
            vl = sizeof(x->content_type) - 1;
        memcpy(x->content_type, v, vl);
        x->content_type[vl] = '\0';
    } else if (len > 5 && strncmp(buf, "HTTP/", 5) == 0) {
        x->content_type[0] = '\0'; /* a new answer (after a 1xx) */
        x->status = 0;
        const char *sp = memchr(buf, ' ', len);
        x->head_1xx = sp && len - (size_t)(sp - buf) > 4 && sp[1] == '1';
        if (x->head_1xx && strncmp(sp + 1, "101", 3) == 0) {
            /* never asked for: curl would take it as the answer; the connection is closed */
            snprintf(x->why, sizeof(x->why), "%s",
                     "Ollama switched protocols (101) without being asked");
            return 0;
        }
    } else if ((len == 2 && buf[0] == '\r') || (len == 1 && buf[0] == '\n')) {
        if (!x->head_1xx) { /* the final head's end: trailers may follow */
            x->head_over = 1;
            x->head_bytes = 0;
        }
    }
    return len;
}

static void learn_head(struct upstream_xfer_curl *x) {
    curl_off_t cl = -1;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
    if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) != CURLE_OK)
        cl = -1;
    x->content_length = cl;
}

static size_t on_write(char *buf, size_t size, size_t n, void *arg) {
    struct upstream_xfer_curl *x = arg;
    size_t len = size * n;
    if (x->cancelled)
        return CURL_WRITEFUNC_ERROR;
    if (!x->status)
        learn_head(x);
    rtimer_read(x);
    if (x->cbs->on_data && x->cbs->on_data(x->ctx, PUB(x), buf, len) < 0) {
        x->aborted = 1;
        return CURL_WRITEFUNC_ERROR;
    }
    if (!x->touched && x->cbs->on_read_end) {
        struct upstream_curl *uc = x->uc;
        x->touched = 1;
        x->tprev = NULL;
        x->tnext = uc->touched;
        if (uc->touched)
            uc->touched->tprev = x;
        uc->touched = x;
    }
    return len;
}

/* ---- the backend ---- */

static int curl_ready;

struct upstream_curl *upstream_curl_new(struct event_base *base, char *err, size_t errlen) {
    if (!curl_ready) {
        const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
        if (v->version_num < 0x075800) { /* 7.87 broke socket_action (curl#10146) */
            snprintf(err, errlen, "libcurl %s is too old (want 7.88 or newer)", v->version);
            return NULL;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            set_err(err, errlen, "cannot initialise libcurl");
            return NULL;
        }
        curl_ready = 1;
        log_info("msg=\"upstream client: libcurl\" libcurl=%s tls=\"%s\"", v->version,
                 v->ssl_version ? v->ssl_version : "none");
    }
    struct upstream_curl *uc = calloc(1, sizeof(*uc));
    if (!uc) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    uc->base = base;
    uc->multi = curl_multi_init();
    uc->timer = evtimer_new(base, on_timer, uc);
    if (!uc->multi || !uc->timer) {
        set_err(err, errlen, "cannot initialise libcurl's multi interface");
        upstream_curl_free(uc);
        return NULL;
    }
    curl_multi_setopt(uc->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(uc->multi, CURLMOPT_SOCKETDATA, uc);
    curl_multi_setopt(uc->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(uc->multi, CURLMOPT_TIMERDATA, uc);
    /* No CURLMOPT_MAXCONNECTS: curl's default cache (4x the transfers) keeps a connection per
     * stream; a small cap makes every finished transfer scan all open connections while more
     * than the cap are open. (Each new transfer still scans them: see docs/benchmarks.md.) */
    return uc;
}

/* *dst = a copy of src (NULL or "" for none). */
static int copy_opt(char **dst, const char *src) {
    char *c = NULL;
    if (src && *src && !(c = strdup(src)))
        return -1;
    free(*dst);
    *dst = c;
    return 0;
}

int upstream_curl_set_base(struct upstream_curl *uc, const char *base_url,
                           const struct upstream_opts *opts, char *err, size_t errlen) {
    struct xheaders xh = {0};
    struct curl_slist *extra = NULL;
    if (xheaders_set(&xh, opts->extra_headers, NULL, 0) < 0)
        return set_err(err, errlen, "upstream_header: a line is empty or not \"Name: value\"");
    for (size_t i = 0; opts->extra_headers && opts->extra_headers[i]; i++) {
        struct curl_slist *l = curl_slist_append(extra, opts->extra_headers[i]);
        if (!l) {
            curl_slist_free_all(extra);
            xheaders_free(&xh);
            return set_err(err, errlen, "out of memory");
        }
        extra = l;
    }
    if (copy_opt(&uc->base_url, base_url) < 0 || copy_opt(&uc->ca_file, opts->ca_file) < 0 ||
        copy_opt(&uc->client_cert, opts->client_cert) < 0 ||
        copy_opt(&uc->client_key, opts->client_key) < 0 || !uc->base_url) {
        curl_slist_free_all(extra);
        xheaders_free(&xh);
        return set_err(err, errlen, "out of memory");
    }
    xheaders_free(&uc->xh);
    uc->xh = xh;
    curl_slist_free_all(uc->extra);
    uc->extra = extra;
    uc->insecure = opts->insecure;
    uc->opts = *opts;
    uc->opts.ca_file = uc->opts.client_cert = uc->opts.client_key = NULL; /* borrowed: gone */
    uc->opts.extra_headers = NULL;
    uc->read_tv = NULL;
    if (opts->read_timeout_ms > 0) {
        struct timeval tv = {opts->read_timeout_ms / 1000, (opts->read_timeout_ms % 1000) * 1000};
        uc->read_tv = event_base_init_common_timeout(uc->base, &tv);
    }
    return 0;
}

void upstream_curl_free(struct upstream_curl *uc) {
    if (!uc)
        return;
    while (uc->live)
        xfer_unlink_free(uc->live);
    while (uc->nidle)
        curl_easy_cleanup(uc->idle[--uc->nidle]);
    if (uc->multi)
        curl_multi_cleanup(uc->multi); /* may call on_curl_socket(REMOVE): before the timer */
    if (uc->timer)
        event_free(uc->timer);
    xheaders_free(&uc->xh);
    curl_slist_free_all(uc->extra);
    free(uc->base_url);
    free(uc->ca_file);
    free(uc->client_cert);
    free(uc->client_key);
    free(uc);
    if (curl_ready) {
        curl_global_cleanup();
        curl_ready = 0;
    }
}

static int has_header(const char *const *headers, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; headers && headers[i]; i++)
        if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':')
            return 1;
    return 0;
}

/* x->headers: the caller's, upstream_header's in place of a caller's of the same name, and
 * curl's defaults switched off (no "Expect: 100-continue" round trip, no "Accept: * / *"). */
static int build_headers(struct upstream_xfer_curl *x, const char *const *headers) {
    struct curl_slist *l;
    const struct xheaders *xh = &x->uc->xh;
    for (size_t i = 0; headers && headers[i]; i++) {
        if (!xheaders_line_ok(headers[i])) {
            errno = EINVAL;
            return -1;
        }
        if (xh->n && xheaders_replaces(xh, headers[i]))
            continue;
        if (!(l = curl_slist_append(x->headers, headers[i])))
            goto oom;
        x->headers = l;
    }
    for (const struct curl_slist *e = x->uc->extra; e; e = e->next) {
        if (!(l = curl_slist_append(x->headers, e->data)))
            goto oom;
        x->headers = l;
    }
    if (!(l = curl_slist_append(x->headers, "Expect:")))
        goto oom;
    x->headers = l;
    if (!has_header(headers, "Accept")) {
        if (!(l = curl_slist_append(x->headers, "Accept:")))
            goto oom;
        x->headers = l;
    }
    return 0;
oom:
    errno = ENOMEM;
    return -1;
}

static void easy_setup(struct upstream_xfer_curl *x, const char *method, const char *url) {
    struct upstream_curl *uc = x->uc;
    CURL *e = x->easy;
    int has_body = x->body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
        /* The body through the read callback, so a resend can be refused (on_seek). */
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, x);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    /* the path byte for byte as the builtin client sends it (no "/../" folding by curl after
     * keepwarm routed and checked it) */
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    /* HTTP/1.1 even over TLS: a paused HTTP/2 stream may buffer its whole window */
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
    curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS,
                     1L); /* a proxy's answer is not Ollama's */
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->error);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, KEEPIDLE_S);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, KEEPINTVL_S);
    /* upstream_idle_timeout: a kept-alive connection idle longer is not reused (7.65+). */
    curl_easy_setopt(e, CURLOPT_MAXAGE_CONN,
                     x->uc->opts.idle_timeout_ms > 0 ? (x->uc->opts.idle_timeout_ms + 999) / 1000
                                                     : 60L);
    /* Ollama's lines are short: an 8 KiB receive buffer (not 16) halves the memory each of
     * many concurrent streams holds. */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 8192L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     uc->opts.connect_timeout_ms > 0 ? uc->opts.connect_timeout_ms : 300000L);
    if (uc->opts.timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, uc->opts.timeout_ms);
    if (uc->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, uc->ca_file);
    if (uc->client_cert)
        curl_easy_setopt(e, CURLOPT_SSLCERT, uc->client_cert);
    if (uc->client_key)
        curl_easy_setopt(e, CURLOPT_SSLKEY, uc->client_key);
    if (uc->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

struct upstream_xfer *upstream_curl_start(struct upstream_curl *uc, const char *method,
                                          const char *path, const char *const *headers,
                                          const char *body, size_t len,
                                          const struct upstream_cbs *cbs, void *ctx, char *err,
                                          size_t errlen) {
    char url[URL_MAX];
    if (strpbrk(method, " \r\n") || strpbrk(path, " \r\n")) {
        set_err(err, errlen, "invalid request line");
        errno = EINVAL;
        return NULL;
    }
    if ((size_t)snprintf(url, sizeof(url), "%s%s", uc->base_url, path) >= sizeof(url)) {
        set_err(err, errlen, "request path too long");
        errno = EMSGSIZE;
        return NULL;
    }
    struct upstream_xfer_curl *x = calloc(1, sizeof(*x));
    if (!x) {
        set_err(err, errlen, "out of memory");
        errno = ENOMEM;
        return NULL;
    }
    x->hdr.ops = &curl_xfer_ops;
    x->uc = uc;
    x->cbs = cbs;
    x->ctx = ctx;
    x->body = body;
    x->body_len = body ? len : 0;
    x->content_length = -1;
    x->replayable = upstream_method_replayable(method);
    readtimer_init(&x->rt, uc->base, uc->opts.read_timeout_ms, on_read_timer, x);
    event_assign(&x->unpause, uc->base, -1, 0, on_unpause, x);
    if (build_headers(x, headers) < 0) {
        int e = errno;
        set_err(err, errlen, e == EINVAL ? "invalid request header" : "out of memory");
        curl_slist_free_all(x->headers);
        free(x);
        errno = e;
        return NULL;
    }
    x->easy = uc->nidle ? uc->idle[--uc->nidle] : curl_easy_init();
    if (!x->easy) {
        set_err(err, errlen, "out of memory");
        curl_slist_free_all(x->headers);
        free(x);
        errno = ENOMEM;
        return NULL;
    }
    easy_setup(x, method, url);
    if (curl_multi_add_handle(uc->multi, x->easy) != CURLM_OK) {
        set_err(err, errlen, "cannot start a libcurl transfer");
        curl_easy_cleanup(x->easy);
        curl_slist_free_all(x->headers);
        free(x);
        errno = ENOMEM;
        return NULL;
    }
    x->next = uc->live;
    if (uc->live)
        uc->live->prev = x;
    uc->live = x;
    uc->nlive++;
    return PUB(x);
}

/* ---- per transfer (through upstream.c) ---- */

static void curl_cancel(struct upstream_xfer *px) {
    struct upstream_xfer_curl *x = XC(px);
    if (x->uc->in_curl) { /* inside curl: parked, removed when it returns */
        x->cancelled = 1;
        touched_remove(x);
        rtimer_stop(x);
        event_del(&x->unpause);
        return;
    }
    xfer_unlink_free(x);
}

static void curl_pause(struct upstream_xfer *px) {
    struct upstream_xfer_curl *x = XC(px);
    if (x->paused)
        return;
    x->paused = 1;
    rtimer_stop(x);
    event_del(&x->unpause);
    curl_easy_pause(x->easy, CURLPAUSE_RECV);
}

static void curl_resume(struct upstream_xfer *px) {
    struct upstream_xfer_curl *x = XC(px);
    if (!x->paused)
        return;
    x->paused = 0;
    event_active(&x->unpause, EV_TIMEOUT, 1); /* curl may call on_data: not before we return */
}

static int curl_paused(const struct upstream_xfer *px) {
    return XCC(px)->paused;
}

static void curl_set_read_timeout(struct upstream_xfer *px, long ms) {
    struct upstream_xfer_curl *x = XC(px);
    readtimer_set(&x->rt, ms, x->uc->read_tv, x->uc->opts.read_timeout_ms);
}

static void curl_set_replayable(struct upstream_xfer *px, int replayable) {
    XC(px)->replayable = replayable;
}

static long curl_status(const struct upstream_xfer *px) {
    const struct upstream_xfer_curl *x = XCC(px);
    long status = x->status;
    if (!status && x->answered) /* no body came (HEAD, 204): ask curl */
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static const char *curl_content_type(const struct upstream_xfer *px) {
    return XCC(px)->content_type;
}

static long long curl_content_length(const struct upstream_xfer *px) {
    const struct upstream_xfer_curl *x = XCC(px);
    if (x->status || !x->answered)
        return x->content_length;
    curl_off_t cl = -1; /* no body came: ask curl */
    if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) != CURLE_OK)
        cl = -1;
    return cl;
}

static int curl_answered(const struct upstream_xfer *px) {
    return XCC(px)->answered;
}

static const struct upstream_xfer_ops curl_xfer_ops = {
    .cancel = curl_cancel,
    .pause = curl_pause,
    .resume = curl_resume,
    .paused = curl_paused,
    .set_read_timeout = curl_set_read_timeout,
    .set_replayable = curl_set_replayable,
    .status = curl_status,
    .content_type = curl_content_type,
    .content_length = curl_content_length,
    .answered = curl_answered,
};
