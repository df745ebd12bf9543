/* policy: keep_alive and pinned-option injection; pure JSON, no I/O. */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "gokey.h"

long long policy_keep_alive(const struct config *cfg, const char *model) {
    const struct model_conf *m = config_model(cfg, model);
    return m && m->has_keep_alive ? m->keep_alive : cfg->keep_alive;
}

#define MAX_KEEP_ALIVE_S 9.2e9 /* seconds that still fit Go's int64 nanoseconds */

/* "-1", "300", "1.5": an optional minus, digits, at most one decimal point. Not "nan", "1e3",
 * "0x10" or " 5", which strtod would take. */
static int is_plain_number(const char *s) {
    int digits = 0, dots = 0;
    if (*s == '-')
        s++;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digits++;
        else if (*s == '.' && !dots)
            dots++;
        else
            return 0;
    }
    return digits > 0;
}

/* A client keep_alive under the "default" policy: normalised, or an error. Strings holding a
 * bare number ("-1", "300"), a common client bug that Ollama answers with 400, are read as
 * seconds. */
static json_t *client_keep_alive_new(const json_t *v, char *err, size_t errlen) {
    int64_t ns;
    char derr[256];
    if (json_is_string(v) && is_plain_number(json_string_value(v))) {
        double secs = strtod(json_string_value(v), NULL);
        if (secs < 0)
            return duration_to_json_new(DURATION_FOREVER);
        if (secs > MAX_KEEP_ALIVE_S) {
            snprintf(err, errlen, "invalid keep_alive: %s seconds is too large; use -1 for forever",
                     json_string_value(v));
            return NULL;
        }
        return duration_to_json_new((int64_t)(secs * (double)DURATION_SECOND));
    }
    if (duration_from_json(v, &ns, derr, sizeof(derr)) < 0) {
        snprintf(err, errlen, "invalid keep_alive: %s", derr);
        return NULL;
    }
    return duration_to_json_new(ns);
}

json_t *policy_keep_alive_new(const struct config *cfg, const char *model, const json_t *client,
                              char *err, size_t errlen) {
    if (client && !json_is_null(client) && cfg->keep_alive_policy == KEEP_ALIVE_DEFAULT)
        return client_keep_alive_new(client, err, errlen);
    return duration_to_json_new(policy_keep_alive(cfg, model));
}

int policy_keeps_options(const struct config *cfg, const char *model) {
    const struct model_conf *m = config_model(cfg, model);
    return !m || (json_object_size(m->options) == 0 && m->num_predict_max <= 0);
}

/* The members of a native body whose meaning keepwarm relies on: what policy reads and sets
 * (model, keep_alive, options) and what the /v1 translations write (openai.c). */
const char *const policy_native_keys[] = {
    "model",  "keep_alive", "options",      "messages",   "prompt",
    "suffix", "input",      "stream",       "format",     "think",
    "tools",  "logprobs",   "top_logprobs", "dimensions", "_debug_render_only",
    NULL,
};

int policy_check_keys(const json_t *body, const char *const *names, char *err, size_t errlen) {
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)body, key, v) {
        const char *canonical = gokey_variant_of(key, strlen(key), names);
        if (canonical) {
            gokey_refusal(err, errlen, key, canonical);
            return -1;
        }
    }
    return 0;
}

int policy_apply(const struct config *cfg, json_t *body, char *err, size_t errlen) {
    if (!json_is_object(body)) {
        snprintf(err, errlen, "request body must be a JSON object");
        return -1;
    }
    if (policy_check_keys(body, policy_native_keys, err, errlen) < 0)
        return -1;
    const json_t *jm = json_object_get(body, "model");
    if (jm && !json_is_string(jm)) {
        snprintf(err, errlen, "invalid type for 'model': expected string");
        return -1;
    }
    const char *model = jm ? json_string_value(jm) : NULL;
    const struct model_conf *m = config_model(cfg, model);

    json_t *ka_new =
        policy_keep_alive_new(cfg, model, json_object_get(body, "keep_alive"), err, errlen);
    if (!ka_new)
        return -1;
    json_object_set_new(body, "keep_alive", ka_new);

    json_t *opts = json_object_get(body, "options");
    if (opts && json_is_null(opts)) {
        json_object_del(body, "options");
        opts = NULL;
    }
    if (opts && !json_is_object(opts)) {
        snprintf(err, errlen, "invalid type for 'options': expected object");
        return -1;
    }
    if (!policy_keeps_options(cfg, model)) {
        if (!opts) {
            opts = json_object();
            json_object_set_new(body, "options", opts);
        }
        json_object_update(opts, m->options);
        if (m->num_predict_max > 0) {
            const json_t *np = json_object_get(opts, "num_predict");
            double want = json_is_number(np) ? json_number_value(np) : -1;
            if (want < 0 || want > (double)m->num_predict_max)
                json_object_set_new(opts, "num_predict", json_integer(m->num_predict_max));
        }
    }
    return 0;
}

json_t *policy_ping_new(const struct config *cfg, const char *model) {
    json_t *body = json_pack("{s:s}", "model", model);
    char err[64];
    if (!body || policy_apply(cfg, body, err, sizeof(err)) < 0) {
        json_decref(body);
        return NULL;
    }
    /* A ping generates nothing, so num_predict is not a runner option to carry. */
    json_t *opts = json_object_get(body, "options");
    if (opts) {
        json_object_del(opts, "num_predict");
        if (json_object_size(opts) == 0)
            json_object_del(body, "options");
    }
    return body;
}
