/* evcompat: struct evhttp_connection's head as libevent 2.1.8-2.1.12 lay it out (see
 * evcompat.h). Only `requests` is read, and only after the public getters agree. */
#include "evcompat.h"

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/http_struct.h>
#include <sys/time.h>

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
