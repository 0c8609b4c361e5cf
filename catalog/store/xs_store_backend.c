/*  xs_store_backend: backends (an SR type, its zone, device config and catalog
    settings), their state and their SR uuid. */
#include "xs_mem.h"
#include "xs_store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_backend_free (void *item)
{
    xs_backend_t *self = item;
    xs_backend_destroy (&self);
}

/* The current row as a new xs_backend_t, without its config (see
   s_backend_load_config); columns in S_BACKEND_COLS order (xs_store_sql.c).
   An xs_sql_row_fn. */
static void *
s_backend_row (xs_store_t *self, xs_sql_stmt_t *st, const char *object, xs_err_t *err)
{
    xs_backend_t *b = xs_zalloc (sizeof *b);
    b->id = xs_sql_col_int64 (st, 0);
    b->flavor_id = xs_sql_col_int64 (st, 1);
    b->flavor_label = xs_sql_col_text_req (st, 2);
    b->zone = xs_sql_col_text_req (st, 3);
    b->sr_type = xs_sql_col_text_req (st, 4);
    b->name_label = xs_sql_col_text (st, 5);
    b->sr_uuid = xs_sql_col_text (st, 6);
    const char *state = xs_sql_col_cstr (st, 7);
    b->error = xs_sql_col_text (st, 8);
    b->has_ratio = !xs_sql_col_null (st, 9);
    b->ratio = b->has_ratio ? xs_sql_col_double (st, 9) : 0.0;
    b->has_reserve = !xs_sql_col_null (st, 10);
    b->reserve = b->has_reserve ? xs_sql_col_double (st, 10) : 0.0;
    b->created_at = xs_sql_col_int64 (st, 11);
    if (xs_backend_state_from_name (state, &b->state, NULL)) {
        xs_err_set (err, XS_EIO, "%s: backend %lld has unknown state '%s'",
                    self->path, (long long) b->id, state ? state : "(null)");
        xs_backend_destroy (&b);
        return NULL;
    }
    return b;
}

/* Fills b->config from backend_config, in the order it was given. */
static int
s_backend_load_config (xs_store_t *self, xs_backend_t *b, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_CONFIG_OF, err);
    if (!st)
        return -1;
    size_t cap = 0;
    int rc = xs_sql_bind_int64 (st, 1, b->id);
    while ((rc = xs_sql_step (self, st, rc)) == XS_RC_ROW) {
        if (b->nconfig == cap) {
            cap = cap ? cap * 2 : 8;
            b->config = xs_realloc (b->config, cap * sizeof *b->config);
        }
        b->config [b->nconfig].key = xs_sql_col_text_req (st, 0);
        b->config [b->nconfig].value = xs_sql_col_text_req (st, 1);
        b->nconfig++;
        rc = XS_RC_OK;
    }
    xs_sql_reset (st);
    if (rc != XS_RC_DONE)
        return xs_sql_fail (self, rc, err, "backend %lld config", (long long) b->id);
    return 0;
}

/* The backends st selects, without their config. */
static xs_backend_t **
s_backend_rows (xs_store_t *self, xs_sql_stmt_t *st, int rc, const char *object,
                xs_err_t *err)
{
    return (xs_backend_t **) xs_sql_fetch_all (self, st, rc, s_backend_row, s_backend_free,
                                               object, err);
}

/* The backends st selects, with their config. */
static xs_backend_t **
s_backend_list (xs_store_t *self, xs_sql_stmt_t *st, int rc, const char *object, xs_err_t *err)
{
    xs_backend_t **list = s_backend_rows (self, st, rc, object, err);
    for (xs_backend_t **b = list; b && *b; b++)
        if (s_backend_load_config (self, *b, err)) {
            xs_backend_list_destroy (&list);
            break;
        }
    return list;
}

/* Checks a spec before anything is written; `object` names the backend in
   messages ("backend (flavor gold, type nfs)"). 0 or -1. */
static int
s_backend_check (const xs_backend_spec_t *spec, const char *object, xs_err_t *err)
{
    if (xs_store_empty (spec->sr_type))
        return xs_err_set (err, XS_EINVAL, "%s: an SR type is required", object);
    if (xs_store_empty (spec->zone))
        return xs_err_set (err, XS_EINVAL, "%s: a zone is required", object);
    if (spec->sr_uuid && !*spec->sr_uuid)
        return xs_err_set (err, XS_EINVAL, "%s: sr_uuid is empty", object);
    if (spec->has_ratio && !(spec->ratio > 0))
        return xs_err_set (err, XS_EINVAL, "%s: ratio must be greater than 0", object);
    if (spec->has_reserve && !(spec->reserve >= 0 && spec->reserve <= 100))
        return xs_err_set (err, XS_EINVAL, "%s: reserve must be a percentage (0 to 100)", object);
    if (spec->nconfig && !spec->config)
        return xs_err_set (err, XS_EINVAL, "%s: config missing", object);
    for (size_t i = 0; i < spec->nconfig; i++) {
        if (xs_store_empty (spec->config [i].key))
            return xs_err_set (err, XS_EINVAL, "%s: config key %zu is empty", object, i + 1);
        if (!spec->config [i].value)
            return xs_err_set (err, XS_EINVAL, "%s: config key %s has no value",
                               object, spec->config [i].key);
    }
    return 0;
}

