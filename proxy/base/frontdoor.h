/* frontdoor: the pure checks of keepwarm's HTTP front door, applied before evhttp reads a
 * request's body and before a body becomes a JSON tree. What nginx and HAProxy refuse,
 * keepwarm refuses too: one Content-Length, plainly decimal, never with Transfer-Encoding;
 * Transfer-Encoding only "chunked"; header names that are tokens; no control bytes (NUL, bare
 * CR, obs-fold) in the request head; Expect only "100-continue" and only for a body that fits.
 * No I/O, no clock, no globals: server.c does the evhttp glue. */
#ifndef KEEPWARM_FRONTDOOR_H
#define KEEPWARM_FRONTDOOR_H

#include <event2/http.h>
#include <stddef.h>
#include <stdint.h>

/* The most a request body's JSON tree may cost before jansson builds it, in values: a string,
 * number or literal costs 1, an object or array FRONTDOOR_JSON_CONTAINER_COST (jansson gives an
 * empty object a hashtable of its own, ~250 bytes, where a number takes ~50). 12 MB of
 * "[{},{},...]" would otherwise cost ~1 GB of heap; at this cap a tree stays near 100 MB.
 * A chat history, even at 128k tokens, is a few thousand values; an embeddings batch of
 * token ids up to 1M numbers. */
#define FRONTDOOR_MAX_JSON_COST       (1000000)
#define FRONTDOOR_JSON_CONTAINER_COST 4

/* The raw request head (request line and header lines), scanned as it arrives, before evhttp
 * turns lines into C strings (which silently cut a line at a NUL). */
struct frontdoor_head {
    size_t bytes;    /* head bytes scanned so far */
    int line_start;  /* next byte starts a line */
    int lines;       /* lines begun so far (the request line is 1) */
    int after_cr;    /* the last byte was CR */
    int done;        /* the empty line that ends the head was seen */
    const char *bad; /* what is wrong, or NULL */
};

void frontdoor_head_init(struct frontdoor_head *h);

/* Scans the next n bytes of the stream; returns how many belong to the head (all of them
 * until the empty line that ends it; after done, 0). Sets h->bad on a NUL or other control
 * byte (HTAB aside), a CR not followed by LF, or a header line starting with SP/HTAB. */
size_t frontdoor_head_feed(struct frontdoor_head *h, const char *p, size_t n);

/* What the head says about the request. */
struct frontdoor_verdict {
    int status;          /* 0 when acceptable, else the status to answer before closing */
    const char *message; /* why, for the client (static text) */
    int body;            /* the request has a body: 0 none, 1 Content-Length, 2 chunked */
    uint64_t length;     /* Content-Length */
};

/* A Content-Length value: 1 to 19 decimal digits and nothing else. 0 or -1. */
int frontdoor_parse_length(const char *s, uint64_t *out);

/* Checks the parsed head (method and headers as evhttp read them). max_body is the cap
 * evhttp enforces; a larger Content-Length gets 413 at once (in the API's envelope, before the
 * body is read; with "Expect: 100-continue" instead of evhttp's silence, without it instead of
 * evhttp's HTML page). Returns 0, or -1 with v->status and v->message set. */
int frontdoor_check(enum evhttp_cmd_type cmd, const struct evkeyvalq *headers, uint64_t max_body,
                    struct frontdoor_verdict *v);

/* The deadline for a request body in ms: body_timeout_ms, plus one second per MiB of the
 * body (length, or max_body when chunked), so a slow but honest upload of a large body still
 * makes it, while a body dripped a byte at a time cannot hold a connection for ever. */
int64_t frontdoor_body_deadline_ms(int64_t body_timeout_ms, uint64_t length);

/* The cost of the JSON values in data[0..n) (see FRONTDOOR_MAX_JSON_COST; every value outside
 * strings counted, keys included), without parsing: -1 as soon as it is over cap. Malformed
 * JSON is counted the same way (the parser rejects it afterwards). */
long frontdoor_json_cost(const char *data, size_t n, long cap);

/* A complete "Connection: close" answer in out with the JSON error body[0, body_len) (the
 * envelope of the API the request was for; no body for HEAD, the headers unchanged). Returns
 * its length, or 0 when out is too small. */
size_t frontdoor_reply_format(char *out, size_t cap, int status, const char *body, size_t body_len,
                              int head);

#endif
