/* frontdoor: request-head checks, body deadlines, JSON value counting and the front door's own
 * answers. Pure: see frontdoor.h. */
#include "frontdoor.h"

#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

void frontdoor_head_init(struct frontdoor_head *h) {
    memset(h, 0, sizeof(*h));
    h->line_start = 1;
}

size_t frontdoor_head_feed(struct frontdoor_head *h, const char *p, size_t n) {
    size_t i;
    if (h->done)
        return 0;
    for (i = 0; i < n; i++) {
        /* Most bytes lie inside a line, after no CR, and are printable or obs-text: nothing to
         * note about them, so they are skipped in a tight loop. */
        if (!h->line_start && !h->after_cr) {
            while (i < n && (unsigned char)p[i] >= 0x20 && p[i] != 0x7f)
                i++;
            if (i == n)
                break;
        }
        unsigned char c = (unsigned char)p[i];
        if (h->after_cr && c != '\n' && !h->bad)
            h->bad = "bare CR in the request head";
        h->after_cr = c == '\r';
        if (c == '\n') {
            if (h->line_start && h->lines > 0) { /* the empty line: the head ends here */
                h->done = 1;
                i++;
                break;
            }
            if (h->line_start) /* a LF before the request line (evhttp refuses it) */
                h->lines++;
            h->line_start = 1;
            continue;
        }
        if (c == '\r')
            continue;
        if (h->line_start) {
            h->lines++;
            h->line_start = 0;
            if ((c == ' ' || c == '\t') && h->lines > 1 && !h->bad)
                h->bad = "folded header line (obs-fold)";
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            if (!h->bad)
                h->bad =
                    c == 0 ? "NUL byte in the request head" : "control byte in the request head";
        }
    }
    h->bytes += i;
    return i;
}

int frontdoor_parse_length(const char *s, uint64_t *out) {
    uint64_t v = 0;
    size_t i;
    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9' || i >= 19)
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (i == 0 || v > (uint64_t)INT64_MAX)
        return -1;
    *out = v;
    return 0;
}

/* RFC 9110 tchar. */
static int is_token(const char *s) {
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (c && strchr("!#$%&'*+-.^_`|~", c))))
            return 0;
    }
    return 1;
}

static int value_ok(const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

static int refuse(struct frontdoor_verdict *v, int status, const char *message) {
    v->status = status;
    v->message = message;
    return -1;
}

int frontdoor_check(enum evhttp_cmd_type cmd, const struct evkeyvalq *headers, uint64_t max_body,
                    struct frontdoor_verdict *v) {
    const char *cl = NULL, *te = NULL, *expect = NULL;
    int ncl = 0, nte = 0, nexpect = 0;
    const struct evkeyval *kv;

    memset(v, 0, sizeof(*v));
    if (cmd == EVHTTP_REQ_CONNECT || cmd == EVHTTP_REQ_TRACE)
        return refuse(v, 501, "method not implemented");
    TAILQ_FOREACH(kv, headers, next) {
        if (!is_token(kv->key))
            return refuse(v, 400, "invalid header name");
        if (!value_ok(kv->value))
            return refuse(v, 400, "invalid header value");
        if (strcasecmp(kv->key, "Content-Length") == 0) {
            cl = kv->value;
            ncl++;
        } else if (strcasecmp(kv->key, "Transfer-Encoding") == 0) {
            te = kv->value;
            nte++;
        } else if (strcasecmp(kv->key, "Expect") == 0) {
            expect = kv->value;
            nexpect++;
        }
    }
    if (ncl > 1)
        return refuse(v, 400, "repeated Content-Length header");
    if (nte > 1)
        return refuse(v, 400, "repeated Transfer-Encoding header");
    if (cl && te)
        return refuse(v, 400, "both Content-Length and Transfer-Encoding");
    if (te && strcasecmp(te, "chunked") != 0)
        return refuse(v, 501, "unsupported Transfer-Encoding (only chunked)");
    if (cl && frontdoor_parse_length(cl, &v->length) < 0)
        return refuse(v, 400, "invalid Content-Length");
    v->body = te ? 2 : v->length > 0 ? 1 : 0;
    if (cmd == EVHTTP_REQ_HEAD) /* evhttp reads no body for HEAD */
        v->body = 0;
    if (nexpect > 1 || (expect && strcasecmp(expect, "100-continue") != 0))
        return refuse(v, 417, "unsupported Expect (only 100-continue)");
    /* Refused here, in the API's envelope, rather than by evhttp, whose 413 is an HTML page;
     * the refused socket lingers (listener.c), so the client reads the answer. A chunked body
     * that grows past the cap is still evhttp's. */
    if (v->body == 1 && v->length > max_body)
        return refuse(v, 413, "request body too large (max_body_size)");
    return 0;
}

int64_t frontdoor_body_deadline_ms(int64_t body_timeout_ms, uint64_t length) {
    return body_timeout_ms + (int64_t)(length >> 20) * 1000;
}

long frontdoor_json_cost(const char *data, size_t n, long cap) {
    long count = 0;
    int in_string = 0, in_scalar = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)data[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        switch (c) {
            case '"':
                in_string = 1;
                in_scalar = 0;
                break;
            case '{':
            case '[':
                in_scalar = 0;
                count += FRONTDOOR_JSON_CONTAINER_COST - 1;
                break;
            case ' ':
            case '\t':
            case '\r':
            case '\n':
            case ',':
            case ':':
            case '}':
            case ']':
                in_scalar = 0;
                continue;
            default: /* a number or literal: counted at its first byte */
                if (in_scalar)
                    continue;
                in_scalar = 1;
                break;
        }
        if (++count > cap)
            return -1;
    }
    return count;
}

static const char *reason_phrase(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 408:
            return "Request Timeout";
        case 413:
            return "Payload Too Large";
        case 417:
            return "Expectation Failed";
        case 501:
            return "Not Implemented";
        default:
            return "Error";
    }
}

size_t frontdoor_reply_format(char *out, size_t cap, int status, const char *body, size_t body_len,
                              int head) {
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, reason_phrase(status), body_len);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    if (head)
        return (size_t)n;
    if (body_len >= cap - (size_t)n)
        return 0;
    memcpy(out + n, body, body_len);
    out[n + body_len] = '\0';
    return (size_t)n + body_len;
}
