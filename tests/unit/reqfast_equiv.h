/* The contract between the OpenAI request fast path (jscan + reqfast) and the jansson path
 * (json_loadb with JSON_REJECT_DUPLICATES, openai_*_request_new, policy_apply, json_dumps, as
 * server.c runs them), checked on one body. Shared by tests/unit/test_reqfast.c and
 * tests/fuzz/fuzz_reqfast.c. */
#ifndef KEEPWARM_REQFAST_EQUIV_H
#define KEEPWARM_REQFAST_EQUIV_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body_equiv.h"
#include "config.h"
#include "jscan.h"
#include "openai.h"
#include "policy.h"
#include "reqfast.h"

enum reqfast_outcome {
    REQFAST_MISMATCH = -1, /* the fast path broke its contract; why says how */
    REQFAST_DECLINED = 0,  /* no fast-path body: the jansson path serves the request */
    REQFAST_TAKEN = 1,     /* a fast-path body, json_equal to the jansson path's, same meta */
};

static inline int reqfast_mismatch(char *why, size_t whylen, const char *what, const char *body,
                                   size_t len) {
    snprintf(why, whylen, "%s; body (%zu bytes): %.300s", what, len, body);
    return REQFAST_MISMATCH;
}

/* The jansson path's final body, parsed back as Ollama would read it (NULL when that path
 * refuses the request), with its meta and model. */
static inline json_t *reqfast_slow_new(const struct config *cfg, int completion, const char *body,
                                       size_t len, struct openai_meta *meta, char *model,
                                       size_t modellen) {
    char err[512];
    struct openai_err oerr = {0, ""};
    json_t *back = NULL;
    json_t *in = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *native = NULL;
    if (!json_is_object(in))
        goto cleanup;
    native = completion ? openai_completion_request_new(in, meta, &oerr)
                        : openai_chat_request_new(in, meta, &oerr);
    if (!native || policy_apply(cfg, native, err, sizeof(err)) < 0)
        goto cleanup;
    const json_t *m = json_object_get(in, "model");
    snprintf(model, modellen, "%s", json_is_string(m) ? json_string_value(m) : "");
    char *text = json_dumps(native, JSON_COMPACT);
    back = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    free(text);
cleanup:
    json_decref(native);
    json_decref(in);
    return back;
}

/* Runs body (len bytes, NUL-terminated) both ways under cfg, as a chat (completion 0) or a
 * completion request. */
static inline enum reqfast_outcome reqfast_compare(const struct config *cfg, int completion,
                                                   const char *body, size_t len, char *why,
                                                   size_t whylen) {
    enum reqfast_outcome rc = REQFAST_DECLINED;
    struct openai_meta slow_meta = {-1, -1, -1}, fast_meta = {-1, -1, -1};
    char model[1024] = "";
    struct jscan scan;
    size_t outlen = 0;
    char *out = NULL;
    json_t *slow = reqfast_slow_new(cfg, completion, body, len, &slow_meta, model, sizeof(model));

    if (jscan_body(body, len, &scan) == 0)
        out = completion ? reqfast_completion_new(cfg, body, len, &scan, &fast_meta, &outlen)
                         : reqfast_chat_new(cfg, body, len, &scan, &fast_meta, &outlen);
    if (!out) {
        if (fast_meta.stream != -1 || fast_meta.include_usage != -1 || fast_meta.encoding_b64 != -1)
            rc = reqfast_mismatch(why, whylen, "declined but wrote meta", body, len);
        goto cleanup;
    }
    if (!slow) {
        rc = reqfast_mismatch(why, whylen, "fast body for a request the jansson path refuses", body,
                              len);
        goto cleanup;
    }
    char what[768];
    if (body_equiv_check("fast", out, outlen, len + REQFAST_GROWTH, slow, what, sizeof(what)) < 0) {
        rc = reqfast_mismatch(why, whylen, what, body, len);
        goto cleanup;
    }
    if (fast_meta.stream != slow_meta.stream ||
        fast_meta.include_usage != slow_meta.include_usage ||
        fast_meta.encoding_b64 != slow_meta.encoding_b64) {
        snprintf(what, sizeof(what), "meta %d/%d/%d, jansson path %d/%d/%d", fast_meta.stream,
                 fast_meta.include_usage, fast_meta.encoding_b64, slow_meta.stream,
                 slow_meta.include_usage, slow_meta.encoding_b64);
        rc = reqfast_mismatch(why, whylen, what, body, len);
        goto cleanup;
    }
    if (!scan.has_model || strcmp(scan.model_name, model) != 0) {
        rc = reqfast_mismatch(why, whylen, "model name differs from the jansson path's", body, len);
        goto cleanup;
    }
    rc = REQFAST_TAKEN;
cleanup:
    free(out);
    json_decref(slow);
    return rc;
}

#endif
