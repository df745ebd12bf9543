/* warm: the warm loop (see warm.h). One round at a time: GET /api/ps, then the needed load
 * pings one after another (a load may evict another model, so never several at once), then
 * the timer for the next round. State per model lives in a fixed table: configured pins
 * always have their place in it; the other models (seen in /api/ps, or used by clients and
 * answered 2xx by Ollama) share the rest, the least recently used giving way. */
#include "warm.h"

#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "duration.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "rfc3339.h"

#define WARM_MAX_MODELS  (2 * CONFIG_MAX_LIST)
#define PS_MAX_BYTES     (4u << 20) /* cap on an /api/ps or ping answer */
#define PROGRESS_EVERY_S 5          /* a load ping still running logs its progress this often */
#define FOREVER_YEARS_S  (20LL * 365 * 86400) /* expires_at beyond this is "forever" (CLI rule) */
#define THRASH_ROUNDS    3
#define THRASH_SLOWDOWN  4
#define MAX_READYZ       32
#define WARM_NAME_MAX    768 /* Ollama's longest valid name (593 bytes) and a digest */

enum add_why { ADD_PIN, ADD_CLIENT, ADD_PS };
/* the read timeout of our calls when read_timeout = 0 */
#define WARM_SILENCE_MS (10L * 60 * 1000)
/* the first retry after Ollama stopped answering; doubled each time, up to ping_interval */
#define BACKOFF_FIRST_NS (250 * 1000000LL)

struct wmodel {
    char name[WARM_NAME_MAX];
    int pinned;              /* from the configuration */
    int requested;           /* pinned because clients use it (pin_requested) */
    int refused;             /* pin_requested found max_pinned reached (logged once) */
    unsigned long long used; /* when last added, seen or used (w->tick): LRU order */
    int loaded;              /* present in the last /api/ps */
    int ever_loaded;         /* seen loaded: a later absence is an unexpected unload */
    int repairing;           /* the current ping repairs an unexpected unload */
    int embed;               /* -1 unknown, 0 load with /api/generate, 1 with /api/embed */
    char expires_at[64];
    long long expires_unix;
    long long size, size_vram, context_length;
    unsigned long reloads;
    unsigned long pings_ok, pings_err;
    char last_ping[8]; /* "ok", "error", "" */
    long long last_ping_at;
    double last_ping_ms;
    char last_error[256];
};

struct readyz {
    struct warm *w;
    struct evhttp_request *req;
    struct upstream_xfer *xfer;
    struct evbuffer *body;
};

struct warm {
    warm_reply_fn reply; /* writes /readyz's answer (warm_set_reply; evhttp_send_reply) */
    struct event_base *base;
    const struct config *cfg;
    struct upstream *up;
    struct event *timer;
    struct event *progress;
    struct wmodel models[WARM_MAX_MODELS];
    size_t nmodels;
    unsigned long long tick;
    int upstream_up; /* -1 unknown, 0 down, 1 up */
    char upstream_error[256];
    long long upstream_since;
    int64_t backoff_ns;         /* next retry delay while Ollama is down */
    int running;                /* a round is in progress */
    struct upstream_xfer *xfer; /* the round's current transfer (ps or a ping) */
    struct evbuffer *body;      /* its answer, capped */
    char *sent;                 /* its request body, which upstream borrows (owned) */
    int ping_idx;               /* model being pinged, -1 during ps */
    int ping_embed_retry;       /* the ping was retried with /api/embed */
    struct timeval ping_t0;
    size_t queue[WARM_MAX_MODELS];
    size_t nqueue, qpos;
    int round_repairs; /* unexpected unloads found this round */
    int thrash_rounds; /* consecutive rounds with repairs */
    int thrashing;
    struct readyz *readyz[MAX_READYZ];
    struct residency *res; /* owned */
};

static long long now_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static long long now_s(void) {
    return (long long)time(NULL);
}

static struct wmodel *model_find(struct warm *w, const char *name) {
    for (size_t i = 0; i < w->nmodels; i++)
        if (config_names_match(w->models[i].name, name))
            return &w->models[i];
    return NULL;
}

static int is_pinned(const struct wmodel *m) {
    return m->pinned || m->requested;
}

