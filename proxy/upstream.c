/* upstream: libcurl multi on libevent. Owns the CURLM, one struct event per socket that curl
 * asks about, one timer, and every transfer (easy handle + header list + error
 * buffer, freed together after curl_multi_remove_handle). */
#include "upstream.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

#define EASY_POOL 64 /* idle easy handles kept: curl_easy_init is a large allocation */

struct upstream_xfer {
    struct upstream *u;
    CURL *easy;
    struct curl_slist *headers;
    const struct upstream_cbs *cbs;
    void *ctx;
    long status;
    int paused;
    int aborted;
    char content_type[128];
    char error[CURL_ERROR_SIZE];
    struct upstream_xfer *prev, *next; /* live list */
};

struct upstream {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    char *base_url;
    struct upstream_opts opts;
    struct upstream_xfer *live;
    size_t nlive;
    CURL *idle[EASY_POOL]; /* reset easy handles kept for the next transfers */
    size_t nidle;
};

static int set_err(char *err, size_t errlen, const char *msg) {
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

static void xfer_unlink_free(struct upstream_xfer *x) {
    struct upstream *u = x->u;
    if (x->prev)
        x->prev->next = x->next;
    else
        u->live = x->next;
    if (x->next)
        x->next->prev = x->prev;
    u->nlive--;
    curl_multi_remove_handle(u->multi, x->easy);
    if (u->nidle < EASY_POOL) {
        curl_easy_reset(x->easy); /* connections live in the multi's cache, not here */
        u->idle[u->nidle++] = x->easy;
    } else {
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->headers);
    free(x);
}

static enum upstream_result map_result(CURLcode rc, int aborted) {
    switch (rc) {
        case CURLE_OK:
            return UPSTREAM_OK;
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            return UPSTREAM_REFUSED;
        case CURLE_OPERATION_TIMEDOUT:
            return UPSTREAM_TIMEOUT;
        case CURLE_WRITE_ERROR:
            return aborted ? UPSTREAM_ABORTED : UPSTREAM_BROKEN;
        default:
            return UPSTREAM_BROKEN;
    }
}

/* Reports finished transfers. Runs after curl_multi_socket_action returned, never inside it. */
static void drain_done(struct upstream *u) {
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(u->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result; /* copy before the handle goes */
        struct upstream_xfer *x = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        if (!x)
            continue;
        curl_multi_remove_handle(u->multi, easy);
        enum upstream_result r = map_result(rc, x->aborted);
        const char *detail = x->error[0] ? x->error : curl_easy_strerror(rc);
        if (r != UPSTREAM_OK)
            log_debug("msg=\"upstream transfer failed\" curl=%d detail=\"%s\"", (int)rc, detail);
        if (x->cbs->on_done)
            x->cbs->on_done(x->ctx, x, r, r == UPSTREAM_OK ? "" : detail);
        xfer_unlink_free(x);
    }
}

static void on_socket_ready(evutil_socket_t fd, short what, void *arg) {
    struct upstream *u = arg;
    int running;
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    curl_multi_socket_action(u->multi, fd, flags, &running);
    drain_done(u);
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
    struct upstream *u = arg;
    int running;
    (void)fd;
    (void)what;
    curl_multi_socket_action(u->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain_done(u);
}

static int on_curl_timer(CURLM *m, long ms, void *arg) {
    struct upstream *u = arg;
    (void)m;
    if (ms < 0)
        return evtimer_del(u->timer);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return evtimer_add(u->timer, &tv);
}

static int on_curl_socket(CURL *e, curl_socket_t s, int what, void *arg, void *sockp) {
    struct upstream *u = arg;
    struct event *ev = sockp;
    (void)e;
    if (what == CURL_POLL_REMOVE) {
        if (ev)
            event_free(ev);
        curl_multi_assign(u->multi, s, NULL);
        return 0;
    }
    short kind =
        EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (!ev) {
        ev = event_new(u->base, s, kind, on_socket_ready, u);
        if (!ev)
            return -1;
        curl_multi_assign(u->multi, s, ev);
    } else {
        event_del(ev);
        event_assign(ev, u->base, s, kind, on_socket_ready, u);
    }
    return event_add(ev, NULL);
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg) {
    struct upstream_xfer *x = arg;
    size_t len = size * n;
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
        x->content_type[0] = '\0'; /* a new response (after 1xx) */
    }
    return len;
}

static size_t on_write(char *buf, size_t size, size_t n, void *arg) {
    struct upstream_xfer *x = arg;
    size_t len = size * n;
    if (!x->status)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
    if (x->cbs->on_data && x->cbs->on_data(x->ctx, x, buf, len) < 0) {
        x->aborted = 1;
        return CURL_WRITEFUNC_ERROR;
    }
    return len;
}

struct upstream *upstream_new(struct event_base *base, const char *base_url,
                              const struct upstream_opts *opts, char *err, size_t errlen) {
    struct upstream *u = calloc(1, sizeof(*u));
    if (!u) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    u->base = base;
    u->multi = curl_multi_init();
    u->timer = evtimer_new(base, on_timer, u);
    if (!u->multi || !u->timer || upstream_set_base(u, base_url, opts) < 0) {
        set_err(err, errlen, "cannot initialise libcurl multi");
        upstream_free(u);
        return NULL;
    }
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETDATA, u);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERDATA, u);
    /* No CURLMOPT_MAXCONNECTS: curl's default cache (4x the transfers) keeps a connection per
     * stream; a small cap makes every finished transfer scan all open connections while more
     * than the cap are open. (Each new transfer still scans them: see docs/benchmarks.md.) */
    return u;
}

