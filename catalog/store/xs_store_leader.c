/*  xs_store_leader: one leader among the catalogd of one database, with a
    fencing generation (xs_store.h, "Leadership").

    The lock is PostgreSQL's session advisory lock 2020830531 (the same key
    a store opened without `shared` holds alone); the lease and the
    generation are the one row of catalog_leader. Taking over is one UPDATE
    (generation + 1), which waits for the row lock every transaction of the
    current leader holds for share from its fence check to its end: a
    leader's transaction either commits before the takeover or sees the new
    generation and writes nothing.

    SQLite: the lock statement is "SELECT 1" and nothing is ever killed;
    the file is one process's alone (xs_store_lite.c), so it always leads.
*/
#include "xs_log.h"
#include "xs_store_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies text column i of `st` into `dst` (XS_STORE_NAME_MAX; "" for NULL). */
static void
s_col_copy (xs_sql_stmt_t *st, int i, char *dst)
{
    const char *text = xs_sql_col_cstr (st, i);
    snprintf (dst, XS_STORE_NAME_MAX, "%s", text ? text : "");
}

/* One row of LEAD_GET or INSTANCE_LIST into *row (same columns). */
static void
s_row (xs_sql_stmt_t *st, xs_store_leader_t *row)
{
    memset (row, 0, sizeof *row);
    row->generation = xs_sql_col_int64 (st, 0);
    s_col_copy (st, 1, row->instance);
    s_col_copy (st, 2, row->admin_endpoint);
    s_col_copy (st, 3, row->agent_endpoint);
    s_col_copy (st, 4, row->api_endpoint);
    row->since = xs_sql_col_int64 (st, 5);
    row->until = xs_sql_col_int64 (st, 6);
    row->now = xs_sql_col_int64 (st, 7);
}

/* The single integer a parameterless query returns, or -1 with *err. */
static int64_t
s_query_int (xs_store_t *self, xs_sql_id_t id, const char *what, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, id, err);
    if (!st)
        return -1;
    int rc = xs_sql_step (self, st, XS_RC_OK);
    int64_t value = rc == XS_RC_ROW ? xs_sql_col_int64 (st, 0) : -1;
    xs_sql_reset (st);
    if (rc != XS_RC_ROW)
        return xs_sql_fail (self, rc == XS_RC_DONE ? XS_RC_ERROR : rc, err, "%s", what);
    return value;
}

/* Fences the store for good (until it leads again). Returns -1. */
static int
s_fence (xs_store_t *self, xs_err_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_fence (xs_store_t *self, xs_err_t *err, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->fenced_why, sizeof self->fenced_why, fmt, ap);
    va_end (ap);
    if (!self->fenced)
        xs_warning ("%s: fenced: %s; this catalogd no longer leads and writes nothing",
                    self->path, self->fenced_why);
    self->fenced = true;
    self->lead_generation = 0;
    return xs_err_set (err, XS_ENOTLEADER, "%s: not the leader any more: %s", self->path,
                       self->fenced_why);
}

int
xs_sql_fence (xs_store_t *self, xs_err_t *err)
{
    if (self->fenced)
        return xs_err_set (err, XS_ENOTLEADER, "%s: not the leader any more: %s", self->path,
                           self->fenced_why);
    if (self->lead_generation == 0 && self->shared)
        return xs_err_set (err, XS_ENOTLEADER, "%s: this catalogd does not lead: it writes "
                           "nothing", self->path);
    if (self->lead_generation == 0)
        return 0;
    if (self->drv->conn_generation (self) != self->lead_conn)
        return s_fence (self, err, "the connection to the database (and with it the leader's "
                        "lock) was lost while leading generation %lld",
                        (long long) self->lead_generation);
    int64_t generation = s_query_int (self, XS_SQL_LEAD_FENCE, "leader fence", err);
    if (generation < 0)
        return -1;
    if (generation != self->lead_generation)
        return s_fence (self, err, "generation %lld was superseded by %lld (another catalogd "
                        "took over)", (long long) self->lead_generation,
                        (long long) generation);
    return 0;
}

