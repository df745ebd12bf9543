/* config: defaults < INI (inih) < KEEPWARM_* environment < flags. Owns struct config's
 * strings and JSON; config_free releases them all. One validation path: config_set. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "modelname.h"

/* Layers, so a list set in a higher layer replaces (not extends) a lower layer's list. */
enum { LAYER_DEFAULT = 0, LAYER_FILE, LAYER_ENV, LAYER_FLAGS };
static int cur_layer = LAYER_DEFAULT;

static int set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct config;
static int load_keys_file(struct config *c, char *err, size_t errlen);
static int set_err(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int replace_str(char **dst, const char *src) {
    char *copy = strdup(src);
    if (!copy)
        return -1;
    free(*dst);
    *dst = copy;
    return 0;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* "host:port" with host an IPv4 address, a name, or [v6]. */
static int parse_hostport(const char *v, char **host, int *port, char *err, size_t errlen) {
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v)
        return set_err(err, errlen, "listen: \"%s\" is not HOST:PORT (e.g. 127.0.0.1:11435)", v);
    char *end = NULL;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno || !end || *end || colon[1] == '\0' || p < 0 || p > 65535)
        return set_err(err, errlen, "listen: port in \"%s\" must be 0..65535", v);
    size_t hl = (size_t)(colon - v);
    if (v[0] == '[' && hl >= 2 && v[hl - 1] == ']') {
        v++;
        hl -= 2;
    }
    char *h = strndup(v, hl);
    if (!h)
        return set_err(err, errlen, "out of memory");
    free(*host);
    *host = h;
    *port = (int)p;
    return 0;
}

/* The URL with a password replaced by "***" (all of the user info when it has no ':'), for
 * logs and errors: "http://alice:s3cret@gpu" -> "http://alice:***@gpu". */
static void url_redact(const char *v, char *out, size_t len) {
    const char *sep = strstr(v, "://");
    const char *auth = sep ? sep + 3 : v;
    size_t alen = strcspn(auth, "/");
    const char *at = NULL;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@')
            at = p;
    if (!at) {
        snprintf(out, len, "%s", v);
        return;
    }
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    size_t keep = colon ? (size_t)(colon + 1 - v) : (size_t)(auth - v);
    snprintf(out, len, "%.*s***%s", (int)keep, v, at);
}

/* User info as RFC 3986 allows it (unreserved, sub-delims, ":" and well-formed %XX), and a
 * raw "@" (the last one ends the user info). */
static int userinfo_ok(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '%') {
            if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
                !isxdigit((unsigned char)s[i + 2]))
                return 0;
            i += 2;
        } else if (!isalnum(ch) && !strchr("-._~!$&'()*+,;=:@", ch)) {
            return 0;
        }
    }
    return 1;
}

/* OLLAMA_HOST forms: "host", "host:port", ":port", "http://host:port", each with an optional
 * "user:password@" (percent-encoded) before the host. out gets the URL, shown the same with
 * the password replaced by "***". "https://host[:port]" too (port 443 by default; the libcurl
 * backend speaks it). */
static int normalise_upstream(const char *v, char *out, size_t len, char *shown, size_t shownlen) {
    const char *scheme = "http://";
    const char *rest = v;
    const char *default_port = "11434";
    if (strncmp(v, "http://", 7) == 0) {
        rest = v + 7;
    } else if (strncmp(v, "https://", 8) == 0) {
        scheme = "https://";
        rest = v + 8;
        default_port = "443";
    } else if (strstr(v, "://")) {
        return -1;
    }
    char hostport[CONFIG_MAX_STRING];
    size_t n = strcspn(rest, "/");
    if (n >= sizeof(hostport))
        return -1;
    memcpy(hostport, rest, n);
    hostport[n] = '\0';
    const char *path = rest + n;
    if (strcmp(path, "/") == 0)
        path = "";
    char *hp = hostport;
    const char *userinfo = "";
    char *at = strrchr(hostport, '@'); /* the host cannot hold one; the password may, encoded */
    if (at) {
        *at = '\0';
        userinfo = hostport;
        hp = at + 1;
        if (!*userinfo || !userinfo_ok(userinfo, strlen(userinfo)))
            return -1;
    }
    const char *host = hp, *port = NULL;
    char *colon = strrchr(hp, ':');
    if (colon && !strchr(colon, ']')) {
        *colon = '\0';
        port = colon + 1;
    }
    if (*host == '\0' || strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "[::]") == 0)
        host = "[::1]";
    if (!port || !*port)
        port = default_port;
    for (const char *p = port; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    int w = snprintf(out, len, "%s%s%s%s:%s%s", scheme, userinfo, *userinfo ? "@" : "", host, port,
                     path);
    if (w < 0 || (size_t)w >= len)
        return -1;
    /* no trailing slash */
    size_t ol = strlen(out);
    while (ol > 0 && out[ol - 1] == '/')
        out[--ol] = '\0';
    url_redact(out, shown, shownlen);
    return 0;
}

/* RFC 9110 tchar: what a header name is made of. */
static int is_token(const char *s, size_t n) {
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && !strchr("!#$%&'*+-.^_`|~", ch))
            return 0;
    }
    return 1;
}

/* upstream_header: "Name: value", or several, one per line (the environment's form). Each
 * adds one header; a higher layer's replace a lower layer's, as for lists. Errors name the
 * header, never its value (a token). */
