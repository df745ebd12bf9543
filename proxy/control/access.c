/* access: API keys, admin switch, Origin and Host checks, CORS, and the request path as
 * Ollama's router reads it. No I/O. */
#include "access.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"

static const char *const admin_paths[] = {"/api/pull", "/api/push", "/api/create", "/api/copy",
                                          "/api/delete"};

int access_is_admin_path(const char *path) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') /* gin redirects "/api/pull/" to "/api/pull" */
        n--;
    for (size_t i = 0; i < sizeof(admin_paths) / sizeof(admin_paths[0]); i++)
        if (strlen(admin_paths[i]) == n && strncmp(path, admin_paths[i], n) == 0)
            return 1;
    return strncmp(path, "/api/blobs/", 11) == 0 ||
           (n == 10 && strncmp(path, "/api/blobs", 10) == 0);
}

int access_equal(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    size_t n = la > lb ? la : lb;
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < n; i++) {
        unsigned char ca = i < la ? (unsigned char)a[i] : 0;
        unsigned char cb = i < lb ? (unsigned char)b[i] : 0;
        diff |= ca ^ cb;
    }
    return diff == 0;
}

static int key_known(const struct config *cfg, const char *key) {
    int found = 0;
    for (size_t i = 0; i < cfg->napi_keys; i++)
        found |= access_equal(cfg->api_keys[i], key); /* no early exit */
    return found;
}

/* The key a request presents: Bearer token, Basic password, or x-api-key. */
static int presented_key(const char *authorization, const char *x_api_key, char *out, size_t len) {
    if (authorization) {
        const char *a = authorization;
        while (*a == ' ')
            a++;
        if (strncasecmp(a, "Bearer ", 7) == 0) {
            a += 7;
            while (*a == ' ')
                a++;
            if (strlen(a) < len) {
                strcpy(out, a);
                return 0;
            }
        } else if (strncasecmp(a, "Basic ", 6) == 0) {
            /* As Go's Request.BasicAuth: padded standard base64, split at the first ':'. */
            size_t n;
            unsigned char *decoded = base64_decode_new(a + 6, &n);
            const unsigned char *colon = decoded ? memchr(decoded, ':', n) : NULL;
            size_t pn = colon ? n - (size_t)(colon + 1 - decoded) : 0;
            int ok = colon && pn < len && !memchr(colon + 1, '\0', pn); /* keys hold no NUL */
            if (ok) {
                memcpy(out, colon + 1, pn);
                out[pn] = '\0';
            }
            free(decoded);
            if (ok)
                return 0;
        }
    }
    if (x_api_key && strlen(x_api_key) < len) {
        strcpy(out, x_api_key);
        return 0;
    }
    return -1;
}

enum access_verdict access_check(const struct config *cfg, const char *path,
                                 const char *authorization, const char *x_api_key) {
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0)
        return ACCESS_OK;
    if (access_is_admin_path(path)) {
        if (cfg->admin_api == ADMIN_DENY)
            return ACCESS_FORBIDDEN;
        if (cfg->admin_api == ADMIN_ALLOW)
            return ACCESS_OK;
    }
    if (cfg->napi_keys == 0)
        return ACCESS_OK;
    char key[512];
    if (presented_key(authorization, x_api_key, key, sizeof(key)) < 0 || !*key)
        return ACCESS_UNAUTHORIZED;
    /* A Bearer that is not ours may still come with a valid x-api-key. */
    if (key_known(cfg, key))
        return ACCESS_OK;
    if (x_api_key && key_known(cfg, x_api_key))
        return ACCESS_OK;
    return ACCESS_UNAUTHORIZED;
}

/* A gin-contrib/cors pattern: exact, or one '*' standing for any run of characters. ASCII
 * case is ignored (browsers send scheme and host in lower case). */
