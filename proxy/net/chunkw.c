/* chunkw: one sendmsg per streamed piece while the client keeps up; evhttp's buffered path
 * otherwise; whole replies and reply ends written in the loop turn that made them. See chunkw.h
 * for the contract and the ordering rule. */
#include "chunkw.h"

#include "evcompat.h"

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define IOV_MAX_DATA 16 /* evbuffer chains sent in one sendmsg; more goes through evhttp */

static const char crlf[] = "\r\n";

void chunkw_start(struct chunkw *w, struct evhttp_request *req) {
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    w->framing = CHUNKW_EVHTTP;
    w->armed = 0;
    w->bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    w->out = w->bev ? bufferevent_get_output(w->bev) : NULL;
    w->fd = w->bev ? bufferevent_getfd(w->bev) : -1;
    if (!w->bev)
        return;
    if (evcompat_reply_chunked(req))
        w->framing = CHUNKW_CHUNKED;
    else if (evcompat_reply_has_body(req))
        w->framing = CHUNKW_RAW;
}

/* "<hex size>\r\n" into buf (at least 20 bytes); returns its length. */
static size_t size_line(char *buf, size_t n) {
    static const char hex[] = "0123456789abcdef";
    char tmp[16];
    size_t k = 0;
    do {
        tmp[k++] = hex[n & 0xf];
        n >>= 4;
    } while (n);
    for (size_t i = 0; i < k; i++)
        buf[i] = tmp[k - 1 - i];
    buf[k] = '\r';
    buf[k + 1] = '\n';
    return k + 2;
}

/* Queues what the socket did not take of [line][data][crlf]: the first `sent` bytes are gone. */
static int queue_rest(struct bufferevent *bev, const char *line, size_t ll, struct evbuffer *data,
                      int chunked, size_t sent) {
    struct evbuffer *out = bufferevent_get_output(bev);
    size_t dl = evbuffer_get_length(data);
    int rc = 0;
    if (sent < ll) {
        rc |= evbuffer_add(out, line + sent, ll - sent);
        sent = 0;
    } else {
        sent -= ll;
    }
    if (sent < dl) {
        evbuffer_drain(data, sent);
        rc |= evbuffer_add_buffer(out, data);
        sent = 0;
    } else {
        sent -= dl;
    }
    evbuffer_drain(data, evbuffer_get_length(data));
    if (chunked && sent < 2)
        rc |= evbuffer_add(out, crlf + sent, 2 - sent);
    /* evhttp enabled writing when the reply started and keeps it on until the reply ends; say
     * so again in case anything turned it off, so the queued rest is sure to be sent. */
    rc |= bufferevent_enable(bev, EV_WRITE);
    return rc ? -1 : 0;
}

void chunkw_reply(struct evhttp_request *req, int code, const char *reason, struct evbuffer *body) {
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        /* evhttp_send would write a HEAD answer's body, and no length: the headers a GET would
         * get (the length of the body it would get), and no body. */
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        size_t n = body ? evbuffer_get_length(body) : 0;
        if (code >= 200 && code != HTTP_NOCONTENT && code != HTTP_NOTMODIFIED &&
            !evhttp_find_header(h, "Content-Length") &&
            !evhttp_find_header(h, "Transfer-Encoding")) {
            char len[24];
            snprintf(len, sizeof(len), "%zu", n);
            evhttp_add_header(h, "Content-Length", len);
        }
        if (n)
            evbuffer_drain(body, n);
    }
    evhttp_send_reply(req, code, reason, body);
    evcompat_write_now(bev); /* evhttp_send only queues: bev lives until the write callback */
}

void chunkw_end(struct chunkw *w, struct evhttp_request *req, struct evbuffer *data) {
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    size_t dl = data ? evbuffer_get_length(data) : 0;
    if (dl && bev && w->framing == CHUNKW_CHUNKED) {
        /* framed behind whatever is queued, as evhttp would frame it */
        struct evbuffer *out = bufferevent_get_output(bev);
        char line[24];
        evbuffer_add(out, line, size_line(line, dl));
        evbuffer_add_buffer(out, data);
        evbuffer_add(out, crlf, 2);
    } else if (dl) {
        evhttp_send_reply_chunk(req, data); /* raw framing, or a reply without a body */
    }
    if (data)
        evbuffer_drain(data, evbuffer_get_length(data));
    /* evhttp_send_reply_end completes at once (and may free evcon) for a reply without chunks
     * and with nothing queued; every other end only queues. */
    int queues = bev && (w->framing == CHUNKW_CHUNKED ||
                         evbuffer_get_length(bufferevent_get_output(bev)) > 0);
    evhttp_send_reply_end(req);
    if (queues)
        evcompat_write_now(bev);
}

size_t chunkw_queued(const struct chunkw *w) {
    return w->out ? evbuffer_get_length(w->out) : 0;
}

int chunkw_send(struct chunkw *w, struct evhttp_request *req, struct evbuffer *data,
                void (*cb)(struct evhttp_connection *, void *), void *arg) {
    size_t dl = evbuffer_get_length(data);
    struct evbuffer_iovec ev[IOV_MAX_DATA];
    int nv = 0;

    if (dl == 0)
        return 0;
    if (w->framing != CHUNKW_EVHTTP && w->armed && w->fd >= 0 && evbuffer_get_length(w->out) == 0)
        /* With a length, evbuffer_peek counts every chain the data needs even past the
         * vectors it fills; with -1 it stops counting there, and a piece of more chains than
         * vectors would go out cut short under a chunk size that counts all of it (a read
         * carrying many tokens for a slow reader: streaming-writes.test.js catches it). */
        nv = evbuffer_peek(data, (ev_ssize_t)dl, NULL, ev, IOV_MAX_DATA);
    if (nv <= 0 || nv > IOV_MAX_DATA) {
        /* The buffered path: evhttp frames it and stores cb for the rest of the reply. The
         * first piece goes out with the reply's head at once. */
        int first = !w->armed;
        evhttp_send_reply_chunk_with_cb(req, data, cb, arg);
        evbuffer_drain(data, evbuffer_get_length(data));
        if (w->bev) {
            w->armed = 1;
            if (first)
                evcompat_write_now(w->bev);
        }
        return 0;
    }

    int chunked = w->framing == CHUNKW_CHUNKED;
    char line[24];
    size_t ll = chunked ? size_line(line, dl) : 0;
    struct iovec iov[IOV_MAX_DATA + 2];
    int n = 0;
    if (ll)
        iov[n++] = (struct iovec){line, ll};
    for (int i = 0; i < nv; i++)
        iov[n++] = (struct iovec){ev[i].iov_base, ev[i].iov_len};
    if (chunked)
        iov[n++] = (struct iovec){(void *)crlf, 2};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    size_t total = ll + dl + (chunked ? 2 : 0);

    ssize_t sent = sendmsg(w->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent == (ssize_t)total) {
        evbuffer_drain(data, dl);
        return 0;
    }
    /* Partial, would block, or an error (EPIPE, ECONNRESET, ...): libevent sends the rest, and
     * on an error its own write fails the same way and evhttp closes the connection, which
     * reaches the relay's close callback as any client that left. */
    if (sent < 0)
        sent = 0;
    return queue_rest(w->bev, line, ll, data, chunked, (size_t)sent);
}
