/* statuspage: the live status page (GET /ui, and GET /status when the client prefers HTML):
 * one static, dependency-free HTML document whose few lines of script poll the /status JSON
 * and render it with textContent only; the headers it is served with (a strict
 * Content-Security-Policy that allows exactly its inline style and script by hash, no
 * framing, no caching, no sniffing); and the Accept negotiation between it and the JSON. No
 * I/O: the server sends it. */
#ifndef KEEPWARM_STATUSPAGE_H
#define KEEPWARM_STATUSPAGE_H

#include <stddef.h>

struct statuspage_header {
    const char *name, *value;
};

/* The headers the page is served with, besides Content-Type (statuspage_type); the list ends
 * with a NULL name. */
extern const struct statuspage_header statuspage_headers[];

extern const char statuspage_type[]; /* "text/html; charset=utf-8" */

/* The page, NUL-terminated; *len (when not NULL) is its length. */
const char *statuspage_html(size_t *len);

/* Does a request with this Accept header (NULL when absent) prefer text/html to
 * application/json? As RFC 9110 12.5.1: each type gets the q of the most specific media range
 * that matches it (exact, then type/asterisk, then asterisk/asterisk); HTML only when its q is
 * higher than JSON's. So a browser navigation (text/html first, any other type at q=0.8)
 * gets the page; no Accept, any type at q=1 (curl, fetch) and application/json keep the JSON.
 * A malformed q drops its range. */
int statuspage_wants_html(const char *accept);

#endif
