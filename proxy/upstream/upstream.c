/* upstream: a small HTTP/1.1 client for Ollama on the server's libevent loop. Owns every
 * socket to Ollama (one struct conn each, busy or idle), every transfer, the read buffer all
 * connections share, and the queue of transfers waiting for a free file descriptor.
 *
 * A transfer: its request head (method, path, headers; built once at upstream_start, stored
 * after the struct), the borrowed body, and the answer parser (status line and headers, then a
 * Content-Length body, a chunked body, or a body up to EOF). Connections to Ollama are kept
 * alive and reused (LIFO, at most IDLE_MAX idle, none older than idle_timeout_ms, swept by a
 * timer); an idle connection stays registered for reading, so an Ollama restart closes it at
 * once instead of failing the next request, and has TCP keepalive, so a vanished peer is
 * found too. Every request carries the configured headers (upstream_opts.extra_headers, and the
 * base URL's user:password as Basic auth), which replace a caller's of the same name.
 *
 * Timeouts: the transfer's timer (request_timeout, and the wait for a descriptor), the read
 * timer (read_timeout: armed while the request is being sent and again at every read, off while
 * paused or without a connection), the connection's connect timeout.
 *
 * Callbacks: on_data runs from the read handler; on_done only ever from one of this file's
 * event callbacks (read, write, timer, deferred), never inside an API call, so callers can
 * start, cancel and free from the API without reentrancy.
 *
 * Backends: base URLs this client does not take (https://, or all with upstream_client =
 * curl) go to upstream_curl.c; the public functions forward a transfer of its kind through
 * its ops (upstream_curl.h), the rest of this file is the builtin client alone. */
#include "upstream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event_struct.h> /* struct event embedded: one allocation per connection */
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "http1.h"
#include "log.h"
#include "lookup.h"
#include "readtimer.h"
#include "upstream_curl.h"
#include "xheaders.h"

#define READ_BUF        (64 * 1024) /* one recv; shared by every connection (one thread) */
#define REQ_HEAD_MAX    (64 * 1024) /* a request's line and headers */
#define IDLE_MAX        256         /* idle connections kept for reuse */
#define MAX_ADDRS       8           /* addresses of Ollama's host name kept */
#define RESOLVE_AGAIN_S 10          /* a failing name is resolved again at most this often */
#define FD_WAIT_MAX     4096  /* transfers waiting for a descriptor (EMFILE); more fail at once */
#define IDLE_AGE_MS     60000 /* upstream_opts.idle_timeout_ms's default */
#define ADDR_TRY_MS     2000  /* connect to one of several addresses (not the last) */
/* TCP keepalive on every connection: a peer that vanishes without a reset (a host switched
 * off, a NAT or firewall that forgot the flow) is found after KEEPIDLE_S of silence plus
 * KEEPCNT unanswered probes KEEPINTVL_S apart, instead of the kernel's 2 h + 11 min. */
#define KEEPIDLE_S  30
#define KEEPINTVL_S 10
#define KEEPCNT     3

struct conn {
    struct upstream *u;
    evutil_socket_t fd;
    struct event rev;        /* EV_READ|EV_PERSIST from connect until close (idle too) */
    struct event wev;        /* connect completion (with connect_timeout) and partial writes */
    struct upstream_xfer *x; /* the transfer using it, NULL while idle */
    unsigned gen;            /* upstream's base generation when opened */
    int connecting;
    int reused;        /* served an earlier transfer */
    int addr_idx;      /* which of upstream's addresses */
    long connect_ms;   /* this attempt's connect timeout */
    long long idle_at; /* monotonic ms when it went idle */
    struct conn *next; /* idle stack, newest first */
};

/* Transfers waiting for something before they can connect, first come first served. A
 * transfer waits in at most one queue at a time (for an address, then for a descriptor). */
struct xqueue {
    struct upstream_xfer *head, *tail;
    size_t n;
};

struct upstream_xfer {
    struct upstream_xfer_hdr hdr; /* ops NULL: this client's */
    struct upstream *u;
    struct conn *c; /* NULL until a connection is assigned, and after */
    const struct upstream_cbs *cbs;
    void *ctx;
    /* the request */
    const char *body; /* borrowed */
    size_t body_len;
    size_t head_len;
    size_t sent;    /* of head_len + body_len */
    int retried;    /* once, on a reused connection that died before any answer byte */
    int replayable; /* may be sent again even when some of it was written (upstream.h) */
    int tries;      /* addresses that failed for this connection attempt */
    int first_addr; /* the address it started from (upstream's pref may move meanwhile) */
    /* the answer */
    struct http1_answer ans;
    int got_bytes;
    int paused;
    /* endings */
    struct event timer; /* request timeout; also the wait for a descriptor */
    int timer_on;
    struct readtimer rt; /* read timeout: Ollama silent for rt.ms */
    struct event defer;  /* reports a failure found inside an API call */
    enum upstream_result result;
    char error[256];
    struct upstream_xfer *prev, *next; /* live list */
    struct xqueue *queue; /* the queue it waits in (a descriptor, an address), or NULL */
    struct upstream_xfer *qprev, *qnext;
    char head[]; /* the request head, head_len bytes */
};

