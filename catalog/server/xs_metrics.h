/*  xs_metrics: what GET /metrics tells Prometheus about the catalog.

    Counted as things happen: volume creates by outcome, placement attempts
    by outcome and reason class, and job latency (from the job's start to
    its end, the agent's work included) by operation and outcome. Read from
    the catalog when scraped: volumes by flavor and state (one GROUP BY
    query), hosts up and down by zone, and each backend's free space as its
    hosts last reported it.

    Labels are bounded and never carry a secret or a user's name for a
    volume: flavor labels and zone names (admin-chosen), backend ids,
    operation names, outcomes, and a fixed set of reason classes.
*/
#ifndef XS_METRICS_H_INCLUDED
#define XS_METRICS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "xs_err.h"
#include "xs_hosts.h"
#include "xs_op.h"
#include "xs_rows.h"
#include "xs_store.h"

typedef struct _xs_metrics_t xs_metrics_t;

xs_metrics_t *xs_metrics_new (void);
void xs_metrics_destroy (xs_metrics_t **self_p);

/* A volume create ended: available (ok) or error. */
void xs_metrics_create_done (xs_metrics_t *self, bool ok);

/* A placement attempt was recorded, with its reason (may be NULL). */
void xs_metrics_attempt (xs_metrics_t *self, xs_attempt_outcome_t outcome, const char *reason);

/* A job of `op` ended after `seconds`. */
void xs_metrics_job_done (xs_metrics_t *self, xs_op_t op, bool ok, double seconds);

/* The reason class of an attempt's reason: "no_agent", "no_space",
   "not_attached", "unsupported", "agent_error" or "other". */
const char *xs_metrics_reason_class (xs_attempt_outcome_t outcome, const char *reason);

/* The exposition text (caller frees; *len its length), or NULL with *err
   when the store cannot be read. */
char *xs_metrics_render (xs_metrics_t *self, xs_store_t *store, xs_hosts_t *hosts,
                         size_t *len, xs_err_t *err);

#endif
