/* ep_openai: the OpenAI entries of the endpoint table (chat, completions, embeddings, models,
 * model). Each hook wraps the pure translators of openai.c and the fast paths of reqfast.c and
 * openai_fast.c; the SSE framing ("data: {json}\n\n", "data: [DONE]\n\n", the waiting comment)
 * and the response ids live here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embraw.h"
#include "endpoint.h"
#include "id.h"
#include "openai.h"
#include "openai_fast.h"
#include "reqfast.h"

#define SSE_WAITING ": waiting for model\n\n"

/* ---- SSE framing -------------------------------------------------------------------------- */

static void sse_event(struct evbuffer *out, const json_t *payload) {
    evbuffer_add(out, "data: ", 6);
    endpoint_add_json(out, payload);
    evbuffer_add(out, "\n\n", 2);
}

/* A keepwarm-made error after the stream started: one data event (the stream's state has no
 * say in it). */
static void error_event(void *state, struct evbuffer *out, const json_t *payload) {
    (void)state;
    sse_event(out, payload);
}

/* The end of a stream that finished well. */
static void sse_done(struct evbuffer *out) {
    evbuffer_add(out, "data: [DONE]\n\n", 14);
}

/* The frames of one translated line or end, then [DONE] when the stream is done. */
static enum endpoint_stream_result sse_frames(struct evbuffer *out, json_t *frames, int result) {
    size_t i;
    json_t *f;
    json_array_foreach(frames, i, f) sse_event(out, f);
    if (result == OPENAI_STREAM_DONE) {
        sse_done(out);
        return EP_STREAM_OVER;
    }
    return result == OPENAI_STREAM_ERROR ? EP_STREAM_FAILED : EP_STREAM_MORE;
}

/* ---- shared helpers ----------------------------------------------------------------------- */

static void meta_from(struct endpoint_meta *meta, const struct openai_meta *m) {
    meta->stream = m->stream;
    meta->include_usage = m->include_usage;
    meta->encoding_b64 = m->encoding_b64;
}

/* A done line's (or answer's) token counts. */
typedef json_t *(*openai_request_fn)(const json_t *in, struct openai_meta *meta,
                                     struct openai_err *err);

static json_t *request_with(openai_request_fn fn, const json_t *in, struct endpoint_meta *meta,
                            struct api_err *err) {
    struct openai_meta m = {0};
    struct openai_err oerr = {0};
    json_t *native = fn(in, &m, &oerr);
    if (!native) {
        err->status = oerr.status ? oerr.status : 400;
        snprintf(err->message, sizeof(err->message), "%s", oerr.message);
        return NULL;
    }
    meta_from(meta, &m);
    return native;
}

typedef char *(*reqfast_fn)(const struct config *cfg, const char *body, size_t len,
                            const struct jscan *scan, struct openai_meta *meta, size_t *outlen,
                            struct runopts *runner);

static int fast_with(reqfast_fn fn, const struct config *cfg, const char *body, size_t len,
                     const struct jscan *scan, struct request_out *out) {
    struct openai_meta m = {0};
    size_t n;
    struct runopts runner = {0};
    char *native = fn(cfg, body, len, scan, &m, &n, &runner);
    if (!native)
        return -1;
    char *model = strdup(scan->model_name);
    if (!model) {
        free(native);
        return -1;
    }
    out->body = native;
    out->body_len = n;
    out->model = model;
    meta_from(&out->meta, &m);
    out->runner = runner;
    out->has_runner = 1;
    return 0;
}

/* The jansson path of an answer: parse, translate with fn (a closure over the request's
 * details), then the object or, framed, its event and [DONE]. */
typedef json_t *(*answer_fn)(const json_t *native, const struct endpoint_meta *meta,
                             const char *model, const char *id, struct endpoint_usage *usage);

