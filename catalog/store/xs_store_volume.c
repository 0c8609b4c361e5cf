/*  xs_store_volume: volumes: the uuid, size, flavor and placement of each,
    its state, and its request id (idempotency key). */
#include "xs_mem.h"
#include "xs_store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_volume_free (void *item)
{
    xs_volume_t *self = item;
    xs_volume_destroy (&self);
}

/* The current row as a new xs_volume_t; columns in S_VOLUME_COLS order
   (xs_store_sql.c). An xs_sql_row_fn. */
static void *
s_volume_row (xs_store_t *self, xs_sql_stmt_t *st, const char *object, xs_err_t *err)
{
    xs_volume_t *v = xs_zalloc (sizeof *v);
    v->uuid = xs_sql_col_text_req (st, 0);
    v->name = xs_sql_col_text (st, 1);
    v->size_bytes = xs_sql_col_int64 (st, 2);
    v->flavor_id = xs_sql_col_int64 (st, 3);
    v->backend_id = xs_sql_col_int64 (st, 4);
    v->vdi_uuid = xs_sql_col_text (st, 5);
    v->host_uuid = xs_sql_col_text (st, 6);
    const char *state = xs_sql_col_cstr (st, 7);
    v->error = xs_sql_col_text (st, 8);
    v->parent_uuid = xs_sql_col_text (st, 9);
    v->request_id = xs_sql_col_text (st, 10);
    v->created_at = xs_sql_col_int64 (st, 11);
    v->updated_at = xs_sql_col_int64 (st, 12);
    v->project = xs_sql_col_text_req (st, 13);
    if (xs_volume_state_from_name (state, &v->state, NULL)) {
        xs_err_set (err, XS_EIO, "%s: volume %s has unknown state '%s'",
                    self->path, v->uuid, state ? state : "(null)");
        xs_volume_destroy (&v);
        return NULL;
    }
    return v;
}

int
xs_store_volume_insert (xs_store_t *self, const xs_volume_spec_t *vol, xs_err_t *err)
{
    if (!vol || xs_store_empty (vol->uuid))
        return xs_err_set (err, XS_EINVAL, "volume: a uuid is required");
    if (vol->flavor_id <= 0)
        return xs_err_set (err, XS_EINVAL, "volume %s: a flavor is required", vol->uuid);
    if (vol->size_bytes < 0)
        return xs_err_set (err, XS_EINVAL, "volume %s: size %lld is negative", vol->uuid,
                           (long long) vol->size_bytes);
    if (vol->request_id && !*vol->request_id)
        return xs_err_set (err, XS_EINVAL, "volume %s: request id is empty", vol->uuid);
    const char *state = xs_volume_state_name (vol->state);
    if (strcmp (state, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "volume %s: unknown state %d", vol->uuid,
                           (int) vol->state);
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_VOLUME_INSERT, err);
    if (!st)
        return -1;
    int rc = XS_RC_OK;
    XS_SQL_BIND (xs_sql_bind_text (st, 1, vol->uuid));
    XS_SQL_BIND (xs_sql_bind_text (st, 2, vol->name));
    XS_SQL_BIND (xs_sql_bind_int64 (st, 3, vol->size_bytes));
    XS_SQL_BIND (xs_sql_bind_int64 (st, 4, vol->flavor_id));
    XS_SQL_BIND (xs_sql_bind_id (st, 5, vol->backend_id));
    XS_SQL_BIND (xs_sql_bind_text (st, 6, vol->vdi_uuid));
    XS_SQL_BIND (xs_sql_bind_text (st, 7, vol->host_uuid));
    XS_SQL_BIND (xs_sql_bind_text (st, 8, state));
    XS_SQL_BIND (xs_sql_bind_text (st, 9, vol->error));
    XS_SQL_BIND (xs_sql_bind_text (st, 10, vol->parent_uuid));
    XS_SQL_BIND (xs_sql_bind_text (st, 11, vol->request_id));
    XS_SQL_BIND (xs_sql_bind_int64 (st, 12, xs_store_now_ms ()));
    XS_SQL_BIND (xs_sql_bind_text (st, 13, vol->project ? vol->project : ""));
    rc = xs_sql_write (self, st, rc);
    if (rc == XS_RC_OK)
        return 0;
    if ((rc == XS_RC_CONSTRAINT_UNIQUE || rc == XS_RC_CONSTRAINT_PRIMARYKEY)
    &&  vol->request_id && strstr (self->errmsg, "request_id")) {
        xs_volume_t *other = xs_store_volume_get_by_request_id (self, vol->request_id, NULL);
        xs_err_set (err, XS_ECONFLICT, "volume request %s: already used by volume %s",
                    vol->request_id, other ? other->uuid : "?");
        xs_volume_destroy (&other);
        return -1;
    }
    if (rc == XS_RC_CONSTRAINT_UNIQUE || rc == XS_RC_CONSTRAINT_PRIMARYKEY)
        return xs_err_set (err, XS_ECONFLICT, "volume %s: already exists", vol->uuid);
    if (rc == XS_RC_CONSTRAINT_FOREIGNKEY) {
        int flavor = xs_sql_exists (self, XS_SQL_FLAVOR_EXISTS, NULL, vol->flavor_id, err);
        if (flavor < 0)
            return -1;
        if (!flavor)
            return xs_err_set (err, XS_ENOTFOUND, "volume %s: flavor %lld not found",
                               vol->uuid, (long long) vol->flavor_id);
        return xs_err_set (err, XS_ENOTFOUND, "volume %s: backend %lld not found",
                           vol->uuid, (long long) vol->backend_id);
    }
    return xs_sql_fail (self, rc, err, "volume %s", vol->uuid);
}

