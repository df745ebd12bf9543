/* sched: a single-threaded port of Ollama's scheduler (server/sched.go) on libevent timers.
 *
 * Owns the runners: the loaded list (what /api/ps shows, loading ones included) and the
 * detached list (force-unloaded while busy; freed when their last lease goes). Owns the FIFO
 * of queued leases, processed in order like processPending: reuse a loaded runner, reload it
 * when the runner options differ, evict the idle runner with the shortest sessionDuration when
 * max_loaded is reached, and otherwise wait (the head of the queue blocks) until an unload
 * makes room. One deliberate simplification: a request for a model that is still loading with
 * the same options joins that load instead of blocking the queue behind it. */
#include "sched.h"

#include "flog.h"
#include "goduration.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Countdowns longer than this get no timer: they never fire in a test's lifetime. */
#define TIMER_MAX_NS (INT64_C(10) * 365 * 24 * 3600 * GODURATION_SECOND)

enum unload_why { UNLOAD_EXPIRED, UNLOAD_RELOAD, UNLOAD_EVICTED, UNLOAD_CRASHED, UNLOAD_RESET };

struct runner {
    struct runner *next, *prev;
    struct sched *s;
    struct model *model;
    struct runner_opts opts;
    int64_t session_ns; /* sessionDuration */
    int refcount;
    int loading;
    int detached; /* unloaded while busy: in s->detached, freed when the last lease goes */
    int crashed;
    int evicting;    /* chosen to make room: count its unload as an eviction */
    int expires_set; /* expires_at valid (set when the runner went idle) */
    struct timespec expires_at;
    struct event *timer;   /* load completion while loading; expiry when idle */
    struct lease *waiters; /* leases attached during the load */
};

struct sched {
    struct fake *f;
    struct runner *loaded, *detached;
    int nloaded;
    struct lease *qhead, *qtail;
    int processing, again;
};

static void process_pending(struct sched *s);
static void runner_idle(struct sched *s, struct runner *r);

void sched_opts_default(struct runner_opts *o) {
    o->num_ctx = RUNNER_DEFAULT_NUM_CTX;
    o->num_batch = 512;
    o->num_gpu = -1;
    o->main_gpu = 0;
    o->num_thread = 0;
    o->use_mmap = -1;
}

/* ---- lists ---- */

static void list_push(struct runner **head, struct runner *r) {
    r->prev = NULL;
    r->next = *head;
    if (*head)
        (*head)->prev = r;
    *head = r;
}

static void list_remove(struct runner **head, struct runner *r) {
    if (r->prev)
        r->prev->next = r->next;
    else
        *head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->next = r->prev = NULL;
}

static void queue_push(struct sched *s, struct lease *l) {
    l->next = NULL;
    l->prev = s->qtail;
    if (s->qtail)
        s->qtail->next = l;
    else
        s->qhead = l;
    s->qtail = l;
    l->state = LEASE_QUEUED;
}

static void queue_remove(struct sched *s, struct lease *l) {
    if (l->prev)
        l->prev->next = l->next;
    else
        s->qhead = l->next;
    if (l->next)
        l->next->prev = l->prev;
    else
        s->qtail = l->prev;
    l->next = l->prev = NULL;
    l->state = LEASE_IDLE;
}

static void waiter_push(struct runner *r, struct lease *l) {
    l->prev = NULL;
    l->next = r->waiters;
    if (r->waiters)
        r->waiters->prev = l;
    r->waiters = l;
}

static void waiter_remove(struct runner *r, struct lease *l) {
    if (l->prev)
        l->prev->next = l->next;
    else
        r->waiters = l->next;
    if (l->next)
        l->next->prev = l->prev;
    l->next = l->prev = NULL;
}

/* ---- runners ---- */

static struct runner *find_loaded(struct sched *s, const struct model *m) {
    for (struct runner *r = s->loaded; r; r = r->next) {
        if (r->model == m)
            return r;
    }
    return NULL;
}

static void runner_free(struct runner *r) {
    if (r->timer)
        event_free(r->timer);
    free(r);
}

