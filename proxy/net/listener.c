/* listener: accept (backlog, EMFILE backoff), max_connections tracking and the sweep, the
 * front door on each client connection, lingering refused sockets. See listener.h. Moved
 * from server.c as it was. */
#include "listener.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "endpoint.h"
#include "evcompat.h"
#include "frontdoor.h"
#include "log.h"
#include "metrics.h"

#define LISTEN_BACKLOG 4096 /* Linux's default somaxconn since 5.4; the kernel caps it */

struct listener {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    const struct config *cfg;
    struct upstream *up;
    int port;
    int listen_loopback; /* listening on a loopback address */
    /* max_connections: the client bufferevents we handed evhttp, each with a reference of ours
     * (evhttp 2.1.12 has no connection-closed hook, so a swept bufferevent whose callbacks
     * evhttp cleared when freeing it is one connection fewer). */
    struct conn **conns;
    size_t nconns, conns_cap;
    struct lingering *lingering; /* refused sockets closing (the front door) */
    size_t nlingering;           /* counted in max_connections: their sockets are still open */
    struct event *sweep;
    int accepting_paused;
    struct event *accept_retry; /* after EMFILE: accepting again in 100 ms */
    int accept_backoff;
};

/* A client connection as the front door sees it: the request evhttp reads on it, which part
 * of it (head, body), the raw head scanned so far, and the deadline timer. */
enum conn_phase { PHASE_IDLE = 0, PHASE_HEAD, PHASE_BODY };
struct conn {
    struct listener *s;
    struct bufferevent *bev; /* one reference ours, dropped by on_sweep */
    struct event *deadline;
    struct evhttp_request *req; /* the request whose header callback we set, not owned */
    enum conn_phase phase;
    int refused; /* the front door answered: the socket lingers before it closes */
    struct frontdoor_head head;
    /* The request's completion callback, while on_body_read stands in front of it, and the
     * start of its path (which API's envelope answers a body evhttp refuses). */
    evcompat_request_cb body_cb;
    void *body_arg;
    char body_path[32];
};

/* A socket the front door refused, closing: what the client still sends is read and dropped
 * for up to LINGER_MS (or until it closes), so that closing with unread bytes does not reset
 * the connection before the client has read the answer (nginx's lingering_close). */
#define LINGER_MS 2000
struct lingering {
    evutil_socket_t fd;
    struct event *ev;
    struct listener *s;
    struct lingering *next, **pprev; /* in the listener's list, closed by listener_free */
};

/* Set when a request's body was large or its tree costly (request_out.costly): the heap is
 * handed back to the system by the next sweep (glibc keeps freed small blocks otherwise). */
static int trim_pending;