static int answer_with(answer_fn fn, const struct endpoint_meta *meta, const char *model,
                       const char *id, const char *body, size_t len, int framed,
                       struct evbuffer *out, struct endpoint_usage *usage, const char **why) {
    json_error_t jerr;
    json_t *native = json_loadb(body, len, 0, &jerr);
    json_t *o = NULL;
    if (native) {
        endpoint_note_tokens(usage, native);
        o = fn(native, meta, model, id, usage);
        json_decref(native);
    }
    if (!o) {
        *why = native ? "Ollama's answer could not be translated"
                      : "Ollama answered with invalid JSON";
        return -1;
    }
    if (framed) { /* a streaming request whose answer came as one object */
        sse_event(out, o);
        sse_done(out);
    } else {
        endpoint_add_json(out, o);
    }
    json_decref(o);
    return 0;
}

typedef size_t (*answer_fast_fn)(const char *body, size_t len, const char *id, char *out,
                                 size_t outlen, struct openai_fast_usage *usage);

/* The common chat/completion answer written straight from Ollama's bytes (openai_fast.h).
 * Returns -1, having written nothing, when the answer needs the jansson path. */
static int answer_fast(answer_fast_fn fn, const char *body, size_t len, const char *id,
                       struct evbuffer *out, struct endpoint_usage *usage) {
    struct openai_fast_usage u;
    struct evbuffer_iovec v;
    size_t m = 0;
    if (evbuffer_reserve_space(out, (ev_ssize_t)(len + OPENAI_FAST_SLACK), &v, 1) == 1)
        m = fn(body, len, id, v.iov_base, v.iov_len, &u);
    if (!m) {
        metrics_fastpath_decline(FASTPATH_ANSWER);
        return -1;
    }
    metrics_fastpath_hit(FASTPATH_ANSWER);
    v.iov_len = m;
    evbuffer_commit_space(out, &v, 1);
    usage->prompt_tokens = (long long)u.prompt_tokens;
    usage->completion_tokens = (long long)u.completion_tokens;
    return 0;
}

/* A line the fast paths declined: parsed, fed to the translator (feed), framed. The decline
 * is counted for the fast path the line's kind belongs to: the done line's (stream_done), or,
 * for any other line, tokens (a fast path for token lines is tried), else nothing. */
typedef int (*stream_feed_fn)(struct openai_stream *s, const json_t *line, json_t *frames);

enum token_fast { TOKEN_FAST_NONE, TOKEN_FAST_TRIED };

static enum endpoint_stream_result line_slow(stream_feed_fn feed, enum token_fast tokens,
                                             struct openai_stream *s, const char *line, size_t len,
                                             struct evbuffer *out, struct endpoint_usage *usage) {
    json_error_t jerr;
    json_t *v = json_loadb(line, len, 0, &jerr);
    if (json_is_true(json_object_get(v, "done")))
        metrics_fastpath_decline(FASTPATH_STREAM_DONE);
    else if (tokens == TOKEN_FAST_TRIED)
        metrics_fastpath_decline(FASTPATH_STREAM_TOKEN);
    if (!v || !json_is_object(v)) {
        json_decref(v);
        json_t *e = openai_error_new(502, "invalid JSON line from Ollama", NULL);
        sse_event(out, e);
        json_decref(e);
        return EP_STREAM_ABORT;
    }
    endpoint_note_tokens(usage, v);
    json_t *frames = json_array();
    enum endpoint_stream_result rc = sse_frames(out, frames, feed(s, v, frames));
    json_decref(frames);
    json_decref(v);
    return rc;
}

typedef size_t (*stream_done_fast_fn)(struct openai_stream *s, const char *line, size_t len,
                                      char *out, size_t outlen, struct openai_fast_usage *usage);

/* A line that is not a token written by a fast path: the done line by its fast path (done_fast:
 * its events, then [DONE]), else line_slow. fast is the caller's scratch buffer. */
static enum endpoint_stream_result line_rest(stream_done_fast_fn done_fast, stream_feed_fn feed,
                                             enum token_fast tokens, struct openai_stream *s,
                                             const char *line, size_t len, char *fast,
                                             size_t fastlen, struct evbuffer *out,
                                             struct endpoint_usage *usage) {
    struct openai_fast_usage u;
    size_t n = done_fast(s, line, len, fast, fastlen, &u);
    if (!n)
        return line_slow(feed, tokens, s, line, len, out, usage);
    metrics_fastpath_hit(FASTPATH_STREAM_DONE);
    usage->prompt_tokens = (long long)u.prompt_tokens;
    usage->completion_tokens = (long long)u.completion_tokens;
    evbuffer_add(out, fast, n);
    sse_done(out);
    return EP_STREAM_OVER;
}