static void timer_stop(struct runner *r) {
    if (r->timer && !r->loading)
        evtimer_del(r->timer);
}

static void count_unload(struct sched *s, struct runner *r, enum unload_why why) {
    struct fake_stats *st = &s->f->stats;
    if (why == UNLOAD_RESET)
        return;
    fake_stats_bump(st->unloads, r->model->display);
    st->total_unloads++;
    if (why == UNLOAD_EVICTED || r->evicting)
        st->evictions++;
    flog_debug("msg=\"unload\" model=%s why=%d", r->model->display, (int)why);
}

/* Takes r out of the loaded list: freed now when nothing uses it, else detached. */
static void runner_unload(struct sched *s, struct runner *r, enum unload_why why) {
    if (r->detached)
        return;
    count_unload(s, r, why);
    list_remove(&s->loaded, r);
    s->nloaded--;
    if (r->refcount <= 0 && !r->loading) {
        runner_free(r);
        return;
    }
    r->detached = 1;
    timer_stop(r);
    list_push(&s->detached, r);
}

/* The last lease went away (Ollama's finished event with refCount reaching 0). */
static void runner_idle(struct sched *s, struct runner *r) {
    if (r->detached) {
        if (!r->loading) {
            list_remove(&s->detached, r);
            runner_free(r);
        }
        return;
    }
    if (r->session_ns <= 0) {
        runner_unload(s, r, UNLOAD_EXPIRED);
        return;
    }
    util_wall_after(&r->expires_at, r->session_ns);
    r->expires_set = 1;
    if (r->session_ns <= TIMER_MAX_NS) {
        struct timeval tv = util_tv_ns(r->session_ns);
        evtimer_add(r->timer, &tv);
    }
}

static void on_expired(struct sched *s, struct runner *r) {
    if (r->refcount > 0 || r->detached)
        return;
    runner_unload(s, r, UNLOAD_EXPIRED);
    process_pending(s);
}

static void on_load_done(struct sched *s, struct runner *r) {
    r->loading = 0;
    fake_stats_bump(s->f->stats.loads, r->model->display);
    s->f->stats.total_loads++;
    flog_debug("msg=\"loaded\" model=%s num_ctx=%lld", r->model->display,
               (long long)r->opts.num_ctx);
    struct lease *l = r->waiters;
    r->waiters = NULL;
    while (l) {
        struct lease *next = l->next;
        l->next = l->prev = NULL;
        l->state = LEASE_GRANTED;
        l->on_granted(l, l->arg);
        l = next;
    }
    if (r->refcount <= 0)
        runner_idle(s, r);
    process_pending(s);
}

/* The runner's one timer: the end of its load while loading, its keep-alive expiry after. */
static void on_runner_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    struct runner *r = arg;
    if (r->loading)
        on_load_done(r->s, r);
    else
        on_expired(r->s, r);
}

/* useLoadedRunner: one more user; the countdown stops; keep_alive overrides only when given. */
static void lease_attach(struct runner *r, struct lease *l) {
    r->refcount++;
    timer_stop(r);
    if (l->has_keep_alive)
        r->session_ns = l->keep_alive_ns;
    l->runner = r;
}

static struct runner *runner_start_load(struct sched *s, struct lease *l) {
    struct runner *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->s = s;
    r->model = l->model;
    r->opts = l->opts;
    r->session_ns = l->has_keep_alive ? l->keep_alive_ns : s->f->cfg.keep_alive_ns;
    r->loading = 1;
    r->timer = evtimer_new(s->f->base, on_runner_timer, r);
    if (!r->timer) {
        free(r);
        return NULL;
    }
    list_push(&s->loaded, r);
    s->nloaded++;
    lease_attach(r, l);
    l->state = LEASE_WAITING;
    waiter_push(r, l);
    struct timeval tv = util_tv_ms(s->f->cfg.load_delay_ms);
    evtimer_add(r->timer, &tv);
    flog_debug("msg=\"loading\" model=%s", r->model->display);
    return r;
}

