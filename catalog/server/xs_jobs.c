/*  xs_jobs: the job journal in memory. */
#include "xs_jobs.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"
#include "xs_volumes.h"

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
} s_job_t;

struct _xs_jobs_t {
    xs_jobs_cfg_t cfg;
    xs_store_t *store;
    xs_batch_t *batch;
    zloop_t *loop;
    xs_agentsrv_t *agents;
    xs_hosts_t *hosts;
    xs_placement_t *placement;
    zhashx_t *jobs;             /* volume uuid -> s_job_t * (owned)       */
    zhashx_t *by_wire;          /* wire id -> s_job_t * (borrowed)        */
    int timer;
    xs_metrics_t *metrics;      /* borrowed; NULL: none                   */
    xs_jobs_other_fn *other;    /* results that are no job's              */
    void *other_arg;
};

static void s_dispatch (xs_jobs_t *self, s_job_t *job);
static void s_place_next (xs_jobs_t *self, s_job_t *job);

/* =========================================================================
    Jobs in memory
   ========================================================================= */

static void
s_job_free (s_job_t **job_p)
{
    if (!job_p || !*job_p)
        return;
    s_job_t *job = *job_p;
    if (job->waiters) {
        xs_reply_t *reply;
        while ((reply = (xs_reply_t *) zlist_pop (job->waiters)))
            xs_reply_fail (&reply, XS_EINTERNAL, "volume %s: job dropped", job->volume_uuid);
        zlist_destroy (&job->waiters);
    }
    free (job->volume_uuid);
    json_decref (job->args);
    json_decref (job->waiting);
    free (job->zone);
    free (job->host_uuid);
    free (job->prefer_host);
    free (job);
    *job_p = NULL;
}

/* A new job of volume_uuid; takes *args_p. */
static s_job_t *
s_job_new (xs_op_t op, const char *volume_uuid, json_t **args_p)
{
    s_job_t *job = xs_zalloc (sizeof *job);
    job->op = op;
    job->volume_uuid = xs_strdup (volume_uuid);
    job->args = *args_p;
    *args_p = NULL;
    job->waiters = xs_nn (zlist_new ());
    job->started = zclock_mono ();
    return job;
}

/* The job now runs as journal row `id`: its wire id follows. */
static void
s_job_set_row (xs_jobs_t *self, s_job_t *job, int64_t id)
{
    if (job->wire_id [0])
        zhashx_delete (self->by_wire, job->wire_id);
    job->job_id = id;
    snprintf (job->wire_id, sizeof job->wire_id, "j%lld", (long long) id);
    zhashx_update (self->by_wire, job->wire_id, job);
}

/* Journals a new row for job (op, args, backend) as PENDING. */
static int
s_job_insert (xs_jobs_t *self, s_job_t *job, xs_err_t *err)
{
    char *args_text = xs_nn (json_dumps (job->args, JSON_COMPACT));
    xs_job_spec_t row = {.volume_uuid = job->volume_uuid, .op = xs_op_name (job->op),
                         .args = args_text, .state = XS_JOB_PENDING,
                         .backend_id = job->backend_id};
    int64_t id = xs_batch_open (self->batch, err) ? -1
               : xs_store_job_insert (self->store, &row, err);
    free (args_text);
    if (id < 0)
        return -1;
    s_job_set_row (self, job, id);
    return 0;
}

/* Answers every waiter of job (after the commit) and forgets the job. */
static void
s_job_finish (xs_jobs_t *self, s_job_t *job, const xs_err_t *err)
{
    xs_metrics_job_done (self->metrics, job->op, !err,
                         (double) (zclock_mono () - job->started) / 1000.0);
    if (job->op == XS_OP_VDI_CREATE)
        xs_metrics_create_done (self->metrics, !err);
    xs_reply_t *reply;
    while ((reply = (xs_reply_t *) zlist_pop (job->waiters))) {
        xs_reply_after_commit (reply, self->batch);
        json_t *volume = err ? NULL : xs_volume_view_by_uuid (self->store, job->volume_uuid, NULL);
        if (err)
            xs_reply_err (&reply, err);
        else
            xs_reply_ok (&reply, xs_nn (json_pack ("{s:o}", "volume",
                                                   volume ? volume : json_null ())));
    }
    if (job->wire_id [0]) {
        xs_agentsrv_cancel (self->agents, job->wire_id);
        zhashx_delete (self->by_wire, job->wire_id);
    }
    char volume [64];
    snprintf (volume, sizeof volume, "%s", job->volume_uuid);
    zhashx_delete (self->jobs, volume);     /* frees job */
}

