/*  xs_jobs: the job journal in memory. A job is one host operation on one
    volume (vdi_create, vdi_destroy, vdi_snapshot, vdi_clone, vdi_resize) carried out
    by an agent, as docs/DESIGN.md "The catalog under faults" says:

      - its row is committed before work is sent, and its outcome is
        committed before the clients waiting for it are answered (group
        commit through xs_batch);
      - it goes to the least busy live agent of its zone that has the SR,
        or waits (wait_ms at most) for one; work on a host that goes down
        moves to another live agent of the zone;
      - a create falls through to the flavor's next backend (xs_placement)
        when one fails; with none left its volume goes to `error`, naming
        every attempt;
      - xs_jobs_resume () after a restart re-sends every unfinished job of
        the journal (VDI operations are idempotent by volume uuid).

    Identity: a volume has at most one job at a time, so a job is known by
    its volume's uuid from start to end. Each journal row of it (a create
    has one per backend tried) is sent under the request id "j<row id>";
    agent results come back under that id.

    Borrowed: store, batch, loop, agents, hosts and placement outlive the jobs.
    The jobs receive the agent server's events until destroyed.
*/
#ifndef XS_JOBS_H_INCLUDED
#define XS_JOBS_H_INCLUDED

#include <stdint.h>
#include <czmq.h>
#include <jansson.h>

#include "xs_agentsrv.h"
#include "xs_batch.h"
#include "xs_err.h"
#include "xs_hosts.h"
#include "xs_op.h"
#include "xs_metrics.h"
#include "xs_placement.h"
#include "xs_reply.h"
#include "xs_store.h"

typedef struct {
    int wait_ms;                /* how long a job waits for a live agent; <= 0 -> 30000 */
} xs_jobs_cfg_t;

typedef struct _xs_jobs_t xs_jobs_t;

/* New jobs on `loop`, taking the events of `agents`. Never NULL. */
xs_jobs_t *xs_jobs_new (const xs_jobs_cfg_t *cfg, xs_store_t *store, xs_batch_t *batch,
                        zloop_t *loop, xs_agentsrv_t *agents, xs_hosts_t *hosts,
                        xs_placement_t *placement);

/* Flushes the batch (actions deferred here point at the jobs), answers
   the clients still waiting (the jobs resume at the next start), stops
   taking agent events. NULLs *self_p; idempotent. */
void xs_jobs_destroy (xs_jobs_t **self_p);

/* Counts every job's end in `metrics` (borrowed; NULL: none). */
void xs_jobs_set_metrics (xs_jobs_t *self, xs_metrics_t *metrics);

/* Loads every unfinished job of the journal and resumes it as soon as an
   agent of its zone is live. Returns the number resumed, or -1. */
int xs_jobs_resume (xs_jobs_t *self, xs_err_t *err);

/* The operation of volume_uuid's job, or XS_OP_NONE when it has none. */
xs_op_t xs_jobs_running (xs_jobs_t *self, const char *volume_uuid);

/* Takes *reply_p: answered with the volume when volume_uuid's job (which
   must be running) ends. */
void xs_jobs_wait (xs_jobs_t *self, const char *volume_uuid, xs_reply_t **reply_p);

/* Places and runs the vdi_create of new volume volume_uuid (`size` bytes
   of flavor flavor_id) with *args_p (taken). Takes *reply_p. */
void xs_jobs_create (xs_jobs_t *self, const char *volume_uuid, int64_t flavor_id,
                     int64_t size, json_t **args_p, xs_reply_t **reply_p);

/* Journals `op` of volume_uuid on `backend` with *args_p (always taken)
   and runs it. Returns 0 having taken *reply_p, or -1 with *err (nothing
   journaled; *reply_p is still the caller's). */
int xs_jobs_start (xs_jobs_t *self, xs_op_t op, const char *volume_uuid,
                   const xs_backend_t *backend, json_t **args_p, xs_reply_t **reply_p,
                   xs_err_t *err);

/* Whether a job works on volume_uuid or copies from it (a snapshot or
   clone of it): its VDIs are not to be judged now (the orphan sweep). */
bool xs_jobs_touches (xs_jobs_t *self, const char *volume_uuid);

/* Where the results of requests that are no job's go (the orphan sweep's
   requests), and their losses (value NULL, err XS_ETRANSPORT "host ...
   lost"): fn returns true when it took one. NULL: ignored. */
typedef bool (xs_jobs_other_fn) (void *arg, const char *request_id, const char *host_uuid,
                                 const json_t *value, const xs_err_t *err);
void xs_jobs_set_other (xs_jobs_t *self, xs_jobs_other_fn *fn, void *arg);

/* Jobs in flight or waiting (for tests and `status`). */
size_t xs_jobs_active (xs_jobs_t *self);

#endif
