/* gen: /api/generate, /api/chat, /api/embed and /api/embeddings.
 *
 * Validation follows Ollama's handlers in order and wording (server/routes.go; the body binding
 * is in binding.c). A request that passes becomes a struct gen: it takes a scheduler lease,
 * then replies from timer events (token delay between NDJSON lines, load delay in the
 * scheduler), never blocking the loop.
 *
 * Lifetime: a gen is freed exactly once, by gen_destroy, on one of three paths:
 *  - it replied (evhttp owns the request from then on; our close callback is cleared first);
 *  - the client went away: the connection close callback fires. evhttp then hands us an
 *    orphaned request (evhttp_request_get_connection() == NULL) to free;
 *  - an injected "close" failure: we free the connection ourselves, evhttp frees the request.
 * To notice a client that leaves before the first byte, the connection's bufferevent keeps
 * reading with no read callback (as evhttp itself does while it writes a reply), so an EOF
 * reaches evhttp's error callback and then our close callback within one loop iteration. */
#include "gen.h"

#include "binding.h"
#include "catalog.h"
#include "control.h"
#include "flog.h"
#include "goduration.h"
#include "gofloat.h"
#include "goquote.h"
#include "sched.h"
#include "util.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMBED_DIMS            8
#define GEN_OUTPUT_HIGH_WATER (256u * 1024) /* cap on bytes queued for one client */

enum step_kind { STEP_THINK, STEP_TOOLS, STEP_CONTENT };

struct step {
    enum step_kind kind;
    const char *text; /* borrowed from the script or the defaults */
    json_t *tools;    /* new reference (ids filled), STEP_TOOLS only */
};

enum gen_act { ACT_GRANTED, ACT_TOKEN, ACT_CLOSE };

struct gen {
    struct gen *next, *prev;
    struct fake *f;
    struct evhttp_request *req; /* NULL once replied or orphaned */
    enum gen_kind kind;
    char *model_echo; /* the request's "model", echoed back as Ollama does */
    struct model *model;
    struct lease lease;
    int stream, load_only;
    int64_t num_predict;
    int64_t prompt_tokens;
    json_t *input; /* embed: the strings to embed */
    int64_t dimensions;
    int has_fail;
    struct fail_rule fail;
    json_t *script; /* keeps the borrowed step texts alive */
    struct step *steps;
    size_t nsteps, pos;
    const char *done_reason;
    int started; /* stream: status line and headers sent */
    struct evbuffer *acc_content, *acc_thinking;
    json_t *acc_tools;
    struct event *ev;
    enum gen_act act;
    int64_t t_start, t_granted, t_first;
};

/* ---- gen lifetime ---- */

static void gen_destroy(struct gen *g) {
    struct fake *f = g->f;
    if (g->ev)
        event_free(g->ev);
    g->ev = NULL;
    sched_release(f->sched, &g->lease);
    if (g->prev)
        g->prev->next = g->next;
    else
        f->gens = g->next;
    if (g->next)
        g->next->prev = g->prev;
    for (size_t i = 0; i < g->nsteps; i++)
        json_decref(g->steps[i].tools);
    free(g->steps);
    json_decref(g->script);
    json_decref(g->input);
    json_decref(g->acc_tools);
    if (g->acc_content)
        evbuffer_free(g->acc_content);
    if (g->acc_thinking)
        evbuffer_free(g->acc_thinking);
    free(g->model_echo);
    free(g);
}

static void on_client_close(struct evhttp_connection *evcon, void *arg) {
    (void)evcon;
    struct gen *g = arg;
    /* After an EOF evhttp has unlinked the request and left it to us; when the connection is
     * freed for another reason (shutdown) the request is still linked and evhttp frees it. */
    if (g->req && evhttp_request_get_connection(g->req) == NULL)
        evhttp_request_free(g->req);
    g->req = NULL;
    g->f->stats.cancelled++;
    flog_debug("msg=\"client went away\" model=%s", g->model ? g->model->display : "-");
    gen_destroy(g);
}

