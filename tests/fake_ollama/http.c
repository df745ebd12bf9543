/* http: the evhttp server of the stand-in. Owns the listener and the route table, reads and
 * parses each request body once, logs native requests for /_fake/requests, applies Ollama's
 * middleware (gin-contrib/cors with Ollama's allowed origins, then allowedHostsMiddleware),
 * and answers the small native endpoints (/, version, tags, ps, show, pull, ...). Inference
 * endpoints go to gen.c, /_fake/ to control.c. */
#include "http.h"

#include "catalog.h"
#include "control.h"
#include "flog.h"
#include "gen.h"
#include "sched.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { M_GET = 1, M_POST = 2, M_HEAD = 4, M_DELETE = 8 };

typedef void route_fn(struct fake *f, struct evhttp_request *req, const struct http_body *body);

struct route {
    const char *path;
    int prefix;
    int methods;
    route_fn *fn;
};

/* ---- replies ---- */

static void send_buffer(struct evhttp_request *req, int status, const char *ctype,
                        struct evbuffer *buf) {
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (ctype)
        evhttp_add_header(h, "Content-Type", ctype);
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        /* headers only, but with the length a GET would have had, as net/http does */
        char len[32];
        snprintf(len, sizeof(len), "%zu", evbuffer_get_length(buf));
        evhttp_add_header(h, "Content-Length", len);
        evbuffer_drain(buf, evbuffer_get_length(buf));
    }
    evhttp_send_reply(req, status, NULL, buf);
}

void http_reply_json_flags(struct evhttp_request *req, int status, json_t *body, size_t flags) {
    struct evbuffer *buf = evbuffer_new();
    if (!buf || !body) {
        if (buf)
            evbuffer_free(buf);
        json_decref(body);
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    json_dump_callback(body, util_dump_to_evbuffer, buf, JSON_COMPACT | flags);
    json_decref(body);
    send_buffer(req, status, "application/json; charset=utf-8", buf);
    evbuffer_free(buf);
}

void http_reply_json(struct evhttp_request *req, int status, json_t *body) {
    http_reply_json_flags(req, status, body, 0);
}

void http_reply_error(struct evhttp_request *req, int status, const char *msg) {
    http_reply_json(req, status, json_pack("{s:s}", "error", msg));
}

void http_reply_text(struct evhttp_request *req, int status, const char *content_type,
                     const char *text) {
    struct evbuffer *buf = evbuffer_new();
    if (!buf) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    evbuffer_add(buf, text, strlen(text));
    send_buffer(req, status, content_type, buf);
    evbuffer_free(buf);
}

/* Lines of NDJSON in one reply (pull, push, create: progress that completes at once). */
static void reply_ndjson(struct evhttp_request *req, json_t *lines) {
    struct evbuffer *buf = evbuffer_new();
    size_t i;
    json_t *line;
    json_array_foreach(lines, i, line) {
        json_dump_callback(line, util_dump_to_evbuffer, buf, JSON_COMPACT);
        evbuffer_add(buf, "\n", 1);
    }
    json_decref(lines);
    send_buffer(req, 200, "application/x-ndjson", buf);
    evbuffer_free(buf);
}

/* ---- Ollama's middleware ---- */

static int ip_is_local_iface(const struct sockaddr_storage *ss) {
    struct ifaddrs *ifs, *it;
    int found = 0;
    if (getifaddrs(&ifs) != 0)
        return 0;
    for (it = ifs; it && !found; it = it->ifa_next) {
        if (!it->ifa_addr || it->ifa_addr->sa_family != ss->ss_family)
            continue;
        if (ss->ss_family == AF_INET)
            found = ((struct sockaddr_in *)it->ifa_addr)->sin_addr.s_addr ==
                    ((const struct sockaddr_in *)ss)->sin_addr.s_addr;
        else
            found = !memcmp(&((struct sockaddr_in6 *)it->ifa_addr)->sin6_addr,
                            &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    }
    freeifaddrs(ifs);
    return found;
}

/* netip: IsLoopback || IsPrivate || IsUnspecified || isLocalIP. -1 when s is not an IP. */
static int ip_allowed(const char *s) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    unsigned char *b;
    struct in6_addr a6;
    struct in_addr a4;
    if (inet_pton(AF_INET, s, &a4) == 1) {
        ss.ss_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_addr = a4;
        b = (unsigned char *)&a4;
    } else if (inet_pton(AF_INET6, s, &a6) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(a6.s6_addr, mapped, 12)) {
            memcpy(&a4, a6.s6_addr + 12, 4);
            ss.ss_family = AF_INET;
            ((struct sockaddr_in *)&ss)->sin_addr = a4;
            b = (unsigned char *)&a4;
        } else {
            static const unsigned char zero[16], one[16] = {[15] = 1};
            if (!memcmp(a6.s6_addr, zero, 16) || !memcmp(a6.s6_addr, one, 16) ||
                (a6.s6_addr[0] & 0xfe) == 0xfc)
                return 1;
            ss.ss_family = AF_INET6;
            ((struct sockaddr_in6 *)&ss)->sin6_addr = a6;
            return ip_is_local_iface(&ss);
        }
    } else {
        return -1;
    }
    if (b[0] == 127 || b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
        (b[0] == 192 && b[1] == 168) || (b[0] | b[1] | b[2] | b[3]) == 0)
        return 1;
    return ip_is_local_iface(&ss);
}

