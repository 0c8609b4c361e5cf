/*  xs_store_host: hosts (agents) and their SR reports. */
#include "xs_mem.h"
#include "xs_store_int.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void
s_host_free (void *item)
{
    xs_host_t *self = item;
    xs_host_destroy (&self);
}

static void
s_sr_stats_free (void *item)
{
    xs_sr_stats_t *self = item;
    xs_sr_stats_destroy (&self);
}

/* ---------------------------------------------------------------------
   Hosts
   --------------------------------------------------------------------- */

/* The current row as a new xs_host_t; columns in S_HOST_COLS order
   (xs_store_sql.c). An xs_sql_row_fn. */
static void *
s_host_row (xs_store_t *self, sqlite3_stmt *st, const char *object, xs_err_t *err)
{
    xs_host_t *h = xs_zalloc (sizeof *h);
    h->uuid = xs_sql_col_text_req (st, 0);
    h->zone = xs_sql_col_text_req (st, 1);
    h->name = xs_sql_col_text (st, 2);
    h->public_key = xs_sql_col_text (st, 3);
    const char *state = (const char *) sqlite3_column_text (st, 4);
    h->last_seen = sqlite3_column_int64 (st, 5);
    h->created_at = sqlite3_column_int64 (st, 6);
    if (xs_host_state_from_name (state, &h->state, NULL)) {
        xs_err_set (err, XS_EIO, "%s: host %s has unknown state '%s'",
                    self->path, h->uuid, state ? state : "(null)");
        xs_host_destroy (&h);
        return NULL;
    }
    return h;
}

