/* openai: JSON->JSON translation between OpenAI's API and Ollama's native API, shaped
 * exactly as Ollama's own /v1 layer (research/ollama-protocol.md §2, §3) and better where that
 * layer is broken. No I/O, no libevent, no sockets: every function here is unit- and fuzz-tested.
 * Two inputs are not arguments, as in Ollama's layer: a tool call the native answer gives no
 * id gets a random one (id.c's per-process generator), and an answer whose created_at is
 * missing, unparsable or not after 1970-01-01 is stamped with the clock (time(NULL)). Everything
 * else is a function of the arguments. Shared helpers live below: rfc3339 (timestamps), base64,
 * gojson (Go-style dump of tool call arguments), id, errtext (error texts every API shares).
 *
 * Ownership: functions named *_new return a new reference the caller must json_decref.
 * Input json_t are borrowed and never modified. */
#ifndef KEEPWARM_OPENAI_H
#define KEEPWARM_OPENAI_H

#include <jansson.h>
#include <stddef.h>

#include "openai_types.h"

/* ---- chat: POST /v1/chat/completions -> POST /api/chat ------------------------------- */

/* Translates a chat request. Carries the client's non-OpenAI extras into the native body so
 * that policy can honour or override them: "keep_alive" copied as given, "options" (object)
 * merged under the mapped options, top-level "num_ctx" into options.num_ctx.
 * max_completion_tokens (preferred) or max_tokens -> options.num_predict.
 * Returns NULL with err filled on invalid input. */
json_t *openai_chat_request_new(const json_t *in, struct openai_meta *meta, struct openai_err *err);

/* Non-stream native /api/chat answer -> "chat.completion" object with the given id.
 * Response functions return NULL only when the native body is not a JSON object. */
json_t *openai_chat_response_new(const json_t *native, const char *id);

/* ---- streaming (chat and completions) -------------------------------------------------- */

void openai_stream_init(struct openai_stream *s, const char *id, int include_usage);

/* Feeds one parsed native /api/chat NDJSON line; appends the SSE payload objects it produces
 * (zero or more "chat.completion.chunk" objects) to the array `frames`. A native
 * {"error":"..."} line appends an OpenAI error envelope and returns OPENAI_STREAM_ERROR. */
int openai_chat_stream_feed(struct openai_stream *s, const json_t *line, json_t *frames);

/* Upstream ended without a done line: appends the role chunk if nothing was sent yet, a finish
 * chunk (finish_reason "stop", "tool_calls" after tool calls) and the usage chunk (zeros) if
 * asked, and returns OPENAI_STREAM_DONE. Appends nothing if already finished (and returns
 * OPENAI_STREAM_ERROR if that was by an error). */
int openai_chat_stream_eof(struct openai_stream *s, json_t *frames);

/* ---- completions: POST /v1/completions -> POST /api/generate ---------------------------- */

/* Same extras as chat (keep_alive, options, num_ctx). An empty model is 404 "model '' not
 * found", as Ollama answers. */
json_t *openai_completion_request_new(const json_t *in, struct openai_meta *meta,
                                      struct openai_err *err);
json_t *openai_completion_response_new(const json_t *native, const char *id);
int openai_completion_stream_feed(struct openai_stream *s, const json_t *line, json_t *frames);
int openai_completion_stream_eof(struct openai_stream *s, json_t *frames);

/* ---- embeddings: POST /v1/embeddings -> POST /api/embed --------------------------------- */

/* Carries keep_alive, options and num_ctx like chat; empty model -> 404 as Ollama. */
json_t *openai_embed_request_new(const json_t *in, struct openai_meta *meta,
                                 struct openai_err *err);
/* model is the request's model; encoding_b64 from meta. */
json_t *openai_embed_response_new(const json_t *native, const char *model, int encoding_b64);

/* ---- models: GET /v1/models from /api/tags, GET /v1/models/{id} from /api/show ---------- */

json_t *openai_models_list_new(const json_t *tags);
json_t *openai_model_new(const char *id, const json_t *show);

/* ---- shared with the other OpenAI translators (responses.c) ------------------------------ */

/* A data URL (data:image/(jpeg|jpg|png|webp);base64,... or data:;base64,...) -> the native
 * images[] entry (base64, re-encoded as Ollama marshals bytes); http(s) URLs and anything else
 * are refused with Ollama's texts. New reference, or NULL with err filled (400). */
json_t *openai_image_new(const char *url, struct openai_err *err);

/* ---- errors ----------------------------------------------------------------------------- */

/* {"error":{"message","type","param":null,"code"}}: type invalid_request_error for 400,
 * not_found_error for 404, api_error otherwise; code is a string or JSON null when NULL. */
json_t *openai_error_new(int status, const char *message, const char *code);

/* A JSON string from text that may hold invalid UTF-8 (a message cut mid-character, a binary
 * body): invalid bytes become U+FFFD. New reference (NULL only when out of memory). The same
 * as errtext_json_new, which other APIs use. */
json_t *openai_text_new(const char *text);

/* Wraps a native error answer (status and raw body: {"error":"..."} JSON or plain text)
 * in the envelope: message and code as errtext_native_read reads them (context-length texts
 * get code "context_length_exceeded"). */
json_t *openai_error_from_native_new(int status, const char *body, size_t len);

/* Ollama's reasoning effort -> think (openai/openai.go at fb30760, shared by its /v1/chat and
 * /v1/responses layers): "" -> *think NULL (unset); none -> false; minimal -> "low"; low,
 * medium, high, max as they are; xhigh, ultra -> "max". Returns 0 with *think a new reference
 * (or NULL), or -1 for any other effort: the caller answers 400 OPENAI_EFFORT_INVALID. */
int openai_effort_think(const char *effort, json_t **think);
#define OPENAI_EFFORT_INVALID                                                                      \
    "invalid reasoning value: \"%.200s\" (must be \"minimal\", \"low\", \"medium\", \"high\", "    \
    "\"xhigh\", \"ultra\", \"max\", or \"none\")"

#endif
