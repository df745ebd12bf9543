/* errtext: the text of an error answer, whichever API's envelope carries it: a message made
 * safe for JSON, a native error answer read as Ollama writes it, and the classification of
 * texts every API reports the same way (context length). The envelopes themselves belong to
 * each API (openai_error_new; Ollama's own is errtext_native_new). Pure: no I/O, no globals. */
#ifndef KEEPWARM_ERRTEXT_H
#define KEEPWARM_ERRTEXT_H

#include <jansson.h>
#include <stddef.h>

/* A JSON string from text that may hold invalid UTF-8 (a message cut mid-character, a binary
 * body): each invalid byte becomes U+FFFD; NULL is "". New reference (NULL only when out of
 * memory). */
json_t *errtext_json_new(const char *text);

/* Ollama's native envelope, {"error": text}, text through errtext_json_new. New reference. */
json_t *errtext_native_new(const char *message);

/* 1 when an error text says the prompt exceeded the context length, in any of the words Ollama
 * and llama.cpp use ("context_length_exceeded", "context length"/"context window" with
 * "exceed"/"longer than"/"too long", any case), else 0. */
int errtext_is_context_length(const char *message);

/* A native error answer (status and raw body, not NUL-terminated) read for its message and
 * code: {"error":"text"} or {"error":{"message","code"}} as JSON; else (plain text, JSON
 * without an error text) the body itself, trimmed of white space and cut at 4096 bytes; an
 * empty one "upstream returned HTTP <status>". A context-length text without a code gets
 * code "context_length_exceeded". message and code point into e (code may be NULL; message is
 * NULL only when out of memory) until errtext_native_clear. */
struct errtext_native {
    const char *message;
    const char *code;
    json_t *parsed_; /* owned: the parsed body message and code may point into */
    char *text_;     /* owned: the copied body text or the status text */
};
void errtext_native_read(int status, const char *body, size_t len, struct errtext_native *e);
void errtext_native_clear(struct errtext_native *e);

#endif
