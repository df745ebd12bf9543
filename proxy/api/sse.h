/* sse: the named-event framing of a Server-Sent Events stream, "event: <type>\ndata:
 * <compact JSON>\n\n", as Ollama's AnthropicWriter and ResponsesWriter write it (ollama/ollama
 * fb30760 middleware/anthropic.go, middleware/openai.go): the event's name is its payload's
 * "type" member ("error" when it has none). One writer for the APIs whose streams name their
 * events (/v1/responses; /v1/messages frames the same way). Appends to the evbuffer it is
 * given; no other I/O. The jansson path's framing: the fast paths write the same bytes
 * themselves (responses_fast.h, anthropic_fast.h). */
#ifndef KEEPWARM_SSE_H
#define KEEPWARM_SSE_H

#include <event2/buffer.h>
#include <jansson.h>

/* Appends payload (an object, borrowed) as one named event. */
void sse_named_add(struct evbuffer *out, const json_t *payload);

/* Appends each element of events (an array of payloads, borrowed) as one named event, in
 * order. */
void sse_named_add_all(struct evbuffer *out, const json_t *events);

#endif
