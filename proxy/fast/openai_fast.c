/* openai_fast: Ollama's common non-stream answer -> the OpenAI object, and a stream's common
 * token and done lines -> their SSE events, from bytes to bytes (contract in openai_fast.h).
 * One pass over the line validates it as json_loadb would for the covered shape and records
 * spans of the strings it needs; a second writes the output in jansson's compact dump format.
 * Anything it does not know makes it return 0. */
#include "openai_fast.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "jtok.h"
#include "openai_types.h"
#include "outbuf.h"
#include "rfc3339.h"

#define INT_DIGITS_MAX 18 /* integers we skip: always within json_int_t */

/* ---- scanning ------------------------------------------------------------------------------ */

/* The members the answer is built from. */
struct answer {
    struct jtok model, created_at, role, content, reason;
    json_int_t prompt, completion;
    int done; /* "done": true (false: a token line) */
};

/* An integer token: -?(0|[1-9][0-9]*), at most INT_DIGITS_MAX digits, not followed by a
 * fraction or exponent (a real is the jansson path's), within [min, max]. */
static const char *scan_int(const char *p, const char *end, json_int_t min, json_int_t max,
                            json_int_t *out) {
    int neg = 0, digits = 0;
    json_int_t v = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0') {
        p++;
    } else {
        while (p < end && *p >= '0' && *p <= '9') {
            if (++digits > INT_DIGITS_MAX)
                return NULL;
            v = v * 10 + (*p++ - '0');
        }
    }
    if (p < end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E'))
        return NULL;
    if (neg)
        v = -v;
    if (v < min || v > max)
        return NULL;
    *out = v;
    return p;
}

#define SKIP_MIN (-999999999999999999LL)
#define SKIP_MAX 999999999999999999LL

/* [int, ...]: Ollama's "context" (token ids), which the translation ignores. */
static const char *scan_int_array(const char *p, const char *end) {
    json_int_t v;
    if (p >= end || *p != '[')
        return NULL;
    p = jtok_skip_ws(p + 1, end);
    if (p < end && *p == ']')
        return p + 1;
    for (;;) {
        p = scan_int(p, end, SKIP_MIN, SKIP_MAX, &v);
        int more = p ? jtok_next(&p, end, ']') : -1;
        if (more <= 0)
            return more ? NULL : p;
    }
}

/* {"role": string, "content": string}, each at most once, nothing else. */
static const char *scan_message(const char *p, const char *end, struct answer *a) {
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
            val = &a->role;
        else if (jtok_key_is(&key, "content"))
            val = &a->content;
        else
            return NULL; /* thinking, tool_calls, images, ...: the jansson path */
        if (val->set)
            return NULL;
        p = jtok_string(p, end, val);
        int more = p ? jtok_next(&p, end, '}') : -1;
        if (more <= 0)
            return more ? NULL : p;
    }
}

enum member {
    M_MODEL,
    M_CREATED_AT,
    M_MESSAGE,
    M_RESPONSE,
    M_THINKING,
    M_CONTEXT,
    M_DONE,
    M_DONE_REASON,
    M_TOTAL_DURATION,
    M_LOAD_DURATION,
    M_PROMPT_EVAL_COUNT,
    M_PROMPT_EVAL_DURATION,
    M_EVAL_COUNT,
    M_EVAL_DURATION,
    M_COUNT
};

static const char *const member_names[M_COUNT] = {
    [M_MODEL] = "model",
    [M_CREATED_AT] = "created_at",
    [M_MESSAGE] = "message",
    [M_RESPONSE] = "response",
    [M_THINKING] = "thinking",
    [M_CONTEXT] = "context",
    [M_DONE] = "done",
    [M_DONE_REASON] = "done_reason",
    [M_TOTAL_DURATION] = "total_duration",
    [M_LOAD_DURATION] = "load_duration",
    [M_PROMPT_EVAL_COUNT] = "prompt_eval_count",
    [M_PROMPT_EVAL_DURATION] = "prompt_eval_duration",
    [M_EVAL_COUNT] = "eval_count",
    [M_EVAL_DURATION] = "eval_duration",
};