static int pattern_match(const char *pattern, const char *s) {
    const char *star = strchr(pattern, '*');
    size_t n = strlen(s);
    if (!star)
        return strcasecmp(pattern, s) == 0;
    size_t pre = (size_t)(star - pattern), post = strlen(star + 1);
    return n >= pre + post && strncasecmp(s, pattern, pre) == 0 &&
           strcasecmp(s + n - post, star + 1) == 0;
}

/* Ollama's own allow list (envconfig.AllowedOrigins, ollama/ollama envconfig/config.go at
 * fb30760): what a browser may send even when OLLAMA_ORIGINS is empty. */
static const char *const default_origins[] = {
    "http://localhost", "https://localhost", "http://localhost:*", "https://localhost:*",
    "http://127.0.0.1", "https://127.0.0.1", "http://127.0.0.1:*", "https://127.0.0.1:*",
    "http://0.0.0.0",   "https://0.0.0.0",   "http://0.0.0.0:*",   "https://0.0.0.0:*",
    "app://*",          "file://*",          "tauri://*",          "vscode-webview://*",
    "vscode-file://*",
};

int access_origin_allowed(const struct config *cfg, const char *origin, const char *host) {
    if (!origin)
        return 1;
    /* Same origin (a page served from this address): not a cross-site request. */
    if (host && *host) {
        size_t hl = strlen(host);
        if ((strncasecmp(origin, "http://", 7) == 0 && strlen(origin + 7) == hl &&
             strcasecmp(origin + 7, host) == 0) ||
            (strncasecmp(origin, "https://", 8) == 0 && strlen(origin + 8) == hl &&
             strcasecmp(origin + 8, host) == 0))
            return 1;
    }
    for (size_t i = 0; i < cfg->ncors_origins; i++)
        if (strcmp(cfg->cors_origins[i], "*") == 0 || pattern_match(cfg->cors_origins[i], origin))
            return 1;
    for (size_t i = 0; i < sizeof(default_origins) / sizeof(default_origins[0]); i++)
        if (pattern_match(default_origins[i], origin))
            return 1;
    return 0;
}

/* The host part of a Host header as Go's SplitHostPort finds it: "[::1]:11435" -> "::1",
 * "name:80" -> "name", lower-cased ("[::1]" too, where Go wants a port); a value it cannot
 * split ("[::1]x", "[::1]:1:2", "a:b:c") whole, as Ollama then checks it. -1 when it does not
 * fit. */
static int host_part(const char *host, char *out, size_t len) {
    const char *start = host, *end = NULL;
    if (*host == '[') {
        end = strchr(host + 1, ']');
        if (end && (!end[1] || (end[1] == ':' && !strpbrk(end + 2, ":[]"))))
            start = host + 1;
        else
            end = NULL;
    } else {
        end = strchr(host, ':');
        if (end && strchr(end + 1, ':')) /* a bare IPv6 literal, no port */
            end = NULL;
    }
    if (!end)
        end = host + strlen(host);
    size_t n = (size_t)(end - start);
    if (n >= len)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)start[i]);
    out[n] = '\0';
    return 0;
}

/* netip's IsLoopback, IsPrivate and IsUnspecified for an address literal; 0 for a name. */
static int ip_is_local(const char *h) {
    unsigned char a[16];
    if (inet_pton(AF_INET, h, a) == 1)
        goto v4;
    if (inet_pton(AF_INET6, h, a) != 1)
        return 0;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, mapped, 12) == 0) {
        memmove(a, a + 12, 4);
        goto v4;
    }
    static const unsigned char zero[16] = {0};
    if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1)) /* :: and ::1 */
        return 1;
    return (a[0] & 0xfe) == 0xfc; /* fc00::/7 */
v4:
    return a[0] == 127 || a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
           (a[0] == 192 && a[1] == 168) || (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0);
}

static int has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

