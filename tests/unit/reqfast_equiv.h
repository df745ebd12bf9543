/* The contract between the OpenAI request fast path (jscan + reqfast) and the jansson path
 * (json_loadb with JSON_REJECT_DUPLICATES, openai_*_request_new, policy_apply, json_dumps),
 * both run by request_build_way, the function server.c calls, checked on one body. Shared by
 * tests/unit/test_reqfast.c and tests/fuzz/fuzz_reqfast.c. */
#ifndef KEEPWARM_REQFAST_EQUIV_H
#define KEEPWARM_REQFAST_EQUIV_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body_equiv.h"
#include "config.h"
#include "endpoint.h"
#include "reqfast.h"
#include "request.h"

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

static inline const struct endpoint *reqfast_endpoint(int completion) {
    return completion ? &endpoint_openai_completions : &endpoint_openai_chat;
}

static inline const char *reqfast_path(int completion) {
    return completion ? "/v1/completions" : "/v1/chat/completions";
}

/* The jansson path's final body, parsed back as Ollama would read it (NULL when that path
 * refuses the request), with its meta and model. */
static inline json_t *reqfast_slow_new(const struct config *cfg, int completion, const char *body,
                                       size_t len, struct endpoint_meta *meta, char *model,
                                       size_t modellen, struct runopts *runner) {
    struct request_out out;
    struct api_err err;
    json_t *back = NULL;
    out.meta = *meta;
    if (request_build_way(reqfast_endpoint(completion), cfg, reqfast_path(completion), body, len,
                          REQUEST_JANSSON, &out, &err) < 0)
        return NULL;
    *meta = out.meta;
    *runner = out.runner;
    snprintf(model, modellen, "%s", out.model ? out.model : "");
    back = out.body ? json_loads(out.body, JSON_REJECT_DUPLICATES, NULL) : NULL;
    request_out_cleanup(&out);
    return back;
}

/* Runs body (len bytes, NUL-terminated) both ways under cfg, as a chat (completion 0) or a
 * completion request. */
static inline enum reqfast_outcome reqfast_compare(const struct config *cfg, int completion,
                                                   const char *body, size_t len, char *why,
                                                   size_t whylen) {
    enum reqfast_outcome rc = REQFAST_DECLINED;
    struct endpoint_meta slow_meta = {-1, -1, -1, NULL}, fast_meta = {-1, -1, -1, NULL};
    char model[1024] = "";
    struct request_out fast;
    struct api_err err;
    size_t outlen = 0;
    char *out = NULL;
    struct runopts slow_runner;
    json_t *slow = reqfast_slow_new(cfg, completion, body, len, &slow_meta, model, sizeof(model),
                                    &slow_runner);

    fast.meta = fast_meta;
    if (request_build_way(reqfast_endpoint(completion), cfg, reqfast_path(completion), body, len,
                          REQUEST_FAST, &fast, &err) == 0) {
        out = fast.body;
        outlen = fast.body_len;
        fast.body = NULL;
    }
    fast_meta = fast.meta;
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
    if (!fast.has_runner || memcmp(&fast.runner, &slow_runner, sizeof(slow_runner)) != 0) {
        rc = reqfast_mismatch(why, whylen, "runner options differ from the jansson path's", body,
                              len);
        goto cleanup;
    }
    if (!fast.model || strcmp(fast.model, model) != 0) {
        rc = reqfast_mismatch(why, whylen, "model name differs from the jansson path's", body, len);
        goto cleanup;
    }
    rc = REQFAST_TAKEN;
cleanup:
    free(out);
    request_out_cleanup(&fast);
    json_decref(slow);
    return rc;
}

#endif
