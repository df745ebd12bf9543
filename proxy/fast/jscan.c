/* jscan: validating single-pass JSON scan of a request body, spans of the top-level values
 * policy rewrites; pure, no allocation (a few KB of stack). */
#include "jscan.h"
#include "jsonstr.h"

#include <stddef.h>
#include <string.h>

enum top_key { TOP_OTHER = 0, TOP_MODEL, TOP_KEEP_ALIVE, TOP_OPTIONS };

struct scanner {
    const unsigned char *base, *p, *end;
    int depth;                                    /* open containers; the top-level object is 1 */
    unsigned char is_object[JSCAN_MAX_DEPTH + 1]; /* per depth: object (1) or array (0) */
    size_t key_base[JSCAN_MAX_DEPTH + 1];         /* per open object: its first key in keys[] */
    struct {
        size_t off, len;
    } keys[JSCAN_MAX_KEYS]; /* raw key texts of the open objects, for duplicates */
    size_t nkeys;
    struct jscan *out;
};

static int fail(struct scanner *s, int invalid, const char *why) {
    s->out->invalid = invalid;
    s->out->why = why;
    return -1;
}

static void skip_ws(struct scanner *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* The string whose opening quote is at s->p; leaves s->p after the closing quote. *escaped
 * says whether it held a backslash. */
static int scan_string(struct scanner *s, int *escaped) {
    const char *why = NULL;
    const char *q = jsonstr_scan((const char *)s->p + 1, (const char *)s->end, escaped, &why);
    if (!q)
        return fail(s, 1, why);
    s->p = (const unsigned char *)q + 1;
    return 0;
}

static int is_digit(const unsigned char *p, const unsigned char *end) {
    return p < end && *p >= '0' && *p <= '9';
}

/* A number at s->p; jansson reads integers with strtoll (ERANGE is an error) and reals with
 * strtod (overflow to infinity is an error). */
static int scan_number(struct scanner *s) {
    const unsigned char *p = s->p, *end = s->end;
    int neg = 0, real = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    const unsigned char *int_start = p;
    if (p < end && *p == '0') {
        p++;
        if (is_digit(p, end))
            return fail(s, 1, "leading zero");
    } else if (is_digit(p, end)) {
        while (is_digit(p, end))
            p++;
    } else {
        return fail(s, 1, "invalid number");
    }
    size_t int_digits = (size_t)(p - int_start);
    if (p < end && *p == '.') {
        p++;
        if (!is_digit(p, end))
            return fail(s, 1, "invalid number");
        while (is_digit(p, end))
            p++;
        real = 1;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int exp_neg = 0;
        long exp = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            exp_neg = *p++ == '-';
        if (!is_digit(p, end))
            return fail(s, 1, "invalid number");
        for (; is_digit(p, end); p++)
            if (exp <= JSCAN_MAX_EXP)
                exp = exp * 10 + (*p - '0');
        if (exp > JSCAN_MAX_EXP)
            return fail(s, 0, "exponent beyond cap");
        /* Below 10^(int_digits + exp) <= 10^308 < DBL_MAX: cannot overflow. */
        if (!exp_neg && (long)int_digits + exp > 308)
            return fail(s, 0, "real may overflow");
        real = 1;
    }
    if (real) {
        if (int_digits > 308)
            return fail(s, 0, "real may overflow");
    } else if (int_digits > 19) {
        return fail(s, 1, "integer out of range");
    } else if (int_digits == 19 &&
               memcmp(int_start, neg ? "9223372036854775808" : "9223372036854775807", 19) > 0) {
        return fail(s, 1, "integer out of range");
    }
    s->p = p;
    return 0;
}

static int scan_literal(struct scanner *s) {
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(s->end - s->p) >= n && memcmp(s->p, words[i], n) == 0) {
            s->p += n;
            return 0;
        }
    }
    return fail(s, 1, "invalid token");
}

/* A key (raw text, no escapes) of the innermost open object: rejects a duplicate. */
static int add_key(struct scanner *s, size_t off, size_t len) {
    const unsigned char *k = s->base + off;
    for (size_t i = s->key_base[s->depth]; i < s->nkeys; i++)
        if (s->keys[i].len == len && memcmp(s->base + s->keys[i].off, k, len) == 0)
            return fail(s, 1, "duplicate key");
    if (s->nkeys >= JSCAN_MAX_KEYS)
        return fail(s, 0, "too many keys");
    s->keys[s->nkeys].off = off;
    s->keys[s->nkeys].len = len;
    s->nkeys++;
    return 0;
}

