/*  xs_store_int: private to catalog/store/. What the store's files share:
    the store object, the statement ids, the driver table (the ops that
    differ between SQLite and PostgreSQL), and the xs_sql_* machinery
    (xs_store_stmt.c) every table file (xs_store_<table>.c) runs its
    statements with.

    Two drivers stand behind one set of table files:
      SQLite      xs_store_lite.c  (+ xs_store_sql.c, its SQL)
      PostgreSQL  xs_store_pg.c    (+ xs_store_pg_sql.c, its SQL)
    xs_store_open picks one from the database name (a path or a
    postgresql:// URI); from then on every statement goes through
    self->drv. The table files hold the store's rules (checks, messages,
    which statements an operation runs); a driver only prepares, binds,
    steps and reads columns, and names its failures with the result codes
    below (SQLite's numbers, so the SQLite driver passes them through).

    Nothing outside catalog/store/ includes this header: the interface is
    xs_store.h and xs_rows.h, which name no database type.

    Conventions of the machinery:
      - a statement is prepared once per connection (lazily), fetched with
        xs_sql_stmt, bound with XS_SQL_BIND, stepped, and reset with
        xs_sql_reset (xs_sql_write, _fetch_*, _exists, _count reset it
        themselves);
      - text is bound by reference: the caller's strings must outlive the
        step, which they do (every statement is reset before returning);
      - every failure becomes an xs_err_t through xs_sql_fail, which never
        prints a bound value (config values may be secrets).
*/
#ifndef XS_STORE_INT_H_INCLUDED
#define XS_STORE_INT_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "xs_store.h"

/* ---------------------------------------------------------------------
   Result codes: SQLite's values, which the PostgreSQL driver maps its
   SQLSTATEs onto (23505 unique, 23503 foreign key, ...).
   --------------------------------------------------------------------- */

#define XS_RC_OK                    0
#define XS_RC_ERROR                 1
#define XS_RC_BUSY                  5
#define XS_RC_IOERR                 10      /* also: connection lost       */
#define XS_RC_CONSTRAINT            19
#define XS_RC_MISUSE                21
#define XS_RC_ROW                   100
#define XS_RC_DONE                  101
#define XS_RC_NOTLEADER             1000    /* fenced (xs_store_leader.c)  */
#define XS_RC_CONSTRAINT_CHECK      (XS_RC_CONSTRAINT | (1 << 8))
#define XS_RC_CONSTRAINT_FOREIGNKEY (XS_RC_CONSTRAINT | (3 << 8))
#define XS_RC_CONSTRAINT_NOTNULL    (XS_RC_CONSTRAINT | (5 << 8))
#define XS_RC_CONSTRAINT_PRIMARYKEY (XS_RC_CONSTRAINT | (6 << 8))
#define XS_RC_CONSTRAINT_UNIQUE     (XS_RC_CONSTRAINT | (8 << 8))

/* ---------------------------------------------------------------------
   Statements (SQL text: xs_store_sql.c for SQLite, xs_store_pg_sql.c for
   PostgreSQL, both indexed by this enum)
   --------------------------------------------------------------------- */