struct upstream {
    struct event_base *base;
    char *base_url;
    char scheme_host[256]; /* "127.0.0.1:11434": the Host header */
    char host[256];
    char port[8];
    char prefix[512]; /* path prefix from the base URL, "" usually */
    /* Headers sent on every request (upstream_opts.extra_headers, and the base URL's
     * credentials as Basic auth), replacing a caller's of the same name. Secrets: never logged. */
    struct xheaders xh;
    /* opts.read_timeout_ms as a libevent common timeout, for readtimer_arm: every transfer's
     * timer in one O(1) queue rather than the heap (NULL: a plain timeval) */
    const struct timeval *read_tv;
    /* Ollama's addresses, tried in turn (localhost is often ::1 first, and Ollama listens
     * on 127.0.0.1); the one that last worked first. Resolved at the first connect, and again
     * (at most every RESOLVE_AGAIN_S) after every address failed. */
    struct sockaddr_storage addrs[MAX_ADDRS];
    socklen_t addrlens[MAX_ADDRS];
    int naddr;
    int pref;
    int stale;
    int numeric; /* the host is an address literal: never looked up */
    time_t resolved_at;
    struct lookup *lookup;   /* in flight */
    struct xqueue addr_wait; /* transfers waiting for it (no address yet) */
    unsigned gen;
    struct upstream_opts opts;
    struct upstream_xfer *live;
    size_t nlive;
    struct conn *idle; /* newest first: idle_at only decreases down the stack */
    size_t nidle;
    struct event sweep; /* closes connections idle over opts.idle_timeout_ms */
    int sweep_on;
    struct xqueue fd_wait;      /* transfers waiting for a descriptor */
    struct upstream_curl *curl; /* the libcurl backend, once a base URL wanted it */
    int use_curl;               /* new transfers go to it */
    char rbuf[READ_BUF];
};

static void conn_on_read(evutil_socket_t fd, short what, void *arg);
static void conn_on_write(evutil_socket_t fd, short what, void *arg);
static void xfer_connect(struct upstream_xfer *x);
static ssize_t send_some(struct upstream_xfer *x);
static int set_base(struct upstream *u, const char *base_url, const struct upstream_opts *opts,
                    char *err, size_t errlen);
static int builtin_set_base(struct upstream *u, const char *base_url,
                            const struct upstream_opts *opts);
static void xfer_send(struct upstream_xfer *x);
static void read_timer_stop(struct upstream_xfer *x);
static void timer_start(struct upstream_xfer *x, long ms);
static void lookup_begin(struct upstream *u);
static void lookup_wait(struct upstream_xfer *x);

static int set_err(char *err, size_t errlen, const char *msg) {
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

/* ---- connections ---- */

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long idle_max_ms(const struct upstream *u) {
    return u->opts.idle_timeout_ms > 0 ? u->opts.idle_timeout_ms : IDLE_AGE_MS;
}

static void wake_waiter(struct upstream *u);

static void conn_free(struct conn *c) {
    event_del(&c->rev);
    event_del(&c->wev);
    evutil_closesocket(c->fd);
    free(c);
}

/* Closes c; a transfer waiting for a descriptor gets the one this frees. */
static void conn_close(struct conn *c) {
    struct upstream *u = c->u;
    conn_free(c);
    wake_waiter(u);
}

static void queue_push(struct xqueue *q, struct upstream_xfer *x) {
    x->queue = q;
    x->qnext = NULL;
    x->qprev = q->tail;
    if (q->tail)
        q->tail->qnext = x;
    else
        q->head = x;
    q->tail = x;
    q->n++;
}

static void queue_remove(struct upstream_xfer *x) {
    struct xqueue *q = x->queue;
    if (x->qprev)
        x->qprev->qnext = x->qnext;
    else
        q->head = x->qnext;
    if (x->qnext)
        x->qnext->qprev = x->qprev;
    else
        q->tail = x->qprev;
    q->n--;
    x->queue = NULL;
}

static struct upstream_xfer *queue_pop(struct xqueue *q) {
    struct upstream_xfer *x = q->head;
    if (x)
        queue_remove(x);
    return x;
}

/* Back to the idle stack (or straight to a transfer waiting for a descriptor), or closed (too
 * many idle, or the base URL changed). */
static void conn_release(struct conn *c) {
    struct upstream *u = c->u;
    c->x = NULL;
    if (c->gen != u->gen || u->nidle >= IDLE_MAX) {
        conn_close(c);
        return;
    }
    event_del(&c->wev);
    if (event_add(&c->rev, NULL) < 0) { /* a resumed pause left it off */
        conn_close(c);
        return;
    }
    c->reused = 1;
    struct upstream_xfer *w = queue_pop(&u->fd_wait);
    if (w) {
        c->x = w;
        w->c = c;
        xfer_send(w);
        return;
    }
    c->idle_at = now_ms();
    c->next = u->idle;
    u->idle = c;
    u->nidle++;
    if (!u->sweep_on) {
        long ms = idle_max_ms(u);
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        u->sweep_on = evtimer_add(&u->sweep, &tv) == 0;
    }
}

/* Closes the idle connections older than idle_timeout (the stack's tail, newest first). A
 * proxy in front of Ollama closes idle connections after its own timeout (nginx 75 s, Node
 * 5 s); one closed as a request goes out costs a retry or, for a request that cannot be sent
 * twice, a 502. Ollama's own Go server sets no IdleTimeout. */
static void idle_prune(struct upstream *u) {
    long long limit = now_ms() - idle_max_ms(u);
    struct conn **p = &u->idle;
    while (*p && (*p)->idle_at > limit)
        p = &(*p)->next;
    struct conn *c = *p;
    *p = NULL;
    while (c) {
        struct conn *next = c->next;
        u->nidle--;
        conn_close(c);
        c = next;
    }
}

static void on_sweep(evutil_socket_t fd, short what, void *arg) {
    struct upstream *u = arg;
    (void)fd;
    (void)what;
    u->sweep_on = 0;
    idle_prune(u);
    if (u->idle) { /* again when the oldest left will have aged */
        struct conn *old = u->idle;
        while (old->next)
            old = old->next;
        long long ms = old->idle_at + idle_max_ms(u) - now_ms() + 1;
        if (ms < 1)
            ms = 1;
        struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
        u->sweep_on = evtimer_add(&u->sweep, &tv) == 0;
    }
}

static void close_idle(struct upstream *u) {
    while (u->idle) {
        struct conn *c = u->idle;
        u->idle = c->next;
        u->nidle--;
        conn_close(c);
    }
}

/* Keeps up to MAX_ADDRS of res as Ollama's addresses. Returns how many. */
static int addrs_store(struct upstream *u, const struct addrinfo *res) {
    int n = 0;
    for (const struct addrinfo *ai = res; ai && n < MAX_ADDRS; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(u->addrs[0]))
            continue;
        memcpy(&u->addrs[n], ai->ai_addr, ai->ai_addrlen);
        u->addrlens[n++] = ai->ai_addrlen;
    }
    if (n) {
        u->naddr = n;
        u->pref = 0;
        u->stale = 0;
    }
    return n;
}

