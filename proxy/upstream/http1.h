/* http1: the answer side of HTTP/1.1 as a byte-stream parser, for upstream's client. No I/O:
 * bytes in (cut anywhere), body bytes out through a callback with the framing removed.
 *
 * Understands: a status line HTTP/1.0 or 1.1, headers (Content-Length, Transfer-Encoding,
 * Connection, Content-Type; the rest skipped, but every field name must be a token: a blank
 * before the colon is an error), interim 1xx heads (skipped; a 101 Switching Protocols, never
 * asked for, is an error), and bodies framed by Content-Length, by chunked encoding (";ext"
 * extensions and trailers skipped; anything else after a chunk size is an error) or by the
 * connection's end. Transfer-Encoding must be exactly chunked (another coding is an error);
 * with Content-Length too, chunked frames the body and the connection is not kept. Caps: a head of
 * at most HTTP1_HEAD_MAX bytes (the only bytes it buffers, and only when a head arrives in pieces),
 * chunk sizes below 2^60, Content-Length below 10^18.
 */
#ifndef KEEPWARM_HTTP1_H
#define KEEPWARM_HTTP1_H

#include <stddef.h>

#define HTTP1_HEAD_MAX (32 * 1024)

enum http1_result {
    HTTP1_MORE = 0,     /* the answer goes on */
    HTTP1_DONE = 1,     /* the answer is complete (*used says how many bytes it took) */
    HTTP1_ERROR = -1,   /* malformed or over a cap: error says what */
    HTTP1_STOPPED = -2, /* on_body returned -1 */
};

struct http1_answer {
    int state;
    int head_request;         /* the request was HEAD: no body whatever the headers say */
    long status;              /* 0 until the final head is parsed */
    int keepalive;            /* the connection may carry another request after this answer */
    char content_type[128];   /* "" if none; truncated to fit */
    long long content_length; /* the body's Content-Length (a HEAD answer's too); -1 if chunked,
                               * to EOF or none */
    unsigned long long left;  /* body or chunk bytes still to come */
    int digits;               /* of the chunk size being read */
    char *head;               /* a head arriving in pieces (owned, at most HTTP1_HEAD_MAX) */
    size_t head_len;
    char error[96];
};

/* Body bytes; return 0 to go on, -1 to stop (http1_answer_feed then returns HTTP1_STOPPED). */
typedef int (*http1_body_cb)(void *ctx, const char *p, size_t n);

void http1_answer_init(struct http1_answer *a, int head_request);
/* Frees the partial head, if any. The struct can be initialised again afterwards. */
void http1_answer_free(struct http1_answer *a);

/* Consumes p[0..n). On HTTP1_DONE, *used is the number of bytes of p the answer took (the
 * rest belongs to no answer); otherwise all of them were consumed. */
enum http1_result http1_answer_feed(struct http1_answer *a, const char *p, size_t n, size_t *used,
                                    http1_body_cb on_body, void *ctx);

/* At the connection's end: 1 if that completes the answer (a body framed by the close). */
int http1_answer_ends_at_eof(const struct http1_answer *a);

#endif
