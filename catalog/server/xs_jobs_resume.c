/*  xs_jobs_resume: the job journal read back at start (xs_jobs_resume):
    unfinished jobs run again, creates that never got a job are settled. */
#include "xs_jobs_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "xs_log.h"
#include "xs_mem.h"

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
        xs_jobs_job_t *job = xs_jobs_job_new (op, row->volume_uuid, &args);
        xs_jobs_set_row (self, job, row->id);
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
        xs_jobs_track (self, job);
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
   their request id may be asked again (it is retryable). Found with the
   store's own query over `creating` rows (an index of those alone), never
   a walk of every volume. 0 or -1 + err. */
static int
s_settle_unplaced (xs_jobs_t *self, xs_err_t *err)
{
    char after [64] = "";
    for (;;) {
        xs_volume_t **page = xs_store_volume_list_creating (self->store, after, 1000, err);
        if (!page)
            return -1;
        size_t n = 0;
        for (xs_volume_t **vp = page; *vp; vp++, n++) {
            const char *uuid = (*vp)->uuid;
            snprintf (after, sizeof after, "%s", uuid);
            if (zhashx_lookup (self->jobs, uuid) || xs_batch_open (self->batch, NULL) != 0)
                continue;
            xs_warning ("volume %s: the catalog stopped before it was placed; now in error "
                        "(its request id may be asked again)", uuid);
            xs_store_volume_set_state (self->store, uuid, XS_VOLUME_ERROR,
                                       "the catalog stopped before it was placed; "
                                       "ask again", NULL);
        }
        xs_volume_list_destroy (&page);
        if (n < 1000)
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
    if (s_settle_unplaced (self, err) != 0)
        return -1;
    return n;
}
