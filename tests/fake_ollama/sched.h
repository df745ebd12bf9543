/* sched: the stand-in's model scheduler, following Ollama's server/sched.go.
 *
 * A request that needs a model takes a lease: sched_acquire either grants it at once (the model
 * is loaded with the same runner options) or queues it; on_granted then fires later from the
 * event loop. Every lease must be given back with sched_release, in any state (queued, waiting
 * for a load, granted): that is "the request's context ended" in Ollama, and when the last
 * lease of a runner goes the keep-alive countdown starts. Runners belong to the scheduler;
 * leases belong to the caller and must stay at a fixed address until released. */
#ifndef FAKE_OLLAMA_SCHED_H
#define FAKE_OLLAMA_SCHED_H

#include "catalog.h"
#include "fake.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The options whose change forces a reload (api.Runner): effective values, defaults filled. */
struct runner_opts {
    int64_t num_ctx, num_batch, num_gpu, main_gpu, num_thread;
    int use_mmap; /* -1 unset, 0, 1 */
};

#define RUNNER_DEFAULT_NUM_CTX 4096

void sched_opts_default(struct runner_opts *o);

enum lease_state { LEASE_IDLE = 0, LEASE_QUEUED, LEASE_WAITING, LEASE_GRANTED };

struct runner;

struct lease {
    /* set by the caller before sched_acquire */
    struct model *model;
    struct runner_opts opts;
    int has_keep_alive;
    int64_t keep_alive_ns;
    void (*on_granted)(struct lease *l, void *arg); /* must not call back into sched */
    void *arg;
    /* owned by sched */
    enum lease_state state;
    struct runner *runner;
    struct lease *next, *prev;
};

struct sched *sched_new(struct fake *f);
/* Frees every runner. Leases still held are forgotten (release them first). */
void sched_free(struct sched *s);

/* 1: granted now (on_granted is not called); 0: queued, on_granted fires later. */
int sched_acquire(struct sched *s, struct lease *l);
/* Gives the lease back in whatever state it is; a no-op for an idle lease. */
void sched_release(struct sched *s, struct lease *l);
/* The runner under a granted lease crashed or was force-unloaded by /_fake/crash. */
int sched_lease_crashed(const struct lease *l);

/* keep_alive:0 with an empty prompt: unload now if idle, else once its requests finish. */
void sched_expire(struct sched *s, const struct model *m);
/* /_fake/evict (crash = 0) and /_fake/crash (crash = 1): unload now even if busy (busy
 * requests keep running on the detached runner). Returns 1 if the model was loaded. */
int sched_unload_now(struct sched *s, const struct model *m, int crash);
/* /_fake/reset: unload everything now. */
void sched_unload_all(struct sched *s);
/* max_loaded changed: let queued requests try again. */
void sched_kick(struct sched *s);

/* GET /api/ps body (new reference). */
json_t *sched_ps_json(struct sched *s);
/* ["model:tag", ...] of the loaded (and loading) runners, for /_fake/stats (new reference). */
json_t *sched_loaded_names(struct sched *s);

#endif
