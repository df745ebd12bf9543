/* sse: the named-event SSE framing (sse.h). */
#include "sse.h"

#include <string.h>

#include "endpoint.h"

void sse_named_add(struct evbuffer *out, const json_t *payload) {
    const json_t *type = json_object_get(payload, "type");
    const char *name = json_is_string(type) ? json_string_value(type) : "error";
    evbuffer_add(out, "event: ", 7);
    evbuffer_add(out, name, strlen(name));
    evbuffer_add(out, "\ndata: ", 7);
    endpoint_add_json(out, payload);
    evbuffer_add(out, "\n\n", 2);
}

void sse_named_add_all(struct evbuffer *out, const json_t *events) {
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e) sse_named_add(out, e);
}
