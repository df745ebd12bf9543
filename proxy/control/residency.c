/* residency: per-model churn, failures and the residency history (residency.h). A fixed table
 * of admitted models (LRU), a fixed ring of the options of models not admitted yet, a fixed
 * ring of events: nothing grows with traffic. */
#include "residency.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "metrics.h"

#define CRASH_WINDOW_MS (3600 * 1000LL)
#define CRASH_TIMES     8 /* crash times remembered per model, for the within-an-hour rule */

struct churn {
    unsigned long count;
    char values[RESIDENCY_MAX_VALUES][RUNOPTS_VALUE_MAX]; /* the latest distinct values */
    int nvalues;
    long long last_at_ms;
    long long warned_at_ms; /* 0: never */
};

struct rmodel {
    char name[RESIDENCY_NAME_MAX];
    unsigned long long used; /* LRU order */
    int has_last;            /* last / last_at_ms describe the previous request */
    struct runopts last;
    long long last_at_ms, last_keep_alive_ns;
    struct churn churn[RUNOPTS_N];
    unsigned long failures[RES_FAIL_COUNT];
    char last_error[RESIDENCY_ERROR_MAX];
    long long last_error_at_ms;
    long long last_num_ctx; /* of the failed request; 0: Ollama's default */
    long long crash_at[CRASH_TIMES], crash_ctx[CRASH_TIMES];
    size_t ncrash; /* total, ring index = ncrash % CRASH_TIMES */
    long long crash_warned_at_ms;
    char crash_hint[128]; /* the last crash warning's advice, "" when none */
    int crashed_since_load;
    unsigned long causes[RES_EVENT_COUNT]; /* reload causes: options, evicted, crashed, expired */
};

struct hevent {
    long long at_ms;
    enum residency_event ev;
    char model[RESIDENCY_NAME_MAX];
    char detail[RESIDENCY_DETAIL_MAX];
};

/* The last request of a model not admitted yet: its options, for its admission. */
struct pending {
    char name[RESIDENCY_NAME_MAX]; /* "" when free */
    struct runopts last;
    long long last_at_ms, last_keep_alive_ns;
};

struct residency {
    struct rmodel models[RESIDENCY_MAX_MODELS];
    size_t nmodels;
    unsigned long long tick;
    struct pending pending[RESIDENCY_PENDING];
    size_t npending; /* total noted; the ring holds the last RESIDENCY_PENDING */
    struct hevent history[RESIDENCY_HISTORY];
    size_t nhistory; /* total recorded; the ring holds the last RESIDENCY_HISTORY */
};

static const char *const event_names[RES_EVENT_COUNT] = {
    "loaded", "evicted", "expired", "crashed", "repaired", "reload_options",
};

const char *residency_event_name(enum residency_event ev) {
    return ev >= 0 && ev < RES_EVENT_COUNT ? event_names[ev] : "unknown";
}

struct residency *residency_new(void) {
    return calloc(1, sizeof(struct residency));
}

void residency_free(struct residency *r) {
    free(r);
}

static struct rmodel *find(const struct residency *r, const char *name) {
    for (size_t i = 0; i < r->nmodels; i++)
        if (config_names_match(r->models[i].name, name))
            return (struct rmodel *)&r->models[i];
    return NULL;
}

static int trackable(const char *name) {
    return name && *name && strlen(name) < RESIDENCY_NAME_MAX;
}

static struct pending *pending_find(struct residency *r, const char *name) {
    for (size_t i = 0; i < RESIDENCY_PENDING; i++)
        if (r->pending[i].name[0] && config_names_match(r->pending[i].name, name))
            return &r->pending[i];
    return NULL;
}

/* Notes a request of a model not admitted: the latest RESIDENCY_PENDING such models keep
 * theirs. */
static void pending_note(struct residency *r, const char *name, const struct runopts *ro,
                         long long keep_alive_ns, long long now_ms) {
    struct pending *p = pending_find(r, name);
    if (!p) {
        p = &r->pending[r->npending++ % RESIDENCY_PENDING];
        snprintf(p->name, sizeof(p->name), "%s", name);
    }
    p->last = *ro;
    p->last_at_ms = now_ms;
    p->last_keep_alive_ns = keep_alive_ns;
}