xs_volume_t *
xs_store_volume_get (xs_store_t *self, const char *uuid, xs_err_t *err)
{
    if (xs_store_empty (uuid)) {
        xs_err_set (err, XS_EINVAL, "volume: a uuid is required");
        return NULL;
    }
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_VOLUME_GET, err);
    if (!st)
        return NULL;
    char object [300];
    snprintf (object, sizeof object, "volume %s", uuid);
    return xs_sql_fetch_one (self, st, xs_sql_bind_text (st, 1, uuid), s_volume_row, object, err);
}

xs_volume_t *
xs_store_volume_get_by_request_id (xs_store_t *self, const char *request_id, xs_err_t *err)
{
    if (xs_store_empty (request_id)) {
        xs_err_set (err, XS_EINVAL, "volume: a request id is required");
        return NULL;
    }
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_VOLUME_BY_REQUEST, err);
    if (!st)
        return NULL;
    char object [300];
    snprintf (object, sizeof object, "volume request %s", request_id);
    return xs_sql_fetch_one (self, st, xs_sql_bind_text (st, 1, request_id), s_volume_row,
                             object, err);
}

xs_volume_t **
xs_store_volume_list (xs_store_t *self, bool include_deleted, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_VOLUME_LIST, err);
    if (!st)
        return NULL;
    return (xs_volume_t **) xs_sql_fetch_all (self, st, xs_sql_bind_int64 (st, 1, include_deleted),
                                              s_volume_row, s_volume_free, "volume list", err);
}