/* Entry i is the round's current ping or waits in its queue: its index must keep naming it. */
static int in_round(const struct warm *w, size_t i) {
    if (w->ping_idx == (int)i)
        return 1;
    for (size_t q = w->qpos; q < w->nqueue; q++)
        if (w->queue[q] == i)
            return 1;
    return 0;
}

/* The place for a new model in a full table: the least recently used entry that is neither a
 * configured pin, nor requested, nor in the round's work; for a configured pin, a requested
 * one if there is no other. NULL when there is none. */
static struct wmodel *model_evict(struct warm *w, enum add_why why, const char *name) {
    struct wmodel *best = NULL;
    for (int pass = 0; pass < (why == ADD_PIN ? 2 : 1) && !best; pass++) {
        for (size_t i = 0; i < w->nmodels; i++) {
            struct wmodel *m = &w->models[i];
            if (m->pinned || (pass == 0 && m->requested) || in_round(w, i))
                continue;
            if (!best || m->used < best->used)
                best = m;
        }
    }
    if (best && best->requested)
        log_warn("msg=\"a configured pin takes the place of a requested model\" pin=%s "
                 "requested=%s",
                 name, best->name);
    else if (best)
        log_debug("msg=\"model table full, forgetting the least recently used\" model=%s for=%s",
                  best->name, name);
    return best;
}

/* The entry for name, new if need be (see the top of the file); NULL, logged, when it cannot
 * have one. Marks it used now. */
static struct wmodel *model_add(struct warm *w, const char *name, enum add_why why) {
    struct wmodel *m = model_find(w, name);
    if (!m) {
        if (strlen(name) >= sizeof(m->name)) {
            if (why == ADD_PS)
                log_debug("msg=\"model name too long to track\" model=%s", name);
            else
                log_warn("msg=\"model name too long to track\" model=%s pinned=%d", name,
                         why == ADD_PIN);
            return NULL;
        }
        if (w->nmodels < WARM_MAX_MODELS)
            m = &w->models[w->nmodels++];
        else if (!(m = model_evict(w, why, name))) {
            if (why == ADD_PS)
                log_debug("msg=\"model table full\" model=%s", name);
            else
                log_warn("msg=\"model table full of pinned models, not tracking\" model=%s "
                         "pinned=%d",
                         name, why == ADD_PIN);
            return NULL;
        }
        memset(m, 0, sizeof(*m));
        snprintf(m->name, sizeof(m->name), "%s", name);
        m->embed = -1;
    }
    m->used = ++w->tick;
    return m;
}

static int configured_pin(const struct config *cfg, const char *name) {
    for (size_t i = 0; i < cfg->npins; i++)
        if (config_names_match(cfg->pins[i], name))
            return 1;
    return 0;
}

static size_t npinned(const struct warm *w) {
    size_t n = 0;
    for (size_t i = 0; i < w->nmodels; i++)
        n += is_pinned(&w->models[i]);
    return n;
}

/* The configuration's pins, marked first where they have entries (so none of them is taken
 * for another), then added. Run at every reload and every round (a pin that found no place,
 * every other entry being in the round's work, gets one the next time). */
static void apply_pins(struct warm *w) {
    for (size_t i = 0; i < w->nmodels; i++)
        w->models[i].pinned = configured_pin(w->cfg, w->models[i].name);
    for (size_t i = 0; i < w->cfg->npins; i++) {
        struct wmodel *m = model_find(w, w->cfg->pins[i]);
        if (!m && (m = model_add(w, w->cfg->pins[i], ADD_PIN)))
            m->pinned = 1;
    }
}

static void schedule(struct warm *w, int64_t ns) {
    struct timeval tv = {(time_t)(ns / DURATION_SECOND),
                         (suseconds_t)((ns % DURATION_SECOND) / 1000)};
    evtimer_add(w->timer, &tv);
}

static void set_upstream(struct warm *w, int up, const char *detail) {
    if (w->upstream_up != up) {
        if (up)
            log_info("msg=\"Ollama is up\" upstream=%s", w->cfg->upstream);
        else
            log_warn("msg=\"Ollama is down\" upstream=%s detail=\"%s\"", w->cfg->upstream, detail);
        w->upstream_since = now_s();
    }
    w->upstream_up = up;
    snprintf(w->upstream_error, sizeof(w->upstream_error), "%s", up ? "" : detail);
}

