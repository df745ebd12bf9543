/* responses_fast: a /v1/responses stream's common token line written from its bytes
 * (responses_fast.h), and the capped text buffer the stream accumulates into. */
#include "responses_fast.h"

#include <stdlib.h>
#include <string.h>

#include "jtok.h"
#include "openai_fast.h"
#include "outbuf.h"
#include "tokline.h"

int responses_text_add(struct responses_text *t, const char *p, size_t n) {
    if (n >= (size_t)-1 / 2 - t->len) /* the doubling below stays in range */
        return -1;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *q = realloc(t->p, cap);
        if (!q)
            return -1;
        t->p = q;
        t->cap = cap;
    }
    if (n)
        memcpy(t->p + t->len, p, n);
    t->len += n;
    t->p[t->len] = '\0';
    return 0;
}

/* An id as jansson writes it: ids are made of [a-z0-9_] (id.h), no escapes. */
static void put_id(struct outbuf *o, const char *id) {
    OUTBUF_LIT(o, "\"");
    outbuf_put(o, id, strlen(id));
    OUTBUF_LIT(o, "\"");
}

size_t responses_stream_fast(struct responses_stream *s, const char *line, size_t len, char *out,
                             size_t outlen) {
    struct tokline l;
    struct outbuf o = {out, 0, outlen, 0};
    char delta[RESPONSES_FAST_DELTA_MAX];
    const struct jtok *d;
    struct responses_text *acc;
    const char *text;
    size_t n;
    int thinking;

    if (!s->started || s->finished || s->tools_sent || tokline_scan(line, len, &l) < 0)
        return 0;
    if (l.content.n && !l.thinking.n && s->content_open && !s->reasoning_open) {
        d = &l.content;
        thinking = 0;
        acc = &s->text;
    } else if (l.thinking.n && !l.content.n && s->reasoning_open) {
        d = &l.thinking;
        thinking = 1;
        acc = &s->thinking;
    } else {
        return 0;
    }
    if (d->n > sizeof(delta))
        return 0;
    text = d->p; /* the token's bytes are the text unless it holds an escape */
    n = d->n;
    if (d->esc) {
        n = jtok_decode(d, delta);
        text = delta;
    }
    if (thinking) {
        OUTBUF_LIT(&o, "event: response.reasoning_summary_text.delta\ndata: {\"item_id\":");
        put_id(&o, s->rs_id);
        OUTBUF_LIT(&o, ",\"output_index\":");
        outbuf_int(&o, s->index);
        OUTBUF_LIT(&o, ",\"summary_index\":0,\"delta\":");
        openai_fast_put_string(&o, d->p, d->n, d->esc);
        OUTBUF_LIT(&o, ",\"type\":\"response.reasoning_summary_text.delta\",\"sequence_number\":");
    } else {
        OUTBUF_LIT(&o, "event: response.output_text.delta\ndata: {\"item_id\":");
        put_id(&o, s->msg_id);
        OUTBUF_LIT(&o, ",\"output_index\":");
        outbuf_int(&o, s->index);
        OUTBUF_LIT(&o, ",\"content_index\":0,\"delta\":");
        openai_fast_put_string(&o, d->p, d->n, d->esc);
        OUTBUF_LIT(&o, ",\"logprobs\":[],\"type\":\"response.output_text.delta\","
                       "\"sequence_number\":");
    }
    outbuf_int(&o, s->seq);
    OUTBUF_LIT(&o, "}\n\n");
    if (o.full || !responses_room(s, n) || responses_text_add(acc, text, n) < 0)
        return 0;
    s->seq++;
    return o.len;
}
