/* responses_fast: the fast path for a /v1/responses stream's common line, one text or thinking
 * delta inside an item that is already open, written as its one named SSE event straight from
 * the line's bytes, without a JSON tree (the jansson path: responses.c responses_stream_feed,
 * framed by ep_responses.c). Pure: no I/O; it grows the stream's text buffers only
 * (responses_text_add), as the feed does.
 *
 * Covered: {"model":"…","created_at":"…","message":{"role":"…","content":"…"[,"thinking":"…"]},
 * "done":false}, members in any order, each at most once ("model", "created_at" and "role" may
 * be missing), strings as json_loadb accepts them (jsonstr), and exactly one of content and
 * thinking non-empty: content when the message item is open and no reasoning item is (an
 * "response.output_text.delta"), thinking when the reasoning item is open (a
 * "response.reasoning_summary_text.delta"). Anything else returns 0: the stream not started,
 * finished, or past a tool call; a first delta (it opens an item), images, tool calls, an
 * unknown or duplicate member, an escaped key, a delta longer than RESPONSES_FAST_DELTA_MAX
 * bytes, a delta past the stream's text_max, and an output that does not fit.
 *
 * Output: byte for byte what ep_responses.c writes for the feed's event ("event: <type>\ndata:
 * " + json_dumpb(JSON_COMPACT) + "\n\n"; the delta by openai_fast_put_string), and the state
 * (sequence number, accumulated text) the feed leaves. Held by tests/unit/test_responses.c's
 * equivalence suite and the responses_stream fuzz target. */
#ifndef KEEPWARM_RESPONSES_FAST_H
#define KEEPWARM_RESPONSES_FAST_H

#include <stddef.h>

#include "responses_types.h"

/* The longest delta (raw JSON string bytes) the fast path takes; one holding an escape is
 * decoded on its stack, one without is written and kept from the line's bytes. */
#define RESPONSES_FAST_DELTA_MAX 4096

/* Writes the event for line[0, len) into out (outlen bytes) and returns its length, updating
 * s as responses_stream_feed would; 0 (s unchanged) when the line is not covered. */
size_t responses_stream_fast(struct responses_stream *s, const char *line, size_t len, char *out,
                             size_t outlen);

#endif