/* An address literal ("127.0.0.1", "::1") needs no lookup: resolved here, once. */
static int resolve_numeric(struct upstream *u) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    if (getaddrinfo(u->host, u->port, &hints, &res) != 0)
        return -1;
    int n = addrs_store(u, res);
    freeaddrinfo(res);
    return n ? 0 : -1;
}

/* ---- transfers ---- */

static void xfer_unlink_free(struct upstream_xfer *x) {
    struct upstream *u = x->u;
    if (x->prev)
        x->prev->next = x->next;
    else
        u->live = x->next;
    if (x->next)
        x->next->prev = x->prev;
    u->nlive--;
    if (x->queue)
        queue_remove(x);
    if (x->timer_on)
        event_del(&x->timer);
    read_timer_stop(x);
    event_del(&x->defer);
    http1_answer_free(&x->ans);
    free(x);
}

/* The transfer is over: the connection goes back (reusable) or is closed, on_done runs, the
 * transfer is freed. Only from an event callback. */
static void xfer_finish(struct upstream_xfer *x, enum upstream_result r, int reusable) {
    struct conn *c = x->c;
    x->c = NULL;
    if (c) {
        c->x = NULL;
        if (reusable)
            conn_release(c);
        else
            conn_close(c);
    }
    if (r != UPSTREAM_OK && r != UPSTREAM_ABORTED)
        log_debug("msg=\"upstream transfer failed\" detail=\"%s\"", x->error);
    if (x->cbs->on_done)
        x->cbs->on_done(x->ctx, x, r, r == UPSTREAM_OK ? "" : x->error);
    xfer_unlink_free(x);
}

static void xfer_fail(struct upstream_xfer *x, enum upstream_result r, const char *fmt,
                      const char *arg) {
    snprintf(x->error, sizeof(x->error), fmt, arg);
    xfer_finish(x, r, 0);
}

static void on_deferred(evutil_socket_t fd, short what, void *arg) {
    struct upstream_xfer *x = arg;
    (void)fd;
    (void)what;
    xfer_finish(x, x->result, 0);
}

/* A failure found inside an API call is reported from the loop. */
static void xfer_defer_fail(struct upstream_xfer *x, enum upstream_result r, const char *msg) {
    if (x->c) {
        struct conn *c = x->c;
        x->c = NULL;
        c->x = NULL;
        conn_close(c);
    }
    x->result = r;
    snprintf(x->error, sizeof(x->error), "%s", msg);
    event_active(&x->defer, EV_TIMEOUT, 1);
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
    struct upstream_xfer *x = arg;
    (void)fd;
    (void)what;
    x->timer_on = 0;
    char msg[96];
    if (x->queue == &x->u->fd_wait) {
        snprintf(msg, sizeof(msg), "no free file descriptor within %ld ms", x->u->opts.timeout_ms);
        xfer_fail(x, UPSTREAM_TIMEOUT, "%s", msg);
        return;
    }
    snprintf(msg, sizeof(msg), "no complete answer within %ld ms", x->u->opts.timeout_ms);
    xfer_fail(x, UPSTREAM_TIMEOUT, "%s", msg);
}

static void timer_start(struct upstream_xfer *x, long ms) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (x->timer_on)
        event_del(&x->timer);
    x->timer_on = evtimer_add(&x->timer, &tv) == 0;
}