/* Writes the job row's state, host, result and error. */
static void
s_job_store (xs_jobs_t *self, s_job_t *job, xs_job_state_t state, const json_t *result,
             const char *error)
{
    xs_err_t err;
    char *result_text = result ? xs_nn (json_dumps (result, JSON_COMPACT)) : NULL;
    xs_job_spec_t row = {
        .state = state, .backend_id = job->backend_id,
        .host_uuid = job->host_uuid, .result = result_text, .error = error,
    };
    if (xs_batch_open (self->batch, &err)
    ||  xs_store_job_update (self->store, job->job_id, &row, &err))
        xs_error ("job %lld: cannot record %s: %s", (long long) job->job_id,
                  xs_job_state_name (state), err.msg);
    free (result_text);
}

/* =========================================================================
    Dispatch
   ========================================================================= */

typedef struct {
    xs_jobs_t *self;
    char wire_id [48];
    char *host_uuid;
} s_send_t;

/* After the job row (with its host) is committed: send the request. */
static void
s_send_run (void *arg, bool committed)
{
    s_send_t *s = (s_send_t *) arg;
    xs_jobs_t *self = s->self;
    s_job_t *job = (s_job_t *) zhashx_lookup (self->by_wire, s->wire_id);
    if (job && job->host_uuid && streq (job->host_uuid, s->host_uuid) && !job->sent) {
        xs_err_t err;
        if (!committed) {
            xs_err_set (&err, XS_EIO, "volume %s: the catalog store failed; nothing was done",
                        job->volume_uuid);
            s_job_finish (self, job, &err);
        }
        else {
            json_t *args = json_incref (job->args);
            if (xs_agentsrv_request (self->agents, job->host_uuid, job->wire_id, job->op,
                                     &args, &err) == 0)
                job->sent = true;
            else {
                xs_warning ("job %s: %s; waiting for another agent", job->wire_id, err.msg);
                free (job->host_uuid);
                job->host_uuid = NULL;
                job->wait_deadline = zclock_mono () + self->cfg.wait_ms;
            }
        }
    }
    free (s->host_uuid);
    free (s);
}

/* The host a job may go to now, or NULL. A resumed job goes back to the
   host that had it, once that host has registered again: its call may
   still be running there, and the agent runs a volume's requests one
   after the other (the second finds the VDI the first made). Another host
   only after prefer_until; *hold is set while waiting for it. */
static const char *
s_pick_host (xs_jobs_t *self, s_job_t *job, bool *hold)
{
    *hold = false;
    if (job->prefer_host) {
        if (xs_hosts_can_run (self->hosts, job->prefer_host, job->backend_id))
            return job->prefer_host;
        if (zclock_mono () < job->prefer_until) {
            xs_debug ("job %s: waiting for host %s, which had it before the restart",
                      job->wire_id, job->prefer_host);
            *hold = true;
            return NULL;
        }
    }
    return xs_hosts_pick (self->hosts, job->zone, job->backend_id);
}

/* Sends the job to the least busy live agent of its zone that has the SR,
   after committing which host it goes to; waits when there is none. */
static void
s_dispatch (xs_jobs_t *self, s_job_t *job)
{
    bool hold;
    const char *host = s_pick_host (self, job, &hold);
    if (hold)
        return;
    if (!host) {
        if (!job->wait_deadline)
            job->wait_deadline = zclock_mono () + self->cfg.wait_ms;
        free (job->host_uuid);
        job->host_uuid = NULL;
        job->sent = false;
        xs_debug ("job %s: no live agent in zone %s with backend %lld's SR; waiting",
                  job->wire_id, job->zone, (long long) job->backend_id);
        return;
    }
    job->wait_deadline = 0;
    char *chosen = xs_strdup (host);    /* host may be prefer_host, which goes now */
    free (job->host_uuid);
    job->host_uuid = chosen;
    free (job->prefer_host);
    job->prefer_host = NULL;
    job->sent = false;
    s_job_store (self, job, XS_JOB_DISPATCHED, NULL, NULL);
    s_send_t *s = xs_zalloc (sizeof *s);
    s->self = self;
    snprintf (s->wire_id, sizeof s->wire_id, "%s", job->wire_id);
    s->host_uuid = xs_strdup (chosen);
    xs_batch_defer (self->batch, s_send_run, s);
}

