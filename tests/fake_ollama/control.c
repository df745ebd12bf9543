/* control: the /_fake/ test controls. Owns the request log ring (CONTROL_LOG_ENTRIES entries,
 * bodies over CONTROL_LOG_BODY_MAX replaced by a note), the injected failure rules
 * (CONTROL_MAX_RULES), and the scripted replies (global and per model). All of it is cleared
 * by /_fake/reset, which also unloads every model and restores the command-line config. */
#include "control.h"

#include "flog.h"
#include "gen.h"
#include "goduration.h"
#include "sched.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rule {
    struct fail_rule fail;
    const struct model *model; /* NULL: any model */
    json_int_t count;
};

struct control {
    struct fake *f;
    json_t *log[CONTROL_LOG_ENTRIES];
    size_t log_next, log_count;
    struct rule rules[CONTROL_MAX_RULES];
    size_t nrules;
    json_t *script;        /* global script or NULL */
    json_t *model_scripts; /* {"model:tag": script} */
    json_t *default_content, *default_thinking;
};

struct control *control_new(struct fake *f) {
    struct control *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->f = f;
    c->model_scripts = json_object();
    c->default_content = json_pack("[s,s,s,s,s]", "Hello", " from", " fake", " ollama", ".");
    c->default_thinking = json_pack("[s,s]", "Okay,", " the user wants a reply.");
    if (!c->model_scripts || !c->default_content || !c->default_thinking) {
        control_free(c);
        return NULL;
    }
    return c;
}

static void log_clear(struct control *c) {
    for (size_t i = 0; i < CONTROL_LOG_ENTRIES; i++) {
        json_decref(c->log[i]);
        c->log[i] = NULL;
    }
    c->log_next = c->log_count = 0;
}

void control_free(struct control *c) {
    if (!c)
        return;
    log_clear(c);
    json_decref(c->script);
    json_decref(c->model_scripts);
    json_decref(c->default_content);
    json_decref(c->default_thinking);
    free(c);
}

/* ---- request log ---- */

/* Invalid UTF-8 cannot be a JSON string: keep ASCII, replace the rest. */
static json_t *raw_string(const char *data, size_t len) {
    json_t *s = json_stringn(data, len);
    if (s)
        return s;
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)data[i];
        copy[i] = ch >= 0x80 || ch == 0 ? '?' : (char)ch;
    }
    s = json_stringn(copy, len);
    free(copy);
    return s;
}

void control_log_request(struct control *c, struct evhttp_request *req, const char *uri,
                         const struct http_body *body) {
    static const char *const methods[] = {"GET",     "POST",  "HEAD",    "PUT",  "DELETE",
                                          "OPTIONS", "TRACE", "CONNECT", "PATCH"};
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const char *method = "OTHER";
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (cmd == (enum evhttp_cmd_type)(1 << i))
            method = methods[i];
    }
    json_t *headers = json_object();
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evkeyval *kv;
    for (kv = in->tqh_first; kv; kv = kv->next.tqe_next) {
        char name[128];
        size_t n = strlen(kv->key);
        if (n >= sizeof(name))
            n = sizeof(name) - 1;
        for (size_t i = 0; i < n; i++)
            name[i] = (char)tolower((unsigned char)kv->key[i]);
        name[n] = '\0';
        json_t *old = json_object_get(headers, name);
        if (old && json_is_string(old)) {
            /* repeated header: values joined as Go's Header.Values would print them */
            size_t ol = json_string_length(old), vl = strlen(kv->value);
            char *joined = malloc(ol + vl + 3);
            if (joined) {
                memcpy(joined, json_string_value(old), ol);
                memcpy(joined + ol, ", ", 2);
                memcpy(joined + ol + 2, kv->value, vl + 1);
                json_object_set_new(headers, name, raw_string(joined, ol + vl + 2));
                free(joined);
            }
        } else {
            json_object_set_new(headers, name, raw_string(kv->value, strlen(kv->value)));
        }
    }
    json_t *entry = json_pack("{s:s, s:o, s:o}", "method", method, "path",
                              raw_string(uri, strlen(uri)), "headers", headers);
    if (!entry)
        return;
    if (body->len > CONTROL_LOG_BODY_MAX) {
        char note[128];
        snprintf(note, sizeof(note), "%zu bytes, not logged (cap %u)", body->len,
                 CONTROL_LOG_BODY_MAX);
        json_object_set_new(entry, "body", json_null());
        json_object_set_new(entry, "body_omitted", json_string(note));
    } else if (body->json) {
        json_object_set(entry, "body", body->json); /* shared, read-only from here on */
    } else {
        json_object_set_new(entry, "body", json_null());
        if (body->len > 0)
            json_object_set_new(entry, "raw", raw_string(body->data, body->len));
    }
    json_decref(c->log[c->log_next]);
    c->log[c->log_next] = entry;
    c->log_next = (c->log_next + 1) % CONTROL_LOG_ENTRIES;
    if (c->log_count < CONTROL_LOG_ENTRIES)
        c->log_count++;
}