/* Ollama said nothing for rt.ms while the transfer waited on it: without this, an answer
 * that never comes (a hung Ollama, a proxy that holds the connection) holds the client for
 * ever when request_timeout is 0. */
static void on_read_timer(evutil_socket_t fd, short what, void *arg) {
    struct upstream_xfer *x = arg;
    (void)fd;
    (void)what;
    if (!readtimer_fired(&x->rt))
        return; /* a read came meanwhile */
    char msg[96];
    snprintf(msg, sizeof(msg), "Ollama sent nothing for %ld ms (read_timeout)", x->rt.ms);
    xfer_fail(x, UPSTREAM_TIMEOUT, "%s", msg);
}

/* Ollama has rt.ms from now to send something (a read moves it on; not while paused: then the
 * client is the one that is slow). */
static void read_timer_arm(struct upstream_xfer *x) {
    if (!x->paused)
        readtimer_arm(&x->rt, x->u->read_tv, x->u->opts.read_timeout_ms);
}

static void read_timer_stop(struct upstream_xfer *x) {
    readtimer_stop(&x->rt);
}

/* Waits for a descriptor (EMFILE/ENFILE): FIFO, woken by the next closed connection. */
/* Queues x for a descriptor: no time limit of its own (request_timeout, or the client leaving,
 * ends the wait), but at most FD_WAIT_MAX wait. Returns -1 when the queue is full. */
static int wait_for_fd(struct upstream_xfer *x) {
    struct upstream *u = x->u;
    if (u->fd_wait.n >= FD_WAIT_MAX)
        return -1;
    if (!u->fd_wait.n)
        log_warn("msg=\"out of descriptors: requests wait for a connection to Ollama to come "
                 "free\" transfers=%zu",
                 u->nlive);
    queue_push(&u->fd_wait, x);
    return 0;
}

static void wake_waiter(struct upstream *u) {
    struct upstream_xfer *x = queue_pop(&u->fd_wait);
    if (x)
        xfer_connect(x);
}

static void addr_worked(struct conn *c) {
    c->u->pref = c->addr_idx;
    c->u->stale = 0;
    c->x->tries = 0;
}

/* x's connection to one address failed: the next address, or the failure (deferred) once all
 * were tried; then the name is resolved again (a container may have moved). */
static void addr_failed(struct upstream_xfer *x, enum upstream_result r, const char *msg) {
    struct upstream *u = x->u;
    if (x->c) {
        struct conn *c = x->c;
        x->c = NULL;
        c->x = NULL;
        conn_close(c);
    }
    if (++x->tries < u->naddr) {
        xfer_connect(x);
        return;
    }
    x->tries = 0;
    u->stale = !u->numeric;
    xfer_defer_fail(x, r, msg);
}

/* The lookup's answer: new addresses, and the transfers that waited for them go on (or fail,
 * when the name has no address at all). */
static void on_resolved(void *arg, const struct addrinfo *res, int rc) {
    struct upstream *u = arg;
    char msg[200];
    u->lookup = NULL;
    if (!res || !addrs_store(u, res)) {
        snprintf(msg, sizeof(msg), "cannot resolve %.100s: %s", u->host,
                 rc ? gai_strerror(rc) : "no usable address");
        if (u->naddr)
            log_warn("msg=\"%s; keeping the addresses it had\"", msg);
    }
    /* Those waiting now; one that a callback below starts waits for a lookup of its own. */
    struct upstream_xfer *x;
    for (size_t n = u->addr_wait.n; n && (x = queue_pop(&u->addr_wait)); n--) {
        if (u->naddr)
            xfer_connect(x);
        else
            xfer_fail(x, UPSTREAM_REFUSED, "%s", msg);
    }
}

/* Starts looking Ollama's host name up (at most one lookup at a time). */
static void lookup_begin(struct upstream *u) {
    int rc = 0;
    u->resolved_at = time(NULL);
    u->lookup = lookup_start(u->base, u->host, u->port, on_resolved, u, &rc);
    if (u->lookup)
        return;
    char msg[200];
    snprintf(msg, sizeof(msg), "cannot resolve %.100s: %s", u->host, gai_strerror(rc));
    struct upstream_xfer *x;
    while ((x = queue_pop(&u->addr_wait))) /* deferred: this may run inside an upstream_* call */
        xfer_defer_fail(x, UPSTREAM_REFUSED, msg);
}

/* x needs an address and there is none yet: it waits for the lookup. */
static void lookup_wait(struct upstream_xfer *x) {
    struct upstream *u = x->u;
    queue_push(&u->addr_wait, x);
    if (!u->lookup)
        lookup_begin(u);
}