typedef enum {
    XS_SQL_BEGIN, XS_SQL_COMMIT, XS_SQL_ROLLBACK, XS_SQL_SAVEPOINT, XS_SQL_RELEASE,
    XS_SQL_ROLLBACK_TO,
    XS_SQL_FLAVOR_INSERT, XS_SQL_FLAVOR_BY_LABEL, XS_SQL_FLAVOR_BY_ID, XS_SQL_FLAVOR_LIST,
    XS_SQL_FLAVOR_BACKENDS, XS_SQL_FLAVOR_LIVE_VOLUMES, XS_SQL_FLAVOR_DELETE,
    XS_SQL_FLAVOR_EXISTS,
    XS_SQL_BACKEND_INSERT, XS_SQL_CONFIG_INSERT, XS_SQL_BACKEND_GET, XS_SQL_BACKEND_LIST,
    XS_SQL_BACKEND_BY_FLAVOR, XS_SQL_BACKEND_BY_ZONE, XS_SQL_CONFIG_OF,
    XS_SQL_BACKEND_LIVE_VOLUMES, XS_SQL_BACKEND_DELETE, XS_SQL_BACKEND_SET_STATE,
    XS_SQL_BACKEND_SET_SR, XS_SQL_BACKEND_BY_SR, XS_SQL_BACKEND_EXISTS,
    XS_SQL_BACKEND_NEXT_OF_FLAVOR, XS_SQL_BACKEND_BUSY,
    XS_SQL_HOST_UPSERT, XS_SQL_HOST_GET, XS_SQL_HOST_LIST, XS_SQL_HOST_SET_STATE,
    XS_SQL_HOST_TOUCH, XS_SQL_HOST_DELETE, XS_SQL_HOST_EXISTS,
    XS_SQL_SR_UPSERT, XS_SQL_SR_SET_ATTACHED, XS_SQL_SR_LIST,
    XS_SQL_VOLUME_INSERT, XS_SQL_VOLUME_GET, XS_SQL_VOLUME_BY_REQUEST, XS_SQL_VOLUME_LIST,
    XS_SQL_VOLUME_UPDATE, XS_SQL_VOLUME_SET_STATE, XS_SQL_VOLUME_EXISTS,
    XS_SQL_VOLUME_SET_SIZE, XS_SQL_VOLUME_SET_MADE, XS_SQL_VOLUME_CREATING,
    XS_SQL_VOLUME_ERRORS,
    XS_SQL_JOB_INSERT, XS_SQL_JOB_GET, XS_SQL_JOB_UPDATE, XS_SQL_JOB_UNFINISHED,
    XS_SQL_JOB_BY_VOLUME,
    XS_SQL_ATTEMPT_INSERT, XS_SQL_ATTEMPT_BY_VOLUME,
    XS_SQL_VOLUME_COUNTS, XS_SQL_VOLUME_USAGE, XS_SQL_VOLUME_SNAPSHOTS_OF,
    XS_SQL_VOLUME_PAGE, XS_SQL_VOLUME_PAGE_ALL, XS_SQL_SNAPSHOT_PAGE, XS_SQL_SNAPSHOT_PAGE_ALL,
    XS_SQL_VOLUME_PAGE_MARKER, XS_SQL_VOLUME_PAGE_COUNT,
    XS_SQL_COUNTS,
    XS_SQL_LEAD_LOCK, XS_SQL_LEAD_KILL_EXPIRED, XS_SQL_LEAD_TAKE, XS_SQL_LEAD_RENEW,
    XS_SQL_LEAD_RESIGN, XS_SQL_LEAD_GET, XS_SQL_LEAD_FENCE,
    XS_SQL_INSTANCE_BEAT, XS_SQL_INSTANCE_LIST,
    XS_SQL_NSTMTS
} xs_sql_id_t;

/* The SQL of each statement, per dialect, indexed by xs_sql_id_t. */
extern const char *const xs_sql_text [XS_SQL_NSTMTS];
extern const char *const xs_pg_sql_text [XS_SQL_NSTMTS];

/* Migrations, per dialect: [v] brings a database from schema version v to
   v + 1. Both lists have XS_STORE_SCHEMA_VERSION steps (one list of
   version numbers; each dialect says each step in its own SQL). */
extern const char *const xs_sql_migrations [XS_STORE_SCHEMA_VERSION];
extern const char *const xs_pg_migrations [XS_STORE_SCHEMA_VERSION];

/* ---------------------------------------------------------------------
   The driver: what differs between SQLite and PostgreSQL
   --------------------------------------------------------------------- */

typedef struct _xs_sql_stmt_t xs_sql_stmt_t;
typedef struct _xs_store_cache_t xs_store_cache_t;