/* Inserts the backend row of flavor `flavor_id`. Returns its id or -1. */
static int64_t
s_backend_insert (xs_store_t *self, const xs_backend_spec_t *spec, int64_t flavor_id,
                  const char *object, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_BACKEND_INSERT, err);
    if (!st)
        return -1;
    int rc = XS_RC_OK;
    XS_SQL_BIND (xs_sql_bind_int64 (st, 1, flavor_id));
    XS_SQL_BIND (xs_sql_bind_text (st, 2, spec->zone));
    XS_SQL_BIND (xs_sql_bind_text (st, 3, spec->sr_type));
    XS_SQL_BIND (xs_sql_bind_text (st, 4, spec->name_label));
    XS_SQL_BIND (xs_sql_bind_text (st, 5, spec->sr_uuid));
    XS_SQL_BIND (spec->has_ratio ? xs_sql_bind_double (st, 6, spec->ratio)
                                 : xs_sql_bind_null (st, 6));
    XS_SQL_BIND (spec->has_reserve ? xs_sql_bind_double (st, 7, spec->reserve)
                                   : xs_sql_bind_null (st, 7));
    XS_SQL_BIND (xs_sql_bind_int64 (st, 8, xs_store_now_ms ()));
    rc = xs_sql_write (self, st, rc);
    if (rc == XS_RC_CONSTRAINT_UNIQUE && spec->sr_uuid)
        return xs_err_set (err, XS_ECONFLICT, "%s: SR %s already belongs to another backend",
                           object, spec->sr_uuid);
    if (rc != XS_RC_OK)
        return xs_sql_fail (self, rc, err, "%s", object);
    return self->last_id;
}

/* Inserts backend `id`'s config rows, in the spec's order. 0 or -1. */
static int
s_backend_insert_config (xs_store_t *self, const xs_backend_spec_t *spec, int64_t id,
                         const char *object, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_CONFIG_INSERT, err);
    if (!st)
        return -1;
    for (size_t i = 0; i < spec->nconfig; i++) {
        int rc = XS_RC_OK;
        XS_SQL_BIND (xs_sql_bind_int64 (st, 1, id));
        XS_SQL_BIND (xs_sql_bind_int64 (st, 2, (int64_t) i));
        XS_SQL_BIND (xs_sql_bind_text (st, 3, spec->config [i].key));
        XS_SQL_BIND (xs_sql_bind_text (st, 4, spec->config [i].value));
        rc = xs_sql_write (self, st, rc);
        if (rc == XS_RC_CONSTRAINT_PRIMARYKEY || rc == XS_RC_CONSTRAINT_UNIQUE)
            return xs_err_set (err, XS_EINVAL, "%s: config key %s given twice",
                               object, spec->config [i].key);
        if (rc != XS_RC_OK)
            /* Never the value: it may be a secret. */
            return xs_sql_fail (self, rc, err, "%s config key %s", object,
                                spec->config [i].key);
    }
    return 0;
}

int64_t
xs_store_backend_add (xs_store_t *self, const xs_backend_spec_t *spec, xs_err_t *err)
{
    if (!spec)
        return xs_err_set (err, XS_EINVAL, "backend: no specification given");
    char object [300];
    if (spec->flavor_label)
        snprintf (object, sizeof object, "backend (flavor %s, type %s)", spec->flavor_label,
                  spec->sr_type ? spec->sr_type : "(none)");
    else
        snprintf (object, sizeof object, "backend (flavor %lld, type %s)",
                  (long long) spec->flavor_id, spec->sr_type ? spec->sr_type : "(none)");
    if (s_backend_check (spec, object, err))
        return -1;

    if (xs_sql_savepoint (self, object, err))
        return -1;
    int64_t id = -1;
    xs_flavor_t *flavor = spec->flavor_label
                        ? xs_store_flavor_get (self, spec->flavor_label, err)
                        : xs_store_flavor_get_by_id (self, spec->flavor_id, err);
    if (flavor)
        id = s_backend_insert (self, spec, flavor->id, object, err);
    if (id > 0 && s_backend_insert_config (self, spec, id, object, err))
        id = -1;
    xs_flavor_destroy (&flavor);
    if (xs_sql_savepoint_end (self, id > 0, object, err))
        return -1;
    return id;
}

