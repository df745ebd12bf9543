/* jtok: the token reader the stream fast paths share (openai_fast, anthropic_fast,
 * responses_fast): a string token's span, white space, the step after a member or element, key
 * comparison, and the decoder of a validated string's escapes. The strings are validated by
 * jsonstr_scan (exactly as json_loadb with flags 0 accepts them); everything here reads only
 * within [p, end). The per-token steps are static inline: a token line costs a few thousand
 * instructions and these run on every member of it. */
#ifndef KEEPWARM_JTOK_H
#define KEEPWARM_JTOK_H

#include <stddef.h>
#include <string.h>

#include "jsonstr.h"

/* The inside of a JSON string token: its raw bytes, whether it holds escapes, and whether it
 * was read at all. */
struct jtok {
    const char *p;
    size_t n;
    int esc;
    int set;
};

/* Past JSON white space (space, \n, \r, \t). */
static inline const char *jtok_skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* A string token at p (its opening quote) that json_loadb accepts with flags 0. Fills t
 * (t->set = 1) and returns the byte after the closing quote, or NULL (t's span untouched). */
static inline const char *jtok_string(const char *p, const char *end, struct jtok *t) {
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

/* A member's key: an unescaped string token, white space, ':' and white space. Returns the
 * first byte of the value, or NULL. */
static inline const char *jtok_key(const char *p, const char *end, struct jtok *k) {
    if (!(p = jtok_string(p, end, k)) || k->esc)
        return NULL;
    p = jtok_skip_ws(p, end);
    if (p >= end || *p != ':')
        return NULL;
    return jtok_skip_ws(p + 1, end);
}

/* After a member or an element: 1 with *pp past the ',' (and white space) for another one, 0
 * with *pp past close at the end, -1 (*pp unchanged) for anything else. */
static inline int jtok_next(const char **pp, const char *end, char close) {
    const char *p = jtok_skip_ws(*pp, end);
    if (p < end && *p == ',') {
        *pp = jtok_skip_ws(p + 1, end);
        return 1;
    }
    if (p < end && *p == close) {
        *pp = p + 1;
        return 0;
    }
    return -1;
}

/* Whether an (unescaped) key is name. */
static inline int jtok_key_is(const struct jtok *k, const char *name) {
    size_t n = strlen(name);
    return k->n == n && memcmp(k->p, name, n) == 0;
}

/* The escape at q (a backslash inside a validated string ending at end) -> *cp, a code point
 * (a surrogate pair joined). Returns the byte after the escape. */
const char *jtok_unescape(const char *q, const char *end, unsigned *cp);

/* Code point cp (< 0x110000, not a surrogate) as UTF-8 into b (room for 4). Returns its
 * length. */
size_t jtok_utf8(unsigned cp, char *b);

/* A validated string token's inside decoded into b, which has room for t->n bytes (decoding
 * never grows a string). Returns the decoded length. */
size_t jtok_decode(const struct jtok *t, char *b);

#endif