typedef struct {
    const char *name;                   /* "SQLite", "PostgreSQL"           */
    /* Connects to self->path, takes it for this store alone, checks it is
       an xensm catalog no newer than this program, migrates it. 0 or -1. */
    int (*open) (xs_store_t *self, const xs_store_options_t *options, xs_err_t *err);
    /* Rolls back what is open, finalizes the statements, disconnects. */
    void (*close) (xs_store_t *self);
    /* Bumped by every (re)connection: a leader whose connection changed
       has lost its session lock (xs_store_leader.c). 0 for a file. */
    int (*conn_generation) (xs_store_t *self);
    int (*schema_version) (xs_store_t *self);
    void (*set_busy_timeout) (xs_store_t *self, int ms);
    /* True when the connection has no transaction open (or is lost). */
    bool (*autocommit) (xs_store_t *self);
    /* When not NULL: runs before every BEGIN (SQLite: a write-ahead log
       deleted under the running catalog is checkpointed and made again). */
    int (*before_begin) (xs_store_t *self, xs_err_t *err);
    /* Prepares statement `id` into st->h. An XS_RC_ code (message kept). */
    int (*prepare) (xs_store_t *self, xs_sql_stmt_t *st);
    void (*finalize) (xs_sql_stmt_t *st);
    int (*bind_int64) (xs_sql_stmt_t *st, int i, int64_t value);
    int (*bind_double) (xs_sql_stmt_t *st, int i, double value);
    int (*bind_text) (xs_sql_stmt_t *st, int i, const char *text);    /* borrowed */
    int (*bind_null) (xs_sql_stmt_t *st, int i);
    /* XS_RC_ROW, XS_RC_DONE or an error (message kept in self->errmsg).
       On DONE of a write, sets self->changes and self->last_id. */
    int (*step) (xs_sql_stmt_t *st);
    void (*reset) (xs_sql_stmt_t *st);
    int64_t (*col_int64) (xs_sql_stmt_t *st, int i);
    double (*col_double) (xs_sql_stmt_t *st, int i);
    const char *(*col_text) (xs_sql_stmt_t *st, int i);   /* NULL for SQL NULL */
    bool (*col_null) (xs_sql_stmt_t *st, int i);
    /* When not NULL: steps a write in a savepoint of its own, used inside
       the caller's transaction so that a failed write undoes only itself
       (PostgreSQL aborts the whole transaction on any error otherwise).
       XS_RC_DONE, or the write's error with the savepoint rolled back. */
    int (*step_savepoint) (xs_sql_stmt_t *st);
    /* When not NULL: the same for n writes, all or none, then `query`
       (may be NULL), in one round trip (xs_sql_write_group). */
    int (*step_group) (xs_sql_stmt_t **sts, int n, int64_t *changes, xs_sql_stmt_t *query,
                       int *query_rc);
} xs_sql_driver_t;

extern const xs_sql_driver_t xs_sql_lite_driver;
extern const xs_sql_driver_t xs_sql_pg_driver;

/* The PostgreSQL driver's checks before it connects (xs_store_pg_conn.c):
   refuses a URI libpq cannot parse or that carries a password (self->path
   is then redacted), 0 or -1; the first line of the password file `path`
   (only its owner may read it), caller frees (and wipes), or NULL. */
int xs_pg_check_uri (xs_store_t *self, xs_err_t *err);
char *xs_pg_read_password (xs_store_t *self, const char *path, xs_err_t *err);

struct _xs_sql_stmt_t {
    xs_store_t *store;
    xs_sql_id_t id;
    void *h;                            /* the driver's statement           */
};

/* ---------------------------------------------------------------------
   The store object
   --------------------------------------------------------------------- */

struct _xs_store_t {
    const xs_sql_driver_t *drv;
    char *path;                         /* file, or URI (no password): messages */
    void *conn;                         /* the driver's connection          */
    bool in_txn;
    bool txn_lost;                      /* the database rolled it back: every
                                           operation fails until commit
                                           (which fails) or rollback       */
    char txn_lost_why [512];            /* what rolled it back              */
    int op_depth;                       /* open xs_sql_savepoint levels     */
    bool op_outer;                      /* the outer one began a transaction */
    uint64_t statements;                /* run since open (xs_sql_stmt)     */
    uint64_t round_trips;               /* the same, a write group as one   */
    int64_t changes;                    /* rows the last write changed      */
    int64_t last_id;                    /* id the last insert made          */
    char errmsg [512];                  /* the driver's message of the last failure */
    bool shared;                        /* several catalogd on one database */
    int64_t lead_generation;            /* leads with it; 0: not leading    */
    int lead_conn;                      /* conn_generation when it took over */
    bool fenced;                        /* superseded: every write refused  */
    char fenced_why [256];
    bool instance_seen;                 /* its catalog_instance row written */
    bool leader_op;                     /* a leadership write: not fenced   */
    xs_store_cache_t *cache;            /* rows read in this transaction
                                           (xs_store_cache.c); NULL: none yet */
    xs_sql_stmt_t stmts [XS_SQL_NSTMTS];
};