/* A stream's state, with a new id of kind. */
static void stream_open_with(enum id_kind kind, void *state, const struct endpoint_meta *meta) {
    char id[ID_MAX];
    id_unique(kind, id, sizeof(id)); /* Ollama's shape, never repeated (id.h) */
    openai_stream_init(state, id, meta->include_usage);
}

/* A stream that ended without its done line: what eof writes to end it well. */
typedef int (*stream_eof_fn)(struct openai_stream *s, json_t *frames);

static void stream_end_with(stream_eof_fn eof, void *state, struct evbuffer *out) {
    json_t *frames = json_array();
    sse_frames(out, frames, eof(state, frames));
    json_decref(frames);
}

/* ---- chat: /v1/chat/completions -> /api/chat ---------------------------------------------- */

static int chat_fast(const struct config *cfg, const char *body, size_t len,
                     const struct jscan *scan, struct request_out *out) {
    return fast_with(reqfast_chat_new, cfg, body, len, scan, out);
}

static json_t *chat_request(const char *path, const json_t *in, struct endpoint_meta *meta,
                            struct api_err *err) {
    (void)path;
    return request_with(openai_chat_request_new, in, meta, err);
}

static json_t *chat_translate(const json_t *native, const struct endpoint_meta *meta,
                              const char *model, const char *id, struct endpoint_usage *usage) {
    (void)meta;
    (void)model;
    (void)usage;
    return openai_chat_response_new(native, id);
}

static int chat_answer(const struct endpoint_meta *meta, const char *model, const char *body,
                       size_t len, int framed, struct evbuffer *out, struct endpoint_usage *usage,
                       const char **why) {
    char id[ID_MAX];
    id_unique(ID_CHAT, id, sizeof(id));
    if (!framed && answer_fast(openai_chat_response_fast, body, len, id, out, usage) == 0)
        return 0;
    return answer_with(chat_translate, meta, model, id, body, len, framed, out, usage, why);
}

static void chat_open(void *state, const struct endpoint_meta *meta, const char *model) {
    (void)model;
    stream_open_with(ID_CHAT, state, meta);
}

/* Most lines are one plain token, and the last one the common done line: no JSON tree needed
 * for either (the done line's events include usage; its counts go to the log). */
static enum endpoint_stream_result chat_line(void *state, const char *line, size_t len,
                                             struct evbuffer *out, struct endpoint_usage *usage) {
    char fast[8192];
    size_t n = openai_chat_stream_fast(state, line, len, fast, sizeof(fast));
    if (n) {
        metrics_fastpath_hit(FASTPATH_STREAM_TOKEN);
        evbuffer_add(out, fast, n);
        return EP_STREAM_MORE;
    }
    return line_rest(openai_chat_stream_done_fast, openai_chat_stream_feed, TOKEN_FAST_TRIED, state,
                     line, len, fast, sizeof(fast), out, usage);
}

static void chat_end(void *state, struct evbuffer *out) {
    stream_end_with(openai_chat_stream_eof, state, out);
}

const struct endpoint endpoint_openai_chat = {
    .name = "openai.chat",
    .route = ROUTE_CHAT,
    .flags = EP_REPLAYABLE | EP_JSON_BODY | EP_POLICY | EP_ADMIT | EP_NOTE_MODEL,
    .native_method = "POST",
    .native_path = "/api/chat",
    .error_new = openai_error_new,
    .native_error_new = openai_error_from_native_new,
    .request_fast = chat_fast,
    .request_fastpath = FASTPATH_REQUEST_CHAT,
    .request_new = chat_request,
    .answer = chat_answer,
    .stream_type = "text/event-stream",
    .wait_text = SSE_WAITING,
    .stream_size = sizeof(struct openai_stream),
    .stream_open = chat_open,
    .stream_line = chat_line,
    .stream_end = chat_end,
    .stream_event = error_event,
};

/* ---- completions: /v1/completions -> /api/generate ---------------------------------------- */

static int completion_fast(const struct config *cfg, const char *body, size_t len,
                           const struct jscan *scan, struct request_out *out) {
    return fast_with(reqfast_completion_new, cfg, body, len, scan, out);
}

