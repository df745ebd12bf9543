/* libFuzzer target: the NDJSON line splitter (proxy/base/ndjson.h). The same bytes are fed in
 * fuzzer-chosen pieces and compared with a one-shot reference split, so a line is delivered
 * the same way however the network cuts the stream, and never longer than the cap.
 *
 * Input: byte 0 picks the cap (1..128, or 512-byte steps up to ~64 KiB), byte 1 seeds the
 * piece sizes (0: one piece), byte 2 makes the callback stop at that line (0: never), then
 * the stream. */
#include "fuzz.h"
#include "ndjson.h"

struct lines {
    char *text; /* delivered lines, each followed by '\n' */
    size_t len, cap;
    size_t count;
    size_t stop_at; /* callback returns -1 on this line (1-based); 0: never */
    size_t max;
};

static void add(struct lines *l, const char *line, size_t len) {
    if (l->len + len + 1 > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        while (cap < l->len + len + 1)
            cap *= 2;
        char *p = realloc(l->text, cap);
        if (!p)
            abort();
        l->text = p;
        l->cap = cap;
    }
    memcpy(l->text + l->len, line, len);
    l->len += len;
    l->text[l->len++] = '\n';
    l->count++;
}

static int on_line(void *arg, const char *line, size_t len) {
    struct lines *l = arg;
    FUZZ_CHECK("ndjson-line", len > 0 && len <= l->max && !memchr(line, '\n', len),
               "delivered a line of %zu bytes (cap %zu) or one holding a newline", len, l->max);
    add(l, line, len);
    return l->stop_at && l->count == l->stop_at ? -1 : 0;
}

/* The split the contract describes, on the whole stream at once. Returns what ndjson_feed or
 * ndjson_finish must end with: 0, -1 (stopped) or -2 (a line longer than max). */
static int reference(const char *p, size_t n, struct lines *l) {
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t part = nl ? (size_t)(nl - p) : n;
        if (part > l->max)
            return -2;
        size_t len = part;
        if (len && p[len - 1] == '\r')
            len--;
        if (len && on_line(l, p, len) < 0)
            return -1;
        if (!nl)
            break;
        p = nl + 1;
        n -= part + 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3)
        return 0;
    size_t max = data[0] < 128 ? (size_t)data[0] + 1 : (size_t)(data[0] - 127) * 512;
    uint32_t seed = data[1];
    struct lines got = {.stop_at = data[2], .max = max};
    struct lines want = {.stop_at = data[2], .max = max};
    const char *p = (const char *)data + 3;
    size_t n = size - 3;

    int want_rc = reference(p, n, &want);

    struct ndjson nd;
    ndjson_init(&nd, max);
    int rc = 0;
    size_t off = 0;
    while (off < n) {
        size_t piece = n - off;
        if (seed) {
            seed = seed * 1103515245u + 12345u;
            size_t r = (seed >> 16) % 67;
            piece = r < 64 ? r : n - off; /* 0-byte pieces too */
            if (piece > n - off)
                piece = n - off;
        }
        rc = ndjson_feed(&nd, p + off, piece, on_line, &got);
        FUZZ_CHECK("ndjson-rc", rc == 0 || rc == -1 || rc == -2, "ndjson_feed returned %d", rc);
        FUZZ_CHECK("ndjson-buffer", nd.len <= max && nd.cap <= max + 1,
                   "carried %zu bytes in %zu allocated (cap %zu)", nd.len, nd.cap, max);
        if (rc < 0)
            break;
        off += piece;
    }
    if (rc == 0)
        rc = ndjson_finish(&nd, on_line, &got);
    ndjson_cleanup(&nd);

    FUZZ_CHECK("ndjson-result", rc == want_rc, "returned %d, the whole-stream split says %d", rc,
               want_rc);
    FUZZ_CHECK("ndjson-lines",
               got.count == want.count && got.len == want.len &&
                   (!got.len || !memcmp(got.text, want.text, got.len)),
               "delivered %zu lines (%zu bytes), the whole-stream split %zu (%zu bytes)", got.count,
               got.len, want.count, want.len);
    free(got.text);
    free(want.text);
    return 0;
}