/* The entry for name, new (taking the least recently used one's place when full, and the
 * options noted aside for it) if need be; NULL for a name too long to track. */
static struct rmodel *get(struct residency *r, const char *name) {
    if (!trackable(name))
        return NULL;
    struct rmodel *m = find(r, name);
    if (!m) {
        if (r->nmodels < RESIDENCY_MAX_MODELS) {
            m = &r->models[r->nmodels++];
        } else {
            m = &r->models[0];
            for (size_t i = 1; i < r->nmodels; i++)
                if (r->models[i].used < m->used)
                    m = &r->models[i];
        }
        memset(m, 0, sizeof(*m));
        snprintf(m->name, sizeof(m->name), "%s", name);
        struct pending *p = pending_find(r, name);
        if (p) {
            m->has_last = 1;
            m->last = p->last;
            m->last_at_ms = p->last_at_ms;
            m->last_keep_alive_ns = p->last_keep_alive_ns;
            p->name[0] = '\0';
        }
    }
    m->used = ++r->tick;
    return m;
}

void residency_admit(struct residency *r, const char *model) {
    get(r, model);
}

static void history_add(struct residency *r, const char *model, enum residency_event ev,
                        const char *detail, long long now_ms) {
    struct hevent *h = &r->history[r->nhistory++ % RESIDENCY_HISTORY];
    h->at_ms = now_ms;
    h->ev = ev;
    snprintf(h->model, sizeof(h->model), "%s", model);
    snprintf(h->detail, sizeof(h->detail), "%.*s", (int)sizeof(h->detail) - 1,
             detail ? detail : "");
}

/* ---- churn ----------------------------------------------------------------------------- */

static void churn_value(struct churn *c, const char *v) {
    for (int i = 0; i < c->nvalues; i++)
        if (strcmp(c->values[i], v) == 0)
            return;
    if (c->nvalues == RESIDENCY_MAX_VALUES) { /* the oldest gives way */
        memmove(c->values[0], c->values[1], sizeof(c->values[0]) * (RESIDENCY_MAX_VALUES - 1));
        c->nvalues--;
    }
    snprintf(c->values[c->nvalues++], RUNOPTS_VALUE_MAX, "%s", v);
}

/* The value to pin: the largest number clients sent (it serves them all), else the latest. */
static const char *churn_fix(const struct churn *c) {
    const char *best = NULL;
    double bv = 0;
    for (int i = 0; i < c->nvalues; i++) {
        char *end;
        double v = strtod(c->values[i], &end);
        if (end != c->values[i] && *end == '\0' && (!best || v > bv)) {
            best = c->values[i];
            bv = v;
        }
    }
    return best ? best : c->values[c->nvalues - 1];
}

void residency_request(struct residency *r, const char *model, const struct runopts *ro,
                       long long keep_alive_ns, long long now_ms) {
    if (!trackable(model))
        return;
    struct rmodel *m = find(r, model);
    if (!m) {
        pending_note(r, model, ro, keep_alive_ns, now_ms);
        return;
    }
    m->used = ++r->tick;
    int same_residency = m->has_last && (m->last_keep_alive_ns < 0 ||
                                         now_ms - m->last_at_ms <= m->last_keep_alive_ns / 1000000);
    if (same_residency) {
        char detail[RESIDENCY_DETAIL_MAX] = "";
        size_t dl = 0;
        for (int i = 0; i < RUNOPTS_N; i++) {
            const char *was = runopts_value(&m->last, i), *now = runopts_value(ro, i);
            if (strcmp(was, now) == 0)
                continue;
            struct churn *c = &m->churn[i];
            c->count++;
            c->last_at_ms = now_ms;
            churn_value(c, was);
            churn_value(c, now);
            if (dl < sizeof(detail))
                dl += (size_t)snprintf(detail + dl, sizeof(detail) - dl, "%s%s %s -> %s",
                                       dl ? ", " : "", runopts_names[i], was, now);
            if (!c->warned_at_ms || now_ms - c->warned_at_ms >= RESIDENCY_WARN_EVERY_MS) {
                c->warned_at_ms = now_ms;
                char vals[RESIDENCY_MAX_VALUES * (RUNOPTS_VALUE_MAX + 1)] = "";
                for (int k = 0; k < c->nvalues; k++)
                    snprintf(vals + strlen(vals), sizeof(vals) - strlen(vals), "%s%s", k ? "," : "",
                             c->values[k]);
                log_warn("msg=\"clients send different runner options for one model: Ollama "
                         "reloads it between their requests\" model=%s option=%s values=%s "
                         "fix=\"pin %s = %s for this model ([model \\\"%s\\\"] or [model "
                         "\\\"*\\\"])\"",
                         m->name, runopts_names[i], vals, runopts_names[i], churn_fix(c), m->name);
            }
        }
        if (dl) {
            m->causes[RES_RELOAD_OPTIONS]++;
            history_add(r, m->name, RES_RELOAD_OPTIONS, detail, now_ms);
        }
    }
    m->has_last = 1;
    m->last = *ro;
    m->last_at_ms = now_ms;
    m->last_keep_alive_ns = keep_alive_ns;
}

