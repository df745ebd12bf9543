/* jtok: the escape decoder of the stream fast paths' token reader (the inline steps are in
 * jtok.h). */
#include "jtok.h"

const char *jtok_unescape(const char *q, const char *end, unsigned *cp) {
    unsigned lo;
    switch (q[1]) {
        case 'b':
            *cp = '\b';
            break;
        case 'f':
            *cp = '\f';
            break;
        case 'n':
            *cp = '\n';
            break;
        case 'r':
            *cp = '\r';
            break;
        case 't':
            *cp = '\t';
            break;
        case 'u':
            jsonstr_hex4(q + 2, end, cp);
            if (*cp >= 0xd800 && *cp <= 0xdbff) { /* validated: a low surrogate follows */
                jsonstr_hex4(q + 8, end, &lo);
                *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
                return q + 12;
            }
            return q + 6;
        default: /* '"', '\\', '/' */
            *cp = (unsigned char)q[1];
    }
    return q + 2;
}

size_t jtok_utf8(unsigned cp, char *b) {
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    b[0] = (char)(0xf0 | cp >> 18);
    b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    b[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

size_t jtok_decode(const struct jtok *t, char *b) {
    const char *p = t->p, *end = t->p + t->n;
    size_t n = 0;
    if (!t->esc) {
        memcpy(b, p, t->n);
        return t->n;
    }
    while (p < end) {
        const char *q = memchr(p, '\\', (size_t)(end - p));
        unsigned cp;
        if (!q)
            q = end;
        memcpy(b + n, p, (size_t)(q - p));
        n += (size_t)(q - p);
        if (q == end)
            break;
        p = jtok_unescape(q, end, &cp);
        n += jtok_utf8(cp, b + n);
    }
    return n;
}