static int header_add(const char *key, char **list, size_t *count, int *layer, const char *v,
                      char *err, size_t errlen) {
    static const char *const reserved[] = {
        "host", "content-length", "transfer-encoding", "connection", "upgrade", "trailer",
        "te",   "keep-alive",     "proxy-connection",  NULL};
    if (*layer != cur_layer) {
        for (size_t i = 0; i < *count; i++)
            free(list[i]);
        *count = 0;
        *layer = cur_layer;
    }
    for (const char *line = v; *line;) {
        size_t ll = strcspn(line, "\n");
        const char *next = line[ll] ? line + ll + 1 : line + ll;
        while (ll && isspace((unsigned char)*line))
            line++, ll--;
        while (ll && isspace((unsigned char)line[ll - 1]))
            ll--;
        if (!ll) {
            line = next;
            continue;
        }
        const char *colon = memchr(line, ':', ll);
        size_t nl = colon ? (size_t)(colon - line) : 0;
        if (!colon || !is_token(line, nl))
            return set_err(err, errlen,
                           "%s: want \"Name: value\" with a header name made of letters, digits "
                           "and !#$%%&'*+-.^_`|~ (a blank before the colon is not allowed)",
                           key);
        for (size_t i = 0; reserved[i]; i++)
            if (nl == strlen(reserved[i]) && strncasecmp(line, reserved[i], nl) == 0)
                return set_err(err, errlen, "%s: %.*s is keepwarm's to send, not a setting", key,
                               (int)nl, line);
        const char *val = colon + 1;
        size_t vl = ll - nl - 1;
        while (vl && (*val == ' ' || *val == '\t'))
            val++, vl--;
        if (!vl)
            return set_err(err, errlen, "%s: %.*s has an empty value", key, (int)nl, line);
        for (size_t i = 0; i < vl; i++) {
            unsigned char ch = (unsigned char)val[i];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                return set_err(err, errlen,
                               "%s: %.*s: the value may not hold control characters (CR, LF, "
                               "NUL, ...)",
                               key, (int)nl, line);
        }
        if (*count >= CONFIG_MAX_LIST)
            return set_err(err, errlen, "%s: more than %d headers", key, CONFIG_MAX_LIST);
        char *h = malloc(nl + 2 + vl + 1);
        if (!h)
            return set_err(err, errlen, "out of memory");
        snprintf(h, nl + 2 + vl + 1, "%.*s: %.*s", (int)nl, line, (int)vl, val);
        list[(*count)++] = h;
        line = next;
    }
    return 0;
}

static int parse_size(const char *key, const char *v, size_t *out, char *err, size_t errlen) {
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || v[0] == '-')
        goto bad;
    unsigned long long mul = 1;
    if (strcasecmp(end, "") == 0 || strcasecmp(end, "b") == 0)
        mul = 1;
    else if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kib") == 0)
        mul = 1024ULL;
    else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mib") == 0)
        mul = 1024ULL * 1024;
    else if (strcasecmp(end, "g") == 0 || strcasecmp(end, "gib") == 0)
        mul = 1024ULL * 1024 * 1024;
    else
        goto bad;
    if (n == 0 || n > (1ULL << 40) / mul)
        goto bad;
    *out = (size_t)(n * mul);
    return 0;
bad:
    return set_err(err, errlen,
                   "%s: \"%s\" is not a size (allowed: 1 byte to 1TiB, e.g. 4096, 64KiB, 32MiB)",
                   key, v);
}

static int parse_duration(const char *key, const char *v, int64_t *out, int allow_forever,
                          char *err, size_t errlen) {
    char derr[256];
    int64_t ns;
    if (duration_parse_config(v, &ns, derr, sizeof(derr)) < 0)
        return set_err(err, errlen, "%s: %s", key, derr);
    if (!allow_forever && ns == DURATION_FOREVER)
        return set_err(err, errlen, "%s: \"%s\" must be a positive duration (e.g. 500ms, 60s, 5m)",
                       key, v);
    *out = ns;
    return 0;
}

static int parse_int(const char *key, const char *v, long long min, long long max, long long *out,
                     char *err, size_t errlen) {
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max)
        return set_err(err, errlen, "%s: \"%s\" is not an integer in %lld..%lld", key, v, min, max);
    *out = n;
    return 0;
}

static int parse_bool(const char *key, const char *v, int *out, char *err, size_t errlen) {
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "on"))
        *out = 1;
    else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
             !strcasecmp(v, "off"))
        *out = 0;
    else
        return set_err(err, errlen, "%s: \"%s\" is not a boolean (allowed: yes, no, true, false)",
                       key, v);
    return 0;
}

static void list_clear(char **list, size_t *n) {
    for (size_t i = 0; i < *n; i++)
        free(list[i]);
    *n = 0;
}

/* Appends each comma-separated, trimmed, non-empty item. */
static int list_add(const char *key, char **list, size_t *n, int *layer, const char *v, char *err,
                    size_t errlen) {
    if (*layer != cur_layer) {
        list_clear(list, n);
        *layer = cur_layer;
    }
    char *copy = strdup(v);
    if (!copy)
        return set_err(err, errlen, "out of memory");
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *t = trim(tok);
        if (!*t)
            continue;
        if (*n >= CONFIG_MAX_LIST) {
            rc = set_err(err, errlen, "%s: more than %d entries", key, CONFIG_MAX_LIST);
            break;
        }
        int dup = 0;
        for (size_t i = 0; i < *n; i++)
            dup |= strcmp(list[i], t) == 0;
        if (dup)
            continue;
        if (!(list[*n] = strdup(t))) {
            rc = set_err(err, errlen, "out of memory");
            break;
        }
        (*n)++;
    }
    free(copy);
    return rc;
}

