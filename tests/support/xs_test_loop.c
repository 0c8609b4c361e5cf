/*  xs_test_loop: run a zloop until a condition holds (see xs_test_loop.h). */
#include "xs_test_loop.h"

typedef struct {
    xs_test_pred_fn *pred;
    void *arg;
    int64_t deadline;
    bool met;
} s_until_t;

static int
s_until_tick (zloop_t *loop, int timer_id, void *arg)
{
    s_until_t *u = (s_until_t *) arg;
    if (u->pred (u->arg)) {
        u->met = true;
        return -1;
    }
    return zclock_mono () > u->deadline ? -1 : 0;
}

bool
xs_test_run_until (zloop_t *loop, xs_test_pred_fn *pred, void *arg, int timeout_ms)
{
    if (pred (arg))
        return true;
    s_until_t u = { pred, arg, zclock_mono () + timeout_ms, false };
    int timer = zloop_timer (loop, 5, 0, s_until_tick, &u);
    zloop_start (loop);
    zloop_timer_end (loop, timer);
    return u.met;
}
