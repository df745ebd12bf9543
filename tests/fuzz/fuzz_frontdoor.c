/* libFuzzer target: the front door's pure checks (proxy/base/frontdoor.h).
 *
 * - frontdoor_head_feed gives the same verdict and head length whether the bytes come whole
 *   or in fuzzer-chosen pieces, and a head it accepts holds no control byte but HTAB and
 *   CRLF line ends;
 * - frontdoor_json_cost is exactly the cost of the tree jansson builds from the same bytes
 *   (containers FRONTDOOR_JSON_CONTAINER_COST, keys and scalars 1) whenever jansson parses
 *   them, never more than FRONTDOOR_JSON_CONTAINER_COST per byte, and -1 exactly over the cap;
 * - frontdoor_parse_length accepts exactly 1-19 decimal digits up to INT64_MAX, with their value.
 *
 * Input: byte 0 seeds the piece sizes (0: one piece), then the bytes. */
#include "frontdoor.h"
#include "fuzz.h"

static long tree_cost(const json_t *v) {
    long c;
    const char *key;
    json_t *child;
    size_t i;
    switch (json_typeof(v)) {
        case JSON_OBJECT:
            c = FRONTDOOR_JSON_CONTAINER_COST;
            json_object_foreach((json_t *)v, key, child) {
                (void)key;
                c += 1 + tree_cost(child);
            }
            return c;
        case JSON_ARRAY:
            c = FRONTDOOR_JSON_CONTAINER_COST;
            json_array_foreach(v, i, child) c += tree_cost(child);
            return c;
        default:
            return 1;
    }
}

static void check_head(const char *p, size_t n, unsigned seed) {
    struct frontdoor_head whole, cut;
    frontdoor_head_init(&whole);
    size_t used = frontdoor_head_feed(&whole, p, n);
    FUZZ_CHECK("head-used", used <= n && (whole.done || used == n), "used %zu of %zu", used, n);
    frontdoor_head_init(&cut);
    size_t used2 = 0, off = 0;
    while (off < n) {
        size_t piece = seed ? 1 + (seed * 31 + off) % 13 : n;
        if (piece > n - off)
            piece = n - off;
        used2 += frontdoor_head_feed(&cut, p + off, piece);
        off += piece;
    }
    FUZZ_CHECK("head-pieces", used2 == used && cut.done == whole.done && !cut.bad == !whole.bad,
               "whole: used %zu done %d bad %s; pieces: used %zu done %d bad %s", used, whole.done,
               whole.bad ? whole.bad : "-", used2, cut.done, cut.bad ? cut.bad : "-");
    if (whole.done && !whole.bad) {
        for (size_t i = 0; i < used; i++) {
            unsigned char c = (unsigned char)p[i];
            FUZZ_CHECK("head-clean",
                       (c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n' ||
                           (c == '\r' && i + 1 < used && p[i + 1] == '\n'),
                       "accepted byte 0x%02x at %zu", c, i);
        }
    }
}

static void check_json(const char *p, size_t n) {
    long cost = frontdoor_json_cost(p, n, 1L << 40);
    FUZZ_CHECK("json-bound", cost >= 0 && cost <= (long)n * FRONTDOOR_JSON_CONTAINER_COST,
               "cost %ld for %zu bytes", cost, n);
    if (cost > 0) {
        FUZZ_CHECK("json-cap",
                   frontdoor_json_cost(p, n, cost - 1) == -1 &&
                       frontdoor_json_cost(p, n, cost) == cost,
                   "cap at %ld", cost);
    }
    json_t *v = json_loadb(p, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (v) {
        long want = tree_cost(v);
        FUZZ_CHECK("json-tree", want == cost, "scan says %ld, jansson's tree %ld", cost, want);
        json_decref(v);
    }
}

static void check_length(const char *p, size_t n) {
    char s[32];
    size_t len = n < sizeof(s) - 1 ? n : sizeof(s) - 1;
    memcpy(s, p, len);
    s[len] = '\0';
    len = strlen(s);
    int digits = len >= 1 && len <= 19;
    unsigned long long ref = 0;
    for (size_t i = 0; digits && i < len; i++) {
        digits = s[i] >= '0' && s[i] <= '9';
        ref = ref * 10 + (unsigned long long)(s[i] - '0');
    }
    int want = digits && ref <= (unsigned long long)INT64_MAX;
    uint64_t got = 0;
    int rc = frontdoor_parse_length(s, &got);
    FUZZ_CHECK("length", (rc == 0) == want && (!want || got == ref), "\"%s\": rc %d value %llu", s,
               rc, (unsigned long long)got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    check_head(p, n, data[0]);
    check_json(p, n);
    check_length(p, n);
    return 0;
}