int access_host_allowed(const struct config *cfg, const char *host, const char *hostname) {
    char h[256];
    if (!host || !*host)
        return 1;
    for (size_t i = 0; i < cfg->nallowed_hosts; i++)
        if (strcmp(cfg->allowed_hosts[i], "*") == 0)
            return 1;
    if (host_part(host, h, sizeof(h)) < 0)
        return 0;
    if (!*h || strcmp(h, "localhost") == 0 || ip_is_local(h))
        return 1;
    if (hostname && *hostname && strcasecmp(h, hostname) == 0)
        return 1;
    if (has_suffix(h, ".localhost") || has_suffix(h, ".local") || has_suffix(h, ".internal"))
        return 1;
    for (size_t i = 0; i < cfg->nallowed_hosts; i++)
        if (pattern_match(cfg->allowed_hosts[i], h))
            return 1;
    return 0;
}

static int hex_val(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int access_path_normalize(const char *raw, size_t n, char *out, size_t len) {
    size_t o = 0;
    if (n == 0 || raw[0] != '/' || len < 2)
        return -1;
    /* %-decode as Go's url.PathUnescape: a bad escape is an error; %2F is a '/'. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            int hi = i + 2 < n ? hex_val((unsigned char)raw[i + 1]) : -1;
            int lo = hi >= 0 ? hex_val((unsigned char)raw[i + 2]) : -1;
            if (lo < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || o + 1 >= len)
            return -1;
        out[o++] = (char)c;
    }
    /* Segments: empty and "." dropped, ".." removes the one before (never above the root); a
     * trailing '/' is kept. Written in place: the write point never passes the read point. */
    size_t r = 0, w = 0;
    int trailing = 0;
    while (r < o) {
        while (r < o && out[r] == '/')
            r++;
        if (r == o) {
            trailing = 1;
            break;
        }
        size_t start = r;
        while (r < o && out[r] != '/')
            r++;
        size_t seg = r - start;
        trailing = 0;
        if (seg == 1 && out[start] == '.') {
            trailing = 1;
            continue;
        }
        if (seg == 2 && out[start] == '.' && out[start + 1] == '.') {
            while (w > 0 && out[w - 1] != '/')
                w--;
            if (w > 0)
                w--;
            trailing = 1;
            continue;
        }
        out[w++] = '/';
        memmove(out + w, out + start, seg);
        w += seg;
    }
    if (w == 0 || (trailing && out[w - 1] != '/'))
        out[w++] = '/';
    out[w] = '\0';
    return 0;
}

int access_path_encode(const char *path, char *out, size_t len) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        int plain = (*p < 0x80 && isalnum(*p)) || strchr("/-._~!$&'()*+,;=:@", *p);
        if (o + (plain ? 1 : 3) >= len)
            return -1;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    if (len == 0)
        return -1;
    out[o] = '\0';
    return 0;
}

static int header_allowed(const char *h, size_t n) {
    static const char *const exact[] = {"authorization", "content-type", "x-api-key",
                                        "x-request-id", "accept"};
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (strlen(exact[i]) == n && strncasecmp(h, exact[i], n) == 0)
            return 1;
    return (n > 11 && strncasecmp(h, "x-stainless-", 12) == 0) ||
           (n > 7 && strncasecmp(h, "openai-", 7) == 0);
}

void access_allowed_headers(const char *requested, char *out, size_t len) {
    size_t o = 0;
    if (!len)
        return;
    out[0] = '\0';
    if (!requested) {
        snprintf(out, len, "authorization, content-type, x-api-key, x-request-id");
        return;
    }
    const char *p = requested;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        size_t n = (size_t)(p - start);
        while (n && (start[n - 1] == ' ' || start[n - 1] == '\t'))
            n--;
        if (n && header_allowed(start, n) && o + n + 3 < len) {
            if (o) {
                out[o++] = ',';
                out[o++] = ' ';
            }
            for (size_t i = 0; i < n; i++)
                out[o++] = (char)tolower((unsigned char)start[i]);
            out[o] = '\0';
        }
    }
}
