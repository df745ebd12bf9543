/* Fuzz helpers around struct config: a compact text form of config_set calls, a fixed
 * configuration for the translation targets, and the invariants every loaded configuration
 * must satisfy whatever its input. */
#ifndef KEEPWARM_FUZZ_CONFIG_LINES_H
#define KEEPWARM_FUZZ_CONFIG_LINES_H

#include "config.h"
#include "duration.h"
#include "fuzz.h"
#include "openai.h"
#include "policy.h"

/* Applies one config_set per line of text (modified in place): "key=value" for [keepwarm],
 * "[NAME]key=value" for [model "NAME"]; a line without '=' sets the key to "". Checks that
 * config_set reports an error exactly when it fails. Returns the number of failed lines. */
static inline int fuzz_config_lines(struct config *c, char *text) {
    int failed = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *model = NULL;
        if (line[0] == '[') {
            char *close = strchr(line, ']');
            if (!close)
                continue;
            *close = '\0';
            model = line + 1;
            line = close + 1;
        }
        char *eq = strchr(line, '=');
        const char *value = "";
        if (eq) {
            *eq = '\0';
            value = eq + 1;
        }
        char err[CONFIG_ERR_LEN] = "";
        int rc = config_set(c, model, line, value, err, sizeof(err));
        FUZZ_CHECK("config-set-rc", rc == 0 || rc == -1, "config_set returned %d", rc);
        FUZZ_CHECK("config-set-err", (rc == 0) == (err[0] == '\0'),
                   "config_set(%s, %s, %s) returned %d with err \"%s\"", model ? model : "-", line,
                   value, rc, err);
        failed += rc < 0;
    }
    return failed;
}

/* A list entry as list_add stores it: non-empty, trimmed, no comma. */
static inline int fuzz_list_item_ok(const char *s) {
    size_t n = strlen(s);
    return n > 0 && !strchr(s, ',') && s[0] != ' ' && s[0] != '\t' && s[n - 1] != ' ' &&
           s[n - 1] != '\t';
}

/* What must hold of a configuration after any sequence of sets, loads and failures.
 * complete: the load succeeded, so every name will be sent to Ollama inside JSON. */