/* The job failed for good (not a create, or a create with no backend left). */
static void s_job_failed (xs_jobs_t *self, s_job_t *job, const xs_err_t *why);

/* Retries waiting jobs (an agent came up) and fails those waited too long. */
static void
s_retry_waiting (xs_jobs_t *self, bool expire)
{
    zlist_t *volumes = xs_nn (zlist_new ());
    zlist_autofree (volumes);
    int64_t now = zclock_mono ();
    for (s_job_t *job = (s_job_t *) zhashx_first (self->jobs); job;
         job = (s_job_t *) zhashx_next (self->jobs))
        if (!job->host_uuid)
            zlist_append (volumes, job->volume_uuid);
    for (char *v = (char *) zlist_first (volumes); v; v = (char *) zlist_next (volumes)) {
        s_job_t *job = (s_job_t *) zhashx_lookup (self->jobs, v);
        if (!job || job->host_uuid)
            continue;
        if (job->placing)
            s_place_next (self, job);   /* places it, waits on, or gives up */
        else
        if (xs_hosts_pick (self->hosts, job->zone, job->backend_id))
            s_dispatch (self, job);
        else
        if (expire && job->wait_deadline && job->wait_deadline < now) {
            xs_err_t err;
            xs_err_set (&err, XS_ETRANSPORT, "no live agent in zone %s with the SR of backend "
                        "%lld for %d ms", job->zone, (long long) job->backend_id,
                        self->cfg.wait_ms);
            s_job_failed (self, job, &err);
        }
    }
    zlist_destroy (&volumes);
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    s_retry_waiting ((xs_jobs_t *) arg, true);
    return 0;
}

/* =========================================================================
    Creates: placement and fall-through
   ========================================================================= */

/* The next backend for a create: the flavor's next candidate, else one
   passed over for want of a live agent whose agent came since. While none
   has, the create waits (up to job_wait_ms) for agents to register: right
   after a restart or a takeover, before they have. NULL when it cannot
   wait longer; *wait set when it waits. */
static xs_backend_t *
s_candidate (xs_jobs_t *self, s_job_t *job, bool *wait)
{
    *wait = false;
    if (!job->waiting)
        job->waiting = xs_nn (json_array ());
    xs_backend_t *b = xs_placement_next (self->placement, job->volume_uuid, job->flavor_id,
                                         job->size, &job->after, job->waiting);
    if (b || json_array_size (job->waiting) == 0)
        return b;
    int64_t now = zclock_mono ();
    if (!job->place_until)
        job->place_until = now + self->cfg.wait_ms;
    bool give_up = now >= job->place_until;
    b = xs_placement_waited (self->placement, job->volume_uuid, job->size, job->waiting,
                             give_up);
    if (!b && !give_up && json_array_size (job->waiting) > 0) {
        if (!job->placing)
            xs_info ("volume %s: no live agent for %zu backend(s) of its flavor yet; "
                     "waiting up to %d ms for one", job->volume_uuid,
                     json_array_size (job->waiting), self->cfg.wait_ms);
        *wait = true;
    }
    return b;
}

static void
s_place_next (xs_jobs_t *self, s_job_t *job)
{
    xs_err_t err;
    bool wait;
    xs_backend_t *b = s_candidate (self, job, &wait);
    job->placing = wait;
    if (wait)
        return;
    if (b) {
        /* The candidate: this backend's SR, a new journal row, then send. */
        json_object_set_new (job->args, "sr_uuid", json_string (b->sr_uuid));
        free (job->zone);
        job->zone = xs_strdup (b->zone);
        job->backend_id = b->id;
        job->wait_deadline = 0;
        xs_backend_destroy (&b);
        if (s_job_insert (self, job, &err) == 0) {
            s_dispatch (self, job);
            return;
        }
        xs_error ("volume %s: cannot journal the create on backend %lld: %s",
                  job->volume_uuid, (long long) job->backend_id, err.msg);
    }
    char *attempts = xs_placement_attempts_text (self->placement, job->volume_uuid);
    xs_err_t why;
    xs_err_set (&why, XS_ECONFLICT, "volume %s: no backend could take it: %s",
                job->volume_uuid, attempts);
    free (attempts);
    if (xs_batch_open (self->batch, &err) == 0)
        xs_store_volume_set_state (self->store, job->volume_uuid, XS_VOLUME_ERROR, why.msg, NULL);
    xs_warning ("%s", why.msg);
    s_job_finish (self, job, &why);
}

