/* responses_fast: a /v1/responses stream's common token line written from its bytes
 * (responses_fast.h), and the capped text buffer the stream accumulates into. */
#include "responses_fast.h"

#include <stdlib.h>
#include <string.h>

#include "jsonstr.h"
#include "outbuf.h"

int responses_text_add(struct responses_text *t, const char *p, size_t n, size_t max) {
    if (n > max || t->len > max - n)
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

/* A string token's inside, validated. */
struct str {
    const char *p;
    size_t n;
    int esc, set;
};

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static const char *scan_str(const char *p, const char *end, struct str *s) {
    const char *why, *q;
    if (p >= end || *p != '"' || s->set)
        return NULL; /* not a string, or a duplicate member */
    if (!(q = jsonstr_scan(p + 1, end, &s->esc, &why)))
        return NULL;
    s->p = p + 1;
    s->n = (size_t)(q - s->p);
    s->set = 1;
    return q + 1;
}

/* A key: an unescaped string token, then ':'. Returns the byte after ':' or NULL. */
static const char *scan_key(const char *p, const char *end, struct str *k) {
    k->set = 0;
    if (!(p = scan_str(p, end, k)) || k->esc)
        return NULL;
    p = skip_ws(p, end);
    if (p >= end || *p != ':')
        return NULL;
    return skip_ws(p + 1, end);
}

static int key_is(const struct str *k, const char *name) {
    size_t n = strlen(name);
    return k->n == n && memcmp(k->p, name, n) == 0;
}

/* After a member's value: ',' (1: another member) or close (0); -1 otherwise. */
static int next_member(const char **pp, const char *end, char close) {
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

struct line {
    struct str model, created_at, role, content, thinking;
    int done_set, message_set;
};

static const char *scan_message(const char *p, const char *end, struct line *l) {
    struct str k;
    if (l->message_set || p >= end || *p != '{')
        return NULL;
    l->message_set = 1;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        if (!(p = scan_key(p, end, &k)))
            return NULL;
        if (key_is(&k, "role"))
            p = scan_str(p, end, &l->role);
        else if (key_is(&k, "content"))
            p = scan_str(p, end, &l->content);
        else if (key_is(&k, "thinking"))
            p = scan_str(p, end, &l->thinking);
        else
            return NULL;
        if (!p)
            return NULL;
        int more = next_member(&p, end, '}');
        if (more < 0)
            return NULL;
        if (!more)
            return p;
    }
}

static int scan_line(const char *line, size_t len, struct line *l) {
    const char *p = line, *end = line + len;
    struct str k;
    memset(l, 0, sizeof(*l));
    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return -1;
    p = skip_ws(p + 1, end);
    for (;;) {
        if (!(p = scan_key(p, end, &k)))
            return -1;
        if (key_is(&k, "model")) {
            p = scan_str(p, end, &l->model);
        } else if (key_is(&k, "created_at")) {
            p = scan_str(p, end, &l->created_at);
        } else if (key_is(&k, "message")) {
            p = scan_message(p, end, l);
        } else if (key_is(&k, "done")) {
            if (l->done_set || (size_t)(end - p) < 5 || memcmp(p, "false", 5) != 0)
                return -1;
            l->done_set = 1;
            p += 5;
        } else {
            return -1;
        }
        if (!p)
            return -1;
        int more = next_member(&p, end, '}');
        if (more < 0)
            return -1;
        if (!more)
            break;
    }
    return skip_ws(p, end) == end && l->done_set ? 0 : -1;
}

static void put_utf8(char *b, size_t *n, unsigned cp) {
    if (cp < 0x80) {
        b[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        b[(*n)++] = (char)(0xc0 | cp >> 6);
        b[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        b[(*n)++] = (char)(0xe0 | cp >> 12);
        b[(*n)++] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        b[(*n)++] = (char)(0xf0 | cp >> 18);
        b[(*n)++] = (char)(0x80 | (cp >> 12 & 0x3f));
        b[(*n)++] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
}

/* A validated string token's inside decoded into b (room for s->n bytes: decoding never
 * grows it). Returns the decoded length. */
static size_t decode(const struct str *s, char *b) {
    const char *p = s->p, *end = s->p + s->n;
    size_t n = 0;
    if (!s->esc) {
        memcpy(b, p, s->n);
        return s->n;
    }
    while (p < end) {
        const char *q = memchr(p, '\\', (size_t)(end - p));
        unsigned cp, lo;
        if (!q)
            q = end;
        memcpy(b + n, p, (size_t)(q - p));
        n += (size_t)(q - p);
        if (q == end)
            break;
        p = q + 2;
        switch (q[1]) {
            case 'b':
                cp = '\b';
                break;
            case 'f':
                cp = '\f';
                break;
            case 'n':
                cp = '\n';
                break;
            case 'r':
                cp = '\r';
                break;
            case 't':
                cp = '\t';
                break;
            case 'u':
                jsonstr_hex4(q + 2, end, &cp);
                p = q + 6;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    jsonstr_hex4(p + 2, end, &lo);
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                }
                break;
            default: /* '"', '\\', '/' */
                cp = (unsigned char)q[1];
        }
        put_utf8(b, &n, cp);
    }
    return n;
}

/* Decoded UTF-8 bytes written as jansson's dump writes a string (no JSON_ENSURE_ASCII). */
static void put_escaped(struct outbuf *o, const char *b, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;
    OUTBUF_LIT(o, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        outbuf_put(o, b + run, i - run);
        run = i + 1;
        switch (c) {
            case '"':
                OUTBUF_LIT(o, "\\\"");
                break;
            case '\\':
                OUTBUF_LIT(o, "\\\\");
                break;
            case '\b':
                OUTBUF_LIT(o, "\\b");
                break;
            case '\f':
                OUTBUF_LIT(o, "\\f");
                break;
            case '\n':
                OUTBUF_LIT(o, "\\n");
                break;
            case '\r':
                OUTBUF_LIT(o, "\\r");
                break;
            case '\t':
                OUTBUF_LIT(o, "\\t");
                break;
            default: {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                outbuf_put(o, u, 6);
            }
        }
    }
    outbuf_put(o, b + run, n - run);
    OUTBUF_LIT(o, "\"");
}

/* An id as jansson writes it: ids are made of [a-z0-9_] (id.h), no escapes. */
static void put_id(struct outbuf *o, const char *id) {
    OUTBUF_LIT(o, "\"");
    outbuf_put(o, id, strlen(id));
    OUTBUF_LIT(o, "\"");
}

size_t responses_stream_fast(struct responses_stream *s, const char *line, size_t len, char *out,
                             size_t outlen) {
    struct line l;
    struct outbuf o = {out, 0, outlen, 0};
    char delta[RESPONSES_FAST_DELTA_MAX];
    const struct str *d;
    struct responses_text *acc;
    size_t n;
    int thinking;

    if (!s->started || s->finished || s->tools_sent || scan_line(line, len, &l) < 0)
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
    n = decode(d, delta);
    if (thinking) {
        OUTBUF_LIT(&o, "event: response.reasoning_summary_text.delta\ndata: {\"item_id\":");
        put_id(&o, s->rs_id);
        OUTBUF_LIT(&o, ",\"output_index\":");
        outbuf_int(&o, s->index);
        OUTBUF_LIT(&o, ",\"summary_index\":0,\"delta\":");
        put_escaped(&o, delta, n);
        OUTBUF_LIT(&o, ",\"type\":\"response.reasoning_summary_text.delta\",\"sequence_number\":");
    } else {
        OUTBUF_LIT(&o, "event: response.output_text.delta\ndata: {\"item_id\":");
        put_id(&o, s->msg_id);
        OUTBUF_LIT(&o, ",\"output_index\":");
        outbuf_int(&o, s->index);
        OUTBUF_LIT(&o, ",\"content_index\":0,\"delta\":");
        put_escaped(&o, delta, n);
        OUTBUF_LIT(&o, ",\"logprobs\":[],\"type\":\"response.output_text.delta\","
                       "\"sequence_number\":");
    }
    outbuf_int(&o, s->seq);
    OUTBUF_LIT(&o, "}\n\n");
    if (o.full || !responses_room(s, n) || responses_text_add(acc, delta, n, (size_t)-1) < 0)
        return 0;
    s->seq++;
    return o.len;
}