static inline void fuzz_config_check(const struct config *c, int complete) {
    FUZZ_CHECK("config-bounds",
               c->npins <= CONFIG_MAX_LIST && c->napi_keys <= CONFIG_MAX_LIST &&
                   c->nmodels <= CONFIG_MAX_LIST,
               "npins %zu napi_keys %zu nmodels %zu", c->npins, c->napi_keys, c->nmodels);
    FUZZ_CHECK("config-strings", c->listen_host && c->upstream, "listen_host or upstream NULL");
    FUZZ_CHECK("config-port", c->listen_port >= 0 && c->listen_port <= 65535, "listen_port %d",
               c->listen_port);
    FUZZ_CHECK("config-upstream",
               (!strncmp(c->upstream, "http://", 7) || !strncmp(c->upstream, "https://", 8)) &&
                   c->upstream[strlen(c->upstream) - 1] != '/',
               "upstream \"%s\"", c->upstream);
    FUZZ_CHECK("config-sizes",
               c->max_body >= 1 && c->max_body <= (1ULL << 40) && c->max_line >= 1 &&
                   c->max_line <= (1ULL << 40),
               "max_body %zu max_line %zu", c->max_body, c->max_line);
    FUZZ_CHECK("config-durations",
               c->ping_interval >= 10 * 1000000LL && c->connect_timeout >= 1000000LL &&
                   c->request_timeout >= 0 && c->wait_comment_interval >= 0 &&
                   c->idle_timeout >= 1000000000LL && c->shutdown_timeout >= 0 &&
                   (c->keep_alive >= 0 || c->keep_alive == DURATION_FOREVER),
               "ping %lld connect %lld request %lld wait %lld idle %lld shutdown %lld "
               "keep_alive %lld",
               (long long)c->ping_interval, (long long)c->connect_timeout,
               (long long)c->request_timeout, (long long)c->wait_comment_interval,
               (long long)c->idle_timeout, (long long)c->shutdown_timeout,
               (long long)c->keep_alive);
    FUZZ_CHECK("config-ints",
               c->retries >= 0 && c->retries <= 5 && c->max_pinned >= 1 &&
                   c->max_pinned <= CONFIG_MAX_LIST && c->max_concurrent >= 0 &&
                   (c->keep_alive_policy == KEEP_ALIVE_OVERRIDE ||
                    c->keep_alive_policy == KEEP_ALIVE_DEFAULT) &&
                   (c->admin_api == ADMIN_ALLOW || c->admin_api == ADMIN_DENY ||
                    c->admin_api == ADMIN_KEYS) &&
                   (c->log_level == LOG_LEVEL_DEBUG || c->log_level == LOG_LEVEL_INFO ||
                    c->log_level == LOG_LEVEL_WARN || c->log_level == LOG_LEVEL_ERROR),
               "retries %lld max_pinned %lld max_concurrent %lld policy %d admin %d log %d",
               (long long)c->retries, (long long)c->max_pinned, (long long)c->max_concurrent,
               (int)c->keep_alive_policy, (int)c->admin_api, (int)c->log_level);
    FUZZ_CHECK("config-bounds-cors", c->ncors_origins <= CONFIG_MAX_LIST, "ncors_origins %zu",
               c->ncors_origins);
    for (size_t i = 0; i < c->ncors_origins; i++)
        FUZZ_CHECK("config-list-item", fuzz_list_item_ok(c->cors_origins[i]), "origin \"%s\"",
                   c->cors_origins[i]);
    for (size_t i = 0; i < c->npins; i++)
        FUZZ_CHECK("config-list-item", fuzz_list_item_ok(c->pins[i]), "pin \"%s\"", c->pins[i]);
    for (size_t i = 0; i < c->napi_keys; i++)
        FUZZ_CHECK("config-list-item", fuzz_list_item_ok(c->api_keys[i]), "api key \"%s\"",
                   c->api_keys[i]);
    for (size_t i = 0; i < c->nmodels; i++) {
        const struct model_conf *m = &c->models[i];
        FUZZ_CHECK("config-model",
                   m->name && *m->name && json_is_object(m->options) && m->num_predict_max >= 0 &&
                       m->max_concurrent >= 0,
                   "model %zu", i);
        FUZZ_CHECK("config-model-lookup", config_model(c, m->name) == m,
                   "config_model(\"%s\") is not its own section", m->name);
    }
    if (!complete)
        return;
    /* Every pinned or configured model gets warm pings; a name that cannot be put in JSON
     * would never be pinged (warm.c skips a NULL ping body silently). */
    for (size_t i = 0; i < c->npins; i++) {
        json_t *ping = policy_ping_new(c, c->pins[i]);
        FUZZ_CHECK("config-utf8", ping != NULL,
                   "pin \"%s\" was accepted but policy_ping_new fails for it", c->pins[i]);
        json_decref(ping);
    }
    for (size_t i = 0; i < c->nmodels; i++) {
        json_t *ping = policy_ping_new(c, c->models[i].name);
        FUZZ_CHECK("config-utf8", ping != NULL,
                   "[model \"%s\"] was accepted but policy_ping_new fails for it",
                   c->models[i].name);
        json_decref(ping);
    }
}

/* The configuration the translation targets run policy_apply with: a pinned model with
 * options and a cap (the name the golden cases use), and one with only a keep_alive. */
static inline void fuzz_fixed_config(struct config *c, enum keep_alive_policy policy) {
    char err[CONFIG_ERR_LEN];
    static const char *const sets[][3] = {
        {NULL, "keep_alive", "10m"},
        {"test-model", "num_ctx", "8192"},
        {"test-model", "num_batch", "512"},
        {"test-model", "use_mmap", "no"},
        {"test-model", "num_predict_max", "256"},
        {"m", "keep_alive", "-1"},
        {NULL, "pin", "test-model, m"},
    };
    if (config_init(c, NULL, err, sizeof(err)) < 0)
        abort();
    c->keep_alive_policy = policy;
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
        if (config_set(c, sets[i][0], sets[i][1], sets[i][2], err, sizeof(err)) < 0) {
            fprintf(stderr, "fuzz: fixed config: %s\n", err);
            abort();
        }
}