#define BIT(m) (1u << (m))
#define COMMON_MEMBERS                                                                             \
    (BIT(M_MODEL) | BIT(M_CREATED_AT) | BIT(M_DONE) | BIT(M_DONE_REASON) | BIT(M_TOTAL_DURATION) | \
     BIT(M_LOAD_DURATION) | BIT(M_PROMPT_EVAL_COUNT) | BIT(M_PROMPT_EVAL_DURATION) |               \
     BIT(M_EVAL_COUNT) | BIT(M_EVAL_DURATION))
#define CHAT_MEMBERS       (COMMON_MEMBERS | BIT(M_MESSAGE))
#define COMPLETION_MEMBERS (COMMON_MEMBERS | BIT(M_RESPONSE) | BIT(M_THINKING) | BIT(M_CONTEXT))
#define TOKEN_MEMBERS      (BIT(M_MODEL) | BIT(M_CREATED_AT) | BIT(M_MESSAGE) | BIT(M_DONE))

static int member_of(const struct jtok *key) {
    for (int m = 0; m < M_COUNT; m++)
        if (member_names[m][0] == key->p[0] && strlen(member_names[m]) == key->n &&
            !memcmp(member_names[m], key->p, key->n))
            return m;
    return -1;
}

/* One member's value at p; returns the byte after it or NULL. */
static const char *scan_member(const char *p, const char *end, int m, struct answer *a) {
    struct jtok ignored;
    json_int_t skipped;
    switch (m) {
        case M_MODEL:
            return jtok_string(p, end, &a->model);
        case M_CREATED_AT:
            return jtok_string(p, end, &a->created_at);
        case M_MESSAGE:
            return scan_message(p, end, a);
        case M_RESPONSE:
            return jtok_string(p, end, &a->content);
        case M_THINKING:
            return jtok_string(p, end, &ignored);
        case M_CONTEXT:
            return scan_int_array(p, end);
        case M_DONE:
            if (end - p >= 4 && !memcmp(p, "true", 4)) {
                a->done = 1;
                return p + 4;
            }
            return end - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
        case M_DONE_REASON:
            return jtok_string(p, end, &a->reason);
        case M_PROMPT_EVAL_COUNT:
            return scan_int(p, end, 0, OPENAI_COUNT_MAX, &a->prompt);
        case M_EVAL_COUNT:
            return scan_int(p, end, 0, OPENAI_COUNT_MAX, &a->completion);
        default:
            return scan_int(p, end, SKIP_MIN, SKIP_MAX, &skipped);
    }
}

/* The whole body: one object of allowed members, each at most once, "done" among them, and
 * nothing but whitespace around it. Returns 0 or -1. */
static int scan_answer(const char *p, const char *end, unsigned allowed, struct answer *a) {
    unsigned seen = 0;
    memset(a, 0, sizeof(*a));
    p = jtok_skip_ws(p, end);
    if (p >= end || *p != '{')
        return -1;
    p = jtok_skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return -1; /* no "done" */
    for (;;) {
        struct jtok key = {0};
        int m;
        p = jtok_key(p, end, &key);
        if (!p || (m = member_of(&key)) < 0 || !(allowed & BIT(m)) || (seen & BIT(m)))
            return -1;
        seen |= BIT(m);
        p = scan_member(p, end, m, a);
        int more = p ? jtok_next(&p, end, '}') : -1;
        if (more < 0)
            return -1;
        if (!more)
            break;
    }
    if (jtok_skip_ws(p, end) != end || !(seen & BIT(M_DONE)))
        return -1;
    return 0;
}

/* unix(created_at) when it parses, else 0 (the jansson path would use the clock). */
static json_int_t created_of(const struct jtok *t) {
    char ts[64];
    if (!t->set || t->esc || t->n >= sizeof(ts))
        return 0;
    memcpy(ts, t->p, t->n);
    ts[t->n] = '\0';
    long long c;
    return rfc3339_parse(ts, &c) == 0 && c > 0 ? (json_int_t)c : 0;
}

static int id_ok(const char *id) {
    return openai_id_plain(id) && strlen(id) <= OPENAI_FAST_ID_MAX;
}

/* ---- writing ------------------------------------------------------------------------------- */

