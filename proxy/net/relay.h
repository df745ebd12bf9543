/* relay: one client request <-> one upstream transfer. Owns the reply to the client from the
 * moment relay_start is called: status mapping, streaming (NDJSON passthrough, or the lines the
 * request's endpoint translates; one flushed chunk per upstream read), backpressure (pause
 * Ollama when the client reads slowly), client disconnects (cancel the transfer so Ollama
 * stops), and the error answers. What an answer looks like is the endpoint's business
 * (endpoint.h): the relay names no API.
 *
 * Lifetime: a relay has two sides, each of which lets go of it once: the client side (the
 * reply is complete, or the connection is gone) and the upstream side (the transfer is done,
 * with no retry started, or cancelled). Neither side frees it: once both have let go, one
 * deferred event frees it after the callback that let go last has returned, so no code path
 * can use a freed relay. relay_env_close frees what is left when the loop has stopped. */
#ifndef KEEPWARM_RELAY_H
#define KEEPWARM_RELAY_H

#include <event2/http.h>
#include <jansson.h>

#include "config.h"
#include "endpoint.h"
#include "upstream.h"

/* What every relay needs from the process; owned by main, outlives every relay. */
struct relay_env {
    struct event_base *base; /* runs each relay's deferred free */
    const struct config *cfg;
    struct upstream *up;
    unsigned long long active; /* relays alive */
    long idle_timeout_s;       /* client idle timeout; also the stalled-writer timeout */
    struct relay *live;        /* every relay alive, for relay_env_close */
};

struct relay_request {
    const struct endpoint *ep; /* the API: its answers, streams, errors and metrics route */
    const char *method;        /* upstream method */
    const char *path;          /* upstream path and query */
    const char *body;          /* upstream body (copied by the relay), or NULL */
    char *body_owned;          /* or a malloc'd body the relay takes over, no copy */
    size_t body_len;
    struct endpoint_meta meta; /* stream, include_usage, encoding; meta.echo taken over */
    const char *model;         /* for the endpoint's answers and the logs (copied); may be NULL */
    char *model_owned;         /* or a malloc'd model name the relay takes over, no copy */
    const char *request_id;    /* the X-Request-Id the client is answered with: logged, and
                                * the first header Ollama gets (a client's X-Request-Id line
                                * is never copied); may be NULL */
    int json_body;             /* body was re-encoded by keepwarm: send Content-Type json */
    long *inflight;            /* per-model counter, held while the relay lives (at most until
                                * relay_env_close); may be NULL */
    /* Called at most once, with model, when Ollama answers with a 2xx status (the model is
     * one Ollama has); may be NULL. ok_arg is passed back and must outlive the relay. */
    void (*on_upstream_ok)(void *ok_arg, const char *model);
    void *ok_arg;
    /* Called with model, Ollama's status (200 for an error line in a stream) and its error
     * text (NUL-terminated, cut at 1 KiB) when Ollama answers an error: 4xx and 5xx answers,
     * the error line that ends a translated stream, and a read of a passed-through stream
     * that begins with {"error": (how Ollama writes one); may be NULL. Gets ok_arg. */
    void (*on_upstream_error)(void *ok_arg, const char *model, int status, const char *text);
};

/* Starts relaying req. From here on the relay answers req exactly once (also on failure). */
void relay_start(struct relay_env *env, struct evhttp_request *req, const struct relay_request *rr);

/* Teardown, once the loop has stopped and the client connections are gone (evhttp_free):
 * cancels every transfer left and frees every relay, whatever its sides say, so that none
 * outlives what it borrows from its requester (the in-flight counter, ok_arg). */
void relay_env_close(struct relay_env *env);

/* Answers req with an error in ep's envelope (code may be NULL). */
void relay_reply_error(struct evhttp_request *req, const struct endpoint *ep, int status,
                       const char *message, const char *code);

/* Answers req with a JSON value (borrowed) and status. */
void relay_reply_json(struct evhttp_request *req, int status, const json_t *value);

#endif
