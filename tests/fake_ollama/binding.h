/* binding: Ollama's request binding for the inference endpoints, as gin's ShouldBindJSON and
 * api.Options.FromMap do it, with Go's error texts: body presence, JSON shape, field types,
 * the api.Duration (keep_alive) and api.ThinkValue (think) unmarshalers, option types.
 * Pure functions over jansson values; no state. */
#ifndef FAKE_OLLAMA_BINDING_H
#define FAKE_OLLAMA_BINDING_H

#include "gen.h"
#include "http.h"
#include "sched.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* 0 when body binds to the request type of kind (JSON null binds to the zero request);
 * -1 with Ollama's 400 message ("missing request body", "json: cannot unmarshal ...",
 * "time: missing unit in duration \"-1\"", ...). */
int binding_request(const struct http_body *body, enum gen_kind kind, char *err, size_t errlen);

/* Effective runner options (defaults filled) and num_predict (-1 when unset) from "options";
 * -1 with Ollama's message ("option \"num_ctx\" must be of type integer"), which Ollama
 * answers with 500. opts may be NULL. */
int binding_options(const json_t *opts, struct runner_opts *ro, int64_t *num_predict, char *err,
                    size_t errlen);

/* api.ThinkValue.Bool(): true, or a non-empty level string. */
int binding_think_truthy(const json_t *v);

#endif
