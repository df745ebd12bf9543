/* responses: JSON->JSON translation between OpenAI's Responses API (POST /v1/responses) and
 * Ollama's native POST /api/chat, shaped as Ollama's own layer shapes it (ollama/ollama
 * fb30760: openai/responses.go FromResponsesRequest, ToResponse, ResponsesStreamConverter;
 * middleware/openai.go ResponsesMiddleware, ResponsesWriter). No I/O, no clock: the time and
 * the ids are arguments. The one exception, as in openai.c, is the stream's own item ids
 * (rs_<n>, fc_<n>_<i>), drawn from id.c's per-process generator when an item opens.
 *
 * The request fields the answer repeats (model, instructions, tools, text.format, top_p,
 * temperature, reasoning, max_output_tokens, truncation, background) are kept in an "echo"
 * object the request translator returns; the answer and the stream converter take it back.
 *
 * Ownership: *_new return a new reference (or malloc'd text) the caller frees; inputs are
 * borrowed and never modified. */
#ifndef KEEPWARM_RESPONSES_H
#define KEEPWARM_RESPONSES_H

#include <jansson.h>
#include <stddef.h>

#include "id.h"
#include "responses_types.h"

struct responses_err {
    int status;
    char message[512];
};

/* ---- request ---------------------------------------------------------------------------- */

/* The native /api/chat body for a Responses request `in` (an object): model, messages,
 * stream (always), options {temperature (1 by default), top_p?, num_predict?}, tools?, format?,
 * think?. No keep_alive: a client's is dropped, as Ollama drops it; policy sets keepwarm's.
 * *stream says whether the client asked for a stream; *echo (new reference) holds what the
 * answer repeats. Returns NULL with err filled (400, Ollama's texts) to refuse. */
json_t *responses_request_new(const json_t *in, int *stream, json_t **echo,
                              struct responses_err *err);

/* ---- non-stream answer ------------------------------------------------------------------ */

/* The "response" object for Ollama's answer `native` (one /api/chat object): resp_id is the
 * response id ("resp_<n>"), msg_id the message item's ("msg_<n>"), now the completed_at (Unix
 * seconds; also created_at when the native created_at does not parse). NULL when native is
 * not an object. */
json_t *responses_response_new(const json_t *native, const json_t *echo, const char *resp_id,
                               const char *msg_id, long long now);

/* ---- stream ----------------------------------------------------------------------------- */

enum responses_stream_rc {
    RESPONSES_STREAM_MORE = 0,  /* keep feeding */
    RESPONSES_STREAM_DONE = 1,  /* response.completed was appended */
    RESPONSES_STREAM_ERROR = 2, /* an error event was appended (an error line; a cap) */
};

/* echo is borrowed (a reference is taken); ids as for responses_response_new. */
void responses_stream_init(struct responses_stream *s, const json_t *echo, const char *resp_id,
                           const char *msg_id);
void responses_stream_free(struct responses_stream *s);

/* Feeds one parsed native /api/chat line; appends the events it produces to `events`, each
 * the payload object (its "type" is the SSE event name). now stamps the snapshots. A native
 * {"error":...} line appends one "error" event (keepwarm's improvement: Ollama ends the
 * stream silently) and returns RESPONSES_STREAM_ERROR. Lines after the end add nothing. */
int responses_stream_feed(struct responses_stream *s, const json_t *line, long long now,
                          json_t *events);

/* The stream ended without a done line: one "error" event (unless it already finished). */
int responses_stream_eof(struct responses_stream *s, json_t *events);

/* The "error" stream event for a message (sequence number taken from s when given). */
json_t *responses_error_event_new(struct responses_stream *s, const char *code,
                                  const char *message);

#endif