/* One decoded code point as jansson's dump writes it. */
static void put_codepoint(struct outbuf *o, unsigned cp) {
    static const char hex[] = "0123456789ABCDEF";
    char b[4];
    switch (cp) {
        case '"':
            OUTBUF_LIT(o, "\\\"");
            return;
        case '\\':
            OUTBUF_LIT(o, "\\\\");
            return;
        case '\b':
            OUTBUF_LIT(o, "\\b");
            return;
        case '\f':
            OUTBUF_LIT(o, "\\f");
            return;
        case '\n':
            OUTBUF_LIT(o, "\\n");
            return;
        case '\r':
            OUTBUF_LIT(o, "\\r");
            return;
        case '\t':
            OUTBUF_LIT(o, "\\t");
            return;
        default:
            break;
    }
    if (cp < 0x20) {
        char u[6] = {'\\', 'u', '0', '0', hex[cp >> 4], hex[cp & 15]};
        outbuf_put(o, u, 6);
    } else {
        outbuf_put(o, b, jtok_utf8(cp, b));
    }
}

/* A scanned string token (already validated), re-escaped as jansson dumps it: raw runs are
 * copied, escapes decoded and written again. Never longer than the token. */
static void put_string(struct outbuf *o, const struct jtok *t) {
    openai_fast_put_string(o, t->p, t->n, t->esc);
}

void openai_fast_put_string(struct outbuf *o, const char *tp, size_t tn, int tesc) {
    const struct jtok tt = {tp, tn, tesc, 1}, *t = &tt;
    OUTBUF_LIT(o, "\"");
    if (!t->esc) {
        outbuf_put(o, t->p, t->n);
    } else {
        const char *p = t->p, *end = t->p + t->n;
        while (p < end) {
            const char *q = memchr(p, '\\', (size_t)(end - p));
            unsigned cp;
            if (!q)
                q = end;
            outbuf_put(o, p, (size_t)(q - p));
            if (q == end)
                break;
            p = jtok_unescape(q, end, &cp);
            put_codepoint(o, cp);
        }
    }
    OUTBUF_LIT(o, "\"");
}

static void put_head(struct outbuf *o, const char *id, const char *object, json_int_t created,
                     const struct answer *a) {
    OUTBUF_LIT(o, "{\"id\":\"");
    outbuf_put(o, id, strlen(id));
    OUTBUF_LIT(o, "\",\"object\":\"");
    outbuf_put(o, object, strlen(object));
    OUTBUF_LIT(o, "\",\"created\":");
    outbuf_int(o, created);
    OUTBUF_LIT(o, ",\"model\":");
    if (a->model.set)
        put_string(o, &a->model);
    else
        OUTBUF_LIT(o, "\"\"");
    OUTBUF_LIT(o, ",\"system_fingerprint\":\"fp_ollama\",\"choices\":[{");
}

/* The usage object's members and its closing brace (the caller opens it). */
static void put_usage_members(struct outbuf *o, const struct answer *a) {
    OUTBUF_LIT(o, "\"prompt_tokens\":");
    outbuf_int(o, a->prompt);
    OUTBUF_LIT(o, ",\"completion_tokens\":");
    outbuf_int(o, a->completion);
    OUTBUF_LIT(o, ",\"total_tokens\":");
    outbuf_int(o, a->prompt + a->completion);
    OUTBUF_LIT(o, "}");
}

static void put_tail(struct outbuf *o, const struct answer *a) {
    OUTBUF_LIT(o, ",\"finish_reason\":");
    if (a->reason.set && a->reason.n)
        put_string(o, &a->reason);
    else
        OUTBUF_LIT(o, "null");
    OUTBUF_LIT(o, "}],\"usage\":{");
    put_usage_members(o, a);
    OUTBUF_LIT(o, "}");
}

static void put_content(struct outbuf *o, const struct jtok *t) {
    if (t->set)
        put_string(o, t);
    else
        OUTBUF_LIT(o, "\"\"");
}

static size_t finish(const struct outbuf *o, const struct answer *a,
                     struct openai_fast_usage *usage) {
    if (o->full)
        return 0;
    usage->prompt_tokens = a->prompt;
    usage->completion_tokens = a->completion;
    return o->len;
}

size_t openai_chat_response_fast(const char *body, size_t len, const char *id, char *out,
                                 size_t outlen, struct openai_fast_usage *usage) {
    struct answer a;
    struct outbuf o = {out, 0, outlen, 0};
    json_int_t created;
    if (!body || !id || !id_ok(id) || scan_answer(body, body + len, CHAT_MEMBERS, &a) < 0 ||
        !a.done || !(created = created_of(&a.created_at)))
        return 0;
    put_head(&o, id, "chat.completion", created, &a);
    OUTBUF_LIT(&o, "\"index\":0,\"message\":{\"role\":");
    if (a.role.set && a.role.n)
        put_string(&o, &a.role);
    else
        OUTBUF_LIT(&o, "\"assistant\"");
    OUTBUF_LIT(&o, ",\"content\":");
    put_content(&o, &a.content);
    OUTBUF_LIT(&o, "}");
    put_tail(&o, &a);
    return finish(&o, &a, usage);
}

