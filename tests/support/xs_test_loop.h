/*  xs_test_loop: run a zloop until a condition holds.

    A test that drives a class living on a zloop (the catalog's scheduler,
    an agent server) runs the loop, which serves its sockets and timers,
    until its predicate is true (checked on a 5 ms timer) or `timeout_ms`
    has passed (the deadline is a failsafe, never the thing waited for).
*/
#ifndef XS_TEST_LOOP_H_INCLUDED
#define XS_TEST_LOOP_H_INCLUDED

#include <stdbool.h>
#include <czmq.h>

/* True when what the test waits for has happened. */
typedef bool (xs_test_pred_fn) (void *arg);

/* Runs `loop` until pred (arg) is true (returns true) or timeout_ms have
   passed (returns false). pred is checked first, before the loop runs. */
bool xs_test_run_until (zloop_t *loop, xs_test_pred_fn *pred, void *arg, int timeout_ms);

#endif
