/* http: the stand-in's evhttp server: listening, routing, Ollama's Host and Origin checks,
 * the request body as parsed once for everyone, and the reply helpers all modules use. */
#ifndef FAKE_OLLAMA_HTTP_H
#define FAKE_OLLAMA_HTTP_H

#include "fake.h"

#include <event2/http.h>
#include <jansson.h>
#include <stddef.h>

#define HTTP_MAX_BODY (64u * 1024 * 1024)

/* A request body, read and parsed once per request. */
struct http_body {
    const char *data; /* the bytes (not NUL-terminated), valid during the request callback */
    size_t len;
    int blank;       /* no bytes or only whitespace: Go's io.EOF, "missing request body" */
    json_t *json;    /* any JSON value (borrowed), NULL when blank or invalid */
    char error[200]; /* the parse error when neither blank nor JSON */
};

/* Binds host:port (port 0 = any), installs the routes, prints "listening HOST:PORT". */
int http_start(struct fake *f, const char *host, int port, char *err, size_t errlen);
/* Closes every connection (their requests are cancelled) and the listener. */
void http_stop(struct fake *f);

/* Replies and ends the request. json variants steal body. */
void http_reply_json(struct evhttp_request *req, int status, json_t *body);
/* Same, with extra jansson dump flags (JSON_REAL_PRECISION for embeddings). */
void http_reply_json_flags(struct evhttp_request *req, int status, json_t *body, size_t flags);
void http_reply_error(struct evhttp_request *req, int status, const char *msg);
void http_reply_text(struct evhttp_request *req, int status, const char *content_type,
                     const char *text);

#endif
