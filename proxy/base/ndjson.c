/* ndjson: capped line splitter. Whole lines inside one feed are delivered straight from the
 * caller's bytes; only a line split across feeds is copied. */
#include "ndjson.h"

#include <stdlib.h>
#include <string.h>

void ndjson_init(struct ndjson *s, size_t max_line) {
    s->buf = NULL;
    s->len = s->cap = 0;
    s->max = max_line;
}

void ndjson_cleanup(struct ndjson *s) {
    free(s->buf);
    s->buf = NULL;
    s->len = s->cap = 0;
}

static int deliver(const char *line, size_t len, ndjson_line_fn fn, void *arg) {
    if (len && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return 0;
    return fn(arg, line, len) < 0 ? -1 : 0;
}

static int append(struct ndjson *s, const char *data, size_t len) {
    if (s->len + len > s->max)
        return -2;
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->len + len)
            cap *= 2;
        if (cap > s->max + 1)
            cap = s->max + 1;
        char *nb = realloc(s->buf, cap);
        if (!nb)
            return -3;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    return 0;
}

int ndjson_feed(struct ndjson *s, const char *data, size_t len, ndjson_line_fn fn, void *arg) {
    while (len) {
        const char *nl = memchr(data, '\n', len);
        if (!nl)
            return append(s, data, len);
        size_t part = (size_t)(nl - data);
        int rc;
        if (s->len) {
            if ((rc = append(s, data, part)) < 0)
                return rc;
            size_t whole = s->len;
            s->len = 0;
            rc = deliver(s->buf, whole, fn, arg);
        } else {
            if (part > s->max)
                return -2;
            rc = deliver(data, part, fn, arg);
        }
        if (rc < 0)
            return rc;
        data = nl + 1;
        len -= part + 1;
    }
    return 0;
}

int ndjson_finish(struct ndjson *s, ndjson_line_fn fn, void *arg) {
    if (!s->len)
        return 0;
    size_t n = s->len;
    s->len = 0;
    return deliver(s->buf, n, fn, arg);
}
