/*  xs_store_pg: the PostgreSQL driver (xs_store_int.h) of the store, on
    libpq. The SQL is in xs_store_pg_sql.c.

    Opening a postgresql:// URI:
      - refuses a URI that carries a password (it would be on a command
        line, in a config file and in messages): the password comes from
        ~/.pgpass (libpq) or from options->password_file, whose first line
        it is (a file only its owner can read);
      - connects (connect_timeout 10 s unless the URI says otherwise), with
        synchronous_commit on: an acknowledged commit is on the server's
        disk (and its synchronous standbys, when it has any);
      - takes a session advisory lock on the database (key
        S_LOCK_KEY): a second store on the same database fails with
        XS_ECONFLICT, as a second SQLite store on one file does; a
        `shared` store takes it only to lead (xs_store_leader.c);
      - checks, before writing anything, that the database is empty or an
        xensm catalog (table xensm_schema) no newer than this program;
      - migrates the schema forward, one transaction per step.

    Statements are prepared once per connection (PQprepare, named "xs<id>",
    when first used) and run with PQexecPrepared, parameters as text.

    A lost connection: the statement that saw it fails with XS_RC_IOERR and
    "connection to the database lost"; the open transaction is gone, and the
    store says so until the caller rolls back (xs_sql_txn_lost). The next
    statement reconnects (then re-prepares and takes the lock again); a
    failed attempt waits 100 ms, doubling to 5 s, before the next one, and
    statements in between fail at once saying when it will be retried.
*/
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The advisory lock that makes a store the database's only one ("xsmC"). */
#define S_LOCK_KEY 0x78736d43
#define S_LOCK_KEY_TEXT "2020830531"
_Static_assert (S_LOCK_KEY == 2020830531, "S_LOCK_KEY_TEXT is S_LOCK_KEY");
/* Held while a shared store checks and migrates the schema ("xsmM"). */
#define S_MIGRATE_KEY_TEXT "2020830541"
#define S_LOCK_WAIT_MS_TEXT "2000"
#define S_MAX_PARAMS 16
#define S_BACKOFF_MIN_MS 100
#define S_BACKOFF_MAX_MS 5000
#define S_BUSY_TIMEOUT_MS 5000

/* The driver's connection (self->conn). */
typedef struct {
    PGconn *conn;
    int generation;                     /* bumped by every (re)connection   */
    char *password;                     /* from the password file, or NULL  */
    int busy_timeout_ms;
    int backoff_ms;                     /* before the next reconnection     */
    int64_t retry_at;                   /* no attempt before (ms)           */
    bool dead;                          /* the server said it ends the session */
} s_pg_t;

/* One statement (st->h). */
typedef struct {
    char name [16];
    int nparams;
    int generation;                     /* prepared on this connection      */
    bool returning;                     /* INSERT ... RETURNING id          */
    bool is_commit;
    const char *values [S_MAX_PARAMS];  /* borrowed, or into buf            */
    char buf [S_MAX_PARAMS][32];
    PGresult *res;                      /* a query's rows, while stepping   */
    int row, nrows;
} s_pgst_t;

#define S_PG(store) ((s_pg_t *) (store)->conn)
#define S_ST(st) ((s_pgst_t *) (st)->h)

/* ---------------------------------------------------------------------
   Messages and result codes
   --------------------------------------------------------------------- */

/* Keeps `msg` without libpq's "ERROR:  " and trailing newline. */
static void
s_set_msg (xs_store_t *self, const char *msg)
{
    if (!msg || !*msg)
        msg = "unknown error";
    if (strncmp (msg, "ERROR:  ", 8) == 0)
        msg += 8;
    /* One line: libpq's newlines, tabs and runs of spaces become one space. */
    size_t n = 0;
    for (const char *c = msg; *c && n + 1 < sizeof self->errmsg; c++) {
        char ch = *c == '\n' || *c == '\t' ? ' ' : *c;
        if (ch == ' ' && (n == 0 || self->errmsg [n - 1] == ' '))
            continue;
        self->errmsg [n++] = ch;
    }
    while (n > 0 && self->errmsg [n - 1] == ' ')
        n--;
    self->errmsg [n] = '\0';
}