/* The fence (xs_store_leader.c): after the BEGIN of every transaction of
   a leading store, checks in that transaction that the database's leader
   generation is still ours (and locks the leader row for share, so no
   takeover commits before this transaction ends). 0, or -1 with *err
   XS_ENOTLEADER (the store is then fenced for good) or XS_EIO. A shared
   store that does not lead writes nothing; one opened alone and never
   led (tests, tools) is not checked. */
int xs_sql_fence (xs_store_t *self, xs_err_t *err);

/* True for NULL and "". */
bool xs_store_empty (const char *text);

/* Notes that the database rolled back the caller's open transaction
   (self->errmsg says why): from now on every operation fails, and so does
   the commit, until the caller rolls back. Nothing is acknowledged that was
   not committed. */
void xs_sql_txn_lost (xs_store_t *self);

/* Copies `msg` into self->errmsg (the next xs_sql_fail reports it). */
void xs_sql_set_errmsg (xs_store_t *self, const char *msg);

/* ---------------------------------------------------------------------
   Flavor and backend rows read once per transaction (xs_store_cache.c)
   --------------------------------------------------------------------- */

/* Empties the cache (begin, commit, rollback, a savepoint undone). */
void xs_sql_cache_clear (xs_store_t *self);
void xs_sql_cache_destroy (xs_store_t *self);

/* Statement `id` is about to run: a write to flavor, backend or
   backend_config, or a rollback, empties the cache. */
void xs_sql_cache_touch (xs_store_t *self, xs_sql_id_t id);

/* A copy (caller owns it) of the flavor with `label` (or, when NULL, id)
   read earlier in the caller's open transaction, else NULL. */
xs_flavor_t *xs_sql_cache_flavor (xs_store_t *self, const char *label, int64_t id);
/* Keeps a copy of a row just read (inside an open transaction only). */
void xs_sql_cache_put_flavor (xs_store_t *self, const xs_flavor_t *flavor);

/* The same for backends (with their config), by id. */
xs_backend_t *xs_sql_cache_backend (xs_store_t *self, int64_t id);
void xs_sql_cache_put_backend (xs_store_t *self, const xs_backend_t *backend);

/* The same for xs_store_backend_next_of_flavor's answers (0: none left). */
bool xs_sql_cache_next (xs_store_t *self, int64_t flavor_id, int64_t after, int64_t *next_p);
void xs_sql_cache_put_next (xs_store_t *self, int64_t flavor_id, int64_t after, int64_t next);

/* ---------------------------------------------------------------------
   Columns and parameters
   --------------------------------------------------------------------- */

/* Text column i as a new string (caller frees), NULL for SQL NULL. */
char *xs_sql_col_text (xs_sql_stmt_t *st, int i);

/* Text column i that the schema says is NOT NULL, as a new string (caller
   frees); "" if the database disagrees. */
char *xs_sql_col_text_req (xs_sql_stmt_t *st, int i);

/* Text column i, borrowed until the next step or reset; NULL for SQL NULL. */
const char *xs_sql_col_cstr (xs_sql_stmt_t *st, int i);
int64_t xs_sql_col_int64 (xs_sql_stmt_t *st, int i);
double xs_sql_col_double (xs_sql_stmt_t *st, int i);
bool xs_sql_col_null (xs_sql_stmt_t *st, int i);

/* Binds text (borrowed until the statement is reset); NULL binds SQL NULL. */
int xs_sql_bind_text (xs_sql_stmt_t *st, int i, const char *text);

/* Binds an id; 0 (none) binds SQL NULL. */
int xs_sql_bind_id (xs_sql_stmt_t *st, int i, int64_t id);
int xs_sql_bind_int64 (xs_sql_stmt_t *st, int i, int64_t value);
int xs_sql_bind_double (xs_sql_stmt_t *st, int i, double value);
int xs_sql_bind_null (xs_sql_stmt_t *st, int i);

/* Accumulates bind results in the caller's `int rc` (XS_RC_OK to start):
   the first failure sticks and the step is then skipped. */
#define XS_SQL_BIND(expr) do { if (rc == XS_RC_OK) rc = (expr); } while (0)

/* ---------------------------------------------------------------------
   Running statements
   --------------------------------------------------------------------- */

