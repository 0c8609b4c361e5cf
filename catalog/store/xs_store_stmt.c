/*  xs_store_stmt: the machinery the table files share (declared in
    xs_store_int.h), over the store's driver: the statement cache, binding,
    stepping, fetching rows into row structs, savepoints, and turning the
    database's failures into xs_err_t. No SQL text here: that is
    xs_store_sql.c (SQLite) and xs_store_pg_sql.c (PostgreSQL).
*/
#include "xs_mem.h"
#include "xs_store_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
xs_store_empty (const char *text)
{
    return !text || !*text;
}

/* ---------------------------------------------------------------------
   Columns and parameters
   --------------------------------------------------------------------- */

/* Text column as a fresh string, NULL for SQL NULL. */
char *
xs_sql_col_text (xs_sql_stmt_t *st, int i)
{
    const char *t = st->store->drv->col_text (st, i);
    return t ? xs_strdup (t) : NULL;
}

/* Text column that the schema says is NOT NULL; "" if the database disagrees. */
char *
xs_sql_col_text_req (xs_sql_stmt_t *st, int i)
{
    const char *t = st->store->drv->col_text (st, i);
    return xs_strdup (t ? t : "");
}

const char *
xs_sql_col_cstr (xs_sql_stmt_t *st, int i)
{
    return st->store->drv->col_text (st, i);
}

int64_t
xs_sql_col_int64 (xs_sql_stmt_t *st, int i)
{
    return st->store->drv->col_int64 (st, i);
}

double
xs_sql_col_double (xs_sql_stmt_t *st, int i)
{
    return st->store->drv->col_double (st, i);
}

bool
xs_sql_col_null (xs_sql_stmt_t *st, int i)
{
    return st->store->drv->col_null (st, i);
}

int
xs_sql_bind_text (xs_sql_stmt_t *st, int i, const char *s)
{
    return s ? st->store->drv->bind_text (st, i, s) : st->store->drv->bind_null (st, i);
}

/* Binds an id; 0 (none) becomes NULL. */
int
xs_sql_bind_id (xs_sql_stmt_t *st, int i, int64_t id)
{
    return id ? st->store->drv->bind_int64 (st, i, id) : st->store->drv->bind_null (st, i);
}

int
xs_sql_bind_int64 (xs_sql_stmt_t *st, int i, int64_t value)
{
    return st->store->drv->bind_int64 (st, i, value);
}

int
xs_sql_bind_double (xs_sql_stmt_t *st, int i, double value)
{
    return st->store->drv->bind_double (st, i, value);
}

int
xs_sql_bind_null (xs_sql_stmt_t *st, int i)
{
    return st->store->drv->bind_null (st, i);
}

/* ---------------------------------------------------------------------
   Statements and errors
   --------------------------------------------------------------------- */

void
xs_sql_set_errmsg (xs_store_t *self, const char *msg)
{
    snprintf (self->errmsg, sizeof self->errmsg, "%s", msg ? msg : "unknown error");
}

int
xs_sql_fail (xs_store_t *self, int rc, xs_err_t *err, const char *fmt, ...)
{
    char object [512];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (object, sizeof object, fmt, ap);
    va_end (ap);

    const char *tail = "";
    if (self->in_txn && !self->txn_lost && self->drv->autocommit (self)) {
        xs_sql_txn_lost (self);
        tail = "; the open transaction was rolled back (nothing of it will be stored)";
    }
    if ((rc & 0xff) == XS_RC_CONSTRAINT)
        return xs_err_set (err, XS_ECONFLICT, "%s: %s%s", object, self->errmsg, tail);
    if (rc == XS_RC_NOTLEADER)
        return xs_err_set (err, XS_ENOTLEADER, "%s (%s)", self->errmsg, object);
    return xs_err_set (err, XS_EIO, "%s: %s (%s)%s", self->path, self->errmsg, object, tail);
}

void
xs_sql_txn_lost (xs_store_t *self)
{
    if (self->in_txn && !self->txn_lost) {
        self->txn_lost = true;
        snprintf (self->txn_lost_why, sizeof self->txn_lost_why, "%s", self->errmsg);
    }
}