/* Close detection before the first byte; see the comment at the top of the file. */
static void watch_client(struct gen *g) {
    struct evhttp_connection *evcon = evhttp_request_get_connection(g->req);
    if (!evcon)
        return;
    evhttp_connection_set_closecb(evcon, on_client_close, g);
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    bufferevent_data_cb rcb, wcb;
    bufferevent_event_cb ecb;
    void *cbarg;
    bufferevent_getcb(bev, &rcb, &wcb, &ecb, &cbarg);
    bufferevent_setcb(bev, NULL, wcb, ecb, cbarg);
    bufferevent_enable(bev, EV_READ);
}

/* The request is about to be answered for good: stop listening for its close. */
static struct evhttp_request *take_request(struct gen *g) {
    struct evhttp_request *req = g->req;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (evcon)
        evhttp_connection_set_closecb(evcon, NULL, NULL);
    g->req = NULL;
    return req;
}

static void gen_reply(struct gen *g, int status, json_t *body) {
    http_reply_json(take_request(g), status, body);
}

static void arm(struct gen *g, enum gen_act act, int64_t ms) {
    struct timeval tv = util_tv_ms(ms);
    g->act = act;
    evtimer_add(g->ev, &tv);
}

/* ---- replies ---- */

static json_t *line_new(struct gen *g, const char *content, const char *thinking, json_t *tools,
                        int done) {
    char now[UTIL_TIME_LEN];
    util_time_utc_now(now, sizeof(now));
    json_t *o = json_pack("{s:s, s:s}", "model", g->model_echo, "created_at", now);
    if (!o) {
        json_decref(tools);
        return NULL;
    }
    if (g->kind == GEN_CHAT) {
        json_t *msg = json_pack("{s:s, s:s}", "role", "assistant", "content", content);
        if (msg && thinking && *thinking)
            json_object_set_new(msg, "thinking", json_string(thinking));
        if (msg && tools)
            json_object_set(msg, "tool_calls", tools);
        json_object_set_new(o, "message", msg);
    } else {
        json_object_set_new(o, "response", json_string(content));
        if (thinking && *thinking)
            json_object_set_new(o, "thinking", json_string(thinking));
    }
    json_decref(tools);
    json_object_set_new(o, "done", json_boolean(done));
    return o;
}

static void add_metric(json_t *o, const char *key, int64_t v) {
    if (v > 0) /* Go's omitempty */
        json_object_set_new(o, key, json_integer((json_int_t)v));
}

static void add_done_fields(struct gen *g, json_t *o) {
    int64_t now = util_now_ns();
    json_object_set_new(o, "done_reason", json_string(g->done_reason));
    if (g->kind == GEN_GENERATE) {
        json_t *ctx = json_array();
        int64_t n = g->prompt_tokens + (int64_t)g->pos;
        for (int64_t i = 0; ctx && i < n && i < 64; i++)
            json_array_append_new(ctx, json_integer(128000 + i));
        json_object_set_new(o, "context", ctx);
    }
    int64_t first = g->t_first ? g->t_first : now;
    add_metric(o, "total_duration", now - g->t_start);
    add_metric(o, "load_duration", g->t_granted - g->t_start);
    add_metric(o, "prompt_eval_count", g->prompt_tokens);
    add_metric(o, "prompt_eval_duration", first - g->t_granted);
    add_metric(o, "eval_count", (int64_t)g->pos);
    add_metric(o, "eval_duration", g->pos ? (now - first > 0 ? now - first : 1) : 0);
}

static void stream_start(struct gen *g) {
    evhttp_add_header(evhttp_request_get_output_headers(g->req), "Content-Type",
                      "application/x-ndjson");
    evhttp_send_reply_start(g->req, 200, "OK");
    g->started = 1;
}

static void stream_line(struct gen *g, json_t *line) {
    struct evbuffer *buf = evbuffer_new();
    if (buf && line) {
        json_dump_callback(line, util_dump_to_evbuffer, buf, JSON_COMPACT);
        evbuffer_add(buf, "\n", 1);
        evhttp_send_reply_chunk(g->req, buf);
    }
    if (buf)
        evbuffer_free(buf);
    json_decref(line);
}