static int opts_equal(const struct runner_opts *a, const struct runner_opts *b) {
    return a->num_ctx == b->num_ctx && a->num_batch == b->num_batch && a->num_gpu == b->num_gpu &&
           a->main_gpu == b->main_gpu && a->num_thread == b->num_thread &&
           a->use_mmap == b->use_mmap;
}

/* needsReload: differing runner options (a request's num_gpu < 0 means "any"). */
static int needs_reload(const struct runner *r, const struct lease *l) {
    struct runner_opts have = r->opts, want = l->opts;
    if (want.num_gpu < 0)
        have.num_gpu = want.num_gpu = -1;
    return r->crashed || !opts_equal(&have, &want);
}

/* findRunnerToUnload: sort by sessionDuration (then name); the first idle one, else the
 * first one (and wait for it). */
static struct runner *find_runner_to_unload(struct sched *s) {
    struct runner *best = NULL, *best_idle = NULL;
    for (struct runner *r = s->loaded; r; r = r->next) {
#define BEFORE(a, b)                                                                               \
    ((a)->session_ns < (b)->session_ns ||                                                          \
     ((a)->session_ns == (b)->session_ns && strcmp((a)->model->full, (b)->model->full) < 0))
        if (!best || BEFORE(r, best))
            best = r;
        if (r->refcount <= 0 && !r->loading && (!best_idle || BEFORE(r, best_idle)))
            best_idle = r;
#undef BEFORE
    }
    return best_idle ? best_idle : best;
}

static int max_loaded_reached(struct sched *s) {
    return s->f->cfg.max_loaded > 0 && s->nloaded >= s->f->cfg.max_loaded;
}

static void process_pending(struct sched *s) {
    if (s->processing) {
        s->again = 1;
        return;
    }
    s->processing = 1;
    do {
        s->again = 0;
        while (s->qhead) {
            struct lease *l = s->qhead;
            struct runner *r = find_loaded(s, l->model), *victim;
            int evict = 0;
            if (r && r->loading) {
                if (!opts_equal(&r->opts, &l->opts))
                    break; /* reload once this load is done */
                queue_remove(s, l);
                lease_attach(r, l);
                l->state = LEASE_WAITING;
                waiter_push(r, l);
                continue;
            }
            if (r && !needs_reload(r, l)) {
                queue_remove(s, l);
                lease_attach(r, l);
                l->state = LEASE_GRANTED;
                l->on_granted(l, l->arg);
                continue;
            }
            if (r) {
                victim = r;
            } else if (max_loaded_reached(s)) {
                victim = find_runner_to_unload(s);
                evict = 1;
            } else {
                queue_remove(s, l);
                if (!runner_start_load(s, l)) {
                    flog_error("msg=\"out of memory starting a load\"");
                    queue_push(s, l); /* retried on the next event */
                    break;
                }
                continue;
            }
            if (!victim)
                break;
            /* Expire it: unload once its requests are done, then try again. */
            timer_stop(victim);
            victim->session_ns = 0;
            if (evict)
                victim->evicting = 1;
            if (victim->refcount > 0 || victim->loading)
                break;
            runner_unload(s, victim, evict ? UNLOAD_EVICTED : UNLOAD_RELOAD);
        }
    } while (s->again);
    s->processing = 0;
}

/* ---- public ---- */

struct sched *sched_new(struct fake *f) {
    struct sched *s = calloc(1, sizeof(*s));
    if (s)
        s->f = f;
    return s;
}

static void free_list(struct runner *r) {
    while (r) {
        struct runner *next = r->next;
        runner_free(r);
        r = next;
    }
}

void sched_free(struct sched *s) {
    if (!s)
        return;
    free_list(s->loaded);
    free_list(s->detached);
    free(s);
}

