/*  xs_store_job: the job journal (every operation sent to an agent, with
    its outcome; what a restart resumes) and the placement attempts of each
    volume (what `volume show` explains a placement with). */
#include "xs_mem.h"
#include "xs_store_int.h"

#include <stdio.h>
#include <string.h>

static void
s_job_free (void *item)
{
    xs_job_t *self = item;
    xs_job_destroy (&self);
}

static void
s_attempt_free (void *item)
{
    xs_attempt_t *self = item;
    xs_attempt_destroy (&self);
}

/* ---------------------------------------------------------------------
   Jobs
   --------------------------------------------------------------------- */

/* The current row as a new xs_job_t; columns in S_JOB_COLS order
   (xs_store_sql.c). An xs_sql_row_fn. */
static void *
s_job_row (xs_store_t *self, sqlite3_stmt *st, const char *object, xs_err_t *err)
{
    xs_job_t *j = xs_zalloc (sizeof *j);
    j->id = sqlite3_column_int64 (st, 0);
    j->volume_uuid = xs_sql_col_text (st, 1);
    j->op = xs_sql_col_text_req (st, 2);
    j->args = xs_sql_col_text (st, 3);
    const char *state = (const char *) sqlite3_column_text (st, 4);
    j->backend_id = sqlite3_column_int64 (st, 5);
    j->host_uuid = xs_sql_col_text (st, 6);
    j->result = xs_sql_col_text (st, 7);
    j->error = xs_sql_col_text (st, 8);
    j->created_at = sqlite3_column_int64 (st, 9);
    j->updated_at = sqlite3_column_int64 (st, 10);
    if (xs_job_state_from_name (state, &j->state, NULL)) {
        xs_err_set (err, XS_EIO, "%s: job %lld has unknown state '%s'",
                    self->path, (long long) j->id, state ? state : "(null)");
        xs_job_destroy (&j);
        return NULL;
    }
    return j;
}

