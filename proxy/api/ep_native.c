/* ep_native: the native entries of the endpoint table. Injection (POST /api/generate, /api/chat,
 * /api/embed, /api/embeddings: keep_alive and pinned options written into the client's body,
 * by splice.c on its bytes or by policy_apply on the tree, then Ollama's answer passed on as it
 * comes) and passthrough (every other /api/ path and GET/HEAD /: untouched both ways). Errors
 * keepwarm itself answers are Ollama's {"error": "text"}. */
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "openai.h"
#include "splice.h"

/* Ollama's error body. */
static json_t *native_error_new(int status, const char *message, const char *code) {
    (void)status;
    (void)code;
    return json_pack("{s:o}", "error", openai_text_new(message));
}

static int inject_fast(const struct config *cfg, const char *body, size_t len,
                       const struct jscan *scan, struct request_out *out) {
    size_t n;
    struct runopts runner = {0};
    char *native = splice_native_new(cfg, body, len, scan, &n, &runner);
    if (!native)
        return -1;
    char *model = NULL;
    if (scan->has_model && !(model = strdup(scan->model_name))) {
        free(native);
        return -1;
    }
    out->body = native;
    out->body_len = n;
    out->model = model;
    out->runner = runner;
    out->has_runner = 1;
    return 0;
}

const struct endpoint endpoint_native_inject = {
    .name = "native.inject",
    .route = ROUTE_NATIVE_GEN,
    .flags = EP_PASSTHROUGH | EP_REPLAYABLE | EP_JSON_BODY | EP_POLICY | EP_ADMIT | EP_NOTE_MODEL,
    .native_method = "POST",
    .native_path = NULL, /* the client's */
    .error_new = native_error_new,
    .request_fast = inject_fast,
    .request_fastpath = FASTPATH_REQUEST_NATIVE,
};

const struct endpoint endpoint_native_pass = {
    .name = "native.pass",
    .route = ROUTE_NATIVE,
    .flags = EP_PASSTHROUGH,
    .error_new = native_error_new,
};