int config_names_match(const char *a, const char *b) {
    return modelname_equal(a, b);
}

static int is_defaults(const char *section) {
    return strcmp(section, CONFIG_DEFAULTS_SECTION) == 0;
}

const struct model_conf *config_model(const struct config *c, const char *name) {
    char key[MODELNAME_MAX];
    const struct model_conf *defaults = NULL;
    if (!c->nmodels)
        return NULL;
    /* the name resolved once, at the first named section (a file with only [model "*"] never
     * needs it), against each section's canonical form */
    int has_key = -1;
    for (size_t i = 0; i < c->nmodels; i++) {
        const struct model_conf *m = &c->models[i];
        if (is_defaults(m->name)) {
            defaults = m;
            continue;
        }
        if (!name)
            continue;
        if (has_key < 0)
            has_key = modelname_normalize(name, key, sizeof(key)) == 0;
        if (has_key && m->key ? strcmp(m->key, key) == 0 : config_names_match(m->name, name))
            return m;
    }
    return name ? defaults : NULL;
}

static struct model_conf *model_find_section(struct config *c, const char *name) {
    for (size_t i = 0; i < c->nmodels; i++) /* [model "m"] and [model "m:latest"] are one */
        if (is_defaults(c->models[i].name)
                ? is_defaults(name)
                : !is_defaults(name) && config_names_match(c->models[i].name, name))
            return &c->models[i];
    return NULL;
}

/* A new named section starts as a copy of the defaults section's values (none of them marked
 * as its own). */
static int model_inherit(struct model_conf *m, const struct model_conf *d) {
    m->has_keep_alive = d->has_keep_alive;
    m->keep_alive = d->keep_alive;
    m->num_predict_max = d->num_predict_max;
    m->max_concurrent = d->max_concurrent;
    return json_object_update(m->options, d->options);
}