/* The prepared statement `id` (owned by the store), or NULL with *err set. */
xs_sql_stmt_t *xs_sql_stmt (xs_store_t *self, xs_sql_id_t id, xs_err_t *err);

/* Resets a statement after use and drops its (borrowed) bindings. NULL is fine. */
void xs_sql_reset (xs_sql_stmt_t *st);

/* Steps `st` unless binding already failed (`rc` != XS_RC_OK); keeps the
   driver's message on failure. Returns XS_RC_ROW, XS_RC_DONE or an error. */
int xs_sql_step (xs_store_t *self, xs_sql_stmt_t *st, int rc);

/* Runs statement `id`, which has no parameters (BEGIN, SAVEPOINT, ...).
   Returns XS_RC_OK or the error. */
int xs_sql_exec (xs_store_t *self, xs_sql_id_t id);

/* Runs a write statement whose parameters are bound (`rc` carries the bind
   result) and resets it; self->changes and self->last_id tell what it did.
   Returns XS_RC_OK or the error (message kept for xs_sql_fail). */
int xs_sql_write (xs_store_t *self, xs_sql_stmt_t *st, int rc);

/* Runs the n bound writes sts [0..n-1] as one, all or none (in a
   savepoint of their own), then the bound `query` (may be NULL), in one
   round trip on a driver with step_group (inside the caller's open
   transaction; otherwise one after the other). changes [i] (may be NULL)
   gets what write i changed. The writes are reset; the query is left for
   xs_sql_fetch_one (its rows already fetched when it could be sent along).
   Returns XS_RC_OK or the first error (message kept), nothing of the
   writes then stored. */
int xs_sql_write_group (xs_store_t *self, xs_sql_stmt_t **sts, int n, int64_t *changes,
                        xs_sql_stmt_t *query);

/* Turns failure `rc` into *err; `fmt` names the object. A constraint
   failure is XS_ECONFLICT "<object>: <reason>"; anything else is XS_EIO
   "<database>: <reason> (<object>)". Notes when the database rolled back
   the caller's open transaction. Returns -1. */
int xs_sql_fail (xs_store_t *self, int rc, xs_err_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

/* 1 when statement `id` bound to `text` (or, when NULL, to `num`) returns a
   row, 0 when not, -1 on error. */
int xs_sql_exists (xs_store_t *self, xs_sql_id_t id, const char *text, int64_t num,
                   xs_err_t *err);

/* The single integer of count statement `id` bound to `num`; -1 on error. */
int64_t xs_sql_count (xs_store_t *self, xs_sql_id_t id, int64_t num, const char *object,
                      xs_err_t *err);

/* ---------------------------------------------------------------------
   Savepoints: each multi-statement operation is atomic on its own
   --------------------------------------------------------------------- */

/* Opens the operation's savepoint (a transaction when none is open). 0 or -1. */
int xs_sql_savepoint (xs_store_t *self, const char *object, xs_err_t *err);

/* Ends it: releases (commits) it when `ok`, else undoes it (leaving *err as
   the failed step set it). Returns 0, or -1 when !ok or the release failed. */
int xs_sql_savepoint_end (xs_store_t *self, bool ok, const char *object, xs_err_t *err);

/* ---------------------------------------------------------------------
   Fetching rows
   --------------------------------------------------------------------- */

/* Makes one row struct from the current row of `st` (the caller owns it),
   or NULL with *err set. */
typedef void *(*xs_sql_row_fn) (xs_store_t *self, xs_sql_stmt_t *st, const char *object,
                                xs_err_t *err);

/* Frees one row made by an xs_sql_row_fn. */
typedef void (*xs_sql_free_fn) (void *item);

/* The first row of a bound statement through `row` (caller owns it), or NULL:
   XS_ENOTFOUND "<object>: not found" when there is none. Resets `st`. */
void *xs_sql_fetch_one (xs_store_t *self, xs_sql_stmt_t *st, int rc, xs_sql_row_fn row,
                        const char *object, xs_err_t *err);

/* Every row of a bound statement as a NULL-terminated list (caller owns it
   and its rows), or NULL (and nothing to free). Resets `st`. */
void **xs_sql_fetch_all (xs_store_t *self, xs_sql_stmt_t *st, int rc, xs_sql_row_fn row,
                         xs_sql_free_fn free_fn, const char *object, xs_err_t *err);

#endif