static json_t *log_json(struct control *c) {
    json_t *a = json_array();
    size_t start = (c->log_next + CONTROL_LOG_ENTRIES - c->log_count) % CONTROL_LOG_ENTRIES;
    for (size_t i = 0; a && i < c->log_count; i++)
        json_array_append(a, c->log[(start + i) % CONTROL_LOG_ENTRIES]);
    return json_pack("{s:o}", "requests", a ? a : json_array());
}

/* ---- failures and scripts ---- */

int control_take_fail(struct control *c, const struct model *m, struct fail_rule *out) {
    for (size_t i = 0; i < c->nrules; i++) {
        struct rule *r = &c->rules[i];
        if (r->model && r->model != m)
            continue;
        *out = r->fail;
        if (--r->count <= 0) {
            memmove(&c->rules[i], &c->rules[i + 1], (c->nrules - i - 1) * sizeof(c->rules[0]));
            c->nrules--;
        }
        return 1;
    }
    return 0;
}

json_t *control_script(struct control *c, const struct model *m) {
    json_t *s = m ? json_object_get(c->model_scripts, m->display) : NULL;
    return s ? s : c->script;
}

json_t *control_default_content(struct control *c) {
    return c->default_content;
}

json_t *control_default_thinking(struct control *c) {
    return c->default_thinking;
}

/* ---- handlers ---- */

static int only_keys(const json_t *o, const char *const *keys, char *err, size_t errlen) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        int ok = 0;
        for (size_t i = 0; keys[i]; i++)
            ok |= strcmp(k, keys[i]) == 0;
        if (!ok) {
            snprintf(err, errlen, "unknown key \"%s\"", k);
            return -1;
        }
    }
    return 0;
}

/* Resolves the optional "model" key; 404 already sent when it names no model. */
static int opt_model(struct fake *f, struct evhttp_request *req, const json_t *body, int required,
                     struct model **out) {
    json_t *mv = json_object_get(body, "model");
    *out = NULL;
    if (!mv || json_is_null(mv)) {
        if (required) {
            http_reply_error(req, 400, "model is required");
            return -1;
        }
        return 0;
    }
    if (!json_is_string(mv)) {
        http_reply_error(req, 400, "model must be a string");
        return -1;
    }
    *out = catalog_find(f->catalog, json_string_value(mv));
    if (!*out) {
        char msg[512];
        snprintf(msg, sizeof(msg), "model '%s' not found", json_string_value(mv));
        http_reply_error(req, 404, msg);
        return -1;
    }
    return 0;
}

static json_t *stats_json(struct fake *f) {
    struct fake_stats *st = &f->stats;
    return json_pack("{s:O, s:I, s:O, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "loads", st->loads,
                     "total_loads", st->total_loads, "unloads", st->unloads, "total_unloads",
                     st->total_unloads, "evictions", st->evictions, "cancelled", st->cancelled,
                     "in_flight", (json_int_t)gen_in_flight(f), "completed", st->completed,
                     "failed", st->failed, "requests", st->requests, "loaded",
                     sched_loaded_names(f->sched));
}