static void stream_end(struct gen *g) {
    evhttp_send_reply_end(take_request(g));
}

static void finish_ok(struct gen *g) {
    g->f->stats.completed++;
    gen_destroy(g);
}

static void finish_failed(struct gen *g) {
    g->f->stats.failed++;
    gen_destroy(g);
}

/* A failure with Ollama's two shapes: status + {"error"} before any byte, else a last line. */
static void fail_with(struct gen *g, int status, const char *msg) {
    if (g->started) {
        stream_line(g, json_pack("{s:s}", "error", msg));
        stream_end(g);
    } else {
        http_reply_error(take_request(g), status, msg);
    }
    finish_failed(g);
}

static void reply_load(struct gen *g) {
    char now[UTIL_TIME_LEN];
    util_time_utc_now(now, sizeof(now));
    json_t *o;
    if (g->kind == GEN_EMBED)
        o = json_pack("{s:s, s:[]}", "model", g->model_echo, "embeddings");
    else if (g->kind == GEN_EMBEDDINGS)
        o = json_pack("{s:[]}", "embedding");
    else if (g->kind == GEN_CHAT)
        o = json_pack("{s:s, s:s, s:{s:s, s:s}, s:b, s:s}", "model", g->model_echo, "created_at",
                      now, "message", "role", "assistant", "content", "", "done", 1, "done_reason",
                      "load");
    else
        o = json_pack("{s:s, s:s, s:s, s:b, s:s}", "model", g->model_echo, "created_at", now,
                      "response", "", "done", 1, "done_reason", "load");
    gen_reply(g, 200, o);
    finish_ok(g);
}

