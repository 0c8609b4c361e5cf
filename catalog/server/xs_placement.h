/*  xs_placement: first-fit placement of a new volume (docs/DESIGN.md
    "Placement").

    A create walks its flavor's backends in id order. A backend is a
    candidate when its pool can make volumes there at all
    (xs_hosts_backend_unusable: not a LUN-per-VDI type, the zone's hosts
    have the SM driver, with VDI_CREATE), it is attached, a live agent of its
    zone has its SR, the SR's capabilities (when reported) include
    VDI_CREATE, and (when the SR reported its sizes) the volume fits under
    size x ratio x (1 - reserve). Each backend passed over is recorded as an
    attempt (`skipped`, with the reason); xs_jobs records the others
    (`failed`, `ok`). Attempts join the loop's group commit.

    Borrowed: store, batch and hosts outlive the placement.
*/
#ifndef XS_PLACEMENT_H_INCLUDED
#define XS_PLACEMENT_H_INCLUDED

#include <stdint.h>

#include "xs_batch.h"
#include "xs_hosts.h"
#include "xs_metrics.h"
#include "xs_store.h"

typedef struct {
    double default_ratio;       /* over-subscription when a backend has none; <= 0 -> 1.0 */
    double default_reserve;     /* percent kept free by default; 0..100                   */
    int placed_ttl_ms;          /* how long a placement the SR stats do not show yet is
                                   counted; 0 -> 60 s (tests shorten it)                 */
} xs_placement_cfg_t;

typedef struct _xs_placement_t xs_placement_t;

/* Never NULL. Caller destroys. */
xs_placement_t *xs_placement_new (const xs_placement_cfg_t *cfg, xs_store_t *store,
                                  xs_batch_t *batch, xs_hosts_t *hosts);

/* NULLs *self_p; idempotent. */
void xs_placement_destroy (xs_placement_t **self_p);

/* Counts every attempt in `metrics` (borrowed; NULL: none). */
void xs_placement_set_metrics (xs_placement_t *self, xs_metrics_t *metrics);

/* The next candidate for `size` bytes of volume_uuid among the backends of
   flavor_id after *after_p (a backend id; 0 = from the first), recording
   the backends passed over; *after_p moves past the ones looked at.
   Returns the backend (caller destroys) or NULL when none is left (a
   store failure is logged and also ends the walk). With `waiting` (a JSON
   array), a backend passed over only because no agent of its zone (with
   its SR) is live yet is not recorded but its id appended there: right
   after a catalog restart or takeover the agents have not registered yet
   (xs_placement_waited looks at them again). */
xs_backend_t *xs_placement_next (xs_placement_t *self, const char *volume_uuid,
                                 int64_t flavor_id, int64_t size, int64_t *after_p,
                                 json_t *waiting);

/* The first backend of `waiting` (ids, in order) that is a candidate now,
   removed from it (caller destroys), else NULL. Those that cannot take the
   volume for another reason, and with give_up every one, are recorded as
   skipped and removed. */
xs_backend_t *xs_placement_waited (xs_placement_t *self, const char *volume_uuid,
                                   int64_t size, json_t *waiting, bool give_up);

/* Records one attempt of volume_uuid on backend_id (host may be NULL,
   reason may be NULL). A store failure is logged. */
void xs_placement_attempt (xs_placement_t *self, const char *volume_uuid, int64_t backend_id,
                           const char *host, xs_attempt_outcome_t outcome, const char *reason);

/* Every attempt of volume_uuid in words: "backend 1 skipped: ...;
   backend 2 failed: ...", or why there was none. Caller frees. */
char *xs_placement_attempts_text (xs_placement_t *self, const char *volume_uuid);

#endif
