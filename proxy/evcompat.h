/* evcompat: the libevent internals keepwarm depends on, in one place.
 *
 * evhttp 2.1 has no hook when it starts a new request on a server connection (2.2 added
 * evhttp_set_newreqcb), yet the front door must set a header callback on every request before
 * evhttp reads its headers. evcompat finds the request a connection is reading from the
 * connection's bufferevent, through the layout of struct evhttp_connection in libevent
 * 2.1.8 to 2.1.12 (http-internal.h, unchanged across them), checked at every call against the
 * public getters. On any other libevent it finds nothing (evcompat_ok says so at start). */
#ifndef KEEPWARM_EVCOMPAT_H
#define KEEPWARM_EVCOMPAT_H

#include <event2/bufferevent.h>
#include <event2/http.h>

/* Whether the running libevent is one whose layout evcompat knows. */
int evcompat_ok(void);

/* The request an incoming evhttp connection on bev is reading (its request line, headers or
 * body), or NULL (not reading a request now, or an unknown libevent). */
struct evhttp_request *evcompat_reading_request(struct bufferevent *bev);

#endif