int
xs_store_host_upsert (xs_store_t *self, const xs_host_spec_t *host, xs_err_t *err)
{
    if (!host || xs_store_empty (host->uuid))
        return xs_err_set (err, XS_EINVAL, "host: a uuid is required");
    if (xs_store_empty (host->zone))
        return xs_err_set (err, XS_EINVAL, "host %s: a zone is required", host->uuid);
    const char *state = xs_host_state_name (host->state);
    if (strcmp (state, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "host %s: unknown state %d", host->uuid,
                           (int) host->state);
    sqlite3_stmt *st = xs_sql_stmt (self, XS_SQL_HOST_UPSERT, err);
    if (!st)
        return -1;
    int64_t now = xs_store_now_ms ();
    int rc = SQLITE_OK;
    XS_SQL_BIND (xs_sql_bind_text (st, 1, host->uuid));
    XS_SQL_BIND (xs_sql_bind_text (st, 2, host->zone));
    XS_SQL_BIND (xs_sql_bind_text (st, 3, host->name));
    XS_SQL_BIND (xs_sql_bind_text (st, 4, host->public_key));
    XS_SQL_BIND (xs_sql_bind_text (st, 5, state));
    XS_SQL_BIND (sqlite3_bind_int64 (st, 6, host->last_seen ? host->last_seen : now));
    XS_SQL_BIND (sqlite3_bind_int64 (st, 7, now));
    rc = xs_sql_write (self, st, rc);
    return rc == SQLITE_OK ? 0 : xs_sql_fail (self, rc, err, "host %s", host->uuid);
}

xs_host_t *
xs_store_host_get (xs_store_t *self, const char *uuid, xs_err_t *err)
{
    if (xs_store_empty (uuid)) {
        xs_err_set (err, XS_EINVAL, "host: a uuid is required");
        return NULL;
    }
    sqlite3_stmt *st = xs_sql_stmt (self, XS_SQL_HOST_GET, err);
    if (!st)
        return NULL;
    char object [300];
    snprintf (object, sizeof object, "host %s", uuid);
    return xs_sql_fetch_one (self, st, xs_sql_bind_text (st, 1, uuid), s_host_row, object, err);
}

xs_host_t **
xs_store_host_list (xs_store_t *self, const char *zone, xs_err_t *err)
{
    sqlite3_stmt *st = xs_sql_stmt (self, XS_SQL_HOST_LIST, err);
    if (!st)
        return NULL;
    return (xs_host_t **) xs_sql_fetch_all (self, st, xs_sql_bind_text (st, 1, zone), s_host_row,
                                            s_host_free, "host list", err);
}

/* Runs an UPDATE/DELETE keyed by a host uuid; XS_ENOTFOUND when no row. */
static int
s_host_write (xs_store_t *self, xs_sql_id_t id, const char *uuid, bool has_arg,
              const char *text_arg, int64_t int_arg, xs_err_t *err)
{
    if (xs_store_empty (uuid))
        return xs_err_set (err, XS_EINVAL, "host: a uuid is required");
    sqlite3_stmt *st = xs_sql_stmt (self, id, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    XS_SQL_BIND (xs_sql_bind_text (st, 1, uuid));
    if (has_arg)
        XS_SQL_BIND (text_arg ? xs_sql_bind_text (st, 2, text_arg)
                              : sqlite3_bind_int64 (st, 2, int_arg));
    rc = xs_sql_write (self, st, rc);
    if (rc != SQLITE_OK)
        return xs_sql_fail (self, rc, err, "host %s", uuid);
    if (sqlite3_changes (self->db) == 0)
        return xs_err_set (err, XS_ENOTFOUND, "host %s: not found", uuid);
    return 0;
}

int
xs_store_host_set_state (xs_store_t *self, const char *uuid, xs_host_state_t state,
                         xs_err_t *err)
{
    const char *name = xs_host_state_name (state);
    if (strcmp (name, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "host %s: unknown state %d",
                           uuid ? uuid : "(null)", (int) state);
    return s_host_write (self, XS_SQL_HOST_SET_STATE, uuid, true, name, 0, err);
}

int
xs_store_host_touch (xs_store_t *self, const char *uuid, int64_t when, xs_err_t *err)
{
    return s_host_write (self, XS_SQL_HOST_TOUCH, uuid, true, NULL,
                         when ? when : xs_store_now_ms (), err);
}

int
xs_store_host_remove (xs_store_t *self, const char *uuid, xs_err_t *err)
{
    return s_host_write (self, XS_SQL_HOST_DELETE, uuid, false, NULL, 0, err);
}

/* ---------------------------------------------------------------------
   SR reports: what each host last said about each backend's SR
   --------------------------------------------------------------------- */

/* The current row as a new xs_sr_stats_t; columns in S_SR_COLS order
   (xs_store_sql.c). An xs_sql_row_fn. */
static void *
s_sr_row (xs_store_t *self, sqlite3_stmt *st, const char *object, xs_err_t *err)
{
    xs_sr_stats_t *s = xs_zalloc (sizeof *s);
    s->host_uuid = xs_sql_col_text_req (st, 0);
    s->backend_id = sqlite3_column_int64 (st, 1);
    s->attached = sqlite3_column_int (st, 2) != 0;
    s->has_stats = sqlite3_column_type (st, 3) != SQLITE_NULL;
    s->physical_size = sqlite3_column_int64 (st, 3);
    s->physical_utilisation = sqlite3_column_int64 (st, 4);
    s->virtual_allocation = sqlite3_column_int64 (st, 5);
    s->updated_at = sqlite3_column_int64 (st, 7);
    const char *caps = (const char *) sqlite3_column_text (st, 6);
    json_t *array = caps ? json_loads (caps, 0, NULL) : NULL;
    if (!json_is_array (array)) {
        xs_err_set (err, XS_EIO, "%s: SR report of backend %lld on host %s: "
                    "capabilities are not a JSON list", self->path,
                    (long long) s->backend_id, s->host_uuid);
        json_decref (array);
        xs_sr_stats_destroy (&s);
        return NULL;
    }
    s->capabilities = xs_zalloc ((json_array_size (array) + 1) * sizeof *s->capabilities);
    size_t i;
    json_t *item;
    json_array_foreach (array, i, item)
        if (json_is_string (item))
            s->capabilities [s->ncapabilities++] = xs_strdup (json_string_value (item));
    json_decref (array);
    return s;
}

/* Names the missing end of a (host, backend) pair after a foreign-key failure. */
static int
s_sr_missing (xs_store_t *self, const char *host_uuid, int64_t backend_id, xs_err_t *err)
{
    int host = xs_sql_exists (self, XS_SQL_HOST_EXISTS, host_uuid, 0, err);
    if (host < 0)
        return -1;
    if (!host)
        return xs_err_set (err, XS_ENOTFOUND, "host %s: not found", host_uuid);
    return xs_err_set (err, XS_ENOTFOUND, "backend %lld: not found", (long long) backend_id);
}

int
xs_store_sr_stats_upsert (xs_store_t *self, const xs_sr_stats_spec_t *stats,
                          xs_err_t *err)
{
    if (!stats || xs_store_empty (stats->host_uuid))
        return xs_err_set (err, XS_EINVAL, "SR report: a host uuid is required");
    if (stats->ncapabilities && !stats->capabilities)
        return xs_err_set (err, XS_EINVAL, "SR report of backend %lld on host %s: "
                           "capabilities missing", (long long) stats->backend_id,
                           stats->host_uuid);
    json_t *array = json_array ();
    for (size_t i = 0; i < stats->ncapabilities; i++)
        if (stats->capabilities [i])
            json_array_append_new (array, json_string (stats->capabilities [i]));
    char *caps = json_dumps (array, JSON_COMPACT);
    json_decref (array);
    if (!caps)
        return xs_err_set (err, XS_EINVAL, "SR report of backend %lld on host %s: "
                           "capabilities are not valid UTF-8", (long long) stats->backend_id,
                           stats->host_uuid);
    int result = -1;
    sqlite3_stmt *st = xs_sql_stmt (self, XS_SQL_SR_UPSERT, err);
    if (!st)
        goto out;
    int rc = SQLITE_OK;
    XS_SQL_BIND (xs_sql_bind_text (st, 1, stats->host_uuid));
    XS_SQL_BIND (sqlite3_bind_int64 (st, 2, stats->backend_id));
    XS_SQL_BIND (sqlite3_bind_int (st, 3, stats->attached ? 1 : 0));
    if (stats->has_stats) {
        XS_SQL_BIND (sqlite3_bind_int64 (st, 4, stats->physical_size));
        XS_SQL_BIND (sqlite3_bind_int64 (st, 5, stats->physical_utilisation));
        XS_SQL_BIND (sqlite3_bind_int64 (st, 6, stats->virtual_allocation));
    }
    else {
        XS_SQL_BIND (sqlite3_bind_null (st, 4));
        XS_SQL_BIND (sqlite3_bind_null (st, 5));
        XS_SQL_BIND (sqlite3_bind_null (st, 6));
    }
    XS_SQL_BIND (xs_sql_bind_text (st, 7, caps));
    XS_SQL_BIND (sqlite3_bind_int64 (st, 8, xs_store_now_ms ()));
    rc = xs_sql_write (self, st, rc);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        s_sr_missing (self, stats->host_uuid, stats->backend_id, err);
    else
    if (rc != SQLITE_OK)
        xs_sql_fail (self, rc, err, "SR report of backend %lld on host %s",
                     (long long) stats->backend_id, stats->host_uuid);
    else
        result = 0;
out:
    free (caps);
    return result;
}

int
xs_store_sr_set_attached (xs_store_t *self, const char *host_uuid, int64_t backend_id,
                          bool attached, xs_err_t *err)
{
    if (xs_store_empty (host_uuid))
        return xs_err_set (err, XS_EINVAL, "SR report: a host uuid is required");
    sqlite3_stmt *st = xs_sql_stmt (self, XS_SQL_SR_SET_ATTACHED, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    XS_SQL_BIND (xs_sql_bind_text (st, 1, host_uuid));
    XS_SQL_BIND (sqlite3_bind_int64 (st, 2, backend_id));
    XS_SQL_BIND (sqlite3_bind_int (st, 3, attached ? 1 : 0));
    XS_SQL_BIND (sqlite3_bind_int64 (st, 4, xs_store_now_ms ()));
    rc = xs_sql_write (self, st, rc);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return s_sr_missing (self, host_uuid, backend_id, err);
    if (rc != SQLITE_OK)
        return xs_sql_fail (self, rc, err, "SR of backend %lld on host %s",
                            (long long) backend_id, host_uuid);
    return 0;
}

xs_sr_stats_t **
xs_store_sr_stats_list (xs_store_t *self, int64_t backend_id, const char *host_uuid,
                        xs_err_t *err)
{
    sqlite3_stmt *st = xs_sql_stmt (self, XS_SQL_SR_LIST, err);
    if (!st)
        return NULL;
    int rc = SQLITE_OK;
    XS_SQL_BIND (sqlite3_bind_int64 (st, 1, backend_id));
    XS_SQL_BIND (xs_sql_bind_text (st, 2, host_uuid));
    return (xs_sr_stats_t **) xs_sql_fetch_all (self, st, rc, s_sr_row, s_sr_stats_free,
                                                "SR report list", err);
}
