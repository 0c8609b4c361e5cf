/*  xs_sched: volumes, first-fit placement and the job journal. */
#include "xs_sched.h"

#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"

typedef struct {
    xs_sched_done_fn *fn;
    void *arg;
} s_waiter_t;

/* One job being carried out (in memory; its row is in the journal). */
typedef struct {
    int64_t job_id;
    char wire_id [48];          /* "j<job id>": the request id on the wire */
    char *op;                   /* vdi_create, vdi_destroy, vdi_snapshot, vdi_clone */
    char *volume_uuid;          /* the volume this job makes or removes */
    json_t *args;
    int64_t backend_id;
    char *zone;
    char *host_uuid;            /* where it was sent last; NULL while waiting */
    bool sent;
    int64_t wait_deadline;      /* while waiting for an agent */
    /* vdi_create: the flavor's backends are tried in id order, those
       after `after` are left (looked up one at a time, never all loaded) */
    int64_t flavor_id;
    int64_t size;
    int64_t after;
    zlist_t *waiters;           /* s_waiter_t * */
    char *prefer_host;          /* resumed: the host that had it, or NULL  */
    int64_t prefer_until;       /* ...until then (zclock_mono)             */
} s_job_t;

struct _xs_sched_t {
    xs_sched_cfg_t cfg;
    xs_store_t *store;
    xs_batch_t *batch;
    zloop_t *loop;
    xs_agentsrv_t *agents;
    zhashx_t *jobs;             /* wire id -> s_job_t *                 */
    zhashx_t *by_volume;        /* volume uuid -> s_job_t * (borrowed)  */
    int timer;
};

static void s_dispatch (xs_sched_t *self, s_job_t *job);
static void s_place_next (xs_sched_t *self, s_job_t *job);

/* =========================================================================
    Helpers
   ========================================================================= */

static bool
s_write (xs_sched_t *self, xs_err_t *err)
{
    return xs_batch_open (self->batch, err) == 0;
}

static json_t *
s_volume_json (xs_sched_t *self, const xs_volume_t *v, const char *flavor_label)
{
    xs_flavor_t *f = NULL;
    if (!flavor_label && v->flavor_id) {
        f = xs_store_flavor_get_by_id (self->store, v->flavor_id, NULL);
        flavor_label = f ? f->label : NULL;
    }
    json_t *j = xs_volume_json (v, flavor_label);
    xs_flavor_destroy (&f);
    return j;
}

static json_t *
s_volume_json_by_uuid (xs_sched_t *self, const char *uuid, xs_err_t *err)
{
    xs_volume_t *v = xs_store_volume_get (self->store, uuid, err);
    if (!v)
        return NULL;
    json_t *j = s_volume_json (self, v, NULL);
    xs_volume_destroy (&v);
    return j;
}

/* ---- answering callers after the commit ---- */

typedef struct {
    xs_sched_t *self;
    xs_sched_done_fn *fn;
    void *arg;
    json_t *reply;
    bool failed;
    xs_err_t err;
} s_answer_t;

static void
s_answer_run (void *arg, bool committed)
{
    s_answer_t *a = (s_answer_t *) arg;
    if (!committed && !a->failed) {
        a->failed = true;
        xs_err_set (&a->err, XS_EIO, "catalog store: the change could not be committed; "
                                     "nothing was done, try again");
    }
    a->fn (a->arg, a->failed ? NULL : a->reply, a->failed ? &a->err : NULL);
    if (a->failed)
        json_decref (a->reply);
    free (a);
}

/* Answers after the current commit. Takes *reply_p. err NULL = success. */
static void
s_answer (xs_sched_t *self, xs_sched_done_fn *fn, void *arg, json_t **reply_p,
          const xs_err_t *err)
{
    s_answer_t *a = xs_zalloc (sizeof *a);
    a->self = self;
    a->fn = fn;
    a->arg = arg;
    a->reply = reply_p ? *reply_p : NULL;
    if (reply_p)
        *reply_p = NULL;
    if (err) {
        a->failed = true;
        a->err = *err;
    }
    xs_batch_defer (self->batch, s_answer_run, a);
}

/* Answers at once (nothing was written). */
static void
s_answer_now (xs_sched_done_fn *fn, void *arg, json_t *reply, const xs_err_t *err)
{
    fn (arg, err ? NULL : reply, err);
    if (err)
        json_decref (reply);
}

/* ---- jobs in memory ---- */

static void
s_job_free (s_job_t **job_p)
{
    if (job_p && *job_p) {
        s_job_t *job = *job_p;
        free (job->op);
        free (job->volume_uuid);
        json_decref (job->args);
        free (job->zone);
        free (job->host_uuid);
        free (job->prefer_host);
        if (job->waiters) {
            s_waiter_t *w;
            while ((w = (s_waiter_t *) zlist_pop (job->waiters)))
                free (w);
            zlist_destroy (&job->waiters);
        }
        free (job);
        *job_p = NULL;
    }
}

