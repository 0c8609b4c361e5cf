/*  xs_store_stmt: the SQLite machinery the table files share (declared in
    xs_store_int.h): the statement cache, binding, stepping, fetching rows
    into row structs, savepoints, and turning SQLite's failures into
    xs_err_t. No SQL text here: that is xs_store_sql.c.
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
xs_sql_col_text (sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text (st, i);
    return t ? xs_strdup ((const char *) t) : NULL;
}

/* Text column that the schema says is NOT NULL; "" if the file disagrees. */
char *
xs_sql_col_text_req (sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text (st, i);
    return xs_strdup (t ? (const char *) t : "");
}

int
xs_sql_bind_text (sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text (st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null (st, i);
}

/* Binds an id; 0 (none) becomes NULL. */
int
xs_sql_bind_id (sqlite3_stmt *st, int i, int64_t id)
{
    return id ? sqlite3_bind_int64 (st, i, id) : sqlite3_bind_null (st, i);
}

/* ---------------------------------------------------------------------
   Statements and errors
   --------------------------------------------------------------------- */

void
xs_sql_capture (xs_store_t *self)
{
    snprintf (self->errmsg, sizeof self->errmsg, "%s", sqlite3_errmsg (self->db));
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
    if (self->in_txn && sqlite3_get_autocommit (self->db)) {
        self->in_txn = false;
        tail = "; the open transaction was rolled back";
    }
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return xs_err_set (err, XS_ECONFLICT, "%s: %s%s", object, self->errmsg, tail);
    return xs_err_set (err, XS_EIO, "%s: %s (%s)%s", self->path, self->errmsg, object, tail);
}

/* The prepared statement `id`, reset and unbound, or NULL with *err set. */
sqlite3_stmt *
xs_sql_stmt (xs_store_t *self, xs_sql_id_t id, xs_err_t *err)
{
    if (!self->stmts [id]) {
        int rc = sqlite3_prepare_v3 (self->db, xs_sql_text [id], -1, SQLITE_PREPARE_PERSISTENT,
                                     &self->stmts [id], NULL);
        if (rc != SQLITE_OK) {
            xs_sql_capture (self);
            sqlite3_finalize (self->stmts [id]);
            self->stmts [id] = NULL;
            xs_sql_fail (self, rc, err, "preparing statement %d", (int) id);
            return NULL;
        }
    }
    return self->stmts [id];
}

/* Resets a statement after use and drops its (borrowed) bindings. */
void
xs_sql_reset (sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset (st);
        sqlite3_clear_bindings (st);
    }
}

/* Steps `st` unless binding already failed (`rc` != SQLITE_OK); captures
   SQLite's message on failure. Returns SQLITE_ROW, SQLITE_DONE or an error. */
