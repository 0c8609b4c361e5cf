/*  xs_store_flavor: flavors (volume types such as gold). */
#include "xs_mem.h"
#include "xs_store_int.h"

#include <stdio.h>
#include <string.h>

static void
s_flavor_free (void *item)
{
    xs_flavor_t *self = item;
    xs_flavor_destroy (&self);
}

/* The current row as a new xs_flavor_t; columns in S_FLAVOR_COLS order
   (xs_store_sql.c). An xs_sql_row_fn. */
static void *
s_flavor_row (xs_store_t *self, xs_sql_stmt_t *st, const char *object, xs_err_t *err)
{
    xs_flavor_t *f = xs_zalloc (sizeof *f);
    f->id = xs_sql_col_int64 (st, 0);
    f->label = xs_sql_col_text_req (st, 1);
    f->description = xs_sql_col_text_req (st, 2);
    f->created_at = xs_sql_col_int64 (st, 3);
    return f;
}

int64_t
xs_store_flavor_create (xs_store_t *self, const char *label, const char *description,
                        xs_err_t *err)
{
    if (xs_store_empty (label))
        return xs_err_set (err, XS_EINVAL, "flavor: a label is required");
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_FLAVOR_INSERT, err);
    if (!st)
        return -1;
    int rc = XS_RC_OK;
    XS_SQL_BIND (xs_sql_bind_text (st, 1, label));
    XS_SQL_BIND (xs_sql_bind_text (st, 2, description ? description : ""));
    XS_SQL_BIND (xs_sql_bind_int64 (st, 3, xs_store_now_ms ()));
    rc = xs_sql_write (self, st, rc);
    if (rc == XS_RC_OK)
        return self->last_id;
    if (rc == XS_RC_CONSTRAINT_UNIQUE)
        return xs_err_set (err, XS_ECONFLICT, "flavor %s: already exists", label);
    return xs_sql_fail (self, rc, err, "flavor %s", label);
}

xs_flavor_t *
xs_store_flavor_get (xs_store_t *self, const char *label, xs_err_t *err)
{
    if (xs_store_empty (label)) {
        xs_err_set (err, XS_EINVAL, "flavor: a label is required");
        return NULL;
    }
    xs_flavor_t *f = xs_sql_cache_flavor (self, label, 0);
    if (f)
        return f;
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_FLAVOR_BY_LABEL, err);
    if (!st)
        return NULL;
    char object [300];
    snprintf (object, sizeof object, "flavor %s", label);
    f = xs_sql_fetch_one (self, st, xs_sql_bind_text (st, 1, label), s_flavor_row, object, err);
    xs_sql_cache_put_flavor (self, f);
    return f;
}

xs_flavor_t *
xs_store_flavor_get_by_id (xs_store_t *self, int64_t id, xs_err_t *err)
{
    xs_flavor_t *f = xs_sql_cache_flavor (self, NULL, id);
    if (f)
        return f;
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_FLAVOR_BY_ID, err);
    if (!st)
        return NULL;
    char object [64];
    snprintf (object, sizeof object, "flavor %lld", (long long) id);
    f = xs_sql_fetch_one (self, st, xs_sql_bind_int64 (st, 1, id), s_flavor_row, object, err);
    xs_sql_cache_put_flavor (self, f);
    return f;
}

xs_flavor_t **
xs_store_flavor_list (xs_store_t *self, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_FLAVOR_LIST, err);
    if (!st)
        return NULL;
    return (xs_flavor_t **) xs_sql_fetch_all (self, st, XS_RC_OK, s_flavor_row,
                                              s_flavor_free, "flavor list", err);
}

int
xs_store_flavor_delete (xs_store_t *self, const char *label, xs_err_t *err)
{
    char object [300];
    snprintf (object, sizeof object, "flavor %s", label ? label : "(null)");
    if (xs_sql_savepoint (self, object, err))
        return -1;
    bool ok = false;
    xs_flavor_t *flavor = xs_store_flavor_get (self, label, err);
    if (!flavor)
        goto out;
    int64_t backends = xs_sql_count (self, XS_SQL_FLAVOR_BACKENDS, flavor->id, object, err);
    if (backends < 0)
        goto out;
    if (backends > 0) {
        xs_err_set (err, XS_ECONFLICT, "%s: %lld backend%s still use%s it", object,
                    (long long) backends, backends == 1 ? "" : "s", backends == 1 ? "s" : "");
        goto out;
    }
    int64_t volumes = xs_sql_count (self, XS_SQL_FLAVOR_LIVE_VOLUMES, flavor->id, object, err);
    if (volumes < 0)
        goto out;
    if (volumes > 0) {
        xs_err_set (err, XS_ECONFLICT, "%s: %lld live volume%s still use%s it", object,
                    (long long) volumes, volumes == 1 ? "" : "s", volumes == 1 ? "s" : "");
        goto out;
    }
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_FLAVOR_DELETE, err);
    if (!st)
        goto out;
    int rc = xs_sql_write (self, st, xs_sql_bind_int64 (st, 1, flavor->id));
    if (rc != XS_RC_OK) {
        xs_sql_fail (self, rc, err, "%s", object);
        goto out;
    }
    ok = true;
out:
    xs_flavor_destroy (&flavor);
    return xs_sql_savepoint_end (self, ok, object, err);
}
