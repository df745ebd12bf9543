/* endpoint: the routing table (method and path -> entry, or the 404/405 a family answers) and
 * the JSON appender the entries share. The entries themselves live in ep_*.c. */
#include "endpoint.h"

#include <string.h>

enum match { EXACT, PREFIX };

#define M_ANY  0u
#define M_GET  ((unsigned)EVHTTP_REQ_GET)
#define M_HEAD ((unsigned)EVHTTP_REQ_HEAD)
#define M_POST ((unsigned)EVHTTP_REQ_POST)

/* One row: requests whose path matches (and method is in methods, M_ANY for all) go to ep, or,
 * with a status, are answered with status and message in ep's envelope. The first row that
 * matches wins, as nginx's locations in order. */
struct route {
    const char *path;
    enum match match;
    unsigned methods;
    const struct endpoint *ep;
    int status;
    const char *message;
};

static const struct route routes[] = {
    {"/v1/chat/completions", EXACT, M_POST, &endpoint_openai_chat, 0, NULL},
    {"/v1/completions", EXACT, M_POST, &endpoint_openai_completions, 0, NULL},
    {"/v1/embeddings", EXACT, M_POST, &endpoint_openai_embeddings, 0, NULL},
    {"/v1/models", EXACT, M_GET, &endpoint_openai_models, 0, NULL},
    {"/v1/models/", PREFIX, M_GET, &endpoint_openai_model, 0, NULL}, /* ids may hold '/' */
    {"/v1/messages", EXACT, M_POST, &endpoint_anthropic_messages, 0, NULL},
    {"/v1/messages/count_tokens", EXACT, M_POST, &endpoint_anthropic_count_tokens, 0, NULL},
    {"/v1/messages", EXACT, M_ANY, &endpoint_anthropic_messages, 405, "method not allowed"},
    {"/v1/messages/count_tokens", EXACT, M_ANY, &endpoint_anthropic_messages, 405,
     "method not allowed"},
    {"/v1/responses", EXACT, M_POST, &endpoint_openai_responses, 0, NULL},
    {"/v1/responses", EXACT, M_ANY, &endpoint_openai_chat, 405, "method not allowed"},
    {"/v1/chat/completions", EXACT, M_ANY, &endpoint_openai_chat, 405, "method not allowed"},
    {"/v1/completions", EXACT, M_ANY, &endpoint_openai_chat, 405, "method not allowed"},
    {"/v1/embeddings", EXACT, M_ANY, &endpoint_openai_chat, 405, "method not allowed"},
    {"/v1/models", PREFIX, M_ANY, &endpoint_openai_chat, 405, "method not allowed"},
    /* every other /v1/ path: Ollama's next endpoint must not break behind keepwarm */
    {"/v1/", PREFIX, M_ANY, &endpoint_openai_pass, 0, NULL},
    {"/api/generate", EXACT, M_POST, &endpoint_native_inject, 0, NULL},
    {"/api/chat", EXACT, M_POST, &endpoint_native_inject, 0, NULL},
    {"/api/embed", EXACT, M_POST, &endpoint_native_inject, 0, NULL},
    {"/api/embeddings", EXACT, M_POST, &endpoint_native_inject, 0, NULL},
    {"/api/", PREFIX, M_ANY, &endpoint_native_pass, 0, NULL},
    {"/", EXACT, M_GET | M_HEAD, &endpoint_native_pass, 0, NULL},
    {"", PREFIX, M_ANY, &endpoint_native_pass, 404, "404 page not found"},
};

static int route_matches(const struct route *rt, enum evhttp_cmd_type method, const char *path) {
    if (rt->methods != M_ANY && !(rt->methods & (unsigned)method))
        return 0;
    if (rt->match == EXACT)
        return strcmp(path, rt->path) == 0;
    return strncmp(path, rt->path, strlen(rt->path)) == 0;
}

/* Is path, less its one trailing '/', the path of an EXACT row for a translated entry (any
 * method)? Such a path must not slip past the translation as a passthrough: Ollama's router
 * would redirect it to the translated route (gin's RedirectTrailingSlash), and no Ollama
 * version may serve it raw, without keepwarm's keep_alive and options. */
static int translated_with_slash(const char *path) {
    size_t n = strlen(path);
    if (n < 2 || path[n - 1] != '/')
        return 0;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *rt = &routes[i];
        if (rt->match == EXACT && !(rt->ep->flags & EP_PASSTHROUGH) && strlen(rt->path) == n - 1 &&
            strncmp(path, rt->path, n - 1) == 0)
            return 1;
    }
    return 0;
}

const struct endpoint *endpoint_route(enum evhttp_cmd_type method, const char *path, int *status,
                                      const char **message, const struct endpoint **errors) {
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *rt = &routes[i];
        if (!route_matches(rt, method, path))
            continue;
        if (!rt->status && rt->ep == &endpoint_openai_pass && translated_with_slash(path)) {
            *status = 404;
            *message = "unknown endpoint (no trailing '/' on this path)";
            *errors = endpoint_errors_for(path); /* /v1/messages/: Anthropic's */
            return NULL;
        }
        if (!rt->status)
            return rt->ep;
        *status = rt->status;
        *message = rt->message;
        *errors = rt->ep;
        return NULL;
    }
    *status = 404; /* not reached: the last row matches every path */
    *message = "404 page not found";
    *errors = &endpoint_native_pass;
    return NULL;
}

const struct endpoint *endpoint_errors_for(const char *path) {
    if (strncmp(path, "/v1/messages", 12) == 0 && strchr("/?#", path[12]))
        return &endpoint_anthropic_messages; /* path[12] may be the NUL: strchr finds it */
    return strncmp(path, "/v1/", 4) == 0 ? &endpoint_openai_chat : &endpoint_native_pass;
}

int endpoint_takes_zstd(const struct endpoint *ep) {
    return (ep->flags & EP_JSON_BODY) && !(ep->flags & EP_PASSTHROUGH);
}

/* jansson calls the dump callback once per token, and evbuffer_add per token costs more than
 * the dump itself: tokens gather in a stack buffer that goes to out whole when full and at the
 * end. One dump, whatever the size (a stack attempt that overflowed used to dump a large value
 * a second time). */
struct json_sink {
    struct evbuffer *out;
    size_t n;
    char buf[16384];
};

static int sink_flush(struct json_sink *k) {
    int rc = k->n ? evbuffer_add(k->out, k->buf, k->n) : 0;
    k->n = 0;
    return rc;
}

static int sink_add(const char *p, size_t len, void *arg) {
    struct json_sink *k = arg;
    if (k->n + len > sizeof(k->buf) && sink_flush(k) < 0)
        return -1;
    if (len > sizeof(k->buf))
        return evbuffer_add(k->out, p, len);
    memcpy(k->buf + k->n, p, len);
    k->n += len;
    return 0;
}

void endpoint_add_json(struct evbuffer *out, const json_t *v) {
    struct json_sink k;
    k.out = out;
    k.n = 0;
    if (json_dump_callback(v, sink_add, &k, JSON_COMPACT) == 0)
        sink_flush(&k);
}

void endpoint_note_tokens(struct endpoint_usage *usage, const json_t *native) {
    if (!json_is_true(json_object_get(native, "done")))
        return;
    usage->prompt_tokens =
        (long long)json_integer_value(json_object_get(native, "prompt_eval_count"));
    usage->completion_tokens = (long long)json_integer_value(json_object_get(native, "eval_count"));
}
