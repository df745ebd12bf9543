/* policy: what keepwarm injects into every native request it sends to Ollama — the
 * keep_alive and the model's pinned runner options — decided in one place, so that client
 * requests and warm-loop pings for a model carry exactly the same values and a ping never
 * forces Ollama to reload a runner. */
#ifndef KEEPWARM_POLICY_H
#define KEEPWARM_POLICY_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"

/* The top-level members of a native body that keepwarm reads, sets or writes (NULL-ended). */
extern const char *const policy_native_keys[];

/* Refuses a body (an object) holding a top-level key that Ollama's Go decoder would read as
 * one of names (NULL-ended) without being it byte for byte ("KEEP_ALIVE", "Options",
 * "\u212Aeep_alive"): such a key would override, in Ollama, the value keepwarm decided.
 * Returns 0, or -1 with a client-facing message in err (answer 400). See gokey.h. */
int policy_check_keys(const json_t *body, const char *const *names, char *err, size_t errlen);

/* Rewrites a native /api/generate, /api/chat, /api/embed or /api/embeddings body in place:
 * - keep_alive: by cfg->keep_alive_policy. "override" always sets the configured value (the
 *   model's own, else the global one); "default" keeps a valid client value, normalised to
 *   what every Ollama accepts ("-1" -> -1, "300" -> 300), and fills in ours when absent.
 *   A client value that Ollama would reject is an error under "default".
 * - options: must be an object if present. The model's pinned runner options replace any
 *   the client sent; num_predict is capped at num_predict_max (absent or unlimited -> cap).
 * Returns 0, or -1 with a client-facing message in err (answer 400). */
int policy_apply(const struct config *cfg, json_t *body, char *err, size_t errlen);

/* The keep_alive policy_apply puts into a body for model (may be NULL) whose own keep_alive is
 * client (borrowed; NULL or json null when absent). New reference, or NULL with a
 * client-facing message in err (answer 400). */
json_t *policy_keep_alive_new(const struct config *cfg, const char *model, const json_t *client,
                              char *err, size_t errlen);

/* 1 when policy_apply leaves a body's options as the client sent them for model (no pinned
 * options, no num_predict_max), so that only keep_alive changes; 0 otherwise. */
int policy_keeps_options(const struct config *cfg, const char *model);

/* The body of a load-only warm ping for model: {"model", "keep_alive", "options"?} with the
 * same keep_alive and pinned options policy_apply injects. New reference. */
json_t *policy_ping_new(const struct config *cfg, const char *model);

/* The keep_alive (ns) keepwarm injects for model. */
long long policy_keep_alive(const struct config *cfg, const char *model);

#endif
