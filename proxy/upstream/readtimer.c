/* readtimer: the read-timeout timer of a transfer (readtimer.h). */
#include "readtimer.h"

#include <time.h>

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* vDSO, a few ns; a tick is 1-4 ms */
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void add_ms(struct readtimer *t, long ms) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    t->on = evtimer_add(&t->ev, &tv) == 0;
}

void readtimer_init(struct readtimer *t, struct event_base *base, long ms, event_callback_fn cb,
                    void *arg) {
    evtimer_assign(&t->ev, base, cb, arg);
    t->ms = ms > 0 ? ms : 0;
    t->last = 0;
    t->on = 0;
}

void readtimer_arm(struct readtimer *t, const struct timeval *common, long common_ms) {
    if (t->ms <= 0)
        return;
    t->last = now_ms();
    if (common && t->ms == common_ms)
        t->on = evtimer_add(&t->ev, common) == 0;
    else
        add_ms(t, t->ms);
}

void readtimer_read(struct readtimer *t) {
    if (t->on)
        t->last = now_ms();
}

int readtimer_fired(struct readtimer *t) {
    t->on = 0;
    long long silent = now_ms() - t->last;
    if (silent >= t->ms)
        return 1;
    add_ms(t, (long)(t->ms - silent));
    return 0;
}

void readtimer_stop(struct readtimer *t) {
    if (t->on)
        event_del(&t->ev);
    t->on = 0;
}

void readtimer_set(struct readtimer *t, long ms, const struct timeval *common, long common_ms) {
    int was_on = t->on;
    readtimer_stop(t);
    t->ms = ms > 0 ? ms : 0;
    if (was_on)
        readtimer_arm(t, common, common_ms);
}
