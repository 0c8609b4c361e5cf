/*  xs_volumes: the volume commands. */
#include "xs_volumes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"

struct _xs_volumes_t {
    xs_store_t *store;
    xs_batch_t *batch;
    xs_hosts_t *hosts;
    xs_jobs_t *jobs;
};

xs_volumes_t *
xs_volumes_new (xs_store_t *store, xs_batch_t *batch, xs_hosts_t *hosts, xs_jobs_t *jobs)
{
    xs_volumes_t *self = xs_zalloc (sizeof *self);
    self->store = store;
    self->batch = batch;
    self->hosts = hosts;
    self->jobs = jobs;
    return self;
}

void
xs_volumes_destroy (xs_volumes_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

/* =========================================================================
    Views and answers
   ========================================================================= */

json_t *
xs_volume_view (xs_store_t *store, const xs_volume_t *v, const char *flavor_label)
{
    xs_flavor_t *f = NULL;
    if (!flavor_label && v->flavor_id) {
        f = xs_store_flavor_get_by_id (store, v->flavor_id, NULL);
        flavor_label = f ? f->label : NULL;
    }
    json_t *j = xs_nn (xs_volume_json (v, flavor_label));
    xs_flavor_destroy (&f);
    return j;
}

json_t *
xs_volume_view_by_uuid (xs_store_t *store, const char *uuid, xs_err_t *err)
{
    xs_volume_t *v = xs_store_volume_get (store, uuid, err);
    if (!v)
        return NULL;
    json_t *j = xs_volume_view (store, v, NULL);
    xs_volume_destroy (&v);
    return j;
}

/* Answers at once with {"volume": volume} (taken). */
static void
s_answer_volume (xs_reply_t **reply_p, json_t *volume)
{
    xs_reply_ok (reply_p, xs_nn (json_pack ("{s:o}", "volume", volume)));
}

/* A new volume uuid, canonical form, in buf (37 bytes). */
static void
s_new_uuid (char *buf, size_t size)
{
    zuuid_t *u = xs_nn (zuuid_new ());
    snprintf (buf, size, "%s", zuuid_str_canonical (u));
    zuuid_destroy (&u);
}

/* =========================================================================
    Create
   ========================================================================= */

/* Places volume v again: a create that failed (state error, no VDI) and is
   asked for again with its request id. The earlier attempts stay listed. */
static int
s_retry_create (xs_volumes_t *self, const xs_volume_t *v, xs_reply_t **reply_p,
                xs_err_t *err)
{
    if (xs_batch_open (self->batch, err)
    ||  xs_store_volume_set_state (self->store, v->uuid, XS_VOLUME_CREATING, NULL, err))
        return -1;
    json_t *args = xs_nn (json_pack ("{s:s, s:I}", "volume_uuid", v->uuid,
                                     "size", (json_int_t) v->size_bytes));
    if (v->name)
        json_object_set_new (args, "name", json_string (v->name));
    xs_info ("volume %s: create of request id %s failed before (%s); placing it again",
             v->uuid, v->request_id, v->error ? v->error : "no reason recorded");
    xs_jobs_create (self->jobs, v->uuid, v->flavor_id, v->size_bytes, &args, reply_p);
    return 0;
}

/* When req repeats request id that already made a volume: answers
   *reply_p (the same volume once it is settled, or a conflict when the id
   was used for a different request; a create that failed is placed again)
   and returns 1. 0 when the id is new,
   -1 with *err when it cannot be told. */
static int
s_repeated (xs_volumes_t *self, const xs_volume_request_t *req, xs_reply_t **reply_p,
            xs_err_t *err)
{
    if (!req->request_id || !*req->request_id)
        return 0;
    xs_volume_t *v = xs_store_volume_get_by_request_id (self->store, req->request_id, err);
    if (!v)
        return err->kind == XS_ENOTFOUND ? 0 : -1;
    int rc = 1;
    xs_flavor_t *was = xs_store_flavor_get_by_id (self->store, v->flavor_id, NULL);
    if (v->size_bytes != req->size || !was || !streq (was->label, req->flavor))
        rc = xs_err_set (err, XS_ECONFLICT, "request id %s already made volume %s "
                         "(flavor %s, %lld bytes); a different request needs a new id",
                         req->request_id, v->uuid, was ? was->label : "?",
                         (long long) v->size_bytes);
    else
    if (xs_jobs_running (self->jobs, v->uuid) != XS_OP_NONE)
        xs_jobs_wait (self->jobs, v->uuid, reply_p);
    else
    if (v->state == XS_VOLUME_ERROR && !v->parent_uuid && !v->vdi_uuid) {
        /* A failed create: the request id is retried, never lost. */
        if (s_retry_create (self, v, reply_p, err))
            rc = -1;
    }
    else
        s_answer_volume (reply_p, xs_volume_view (self->store, v, NULL));
    xs_flavor_destroy (&was);
    xs_volume_destroy (&v);
    return rc;
}

void
xs_volumes_create (xs_volumes_t *self, const xs_volume_request_t *req, xs_reply_t **reply_p)
{
    xs_err_t err;
    xs_flavor_t *flavor = NULL;
    char uuid [37];

    if (!req->flavor || !*req->flavor) {
        xs_err_set (&err, XS_EINVAL, "volume create: --flavor is required");
        goto fail;
    }
    if (req->size <= 0) {
        xs_err_set (&err, XS_EINVAL, "volume create: size must be more than 0 bytes");
        goto fail;
    }
    /* The group commit's transaction first: the flavor row is then read
       once per commit, not once per create (xs_store_cache.c). A request
       id is not looked up before the insert (a round trip per create on
       PostgreSQL): the insert refuses one already used, and only then is
       it answered as a repeated request. */
    if (xs_batch_open (self->batch, &err))
        goto fail;
    flavor = xs_store_flavor_get (self->store, req->flavor, &err);
    if (!flavor) {
        xs_err_t why;
        int repeated = s_repeated (self, req, reply_p, &why);   /* says more, if so */
        if (repeated > 0)
            goto out;
        if (repeated < 0)
            err = why;
        goto fail;
    }
    s_new_uuid (uuid, sizeof uuid);
    xs_volume_spec_t vol = {.uuid = uuid, .name = req->name, .size_bytes = req->size,
                            .flavor_id = flavor->id, .state = XS_VOLUME_CREATING,
                            .request_id = req->request_id && *req->request_id
                                          ? req->request_id : NULL,
                            .project = req->project};
    if (xs_store_volume_insert (self->store, &vol, &err)) {
        xs_err_t why;
        int repeated = err.kind == XS_ECONFLICT ? s_repeated (self, req, reply_p, &why) : 0;
        if (repeated > 0)
            goto out;
        if (repeated < 0)
            err = why;
        goto fail;
    }
    json_t *args = xs_nn (json_pack ("{s:s, s:I}", "volume_uuid", uuid,
                                     "size", (json_int_t) req->size));
    if (req->name)
        json_object_set_new (args, "name", json_string (req->name));
    xs_info ("volume %s: create %lld bytes of flavor %s", uuid, (long long) req->size,
             flavor->label);
    xs_jobs_create (self->jobs, uuid, flavor->id, req->size, &args, reply_p);
    goto out;
fail:
    xs_reply_err (reply_p, &err);
out:
    xs_flavor_destroy (&flavor);
}

/* =========================================================================
    Delete
   ========================================================================= */

/* Deletes volume v that has no job running. */
static void
s_delete (xs_volumes_t *self, const xs_volume_t *v, xs_reply_t **reply_p)
{
    xs_err_t err;
    xs_backend_t *b = NULL;
    if (xs_batch_open (self->batch, &err))
        goto fail;
    if (!v->backend_id || !(b = xs_store_backend_get (self->store, v->backend_id, NULL))
    ||  !b->sr_uuid) {
        /* Never placed: nothing on any SR. */
        if (xs_store_volume_set_state (self->store, v->uuid, XS_VOLUME_DELETED, NULL, &err))
            goto fail;
        xs_reply_after_commit (*reply_p, self->batch);
        s_answer_volume (reply_p, xs_volume_view_by_uuid (self->store, v->uuid, NULL));
        goto out;
    }
    if (xs_store_volume_set_state (self->store, v->uuid, XS_VOLUME_DELETING, NULL, &err))
        goto fail;
    json_t *args = xs_nn (json_pack ("{s:s, s:s}", "volume_uuid", v->uuid,
                                     "sr_uuid", b->sr_uuid));
    if (xs_jobs_start (self->jobs, XS_OP_VDI_DESTROY, v->uuid, b, &args, reply_p, &err) == 0)
        goto out;
fail:
    xs_reply_err (reply_p, &err);
out:
    xs_backend_destroy (&b);
}

void
xs_volumes_delete (xs_volumes_t *self, const char *uuid, xs_reply_t **reply_p)
{
    xs_err_t err;
    xs_volume_t *v = uuid ? xs_store_volume_get (self->store, uuid, &err) : NULL;
    if (!v) {
        if (!uuid)
            xs_err_set (&err, XS_EINVAL, "volume delete: a volume uuid is required");
        xs_reply_err (reply_p, &err);
        return;
    }
    xs_op_t running = xs_jobs_running (self->jobs, v->uuid);
    if (running == XS_OP_VDI_DESTROY)
        xs_jobs_wait (self->jobs, v->uuid, reply_p);    /* already being deleted */
    else
    if (running != XS_OP_NONE)
        xs_reply_fail (reply_p, XS_ECONFLICT, "volume %s: still %s; delete it when it is settled",
                       v->uuid, xs_volume_state_name (v->state));
    else
    if (v->state == XS_VOLUME_DELETED)
        s_answer_volume (reply_p, xs_volume_view (self->store, v, NULL));
    else
        s_delete (self, v, reply_p);
    xs_volume_destroy (&v);
}

/* =========================================================================
    Snapshot and clone
   ========================================================================= */

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

/* Whether volume p (its backend b) can be copied with op now. */
static int
s_check_copy (xs_volumes_t *self, xs_op_t op, const xs_volume_t *p, const xs_backend_t *b,
              xs_err_t *err)
{
    bool snapshot = op == XS_OP_VDI_SNAPSHOT;
    const char *verb = snapshot ? "snapshot" : "clone";
    const char *cap = snapshot ? "VDI_SNAPSHOT" : "VDI_CLONE";
    xs_hosts_sr_t sr;
    xs_hosts_sr_info (self->hosts, b->zone, b->id, &sr);
    if (sr.capabilities && !s_has_capability (sr.capabilities, cap))
        return xs_err_set (err, XS_EINVAL, "volume %s: backend %lld (SR type %s) cannot %s: "
                           "its SR lacks the %s capability", p->uuid, (long long) b->id,
                           b->sr_type, verb, cap);
    return 0;
}

/* Looks up the parent of a copy: available, on a backend. */
static xs_volume_t *
s_copy_parent (xs_volumes_t *self, xs_op_t op, const char *parent_uuid, xs_backend_t **b_p,
               xs_err_t *err)
{
    bool snapshot = op == XS_OP_VDI_SNAPSHOT;
    if (!parent_uuid) {
        xs_err_set (err, XS_EINVAL, "volume %s: a volume uuid is required",
                    snapshot ? "snapshot" : "clone");
        return NULL;
    }
    xs_volume_t *p = xs_store_volume_get (self->store, parent_uuid, err);
    if (p && p->state != XS_VOLUME_AVAILABLE) {
        xs_err_set (err, XS_ECONFLICT, "volume %s: is %s, only an available volume can be %s",
                    p->uuid, xs_volume_state_name (p->state),
                    snapshot ? "snapshotted" : "cloned");
        xs_volume_destroy (&p);
    }
    if (p && !(*b_p = xs_store_backend_get (self->store, p->backend_id, err)))
        xs_volume_destroy (&p);
    if (p && s_check_copy (self, op, p, *b_p, err)) {
        xs_volume_destroy (&p);
        xs_backend_destroy (b_p);
    }
    return p;
}

void
xs_volumes_copy (xs_volumes_t *self, xs_op_t op, const char *parent_uuid, const char *name,
                 const char *request_id, xs_reply_t **reply_p)
{
    xs_err_t err;
    xs_volume_t *p = NULL;
    xs_backend_t *b = NULL;
    if (op != XS_OP_VDI_SNAPSHOT && op != XS_OP_VDI_CLONE) {
        xs_err_set (&err, XS_EINVAL, "volume copy: op must be snapshot or clone");
        goto fail;
    }
    p = s_copy_parent (self, op, parent_uuid, &b, &err);
    if (!p || xs_batch_open (self->batch, &err))
        goto fail;
    char uuid [37];
    s_new_uuid (uuid, sizeof uuid);
    xs_volume_spec_t vol = {.uuid = uuid, .name = name, .size_bytes = p->size_bytes,
                            .flavor_id = p->flavor_id, .backend_id = b->id,
                            .state = XS_VOLUME_CREATING, .parent_uuid = p->uuid,
                            .request_id = request_id && *request_id ? request_id : NULL,
                            .project = p->project};
    if (xs_store_volume_insert (self->store, &vol, &err))
        goto fail;
    json_t *args = xs_nn (json_pack ("{s:s, s:s, s:s}", "sr_uuid", b->sr_uuid,
                                     "volume_uuid", p->uuid, "new_volume_uuid", uuid));
    if (name)
        json_object_set_new (args, "name", json_string (name));
    /* The parent's own VDI: a lost copy reply can leave a second VDI with
       the parent's tag until the orphan sweep removes it (D6). */
    if (p->vdi_uuid)
        json_object_set_new (args, "source_vdi_uuid", json_string (p->vdi_uuid));
    if (xs_jobs_start (self->jobs, op, uuid, b, &args, reply_p, &err))
        goto fail;
    goto out;
fail:
    xs_reply_err (reply_p, &err);
out:
    xs_volume_destroy (&p);
    xs_backend_destroy (&b);
}

/* =========================================================================
    Extend
   ========================================================================= */

/* Whether volume v can grow to new_size now: 0, or -1 with *err. */
static int
s_check_extend (xs_volumes_t *self, const xs_volume_t *v, int64_t new_size, xs_err_t *err)
{
    if (v->state == XS_VOLUME_DELETED)
        return xs_err_set (err, XS_ENOTFOUND, "volume %s: deleted", v->uuid);
    if (xs_jobs_running (self->jobs, v->uuid) != XS_OP_NONE || v->state != XS_VOLUME_AVAILABLE)
        return xs_err_set (err, XS_ECONFLICT, "volume %s: is %s, only an available volume can "
                           "be extended", v->uuid, xs_volume_state_name (v->state));
    if (new_size <= v->size_bytes)
        return xs_err_set (err, XS_EINVAL, "volume %s: new size %lld bytes is not larger than "
                           "its size, %lld bytes (a volume can only grow)", v->uuid,
                           (long long) new_size, (long long) v->size_bytes);
    return 0;
}

void
xs_volumes_extend (xs_volumes_t *self, const char *uuid, int64_t new_size, xs_reply_t **reply_p)
{
    xs_err_t err;
    xs_backend_t *b = NULL;
    xs_volume_t *v = uuid ? xs_store_volume_get (self->store, uuid, &err) : NULL;
    if (!uuid)
        xs_err_set (&err, XS_EINVAL, "volume extend: a volume uuid is required");
    if (!v || s_check_extend (self, v, new_size, &err))
        goto fail;
    b = v->backend_id ? xs_store_backend_get (self->store, v->backend_id, &err) : NULL;
    if (!b || !b->sr_uuid) {
        if (b || v->backend_id == 0)
            xs_err_set (&err, XS_ECONFLICT, "volume %s: its backend has no SR, it cannot be "
                        "extended", v->uuid);
        goto fail;
    }
    if (xs_batch_open (self->batch, &err)
    ||  xs_store_volume_set_state (self->store, v->uuid, XS_VOLUME_EXTENDING, NULL, &err))
        goto fail;
    json_t *args = xs_nn (json_pack ("{s:s, s:s, s:I}", "volume_uuid", v->uuid,
                                     "sr_uuid", b->sr_uuid, "size", (json_int_t) new_size));
    xs_info ("volume %s: extend from %lld to %lld bytes", v->uuid, (long long) v->size_bytes,
             (long long) new_size);
    if (xs_jobs_start (self->jobs, XS_OP_VDI_RESIZE, v->uuid, b, &args, reply_p, &err)) {
        /* Not journaled: the volume stays as it was. */
        xs_store_volume_set_state (self->store, v->uuid, XS_VOLUME_AVAILABLE, NULL, NULL);
        goto fail;
    }
    goto out;
fail:
    xs_reply_err (reply_p, &err);
out:
    xs_volume_destroy (&v);
    xs_backend_destroy (&b);
}

/* =========================================================================
    Reset
   ========================================================================= */

void
xs_volumes_reset_state (xs_volumes_t *self, const char *uuid, const char *state,
                        xs_reply_t **reply_p)
{
    xs_err_t err;
    xs_volume_state_t to;
    xs_volume_t *v = NULL;
    if (xs_volume_state_from_name (state, &to, &err)
    ||  (to != XS_VOLUME_AVAILABLE && to != XS_VOLUME_ERROR && to != XS_VOLUME_ERROR_DELETING)) {
        xs_reply_fail (reply_p, XS_EINVAL, "volume reset: state must be available, error or "
                       "error_deleting, not '%.32s'", state ? state : "");
        return;
    }
    v = xs_store_volume_get (self->store, uuid, &err);
    if (!v)
        goto fail;
    if (v->state == XS_VOLUME_DELETED) {
        xs_err_set (&err, XS_ENOTFOUND, "volume %s: deleted", v->uuid);
        goto fail;
    }
    if (xs_jobs_running (self->jobs, v->uuid) != XS_OP_NONE) {
        xs_err_set (&err, XS_ECONFLICT, "volume %s: a job is still running on it; reset it "
                    "when it is settled", v->uuid);
        goto fail;
    }
    if (to == XS_VOLUME_AVAILABLE && !v->vdi_uuid) {
        xs_err_set (&err, XS_ECONFLICT, "volume %s: has no VDI, it cannot be available",
                    v->uuid);
        goto fail;
    }
    if (xs_batch_open (self->batch, &err)
    ||  xs_store_volume_set_state (self->store, v->uuid, to, v->error, &err))
        goto fail;
    xs_notice ("volume %s: state reset from %s to %s", v->uuid,
               xs_volume_state_name (v->state), xs_volume_state_name (to));
    s_answer_volume (reply_p, xs_volume_view_by_uuid (self->store, v->uuid, NULL));
    xs_volume_destroy (&v);
    return;
fail:
    xs_volume_destroy (&v);
    xs_reply_err (reply_p, &err);
}

void
xs_volumes_rename (xs_volumes_t *self, const char *uuid, const char *name,
                   xs_reply_t **reply_p)
{
    xs_err_t err;
    xs_volume_t *v = xs_store_volume_get (self->store, uuid, &err);
    if (!v)
        goto fail;
    if (v->state == XS_VOLUME_DELETED) {
        xs_err_set (&err, XS_ENOTFOUND, "volume %s: deleted", v->uuid);
        goto fail;
    }
    if (xs_jobs_running (self->jobs, v->uuid) != XS_OP_NONE) {
        xs_err_set (&err, XS_ECONFLICT, "volume %s: still %s; rename it when it is settled",
                    v->uuid, xs_volume_state_name (v->state));
        goto fail;
    }
    xs_volume_spec_t spec = {.uuid = v->uuid, .name = name, .state = v->state,
                             .backend_id = v->backend_id, .vdi_uuid = v->vdi_uuid,
                             .host_uuid = v->host_uuid, .error = v->error};
    if (xs_batch_open (self->batch, &err) || xs_store_volume_update (self->store, &spec, &err))
        goto fail;
    s_answer_volume (reply_p, xs_volume_view_by_uuid (self->store, v->uuid, NULL));
    xs_volume_destroy (&v);
    return;
fail:
    xs_volume_destroy (&v);
    xs_reply_err (reply_p, &err);
}

/* =========================================================================
    Reads
   ========================================================================= */

json_t *
xs_volumes_show (xs_store_t *store, const char *uuid, xs_err_t *err)
{
    json_t *j = xs_volume_view_by_uuid (store, uuid, err);
    if (!j)
        return NULL;
    json_t *attempts = xs_nn (json_array ());
    xs_attempt_t **list = xs_store_attempt_list_by_volume (store, uuid, err);
    for (xs_attempt_t **a = list; a && *a; a++)
        json_array_append_new (attempts, xs_attempt_json (*a));
    xs_attempt_list_destroy (&list);
    json_object_set_new (j, "attempts", attempts);
    json_t *jobs = xs_nn (json_array ());
    xs_job_t **jl = xs_store_job_list_by_volume (store, uuid, err);
    for (xs_job_t **jp = jl; jp && *jp; jp++)
        json_array_append_new (jobs, xs_job_json (*jp));
    xs_job_list_destroy (&jl);
    json_object_set_new (j, "jobs", jobs);
    return j;
}

json_t *
xs_volumes_list (xs_store_t *store, bool include_deleted, xs_err_t *err)
{
    xs_volume_t **list = xs_store_volume_list (store, include_deleted, err);
    if (!list)
        return NULL;
    xs_flavor_t **flavors = xs_store_flavor_list (store, NULL);
    json_t *out = xs_nn (json_array ());
    for (xs_volume_t **v = list; *v; v++) {
        const char *label = NULL;
        for (xs_flavor_t **f = flavors; f && *f; f++)
            if ((*f)->id == (*v)->flavor_id)
                label = (*f)->label;
        json_array_append_new (out, xs_volume_view (store, *v, label ? label : ""));
    }
    xs_flavor_list_destroy (&flavors);
    xs_volume_list_destroy (&list);
    return out;
}

json_t *
xs_volumes_connection (xs_store_t *store, const char *uuid, bool show_secrets, xs_err_t *err)
{
    xs_volume_t *v = xs_store_volume_get (store, uuid, err);
    json_t *out = NULL;
    xs_backend_t *b = NULL;
    if (!v)
        return NULL;
    if (v->state != XS_VOLUME_AVAILABLE || !v->vdi_uuid) {
        xs_err_set (err, XS_ECONFLICT, "volume %s: is %s, it has no connection", v->uuid,
                    xs_volume_state_name (v->state));
        goto out;
    }
    b = xs_store_backend_get (store, v->backend_id, err);
    if (!b)
        goto out;
    json_t *config = xs_backend_config_json (b, show_secrets);
    out = xs_nn (json_pack ("{s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:o}",
                            "volume_uuid", v->uuid, "vdi_uuid", v->vdi_uuid,
                            "sr_uuid", b->sr_uuid ? b->sr_uuid : "", "sr_type", b->sr_type,
                            "backend_id", (json_int_t) b->id, "zone", b->zone,
                            "name_label", b->name_label ? json_string (b->name_label)
                                                        : json_null (),
                            "device_config", config));
out:
    xs_volume_destroy (&v);
    xs_backend_destroy (&b);
    return out;
}