static int push(struct scanner *s, int object) {
    if (s->depth >= JSCAN_MAX_DEPTH)
        return fail(s, 0, "nesting beyond cap");
    s->depth++;
    s->is_object[s->depth] = (unsigned char)object;
    s->key_base[s->depth] = s->nkeys;
    s->p++;
    return 0;
}

static void pop(struct scanner *s) {
    if (s->is_object[s->depth])
        s->nkeys = s->key_base[s->depth];
    s->depth--;
    s->p++;
}

static enum top_key top_key_of(const unsigned char *k, size_t len) {
    if (len == 5 && memcmp(k, "model", 5) == 0)
        return TOP_MODEL;
    if (len == 10 && memcmp(k, "keep_alive", 10) == 0)
        return TOP_KEEP_ALIVE;
    if (len == 7 && memcmp(k, "options", 7) == 0)
        return TOP_OPTIONS;
    return TOP_OTHER;
}

/* A top-level key that cannot be a case variant of a member policy reads or writes (gokey.h):
 * no upper-case ASCII letter and no byte outside ASCII (U+212A and U+017F fold onto k and s).
 * Every canonical member name is lower case, so the jansson path, which refuses the variants,
 * sees every body that might hold one. */
static int plain_key(const unsigned char *k, size_t len) {
    for (size_t i = 0; i < len; i++)
        if ((k[i] >= 'A' && k[i] <= 'Z') || k[i] >= 0x80)
            return 0;
    return 1;
}

/* v as UTF-8 into o at *n (at most 4 bytes). */
static void put_utf8(char *o, size_t *n, unsigned v) {
    if (v < 0x80) {
        o[(*n)++] = (char)v;
    } else if (v < 0x800) {
        o[(*n)++] = (char)(0xC0 | (v >> 6));
        o[(*n)++] = (char)(0x80 | (v & 0x3F));
    } else if (v < 0x10000) {
        o[(*n)++] = (char)(0xE0 | (v >> 12));
        o[(*n)++] = (char)(0x80 | ((v >> 6) & 0x3F));
        o[(*n)++] = (char)(0x80 | (v & 0x3F));
    } else {
        o[(*n)++] = (char)(0xF0 | (v >> 18));
        o[(*n)++] = (char)(0x80 | ((v >> 12) & 0x3F));
        o[(*n)++] = (char)(0x80 | ((v >> 6) & 0x3F));
        o[(*n)++] = (char)(0x80 | (v & 0x3F));
    }
}

