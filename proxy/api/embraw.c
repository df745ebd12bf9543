/* embraw: Ollama's embedding numbers spliced into the /v1 answer (contract in embraw.h). The
 * native answer has been parsed by jansson already, so the scan here only finds its way: it
 * skips values without validating them, and refuses what it does not expect. */
#include "embraw.h"

#include <string.h>

static size_t blanks(const char *p, size_t i, size_t n) {
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* p[i] is '"': the index after the closing quote (n if none); *escaped when it holds a '\'. */
static size_t skip_string(const char *p, size_t i, size_t n, int *escaped) {
    for (i++; i < n; i++) {
        if (p[i] == '\\') {
            *escaped = 1;
            i++;
        } else if (p[i] == '"') {
            return i + 1;
        }
    }
    return n;
}

/* The index after the value at p[i] (a string, a container, a scalar); n if it runs out. */
static size_t skip_value(const char *p, size_t i, size_t n) {
    int esc = 0;
    if (i >= n)
        return n;
    if (p[i] == '"')
        return skip_string(p, i, n, &esc);
    if (p[i] == '{' || p[i] == '[') {
        size_t depth = 0;
        while (i < n) {
            if (p[i] == '"') {
                i = skip_string(p, i, n, &esc);
                continue;
            }
            if (p[i] == '{' || p[i] == '[')
                depth++;
            else if ((p[i] == '}' || p[i] == ']') && --depth == 0)
                return i + 1;
            i++;
        }
        return n;
    }
    while (i < n && p[i] != ',' && p[i] != '}' && p[i] != ']' && p[i] != ' ' && p[i] != '\t' &&
           p[i] != '\n' && p[i] != '\r')
        i++;
    return i;
}

/* The offset of the top-level "embeddings" value, or -1 (absent, twice, a key with an escape,
 * not an object). */
static long find_embeddings(const char *p, size_t n) {
    long at = -1;
    size_t i = blanks(p, 0, n);
    if (i >= n || p[i] != '{')
        return -1;
    for (i = blanks(p, i + 1, n); i < n && p[i] != '}';) {
        int esc = 0;
        if (p[i] != '"')
            return -1;
        size_t k = i + 1, end = skip_string(p, i, n, &esc);
        if (esc || end >= n)
            return -1;
        int is_emb = end - 1 - k == 10 && memcmp(p + k, "embeddings", 10) == 0;
        i = blanks(p, end, n);
        if (i >= n || p[i] != ':')
            return -1;
        i = blanks(p, i + 1, n);
        if (is_emb) {
            if (at >= 0)
                return -1;
            at = (long)i;
        }
        i = blanks(p, skip_value(p, i, n), n);
        if (i < n && p[i] == ',')
            i = blanks(p, i + 1, n);
        else if (i >= n || p[i] != '}')
            return -1;
    }
    return at;
}

/* Copies the array of numbers at p[*i] to b, compact; moves *i past it. -1 if it is not one. */
static int copy_vector(const char *p, size_t *i, size_t n, struct evbuffer *b) {
    size_t j = *i;
    if (j >= n || p[j] != '[')
        return -1;
    evbuffer_add(b, "[", 1);
    j = blanks(p, j + 1, n);
    if (j < n && p[j] == ']') {
        evbuffer_add(b, "]", 1);
        *i = j + 1;
        return 0;
    }
    for (;;) {
        size_t t = j;
        if (t >= n || !(p[t] == '-' || (p[t] >= '0' && p[t] <= '9')))
            return -1;
        while (t < n && ((p[t] >= '0' && p[t] <= '9') || p[t] == '-' || p[t] == '+' ||
                         p[t] == '.' || p[t] == 'e' || p[t] == 'E'))
            t++;
        evbuffer_add(b, p + j, t - j);
        j = blanks(p, t, n);
        if (j < n && p[j] == ']') {
            evbuffer_add(b, "]", 1);
            *i = j + 1;
            return 0;
        }
        if (j >= n || p[j] != ',')
            return -1;
        evbuffer_add(b, ",", 1);
        j = blanks(p, j + 1, n);
    }
}

int embraw_splice(const char *native, size_t nlen, const char *answer, size_t alen,
                  struct evbuffer *out) {
    static const char hole[] = "\"embedding\":[]";
    const size_t hl = sizeof(hole) - 1;
    long at = find_embeddings(native, nlen);
    struct evbuffer *b = NULL;
    int rc = -1, first = 1;
    if (at < 0 || native[at] != '[' || !(b = evbuffer_new()))
        goto done;
    size_t i = (size_t)at + 1, a = 0;
    /* Only a key can be "embedding":[] in the dump: inside a string its quotes are escaped. */
    for (const char *h; (h = memmem(answer + a, alen - a, hole, hl)) != NULL;) {
        size_t cut = (size_t)(h - answer) + hl - 2; /* up to the '[' */
        evbuffer_add(b, answer + a, cut - a);
        i = blanks(native, i, nlen);
        if (!first) {
            if (i >= nlen || native[i] != ',')
                goto done;
            i = blanks(native, i + 1, nlen);
        }
        first = 0;
        if (copy_vector(native, &i, nlen, b) < 0)
            goto done;
        a = cut + 2;
    }
    i = blanks(native, i, nlen);
    if (i >= nlen || native[i] != ']') /* more vectors than holes */
        goto done;
    evbuffer_add(b, answer + a, alen - a);
    evbuffer_add_buffer(out, b);
    rc = 0;
done:
    if (b)
        evbuffer_free(b);
    return rc;
}