void listener_trim_later(void) {
    trim_pending = 1;
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
    while (n > 0 && !c->head.done && c->head.bytes <= LISTENER_MAX_HEADERS) {
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

/* Runs on every change of the input buffer: each read, and each line or body evhttp drains.
 * While a request of ours is being read (c->req set, not PHASE_IDLE) only the head's new
 * bytes matter: evhttp starts the next request only after on_request (PHASE_IDLE) or after an
 * error answer that closes the connection. Otherwise it looks for a request evhttp started. */
static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg) {
    struct conn *c = arg;
    reading_conn = c;
    if (c->req && c->phase != PHASE_IDLE) {
        if (c->phase == PHASE_HEAD && info->n_added) {
            size_t len = evbuffer_get_length(buf);
            head_scan(c, buf, len - info->n_added, info->n_added);
        }
        return;
    }
    struct evhttp_request *req = evcompat_reading_request(c->bev);
    if (!req || evcompat_request_header_cb(req) == on_headers)
        return;
    /* A new request: its bytes are the whole buffer (when evhttp's deferred read of a
     * pipelined request got here first, less the request line it drained). */
    int first = !c->req; /* its deadline runs since accept */
    evhttp_request_set_header_cb(req, on_headers);
    c->req = req;
    c->phase = PHASE_HEAD;
    frontdoor_head_init(&c->head);
    head_scan(c, buf, 0, evbuffer_get_length(buf));
    if (!first)
        deadline_arm(c, c->s->cfg->header_timeout / 1000000);
}

/* A request with a body is read, or evhttp refused its body (over max_body_size, or bad
 * chunks): evhttp's handler would answer that with an HTML page, so it is answered here in the
 * envelope of the request's API (413 request_too_large on /v1/messages, the OpenAI envelope
 * elsewhere under /v1/); a read body goes on to evhttp's handler. */
static void on_body_read(struct evhttp_request *req, void *arg) {
    struct conn *c = arg;
    evcompat_request_cb cb;
    void *cb_arg;
    evcompat_request_swap_cb(req, c->body_cb, c->body_arg, &cb, &cb_arg);
    if (evhttp_request_get_uri(req)) {
        c->body_cb(req, c->body_arg);
        return;
    }
    int status = evcompat_request_failed_status(req) == 413 ? 413 : 400;
    const char *message =
        status == 413 ? "request body too large (max_body_size)" : "invalid request body";
    json_t *e = endpoint_errors_for(c->body_path)->error_new(status, message, NULL);
    struct evbuffer *b = evbuffer_new();
    if (b && e)
        endpoint_add_json(b, e);
    json_decref(e);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Connection", "close");
    evhttp_send_reply(req, status, status == 413 ? "Payload Too Large" : "Bad Request", b);
    if (b)
        evbuffer_free(b);
    log_info("msg=\"request body refused\" status=%d path=\"%s\"", status, c->body_path);
    metrics_request_done(ROUTE_OTHER, status, 0);
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
    if (v.body) {
        const char *uri = evhttp_request_get_uri(req);
        snprintf(c->body_path, sizeof(c->body_path), "%s", uri ? uri : "");
        evcompat_request_swap_cb(req, on_body_read, c, &c->body_cb, &c->body_arg);
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

void listener_request_read(struct evhttp_request *req) {
    struct conn *c = reading_conn;
    if (c && c->req == req) {
        event_del(c->deadline);
        c->phase = PHASE_IDLE;
    }
}

/* The client sockets open: connections evhttp serves, and refused ones lingering (max_connections
 * counts both, or a client refused again and again would hold a descriptor each past it). */
static size_t listener_sockets(const struct listener *s) {
    return s->nconns + s->nlingering;
}

static void listener_pause(struct listener *s, int pause) {
    struct evconnlistener *l = s->sock ? evhttp_bound_socket_get_listener(s->sock) : NULL;
    if (!l || s->accepting_paused == pause)
        return;
    s->accepting_paused = pause;
    if (pause) {
        evconnlistener_disable(l);
        log_warn("msg=\"max_connections reached, new connections wait\" connections=%zu "
                 "lingering=%zu",
                 s->nconns, s->nlingering);
    } else {
        evconnlistener_enable(l);
    }
}

/* The listener's error callback gets the listener's user data, which is evhttp's: the listener
 * it belongs to is found here (one listener per process). */
static struct listener *accepting_listener;

/* Out of descriptors (EMFILE/ENFILE) or memory: the listener would be readable and failing in
 * a loop, so it rests for 100 ms; pending clients wait in the kernel's backlog meanwhile. */
static void on_accept_error(struct evconnlistener *l, void *arg) {
    struct listener *s = accepting_listener;
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
    if ((e == EMFILE || e == ENFILE) && upstream_close_idle(s->up)) {
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
    struct listener *s = arg;
    (void)fd;
    (void)what;
    struct evconnlistener *l = s->sock ? evhttp_bound_socket_get_listener(s->sock) : NULL;
    if (l && !s->accepting_paused)
        evconnlistener_enable(l);
    s->accept_backoff = 0; /* logged again if it fails again */
}

static void linger_end(struct lingering *l) {
    l->s->nlingering--;
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
static int linger_start(struct listener *s, struct bufferevent *bev) {
    evutil_socket_t fd = bufferevent_getfd(bev);
    struct lingering *l = fd >= 0 ? calloc(1, sizeof(*l)) : NULL;
    if (!l)
        return -1;
    l->fd = fd;
    l->s = s;
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
    s->nlingering++;
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
    struct listener *s = arg;
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
    if (s->cfg->max_connections > 0 && listener_sockets(s) < (size_t)s->cfg->max_connections)
        listener_pause(s, 0);
}

/* evhttp asks for each new client connection's bufferevent. Every connection is tracked: the
 * front door watches its input, and max_connections counts it. */
static struct bufferevent *on_new_connection(struct event_base *base, void *arg) {
    struct listener *s = arg;
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
    if (s->cfg->max_connections > 0 && listener_sockets(s) >= (size_t)s->cfg->max_connections)
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

struct listener *listener_new(struct event_base *base, struct evhttp *http,
                              const struct config *cfg, struct upstream *up, char *err,
                              size_t errlen) {
    struct listener *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base = base;
    s->http = http;
    s->cfg = cfg;
    s->up = up;
    evhttp_set_bevcb(http, on_new_connection, s);
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
    s->sock = evhttp_bind_socket_with_handle(http, cfg->listen_host, (ev_uint16_t)cfg->listen_port);
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
    accepting_listener = s;
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
    return s;
fail:
    listener_free(s);
    return NULL;
}

void listener_free(struct listener *s) {
    if (!s)
        return;
    if (s->sweep)
        event_free(s->sweep);
    if (s->accept_retry)
        event_free(s->accept_retry);
    if (accepting_listener == s)
        accepting_listener = NULL;
    for (size_t i = 0; i < s->nconns; i++)
        conn_free(s->conns[i], 0);
    while (s->lingering)
        linger_end(s->lingering);
    free(s->conns);
    free(s);
}

int listener_port(const struct listener *l) {
    return l->port;
}

int listener_loopback(const struct listener *l) {
    return l->listen_loopback;
}

void listener_stop(struct listener *s) {
    if (s->sock) {
        evhttp_del_accept_socket(s->http, s->sock);
        s->sock = NULL;
    }
}