static s_job_t *
s_job_new (int64_t job_id, const char *op, const char *volume_uuid, json_t *args)
{
    s_job_t *job = xs_zalloc (sizeof *job);
    job->job_id = job_id;
    snprintf (job->wire_id, sizeof job->wire_id, "j%lld", (long long) job_id);
    job->op = xs_strdup (op);
    job->volume_uuid = xs_strdup (volume_uuid);
    job->args = args;
    job->waiters = zlist_new ();
    return job;
}

static void
s_job_wait (s_job_t *job, xs_sched_done_fn *fn, void *arg)
{
    if (!fn)
        return;
    s_waiter_t *w = xs_zalloc (sizeof *w);
    w->fn = fn;
    w->arg = arg;
    zlist_append (job->waiters, w);
}

static void
s_track (xs_sched_t *self, s_job_t *job)
{
    zhashx_insert (self->jobs, job->wire_id, job);
    zhashx_update (self->by_volume, job->volume_uuid, job);
}

/* Answers every waiter of job (after the commit) and forgets the job. */
static void
s_job_finish (xs_sched_t *self, s_job_t *job, const xs_err_t *err)
{
    s_waiter_t *w;
    while ((w = (s_waiter_t *) zlist_pop (job->waiters))) {
        json_t *reply = err ? NULL : s_volume_json_by_uuid (self, job->volume_uuid, NULL);
        s_answer (self, w->fn, w->arg, &reply, err);
        free (w);
    }
    xs_agentsrv_cancel (self->agents, job->wire_id);
    if (zhashx_lookup (self->by_volume, job->volume_uuid) == job)
        zhashx_delete (self->by_volume, job->volume_uuid);
    char wire [48];
    snprintf (wire, sizeof wire, "%s", job->wire_id);
    zhashx_delete (self->jobs, wire);   /* frees job */
}

/* Writes the job row's state, host, result and error. */
static void
s_job_store (xs_sched_t *self, s_job_t *job, xs_job_state_t state, const json_t *result,
             const char *error)
{
    xs_err_t err;
    char *result_text = result ? json_dumps (result, JSON_COMPACT) : NULL;
    xs_job_spec_t row = {
        .state = state, .backend_id = job->backend_id,
        .host_uuid = job->host_uuid, .result = result_text, .error = error,
    };
    if (s_write (self, &err) == false || xs_store_job_update (self->store, job->job_id, &row, &err))
        xs_error ("job %lld: cannot record %s: %s", (long long) job->job_id,
                  xs_job_state_name (state), err.msg);
    free (result_text);
}

/* =========================================================================
    Dispatch
   ========================================================================= */

typedef struct {
    xs_sched_t *self;
    char wire_id [48];
    char *host_uuid;
} s_send_t;

