/* endpoint: one operations struct per API keepwarm serves, and the one table that routes a
 * method and path to it. An entry says where its requests go on Ollama (native method and
 * path), how a client body becomes the native body (a fast path on the client's bytes, and
 * the jansson translation), how Ollama's answer comes back (a buffered answer, or a stream: its
 * state, one line at a time, its end), and the API's error envelope. The relay calls these
 * hooks and moves bytes; it names no API. curl's vtls backends are the model: adding an API is
 * one new file (ep_*.c) with its entries and rows in endpoint.c's table.
 *
 * Entries are const and live for the process. Hooks are pure (no I/O beyond appending to the
 * evbuffer they are given); the stream hooks run once per line from Ollama, the hot path. */
#ifndef KEEPWARM_ENDPOINT_H
#define KEEPWARM_ENDPOINT_H

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "jscan.h"
#include "metrics.h"
#include "runopts.h"

/* What the relay and the answer hooks need to know about one translated request. */
struct endpoint_meta {
    int stream;        /* the client asked for a stream */
    int include_usage; /* the stream ends with usage */
    int encoding_b64;  /* embeddings as base64 */
    /* What the answer needs from the request beyond these flags (the request fields an API
     * echoes in its answer, the client's model spelling, an id): a new reference the meta's
     * holder owns (request_out, then the relay, which releases it), or NULL. */
    json_t *echo;
};

/* Token counts an answer reported (for the log and keepwarm_tokens_total). */
struct endpoint_usage {
    long long prompt_tokens;
    long long completion_tokens;
};

/* A request an entry refuses: status and message for its error envelope. */
struct api_err {
    int status;
    char message[512];
};

/* The native request request_build writes (request.h); the relay takes it over. */
struct request_out {
    const char *path; /* native path: the entry's (static) */
    char *body;       /* malloc'd, NUL-terminated native body, or NULL (none) */
    size_t body_len;  /* bytes of body */
    char *model;      /* malloc'd model name (for the answer, logs, limits), or NULL */
    struct endpoint_meta meta;
    int costly; /* a large body or tree was parsed: the heap is worth trimming */
    /* The runner options the native body carries after policy (EP_POLICY entries: has_runner),
     * written by the way that built it, for the residency's churn count (residency.h). */
    struct runopts runner;
    int has_runner;
};

/* Stream hook results. */
enum endpoint_stream_result {
    EP_STREAM_MORE = 0,   /* keep reading */
    EP_STREAM_OVER = 1,   /* the stream's end (terminator or error event) was written */
    EP_STREAM_FAILED = 2, /* OVER, by an error line from Ollama (counted as a broken answer) */
    EP_STREAM_ABORT = 3,  /* OVER by a line that cannot be read: stop reading Ollama too */
};

/* flags */
#define EP_PASSTHROUGH (1u << 0) /* Ollama's status, Content-Type and bytes as they come */
#define EP_REPLAYABLE  (1u << 1) /* safe to send twice (retries), whatever the method */
#define EP_JSON_BODY   (1u << 2) /* the client's body is a JSON object to translate */
#define EP_POLICY      (1u << 3) /* keep_alive and pinned options go into the native body */
#define EP_ADMIT       (1u << 4) /* counted against the model's max_concurrent */
#define EP_NOTE_MODEL  (1u << 5) /* a 2xx answer tells the warm loop about the model */
#define EP_LOCAL       (1u << 6) /* answered by keepwarm: request_new's body is the 200 answer */

typedef json_t *(*endpoint_error_fn)(int status, const char *message, const char *code);

struct endpoint {
    const char *name;          /* for logs and docs: "openai.chat", "native.inject", ... */
    enum metrics_route route;  /* keepwarm_requests_total's route label */
    unsigned flags;            /* EP_* */
    const char *native_method; /* the method Ollama gets; NULL: the client's (passthrough) */
    const char *native_path;   /* the path Ollama gets; NULL: the client's (passthrough) */

    /* ---- errors: the API's envelope ---- */
    /* The error body for status and message (code may be NULL). New reference. */
    endpoint_error_fn error_new;
    /* A native error answer (status and raw body) in this API's envelope; NULL: passed on. */
    json_t *(*native_error_new)(int status, const char *body, size_t len);

    /* ---- request: client body -> native body (request.c runs the pipeline) ---- */
    /* The fast path on the client's bytes (scanned by jscan_body): fills out (body, model,
     * meta) and returns 0, or returns -1 having set nothing: the jansson path serves it. NULL:
     * no fast path. */
    int (*request_fast)(const struct config *cfg, const char *body, size_t len,
                        const struct jscan *scan, struct request_out *out);
    enum metrics_fastpath request_fastpath; /* where request_fast's tries are counted */
    /* The jansson path: the native body for the parsed client body `in` (NULL unless
     * EP_JSON_BODY) and the request path, meta filled; NULL with err filled to refuse. NULL
     * hook: the client's body is the native body (policy may still apply). */
    json_t *(*request_new)(const char *path, const json_t *in, struct endpoint_meta *meta,
                           struct api_err *err);

