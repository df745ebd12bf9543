/* xheaders: the headers sent on every request to Ollama (xheaders.h). Builds the block and the
 * names once per configuration; xheaders_replaces runs per forwarded header. */
#include "xheaders.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"

#define USERINFO_MAX 512 /* a decoded "user:password" */

int xheaders_line_ok(const char *h) {
    return strpbrk(h, "\r\n") == NULL && strchr(h, ':') != NULL;
}

/* Percent-decodes s[0..n) into out (cap bytes with the NUL). Returns the length or -1. */
static long pct_decode(const char *s, size_t n, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            char hex[3] = {0};
            if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
                !isxdigit((unsigned char)s[i + 2]))
                return -1;
            hex[0] = s[i + 1];
            hex[1] = s[i + 2];
            ch = (int)strtol(hex, NULL, 16);
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    return (long)o;
}

/* "Authorization: Basic <base64 of user:password>" (malloc'd), or NULL: bad user info, no
 * memory. */
static char *basic_auth_new(const char *userinfo, size_t ulen) {
    char plain[USERINFO_MAX + 1]; /* and a ':' for "user@" */
    char *b64 = NULL, *line = NULL;
    long pl = pct_decode(userinfo, ulen, plain, USERINFO_MAX);
    if (pl < 0 || memchr(plain, '\0', (size_t)pl) || strpbrk(plain, "\r\n"))
        goto cleanup;
    if (!memchr(plain, ':', (size_t)pl)) { /* "user@": an empty password */
        plain[pl++] = ':';
        plain[pl] = '\0';
    }
    if (!(b64 = base64_encode_new((const unsigned char *)plain, (size_t)pl)))
        goto cleanup;
    size_t bl = strlen(b64);
    if ((line = malloc(21 + bl + 1))) {
        memcpy(line, "Authorization: Basic ", 21);
        memcpy(line + 21, b64, bl + 1);
    }
    explicit_bzero(b64, bl);
cleanup:
    free(b64);
    explicit_bzero(plain, sizeof(plain));
    return line;
}

static int has_name(const char *h, const char *name) {
    size_t n = strlen(name);
    return strcspn(h, ":") == n && strncasecmp(h, name, n) == 0;
}

int xheaders_set(struct xheaders *out, const char *const *lines, const char *userinfo,
                 size_t ulen) {
    struct xheaders xh = {0};
    char *auth = NULL;
    int has_auth = 0, rc = -1;
    size_t need = 0, nh = 0;
    while (lines && lines[nh])
        nh++;
    for (size_t i = 0; i < nh; i++) {
        if (!xheaders_line_ok(lines[i]) || lines[i][0] == ':')
            goto cleanup;
        has_auth |= has_name(lines[i], "Authorization");
        need += strlen(lines[i]) + 2;
    }
    if (userinfo && !has_auth) {
        if (!(auth = basic_auth_new(userinfo, ulen)))
            goto cleanup;
        need += strlen(auth) + 2;
    }
    if (!need) { /* none: block and names stay NULL */
        rc = 0;
        goto cleanup;
    }
    xh.block = malloc(need + 1);
    xh.names = calloc(nh + 1, sizeof(*xh.names));
    if (!xh.block || !xh.names)
        goto cleanup;
    char *w = xh.block;
    for (size_t i = 0; i <= nh; i++) {
        const char *h = i < nh ? lines[i] : auth;
        if (!h)
            continue;
        size_t hl = strlen(h), nl = strcspn(h, ":");
        if (!(xh.names[xh.n] = strndup(h, nl)))
            goto cleanup;
        xh.n++;
        memcpy(w, h, hl);
        memcpy(w + hl, "\r\n", 2);
        w += hl + 2;
    }
    *w = '\0';
    xh.len = (size_t)(w - xh.block);
    rc = 0;
cleanup:
    if (auth) {
        explicit_bzero(auth, strlen(auth));
        free(auth);
    }
    if (rc < 0) {
        xheaders_free(&xh);
        return -1;
    }
    xheaders_free(out);
    *out = xh;
    return 0;
}

void xheaders_free(struct xheaders *xh) {
    if (xh->block)
        explicit_bzero(xh->block, xh->len);
    free(xh->block);
    for (size_t i = 0; i < xh->n; i++)
        free(xh->names[i]);
    free(xh->names);
    *xh = (struct xheaders){0};
}

int xheaders_replaces(const struct xheaders *xh, const char *h) {
    size_t nl = strcspn(h, ":");
    for (size_t i = 0; i < xh->n; i++)
        if (strlen(xh->names[i]) == nl && strncasecmp(h, xh->names[i], nl) == 0)
            return 1;
    return 0;
}