/* Records `me` as seen now (the first time: started now). */
static int
s_beat (xs_store_t *self, const xs_store_instance_t *me, xs_err_t *err)
{
    static const char *const none = NULL;
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_INSTANCE_BEAT, err);
    if (!st)
        return -1;
    int rc = XS_RC_OK;
    XS_SQL_BIND (xs_sql_bind_text (st, 1, me->instance));
    XS_SQL_BIND (xs_sql_bind_text (st, 2, me->admin_endpoint ? me->admin_endpoint : none));
    XS_SQL_BIND (xs_sql_bind_text (st, 3, me->agent_endpoint ? me->agent_endpoint : none));
    XS_SQL_BIND (xs_sql_bind_text (st, 4, me->api_endpoint ? me->api_endpoint : none));
    XS_SQL_BIND (xs_sql_bind_int64 (st, 5, self->instance_seen ? 0 : 1));
    self->leader_op = true;
    rc = xs_sql_write (self, st, rc);
    self->leader_op = false;
    if (rc != XS_RC_OK)
        return xs_sql_fail (self, rc, err, "catalog instance %s", me->instance);
    self->instance_seen = true;
    return 0;
}

/* Takes the leader row: a new generation. 0 or -1. */
static int
s_take (xs_store_t *self, const xs_store_instance_t *me, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_LEAD_TAKE, err);
    if (!st)
        return -1;
    int rc = XS_RC_OK;
    XS_SQL_BIND (xs_sql_bind_text (st, 1, me->instance));
    XS_SQL_BIND (xs_sql_bind_text (st, 2, me->admin_endpoint));
    XS_SQL_BIND (xs_sql_bind_text (st, 3, me->agent_endpoint));
    XS_SQL_BIND (xs_sql_bind_text (st, 4, me->api_endpoint));
    XS_SQL_BIND (xs_sql_bind_int64 (st, 5, me->lease_ms));
    rc = xs_sql_step (self, st, rc);
    int64_t generation = rc == XS_RC_ROW ? xs_sql_col_int64 (st, 0) : 0;
    xs_sql_reset (st);
    if (rc != XS_RC_ROW || generation <= 0)
        return xs_sql_fail (self, rc == XS_RC_ROW || rc == XS_RC_DONE ? XS_RC_ERROR : rc, err,
                            "taking the catalog's leadership");
    self->lead_generation = generation;
    self->lead_conn = self->drv->conn_generation (self);
    self->fenced = false;
    return 0;
}

/* The leader renews its lease (and its addresses), or finds itself
   fenced. 0 or -1. */
static int
s_renew (xs_store_t *self, const xs_store_instance_t *me, xs_err_t *err)
{
    if (self->drv->conn_generation (self) != self->lead_conn)
        return s_fence (self, err, "the connection to the database (and with it the leader's "
                        "lock) was lost while leading generation %lld",
                        (long long) self->lead_generation);
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_LEAD_RENEW, err);
    if (!st)
        return -1;
    int rc = XS_RC_OK;
    XS_SQL_BIND (xs_sql_bind_int64 (st, 1, self->lead_generation));
    XS_SQL_BIND (xs_sql_bind_int64 (st, 2, me->lease_ms));
    XS_SQL_BIND (xs_sql_bind_text (st, 3, me->admin_endpoint));
    XS_SQL_BIND (xs_sql_bind_text (st, 4, me->agent_endpoint));
    XS_SQL_BIND (xs_sql_bind_text (st, 5, me->api_endpoint));
    self->leader_op = true;
    rc = xs_sql_write (self, st, rc);
    self->leader_op = false;
    if (rc != XS_RC_OK)
        return xs_sql_fail (self, rc, err, "renewing the leader's lease");
    if (self->changes == 0)
        return s_fence (self, err, "generation %lld was superseded (another catalogd took over)",
                        (long long) self->lead_generation);
    return 0;
}

