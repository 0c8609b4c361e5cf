/*  xs_jobs: the job journal in memory. */
#include "xs_jobs_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"
#include "xs_volumes.h"

static void s_dispatch (xs_jobs_t *self, xs_jobs_job_t *job);
static void s_place_next (xs_jobs_t *self, xs_jobs_job_t *job);

/* =========================================================================
    Jobs in memory
   ========================================================================= */

static void
s_job_free (xs_jobs_job_t **job_p)
{
    if (!job_p || !*job_p)
        return;
    xs_jobs_job_t *job = *job_p;
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
xs_jobs_job_t *
xs_jobs_job_new (xs_op_t op, const char *volume_uuid, json_t **args_p)
{
    xs_jobs_job_t *job = xs_zalloc (sizeof *job);
    job->op = op;
    job->volume_uuid = xs_strdup (volume_uuid);
    job->args = *args_p;
    *args_p = NULL;
    job->waiters = xs_nn (zlist_new ());
    job->started = zclock_mono ();
    return job;
}

/* The job now runs as journal row `id`: its wire id follows. */
void
xs_jobs_set_row (xs_jobs_t *self, xs_jobs_job_t *job, int64_t id)
{
    if (job->wire_id [0])
        zhashx_delete (self->by_wire, job->wire_id);
    job->job_id = id;
    snprintf (job->wire_id, sizeof job->wire_id, "j%lld", (long long) id);
    zhashx_update (self->by_wire, job->wire_id, job);
}

/* Journals a new row for job (op, args, backend): DISPATCHED to
   job->host_uuid when it has one (the row is written once, not inserted
   then updated in the same commit), else PENDING. */
static int
s_job_insert (xs_jobs_t *self, xs_jobs_job_t *job, xs_err_t *err)
{
    char *args_text = xs_nn (json_dumps (job->args, JSON_COMPACT));
    xs_job_spec_t row = {.volume_uuid = job->volume_uuid, .op = xs_op_name (job->op),
                         .args = args_text,
                         .state = job->host_uuid ? XS_JOB_DISPATCHED : XS_JOB_PENDING,
                         .backend_id = job->backend_id, .host_uuid = job->host_uuid};
    int64_t id = xs_batch_open (self->batch, err) ? -1
               : xs_store_job_insert (self->store, &row, err);
    free (args_text);
    if (id < 0)
        return -1;
    xs_jobs_set_row (self, job, id);
    return 0;
}

/* Answers every waiter of job (after the commit) and forgets the job:
   with err, or else with `view` (the volume as this commit wrote it;
   borrowed) or, when NULL, the volume read back. */
static void
s_job_finish_view (xs_jobs_t *self, xs_jobs_job_t *job, const xs_err_t *err, const json_t *view)
{
    xs_metrics_job_done (self->metrics, job->op, !err,
                         (double) (zclock_mono () - job->started) / 1000.0);
    if (job->op == XS_OP_VDI_CREATE)
        xs_metrics_create_done (self->metrics, !err);
    xs_reply_t *reply;
    while ((reply = (xs_reply_t *) zlist_pop (job->waiters))) {
        xs_reply_after_commit (reply, self->batch);
        json_t *volume = err  ? NULL
                       : view ? json_deep_copy (view)
                              : xs_volume_view_by_uuid (self->store, job->volume_uuid, NULL);
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

static void
s_job_finish (xs_jobs_t *self, xs_jobs_job_t *job, const xs_err_t *err)
{
    s_job_finish_view (self, job, err, NULL);
}

/* Writes the job row's state, host, result and error. */
static void
s_job_store (xs_jobs_t *self, xs_jobs_job_t *job, xs_job_state_t state, const json_t *result,
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
    xs_jobs_job_t *job = (xs_jobs_job_t *) zhashx_lookup (self->by_wire, s->wire_id);
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
s_pick_host (xs_jobs_t *self, xs_jobs_job_t *job, bool *hold)
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
   after committing which host it goes to; waits when there is none. With
   `insert`, the job has no journal row yet: it is written here, once,
   with the host when there is one. 0, or -1 with *err when that row
   cannot be written (nothing is sent then). */
static int
s_dispatch_row (xs_jobs_t *self, xs_jobs_job_t *job, bool insert, xs_err_t *err)
{
    bool hold;
    const char *host = s_pick_host (self, job, &hold);
    if (hold && !insert)
        return 0;
    if (!host) {
        if (insert && s_job_insert (self, job, err))
            return -1;
        if (!job->wait_deadline)
            job->wait_deadline = zclock_mono () + self->cfg.wait_ms;
        free (job->host_uuid);
        job->host_uuid = NULL;
        job->sent = false;
        xs_debug ("job %s: no live agent in zone %s with backend %lld's SR; waiting",
                  job->wire_id, job->zone, (long long) job->backend_id);
        return 0;
    }
    job->wait_deadline = 0;
    char *chosen = xs_strdup (host);    /* host may be prefer_host, which goes now */
    free (job->host_uuid);
    job->host_uuid = chosen;
    free (job->prefer_host);
    job->prefer_host = NULL;
    job->sent = false;
    if (!insert)
        s_job_store (self, job, XS_JOB_DISPATCHED, NULL, NULL);
    else
    if (s_job_insert (self, job, err)) {
        free (job->host_uuid);
        job->host_uuid = NULL;
        return -1;
    }
    s_send_t *s = xs_zalloc (sizeof *s);
    s->self = self;
    snprintf (s->wire_id, sizeof s->wire_id, "%s", job->wire_id);
    s->host_uuid = xs_strdup (chosen);
    xs_batch_defer (self->batch, s_send_run, s);
    return 0;
}

/* Dispatches a job that has its journal row. */
static void
s_dispatch (xs_jobs_t *self, xs_jobs_job_t *job)
{
    s_dispatch_row (self, job, false, NULL);
}

/* The job failed for good (not a create, or a create with no backend left). */
static void s_job_failed (xs_jobs_t *self, xs_jobs_job_t *job, const xs_err_t *why);

/* Retries waiting jobs (an agent came up) and fails those waited too long. */
static void
s_retry_waiting (xs_jobs_t *self, bool expire)
{
    zlist_t *volumes = xs_nn (zlist_new ());
    zlist_autofree (volumes);
    int64_t now = zclock_mono ();
    for (xs_jobs_job_t *job = (xs_jobs_job_t *) zhashx_first (self->jobs); job;
         job = (xs_jobs_job_t *) zhashx_next (self->jobs))
        if (!job->host_uuid)
            zlist_append (volumes, job->volume_uuid);
    for (char *v = (char *) zlist_first (volumes); v; v = (char *) zlist_next (volumes)) {
        xs_jobs_job_t *job = (xs_jobs_job_t *) zhashx_lookup (self->jobs, v);
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
s_candidate (xs_jobs_t *self, xs_jobs_job_t *job, bool *wait)
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
s_place_next (xs_jobs_t *self, xs_jobs_job_t *job)
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
        if (s_dispatch_row (self, job, true, &err) == 0)
            return;
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
s_cleanup_create (xs_jobs_t *self, xs_jobs_job_t *job)
{
    json_t *args = xs_nn (json_pack ("{s:s, s:O}", "volume_uuid", job->volume_uuid,
                                     "sr_uuid", json_object_get (job->args, "sr_uuid")));
    char id [64];
    snprintf (id, sizeof id, "cleanup-%s", job->wire_id);
    xs_agentsrv_request (self->agents, job->host_uuid, id, XS_OP_VDI_DESTROY, &args, NULL);
}

static void
s_job_failed (xs_jobs_t *self, xs_jobs_job_t *job, const xs_err_t *why)
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

/* A VDI made by job (create, snapshot, clone): the volume is available.
   *view_p is the volume as written (for the replies: it is not read back),
   or NULL when the write failed. */
static int
s_made_vdi (xs_jobs_t *self, xs_jobs_job_t *job, const char *host_uuid, const json_t *value,
            json_t **view_p)
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
                            .state = XS_VOLUME_AVAILABLE, .updated_at = xs_store_now_ms ()};
    if (xs_store_volume_update (self->store, &upd, &e))
        xs_error ("volume %s: %s", v->uuid, e.msg);
    else {
        /* The row as written: the fields of upd, the rest as read. */
        free (v->vdi_uuid);
        v->vdi_uuid = xs_strdup (vdi);
        free (v->host_uuid);
        v->host_uuid = host_uuid ? xs_strdup (host_uuid) : NULL;
        free (v->error);
        v->error = NULL;
        v->backend_id = job->backend_id;
        v->state = XS_VOLUME_AVAILABLE;
        v->updated_at = upd.updated_at;
        *view_p = xs_volume_view (self->store, v, NULL);
    }
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
s_extended (xs_jobs_t *self, xs_jobs_job_t *job, const json_t *value)
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

/* A VDI made by job (create, snapshot, clone), recorded in one go
   (xs_store_vdi_made: one round trip on PostgreSQL): the job done, the
   volume available, a create's attempt. *view_p is the volume as written,
   for the replies. -1 when it could not be (nothing of it stored): the
   caller then records it step by step, as s_made_vdi does. */
static int
s_made_vdi_at_once (xs_jobs_t *self, xs_jobs_job_t *job, const char *host_uuid,
                    const json_t *value, json_t **view_p)
{
    const char *vdi = json_string_value (json_object_get (value, "vdi_uuid"));
    if (!vdi || (job->op != XS_OP_VDI_CREATE && job->op != XS_OP_VDI_SNAPSHOT
                 && job->op != XS_OP_VDI_CLONE))
        return -1;
    char *result = xs_nn (json_dumps (value, JSON_COMPACT));
    xs_vdi_made_spec_t made = {
        .job_id = job->job_id, .job_host = job->host_uuid, .result = result,
        .volume_uuid = job->volume_uuid, .backend_id = job->backend_id, .vdi_uuid = vdi,
        .host_uuid = host_uuid, .attempt = job->op == XS_OP_VDI_CREATE};
    xs_err_t e;
    xs_volume_t *v = xs_store_vdi_made (self->store, &made, &e);
    free (result);
    if (!v) {
        xs_warning ("job %s: %s; recording it step by step", job->wire_id, e.msg);
        return -1;
    }
    if (job->op == XS_OP_VDI_CREATE)
        xs_metrics_attempt (self->metrics, XS_ATTEMPT_OK, NULL);
    xs_info ("volume %s available: VDI %s on backend %lld", job->volume_uuid, vdi,
             (long long) job->backend_id);
    *view_p = xs_volume_view (self->store, v, NULL);
    xs_volume_destroy (&v);
    return 0;
}

static void
s_on_result (void *arg, const char *request_id, const char *host_uuid, const json_t *value,
             const xs_err_t *err)
{
    xs_jobs_t *self = (xs_jobs_t *) arg;
    xs_jobs_job_t *job = (xs_jobs_job_t *) zhashx_lookup (self->by_wire, request_id);
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
    json_t *view = NULL;
    if (s_made_vdi_at_once (self, job, host_uuid, value, &view) == 0) {
        s_job_finish_view (self, job, NULL, view);
        json_decref (view);
        return;
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
    if (s_made_vdi (self, job, host_uuid, value, &view))
        return;                 /* failed instead */
    s_job_finish_view (self, job, NULL, view);
    json_decref (view);
}

static void
s_on_lost (void *arg, const char *request_id, const char *host_uuid)
{
    xs_jobs_t *self = (xs_jobs_t *) arg;
    xs_jobs_job_t *job = (xs_jobs_job_t *) zhashx_lookup (self->by_wire, request_id);
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
void
xs_jobs_track (xs_jobs_t *self, xs_jobs_job_t *job)
{
    zhashx_update (self->jobs, job->volume_uuid, job);
}

xs_op_t
xs_jobs_running (xs_jobs_t *self, const char *volume_uuid)
{
    xs_jobs_job_t *job = (xs_jobs_job_t *) zhashx_lookup (self->jobs, volume_uuid);
    return job ? job->op : XS_OP_NONE;
}

void
xs_jobs_wait (xs_jobs_t *self, const char *volume_uuid, xs_reply_t **reply_p)
{
    xs_jobs_job_t *job = (xs_jobs_job_t *) zhashx_lookup (self->jobs, volume_uuid);
    assert (job);
    zlist_append (job->waiters, *reply_p);
    *reply_p = NULL;
}

void
xs_jobs_create (xs_jobs_t *self, const char *volume_uuid, int64_t flavor_id, int64_t size,
                json_t **args_p, xs_reply_t **reply_p)
{
    xs_jobs_job_t *job = xs_jobs_job_new (XS_OP_VDI_CREATE, volume_uuid, args_p);
    job->size = size;
    job->flavor_id = flavor_id;
    xs_jobs_track (self, job);
    xs_jobs_wait (self, volume_uuid, reply_p);
    s_place_next (self, job);
}

int
xs_jobs_start (xs_jobs_t *self, xs_op_t op, const char *volume_uuid,
               const xs_backend_t *backend, json_t **args_p, xs_reply_t **reply_p,
               xs_err_t *err)
{
    xs_jobs_job_t *job = xs_jobs_job_new (op, volume_uuid, args_p);
    job->backend_id = backend->id;
    job->zone = xs_strdup (backend->zone);
    if (s_dispatch_row (self, job, true, err)) {
        s_job_free (&job);
        return -1;
    }
    xs_jobs_track (self, job);
    xs_jobs_wait (self, volume_uuid, reply_p);
    return 0;
}

bool
xs_jobs_touches (xs_jobs_t *self, const char *volume_uuid)
{
    if (zhashx_lookup (self->jobs, volume_uuid))
        return true;
    for (xs_jobs_job_t *job = (xs_jobs_job_t *) zhashx_first (self->jobs); job;
         job = (xs_jobs_job_t *) zhashx_next (self->jobs)) {
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
    Construction
   ========================================================================= */

/* zhashx destructor: a job dropped at shutdown tells its clients why. */
static void
s_job_destructor (void **item_p)
{
    xs_jobs_job_t *job = (xs_jobs_job_t *) *item_p;
    if (job && job->waiters) {
        xs_err_t err;
        xs_err_set (&err, XS_EINTERNAL, "volume %s: the catalog is shutting down; the job "
                    "resumes at its next start", job->volume_uuid);
        xs_reply_t *reply;
        while ((reply = (xs_reply_t *) zlist_pop (job->waiters)))
            xs_reply_err (&reply, &err);
    }
    s_job_free ((xs_jobs_job_t **) item_p);
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
