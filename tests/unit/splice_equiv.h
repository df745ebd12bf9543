/* The contract between the native fast path (jscan + splice) and the jansson path
 * (json_loadb with JSON_REJECT_DUPLICATES, then policy_apply), both run by request_build_way,
 * the function server.c calls, checked on one body; and jscan's spans against jansson's
 * values. Shared by tests/unit/test_splice.c and tests/fuzz/fuzz_splice.c. */
#ifndef KEEPWARM_SPLICE_EQUIV_H
#define KEEPWARM_SPLICE_EQUIV_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body_equiv.h"
#include "config.h"
#include "endpoint.h"
#include "jscan.h"
#include "request.h"
#include "splice.h"

enum splice_outcome {
    SPLICE_MISMATCH = -1, /* the fast path broke its contract; why says how */
    SPLICE_DECLINED = 0,  /* no fast-path body: the jansson path serves the request */
    SPLICE_SPLICED = 1,   /* a fast-path body, json_equal to the jansson path's */
};

static inline int splice_mismatch(char *why, size_t whylen, const char *what, const char *body,
                                  size_t len) {
    snprintf(why, whylen, "%s; body (%zu bytes): %.300s", what, len, body);
    return SPLICE_MISMATCH;
}

/* The top-level value at span equals want (borrowed; NULL when absent). */
static inline int splice_span_is(const char *body, struct jscan_span span, const json_t *want) {
    if (!span.len || !want)
        return !span.len && !want;
    json_t *v = json_loadb(body + span.off, span.len, JSON_DECODE_ANY, NULL);
    int same = v && json_equal(v, (json_t *)want);
    json_decref(v);
    return same;
}

/* Runs body (len bytes, NUL-terminated) both ways under cfg. */
static inline enum splice_outcome splice_compare(const struct config *cfg, const char *body,
                                                 size_t len, char *why, size_t whylen) {
    enum splice_outcome rc = SPLICE_DECLINED;
    const struct endpoint *ep = &endpoint_native_inject;
    struct request_out slow_out, fast = {0};
    struct api_err err;
    struct jscan scan;
    size_t outlen = 0;
    char *out = NULL;
    json_t *orig = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    int parsed = orig && json_is_object(orig);
    slow_out.meta = (struct endpoint_meta){0, 0, 0, NULL};
    int applied =
        request_build_way(ep, cfg, "/api/chat", body, len, REQUEST_JANSSON, &slow_out, &err) == 0;
    json_t *slow = applied ? json_loads(slow_out.body, JSON_REJECT_DUPLICATES, NULL) : NULL;
    struct runopts slow_runner = slow_out.runner;
    request_out_cleanup(&slow_out);

    if (jscan_body(body, len, &scan) < 0) {
        if (!scan.why)
            rc = splice_mismatch(why, whylen, "jscan failed without a reason", body, len);
        else if (scan.invalid && parsed) /* jscan says invalid, jansson accepts */
            rc = splice_mismatch(why, whylen, scan.why, body, len);
        goto cleanup;
    }
    if (!parsed) {
        rc = splice_mismatch(why, whylen, "jscan accepts, jansson rejects", body, len);
        goto cleanup;
    }
    const json_t *jm = json_object_get(orig, "model");
    if (!splice_span_is(body, scan.model, jm) ||
        !splice_span_is(body, scan.keep_alive, json_object_get(orig, "keep_alive")) ||
        !splice_span_is(body, scan.options, json_object_get(orig, "options")) ||
        scan.members != json_object_size(orig) || body[scan.close] != '}') {
        rc = splice_mismatch(why, whylen, "jscan spans differ from jansson's values", body, len);
        goto cleanup;
    }
    if (scan.has_model != json_is_string(jm) ||
        (scan.has_model && strcmp(scan.model_name, json_string_value(jm)) != 0)) {
        rc = splice_mismatch(why, whylen, "jscan decoded the model differently", body, len);
        goto cleanup;
    }
    if (request_build_way(ep, cfg, "/api/chat", body, len, REQUEST_FAST, &fast, &err) != 0)
        goto cleanup;
    out = fast.body;
    outlen = fast.body_len;
    fast.body = NULL;
    if (!applied) {
        rc = splice_mismatch(why, whylen, "spliced a body policy_apply rejects", body, len);
        goto cleanup;
    }
    char what[768];
    if (body_equiv_check("spliced", out, outlen, len + SPLICE_GROWTH, slow, what, sizeof(what)) <
        0) {
        rc = splice_mismatch(why, whylen, what, body, len);
        goto cleanup;
    }
    if (!fast.has_runner || memcmp(&fast.runner, &slow_runner, sizeof(slow_runner)) != 0) {
        rc = splice_mismatch(why, whylen, "runner options differ from the jansson path's", body,
                             len);
        goto cleanup;
    }
    rc = SPLICE_SPLICED;
cleanup:
    free(out);
    request_out_cleanup(&fast);
    json_decref(orig);
    json_decref(slow);
    return rc;
}

#endif