/* Ollama does not answer: nothing is known to be loaded. */
static void upstream_lost(struct warm *w, const char *why) {
    set_upstream(w, 0, why);
    for (size_t i = 0; i < w->nmodels; i++)
        w->models[i].loaded = 0;
}

/* What changed since the last /api/ps (was[i]: entry i was loaded; entries from before on):
 * a model that vanished was crashed (a crash was recorded since its load), expired (its
 * expires_at had passed) or evicted; one that appeared was loaded by someone. An entry that
 * took another's place (the table was full) is new: no event. */
static void residency_ps(struct warm *w, const int *was, size_t before) {
    long long now = now_s();
    for (size_t i = 0; i < w->nmodels; i++) {
        struct wmodel *m = &w->models[i];
        int prev = i < before ? was[i] : 0;
        if (prev && !m->loaded) {
            enum residency_event ev = residency_crashed_since_load(w->res, m->name) ? RES_CRASHED
                                      : m->expires_unix && m->expires_unix <= now   ? RES_EXPIRED
                                                                                    : RES_EVICTED;
            char detail[96];
            snprintf(detail, sizeof(detail), "gone from /api/ps%s%s",
                     m->expires_at[0] ? "; expires_at " : "", m->expires_at);
            residency_event(w->res, m->name, ev, detail, now_ms());
        } else if (!prev && m->loaded && w->ping_idx != (int)i) {
            residency_event(w->res, m->name, RES_LOADED, "seen in /api/ps", now_ms());
        }
    }
}

/* Updates the table from an /api/ps answer. Returns 0, or -1 if it is not one. */
static int apply_ps(struct warm *w, const json_t *ps) {
    const json_t *list = json_object_get(ps, "models");
    if (!json_is_array(list) && !json_is_null(list))
        return -1;
    int was[WARM_MAX_MODELS];
    for (size_t i = 0; i < w->nmodels; i++) {
        was[i] = w->models[i].loaded;
        w->models[i].loaded = 0;
    }
    size_t before = w->nmodels;
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        if (!name)
            name = json_string_value(json_object_get(e, "model"));
        if (!name)
            continue;
        struct wmodel *m = model_add(w, name, ADD_PS); /* loaded by others: in /status too */
        if (!m)
            continue;
        m->loaded = 1;
        m->ever_loaded = 1;
        const char *exp = json_string_value(json_object_get(e, "expires_at"));
        snprintf(m->expires_at, sizeof(m->expires_at), "%s", exp ? exp : "");
        if (rfc3339_parse(exp, &m->expires_unix) < 0)
            m->expires_unix = 0;
        m->size = (long long)json_integer_value(json_object_get(e, "size"));
        m->size_vram = (long long)json_integer_value(json_object_get(e, "size_vram"));
        m->context_length = (long long)json_integer_value(json_object_get(e, "context_length"));
    }
    residency_ps(w, was, before);
    return 0;
}

/* Does a loaded model need a refresh ping so it does not expire before the next round? */
static int needs_refresh(const struct warm *w, const struct wmodel *m) {
    long long now = now_s();
    if (m->expires_unix <= now)
        return 0; /* stale while a request is in flight, or unloading: the next round sees */
    int64_t ka = policy_keep_alive(w->cfg, m->name);
    if (ka == DURATION_FOREVER)
        return m->expires_unix < now + FOREVER_YEARS_S; /* loaded by someone else, finite */
    long long margin = (long long)(w->cfg->ping_interval / DURATION_SECOND) * 3 / 2 + 1;
    return m->expires_unix - now < margin;
}

static void round_end(struct warm *w);
static void ping_next(struct warm *w);

static const struct upstream_cbs warm_cbs;

/* The warm loop's own calls (/api/ps, load pings, /readyz's probe) never wait for ever on a
 * silent Ollama: read_timeout, or WARM_SILENCE_MS when it is 0 (no limit for clients). All of
 * them are harmless to send twice (a load ping only loads), so a kept-alive connection that
 * Ollama closed under one does not fail it. */
static void bound_xfer(const struct warm *w, struct upstream_xfer *x) {
    long ms = (long)(w->cfg->read_timeout / 1000000);
    upstream_set_read_timeout(x, ms > 0 ? ms : WARM_SILENCE_MS);
    upstream_set_replayable(x, 1);
}