int
xs_sql_step (xs_store_t *self, sqlite3_stmt *st, int rc)
{
    if (rc == SQLITE_OK)
        rc = sqlite3_step (st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        xs_sql_capture (self);
    return rc;
}

/* Runs a statement without parameters (BEGIN, SAVEPOINT, ...). */
int
xs_sql_exec (xs_store_t *self, xs_sql_id_t id)
{
    sqlite3_stmt *st = xs_sql_stmt (self, id, NULL);
    if (!st)
        return SQLITE_ERROR;
    int rc = xs_sql_step (self, st, SQLITE_OK);
    xs_sql_reset (st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ---------------------------------------------------------------------
   Savepoints
   --------------------------------------------------------------------- */

int
xs_sql_savepoint (xs_store_t *self, const char *object, xs_err_t *err)
{
    int rc = xs_sql_exec (self, XS_SQL_SAVEPOINT);
    return rc == SQLITE_OK ? 0 : xs_sql_fail (self, rc, err, "%s", object);
}

/* Ends the operation's savepoint: releases it when `ok`, else undoes it
   (leaving *err as the failed step set it). Returns 0 or -1. */
int
xs_sql_savepoint_end (xs_store_t *self, bool ok, const char *object, xs_err_t *err)
{
    if (ok) {
        int rc = xs_sql_exec (self, XS_SQL_RELEASE);
        if (rc == SQLITE_OK)
            return 0;
        xs_sql_fail (self, rc, err, "%s", object);
        /* Outside a transaction RELEASE is the commit; if that failed,
           give up the whole thing. */
        if (!self->in_txn && !sqlite3_get_autocommit (self->db))
            xs_sql_exec (self, XS_SQL_ROLLBACK);
        return -1;
    }
    if (!sqlite3_get_autocommit (self->db)) {
        xs_sql_exec (self, XS_SQL_ROLLBACK_TO);
        xs_sql_exec (self, XS_SQL_RELEASE);
    }
    if (self->in_txn && sqlite3_get_autocommit (self->db))
        self->in_txn = false;
    return -1;
}

/* 1 when the row selected by statement `id` bound to text/int exists,
   0 when not, -1 on error. */
int
xs_sql_exists (xs_store_t *self, xs_sql_id_t id, const char *text, int64_t num,
               xs_err_t *err)
{
    sqlite3_stmt *st = xs_sql_stmt (self, id, err);
    if (!st)
        return -1;
    int rc = text ? xs_sql_bind_text (st, 1, text) : sqlite3_bind_int64 (st, 1, num);
    rc = xs_sql_step (self, st, rc);
    xs_sql_reset (st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return xs_sql_fail (self, rc, err, "lookup");
}

/* Runs a single-row count query bound to one id or text. -1 on error. */
int64_t
xs_sql_count (xs_store_t *self, xs_sql_id_t id, int64_t num, const char *object,
              xs_err_t *err)
{
    sqlite3_stmt *st = xs_sql_stmt (self, id, err);
    if (!st)
        return -1;
    int rc = xs_sql_step (self, st, sqlite3_bind_int64 (st, 1, num));
    int64_t n = -1;
    if (rc == SQLITE_ROW)
        n = sqlite3_column_int64 (st, 0);
    else
        xs_sql_fail (self, rc == SQLITE_DONE ? SQLITE_ERROR : rc, err, "%s", object);
    xs_sql_reset (st);
    return n;
}

/* Runs a write statement whose parameters are bound (`rc` carries the bind
   result). Returns SQLITE_OK, or the SQLite error (message captured). */
int
xs_sql_write (xs_store_t *self, sqlite3_stmt *st, int rc)
{
    rc = xs_sql_step (self, st, rc);
    xs_sql_reset (st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ---------------------------------------------------------------------
   Fetching rows
   --------------------------------------------------------------------- */

/* First row of a bound statement through `row`, or NULL: XS_ENOTFOUND
   "<object>: not found" when there is none. */
void *
xs_sql_fetch_one (xs_store_t *self, sqlite3_stmt *st, int rc, xs_sql_row_fn row,
                  const char *object, xs_err_t *err)
{
    void *item = NULL;
    rc = xs_sql_step (self, st, rc);
    if (rc == SQLITE_ROW)
        item = row (self, st, object, err);
    else
    if (rc == SQLITE_DONE)
        xs_err_set (err, XS_ENOTFOUND, "%s: not found", object);
    else
        xs_sql_fail (self, rc, err, "%s", object);
    xs_sql_reset (st);
    return item;
}

/* Every row of a bound statement as a NULL-terminated list, or NULL. */
void **
xs_sql_fetch_all (xs_store_t *self, sqlite3_stmt *st, int rc, xs_sql_row_fn row,
                  xs_sql_free_fn free_fn, const char *object, xs_err_t *err)
{
    size_t n = 0, cap = 8;
    void **list = xs_zalloc (cap * sizeof *list);
    if (rc == SQLITE_OK) {
        while ((rc = xs_sql_step (self, st, SQLITE_OK)) == SQLITE_ROW) {
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
    else
        xs_sql_capture (self);
    if (rc != SQLITE_DONE) {
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
