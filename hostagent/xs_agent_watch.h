/*  xs_agent_watch: the agent's SR stats through xapi's events instead of
    polling (issue 11, "Fewer calls to the master").

    One extra worker (its own executor context, so its long poll never
    holds up a request) runs sr_watch (event.from on class SR) again and
    again, each from the token the last one gave; every SR that changed
    comes back with its stats. An idle agent thus sends one event.from per
    XS_AGENT_WATCH_S seconds and nothing else. An executor that cannot
    watch (sr_watch fails, or answers without a token: the test and bench
    executors) leaves the watch down; it is tried again every
    XS_AGENT_WATCH_RETRY_MS, and meanwhile the agent polls sr_stats as
    before (xs_agent_watch_live is false).
*/
#ifndef XS_AGENT_WATCH_H_INCLUDED
#define XS_AGENT_WATCH_H_INCLUDED

#include <stdbool.h>
#include <czmq.h>
#include <jansson.h>

#include "xs_err.h"
#include "xs_executor.h"

#define XS_AGENT_WATCH_S          60.0
#define XS_AGENT_WATCH_RETRY_MS   60000

typedef struct _xs_agent_watch_t xs_agent_watch_t;

/* SR stats that changed: an array of sr_stats objects (borrowed). */
typedef void (xs_agent_watch_fn) (void *arg, const json_t *srs);

/* A watch over `executor` (borrowed, with its arg). NULL + err when its
   worker cannot start. Nothing runs before xs_agent_watch_start. */
xs_agent_watch_t *xs_agent_watch_new (const xs_executor_t *executor, void *executor_arg,
                                      xs_err_t *err);

/* Ends a waiting event.from at once (executors over xs_xenapi), stops the
   worker; NULLs *self_p; idempotent. */
void xs_agent_watch_destroy (xs_agent_watch_t **self_p);

/* Runs from `loop`, `fn` (with arg) getting every change; the first round
   (token "") gives every SR. 0 or -1. */
int xs_agent_watch_start (xs_agent_watch_t *self, zloop_t *loop, xs_agent_watch_fn *fn,
                          void *arg);

/* Stops watching from `loop` (a running poll ends unheard). */
void xs_agent_watch_stop (xs_agent_watch_t *self);

/* True while the last round succeeded (then the agent does not poll). */
bool xs_agent_watch_live (xs_agent_watch_t *self);

#endif
