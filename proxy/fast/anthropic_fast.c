/* anthropic_fast: a /v1/messages stream's token line -> its content_block_delta event, from
 * bytes to bytes (contract in anthropic_fast.h); the line's scan is tokline's. */
#include "anthropic_fast.h"

#include "openai_fast.h"
#include "outbuf.h"
#include "tokline.h"

size_t anthropic_stream_fast(const struct anthropic_stream *s, const char *line, size_t len,
                             char *out, size_t outlen) {
    struct tokline l;
    struct outbuf o = {out, 0, outlen, 0};
    if (!s || !line || !s->started || s->finished || tokline_scan(line, len, &l) < 0 ||
        !l.model.set || !l.message_set)
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
