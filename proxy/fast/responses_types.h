/* responses_types: the state of one /v1/responses stream converter, shared by its jansson
 * path (api/responses.c) and its fast path (responses_fast.c), which sits on a floor below;
 * and the capped text buffer both accumulate into. */
#ifndef KEEPWARM_RESPONSES_TYPES_H
#define KEEPWARM_RESPONSES_TYPES_H

#include <jansson.h>
#include <stddef.h>

#include "id.h"

/* The longest accumulated message text or thinking a stream keeps for its closing events
 * (responses_stream.text_max's default); a stream past it ends with an error event. */
#define RESPONSES_TEXT_MAX (16u << 20)

/* The most output items (reasoning and function calls) a stream keeps for response.completed
 * (responses_stream.items_max's default); one more ends the stream with an error event. */
#define RESPONSES_ITEMS_MAX 1024

/* A buffer the stream accumulates into (message text, thinking), NUL-terminated when p. */
struct responses_text {
    char *p;
    size_t len, cap;
};

/* One request's converter (the relay's stream state): responses_stream_init, then
 * responses_stream_free once (responses.h). */
struct responses_stream {
    json_t *echo; /* owned reference: what the answer repeats from the request */
    char resp_id[ID_MAX], msg_id[ID_MAX], rs_id[ID_MAX];
    long long seq;    /* the next sequence_number */
    long long index;  /* Ollama's outputIndex */
    int started;      /* response.created was sent */
    int content_open; /* the message item was added */
    int reasoning_open;
    int tools_sent; /* the latch: content is dropped from then on */
    int finished;   /* completed, or an error event was sent */
    struct responses_text text, thinking;
    json_t *items;    /* completed reasoning and function_call items, in order (owned) */
    size_t kept;      /* bytes of text in items (reasoning texts, call arguments) */
    size_t text_max;  /* RESPONSES_TEXT_MAX: kept + text + thinking; tests lower it */
    size_t items_max; /* RESPONSES_ITEMS_MAX; tests lower it */
};

/* 1 when n more bytes of text fit: all the text the stream keeps for its closing events (the
 * open message and reasoning texts, the completed items') stays within text_max. */
static inline int responses_room(const struct responses_stream *s, size_t n) {
    size_t used = s->kept + s->text.len + s->thinking.len;
    return used <= s->text_max && n <= s->text_max - used;
}

/* Appends p[0, n) to t: 0, or -1 with nothing appended when out of memory. The cap is the
 * caller's: responses_room first. */
int responses_text_add(struct responses_text *t, const char *p, size_t n);

#endif
