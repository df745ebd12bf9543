/* anthropic_fast: a /v1/messages stream's token line -> its content_block_delta event, from
 * bytes to bytes (contract in anthropic_fast.h). */
#include "anthropic_fast.h"

#include <string.h>

#include "jtok.h"
#include "openai_fast.h"
#include "outbuf.h"

struct line {
    struct jtok model, created_at, role, content, thinking;
    int done_seen, message_seen;
};

/* {"role","content","thinking"}: strings, each at most once, nothing else. */
static const char *scan_message(const char *p, const char *end, struct line *l) {
    if (p >= end || *p != '{')
        return NULL;
    p = jtok_skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        struct jtok key = {0}, *val;
        if (!(p = jtok_key(p, end, &key)))
            return NULL;
        if (jtok_key_is(&key, "role"))
            val = &l->role;
        else if (jtok_key_is(&key, "content"))
            val = &l->content;
        else if (jtok_key_is(&key, "thinking"))
            val = &l->thinking;
        else
            return NULL;
        if (val->set)
            return NULL;
        p = jtok_string(p, end, val);
        int more = p ? jtok_next(&p, end, '}') : -1;
        if (more <= 0)
            return more ? NULL : p;
    }
}

static int scan_line(const char *p, const char *end, struct line *l) {
    memset(l, 0, sizeof(*l));
    p = jtok_skip_ws(p, end);
    if (p >= end || *p != '{')
        return -1;
    p = jtok_skip_ws(p + 1, end);
    for (;;) {
        struct jtok key = {0};
        if (!(p = jtok_key(p, end, &key)))
            return -1;
        if (jtok_key_is(&key, "model") && !l->model.set) {
            p = jtok_string(p, end, &l->model);
        } else if (jtok_key_is(&key, "created_at") && !l->created_at.set) {
            p = jtok_string(p, end, &l->created_at);
        } else if (jtok_key_is(&key, "message") && !l->message_seen) {
            l->message_seen = 1;
            p = scan_message(p, end, l);
        } else if (jtok_key_is(&key, "done") && !l->done_seen) {
            l->done_seen = 1;
            p = (end - p >= 5 && memcmp(p, "false", 5) == 0) ? p + 5 : NULL;
        } else {
            return -1;
        }
        int more = p ? jtok_next(&p, end, '}') : -1;
        if (more < 0)
            return -1;
        if (!more)
            break;
    }
    return jtok_skip_ws(p, end) == end && l->model.set && l->message_seen && l->done_seen ? 0 : -1;
}

size_t anthropic_stream_fast(const struct anthropic_stream *s, const char *line, size_t len,
                             char *out, size_t outlen) {
    struct line l;
    struct outbuf o = {out, 0, outlen, 0};
    if (!s || !line || !s->started || s->finished || scan_line(line, line + len, &l) < 0)
        return 0;
    int text = l.content.set && l.content.n > 0;
    int thinking = l.thinking.set && l.thinking.n > 0;
    const struct jtok *t;
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