xs_backend_t *
xs_store_backend_get (xs_store_t *self, int64_t id, xs_err_t *err)
{
    xs_backend_t *cached = xs_sql_cache_backend (self, id);
    if (cached)
        return cached;
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_BACKEND_GET, err);
    if (!st)
        return NULL;
    char object [64];
    snprintf (object, sizeof object, "backend %lld", (long long) id);
    xs_backend_t *b = xs_sql_fetch_one (self, st, xs_sql_bind_int64 (st, 1, id),
                                        s_backend_row, object, err);
    if (b && s_backend_load_config (self, b, err))
        xs_backend_destroy (&b);
    xs_sql_cache_put_backend (self, b);
    return b;
}

xs_backend_t **
xs_store_backend_list (xs_store_t *self, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_BACKEND_LIST, err);
    return st ? s_backend_list (self, st, XS_RC_OK, "backend list", err) : NULL;
}

xs_backend_t **
xs_store_backend_list_rows (xs_store_t *self, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_BACKEND_LIST, err);
    return st ? s_backend_rows (self, st, XS_RC_OK, "backend list", err) : NULL;
}

xs_backend_t **
xs_store_backend_list_by_flavor (xs_store_t *self, int64_t flavor_id, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_BACKEND_BY_FLAVOR, err);
    if (!st)
        return NULL;
    char object [64];
    snprintf (object, sizeof object, "backends of flavor %lld", (long long) flavor_id);
    return s_backend_list (self, st, xs_sql_bind_int64 (st, 1, flavor_id), object, err);
}

int64_t
xs_store_backend_next_of_flavor (xs_store_t *self, int64_t flavor_id, int64_t after,
                                 xs_err_t *err)
{
    int64_t next;
    if (xs_sql_cache_next (self, flavor_id, after, &next))
        return next;
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_BACKEND_NEXT_OF_FLAVOR, err);
    if (!st)
        return -1;
    int rc = xs_sql_bind_int64 (st, 1, flavor_id);
    if (rc == XS_RC_OK)
        rc = xs_sql_bind_int64 (st, 2, after);
    rc = xs_sql_step (self, st, rc);
    int64_t id = -1;
    if (rc == XS_RC_ROW)
        id = xs_sql_col_int64 (st, 0);
    else
    if (rc == XS_RC_DONE)
        id = 0;
    else
        xs_sql_fail (self, rc, err, "backends of flavor %lld", (long long) flavor_id);
    xs_sql_reset (st);
    if (id >= 0)
        xs_sql_cache_put_next (self, flavor_id, after, id);
    return id;
}

xs_backend_t **
xs_store_backend_list_by_zone (xs_store_t *self, const char *zone, xs_err_t *err)
{
    if (xs_store_empty (zone)) {
        xs_err_set (err, XS_EINVAL, "backend list: a zone is required");
        return NULL;
    }
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_BACKEND_BY_ZONE, err);
    if (!st)
        return NULL;
    char object [300];
    snprintf (object, sizeof object, "backends of zone %s", zone);
    return s_backend_list (self, st, xs_sql_bind_text (st, 1, zone), object, err);
}

int64_t
xs_store_backend_live_volumes (xs_store_t *self, int64_t id, xs_err_t *err)
{
    char object [64];
    snprintf (object, sizeof object, "backend %lld", (long long) id);
    return xs_sql_count (self, XS_SQL_BACKEND_LIVE_VOLUMES, id, object, err);
}

/* D11: a volume operation journaled on backend `id` and not finished (a
   create placed there, waiting or dispatched) keeps it: XS_ECONFLICT naming
   the first one. 0 when there is none, -1 otherwise. */
static int
s_check_not_busy (xs_store_t *self, int64_t id, const char *object, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_BACKEND_BUSY, err);
    if (!st)
        return -1;
    int rc = xs_sql_step (self, st, xs_sql_bind_int64 (st, 1, id));
    if (rc != XS_RC_ROW) {
        xs_sql_fail (self, rc == XS_RC_DONE ? XS_RC_ERROR : rc, err, "%s", object);
        xs_sql_reset (st);
        return -1;
    }
    int64_t busy = xs_sql_col_int64 (st, 0);
    char *first = busy > 0 ? xs_sql_col_text (st, 1) : NULL;
    xs_sql_reset (st);
    if (busy <= 0)
        return 0;
    xs_err_set (err, XS_ECONFLICT, "%s: %lld volume operation%s in progress on it (%s%s); "
                "wait for %s to finish", object, (long long) busy, busy == 1 ? "" : "s",
                first ? first : "?", busy > 1 ? ", ..." : "", busy == 1 ? "it" : "them");
    free (first);
    return -1;
}