/* After the job row (with its host) is committed: send the request. */
static void
s_send_run (void *arg, bool committed)
{
    s_send_t *s = (s_send_t *) arg;
    xs_sched_t *self = s->self;
    s_job_t *job = (s_job_t *) zhashx_lookup (self->jobs, s->wire_id);
    if (job && job->host_uuid && streq (job->host_uuid, s->host_uuid) && !job->sent) {
        if (!committed) {
            xs_err_t err;
            xs_err_set (&err, XS_EIO, "volume %s: the catalog store failed; nothing was done",
                        job->volume_uuid);
            s_job_finish (self, job, &err);
        }
        else {
            json_t *args = json_incref (job->args);
            xs_err_t err;
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

/* The job failed for good (not a create, or a create with no backend left). */
static void s_job_failed (xs_sched_t *self, s_job_t *job, const xs_err_t *why);

/* Sends the job to the least busy live agent of its zone that has the SR,
   after committing which host it goes to; waits when there is none. */
static void
s_dispatch (xs_sched_t *self, s_job_t *job)
{
    /* A resumed job goes back to the host that had it, once that host has
       registered again: its call may still be running there, and the agent
       runs a volume's requests one after the other (the second finds the
       VDI the first made). Another host only after prefer_until. */
    const char *host = NULL;
    if (job->prefer_host) {
        if (xs_agentsrv_can_run (self->agents, job->prefer_host, job->backend_id))
            host = job->prefer_host;
        else
        if (zclock_mono () < job->prefer_until) {
            xs_debug ("job %s: waiting for host %s, which had it before the restart",
                      job->wire_id, job->prefer_host);
            return;
        }
    }
    if (!host)
        host = xs_agentsrv_pick (self->agents, job->zone, job->backend_id);
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
    free (job->host_uuid);
    job->host_uuid = xs_strdup (host);
    host = job->host_uuid;      /* prefer_host goes now */
    free (job->prefer_host);
    job->prefer_host = NULL;
    job->sent = false;
    s_job_store (self, job, XS_JOB_DISPATCHED, NULL, NULL);
    s_send_t *s = xs_zalloc (sizeof *s);
    s->self = self;
    snprintf (s->wire_id, sizeof s->wire_id, "%s", job->wire_id);
    s->host_uuid = xs_strdup (host);
    xs_batch_defer (self->batch, s_send_run, s);
}

/* Retries waiting jobs (an agent came up) and fails those waited too long. */
static void
s_retry_waiting (xs_sched_t *self, bool expire)
{
    zlist_t *ids = zlist_new ();
    zlist_autofree (ids);
    int64_t now = zclock_mono ();
    for (s_job_t *job = (s_job_t *) zhashx_first (self->jobs); job;
         job = (s_job_t *) zhashx_next (self->jobs))
        if (!job->host_uuid)
            zlist_append (ids, job->wire_id);
    for (char *id = (char *) zlist_first (ids); id; id = (char *) zlist_next (ids)) {
        s_job_t *job = (s_job_t *) zhashx_lookup (self->jobs, id);
        if (!job || job->host_uuid)
            continue;
        if (xs_agentsrv_pick (self->agents, job->zone, job->backend_id))
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
    zlist_destroy (&ids);
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    s_retry_waiting ((xs_sched_t *) arg, true);
    return 0;
}

/* =========================================================================
    Placement
   ========================================================================= */

static void
s_attempt (xs_sched_t *self, const char *volume_uuid, int64_t backend_id, const char *host,
           xs_attempt_outcome_t outcome, const char *reason)
{
    xs_err_t err;
    xs_attempt_spec_t a = {.volume_uuid = volume_uuid, .backend_id = backend_id,
                           .host_uuid = host, .outcome = outcome, .reason = reason};
    if (!s_write (self, &err) || xs_store_attempt_insert (self->store, &a, &err) == -1)
        xs_error ("volume %s: cannot record attempt on backend %lld: %s", volume_uuid,
                  (long long) backend_id, err.msg);
    if (outcome != XS_ATTEMPT_OK)
        xs_info ("volume %s: backend %lld %s: %s", volume_uuid, (long long) backend_id,
                 xs_attempt_outcome_name (outcome), reason ? reason : "");
}

/* "backend 1 skipped: ...; backend 2 failed: ..." from the stored attempts. */
static char *
s_attempts_text (xs_sched_t *self, const char *volume_uuid)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&buf, &size);
    xs_attempt_t **list = xs_store_attempt_list_by_volume (self->store, volume_uuid, NULL);
    int n = 0;
    for (xs_attempt_t **a = list; a && *a; a++, n++)
        fprintf (f, "%sbackend %lld %s: %s", n ? "; " : "", (long long) (*a)->backend_id,
                 xs_attempt_outcome_name ((*a)->outcome), (*a)->reason ? (*a)->reason : "");
    if (n == 0) {
        xs_volume_t *v = xs_store_volume_get (self->store, volume_uuid, NULL);
        xs_flavor_t *flavor = v ? xs_store_flavor_get_by_id (self->store, v->flavor_id, NULL)
                                : NULL;
        fprintf (f, "flavor %s has no backends (add one with `xensm-manage sm backend_add`)",
                 flavor ? flavor->label : "?");
        xs_flavor_destroy (&flavor);
        xs_volume_destroy (&v);
    }
    xs_attempt_list_destroy (&list);
    fclose (f);
    return buf;
}

/* Why backend b cannot take `size` now, or NULL when it is a candidate. */
static char *
s_skip_reason (xs_sched_t *self, const xs_backend_t *b, int64_t size)
{
    char *why = NULL;
    if (b->state != XS_BACKEND_ATTACHED) {
        why = xs_sprintf ("not attached (state %s%s%s)", xs_backend_state_name (b->state),
                      b->error ? ": " : "", b->error ? b->error : "");
        return why;
    }
    if (xs_agentsrv_live_in_zone (self->agents, b->zone) == 0) {
        why = xs_sprintf ("no live agent in zone %s", b->zone);
        return why;
    }
    xs_agentsrv_sr_t sr;
    xs_agentsrv_sr_info (self->agents, b->id, &sr);
    if (sr.live_hosts == 0) {
        why = xs_sprintf ("no live agent of zone %s has its SR attached", b->zone);
        return why;
    }
    if (sr.has_stats) {
        double ratio = b->has_ratio ? b->ratio : self->cfg.default_ratio;
        double reserve = b->has_reserve ? b->reserve : self->cfg.default_reserve;
        double limit = (double) sr.physical_size * ratio * (1.0 - reserve / 100.0);
        if ((double) sr.virtual_allocation + (double) size > limit) {
            why = xs_sprintf ("no space: %lld bytes allocated + %lld requested > %.0f "
                          "(size %lld x ratio %g x (1 - reserve %g%%))",
                          (long long) sr.virtual_allocation, (long long) size, limit,
                          (long long) sr.physical_size, ratio, reserve);
            return why;
        }
    }
    return NULL;
}

/* Tries the next candidate backend of a create; records skipped ones; with
   none left, the volume goes to error. */
static void
s_place_next (xs_sched_t *self, s_job_t *job)
{
    xs_err_t err;
    while (true) {
        int64_t backend_id = xs_store_backend_next_of_flavor (self->store, job->flavor_id,
                                                              job->after, &err);
        if (backend_id < 0) {
            xs_error ("volume %s: cannot walk the backends of its flavor: %s",
                      job->volume_uuid, err.msg);
            break;
        }
        if (backend_id == 0)
            break;
        job->after = backend_id;
        xs_backend_t *b = xs_store_backend_get (self->store, backend_id, &err);
        if (!b)
            continue;           /* removed meanwhile */
        char *why = s_skip_reason (self, b, job->size);
        if (why) {
            s_attempt (self, job->volume_uuid, backend_id, NULL, XS_ATTEMPT_SKIPPED, why);
            free (why);
            xs_backend_destroy (&b);
            continue;
        }
        /* The candidate: this backend's SR, a new job row, then send. */
        json_object_set_new (job->args, "sr_uuid", json_string (b->sr_uuid));
        free (job->zone);
        job->zone = xs_strdup (b->zone);
        job->backend_id = backend_id;
        job->wait_deadline = 0;
        xs_backend_destroy (&b);
        char *args_text = json_dumps (job->args, JSON_COMPACT);
        xs_job_spec_t row = {.volume_uuid = job->volume_uuid, .op = job->op, .args = args_text,
                             .state = XS_JOB_PENDING, .backend_id = backend_id};
        int64_t id = s_write (self, &err) ? xs_store_job_insert (self->store, &row, &err) : -1;
        free (args_text);
        if (id < 0) {
            xs_error ("volume %s: cannot journal the create on backend %lld: %s",
                      job->volume_uuid, (long long) backend_id, err.msg);
            break;
        }
        /* Re-key the job under its new row. */
        char old_wire [48];
        snprintf (old_wire, sizeof old_wire, "%s", job->wire_id);
        job->job_id = id;
        snprintf (job->wire_id, sizeof job->wire_id, "j%lld", (long long) id);
        zhashx_rename (self->jobs, old_wire, job->wire_id);
        s_dispatch (self, job);
        return;
    }
    /* No candidate left. */
    char *attempts = s_attempts_text (self, job->volume_uuid);
    xs_err_t why;
    xs_err_set (&why, XS_ECONFLICT, "volume %s: no backend could take it: %s",
                job->volume_uuid, attempts);
    free (attempts);
    if (s_write (self, &err))
        xs_store_volume_set_state (self->store, job->volume_uuid, XS_VOLUME_ERROR, why.msg, NULL);
    xs_warning ("%s", why.msg);
    s_job_finish (self, job, &why);
}

static void
s_job_failed (xs_sched_t *self, s_job_t *job, const xs_err_t *why)
{
    xs_err_t err;
    s_job_store (self, job, XS_JOB_FAILED, NULL, why->msg);
    if (streq (job->op, "vdi_create")) {
        s_attempt (self, job->volume_uuid, job->backend_id, job->host_uuid, XS_ATTEMPT_FAILED,
                   why->msg);
        if (why->kind == XS_ETRANSPORT && job->host_uuid) {
            /* It may still run there: remove what it makes, best effort. */
            json_t *args = json_pack ("{s:s, s:O}", "volume_uuid", job->volume_uuid,
                                      "sr_uuid", json_object_get (job->args, "sr_uuid"));
            char id [64];
            snprintf (id, sizeof id, "cleanup-%s", job->wire_id);
            xs_agentsrv_request (self->agents, job->host_uuid, id, "vdi_destroy", &args, NULL);
        }
        free (job->host_uuid);
        job->host_uuid = NULL;
        job->sent = false;
        s_place_next (self, job);
        return;
    }
    if (s_write (self, &err)) {
        if (streq (job->op, "vdi_destroy"))
            xs_store_volume_set_state (self->store, job->volume_uuid, XS_VOLUME_ERROR_DELETING,
                                       why->msg, NULL);
        else
            xs_store_volume_set_state (self->store, job->volume_uuid, XS_VOLUME_ERROR,
                                       why->msg, NULL);
    }
    xs_err_t out;
    xs_err_set (&out, why->kind, "volume %s: %s failed: %s", job->volume_uuid, job->op, why->msg);
    s_job_finish (self, job, &out);
}

/* =========================================================================
    Agent events
   ========================================================================= */

static void
s_on_result (void *arg, const char *request_id, const char *host_uuid, const json_t *value,
             const xs_err_t *err)
{
    xs_sched_t *self = (xs_sched_t *) arg;
    s_job_t *job = (s_job_t *) zhashx_lookup (self->jobs, request_id);
    if (!job) {
        xs_debug ("result %s: no such job (cleanup or late); ignored", request_id);
        return;
    }
    if (err) {
        s_job_failed (self, job, err);
        return;
    }
    xs_err_t e;
    if (!s_write (self, &e)) {
        xs_error ("job %s: result not recorded: %s", job->wire_id, e.msg);
        return;                 /* stays in flight; a restart resends it */
    }
    s_job_store (self, job, XS_JOB_DONE, value, NULL);
    if (streq (job->op, "vdi_destroy")) {
        xs_store_volume_set_state (self->store, job->volume_uuid, XS_VOLUME_DELETED, NULL, NULL);
        xs_info ("volume %s deleted", job->volume_uuid);
    }
    else {
        const char *vdi = json_string_value (json_object_get (value, "vdi_uuid"));
        xs_volume_t *v = xs_store_volume_get (self->store, job->volume_uuid, &e);
        if (!v) {
            xs_error ("job %s: %s", job->wire_id, e.msg);
        }
        else
        if (!vdi) {
            xs_volume_destroy (&v);
            xs_err_set (&e, XS_EINTERNAL, "agent %s answered %s without a vdi_uuid", host_uuid,
                        job->op);
            s_job_failed (self, job, &e);
            return;
        }
        else {
            xs_volume_spec_t upd = {.uuid = v->uuid, .name = v->name, .vdi_uuid = vdi,
                                    .host_uuid = host_uuid, .backend_id = job->backend_id,
                                    .state = XS_VOLUME_AVAILABLE};
            if (xs_store_volume_update (self->store, &upd, &e))
                xs_error ("volume %s: %s", v->uuid, e.msg);
            xs_volume_destroy (&v);
            if (streq (job->op, "vdi_create"))
                s_attempt (self, job->volume_uuid, job->backend_id, host_uuid, XS_ATTEMPT_OK, NULL);
            xs_info ("volume %s available: VDI %s on backend %lld", job->volume_uuid, vdi,
                     (long long) job->backend_id);
        }
    }
    s_job_finish (self, job, NULL);
}

static void
s_on_lost (void *arg, const char *request_id, const char *host_uuid)
{
    xs_sched_t *self = (xs_sched_t *) arg;
    s_job_t *job = (s_job_t *) zhashx_lookup (self->jobs, request_id);
    if (!job)
        return;
    xs_notice ("job %s (%s of volume %s): host %s lost; sending it to another agent of zone %s",
               job->wire_id, job->op, job->volume_uuid, host_uuid, job->zone);
    free (job->host_uuid);
    job->host_uuid = NULL;
    job->sent = false;
    job->wait_deadline = 0;
    s_dispatch (self, job);
}

static void
s_on_capacity (void *arg)
{
    s_retry_waiting ((xs_sched_t *) arg, false);
}

/* =========================================================================
    Construction
   ========================================================================= */

static void
s_job_destructor (void **item_p)
{
    s_job_t *job = (s_job_t *) *item_p;
    if (job && job->waiters) {
        xs_err_t err;
        xs_err_set (&err, XS_EINTERNAL, "volume %s: the catalog is shutting down; the job "
                    "resumes at its next start", job->volume_uuid);
        s_waiter_t *w;
        while ((w = (s_waiter_t *) zlist_pop (job->waiters))) {
            w->fn (w->arg, NULL, &err);
            free (w);
        }
    }
    s_job_free ((s_job_t **) item_p);
}

xs_sched_t *
xs_sched_new (const xs_sched_cfg_t *cfg, const xs_agentsrv_cfg_t *agents, xs_store_t *store,
              xs_batch_t *batch, zloop_t *loop, xs_err_t *err)
{
    xs_sched_t *self = xs_zalloc (sizeof *self);
    self->cfg = *cfg;
    if (self->cfg.default_ratio <= 0)
        self->cfg.default_ratio = 1.0;
    if (self->cfg.default_reserve < 0 || self->cfg.default_reserve > 100)
        self->cfg.default_reserve = 0;
    if (self->cfg.wait_ms <= 0)
        self->cfg.wait_ms = 30000;
    self->store = store;
    self->batch = batch;
    self->loop = loop;
    self->jobs = zhashx_new ();
    zhashx_set_destructor (self->jobs, s_job_destructor);
    self->by_volume = zhashx_new ();
    xs_agentsrv_events_t events = {s_on_result, s_on_lost, s_on_capacity, self};
    self->agents = xs_agentsrv_new (agents, store, batch, loop, &events, err);
    if (!self->agents) {
        xs_sched_destroy (&self);
        return NULL;
    }
    self->timer = zloop_timer (loop, 250, 0, s_on_tick, self);
    return self;
}

void
xs_sched_destroy (xs_sched_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_sched_t *self = *self_p;
    if (self->loop && self->agents)
        zloop_timer_end (self->loop, self->timer);
    zhashx_destroy (&self->by_volume);
    zhashx_destroy (&self->jobs);
    xs_agentsrv_destroy (&self->agents);
    free (self);
    *self_p = NULL;
}

xs_agentsrv_t *
xs_sched_agents (xs_sched_t *self)
{
    return self->agents;
}

size_t
xs_sched_jobs_active (xs_sched_t *self)
{
    return zhashx_size (self->jobs);
}

int
xs_sched_resume (xs_sched_t *self, xs_err_t *err)
{
    xs_job_t **jobs = xs_store_job_list_unfinished (self->store, err);
    if (!jobs)
        return -1;
    int n = 0;
    for (xs_job_t **jp = jobs; *jp; jp++) {
        xs_job_t *row = *jp;
        xs_volume_t *v = row->volume_uuid ? xs_store_volume_get (self->store, row->volume_uuid, NULL)
                                          : NULL;
        json_t *args = row->args ? json_loads (row->args, 0, NULL) : NULL;
        xs_backend_t *b = row->backend_id ? xs_store_backend_get (self->store, row->backend_id, NULL)
                                          : NULL;
        bool usable = v && json_is_object (args) && b && b->sr_uuid
                   && (streq (row->op, "vdi_create") || streq (row->op, "vdi_destroy")
                       || streq (row->op, "vdi_snapshot") || streq (row->op, "vdi_clone"))
                   && !zhashx_lookup (self->by_volume, row->volume_uuid);
        if (!usable) {
            xs_warning ("job %lld (%s): cannot be resumed (volume, backend or args gone); "
                        "marked failed", (long long) row->id, row->op);
            xs_job_spec_t upd = {.state = XS_JOB_FAILED, .backend_id = row->backend_id,
                                 .error = "could not be resumed after a restart"};
            if (s_write (self, NULL))
                xs_store_job_update (self->store, row->id, &upd, NULL);
            if (v && (v->state == XS_VOLUME_CREATING) && s_write (self, NULL))
                xs_store_volume_set_state (self->store, v->uuid, XS_VOLUME_ERROR,
                                           "its job could not be resumed after a restart", NULL);
            json_decref (args);
        }
        else {
            s_job_t *job = s_job_new (row->id, row->op, row->volume_uuid, args);
            job->backend_id = row->backend_id;
            job->zone = xs_strdup (b->zone);
            job->size = v->size_bytes;
            job->flavor_id = v->flavor_id;
            job->after = row->backend_id;   /* a create falls through to the next */
            /* Agents re-register within seconds; give them twice the wait. */
            job->wait_deadline = zclock_mono () + 2 * (int64_t) self->cfg.wait_ms;
            if (row->host_uuid) {
                job->prefer_host = xs_strdup (row->host_uuid);
                job->prefer_until = zclock_mono () + self->cfg.wait_ms / 3;
            }
            s_track (self, job);
            n++;
            xs_notice ("resuming job %lld: %s of volume %s on backend %lld", (long long) row->id,
                       row->op, row->volume_uuid, (long long) row->backend_id);
        }
        xs_volume_destroy (&v);
        xs_backend_destroy (&b);
    }
    xs_job_list_destroy (&jobs);
    return n;
}

/* =========================================================================
    Volume commands
   ========================================================================= */

void
xs_sched_volume_create (xs_sched_t *self, const xs_sched_create_t *req,
                        xs_sched_done_fn *done, void *arg)
{
    xs_err_t err;
    xs_flavor_t *flavor = NULL;
    s_job_t *job = NULL;
    char uuid [37];

    if (!req->flavor || !*req->flavor) {
        xs_err_set (&err, XS_EINVAL, "volume create: --flavor is required");
        goto fail;
    }
    if (req->size <= 0) {
        xs_err_set (&err, XS_EINVAL, "volume create: size must be more than 0 bytes");
        goto fail;
    }
    if (req->request_id && *req->request_id) {
        xs_volume_t *v = xs_store_volume_get_by_request_id (self->store, req->request_id, &err);
        if (v) {
            /* Same request again: the same volume, once it is settled. The
               same id for a different request is a client bug: refuse it. */
            xs_flavor_t *was = xs_store_flavor_get_by_id (self->store, v->flavor_id, NULL);
            if (v->size_bytes != req->size || !was || !streq (was->label, req->flavor)) {
                xs_err_set (&err, XS_ECONFLICT, "request id %s already made volume %s "
                            "(flavor %s, %lld bytes); a different request needs a new id",
                            req->request_id, v->uuid, was ? was->label : "?",
                            (long long) v->size_bytes);
                xs_flavor_destroy (&was);
                xs_volume_destroy (&v);
                goto fail;
            }
            xs_flavor_destroy (&was);
            s_job_t *running = (s_job_t *) zhashx_lookup (self->by_volume, v->uuid);
            if (running)
                s_job_wait (running, done, arg);
            else
                s_answer_now (done, arg, s_volume_json (self, v, NULL), NULL);
            xs_volume_destroy (&v);
            return;
        }
        if (err.kind != XS_ENOTFOUND)
            goto fail;
    }
    flavor = xs_store_flavor_get (self->store, req->flavor, &err);
    if (!flavor)
        goto fail;
    if (!s_write (self, &err))
        goto fail;

    zuuid_t *u = zuuid_new ();
    snprintf (uuid, sizeof uuid, "%s", zuuid_str_canonical (u));
    zuuid_destroy (&u);
    xs_volume_spec_t vol = {.uuid = uuid, .name = req->name, .size_bytes = req->size,
                            .flavor_id = flavor->id, .state = XS_VOLUME_CREATING,
                            .request_id = req->request_id && *req->request_id
                                          ? req->request_id : NULL};
    if (xs_store_volume_insert (self->store, &vol, &err))
        goto fail;
    json_t *args = json_pack ("{s:s, s:I}", "volume_uuid", uuid, "size", (json_int_t) req->size);
    if (req->name)
        json_object_set_new (args, "name", json_string (req->name));
    job = s_job_new (0, "vdi_create", uuid, args);
    snprintf (job->wire_id, sizeof job->wire_id, "new-%s", uuid);
    job->size = req->size;
    job->flavor_id = flavor->id;
    s_job_wait (job, done, arg);
    s_track (self, job);
    xs_info ("volume %s: create %lld bytes of flavor %s", uuid, (long long) req->size,
             flavor->label);
    xs_flavor_destroy (&flavor);
    s_place_next (self, job);
    return;

fail:
    xs_flavor_destroy (&flavor);
    s_job_free (&job);
    s_answer_now (done, arg, NULL, &err);
}

void
xs_sched_volume_delete (xs_sched_t *self, const char *uuid, xs_sched_done_fn *done, void *arg)
{
    xs_err_t err;
    xs_volume_t *v = uuid ? xs_store_volume_get (self->store, uuid, &err) : NULL;
    xs_backend_t *b = NULL;
    if (!v) {
        if (!uuid)
            xs_err_set (&err, XS_EINVAL, "volume delete: a volume uuid is required");
        goto fail;
    }
    s_job_t *running = (s_job_t *) zhashx_lookup (self->by_volume, v->uuid);
    if (running) {
        if (streq (running->op, "vdi_destroy")) {
            s_job_wait (running, done, arg);        /* already being deleted */
            goto out;
        }
        xs_err_set (&err, XS_ECONFLICT, "volume %s: still %s; delete it when it is settled",
                    v->uuid, xs_volume_state_name (v->state));
        goto fail;
    }
    if (v->state == XS_VOLUME_DELETED) {
        s_answer_now (done, arg, s_volume_json (self, v, NULL), NULL);
        goto out;
    }
    if (!s_write (self, &err))
        goto fail;
    if (!v->backend_id || !(b = xs_store_backend_get (self->store, v->backend_id, NULL))
    ||  !b->sr_uuid) {
        /* Never placed: nothing on any SR. */
        if (xs_store_volume_set_state (self->store, v->uuid, XS_VOLUME_DELETED, NULL, &err))
            goto fail;
        json_t *reply = s_volume_json_by_uuid (self, v->uuid, NULL);
        s_answer (self, done, arg, &reply, NULL);
        goto out;
    }
    if (xs_store_volume_set_state (self->store, v->uuid, XS_VOLUME_DELETING, NULL, &err))
        goto fail;
    json_t *args = json_pack ("{s:s, s:s}", "volume_uuid", v->uuid, "sr_uuid", b->sr_uuid);
    char *args_text = json_dumps (args, JSON_COMPACT);
    xs_job_spec_t row = {.volume_uuid = v->uuid, .op = "vdi_destroy", .args = args_text,
                         .state = XS_JOB_PENDING, .backend_id = b->id};
    int64_t id = xs_store_job_insert (self->store, &row, &err);
    free (args_text);
    if (id < 0) {
        json_decref (args);
        goto fail;
    }
    s_job_t *job = s_job_new (id, "vdi_destroy", v->uuid, args);
    job->backend_id = b->id;
    job->zone = xs_strdup (b->zone);
    s_job_wait (job, done, arg);
    s_track (self, job);
    s_dispatch (self, job);
    goto out;

fail:
    s_answer_now (done, arg, NULL, &err);
out:
    xs_volume_destroy (&v);
    xs_backend_destroy (&b);
}

static bool
s_has_capability (const json_t *caps, const char *cap)
{
    size_t i;
    json_t *c;
    json_array_foreach (caps, i, c)
        if (json_is_string (c) && streq (json_string_value (c), cap))
            return true;
    return false;
}

void
xs_sched_volume_copy (xs_sched_t *self, const char *op, const char *parent_uuid,
                      const char *name, xs_sched_done_fn *done, void *arg)
{
    xs_err_t err;
    xs_volume_t *p = NULL;
    xs_backend_t *b = NULL;
    bool snapshot = op && streq (op, "snapshot");
    if (!op || (!snapshot && !streq (op, "clone"))) {
        xs_err_set (&err, XS_EINVAL, "volume copy: op must be snapshot or clone");
        goto fail;
    }
    p = parent_uuid ? xs_store_volume_get (self->store, parent_uuid, &err) : NULL;
    if (!p) {
        if (!parent_uuid)
            xs_err_set (&err, XS_EINVAL, "volume %s: a volume uuid is required", op);
        goto fail;
    }
    if (p->state != XS_VOLUME_AVAILABLE) {
        xs_err_set (&err, XS_ECONFLICT, "volume %s: is %s, only an available volume can be %s",
                    p->uuid, xs_volume_state_name (p->state), snapshot ? "snapshotted" : "cloned");
        goto fail;
    }
    b = xs_store_backend_get (self->store, p->backend_id, &err);
    if (!b)
        goto fail;
    const char *cap = snapshot ? "VDI_SNAPSHOT" : "VDI_CLONE";
    xs_agentsrv_sr_t sr;
    xs_agentsrv_sr_info (self->agents, b->id, &sr);
    if (sr.capabilities && !s_has_capability (sr.capabilities, cap)) {
        xs_err_set (&err, XS_EINVAL, "volume %s: backend %lld (SR type %s) cannot %s: its SR "
                    "lacks the %s capability", p->uuid, (long long) b->id, b->sr_type, op, cap);
        goto fail;
    }
    if (!s_write (self, &err))
        goto fail;
    char uuid [37];
    zuuid_t *u = zuuid_new ();
    snprintf (uuid, sizeof uuid, "%s", zuuid_str_canonical (u));
    zuuid_destroy (&u);
    xs_volume_spec_t vol = {.uuid = uuid, .name = name, .size_bytes = p->size_bytes,
                            .flavor_id = p->flavor_id, .backend_id = b->id,
                            .state = XS_VOLUME_CREATING, .parent_uuid = p->uuid};
    if (xs_store_volume_insert (self->store, &vol, &err))
        goto fail;
    const char *wire_op = snapshot ? "vdi_snapshot" : "vdi_clone";
    json_t *args = json_pack ("{s:s, s:s, s:s}", "sr_uuid", b->sr_uuid, "volume_uuid", p->uuid,
                              "new_volume_uuid", uuid);
    if (name)
        json_object_set_new (args, "name", json_string (name));
    char *args_text = json_dumps (args, JSON_COMPACT);
    xs_job_spec_t row = {.volume_uuid = uuid, .op = wire_op, .args = args_text,
                         .state = XS_JOB_PENDING, .backend_id = b->id};
    int64_t id = xs_store_job_insert (self->store, &row, &err);
    free (args_text);
    if (id < 0) {
        json_decref (args);
        goto fail;
    }
    s_job_t *job = s_job_new (id, wire_op, uuid, args);
    job->backend_id = b->id;
    job->zone = xs_strdup (b->zone);
    s_job_wait (job, done, arg);
    s_track (self, job);
    s_dispatch (self, job);
    xs_volume_destroy (&p);
    xs_backend_destroy (&b);
    return;

fail:
    xs_volume_destroy (&p);
    xs_backend_destroy (&b);
    s_answer_now (done, arg, NULL, &err);
}

/* =========================================================================
    Reads
   ========================================================================= */

json_t *
xs_sched_volume_show (xs_sched_t *self, const char *uuid, xs_err_t *err)
{
    json_t *j = s_volume_json_by_uuid (self, uuid, err);
    if (!j)
        return NULL;
    json_t *attempts = json_array ();
    xs_attempt_t **list = xs_store_attempt_list_by_volume (self->store, uuid, err);
    for (xs_attempt_t **a = list; a && *a; a++)
        json_array_append_new (attempts, xs_attempt_json (*a));
    xs_attempt_list_destroy (&list);
    json_object_set_new (j, "attempts", attempts);
    json_t *jobs = json_array ();
    xs_job_t **jl = xs_store_job_list_by_volume (self->store, uuid, err);
    for (xs_job_t **jp = jl; jp && *jp; jp++)
        json_array_append_new (jobs, xs_job_json (*jp));
    xs_job_list_destroy (&jl);
    json_object_set_new (j, "jobs", jobs);
    return j;
}

json_t *
xs_sched_volume_list (xs_sched_t *self, bool include_deleted, xs_err_t *err)
{
    xs_volume_t **list = xs_store_volume_list (self->store, include_deleted, err);
    if (!list)
        return NULL;
    xs_flavor_t **flavors = xs_store_flavor_list (self->store, NULL);
    json_t *out = json_array ();
    for (xs_volume_t **v = list; *v; v++) {
        const char *label = NULL;
        for (xs_flavor_t **f = flavors; f && *f; f++)
            if ((*f)->id == (*v)->flavor_id)
                label = (*f)->label;
        json_array_append_new (out, s_volume_json (self, *v, label ? label : ""));
    }
    xs_flavor_list_destroy (&flavors);
    xs_volume_list_destroy (&list);
    return out;
}

json_t *
xs_sched_volume_connection (xs_sched_t *self, const char *uuid, bool show_secrets,
                            xs_err_t *err)
{
    xs_volume_t *v = xs_store_volume_get (self->store, uuid, err);
    json_t *out = NULL;
    xs_backend_t *b = NULL;
    if (!v)
        return NULL;
    if (v->state != XS_VOLUME_AVAILABLE || !v->vdi_uuid) {
        xs_err_set (err, XS_ECONFLICT, "volume %s: is %s, it has no connection", v->uuid,
                    xs_volume_state_name (v->state));
        goto out;
    }
    b = xs_store_backend_get (self->store, v->backend_id, err);
    if (!b)
        goto out;
    json_t *config = xs_backend_config_json (b, show_secrets);
    out = json_pack ("{s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:o}",
                     "volume_uuid", v->uuid, "vdi_uuid", v->vdi_uuid,
                     "sr_uuid", b->sr_uuid ? b->sr_uuid : "", "sr_type", b->sr_type,
                     "backend_id", (json_int_t) b->id, "zone", b->zone,
                     "name_label", b->name_label ? json_string (b->name_label) : json_null (),
                     "device_config", config);
out:
    xs_volume_destroy (&v);
    xs_backend_destroy (&b);
    return out;
}
