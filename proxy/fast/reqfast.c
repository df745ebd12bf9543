/* reqfast: OpenAI chat and completion bodies written as native bodies from their bytes
 * (contract in reqfast.h). jscan_body has validated the body, so the walk below only finds
 * member boundaries; every check here decides between "the jansson path would produce this"
 * and "decline". */
#include "reqfast.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "openai_fields.h"
#include "outbuf.h"
#include "policy.h"
#include "splice.h"

/* The translation served, as openai_fields.h's bits. */
enum api { CHAT = OF_API_CHAT, COMPLETION = OF_API_COMPLETION };

/* A value's text. n 0: absent, or null (which every field here reads as absent). */
struct span {
    const char *p;
    size_t n;
};

struct member {
    struct span key, value; /* key: the text between the quotes (jscan refuses escaped keys) */
};

/* ---- walking a validated body -------------------------------------------------------- */

static const char *ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    return p;
}

/* p at the opening quote; returns the byte after the closing one: the first quote not escaped,
 * that is, not after an odd run of backslashes (the opening quote ends any run). */
static const char *skip_string(const char *p) {
    for (p++;;) {
        const char *q = rawmemchr(p, '"');
        size_t bs = 0;
        while (q[-1 - (ptrdiff_t)bs] == '\\')
            bs++;
        if (bs % 2 == 0)
            return q + 1;
        p = q + 1;
    }
}

static int scalar_byte(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+' || c == '.' ||
           c == 'E';
}

/* p at a value; returns the byte after it. */
static const char *skip_value(const char *p) {
    int depth = 0;
    do {
        char c = *p;
        if (c == '"') {
            p = skip_string(p);
        } else if (c == '{' || c == '[') {
            depth++;
            p++;
        } else if (c == '}' || c == ']') {
            depth--;
            p++;
        } else if (depth == 0) {
            while (scalar_byte(*p))
                p++;
        } else {
            p++;
        }
    } while (depth > 0);
    return p;
}

/* *pp at an object's '{' or at the ',' after a member: the next member's key, leaving *pp at
 * its value. Returns 0 at the end of the object (*pp at the '}'). */
static int next_key(const char **pp, struct span *key) {
    const char *p = *pp;
    if (*p == '}')
        return 0;
    p = ws(p + 1);
    if (*p == '}') {
        *pp = p;
        return 0;
    }
    const char *q = skip_string(p);
    key->p = p + 1;
    key->n = (size_t)(q - p) - 2;
    *pp = ws(ws(q) + 1); /* past ':' */
    return 1;
}

/* The same with the value, leaving *pp at the ',' or '}' after it. */
static int next_member(const char **pp, struct member *m) {
    if (!next_key(pp, &m->key))
        return 0;
    const char *q = skip_value(*pp);
    m->value.p = *pp;
    m->value.n = (size_t)(q - *pp);
    *pp = ws(q);
    return 1;
}

/* The same for an array's items. */
static int next_item(const char **pp, struct span *v) {
    const char *p = *pp;
    if (*p == ']')
        return 0;
    p = ws(p + 1);
    if (*p == ']') {
        *pp = p;
        return 0;
    }
    const char *q = skip_value(p);
    v->p = p;
    v->n = (size_t)(q - p);
    *pp = ws(q);
    return 1;
}

static int key_is(struct span k, const char *name, size_t len) {
    return k.n == len && memcmp(k.p, name, len) == 0;
}
#define KEY_IS(k, lit) key_is(k, lit, sizeof(lit) - 1)

static int text_is(struct span v, const char *lit) {
    size_t n = strlen(lit);
    return v.n == n && memcmp(v.p, lit, n) == 0;
}

static int is_string(struct span v) {
    return v.n && v.p[0] == '"';
}

static int is_bool(struct span v) {
    return text_is(v, "true") || text_is(v, "false");
}

static int is_number(struct span v) {
    return v.n && (v.p[0] == '-' || (v.p[0] >= '0' && v.p[0] <= '9'));
}

/* A number without fraction or exponent: jansson reads it as an integer. */
static int is_integer(struct span v) {
    return is_number(v) && !memchr(v.p, '.', v.n) && !memchr(v.p, 'e', v.n) &&
           !memchr(v.p, 'E', v.n);
}

/* An array (or object) with no items. */
static int is_empty(struct span v) {
    return v.n && *ws(v.p + 1) == (v.p[0] == '[' ? ']' : '}');
}