/* A create that failed on a host that may still run it: remove what it
   makes there, best effort. */
static void
s_cleanup_create (xs_jobs_t *self, s_job_t *job)
{
    json_t *args = xs_nn (json_pack ("{s:s, s:O}", "volume_uuid", job->volume_uuid,
                                     "sr_uuid", json_object_get (job->args, "sr_uuid")));
    char id [64];
    snprintf (id, sizeof id, "cleanup-%s", job->wire_id);
    xs_agentsrv_request (self->agents, job->host_uuid, id, XS_OP_VDI_DESTROY, &args, NULL);
}

static void
s_job_failed (xs_jobs_t *self, s_job_t *job, const xs_err_t *why)
{
    xs_err_t err;
    s_job_store (self, job, XS_JOB_FAILED, NULL, why->msg);
    if (job->op == XS_OP_VDI_CREATE) {
        xs_placement_attempt (self->placement, job->volume_uuid, job->backend_id,
                              job->host_uuid, XS_ATTEMPT_FAILED, why->msg);
        if (why->kind == XS_ETRANSPORT && job->host_uuid)
            s_cleanup_create (self, job);
        free (job->host_uuid);
        job->host_uuid = NULL;
        job->sent = false;
        s_place_next (self, job);
        return;
    }
    xs_volume_state_t state = job->op == XS_OP_VDI_DESTROY ? XS_VOLUME_ERROR_DELETING
                            : job->op == XS_OP_VDI_RESIZE  ? XS_VOLUME_ERROR_EXTENDING
                                                           : XS_VOLUME_ERROR;
    if (xs_batch_open (self->batch, &err) == 0)
        xs_store_volume_set_state (self->store, job->volume_uuid, state, why->msg, NULL);
    xs_err_t out;
    xs_err_set (&out, why->kind, "volume %s: %s failed: %s", job->volume_uuid,
                xs_op_name (job->op), why->msg);
    s_job_finish (self, job, &out);
}

/* =========================================================================
    Agent events
   ========================================================================= */

/* A VDI made by job (create, snapshot, clone): the volume is available. */
static int
s_made_vdi (xs_jobs_t *self, s_job_t *job, const char *host_uuid, const json_t *value)
{
    xs_err_t e;
    const char *vdi = json_string_value (json_object_get (value, "vdi_uuid"));
    xs_volume_t *v = xs_store_volume_get (self->store, job->volume_uuid, &e);
    if (!v) {
        xs_error ("job %s: %s", job->wire_id, e.msg);
        return 0;
    }
    if (!vdi) {
        xs_volume_destroy (&v);
        xs_err_set (&e, XS_EINTERNAL, "agent %s answered %s without a vdi_uuid", host_uuid,
                    xs_op_name (job->op));
        s_job_failed (self, job, &e);
        return -1;
    }
    xs_volume_spec_t upd = {.uuid = v->uuid, .name = v->name, .vdi_uuid = vdi,
                            .host_uuid = host_uuid, .backend_id = job->backend_id,
                            .state = XS_VOLUME_AVAILABLE};
    if (xs_store_volume_update (self->store, &upd, &e))
        xs_error ("volume %s: %s", v->uuid, e.msg);
    xs_volume_destroy (&v);
    if (job->op == XS_OP_VDI_CREATE)
        xs_placement_attempt (self->placement, job->volume_uuid, job->backend_id, host_uuid,
                              XS_ATTEMPT_OK, NULL);
    xs_info ("volume %s available: VDI %s on backend %lld", job->volume_uuid, vdi,
             (long long) job->backend_id);
    return 0;
}

/* The VDI of job's volume grown (vdi_resize): the volume is available with
   the size the agent reports (the driver may round up), else the size
   asked. */
static void
s_extended (xs_jobs_t *self, s_job_t *job, const json_t *value)
{
    xs_err_t e;
    json_int_t size = json_integer_value (json_object_get (value, "virtual_size"));
    json_int_t asked = json_integer_value (json_object_get (job->args, "size"));
    if (size < asked)
        size = asked;
    if (xs_store_volume_set_size (self->store, job->volume_uuid, (int64_t) size,
                                  XS_VOLUME_AVAILABLE, NULL, &e))
        xs_error ("volume %s: %s", job->volume_uuid, e.msg);
    else
        xs_info ("volume %s extended to %lld bytes", job->volume_uuid, (long long) size);
}

