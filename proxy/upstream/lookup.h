/* lookup: host name resolution that never blocks the event loop. glibc's getaddrinfo_a does
 * the work on its own thread (with NSS: /etc/hosts, DNS, whatever nsswitch.conf says); a timer
 * on the loop polls for the answer (1 ms, doubling to 64 ms), so no signal and no thread of
 * ours is involved.
 *
 * Lifetime: a lookup lives from lookup_start until its callback has returned (then it frees
 * itself) or until lookup_cancel. A lookup cancelled while glibc is still working on it is
 * kept aside and freed when it ends; lookup_shutdown waits for those at exit. */
#ifndef KEEPWARM_LOOKUP_H
#define KEEPWARM_LOOKUP_H

#include <event2/event.h>
#include <netdb.h>

struct lookup;

/* The answer: res (NULL on failure; freed after the callback returns) and getaddrinfo's code
 * (0, or an EAI_* value for gai_strerror). Runs from the loop, never inside lookup_start; the
 * lookup is finished: do not cancel it here. */
typedef void (*lookup_cb)(void *arg, const struct addrinfo *res, int rc);

/* Starts resolving host and port (TCP, any family; both copied, host at most 255 bytes).
 * NULL when it cannot start, with the EAI_* code in *rc; then cb never runs. */
struct lookup *lookup_start(struct event_base *base, const char *host, const char *port,
                            lookup_cb cb, void *arg, int *rc);

/* cb will not run. Does not block. */
void lookup_cancel(struct lookup *l);

/* Waits for cancelled lookups that glibc was still working on, and frees them. At exit,
 * before the event base goes. */
void lookup_shutdown(void);

#endif
