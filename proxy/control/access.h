/* access: who may use keepwarm. API keys (Bearer, x-api-key, or Basic password, compared in
 * constant time), the model-management switch (admin_api), the Origin and Host checks that
 * Ollama itself makes (cross-site requests, DNS rebinding), CORS for browser clients
 * (preflights answered here, so Ollama never sees a browser Origin), and the request path as
 * Ollama's router decodes it. Pure functions over a
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

/* Is path (normalised, see access_path_normalize) one of Ollama's model-management endpoints
 * (/api/pull, /api/push, /api/create, /api/copy, /api/delete, /api/blobs/...), with or
 * without a trailing '/'? */
int access_is_admin_path(const char *path);

/* Decides for one request. authorization and x_api_key are the header values (NULL when
 * absent). /healthz and /readyz never need a key. */
enum access_verdict access_check(const struct config *cfg, const char *path,
                                 const char *authorization, const char *x_api_key);

/* May a browser page from origin (the Origin header, NULL when absent) use keepwarm? As
 * Ollama decides (gin-contrib/cors with envconfig.AllowedOrigins): no Origin, the same origin
 * as host (the Host header), Ollama's default list (localhost, 127.0.0.1 and 0.0.0.0 on any
 * port, app://, file://, tauri://, vscode-webview://, vscode-file://), or a cors_origins entry
 * ("*" for any; one '*' inside an entry matches any run of characters). */
int access_origin_allowed(const struct config *cfg, const char *origin, const char *host);

/* May a request naming host (the Host header, NULL when absent) reach a loopback listener? As
 * Ollama's allowedHostsMiddleware: no Host, localhost, a loopback, private or unspecified
 * address literal, this machine's hostname, *.localhost, *.local, *.internal, or an
 * allowed_hosts entry ("*" for any; patterns as in cors_origins). The guard against DNS
 * rebinding: a page on evil.example re-pointed at 127.0.0.1 still says Host: evil.example. */
int access_host_allowed(const struct config *cfg, const char *host, const char *hostname);

/* The path of a request as Ollama's router sees it, from the raw path of the request line (n
 * bytes, without the query): %-decoded (%2F included, as Go's URL.Path), "//" and "." segments
 * dropped, ".." resolved (never above "/"), a trailing '/' kept. Every decision keepwarm takes
 * on a path (routing, admin_api) is taken on this, and this is what is forwarded. -1 for a path
 * that does not start with '/', a bad %-escape, a control byte (raw or decoded, NUL included),
 * or one that does not fit out (len bytes). */
int access_path_normalize(const char *raw, size_t n, char *out, size_t len);

/* path %-encoded for a request line: bytes other than unreserved, sub-delims, ':', '@' and '/'
 * become %XX, so the receiver decodes exactly path. -1 when it does not fit out. */
int access_path_encode(const char *path, char *out, size_t len);

/* The Access-Control-Allow-Headers value for a preflight that asked for `requested` (a
 * comma-separated list, may be NULL): the requested headers that keepwarm allows
 * (authorization, content-type, x-api-key, x-request-id, openai-*, x-stainless-*), lower-cased.
 * Always NUL-terminates out. */
void access_allowed_headers(const char *requested, char *out, size_t len);

/* Constant-time comparison: the time depends on the lengths only, not on the contents. */
int access_equal(const char *a, const char *b);

#endif