/* True when the connection is gone. */
static bool
s_lost (s_pg_t *pg)
{
    return !pg->conn || pg->dead || PQstatus (pg->conn) != CONNECTION_OK;
}

/* A failed result as an XS_RC_ code, its message kept. Never the values:
   the primary message only (the DETAIL line can quote a row). */
static int
s_result_rc (xs_store_t *self, const PGresult *res)
{
    s_pg_t *pg = S_PG (self);
    const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
    if (state && (strncmp (state, "08", 2) == 0 || strncmp (state, "57P0", 4) == 0))
        pg->dead = true;        /* the server ends the session (shutdown, kill) */
    if (s_lost (pg)) {
        const char *primary = res ? PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        s_set_msg (self, primary ? primary : pg->conn ? PQerrorMessage (pg->conn)
                                                      : "no connection");
        char msg [sizeof self->errmsg + 64];
        snprintf (msg, sizeof msg, "connection to the database lost (%s); reconnecting",
                  self->errmsg);
        s_set_msg (self, msg);
        return XS_RC_IOERR;
    }
    const char *primary = res ? PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    s_set_msg (self, primary ? primary : PQerrorMessage (pg->conn));
    if (!state)
        return XS_RC_ERROR;
    if (strcmp (state, "23505") == 0)
        return XS_RC_CONSTRAINT_UNIQUE;
    if (strcmp (state, "23503") == 0)
        return XS_RC_CONSTRAINT_FOREIGNKEY;
    if (strcmp (state, "23514") == 0)
        return XS_RC_CONSTRAINT_CHECK;
    if (strcmp (state, "23502") == 0)
        return XS_RC_CONSTRAINT_NOTNULL;
    if (strncmp (state, "23", 2) == 0)
        return XS_RC_CONSTRAINT;
    if (strcmp (state, "55P03") == 0 || strcmp (state, "40001") == 0
    ||  strcmp (state, "40P01") == 0 || strcmp (state, "57014") == 0)
        return XS_RC_BUSY;
    if (strncmp (state, "08", 2) == 0 || strncmp (state, "57P", 3) == 0
    ||  strncmp (state, "53", 2) == 0 || strncmp (state, "58", 2) == 0)
        return XS_RC_IOERR;
    return XS_RC_ERROR;
}

/* Runs `sql` (no parameters, possibly several statements) and returns its
   result status OK, or -1 with *err: "<uri>: <what>: <reason>". When
   value_p, the first column of the first row goes there (NULL: 0). */
static int
s_run (xs_store_t *self, const char *sql, const char *what, int64_t *value_p, xs_err_t *err)
{
    s_pg_t *pg = S_PG (self);
    PGresult *res = PQexec (pg->conn, sql);
    ExecStatusType status = PQresultStatus (res);
    int rc = 0;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        if (value_p)
            *value_p = PQntuples (res) > 0 && !PQgetisnull (res, 0, 0)
                     ? strtoll (PQgetvalue (res, 0, 0), NULL, 10) : 0;
    }
    else {
        int code = s_result_rc (self, res);
        rc = xs_err_set (err, (code & 0xff) == XS_RC_CONSTRAINT ? XS_ECONFLICT : XS_EIO,
                         "%s: %s: %s", self->path, what, self->errmsg);
    }
    PQclear (res);
    return rc;
}

/* ---------------------------------------------------------------------
   Connecting
   --------------------------------------------------------------------- */

