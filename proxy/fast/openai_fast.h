/* openai_fast: the fast paths for what Ollama sends back. Its common final answer, written as
 * the OpenAI object straight from its bytes, without a JSON tree: a few thousand instructions
 * instead of jansson's parse, openai_*_response_new and the dump. A stream's lines have the same
 * shape (a token line is one with "done":false), so its token lines and its done line (their SSE
 * events) are written here too, with the same scanner and writers. Pure: no I/O, no
 * allocation.
 *
 * Covered (anything else returns 0 and the caller takes the jansson path):
 *   chat:        {"model","created_at","message":{"role","content"},"done":true,"done_reason",
 *                 "total_duration","load_duration","prompt_eval_count","prompt_eval_duration",
 *                 "eval_count","eval_duration"}
 *   completions: the same with "response" instead of "message", plus "context" (an array of
 *                integers) and "thinking" (a string), both of which the translation ignores.
 * Members may come in any order, each at most once; "done" must be true; "created_at" must
 * parse (rfc3339_parse, after 1970); durations are integers of at most 18 digits, the two counts
 * integers from 0 to 10^15; strings must be what json_loadb accepts (valid UTF-8, no \u0000, no
 * lone surrogates). A tool call, thinking in the message, logprobs, images, an escaped key, a
 * real number, null, duplicate or unknown members all fall back.
 *
 * Output: byte for byte what json_dumpb(JSON_COMPACT) writes for openai_chat_response_new /
 * openai_completion_response_new of the same body (same keys, order and string escapes:
 * strings are decoded and re-escaped as jansson does). */
#ifndef KEEPWARM_OPENAI_FAST_H
#define KEEPWARM_OPENAI_FAST_H

#include <jansson.h>
#include <stddef.h>

#include "openai_types.h"

/* outlen >= len + OPENAI_FAST_SLACK always has room for the answer of a len-byte body (with an
 * id of at most OPENAI_FAST_ID_MAX bytes). */
#define OPENAI_FAST_SLACK  512
#define OPENAI_FAST_ID_MAX 63

/* What the relay logs and counts for the answer: prompt_eval_count and eval_count (0 when
 * absent), the same values json_integer_value gives for the parsed body. */
struct openai_fast_usage {
    json_int_t prompt_tokens;
    json_int_t completion_tokens;
};

/* Writes the "chat.completion" object for a native /api/chat answer of len bytes into out
 * (not NUL-terminated) and returns its length, filling usage. id is the response id (printable
 * ASCII without '"' or '\\', at most OPENAI_FAST_ID_MAX bytes). Returns 0, having written
 * nothing meaningful and left usage untouched, for any body outside the covered shape, or when
 * out is too small: then use json_loadb and openai_chat_response_new. */
size_t openai_chat_response_fast(const char *body, size_t len, const char *id, char *out,
                                 size_t outlen, struct openai_fast_usage *usage);

/* The same for a native /api/generate answer -> "text_completion" object
 * (openai_completion_response_new). */
size_t openai_completion_response_fast(const char *body, size_t len, const char *id, char *out,
                                       size_t outlen, struct openai_fast_usage *usage);

/* A stream's common token line, {"model","created_at","message":{"role","content"},
 * "done":false} (members in any order; "created_at" and "role" may be missing) written as the
 * one SSE event openai_chat_stream_feed gives for it, "data: {chunk}\n\n" as ep_openai.c writes a
 * frame, the content re-escaped as jansson dumps it. Updates s as the feed would (the first
 * line's created, from the clock when it has none that parses, as the feed takes it).
 *
 * Returns 0, changing nothing, when the stream already finished, when s->id needs escaping,
 * when the line's "model" is missing, empty, escaped or longer than s->model holds, for any
 * line outside the covered shape, and when out is too small: then use json_loadb and
 * openai_chat_stream_feed. */
size_t openai_chat_stream_fast(struct openai_stream *s, const char *line, size_t len, char *out,
                               size_t outlen);

/* The stream's done line: a native /api/chat NDJSON line of the chat shape above (members but
 * "model" and "done" may be missing) written as every SSE event openai_chat_stream_feed gives
 * for it, each "data: {chunk}\n\n" as ep_openai.c writes a frame: a content chunk (when the line
 * has content or no chunk carried the role yet), the finish chunk and, with include_usage, the
 * usage chunk. Not "data: [DONE]": the stream is then finished and, as for OPENAI_STREAM_DONE,
 * the caller ends it. Updates s as the feed would and fills usage as for the answer.
 *
 * Returns 0, changing nothing, when the stream already finished, when s->id needs escaping,
 * when the line's "model" is missing, empty, escaped or longer than s->model holds, when the
 * stream has no created yet and the line's "created_at" does not parse (the slow path would
 * take the clock), when "done_reason" is anything but missing, "", "stop" or "length", for any
 * line outside the covered shape, and when out is too small: then use json_loadb and
 * openai_chat_stream_feed. */
size_t openai_chat_stream_done_fast(struct openai_stream *s, const char *line, size_t len,
                                    char *out, size_t outlen, struct openai_fast_usage *usage);

/* The same for a native /api/generate done line (the completions shape above) against
 * openai_completion_stream_feed: the chunk with the line's text and the finish_reason (with
 * zero usage when asked), then the usage chunk when asked. */
size_t openai_completion_stream_done_fast(struct openai_stream *s, const char *line, size_t len,
                                          char *out, size_t outlen,
                                          struct openai_fast_usage *usage);

/* The inside of a JSON string token jsonstr_scan accepted (n bytes at p; esc: it holds a
 * backslash) written as jansson's compact dump writes the decoded string, quotes included: the
 * string writer of every fast path that writes JSON (anthropic_fast too). */
struct outbuf;
void openai_fast_put_string(struct outbuf *o, const char *p, size_t n, int esc);

#endif