static struct model_conf *model_get(struct config *c, const char *name, char *err, size_t errlen) {
    struct model_conf *found = model_find_section(c, name);
    if (found)
        return found;
    if (!*name) {
        set_err(err, errlen, "[model \"\"]: the model name is empty");
        return NULL;
    }
    if (c->nmodels >= CONFIG_MAX_LIST) {
        set_err(err, errlen, "[model \"%s\"]: more than %d model sections", name, CONFIG_MAX_LIST);
        return NULL;
    }
    struct model_conf *m = &c->models[c->nmodels];
    memset(m, 0, sizeof(*m));
    char key[MODELNAME_MAX];
    int has_key = modelname_normalize(name, key, sizeof(key)) == 0;
    m->name = strdup(name);
    m->key = has_key ? strdup(key) : NULL;
    m->options = json_object();
    if (!m->name || (has_key && !m->key) || !m->options) {
        free(m->name);
        free(m->key);
        json_decref(m->options);
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    c->nmodels++;
    const struct model_conf *d = is_defaults(name) ? NULL : model_find_section(c, "*");
    if (d && model_inherit(m, d) < 0) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    return m;
}

/* ---- the keys ------------------------------------------------------------------------ */

enum key_type {
    K_HOSTPORT, /* listen */
    K_URL,      /* upstream */
    K_HEADER,   /* upstream_header: char *[CONFIG_MAX_LIST] "Name: value" strings */
    K_DURATION, /* int64_t ns; min in ns; FOREVER only with KF_FOREVER, "0" only with KF_ZERO */
    K_SIZE,     /* size_t bytes */
    K_BOOL,     /* int */
    K_INT,      /* long long (main section) or int option (model section) in min..max */
    K_ENUM,     /* int index into choices */
    K_LIST,     /* char *[CONFIG_MAX_LIST] with a size_t count at count_off */
    K_STRING,   /* char * */
    K_LOGLEVEL, /* enum log_level */
};

#define KF_FOREVER 1
#define KF_ZERO    2

struct key_def {
    const char *name;
    enum key_type type;
    size_t off; /* field in struct config (main) or struct model_conf (model) */
    long long min, max;
    int flags;
    const char *const *choices;
    size_t count_off; /* K_LIST: the count field */
    int list;         /* K_LIST: index into list_layers */
};

static const char *const policy_choices[] = {"override", "default", NULL};
static const char *const admin_choices[] = {"allow", "deny", "keys", NULL};
static const char *const client_choices[] = {"auto", "builtin", "curl", NULL}; /* upstream.h */
static int list_layers[5];

#define C(f) offsetof(struct config, f)
static const struct key_def main_keys[] = {
    {"listen", K_HOSTPORT, 0, 0, 0, 0, NULL, 0, 0},
    {"upstream", K_URL, C(upstream), 0, 0, 0, NULL, 0, 0},
    {"upstream_client", K_ENUM, C(upstream_client), 0, 0, 0, client_choices, 0, 0},
    {"upstream_ca_file", K_STRING, C(upstream_ca_file), 0, 0, 0, NULL, 0, 0},
    {"upstream_client_cert", K_STRING, C(upstream_client_cert), 0, 0, 0, NULL, 0, 0},
    {"upstream_client_key", K_STRING, C(upstream_client_key), 0, 0, 0, NULL, 0, 0},
    {"upstream_insecure", K_BOOL, C(upstream_insecure), 0, 0, 0, NULL, 0, 0},
    {"upstream_header", K_HEADER, C(upstream_headers), 0, 0, 0, NULL, C(nupstream_headers), 4},
    {"keep_alive", K_DURATION, C(keep_alive), 0, 0, KF_FOREVER | KF_ZERO, NULL, 0, 0},
    {"keep_alive_policy", K_ENUM, C(keep_alive_policy), 0, 0, 0, policy_choices, 0, 0},
    {"ping_interval", K_DURATION, C(ping_interval), 10000000LL, 0, 0, NULL, 0, 0},
    {"pin", K_LIST, C(pins), 0, 0, 0, NULL, C(npins), 0},
    {"pin_requested", K_BOOL, C(pin_requested), 0, 0, 0, NULL, 0, 0},
    {"max_pinned", K_INT, C(max_pinned), 1, CONFIG_MAX_LIST, 0, NULL, 0, 0},
    {"api_keys", K_LIST, C(api_keys), 0, 0, 0, NULL, C(napi_keys), 1},
    {"api_keys_file", K_STRING, C(api_keys_file), 0, 0, 0, NULL, 0, 0},
    {"admin_api", K_ENUM, C(admin_api), 0, 0, 0, admin_choices, 0, 0},
    {"cors_origins", K_LIST, C(cors_origins), 0, 0, 0, NULL, C(ncors_origins), 2},
    {"allowed_hosts", K_LIST, C(allowed_hosts), 0, 0, 0, NULL, C(nallowed_hosts), 3},
    {"log_level", K_LOGLEVEL, C(log_level), 0, 0, 0, NULL, 0, 0},
    {"max_body_size", K_SIZE, C(max_body), 0, 0, 0, NULL, 0, 0},
    {"max_line_size", K_SIZE, C(max_line), 0, 0, 0, NULL, 0, 0},
    {"max_concurrent", K_INT, C(max_concurrent), 0, 1000000, 0, NULL, 0, 0},
    {"max_connections", K_INT, C(max_connections), 0, 1000000, 0, NULL, 0, 0},
    {"connect_timeout", K_DURATION, C(connect_timeout), 1000000LL, 0, 0, NULL, 0, 0},
    {"request_timeout", K_DURATION, C(request_timeout), 1000000LL, 0, KF_ZERO, NULL, 0, 0},
    {"read_timeout", K_DURATION, C(read_timeout), 1000000LL, 0, KF_ZERO, NULL, 0, 0},
    {"upstream_idle_timeout", K_DURATION, C(upstream_idle_timeout), 100000000LL, 0, 0, NULL, 0, 0},
    {"idle_timeout", K_DURATION, C(idle_timeout), 1000000000LL, 0, 0, NULL, 0, 0},
    {"header_timeout", K_DURATION, C(header_timeout), 100000000LL, 0, KF_ZERO, NULL, 0, 0},
    {"body_timeout", K_DURATION, C(body_timeout), 100000000LL, 0, KF_ZERO, NULL, 0, 0},
    {"shutdown_timeout", K_DURATION, C(shutdown_timeout), 0, 0, KF_ZERO, NULL, 0, 0},
    {"retries", K_INT, C(retries), 0, 5, 0, NULL, 0, 0},
    {"wait_comment_interval", K_DURATION, C(wait_comment_interval), 100000000LL, 0, KF_ZERO, NULL,
     0, 0},
};
#undef C

/* Model keys: K_INT and K_BOOL with off == 0 are runner options stored in options{}. */
#define M(f) offsetof(struct model_conf, f)
static const struct key_def model_keys[] = {
    {"keep_alive", K_DURATION, M(keep_alive), 0, 0, KF_FOREVER | KF_ZERO, NULL, 0, 0},
    {"num_ctx", K_INT, 0, 1, 1LL << 31, 0, NULL, 0, 0},
    {"num_batch", K_INT, 0, 1, 1LL << 31, 0, NULL, 0, 0},
    {"num_gpu", K_INT, 0, -1, 1LL << 31, 0, NULL, 0, 0},
    {"main_gpu", K_INT, 0, 0, 1LL << 31, 0, NULL, 0, 0},
    {"num_thread", K_INT, 0, 0, 1LL << 31, 0, NULL, 0, 0},
    {"use_mmap", K_BOOL, 0, 0, 0, 0, NULL, 0, 0},
    {"num_predict_max", K_INT, M(num_predict_max), 0, 1LL << 31, 0, NULL, 0, 0},
    {"max_concurrent", K_INT, M(max_concurrent), 0, 1000000, 0, NULL, 0, 0},
};
#undef M

static const struct key_def *key_find(const struct key_def *defs, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(defs[i].name, name) == 0)
            return &defs[i];
    return NULL;
}

static int unknown_key(const struct key_def *defs, size_t n, const char *key, const char *model,
                       char *err, size_t errlen) {
    char allowed[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof(allowed); i++)
        used += (size_t)snprintf(allowed + used, sizeof(allowed) - used, "%s%s", i ? ", " : "",
                                 defs[i].name);
    if (model)
        return set_err(err, errlen, "unknown key \"%s\" in [model \"%s\"] (allowed: %s)", key,
                       model, allowed);
    return set_err(err, errlen, "unknown key \"%s\" (allowed: %s)", key, allowed);
}