/* The session settings and the lock, on a new connection. */
static int
s_session (xs_store_t *self, xs_err_t *err)
{
    s_pg_t *pg = S_PG (self);
    /* The lock is waited for a little: the session of a process that just
       died (kill -9, then a restart) holds it until its server notices. */
    if (s_run (self, "SET synchronous_commit = on; SET client_min_messages = error;"
               " SET lock_timeout = " S_LOCK_WAIT_MS_TEXT, "cannot set up the session", NULL, err))
        return -1;
    xs_err_t lock_err = { 0 };
    if (!self->shared                   /* shared: the leader's, xs_store_lead */
    &&  s_run (self, "SELECT pg_advisory_lock (" S_LOCK_KEY_TEXT ")",
               "cannot take the catalog's lock", NULL, &lock_err)) {
        if (strstr (lock_err.msg, "lock timeout"))
            return xs_err_set (err, XS_ECONFLICT, "%s: already open by another xensm process "
                               "(advisory lock %d is held)", self->path, S_LOCK_KEY);
        if (err)
            *err = lock_err;
        return -1;
    }
    char sql [64];
    snprintf (sql, sizeof sql, "SET lock_timeout = %d", pg->busy_timeout_ms);
    return s_run (self, sql, "cannot set up the session", NULL, err);
}

/* Connects (again). 0, or -1 with *err. */
static int
s_connect (xs_store_t *self, xs_err_t *err)
{
    s_pg_t *pg = S_PG (self);
    if (pg->conn)
        PQfinish (pg->conn);
    const char *keys [8], *values [8];
    int n = 0;
    keys [n] = "connect_timeout";          values [n++] = "10";
    keys [n] = "fallback_application_name"; values [n++] = "xensm";
    keys [n] = "dbname";                   values [n++] = self->path;
    if (pg->password) {
        keys [n] = "password";             values [n++] = pg->password;
    }
    keys [n] = NULL;
    values [n] = NULL;
    pg->conn = PQconnectdbParams (keys, values, 1);
    pg->dead = false;
    if (!pg->conn || PQstatus (pg->conn) != CONNECTION_OK) {
        s_set_msg (self, pg->conn ? PQerrorMessage (pg->conn) : "out of memory");
        return xs_err_set (err, XS_EIO, "%s: cannot connect: %s", self->path, self->errmsg);
    }
    pg->generation++;
    return s_session (self, err);
}

/* Makes sure there is a connection before a statement: reconnects a lost
   one unless the backoff says wait. XS_RC_OK or XS_RC_IOERR/BUSY. */
static int
s_ready (xs_store_t *self)
{
    s_pg_t *pg = S_PG (self);
    if (!s_lost (pg))
        return XS_RC_OK;
    int64_t now = xs_store_now_ms ();
    if (now < pg->retry_at) {
        char msg [sizeof self->errmsg];
        snprintf (msg, sizeof msg, "no connection to the database (next attempt in %lld ms)",
                  (long long) (pg->retry_at - now));
        s_set_msg (self, msg);
        return XS_RC_IOERR;
    }
    xs_err_t err = { 0 };
    if (s_connect (self, &err) == 0) {
        xs_notice ("%s: reconnected to the database", self->path);
        pg->backoff_ms = S_BACKOFF_MIN_MS;
        pg->retry_at = 0;
        return XS_RC_OK;
    }
    if (pg->conn && PQstatus (pg->conn) == CONNECTION_OK) {
        /* Connected, but the session failed (the lock is held: another
           xensm took the database meanwhile). Give the connection up. */
        PQfinish (pg->conn);
        pg->conn = NULL;
    }
    pg->retry_at = now + pg->backoff_ms;
    xs_warning ("%s: reconnection failed, next attempt in %d ms: %s", self->path,
                pg->backoff_ms, err.msg);
    pg->backoff_ms = pg->backoff_ms * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS
                                                           : pg->backoff_ms * 2;
    s_set_msg (self, err.msg);
    return err.kind == XS_ECONFLICT ? XS_RC_BUSY : XS_RC_IOERR;
}