int sched_acquire(struct sched *s, struct lease *l) {
    if (l->opts.num_ctx < 4)
        l->opts.num_ctx = 4;
    l->runner = NULL;
    l->next = l->prev = NULL;
    /* Fast path, the common case in benchmarks: loaded, same options, nobody queued. */
    struct runner *r = s->qhead ? NULL : find_loaded(s, l->model);
    if (r && !r->loading && !needs_reload(r, l)) {
        lease_attach(r, l);
        l->state = LEASE_GRANTED;
        return 1;
    }
    queue_push(s, l);
    process_pending(s);
    return 0; /* even if granted inside process_pending: on_granted was called */
}

void sched_release(struct sched *s, struct lease *l) {
    struct runner *r = l->runner;
    switch (l->state) {
        case LEASE_IDLE:
            return;
        case LEASE_QUEUED:
            queue_remove(s, l);
            process_pending(s);
            return;
        case LEASE_WAITING:
            waiter_remove(r, l);
            /* fall through */
        case LEASE_GRANTED:
            l->state = LEASE_IDLE;
            l->runner = NULL;
            if (--r->refcount <= 0 && !r->loading)
                runner_idle(s, r);
            process_pending(s);
            return;
    }
}

int sched_lease_crashed(const struct lease *l) {
    return l->runner && l->runner->crashed;
}

void sched_expire(struct sched *s, const struct model *m) {
    struct runner *r = find_loaded(s, m);
    if (!r)
        return;
    clock_gettime(CLOCK_REALTIME, &r->expires_at);
    r->expires_set = 1;
    timer_stop(r);
    r->session_ns = 0;
    if (r->refcount <= 0 && !r->loading) {
        runner_unload(s, r, UNLOAD_EXPIRED);
        process_pending(s);
    }
}

int sched_unload_now(struct sched *s, const struct model *m, int crash) {
    struct runner *r = find_loaded(s, m);
    if (!r)
        return 0;
    if (crash)
        r->crashed = 1;
    runner_unload(s, r, crash ? UNLOAD_CRASHED : UNLOAD_EVICTED);
    process_pending(s);
    return 1;
}

void sched_unload_all(struct sched *s) {
    while (s->loaded)
        runner_unload(s, s->loaded, UNLOAD_RESET);
    process_pending(s);
}

void sched_kick(struct sched *s) {
    process_pending(s);
}

static void runner_expires(const struct runner *r, struct timespec *ts) {
    if (r->expires_set)
        *ts = r->expires_at;
    else
        util_wall_after(ts, r->session_ns); /* loading or busy since its load */
}

json_t *sched_ps_json(struct sched *s) {
    struct runner *sorted[CATALOG_MAX_MODELS * 2];
    struct timespec exp[CATALOG_MAX_MODELS * 2];
    size_t n = 0;
    for (struct runner *r = s->loaded; r && n < sizeof(sorted) / sizeof(sorted[0]); r = r->next) {
        /* insertion sort, longest remaining first (Go compares whole seconds, stable) */
        struct timespec e;
        runner_expires(r, &e);
        size_t i = n++;
        while (i > 0 && exp[i - 1].tv_sec < e.tv_sec) {
            sorted[i] = sorted[i - 1];
            exp[i] = exp[i - 1];
            i--;
        }
        sorted[i] = r;
        exp[i] = e;
    }
    json_t *models = json_array();
    for (size_t i = 0; models && i < n; i++) {
        const struct runner *r = sorted[i];
        char expires[UTIL_TIME_LEN];
        util_time_local(&exp[i], expires, sizeof(expires));
        json_array_append_new(
            models, json_pack("{s:s, s:s, s:I, s:s, s:o, s:s, s:I, s:I}", "name", r->model->display,
                              "model", r->model->display, "size", (json_int_t)r->model->size,
                              "digest", r->model->digest, "details", catalog_details_json(r->model),
                              "expires_at", expires, "size_vram", (json_int_t)r->model->size,
                              "context_length", (json_int_t)r->opts.num_ctx));
    }
    return json_pack("{s:o}", "models", models ? models : json_array());
}

json_t *sched_loaded_names(struct sched *s) {
    json_t *a = json_array();
    for (struct runner *r = s->loaded; a && r; r = r->next)
        json_array_append_new(a, json_string(r->model->display));
    return a;
}