/* Parses v by def into the field at base+def->off (or, for model runner options, into
 * options). */
static int set_by_def(const struct key_def *d, char *base, json_t *options, const char *v,
                      char *err, size_t errlen) {
    const char *key = d->name;
    switch (d->type) {
        case K_HOSTPORT: {
            struct config *c = (struct config *)base;
            return parse_hostport(v, &c->listen_host, &c->listen_port, err, errlen);
        }
        case K_URL: {
            struct config *c = (struct config *)base;
            char url[CONFIG_MAX_STRING], shown[CONFIG_MAX_STRING], quoted[CONFIG_MAX_STRING];
            int rc = normalise_upstream(v, url, sizeof(url), shown, sizeof(shown));
            url_redact(v, quoted, sizeof(quoted)); /* errors never show a password */
            if (rc < 0)
                return set_err(err, errlen,
                               "%s: \"%s\" is not an http URL (e.g. http://127.0.0.1:11434, "
                               "https://host:port, http://user:password@host:11434 with %%XX "
                               "for reserved characters)",
                               key, quoted);
            return replace_str(&c->upstream, shown) < 0 || replace_str(&c->upstream_url, url) < 0
                       ? set_err(err, errlen, "out of memory")
                       : 0;
        }
        case K_HEADER:
            return header_add(key, (char **)(base + d->off), (size_t *)(base + d->count_off),
                              &list_layers[d->list], v, err, errlen);
        case K_STRING:
            return replace_str((char **)(base + d->off), v) < 0
                       ? set_err(err, errlen, "out of memory")
                       : 0;
        case K_DURATION: {
            int64_t ns = 0;
            if ((d->flags & KF_ZERO) && strcmp(v, "0") == 0) {
                *(int64_t *)(base + d->off) = 0;
                return 0;
            }
            if (parse_duration(key, v, &ns, d->flags & KF_FOREVER, err, errlen) < 0)
                return -1;
            if (ns < d->min || (ns == 0 && !(d->flags & KF_ZERO))) {
                char shortest[32];
                duration_format(d->min, shortest, sizeof(shortest));
                return set_err(err, errlen, "%s: \"%s\" is too short (at least %s)", key, v,
                               shortest);
            }
            *(int64_t *)(base + d->off) = ns;
            return 0;
        }
        case K_SIZE:
            return parse_size(key, v, (size_t *)(base + d->off), err, errlen);
        case K_BOOL: {
            int b = 0;
            if (parse_bool(key, v, &b, err, errlen) < 0)
                return -1;
            if (options)
                json_object_set_new(options, key, json_boolean(b));
            else
                *(int *)(base + d->off) = b;
            return 0;
        }
        case K_INT: {
            long long n = 0;
            if (parse_int(key, v, d->min, d->max, &n, err, errlen) < 0)
                return -1;
            if (options)
                json_object_set_new(options, key, json_integer(n));
            else
                *(long long *)(base + d->off) = n;
            return 0;
        }
        case K_ENUM:
            for (int i = 0; d->choices[i]; i++) {
                if (strcmp(v, d->choices[i]) == 0) {
                    *(int *)(base + d->off) = i;
                    return 0;
                }
            }
            return set_err(err, errlen, "%s: \"%s\" is not allowed (allowed: %s, %s%s%s)", key, v,
                           d->choices[0], d->choices[1], d->choices[2] ? ", " : "",
                           d->choices[2] ? d->choices[2] : "");
        case K_LIST:
            return list_add(key, (char **)(base + d->off), (size_t *)(base + d->count_off),
                            &list_layers[d->list], v, err, errlen);
        case K_LOGLEVEL:
            if (log_level_parse(v, (enum log_level *)(base + d->off)) < 0)
                return set_err(err, errlen,
                               "%s: \"%s\" is not allowed (allowed: debug, info, warn, error)", key,
                               v);
            return 0;
    }
    return -1;
}

int config_set(struct config *c, const char *model, const char *key, const char *value, char *err,
               size_t errlen) {
    char vbuf[CONFIG_MAX_STRING];
    if (strlen(value) >= sizeof(vbuf))
        return set_err(err, errlen, "%s: value longer than %d bytes", key, CONFIG_MAX_STRING - 1);
    strcpy(vbuf, value);
    const char *v = trim(vbuf);
    /* Names and values end up in JSON sent to Ollama: they must be text. */
    json_t *probe = json_string(v);
    if (!probe)
        return set_err(err, errlen, "%s: the value is not valid UTF-8", key);
    json_decref(probe);
    if (model) {
        if (!(probe = json_string(model)))
            return set_err(err, errlen, "[model ...]: the model name is not valid UTF-8");
        json_decref(probe);
    }
    const size_t nmain = sizeof(main_keys) / sizeof(main_keys[0]);
    const size_t nmodel = sizeof(model_keys) / sizeof(model_keys[0]);

    if (model) {
        const struct key_def *d = key_find(model_keys, nmodel, key);
        if (!d)
            return unknown_key(model_keys, nmodel, key, model, err, errlen);
        struct model_conf *m = model_get(c, model, err, errlen);
        if (!m)
            return -1;
        int runner_option = d->off == 0 && (d->type == K_INT || d->type == K_BOOL);
        unsigned bit = 1u << (d - model_keys);
        if (set_by_def(d, (char *)m, runner_option ? m->options : NULL, v, err, errlen) < 0)
            return -1;
        if (strcmp(key, "keep_alive") == 0)
            m->has_keep_alive = 1;
        m->set_mask |= bit;
        if (!is_defaults(m->name))
            return 0;
        /* a default: every named section that does not set the key itself takes it */
        for (size_t i = 0; i < c->nmodels; i++) {
            struct model_conf *o = &c->models[i];
            if (o == m || (o->set_mask & bit))
                continue;
            if (set_by_def(d, (char *)o, runner_option ? o->options : NULL, v, err, errlen) < 0)
                return -1;
            if (strcmp(key, "keep_alive") == 0)
                o->has_keep_alive = 1;
        }
        return 0;
    }
    /* aliases */
    if (strcmp(key, "pins") == 0)
        key = "pin";
    else if (strcmp(key, "api_key") == 0)
        key = "api_keys";
    const struct key_def *d = key_find(main_keys, nmain, key);
    if (!d)
        return unknown_key(main_keys, nmain, key, NULL, err, errlen);
    return set_by_def(d, (char *)c, NULL, v, err, errlen);
}

