/* tokline: the scan of the common line of Ollama's /api/chat stream, shared by the stream fast
 * paths that write a delta from it (anthropic_fast, responses_fast):
 *   {"model":s,"created_at":s,"message":{"role":s,"content":s,"thinking":s},"done":false}
 * members in any order, each at most once, every one optional but "done", which must be
 * false; nothing else, and nothing after the object but white space. The strings are validated
 * as json_loadb accepts them (jtok) and left as spans into the line. Pure: no I/O, no
 * allocation. */
#ifndef KEEPWARM_TOKLINE_H
#define KEEPWARM_TOKLINE_H

#include <stddef.h>

#include "jtok.h"

struct tokline {
    struct jtok model, created_at, role, content, thinking; /* .set: the member was there */
    int message_set;                                        /* "message" was there */
};

/* 0 when line[0, len) is that shape (l filled), else -1 (l undefined). */
int tokline_scan(const char *line, size_t len, struct tokline *l);

#endif
