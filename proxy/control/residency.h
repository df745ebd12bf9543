/* residency: what happened to each model's residency in Ollama, for /status, /metrics and the
 * log. Three records, all capped:
 * - option churn: two requests for one model, within its residency, that carry different
 *   runner options (runopts.h) make Ollama reload it; each option that changed is counted
 *   (keepwarm_option_churn_total{model,option}) with the values clients sent, and warned about
 *   once per model and option per hour, naming the fix (pin the option for the model). An
 *   option a request leaves out is Ollama's default, which keepwarm cannot know: "default"
 *   counts as one more value, so a client that sends num_ctx and one that does not churn too.
 * - failures: Ollama's error texts read for runner crashes (a runner process that terminated,
 *   K-shift, segfaults), context overflows and out-of-memory failures, counted per model with
 *   the last text, its time and the num_ctx of the request; RESIDENCY_CRASH_WARN crashes within
 *   an hour at one num_ctx raise a warning that suggests a lower one.
 * - history: the last RESIDENCY_HISTORY residency events (loaded, evicted, expired, crashed,
 *   repaired, reload_options) with their times, oldest first. A crash is recorded when Ollama
 *   reports it (with its text); the model's disappearance from /api/ps after it is not
 *   recorded again.
 *
 * A model name owns data here only once admitted (residency_admit): Ollama answered 2xx for
 * it, the warm loop tracks it, or the configuration names it. A name a client made up owns
 * none (issue 12's rule, the warm table's): its requests' options wait in a small ring for an
 * admission, its failures are not counted, so a flood of such names pushes out neither the
 * real models' data nor the history.
 *
 * Owned by the warm loop (residency_new/free), which writes its events and admissions into it;
 * the server's requests and failures come through the loop (warm_note_request,
 * warm_note_failure). Times are passed in (milliseconds since the epoch), so the module is
 * pure apart from its log lines. */
#ifndef KEEPWARM_RESIDENCY_H
#define KEEPWARM_RESIDENCY_H

#include <event2/buffer.h>
#include <jansson.h>

#include "runopts.h"

#define RESIDENCY_MAX_MODELS    128 /* models tracked; the least recently used gives way */
#define RESIDENCY_PENDING       8   /* models not admitted yet whose last options are kept */
#define RESIDENCY_NAME_MAX      256 /* a longer model name is not tracked */
#define RESIDENCY_MAX_VALUES    4   /* values remembered per model and option (the latest) */
#define RESIDENCY_HISTORY       50  /* residency events remembered */
#define RESIDENCY_DETAIL_MAX    160 /* an event's detail text, NUL included */
#define RESIDENCY_ERROR_MAX     256 /* the last error text kept per model, NUL included */
#define RESIDENCY_CRASH_WARN    3   /* crashes within an hour at one num_ctx that raise a warning */
#define RESIDENCY_WARN_EVERY_MS (3600 * 1000LL) /* one warning per model and option per hour */

enum residency_event {
    RES_LOADED = 0,     /* resident, by a load ping or by someone else's request */
    RES_EVICTED,        /* gone from /api/ps before its keep_alive ran out */
    RES_EXPIRED,        /* gone after its keep_alive ran out */
    RES_CRASHED,        /* gone after a runner crash */
    RES_REPAIRED,       /* reloaded by the warm loop after an unexpected unload */
    RES_RELOAD_OPTIONS, /* a request's runner options differ from the previous one's */
    RES_EVENT_COUNT,
};

enum residency_failure { RES_FAIL_CRASH = 0, RES_FAIL_OVERFLOW, RES_FAIL_OOM, RES_FAIL_COUNT };

struct residency;

struct residency *residency_new(void);
void residency_free(struct residency *r);

/* A request for model goes to Ollama with runner options ro (after policy). keep_alive_ns is
 * what it carries (< 0: forever): an earlier request older than that no longer shares the
 * residency. Counts and logs churn for an admitted model; for another, only notes ro aside
 * (the RESIDENCY_PENDING latest such models) for its admission. */
void residency_request(struct residency *r, const char *model, const struct runopts *ro,
                       long long keep_alive_ns, long long now_ms);

/* model may own data from now on (see the top): its entry is made, the least recently used
 * one giving way when the table is full, and the options noted aside for its last request
 * become its previous request's. A name too long to track is ignored. */
void residency_admit(struct residency *r, const char *model);

/* Ollama answered a request for model with an error (status, 200 for an error line in a
 * stream) whose text is text: counted, for an admitted model, when it is a crash, an overflow
 * or an OOM. */
void residency_failure(struct residency *r, const char *model, int status, const char *text,
                       long long now_ms);

/* Which failure kinds text shows (bits 1 << enum residency_failure); 0 for none. */
unsigned residency_classify(const char *text);

/* A residency event seen by the warm loop (detail may be NULL); it admits model. A model that
 * is unloaded forgets its last runner options: the next load is not churn. */
void residency_event(struct residency *r, const char *model, enum residency_event ev,
                     const char *detail, long long now_ms);

/* 1 when a crash of model was recorded since its last load event (an unload is a crash). */
int residency_crashed_since_load(const struct residency *r, const char *model);

/* Adds "churn", "failures" and "reload_causes" (docs/operations.md) to a /status model
 * object o for model. */
void residency_status_model(const struct residency *r, const char *model, json_t *o);

/* The history, oldest first: [{"at","model","event","detail"}]. New reference. */
json_t *residency_history_new(const struct residency *r);

/* keepwarm_option_churn_total{model,option} and keepwarm_model_failures_total{model,kind}. */
void residency_metrics(const struct residency *r, struct evbuffer *out);

/* The event's name in /status ("loaded", ..., "reload_options"). */
const char *residency_event_name(enum residency_event ev);

#endif
