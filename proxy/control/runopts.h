/* runopts: the runner options one request carries to Ollama after policy — the options whose
 * change makes Ollama's scheduler reload a loaded model (num_ctx, num_batch, num_gpu, main_gpu,
 * num_thread, use_mmap: server/sched.go needsReload compares them, Ollama fb30760) — as short
 * canonical texts, so that requests built by the jansson path and by the fast paths compare
 * equal when Ollama would read the same values. Plain data, pure functions, no allocation. */
#ifndef KEEPWARM_RUNOPTS_H
#define KEEPWARM_RUNOPTS_H

#include <jansson.h>
#include <stddef.h>

#define RUNOPTS_N         6  /* the runner options */
#define RUNOPTS_VALUE_MAX 24 /* a value's canonical text, NUL included (longer ones are cut) */

/* "num_ctx", "num_batch", "num_gpu", "main_gpu", "num_thread", "use_mmap" (index = bit). */
extern const char *const runopts_names[RUNOPTS_N];

struct runopts {
    unsigned set; /* bit i: option i is in the request; absent ones are Ollama's default */
    char value[RUNOPTS_N][RUNOPTS_VALUE_MAX];
};

/* The index of the runner option named key[0, klen), or -1. */
int runopts_index(const char *key, size_t klen);

/* Records option i with the JSON text value[0, len): a number as its value ("8192.0" and
 * "8192" are "8192"; others as %.17g), true/false as they are, anything else as "other". */
void runopts_set_text(struct runopts *ro, int i, const char *value, size_t len);

/* Records the runner options of a native body's "options" object (NULL or not an object:
 * none). The same canonical texts as runopts_set_text. */
void runopts_from_json(struct runopts *ro, const json_t *options);

/* The value of option i as a /status and log text: its canonical text, or "default". */
const char *runopts_value(const struct runopts *ro, int i);

#endif