static json_t *config_json(struct fake *f) {
    char ka[64];
    goduration_format(f->cfg.keep_alive_ns, ka, sizeof(ka));
    return json_pack("{s:I, s:I, s:i, s:s}", "token_delay_ms", (json_int_t)f->cfg.token_delay_ms,
                     "load_delay_ms", (json_int_t)f->cfg.load_delay_ms, "max_loaded",
                     f->cfg.max_loaded, "keep_alive", ka);
}

static void do_reset(struct fake *f) {
    struct control *c = f->control;
    log_clear(c);
    c->nrules = 0;
    json_decref(c->script);
    c->script = NULL;
    json_object_clear(c->model_scripts);
    for (size_t i = 0; i < catalog_count(f->catalog); i++)
        catalog_at(f->catalog, i)->crash_pending = 0;
    f->cfg = f->cfg_start;
    sched_unload_all(f->sched);
    json_object_clear(f->stats.loads);
    json_object_clear(f->stats.unloads);
    f->stats.total_loads = f->stats.total_unloads = f->stats.evictions = 0;
    f->stats.cancelled = f->stats.completed = f->stats.failed = f->stats.requests = 0;
}

static int get_nonneg(const json_t *body, const char *key, json_int_t max, json_int_t *out,
                      char *err, size_t errlen) {
    json_t *v = json_object_get(body, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
        snprintf(err, errlen, "%s must be an integer between 0 and %lld", key, (long long)max);
        return -1;
    }
    *out = json_integer_value(v);
    return 1;
}

static void handle_config(struct fake *f, struct evhttp_request *req, const json_t *body) {
    static const char *const keys[] = {"token_delay_ms", "load_delay_ms", "max_loaded",
                                       "keep_alive", NULL};
    char err[256];
    struct fake_config cfg = f->cfg;
    json_int_t v;
    int r;
    if (only_keys(body, keys, err, sizeof(err)) != 0)
        goto bad;
    if ((r = get_nonneg(body, "token_delay_ms", 3600000, &v, err, sizeof(err))) < 0)
        goto bad;
    if (r)
        cfg.token_delay_ms = v;
    if ((r = get_nonneg(body, "load_delay_ms", 3600000, &v, err, sizeof(err))) < 0)
        goto bad;
    if (r)
        cfg.load_delay_ms = v;
    if ((r = get_nonneg(body, "max_loaded", CATALOG_MAX_MODELS, &v, err, sizeof(err))) < 0)
        goto bad;
    if (r)
        cfg.max_loaded = (int)v;
    json_t *ka = json_object_get(body, "keep_alive");
    if (ka && json_is_string(ka)) {
        if (goduration_parse_config(json_string_value(ka), &cfg.keep_alive_ns, err, sizeof(err)))
            goto bad;
    } else if (ka && goduration_from_json(ka, &cfg.keep_alive_ns, err, sizeof(err)) != 0) {
        goto bad;
    }
    f->cfg = cfg;
    sched_kick(f->sched);
    http_reply_json(req, 200, config_json(f));
    return;
bad:
    http_reply_error(req, 400, err);
}

static json_t *token_list(const json_t *v, const char *key, char *err, size_t errlen) {
    if (json_is_string(v))
        return json_pack("[O]", v);
    if (!json_is_array(v) || json_array_size(v) > CONTROL_MAX_TOKENS) {
        snprintf(err, errlen, "%s must be a string or an array of at most %d strings", key,
                 CONTROL_MAX_TOKENS);
        return NULL;
    }
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t) {
        if (!json_is_string(t)) {
            snprintf(err, errlen, "%s[%zu] must be a string", key, i);
            return NULL;
        }
    }
    return json_incref((json_t *)v);
}