/* Brings the schema from `version` to XS_STORE_SCHEMA_VERSION. */
static int
s_migrate (xs_store_t *self, int64_t version, xs_err_t *err)
{
    for (int64_t v = version; v < XS_STORE_SCHEMA_VERSION; v++) {
        char what [96], tail [160];
        snprintf (what, sizeof what, "schema migration %lld -> %lld failed",
                  (long long) v, (long long) (v + 1));
        snprintf (tail, sizeof tail, "UPDATE xensm_schema SET version = %lld", (long long) (v + 1));
        int rc = s_run (self, "BEGIN", what, NULL, err);
        if (rc == 0 && v == 0)
            rc = s_run (self, "CREATE TABLE xensm_schema (version BIGINT NOT NULL);"
                        "INSERT INTO xensm_schema VALUES (0)", what, NULL, err);
        if (rc == 0)
            rc = s_run (self, xs_pg_migrations [v], what, NULL, err);
        if (rc == 0)
            rc = s_run (self, tail, what, NULL, err);
        if (rc == 0)
            rc = s_run (self, "COMMIT", what, NULL, err);
        if (rc) {
            PQclear (PQexec (S_PG (self)->conn, "ROLLBACK"));
            return -1;
        }
        xs_info ("%s: catalog schema migrated from version %lld to %lld",
                 self->path, (long long) v, (long long) (v + 1));
    }
    return 0;
}

/* Checks the database is empty or an xensm catalog, then migrates it. */
static int
s_check_and_migrate (xs_store_t *self, xs_err_t *err)
{
    /* Read-only checks first, so that a database we refuse is never written. */
    int64_t ours = 0, tables = 0, version = 0;
    if (s_run (self, "SELECT (to_regclass ('xensm_schema') IS NOT NULL)::int",
               "cannot use the catalog", &ours, err)
    ||  s_run (self, "SELECT count(*) FROM pg_catalog.pg_tables"
               " WHERE schemaname = current_schema ()", "cannot use the catalog", &tables, err))
        return -1;
    if (ours && s_run (self, "SELECT max(version) FROM xensm_schema", "cannot use the catalog",
                       &version, err))
        return -1;
    if (!ours && tables > 0)
        return xs_err_set (err, XS_EINVAL, "%s: a PostgreSQL database, but not an xensm "
                           "catalog (%lld tables and no xensm_schema): give xensm a database "
                           "of its own", self->path, (long long) tables);
    if (version > XS_STORE_SCHEMA_VERSION)
        return xs_err_set (err, XS_EINVAL,
                           "%s: schema version %lld is newer than this xensm knows (%d); "
                           "run a newer xensm", self->path, (long long) version,
                           XS_STORE_SCHEMA_VERSION);
    return s_migrate (self, version, err);
}

/* Several catalogd starting at once: one checks and migrates at a time. */
static int
s_pg_check_shared (xs_store_t *self, xs_err_t *err)
{
    if (s_run (self, "SELECT pg_advisory_lock (" S_MIGRATE_KEY_TEXT ")",
               "cannot take the migration lock", NULL, err))
        return -1;
    int rc = s_check_and_migrate (self, err);
    if (s_run (self, "SELECT pg_advisory_unlock (" S_MIGRATE_KEY_TEXT ")",
               "cannot release the migration lock", NULL, rc == 0 ? err : NULL))
        rc = -1;
    return rc;
}

static int
s_pg_open (xs_store_t *self, const xs_store_options_t *options, xs_err_t *err)
{
    s_pg_t *pg = xs_zalloc (sizeof *pg);
    pg->busy_timeout_ms = S_BUSY_TIMEOUT_MS;
    pg->backoff_ms = S_BACKOFF_MIN_MS;
    self->conn = pg;
    if (xs_pg_check_uri (self, err))
        return -1;
    if (options->password_file
    &&  !(pg->password = xs_pg_read_password (self, options->password_file, err)))
        return -1;
    self->shared = options->shared;
    if (s_connect (self, err))
        return -1;
    return self->shared ? s_pg_check_shared (self, err) : s_check_and_migrate (self, err);
}

