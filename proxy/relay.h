/* relay: one client request <-> one upstream transfer. Owns the reply to the client from the
 * moment relay_start is called: status mapping, streaming (NDJSON passthrough or OpenAI SSE,
 * one flushed chunk per upstream read), backpressure (pause Ollama when the client reads
 * slowly), client disconnects (cancel the transfer so Ollama stops), and the error answers.
 *
 * Lifetime: a relay is freed when both sides have let go — the upstream transfer is over
 * (done or cancelled) and the client side is finished (reply complete or connection gone). */
#ifndef KEEPWARM_RELAY_H
#define KEEPWARM_RELAY_H

#include <event2/http.h>
#include <jansson.h>

#include "config.h"
#include "metrics.h"
#include "openai.h"
#include "upstream.h"

enum relay_kind {
    RELAY_RAW = 0,    /* native passthrough: status, Content-Type and bytes as Ollama sent them */
    RELAY_CHAT,       /* /api/chat answer -> chat.completion or SSE chunks */
    RELAY_COMPLETION, /* /api/generate answer -> text_completion or SSE chunks */
    RELAY_EMBED,      /* /api/embed answer -> embeddings list */
    RELAY_MODELS,     /* /api/tags answer -> model list */
    RELAY_MODEL,      /* /api/show answer -> one model */
};

/* What every relay needs from the process; owned by main, outlives every relay. */
struct relay_env {
    const struct config *cfg;
    struct upstream *up;
    unsigned long long active; /* relays alive */
    long idle_timeout_s;       /* client idle timeout; also the stalled-writer timeout */
};

struct relay_request {
    enum relay_kind kind;
    const char *method; /* upstream method */
    const char *path;   /* upstream path and query */
    const char *body;   /* upstream body (copied by the relay), or NULL */
    char *body_owned;   /* or a malloc'd body the relay takes over, no copy */
    size_t body_len;
    struct openai_meta meta;  /* stream, include_usage, encoding */
    const char *model;        /* for RELAY_EMBED/RELAY_MODEL answers and logs; may be NULL */
    enum metrics_route route; /* for keepwarm_requests_total */
    int json_body;            /* body was re-encoded by keepwarm: send Content-Type json */
    long *inflight;           /* per-model counter, held while the relay lives; may be NULL */
    /* Called at most once, with model, when Ollama answers with a 2xx status (the model is
     * one Ollama has); may be NULL. ok_arg is passed back and must outlive the relay. */
    void (*on_upstream_ok)(void *ok_arg, const char *model);
    void *ok_arg;
};

/* Starts relaying req. From here on the relay answers req exactly once (also on failure). */
void relay_start(struct relay_env *env, struct evhttp_request *req, const struct relay_request *rr);

/* Answers req with an error in the endpoint's format: the OpenAI envelope when openai is set
 * (code may be NULL), {"error": message} otherwise. */
void relay_reply_error(struct evhttp_request *req, int openai, int status, const char *message,
                       const char *code);

/* Answers req with a JSON value (borrowed) and status. */
void relay_reply_json(struct evhttp_request *req, int status, const json_t *value);

#endif
