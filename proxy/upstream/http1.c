/* http1: the answer side of HTTP/1.1 (see http1.h). Pure: bytes in, body bytes out. */
#include "http1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHUNK_DIGITS_MAX 15 /* hex digits in a chunk size: below 2^60 */

enum state {
    A_HEAD,       /* status line and headers (accumulating in head when split) */
    A_BODY_LEN,   /* Content-Length body: left bytes */
    A_BODY_EOF,   /* body up to the connection's end */
    A_CHUNK_SIZE, /* hex digits of a chunk size */
    A_CHUNK_BWS,  /* after the digits: blanks, then ';' (an extension) or the line's end */
    A_CHUNK_EXT,  /* chunk extension, up to LF */
    A_CHUNK_EOL,  /* the LF after a chunk size line's CR */
    A_CHUNK_DATA, /* chunk data: left bytes */
    A_CHUNK_CR,   /* the CRLF after chunk data */
    A_CHUNK_LF,
    A_TRAILER_BOL, /* start of a trailer line; an empty one ends the answer */
    A_TRAILER,     /* inside a trailer line, up to LF */
    A_DONE,
};

void http1_answer_init(struct http1_answer *a, int head_request) {
    memset(a, 0, sizeof(*a));
    a->state = A_HEAD;
    a->head_request = head_request;
    a->content_length = -1;
}

void http1_answer_free(struct http1_answer *a) {
    free(a->head);
    a->head = NULL;
    a->head_len = 0;
}

int http1_answer_ends_at_eof(const struct http1_answer *a) {
    return a->state == A_BODY_EOF;
}

static int header_is(const char *name, size_t nlen, const char *want) {
    size_t wl = strlen(want);
    return nlen == wl && strncasecmp(name, want, wl) == 0;
}

static int has_token(const char *v, size_t vlen, const char *tok) {
    size_t tl = strlen(tok);
    for (size_t i = 0; i + tl <= vlen; i++) {
        if (strncasecmp(v + i, tok, tl) != 0)
            continue;
        int before = i == 0 || v[i - 1] == ',' || v[i - 1] == ' ' || v[i - 1] == '\t';
        int after = i + tl == vlen || v[i + tl] == ',' || v[i + tl] == ' ' || v[i + tl] == '\t';
        if (before && after)
            return 1;
    }
    return 0;
}

