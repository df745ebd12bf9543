/* listener: the client connection layer under evhttp. Owns the listening socket (its
 * backlog, the EMFILE backoff that rests accepting for 100 ms), every client connection's
 * bufferevent (a reference each, for max_connections: accepting pauses at the limit and the
 * sweep counts connections evhttp freed), the front door on each connection (the raw head
 * scanned as it arrives, the header callback that checks the parsed head before evhttp reads
 * a body, header_timeout and body_timeout, the front door's own answers) and the refused
 * sockets lingering before they close (counted in max_connections). Requests that pass go to
 * evhttp's request callback, which the caller (server) sets. */
#ifndef KEEPWARM_LISTENER_H
#define KEEPWARM_LISTENER_H

#include <event2/event.h>
#include <event2/http.h>
#include <stddef.h>

#include "config.h"
#include "upstream.h"

#define LISTENER_MAX_HEADERS                                                                       \
    (64 * 1024) /* a request head's cap (evhttp's and the front door's)                            \
                 */

struct listener;

/* Takes over http's new connections (evhttp_set_bevcb) and binds cfg->listen_host:
 * listen_port. cfg, http and up are borrowed and must outlive the listener; up gives up an
 * idle connection to Ollama when a client waits to be accepted. NULL with err. */
struct listener *listener_new(struct event_base *base, struct evhttp *http,
                              const struct config *cfg, struct upstream *up, char *err,
                              size_t errlen);
/* After evhttp_free (which frees the connections): drops the references and closes the
 * lingering sockets. */
void listener_free(struct listener *l);

/* The bound port, and whether the address is a loopback one (Host is then checked). */
int listener_port(const struct listener *l);
int listener_loopback(const struct listener *l);

/* Stops accepting new connections (drain). */
void listener_stop(struct listener *l);

/* evhttp's request callback's first step: req is read, its body deadline ends. */
void listener_request_read(struct evhttp_request *req);

/* The heap is handed back to the system by the next sweep (a large body or a costly tree:
 * glibc keeps freed small blocks otherwise). */
void listener_trim_later(void);

#endif
