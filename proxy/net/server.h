/* server: routing, limits and keepwarm's own endpoints (its connections: listener.h). Owns
 * the evhttp instance and the per-process
 * relay environment; maps each request to an own endpoint, an OpenAI translation, or a
 * native passthrough, and applies the request limits. */
#ifndef KEEPWARM_SERVER_H
#define KEEPWARM_SERVER_H

#include <event2/event.h>

#include "config.h"
#include "upstream.h"

struct server;
struct warm;

/* Binds cfg->listen_host:listen_port. cfg and up are borrowed and must outlive the server.
 * NULL with err when the address cannot be bound. */
struct server *server_new(struct event_base *base, const struct config *cfg, struct upstream *up,
                          char *err, size_t errlen);
void server_free(struct server *s);

/* The bound port (useful with port 0). */
int server_port(const struct server *s);

/* The warm loop whose state /readyz, /status and /metrics report; may be NULL. */
void server_set_warm(struct server *s, struct warm *w);

/* Stops accepting new connections (drain). Requests in flight go on. */
void server_stop_accepting(struct server *s);

/* Applies a reloaded configuration (same struct config address, new contents): limits,
 * timeouts. The listen address is not changed by a reload. */
void server_reconfigure(struct server *s);

/* Requests being relayed now. */
unsigned long long server_active(const struct server *s);

#endif
