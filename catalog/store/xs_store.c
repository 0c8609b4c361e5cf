/*  xs_store: the store's life cycle and transactions, whichever database
    stands behind it. xs_store_open picks the driver (xs_store_int.h) from
    the name: a libpq URI is PostgreSQL (xs_store_pg.c), anything else an
    SQLite file (xs_store_lite.c). Each table's operations are in
    xs_store_<table>.c, the statement machinery in xs_store_stmt.c.

    A transaction (xs_store_begin) is BEGIN IMMEDIATE on SQLite, BEGIN on
    PostgreSQL; an operation outside it that needs several statements runs
    in its own transaction, inside it in a savepoint (xs_sql_savepoint).
*/
#include "xs_mem.h"
#include "xs_store_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
xs_store_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when `db` names a PostgreSQL database (a libpq URI). */
static bool
s_is_pg (const char *db)
{
    return strncmp (db, "postgresql://", 13) == 0 || strncmp (db, "postgres://", 11) == 0;
}

/* ---------------------------------------------------------------------
   Opening and closing
   --------------------------------------------------------------------- */

xs_store_t *
xs_store_open (const char *db, const xs_store_options_t *options, xs_err_t *err)
{
    if (xs_store_empty (db)) {
        xs_err_set (err, XS_EINVAL, "catalog database: no path given");
        return NULL;
    }
    xs_store_t *self = xs_zalloc (sizeof *self);
    self->drv = s_is_pg (db) ? &xs_sql_pg_driver : &xs_sql_lite_driver;
    self->path = xs_strdup (db);
    for (int i = 0; i < XS_SQL_NSTMTS; i++) {
        self->stmts [i].store = self;
        self->stmts [i].id = (xs_sql_id_t) i;
    }
    xs_store_options_t none = { 0 };
    if (self->drv->open (self, options ? options : &none, err)) {
        xs_store_destroy (&self);
        return NULL;
    }
    return self;
}

xs_store_t *
xs_store_new (const char *path, xs_err_t *err)
{
    return xs_store_open (path, NULL, err);
}

void
xs_store_destroy (xs_store_t **self_p)
{
    if (self_p && *self_p) {
        xs_store_t *self = *self_p;
        xs_sql_cache_destroy (self);
        self->drv->close (self);
        free (self->path);
        free (self);
        *self_p = NULL;
    }
}

const char *
xs_store_kind (const xs_store_t *self)
{
    return self->drv->name;
}

int
xs_store_schema_version (xs_store_t *self)
{
    return self->drv->schema_version (self);
}

void
xs_store_set_busy_timeout (xs_store_t *self, int ms)
{
    self->drv->set_busy_timeout (self, ms);
}

/* ---------------------------------------------------------------------
   Transactions
   --------------------------------------------------------------------- */

int
xs_store_begin (xs_store_t *self, xs_err_t *err)
{
    if (self->in_txn)
        return xs_err_set (err, XS_EINVAL, "%s: a transaction is already open", self->path);
    xs_sql_cache_clear (self);
    if (self->fenced)
        return xs_sql_fence (self, err);
    if (self->drv->before_begin && self->drv->before_begin (self, err))
        return -1;
    int rc = xs_sql_exec (self, XS_SQL_BEGIN);
    if (rc != XS_RC_OK)
        return xs_sql_fail (self, rc, err, "begin transaction");
    if (xs_sql_fence (self, err)) {
        if (!self->drv->autocommit (self))
            xs_sql_exec (self, XS_SQL_ROLLBACK);
        return -1;
    }
    self->in_txn = true;
    return 0;
}

int
xs_store_commit (xs_store_t *self, xs_err_t *err)
{
    if (!self->in_txn)
        return xs_err_set (err, XS_EINVAL, "%s: no transaction to commit", self->path);
    xs_sql_cache_clear (self);
    if (self->txn_lost) {
        self->in_txn = self->txn_lost = false;
        return xs_err_set (err, XS_EIO, "%s: commit: the transaction was rolled back by an "
                           "earlier failure (%s); nothing of it is stored", self->path,
                           self->txn_lost_why);
    }
    int rc = xs_sql_exec (self, XS_SQL_COMMIT);
    if (rc == XS_RC_OK) {
        self->in_txn = false;
        return 0;
    }
    xs_sql_fail (self, rc, err, "commit");
    if (!self->drv->autocommit (self))
        xs_sql_exec (self, XS_SQL_ROLLBACK);
    self->in_txn = self->txn_lost = false;
    return -1;
}

int
xs_store_rollback (xs_store_t *self, xs_err_t *err)
{
    if (!self->in_txn)
        return 0;
    xs_sql_cache_clear (self);
    self->in_txn = self->txn_lost = false;
    if (self->drv->autocommit (self))
        return 0;                       /* the database already rolled it back */
    int rc = xs_sql_exec (self, XS_SQL_ROLLBACK);
    return rc == XS_RC_OK ? 0 : xs_sql_fail (self, rc, err, "rollback");
}

bool
xs_store_in_transaction (const xs_store_t *self)
{
    return self->in_txn;
}

uint64_t
xs_store_statements (const xs_store_t *self)
{
    return self->statements;
}

uint64_t
xs_store_round_trips (const xs_store_t *self)
{
    return self->round_trips;
}

/* ---------------------------------------------------------------------
   Counts
   --------------------------------------------------------------------- */

int
xs_store_counts (xs_store_t *self, xs_store_counts_t *counts, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_COUNTS, err);
    if (!st)
        return -1;
    int rc = xs_sql_step (self, st, XS_RC_OK);
    if (rc == XS_RC_ROW) {
        counts->flavors = xs_sql_col_int64 (st, 0);
        counts->backends = xs_sql_col_int64 (st, 1);
        counts->hosts = xs_sql_col_int64 (st, 2);
        counts->hosts_up = xs_sql_col_int64 (st, 3);
        counts->volumes = xs_sql_col_int64 (st, 4);
        counts->volumes_live = xs_sql_col_int64 (st, 5);
        counts->jobs_unfinished = xs_sql_col_int64 (st, 6);
    }
    xs_sql_reset (st);
    if (rc != XS_RC_ROW)
        return xs_sql_fail (self, rc == XS_RC_DONE ? XS_RC_ERROR : rc, err, "counts");
    return 0;
}
