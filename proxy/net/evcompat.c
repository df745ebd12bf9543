/* evcompat: the libevent 2.1 internals keepwarm relies on (see evcompat.h): struct
 * evhttp_connection's head as libevent 2.1.8-2.1.12 lay it out (only `requests` is read, and
 * only after the public getters agree), struct evhttp_request's fields (event2/http_struct.h),
 * and the behaviours of evhttp 2.1.12 the relay and chunkw build on. */
#include "evcompat.h"

#include <event2/buffer.h>
#include <event2/event-config.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <strings.h>
#include <sys/time.h>

/* The build-time check next to the runtime one (evcompat_ok): every function here was written
 * against 2.1.12 and checked against 2.1.8's sources. Another libevent needs them checked
 * again; -DEVCOMPAT_UNCHECKED builds anyway, and then evcompat_ok still turns the front door's
 * header checks and deadlines off at run time outside 2.1.8-2.1.12, while the rest (reply
 * writing, relay lifetime) is untested. */
#if !defined(EVCOMPAT_UNCHECKED) &&                                                                \
    (LIBEVENT_VERSION_NUMBER < 0x02010800 || LIBEVENT_VERSION_NUMBER >= 0x02010d00)
#error                                                                                             \
    "keepwarm's evcompat knows libevent 2.1.8-2.1.12 only (build with -DEVCOMPAT_UNCHECKED to try another)"
#endif

/* libevent 2.1.12 http-internal.h, struct evhttp_connection, up to `requests`. */
struct evcompat_conn21 {
    struct {
        void *tqe_next;
        void **tqe_prev;
    } next;
    evutil_socket_t fd;
    struct bufferevent *bufev;
    struct event retry_ev;
    char *bind_address;
    ev_uint16_t bind_port;
    char *address;
    ev_uint16_t port;
    size_t max_headers_size;
    ev_uint64_t max_body_size;
    int flags;
    struct timeval timeout;
    int retry_cnt;
    int retry_max;
    struct timeval initial_retry_timeout;
    int state;
    struct evhttp *http_server;
    struct {
        struct evhttp_request *tqh_first;
        struct evhttp_request **tqh_last;
    } requests;
};

int evcompat_ok(void) {
    ev_uint32_t v = event_get_version_number();
    return v >= 0x02010800 && v < 0x02020000;
}

struct evhttp_request *evcompat_reading_request(struct bufferevent *bev) {
    static int known = -1;
    bufferevent_data_cb rcb, wcb;
    bufferevent_event_cb ecb;
    void *arg;
    if (known < 0)
        known = evcompat_ok();
    if (!known)
        return NULL;
    /* evhttp sets a read callback (with the connection as argument) only while it reads a
     * request; nothing else in keepwarm sets one on a client connection. */
    bufferevent_getcb(bev, &rcb, &wcb, &ecb, &arg);
    if (!rcb || !ecb || !arg)
        return NULL;
    struct evhttp_connection *evcon = arg;
    if (evhttp_connection_get_bufferevent(evcon) != bev)
        return NULL;
    struct evhttp_request *req = ((struct evcompat_conn21 *)arg)->requests.tqh_first;
    if (!req || evhttp_request_get_connection(req) != evcon)
        return NULL;
    return req;
}

evcompat_header_cb evcompat_request_header_cb(const struct evhttp_request *req) {
    return req->header_cb;
}

void evcompat_request_swap_cb(struct evhttp_request *req, evcompat_request_cb cb, void *arg,
                              evcompat_request_cb *old_cb, void **old_arg) {
    *old_cb = req->cb;
    *old_arg = req->cb_arg;
    req->cb = cb;
    req->cb_arg = arg;
}

int evcompat_request_failed_status(const struct evhttp_request *req) {
    return req->response_code; /* evhttp_connection_incoming_fail: 413 or 400 */
}

int evcompat_request_http11(const struct evhttp_request *req) {
    return req->major > 1 || (req->major == 1 && req->minor >= 1);
}

int evcompat_conn_freed(struct bufferevent *bev) {
    bufferevent_data_cb rcb, wcb;
    bufferevent_event_cb ecb;
    void *cbarg;
    bufferevent_getcb(bev, &rcb, &wcb, &ecb, &cbarg);
    return !rcb && !wcb && !ecb;
}

int evcompat_reply_has_body(struct evhttp_request *req) {
    int code = evhttp_request_get_response_code(req);
    return code != HTTP_NOCONTENT && code != HTTP_NOTMODIFIED && (code < 100 || code >= 200) &&
           evhttp_request_get_command(req) != EVHTTP_REQ_HEAD;
}

int evcompat_reply_chunked(struct evhttp_request *req) {
    const char *te =
        evhttp_find_header(evhttp_request_get_output_headers(req), "Transfer-Encoding");
    return te && strcasecmp(te, "chunked") == 0;
}

void evcompat_write_now(struct bufferevent *bev) {
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    if (fd < 0)
        return;
    struct evbuffer *out = bufferevent_get_output(bev);
    while (evbuffer_get_length(out) > 0)
        if (evbuffer_write(out, fd) <= 0)
            return;
    bufferevent_disable(bev, EV_WRITE);
    bufferevent_trigger(bev, EV_WRITE, BEV_TRIG_DEFER_CALLBACKS);
}

void evcompat_read_on(struct evhttp_connection *evcon, size_t pipeline_max, long idle_s) {
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    bufferevent_data_cb rcb, wcb;
    bufferevent_event_cb ecb;
    void *cbarg;
    if (!bev)
        return;
    bufferevent_getcb(bev, &rcb, &wcb, &ecb, &cbarg);
    bufferevent_setcb(bev, NULL, wcb, ecb, cbarg);
    bufferevent_setwatermark(bev, EV_READ, 0, pipeline_max);
    struct timeval wt = {idle_s, 0};
    bufferevent_set_timeouts(bev, NULL, &wt);
    bufferevent_enable(bev, EV_READ);
}

void evcompat_stream_timeouts(struct evhttp_connection *evcon, long idle_s) {
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    struct timeval wt = {idle_s, 0};
    if (bev)
        bufferevent_set_timeouts(bev, NULL, &wt);
}

void evcompat_reply_done(struct evhttp_connection *evcon, long idle_s) {
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    struct timeval t = {idle_s, 0};
    if (bev) {
        bufferevent_set_timeouts(bev, &t, &t);
        bufferevent_setwatermark(bev, EV_READ, 0, 0);
    }
}

int evcompat_request_free_orphan(struct evhttp_request *req) {
    if (evhttp_request_get_connection(req) != NULL)
        return 0;
    evhttp_request_free(req);
    return 1;
}

void evcompat_conn_cut(struct evhttp_connection *evcon) {
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    while (fd >= 0 && evbuffer_get_length(bufferevent_get_output(bev)) > 0)
        if (evbuffer_write(bufferevent_get_output(bev), fd) <= 0)
            break;
    evhttp_connection_set_closecb(evcon, NULL, NULL);
    evhttp_connection_free(evcon);
}