/* Decodes the (already validated) string value at span into out->model_name. */
static int decode_model(struct scanner *s, struct jscan_span span) {
    const unsigned char *p = s->base + span.off + 1, *end = s->base + span.off + span.len - 1;
    char *o = s->out->model_name;
    size_t n = 0;
    while (p < end) {
        unsigned v, lo = 0;
        if (*p != '\\') { /* a raw byte; UTF-8 sequences byte by byte */
            if (n + 1 >= JSCAN_MAX_MODEL)
                return fail(s, 0, "model name beyond cap");
            o[n++] = (char)*p++;
            continue;
        }
        switch (p[1]) {
            case 'b':
                v = '\b';
                break;
            case 'f':
                v = '\f';
                break;
            case 'n':
                v = '\n';
                break;
            case 'r':
                v = '\r';
                break;
            case 't':
                v = '\t';
                break;
            case 'u':
                jsonstr_hex4((const char *)p + 2, (const char *)end, &v);
                if (v >= 0xD800 && v <= 0xDBFF) {
                    jsonstr_hex4((const char *)p + 8, (const char *)end, &lo);
                    v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
                p += 4;
                break;
            default: /* '"', '\\', '/' */
                v = p[1];
                break;
        }
        p += 2;
        size_t need = v < 0x80 ? 1 : v < 0x800 ? 2 : v < 0x10000 ? 3 : 4;
        if (n + need >= JSCAN_MAX_MODEL)
            return fail(s, 0, "model name beyond cap");
        put_utf8(o, &n, v);
    }
    o[n] = '\0';
    s->out->has_model = 1;
    return 0;
}

/* The member value of the top-level object that just ended at s->p. */
static int top_value_done(struct scanner *s, enum top_key key, size_t start) {
    struct jscan_span span = {start, (size_t)(s->p - s->base) - start};
    s->out->members++;
    switch (key) {
        case TOP_MODEL:
            s->out->model = span;
            return s->base[start] == '"' ? decode_model(s, span) : 0;
        case TOP_KEEP_ALIVE:
            s->out->keep_alive = span;
            return 0;
        case TOP_OPTIONS:
            s->out->options = span;
            return 0;
        default:
            return 0;
    }
}

static int scan(const char *body, size_t len, struct jscan *out) {
    struct scanner s;
    enum top_key key = TOP_OTHER;
    size_t top_start = 0;
    int escaped;

    memset(out, 0, offsetof(struct jscan, model_name)); /* not the name buffer */
    out->model_name[0] = '\0';
    out->invalid = 0;
    out->why = NULL;
    s.base = s.p = (const unsigned char *)body;
    s.end = s.base + len;
    s.depth = 0;
    s.nkeys = 0;
    s.out = out;

    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return fail(&s, 1, "not an object");
    push(&s, 1);

object_first: /* after '{' */
    skip_ws(&s);
    if (s.p < s.end && *s.p == '}')
        goto close;
member: /* a key, ':' and the value */
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '"')
        return fail(&s, 1, "key expected");
    {
        size_t koff = (size_t)(s.p - s.base) + 1;
        if (scan_string(&s, &escaped) < 0)
            return -1;
        if (escaped)
            return fail(&s, 0, "escape in key");
        size_t klen = (size_t)(s.p - s.base) - 1 - koff;
        if (add_key(&s, koff, klen) < 0)
            return -1;
        if (s.depth == 1) {
            if (!plain_key(s.base + koff, klen))
                return fail(&s, 0, "key Go may fold onto another");
            key = top_key_of(s.base + koff, klen);
        }
    }
    skip_ws(&s);
    if (s.p >= s.end || *s.p != ':')
        return fail(&s, 1, "':' expected");
    s.p++;
value:
    skip_ws(&s);
    if (s.p >= s.end)
        return fail(&s, 1, "value expected");
    if (s.depth == 1)
        top_start = (size_t)(s.p - s.base);
    switch (*s.p) {
        case '{':
            if (push(&s, 1) < 0)
                return -1;
            goto object_first;
        case '[':
            if (push(&s, 0) < 0)
                return -1;
            skip_ws(&s);
            if (s.p < s.end && *s.p == ']')
                goto close;
            goto value;
        case '"':
            if (scan_string(&s, &escaped) < 0)
                return -1;
            break;
        case '-':
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
        case '8':
        case '9':
            if (scan_number(&s) < 0)
                return -1;
            break;
        default:
            if (scan_literal(&s) < 0)
                return -1;
            break;
    }
after_value: /* a value of the innermost open container ended at s.p */
    if (s.depth == 1 && top_value_done(&s, key, top_start) < 0)
        return -1;
    skip_ws(&s);
    if (s.p >= s.end)
        return fail(&s, 1, "unexpected end of input");
    if (*s.p == ',') {
        s.p++;
        if (s.is_object[s.depth])
            goto member;
        goto value;
    }
    if (*s.p != (s.is_object[s.depth] ? '}' : ']'))
        return fail(&s, 1, "',' or end of container expected");
close: /* s.p at the innermost container's closing bracket */
    if (s.depth == 1) {
        out->close = (size_t)(s.p - s.base);
        s.p++;
        skip_ws(&s);
        if (s.p != s.end)
            return fail(&s, 1, "end of input expected");
        return 0;
    }
    pop(&s);
    goto after_value;
}

int jscan_body(const char *body, size_t len, struct jscan *out) {
    if (scan(body, len, out) == 0)
        return 0;
    /* jansson skips a NUL byte it had to give back after a number or a literal
     * ({"a":1<NUL>} parses): any NUL makes a rejection unsure. */
    if (out->invalid && memchr(body, '\0', len)) {
        out->invalid = 0;
        out->why = "NUL byte";
    }
    return -1;
}