/* A number whose value is 0 (as json_number_value reads it: "0.0", "-0", "1e-400"). */
static int is_zero(struct span v) {
    char buf[64];
    if (v.n >= sizeof(buf))
        return -1;
    memcpy(buf, v.p, v.n);
    buf[v.n] = '\0';
    return strtod(buf, NULL) == 0;
}

/* ---- the checked output buffer ------------------------------------------------------- */

static void put_span(struct outbuf *o, struct span v) {
    outbuf_put(o, v.p, v.n);
}

/* ,"key":value inside an object (no comma before the first member). */
static void put_member(struct outbuf *o, int *first, struct span key, const char *value, size_t n) {
    if (!*first)
        OUTBUF_LIT(o, ",");
    *first = 0;
    OUTBUF_LIT(o, "\"");
    put_span(o, key);
    OUTBUF_LIT(o, "\":");
    outbuf_put(o, value, n);
}

/* ---- the request ---------------------------------------------------------------------- */

struct req {
    enum api api;
    struct span f[OF_COUNT];
    struct member opts[REQFAST_MAX_OPTIONS]; /* the client's "options" */
    size_t nopts;
    size_t nmessages;
    int include_usage;
};

static const char *put_messages(struct outbuf *o, const char *p, size_t *count);

/* The top-level members into r->f. A chat's messages array is written to o as it is walked
 * (one pass over the bulk of the body). -1 when a message is not covered, or for any member
 * openai_fields.h does not mark as taken by this api's fast path: reqfast fails closed, so a
 * member it does not know goes to the jansson path rather than being dropped. */
static int read_members(struct req *r, const char *body, struct outbuf *o) {
    const char *p = ws(body); /* the top-level '{' */
    struct span key;
    while (next_key(&p, &key)) {
        int id = openai_field_find(key.p, key.n);
        const char *end = NULL;
        if (id < 0 || !(openai_fields[id].fast & r->api))
            return -1;
        if (id == OF_MESSAGES && *p == '[' && !(end = put_messages(o, p, &r->nmessages)))
            return -1;
        if (!end)
            end = skip_value(p);
        if (!text_is((struct span){p, (size_t)(end - p)}, "null"))
            r->f[id] = (struct span){p, (size_t)(end - p)};
        p = ws(end);
    }
    return 0;
}

/* stream_options: an object whose include_usage is a bool (other members are ignored). */
static int read_stream_options(struct req *r) {
    struct span so = r->f[OF_STREAM_OPTIONS];
    struct member m;
    if (!so.n)
        return 0;
    if (so.p[0] != '{')
        return -1;
    const char *p = so.p;
    while (next_member(&p, &m)) {
        if (!KEY_IS(m.key, "include_usage") || text_is(m.value, "null"))
            continue;
        if (!is_bool(m.value))
            return -1;
        r->include_usage = text_is(m.value, "true");
    }
    return 0;
}

static int read_options(struct req *r) {
    struct span o = r->f[OF_OPTIONS];
    if (!o.n)
        return 0;
    if (o.p[0] != '{')
        return -1;
    const char *p = o.p;
    struct member m;
    while (next_member(&p, &m)) {
        if (r->nopts >= REQFAST_MAX_OPTIONS)
            return -1;
        r->opts[r->nopts++] = m;
    }
    return 0;
}

/* stop: a string or an array of strings (chat would drop other items and completions refuse
 * them: either way, not here). */
static int stop_ok(struct span v) {
    struct span item;
    if (!v.n || is_string(v))
        return 1;
    if (v.p[0] != '[')
        return 0;
    const char *p = v.p;
    while (next_item(&p, &item))
        if (!is_string(item))
            return 0;
    return 1;
}