/* ---- failures -------------------------------------------------------------------------- */

/* Case-insensitive substring. */
static int has(const char *text, const char *needle) {
    size_t n = strlen(needle);
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return 1;
    return 0;
}

unsigned residency_classify(const char *text) {
    /* Ollama's texts, fb30760: llm/server.go ("llama runner process has terminated",
     * "llama runner process no longer running", "an error was encountered while running the
     * model"), llm/status.go (K-shift, GGML_ASSERT, panics; the out-of-memory substrings),
     * server/routes.go (context length). */
    static const char *const crash[] = {
        "runner process has terminated",
        "runner process no longer running",
        "llama-server process has terminated",
        "model runner has unexpectedly stopped",
        "error was encountered while running the model",
        "K-shift",
        "segmentation fault",
        "SIGSEGV",
        "GGML_ASSERT",
        "signal arrived during cgo execution",
    };
    static const char *const overflow[] = {
        "exceeds the context length",
        "longer than the context length",
        "context_length_exceeded",
        "exceeds the maximum context",
    };
    static const char *const oom[] = {
        "out of memory",
        "out of device memory",
        "cudaMalloc failed",
        "hipMalloc failed",
        "failed to allocate",
        "allocation failed",
        "not enough memory",
        "insufficient memory",
        "model requires more system memory",
        "vk_error_out_of_device_memory",
        "erroroutofmemory",
    };
    unsigned kinds = 0;
    if (!text)
        return 0;
    for (size_t i = 0; i < sizeof(crash) / sizeof(crash[0]); i++)
        if (has(text, crash[i]))
            kinds |= 1u << RES_FAIL_CRASH;
    for (size_t i = 0; i < sizeof(overflow) / sizeof(overflow[0]); i++)
        if (has(text, overflow[i]))
            kinds |= 1u << RES_FAIL_OVERFLOW;
    for (size_t i = 0; i < sizeof(oom) / sizeof(oom[0]); i++)
        if (has(text, oom[i]))
            kinds |= 1u << RES_FAIL_OOM;
    return kinds;
}

/* Copies text into dst (cap bytes) as one line: control bytes become spaces, trailing white
 * space goes. */
static void copy_line(char *dst, size_t cap, const char *text) {
    size_t i = 0;
    for (; text[i] && i + 1 < cap; i++)
        dst[i] = (unsigned char)text[i] < 0x20 ? ' ' : text[i];
    while (i > 0 && dst[i - 1] == ' ')
        i--;
    dst[i] = '\0';
}