/* policy_apply's contract, checked on body (which it rewrites). Returns its result. */
static inline int fuzz_policy_check(const struct config *cfg, json_t *body) {
    char err[512] = "";
    int object = json_is_object(body);
    int rc = policy_apply(cfg, body, err, sizeof(err));
    FUZZ_CHECK("policy-rc", rc == 0 || rc == -1, "policy_apply returned %d", rc);
    FUZZ_CHECK("policy-err", (rc == 0) == (err[0] == '\0'), "rc %d err \"%s\"", rc, err);
    if (rc < 0) {
        /* The message becomes a JSON error answer (server.c: relay_reply_error), in
         * OpenAI's envelope or Ollama's {"error": text}; a message cut inside a character
         * must still make one. */
        json_t *envelope = openai_error_new(400, err, NULL);
        json_t *text = openai_text_new(err);
        FUZZ_CHECK("policy-err-envelope", envelope && text,
                   "no error answer can be built from \"%s\"", err);
        json_decref(envelope);
        json_decref(text);
        return rc;
    }
    FUZZ_CHECK("policy-object", object, "policy_apply accepted a non-object");
    FUZZ_CHECK("policy-encodes", fuzz_encodes(body), "the rewritten body does not encode");
    const json_t *jm = json_object_get(body, "model");
    const char *model = json_is_string(jm) ? json_string_value(jm) : NULL;
    const json_t *ka = json_object_get(body, "keep_alive");
    FUZZ_CHECK("policy-keep-alive", json_is_integer(ka) || json_is_string(ka),
               "keep_alive missing or of the wrong type after policy_apply");
    int64_t ns = 0;
    char derr[256];
    FUZZ_CHECK("policy-keep-alive-valid", duration_from_json(ka, &ns, derr, sizeof(derr)) == 0,
               "the injected keep_alive is not one Ollama accepts: %s", derr);
    const json_t *opts = json_object_get(body, "options");
    FUZZ_CHECK("policy-options", !opts || json_is_object(opts), "options is not an object");
    const struct model_conf *m = config_model(cfg, model);
    if (m) {
        const char *key;
        json_t *v;
        json_object_foreach(m->options, key, v)
            FUZZ_CHECK("policy-pinned", json_equal(json_object_get(opts, key), v),
                       "pinned option %s not injected", key);
        if (m->num_predict_max > 0) {
            const json_t *np = json_object_get(opts, "num_predict");
            FUZZ_CHECK("policy-cap",
                       json_is_number(np) &&
                           json_number_value(np) < (double)m->num_predict_max + 1 &&
                           json_number_value(np) > -1,
                       "num_predict not capped at %lld", m->num_predict_max);
        }
    }
    if (model) {
        /* A ping for the model carries exactly the same keep_alive (under "override") and
         * pinned options, so it never reloads the runner the request used. */
        json_t *ping = policy_ping_new(cfg, model);
        FUZZ_CHECK("policy-ping", ping != NULL, "policy_ping_new(\"%s\") failed", model);
        if (cfg->keep_alive_policy == KEEP_ALIVE_OVERRIDE)
            FUZZ_CHECK("policy-ping-keep-alive",
                       json_equal(json_object_get(ping, "keep_alive"), (json_t *)ka),
                       "ping and request keep_alive differ");
        if (m) {
            const char *key;
            json_t *v;
            json_object_foreach(m->options, key, v)
                FUZZ_CHECK("policy-ping-options",
                           json_equal(json_object_get(json_object_get(ping, "options"), key), v),
                           "ping lacks pinned option %s", key);
        }
        json_decref(ping);
    }
    return rc;
}

#endif