/* [{"id"?, "function":{"name", "arguments"?}}] -> normalised copies with index set. */
static json_t *tool_calls_list(const json_t *v, char *err, size_t errlen) {
    if (!json_is_array(v) || json_array_size(v) > 64) {
        snprintf(err, errlen, "tool_calls must be an array of at most 64 calls");
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *call;
    json_array_foreach(v, i, call) {
        json_t *fn = json_object_get(call, "function");
        json_t *name = json_object_get(fn, "name");
        json_t *args = json_object_get(fn, "arguments");
        json_t *id = json_object_get(call, "id");
        if (!json_is_string(name) || (args && !json_is_object(args)) ||
            (id && !json_is_string(id))) {
            snprintf(err, errlen,
                     "tool_calls[%zu] must be {\"id\"?: string, \"function\": {\"name\": string, "
                     "\"arguments\"?: object}}",
                     i);
            json_decref(out);
            return NULL;
        }
        json_t *nc = json_pack("{s:{s:I, s:O, s:o}}", "function", "index", (json_int_t)i, "name",
                               name, "arguments", args ? json_incref(args) : json_object());
        if (nc && id)
            json_object_set(nc, "id", id);
        json_array_append_new(out, nc);
    }
    return out;
}

static void handle_script(struct fake *f, struct evhttp_request *req, const json_t *body) {
    static const char *const keys[] = {"content",     "thinking", "tool_calls", "after_tool",
                                       "done_reason", "model",    NULL};
    struct control *c = f->control;
    char err[256];
    struct model *m;
    if (only_keys(body, keys, err, sizeof(err)) != 0) {
        http_reply_error(req, 400, err);
        return;
    }
    if (opt_model(f, req, body, 0, &m) != 0)
        return;
    json_t *script = json_object(), *v;
    if ((v = json_object_get(body, "content")))
        json_object_set_new(script, "content", token_list(v, "content", err, sizeof(err)));
    if (v && !json_object_get(script, "content"))
        goto bad;
    if ((v = json_object_get(body, "thinking")))
        json_object_set_new(script, "thinking", token_list(v, "thinking", err, sizeof(err)));
    if (v && !json_object_get(script, "thinking"))
        goto bad;
    if ((v = json_object_get(body, "tool_calls")))
        json_object_set_new(script, "tool_calls", tool_calls_list(v, err, sizeof(err)));
    if (v && !json_object_get(script, "tool_calls"))
        goto bad;
    if ((v = json_object_get(body, "after_tool")))
        json_object_set_new(script, "after_tool", token_list(v, "after_tool", err, sizeof(err)));
    if (v && !json_object_get(script, "after_tool"))
        goto bad;
    if ((v = json_object_get(body, "done_reason"))) {
        if (!json_is_string(v)) {
            snprintf(err, sizeof(err), "done_reason must be a string");
            goto bad;
        }
        json_object_set(script, "done_reason", v);
    }
    if (m) {
        json_object_set(c->model_scripts, m->display, script);
    } else {
        json_decref(c->script);
        c->script = json_incref(script);
    }
    http_reply_json(req, 200,
                    json_pack("{s:o, s:o}", "model", m ? json_string(m->display) : json_null(),
                              "script", script));
    return;
bad:
    json_decref(script);
    http_reply_error(req, 400, err);
}

static void handle_fail(struct fake *f, struct evhttp_request *req, const json_t *body) {
    static const char *const keys[] = {"when", "status", "error", "count", "model", NULL};
    struct control *c = f->control;
    char err[256];
    struct rule r;
    memset(&r, 0, sizeof(r));
    struct model *m;
    if (only_keys(body, keys, err, sizeof(err)) != 0) {
        http_reply_error(req, 400, err);
        return;
    }
    if (opt_model(f, req, body, 0, &m) != 0)
        return;
    r.model = m;
    const char *when = json_string_value(json_object_get(body, "when"));
    if (when && strcmp(when, "before") == 0)
        r.fail.when = FAIL_BEFORE;
    else if (when && strcmp(when, "mid") == 0)
        r.fail.when = FAIL_MID;
    else if (when && strcmp(when, "close") == 0)
        r.fail.when = FAIL_CLOSE;
    else {
        http_reply_error(req, 400, "when must be \"before\", \"mid\" or \"close\"");
        return;
    }
    json_t *st = json_object_get(body, "status");
    r.fail.status = 500;
    if (st &&
        (!json_is_integer(st) || json_integer_value(st) < 200 || json_integer_value(st) > 599)) {
        http_reply_error(req, 400, "status must be an integer between 200 and 599");
        return;
    }
    if (st)
        r.fail.status = (int)json_integer_value(st);
    json_t *e = json_object_get(body, "error");
    if (e && !json_is_string(e)) {
        http_reply_error(req, 400, "error must be a string");
        return;
    }
    snprintf(r.fail.error, sizeof(r.fail.error), "%s",
             e ? json_string_value(e)
               : "an error was encountered while running the model: injected failure");
    json_t *cnt = json_object_get(body, "count");
    r.count = 1;
    if (cnt && (!json_is_integer(cnt) || json_integer_value(cnt) < 1)) {
        http_reply_error(req, 400, "count must be a positive integer");
        return;
    }
    if (cnt)
        r.count = json_integer_value(cnt);
    if (c->nrules == CONTROL_MAX_RULES) {
        http_reply_error(req, 400, "too many pending failures; reset first");
        return;
    }
    c->rules[c->nrules++] = r;
    http_reply_json(req, 200,
                    json_pack("{s:s, s:i, s:s, s:I, s:o, s:I}", "when", when, "status",
                              r.fail.status, "error", r.fail.error, "count", r.count, "model",
                              m ? json_string(m->display) : json_null(), "pending",
                              (json_int_t)c->nrules));
}

static void handle_unload(struct fake *f, struct evhttp_request *req, const json_t *body,
                          int crash) {
    struct model *m;
    if (opt_model(f, req, body, 1, &m) != 0)
        return;
    int was = sched_unload_now(f->sched, m, crash);
    if (crash)
        m->crash_pending = 1;
    http_reply_json(
        req, 200,
        json_pack("{s:s, s:b, s:b}", "model", m->display, "unloaded", was, "crashed", crash));
}

void control_handle(struct fake *f, struct evhttp_request *req, const char *path,
                    const struct http_body *body) {
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const char *what = path + strlen("/_fake/");
    int get = cmd == EVHTTP_REQ_GET, post = cmd == EVHTTP_REQ_POST;
    const json_t *in = body->json;
    json_t *empty = NULL;

    if (post && !body->blank && !json_is_object(in)) {
        http_reply_error(req, 400,
                         body->json ? "body must be a JSON object"
                                    : (body->error[0] ? body->error : "invalid JSON"));
        return;
    }
    if (!in)
        in = empty = json_object();

    if (strcmp(what, "requests") == 0 && get) {
        http_reply_json(req, 200, log_json(f->control));
    } else if (strcmp(what, "stats") == 0 && get) {
        http_reply_json(req, 200, stats_json(f));
    } else if (strcmp(what, "config") == 0 && get) {
        http_reply_json(req, 200, config_json(f));
    } else if (strcmp(what, "config") == 0 && post) {
        handle_config(f, req, in);
    } else if (strcmp(what, "reset") == 0 && post) {
        do_reset(f);
        http_reply_json(req, 200, json_pack("{s:b}", "reset", 1));
    } else if (strcmp(what, "evict") == 0 && post) {
        handle_unload(f, req, in, 0);
    } else if (strcmp(what, "crash") == 0 && post) {
        handle_unload(f, req, in, 1);
    } else if (strcmp(what, "fail") == 0 && post) {
        handle_fail(f, req, in);
    } else if (strcmp(what, "script") == 0 && post) {
        handle_script(f, req, in);
    } else {
        static const char *const known[] = {"requests", "stats", "config", "reset", "evict",
                                            "crash",    "fail",  "script", NULL};
        int found = 0;
        for (size_t i = 0; known[i]; i++)
            found |= strcmp(what, known[i]) == 0;
        http_reply_error(req, found ? 405 : 404,
                         found ? "method not allowed for this control"
                               : "unknown control; see tests/fake_ollama/README.md");
    }
    json_decref(empty);
}
