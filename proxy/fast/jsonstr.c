/* jsonstr: JSON string tokens as jansson accepts them (see jsonstr.h). */
#include "jsonstr.h"

#include <stdint.h>
#include <string.h>

/* The 8 bytes at p that need a look (a control byte, '"', '\\', non-ASCII), one high bit per
 * byte. A borrow can flag a byte above a flagged one, never below: the lowest flag is exact. */
static uint64_t special8(const char *p) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t x, q, b;
    memcpy(&x, p, 8);
    q = x ^ (ones * '"');
    b = x ^ (ones * '\\');
    return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | x) & highs;
}

/* The first byte at or after p that needs a look, or end. */
static const char *next_special(const char *p, const char *end) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t m = special8(p);
        if (m)
            return p + (__builtin_ctzll(m) >> 3); /* the lowest address is the lowest byte */
        p += 8;
    }
#endif
    while (p < end && (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x80 && *p != '"' &&
           *p != '\\')
        p++; /* the last few bytes of the buffer (or a big-endian machine) */
    return p;
}

size_t jsonstr_utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0], cp;
    size_t n;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) { /* stops at the first byte that is not a continuation */
        if (p + i >= end || (p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int jsonstr_hex4(const char *p, const char *end, unsigned *v) {
    unsigned x = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        x <<= 4;
        if (c >= '0' && c <= '9')
            x |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            x |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            x |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *v = x;
    return 0;
}

const char *jsonstr_scan(const char *p, const char *end, int *escaped, const char **why) {
    *escaped = 0;
    for (;;) {
        p = next_special(p, end);
        if (p >= end) {
            *why = "unterminated string";
            return NULL;
        }
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p;
        if (c < 0x20) {
            *why = "control byte in string";
            return NULL;
        }
        if (c >= 0x80) {
            size_t n = jsonstr_utf8_len((const unsigned char *)p, (const unsigned char *)end);
            if (!n) {
                *why = "invalid UTF-8";
                return NULL;
            }
            p += n;
            continue;
        }
        *escaped = 1; /* a backslash */
        if (end - p < 2) {
            *why = "unterminated string";
            return NULL;
        }
        if (p[1] != 'u') {
            if (!memchr("\"\\/bfnrt", p[1], 8)) {
                *why = "invalid escape";
                return NULL;
            }
            p += 2;
            continue;
        }
        unsigned v, lo;
        if (jsonstr_hex4(p + 2, end, &v) < 0) {
            *why = "invalid \\u escape";
            return NULL;
        }
        p += 6;
        if (v == 0) {
            *why = "\\u0000";
            return NULL;
        }
        if (v >= 0xdc00 && v <= 0xdfff) {
            *why = "lone low surrogate";
            return NULL;
        }
        if (v >= 0xd800 && v <= 0xdbff) {
            if (end - p < 2 || p[0] != '\\' || p[1] != 'u' || jsonstr_hex4(p + 2, end, &lo) < 0 ||
                lo < 0xdc00 || lo > 0xdfff) {
                *why = "unpaired high surrogate";
                return NULL;
            }
            p += 6;
        }
    }
}
