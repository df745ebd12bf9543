/* upstream_curl: the libcurl backend behind upstream.h (https://, client certificates, proxies
 * from the environment, any URL form libcurl takes). Internal to upstream.c, which picks the
 * backend per base URL (upstream_client) and forwards the public calls; nothing else includes
 * this header.
 *
 * Every backend's transfer starts with a struct upstream_xfer_hdr: upstream.c's public
 * per-transfer functions look at its ops and forward there (NULL ops: the builtin client). */
#ifndef KEEPWARM_UPSTREAM_CURL_H
#define KEEPWARM_UPSTREAM_CURL_H

#include <string.h>

#include "upstream.h"

struct upstream_xfer_ops {
    void (*cancel)(struct upstream_xfer *x);
    void (*pause)(struct upstream_xfer *x);
    void (*resume)(struct upstream_xfer *x);
    int (*paused)(const struct upstream_xfer *x);
    void (*set_read_timeout)(struct upstream_xfer *x, long ms);
    void (*set_replayable)(struct upstream_xfer *x, int replayable);
    long (*status)(const struct upstream_xfer *x);
    const char *(*content_type)(const struct upstream_xfer *x);
    long long (*content_length)(const struct upstream_xfer *x);
    int (*answered)(const struct upstream_xfer *x);
};

/* The first member of every backend's transfer. */
struct upstream_xfer_hdr {
    const struct upstream_xfer_ops *ops; /* NULL: upstream.c's own client */
};

static inline const struct upstream_xfer_ops *upstream_xfer_ops_of(const struct upstream_xfer *x) {
    return ((const struct upstream_xfer_hdr *)(const void *)x)->ops;
}

/* Go's isReplayable, the one rule of both backends: the methods that are idempotent by
 * definition may be sent again after part of them went out (upstream_set_replayable marks
 * others). */
static inline int upstream_method_replayable(const char *method) {
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
           strcmp(method, "OPTIONS") == 0 || strcmp(method, "TRACE") == 0;
}

struct upstream_curl;

/* 1 when base_url goes to libcurl under opts->client (auto: anything but http://). */
int upstream_curl_wanted(const char *base_url, const struct upstream_opts *opts);

/* The same contracts as upstream_new, upstream_set_base (err added), upstream_free,
 * upstream_start in upstream.h. */
struct upstream_curl *upstream_curl_new(struct event_base *base, char *err, size_t errlen);
int upstream_curl_set_base(struct upstream_curl *uc, const char *base_url,
                           const struct upstream_opts *opts, char *err, size_t errlen);
void upstream_curl_free(struct upstream_curl *uc);
struct upstream_xfer *upstream_curl_start(struct upstream_curl *uc, const char *method,
                                          const char *path, const char *const *headers,
                                          const char *body, size_t len,
                                          const struct upstream_cbs *cbs, void *ctx, char *err,
                                          size_t errlen);

#endif