static json_t *completion_request(const char *path, const json_t *in, struct endpoint_meta *meta,
                                  struct api_err *err) {
    (void)path;
    return request_with(openai_completion_request_new, in, meta, err);
}

static json_t *completion_translate(const json_t *native, const struct endpoint_meta *meta,
                                    const char *model, const char *id,
                                    struct endpoint_usage *usage) {
    (void)meta;
    (void)model;
    (void)usage;
    return openai_completion_response_new(native, id);
}

static int completion_answer(const struct endpoint_meta *meta, const char *model, const char *body,
                             size_t len, int framed, struct evbuffer *out,
                             struct endpoint_usage *usage, const char **why) {
    char id[ID_MAX];
    id_unique(ID_COMPLETION, id, sizeof(id));
    if (!framed && answer_fast(openai_completion_response_fast, body, len, id, out, usage) == 0)
        return 0;
    return answer_with(completion_translate, meta, model, id, body, len, framed, out, usage, why);
}

static void completion_open(void *state, const struct endpoint_meta *meta, const char *model) {
    (void)model;
    stream_open_with(ID_COMPLETION, state, meta);
}

static enum endpoint_stream_result completion_line(void *state, const char *line, size_t len,
                                                   struct evbuffer *out,
                                                   struct endpoint_usage *usage) {
    char fast[8192];
    return line_rest(openai_completion_stream_done_fast, openai_completion_stream_feed,
                     TOKEN_FAST_NONE, state, line, len, fast, sizeof(fast), out, usage);
}

static void completion_end(void *state, struct evbuffer *out) {
    stream_end_with(openai_completion_stream_eof, state, out);
}

const struct endpoint endpoint_openai_completions = {
    .name = "openai.completions",
    .route = ROUTE_COMPLETIONS,
    .flags = EP_REPLAYABLE | EP_JSON_BODY | EP_POLICY | EP_ADMIT | EP_NOTE_MODEL,
    .native_method = "POST",
    .native_path = "/api/generate",
    .error_new = openai_error_new,
    .native_error_new = openai_error_from_native_new,
    .request_fast = completion_fast,
    .request_fastpath = FASTPATH_REQUEST_COMPLETION,
    .request_new = completion_request,
    .answer = completion_answer,
    .stream_type = "text/event-stream",
    .wait_text = SSE_WAITING,
    .stream_size = sizeof(struct openai_stream),
    .stream_open = completion_open,
    .stream_line = completion_line,
    .stream_end = completion_end,
    .stream_event = error_event,
};

/* ---- embeddings: /v1/embeddings -> /api/embed --------------------------------------------- */

static json_t *embed_request(const char *path, const json_t *in, struct endpoint_meta *meta,
                             struct api_err *err) {
    (void)path;
    return request_with(openai_embed_request_new, in, meta, err);
}

static json_t *embed_translate(const json_t *native, const struct endpoint_meta *meta,
                               const char *model, const char *id, struct endpoint_usage *usage) {
    (void)id;
    /* embeddings count their input only */
    usage->prompt_tokens =
        (long long)json_integer_value(json_object_get(native, "prompt_eval_count"));
    return openai_embed_response_new(native, model ? model : "", meta->encoding_b64);
}

/* The answer with Ollama's numbers as Ollama wrote them (embraw.h): translated with an empty
 * array for each embedding, then the arrays' bytes spliced in. -1, having written nothing,
 * when the native answer is not the common shape: the caller writes it with jansson. */
static int embed_answer_raw(const struct endpoint_meta *meta, const char *model, const char *body,
                            size_t len, struct evbuffer *out, struct endpoint_usage *usage) {
    json_error_t jerr;
    json_t *native = json_loadb(body, len, 0, &jerr), *o = NULL, *e;
    char *text = NULL;
    size_t i;
    int rc = -1;
    if (!native || !(o = embed_translate(native, meta, model, "", usage)))
        goto done;
    json_array_foreach(json_object_get(o, "data"), i, e) {
        json_object_set_new(e, "embedding", json_array());
    }
    if ((text = json_dumps(o, JSON_COMPACT)) != NULL)
        rc = embraw_splice(body, len, text, strlen(text), out);
done:
    free(text);
    json_decref(o);
    json_decref(native);
    return rc;
}

