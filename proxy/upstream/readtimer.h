/* readtimer: how long Ollama may stay silent in a transfer (read_timeout), shared by both
 * upstream backends. A transfer arms it when its request goes out and after a pause; a read
 * only notes the time (one coarse monotonic clock read, no event call: a read is on the
 * per-token path); when the timer fires it looks at the last read and either reports the
 * silence or waits out the rest. Not while paused: then the client is the slow one. */
#ifndef KEEPWARM_READTIMER_H
#define KEEPWARM_READTIMER_H

#include <event2/event.h>
#include <event2/event_struct.h>

struct readtimer {
    struct event ev;
    long ms;        /* the silence allowed; 0: none */
    long long last; /* monotonic ms of the arming or of the last read */
    int on;
};

/* Assigns the timer (not armed); cb gets arg and calls readtimer_fired first. */
void readtimer_init(struct readtimer *t, struct event_base *base, long ms, event_callback_fn cb,
                    void *arg);

/* Ollama has t->ms from now. common is libevent's common timeout for common_ms (the
 * configured read_timeout shared by every transfer: O(1) to add), or NULL. */
void readtimer_arm(struct readtimer *t, const struct timeval *common, long common_ms);

/* A read came: the silence counts from now. */
void readtimer_read(struct readtimer *t);

/* From the timer's callback: 1 when Ollama has been silent t->ms (the timer is off), 0 when a
 * read came meanwhile (the timer is armed again for the rest). */
int readtimer_fired(struct readtimer *t);

void readtimer_stop(struct readtimer *t);

/* upstream_set_read_timeout: a new allowance, counted from now when the timer runs. */
void readtimer_set(struct readtimer *t, long ms, const struct timeval *common, long common_ms);

#endif