int
xs_store_volume_update (xs_store_t *self, const xs_volume_spec_t *vol, xs_err_t *err)
{
    if (!vol || xs_store_empty (vol->uuid))
        return xs_err_set (err, XS_EINVAL, "volume: a uuid is required");
    const char *state = xs_volume_state_name (vol->state);
    if (strcmp (state, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "volume %s: unknown state %d", vol->uuid,
                           (int) vol->state);
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_VOLUME_UPDATE, err);
    if (!st)
        return -1;
    int rc = XS_RC_OK;
    XS_SQL_BIND (xs_sql_bind_text (st, 1, vol->uuid));
    XS_SQL_BIND (xs_sql_bind_text (st, 2, vol->name));
    XS_SQL_BIND (xs_sql_bind_text (st, 3, state));
    XS_SQL_BIND (xs_sql_bind_id (st, 4, vol->backend_id));
    XS_SQL_BIND (xs_sql_bind_text (st, 5, vol->vdi_uuid));
    XS_SQL_BIND (xs_sql_bind_text (st, 6, vol->host_uuid));
    XS_SQL_BIND (xs_sql_bind_text (st, 7, vol->error));
    XS_SQL_BIND (xs_sql_bind_int64 (st, 8, vol->updated_at ? vol->updated_at
                                                           : xs_store_now_ms ()));
    rc = xs_sql_write (self, st, rc);
    if (rc == XS_RC_CONSTRAINT_FOREIGNKEY)
        return xs_err_set (err, XS_ENOTFOUND, "volume %s: backend %lld not found",
                           vol->uuid, (long long) vol->backend_id);
    if (rc != XS_RC_OK)
        return xs_sql_fail (self, rc, err, "volume %s", vol->uuid);
    if (self->changes == 0)
        return xs_err_set (err, XS_ENOTFOUND, "volume %s: not found", vol->uuid);
    return 0;
}

xs_volume_t **
xs_store_volume_list_creating (xs_store_t *self, const char *after, int limit, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_VOLUME_CREATING, err);
    if (!st)
        return NULL;
    int rc = XS_RC_OK;
    XS_SQL_BIND (xs_sql_bind_text (st, 1, after ? after : ""));
    XS_SQL_BIND (xs_sql_bind_int64 (st, 2, limit));
    return (xs_volume_t **) xs_sql_fetch_all (self, st, rc, s_volume_row, s_volume_free,
                                              "volumes creating", err);
}

xs_volume_t **
xs_store_volume_list_errors (xs_store_t *self, const char *project, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_VOLUME_ERRORS, err);
    if (!st)
        return NULL;
    int rc = xs_sql_bind_text (st, 1, project);
    return (xs_volume_t **) xs_sql_fetch_all (self, st, rc, s_volume_row, s_volume_free,
                                              "volumes in error", err);
}

/* Binds the three writes of xs_store_vdi_made. */
static int
s_vdi_made_bind (xs_sql_stmt_t **w, const xs_vdi_made_spec_t *m, int64_t at)
{
    int rc = XS_RC_OK;
    XS_SQL_BIND (xs_sql_bind_int64 (w [0], 1, m->job_id));
    XS_SQL_BIND (xs_sql_bind_text (w [0], 2, xs_job_state_name (XS_JOB_DONE)));
    XS_SQL_BIND (xs_sql_bind_id (w [0], 3, m->backend_id));
    XS_SQL_BIND (xs_sql_bind_text (w [0], 4, m->job_host));
    XS_SQL_BIND (xs_sql_bind_text (w [0], 5, m->result));
    XS_SQL_BIND (xs_sql_bind_null (w [0], 6));
    XS_SQL_BIND (xs_sql_bind_int64 (w [0], 7, at));
    XS_SQL_BIND (xs_sql_bind_text (w [1], 1, m->volume_uuid));
    XS_SQL_BIND (xs_sql_bind_id (w [1], 2, m->backend_id));
    XS_SQL_BIND (xs_sql_bind_text (w [1], 3, m->vdi_uuid));
    XS_SQL_BIND (xs_sql_bind_text (w [1], 4, m->host_uuid));
    XS_SQL_BIND (xs_sql_bind_int64 (w [1], 5, at));
    if (m->attempt) {
        XS_SQL_BIND (xs_sql_bind_text (w [2], 1, m->volume_uuid));
        XS_SQL_BIND (xs_sql_bind_int64 (w [2], 2, m->backend_id));
        XS_SQL_BIND (xs_sql_bind_text (w [2], 3, m->host_uuid));
        XS_SQL_BIND (xs_sql_bind_text (w [2], 4, xs_attempt_outcome_name (XS_ATTEMPT_OK)));
        XS_SQL_BIND (xs_sql_bind_null (w [2], 5));
        XS_SQL_BIND (xs_sql_bind_int64 (w [2], 6, at));
    }
    return rc;
}

