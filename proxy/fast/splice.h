/* splice: the fast path for native request bodies. Instead of parsing a body with jansson,
 * applying policy_apply and encoding it again, it copies the client's bytes and writes only
 * the keep_alive policy_apply would set, in place of the client's or before the closing
 * brace. It applies when that is the only change policy_apply makes and it makes it without
 * an error; otherwise the caller takes the jansson path. The output parses to a value
 * json_equal to the jansson path's (tests/unit/test_splice.c, tests/fuzz/fuzz_splice.c). */
#ifndef KEEPWARM_SPLICE_H
#define KEEPWARM_SPLICE_H

#include <stddef.h>

#include "config.h"
#include "jscan.h"
#include "runopts.h"

#define SPLICE_KEEP_ALIVE_MAX 64 /* the injected keep_alive's JSON text */
/* The output is at most len + SPLICE_GROWTH bytes (plus a NUL). */
#define SPLICE_GROWTH (sizeof(",\"keep_alive\":") - 1 + SPLICE_KEEP_ALIVE_MAX)

/* The keep_alive text (JSON, NUL-terminated in buf) policy_apply would set for model (may be
 * NULL) in a body whose own keep_alive is the JSON text value[0, vlen) (vlen 0: absent; the
 * text must be one jscan_body accepted). Returns its length, or 0 when policy_apply would
 * refuse the client's value or buf (len bytes) is too small. */
size_t splice_keep_alive_text(const struct config *cfg, const char *model, const char *value,
                              size_t vlen, char *buf, size_t len);

/* body[0, len), scanned by jscan_body into scan (which returned 0), rewritten as
 * policy_apply would rewrite it. Returns a malloc'd, NUL-terminated body and its length in
 * *outlen, with the runner options of its "options" object recorded into runner when it is
 * not NULL (a walk over that one member's text, which jscan_body validated: the same texts
 * runopts_from_json gives the jansson path), or NULL (runner untouched) when the fast path does not
 * apply (or out of memory): the model is not a string; the model has pinned options or
 * num_predict_max; options is present and not an object; under the "default" policy the client's
 * keep_alive is neither absent, null, a string nor a number, or is one policy_apply rejects. */
char *splice_native_new(const struct config *cfg, const char *body, size_t len,
                        const struct jscan *scan, size_t *outlen, struct runopts *runner);

#endif