int config_init(struct config *c, const char *ollama_host, char *err, size_t errlen) {
    memset(c, 0, sizeof(*c));
    cur_layer = LAYER_DEFAULT;
    memset(list_layers, 0, sizeof(list_layers));
    c->listen_host = strdup("127.0.0.1");
    c->listen_port = 11435;
    c->upstream = strdup("http://127.0.0.1:11434");
    c->upstream_url = strdup("http://127.0.0.1:11434");
    c->keep_alive = DURATION_FOREVER;
    c->keep_alive_policy = KEEP_ALIVE_OVERRIDE;
    c->ping_interval = 60 * DURATION_SECOND;
    c->log_level = LOG_LEVEL_INFO;
    c->max_body = 32u << 20;
    c->max_line = 16u << 20;
    c->connect_timeout = 5 * DURATION_SECOND;
    c->request_timeout = 0;
    c->read_timeout = 10 * 60 * DURATION_SECOND; /* see docs/configuration.md */
    c->upstream_idle_timeout = 60 * DURATION_SECOND;
    c->admin_api = ADMIN_KEYS;
    c->idle_timeout = 120 * DURATION_SECOND;
    c->header_timeout = 30 * DURATION_SECOND;
    c->body_timeout = 60 * DURATION_SECOND;
    c->shutdown_timeout = 30 * DURATION_SECOND;
    c->max_concurrent = 0;
    c->pin_requested = 0;
    c->max_pinned = 8;
    c->retries = 1;
    c->wait_comment_interval = 5 * DURATION_SECOND;
    if (!c->listen_host || !c->upstream || !c->upstream_url) {
        config_free(c);
        return set_err(err, errlen, "out of memory");
    }
    if (ollama_host && *ollama_host) {
        char e[CONFIG_ERR_LEN];
        if (config_set(c, NULL, "upstream", ollama_host, e, sizeof(e)) < 0) {
            config_free(c);
            return set_err(err, errlen, "OLLAMA_HOST: %s", e);
        }
    }
    return 0;
}

void config_free(struct config *c) {
    free(c->listen_host);
    free(c->upstream);
    free(c->upstream_ca_file);
    free(c->upstream_client_cert);
    free(c->upstream_client_key);
    free(c->upstream_url);
    list_clear(c->upstream_headers, &c->nupstream_headers);
    free(c->config_file);
    free(c->api_keys_file);
    list_clear(c->pins, &c->npins);
    list_clear(c->api_keys, &c->napi_keys);
    list_clear(c->cors_origins, &c->ncors_origins);
    list_clear(c->allowed_hosts, &c->nallowed_hosts);
    for (size_t i = 0; i < c->nmodels; i++) {
        free(c->models[i].name);
        free(c->models[i].key);
        json_decref(c->models[i].options);
    }
    memset(c, 0, sizeof(*c));
}

struct ini_ctx {
    struct config *c;
    char err[CONFIG_ERR_LEN];
};

/* [keepwarm] or [model "NAME"]; returns the model name or "" for the main section, NULL if
 * the section is not one of ours. */
static const char *section_model(const char *section, char *buf, size_t len) {
    if (strcmp(section, "keepwarm") == 0 || section[0] == '\0')
        return "";
    if (strncmp(section, "model", 5) != 0)
        return NULL;
    const char *p = section + 5;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    if (n < 2 || p[0] != '"' || p[n - 1] != '"' || n - 2 >= len)
        return NULL;
    memcpy(buf, p + 1, n - 2);
    buf[n - 2] = '\0';
    return buf;
}

static int on_ini_value(void *user, const char *section, const char *name, const char *value) {
    struct ini_ctx *ctx = user;
    char mbuf[CONFIG_MAX_STRING];
    const char *model = section_model(section, mbuf, sizeof(mbuf));
    if (!model) {
        snprintf(ctx->err, sizeof(ctx->err),
                 "unknown section [%s] (allowed: [keepwarm], [model \"NAME\"])", section);
        return 0;
    }
    if (config_set(ctx->c, *model ? model : NULL, name, value, ctx->err, sizeof(ctx->err)) < 0)
        return 0;
    return 1;
}

