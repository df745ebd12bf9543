/* fake: the process-wide state of the stand-in Ollama server, shared by its modules.
 *
 * One struct fake lives for the whole process (created in fake_ollama.c). Every module runs on
 * the single libevent loop, so nothing here is locked. Counters that /_fake/stats reports live
 * in struct fake_stats; /_fake/reset clears them. */
#ifndef FAKE_OLLAMA_FAKE_H
#define FAKE_OLLAMA_FAKE_H

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdint.h>

#define FAKE_OLLAMA_VERSION "0.33.0"

/* Runtime knobs: command line at start, /_fake/config later, restored by /_fake/reset. */
struct fake_config {
    int64_t token_delay_ms; /* between streamed tokens (and before the first one) */
    int64_t load_delay_ms;  /* how long a cold load takes */
    int64_t keep_alive_ns;  /* server default, OLLAMA_KEEP_ALIVE */
    int max_loaded;         /* OLLAMA_MAX_LOADED_MODELS; 0 = no limit */
};

struct fake_stats {
    json_t *loads;   /* {"model:tag": n} completed loads */
    json_t *unloads; /* {"model:tag": n} */
    json_int_t total_loads, total_unloads, evictions, cancelled, completed, failed, requests;
};

struct catalog;
struct sched;
struct control;
struct gen;

struct fake {
    struct event_base *base;
    struct evhttp *http;
    struct fake_config cfg, cfg_start;
    struct fake_stats stats;
    struct catalog *catalog;
    struct sched *sched;
    struct control *control;
    struct gen *gens;    /* live inference requests (gen.c) */
    json_t *empty;       /* {} standing in for a JSON null body (Go binds null to zero values) */
    int listen_loopback; /* Ollama checks Host only when it listens on loopback */
    char listen_addr[80];
};

/* Adds 1 to obj[key] (a {"name": n} counter object). */
void fake_stats_bump(json_t *obj, const char *key);

#endif
