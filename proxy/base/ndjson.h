/* ndjson: splits a byte stream into '\n'-terminated lines, with a cap on one line's length.
 * Pure (no I/O), so it can be fuzzed. The splitter owns its buffer (a partial line);
 * ndjson_init/ndjson_cleanup bracket its life. */
#ifndef KEEPWARM_NDJSON_H
#define KEEPWARM_NDJSON_H

#include <stddef.h>

struct ndjson {
    char *buf;  /* the partial line carried between feeds */
    size_t len; /* bytes in buf */
    size_t cap; /* bytes allocated */
    size_t max; /* longest line allowed, without the newline */
};

/* Called once per complete line (without '\n'; a trailing '\r' is removed; empty lines are
 * skipped). Return 0 to go on, -1 to stop (ndjson_feed then returns -1). */
typedef int (*ndjson_line_fn)(void *arg, const char *line, size_t len);

void ndjson_init(struct ndjson *s, size_t max_line);
void ndjson_cleanup(struct ndjson *s);

/* Feeds bytes. Returns 0; -1 if the callback stopped; -2 if a line exceeds max (the stream
 * cannot go on); -3 out of memory. */
int ndjson_feed(struct ndjson *s, const char *data, size_t len, ndjson_line_fn fn, void *arg);

/* End of stream: delivers a last line that had no newline. Same returns as ndjson_feed. */
int ndjson_finish(struct ndjson *s, ndjson_line_fn fn, void *arg);

#endif