/* The file as inih reads it, one line at a time into inih's own buffer (INI_MAX_LINE, 200
 * bytes in Debian's libinih): a line that does not fit would have its tail parsed as a line of
 * its own (a long upstream_header could end in "keep_alive = 0"), so it stops the parse here. */
struct ini_file {
    FILE *f;
    int line;     /* lines handed to inih */
    int too_long; /* the line that did not fit, or 0 */
    int max;      /* the longest line inih can take, in bytes */
};

static char *ini_read_line(char *str, int num, void *stream) {
    struct ini_file *r = stream;
    if (!fgets(str, num, r->f))
        return NULL;
    r->line++;
    if (!strchr(str, '\n') && !feof(r->f)) {
        int ch = getc(r->f); /* a line exactly num - 1 bytes long still has its newline */
        if (ch != '\n' && ch != EOF) {
            r->too_long = r->line;
            r->max = num - 1;
            return NULL;
        }
    }
    return str;
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen) {
    struct ini_ctx ctx = {.c = c, .err = ""};
    struct ini_file r = {.f = fopen(path, "r")};
    if (!r.f)
        return set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    int saved = cur_layer;
    cur_layer = LAYER_FILE;
    int line = ini_parse_stream(ini_read_line, &r, on_ini_value, &ctx);
    cur_layer = saved;
    fclose(r.f);
    if (line == -2)
        return set_err(err, errlen, "%s: out of memory", path);
    if (r.too_long && (line == 0 || line > r.too_long))
        return set_err(err, errlen,
                       "%s:%d: line longer than %d bytes (put a long value, e.g. a token, in the "
                       "environment: KEEPWARM_<KEY>)",
                       path, r.too_long, r.max);
    if (line > 0) {
        if (ctx.err[0])
            return set_err(err, errlen, "%s:%d: %s", path, line, ctx.err);
        return set_err(err, errlen, "%s:%d: syntax error (expected [section] or key = value)", path,
                       line);
    }
    return 0;
}

int config_load_env(struct config *c, char *const *envp, char *err, size_t errlen) {
    int saved = cur_layer, rc = 0;
    cur_layer = LAYER_ENV;
    for (size_t i = 0; envp && envp[i] && rc == 0; i++) {
        if (strncmp(envp[i], "KEEPWARM_", 9) != 0)
            continue;
        const char *eq = strchr(envp[i], '=');
        if (!eq)
            continue;
        char key[64];
        size_t kl = (size_t)(eq - envp[i]) - 9;
        if (kl == 0 || kl >= sizeof(key))
            continue;
        for (size_t k = 0; k < kl; k++)
            key[k] = (char)tolower((unsigned char)envp[i][9 + k]);
        key[kl] = '\0';
        if (strcmp(key, "config") == 0)
            continue; /* handled by config_load */
        if (!key_find(main_keys, sizeof(main_keys) / sizeof(main_keys[0]), key))
            continue; /* other KEEPWARM_* variables (test harness) are not ours to refuse */
        char e[CONFIG_ERR_LEN];
        if (config_set(c, NULL, key, eq + 1, e, sizeof(e)) < 0)
            rc = set_err(err, errlen, "%.*s: %s", (int)(eq - envp[i]), envp[i], e);
    }
    cur_layer = saved;
    return rc;
}

/* api_keys_file: one key per line; blank lines and lines starting with # are skipped. */
static int load_keys_file(struct config *c, char *err, size_t errlen) {
    FILE *f = fopen(c->api_keys_file, "r");
    if (!f)
        return set_err(err, errlen, "api_keys_file: %s: cannot open: %s", c->api_keys_file,
                       strerror(errno));
    char line[CONFIG_MAX_STRING];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        char *k = trim(line);
        if (!*k || *k == '#')
            continue;
        if (strchr(k, ',') || strlen(k) < 8) {
            rc = set_err(err, errlen,
                         "%s:%d: an API key must be at least 8 characters, without commas",
                         c->api_keys_file, lineno);
            break;
        }
        int dup = 0;
        for (size_t i = 0; i < c->napi_keys; i++)
            dup |= strcmp(c->api_keys[i], k) == 0;
        if (dup)
            continue;
        if (c->napi_keys >= CONFIG_MAX_LIST)
            rc = set_err(err, errlen, "%s: more than %d keys", c->api_keys_file, CONFIG_MAX_LIST);
        else if (!(c->api_keys[c->napi_keys++] = strdup(k)))
            rc = set_err(err, errlen, "out of memory");
    }
    fclose(f);
    return rc;
}

const char *config_usage(void) {
    return "usage: keepwarm [-c FILE] [--listen HOST:PORT] [--upstream URL] [--keep-alive "
           "DURATION]\n"
           "                [--keep-alive-policy override|default] [--pin MODEL]...\n"
           "                [--ping-interval DURATION] [--api-key KEY]...\n"
           "                [--log-level debug|info|warn|error] [--check] [--version] [--help]\n"
           "\n"
           "A reverse proxy that keeps Ollama's models loaded: OpenAI requests are rewritten to\n"
           "Ollama's native API with the configured keep_alive and pinned runner options.\n"
           "\n"
           "  -c, --config FILE        INI file ([keepwarm] and [model \"NAME\"] sections)\n"
           "  --listen HOST:PORT       where to listen (default 127.0.0.1:11435)\n"
           "  --upstream URL           Ollama's address (default $OLLAMA_HOST or "
           "http://127.0.0.1:11434)\n"
           "  --keep-alive DURATION    keep_alive injected upstream (default -1, forever)\n"
           "  --keep-alive-policy P    override: always ours; default: only when the client sent "
           "none\n"
           "  --pin MODEL              keep MODEL loaded (repeatable)\n"
           "  --ping-interval DURATION warm-loop period (default 60s)\n"
           "  --api-key KEY            require this key from clients (repeatable)\n"
           "  --log-level LEVEL        debug, info, warn or error (default info)\n"
           "  --check                  validate the configuration and exit\n"
           "  --version, --help\n"
           "\n"
           "Every flag has a KEEPWARM_* environment variable (KEEPWARM_KEEP_ALIVE, KEEPWARM_PIN, "
           "...)\n"
           "and an INI key. Durations use Ollama's syntax: -1, 300, 5m, 1h30m, 500ms.\n";
}