static void
s_on_result (void *arg, const char *request_id, const char *host_uuid, const json_t *value,
             const xs_err_t *err)
{
    xs_jobs_t *self = (xs_jobs_t *) arg;
    s_job_t *job = (s_job_t *) zhashx_lookup (self->by_wire, request_id);
    if (!job) {
        if (!self->other || !self->other (self->other_arg, request_id, host_uuid, value, err))
            xs_debug ("result %s: no such job (cleanup or late); ignored", request_id);
        return;
    }
    if (err) {
        s_job_failed (self, job, err);
        return;
    }
    xs_err_t e;
    if (xs_batch_open (self->batch, &e)) {
        xs_error ("job %s: result not recorded: %s", job->wire_id, e.msg);
        return;                 /* stays in flight; a restart resends it */
    }
    s_job_store (self, job, XS_JOB_DONE, value, NULL);
    if (job->op == XS_OP_VDI_DESTROY) {
        xs_store_volume_set_state (self->store, job->volume_uuid, XS_VOLUME_DELETED, NULL, NULL);
        xs_info ("volume %s deleted", job->volume_uuid);
    }
    else
    if (job->op == XS_OP_VDI_RESIZE)
        s_extended (self, job, value);
    else
    if (s_made_vdi (self, job, host_uuid, value))
        return;                 /* failed instead */
    s_job_finish (self, job, NULL);
}

static void
s_on_lost (void *arg, const char *request_id, const char *host_uuid)
{
    xs_jobs_t *self = (xs_jobs_t *) arg;
    s_job_t *job = (s_job_t *) zhashx_lookup (self->by_wire, request_id);
    if (!job) {
        xs_err_t err;
        xs_err_set (&err, XS_ETRANSPORT, "host %s lost", host_uuid);
        if (self->other)
            self->other (self->other_arg, request_id, host_uuid, NULL, &err);
        return;
    }
    xs_notice ("job %s (%s of volume %s): host %s lost; sending it to another agent of zone %s",
               job->wire_id, xs_op_name (job->op), job->volume_uuid, host_uuid, job->zone);
    free (job->host_uuid);
    job->host_uuid = NULL;
    job->sent = false;
    job->wait_deadline = 0;
    s_dispatch (self, job);
}

static void
s_on_capacity (void *arg)
{
    s_retry_waiting ((xs_jobs_t *) arg, false);
}

/* =========================================================================
    Starting jobs
   ========================================================================= */

/* Tracks job (taken) under its volume. */
static void
s_track (xs_jobs_t *self, s_job_t *job)
{
    zhashx_update (self->jobs, job->volume_uuid, job);
}

xs_op_t
xs_jobs_running (xs_jobs_t *self, const char *volume_uuid)
{
    s_job_t *job = (s_job_t *) zhashx_lookup (self->jobs, volume_uuid);
    return job ? job->op : XS_OP_NONE;
}

void
xs_jobs_wait (xs_jobs_t *self, const char *volume_uuid, xs_reply_t **reply_p)
{
    s_job_t *job = (s_job_t *) zhashx_lookup (self->jobs, volume_uuid);
    assert (job);
    zlist_append (job->waiters, *reply_p);
    *reply_p = NULL;
}

void
xs_jobs_create (xs_jobs_t *self, const char *volume_uuid, int64_t flavor_id, int64_t size,
                json_t **args_p, xs_reply_t **reply_p)
{
    s_job_t *job = s_job_new (XS_OP_VDI_CREATE, volume_uuid, args_p);
    job->size = size;
    job->flavor_id = flavor_id;
    s_track (self, job);
    xs_jobs_wait (self, volume_uuid, reply_p);
    s_place_next (self, job);
}

int
xs_jobs_start (xs_jobs_t *self, xs_op_t op, const char *volume_uuid,
               const xs_backend_t *backend, json_t **args_p, xs_reply_t **reply_p,
               xs_err_t *err)
{
    s_job_t *job = s_job_new (op, volume_uuid, args_p);
    job->backend_id = backend->id;
    job->zone = xs_strdup (backend->zone);
    if (s_job_insert (self, job, err)) {
        s_job_free (&job);
        return -1;
    }
    s_track (self, job);
    xs_jobs_wait (self, volume_uuid, reply_p);
    s_dispatch (self, job);
    return 0;
}

