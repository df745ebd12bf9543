/* reqfast: the fast path for OpenAI requests. The common /v1/chat/completions and
 * /v1/completions body is written as the native /api/chat or /api/generate body straight from
 * the client's bytes, keep_alive included, without a JSON tree: instead of json_loadb,
 * openai_*_request_new, policy_apply and json_dumps. Pure: no I/O.
 *
 * The body must first pass jscan_body (which accepts exactly what server.c's json_loadb
 * accepts, and no escaped keys, nor top-level keys with upper-case letters or bytes outside
 * ASCII, which the translation may refuse as variants Go would fold onto its own names).
 * Covered, each member at most once, null counting as absent:
 *   both: model (a non-empty string), stream (bool), stream_options (an object whose
 *     include_usage is a bool), n (1), max_tokens, max_completion_tokens, seed, num_ctx
 *     (integers without a fraction or exponent), temperature, top_p, frequency_penalty,
 *     presence_penalty (numbers), stop (a string or an array of strings), options (an object of
 *     at most REQFAST_MAX_OPTIONS members), keep_alive (as policy_apply takes it),
 *     _debug_render_only (bool);
 *   chat: messages, a non-empty array of objects with a string role (no escape, not "tool") and
 *     a string content, an optional string name (dropped, as the translation drops it) and
 *     members the translation ignores; tools [], tool_choice null, reasoning null,
 *     reasoning_effort "", logprobs false, top_logprobs 0, response_format
 *     {"type":"json_object"} or {"type":"text"} (no json_schema);
 *   completions: prompt, suffix (strings), logprobs 0 or less.
 * It fails closed: a top-level member that openai_fields.h (the one field table, by which
 * openai.c's translations read the body) does not mark as taken by this fast path makes it
 * decline, even one the translation ignores. Anything else (content arrays, tool calls, tools,
 * tool_choice, other response_formats, reasoning, logprobs, n other than 1, real numbers where an
 * integer goes, a model with pinned options or num_predict_max, a keep_alive policy_apply
 * refuses, any error) returns NULL, and the caller takes the jansson path, which owns every
 * error message.
 *
 * Output: a body json_equal to json_dumps of openai_*_request_new + policy_apply of the same
 * request (tests/unit/test_reqfast.c, tests/fuzz/fuzz_reqfast.c); strings and numbers are the
 * client's text, which parses to the same values. */
#ifndef KEEPWARM_REQFAST_H
#define KEEPWARM_REQFAST_H

#include <stddef.h>

#include "config.h"
#include "jscan.h"
#include "openai_types.h"
#include "runopts.h"

#define REQFAST_MAX_OPTIONS 64 /* members of the client's "options" */
/* The output is at most len + REQFAST_GROWTH bytes (plus a NUL). */
#define REQFAST_GROWTH 512

/* body[0, len), scanned by jscan_body into scan (which returned 0), as the native /api/chat
 * body. Returns it malloc'd and NUL-terminated, its length in *outlen and meta filled as
 * openai_chat_request_new fills it, and, when runner is not NULL, the runner options it wrote
 * recorded into runner (as runopts_from_json reads them from the jansson path's body); or
 * NULL (meta and runner untouched) when not covered or out of memory. The model name for the
 * caller is scan->model_name. */
char *reqfast_chat_new(const struct config *cfg, const char *body, size_t len,
                       const struct jscan *scan, struct openai_meta *meta, size_t *outlen,
                       struct runopts *runner);

/* The same for /v1/completions -> /api/generate (openai_completion_request_new). */
char *reqfast_completion_new(const struct config *cfg, const char *body, size_t len,
                             const struct jscan *scan, struct openai_meta *meta, size_t *outlen,
                             struct runopts *runner);

#endif
