/* outbuf: a bounded writer into a caller's buffer, for the fast paths that write JSON or SSE
 * without a tree (openai_fast's answers and stream events, reqfast's native bodies). Once something
 * did not fit, the writer is `full` and writes nothing more, so the caller checks once, at the end.
 * Header-only (static inline): it sits on the per-request and per-token paths. */
#ifndef KEEPWARM_OUTBUF_H
#define KEEPWARM_OUTBUF_H

#include <stddef.h>
#include <string.h>

struct outbuf {
    char *p;    /* the caller's buffer */
    size_t len; /* bytes written */
    size_t cap; /* its size */
    int full;   /* something did not fit */
};

static inline void outbuf_put(struct outbuf *o, const char *s, size_t n) {
    if (o->full || n > o->cap - o->len) {
        o->full = 1;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* A string literal, without strlen. */
#define OUTBUF_LIT(o, lit) outbuf_put((o), (lit), sizeof(lit) - 1)

/* v in decimal, as printf's %lld writes it. */
static inline void outbuf_int(struct outbuf *o, long long v) {
    char buf[24], *q = buf + sizeof(buf);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--q = '-';
    outbuf_put(o, q, (size_t)(buf + sizeof(buf) - q));
}

#endif
