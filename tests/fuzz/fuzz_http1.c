/* libFuzzer target: the HTTP/1.1 answer parser (proxy/upstream/http1.h). The same bytes are fed
 * whole and in fuzzer-chosen pieces: the outcome (result, status, keep-alive, content type, body
 * bytes, bytes used) must not depend on how the network cut them, the body never exceeds what
 * came in, and nothing is buffered beyond the head cap.
 *
 * Input: byte 0 seeds the piece sizes (0: one byte at a time), byte 1 bit 0 marks a HEAD
 * request, then the answer. */
#include "fuzz.h"
#include "http1.h"

struct outcome {
    enum http1_result rc;
    long status;
    int keepalive;
    int eof_ok;
    char content_type[128];
    size_t used; /* total bytes consumed when DONE */
    char *body;
    size_t body_len;
};

static int on_body(void *arg, const char *p, size_t n) {
    struct outcome *o = arg;
    char *nb = realloc(o->body, o->body_len + n + 1);
    if (!nb)
        abort();
    o->body = nb;
    memcpy(o->body + o->body_len, p, n);
    o->body_len += n;
    return 0;
}

static void run(const char *p, size_t n, int head, uint32_t seed, int whole, struct outcome *o) {
    struct http1_answer a;
    http1_answer_init(&a, head);
    size_t off = 0;
    o->rc = HTTP1_MORE;
    while (off < n) {
        size_t piece = n - off;
        if (!whole) {
            seed = seed * 1103515245u + 12345u;
            piece = seed ? 1 + (seed >> 16) % 97 : 1;
            if (piece > n - off)
                piece = n - off;
        }
        size_t used = 0;
        o->rc = http1_answer_feed(&a, p + off, piece, &used, on_body, o);
        FUZZ_CHECK("http1-head-cap", a.head_len <= HTTP1_HEAD_MAX, "buffered %zu head bytes",
                   a.head_len);
        if (o->rc == HTTP1_DONE) {
            FUZZ_CHECK("http1-used", used <= piece, "used %zu of %zu", used, piece);
            o->used = off + used;
            break;
        }
        if (o->rc != HTTP1_MORE) {
            FUZZ_CHECK("http1-error", a.error[0] != '\0', "an error without a message");
            break;
        }
        off += piece;
    }
    o->status = a.status;
    o->keepalive = a.keepalive;
    o->eof_ok = http1_answer_ends_at_eof(&a);
    memcpy(o->content_type, a.content_type, sizeof(o->content_type));
    FUZZ_CHECK("http1-body", o->body_len <= n, "%zu body bytes from %zu", o->body_len, n);
    http1_answer_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    const char *p = (const char *)data + 2;
    size_t n = size - 2;
    int head = data[1] & 1;
    struct outcome w = {0}, s = {0};
    run(p, n, head, 0, 1, &w);
    run(p, n, head, data[0], 0, &s);
    /* An error may surface at a different byte (the head cap, say), but never as success. */
    FUZZ_CHECK("http1-same-result", w.rc == s.rc, "whole %d, pieces %d", w.rc, s.rc);
    if (w.rc == HTTP1_DONE || w.rc == HTTP1_MORE) {
        FUZZ_CHECK("http1-same-answer",
                   w.status == s.status && w.keepalive == s.keepalive && w.eof_ok == s.eof_ok &&
                       strcmp(w.content_type, s.content_type) == 0 && w.used == s.used,
                   "status %ld/%ld keepalive %d/%d used %zu/%zu", w.status, s.status, w.keepalive,
                   s.keepalive, w.used, s.used);
        FUZZ_CHECK("http1-same-body",
                   w.body_len == s.body_len &&
                       (!w.body_len || memcmp(w.body, s.body, w.body_len) == 0),
                   "body %zu vs %zu bytes", w.body_len, s.body_len);
    }
    if (w.rc == HTTP1_DONE)
        FUZZ_CHECK("http1-status", w.status >= 100 && w.status <= 599, "status %ld", w.status);
    free(w.body);
    free(s.body);
    return 0;
}
