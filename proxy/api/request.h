/* request: the request pipeline, one function from a client's body to the native request an
 * endpoint sends to Ollama (or the error it answers instead). The fast path (jscan_body, then
 * the entry's request_fast on the client's bytes) and the jansson path (parse with duplicate
 * keys refused and the tree's cost capped, the entry's translation, policy_apply, dump) are
 * both inside it. The server and the equivalence tests (tests/unit/reqfast_equiv.h,
 * splice_equiv.h) call this same function. Pure: no I/O. */
#ifndef KEEPWARM_REQUEST_H
#define KEEPWARM_REQUEST_H

#include <stddef.h>

#include "config.h"
#include "endpoint.h"

/* Which paths request_build_way may take. */
enum request_way {
    REQUEST_ANY = 0, /* the fast path, then the jansson path: what the server runs */
    REQUEST_FAST,    /* the fast path only (returns 1 when it declines) */
    REQUEST_JANSSON, /* the jansson path only */
};

/* The native request for a client's request to ep: path (as Ollama's router reads it) and
 * body[0, len) (may be NULL when len is 0). Returns 0 with out filled (its body and model are
 * owned: request_out_cleanup), or -1 with err filled (status and message for ep's envelope)
 * and out holding nothing to free. out->costly may be set either way. */
int request_build(const struct endpoint *ep, const struct config *cfg, const char *path,
                  const char *body, size_t len, struct request_out *out, struct api_err *err);

/* request_build by one way; REQUEST_FAST returns 1, having filled nothing, when it declines.
 * out->meta is written only by a way that builds the request (and not at all for an entry
 * without meta): the caller initialises it (request_build zeroes it). */
int request_build_way(const struct endpoint *ep, const struct config *cfg, const char *path,
                      const char *body, size_t len, enum request_way way, struct request_out *out,
                      struct api_err *err);

/* Frees what out owns. */
void request_out_cleanup(struct request_out *out);

#endif