size_t openai_completion_response_fast(const char *body, size_t len, const char *id, char *out,
                                       size_t outlen, struct openai_fast_usage *usage) {
    struct answer a;
    struct outbuf o = {out, 0, outlen, 0};
    json_int_t created;
    if (!body || !id || !id_ok(id) || scan_answer(body, body + len, COMPLETION_MEMBERS, &a) < 0 ||
        !a.done || !(created = created_of(&a.created_at)))
        return 0;
    put_head(&o, id, "text_completion", created, &a);
    OUTBUF_LIT(&o, "\"text\":");
    put_content(&o, &a.content);
    OUTBUF_LIT(&o, ",\"index\":0");
    put_tail(&o, &a);
    return finish(&o, &a, usage);
}

/* ---- stream lines: tokens and the done line -------------------------------------------------- */

/* "data: " and a stream chunk's head up to "choices": (head_new's keys, in its order). */
static void put_chunk_head(struct outbuf *o, const struct openai_stream *s, const char *object,
                           json_int_t created, const struct jtok *model) {
    OUTBUF_LIT(o, "data: {\"id\":\"");
    outbuf_put(o, s->id, strlen(s->id));
    OUTBUF_LIT(o, "\",\"object\":\"");
    outbuf_put(o, object, strlen(object));
    OUTBUF_LIT(o, "\",\"created\":");
    outbuf_int(o, created);
    OUTBUF_LIT(o, ",\"model\":\"");
    outbuf_put(o, model->p, model->n); /* unescaped, so already as jansson writes it */
    OUTBUF_LIT(o, "\",\"system_fingerprint\":\"fp_ollama\",\"choices\":");
}

/* The finish_reason of the stream's end as openai.c's stream_finish_reason gives it, for the
 * reasons covered here (none or "" or "stop", "length"); NULL for any other. */
static const char *stream_reason(const struct jtok *reason, int tool_sent) {
    if (reason->set && reason->n == 6 && !memcmp(reason->p, "length", 6))
        return "length";
    if (reason->set && reason->n && (reason->esc || reason->n != 4 || memcmp(reason->p, "stop", 4)))
        return NULL;
    return tool_sent ? "tool_calls" : "stop";
}

/* Scans a stream line the fast paths can take: the stream going on with an id written as it
 * is, and the line's model, which names every chunk and becomes the stream's, plain and short
 * enough to be remembered whole (without one, the slow path would write the remembered name).
 * -1: the jansson path's line. */
static int scan_stream_line(const struct openai_stream *s, const char *line, size_t len,
                            unsigned allowed, struct answer *a) {
    if (!s || !line || s->finished || !s->id_plain || scan_answer(line, line + len, allowed, a) < 0)
        return -1;
    if (!a->model.set || !a->model.n || a->model.esc || a->model.n >= sizeof(s->model))
        return -1;
    return 0;
}

/* Scans a done line for a stream that can take it; fills a, *created and *reason (tool_sent:
 * "stop" becomes "tool_calls"). -1: the jansson path's line. */
static int scan_done_line(const struct openai_stream *s, const char *line, size_t len,
                          unsigned allowed, int tool_sent, struct answer *a, json_int_t *created,
                          const char **reason) {
    if (scan_stream_line(s, line, len, allowed, a) < 0 || !a->done)
        return -1;
    *created = s->created;
    if (!s->created_set && !(*created = created_of(&a->created_at)))
        return -1; /* the slow path would take the clock */
    if (!(*reason = stream_reason(&a->reason, tool_sent)))
        return -1;
    return 0;
}

/* The usage chunk of a stream that asked for it. */
static void put_usage_chunk(struct outbuf *o, const struct openai_stream *s, const char *object,
                            json_int_t created, const struct answer *a) {
    put_chunk_head(o, s, object, created, &a->model);
    OUTBUF_LIT(o, "[],\"usage\":{");
    put_usage_members(o, a);
    OUTBUF_LIT(o, "}\n\n");
}

