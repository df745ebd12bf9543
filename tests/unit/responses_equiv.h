/* The contract between the /v1/responses stream's fast path (responses_stream_fast) and its
 * jansson path (json_loadb, responses_stream_feed, "event: <type>\ndata: <compact dump>\n\n"
 * per event, as ep_responses.c writes them), checked line by line. Before each line the fast
 * side becomes a deep copy of the slow side (the stream's item ids are random, so two
 * independent streams could not be compared byte for byte); the line then runs through the
 * fast path on the copy and through jansson on the original: when the fast path takes it, the
 * bytes, the sequence number and the accumulated text and thinking must be the same; when it
 * declines, the copy must be unchanged. Shared by tests/unit/test_responses.c and
 * tests/fuzz/fuzz_responses_stream.c. */
#ifndef KEEPWARM_RESPONSES_EQUIV_H
#define KEEPWARM_RESPONSES_EQUIV_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "responses.h"
#include "responses_fast.h"

#define RESPONSES_EQUIV_OUT 8192 /* ep_responses.c's buffer for the fast path */
#define RESPONSES_EQUIV_NOW 1700000000LL

struct responses_equiv {
    struct responses_stream s; /* the jansson side */
    int fast_hits;             /* lines the fast path took */
    int done;                  /* the stream ended (DONE or ERROR) */
    char why[1024];            /* the first mismatch, or "" */
};

/* The events as ep_responses.c frames them, appended to a malloc'd buffer. */
static inline void responses_equiv_frame(const json_t *events, char **buf, size_t *len) {
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e) {
        char *d = json_dumps(e, JSON_COMPACT);
        const char *type = json_string_value(json_object_get(e, "type"));
        size_t n = strlen(d) + strlen(type ? type : "error") + 32;
        char *q = realloc(*buf, *len + n);
        if (!q)
            abort();
        *buf = q;
        *len += (size_t)sprintf(*buf + *len, "event: %s\ndata: %s\n\n", type ? type : "error", d);
        free(d);
    }
}

static inline void responses_equiv_text_copy(struct responses_text *dst,
                                             const struct responses_text *src) {
    memset(dst, 0, sizeof(*dst));
    if (src->p && responses_text_add(dst, src->p, src->len) < 0)
        abort();
}

/* A deep copy of a stream's state. */
static inline void responses_equiv_copy(struct responses_stream *dst,
                                        const struct responses_stream *src) {
    *dst = *src;
    dst->echo = json_incref(src->echo);
    dst->items = json_deep_copy(src->items);
    responses_equiv_text_copy(&dst->text, &src->text);
    responses_equiv_text_copy(&dst->thinking, &src->thinking);
}

static inline int responses_equiv_text_eq(const struct responses_text *a,
                                          const struct responses_text *b) {
    return a->len == b->len && (!a->len || !memcmp(a->p, b->p, a->len));
}

/* The scalar state and the texts of two streams are the same. */
static inline int responses_equiv_same(const struct responses_stream *a,
                                       const struct responses_stream *b) {
    return a->seq == b->seq && a->index == b->index && a->started == b->started &&
           a->content_open == b->content_open && a->reasoning_open == b->reasoning_open &&
           a->tools_sent == b->tools_sent && a->finished == b->finished && a->kept == b->kept &&
           !strcmp(a->rs_id, b->rs_id) && responses_equiv_text_eq(&a->text, &b->text) &&
           responses_equiv_text_eq(&a->thinking, &b->thinking) && json_equal(a->items, b->items);
}

static inline void responses_equiv_init(struct responses_equiv *q, const json_t *echo) {
    memset(q, 0, sizeof(*q));
    responses_stream_init(&q->s, echo, "resp_equiv", "msg_equiv");
}

static inline void responses_equiv_free(struct responses_equiv *q) {
    responses_stream_free(&q->s);
}

/* One native line both ways. Returns 0, or -1 with q->why set at the first difference. */
static inline int responses_equiv_line(struct responses_equiv *q, const char *line, size_t len) {
    struct responses_stream f;
    char out[RESPONSES_EQUIV_OUT];
    char *slow = NULL;
    size_t slow_len = 0, n;
    json_error_t jerr;
    int rc = 0;

    if (q->done)
        return 0;
    responses_equiv_copy(&f, &q->s);
    n = responses_stream_fast(&f, line, len, out, sizeof(out));
    json_t *v = json_loadb(line, len, 0, &jerr);
    if (n && !json_is_object(v)) {
        snprintf(q->why, sizeof(q->why), "the fast path took a line jansson refuses: %.*s",
                 (int)(len > 200 ? 200 : len), line);
        rc = -1;
        goto out;
    }
    if (n) { /* given one byte less than it wrote, it must decline and change nothing */
        struct responses_stream g;
        char small[RESPONSES_EQUIV_OUT];
        responses_equiv_copy(&g, &q->s);
        size_t m = responses_stream_fast(&g, line, len, small, n - 1);
        int same = responses_equiv_same(&g, &q->s);
        responses_stream_free(&g);
        if (m || !same) {
            snprintf(q->why, sizeof(q->why), "the fast path wrote into a buffer too small");
            rc = -1;
            goto out;
        }
    }
    if (!n && !responses_equiv_same(&f, &q->s)) {
        snprintf(q->why, sizeof(q->why), "the fast path declined but changed the state: %.*s",
                 (int)(len > 200 ? 200 : len), line);
        rc = -1;
        goto out;
    }
    if (json_is_object(v)) {
        json_t *events = json_array();
        int r = responses_stream_feed(&q->s, v, RESPONSES_EQUIV_NOW, events);
        responses_equiv_frame(events, &slow, &slow_len);
        json_decref(events);
        if (r != RESPONSES_STREAM_MORE)
            q->done = 1;
        if (n && r != RESPONSES_STREAM_MORE) {
            snprintf(q->why, sizeof(q->why), "the fast path took a line that ends the stream");
            rc = -1;
        }
    } else {
        q->done = 1; /* relay stops at a line that is not JSON */
    }
    if (n && rc == 0) {
        q->fast_hits++;
        if (n != slow_len || memcmp(out, slow, n) != 0) {
            snprintf(q->why, sizeof(q->why), "bytes differ:\n  fast: %.*s\n  slow: %.*s",
                     (int)(n > 400 ? 400 : n), out, (int)(slow_len > 400 ? 400 : slow_len),
                     slow ? slow : "");
            rc = -1;
        } else if (!responses_equiv_same(&f, &q->s)) {
            snprintf(q->why, sizeof(q->why), "the state differs after a fast line");
            rc = -1;
        }
    }
out:
    json_decref(v);
    free(slow);
    responses_stream_free(&f);
    return rc;
}

#endif
