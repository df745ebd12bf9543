/* chunkw: writes the body of a streamed evhttp reply, one piece per call, the cheap way.
 *
 * evhttp_send_reply_chunk costs a printf for the chunk-size line, and the bufferevent it feeds
 * adds its write event before the write and drops it after (two epoll_ctl per piece). When the
 * client connection's output buffer is empty, chunkw instead writes the piece straight to the
 * socket in one sendmsg: the chunk-size line, the data and "\r\n" for a chunked reply, the bare
 * data otherwise. Whatever the socket does not take (a partial write, EAGAIN, an error) is
 * appended, framed, to the bufferevent's output buffer, so libevent sends it or meets the error
 * exactly as it would have; while that buffer holds anything, every piece goes through evhttp,
 * so bytes never overtake each other.
 *
 * The drained callback is evhttp's (evhttp_send_reply_chunk_with_cb): evhttp keeps the last one
 * given for the rest of the reply, so the first piece of a reply always goes through evhttp and
 * every call of one reply must pass the same cb and arg. evhttp_send_reply_end still ends the
 * reply (last chunk, keep-alive, the next request). No allocation of its own. */
#ifndef KEEPWARM_CHUNKW_H
#define KEEPWARM_CHUNKW_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

enum chunkw_framing {
    CHUNKW_EVHTTP = 0, /* not known to be a body we may write: everything goes through evhttp */
    CHUNKW_CHUNKED,    /* Transfer-Encoding: chunked (HTTP/1.1) */
    CHUNKW_RAW,        /* bytes as they are, the end marked by closing (HTTP/1.0) */
};

/* One reply's writer; zeroed (or chunkw_start) before the reply's first piece. */
struct chunkw {
    enum chunkw_framing framing;
    int armed;               /* evhttp holds our drained callback for this reply */
    struct bufferevent *bev; /* the client connection's, borrowed from evhttp at chunkw_start */
    struct evbuffer *out;    /* bev's output buffer */
    evutil_socket_t fd;      /* bev's socket */
};

/* Call right after evhttp_send_reply_start(req, ...): learns the framing evhttp chose (HEAD,
 * 1xx, 204 and 304 answers have no body and stay with evhttp, which drops it), and keeps the
 * connection's bufferevent, which the hot path then reaches without evhttp's getters. The
 * caller stops calling chunkw_send and chunkw_queued once evhttp reports the connection
 * closed (its close callback): from then on they would use a freed bufferevent. */
void chunkw_start(struct chunkw *w, struct evhttp_request *req);

/* Bytes waiting in the client connection's output buffer (0 before chunkw_start). */
size_t chunkw_queued(const struct chunkw *w);

/* Sends data (non-empty) as the next piece of req's body and leaves data empty. cb(evcon, arg)
 * is called, as by evhttp_send_reply_chunk_with_cb, whenever the output buffer has drained.
 * Returns 0; -1 when memory ran out while queueing (the piece may be lost, as with evhttp). */
int chunkw_send(struct chunkw *w, struct evhttp_request *req, struct evbuffer *data,
                void (*cb)(struct evhttp_connection *, void *), void *arg);

/* evhttp_send_reply, then the reply written to the socket at once rather than a loop turn later
 * (evhttp would switch EV_WRITE on, wait for epoll to say writable, write, switch it off). When
 * the socket takes it all, the write callback evhttp set (which finishes the request) runs
 * deferred, as libevent would have run it; what the socket does not take, libevent sends.
 * The first piece of a streamed reply (chunkw_send) goes out with its head the same way. */
void chunkw_reply(struct evhttp_request *req, int code, const char *reason, struct evbuffer *body);

/* Ends a reply started with chunkw_start: data (may be NULL or empty; left empty) as its last
 * piece, then evhttp_send_reply_end, written together at once as above (one write for the last
 * piece and the end). As with evhttp_send_reply_end, req (and whatever it completes) may be
 * gone on return. */
void chunkw_end(struct chunkw *w, struct evhttp_request *req, struct evbuffer *data);

#endif