int
xs_store_lead (xs_store_t *self, const xs_store_instance_t *me, xs_store_leader_t *leader,
               xs_err_t *err)
{
    if (xs_store_empty (me->instance) || me->lease_ms <= 0)
        return xs_err_set (err, XS_EINVAL, "%s: leadership needs an instance name and a "
                           "lease", self->path);
    if (self->in_txn)
        return xs_err_set (err, XS_EINVAL, "%s: leadership is not taken inside a transaction",
                           self->path);
    if (s_beat (self, me, err))
        return -1;
    int leads = 0;
    if (self->lead_generation > 0) {
        if (s_renew (self, me, err))
            return -1;
        leads = 1;
    }
    else {
        int64_t locked = s_query_int (self, XS_SQL_LEAD_LOCK, "the leader's lock", err);
        if (locked < 0)
            return -1;
        if (locked && s_take (self, me, err))
            return -1;
        if (locked)
            xs_notice ("%s: %s leads the catalog (generation %lld)", self->path, me->instance,
                       (long long) self->lead_generation);
        else {
            int64_t killed = s_query_int (self, XS_SQL_LEAD_KILL_EXPIRED,
                                          "ending an expired leader's session", err);
            if (killed < 0)
                return -1;
            if (killed > 0)
                xs_notice ("%s: the leader's lease expired: its database session was ended, "
                           "taking over next", self->path);
        }
        leads = locked ? 1 : 0;
    }
    if (leader && xs_store_leader_get (self, leader, err))
        return -1;
    return leads;
}

int
xs_store_resign (xs_store_t *self, xs_err_t *err)
{
    if (self->lead_generation == 0)
        return 0;
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_LEAD_RESIGN, err);
    if (!st)
        return -1;
    int rc = XS_RC_OK;
    XS_SQL_BIND (xs_sql_bind_int64 (st, 1, self->lead_generation));
    self->leader_op = true;
    rc = xs_sql_write (self, st, rc);
    self->leader_op = false;
    self->lead_generation = 0;
    if (rc != XS_RC_OK)
        return xs_sql_fail (self, rc, err, "resigning the leadership");
    return 0;
}

int64_t
xs_store_lead_generation (const xs_store_t *self)
{
    return self->lead_generation;
}

bool
xs_store_fenced (const xs_store_t *self)
{
    return self->fenced;
}

int
xs_store_leader_get (xs_store_t *self, xs_store_leader_t *leader, xs_err_t *err)
{
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_LEAD_GET, err);
    if (!st)
        return -1;
    int rc = xs_sql_step (self, st, XS_RC_OK);
    if (rc == XS_RC_ROW)
        s_row (st, leader);
    xs_sql_reset (st);
    if (rc != XS_RC_ROW)
        return xs_sql_fail (self, rc == XS_RC_DONE ? XS_RC_ERROR : rc, err, "the leader row");
    return 0;
}

xs_store_leader_t *
xs_store_instance_list (xs_store_t *self, int *count, xs_err_t *err)
{
    *count = 0;
    xs_sql_stmt_t *st = xs_sql_stmt (self, XS_SQL_INSTANCE_LIST, err);
    if (!st) {
        *count = -1;
        return NULL;
    }
    xs_store_leader_t *rows = NULL;
    int n = 0, rc;
    while ((rc = xs_sql_step (self, st, XS_RC_OK)) == XS_RC_ROW) {
        xs_store_leader_t *more = realloc (rows, (size_t) (n + 1) * sizeof *rows);
        if (!more)
            abort ();
        rows = more;
        s_row (st, &rows [n++]);
    }
    xs_sql_reset (st);
    if (rc != XS_RC_DONE) {
        free (rows);
        *count = -1;
        xs_sql_fail (self, rc, err, "catalog instances");
        return NULL;
    }
    *count = n;
    return rows;
}