static void
s_pg_close (xs_store_t *self)
{
    s_pg_t *pg = S_PG (self);
    if (!pg)
        return;
    for (int i = 0; i < XS_SQL_NSTMTS; i++)
        if (self->stmts [i].h)
            xs_sql_pg_driver.finalize (&self->stmts [i]);
    if (pg->conn)
        PQfinish (pg->conn);            /* the server rolls back, frees the lock */
    if (pg->password) {
        explicit_bzero (pg->password, strlen (pg->password));
        free (pg->password);
    }
    free (pg);
    self->conn = NULL;
}

static int
s_pg_schema_version (xs_store_t *self)
{
    int64_t v = -1;
    if (s_ready (self) != XS_RC_OK
    ||  s_run (self, "SELECT max(version) FROM xensm_schema", "schema version", &v, NULL))
        return -1;
    return (int) v;
}

static void
s_pg_set_busy_timeout (xs_store_t *self, int ms)
{
    s_pg_t *pg = S_PG (self);
    pg->busy_timeout_ms = ms > 0 ? ms : 1;
    if (!s_lost (pg)) {
        char sql [64];
        snprintf (sql, sizeof sql, "SET lock_timeout = %d", pg->busy_timeout_ms);
        PQclear (PQexec (pg->conn, sql));
    }
}

static bool
s_pg_autocommit (xs_store_t *self)
{
    s_pg_t *pg = S_PG (self);
    if (s_lost (pg))
        return true;
    PGTransactionStatusType t = PQtransactionStatus (pg->conn);
    return t == PQTRANS_IDLE || t == PQTRANS_UNKNOWN;
}

/* ---------------------------------------------------------------------
   Statements
   --------------------------------------------------------------------- */

static int
s_pg_prepare (xs_store_t *self, xs_sql_stmt_t *st)
{
    const char *sql = xs_pg_sql_text [st->id];
    s_pgst_t *h = xs_zalloc (sizeof *h);
    snprintf (h->name, sizeof h->name, "xs%d", (int) st->id);
    for (const char *p = strchr (sql, '$'); p; p = strchr (p + 1, '$')) {
        int n = atoi (p + 1);
        if (n > h->nparams)
            h->nparams = n;
    }
    const char *tail = strstr (sql, "RETURNING id");
    h->returning = tail && tail [12] == '\0';
    h->is_commit = strcmp (sql, "COMMIT") == 0;
    h->generation = -1;
    if (h->nparams > S_MAX_PARAMS) {
        free (h);
        xs_sql_set_errmsg (self, "too many parameters");
        return XS_RC_MISUSE;
    }
    st->h = h;
    return XS_RC_OK;
}

static void
s_pg_reset (xs_sql_stmt_t *st)
{
    s_pgst_t *h = S_ST (st);
    PQclear (h->res);
    h->res = NULL;
    h->row = h->nrows = 0;
    for (int i = 0; i < S_MAX_PARAMS; i++)
        h->values [i] = NULL;
}

static void
s_pg_finalize (xs_sql_stmt_t *st)
{
    if (st->h) {
        s_pg_reset (st);
        free (st->h);
        st->h = NULL;
    }
}

static int
s_param (xs_sql_stmt_t *st, int i)
{
    if (i < 1 || i > S_ST (st)->nparams) {
        xs_sql_set_errmsg (st->store, "parameter index out of range");
        return XS_RC_MISUSE;
    }
    return XS_RC_OK;
}

static int
s_pg_bind_int64 (xs_sql_stmt_t *st, int i, int64_t value)
{
    int rc = s_param (st, i);
    if (rc == XS_RC_OK) {
        s_pgst_t *h = S_ST (st);
        snprintf (h->buf [i - 1], sizeof h->buf [i - 1], "%lld", (long long) value);
        h->values [i - 1] = h->buf [i - 1];
    }
    return rc;
}

