/*  xs_jobs_int: what xs_jobs.c (jobs in memory, dispatch, placement and
    agent events) and xs_jobs_resume.c (resuming the journal at start)
    share. Private to those two files.
*/
#ifndef XS_JOBS_INT_H_INCLUDED
#define XS_JOBS_INT_H_INCLUDED

#include "xs_jobs.h"

/* One job being carried out (in memory; its row is in the journal). */
typedef struct {
    char *volume_uuid;          /* who the job is: the volume it works on     */
    xs_op_t op;
    int64_t job_id;             /* its current journal row; 0 before one      */
    char wire_id [48];          /* "j<job id>": the request id on the wire    */
    json_t *args;
    int64_t backend_id;
    char *zone;
    char *host_uuid;            /* where it was sent last; NULL while waiting */
    bool sent;
    int64_t wait_deadline;      /* while waiting for an agent                 */
    /* vdi_create: the flavor's backends are tried in id order, those after
       `after` are left (looked up one at a time, never all loaded) */
    int64_t flavor_id;
    int64_t size;
    int64_t after;
    json_t *waiting;            /* backend ids passed over for want of a
                                   live agent (xs_placement_next); NULL: none */
    int64_t place_until;        /* waiting for one of them until; 0: not yet */
    bool placing;               /* waiting for an agent to place it at all  */
    zlist_t *waiters;           /* xs_reply_t *: answered when the job ends   */
    char *prefer_host;          /* resumed: the host that had it, or NULL     */
    int64_t prefer_until;       /* ...until then (zclock_mono)                */
    int64_t started;            /* zclock_mono, for the latency metric        */
} xs_jobs_job_t;

struct _xs_jobs_t {
    xs_jobs_cfg_t cfg;
    xs_store_t *store;
    xs_batch_t *batch;
    zloop_t *loop;
    xs_agentsrv_t *agents;
    xs_hosts_t *hosts;
    xs_placement_t *placement;
    zhashx_t *jobs;             /* volume uuid -> xs_jobs_job_t * (owned)       */
    zhashx_t *by_wire;          /* wire id -> xs_jobs_job_t * (borrowed)        */
    int timer;
    xs_metrics_t *metrics;      /* borrowed; NULL: none                   */
    xs_jobs_other_fn *other;    /* results that are no job's              */
    void *other_arg;
};

/* A new job of volume_uuid; takes *args_p. */
xs_jobs_job_t *xs_jobs_job_new (xs_op_t op, const char *volume_uuid, json_t **args_p);

/* The job now runs as journal row `id`: its wire id follows. */
void xs_jobs_set_row (xs_jobs_t *self, xs_jobs_job_t *job, int64_t id);

/* Tracks job (taken) under its volume. */
void xs_jobs_track (xs_jobs_t *self, xs_jobs_job_t *job);

#endif