/* Every covered field has a covered value. */
static int fields_ok(const struct req *r) {
    const struct span *f = r->f;
    if ((f[OF_STREAM].n && !is_bool(f[OF_STREAM])) || (f[OF_N].n && !text_is(f[OF_N], "1")) ||
        (f[OF_DEBUG_RENDER_ONLY].n && !is_bool(f[OF_DEBUG_RENDER_ONLY])) || !stop_ok(f[OF_STOP]))
        return 0;
    static const enum openai_field integers[] = {OF_MAX_COMPLETION_TOKENS, OF_MAX_TOKENS, OF_SEED,
                                                 OF_NUM_CTX};
    for (size_t i = 0; i < sizeof(integers) / sizeof(integers[0]); i++)
        if (f[integers[i]].n && !is_integer(f[integers[i]]))
            return 0;
    static const enum openai_field numbers[] = {OF_TEMPERATURE, OF_TOP_P, OF_FREQUENCY_PENALTY,
                                                OF_PRESENCE_PENALTY};
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
        if (f[numbers[i]].n && !is_number(f[numbers[i]]))
            return 0;
    if (r->api == COMPLETION) {
        struct span lp = f[OF_LOGPROBS];
        return (!f[OF_PROMPT].n || is_string(f[OF_PROMPT])) &&
               (!f[OF_SUFFIX].n || is_string(f[OF_SUFFIX])) &&
               (!lp.n || (is_integer(lp) && (lp.p[0] == '-' || text_is(lp, "0"))));
    }
    return f[OF_MESSAGES].n && f[OF_MESSAGES].p[0] == '[' && r->nmessages > 0 &&
           (!f[OF_TOOLS].n || (f[OF_TOOLS].p[0] == '[' && is_empty(f[OF_TOOLS]))) &&
           !f[OF_TOOL_CHOICE].n && !f[OF_REASONING].n &&
           (!f[OF_REASONING_EFFORT].n || text_is(f[OF_REASONING_EFFORT], "\"\"")) &&
           (!f[OF_LOGPROBS].n || text_is(f[OF_LOGPROBS], "false")) &&
           (!f[OF_TOP_LOGPROBS].n || text_is(f[OF_TOP_LOGPROBS], "0"));
}

/* response_format {"type":"json_object"} (format "json") or {"type":"text"} (no format),
 * with no json_schema and any other member: 1 for json, 0 for none, -1 not covered. */
static int read_format(const struct req *r) {
    struct span rf = r->f[OF_RESPONSE_FORMAT], type = {0};
    struct member m;
    if (!rf.n)
        return 0;
    if (rf.p[0] != '{')
        return -1;
    const char *p = rf.p;
    while (next_member(&p, &m)) {
        if (KEY_IS(m.key, "type"))
            type = m.value;
        else if (KEY_IS(m.key, "json_schema") && !text_is(m.value, "null"))
            return -1;
    }
    return text_is(type, "\"json_object\"") ? 1 : text_is(type, "\"text\"") ? 0 : -1;
}

/* The message at p as {"role","content"}; returns the byte after it, or NULL when it is not
 * the plain shape. */
static const char *put_message(struct outbuf *o, const char *p) {
    struct span role = {0}, content = {0};
    struct member m;
    if (*p != '{')
        return NULL;
    while (next_member(&p, &m)) {
        if (text_is(m.value, "null"))
            continue;
        if (KEY_IS(m.key, "role"))
            role = m.value;
        else if (KEY_IS(m.key, "content"))
            content = m.value;
        else if (KEY_IS(m.key, "name")) {
            if (!is_string(m.value))
                return NULL; /* a type error */
        } else if (KEY_IS(m.key, "reasoning") || KEY_IS(m.key, "tool_call_id") ||
                   KEY_IS(m.key, "tool_calls"))
            return NULL;
    }
    /* "tool" (any case) takes a tool_name; an escaped role could spell it */
    if (!is_string(role) || !is_string(content) || memchr(role.p, '\\', role.n) ||
        (role.n == 6 && strncasecmp(role.p + 1, "tool", 4) == 0))
        return NULL;
    OUTBUF_LIT(o, "{\"role\":");
    put_span(o, role);
    OUTBUF_LIT(o, ",\"content\":");
    put_span(o, content);
    OUTBUF_LIT(o, "}");
    return p + 1;
}

/* The messages array at p (its '['), written as "messages":[...]; returns the byte after it
 * and the number of messages, or NULL when a message is not covered. */
static const char *put_messages(struct outbuf *o, const char *p, size_t *count) {
    OUTBUF_LIT(o, "\"messages\":[");
    *count = 0;
    p = ws(p + 1);
    while (*p != ']') {
        if (*count)
            OUTBUF_LIT(o, ",");
        if (!(p = put_message(o, p)))
            return NULL;
        ++*count;
        p = ws(p);
        if (*p == ',')
            p = ws(p + 1);
    }
    OUTBUF_LIT(o, "]");
    return p + 1;
}

