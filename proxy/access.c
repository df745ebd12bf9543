/* access: API keys, admin switch, CORS. No I/O. */
#include "access.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const admin_paths[] = {"/api/pull", "/api/push", "/api/create", "/api/copy",
                                          "/api/delete"};

int access_is_admin_path(const char *path) {
    for (size_t i = 0; i < sizeof(admin_paths) / sizeof(admin_paths[0]); i++)
        if (strcmp(path, admin_paths[i]) == 0)
            return 1;
    return strncmp(path, "/api/blobs/", 11) == 0 || strcmp(path, "/api/blobs") == 0;
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

static int b64_val(int c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes standard base64 (padding optional) into out; -1 if invalid or too long. */
static int b64_decode(const char *in, char *out, size_t len) {
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *in && *in != '='; in++) {
        int v = b64_val((unsigned char)*in);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= len)
                return -1;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    return 0;
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
            char decoded[512];
            const char *colon;
            if (b64_decode(a + 6, decoded, sizeof(decoded)) == 0 &&
                (colon = strchr(decoded, ':')) && strlen(colon + 1) < len) {
                strcpy(out, colon + 1);
                return 0;
            }
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

int access_origin_allowed(const struct config *cfg, const char *origin) {
    for (size_t i = 0; i < cfg->ncors_origins; i++)
        if (strcmp(cfg->cors_origins[i], "*") == 0 || strcasecmp(cfg->cors_origins[i], origin) == 0)
            return 1;
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