xs_volume_t *
xs_store_vdi_made (xs_store_t *self, const xs_vdi_made_spec_t *m, xs_err_t *err)
{
    if (!m || xs_store_empty (m->volume_uuid) || xs_store_empty (m->vdi_uuid)) {
        xs_err_set (err, XS_EINVAL, "volume: a uuid and a VDI uuid are required");
        return NULL;
    }
    xs_sql_stmt_t *w [3] = { NULL, NULL, NULL }, *q = NULL;
    int n = m->attempt ? 3 : 2;
    if (!(w [0] = xs_sql_stmt (self, XS_SQL_JOB_UPDATE, err))
    ||  !(w [1] = xs_sql_stmt (self, XS_SQL_VOLUME_SET_MADE, err))
    ||  (m->attempt && !(w [2] = xs_sql_stmt (self, XS_SQL_ATTEMPT_INSERT, err)))
    ||  !(q = xs_sql_stmt (self, XS_SQL_VOLUME_GET, err)))
        return NULL;
    int64_t changes [3] = { 0, 0, 0 };
    int rc = s_vdi_made_bind (w, m, m->at ? m->at : xs_store_now_ms ());
    if (rc == XS_RC_OK)
        rc = xs_sql_bind_text (q, 1, m->volume_uuid);
    if (rc == XS_RC_OK)
        rc = xs_sql_write_group (self, w, n, changes, q);
    else
        for (int i = 0; i < n; i++)
            xs_sql_reset (w [i]);
    if (rc != XS_RC_OK) {
        xs_sql_reset (q);
        xs_sql_fail (self, rc, err, "volume %s: VDI %s made by job %lld", m->volume_uuid,
                     m->vdi_uuid, (long long) m->job_id);
        return NULL;
    }
    char object [96];
    snprintf (object, sizeof object, "volume %s", m->volume_uuid);
    xs_volume_t *v = xs_sql_fetch_one (self, q, XS_RC_OK, s_volume_row, object, err);
    if (v && changes [0] == 0) {
        xs_err_set (err, XS_ENOTFOUND, "job %lld: not found", (long long) m->job_id);
        xs_volume_destroy (&v);
    }
    return v;
}

/* Writes volume uuid's state and error text with statement `id`, and its
   size first when size is not NULL (XS_SQL_VOLUME_SET_SIZE binds it as
   ?2); stamps updated_at. What set_state and set_size share. */
