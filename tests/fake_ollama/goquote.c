/* goquote: strconv.Quote for the stand-in, written from Go's strconv/quote.go rules (not from
 * keepwarm's proxy/base/duration.c). unicode.IsPrint is approximated: the categories Go excludes
 * (controls, format characters, separators other than ' ', private use, surrogates and the
 * noncharacters) are listed by range; unassigned code points are not modelled and are kept
 * as printable. */
#include "goquote.h"

#include <stdint.h>
#include <string.h>

/* Code points strconv.IsPrint rejects (Cc, Cf, Zs except U+0020, Zl, Zp, Co, noncharacters). */
static const struct {
    uint32_t lo, hi;
} not_print[] = {
    {0x0000, 0x001f},    {0x007f, 0x00a0},   {0x00ad, 0x00ad},   {0x0600, 0x0605},
    {0x061c, 0x061c},    {0x06dd, 0x06dd},   {0x070f, 0x070f},   {0x0890, 0x0891},
    {0x08e2, 0x08e2},    {0x1680, 0x1680},   {0x180e, 0x180e},   {0x2000, 0x200f},
    {0x2028, 0x202f},    {0x205f, 0x2064},   {0x2066, 0x206f},   {0x3000, 0x3000},
    {0xd800, 0xf8ff},    {0xfdd0, 0xfdef},   {0xfeff, 0xfeff},   {0xfff9, 0xfffb},
    {0xfffe, 0xffff},    {0x110bd, 0x110bd}, {0x110cd, 0x110cd}, {0x13430, 0x1343f},
    {0x1bca0, 0x1bca3},  {0x1d173, 0x1d17a}, {0xe0001, 0xe0001}, {0xe0020, 0xe007f},
    {0xf0000, 0x10ffff},
};

static int rune_printable(uint32_t r) {
    if ((r & 0xfffe) == 0xfffe) /* U+xFFFE and U+xFFFF in every plane */
        return 0;
    for (size_t i = 0; i < sizeof(not_print) / sizeof(not_print[0]); i++)
        if (r >= not_print[i].lo && r <= not_print[i].hi)
            return 0;
    return 1;
}

/* utf8.DecodeRune: the rune and its width, or width 0 for an invalid byte (Go's RuneError
 * with width 1): overlong forms, surrogates, values above U+10FFFF and cut sequences. */
static size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *r) {
    unsigned char c = p[0];
    size_t w;
    uint32_t min, v;
    if (c < 0x80) {
        *r = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        w = 2, min = 0x80, v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        w = 3, min = 0x800, v = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        w = 4, min = 0x10000, v = c & 0x07;
    } else {
        return 0;
    }
    if (n < w)
        return 0;
    for (size_t i = 1; i < w; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *r = v;
    return w;
}

/* The letter of Go's named escapes (\a \b \f \n \r \t \v), or 0. */
static char named_escape(uint32_t r) {
    switch (r) {
        case '\a':
            return 'a';
        case '\b':
            return 'b';
        case '\f':
            return 'f';
        case '\n':
            return 'n';
        case '\r':
            return 'r';
        case '\t':
            return 't';
        case '\v':
            return 'v';
        default:
            return 0;
    }
}

int goquote_n(const char *s, size_t n, char *out, size_t len) {
    static const char hex[] = "0123456789abcdef";
    if (len < 3) {
        if (len)
            out[0] = '\0';
        return -1;
    }
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, room = len - 2; /* the closing quote and the NUL stay reserved */
    int cut = 0;
    out[o++] = '"';
    for (size_t i = 0; i < n;) {
        char piece[12];
        size_t k = 0;
        uint32_t r;
        size_t w = utf8_decode(p + i, n - i, &r);
        if (w == 0) {
            piece[k++] = '\\', piece[k++] = 'x';
            piece[k++] = hex[p[i] >> 4], piece[k++] = hex[p[i] & 15];
            w = 1;
        } else if (r == '"' || r == '\\') {
            piece[k++] = '\\', piece[k++] = (char)r;
        } else if (rune_printable(r)) {
            memcpy(piece, p + i, w);
            k = w;
        } else {
            char name = named_escape(r);
            if (name) {
                piece[k++] = '\\', piece[k++] = name;
            } else if (r < 0x20 || r == 0x7f) {
                piece[k++] = '\\', piece[k++] = 'x';
                piece[k++] = hex[r >> 4], piece[k++] = hex[r & 15];
            } else {
                int digits = r < 0x10000 ? 4 : 8;
                piece[k++] = '\\', piece[k++] = r < 0x10000 ? 'u' : 'U';
                for (int d = digits - 1; d >= 0; d--)
                    piece[k++] = hex[(r >> (4 * d)) & 15];
            }
        }
        if (o + k > room) {
            cut = 1;
            break;
        }
        memcpy(out + o, piece, k);
        o += k;
        i += w;
    }
    out[o++] = '"';
    out[o] = '\0';
    return cut ? -1 : 0;
}

int goquote(const char *s, char *out, size_t len) {
    return goquote_n(s, strlen(s), out, len);
}
