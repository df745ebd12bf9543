/* anthropic_types: the plain data the Anthropic Messages translation (api/anthropic.c) shares
 * with its stream fast path (fast/anthropic_fast.c): a stream converter's state. Below both, so
 * neither includes the other's floor. The state lives in the relay's stream_size bytes; what it
 * allocates (the request's model, the tool-call ids' hashes) is freed by anthropic_stream_close. */
#ifndef KEEPWARM_ANTHROPIC_TYPES_H
#define KEEPWARM_ANTHROPIC_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* Distinct tool-call ids one stream remembers (Ollama skips a call whose id it has sent:
 * anthropic/anthropic.go toolCallsSent). Past the cap, calls are still sent, unchecked. Each
 * is held as a 64-bit hash, never as a copy: an id may be as long as Ollama's line
 * (max_line_size), and 1024 copies of such ids would be a stream's memory for the taking. */
#define ANTHROPIC_MAX_TOOL_IDS 1024
/* The request's model held for message_start: longer names are cut (Ollama's own cap on a
 * model name is far below). */
#define ANTHROPIC_MAX_MODEL 1024

/* anthropic_stream.finished */
enum { ANTHROPIC_FINISHED_DONE = 1, ANTHROPIC_FINISHED_ERROR = 2 };

/* One stream's converter (Ollama's StreamConverter, anthropic/anthropic.go fb30760). */
struct anthropic_stream {
    char id[48];              /* "msg_<24 hex>", fixed for the stream */
    char *model_owned;        /* the request's model, for message_start ("" when NULL) */
    long long estimate;       /* message_start's input_tokens */
    int started;              /* message_start was written */
    int index;                /* the current content block */
    int thinking_started;     /* a thinking block was opened */
    int thinking_done;        /* ... and closed: later thinking is dropped */
    int text_started;         /* a text block is open */
    int tool_sent;            /* a tool_use block was sent: stop_reason "tool_use" */
    int finished;             /* 0, ANTHROPIC_FINISHED_DONE or ANTHROPIC_FINISHED_ERROR */
    uint64_t *tool_ids_owned; /* hashes of the tool-call ids sent, ntool_ids of them */
    size_t ntool_ids, tool_ids_cap;
};

#endif