static int
s_pg_bind_double (xs_sql_stmt_t *st, int i, double value)
{
    int rc = s_param (st, i);
    if (rc == XS_RC_OK) {
        s_pgst_t *h = S_ST (st);
        snprintf (h->buf [i - 1], sizeof h->buf [i - 1], "%.17g", value);
        h->values [i - 1] = h->buf [i - 1];
    }
    return rc;
}

static int
s_pg_bind_text (xs_sql_stmt_t *st, int i, const char *text)
{
    int rc = s_param (st, i);
    if (rc == XS_RC_OK)
        S_ST (st)->values [i - 1] = text;
    return rc;
}

static int
s_pg_bind_null (xs_sql_stmt_t *st, int i)
{
    int rc = s_param (st, i);
    if (rc == XS_RC_OK)
        S_ST (st)->values [i - 1] = NULL;
    return rc;
}

/* Prepares st on the current connection unless it is already. */
static int
s_prepared (xs_sql_stmt_t *st)
{
    xs_store_t *self = st->store;
    s_pg_t *pg = S_PG (self);
    s_pgst_t *h = S_ST (st);
    if (h->generation == pg->generation)
        return XS_RC_OK;
    PGresult *res = PQprepare (pg->conn, h->name, xs_pg_sql_text [st->id], h->nparams, NULL);
    int rc = XS_RC_OK;
    if (PQresultStatus (res) != PGRES_COMMAND_OK)
        rc = s_result_rc (self, res);
    else
        h->generation = pg->generation;
    PQclear (res);
    return rc;
}

static int s_result (xs_sql_stmt_t *st, PGresult *res);

/* Runs the statement: a write to the end (DONE), a query into h->res. */
static int
s_execute (xs_sql_stmt_t *st)
{
    xs_store_t *self = st->store;
    s_pg_t *pg = S_PG (self);
    s_pgst_t *h = S_ST (st);
    int rc = s_ready (self);
    if (rc != XS_RC_OK)
        return rc;
    rc = s_prepared (st);
    if (rc != XS_RC_OK)
        return rc;
    return s_result (st, PQexecPrepared (pg->conn, h->name, h->nparams, h->values,
                                         NULL, NULL, 0));
}

/* What result `res` of statement st (which it frees) means: XS_RC_DONE for
   a write (self->changes, self->last_id set), XS_RC_ROW for a query (its
   rows kept in h->res), or the error. */
static int
s_result (xs_sql_stmt_t *st, PGresult *res)
{
    xs_store_t *self = st->store;
    s_pgst_t *h = S_ST (st);
    int rc;
    ExecStatusType status = PQresultStatus (res);
    if (status == PGRES_COMMAND_OK) {
        const char *tuples = PQcmdTuples (res);
        self->changes = *tuples ? strtoll (tuples, NULL, 10) : 0;
        if (h->is_commit && strcmp (PQcmdStatus (res), "ROLLBACK") == 0) {
            /* COMMIT of a failed transaction rolls it back. */
            PQclear (res);
            xs_sql_set_errmsg (self, "the transaction had failed and was rolled back");
            return XS_RC_ERROR;
        }
        PQclear (res);
        return XS_RC_DONE;
    }
    if (status == PGRES_TUPLES_OK) {
        if (h->returning) {
            self->changes = PQntuples (res);
            self->last_id = self->changes > 0 ? strtoll (PQgetvalue (res, 0, 0), NULL, 10) : 0;
            PQclear (res);
            return XS_RC_DONE;
        }
        h->res = res;
        h->nrows = PQntuples (res);
        h->row = -1;
        return XS_RC_ROW;               /* s_pg_step moves to the first row */
    }
    rc = s_result_rc (self, res);
    PQclear (res);
    return rc;
}

