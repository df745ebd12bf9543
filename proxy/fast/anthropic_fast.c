/* anthropic_fast: a /v1/messages stream's token line -> its content_block_delta event, from
 * bytes to bytes (contract in anthropic_fast.h). */
#include "anthropic_fast.h"

#include <string.h>

#include "jsonstr.h"
#include "openai_fast.h"
#include "outbuf.h"

struct span {
    const char *p;
    size_t n;
    int esc, set;
};

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static const char *scan_string(const char *p, const char *end, struct span *t) {
    const char *why, *q;
    if (p >= end || *p != '"')
        return NULL;
    if (!(q = jsonstr_scan(p + 1, end, &t->esc, &why)))
        return NULL;
    t->p = p + 1;
    t->n = (size_t)(q - t->p);
    t->set = 1;
    return q + 1;
}

/* After a member: 1 past ',' for another, 0 past close, -1 otherwise. */
static int next_item(const char **pp, const char *end, char close) {
    const char *p = skip_ws(*pp, end);
    if (p < end && *p == ',') {
        *pp = skip_ws(p + 1, end);
        return 1;
    }
    if (p < end && *p == close) {
        *pp = p + 1;
        return 0;
    }
    return -1;
}

static int key_is(const struct span *k, const char *name) {
    size_t n = strlen(name);
    return k->n == n && memcmp(k->p, name, n) == 0;
}

struct line {
    struct span model, created_at, role, content, thinking;
    int done_seen, message_seen;
};

/* {"role","content","thinking"}: strings, each at most once, nothing else. */
static const char *scan_message(const char *p, const char *end, struct line *l) {
    if (p >= end || *p != '{')
        return NULL;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        struct span key = {0}, *val;
        if (!(p = scan_string(p, end, &key)) || key.esc)
            return NULL;
        if (key_is(&key, "role"))
            val = &l->role;
        else if (key_is(&key, "content"))
            val = &l->content;
        else if (key_is(&key, "thinking"))
            val = &l->thinking;
        else
            return NULL;
        if (val->set)
            return NULL;
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return NULL;
        p = scan_string(skip_ws(p + 1, end), end, val);
        int more = p ? next_item(&p, end, '}') : -1;
        if (more <= 0)
            return more ? NULL : p;
    }
}

static int scan_line(const char *p, const char *end, struct line *l) {
    memset(l, 0, sizeof(*l));
    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return -1;
    p = skip_ws(p + 1, end);
    for (;;) {
        struct span key = {0};
        if (!(p = scan_string(p, end, &key)) || key.esc)
            return -1;
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return -1;
        p = skip_ws(p + 1, end);
        if (key_is(&key, "model") && !l->model.set) {
            p = scan_string(p, end, &l->model);
        } else if (key_is(&key, "created_at") && !l->created_at.set) {
            p = scan_string(p, end, &l->created_at);
        } else if (key_is(&key, "message") && !l->message_seen) {
            l->message_seen = 1;
            p = scan_message(p, end, l);
        } else if (key_is(&key, "done") && !l->done_seen) {
            l->done_seen = 1;
            p = (end - p >= 5 && memcmp(p, "false", 5) == 0) ? p + 5 : NULL;
        } else {
            return -1;
        }
        int more = p ? next_item(&p, end, '}') : -1;
        if (more < 0)
            return -1;
        if (!more)
            break;
    }
    return skip_ws(p, end) == end && l->model.set && l->message_seen && l->done_seen ? 0 : -1;
}

size_t anthropic_stream_fast(const struct anthropic_stream *s, const char *line, size_t len,
                             char *out, size_t outlen) {
    struct line l;
    struct outbuf o = {out, 0, outlen, 0};
    if (!s || !line || !s->started || s->finished || scan_line(line, line + len, &l) < 0)
        return 0;
    int text = l.content.set && l.content.n > 0;
    int thinking = l.thinking.set && l.thinking.n > 0;
    const struct span *t;
    if (text && !thinking && s->text_started) {
        t = &l.content;
    } else if (thinking && !text && s->thinking_started && !s->thinking_done && !s->text_started) {
        t = &l.thinking;
    } else {
        return 0;
    }
    OUTBUF_LIT(&o,
               "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":");
    outbuf_int(&o, s->index);
    if (t == &l.content)
        OUTBUF_LIT(&o, ",\"delta\":{\"type\":\"text_delta\",\"text\":");
    else
        OUTBUF_LIT(&o, ",\"delta\":{\"type\":\"thinking_delta\",\"thinking\":");
    openai_fast_put_string(&o, t->p, t->n, t->esc);
    OUTBUF_LIT(&o, "}}\n\n");
    return o.full ? 0 : o.len;
}