/* The prepared statement `id`, reset and unbound, or NULL with *err set. */
xs_sql_stmt_t *
xs_sql_stmt (xs_store_t *self, xs_sql_id_t id, xs_err_t *err)
{
    if (self->txn_lost && id != XS_SQL_ROLLBACK) {
        xs_err_set (err, XS_EIO, "%s: the open transaction was rolled back by an earlier "
                    "failure (%s): roll it back", self->path, self->txn_lost_why);
        return NULL;
    }
    xs_sql_stmt_t *st = &self->stmts [id];
    self->statements++;
    self->round_trips++;
    xs_sql_cache_touch (self, id);
    if (!st->h) {
        int rc = self->drv->prepare (self, st);
        if (rc != XS_RC_OK) {
            xs_sql_fail (self, rc, err, "preparing statement %d", (int) id);
            return NULL;
        }
    }
    return st;
}

/* Resets a statement after use and drops its (borrowed) bindings. */
void
xs_sql_reset (xs_sql_stmt_t *st)
{
    if (st && st->h)
        st->store->drv->reset (st);
}

/* Steps `st` unless binding already failed (`rc` != XS_RC_OK); the driver
   keeps its message on failure. Returns XS_RC_ROW, XS_RC_DONE or an error. */
int
xs_sql_step (xs_store_t *self, xs_sql_stmt_t *st, int rc)
{
    if (rc == XS_RC_OK)
        rc = self->drv->step (st);
    return rc;
}

/* Runs a statement without parameters (BEGIN, SAVEPOINT, ...). */
int
xs_sql_exec (xs_store_t *self, xs_sql_id_t id)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, id, NULL);
    if (!st)
        return XS_RC_ERROR;
    int rc = xs_sql_step (self, st, XS_RC_OK);
    xs_sql_reset (st);
    return rc == XS_RC_DONE ? XS_RC_OK : rc;
}

/* ---------------------------------------------------------------------
   Savepoints
   --------------------------------------------------------------------- */

int
xs_sql_savepoint (xs_store_t *self, const char *object, xs_err_t *err)
{
    bool outer = self->op_depth == 0 && self->drv->autocommit (self);
    if (outer && self->fenced)
        return xs_sql_fence (self, err);
    if (outer && self->drv->before_begin && self->drv->before_begin (self, err))
        return -1;
    int rc = xs_sql_exec (self, outer ? XS_SQL_BEGIN : XS_SQL_SAVEPOINT);
    if (rc != XS_RC_OK)
        return xs_sql_fail (self, rc, err, "%s", object);
    if (outer && xs_sql_fence (self, err)) {
        if (!self->drv->autocommit (self))
            xs_sql_exec (self, XS_SQL_ROLLBACK);
        return xs_err_prefix (err, "%s", object);
    }
    if (self->op_depth++ == 0)
        self->op_outer = outer;
    return 0;
}

/* Ends the operation's savepoint: releases it (or, when it began a
   transaction, commits that) when `ok`, else undoes it (leaving *err as the
   failed step set it). Returns 0 or -1. */
int
xs_sql_savepoint_end (xs_store_t *self, bool ok, const char *object, xs_err_t *err)
{
    bool outer = --self->op_depth == 0 && self->op_outer;
    if (ok) {
        int rc = xs_sql_exec (self, outer ? XS_SQL_COMMIT : XS_SQL_RELEASE);
        if (rc == XS_RC_OK)
            return 0;
        xs_sql_fail (self, rc, err, "%s", object);
        /* Outside a transaction this was the commit; if that failed,
           give up the whole thing. */
        if (outer && !self->drv->autocommit (self))
            xs_sql_exec (self, XS_SQL_ROLLBACK);
        return -1;
    }
    xs_sql_cache_clear (self);          /* what was read in it may be undone */
    if (!self->drv->autocommit (self)) {
        if (outer)
            xs_sql_exec (self, XS_SQL_ROLLBACK);
        else {
            xs_sql_exec (self, XS_SQL_ROLLBACK_TO);
            xs_sql_exec (self, XS_SQL_RELEASE);
        }
    }
    if (self->in_txn && self->drv->autocommit (self))
        xs_sql_txn_lost (self);
    return -1;
}