static int embed_answer(const struct endpoint_meta *meta, const char *model, const char *body,
                        size_t len, int framed, struct evbuffer *out, struct endpoint_usage *usage,
                        const char **why) {
    if (!framed && !meta->encoding_b64 && embed_answer_raw(meta, model, body, len, out, usage) == 0)
        return 0;
    return answer_with(embed_translate, meta, model, "", body, len, framed, out, usage, why);
}

const struct endpoint endpoint_openai_embeddings = {
    .name = "openai.embeddings",
    .route = ROUTE_EMBEDDINGS,
    .flags = EP_REPLAYABLE | EP_JSON_BODY | EP_POLICY | EP_ADMIT,
    .native_method = "POST",
    .native_path = "/api/embed",
    .error_new = openai_error_new,
    .native_error_new = openai_error_from_native_new,
    .request_new = embed_request,
    .answer = embed_answer,
    .stream_event = error_event,
};

/* ---- models: GET /v1/models from /api/tags, GET /v1/models/{id} from /api/show ------------ */

static json_t *models_translate(const json_t *native, const struct endpoint_meta *meta,
                                const char *model, const char *id, struct endpoint_usage *usage) {
    (void)meta;
    (void)model;
    (void)id;
    (void)usage;
    return openai_models_list_new(native);
}

static int models_answer(const struct endpoint_meta *meta, const char *model, const char *body,
                         size_t len, int framed, struct evbuffer *out, struct endpoint_usage *usage,
                         const char **why) {
    return answer_with(models_translate, meta, model, "", body, len, framed, out, usage, why);
}

const struct endpoint endpoint_openai_models = {
    .name = "openai.models",
    .route = ROUTE_MODELS,
    .flags = EP_REPLAYABLE,
    .native_method = "GET",
    .native_path = "/api/tags",
    .error_new = openai_error_new,
    .native_error_new = openai_error_from_native_new,
    .answer = models_answer,
    .stream_event = error_event,
};

/* The id is the rest of the path, already %-decoded, '/' included. */
static json_t *model_request(const char *path, const json_t *in, struct endpoint_meta *meta,
                             struct api_err *err) {
    const char *id = path + strlen("/v1/models/");
    (void)in;
    (void)meta;
    if (!*id) {
        err->status = 404;
        snprintf(err->message, sizeof(err->message), "model id is empty");
        return NULL;
    }
    return json_pack("{s:s}", "model", id);
}

static json_t *model_translate(const json_t *native, const struct endpoint_meta *meta,
                               const char *model, const char *id, struct endpoint_usage *usage) {
    (void)meta;
    (void)id;
    (void)usage;
    return openai_model_new(model ? model : "", native);
}

static int model_answer(const struct endpoint_meta *meta, const char *model, const char *body,
                        size_t len, int framed, struct evbuffer *out, struct endpoint_usage *usage,
                        const char **why) {
    return answer_with(model_translate, meta, model, "", body, len, framed, out, usage, why);
}

const struct endpoint endpoint_openai_model = {
    .name = "openai.model",
    .route = ROUTE_MODELS,
    .flags = EP_REPLAYABLE,
    .native_method = "POST",
    .native_path = "/api/show",
    .error_new = openai_error_new,
    .native_error_new = openai_error_from_native_new,
    .request_new = model_request,
    .answer = model_answer,
    .stream_event = error_event,
};

/* ---- any other /v1/ path: passed through ----------------------------------------------------- */

/* An endpoint Ollama has and keepwarm does not translate (/v1/audio/transcriptions, the next one
 * Ollama adds): the client's method, path, query, headers and body go to Ollama untouched, and
 * its answer comes back as it is; no keep_alive or pinned options go in (nothing is parsed).
 * Only what keepwarm answers itself (a 502 when Ollama cannot be reached) is in the OpenAI
 * envelope. */
const struct endpoint endpoint_openai_pass = {
    .name = "openai.pass",
    .route = ROUTE_V1_PASS,
    .flags = EP_PASSTHROUGH,
    .error_new = openai_error_new,
};