int upstream_set_base(struct upstream *u, const char *base_url, const struct upstream_opts *opts) {
    char *copy = strdup(base_url);
    if (!copy)
        return -1;
    free(u->base_url);
    u->base_url = copy;
    u->opts = *opts;
    return 0;
}

void upstream_free(struct upstream *u) {
    if (!u)
        return;
    while (u->live)
        xfer_unlink_free(u->live);
    while (u->nidle)
        curl_easy_cleanup(u->idle[--u->nidle]);
    if (u->multi)
        curl_multi_cleanup(u->multi);
    if (u->timer)
        event_free(u->timer);
    free(u->base_url);
    free(u);
}

struct upstream_xfer *upstream_start(struct upstream *u, const char *method, const char *path,
                                     const char *const *headers, const char *body, size_t len,
                                     const struct upstream_cbs *cbs, void *ctx, char *err,
                                     size_t errlen) {
    struct upstream_xfer *x = calloc(1, sizeof(*x));
    char url[4096];
    if (!x) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    x->u = u;
    x->cbs = cbs;
    x->ctx = ctx;
    if ((size_t)snprintf(url, sizeof(url), "%s%s", u->base_url, path) >= sizeof(url)) {
        set_err(err, errlen, "request path too long");
        goto fail;
    }
    x->easy = u->nidle ? u->idle[--u->nidle] : curl_easy_init();
    if (!x->easy) {
        set_err(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; headers && headers[i]; i++) {
        struct curl_slist *h = curl_slist_append(x->headers, headers[i]);
        if (!h) {
            set_err(err, errlen, "out of memory");
            goto fail;
        }
        x->headers = h;
    }
    /* No "Expect: 100-continue" round trip, and no Accept default. */
    x->headers = curl_slist_append(x->headers, "Expect:");
    if (body) {
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, body); /* borrowed, not copied */
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(x->easy, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") == 0 && !body)
        curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "POST") != 0 || !body)
        curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(x->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->error);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_TCP_NODELAY, 1L);
    /* Ollama's lines are short: an 8 KiB receive buffer (not 16) halves the memory each of
     * many concurrent streams holds. */
    curl_easy_setopt(x->easy, CURLOPT_BUFFERSIZE, 8192L);
    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, NULL);
    if (u->opts.connect_timeout_ms > 0)
        curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, u->opts.connect_timeout_ms);
    if (u->opts.timeout_ms > 0)
        curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, u->opts.timeout_ms);
    if (curl_multi_add_handle(u->multi, x->easy) != CURLM_OK) {
        set_err(err, errlen, "cannot start transfer");
        goto fail;
    }
    x->next = u->live;
    if (u->live)
        u->live->prev = x;
    u->live = x;
    u->nlive++;
    return x;
fail:
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x);
    return NULL;
}

void upstream_cancel(struct upstream_xfer *x) {
    if (!x)
        return;
    /* Removing the handle mid-transfer closes its connection: Ollama sees the client go. */
    xfer_unlink_free(x);
}

void upstream_pause(struct upstream_xfer *x) {
    if (x->paused)
        return;
    if (curl_easy_pause(x->easy, CURLPAUSE_RECV) == CURLE_OK)
        x->paused = 1;
}

void upstream_resume(struct upstream_xfer *x) {
    if (!x->paused)
        return;
    x->paused = 0;
    curl_easy_pause(x->easy, CURLPAUSE_CONT);
}

int upstream_paused(const struct upstream_xfer *x) {
    return x->paused;
}

long upstream_status(const struct upstream_xfer *x) {
    long status = x->status;
    if (!status) /* no body came (HEAD, 204): ask curl */
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

const char *upstream_content_type(const struct upstream_xfer *x) {
    return x->content_type;
}

size_t upstream_active(const struct upstream *u) {
    return u->nlive;
}
