/*  xs_orphans: the orphan sweep (docs/DESIGN.md "Orphan VDIs").

    Every `interval_ms` the catalog asks one live agent per backend for the
    VDIs xensm tagged in that backend's SR (vdi_list). A tagged VDI is an
    orphan when no volume records it: its volume is unknown, is
    deleted, or records another VDI or none (a lost VDI.create
    reply's first attempt, D5; a lost clone/snapshot reply's copy still
    carrying its parent's tag, D6). A VDI whose volume is creating,
    deleting or extending, or that a job works on or copies from, is never
    one, nor is the VDI a volume records (unless the volume is deleted).
    Orphans are listed (`volume_orphans`) and, once seen for
    `grace_ms` in every listing since, destroyed through an agent
    (vdi_destroy naming the VDI: the agent checks again that it is still
    tagged so, in that SR), with one log line each. Untagged VDIs and SRs
    that are not a backend's are never looked at.

    Orphans are kept in memory: a restart sees them again at its first
    sweep and their grace starts over.

    Runs on the caller's zloop. Borrowed: store, agents, hosts, jobs.
*/
#ifndef XS_ORPHANS_H_INCLUDED
#define XS_ORPHANS_H_INCLUDED

#include <stdbool.h>
#include <czmq.h>
#include <jansson.h>

#include "xs_agentsrv.h"
#include "xs_hosts.h"
#include "xs_jobs.h"
#include "xs_store.h"

typedef struct {
    int interval_ms;            /* between sweeps; 0: never sweep          */
    int grace_ms;               /* an orphan's age before it is destroyed  */
} xs_orphans_cfg_t;

typedef struct _xs_orphans_t xs_orphans_t;

/* Never NULL; the first sweep runs one interval after. Caller destroys. */
xs_orphans_t *xs_orphans_new (const xs_orphans_cfg_t *cfg, xs_store_t *store, zloop_t *loop,
                              xs_agentsrv_t *agents, xs_hosts_t *hosts, xs_jobs_t *jobs);

/* NULLs *self_p; idempotent. */
void xs_orphans_destroy (xs_orphans_t **self_p);

/* Starts a sweep now (one vdi_list per backend that has a live agent). */
void xs_orphans_sweep (xs_orphans_t *self);

/* The result of a request whose id is not a job's (xs_jobs hands them
   here): true when it was one of the sweep's, now handled. */
bool xs_orphans_on_result (void *self, const char *request_id, const char *host_uuid,
                           const json_t *value, const xs_err_t *err);

/* {orphans: [{zone, backend_id, sr_uuid, vdi_uuid, volume_uuid,
   first_seen (epoch ms), why, destroying}], interval_ms, grace_ms,
   last_sweep (epoch ms, 0: none yet)}. New reference. */
json_t *xs_orphans_list (xs_orphans_t *self);

#endif