bool
xs_jobs_touches (xs_jobs_t *self, const char *volume_uuid)
{
    if (zhashx_lookup (self->jobs, volume_uuid))
        return true;
    for (s_job_t *job = (s_job_t *) zhashx_first (self->jobs); job;
         job = (s_job_t *) zhashx_next (self->jobs)) {
        const char *source = json_string_value (json_object_get (job->args, "volume_uuid"));
        if (source && streq (source, volume_uuid))
            return true;
    }
    return false;
}

void
xs_jobs_set_other (xs_jobs_t *self, xs_jobs_other_fn *fn, void *arg)
{
    self->other = fn;
    self->other_arg = arg;
}

size_t
xs_jobs_active (xs_jobs_t *self)
{
    return zhashx_size (self->jobs);
}

/* =========================================================================
    Resume
   ========================================================================= */

/* Marks journal row `row` failed: it cannot run again. */
static void
s_resume_refused (xs_jobs_t *self, const xs_job_t *row, const xs_volume_t *v)
{
    xs_warning ("job %lld (%s): cannot be resumed (volume, backend or args gone); "
                "marked failed", (long long) row->id, row->op);
    xs_job_spec_t upd = {.state = XS_JOB_FAILED, .backend_id = row->backend_id,
                         .error = "could not be resumed after a restart"};
    if (xs_batch_open (self->batch, NULL) == 0)
        xs_store_job_update (self->store, row->id, &upd, NULL);
    if (v && (v->state == XS_VOLUME_CREATING || v->state == XS_VOLUME_EXTENDING)
    &&  xs_batch_open (self->batch, NULL) == 0)
        xs_store_volume_set_state (self->store, v->uuid,
                                   v->state == XS_VOLUME_EXTENDING ? XS_VOLUME_ERROR_EXTENDING
                                                                   : XS_VOLUME_ERROR,
                                   "its job could not be resumed after a restart", NULL);
}

/* Resumes journal row `row`. Returns 1 when it runs again, else 0. */
static int
s_resume_one (xs_jobs_t *self, const xs_job_t *row)
{
    xs_volume_t *v = row->volume_uuid ? xs_store_volume_get (self->store, row->volume_uuid, NULL)
                                      : NULL;
    json_t *args = row->args ? json_loads (row->args, 0, NULL) : NULL;
    xs_backend_t *b = row->backend_id ? xs_store_backend_get (self->store, row->backend_id, NULL)
                                      : NULL;
    xs_op_t op = xs_op_from_name (row->op);
    bool usable = v && json_is_object (args) && b && b->sr_uuid
               && (op == XS_OP_VDI_CREATE || op == XS_OP_VDI_DESTROY
                   || op == XS_OP_VDI_SNAPSHOT || op == XS_OP_VDI_CLONE
                   || op == XS_OP_VDI_RESIZE)
               && !zhashx_lookup (self->jobs, row->volume_uuid);
    if (usable) {
        s_job_t *job = s_job_new (op, row->volume_uuid, &args);
        s_job_set_row (self, job, row->id);
        job->backend_id = row->backend_id;
        job->zone = xs_strdup (b->zone);
        job->size = v->size_bytes;
        job->flavor_id = v->flavor_id;
        job->after = row->backend_id;   /* a create falls through to the next */
        /* Agents re-register within seconds; give them twice the wait. */
        job->wait_deadline = zclock_mono () + 2 * (int64_t) self->cfg.wait_ms;
        if (row->host_uuid) {
            /* Sent before: the agent first follows a call still running
               for it on any host (another host may get it after prefer_until). */
            if (op != XS_OP_VDI_DESTROY)
                json_object_set_new (job->args, "resumed", json_true ());
            job->prefer_host = xs_strdup (row->host_uuid);
            job->prefer_until = zclock_mono () + self->cfg.wait_ms / 3;
        }
        s_track (self, job);
        xs_notice ("resuming job %lld: %s of volume %s on backend %lld", (long long) row->id,
                   row->op, row->volume_uuid, (long long) row->backend_id);
    }
    else
        s_resume_refused (self, row, v);
    json_decref (args);
    xs_volume_destroy (&v);
    xs_backend_destroy (&b);
    return usable ? 1 : 0;
}