/* RFC 9110 §5.6.2 tchar: what a field name is made of (no blank, no colon). */
static int is_tchar(unsigned char ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Transfer-Encoding values: 1 if v is exactly "chunked" (blanks and empty list members
 * aside), 0 for anything else (another coding, or chunked twice or not last). */
static int te_is_chunked(const char *v, size_t vlen) {
    size_t i = 0, seen = 0;
    int ok = 1;
    while (i < vlen) {
        while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < vlen && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (i == s)
            break;
        seen++;
        ok &= i - s == 7 && strncasecmp(v + s, "chunked", 7) == 0;
    }
    return seen == 1 && ok;
}

/* Parses one complete head (len bytes, ending in an empty line). Sets the body state.
 * Returns 0, 1 for an interim 1xx head to skip, or -1 with a->error. */
static int head_parse(struct http1_answer *a, const char *p, size_t len) {
    const char *end = p + len;
    const char *eol = memchr(p, '\n', len);
    int minor;
    char digits[4];
    if (!eol || eol - p < 12 || strncmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
        p[8] != ' ') {
        snprintf(a->error, sizeof(a->error), "Ollama's answer is not HTTP/1.x");
        return -1;
    }
    minor = p[7] - '0';
    memcpy(digits, p + 9, 3);
    digits[3] = '\0';
    if (digits[0] < '1' || digits[0] > '5' || digits[1] < '0' || digits[1] > '9' ||
        digits[2] < '0' || digits[2] > '9' || (p[12] != ' ' && p[12] != '\r' && p[12] != '\n')) {
        snprintf(a->error, sizeof(a->error), "Ollama's answer has a malformed status line");
        return -1;
    }
    long status = strtol(digits, NULL, 10);
    int chunked = 0, close = 0, keep = 0, has_len = 0, other_te = 0;
    unsigned long long clen = 0;
    a->content_type[0] = '\0';
    for (const char *line = eol + 1; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl)
            break;
        size_t ll = (size_t)(nl - line);
        if (ll && line[ll - 1] == '\r')
            ll--;
        if (ll == 0)
            break;
        const char *colon = memchr(line, ':', ll);
        size_t nlen = colon ? (size_t)(colon - line) : 0;
        for (size_t i = 0; i < nlen && colon; i++)
            if (!is_tchar((unsigned char)line[i]))
                colon = NULL; /* "Content-Length :", an obs-fold, a blank in the name */
        if (!colon || colon == line) {
            snprintf(a->error, sizeof(a->error), "Ollama's answer has a malformed header line");
            return -1;
        }
        const char *v = colon + 1;
        size_t vlen = ll - nlen - 1;
        while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        if (header_is(line, nlen, "content-length")) {
            unsigned long long n = 0;
            if (vlen == 0 || vlen > 18) {
                snprintf(a->error, sizeof(a->error), "Ollama's answer has a bad Content-Length");
                return -1;
            }
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9') {
                    snprintf(a->error, sizeof(a->error),
                             "Ollama's answer has a bad Content-Length");
                    return -1;
                }
                n = n * 10 + (unsigned)(v[i] - '0');
            }
            if (has_len && n != clen) {
                snprintf(a->error, sizeof(a->error),
                         "Ollama's answer has conflicting Content-Lengths");
                return -1;
            }
            has_len = 1;
            clen = n;
        } else if (header_is(line, nlen, "transfer-encoding")) {
            if (chunked || !te_is_chunked(v, vlen))
                other_te = 1;
            chunked = 1;
        } else if (header_is(line, nlen, "connection")) {
            close |= has_token(v, vlen, "close");
            keep |= has_token(v, vlen, "keep-alive");
        } else if (header_is(line, nlen, "content-type")) {
            size_t cl = vlen < sizeof(a->content_type) ? vlen : sizeof(a->content_type) - 1;
            memcpy(a->content_type, v, cl);
            a->content_type[cl] = '\0';
        }
        line = nl + 1;
    }
    /* keepwarm never asks for an upgrade (relay.c drops the client's Upgrade and Connection):
     * after an unasked 101 the connection speaks some other protocol, so the answer is broken,
     * and the connection is closed, never reused (a 101 passed on would hang the client). */
    if (status == 101) {
        snprintf(a->error, sizeof(a->error),
                 "Ollama switched protocols (101) though no upgrade was asked for");
        return -1;
    }
    if (status >= 100 && status < 200)
        return 1;
    /* A coding other than chunked (gzip, chunked; chunked, gzip): keepwarm never offers one
     * (it sends no TE header), and it reads Ollama's bodies as JSON and NDJSON, so coded bytes
     * could be neither relayed as what they claim nor translated. Refused. */
    if (other_te) {
        snprintf(a->error, sizeof(a->error),
                 "Ollama's answer has a Transfer-Encoding other than chunked");
        return -1;
    }
    a->status = status;
    a->keepalive = !close && (minor == 1 || keep);
    /* Both Transfer-Encoding and Content-Length (RFC 9112 §6.3): chunked wins, and the
     * connection is closed after the answer, as something on the way may have framed it the
     * other way. */
    if (chunked && has_len)
        a->keepalive = 0;
    a->content_length = -1;
    if (a->head_request || status == 204 || status == 304) {
        a->state = A_DONE;
        if (a->head_request && has_len && !chunked)
            a->content_length = (long long)clen; /* what a GET would get, for the client */
    } else if (chunked) {
        a->state = A_CHUNK_SIZE;
        a->left = 0;
        a->digits = 0;
    } else if (!has_len) {
        a->state = A_BODY_EOF;
        a->keepalive = 0;
    } else {
        a->left = clen;
        a->content_length = (long long)clen;
        a->state = clen ? A_BODY_LEN : A_DONE;
    }
    return 0;
}

/* Finds the end of a head in p[0..len): the offset after the empty line, or 0. */
static size_t head_end(const char *p, size_t len) {
    for (const char *q = p; (q = memchr(q, '\n', (size_t)(p + len - q))); q++) {
        if (q + 1 < p + len && q[1] == '\n')
            return (size_t)(q + 2 - p);
        if (q + 2 < p + len && q[1] == '\r' && q[2] == '\n')
            return (size_t)(q + 3 - p);
    }
    return 0;
}

static int bad_chunk(struct http1_answer *a) {
    snprintf(a->error, sizeof(a->error), "Ollama's answer has a malformed chunk");
    return HTTP1_ERROR;
}