/* A deterministic unit vector per text (8 dims), truncated and renormalised to dims. */
static json_t *embed_vector(const char *text, int64_t dims) {
    double v[EMBED_DIMS], norm = 0;
    size_t n = EMBED_DIMS;
    if (dims > 0 && dims < EMBED_DIMS)
        n = (size_t)dims;
    for (size_t i = 0; i < EMBED_DIMS; i++) {
        uint64_t h = util_hash(text, strlen(text), i + 1);
        h ^= h >> 33; /* FNV mixes the high bits of short texts poorly: finish like splitmix64 */
        h *= UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 33;
        h *= UINT64_C(0xc4ceb9fe1a85ec53);
        h ^= h >> 33;
        v[i] = ((double)(h >> 11) / 9007199254740992.0) * 2.0 - 1.0;
    }
    for (int pass = 0; pass < 2; pass++) {
        size_t upto = pass == 0 ? EMBED_DIMS : n;
        norm = 0;
        for (size_t i = 0; i < upto; i++)
            norm += v[i] * v[i];
        norm = sqrt(norm);
        for (size_t i = 0; i < upto; i++)
            v[i] = (double)(float)(v[i] / (norm > 1e-12 ? norm : 1e-12));
    }
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

/* Appends ,"key":v when v > 0 (Go's omitempty). */
static void add_metric_text(struct evbuffer *b, const char *key, int64_t v) {
    if (v > 0)
        evbuffer_add_printf(b, ",\"%s\":%lld", key, (long long)v);
}

/* Written as Go writes api.EmbedResponse (server/routes.go EmbedHandler at fb30760): the
 * embeddings are []float32, each number in Go's shortest float32 form (gofloat.h), then the
 * metrics; jansson would write 0.34815499999999999 for Go's 0.348155. */
static void reply_embed(struct gen *g) {
    struct evbuffer *b = evbuffer_new();
    json_t *model = json_string(g->model_echo);
    char *mtext = model ? json_dumps(model, JSON_ENCODE_ANY) : NULL;
    json_decref(model);
    if (!b || !mtext) {
        if (b)
            evbuffer_free(b);
        free(mtext);
        gen_reply(g, 500, json_pack("{s:s}", "error", "out of memory"));
        finish_ok(g);
        return;
    }
    evbuffer_add_printf(b, "{\"model\":%s,\"embeddings\":[", mtext);
    free(mtext);
    size_t i, j;
    json_t *text, *x;
    json_array_foreach(g->input, i, text) {
        json_t *vec = embed_vector(json_string_value(text), g->dimensions);
        evbuffer_add(b, i ? ",[" : "[", i ? 2 : 1);
        json_array_foreach(vec, j, x) {
            char num[GOFLOAT_MAX];
            size_t n = gofloat32((float)json_real_value(x), num);
            if (j)
                evbuffer_add(b, ",", 1);
            evbuffer_add(b, num, n);
        }
        evbuffer_add(b, "]", 1);
        json_decref(vec);
    }
    evbuffer_add(b, "]", 1);
    int64_t now = util_now_ns();
    add_metric_text(b, "total_duration", now - g->t_start);
    add_metric_text(b, "load_duration", g->t_granted - g->t_start);
    add_metric_text(b, "prompt_eval_count", g->prompt_tokens);
    evbuffer_add(b, "}", 2); /* the NUL too, for http_reply_text */
    http_reply_text(take_request(g), 200, "application/json; charset=utf-8",
                    (const char *)evbuffer_pullup(b, -1));
    evbuffer_free(b);
    finish_ok(g);
}

static void reply_embeddings(struct gen *g) {
    const char *text = json_string_value(json_array_get(g->input, 0));
    gen_reply(g, 200, json_pack("{s:o}", "embedding", embed_vector(text ? text : "", 0)));
    finish_ok(g);
}

static void reply_complete(struct gen *g) {
    if (g->stream) {
        json_t *line = line_new(g, "", NULL, NULL, 1);
        if (line)
            add_done_fields(g, line);
        if (!g->started)
            stream_start(g);
        stream_line(g, line);
        stream_end(g);
        finish_ok(g);
        return;
    }
    size_t cl = evbuffer_get_length(g->acc_content), tl = evbuffer_get_length(g->acc_thinking);
    evbuffer_add(g->acc_content, "", 1);
    evbuffer_add(g->acc_thinking, "", 1);
    const char *content = (const char *)evbuffer_pullup(g->acc_content, (ev_ssize_t)cl + 1);
    const char *thinking = (const char *)evbuffer_pullup(g->acc_thinking, (ev_ssize_t)tl + 1);
    json_t *tools = json_array_size(g->acc_tools) ? json_incref(g->acc_tools) : NULL;
    json_t *o = line_new(g, content, thinking, tools, 1);
    if (o)
        add_done_fields(g, o);
    gen_reply(g, 200, o);
    finish_ok(g);
}

static void emit_step(struct gen *g, const struct step *st) {
    if (!g->t_first)
        g->t_first = util_now_ns();
    if (g->stream) {
        json_t *line = NULL;
        if (st->kind == STEP_THINK)
            line = line_new(g, "", st->text, NULL, 0);
        else if (st->kind == STEP_CONTENT)
            line = line_new(g, st->text, NULL, NULL, 0);
        else
            line = line_new(g, "", NULL, json_incref(st->tools), 0);
        if (!g->started)
            stream_start(g);
        stream_line(g, line);
        return;
    }
    if (st->kind == STEP_THINK)
        evbuffer_add(g->acc_thinking, st->text, strlen(st->text));
    else if (st->kind == STEP_CONTENT)
        evbuffer_add(g->acc_content, st->text, strlen(st->text));
    else
        json_array_extend(g->acc_tools, st->tools);
}

/* Bytes queued for the client: a reader that stops reading stalls generation, as a blocked
 * net/http writer stalls Ollama's runner. */
static size_t pending_output(struct gen *g) {
    struct evhttp_connection *evcon = g->req ? evhttp_request_get_connection(g->req) : NULL;
    return evcon ? evbuffer_get_length(
                       bufferevent_get_output(evhttp_connection_get_bufferevent(evcon)))
                 : 0;
}

static void close_connection(struct gen *g) {
    struct evhttp_connection *evcon = evhttp_request_get_connection(g->req);
    take_request(g); /* evhttp frees the linked request with its connection */
    finish_failed(g);
    if (evcon)
        evhttp_connection_free(evcon);
}

/* "close": after the headers and the tokens so far reached the client, drop the connection. */
static void inject_close(struct gen *g) {
    if (g->stream && !g->started)
        stream_start(g);
    if (g->stream && pending_output(g) > 0) {
        arm(g, ACT_CLOSE, 1);
        return;
    }
    close_connection(g);
}

static void on_token(struct gen *g) {
    if (g->stream && g->started && pending_output(g) > GEN_OUTPUT_HIGH_WATER) {
        arm(g, ACT_TOKEN, 5); /* poll until the client drains its share */
        return;
    }
    if (sched_lease_crashed(&g->lease)) {
        fail_with(g, 500, "an error was encountered while running the model: unexpected EOF");
        return;
    }
    size_t trigger = (size_t)-1;
    if (g->has_fail && (g->fail.when == FAIL_MID || g->fail.when == FAIL_CLOSE))
        trigger = g->nsteps < 2 ? g->nsteps : 2;
    if (g->pos == trigger) {
        if (g->fail.when == FAIL_CLOSE) {
            inject_close(g);
        } else {
            if (g->stream && !g->started)
                stream_start(g);
            fail_with(g, g->fail.status, g->fail.error);
        }
        return;
    }
    if (g->pos < g->nsteps)
        emit_step(g, &g->steps[g->pos++]);
    if (g->pos >= g->nsteps && g->pos != trigger) {
        reply_complete(g);
        return;
    }
    arm(g, ACT_TOKEN, g->f->cfg.token_delay_ms);
}

static void on_granted_now(struct gen *g) {
    g->t_granted = util_now_ns();
    if (g->load_only) {
        reply_load(g);
    } else if (g->kind == GEN_EMBED) {
        reply_embed(g);
    } else if (g->kind == GEN_EMBEDDINGS) {
        reply_embeddings(g);
    } else if (g->has_fail && g->fail.when == FAIL_BEFORE) {
        fail_with(g, g->fail.status, g->fail.error);
    } else {
        arm(g, ACT_TOKEN, g->f->cfg.token_delay_ms);
    }
}

static void on_gen_event(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    struct gen *g = arg;
    switch (g->act) {
        case ACT_GRANTED:
            on_granted_now(g);
            break;
        case ACT_TOKEN:
            on_token(g);
            break;
        case ACT_CLOSE:
            inject_close(g);
            break;
    }
}

static void on_lease_granted(struct lease *l, void *arg) {
    (void)l;
    arm(arg, ACT_GRANTED, 0); /* continue on a fresh stack, outside the scheduler */
}

/* ---- steps: what the model "says" ---- */

static uint64_t tool_id_seq;

static json_t *tools_with_ids(const json_t *calls) {
    static const char letters[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    json_t *out = json_array();
    size_t i;
    json_t *call;
    json_array_foreach(calls, i, call) {
        json_t *id = json_object_get(call, "id");
        char buf[16];
        if (!id) {
            uint64_t h = util_hash(&tool_id_seq, sizeof(tool_id_seq), 7);
            tool_id_seq++;
            memcpy(buf, "call_", 5);
            for (int k = 0; k < 8; k++, h /= 36)
                buf[5 + k] = letters[h % 36];
            buf[13] = '\0';
        }
        json_array_append_new(out, json_pack("{s:s, s:O}", "id", id ? json_string_value(id) : buf,
                                             "function", json_object_get(call, "function")));
    }
    return out;
}

static int add_tokens(struct gen *g, const json_t *tokens, enum step_kind kind) {
    size_t i;
    json_t *t;
    json_array_foreach(tokens, i, t) {
        g->steps[g->nsteps].kind = kind;
        g->steps[g->nsteps].text = json_string_value(t);
        g->steps[g->nsteps].tools = NULL;
        g->nsteps++;
    }
    return 0;
}

/* after_tool: the chat ends with a tool result; a script's "after_tool" list then replaces its
 * content and tool calls, so an agent's loop (call a tool, read its result, answer) ends. */
static int build_steps(struct gen *g, int think, int has_tools, int after_tool) {
    struct control *c = g->f->control;
    json_t *script = control_script(c, g->model);
    g->script = json_incref(script);
    json_t *content = json_object_get(script, "content");
    json_t *thinking = json_object_get(script, "thinking");
    json_t *calls = has_tools ? json_object_get(script, "tool_calls") : NULL;
    json_t *after = after_tool ? json_object_get(script, "after_tool") : NULL;
    if (after) {
        content = after;
        calls = NULL;
    }
    if (json_array_size(calls) == 0)
        calls = NULL;
    if (!content && !calls)
        content = control_default_content(c);
    if (!thinking)
        thinking = control_default_thinking(c);
    if (!think)
        thinking = NULL;
    size_t max = json_array_size(content) + json_array_size(thinking) + 1;
    g->steps = calloc(max, sizeof(*g->steps));
    if (!g->steps)
        return -1;
    add_tokens(g, thinking, STEP_THINK);
    if (calls) {
        g->steps[g->nsteps].kind = STEP_TOOLS;
        g->steps[g->nsteps].tools = tools_with_ids(calls);
        g->nsteps++;
    }
    add_tokens(g, content, STEP_CONTENT);
    json_t *reason = json_object_get(script, "done_reason");
    g->done_reason = json_is_string(reason) ? json_string_value(reason) : "stop";
    if (g->num_predict > 0 && (int64_t)g->nsteps > g->num_predict) {
        for (size_t i = (size_t)g->num_predict; i < g->nsteps; i++) {
            json_decref(g->steps[i].tools);
            g->steps[i].tools = NULL;
        }
        g->nsteps = (size_t)g->num_predict;
        g->done_reason = "length";
    }
    return 0;
}

/* ---- handlers ---- */

static struct gen *gen_new(struct fake *f, struct evhttp_request *req, enum gen_kind kind,
                           struct model *m, const char *echo) {
    struct gen *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->f = f;
    g->req = req;
    g->kind = kind;
    g->model = m;
    g->model_echo = strdup(echo);
    g->ev = evtimer_new(f->base, on_gen_event, g);
    g->acc_content = evbuffer_new();
    g->acc_thinking = evbuffer_new();
    g->acc_tools = json_array();
    g->t_start = util_now_ns();
    g->stream = 1;
    g->num_predict = -1;
    g->next = f->gens;
    if (f->gens)
        f->gens->prev = g;
    f->gens = g;
    if (!g->model_echo || !g->ev || !g->acc_content || !g->acc_thinking || !g->acc_tools) {
        g->req = NULL;
        gen_destroy(g);
        return NULL;
    }
    return g;
}

static void gen_schedule(struct gen *g, const struct runner_opts *ro, const json_t *keep_alive) {
    struct fake *f = g->f;
    g->lease.model = g->model;
    g->lease.opts = *ro;
    if (keep_alive && !json_is_null(keep_alive)) {
        char err[128];
        g->lease.has_keep_alive =
            goduration_from_json(keep_alive, &g->lease.keep_alive_ns, err, sizeof(err)) == 0;
    }
    g->lease.on_granted = on_lease_granted;
    g->lease.arg = g;
    watch_client(g);
    if (sched_acquire(f->sched, &g->lease))
        on_granted_now(g);
}

/* Binds the body like gin would, or answers 400 with Go's words. */
static int bind_or_reply(struct evhttp_request *req, const struct http_body *body,
                         enum gen_kind kind) {
    char err[512];
    if (binding_request(body, kind, err, sizeof(err)) == 0)
        return 0;
    http_reply_error(req, 400, err);
    return -1;
}

static const char *str_or_empty(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void not_found(struct evhttp_request *req, const char *name) {
    char msg[1024];
    snprintf(msg, sizeof(msg), "model '%s' not found", name);
    http_reply_error(req, 404, msg);
}

/* A runner marked by /_fake/crash fails to come back once, like a runner that died. */
static int crash_check(struct fake *f, struct evhttp_request *req, struct model *m) {
    if (!m->crash_pending)
        return 0;
    m->crash_pending = 0;
    f->stats.failed++;
    http_reply_error(req, 500, "llama runner process has terminated: exit status 2");
    return -1;
}

static void handle_generate_chat(struct fake *f, struct evhttp_request *req, enum gen_kind kind,
                                 const struct http_body *body) {
    int chat = kind == GEN_CHAT;
    if (bind_or_reply(req, body, kind) != 0)
        return;
    const json_t *in = body->json;
    json_t *tl = json_object_get(in, "top_logprobs");
    if (tl && json_is_integer(tl) && (json_integer_value(tl) < 0 || json_integer_value(tl) > 20)) {
        http_reply_error(req, 400, "top_logprobs must be between 0 and 20");
        return;
    }
    const char *name = str_or_empty(in, "model");
    if (catalog_name_valid(name) != 0) {
        if (chat)
            http_reply_error(req, 400, "model is required");
        else
            not_found(req, name);
        return;
    }
    struct model *m = catalog_find(f->catalog, name);
    if (!m) {
        not_found(req, name);
        return;
    }
    const json_t *ka = json_object_get(in, "keep_alive");
    int64_t ka_ns = -1;
    if (ka && !json_is_null(ka))
        goduration_from_json(ka, &ka_ns, NULL, 0);
    int empty = chat ? json_array_size(json_object_get(in, "messages")) == 0
                     : *str_or_empty(in, "prompt") == '\0';
    char now[UTIL_TIME_LEN], quoted[600], msg[1024];
    if (empty && ka_ns == 0) {
        sched_expire(f->sched, m);
        util_time_utc_now(now, sizeof(now));
        json_t *o = chat ? json_pack("{s:s, s:s, s:{s:s, s:s}, s:b, s:s}", "model", name,
                                     "created_at", now, "message", "role", "assistant", "content",
                                     "", "done", 1, "done_reason", "unload")
                         : json_pack("{s:s, s:s, s:s, s:b, s:s}", "model", name, "created_at", now,
                                     "response", "", "done", 1, "done_reason", "unload");
        http_reply_json(req, 200, o);
        return;
    }
    goquote(name, quoted, sizeof(quoted));
    json_t *think_v = json_object_get(in, "think");
    int think;
    if (m->caps & CAP_THINKING) {
        think = think_v && !json_is_null(think_v) ? binding_think_truthy(think_v) : 1;
    } else {
        if (binding_think_truthy(think_v)) {
            snprintf(msg, sizeof(msg), "%s does not support thinking", quoted);
            http_reply_error(req, 400, msg);
            return;
        }
        think = 0;
    }
    int has_tools = chat && json_array_size(json_object_get(in, "tools")) > 0;
    if (!(m->caps & CAP_COMPLETION)) {
        snprintf(msg, sizeof(msg), "%s does not support %s", quoted, chat ? "chat" : "generate");
        http_reply_error(req, 400, msg);
        return;
    }
    if (has_tools && !(m->caps & CAP_TOOLS)) {
        snprintf(msg, sizeof(msg), "%s does not support tools", m->full);
        http_reply_error(req, 400, msg);
        return;
    }
    if (!chat && *str_or_empty(in, "suffix") && !(m->caps & CAP_INSERT)) {
        snprintf(msg, sizeof(msg), "%s does not support insert", m->full);
        http_reply_error(req, 400, msg);
        return;
    }
    struct runner_opts ro;
    int64_t num_predict;
    if (binding_options(json_object_get(in, "options"), &ro, &num_predict, msg, sizeof(msg)) != 0) {
        http_reply_error(req, 500, msg);
        return;
    }
    if (crash_check(f, req, m) != 0)
        return;

    struct gen *g = gen_new(f, req, kind, m, name);
    if (!g) {
        http_reply_error(req, 500, "out of memory");
        return;
    }
    json_t *stream = json_object_get(in, "stream");
    g->stream = !json_is_false(stream);
    g->load_only = empty;
    g->num_predict = num_predict;
    int after_tool = 0;
    if (chat) {
        size_t i;
        json_t *msgv;
        json_array_foreach(json_object_get(in, "messages"), i, msgv) {
            g->prompt_tokens += util_count_words(str_or_empty(msgv, "content"));
            after_tool = strcmp(str_or_empty(msgv, "role"), "tool") == 0;
        }
    } else {
        g->prompt_tokens = util_count_words(str_or_empty(in, "prompt")) +
                           util_count_words(str_or_empty(in, "system"));
    }
    if (g->prompt_tokens < 1)
        g->prompt_tokens = 1;
    if (!empty) {
        g->has_fail = control_take_fail(f->control, m, &g->fail);
        if (build_steps(g, think, has_tools, after_tool) != 0) {
            http_reply_error(take_request(g), 500, "out of memory");
            gen_destroy(g);
            return;
        }
    }
    gen_schedule(g, &ro, ka);
}

static void handle_embed(struct fake *f, struct evhttp_request *req, enum gen_kind kind,
                         const struct http_body *body) {
    int legacy = kind == GEN_EMBEDDINGS;
    if (bind_or_reply(req, body, kind) != 0)
        return;
    const json_t *in = body->json;
    json_t *inputs = json_array();
    if (!inputs) {
        http_reply_error(req, 500, "out of memory");
        return;
    }
    json_t *iv = json_object_get(in, legacy ? "prompt" : "input");
    int bad = iv && !json_is_null(iv) && !json_is_string(iv) && !json_is_array(iv);
    if (json_is_string(iv) && json_string_length(iv) > 0) {
        json_array_append(inputs, iv);
    } else if (json_is_array(iv)) {
        size_t i;
        json_t *s;
        json_array_foreach(iv, i, s) {
            bad |= !json_is_string(s);
            json_array_append(inputs, s);
        }
    }
    if (bad) {
        json_decref(inputs);
        http_reply_error(req, 400, "invalid input type");
        return;
    }
    const char *name = str_or_empty(in, "model");
    struct model *m = catalog_find(f->catalog, name);
    if (!m) {
        char msg[1024];
        json_decref(inputs);
        if (legacy && catalog_name_valid(name) != 0) {
            http_reply_error(req, 400, "model is required");
        } else if (legacy) {
            char quoted[600];
            goquote(name, quoted, sizeof(quoted));
            snprintf(msg, sizeof(msg), "model %s not found, try pulling it first", quoted);
            http_reply_error(req, 404, msg);
        } else {
            not_found(req, name);
        }
        return;
    }
    struct runner_opts ro;
    int64_t num_predict;
    char msg[512];
    if (binding_options(json_object_get(in, "options"), &ro, &num_predict, msg, sizeof(msg)) != 0) {
        json_decref(inputs);
        http_reply_error(req, 500, msg);
        return;
    }
    if (crash_check(f, req, m) != 0) {
        json_decref(inputs);
        return;
    }
    struct gen *g = gen_new(f, req, kind, m, name);
    if (!g) {
        json_decref(inputs);
        http_reply_error(req, 500, "out of memory");
        return;
    }
    g->input = inputs;
    g->load_only = json_array_size(inputs) == 0;
    json_t *dims = json_object_get(in, "dimensions");
    g->dimensions = json_is_integer(dims) ? (int64_t)json_integer_value(dims) : 0;
    size_t i;
    json_t *s;
    json_array_foreach(inputs, i, s) {
        int64_t w = util_count_words(json_string_value(s));
        g->prompt_tokens += w > 0 ? w : 1;
    }
    gen_schedule(g, &ro, json_object_get(in, "keep_alive"));
}

void gen_handle(struct fake *f, struct evhttp_request *req, enum gen_kind kind,
                const struct http_body *body) {
    struct http_body b = *body;
    if (b.json && json_is_null(b.json))
        b.json = f->empty; /* a null body binds to the zero request */
    if (kind == GEN_GENERATE || kind == GEN_CHAT)
        handle_generate_chat(f, req, kind, &b);
    else
        handle_embed(f, req, kind, &b);
}

size_t gen_in_flight(const struct fake *f) {
    size_t n = 0;
    for (const struct gen *g = f->gens; g; g = g->next)
        n++;
    return n;
}

void gen_free_all(struct fake *f) {
    while (f->gens) {
        f->gens->req = NULL;
        gen_destroy(f->gens);
    }
}
