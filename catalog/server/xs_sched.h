/*  xs_sched: volumes, first-fit placement and the job journal.

    Owns the agent server (xs_agentsrv) and turns admin volume commands into
    jobs for the agents, as docs/DESIGN.md "Placement" and "The catalog under
    faults" say:
      - a volume row and its job are committed before work is sent, and the
        result is committed before the caller is answered (group commit
        through xs_batch: one transaction per loop pass);
      - create walks the flavor's backends in id order, skipping (and
        recording as attempts) those not attached, without a live agent or
        without the space, falling through on failure; with no candidate
        left the volume goes to `error` naming every attempt;
      - the same request id never makes two volumes;
      - xs_sched_resume () after a restart re-sends every unfinished job (VDI
        operations are idempotent by volume uuid); work on a host that goes
        down moves to another live agent of the zone.

    Completion: every volume command takes the caller's xs_reply_t and
    answers it exactly once: at once for a refusal (nothing written), else
    after the commit of its outcome, with {"volume": {...}} or the failure
    (its message names the object and the reason).

    Borrowed: store, batch and loop outlive the scheduler.
*/
#ifndef XS_SCHED_H_INCLUDED
#define XS_SCHED_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <czmq.h>
#include <jansson.h>

#include "xs_agentsrv.h"
#include "xs_batch.h"
#include "xs_err.h"
#include "xs_reply.h"
#include "xs_store.h"

typedef struct {
    double default_ratio;       /* over-subscription when a backend has none; 0 -> 1.0 */
    double default_reserve;     /* percent kept free by default; 0..100               */
    int wait_ms;                /* how long a job waits for a live agent; 0 -> 30000   */
} xs_sched_cfg_t;

typedef struct {
    const char *flavor;         /* label, required   */
    int64_t size;               /* bytes, > 0        */
    const char *name;           /* may be NULL       */
    const char *request_id;     /* may be NULL       */
} xs_sched_create_t;

typedef struct _xs_sched_t xs_sched_t;

/* Starts the agent server with `agents` and joins `loop`. NULL with *err. */
xs_sched_t *xs_sched_new (const xs_sched_cfg_t *cfg, const xs_agentsrv_cfg_t *agents,
                          xs_store_t *store, xs_batch_t *batch, zloop_t *loop, xs_err_t *err);

/* Stops the agent server; callers still waiting get an error. NULLs *self_p. */
void xs_sched_destroy (xs_sched_t **self_p);

/* The agent server (borrowed), for host commands. */
xs_agentsrv_t *xs_sched_agents (xs_sched_t *self);

/* Loads every unfinished job of the journal and resumes it as soon as an
   agent of its zone is live. Returns the number resumed, or -1. */
int xs_sched_resume (xs_sched_t *self, xs_err_t *err);

/* Volume commands: take *reply_p and answer it (see the header comment). */
void xs_sched_volume_create (xs_sched_t *self, const xs_sched_create_t *req,
                             xs_reply_t **reply_p);
void xs_sched_volume_delete (xs_sched_t *self, const char *uuid, xs_reply_t **reply_p);
/* op is "snapshot" or "clone"; name may be NULL. */
void xs_sched_volume_copy (xs_sched_t *self, const char *op, const char *parent_uuid,
                           const char *name, xs_reply_t **reply_p);

/* Synchronous reads; new JSON the caller owns, or NULL with *err. */
json_t *xs_sched_volume_show (xs_sched_t *self, const char *uuid, xs_err_t *err);
json_t *xs_sched_volume_list (xs_sched_t *self, bool include_deleted, xs_err_t *err);
/* sr_uuid, sr_type, vdi_uuid and the keys to introduce the SR; secrets as
   ****** unless show_secrets. */
json_t *xs_sched_volume_connection (xs_sched_t *self, const char *uuid, bool show_secrets,
                                    xs_err_t *err);

/* Jobs in flight or waiting (for tests and `status`). */
size_t xs_sched_jobs_active (xs_sched_t *self);

#endif