enum http1_result http1_answer_feed(struct http1_answer *a, const char *p, size_t n, size_t *used,
                                    http1_body_cb on_body, void *ctx) {
    const char *start = p, *end = p + n;
    while (p < end || a->state == A_DONE) {
        switch (a->state) {
            case A_HEAD: {
                size_t took, he;
                int rc;
                if (!a->head_len && (he = head_end(p, (size_t)(end - p)))) {
                    if (he > HTTP1_HEAD_MAX) {
                        snprintf(a->error, sizeof(a->error),
                                 "Ollama's answer headers exceed %d bytes", HTTP1_HEAD_MAX);
                        return HTTP1_ERROR;
                    }
                    rc = head_parse(a, p, he); /* the usual case: the head in one read */
                    took = he;
                } else {
                    size_t take = (size_t)(end - p);
                    size_t keep =
                        a->head_len > 3 ? 3 : a->head_len; /* the terminator may straddle */
                    if (a->head_len + take > HTTP1_HEAD_MAX)
                        take = HTTP1_HEAD_MAX - a->head_len;
                    char *nb = realloc(a->head, a->head_len + take + 1);
                    if (!nb) {
                        snprintf(a->error, sizeof(a->error), "out of memory");
                        return HTTP1_ERROR;
                    }
                    a->head = nb;
                    memcpy(a->head + a->head_len, p, take);
                    size_t from = a->head_len - keep;
                    a->head_len += take;
                    he = head_end(a->head + from, a->head_len - from);
                    if (!he) {
                        if (a->head_len >= HTTP1_HEAD_MAX) {
                            snprintf(a->error, sizeof(a->error),
                                     "Ollama's answer headers exceed %d bytes", HTTP1_HEAD_MAX);
                            return HTTP1_ERROR;
                        }
                        return HTTP1_MORE;
                    }
                    he += from;
                    rc = head_parse(a, a->head, he);
                    took = take - (a->head_len - he); /* bytes of this read the head took */
                    free(a->head);
                    a->head = NULL;
                    a->head_len = 0;
                }
                if (rc < 0)
                    return HTTP1_ERROR;
                p += took;
                break; /* rc == 1: an interim head; parse the next one */
            }
            case A_BODY_LEN:
            case A_CHUNK_DATA: {
                /* up to `left` bytes of a Content-Length body or of a chunk */
                size_t take = (size_t)(end - p);
                if (take > a->left)
                    take = (size_t)a->left;
                if (take && on_body(ctx, p, take) < 0)
                    return HTTP1_STOPPED;
                p += take;
                a->left -= take;
                if (!a->left)
                    a->state = a->state == A_BODY_LEN ? A_DONE : A_CHUNK_CR;
                break;
            }
            case A_BODY_EOF:
                if (p < end && on_body(ctx, p, (size_t)(end - p)) < 0)
                    return HTTP1_STOPPED;
                return HTTP1_MORE;
            case A_CHUNK_SIZE: {
                char ch = *p;
                int d = ch >= '0' && ch <= '9'   ? ch - '0'
                        : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                        : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                                 : -1;
                if (d >= 0) {
                    if (++a->digits > CHUNK_DIGITS_MAX)
                        return bad_chunk(a);
                    a->left = a->left * 16 + (unsigned)d;
                    p++;
                } else if (!a->digits) {
                    return bad_chunk(a);
                } else {
                    a->state = A_CHUNK_BWS;
                }
                break;
            }
            case A_CHUNK_BWS: /* only blanks, ";ext" or the line's end may follow the size */
                if (*p == ' ' || *p == '\t') {
                    p++;
                } else if (*p == ';') {
                    p++;
                    a->state = A_CHUNK_EXT;
                } else if (*p == '\r') {
                    p++;
                    a->state = A_CHUNK_EOL;
                } else if (*p == '\n') { /* a bare LF, as after chunk data */
                    p++;
                    a->digits = 0;
                    a->state = a->left ? A_CHUNK_DATA : A_TRAILER_BOL;
                } else {
                    return bad_chunk(a);
                }
                break;
            case A_CHUNK_EOL:
                if (*p != '\n')
                    return bad_chunk(a);
                p++;
                a->digits = 0;
                a->state = a->left ? A_CHUNK_DATA : A_TRAILER_BOL;
                break;
            case A_CHUNK_EXT: {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl)
                    return HTTP1_MORE;
                p = nl + 1;
                a->digits = 0;
                a->state = a->left ? A_CHUNK_DATA : A_TRAILER_BOL;
                break;
            }
            case A_CHUNK_CR:
                if (*p == '\r') {
                    p++;
                    a->state = A_CHUNK_LF;
                    break;
                }
                __attribute__((fallthrough)); /* a bare LF */
            case A_CHUNK_LF:
                if (*p != '\n')
                    return bad_chunk(a);
                p++;
                a->state = A_CHUNK_SIZE;
                break;
            case A_TRAILER_BOL:
                if (*p == '\r') {
                    p++;
                } else if (*p == '\n') {
                    p++;
                    a->state = A_DONE;
                } else {
                    a->state = A_TRAILER;
                }
                break;
            case A_TRAILER: {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl)
                    return HTTP1_MORE;
                p = nl + 1;
                a->state = A_TRAILER_BOL;
                break;
            }
            case A_DONE:
                *used = (size_t)(p - start);
                return HTTP1_DONE;
        }
    }
    return HTTP1_MORE;
}