void residency_failure(struct residency *r, const char *model, int status, const char *text,
                       long long now_ms) {
    unsigned kinds = residency_classify(text);
    struct rmodel *m = kinds && trackable(model) ? find(r, model) : NULL;
    if (!m)
        return;
    m->used = ++r->tick;
    long long ctx = 0;
    if (m->has_last && (m->last.set & 1u))
        ctx = strtoll(m->last.value[0], NULL, 10);
    for (int k = 0; k < RES_FAIL_COUNT; k++)
        if (kinds & (1u << k))
            m->failures[k]++;
    copy_line(m->last_error, sizeof(m->last_error), text);
    m->last_error_at_ms = now_ms;
    m->last_num_ctx = ctx;
    log_warn("msg=\"model failed\" model=%s status=%d kind=%s num_ctx=%lld error=\"%.200s\"",
             m->name, status,
             kinds & (1u << RES_FAIL_CRASH)      ? "runner_crash"
             : kinds & (1u << RES_FAIL_OVERFLOW) ? "context_overflow"
                                                 : "oom",
             ctx, m->last_error);
    if (!(kinds & (1u << RES_FAIL_CRASH)))
        return;
    /* The runner died: Ollama loads it afresh (the next request is no churn). */
    m->crashed_since_load = 1;
    m->has_last = 0;
    m->causes[RES_CRASHED]++;
    history_add(r, m->name, RES_CRASHED, m->last_error, now_ms);
    m->crash_at[m->ncrash % CRASH_TIMES] = now_ms;
    m->crash_ctx[m->ncrash % CRASH_TIMES] = ctx;
    m->ncrash++;
    int recent = 0;
    for (size_t i = 0; i < CRASH_TIMES && i < m->ncrash; i++)
        recent += m->crash_ctx[i] == ctx && now_ms - m->crash_at[i] < CRASH_WINDOW_MS;
    if (recent >= RESIDENCY_CRASH_WARN &&
        (!m->crash_warned_at_ms || now_ms - m->crash_warned_at_ms >= RESIDENCY_WARN_EVERY_MS)) {
        m->crash_warned_at_ms = now_ms;
        if (ctx > 0)
            snprintf(m->crash_hint, sizeof(m->crash_hint),
                     "%d crashes within an hour at num_ctx %lld: pin num_ctx = %lld", recent, ctx,
                     ctx / 2 > 0 ? ctx / 2 : 1);
        else
            snprintf(m->crash_hint, sizeof(m->crash_hint),
                     "%d crashes within an hour at Ollama's default num_ctx: pin a lower one",
                     recent);
        if (ctx > 0)
            log_warn("msg=\"the model's runner keeps crashing at this num_ctx: try a lower one\" "
                     "model=%s crashes=%d within=1h num_ctx=%lld fix=\"pin num_ctx = %lld for "
                     "this model\"",
                     m->name, recent, ctx, ctx / 2 > 0 ? ctx / 2 : 1);
        else
            log_warn("msg=\"the model's runner keeps crashing at Ollama's default num_ctx: try "
                     "pinning a lower one\" model=%s crashes=%d within=1h",
                     m->name, recent);
    }
}

/* ---- events ---------------------------------------------------------------------------- */

void residency_event(struct residency *r, const char *model, enum residency_event ev,
                     const char *detail, long long now_ms) {
    struct rmodel *m = get(r, model);
    if (!m || ev < 0 || ev >= RES_EVENT_COUNT)
        return;
    if (ev == RES_CRASHED && m->crashed_since_load)
        return; /* recorded with the crash's text when Ollama reported it */
    if (ev == RES_EVICTED || ev == RES_EXPIRED || ev == RES_CRASHED) {
        m->causes[ev]++;
        m->has_last = 0; /* the next request loads afresh */
    }
    if (ev == RES_LOADED || ev == RES_REPAIRED)
        m->crashed_since_load = 0;
    history_add(r, m->name, ev, detail, now_ms);
}

int residency_crashed_since_load(const struct residency *r, const char *model) {
    const struct rmodel *m = find(r, model);
    return m && m->crashed_since_load;
}

/* ---- /status and /metrics -------------------------------------------------------------- */