static const struct option long_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"listen", required_argument, NULL, 'l'},
    {"upstream", required_argument, NULL, 'u'},
    {"keep-alive", required_argument, NULL, 'k'},
    {"keep-alive-policy", required_argument, NULL, 'P'},
    {"pin", required_argument, NULL, 'p'},
    {"ping-interval", required_argument, NULL, 'i'},
    {"api-key", required_argument, NULL, 'a'},
    {"log-level", required_argument, NULL, 'L'},
    {"check", no_argument, NULL, 'C'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *flag_key(int opt) {
    switch (opt) {
        case 'l':
            return "listen";
        case 'u':
            return "upstream";
        case 'k':
            return "keep_alive";
        case 'P':
            return "keep_alive_policy";
        case 'p':
            return "pin";
        case 'i':
            return "ping_interval";
        case 'a':
            return "api_keys";
        case 'L':
            return "log_level";
        default:
            return NULL;
    }
}

/* The upstream settings that only make sense together. */
static int check_upstream_tls(const struct config *c, char *err, size_t errlen) {
    if (c->upstream_client == 1 && strncmp(c->upstream, "http://", 7) != 0)
        return set_err(err, errlen,
                       "upstream_client: builtin speaks plain http:// only, and upstream is "
                       "\"%s\" (use upstream_client = auto or curl)",
                       c->upstream);
    if (c->upstream_client_key && !c->upstream_client_cert)
        return set_err(err, errlen, "upstream_client_key: set upstream_client_cert too");
    return 0;
}

int config_load(struct config *c, int argc, char *const *argv, char *const *envp,
                enum config_action *action, char *err, size_t errlen) {
    const char *file = NULL, *ollama_host = NULL;
    int opt;
    *action = CONFIG_RUN;

    for (size_t i = 0; envp && envp[i]; i++) {
        if (strncmp(envp[i], "KEEPWARM_CONFIG=", 16) == 0)
            file = envp[i] + 16;
        else if (strncmp(envp[i], "OLLAMA_HOST=", 12) == 0)
            ollama_host = envp[i] + 12;
    }
    /* First pass: -c and the action flags. */
    optind = 0; /* 0, not 1: also forget glibc's position inside a group of short options */
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:", long_opts, NULL)) != -1) {
        if (opt == 'c')
            file = optarg;
        else if (opt == 'C')
            *action = CONFIG_CHECK;
        else if (opt == 'V')
            *action = CONFIG_VERSION;
        else if (opt == 'h')
            *action = CONFIG_HELP;
        else if (opt == '?') {
            /* a short option inside a group (-Cx) has no argv entry of its own */
            if (optopt && optopt != '?')
                return set_err(err, errlen, "unknown option \"-%c\" (see --help)", optopt);
            return set_err(err, errlen, "unknown option \"%s\" (see --help)", argv[optind - 1]);
        } else if (opt == ':')
            return set_err(err, errlen, "option \"%s\" needs a value", argv[optind - 1]);
    }
    if (optind < argc)
        return set_err(err, errlen, "unexpected argument \"%s\" (see --help)", argv[optind]);
    if (config_init(c, ollama_host, err, errlen) < 0)
        return -1;
    if (*action == CONFIG_HELP || *action == CONFIG_VERSION)
        return 0;
    if (file) {
        if (!(c->config_file = strdup(file)))
            goto oom;
        if (config_load_file(c, file, err, errlen) < 0)
            goto fail;
    }
    if (config_load_env(c, envp, err, errlen) < 0)
        goto fail;
    /* Second pass: the flags, highest layer. */
    cur_layer = LAYER_FLAGS;
    optind = 0; /* 0, not 1: also forget glibc's position inside a group of short options */
    int idx = 0;
    while ((opt = getopt_long(argc, argv, ":c:", long_opts, &idx)) != -1) {
        const char *key = flag_key(opt);
        char e[CONFIG_ERR_LEN];
        if (!key)
            continue;
        if (config_set(c, NULL, key, optarg, e, sizeof(e)) < 0) {
            cur_layer = LAYER_DEFAULT;
            set_err(err, errlen, "--%s: %s", long_opts[idx].name, e);
            goto fail;
        }
    }
    cur_layer = LAYER_DEFAULT;
    if (c->api_keys_file && load_keys_file(c, err, errlen) < 0)
        goto fail;
    if (check_upstream_tls(c, err, errlen) < 0)
        goto fail;
    return 0;
oom:
    set_err(err, errlen, "out of memory");
fail:
    config_free(c);
    return -1;
}
