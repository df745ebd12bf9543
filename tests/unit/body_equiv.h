/* The last check both request-body fast paths (splice, reqfast) share with their jansson path:
 * the fast body is whole, within its cap, and parses to the same JSON. Included by
 * splice_equiv.h and reqfast_equiv.h. */
#ifndef KEEPWARM_BODY_EQUIV_H
#define KEEPWARM_BODY_EQUIV_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* out (outlen bytes, NUL-terminated), written by the fast path named label, holds no NUL, is at
 * most cap bytes and json_equal to slow, the jansson path's body. Returns 0, or -1 with what
 * differs in what. */
static inline int body_equiv_check(const char *label, const char *out, size_t outlen, size_t cap,
                                   const json_t *slow, char *what, size_t whatlen) {
    json_error_t e;
    json_t *got;
    if (outlen != strlen(out) || outlen > cap) {
        snprintf(what, whatlen, "%s body length wrong or beyond cap", label);
        return -1;
    }
    if (!(got = json_loadb(out, outlen, JSON_REJECT_DUPLICATES, &e))) {
        snprintf(what, whatlen, "%s body does not parse (%s): %.200s", label, e.text, out);
        return -1;
    }
    int same = json_equal(got, (json_t *)slow);
    json_decref(got);
    if (!same) {
        char *want = json_dumps(slow, JSON_COMPACT);
        snprintf(what, whatlen, "%s %.300s, jansson path %.300s", label, out, want ? want : "?");
        free(want);
        return -1;
    }
    return 0;
}

#endif
