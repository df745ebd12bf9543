/* ep_native: the native entries of the endpoint table. Injection (POST /api/generate, /api/chat,
 * /api/embed, /api/embeddings: keep_alive and pinned options written into the client's body,
 * by splice.c on its bytes or by policy_apply on the tree, then Ollama's answer passed on as it
 * comes, its token counts read from its last bytes) and passthrough (every other /api/ path and
 * GET/HEAD /: untouched both ways). Errors keepwarm itself answers are Ollama's
 * {"error": "text"}. */
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

/* The number after the last `"name":` in p[0, n), or 0. Only a key can match: inside a JSON
 * string a quote is escaped (`\"`), so `"name":` with bare quotes is never string content.
 * Searched from the end, quote by quote: Ollama's metrics close its last line, so the keys sit
 * in its last hundred bytes (a forward memmem over the whole tail cost ~900 instructions). */
static long long count_of(const char *p, size_t n, const char *key) {
    size_t kl = strlen(key);
    const char *hit = NULL;
    for (size_t len = n; len >= kl;) {
        const char *q = memrchr(p, '"', len - kl + 1); /* a start with kl bytes after it */
        if (!q)
            break;
        if (memcmp(q, key, kl) == 0) {
            hit = q;
            break;
        }
        len = (size_t)(q - p) + kl - 1; /* the next start is before q (none when q == p) */
    }
    if (!hit)
        return 0;
    long long v = 0;
    int digits = 0;
    for (const char *d = hit + kl; d < p + n && *d >= '0' && *d <= '9' && digits < 18; d++)
        v = v * 10 + (*d - '0'), digits++;
    return v;
}

/* Ollama's last line (/api/chat, /api/generate: the done line; /api/embed: the answer) ends
 * with its Metrics, prompt_eval_count and eval_count among them (api/types.go at fb30760; in
 * a non-stream /api/generate answer with logprobs they come before the logprobs, which then
 * push them out of the tail: counted as 0). Read from the last line of the tail only. */
static void inject_usage(const char *tail, size_t len, struct endpoint_usage *usage) {
    while (len && (tail[len - 1] == '\n' || tail[len - 1] == '\r' || tail[len - 1] == ' '))
        len--;
    const char *nl = len ? memrchr(tail, '\n', len) : NULL;
    if (nl) {
        len -= (size_t)(nl + 1 - tail);
        tail = nl + 1;
    }
    usage->prompt_tokens = count_of(tail, len, "\"prompt_eval_count\":");
    usage->completion_tokens = count_of(tail, len, "\"eval_count\":");
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
    .pass_usage = inject_usage,
};

const struct endpoint endpoint_native_pass = {
    .name = "native.pass",
    .route = ROUTE_NATIVE,
    .flags = EP_PASSTHROUGH,
    .error_new = native_error_new,
};
