/*  xs_store_int: private to catalog/store/. What the SQLite store's files
    share: the store object, the statement ids (their SQL is in
    xs_store_sql.c), and the xs_sql_* machinery (xs_store_stmt.c) every
    table file (xs_store_<table>.c) runs its statements with.

    Nothing outside catalog/store/ includes this header: the interface is
    xs_store.h and xs_rows.h, which name no SQLite type.

    Conventions of the machinery:
      - a statement is prepared once (lazily, SQLITE_PREPARE_PERSISTENT),
        fetched with xs_sql_stmt, bound with XS_SQL_BIND, stepped, and reset
        with xs_sql_reset (xs_sql_write, _fetch_*, _exists, _count reset it
        themselves);
      - text is bound SQLITE_STATIC: the caller's strings must outlive the
        step, which they do (every statement is reset before returning);
      - every failure becomes an xs_err_t through xs_sql_fail, which never
        prints a bound value (config values may be secrets).
*/
#ifndef XS_STORE_INT_H_INCLUDED
#define XS_STORE_INT_H_INCLUDED

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "xs_store.h"

/* ---------------------------------------------------------------------
   Statements (SQL text in xs_store_sql.c)
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
    XS_SQL_BACKEND_NEXT_OF_FLAVOR,
    XS_SQL_HOST_UPSERT, XS_SQL_HOST_GET, XS_SQL_HOST_LIST, XS_SQL_HOST_SET_STATE,
    XS_SQL_HOST_TOUCH, XS_SQL_HOST_DELETE, XS_SQL_HOST_EXISTS,
    XS_SQL_SR_UPSERT, XS_SQL_SR_SET_ATTACHED, XS_SQL_SR_LIST,
    XS_SQL_VOLUME_INSERT, XS_SQL_VOLUME_GET, XS_SQL_VOLUME_BY_REQUEST, XS_SQL_VOLUME_LIST,
    XS_SQL_VOLUME_UPDATE, XS_SQL_VOLUME_SET_STATE, XS_SQL_VOLUME_EXISTS,
    XS_SQL_JOB_INSERT, XS_SQL_JOB_GET, XS_SQL_JOB_UPDATE, XS_SQL_JOB_UNFINISHED,
    XS_SQL_JOB_BY_VOLUME,
    XS_SQL_ATTEMPT_INSERT, XS_SQL_ATTEMPT_BY_VOLUME,
    XS_SQL_COUNTS,
    XS_SQL_NSTMTS
} xs_sql_id_t;

/* The SQL of each statement, indexed by xs_sql_id_t. */
extern const char *const xs_sql_text [XS_SQL_NSTMTS];

/* xs_sql_migrations [v] brings a database from schema version v to v + 1;
   there are XS_STORE_SCHEMA_VERSION of them. */
extern const char *const xs_sql_migrations [XS_STORE_SCHEMA_VERSION];

/* ---------------------------------------------------------------------
   The store object
   --------------------------------------------------------------------- */

struct _xs_store_t {
    char *path;
    char *lock_path;
    int lock_fd;
    int db_fd;                          /* the file, while opening          */
    unsigned db_mode;                   /* its mode when found              */
    sqlite3 *db;
    bool in_txn;
    char errmsg [256];                  /* SQLite's message of the last failure */
    sqlite3_stmt *stmts [XS_SQL_NSTMTS];
};

/* True for NULL and "". */
bool xs_store_empty (const char *text);

/* ---------------------------------------------------------------------
   Columns and parameters
   --------------------------------------------------------------------- */

/* Text column i as a new string (caller frees), NULL for SQL NULL. */
char *xs_sql_col_text (sqlite3_stmt *st, int i);

/* Text column i that the schema says is NOT NULL, as a new string (caller
   frees); "" if the file disagrees. */
char *xs_sql_col_text_req (sqlite3_stmt *st, int i);

/* Binds text (borrowed until the statement is reset); NULL binds SQL NULL. */
int xs_sql_bind_text (sqlite3_stmt *st, int i, const char *text);

/* Binds an id; 0 (none) binds SQL NULL. */
int xs_sql_bind_id (sqlite3_stmt *st, int i, int64_t id);

/* Accumulates bind results in the caller's `int rc` (SQLITE_OK to start):
   the first failure sticks and the step is then skipped. */
#define XS_SQL_BIND(expr) do { if (rc == SQLITE_OK) rc = (expr); } while (0)

/* ---------------------------------------------------------------------
   Running statements
   --------------------------------------------------------------------- */

/* The prepared statement `id` (owned by the store), or NULL with *err set. */
sqlite3_stmt *xs_sql_stmt (xs_store_t *self, xs_sql_id_t id, xs_err_t *err);

/* Resets a statement after use and drops its (borrowed) bindings. NULL is fine. */
void xs_sql_reset (sqlite3_stmt *st);

/* Steps `st` unless binding already failed (`rc` != SQLITE_OK); keeps
   SQLite's message on failure. Returns SQLITE_ROW, SQLITE_DONE or an error. */
int xs_sql_step (xs_store_t *self, sqlite3_stmt *st, int rc);

/* Runs statement `id`, which has no parameters (BEGIN, SAVEPOINT, ...).
   Returns SQLITE_OK or the SQLite error. */
int xs_sql_exec (xs_store_t *self, xs_sql_id_t id);

/* Runs a write statement whose parameters are bound (`rc` carries the bind
   result) and resets it. Returns SQLITE_OK or the SQLite error (message kept
   for xs_sql_fail). */
int xs_sql_write (xs_store_t *self, sqlite3_stmt *st, int rc);

/* Keeps SQLite's current message for the next xs_sql_fail. */
void xs_sql_capture (xs_store_t *self);

/* Turns SQLite failure `rc` into *err; `fmt` names the object. A constraint
   failure is XS_ECONFLICT "<object>: <reason>"; anything else is XS_EIO
   "<file>: <reason> (<object>)". Notes when SQLite rolled back the caller's
   open transaction. Returns -1. */
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

/* Opens the operation's savepoint. 0 or -1. */
int xs_sql_savepoint (xs_store_t *self, const char *object, xs_err_t *err);

/* Ends it: releases it when `ok`, else undoes it (leaving *err as the failed
   step set it). Returns 0, or -1 when !ok or the release failed. */
int xs_sql_savepoint_end (xs_store_t *self, bool ok, const char *object, xs_err_t *err);

/* ---------------------------------------------------------------------
   Fetching rows
   --------------------------------------------------------------------- */

/* Makes one row struct from the current row of `st` (the caller owns it),
   or NULL with *err set. */
typedef void *(*xs_sql_row_fn) (xs_store_t *self, sqlite3_stmt *st, const char *object,
                                xs_err_t *err);

/* Frees one row made by an xs_sql_row_fn. */
typedef void (*xs_sql_free_fn) (void *item);

/* The first row of a bound statement through `row` (caller owns it), or NULL:
   XS_ENOTFOUND "<object>: not found" when there is none. Resets `st`. */
void *xs_sql_fetch_one (xs_store_t *self, sqlite3_stmt *st, int rc, xs_sql_row_fn row,
                        const char *object, xs_err_t *err);

/* Every row of a bound statement as a NULL-terminated list (caller owns it
   and its rows), or NULL (and nothing to free). Resets `st`. */
void **xs_sql_fetch_all (xs_store_t *self, sqlite3_stmt *st, int rc, xs_sql_row_fn row,
                         xs_sql_free_fn free_fn, const char *object, xs_err_t *err);

#endif
