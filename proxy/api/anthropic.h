/* anthropic: JSON->JSON translation between Anthropic's Messages API and Ollama's native
 * /api/chat, shaped as Ollama's own Anthropic layer (ollama/ollama fb30760:
 * anthropic/anthropic.go, middleware/anthropic.go): the request and its checks in Ollama's
 * order and words, the non-stream message object, the stream's named events and the converter
 * state between lines, the input_tokens estimate message_start and count_tokens report, and
 * Anthropic's error envelope. No I/O, no libevent: unit- and fuzz-tested. Ids (msg_, req_) come
 * from id.c's per-process generator; everything else is a function of the arguments.
 *
 * Not done, as documented in docs/compatibility.md: the built-in web search loop (a
 * web_search_* tool is declared to the model as Ollama declares it, and a call to it comes back
 * as an ordinary tool_use), and the cloud passthrough of ":cloud" models (sent to Ollama like
 * any model).
 *
 * Ownership: *_new return new references; inputs are borrowed and never modified. */
#ifndef KEEPWARM_ANTHROPIC_H
#define KEEPWARM_ANTHROPIC_H

#include <jansson.h>
#include <stddef.h>

#include "anthropic_types.h"
#include "endpoint.h"

/* What the answer hooks need from a translated request. */
struct anthropic_meta {
    int stream;         /* "stream": true */
    long long estimate; /* anthropic_estimate of the request */
};

/* ---- request: POST /v1/messages -> POST /api/chat ----------------------------------------- */

/* The native /api/chat body for a Messages request (an object): model, messages, stream
 * (always), tools, options (num_predict = max_tokens, temperature, top_p, top_k, stop), think.
 * No keep_alive: the client's is dropped, as Ollama drops it (policy adds keepwarm's). Returns
 * NULL with err filled (400, Ollama's text) for a request Ollama's layer refuses. */
json_t *anthropic_request_new(const json_t *in, struct anthropic_meta *meta, struct api_err *err);

/* Ollama's input_tokens estimate (EstimateCountTokens): bytes of the system text, each
 * message's role and text, thinking and JSON-encoded tool_use/tool_result blocks, and each
 * tool's name, description and input_schema, divided by 4; at least 1 when there is a message
 * or a system value. Images are not counted. Works on any object (count_tokens bodies). */
long long anthropic_estimate(const json_t *in);

/* The body of POST /v1/messages/count_tokens: {"input_tokens": N}. Returns NULL with err
 * filled when messages is not an array of objects. */
json_t *anthropic_count_tokens_new(const json_t *in, struct api_err *err);

/* A native /api/chat answer is a "message" object with this id (ToMessagesResponse); NULL
 * when native is not an object. */
json_t *anthropic_response_new(const json_t *native, const char *id);

/* ---- stream ------------------------------------------------------------------------------- */

/* A stream's state: the id, the request's model (copied, may be NULL) and the estimate. */
void anthropic_stream_init(struct anthropic_stream *s, const char *id, const char *model,
                           long long estimate);
/* Frees what the state holds (the model and the tool-call ids' hashes); s may be reused after
 * init. */
void anthropic_stream_close(struct anthropic_stream *s);

enum anthropic_stream_result {
    ANTHROPIC_STREAM_MORE = 0,  /* keep reading */
    ANTHROPIC_STREAM_DONE = 1,  /* message_stop was appended: the stream is over */
    ANTHROPIC_STREAM_ERROR = 2, /* an "error" event was appended: the stream is over */
};

/* Feeds one parsed native line; appends the event payloads it gives (each an object whose
 * "type" is the SSE event name) to frames. A native {"error":...} line gives one Anthropic
 * "error" event (Ollama's layer writes nothing and just ends: docs/compatibility.md). Lines
 * after the end append nothing. */
int anthropic_stream_feed(struct anthropic_stream *s, const json_t *line, json_t *frames);

/* Ollama's stream ended without a done line: message_start if nothing was sent, the open
 * block's stop, message_delta (stop_reason end_turn, or tool_use; zero usage) and message_stop.
 * Nothing once finished. */
int anthropic_stream_eof(struct anthropic_stream *s, json_t *frames);

/* ---- errors ------------------------------------------------------------------------------- */

/* {"type":"error","error":{"type":T,"message":M},"request_id":"req_<24 hex>"}, T by status as
 * Anthropic documents and Ollama maps (anthropic.NewError), 413 request_too_large added;
 * code is unused (Anthropic's envelope has none). */
json_t *anthropic_error_new(int status, const char *message, const char *code);

/* A native error answer (status and raw body) in the envelope: the native "error" text, or
 * the body. */
json_t *anthropic_error_from_native_new(int status, const char *body, size_t len);

/* The native body to send once more, without "think", when Ollama refused body with exactly
 * 400 {"error":"\"<model>\" does not support thinking"} (Ollama's relax_thinking, which its
 * own layer applies in-process): a malloc'd NUL-terminated body (*out_len bytes), or NULL. */
char *anthropic_relax_thinking_new(int status, const char *answer, size_t answer_len,
                                   const char *body, size_t body_len, size_t *out_len);

#endif