/* Volumes left `creating` with no job to resume: a create that was still
   waiting for a zone's agents (no backend chosen, nothing journaled) when
   the catalog stopped. Nobody would finish them: they go to error, and
   their request id may be asked again (it is retryable). 0 or -1 + err. */
static int
s_settle_unplaced (xs_jobs_t *self, bool snapshots, xs_err_t *err)
{
    /* Those set to error leave the selection; the rest are skipped. */
    xs_volume_page_spec_t spec = { .snapshots = snapshots, .state = "creating",
                                   .limit = 1000 };
    for (;;) {
        xs_volume_t **page = xs_store_volume_page (self->store, &spec, err);
        if (!page)
            return -1;
        size_t n = 0;
        for (xs_volume_t **vp = page; *vp && n < (size_t) spec.limit; vp++, n++) {
            const char *uuid = (*vp)->uuid;
            if (zhashx_lookup (self->jobs, uuid) || xs_batch_open (self->batch, NULL) != 0) {
                spec.offset++;
                continue;
            }
            xs_warning ("volume %s: the catalog stopped before it was placed; now in error "
                        "(its request id may be asked again)", uuid);
            if (xs_store_volume_set_state (self->store, uuid, XS_VOLUME_ERROR,
                                           "the catalog stopped before it was placed; "
                                           "ask again", NULL) != 0)
                spec.offset++;
        }
        bool more = n == (size_t) spec.limit && page [n];
        xs_volume_list_destroy (&page);
        if (!more)
            return 0;
    }
}

int
xs_jobs_resume (xs_jobs_t *self, xs_err_t *err)
{
    xs_job_t **jobs = xs_store_job_list_unfinished (self->store, err);
    if (!jobs)
        return -1;
    int n = 0;
    for (xs_job_t **jp = jobs; *jp; jp++)
        n += s_resume_one (self, *jp);
    xs_job_list_destroy (&jobs);
    if (s_settle_unplaced (self, false, err) != 0 || s_settle_unplaced (self, true, err) != 0)
        return -1;
    return n;
}

/* =========================================================================
    Construction
   ========================================================================= */

/* zhashx destructor: a job dropped at shutdown tells its clients why. */
static void
s_job_destructor (void **item_p)
{
    s_job_t *job = (s_job_t *) *item_p;
    if (job && job->waiters) {
        xs_err_t err;
        xs_err_set (&err, XS_EINTERNAL, "volume %s: the catalog is shutting down; the job "
                    "resumes at its next start", job->volume_uuid);
        xs_reply_t *reply;
        while ((reply = (xs_reply_t *) zlist_pop (job->waiters)))
            xs_reply_err (&reply, &err);
    }
    s_job_free ((s_job_t **) item_p);
}

xs_jobs_t *
xs_jobs_new (const xs_jobs_cfg_t *cfg, xs_store_t *store, xs_batch_t *batch, zloop_t *loop,
             xs_agentsrv_t *agents, xs_hosts_t *hosts, xs_placement_t *placement)
{
    xs_jobs_t *self = xs_zalloc (sizeof *self);
    self->cfg = *cfg;
    if (self->cfg.wait_ms <= 0)
        self->cfg.wait_ms = 30000;
    self->store = store;
    self->batch = batch;
    self->loop = loop;
    self->agents = agents;
    self->hosts = hosts;
    self->placement = placement;
    self->jobs = xs_nn (zhashx_new ());
    zhashx_set_destructor (self->jobs, s_job_destructor);
    self->by_wire = xs_nn (zhashx_new ());
    xs_agentsrv_events_t events = {s_on_result, s_on_lost, s_on_capacity, self};
    xs_agentsrv_set_events (agents, &events);
    self->timer = zloop_timer (loop, 250, 0, s_on_tick, self);
    return self;
}

void
xs_jobs_destroy (xs_jobs_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_jobs_t *self = *self_p;
    /* Actions this deferred (sends) point at it: they run first. */
    xs_batch_flush (self->batch);
    zloop_timer_end (self->loop, self->timer);
    xs_agentsrv_set_events (self->agents, NULL);
    zhashx_destroy (&self->by_wire);
    zhashx_destroy (&self->jobs);
    free (self);
    *self_p = NULL;
}

void
xs_jobs_set_metrics (xs_jobs_t *self, xs_metrics_t *metrics)
{
    self->metrics = metrics;
}
