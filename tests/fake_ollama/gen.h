/* gen: the inference endpoints (/api/generate, /api/chat, /api/embed, /api/embeddings):
 * Ollama's request validation and error texts, scheduling through sched, timer-driven token
 * streaming, injected failures, and cancellation when the client goes away.
 * Each request in progress is a struct gen in f->gens, owned by this module. */
#ifndef FAKE_OLLAMA_GEN_H
#define FAKE_OLLAMA_GEN_H

#include "fake.h"
#include "http.h"

#include <event2/http.h>
#include <stddef.h>

enum gen_kind { GEN_GENERATE, GEN_CHAT, GEN_EMBED, GEN_EMBEDDINGS };

/* Handles one POST; replies now or later (the request then belongs to the gen). */
void gen_handle(struct fake *f, struct evhttp_request *req, enum gen_kind kind,
                const struct http_body *body);

/* Requests scheduled or generating right now. */
size_t gen_in_flight(const struct fake *f);

/* Shutdown, after http_stop: frees any gen still alive without touching its request. */
void gen_free_all(struct fake *f);

#endif