/* A new connection for x (or a queued wait for a descriptor). Failures are deferred. */
static void xfer_connect(struct upstream_xfer *x) {
    struct upstream *u = x->u;
    char err[256];
    read_timer_stop(x); /* connect_timeout, request_timeout or the client bound the waits */
    if (!u->naddr) {
        lookup_wait(x);
        return;
    }
    if (u->stale && !u->numeric && !u->lookup && time(NULL) - u->resolved_at >= RESOLVE_AGAIN_S)
        lookup_begin(u); /* in the background: this connection tries the addresses we have */
    if (!x->tries || x->first_addr >= u->naddr)
        x->first_addr = u->pref;
    int idx = (x->first_addr + x->tries) % u->naddr;
    int family = u->addrs[idx].ss_family;
    evutil_socket_t fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE) && upstream_close_idle(u))
        fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) {
        if ((errno == EMFILE || errno == ENFILE) && u->nlive > 1) {
            if (wait_for_fd(x) == 0)
                return; /* until another transfer's connection closes or comes free */
        }
        snprintf(err, sizeof(err), "socket: %s", strerror(errno));
        xfer_defer_fail(x, UPSTREAM_REFUSED, err);
        return;
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (!c) {
        evutil_closesocket(fd);
        xfer_defer_fail(x, UPSTREAM_REFUSED, "out of memory");
        return;
    }
    int one = 1, idle = KEEPIDLE_S, intvl = KEEPINTVL_S, cnt = KEEPCNT;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    c->u = u;
    c->fd = fd;
    c->addr_idx = idx;
    c->gen = u->gen;
    c->x = x;
    x->c = c;
    event_assign(&c->rev, u->base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
    event_assign(&c->wev, u->base, fd, EV_WRITE, conn_on_write, c);
    if (connect(fd, (struct sockaddr *)&u->addrs[idx], u->addrlens[idx]) == 0) {
        addr_worked(c);
        event_add(&c->rev, NULL);
        xfer_send(x);
        return;
    }
    /* On loopback the handshake is over before connect returns: send the request at once
     * instead of waiting a loop turn for writability. A socket still connecting says EAGAIN
     * (then we wait, under the connect timeout); a refused one gives connect's error. */
    ssize_t w = errno == EINPROGRESS ? send_some(x) : -1;
    if (w >= 0) {
        x->sent += (size_t)w;
        addr_worked(c);
        event_add(&c->rev, NULL);
        xfer_send(x);
        return;
    }
    if (errno != EINPROGRESS && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        snprintf(err, sizeof(err), "connect to %.100s: %s", u->scheme_host, strerror(errno));
        addr_failed(x, UPSTREAM_REFUSED, err);
        return;
    }
    c->connecting = 1;
    long ms = u->opts.connect_timeout_ms > 0 ? u->opts.connect_timeout_ms : 300000;
    /* Several addresses (a name with IPv6 and IPv4, or a few hosts): one that swallows the
     * handshake costs at most ADDR_TRY_MS before the next is tried; the last one gets the
     * whole connect_timeout. */
    if (x->tries + 1 < u->naddr && ms > ADDR_TRY_MS)
        ms = ADDR_TRY_MS;
    c->connect_ms = ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(&c->wev, &tv);
}

/* A connection for x: the most recently used idle one, else a new one. */
static void xfer_attach(struct upstream_xfer *x) {
    struct upstream *u = x->u;
    if (u->idle && u->idle->idle_at <= now_ms() - idle_max_ms(u))
        idle_prune(u); /* the sweep has not run yet: all of them are too old */
    struct conn *c = u->idle;
    if (!c) {
        xfer_connect(x);
        return;
    }
    u->idle = c->next;
    u->nidle--;
    c->next = NULL;
    c->x = x;
    x->c = c;
    xfer_send(x);
}

/* One sendmsg of what is left of head + body (at least one byte is left): sendmsg's result. */
static ssize_t send_some(struct upstream_xfer *x) {
    struct iovec iov[2];
    int n = 0;
    if (x->sent < x->head_len) {
        iov[n].iov_base = x->head + x->sent;
        iov[n++].iov_len = x->head_len - x->sent;
    }
    if (x->body_len) {
        size_t off = x->sent > x->head_len ? x->sent - x->head_len : 0;
        iov[n].iov_base = (char *)x->body + off;
        iov[n++].iov_len = x->body_len - off;
    }
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    return sendmsg(x->c->fd, &m, MSG_NOSIGNAL);
}

/* Sends what is left of head + body; waits for writability when the socket is full. */
static void xfer_send(struct upstream_xfer *x) {
    struct conn *c = x->c;
    size_t total = x->head_len + x->body_len;
    read_timer_arm(x); /* from here on, Ollama's silence counts */
    while (x->sent < total) {
        ssize_t w = send_some(x);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                event_add(&c->wev, NULL);
                return;
            }
            char err[160];
            snprintf(err, sizeof(err), "sending the request: %s", strerror(errno));
            if (c->reused && !x->retried && (x->sent == 0 || x->replayable)) {
                /* a kept-alive connection Ollama had closed: once more on a new one, if
                 * nothing of the request went out or sending it twice is harmless */
                x->retried = 1;
                x->sent = 0;
                x->c = NULL;
                c->x = NULL;
                conn_close(c);
                xfer_connect(x);
                return;
            }
            xfer_defer_fail(x, UPSTREAM_BROKEN, err);
            return;
        }
        x->sent += (size_t)w;
    }
}