static int
s_pg_step (xs_sql_stmt_t *st)
{
    s_pgst_t *h = S_ST (st);
    if (!h->res) {
        int rc = s_execute (st);
        if (rc != XS_RC_ROW)
            return rc;
    }
    if (h->row < h->nrows)
        h->row++;
    return h->row < h->nrows ? XS_RC_ROW : XS_RC_DONE;
}

static bool
s_pg_col_null (xs_sql_stmt_t *st, int i)
{
    s_pgst_t *h = S_ST (st);
    return !h->res || h->row < 0 || h->row >= h->nrows || i >= PQnfields (h->res)
        || PQgetisnull (h->res, h->row, i);
}

static const char *
s_pg_col_text (xs_sql_stmt_t *st, int i)
{
    s_pgst_t *h = S_ST (st);
    return s_pg_col_null (st, i) ? NULL : PQgetvalue (h->res, h->row, i);
}

static int64_t
s_pg_col_int64 (xs_sql_stmt_t *st, int i)
{
    const char *t = s_pg_col_text (st, i);
    return t ? strtoll (t, NULL, 10) : 0;
}

static double
s_pg_col_double (xs_sql_stmt_t *st, int i)
{
    const char *t = s_pg_col_text (st, i);
    return t ? strtod (t, NULL) : 0.0;
}

/* Reads the pipeline's results up to its sync. Each command's result is
   followed by a NULL: the first n after the SAVEPOINT are sts' (kept by
   s_result: a write's changes into changes [i], a query's rows), then the
   RELEASE, then the query when there is one. The first error is returned
   (later commands of the pipeline are aborted). */
static int
s_pg_group_results (xs_store_t *self, xs_sql_stmt_t **sts, int n, int64_t *changes,
                    xs_sql_stmt_t *query, int *query_rc)
{
    s_pg_t *pg = S_PG (self);
    int first_rc = XS_RC_OK;
    *query_rc = XS_RC_ERROR;
    xs_sql_set_errmsg (self, "no result from the server");
    int ncmds = n + 2 + (query ? 1 : 0);
    for (int i = 0; i < ncmds; i++) {
        PGresult *res = PQgetResult (pg->conn);
        if (!res) {
            if (first_rc == XS_RC_OK)
                first_rc = s_result_rc (self, NULL);
            break;
        }
        ExecStatusType t = PQresultStatus (res);
        xs_sql_stmt_t *st = i >= 1 && i <= n ? sts [i - 1] : i == n + 2 ? query : NULL;
        if (t == PGRES_PIPELINE_ABORTED || (st && first_rc != XS_RC_OK))
            PQclear (res);
        else
        if (st) {
            int rc = s_result (st, res);                /* frees or keeps it */
            if (rc != XS_RC_DONE && rc != XS_RC_ROW)
                first_rc = rc;
            else
            if (i <= n && changes)
                changes [i - 1] = rc == XS_RC_ROW ? S_ST (st)->nrows : self->changes;
            if (st == query)
                *query_rc = rc;
        }
        else {
            if (t != PGRES_COMMAND_OK && first_rc == XS_RC_OK)
                first_rc = s_result_rc (self, res);
            PQclear (res);
        }
        while ((res = PQgetResult (pg->conn)))          /* the NULL after each */
            PQclear (res);
    }
    PGresult *res;
    while ((res = PQgetResult (pg->conn))) {
        bool sync = PQresultStatus (res) == PGRES_PIPELINE_SYNC;
        PQclear (res);
        if (sync)
            break;
    }
    return first_rc;
}

/* Writes sts [0..n-1] in a savepoint of their own, all or none, and then
   runs `query` (may be NULL), all in one round trip: SAVEPOINT, the
   writes, RELEASE and the query go as one pipeline. When a write fails,
   the pipeline stops there and the savepoint is rolled back. A write that
   returns rows keeps them for stepping (RETURNING), as the query does
   (XS_RC_ROW in *query_rc; otherwise the query was not run and steps as
   usual). XS_RC_DONE or the first error. */
