/* base64: standard base64, encoded and decoded as Go does (contract in base64.h). */
#include "base64.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode_new(const unsigned char *p, size_t n) {
    char *out;
    size_t i, o = 0;

    if (n / 3 >= (SIZE_MAX - 5) / 4)
        return NULL;
    out = malloc((n + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

static int value_of(unsigned char c) {
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

/* Skips '\r' and '\n' (which Go's decoder ignores) from s[i]; returns the next index. */
static size_t skip_newlines(const char *s, size_t i) {
    while (s[i] == '\r' || s[i] == '\n')
        i++;
    return i;
}

unsigned char *base64_decode_new(const char *s, size_t *len) {
    size_t n = strlen(s), o = 0, i = 0;
    unsigned char *out = malloc(n / 4 * 3 + 3);
    uint32_t v = 0;
    int q = 0;

    if (!out)
        return NULL;
    for (i = skip_newlines(s, 0); s[i]; i = skip_newlines(s, i)) {
        int d = value_of((unsigned char)s[i]);
        if (d >= 0) {
            v = v << 6 | (uint32_t)d;
            i++;
            if (++q == 4) {
                out[o++] = (unsigned char)(v >> 16);
                out[o++] = (unsigned char)(v >> 8);
                out[o++] = (unsigned char)v;
                v = 0;
                q = 0;
            }
            continue;
        }
        /* padding: "xx==" or "xxx=", then nothing but line breaks */
        if (s[i] != '=' || q < 2)
            goto bad;
        i = skip_newlines(s, i + 1);
        if (q == 2) {
            if (s[i] != '=')
                goto bad;
            i = skip_newlines(s, i + 1);
        }
        if (s[i])
            goto bad;
        v <<= 6 * (4 - q);
        out[o++] = (unsigned char)(v >> 16);
        if (q == 3)
            out[o++] = (unsigned char)(v >> 8);
        q = 0;
        break;
    }
    if (q != 0)
        goto bad;
    *len = o;
    return out;
bad:
    free(out);
    return NULL;
}