static int
s_volume_set (xs_store_t *self, xs_sql_id_t id, const char *uuid, const int64_t *size,
              xs_volume_state_t state, const char *error, xs_err_t *err)
{
    if (xs_store_empty (uuid))
        return xs_err_set (err, XS_EINVAL, "volume: a uuid is required");
    if (size && *size < 0)
        return xs_err_set (err, XS_EINVAL, "volume %s: size %lld is negative", uuid,
                           (long long) *size);
    const char *name = xs_volume_state_name (state);
    if (strcmp (name, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "volume %s: unknown state %d", uuid, (int) state);
    xs_sql_stmt_t *st = xs_sql_stmt (self, id, err);
    if (!st)
        return -1;
    int rc = XS_RC_OK;
    int i = 1;
    XS_SQL_BIND (xs_sql_bind_text (st, i++, uuid));
    if (size)
        XS_SQL_BIND (xs_sql_bind_int64 (st, i++, *size));
    XS_SQL_BIND (xs_sql_bind_text (st, i++, name));
    XS_SQL_BIND (xs_sql_bind_text (st, i++, error));
    XS_SQL_BIND (xs_sql_bind_int64 (st, i, xs_store_now_ms ()));
    rc = xs_sql_write (self, st, rc);
    if (rc != XS_RC_OK)
        return xs_sql_fail (self, rc, err, "volume %s", uuid);
    if (self->changes == 0)
        return xs_err_set (err, XS_ENOTFOUND, "volume %s: not found", uuid);
    return 0;
}

int
xs_store_volume_set_state (xs_store_t *self, const char *uuid, xs_volume_state_t state,
                           const char *error, xs_err_t *err)
{
    return s_volume_set (self, XS_SQL_VOLUME_SET_STATE, uuid, NULL, state, error, err);
}

int
xs_store_volume_set_size (xs_store_t *self, const char *uuid, int64_t size_bytes,
                          xs_volume_state_t state, const char *error, xs_err_t *err)
{
    return s_volume_set (self, XS_SQL_VOLUME_SET_SIZE, uuid, &size_bytes, state, error, err);
}

json_t *
xs_store_volume_counts (xs_store_t *self, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_VOLUME_COUNTS, err);
    if (!st)
        return NULL;
    json_t *counts = xs_nn (json_array ());
    int rc;
    while ((rc = xs_sql_step (self, st, XS_RC_OK)) == XS_RC_ROW) {
        const char *flavor = xs_sql_col_cstr (st, 0);
        const char *state = xs_sql_col_cstr (st, 1);
        json_array_append_new (counts, xs_nn (json_pack ("{s:s?, s:s, s:I}", "flavor", flavor,
                                                         "state", state ? state : "",
                                                         "count",
                                                         (json_int_t) xs_sql_col_int64 (st, 2))));
    }
    xs_sql_reset (st);
    if (rc != XS_RC_DONE) {
        json_decref (counts);
        xs_sql_fail (self, rc, err, "volume counts");
        return NULL;
    }
    return counts;
}

int
xs_store_volume_usage (xs_store_t *self, const char *project, xs_volume_usage_t *usage,
                       xs_err_t *err)
{
    *usage = (xs_volume_usage_t) {0};
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_VOLUME_USAGE, err);
    if (!st)
        return -1;
    int rc = xs_sql_step (self, st, xs_sql_bind_text (st, 1, project ? project : ""));
    if (rc == XS_RC_ROW) {
        usage->volumes = xs_sql_col_int64 (st, 0);
        usage->snapshots = xs_sql_col_int64 (st, 1);
        usage->gigabytes = xs_sql_col_int64 (st, 2);
    }
    xs_sql_reset (st);
    if (rc != XS_RC_ROW)
        return xs_sql_fail (self, rc == XS_RC_DONE ? XS_RC_ERROR : rc, err,
                            "usage of project %s", project ? project : "");
    return 0;
}

int64_t
xs_store_volume_snapshots_of (xs_store_t *self, const char *uuid, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_VOLUME_SNAPSHOTS_OF, err);
    if (!st)
        return -1;
    int rc = xs_sql_step (self, st, xs_sql_bind_text (st, 1, uuid));
    int64_t n = rc == XS_RC_ROW ? xs_sql_col_int64 (st, 0) : -1;
    xs_sql_reset (st);
    if (rc != XS_RC_ROW)
        xs_sql_fail (self, rc == XS_RC_DONE ? XS_RC_ERROR : rc, err, "snapshots of volume %s",
                     uuid);
    return n;
}

/* =========================================================================
    List pages (the Block Storage API's volume and snapshot lists)
   ========================================================================= */

/* Binds what spec selects to the marker's or the count's statement
   (xs_store_sql.c: ?1 project, ?2 name, ?3 state, ?4 parent, ?5 kind). */
static int
s_bind_match (xs_sql_stmt_t *st, const xs_volume_page_spec_t *spec)
{
    int rc = XS_RC_OK;
    XS_SQL_BIND (xs_sql_bind_text (st, 1, spec->project));
    XS_SQL_BIND (xs_sql_bind_text (st, 2, spec->name));
    XS_SQL_BIND (xs_sql_bind_text (st, 3, spec->state));
    XS_SQL_BIND (xs_sql_bind_text (st, 4, spec->parent_uuid));
    XS_SQL_BIND (xs_sql_bind_int64 (st, 5, spec->snapshots ? 1 : 0));
    return rc;
}

