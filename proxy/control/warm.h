/* warm: the warm loop. Keeps every pinned model resident in Ollama: preloads at startup,
 * reads /api/ps every ping_interval, reloads a pinned model that is absent (evicted, crashed,
 * expired, Ollama restarted), refreshes one whose finite keep_alive would run out before the
 * next round, backs off while Ollama is down, and notices when pinned models keep evicting
 * each other (thrashing). Each load carries exactly what policy injects into requests, so a
 * ping never causes an options reload. It also answers /readyz and /status and renders the
 * model gauges for /metrics.
 *
 * Owns its timer, its model table and its in-flight upstream transfers; warm_free cancels
 * them. All I/O goes through upstream. It records what it sees in the residency record
 * (residency.h): a model that appeared in /api/ps (loaded), one that vanished from it
 * (crashed after a recorded crash, expired past its expires_at, evicted otherwise), and its own
 * loads (loaded, repaired). */
#ifndef KEEPWARM_WARM_H
#define KEEPWARM_WARM_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "config.h"
#include "residency.h"
#include "upstream.h"

struct warm;

/* cfg and up are borrowed and must outlive the loop. */
struct warm *warm_new(struct event_base *base, const struct config *cfg, struct upstream *up);
void warm_free(struct warm *w);

/* Starts the loop: the first round (preload) runs at once, in the background. */
void warm_start(struct warm *w);

/* Switches to a new configuration (reload): pins are re-read, the next round runs now. */
void warm_set_config(struct warm *w, const struct config *cfg);

/* Ollama answered 2xx to a client's request for model: the warm table tracks it (for
 * pin_requested, and for /status's "seen" models) and the residency record admits it. */
void warm_note_model(struct warm *w, const char *model);

/* A client's request for model goes to Ollama with the runner options ro (after policy): the
 * residency record's churn count (residency_request, with the keep_alive policy gives it). */
void warm_note_request(struct warm *w, const char *model, const struct runopts *ro);

/* Ollama answered an error for model (residency_failure's status and text): counted for a
 * model the loop tracks or the configuration names in a section of its own; a name a client
 * made up owns no state. */
void warm_note_failure(struct warm *w, const char *model, int status, const char *text);

/* How /readyz's answer is written: evhttp_send_reply's signature. The server sets its own
 * writer (chunkw_reply: HEAD answers with the length and no body); the default is evhttp's. */
typedef void (*warm_reply_fn)(struct evhttp_request *req, int code, const char *reason,
                              struct evbuffer *body);
void warm_set_reply(struct warm *w, warm_reply_fn reply);

/* GET /readyz: asks Ollama for /api/ps now and answers 200 {"ready":true,...} or 503 with
 * {"ready":false,"reason":...,"missing":[...]}. Answers req exactly once. */
void warm_handle_readyz(struct warm *w, struct evhttp_request *req);

/* GET /status body (new reference). */
json_t *warm_status_new(const struct warm *w);

/* Appends the warm loop's Prometheus lines (keepwarm_upstream_up, keepwarm_model_loaded,
 * keepwarm_model_reloads_total, keepwarm_pings_total, keepwarm_thrashing). */
void warm_metrics(const struct warm *w, struct evbuffer *out);

#endif
