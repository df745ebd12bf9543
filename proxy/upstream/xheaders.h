/* xheaders: the headers keepwarm sends Ollama on every request, for both upstream backends
 * (upstream.c's own client, upstream_curl.c): upstream_header's lines, and a base URL's
 * user:password as Basic auth. One check of a header line, one rule for which of a caller's
 * headers they replace (the same name, in any case). Secrets: the block is zeroed when freed,
 * and nothing here logs. No I/O. */
#ifndef KEEPWARM_XHEADERS_H
#define KEEPWARM_XHEADERS_H

#include <stddef.h>

struct xheaders {
    char *block;  /* "Name: value\r\n" each, NUL-terminated (owned); NULL for none */
    size_t len;   /* of block */
    char **names; /* each line's name (owned) */
    size_t n;
};

/* 1 if h can go in a request head as it is: a ':' and no CR or LF. */
int xheaders_line_ok(const char *h);

/* *out = lines (NULL-terminated "Name: value" strings, NULL for none; each with a name before
 * its ':') and, unless one of them is an Authorization, "Authorization: Basic ..." from
 * userinfo[0..ulen) (a URL's percent-encoded "user[:password]"; NULL for none). Returns 0, or
 * -1 with *out untouched (a line that cannot be sent, bad user info, out of memory). The old
 * contents of *out are freed on success. */
int xheaders_set(struct xheaders *out, const char *const *lines, const char *userinfo, size_t ulen);
void xheaders_free(struct xheaders *xh);

/* 1 if the caller's header h ("Name: value") is one of xh's names: xh's line goes instead. */
int xheaders_replaces(const struct xheaders *xh, const char *h);

#endif