int
xs_store_backend_remove (xs_store_t *self, int64_t id, xs_err_t *err)
{
    char object [64];
    snprintf (object, sizeof object, "backend %lld", (long long) id);
    if (xs_sql_savepoint (self, object, err))
        return -1;
    bool ok = false;
    int found = xs_sql_exists (self, XS_SQL_BACKEND_EXISTS, NULL, id, err);
    if (found < 0)
        goto out;
    if (!found) {
        xs_err_set (err, XS_ENOTFOUND, "%s: not found", object);
        goto out;
    }
    int64_t live = xs_sql_count (self, XS_SQL_BACKEND_LIVE_VOLUMES, id, object, err);
    if (live < 0)
        goto out;
    if (live > 0) {
        xs_err_set (err, XS_ECONFLICT, "%s: %lld volume%s still live on it", object,
                    (long long) live, live == 1 ? "" : "s");
        goto out;
    }
    if (s_check_not_busy (self, id, object, err))
        goto out;
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_BACKEND_DELETE, err);
    if (!st)
        goto out;
    int rc = xs_sql_write (self, st, xs_sql_bind_int64 (st, 1, id));
    if (rc != XS_RC_OK) {
        xs_sql_fail (self, rc, err, "%s", object);
        goto out;
    }
    ok = true;
out:
    return xs_sql_savepoint_end (self, ok, object, err);
}

int
xs_store_backend_set_state (xs_store_t *self, int64_t id, xs_backend_state_t state,
                            const char *error, xs_err_t *err)
{
    const char *name = xs_backend_state_name (state);
    if (strcmp (name, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "backend %lld: unknown state %d",
                           (long long) id, (int) state);
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_BACKEND_SET_STATE, err);
    if (!st)
        return -1;
    int rc = XS_RC_OK;
    XS_SQL_BIND (xs_sql_bind_int64 (st, 1, id));
    XS_SQL_BIND (xs_sql_bind_text (st, 2, name));
    XS_SQL_BIND (xs_sql_bind_text (st, 3, error));
    rc = xs_sql_write (self, st, rc);
    if (rc != XS_RC_OK)
        return xs_sql_fail (self, rc, err, "backend %lld", (long long) id);
    if (self->changes == 0)
        return xs_err_set (err, XS_ENOTFOUND, "backend %lld: not found", (long long) id);
    return 0;
}

int
xs_store_backend_set_error (xs_store_t *self, int64_t id, const char *error, xs_err_t *err)
{
    return xs_store_backend_set_state (self, id, XS_BACKEND_ERROR, error, err);
}

int
xs_store_backend_set_sr_uuid (xs_store_t *self, int64_t id, const char *sr_uuid, xs_err_t *err)
{
    if (xs_store_empty (sr_uuid))
        return xs_err_set (err, XS_EINVAL, "backend %lld: an SR uuid is required",
                           (long long) id);
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_BACKEND_SET_SR, err);
    if (!st)
        return -1;
    int rc = XS_RC_OK;
    XS_SQL_BIND (xs_sql_bind_int64 (st, 1, id));
    XS_SQL_BIND (xs_sql_bind_text (st, 2, sr_uuid));
    rc = xs_sql_write (self, st, rc);
    if (rc == XS_RC_CONSTRAINT_UNIQUE) {
        int64_t owner = 0;
        xs_sql_stmt_t *q = xs_sql_stmt (self, XS_SQL_BACKEND_BY_SR, NULL);
        if (q && xs_sql_step (self, q, xs_sql_bind_text (q, 1, sr_uuid)) == XS_RC_ROW)
            owner = xs_sql_col_int64 (q, 0);
        xs_sql_reset (q);
        return xs_err_set (err, XS_ECONFLICT, "backend %lld: SR %s already belongs to backend %lld",
                           (long long) id, sr_uuid, (long long) owner);
    }
    if (rc != XS_RC_OK)
        return xs_sql_fail (self, rc, err, "backend %lld", (long long) id);
    if (self->changes == 1)
        return 0;
    /* Not updated: no such backend, or its SR uuid is already set. */
    xs_backend_t *b = xs_store_backend_get (self, id, err);
    if (!b)
        return -1;
    int result = 0;
    if (!b->sr_uuid || strcmp (b->sr_uuid, sr_uuid) != 0)
        result = xs_err_set (err, XS_ECONFLICT,
                             "backend %lld: already has SR %s (only one agent ever creates "
                             "a backend's SR)", (long long) id, b->sr_uuid ? b->sr_uuid : "?");
    xs_backend_destroy (&b);
    return result;
}