static int suffix_is(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* allowedHostsMiddleware: 1 allow, 0 forbid. */
static int host_allowed(struct fake *f, const char *hosthdr) {
    char host[256];
    if (!f->listen_loopback || !hosthdr)
        return 1;
    size_t n = strlen(hosthdr);
    if (n >= sizeof(host))
        return 0;
    memcpy(host, hosthdr, n + 1);
    /* net.SplitHostPort; on error the whole Host is used */
    if (host[0] == '[') {
        char *end = strchr(host, ']');
        if (end && end[1] == ':') {
            *end = '\0';
            memmove(host, host + 1, strlen(host + 1) + 1);
        }
    } else {
        char *colon = strchr(host, ':');
        if (colon && !strchr(colon + 1, ':'))
            *colon = '\0';
    }
    int ip = ip_allowed(host);
    if (ip == 1)
        return 1;
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    char hostname[256] = "";
    gethostname(hostname, sizeof(hostname) - 1);
    for (char *p = hostname; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return host[0] == '\0' || strcmp(host, "localhost") == 0 ||
           (hostname[0] && strcmp(host, hostname) == 0) || suffix_is(host, ".localhost") ||
           suffix_is(host, ".local") || suffix_is(host, ".internal");
}

/* gin-contrib/cors with envconfig.AllowedOrigins() (wildcards, browser extensions). */
static int origin_allowed(const char *origin, const char *host) {
    static const char *const exact[] = {"http://localhost",
                                        "https://localhost",
                                        "http://127.0.0.1",
                                        "https://127.0.0.1",
                                        "http://0.0.0.0",
                                        "https://0.0.0.0",
                                        NULL};
    static const char *const prefixes[] = {"http://localhost:",
                                           "https://localhost:",
                                           "http://127.0.0.1:",
                                           "https://127.0.0.1:",
                                           "http://0.0.0.0:",
                                           "https://0.0.0.0:",
                                           "app://",
                                           "file://",
                                           "tauri://",
                                           "vscode-webview://",
                                           "vscode-file://",
                                           "chrome-extension://",
                                           "safari-extension://",
                                           "moz-extension://",
                                           "ms-browser-extension://",
                                           NULL};
    if (host) {
        char same[300];
        snprintf(same, sizeof(same), "http://%s", host);
        if (strcmp(origin, same) == 0)
            return 1;
        snprintf(same, sizeof(same), "https://%s", host);
        if (strcmp(origin, same) == 0)
            return 1;
    }
    for (size_t i = 0; exact[i]; i++) {
        if (strcmp(origin, exact[i]) == 0)
            return 1;
    }
    for (size_t i = 0; prefixes[i]; i++) {
        if (strncmp(origin, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    }
    return 0;
}

/* ---- native endpoints ---- */

static void h_root(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    (void)f;
    (void)body;
    http_reply_text(req, 200, "text/plain; charset=utf-8", "Ollama is running");
}

static void h_version(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    (void)f;
    (void)body;
    http_reply_json(req, 200, json_pack("{s:s}", "version", FAKE_OLLAMA_VERSION));
}

static void h_status(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    (void)f;
    (void)body;
    http_reply_json(req, 200,
                    json_pack("{s:{s:b, s:s}}", "cloud", "disabled", 0, "source", "default"));
}

static void h_tags(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    (void)body;
    http_reply_json(req, 200, catalog_tags_json(f->catalog));
}

static void h_ps(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    (void)body;
    http_reply_json(req, 200, sched_ps_json(f->sched));
}

/* The common start of the model-management handlers: a JSON object body. */
static const json_t *object_body(struct evhttp_request *req, const struct http_body *body,
                                 const char *gotype, const json_t *empty) {
    char err[256];
    if (body->blank) {
        http_reply_error(req, 400, "missing request body");
        return NULL;
    }
    if (!body->json) {
        http_reply_error(req, 400, body->error);
        return NULL;
    }
    if (json_is_null(body->json))
        return empty; /* Go binds null to the zero request */
    if (!json_is_object(body->json)) {
        snprintf(err, sizeof(err), "json: cannot unmarshal %s into Go value of type api.%s",
                 json_is_array(body->json) ? "array" : "value", gotype);
        http_reply_error(req, 400, err);
        return NULL;
    }
    return body->json;
}

/* "model", else the legacy "name"; "" when neither. */
static const char *model_or_name(const json_t *in) {
    const char *s = json_string_value(json_object_get(in, "model"));
    if (!s || !*s)
        s = json_string_value(json_object_get(in, "name"));
    return s ? s : "";
}

static void h_show(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    const json_t *in = object_body(req, body, "ShowRequest", f->empty);
    if (!in)
        return;
    const char *name = model_or_name(in);
    if (!*name) {
        http_reply_error(req, 400, "model is required");
        return;
    }
    struct model *m = catalog_find(f->catalog, name);
    if (!m) {
        char msg[1024];
        snprintf(msg, sizeof(msg), "model '%s' not found", name);
        http_reply_error(req, 404, msg);
        return;
    }
    http_reply_json(req, 200, catalog_show_json(m));
}

static void progress_reply(struct evhttp_request *req, const json_t *in, json_t *lines,
                           const char *error) {
    int stream = !json_is_false(json_object_get(in, "stream"));
    if (!stream) {
        json_decref(lines);
        if (error)
            http_reply_error(req, 500, error);
        else
            http_reply_json(req, 200, json_pack("{s:s}", "status", "success"));
        return;
    }
    if (error)
        json_array_append_new(lines, json_pack("{s:s}", "error", error));
    else
        json_array_append_new(lines, json_pack("{s:s}", "status", "success"));
    reply_ndjson(req, lines);
}

static void h_pull(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    const json_t *in = object_body(req, body, "PullRequest", f->empty);
    if (!in)
        return;
    struct model *m = catalog_find(f->catalog, model_or_name(in));
    json_t *lines = json_pack("[{s:s}]", "status", "pulling manifest");
    if (m) {
        json_array_append_new(lines, json_pack("{s:s, s:s, s:I, s:I}", "status", "pulling model",
                                               "digest", m->digest, "total", (json_int_t)m->size,
                                               "completed", (json_int_t)m->size));
        json_array_append_new(lines, json_pack("{s:s}", "status", "verifying sha256 digest"));
        json_array_append_new(lines, json_pack("{s:s}", "status", "writing manifest"));
    }
    progress_reply(req, in, lines, m ? NULL : "pull model manifest: file does not exist");
}

static void h_push(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    const json_t *in = object_body(req, body, "PushRequest", f->empty);
    if (!in)
        return;
    const char *name = model_or_name(in);
    if (!*name) {
        http_reply_error(req, 400, "model is required");
        return;
    }
    int known = catalog_find(f->catalog, name) != NULL;
    progress_reply(req, in, json_pack("[{s:s}]", "status", "retrieving manifest"),
                   known ? NULL : "open: no such file or directory");
}

static void h_create(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    (void)f;
    const json_t *in = object_body(req, body, "CreateRequest", f->empty);
    if (!in)
        return;
    if (!*model_or_name(in)) {
        http_reply_error(req, 400, "model is required");
        return;
    }
    progress_reply(req, in, json_pack("[{s:s}]", "status", "writing manifest"), NULL);
}

static void h_copy(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    const json_t *in = object_body(req, body, "CopyRequest", f->empty);
    if (!in)
        return;
    const char *src = json_string_value(json_object_get(in, "source"));
    const char *dst = json_string_value(json_object_get(in, "destination"));
    char msg[1024];
    if (!src || catalog_name_valid(src) != 0) {
        snprintf(msg, sizeof(msg), "source \"%s\" is invalid", src ? src : "");
        http_reply_error(req, 400, msg);
    } else if (!dst || catalog_name_valid(dst) != 0) {
        snprintf(msg, sizeof(msg), "destination \"%s\" is invalid", dst ? dst : "");
        http_reply_error(req, 400, msg);
    } else if (!catalog_find(f->catalog, src)) {
        snprintf(msg, sizeof(msg), "model \"%s\" not found", src);
        http_reply_error(req, 404, msg);
    } else {
        http_reply_text(req, 200, NULL, ""); /* copies are not kept: the catalog is fixed */
    }
}

static void h_delete(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    const json_t *in = object_body(req, body, "DeleteRequest", f->empty);
    if (!in)
        return;
    const char *name = model_or_name(in);
    if (!catalog_find(f->catalog, name)) {
        char msg[1024];
        snprintf(msg, sizeof(msg), "model '%s' not found", name);
        http_reply_error(req, 404, msg);
        return;
    }
    http_reply_text(req, 200, NULL, ""); /* not actually removed: the catalog is fixed */
}

static void h_blobs(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    (void)f;
    (void)body;
    const char *uri = evhttp_request_get_uri(req);
    const char *digest = uri + strlen("/api/blobs/");
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        char msg[512];
        snprintf(msg, sizeof(msg), "blob \"%.*s\" not found", (int)strcspn(digest, "?"), digest);
        http_reply_error(req, 404, msg);
    } else {
        http_reply_text(req, 201, NULL, "");
    }
}

static void h_generate(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    gen_handle(f, req, GEN_GENERATE, body);
}

static void h_chat(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    gen_handle(f, req, GEN_CHAT, body);
}

static void h_embed(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    gen_handle(f, req, GEN_EMBED, body);
}

static void h_embeddings(struct fake *f, struct evhttp_request *req, const struct http_body *body) {
    gen_handle(f, req, GEN_EMBEDDINGS, body);
}

static const struct route routes[] = {
    {"/", 0, M_GET | M_HEAD, h_root},
    {"/api/version", 0, M_GET | M_HEAD, h_version},
    {"/api/status", 0, M_GET, h_status},
    {"/api/tags", 0, M_GET | M_HEAD, h_tags},
    {"/api/ps", 0, M_GET, h_ps},
    {"/api/show", 0, M_POST, h_show},
    {"/api/generate", 0, M_POST, h_generate},
    {"/api/chat", 0, M_POST, h_chat},
    {"/api/embed", 0, M_POST, h_embed},
    {"/api/embeddings", 0, M_POST, h_embeddings},
    {"/api/pull", 0, M_POST, h_pull},
    {"/api/push", 0, M_POST, h_push},
    {"/api/create", 0, M_POST, h_create},
    {"/api/copy", 0, M_POST, h_copy},
    {"/api/delete", 0, M_DELETE, h_delete},
    {"/api/blobs/", 1, M_POST | M_HEAD, h_blobs},
    {NULL, 0, 0, NULL},
};

static int method_bit(enum evhttp_cmd_type cmd) {
    switch (cmd) {
        case EVHTTP_REQ_GET:
            return M_GET;
        case EVHTTP_REQ_POST:
            return M_POST;
        case EVHTTP_REQ_HEAD:
            return M_HEAD;
        case EVHTTP_REQ_DELETE:
            return M_DELETE;
        default:
            return 0;
    }
}

/* ---- dispatch ---- */

static void body_read(struct evhttp_request *req, struct http_body *b) {
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    memset(b, 0, sizeof(*b));
    b->len = evbuffer_get_length(in);
    b->data = b->len ? (const char *)evbuffer_pullup(in, -1) : "";
    b->blank = 1;
    for (size_t i = 0; i < b->len; i++) {
        if (!isspace((unsigned char)b->data[i])) {
            b->blank = 0;
            break;
        }
    }
    if (b->blank)
        return;
    json_error_t e;
    b->json = json_loadb(b->data, b->len, JSON_DECODE_ANY, &e);
    if (!b->json)
        snprintf(b->error, sizeof(b->error), "invalid JSON: %s (line %d, column %d)", e.text,
                 e.line, e.column);
}

static void serve_native(struct fake *f, struct evhttp_request *req, const char *uri,
                         const struct http_body *body) {
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    const char *host = evhttp_find_header(in, "Host");
    const char *origin = evhttp_find_header(in, "Origin");
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

    if (origin && *origin) {
        if (!origin_allowed(origin, host)) {
            evhttp_send_reply(req, 403, "Forbidden", NULL);
            return;
        }
        evhttp_add_header(out, "Access-Control-Allow-Origin", origin);
        evhttp_add_header(out, "Vary", "Origin");
        if (cmd == EVHTTP_REQ_OPTIONS) {
            evhttp_add_header(out, "Access-Control-Allow-Methods",
                              "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS");
            evhttp_add_header(out, "Access-Control-Allow-Headers",
                              "Authorization,Content-Type,User-Agent,Accept,X-Requested-With");
            evhttp_add_header(out, "Access-Control-Max-Age", "43200");
            evhttp_send_reply(req, 204, "No Content", NULL);
            return;
        }
    }
    if (!host_allowed(f, host)) {
        evhttp_send_reply(req, 403, "Forbidden", NULL);
        return;
    }
    size_t plen = strcspn(uri, "?");
    int bit = method_bit(cmd), path_known = 0;
    for (const struct route *r = routes; r->path; r++) {
        size_t rl = strlen(r->path);
        int match = r->prefix ? plen > rl && strncmp(uri, r->path, rl) == 0
                              : plen == rl && strncmp(uri, r->path, rl) == 0;
        if (!match)
            continue;
        path_known = 1;
        if (r->methods & bit) {
            r->fn(f, req, body);
            return;
        }
    }
    if (path_known)
        http_reply_text(req, 405, "text/plain", "405 method not allowed");
    else
        http_reply_text(req, 404, "text/plain", "404 page not found");
}

static void on_request(struct evhttp_request *req, void *arg) {
    struct fake *f = arg;
    const char *uri = evhttp_request_get_uri(req);
    struct http_body body;
    body_read(req, &body);
    if (strncmp(uri, "/_fake/", 7) == 0) {
        char path[64];
        snprintf(path, sizeof(path), "%.*s", (int)strcspn(uri, "?"), uri);
        control_handle(f, req, path, &body);
    } else {
        f->stats.requests++;
        control_log_request(f->control, req, uri, &body);
        serve_native(f, req, uri, &body);
    }
    json_decref(body.json);
}

int http_start(struct fake *f, const char *host, int port, char *err, size_t errlen) {
    f->http = evhttp_new(f->base);
    if (!f->http) {
        snprintf(err, errlen, "evhttp_new failed");
        return -1;
    }
    evhttp_set_max_body_size(f->http, HTTP_MAX_BODY);
    evhttp_set_allowed_methods(f->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_default_content_type(f->http, "text/plain; charset=utf-8");
    evhttp_set_gencb(f->http, on_request, f);
    struct evhttp_bound_socket *bound =
        evhttp_bind_socket_with_handle(f->http, host, (ev_uint16_t)port);
    if (!bound) {
        snprintf(err, errlen, "cannot listen on %s:%d", host, port);
        return -1;
    }
    /* Go's net package sets TCP_NODELAY on every connection; accepted sockets inherit it
     * from the listener on Linux. Without it, token lines written one per loop iteration
     * meet the client's delayed ACK (40 ms per stream). */
    int one = 1;
    setsockopt(evhttp_bound_socket_get_fd(bound), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* Go listens with the backlog net.core.somaxconn allows (evhttp's is 128). */
    listen(evhttp_bound_socket_get_fd(bound), 4096);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char ip[INET6_ADDRSTRLEN] = "?";
    int real_port = port;
    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip));
            real_port = ntohs(sa->sin_port);
            f->listen_loopback = (ntohl(sa->sin_addr.s_addr) >> 24) == 127;
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &sa->sin6_addr, ip, sizeof(ip));
            real_port = ntohs(sa->sin6_port);
            f->listen_loopback = IN6_IS_ADDR_LOOPBACK(&sa->sin6_addr);
        }
    }
    snprintf(f->listen_addr, sizeof(f->listen_addr), strchr(ip, ':') ? "[%s]:%d" : "%s:%d", ip,
             real_port);
    printf("listening %s\n", f->listen_addr);
    fflush(stdout);
    flog_info("msg=\"listening\" addr=%s", f->listen_addr);
    return 0;
}

void http_stop(struct fake *f) {
    if (f->http)
        evhttp_free(f->http);
    f->http = NULL;
}
