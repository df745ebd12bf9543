/* openai_fast: the non-stream fast path. Ollama's common final answer, written as the OpenAI
 * object straight from its bytes, without a JSON tree: a few thousand instructions instead of
 * jansson's parse, openai_*_response_new and the dump. Pure: no I/O, no allocation.
 *
 * Covered (anything else returns 0 and the caller takes the jansson path):
 *   chat:        {"model","created_at","message":{"role","content"},"done":true,"done_reason",
 *                 "total_duration","load_duration","prompt_eval_count","prompt_eval_duration",
 *                 "eval_count","eval_duration"}
 *   completions: the same with "response" instead of "message", plus "context" (an array of
 *                integers) and "thinking" (a string), both of which the translation ignores.
 * Members may come in any order, each at most once; "done" must be true; "created_at" must
 * parse (openai_parse_time > 0); durations are integers of at most 18 digits, the two counts
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

#endif
