/* upstream: HTTP/1.1 transfers to Ollama, on the same libevent loop as the server, by one of
 * two backends: keepwarm's own client (upstream.c, plain http://) or libcurl's multi interface
 * (upstream_curl.c: https://, proxies, and everything when upstream_client = curl). Only they
 * open, read or write a socket to Ollama. Connections are kept alive and reused
 * across transfers (TCP keepalive on each; an idle one is closed after idle_timeout_ms). A
 * transfer is sent again, once, on a new connection only when a kept-alive
 * connection failed before any answer byte, and then only if nothing of the request had been
 * written, or the transfer is replayable (Go's net/http rule: GET, HEAD, OPTIONS and TRACE
 * are; the caller marks others it knows are safe, upstream_set_replayable). An answer that
 * came but does not parse is never sent again.
 * When the process is out of descriptors (EMFILE), a transfer waits for another
 * transfer's connection instead of failing (in a queue of at most 4,096; request_timeout or
 * the client leaving ends the wait).
 *
 * Lifetime: a transfer lives from upstream_start until its on_done callback returns (then
 * upstream frees it), or until upstream_cancel (then no callback fires again). */
#ifndef KEEPWARM_UPSTREAM_H
#define KEEPWARM_UPSTREAM_H

#include <event2/event.h>
#include <stddef.h>

struct upstream;
struct upstream_xfer;

enum upstream_result {
    UPSTREAM_OK = 0,  /* an HTTP answer arrived in full (any status) */
    UPSTREAM_REFUSED, /* could not connect: 502 */
    UPSTREAM_TIMEOUT, /* connect, request or read timeout: 504 */
    UPSTREAM_BROKEN,  /* the connection failed mid-answer: 502 or a stream error */
    UPSTREAM_ABORTED, /* the consumer's on_data asked to stop */
};

struct upstream_cbs {
    /* Body bytes (chunked framing removed), after the status is known (upstream_status).
     * Called from upstream's read handler: may write to the client and may call
     * upstream_pause, but must not cancel or free the transfer. Return 0 to go on, -1 to abort
     * (on_done then gets UPSTREAM_ABORTED). */
    int (*on_data)(void *ctx, struct upstream_xfer *x, const char *buf, size_t len);
    /* The transfer is over. Called from one of upstream's own event callbacks, never from inside an
     * upstream_* call; the transfer is freed when it returns. */
    void (*on_done)(void *ctx, struct upstream_xfer *x, enum upstream_result result,
                    const char *detail);
    /* Optional: every byte of one read from Ollama has gone to on_data (maybe none, while the
     * head is still coming) and the answer goes on; when the read ended it, on_done comes
     * instead. The place to send what the read produced, so that a read carrying several
     * pieces costs the client one write. Same rules as on_data. */
    void (*on_read_end)(void *ctx, struct upstream_xfer *x);
};

struct upstream_opts {
    long connect_timeout_ms; /* 0: 300 s */
    long timeout_ms;         /* whole transfer; 0: none */
    /* Longest silence of Ollama once a transfer is on a connection: until the answer's first
     * byte, and between two reads after it (not while the transfer is paused); 0: none. */
    long read_timeout_ms;
    /* Which client: UPSTREAM_CLIENT_AUTO is keepwarm's own for http://, libcurl for the rest. */
    enum upstream_client {
        UPSTREAM_CLIENT_AUTO = 0,
        UPSTREAM_CLIENT_BUILTIN,
        UPSTREAM_CLIENT_CURL
    } client;
    /* TLS (libcurl only; copied by upstream_new/upstream_set_base): a PEM CA bundle instead of
     * the system store, a PEM client certificate and key, and no verification at all. */
    const char *ca_file;     /* NULL: the system store */
    const char *client_cert; /* NULL: none */
    const char *client_key;  /* NULL: in client_cert's file */
    int insecure;            /* 1 only by the operator's explicit choice */
    long idle_timeout_ms;    /* a kept-alive connection idle longer is closed; 0: 60 s */
    /* "Name: value" strings sent on every request (upstream_header: credentials for a proxy
     * in front of Ollama), NULL-terminated, copied; NULL for none. They replace a caller's
     * header of the same name. Secrets: upstream never logs them. A "user:password@" in the
     * base URL becomes "Authorization: Basic ...", unless one of these is an Authorization. */
    const char *const *extra_headers;
};

/* One per process. base_url is copied ("http://127.0.0.1:11434", or with "user:password@"
 * before the host, percent-encoded). NULL with err on failure (err never holds a password). */
struct upstream *upstream_new(struct event_base *base, const char *base_url,
                              const struct upstream_opts *opts, char *err, size_t errlen);
/* Cancels every live transfer (no callbacks) and frees everything. */
void upstream_free(struct upstream *u);

/* Out of descriptors: closes one idle kept-alive connection to Ollama, so its descriptor can
 * serve better (a new connection for a transfer, a client waiting to be accepted). Returns 1
 * if one was closed, 0 if none was idle. */
int upstream_close_idle(struct upstream *u);
/* Points new transfers at another base URL and options (reload). When the host and port
 * stay the same, the kept-alive connections and the resolved addresses are kept. */
int upstream_set_base(struct upstream *u, const char *base_url, const struct upstream_opts *opts);

/* Starts METHOD base_url+path. headers: NULL-terminated "Name: value" strings (copied).
 * body/len: borrowed, NULL for none; it must stay valid until on_done has returned or the
 * transfer is cancelled (upstream sends it from there). Returns NULL with err on failure
 * (nothing is called), and errno: EINVAL for a CR or LF (or a space in the method or path)
 * that cannot be sent, EMSGSIZE for a request head (line and headers) over 64 KiB, ENOMEM. */
struct upstream_xfer *upstream_start(struct upstream *u, const char *method, const char *path,
                                     const char *const *headers, const char *body, size_t len,
                                     const struct upstream_cbs *cbs, void *ctx, char *err,
                                     size_t errlen);

/* Per transfer, right after upstream_start: its own read timeout (0: none), replacing
 * upstream_opts.read_timeout_ms; and whether it may be sent again after a kept-alive
 * connection died under it before any answer byte even when some of it had been written (a
 * request without side effects; GET, HEAD, OPTIONS and TRACE are from the start). */
void upstream_set_read_timeout(struct upstream_xfer *x, long ms);
void upstream_set_replayable(struct upstream_xfer *x, int replayable);

/* Stops a live transfer now, closing its connection so Ollama sees the client leave. No
 * callback fires after this. Must not be called from inside on_data. */
void upstream_cancel(struct upstream_xfer *x);

/* Backpressure: stop reading from Ollama / start again (the bytes of the current read are
 * still delivered after a pause). resume never calls on_data before it
 * returns. pause may be called from on_data; resume only from outside on_data. */
void upstream_pause(struct upstream_xfer *x);
void upstream_resume(struct upstream_xfer *x);
int upstream_paused(const struct upstream_xfer *x);

/* The answer's HTTP status (0 before headers), Content-Type ("" if none) and Content-Length
 * (-1 when the body is chunked, runs to the connection's end, or is not known yet). */
long upstream_status(const struct upstream_xfer *x);
const char *upstream_content_type(const struct upstream_xfer *x);
long long upstream_content_length(const struct upstream_xfer *x);
/* 1 once any byte of an answer came from Ollama (on this transfer's current connection). */
int upstream_answered(const struct upstream_xfer *x);

#endif