/* A chat chunk carrying the line's content, and the role on the stream's first chunk
 * (delta_new's keys). */
static void put_content_chunk(struct outbuf *o, const struct openai_stream *s, json_int_t created,
                              const struct answer *a) {
    put_chunk_head(o, s, "chat.completion.chunk", created, &a->model);
    OUTBUF_LIT(o, "[{\"index\":0,\"delta\":{");
    if (!s->role_sent)
        OUTBUF_LIT(o, "\"role\":\"assistant\",");
    OUTBUF_LIT(o, "\"content\":");
    put_content(o, &a->content);
    OUTBUF_LIT(o, "},\"finish_reason\":null}]}\n\n");
}

/* The state the jansson path leaves after a line, once its events fitted. */
static void stream_went_on(struct openai_stream *s, json_int_t created, const struct answer *a) {
    s->created = created;
    s->created_set = 1;
    memcpy(s->model, a->model.p, a->model.n);
    s->model[a->model.n] = '\0';
    s->role_sent = 1;
}

size_t openai_chat_stream_fast(struct openai_stream *s, const char *line, size_t len, char *out,
                               size_t outlen) {
    struct answer a;
    struct outbuf o = {out, 0, outlen, 0};
    if (scan_stream_line(s, line, len, TOKEN_MEMBERS, &a) < 0 || a.done || !a.content.set)
        return 0;
    json_int_t created = s->created;
    if (!s->created_set && !(created = created_of(&a.created_at)))
        created = (json_int_t)time(NULL); /* as the slow path takes it */
    put_content_chunk(&o, s, created, &a);
    if (o.full)
        return 0;
    stream_went_on(s, created, &a);
    return o.len;
}

/* The state the jansson path leaves after a done line, once everything fitted. */
static size_t stream_done(struct openai_stream *s, json_int_t created, const struct outbuf *o,
                          const struct answer *a, struct openai_fast_usage *usage) {
    if (o->full)
        return 0;
    stream_went_on(s, created, a);
    s->finished = OPENAI_FINISHED_DONE;
    return finish(o, a, usage);
}

size_t openai_chat_stream_done_fast(struct openai_stream *s, const char *line, size_t len,
                                    char *out, size_t outlen, struct openai_fast_usage *usage) {
    static const char object[] = "chat.completion.chunk";
    struct answer a;
    struct outbuf o = {out, 0, outlen, 0};
    json_int_t created;
    const char *reason;

    if (scan_done_line(s, line, len, CHAT_MEMBERS, s && s->tool_sent, &a, &created, &reason) < 0)
        return 0;
    /* Content, or the role not sent yet: a content chunk first. */
    if (a.content.n || !s->role_sent)
        put_content_chunk(&o, s, created, &a);
    put_chunk_head(&o, s, object, created, &a.model);
    OUTBUF_LIT(&o, "[{\"index\":0,\"delta\":{},\"finish_reason\":\"");
    outbuf_put(&o, reason, strlen(reason));
    OUTBUF_LIT(&o, "\"}]}\n\n");
    if (s->include_usage)
        put_usage_chunk(&o, s, object, created, &a);
    return stream_done(s, created, &o, &a, usage);
}

size_t openai_completion_stream_done_fast(struct openai_stream *s, const char *line, size_t len,
                                          char *out, size_t outlen,
                                          struct openai_fast_usage *usage) {
    static const char object[] = "text_completion";
    struct answer a;
    struct outbuf o = {out, 0, outlen, 0};
    json_int_t created;
    const char *reason;

    if (scan_done_line(s, line, len, COMPLETION_MEMBERS, 0, &a, &created, &reason) < 0)
        return 0;
    /* One chunk with the line's text and the finish_reason (zero usage when asked). */
    put_chunk_head(&o, s, object, created, &a.model);
    OUTBUF_LIT(&o, "[{\"text\":");
    put_content(&o, &a.content);
    OUTBUF_LIT(&o, ",\"index\":0,\"finish_reason\":\"");
    outbuf_put(&o, reason, strlen(reason));
    OUTBUF_LIT(&o, "\"}]");
    if (s->include_usage)
        OUTBUF_LIT(&o,
                   ",\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0}");
    OUTBUF_LIT(&o, "}\n\n");
    if (s->include_usage)
        put_usage_chunk(&o, s, object, created, &a);
    return stream_done(s, created, &o, &a, usage);
}