    /* ---- a buffered answer (Ollama's 2xx answer, whole) ---- */
    /* Appends the client's answer for Ollama's body[0, len) to out: the answer object, or,
     * when framed (the stream already started), its stream events and terminator. Fills usage.
     * Returns 0, or -1 with *why (a static text) when it cannot be translated: the relay then
     * answers 502 in the envelope. model is the request's (may be NULL). */
    int (*answer)(const struct endpoint_meta *meta, const char *model, const char *body, size_t len,
                  int framed, struct evbuffer *out, struct endpoint_usage *usage, const char **why);

    /* ---- a translated stream (meta.stream and a 200 from Ollama) ---- */
    const char *stream_type; /* its Content-Type; NULL: the entry never streams */
    const char *wait_text;   /* sent while Ollama is silent (wait_comment_interval); or NULL */
    size_t stream_size;      /* bytes of stream state the relay holds for it */
    /* Initialises the state (called once per request, when the relay starts); model is the
     * request's (may be NULL). */
    void (*stream_open)(void *state, const struct endpoint_meta *meta, const char *model);
    /* One NDJSON line from Ollama: appends the client's bytes for it to out. Per token. */
    enum endpoint_stream_result (*stream_line)(void *state, const char *line, size_t len,
                                               struct evbuffer *out, struct endpoint_usage *usage);
    /* Ollama's answer ended without the stream's end: appends what ends it well. */
    void (*stream_end)(void *state, struct evbuffer *out);
    /* One event carrying payload (a keepwarm-made error envelope, after the stream started);
     * the stream ends after it. state is the stream's (stream_open'ed) when the entry streams,
     * for an API whose events are numbered in it (Responses' sequence_number). */
    void (*stream_event)(void *state, struct evbuffer *out, const json_t *payload);
    /* ---- a second try (NULL: none) ---- */
    /* Ollama refused the native body[0, body_len) with status and answer[0, answer_len): a new
     * native body (malloc'd, *out_len bytes) to send once instead, or NULL to pass the refusal
     * on. Pure. (Anthropic's relax_thinking: the same request without "think".) */
    char *(*retry_body_new)(int status, const char *answer, size_t answer_len, const char *body,
                            size_t body_len, size_t *out_len);

    /* Frees what stream_open or stream_line allocated in the state (called once, when the
     * relay ends, after stream_open). NULL: the state holds no allocation. */
    void (*stream_close)(void *state);

    /* ---- an answer relayed untouched (EP_PASSTHROUGH) ---- */
    /* The token counts of Ollama's 2xx answer, read from its last bytes (tail[0, len), at most
     * ENDPOINT_TAIL_MAX: the end of the answer, or of its last line, where Ollama writes them),
     * called once when the answer is complete. The relay keeps those bytes as they pass; nothing
     * is parsed per line. NULL: the entry counts nothing. */
    void (*pass_usage)(const char *tail, size_t len, struct endpoint_usage *usage);
};

/* The bytes of a passthrough answer's end that pass_usage gets. */
#define ENDPOINT_TAIL_MAX 512

/* The entry for a method and a path (as Ollama's router reads it). Returns it, or NULL with
 * *status (404, 405), *message and *errors (the entry whose envelope answers it) set. */
const struct endpoint *endpoint_route(enum evhttp_cmd_type method, const char *path, int *status,
                                      const char **message, const struct endpoint **errors);

/* The entry whose error envelope answers a request for path before it is routed (a bad path,
 * access checks, the front door's 413): Anthropic's for /v1/messages and what is under it,
 * the OpenAI one elsewhere under /v1/, Ollama's otherwise. path may carry a query. */
const struct endpoint *endpoint_errors_for(const char *path);

/* Does ep take a request body sent with Content-Encoding: zstd? Ollama decodes one on the
 * routes behind its cloudPassthroughMiddleware (ollama/ollama fb30760, server/routes.go and
 * server/cloud_proxy.go): every POST /v1 route it translates, none of /api. So: every entry
 * that translates a JSON body (EP_JSON_BODY, not EP_PASSTHROUGH). */
int endpoint_takes_zstd(const struct endpoint *ep);

/* Appends v as compact JSON, dumped once (through a stack buffer: one evbuffer_add for common
 * sizes, one per 16 KiB for larger ones). */
void endpoint_add_json(struct evbuffer *out, const json_t *v);

/* Ollama's token counts (prompt_eval_count, eval_count) of a native answer or line into usage,
 * when it is the done one. */
void endpoint_note_tokens(struct endpoint_usage *usage, const json_t *native);

/* The entries (ep_*.c). */
extern const struct endpoint endpoint_openai_chat;
extern const struct endpoint endpoint_openai_completions;
extern const struct endpoint endpoint_openai_embeddings;
extern const struct endpoint endpoint_openai_models;
extern const struct endpoint endpoint_openai_model;
extern const struct endpoint endpoint_anthropic_messages;
extern const struct endpoint endpoint_anthropic_count_tokens;
extern const struct endpoint endpoint_openai_pass;
extern const struct endpoint endpoint_openai_responses;
extern const struct endpoint endpoint_native_inject;
extern const struct endpoint endpoint_native_pass;

#endif