/* Whether the client's options hold key. */
static int opts_have(const struct req *r, const char *key) {
    for (size_t i = 0; i < r->nopts; i++)
        if (key_is(r->opts[i].key, key, strlen(key)))
            return 1;
    return 0;
}

/* The native options: the client's, under the mapped fields, with Ollama's /v1 defaults
 * (openai.c options_new). -1 when a value is not covered. */
static int put_options(struct outbuf *o, const struct req *r) {
    static const struct {
        const char *key;
        enum openai_field field; /* the client's options[key] gives way when this is given */
    } mapped[] = {
        {"num_predict", OF_MAX_COMPLETION_TOKENS},
        {"num_predict", OF_MAX_TOKENS},
        {"temperature", OF_TEMPERATURE},
        {"top_p", OF_TOP_P},
        {"seed", OF_SEED},
        {"frequency_penalty", OF_FREQUENCY_PENALTY},
        {"presence_penalty", OF_PRESENCE_PENALTY},
        {"stop", OF_STOP},
        {"num_ctx", OF_NUM_CTX},
    };
    const struct span *f = r->f;
    int first = 1, completion = r->api == COMPLETION;
    OUTBUF_LIT(o, "\"options\":{");
    for (size_t i = 0; i < r->nopts; i++) {
        int replaced = 0;
        for (size_t j = 0; j < sizeof(mapped) / sizeof(mapped[0]) && !replaced; j++)
            replaced = f[mapped[j].field].n &&
                       key_is(r->opts[i].key, mapped[j].key, strlen(mapped[j].key));
        if (!replaced)
            put_member(o, &first, r->opts[i].key, r->opts[i].value.p, r->opts[i].value.n);
    }
#define MEMBER(lit, text, len) put_member(o, &first, (struct span){lit, sizeof(lit) - 1}, text, len)
#define MEMBER_SPAN(lit, v)    MEMBER(lit, (v).p, (v).n)
#define MEMBER_LIT(lit, v)     MEMBER(lit, v, sizeof(v) - 1)
    if (f[OF_MAX_COMPLETION_TOKENS].n || f[OF_MAX_TOKENS].n)
        MEMBER_SPAN("num_predict",
                    f[OF_MAX_COMPLETION_TOKENS].n ? f[OF_MAX_COMPLETION_TOKENS] : f[OF_MAX_TOKENS]);
    if (f[OF_TEMPERATURE].n)
        MEMBER_SPAN("temperature", f[OF_TEMPERATURE]);
    else if (!opts_have(r, "temperature"))
        MEMBER_LIT("temperature", "1.0");
    if (f[OF_TOP_P].n) {
        int zero = completion ? is_zero(f[OF_TOP_P]) : 0; /* completions: 0 means unset */
        if (zero < 0)
            return -1;
        if (zero)
            MEMBER_LIT("top_p", "1.0");
        else
            MEMBER_SPAN("top_p", f[OF_TOP_P]);
    } else if (!opts_have(r, "top_p")) {
        MEMBER_LIT("top_p", "1.0");
    }
    if (f[OF_SEED].n)
        MEMBER_SPAN("seed", f[OF_SEED]);
    /* chat sends the penalties only when given; completions always (0 by default) */
    if (f[OF_FREQUENCY_PENALTY].n)
        MEMBER_SPAN("frequency_penalty", f[OF_FREQUENCY_PENALTY]);
    else if (completion && !opts_have(r, "frequency_penalty"))
        MEMBER_LIT("frequency_penalty", "0.0");
    if (f[OF_PRESENCE_PENALTY].n)
        MEMBER_SPAN("presence_penalty", f[OF_PRESENCE_PENALTY]);
    else if (completion && !opts_have(r, "presence_penalty"))
        MEMBER_LIT("presence_penalty", "0.0");
    if (is_string(f[OF_STOP])) {
        if (!first)
            OUTBUF_LIT(o, ",");
        first = 0;
        OUTBUF_LIT(o, "\"stop\":[");
        put_span(o, f[OF_STOP]);
        OUTBUF_LIT(o, "]");
    } else if (f[OF_STOP].n) {
        MEMBER_SPAN("stop", f[OF_STOP]);
    }
    if (f[OF_NUM_CTX].n)
        MEMBER_SPAN("num_ctx", f[OF_NUM_CTX]);
#undef MEMBER_LIT
#undef MEMBER_SPAN
#undef MEMBER
    OUTBUF_LIT(o, "}");
    return 0;
}