/* The marker's place in the order: its created_at into *created_at and
   its uuid (a new string, caller frees), or NULL with *err (XS_ENOTFOUND
   when the marker is no row that spec selects). */
static char *
s_page_marker (xs_store_t *self, const xs_volume_page_spec_t *spec, int64_t *created_at,
               xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_VOLUME_PAGE_MARKER, err);
    if (!st)
        return NULL;
    int rc = s_bind_match (st, spec);
    XS_SQL_BIND (xs_sql_bind_text (st, 6, spec->marker));
    rc = xs_sql_step (self, st, rc);
    char *uuid = NULL;
    if (rc == XS_RC_ROW) {
        *created_at = xs_sql_col_int64 (st, 0);
        uuid = xs_sql_col_text_req (st, 1);
    }
    xs_sql_reset (st);
    if (rc == XS_RC_DONE)
        xs_err_set (err, XS_ENOTFOUND, "marker %s: not found", spec->marker);
    else
    if (rc != XS_RC_ROW)
        xs_sql_fail (self, rc, err, "marker %s", spec->marker);
    return uuid;
}

xs_volume_t **
xs_store_volume_page (xs_store_t *self, const xs_volume_page_spec_t *spec, xs_err_t *err)
{
    if (!spec || spec->limit < 1 || spec->offset < 0) {
        xs_err_set (err, XS_EINVAL, "volume page: the limit must be 1 or more, the offset "
                    "0 or more");
        return NULL;
    }
    int64_t created_at = INT64_MAX;         /* no marker: past every row */
    char *uuid = NULL;
    if (spec->marker && !(uuid = s_page_marker (self, spec, &created_at, err)))
        return NULL;
    xs_sql_id_t id = spec->snapshots
                   ? (spec->project ? XS_SQL_SNAPSHOT_PAGE : XS_SQL_SNAPSHOT_PAGE_ALL)
                   : (spec->project ? XS_SQL_VOLUME_PAGE : XS_SQL_VOLUME_PAGE_ALL);
    xs_sql_stmt_t *st = xs_sql_stmt (self, id, err);
    if (!st) {
        free (uuid);
        return NULL;
    }
    int rc = XS_RC_OK;
    XS_SQL_BIND (xs_sql_bind_int64 (st, 1, created_at));
    XS_SQL_BIND (xs_sql_bind_text (st, 2, uuid ? uuid : ""));
    XS_SQL_BIND (xs_sql_bind_text (st, 3, spec->name));
    XS_SQL_BIND (xs_sql_bind_text (st, 4, spec->state));
    XS_SQL_BIND (xs_sql_bind_text (st, 5, spec->parent_uuid));
    XS_SQL_BIND (xs_sql_bind_int64 (st, 6, spec->limit < INT64_MAX ? spec->limit + 1
                                                                     : spec->limit));
    XS_SQL_BIND (xs_sql_bind_int64 (st, 7, spec->offset));
    if (spec->project)
        XS_SQL_BIND (xs_sql_bind_text (st, 8, spec->project));
    xs_volume_t **page = (xs_volume_t **) xs_sql_fetch_all (self, st, rc, s_volume_row,
                                                            s_volume_free, "volume page", err);
    free (uuid);
    return page;
}

int64_t
xs_store_volume_page_count (xs_store_t *self, const xs_volume_page_spec_t *spec, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_VOLUME_PAGE_COUNT, err);
    if (!st)
        return -1;
    int rc = xs_sql_step (self, st, s_bind_match (st, spec));
    int64_t n = rc == XS_RC_ROW ? xs_sql_col_int64 (st, 0) : -1;
    xs_sql_reset (st);
    if (rc != XS_RC_ROW)
        xs_sql_fail (self, rc == XS_RC_DONE ? XS_RC_ERROR : rc, err, "volume count");
    return n;
}
