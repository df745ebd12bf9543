/* lookup: asynchronous name resolution (see lookup.h). Owns every lookup in flight and the
 * list of cancelled ones glibc still works on. */
#include "lookup.h"

#include <event2/event_struct.h> /* struct event embedded: one allocation per lookup */
#include <stdlib.h>
#include <string.h>

#define POLL_FIRST_MS 1
#define POLL_MAX_MS   64

struct lookup {
    struct gaicb req;
    struct gaicb *list[1];
    struct addrinfo hints;
    char host[256];
    char port[16];
    struct event poll;
    int delay_ms;
    lookup_cb cb; /* NULL once cancelled */
    void *arg;
    struct lookup *next_orphan;
};

static struct lookup *orphans; /* cancelled, glibc still at work: freed when they end */

static void lookup_free(struct lookup *l) {
    event_del(&l->poll);
    if (l->req.ar_result)
        freeaddrinfo(l->req.ar_result);
    free(l);
}

static void orphan_remove(struct lookup *l) {
    for (struct lookup **p = &orphans; *p; p = &(*p)->next_orphan) {
        if (*p == l) {
            *p = l->next_orphan;
            return;
        }
    }
}

static void on_poll(evutil_socket_t fd, short what, void *arg) {
    struct lookup *l = arg;
    (void)fd;
    (void)what;
    int rc = gai_error(&l->req);
    if (rc == EAI_INPROGRESS) {
        if (l->delay_ms < POLL_MAX_MS)
            l->delay_ms *= 2;
        struct timeval tv = {0, l->delay_ms * 1000};
        evtimer_add(&l->poll, &tv);
        return;
    }
    if (!l->cb) {
        orphan_remove(l);
        lookup_free(l);
        return;
    }
    l->cb(l->arg, rc == 0 ? l->req.ar_result : NULL, rc);
    lookup_free(l);
}

struct lookup *lookup_start(struct event_base *base, const char *host, const char *port,
                            lookup_cb cb, void *arg, int *rc) {
    struct lookup *l = calloc(1, sizeof(*l));
    if (!l) {
        *rc = EAI_MEMORY;
        return NULL;
    }
    if (strlen(host) >= sizeof(l->host) || strlen(port) >= sizeof(l->port)) {
        free(l);
        *rc = EAI_NONAME;
        return NULL;
    }
    strcpy(l->host, host);
    strcpy(l->port, port);
    l->hints.ai_family = AF_UNSPEC;
    l->hints.ai_socktype = SOCK_STREAM;
    l->req.ar_name = l->host;
    l->req.ar_service = l->port;
    l->req.ar_request = &l->hints;
    l->list[0] = &l->req;
    l->cb = cb;
    l->arg = arg;
    l->delay_ms = POLL_FIRST_MS;
    evtimer_assign(&l->poll, base, on_poll, l);
    *rc = getaddrinfo_a(GAI_NOWAIT, l->list, 1, NULL);
    if (*rc != 0) {
        free(l);
        return NULL;
    }
    struct timeval tv = {0, POLL_FIRST_MS * 1000};
    evtimer_add(&l->poll, &tv);
    return l;
}

void lookup_cancel(struct lookup *l) {
    if (!l)
        return;
    int rc = gai_cancel(&l->req);
    if (rc == EAI_CANCELED || rc == EAI_ALLDONE) {
        lookup_free(l);
        return;
    }
    l->cb = NULL; /* glibc's thread still writes into l: keep it until the lookup ends */
    l->next_orphan = orphans;
    orphans = l;
}

void lookup_shutdown(void) {
    while (orphans) {
        struct lookup *l = orphans;
        orphans = l->next_orphan;
        const struct gaicb *list[1] = {&l->req};
        while (gai_error(&l->req) == EAI_INPROGRESS)
            gai_suspend(list, 1, NULL);
        lookup_free(l);
    }
}