/* 1 when the row selected by statement `id` bound to text/int exists,
   0 when not, -1 on error. */
int
xs_sql_exists (xs_store_t *self, xs_sql_id_t id, const char *text, int64_t num,
               xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, id, err);
    if (!st)
        return -1;
    int rc = text ? xs_sql_bind_text (st, 1, text) : xs_sql_bind_int64 (st, 1, num);
    rc = xs_sql_step (self, st, rc);
    xs_sql_reset (st);
    if (rc == XS_RC_ROW)
        return 1;
    if (rc == XS_RC_DONE)
        return 0;
    return xs_sql_fail (self, rc, err, "lookup");
}

/* Runs a single-row count query bound to one id or text. -1 on error. */
int64_t
xs_sql_count (xs_store_t *self, xs_sql_id_t id, int64_t num, const char *object,
              xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, id, err);
    if (!st)
        return -1;
    int rc = xs_sql_step (self, st, xs_sql_bind_int64 (st, 1, num));
    int64_t n = -1;
    if (rc == XS_RC_ROW)
        n = xs_sql_col_int64 (st, 0);
    else
        xs_sql_fail (self, rc == XS_RC_DONE ? XS_RC_ERROR : rc, err, "%s", object);
    xs_sql_reset (st);
    return n;
}

/* Runs a write statement whose parameters are bound (`rc` carries the bind
   result). Returns XS_RC_OK, or the error (message kept). On a driver with
   step_savepoint, a write inside the caller's transaction (and outside an
   operation's own savepoint) runs in a savepoint of its own, so that its
   failure undoes only itself. */
int
xs_sql_write (xs_store_t *self, xs_sql_stmt_t *st, int rc)
{
    /* A leader's (or a fenced store's) write outside any transaction gets
       one of its own, which the fence checks. */
    if (rc == XS_RC_OK && !self->leader_op && self->op_depth == 0 && !self->in_txn
    &&  (self->lead_generation > 0 || self->fenced || self->shared)) {
        xs_err_t err;
        if (xs_sql_savepoint (self, "write", &err)) {
            xs_sql_reset (st);
            xs_sql_set_errmsg (self, err.msg);
            return err.kind == XS_ENOTLEADER ? XS_RC_NOTLEADER : XS_RC_IOERR;
        }
        rc = xs_sql_step (self, st, rc);
        xs_sql_reset (st);
        int64_t changes = self->changes, last_id = self->last_id;
        if (xs_sql_savepoint_end (self, rc == XS_RC_DONE, "write", &err) && rc == XS_RC_DONE) {
            xs_sql_set_errmsg (self, err.msg);
            return XS_RC_IOERR;
        }
        self->changes = changes;
        self->last_id = last_id;
        return rc == XS_RC_DONE ? XS_RC_OK : rc;
    }
    /* A write of its own otherwise: the driver's check first (SQLite: a
       write-ahead log deleted under the catalog). */
    if (rc == XS_RC_OK && !self->in_txn && self->op_depth == 0 && self->drv->before_begin) {
        xs_err_t err;
        if (self->drv->before_begin (self, &err)) {
            xs_sql_set_errmsg (self, err.msg);
            rc = XS_RC_IOERR;
        }
    }
    if (rc == XS_RC_OK && self->drv->step_savepoint && self->in_txn && self->op_depth == 0
    &&  !self->drv->autocommit (self))
        rc = self->drv->step_savepoint (st);
    else
        rc = xs_sql_step (self, st, rc);
    xs_sql_reset (st);
    return rc == XS_RC_DONE ? XS_RC_OK : rc;
}

static int s_write_group (xs_store_t *self, xs_sql_stmt_t **sts, int n, int64_t *changes,
                          xs_sql_stmt_t *query);

