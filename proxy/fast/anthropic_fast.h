/* anthropic_fast: the fast path for a /v1/messages stream's common token line, from Ollama's
 * bytes to the SSE event, without a JSON tree (tokline to scan the line, outbuf and
 * openai_fast_put_string to write, as openai_fast writes). Pure: no I/O, no allocation.
 *
 * Covered: {"model":s,"created_at":s,"message":{"role":s,"content":s[,"thinking":s]},
 * "done":false} (members in any order, each at most once; "created_at", "role" may be missing)
 * where the line is one delta inside the block already open: content non-empty (thinking
 * missing or "") with a text block open, or thinking non-empty (content missing or "") with a
 * thinking block open and not done. Written: exactly what anthropic_stream_feed gives for it,
 * framed as ep_anthropic.c frames an event:
 *   event: content_block_delta\ndata: {"type":"content_block_delta","index":N,
 *   "delta":{"type":"text_delta","text":T}}\n\n      (thinking: thinking_delta, "thinking")
 * The state does not change (a delta inside an open block changes nothing).
 *
 * Returns 0 for anything else (the first line, a block to open or close, tool calls, the done
 * line, an error line, any other member, an escaped key, out too small): the jansson path. */
#ifndef KEEPWARM_ANTHROPIC_FAST_H
#define KEEPWARM_ANTHROPIC_FAST_H

#include <stddef.h>

#include "anthropic_types.h"

size_t anthropic_stream_fast(const struct anthropic_stream *s, const char *line, size_t len,
                             char *out, size_t outlen);

#endif