void residency_status_model(const struct residency *r, const char *model, json_t *o) {
    const struct rmodel *m = r ? find(r, model) : NULL;
    json_t *churn = json_array();
    if (m) {
        for (int i = 0; i < RUNOPTS_N; i++) {
            const struct churn *c = &m->churn[i];
            if (!c->count)
                continue;
            json_t *vals = json_array();
            for (int k = 0; k < c->nvalues; k++)
                json_array_append_new(vals, json_string(c->values[k]));
            char fix[64];
            snprintf(fix, sizeof(fix), "pin %s = %s", runopts_names[i], churn_fix(c));
            json_array_append_new(churn, json_pack("{s:s,s:I,s:o,s:I,s:s}", "option",
                                                   runopts_names[i], "count", (json_int_t)c->count,
                                                   "values", vals, "last_at",
                                                   (json_int_t)(c->last_at_ms / 1000), "fix", fix));
        }
    }
    json_object_set_new(o, "churn", churn);
    json_t *f = json_pack("{s:I,s:I,s:I,s:s,s:I,s:I}", "runner_crash",
                          (json_int_t)(m ? m->failures[RES_FAIL_CRASH] : 0), "context_overflow",
                          (json_int_t)(m ? m->failures[RES_FAIL_OVERFLOW] : 0), "oom",
                          (json_int_t)(m ? m->failures[RES_FAIL_OOM] : 0), "last_error",
                          m ? m->last_error : "", "last_at",
                          (json_int_t)(m ? m->last_error_at_ms / 1000 : 0), "last_num_ctx",
                          (json_int_t)(m ? m->last_num_ctx : 0));
    json_object_set_new(f, "hint", json_string(m ? m->crash_hint : ""));
    json_object_set_new(o, "failures", f);
    json_object_set_new(o, "reload_causes",
                        json_pack("{s:I,s:I,s:I,s:I}", "options",
                                  (json_int_t)(m ? m->causes[RES_RELOAD_OPTIONS] : 0), "evicted",
                                  (json_int_t)(m ? m->causes[RES_EVICTED] : 0), "crashed",
                                  (json_int_t)(m ? m->causes[RES_CRASHED] : 0), "expired",
                                  (json_int_t)(m ? m->causes[RES_EXPIRED] : 0)));
}

json_t *residency_history_new(const struct residency *r) {
    json_t *a = json_array();
    if (!r)
        return a;
    size_t n = r->nhistory < RESIDENCY_HISTORY ? r->nhistory : RESIDENCY_HISTORY;
    for (size_t k = 0; k < n; k++) {
        const struct hevent *h = &r->history[(r->nhistory - n + k) % RESIDENCY_HISTORY];
        json_array_append_new(a, json_pack("{s:I,s:s,s:s,s:s}", "at", (json_int_t)h->at_ms, "model",
                                           h->model, "event", event_names[h->ev], "detail",
                                           h->detail));
    }
    return a;
}

void residency_metrics(const struct residency *r, struct evbuffer *out) {
    static const char *const kinds[RES_FAIL_COUNT] = {"runner_crash", "context_overflow", "oom"};
    evbuffer_add_printf(out, "# HELP keepwarm_option_churn_total Requests whose runner options "
                             "differ from the previous request's for the model (Ollama "
                             "reloads it).\n# TYPE keepwarm_option_churn_total counter\n");
    for (size_t i = 0; i < r->nmodels; i++)
        for (int k = 0; k < RUNOPTS_N; k++) {
            if (!r->models[i].churn[k].count)
                continue;
            evbuffer_add_printf(out, "keepwarm_option_churn_total{model=\"");
            metrics_label(out, r->models[i].name);
            evbuffer_add_printf(out, "\",option=\"%s\"} %lu\n", runopts_names[k],
                                r->models[i].churn[k].count);
        }
    evbuffer_add_printf(out, "# HELP keepwarm_model_failures_total Runner crashes, context "
                             "overflows and out-of-memory failures by model.\n"
                             "# TYPE keepwarm_model_failures_total counter\n");
    for (size_t i = 0; i < r->nmodels; i++)
        for (int k = 0; k < RES_FAIL_COUNT; k++) {
            if (!r->models[i].failures[k])
                continue;
            evbuffer_add_printf(out, "keepwarm_model_failures_total{model=\"");
            metrics_label(out, r->models[i].name);
            evbuffer_add_printf(out, "\",kind=\"%s\"} %lu\n", kinds[k], r->models[i].failures[k]);
        }
}