static int
s_pg_step_group (xs_sql_stmt_t **sts, int n, int64_t *changes, xs_sql_stmt_t *query,
                 int *query_rc)
{
    xs_store_t *self = sts [0]->store;
    s_pg_t *pg = S_PG (self);
    *query_rc = XS_RC_ERROR;
    int rc = s_ready (self);
    for (int i = 0; i < n && rc == XS_RC_OK; i++)
        rc = s_prepared (sts [i]);
    if (rc == XS_RC_OK && query)
        rc = s_prepared (query);
    if (rc != XS_RC_OK)
        return rc;
    bool sent = PQenterPipelineMode (pg->conn)
             && PQsendQueryParams (pg->conn, "SAVEPOINT xs_w", 0, NULL, NULL, NULL, NULL, 0);
    for (int i = 0; i < n && sent; i++) {
        s_pgst_t *h = S_ST (sts [i]);
        sent = PQsendQueryPrepared (pg->conn, h->name, h->nparams, h->values, NULL, NULL, 0);
    }
    sent = sent && PQsendQueryParams (pg->conn, "RELEASE SAVEPOINT xs_w", 0, NULL, NULL,
                                      NULL, NULL, 0);
    if (sent && query) {
        s_pgst_t *h = S_ST (query);
        sent = PQsendQueryPrepared (pg->conn, h->name, h->nparams, h->values, NULL, NULL, 0);
    }
    if (!sent || !PQpipelineSync (pg->conn)) {
        rc = s_result_rc (self, NULL);
        PQexitPipelineMode (pg->conn);
        return rc == XS_RC_ERROR ? XS_RC_IOERR : rc;
    }
    rc = s_pg_group_results (self, sts, n, changes, query, query_rc);
    PQexitPipelineMode (pg->conn);
    if (rc != XS_RC_OK) {
        for (int i = 0; i < n; i++)
            s_pg_reset (sts [i]);
        if (query)
            s_pg_reset (query);
        *query_rc = XS_RC_ERROR;
        if (!s_lost (pg) && PQtransactionStatus (pg->conn) == PQTRANS_INERROR) {
            char msg [sizeof self->errmsg];
            memcpy (msg, self->errmsg, sizeof msg);
            PQclear (PQexec (pg->conn, "ROLLBACK TO SAVEPOINT xs_w; RELEASE SAVEPOINT xs_w"));
            memcpy (self->errmsg, msg, sizeof msg);
        }
        return rc;
    }
    return XS_RC_DONE;
}

/* A write in a savepoint of its own, in one round trip (a group of one). */
static int
s_pg_step_savepoint (xs_sql_stmt_t *st)
{
    int query_rc;
    int rc = s_pg_step_group (&st, 1, NULL, NULL, &query_rc);
    if (rc == XS_RC_DONE && S_ST (st)->res)
        s_pg_reset (st);                /* a query is not a write: keep no rows */
    return rc;
}

static int
s_pg_conn_generation (xs_store_t *self)
{
    return S_PG (self)->generation;
}

const xs_sql_driver_t xs_sql_pg_driver = {
    .name = "PostgreSQL",
    .conn_generation = s_pg_conn_generation,
    .open = s_pg_open,
    .close = s_pg_close,
    .schema_version = s_pg_schema_version,
    .set_busy_timeout = s_pg_set_busy_timeout,
    .autocommit = s_pg_autocommit,
    .prepare = s_pg_prepare,
    .finalize = s_pg_finalize,
    .bind_int64 = s_pg_bind_int64,
    .bind_double = s_pg_bind_double,
    .bind_text = s_pg_bind_text,
    .bind_null = s_pg_bind_null,
    .step = s_pg_step,
    .reset = s_pg_reset,
    .col_int64 = s_pg_col_int64,
    .col_double = s_pg_col_double,
    .col_text = s_pg_col_text,
    .col_null = s_pg_col_null,
    .step_savepoint = s_pg_step_savepoint,
    .step_group = s_pg_step_group,
};
