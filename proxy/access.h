/* access: who may use keepwarm. API keys (Bearer, x-api-key, or Basic password, compared in
 * constant time), the model-management switch (admin_api), and CORS for browser clients
 * (preflights answered here, so Ollama never sees a browser Origin). Pure functions over a
 * config and header values, so they are unit-tested without a server. */
#ifndef KEEPWARM_ACCESS_H
#define KEEPWARM_ACCESS_H

#include <stddef.h>

#include "config.h"

enum access_verdict {
    ACCESS_OK = 0,
    ACCESS_UNAUTHORIZED, /* 401: a key is needed and none (or a wrong one) was given */
    ACCESS_FORBIDDEN,    /* 403: model management is switched off (admin_api = deny) */
};

/* Is path one of Ollama's model-management endpoints (/api/pull, /api/push, /api/create,
 * /api/copy, /api/delete, /api/blobs/...)? */
int access_is_admin_path(const char *path);

/* Decides for one request. authorization and x_api_key are the header values (NULL when
 * absent). /healthz and /readyz never need a key. */
enum access_verdict access_check(const struct config *cfg, const char *path,
                                 const char *authorization, const char *x_api_key);

/* Is origin allowed by cors_origins ("*" allows any)? */
int access_origin_allowed(const struct config *cfg, const char *origin);

/* The Access-Control-Allow-Headers value for a preflight that asked for `requested` (a
 * comma-separated list, may be NULL): the requested headers that keepwarm allows
 * (authorization, content-type, x-api-key, x-request-id, openai-*, x-stainless-*), lower-cased.
 * Always NUL-terminates out. */
void access_allowed_headers(const char *requested, char *out, size_t len);

/* Constant-time comparison: the time depends on the lengths only, not on the contents. */
int access_equal(const char *a, const char *b);

#endif
