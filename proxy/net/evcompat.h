/* evcompat: the libevent internals keepwarm depends on, in one place. Every use of evhttp
 * beyond its documented API goes through a function here, each saying which libevent 2.1
 * behaviour it relies on; no other file includes event2/http_struct.h. evcompat.c refuses to
 * build against a libevent outside 2.1.8-2.1.12 (see there for the override).
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

/* The request's completion callback (evhttp calls it once the body is read, or, for a body
 * over max_body_size or a bad one, after freeing the URI: then evhttp_request_get_uri is
 * NULL and its own handler would answer with an HTML page). Swapped to put a callback in
 * front of evhttp's handler; *old_cb and *old_arg get the previous ones. */
typedef void (*evcompat_request_cb)(struct evhttp_request *, void *);
void evcompat_request_swap_cb(struct evhttp_request *req, evcompat_request_cb cb, void *arg,
                              evcompat_request_cb *old_cb, void **old_arg);
/* The status evhttp set on a request it failed to read (413 body too large, 400). */
int evcompat_request_failed_status(const struct evhttp_request *req);

/* Whether the running libevent is one whose layout evcompat knows. */
int evcompat_ok(void);

/* The request an incoming evhttp connection on bev is reading (its request line, headers or
 * body), or NULL (not reading a request now, or an unknown libevent). */
struct evhttp_request *evcompat_reading_request(struct bufferevent *bev);

/* A request's header callback (evhttp_request_set_header_cb's, which has no getter). */
typedef int (*evcompat_header_cb)(struct evhttp_request *, void *);
evcompat_header_cb evcompat_request_header_cb(const struct evhttp_request *req);

/* Whether req came as HTTP/1.1 or later (2.1 has no getter for the version). */
int evcompat_request_http11(const struct evhttp_request *req);

/* Whether evhttp has freed the client connection bev served (bev kept alive by a reference of
 * ours): 2.1 has no connection-closed hook, but evhttp_connection_free clears every callback
 * of the connection's bufferevent, and evhttp always keeps its event callback set on one it
 * owns. */
int evcompat_conn_freed(struct bufferevent *bev);

/* Whether evhttp sends a body with req's reply (its evhttp_response_needs_body, static in
 * http.c): not for HEAD, 1xx, 204 or 304. */
int evcompat_reply_has_body(struct evhttp_request *req);

/* Whether evhttp framed req's started reply as chunked (evhttp_send_reply_start adds the
 * Transfer-Encoding header itself for an HTTP/1.1 client and no length). */
int evcompat_reply_chunked(struct evhttp_request *req);

/* After evhttp queued a write on a client connection's bev (evhttp_send_reply, a reply's
 * first chunk or its end: writing on, its write callback set): writes the queue now rather
 * than a loop turn later. When the socket takes it all, writing goes off and evhttp's write
 * callback (which finishes the request or goes on) runs deferred, as libevent runs it after a
 * write (bufferevent_trigger). Otherwise libevent sends the rest, or meets the error, as it
 * would have. */
void evcompat_write_now(struct bufferevent *bev);

/* While a request is relayed: evhttp 2.1.12 stops reading once a request is in, so a client
 * that hangs up would go unnoticed until the answer is written. Reads on with no read callback,
 * exactly as evhttp itself does while it writes (evhttp_write_buffer): pipelined bytes wait in
 * the input buffer (at most pipeline_max) for evhttp's next request, and EOF reaches evhttp's
 * event callback, which frees the connection (its close callback runs). evhttp's read callback
 * is not called in this state, so its "illegal connection state" abort on a pipelined byte
 * cannot happen. Only a stalled writer times out (idle_s). */
void evcompat_read_on(struct evhttp_connection *evcon, size_t pipeline_max, long idle_s);

/* A reply streams: evhttp keeps reading on, so its idle read timeout would cut a long healthy
 * stream (libevent#715). Only a stalled writer times out (idle_s) until
 * evcompat_reply_done. */
void evcompat_stream_timeouts(struct evhttp_connection *evcon, long idle_s);

/* The reply is complete and the connection stays for the next request: the idle timeout
 * (idle_s) both ways again, and the input buffer's watermark evcompat_read_on set off. */
void evcompat_reply_done(struct evhttp_connection *evcon, long idle_s);

/* Frees req when evhttp orphaned it: a connection evhttp 2.1 frees while a reply it was sending
 * is unfinished leaves that request to whoever answers it (evhttp_request_get_connection is then
 * NULL). Returns 1 when it freed req. */
int evcompat_request_free_orphan(struct evhttp_request *req);

/* Cuts a reply off: what evhttp still holds for evcon is written as far as the socket takes
 * it now, then the connection is freed, without its close callback and without the reply's
 * end (for a chunked reply the client sees no last chunk: a transport error). The request it
 * serves goes with it. */
void evcompat_conn_cut(struct evhttp_connection *evcon);

#endif