/* The runner options put_options wrote: the client's options, num_ctx given way to the field. */
static void note_runner(const struct req *r, struct runopts *ro) {
    for (size_t i = 0; i < r->nopts; i++) {
        int k = runopts_index(r->opts[i].key.p, r->opts[i].key.n);
        if (k >= 0 && !(k == 0 && r->f[OF_NUM_CTX].n))
            runopts_set_text(ro, k, r->opts[i].value.p, r->opts[i].value.n);
    }
    if (r->f[OF_NUM_CTX].n)
        runopts_set_text(ro, 0, r->f[OF_NUM_CTX].p, r->f[OF_NUM_CTX].n);
}

static char *request_new(enum api api, const struct config *cfg, const char *body, size_t len,
                         const struct jscan *scan, struct openai_meta *meta, size_t *outlen,
                         struct runopts *runner) {
    struct req req, *r = &req;
    struct outbuf o = {0};
    char ka[SPLICE_KEEP_ALIVE_MAX];
    size_t ka_len;
    int format = 0;
    const char *model = scan->model_name;

    if (!scan->has_model || !model[0] || !policy_keeps_options(cfg, model))
        goto decline; /* no model, an empty one, not a string; pinned options */
    memset(r->f, 0, sizeof(r->f));
    r->api = api;
    r->nopts = 0;
    r->nmessages = 0;
    r->include_usage = 0;
    o.cap = len + REQFAST_GROWTH;
    if (!(o.p = malloc(o.cap + 1)))
        goto decline;
    OUTBUF_LIT(&o, "{"); /* a chat's "messages" first, written while reading the members */
    if (read_members(r, body, &o) < 0 || !fields_ok(r) || read_stream_options(r) < 0 ||
        read_options(r) < 0 || (api == CHAT && (format = read_format(r)) < 0))
        goto decline;
    struct span ka_in = r->f[OF_KEEP_ALIVE];
    if (!(ka_len = splice_keep_alive_text(cfg, model, ka_in.p, ka_in.n, ka, sizeof(ka))))
        goto decline;

    if (api == CHAT) {
        OUTBUF_LIT(&o, ",\"model\":");
        put_span(&o, r->f[OF_MODEL]);
    } else {
        OUTBUF_LIT(&o, "\"model\":");
        put_span(&o, r->f[OF_MODEL]);
        OUTBUF_LIT(&o, ",\"prompt\":");
        if (r->f[OF_PROMPT].n)
            put_span(&o, r->f[OF_PROMPT]);
        else
            OUTBUF_LIT(&o, "\"\"");
        if (r->f[OF_SUFFIX].n > 2) { /* not "" */
            OUTBUF_LIT(&o, ",\"suffix\":");
            put_span(&o, r->f[OF_SUFFIX]);
        }
    }
    int stream = text_is(r->f[OF_STREAM], "true");
    if (stream)
        OUTBUF_LIT(&o, ",\"stream\":true,");
    else
        OUTBUF_LIT(&o, ",\"stream\":false,");
    if (format)
        OUTBUF_LIT(&o, "\"format\":\"json\",");
    if (put_options(&o, r) < 0)
        goto decline;
    if (text_is(r->f[OF_DEBUG_RENDER_ONLY], "true"))
        OUTBUF_LIT(&o, ",\"_debug_render_only\":true");
    OUTBUF_LIT(&o, ",\"keep_alive\":");
    outbuf_put(&o, ka, ka_len);
    OUTBUF_LIT(&o, "}");
    if (o.full)
        goto decline;
    o.p[o.len] = '\0';
    *outlen = o.len;
    meta->stream = stream;
    meta->include_usage = r->include_usage;
    meta->encoding_b64 = 0;
    if (runner)
        note_runner(r, runner);
    return o.p;
decline:
    free(o.p);
    return NULL;
}

char *reqfast_chat_new(const struct config *cfg, const char *body, size_t len,
                       const struct jscan *scan, struct openai_meta *meta, size_t *outlen,
                       struct runopts *runner) {
    return request_new(CHAT, cfg, body, len, scan, meta, outlen, runner);
}

char *reqfast_completion_new(const struct config *cfg, const char *body, size_t len,
                             const struct jscan *scan, struct openai_meta *meta, size_t *outlen,
                             struct runopts *runner) {
    return request_new(COMPLETION, cfg, body, len, scan, meta, outlen, runner);
}