static int start_xfer(struct warm *w, const char *method, const char *path, json_t *body) {
    static const char *const json_hdr[] = {"Content-Type: application/json", NULL};
    char err[256];
    free(w->sent); /* the previous transfer's body: that transfer is over */
    w->sent = body ? json_dumps(body, JSON_COMPACT) : NULL;
    evbuffer_drain(w->body, evbuffer_get_length(w->body));
    w->xfer = upstream_start(w->up, method, path, body ? json_hdr : NULL, w->sent,
                             w->sent ? strlen(w->sent) : 0, &warm_cbs, w, err, sizeof(err));
    if (!w->xfer) {
        log_error("msg=\"warm loop cannot start a request\" detail=\"%s\"", err);
        return -1;
    }
    bound_xfer(w, w->xfer);
    return 0;
}

static void round_start(struct warm *w) {
    if (w->running)
        return;
    w->running = 1;
    w->ping_idx = -1;
    w->nqueue = w->qpos = 0;
    w->round_repairs = 0;
    apply_pins(w);
    if (start_xfer(w, "GET", "/api/ps", NULL) < 0) {
        w->running = 0;
        schedule(w, w->cfg->ping_interval);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    round_start(arg);
}

static void on_progress(evutil_socket_t fd, short what, void *arg) {
    struct warm *w = arg;
    (void)fd;
    (void)what;
    if (w->ping_idx < 0)
        return;
    struct timeval now;
    gettimeofday(&now, NULL);
    log_info("msg=\"still loading\" model=%s elapsed_s=%ld", w->models[w->ping_idx].name,
             (long)(now.tv_sec - w->ping_t0.tv_sec));
}

static void after_ps(struct warm *w, enum upstream_result r, long status, const char *detail) {
    json_error_t jerr;
    json_t *ps = NULL;
    if (r == UPSTREAM_OK && status == 200) {
        size_t n = evbuffer_get_length(w->body);
        ps = json_loadb((const char *)evbuffer_pullup(w->body, -1), n, 0, &jerr);
    }
    if (!ps || apply_ps(w, ps) < 0) {
        char why[256];
        if (r != UPSTREAM_OK)
            snprintf(why, sizeof(why), "%s", detail);
        else
            snprintf(why, sizeof(why), "/api/ps answered %ld", status);
        json_decref(ps);
        upstream_lost(w, why);
        w->running = 0;
        int64_t cap = w->cfg->ping_interval;
        w->backoff_ns = w->backoff_ns ? w->backoff_ns * 2 : BACKOFF_FIRST_NS;
        if (w->backoff_ns > cap)
            w->backoff_ns = cap;
        schedule(w, w->backoff_ns);
        return;
    }
    json_decref(ps);
    int was_down = w->upstream_up == 0;
    set_upstream(w, 1, "");
    w->backoff_ns = 0;
    for (size_t i = 0; i < w->nmodels; i++) {
        struct wmodel *m = &w->models[i];
        if (!is_pinned(m))
            continue;
        if (!m->loaded) {
            m->repairing = m->ever_loaded;
            if (m->ever_loaded && !was_down) {
                w->round_repairs++;
                log_warn("msg=\"pinned model was unloaded, reloading\" model=%s", m->name);
            } else if (was_down) {
                log_info("msg=\"reloading pinned model after Ollama came back\" model=%s", m->name);
            } else {
                log_info("msg=\"loading pinned model\" model=%s", m->name);
            }
            w->queue[w->nqueue++] = i;
        } else if (needs_refresh(w, m)) {
            m->repairing = 0;
            w->queue[w->nqueue++] = i;
        }
    }
    ping_next(w);
}

static void ping_next(struct warm *w) {
    while (w->qpos < w->nqueue) {
        size_t i = w->queue[w->qpos++];
        struct wmodel *m = &w->models[i];
        json_t *body = policy_ping_new(w->cfg, m->name);
        if (!body)
            continue;
        w->ping_idx = (int)i;
        w->ping_embed_retry = 0;
        gettimeofday(&w->ping_t0, NULL);
        int rc = start_xfer(w, "POST", m->embed == 1 ? "/api/embed" : "/api/generate", body);
        json_decref(body);
        if (rc == 0) {
            struct timeval tv = {PROGRESS_EVERY_S, 0};
            event_add(w->progress, &tv);
            return;
        }
    }
    round_end(w);
}

static void after_ping(struct warm *w, enum upstream_result r, long status, const char *detail) {
    struct wmodel *m = &w->models[w->ping_idx];
    struct timeval now;
    gettimeofday(&now, NULL);
    double ms = (double)(now.tv_sec - w->ping_t0.tv_sec) * 1e3 +
                (double)(now.tv_usec - w->ping_t0.tv_usec) / 1e3;
    size_t n = evbuffer_get_length(w->body);
    const char *text = n ? (const char *)evbuffer_pullup(w->body, -1) : "";
    char err[256] = "";
    if (r != UPSTREAM_OK) {
        snprintf(err, sizeof(err), "%s", detail);
    } else if (status != 200) {
        json_error_t jerr;
        json_t *e = json_loadb(text, n, 0, &jerr);
        const char *msg = json_string_value(json_object_get(e, "error"));
        snprintf(err, sizeof(err), "%ld %s", status, msg ? msg : "");
        /* An embedding-only model cannot be loaded with /api/generate. */
        if (status == 400 && msg && strstr(msg, "does not support generate") && m->embed != 1) {
            json_decref(e);
            m->embed = 1;
            json_t *body = policy_ping_new(w->cfg, m->name);
            int rc = body ? start_xfer(w, "POST", "/api/embed", body) : -1;
            json_decref(body);
            if (rc == 0)
                return;
        } else {
            json_decref(e);
        }
    }
    event_del(w->progress);
    m->last_ping_at = now_s();
    m->last_ping_ms = ms;
    if (err[0]) {
        m->pings_err++;
        snprintf(m->last_ping, sizeof(m->last_ping), "error");
        snprintf(m->last_error, sizeof(m->last_error), "%s", err);
        log_warn("msg=\"load ping failed\" model=%s error=\"%s\"", m->name, err);
    } else {
        m->pings_ok++;
        if (m->embed < 0)
            m->embed = 0;
        snprintf(m->last_ping, sizeof(m->last_ping), "ok");
        char how[64];
        snprintf(how, sizeof(how), "load ping, %.0f ms", ms);
        if (m->repairing) {
            m->reloads++;
            residency_event(w->res, m->name, RES_REPAIRED, how, now_ms());
        } else if (!m->loaded) {
            residency_event(w->res, m->name, RES_LOADED, how, now_ms());
        }
        m->repairing = 0;
        if (!m->loaded)
            log_info("msg=\"model loaded\" model=%s duration_ms=%.0f", m->name, ms);
        m->loaded = 1;
        m->ever_loaded = 1;
    }
    ping_next(w);
}

static void round_end(struct warm *w) {
    w->running = 0;
    w->ping_idx = -1;
    if (w->round_repairs > 0)
        w->thrash_rounds++;
    else
        w->thrash_rounds = 0;
    int thrashing = w->thrash_rounds >= THRASH_ROUNDS;
    if (thrashing && !w->thrashing)
        log_warn("msg=\"pinned models keep evicting each other: too little memory or "
                 "OLLAMA_MAX_LOADED_MODELS too low; slowing down\" pinned=%zu",
                 npinned(w));
    else if (!thrashing && w->thrashing)
        log_info("msg=\"pinned models are stable again\"");
    w->thrashing = thrashing;
    schedule(w, w->cfg->ping_interval * (thrashing ? THRASH_SLOWDOWN : 1));
}

static int append_capped(struct evbuffer *b, const char *buf, size_t len) {
    if (evbuffer_get_length(b) + len > PS_MAX_BYTES)
        return -1;
    return evbuffer_add(b, buf, len);
}

static int on_round_data(void *ctx, struct upstream_xfer *x, const char *buf, size_t len) {
    struct warm *w = ctx;
    (void)x;
    return append_capped(w->body, buf, len);
}

static void on_round_done(void *ctx, struct upstream_xfer *x, enum upstream_result r,
                          const char *detail) {
    struct warm *w = ctx;
    long status = upstream_status(x);
    w->xfer = NULL;
    if (w->ping_idx < 0)
        after_ps(w, r, status, detail);
    else
        after_ping(w, r, status, detail);
}

static const struct upstream_cbs warm_cbs = {.on_data = on_round_data, .on_done = on_round_done};

struct warm *warm_new(struct event_base *base, const struct config *cfg, struct upstream *up) {
    struct warm *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->base = base;
    w->reply = evhttp_send_reply;
    w->cfg = cfg;
    w->up = up;
    w->upstream_up = -1;
    w->ping_idx = -1;
    w->timer = evtimer_new(base, on_timer, w);
    w->progress = event_new(base, -1, EV_PERSIST, on_progress, w);
    w->body = evbuffer_new();
    w->res = residency_new();
    if (!w->timer || !w->progress || !w->body || !w->res) {
        warm_free(w);
        return NULL;
    }
    apply_pins(w);
    return w;
}

static void readyz_free(struct readyz *z);

void warm_free(struct warm *w) {
    if (!w)
        return;
    if (w->xfer)
        upstream_cancel(w->xfer);
    for (size_t i = 0; i < MAX_READYZ; i++) {
        if (w->readyz[i]) {
            struct readyz *z = w->readyz[i];
            if (z->xfer)
                upstream_cancel(z->xfer);
            evhttp_send_error(z->req, 503, "shutting down");
            readyz_free(z);
        }
    }
    if (w->timer)
        event_free(w->timer);
    if (w->progress)
        event_free(w->progress);
    if (w->body)
        evbuffer_free(w->body);
    free(w->sent);
    residency_free(w->res);
    free(w);
}

void warm_start(struct warm *w) {
    if (npinned(w) > 0)
        log_info("msg=\"preloading pinned models\" count=%zu", npinned(w));
    round_start(w);
}

void warm_set_config(struct warm *w, const struct config *cfg) {
    w->cfg = cfg;
    apply_pins(w);
    if (!w->running) {
        evtimer_del(w->timer);
        round_start(w);
    }
}

void warm_note_model(struct warm *w, const char *model) {
    if (!model || !*model)
        return;
    residency_admit(w->res, model);
    struct wmodel *m = model_add(w, model, ADD_CLIENT);
    if (!m || !w->cfg->pin_requested || is_pinned(m))
        return;
    if ((long long)npinned(w) < w->cfg->max_pinned) {
        m->requested = 1;
        log_info("msg=\"pinning a requested model\" model=%s", m->name);
    } else if (!m->refused) {
        m->refused = 1;
        log_warn("msg=\"not pinning a requested model: max_pinned reached\" model=%s "
                 "max_pinned=%lld",
                 m->name, w->cfg->max_pinned);
    }
}

void warm_note_request(struct warm *w, const char *model, const struct runopts *ro) {
    residency_request(w->res, model, ro, policy_keep_alive(w->cfg, model), now_ms());
}

void warm_note_failure(struct warm *w, const char *model, int status, const char *text) {
    const struct model_conf *mc = config_model(w->cfg, model);
    if (model_find(w, model) || (mc && strcmp(mc->name, CONFIG_DEFAULTS_SECTION) != 0))
        residency_admit(w->res, model);
    residency_failure(w->res, model, status, text, now_ms());
}

/* ---- /readyz -------------------------------------------------------------------------- */

static void readyz_free(struct readyz *z) {
    for (size_t i = 0; i < MAX_READYZ; i++)
        if (z->w->readyz[i] == z)
            z->w->readyz[i] = NULL;
    evbuffer_free(z->body);
    free(z);
}

static void reply_json(struct warm *w, struct evhttp_request *req, int status, json_t *v) {
    struct evbuffer *b = evbuffer_new();
    char *s = json_dumps(v, JSON_COMPACT);
    if (b && s)
        evbuffer_add(b, s, strlen(s));
    free(s);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    w->reply(req, status, NULL, b); /* the server's writer: HEAD gets the length, no body */
    if (b)
        evbuffer_free(b);
}

/* Answers from the table (just refreshed from a live /api/ps, or the last round's). */
static void readyz_answer(struct warm *w, struct evhttp_request *req) {
    /* A model that our load ping is still loading shows in /api/ps already (Ollama lists
     * loading runners), but it cannot answer yet: it is missing until the ping returns. */
    json_t *missing = json_array();
    for (size_t i = 0; i < w->nmodels; i++)
        if (is_pinned(&w->models[i]) && (!w->models[i].loaded || w->ping_idx == (int)i))
            json_array_append_new(missing, json_string(w->models[i].name));
    json_t *body;
    int status = 200;
    if (w->upstream_up != 1) {
        status = 503;
        body = json_pack("{s:b,s:s,s:s,s:o}", "ready", 0, "reason", "Ollama is unreachable",
                         "detail", w->upstream_error, "missing", missing);
    } else if (json_array_size(missing) > 0) {
        status = 503;
        body = json_pack("{s:b,s:s,s:o}", "ready", 0, "reason", "pinned models are not loaded",
                         "missing", missing);
    } else {
        json_decref(missing);
        body = json_pack("{s:b,s:I}", "ready", 1, "pinned", (json_int_t)npinned(w));
    }
    reply_json(w, req, status, body);
    json_decref(body);
    metrics_request_done(ROUTE_OWN, status, 0);
}

static int on_readyz_data(void *ctx, struct upstream_xfer *x, const char *buf, size_t len) {
    struct readyz *z = ctx;
    (void)x;
    return append_capped(z->body, buf, len);
}

static void on_readyz_done(void *ctx, struct upstream_xfer *x, enum upstream_result r,
                           const char *detail) {
    struct readyz *z = ctx;
    struct warm *w = z->w;
    long status = upstream_status(x);
    json_error_t jerr;
    json_t *ps = NULL;
    z->xfer = NULL;
    if (r == UPSTREAM_OK && status == 200)
        ps = json_loadb((const char *)evbuffer_pullup(z->body, -1), evbuffer_get_length(z->body), 0,
                        &jerr);
    if (ps && apply_ps(w, ps) == 0) {
        set_upstream(w, 1, "");
        /* Something pinned is missing: repair now rather than at the next tick. */
        for (size_t i = 0; i < w->nmodels; i++) {
            if (is_pinned(&w->models[i]) && !w->models[i].loaded && !w->running) {
                evtimer_del(w->timer);
                round_start(w);
                break;
            }
        }
    } else {
        char why[256];
        snprintf(why, sizeof(why), "%s", r != UPSTREAM_OK ? detail : "/api/ps failed");
        upstream_lost(w, why);
    }
    json_decref(ps);
    struct evhttp_request *req = z->req;
    readyz_free(z);
    readyz_answer(w, req);
}

static const struct upstream_cbs readyz_cbs = {.on_data = on_readyz_data,
                                               .on_done = on_readyz_done};

void warm_set_reply(struct warm *w, warm_reply_fn reply) {
    w->reply = reply ? reply : evhttp_send_reply;
}

void warm_handle_readyz(struct warm *w, struct evhttp_request *req) {
    size_t slot = MAX_READYZ;
    for (size_t i = 0; i < MAX_READYZ && slot == MAX_READYZ; i++)
        if (!w->readyz[i])
            slot = i;
    struct readyz *z = slot < MAX_READYZ ? calloc(1, sizeof(*z)) : NULL;
    if (!z) {
        readyz_answer(w, req); /* too many probes at once: answer from the last round */
        return;
    }
    char err[256];
    z->w = w;
    z->req = req;
    z->body = evbuffer_new();
    w->readyz[slot] = z;
    z->xfer = z->body ? upstream_start(w->up, "GET", "/api/ps", NULL, NULL, 0, &readyz_cbs, z, err,
                                       sizeof(err))
                      : NULL;
    if (z->xfer)
        bound_xfer(w, z->xfer);
    if (!z->xfer) {
        if (z->body)
            evbuffer_free(z->body);
        w->readyz[slot] = NULL;
        free(z);
        readyz_answer(w, req);
    }
}

/* ---- /status and /metrics ------------------------------------------------------------- */

json_t *warm_status_new(const struct warm *w) {
    json_t *models = json_array();
    long long now = now_s();
    for (size_t i = 0; i < w->nmodels; i++) {
        const struct wmodel *m = &w->models[i];
        json_t *o =
            json_pack("{s:s,s:b,s:b,s:b,s:I,s:I,s:I,s:I}", "name", m->name, "pinned", m->pinned,
                      "requested", m->requested, "loaded", m->loaded, "reloads",
                      (json_int_t)m->reloads, "pings_ok", (json_int_t)m->pings_ok, "pings_failed",
                      (json_int_t)m->pings_err, "context_length", (json_int_t)m->context_length);
        if (m->loaded) {
            json_object_set_new(o, "expires_at", json_string(m->expires_at));
            json_object_set_new(o, "expires_forever",
                                json_boolean(m->expires_unix > now + FOREVER_YEARS_S));
            json_object_set_new(o, "size", json_integer(m->size));
            json_object_set_new(o, "size_vram", json_integer(m->size_vram));
            json_object_set_new(o, "fully_on_gpu",
                                json_boolean(m->size > 0 && m->size_vram == m->size));
        }
        if (m->last_ping[0]) {
            json_object_set_new(o, "last_ping",
                                json_pack("{s:s,s:I,s:f}", "result", m->last_ping, "at",
                                          (json_int_t)m->last_ping_at, "duration_ms",
                                          m->last_ping_ms));
        }
        if (m->last_error[0])
            json_object_set_new(o, "last_error", json_string(m->last_error));
        json_object_set_new(o, "state",
                            json_string(w->ping_idx == (int)i ? "loading"
                                        : m->loaded           ? "resident"
                                        : m->ever_loaded      ? "evicted"
                                                              : "absent"));
        residency_status_model(w->res, m->name, o);
        json_array_append_new(models, o);
    }
    char ka[32];
    duration_format(w->cfg->keep_alive, ka, sizeof(ka));
    return json_pack("{s:{s:s,s:b,s:s,s:I},s:b,s:s,s:s,s:o,s:o}", "upstream", "url",
                     w->cfg->upstream, "up", w->upstream_up == 1, "error", w->upstream_error,
                     "since", (json_int_t)w->upstream_since, "thrashing", w->thrashing,
                     "thrashing_hint",
                     w->thrashing ? "pinned models keep evicting each other: too little memory or "
                                    "OLLAMA_MAX_LOADED_MODELS too low"
                                  : "",
                     "keep_alive", ka, "models", models, "history", residency_history_new(w->res));
}

void warm_metrics(const struct warm *w, struct evbuffer *out) {
    evbuffer_add_printf(out,
                        "# HELP keepwarm_upstream_up Whether Ollama answered the last /api/ps.\n"
                        "# TYPE keepwarm_upstream_up gauge\nkeepwarm_upstream_up %d\n",
                        w->upstream_up == 1);
    evbuffer_add_printf(out,
                        "# HELP keepwarm_thrashing Pinned models keep evicting each other.\n"
                        "# TYPE keepwarm_thrashing gauge\nkeepwarm_thrashing %d\n",
                        w->thrashing);
    evbuffer_add_printf(out, "# HELP keepwarm_model_loaded Whether the model is resident.\n"
                             "# TYPE keepwarm_model_loaded gauge\n");
    for (size_t i = 0; i < w->nmodels; i++) {
        evbuffer_add(out, "keepwarm_model_loaded{model=\"", 29);
        metrics_label(out, w->models[i].name);
        evbuffer_add_printf(out, "\",pinned=\"%d\"} %d\n", is_pinned(&w->models[i]),
                            w->models[i].loaded);
    }
    evbuffer_add_printf(out, "# HELP keepwarm_model_reloads_total Unexpected unloads repaired.\n"
                             "# TYPE keepwarm_model_reloads_total counter\n");
    for (size_t i = 0; i < w->nmodels; i++) {
        evbuffer_add(out, "keepwarm_model_reloads_total{model=\"", 36);
        metrics_label(out, w->models[i].name);
        evbuffer_add_printf(out, "\"} %lu\n", w->models[i].reloads);
    }
    evbuffer_add_printf(out, "# HELP keepwarm_pings_total Warm-loop load pings by result.\n"
                             "# TYPE keepwarm_pings_total counter\n");
    for (size_t i = 0; i < w->nmodels; i++) {
        evbuffer_add(out, "keepwarm_pings_total{model=\"", 28);
        metrics_label(out, w->models[i].name);
        evbuffer_add_printf(out, "\",result=\"ok\"} %lu\n", w->models[i].pings_ok);
        evbuffer_add(out, "keepwarm_pings_total{model=\"", 28);
        metrics_label(out, w->models[i].name);
        evbuffer_add_printf(out, "\",result=\"error\"} %lu\n", w->models[i].pings_err);
    }
    residency_metrics(w->res, out);
}