static void conn_on_write(evutil_socket_t fd, short what, void *arg) {
    struct conn *c = arg;
    struct upstream_xfer *x = c->x;
    struct upstream *u = c->u;
    if (!x) {
        conn_close(c);
        return;
    }
    if (c->connecting) {
        c->connecting = 0;
        if (what & EV_TIMEOUT) {
            char msg[128];
            snprintf(msg, sizeof(msg), "connecting to %.60s timed out after %ld ms", u->scheme_host,
                     c->connect_ms);
            addr_failed(x, UPSTREAM_TIMEOUT, msg);
            return;
        }
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            soerr = errno;
        if (soerr) {
            char msg[160];
            snprintf(msg, sizeof(msg), "connect to %.100s: %s", u->scheme_host, strerror(soerr));
            addr_failed(x, UPSTREAM_REFUSED, msg);
            return;
        }
        addr_worked(c);
        event_add(&c->rev, NULL);
    }
    xfer_send(x);
}

/* ---- the answer ---- */

static int on_body(void *arg, const char *p, size_t n) {
    struct upstream_xfer *x = arg;
    return x->cbs->on_data ? x->cbs->on_data(x->ctx, x, p, n) : 0;
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg) {
    struct conn *c = arg;
    struct upstream *u = c->u;
    struct upstream_xfer *x = c->x;
    (void)what;
    ssize_t n = recv(fd, u->rbuf, sizeof(u->rbuf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (!x) { /* idle: Ollama closed it (or said something unasked) */
        struct conn **p = &u->idle;
        while (*p && *p != c)
            p = &(*p)->next;
        if (*p) {
            *p = c->next;
            u->nidle--;
        }
        conn_close(c);
        return;
    }
    if (n <= 0) {
        int e = n < 0 ? errno : 0;
        if (n == 0 && http1_answer_ends_at_eof(&x->ans)) { /* a reset is no end: a cut */
            xfer_finish(x, UPSTREAM_OK, 0);
        } else if (!x->got_bytes && c->reused && !x->retried && (x->sent == 0 || x->replayable)) {
            /* a kept-alive connection that Ollama closed as we sent: once more, fresh, if
             * sending it twice is harmless (Ollama may have acted on it before closing) */
            x->retried = 1;
            x->sent = 0;
            x->c = NULL;
            c->x = NULL;
            conn_close(c);
            xfer_connect(x);
        } else {
            char msg[160];
            snprintf(msg, sizeof(msg), "Ollama closed the connection %s%s%s",
                     x->got_bytes ? "mid-answer" : "before answering", e ? ": " : "",
                     e ? strerror(e) : "");
            xfer_fail(x, UPSTREAM_BROKEN, "%s", msg);
        }
        return;
    }
    x->got_bytes = 1;
    readtimer_read(&x->rt);
    size_t used = 0;
    switch (http1_answer_feed(&x->ans, u->rbuf, (size_t)n, &used, on_body, x)) {
        case HTTP1_MORE:
            if (x->cbs->on_read_end)
                x->cbs->on_read_end(x->ctx, x);
            if (x->paused)
                event_del(&c->rev);
            return;
        case HTTP1_DONE:
            /* reusable: Ollama allows it, nothing followed the answer, the request went out */
            xfer_finish(x, UPSTREAM_OK,
                        x->ans.keepalive && used == (size_t)n &&
                            x->sent == x->head_len + x->body_len);
            return;
        case HTTP1_ERROR:
            xfer_fail(x, UPSTREAM_BROKEN, "%s", x->ans.error);
            return;
        case HTTP1_STOPPED:
            xfer_fail(x, UPSTREAM_ABORTED, "%s", "stopped by the receiver");
            return;
    }
}

/* ---- the API ---- */

struct upstream *upstream_new(struct event_base *base, const char *base_url,
                              const struct upstream_opts *opts, char *err, size_t errlen) {
    struct upstream *u = calloc(1, sizeof(*u));
    if (!u) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    u->base = base;
    evtimer_assign(&u->sweep, base, on_sweep, u);
    char why[256] = "";
    if (set_base(u, base_url, opts, why, sizeof(why)) < 0) { /* the URL may hold a password */
        if (why[0])
            snprintf(err, errlen, "upstream: %s", why);
        else
            snprintf(err, errlen,
                     "upstream: cannot use the base URL (want "
                     "http://[user:password@]host:port[/path], or https:// with upstream_client "
                     "= auto or curl) or its headers");
        upstream_free(u);
        return NULL;
    }
    return u;
}

int upstream_set_base(struct upstream *u, const char *base_url, const struct upstream_opts *opts) {
    char why[256] = "";
    int rc = set_base(u, base_url, opts, why, sizeof(why));
    if (rc < 0 && why[0])
        log_error("msg=\"upstream unchanged\" error=\"%s\"", why);
    return rc;
}

/* The backend for base_url: libcurl's (started on first use), or this client. */
static int set_base(struct upstream *u, const char *base_url, const struct upstream_opts *opts,
                    char *err, size_t errlen) {
    if (upstream_curl_wanted(base_url, opts)) {
        if (!u->curl && !(u->curl = upstream_curl_new(u->base, err, errlen)))
            return -1;
        if (upstream_curl_set_base(u->curl, base_url, opts, err, errlen) < 0)
            return -1;
        u->use_curl = 1;
        u->gen++; /* this client's idle connections are of no use now */
        close_idle(u);
        return 0;
    }
    if (builtin_set_base(u, base_url, opts) < 0)
        return -1;
    u->use_curl = 0;
    return 0;
}

static int builtin_set_base(struct upstream *u, const char *base_url,
                            const struct upstream_opts *opts) {
    if (strncmp(base_url, "http://", 7) != 0)
        return -1;
    const char *hp = base_url + 7;
    size_t hl = strcspn(hp, "/");
    const char *path = hp + hl;
    const char *userinfo = NULL;
    size_t ulen = 0;
    for (size_t i = 0; i < hl; i++) /* "user:password@host": the host holds no '@' */
        if (hp[i] == '@') {
            userinfo = base_url + 7;
            ulen = i;
        }
    if (userinfo) {
        hp += ulen + 1;
        hl -= ulen + 1;
    }
    if (hl == 0 || hl >= sizeof(u->scheme_host) || strlen(path) >= sizeof(u->prefix))
        return -1;
    char hostport[256];
    memcpy(hostport, hp, hl);
    hostport[hl] = '\0';
    char *colon = strrchr(hostport, ':');
    if (!colon || strchr(colon, ']') || strlen(colon + 1) == 0 || strlen(colon + 1) >= 6)
        return -1;
    *colon = '\0';
    const char *host = hostport;
    size_t h = strlen(host);
    if (h >= 2 && host[0] == '[' && host[h - 1] == ']') {
        host++;
        h -= 2;
    }
    struct xheaders xh = {0};
    char *copy = strdup(base_url);
    if (!copy || xheaders_set(&xh, opts->extra_headers, userinfo, ulen) < 0) {
        free(copy);
        return -1;
    }
    /* The same host and port (a reload that changed timeouts, headers or the path): the
     * kept-alive connections and the addresses stay. */
    int same = u->base_url && strlen(u->host) == h && memcmp(u->host, host, h) == 0 &&
               strcmp(u->port, colon + 1) == 0;
    xheaders_free(&u->xh);
    u->xh = xh;
    if (u->base_url)
        explicit_bzero(u->base_url, strlen(u->base_url));
    free(u->base_url);
    u->base_url = copy;
    memcpy(u->scheme_host, hp, hl);
    u->scheme_host[hl] = '\0';
    memcpy(u->host, host, h);
    u->host[h] = '\0';
    snprintf(u->port, sizeof(u->port), "%s", colon + 1);
    snprintf(u->prefix, sizeof(u->prefix), "%s", path);
    u->opts = *opts;
    u->opts.extra_headers = NULL; /* copied into xh */
    u->read_tv = NULL;
    if (opts->read_timeout_ms > 0) {
        struct timeval tv = {opts->read_timeout_ms / 1000, (opts->read_timeout_ms % 1000) * 1000};
        u->read_tv = event_base_init_common_timeout(u->base, &tv); /* NULL: plain timevals */
    }
    if (same)
        return 0;
    u->gen++;
    close_idle(u);
    if (u->lookup) { /* for the old name */
        lookup_cancel(u->lookup);
        u->lookup = NULL;
    }
    u->naddr = 0;
    u->numeric = resolve_numeric(u) == 0; /* else looked up at the next connect */
    if (u->addr_wait.n) {
        if (u->numeric) {
            struct upstream_xfer *x;
            while ((x = queue_pop(&u->addr_wait)))
                xfer_connect(x);
        } else {
            lookup_begin(u);
        }
    }
    return 0;
}

int upstream_close_idle(struct upstream *u) {
    struct conn *c = u->idle; /* the most recently used: the others are as good */
    if (!c)
        return 0;
    u->idle = c->next;
    u->nidle--;
    conn_free(c);
    return 1;
}

void upstream_free(struct upstream *u) {
    if (!u)
        return;
    while (u->live)
        upstream_cancel(u->live);
    close_idle(u);
    if (u->sweep_on)
        event_del(&u->sweep);
    lookup_cancel(u->lookup);
    lookup_shutdown();
    upstream_curl_free(u->curl);
    xheaders_free(&u->xh);
    free(u->base_url);
    free(u);
}

/* Appends s at w; returns the new end. The caller sized the buffer. */
static char *put(char *w, const char *s) {
    size_t n = strlen(s);
    memcpy(w, s, n);
    return w + n;
}

/* upstream_start's failure: err, and errno for the caller to tell the client's fault. */
static struct upstream_xfer *start_failed(char *err, size_t errlen, int e, const char *msg) {
    set_err(err, errlen, msg);
    errno = e;
    return NULL;
}

struct upstream_xfer *upstream_start(struct upstream *u, const char *method, const char *path,
                                     const char *const *headers, const char *body, size_t len,
                                     const struct upstream_cbs *cbs, void *ctx, char *err,
                                     size_t errlen) {
    if (u->use_curl)
        return upstream_curl_start(u->curl, method, path, headers, body, len, cbs, ctx, err,
                                   errlen);
    char clen[48] = "";
    int send_len = body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
    if (send_len)
        snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", body ? len : 0);
    if (strpbrk(method, " \r\n") || strpbrk(path, " \r\n"))
        return start_failed(err, errlen, EINVAL, "invalid request line");
    size_t need = strlen(method) + 1 + strlen(u->prefix) + strlen(path) + 11 + 6 +
                  strlen(u->scheme_host) + 2 + strlen(clen) + 2 + u->xh.len;
    for (size_t i = 0; headers && headers[i]; i++) {
        if (!xheaders_line_ok(headers[i]))
            return start_failed(err, errlen, EINVAL, "invalid request header");
        need += strlen(headers[i]) + 2;
    }
    if (need > REQ_HEAD_MAX)
        return start_failed(err, errlen, EMSGSIZE, "request headers too large");
    struct upstream_xfer *x = calloc(1, sizeof(*x) + need + 1);
    if (!x)
        return start_failed(err, errlen, ENOMEM, "out of memory");
    char *w = x->head;
    w = put(w, method);
    w = put(w, " ");
    w = put(w, u->prefix);
    w = put(w, path);
    w = put(w, " HTTP/1.1\r\nHost: ");
    w = put(w, u->scheme_host);
    w = put(w, "\r\n");
    w = put(w, clen);
    for (size_t i = 0; headers && headers[i]; i++) {
        if (u->xh.n && xheaders_replaces(&u->xh, headers[i]))
            continue;
        w = put(w, headers[i]);
        w = put(w, "\r\n");
    }
    if (u->xh.len) {
        memcpy(w, u->xh.block, u->xh.len);
        w += u->xh.len;
    }
    w = put(w, "\r\n");
    x->head_len = (size_t)(w - x->head);
    x->u = u;
    x->cbs = cbs;
    x->ctx = ctx;
    x->body = body;
    x->body_len = body ? len : 0;
    http1_answer_init(&x->ans, strcmp(method, "HEAD") == 0);
    evtimer_assign(&x->timer, u->base, on_timer, x);
    readtimer_init(&x->rt, u->base, u->opts.read_timeout_ms, on_read_timer, x);
    x->replayable = upstream_method_replayable(method);
    event_assign(&x->defer, u->base, -1, 0, on_deferred, x);
    x->next = u->live;
    if (u->live)
        u->live->prev = x;
    u->live = x;
    u->nlive++;
    if (u->opts.timeout_ms > 0)
        timer_start(x, u->opts.timeout_ms);
    if (!u->fd_wait.n)
        xfer_attach(x);
    else if (wait_for_fd(x) < 0) /* behind the others already waiting */
        xfer_defer_fail(x, UPSTREAM_REFUSED,
                        "out of file descriptors, and too many requests "
                        "are waiting for one");
    return x;
}

void upstream_cancel(struct upstream_xfer *x) {
    if (!x)
        return;
    if (upstream_xfer_ops_of(x)) {
        upstream_xfer_ops_of(x)->cancel(x);
        return;
    }
    if (x->c) {
        /* Closing mid-transfer: Ollama sees the client go and stops generating. */
        struct conn *c = x->c;
        x->c = NULL;
        c->x = NULL;
        conn_close(c);
    }
    xfer_unlink_free(x);
}

void upstream_pause(struct upstream_xfer *x) {
    if (upstream_xfer_ops_of(x)) {
        upstream_xfer_ops_of(x)->pause(x);
        return;
    }
    if (x->paused)
        return;
    x->paused = 1;
    read_timer_stop(x);
    if (x->c && !x->c->connecting)
        event_del(&x->c->rev); /* the read handler finishes the current buffer first */
}

void upstream_resume(struct upstream_xfer *x) {
    if (upstream_xfer_ops_of(x)) {
        upstream_xfer_ops_of(x)->resume(x);
        return;
    }
    if (!x->paused)
        return;
    x->paused = 0;
    if (x->c && !x->c->connecting) {
        event_add(&x->c->rev, NULL);
        read_timer_arm(x);
    }
}

void upstream_set_read_timeout(struct upstream_xfer *x, long ms) {
    if (upstream_xfer_ops_of(x)) {
        upstream_xfer_ops_of(x)->set_read_timeout(x, ms);
        return;
    }
    readtimer_set(&x->rt, ms, x->u->read_tv, x->u->opts.read_timeout_ms);
}

void upstream_set_replayable(struct upstream_xfer *x, int replayable) {
    if (upstream_xfer_ops_of(x)) {
        upstream_xfer_ops_of(x)->set_replayable(x, replayable);
        return;
    }
    x->replayable = replayable;
}

int upstream_paused(const struct upstream_xfer *x) {
    if (upstream_xfer_ops_of(x))
        return upstream_xfer_ops_of(x)->paused(x);
    return x->paused;
}

long upstream_status(const struct upstream_xfer *x) {
    if (upstream_xfer_ops_of(x))
        return upstream_xfer_ops_of(x)->status(x);
    return x->ans.status;
}

const char *upstream_content_type(const struct upstream_xfer *x) {
    if (upstream_xfer_ops_of(x))
        return upstream_xfer_ops_of(x)->content_type(x);
    return x->ans.content_type;
}

long long upstream_content_length(const struct upstream_xfer *x) {
    if (upstream_xfer_ops_of(x))
        return upstream_xfer_ops_of(x)->content_length(x);
    return x->ans.content_length;
}

int upstream_answered(const struct upstream_xfer *x) {
    if (upstream_xfer_ops_of(x))
        return upstream_xfer_ops_of(x)->answered(x);
    return x->got_bytes;
}