int
xs_sql_write_group (xs_store_t *self, xs_sql_stmt_t **sts, int n, int64_t *changes,
                    xs_sql_stmt_t *query)
{
    /* One round trip, counted with the statements the caller fetched. */
    uint64_t trips = self->round_trips - (uint64_t) n - (query ? 1 : 0) + 1;
    int rc = s_write_group (self, sts, n, changes, query);
    self->round_trips = trips;
    return rc;
}

/* xs_sql_write_group but for the count. */
static int
s_write_group (xs_store_t *self, xs_sql_stmt_t **sts, int n, int64_t *changes,
               xs_sql_stmt_t *query)
{
    int rc = XS_RC_DONE;
    if (self->drv->step_group && self->in_txn && !self->txn_lost && self->op_depth == 0
    &&  !self->drv->autocommit (self)) {
        int query_rc;
        rc = self->drv->step_group (sts, n, changes, query, &query_rc);
        for (int i = 0; i < n; i++)
            xs_sql_reset (sts [i]);
        return rc == XS_RC_DONE ? XS_RC_OK : rc;
    }
    xs_err_t err;
    if (xs_sql_savepoint (self, "writes", &err)) {
        for (int i = 0; i < n; i++)
            xs_sql_reset (sts [i]);
        xs_sql_set_errmsg (self, err.msg);
        return err.kind == XS_ENOTLEADER ? XS_RC_NOTLEADER : XS_RC_IOERR;
    }
    for (int i = 0; i < n; i++) {
        if (rc == XS_RC_DONE) {
            self->changes = 0;
            rc = xs_sql_step (self, sts [i], XS_RC_OK);
            if (changes)
                changes [i] = rc == XS_RC_ROW ? 1 : self->changes;
            if (rc == XS_RC_ROW)
                rc = XS_RC_DONE;
        }
        xs_sql_reset (sts [i]);
    }
    if (xs_sql_savepoint_end (self, rc == XS_RC_DONE, "writes", &err) && rc == XS_RC_DONE) {
        xs_sql_set_errmsg (self, err.msg);
        return XS_RC_IOERR;
    }
    return rc == XS_RC_DONE ? XS_RC_OK : rc;
}

/* ---------------------------------------------------------------------
   Fetching rows
   --------------------------------------------------------------------- */

/* First row of a bound statement through `row`, or NULL: XS_ENOTFOUND
   "<object>: not found" when there is none. */
void *
xs_sql_fetch_one (xs_store_t *self, xs_sql_stmt_t *st, int rc, xs_sql_row_fn row,
                  const char *object, xs_err_t *err)
{
    void *item = NULL;
    rc = xs_sql_step (self, st, rc);
    if (rc == XS_RC_ROW)
        item = row (self, st, object, err);
    else
    if (rc == XS_RC_DONE)
        xs_err_set (err, XS_ENOTFOUND, "%s: not found", object);
    else
        xs_sql_fail (self, rc, err, "%s", object);
    xs_sql_reset (st);
    return item;
}

/* Every row of a bound statement as a NULL-terminated list, or NULL. */
void **
xs_sql_fetch_all (xs_store_t *self, xs_sql_stmt_t *st, int rc, xs_sql_row_fn row,
                  xs_sql_free_fn free_fn, const char *object, xs_err_t *err)
{
    size_t n = 0, cap = 8;
    void **list = xs_zalloc (cap * sizeof *list);
    if (rc == XS_RC_OK) {
        while ((rc = xs_sql_step (self, st, XS_RC_OK)) == XS_RC_ROW) {
            void *item = row (self, st, object, err);
            if (!item)
                goto fail;
            if (n + 1 >= cap) {
                cap *= 2;
                list = xs_realloc (list, cap * sizeof *list);
            }
            list [n++] = item;
            list [n] = NULL;
        }
    }
    if (rc != XS_RC_DONE) {
        xs_sql_fail (self, rc, err, "%s", object);
        goto fail;
    }
    xs_sql_reset (st);
    return list;
fail:
    xs_sql_reset (st);
    for (size_t i = 0; i < n; i++)
        free_fn (list [i]);
    free (list);
    return NULL;
}
