/* splice: native bodies rewritten by copying the client's bytes and splicing in keep_alive. */
#include "splice.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "policy.h"

size_t splice_keep_alive_text(const struct config *cfg, const char *model, const char *value,
                              size_t vlen, char *buf, size_t len) {
    int client = vlen && !(vlen == 4 && memcmp(value, "null", 4) == 0);
    if (!client || cfg->keep_alive_policy != KEEP_ALIVE_DEFAULT)
        return duration_to_json_text(policy_keep_alive(cfg, model), buf, len);

    /* The client's value under "default": policy's own rules, on that one value. */
    char c = value[0];
    if (c != '"' && c != '-' && (c < '0' || c > '9'))
        return 0; /* true, [], {}: policy_apply rejects them */
    size_t n = 0;
    char err[256], *text = NULL;
    json_t *in = json_loadb(value, vlen, JSON_DECODE_ANY, NULL);
    json_t *v = in ? policy_keep_alive_new(cfg, model, in, err, sizeof(err)) : NULL;
    if (v && (text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) && strlen(text) < len) {
        n = strlen(text);
        memcpy(buf, text, n + 1);
    }
    free(text);
    json_decref(v);
    json_decref(in);
    return n;
}

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The end of the JSON value at p (valid JSON, as jscan_body checked it). */
static const char *skip_value(const char *p, const char *end) {
    int depth = 0;
    for (; p < end; p++) {
        char c = *p;
        if (c == '"') {
            for (p++; p < end && *p != '"'; p++)
                if (*p == '\\')
                    p++;
            if (depth == 0)
                return p + 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return p;
            if (--depth == 0)
                return p + 1;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
            return p;
        }
    }
    return end;
}

/* The runner options among the members of the object obj[0, len) (keys hold no escape:
 * jscan_body refuses those). */
static void note_runner(const char *obj, size_t len, struct runopts *ro) {
    const char *p = obj + 1, *end = obj + len;
    for (;;) {
        p = skip_ws(p, end);
        if (p >= end || *p != '"')
            return;
        const char *key = ++p;
        while (p < end && *p != '"')
            p++;
        size_t klen = (size_t)(p - key);
        p = skip_ws(p + 1, end);
        if (p >= end || *p != ':')
            return;
        p = skip_ws(p + 1, end);
        const char *v = p;
        p = skip_value(p, end);
        int i = runopts_index(key, klen);
        if (i >= 0)
            runopts_set_text(ro, i, v, (size_t)(p - v));
        p = skip_ws(p, end);
        if (p >= end || *p != ',')
            return;
        p++;
    }
}

char *splice_native_new(const struct config *cfg, const char *body, size_t len,
                        const struct jscan *scan, size_t *outlen, struct runopts *runner) {
    static const char key[] = "\"keep_alive\":";
    const char *model = scan->has_model ? scan->model_name : NULL;
    char ka[SPLICE_KEEP_ALIVE_MAX];
    size_t ka_len, cut, cut_len, n = 0;
    char *out;

    if (scan->model.len && !scan->has_model)
        return NULL; /* not a string: policy_apply's error */
    if (scan->options.len && body[scan->options.off] != '{')
        return NULL; /* null is deleted, anything else is an error */
    if (!policy_keeps_options(cfg, model))
        return NULL;
    if (!(ka_len = splice_keep_alive_text(cfg, model, body + scan->keep_alive.off,
                                          scan->keep_alive.len, ka, sizeof(ka))))
        return NULL;

    if (scan->keep_alive.len) { /* replace the client's value */
        cut = scan->keep_alive.off;
        cut_len = scan->keep_alive.len;
    } else { /* add a member before the closing brace */
        cut = scan->close;
        cut_len = 0;
    }
    if (!(out = malloc(len + SPLICE_GROWTH + 1)))
        return NULL;
    memcpy(out, body, cut);
    n = cut;
    if (!scan->keep_alive.len) {
        if (scan->members)
            out[n++] = ',';
        memcpy(out + n, key, sizeof(key) - 1);
        n += sizeof(key) - 1;
    }
    memcpy(out + n, ka, ka_len);
    n += ka_len;
    memcpy(out + n, body + cut + cut_len, len - cut - cut_len);
    n += len - cut - cut_len;
    out[n] = '\0';
    *outlen = n;
    if (runner && scan->options.len)
        note_runner(body + scan->options.off, scan->options.len, runner);
    return out;
}