int64_t
xs_store_job_insert (xs_store_t *self, const xs_job_spec_t *job, xs_err_t *err)
{
    if (!job || xs_store_empty (job->op))
        return xs_err_set (err, XS_EINVAL, "job: an op is required");
    const char *state = xs_job_state_name (job->state);
    if (strcmp (state, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "job %s: unknown state %d", job->op, (int) job->state);
    sqlite3_stmt *st = xs_sql_stmt (self, XS_SQL_JOB_INSERT, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    XS_SQL_BIND (xs_sql_bind_text (st, 1, job->volume_uuid));
    XS_SQL_BIND (xs_sql_bind_text (st, 2, job->op));
    XS_SQL_BIND (xs_sql_bind_text (st, 3, job->args));
    XS_SQL_BIND (xs_sql_bind_text (st, 4, state));
    XS_SQL_BIND (xs_sql_bind_id (st, 5, job->backend_id));
    XS_SQL_BIND (xs_sql_bind_text (st, 6, job->host_uuid));
    XS_SQL_BIND (xs_sql_bind_text (st, 7, job->result));
    XS_SQL_BIND (xs_sql_bind_text (st, 8, job->error));
    XS_SQL_BIND (sqlite3_bind_int64 (st, 9, xs_store_now_ms ()));
    rc = xs_sql_write (self, st, rc);
    if (rc == SQLITE_OK)
        return sqlite3_last_insert_rowid (self->db);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return xs_err_set (err, XS_ENOTFOUND, "job %s: volume %s not found", job->op,
                           job->volume_uuid ? job->volume_uuid : "?");
    return xs_sql_fail (self, rc, err, "job %s of volume %s", job->op,
                        job->volume_uuid ? job->volume_uuid : "(none)");
}

xs_job_t *
xs_store_job_get (xs_store_t *self, int64_t id, xs_err_t *err)
{
    sqlite3_stmt *st = xs_sql_stmt (self, XS_SQL_JOB_GET, err);
    if (!st)
        return NULL;
    char object [64];
    snprintf (object, sizeof object, "job %lld", (long long) id);
    return xs_sql_fetch_one (self, st, sqlite3_bind_int64 (st, 1, id), s_job_row, object, err);
}

int
xs_store_job_update (xs_store_t *self, int64_t id, const xs_job_spec_t *job, xs_err_t *err)
{
    if (!job)
        return xs_err_set (err, XS_EINVAL, "job: nothing to update");
    const char *state = xs_job_state_name (job->state);
    if (strcmp (state, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "job %lld: unknown state %d",
                           (long long) id, (int) job->state);
    sqlite3_stmt *st = xs_sql_stmt (self, XS_SQL_JOB_UPDATE, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    XS_SQL_BIND (sqlite3_bind_int64 (st, 1, id));
    XS_SQL_BIND (xs_sql_bind_text (st, 2, state));
    XS_SQL_BIND (xs_sql_bind_id (st, 3, job->backend_id));
    XS_SQL_BIND (xs_sql_bind_text (st, 4, job->host_uuid));
    XS_SQL_BIND (xs_sql_bind_text (st, 5, job->result));
    XS_SQL_BIND (xs_sql_bind_text (st, 6, job->error));
    XS_SQL_BIND (sqlite3_bind_int64 (st, 7, xs_store_now_ms ()));
    rc = xs_sql_write (self, st, rc);
    if (rc != SQLITE_OK)
        return xs_sql_fail (self, rc, err, "job %lld", (long long) id);
    if (sqlite3_changes (self->db) == 0)
        return xs_err_set (err, XS_ENOTFOUND, "job %lld: not found", (long long) id);
    return 0;
}

xs_job_t **
xs_store_job_list_unfinished (xs_store_t *self, xs_err_t *err)
{
    sqlite3_stmt *st = xs_sql_stmt (self, XS_SQL_JOB_UNFINISHED, err);
    if (!st)
        return NULL;
    return (xs_job_t **) xs_sql_fetch_all (self, st, SQLITE_OK, s_job_row, s_job_free,
                                           "unfinished jobs", err);
}

xs_job_t **
xs_store_job_list_by_volume (xs_store_t *self, const char *volume_uuid, xs_err_t *err)
{
    if (xs_store_empty (volume_uuid)) {
        xs_err_set (err, XS_EINVAL, "jobs: a volume uuid is required");
        return NULL;
    }
    sqlite3_stmt *st = xs_sql_stmt (self, XS_SQL_JOB_BY_VOLUME, err);
    if (!st)
        return NULL;
    char object [300];
    snprintf (object, sizeof object, "jobs of volume %s", volume_uuid);
    return (xs_job_t **) xs_sql_fetch_all (self, st, xs_sql_bind_text (st, 1, volume_uuid),
                                           s_job_row, s_job_free, object, err);
}

/* ---------------------------------------------------------------------
   Placement attempts
   --------------------------------------------------------------------- */

/* The current row as a new xs_attempt_t; columns in S_ATTEMPT_COLS order
   (xs_store_sql.c). An xs_sql_row_fn. */
static void *
s_attempt_row (xs_store_t *self, sqlite3_stmt *st, const char *object, xs_err_t *err)
{
    xs_attempt_t *a = xs_zalloc (sizeof *a);
    a->id = sqlite3_column_int64 (st, 0);
    a->volume_uuid = xs_sql_col_text_req (st, 1);
    a->backend_id = sqlite3_column_int64 (st, 2);
    a->host_uuid = xs_sql_col_text (st, 3);
    const char *outcome = (const char *) sqlite3_column_text (st, 4);
    a->reason = xs_sql_col_text (st, 5);
    a->at = sqlite3_column_int64 (st, 6);
    if (xs_attempt_outcome_from_name (outcome, &a->outcome, NULL)) {
        xs_err_set (err, XS_EIO, "%s: attempt %lld has unknown outcome '%s'",
                    self->path, (long long) a->id, outcome ? outcome : "(null)");
        xs_attempt_destroy (&a);
        return NULL;
    }
    return a;
}

int64_t
xs_store_attempt_insert (xs_store_t *self, const xs_attempt_spec_t *attempt,
                         xs_err_t *err)
{
    if (!attempt || xs_store_empty (attempt->volume_uuid))
        return xs_err_set (err, XS_EINVAL, "attempt: a volume uuid is required");
    const char *outcome = xs_attempt_outcome_name (attempt->outcome);
    if (strcmp (outcome, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "attempt for volume %s: unknown outcome %d",
                           attempt->volume_uuid, (int) attempt->outcome);
    sqlite3_stmt *st = xs_sql_stmt (self, XS_SQL_ATTEMPT_INSERT, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    XS_SQL_BIND (xs_sql_bind_text (st, 1, attempt->volume_uuid));
    XS_SQL_BIND (sqlite3_bind_int64 (st, 2, attempt->backend_id));
    XS_SQL_BIND (xs_sql_bind_text (st, 3, attempt->host_uuid));
    XS_SQL_BIND (xs_sql_bind_text (st, 4, outcome));
    XS_SQL_BIND (xs_sql_bind_text (st, 5, attempt->reason));
    XS_SQL_BIND (sqlite3_bind_int64 (st, 6, attempt->at ? attempt->at : xs_store_now_ms ()));
    rc = xs_sql_write (self, st, rc);
    if (rc == SQLITE_OK)
        return sqlite3_last_insert_rowid (self->db);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return xs_err_set (err, XS_ENOTFOUND, "attempt: volume %s not found",
                           attempt->volume_uuid);
    return xs_sql_fail (self, rc, err, "attempt for volume %s", attempt->volume_uuid);
}

xs_attempt_t **
xs_store_attempt_list_by_volume (xs_store_t *self, const char *volume_uuid, xs_err_t *err)
{
    if (xs_store_empty (volume_uuid)) {
        xs_err_set (err, XS_EINVAL, "attempts: a volume uuid is required");
        return NULL;
    }
    sqlite3_stmt *st = xs_sql_stmt (self, XS_SQL_ATTEMPT_BY_VOLUME, err);
    if (!st)
        return NULL;
    char object [300];
    snprintf (object, sizeof object, "attempts of volume %s", volume_uuid);
    return (xs_attempt_t **) xs_sql_fetch_all (self, st, xs_sql_bind_text (st, 1, volume_uuid),
                                               s_attempt_row, s_attempt_free, object, err);
}
