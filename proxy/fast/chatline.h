/* chatline: the scanner of a native /api/chat stream's token line as the named-event stream
 * fast paths take it (responses_fast; anthropic_fast scans the same shape): {"model":"…",
 * "created_at":"…","message":{"role":"…","content":"…","thinking":"…"},"done":false}, members
 * in any order, each at most once, any of them but "done" missing, white space as JSON allows,
 * strings as json_loadb accepts them (jtok). Any other member, value or shape (an unknown or
 * duplicate member, an escaped key, images, tool calls, done true) is refused. Pure: no I/O, no
 * allocation; the spans point into the line. */
#ifndef KEEPWARM_CHATLINE_H
#define KEEPWARM_CHATLINE_H

#include <stddef.h>

#include "jtok.h"

struct chatline {
    struct jtok model, created_at, role, content, thinking; /* .set: the member was there */
    int message;                                            /* the "message" member was there */
};

/* Scans line[0, len) into l: 0, or -1 when the line is not of that shape. */
int chatline_scan(const char *line, size_t len, struct chatline *l);

#endif
