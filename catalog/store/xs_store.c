/*  xs_store: the catalog's SQLite store. The ONLY code in xensm that speaks SQL.

    Layout of this file: schema and migrations, the statement table, helpers
    (allocation, binding, errors, savepoints), open/close/transactions, then
    one section per table. Every statement is prepared once (lazily, with
    SQLITE_PREPARE_PERSISTENT) and reset after each use.
*/
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* PRAGMA application_id of an xensm catalog ("xsmC"). */
#define S_APPLICATION_ID 0x78736d43
#define S_BUSY_TIMEOUT_MS 5000

/* =========================================================================
    Schema. s_migrations [v] brings a database from user_version v to v + 1.
    Never edit a released step: add a new one and bump
    XS_STORE_SCHEMA_VERSION.
   ========================================================================= */

static const char *const s_migrations [] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE flavor ("
    "  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  label       TEXT NOT NULL UNIQUE CHECK (label <> ''),"
    "  description TEXT NOT NULL DEFAULT '',"
    "  created_at  INTEGER NOT NULL"
    ");"
    "CREATE TABLE backend ("
    "  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  flavor_id   INTEGER NOT NULL REFERENCES flavor (id) ON DELETE RESTRICT,"
    "  zone        TEXT NOT NULL CHECK (zone <> ''),"
    "  sr_type     TEXT NOT NULL CHECK (sr_type <> ''),"
    "  name_label  TEXT,"
    "  sr_uuid     TEXT UNIQUE CHECK (sr_uuid IS NULL OR sr_uuid <> ''),"
    "  state       TEXT NOT NULL DEFAULT 'new'"
    "              CHECK (state IN ('new', 'attaching', 'attached', 'error', 'draining')),"
    "  ratio       REAL CHECK (ratio IS NULL OR ratio > 0),"
    "  reserve     REAL CHECK (reserve IS NULL OR (reserve >= 0 AND reserve <= 100)),"
    "  error       TEXT,"
    "  created_at  INTEGER NOT NULL"
    ");"
    "CREATE INDEX backend_by_flavor ON backend (flavor_id, id);"
    "CREATE INDEX backend_by_zone ON backend (zone, id);"
    "CREATE TABLE backend_config ("
    "  backend_id  INTEGER NOT NULL REFERENCES backend (id) ON DELETE CASCADE,"
    "  position    INTEGER NOT NULL,"
    "  key         TEXT NOT NULL CHECK (key <> ''),"
    "  value       TEXT NOT NULL,"
    "  PRIMARY KEY (backend_id, key)"
    ");"
    "CREATE TABLE host ("
    "  uuid        TEXT NOT NULL PRIMARY KEY CHECK (uuid <> ''),"
    "  zone        TEXT NOT NULL CHECK (zone <> ''),"
    "  name        TEXT,"
    "  public_key  TEXT,"
    "  state       TEXT NOT NULL DEFAULT 'up' CHECK (state IN ('up', 'down')),"
    "  last_seen   INTEGER NOT NULL,"
    "  created_at  INTEGER NOT NULL"
    ");"
    "CREATE INDEX host_by_zone ON host (zone, uuid);"
    "CREATE TABLE host_sr ("
    "  backend_id  INTEGER NOT NULL REFERENCES backend (id) ON DELETE CASCADE,"
    "  host_uuid   TEXT NOT NULL REFERENCES host (uuid) ON DELETE CASCADE,"
    "  attached    INTEGER NOT NULL DEFAULT 0 CHECK (attached IN (0, 1)),"
    "  physical_size        INTEGER,"
    "  physical_utilisation INTEGER,"
    "  virtual_allocation   INTEGER,"
    "  capabilities TEXT NOT NULL DEFAULT '[]',"
    "  updated_at  INTEGER NOT NULL,"
    "  PRIMARY KEY (backend_id, host_uuid)"
    ");"
    "CREATE INDEX host_sr_by_host ON host_sr (host_uuid);"
    "CREATE TABLE volume ("
    "  uuid        TEXT NOT NULL PRIMARY KEY CHECK (uuid <> ''),"
    "  name        TEXT,"
    "  size_bytes  INTEGER NOT NULL CHECK (size_bytes >= 0),"
    "  flavor_id   INTEGER REFERENCES flavor (id) ON DELETE SET NULL,"
    "  backend_id  INTEGER REFERENCES backend (id) ON DELETE SET NULL,"
    "  vdi_uuid    TEXT,"
    "  host_uuid   TEXT,"
    "  state       TEXT NOT NULL CHECK (state IN ('creating', 'available', 'deleting',"
    "                                   'deleted', 'error', 'error_deleting')),"
    "  error       TEXT,"
    "  parent_uuid TEXT,"
    "  request_id  TEXT UNIQUE,"      /* its index serves get-by-request-id */
    "  created_at  INTEGER NOT NULL,"
    "  updated_at  INTEGER NOT NULL"
    ");"
    "CREATE INDEX volume_by_backend ON volume (backend_id);"
    "CREATE INDEX volume_by_flavor ON volume (flavor_id);"
    "CREATE INDEX volume_by_parent ON volume (parent_uuid) WHERE parent_uuid IS NOT NULL;"
    "CREATE TABLE job ("
    "  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  volume_uuid TEXT REFERENCES volume (uuid) ON DELETE CASCADE,"
    "  op          TEXT NOT NULL CHECK (op <> ''),"
    "  args        TEXT,"
    "  state       TEXT NOT NULL CHECK (state IN ('pending', 'dispatched', 'done', 'failed')),"
    "  backend_id  INTEGER,"          /* history: ids are never reused */
    "  host_uuid   TEXT,"
    "  result      TEXT,"
    "  error       TEXT,"
    "  created_at  INTEGER NOT NULL,"
    "  updated_at  INTEGER NOT NULL"
    ");"
    "CREATE INDEX job_unfinished ON job (id) WHERE state IN ('pending', 'dispatched');"
    "CREATE INDEX job_by_volume ON job (volume_uuid, id);"
    "CREATE TABLE attempt ("
    "  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  volume_uuid TEXT NOT NULL REFERENCES volume (uuid) ON DELETE CASCADE,"
    "  backend_id  INTEGER NOT NULL,"
    "  host_uuid   TEXT,"
    "  outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'skipped')),"
    "  reason      TEXT,"
    "  at          INTEGER NOT NULL"
    ");"
    "CREATE INDEX attempt_by_volume ON attempt (volume_uuid, id);"
};

#define S_NMIGRATIONS (sizeof s_migrations / sizeof s_migrations [0])
_Static_assert (S_NMIGRATIONS == XS_STORE_SCHEMA_VERSION,
                "one migration step per schema version");

/* =========================================================================
    Statements
   ========================================================================= */

typedef enum {
    S_BEGIN, S_COMMIT, S_ROLLBACK, S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO,
    S_FLAVOR_INSERT, S_FLAVOR_BY_LABEL, S_FLAVOR_BY_ID, S_FLAVOR_LIST,
    S_FLAVOR_BACKENDS, S_FLAVOR_LIVE_VOLUMES, S_FLAVOR_DELETE,
    S_BACKEND_INSERT, S_CONFIG_INSERT, S_BACKEND_GET, S_BACKEND_LIST,
    S_BACKEND_BY_FLAVOR, S_BACKEND_BY_ZONE, S_CONFIG_OF, S_BACKEND_LIVE_VOLUMES,
    S_BACKEND_DELETE, S_BACKEND_SET_STATE, S_BACKEND_SET_SR, S_BACKEND_BY_SR,
    S_BACKEND_EXISTS, S_BACKEND_NEXT_OF_FLAVOR,
    S_HOST_UPSERT, S_HOST_GET, S_HOST_LIST, S_HOST_SET_STATE, S_HOST_TOUCH,
    S_HOST_DELETE, S_HOST_EXISTS,
    S_SR_UPSERT, S_SR_SET_ATTACHED, S_SR_LIST,
    S_VOLUME_INSERT, S_VOLUME_GET, S_VOLUME_BY_REQUEST, S_VOLUME_LIST,
    S_VOLUME_UPDATE, S_VOLUME_SET_STATE, S_VOLUME_EXISTS, S_FLAVOR_EXISTS,
    S_JOB_INSERT, S_JOB_GET, S_JOB_UPDATE, S_JOB_UNFINISHED, S_JOB_BY_VOLUME,
    S_ATTEMPT_INSERT, S_ATTEMPT_BY_VOLUME,
    S_COUNTS,
    S_NSTMTS
} s_stmt_id_t;

#define S_FLAVOR_COLS "SELECT id, label, description, created_at FROM flavor "
#define S_BACKEND_COLS \
    "SELECT b.id, b.flavor_id, f.label, b.zone, b.sr_type, b.name_label, b.sr_uuid," \
    " b.state, b.error, b.ratio, b.reserve, b.created_at" \
    " FROM backend b JOIN flavor f ON f.id = b.flavor_id "
#define S_HOST_COLS \
    "SELECT uuid, zone, name, public_key, state, last_seen, created_at FROM host "
#define S_SR_COLS \
    "SELECT host_uuid, backend_id, attached, physical_size, physical_utilisation," \
    " virtual_allocation, capabilities, updated_at FROM host_sr "
#define S_VOLUME_COLS \
    "SELECT uuid, name, size_bytes, flavor_id, backend_id, vdi_uuid, host_uuid, state," \
    " error, parent_uuid, request_id, created_at, updated_at FROM volume "
#define S_JOB_COLS \
    "SELECT id, volume_uuid, op, args, state, backend_id, host_uuid, result, error," \
    " created_at, updated_at FROM job "
#define S_ATTEMPT_COLS \
    "SELECT id, volume_uuid, backend_id, host_uuid, outcome, reason, at FROM attempt "

static const char *const s_sql [S_NSTMTS] = {
    [S_BEGIN]        = "BEGIN IMMEDIATE",
    [S_COMMIT]       = "COMMIT",
    [S_ROLLBACK]     = "ROLLBACK",
    [S_SAVEPOINT]    = "SAVEPOINT xs_op",
    [S_RELEASE]      = "RELEASE xs_op",
    [S_ROLLBACK_TO]  = "ROLLBACK TO xs_op",

    [S_FLAVOR_INSERT] =
        "INSERT INTO flavor (label, description, created_at) VALUES (?1, ?2, ?3)",
    [S_FLAVOR_BY_LABEL] = S_FLAVOR_COLS "WHERE label = ?1",
    [S_FLAVOR_BY_ID]    = S_FLAVOR_COLS "WHERE id = ?1",
    [S_FLAVOR_LIST]     = S_FLAVOR_COLS "ORDER BY id",
    [S_FLAVOR_BACKENDS] = "SELECT count(*) FROM backend WHERE flavor_id = ?1",
    [S_FLAVOR_LIVE_VOLUMES] =
        "SELECT count(*) FROM volume WHERE flavor_id = ?1 AND state <> 'deleted'",
    [S_FLAVOR_DELETE]   = "DELETE FROM flavor WHERE id = ?1",
    [S_FLAVOR_EXISTS]   = "SELECT 1 FROM flavor WHERE id = ?1",

    [S_BACKEND_INSERT] =
        "INSERT INTO backend (flavor_id, zone, sr_type, name_label, sr_uuid, state,"
        " ratio, reserve, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'new', ?6, ?7, ?8)",
    [S_CONFIG_INSERT] =
        "INSERT INTO backend_config (backend_id, position, key, value) VALUES (?1, ?2, ?3, ?4)",
    [S_BACKEND_GET]       = S_BACKEND_COLS "WHERE b.id = ?1",
    [S_BACKEND_LIST]      = S_BACKEND_COLS "ORDER BY b.id",
    [S_BACKEND_BY_FLAVOR] = S_BACKEND_COLS "WHERE b.flavor_id = ?1 ORDER BY b.id",
    [S_BACKEND_BY_ZONE]   = S_BACKEND_COLS "WHERE b.zone = ?1 ORDER BY b.id",
    [S_CONFIG_OF] =
        "SELECT key, value FROM backend_config WHERE backend_id = ?1 ORDER BY position",
    [S_BACKEND_LIVE_VOLUMES] =
        "SELECT count(*) FROM volume WHERE backend_id = ?1 AND state <> 'deleted'",
    [S_BACKEND_DELETE]    = "DELETE FROM backend WHERE id = ?1",
    [S_BACKEND_SET_STATE] = "UPDATE backend SET state = ?2, error = ?3 WHERE id = ?1",
    [S_BACKEND_SET_SR] =
        "UPDATE backend SET sr_uuid = ?2 WHERE id = ?1 AND sr_uuid IS NULL",
    [S_BACKEND_BY_SR]     = "SELECT id FROM backend WHERE sr_uuid = ?1",
    [S_BACKEND_EXISTS]    = "SELECT 1 FROM backend WHERE id = ?1",
    [S_BACKEND_NEXT_OF_FLAVOR] =
        "SELECT id FROM backend WHERE flavor_id = ?1 AND id > ?2 ORDER BY id LIMIT 1",

    [S_HOST_UPSERT] =
        "INSERT INTO host (uuid, zone, name, public_key, state, last_seen, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT (uuid) DO UPDATE SET zone = excluded.zone, name = excluded.name,"
        " public_key = excluded.public_key, state = excluded.state,"
        " last_seen = excluded.last_seen",
    [S_HOST_GET]       = S_HOST_COLS "WHERE uuid = ?1",
    [S_HOST_LIST]      = S_HOST_COLS "WHERE ?1 IS NULL OR zone = ?1 ORDER BY zone, uuid",
    [S_HOST_SET_STATE] = "UPDATE host SET state = ?2 WHERE uuid = ?1",
    [S_HOST_TOUCH]     = "UPDATE host SET last_seen = ?2 WHERE uuid = ?1",
    [S_HOST_DELETE]    = "DELETE FROM host WHERE uuid = ?1",
    [S_HOST_EXISTS]    = "SELECT 1 FROM host WHERE uuid = ?1",

    [S_SR_UPSERT] =
        "INSERT INTO host_sr (host_uuid, backend_id, attached, physical_size,"
        " physical_utilisation, virtual_allocation, capabilities, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        " ON CONFLICT (backend_id, host_uuid) DO UPDATE SET attached = excluded.attached,"
        " physical_size = excluded.physical_size,"
        " physical_utilisation = excluded.physical_utilisation,"
        " virtual_allocation = excluded.virtual_allocation,"
        " capabilities = excluded.capabilities, updated_at = excluded.updated_at",
    [S_SR_SET_ATTACHED] =
        "INSERT INTO host_sr (host_uuid, backend_id, attached, updated_at)"
        " VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT (backend_id, host_uuid) DO UPDATE SET attached = excluded.attached,"
        " updated_at = excluded.updated_at",
    [S_SR_LIST] = S_SR_COLS
        "WHERE (?1 = 0 OR backend_id = ?1) AND (?2 IS NULL OR host_uuid = ?2)"
        " ORDER BY backend_id, host_uuid",

    [S_VOLUME_INSERT] =
        "INSERT INTO volume (uuid, name, size_bytes, flavor_id, backend_id, vdi_uuid,"
        " host_uuid, state, error, parent_uuid, request_id, created_at, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
    [S_VOLUME_GET]        = S_VOLUME_COLS "WHERE uuid = ?1",
    [S_VOLUME_BY_REQUEST] = S_VOLUME_COLS "WHERE request_id = ?1",
    [S_VOLUME_LIST]       = S_VOLUME_COLS "WHERE ?1 OR state <> 'deleted' ORDER BY rowid",
    [S_VOLUME_UPDATE] =
        "UPDATE volume SET name = ?2, state = ?3, backend_id = ?4, vdi_uuid = ?5,"
        " host_uuid = ?6, error = ?7, updated_at = ?8 WHERE uuid = ?1",
    [S_VOLUME_SET_STATE] =
        "UPDATE volume SET state = ?2, error = ?3, updated_at = ?4 WHERE uuid = ?1",
    [S_VOLUME_EXISTS] = "SELECT 1 FROM volume WHERE uuid = ?1",

    [S_JOB_INSERT] =
        "INSERT INTO job (volume_uuid, op, args, state, backend_id, host_uuid, result,"
        " error, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    [S_JOB_GET] = S_JOB_COLS "WHERE id = ?1",
    [S_JOB_UPDATE] =
        "UPDATE job SET state = ?2, backend_id = ?3, host_uuid = ?4, result = ?5,"
        " error = ?6, updated_at = ?7 WHERE id = ?1",
    [S_JOB_UNFINISHED] = S_JOB_COLS "WHERE state IN ('pending', 'dispatched') ORDER BY id",
    [S_JOB_BY_VOLUME]  = S_JOB_COLS "WHERE volume_uuid = ?1 ORDER BY id",

    [S_ATTEMPT_INSERT] =
        "INSERT INTO attempt (volume_uuid, backend_id, host_uuid, outcome, reason, at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_ATTEMPT_BY_VOLUME] = S_ATTEMPT_COLS "WHERE volume_uuid = ?1 ORDER BY id",

    [S_COUNTS] =
        "SELECT (SELECT count(*) FROM flavor), (SELECT count(*) FROM backend),"
        " (SELECT count(*) FROM host), (SELECT count(*) FROM host WHERE state = 'up'),"
        " (SELECT count(*) FROM volume),"
        " (SELECT count(*) FROM volume WHERE state <> 'deleted'),"
        " (SELECT count(*) FROM job WHERE state IN ('pending', 'dispatched'))",
};

struct _xs_store_t {
    char *path;
    char *lock_path;
    int lock_fd;
    int db_fd;                          /* the file, while opening          */
    unsigned db_mode;                   /* its mode when found              */
    sqlite3 *db;
    bool in_txn;
    char errmsg [256];                  /* SQLite's message of the last failure */
    sqlite3_stmt *stmts [S_NSTMTS];
};

/* =========================================================================
    State names
   ========================================================================= */

static const char *const s_backend_states [] =
    { "new", "attaching", "attached", "error", "draining" };
static const char *const s_host_states [] = { "up", "down" };
static const char *const s_volume_states [] =
    { "creating", "available", "deleting", "deleted", "error", "error_deleting" };
static const char *const s_job_states [] = { "pending", "dispatched", "done", "failed" };
static const char *const s_outcomes [] = { "ok", "failed", "skipped" };

#define S_N(a) (sizeof (a) / sizeof (a) [0])

static const char *
s_name (const char *const *names, size_t n, int value)
{
    return value >= 0 && (size_t) value < n ? names [value] : "?";
}

static int
s_from_name (const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp (names [i], name) == 0)
            return (int) i;
    return -1;
}

const char *
xs_backend_state_name (xs_backend_state_t s) { return s_name (s_backend_states, S_N (s_backend_states), (int) s); }
const char *
xs_host_state_name (xs_host_state_t s) { return s_name (s_host_states, S_N (s_host_states), (int) s); }
const char *
xs_volume_state_name (xs_volume_state_t s) { return s_name (s_volume_states, S_N (s_volume_states), (int) s); }
const char *
xs_job_state_name (xs_job_state_t s) { return s_name (s_job_states, S_N (s_job_states), (int) s); }
const char *
xs_attempt_outcome_name (xs_attempt_outcome_t o) { return s_name (s_outcomes, S_N (s_outcomes), (int) o); }

#define S_FROM_NAME(fn, type, names, what) \
int \
fn (const char *name, type *state_p, xs_err_t *err) \
{ \
    int v = s_from_name (names, S_N (names), name); \
    if (v < 0) \
        return xs_err_set (err, XS_EINVAL, "unknown " what " '%s'", name ? name : "(null)"); \
    *state_p = (type) v; \
    return 0; \
}

S_FROM_NAME (xs_backend_state_from_name, xs_backend_state_t, s_backend_states, "backend state")
S_FROM_NAME (xs_host_state_from_name, xs_host_state_t, s_host_states, "host state")
S_FROM_NAME (xs_volume_state_from_name, xs_volume_state_t, s_volume_states, "volume state")
S_FROM_NAME (xs_job_state_from_name, xs_job_state_t, s_job_states, "job state")

bool
xs_volume_state_is_live (xs_volume_state_t state)
{
    return state != XS_VOLUME_DELETED;
}

/* =========================================================================
    Small helpers
   ========================================================================= */

int64_t
xs_store_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t
xs_store_list_size (const void *list)
{
    size_t n = 0;
    const void *const *items = list;
    while (items && items [n])
        n++;
    return n;
}

static bool
s_empty (const char *s)
{
    return !s || !*s;
}

/* Text column as a fresh string, NULL for SQL NULL. */
static char *
s_col_str (sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text (st, i);
    return t ? xs_strdup ((const char *) t) : NULL;
}

/* Text column that the schema says is NOT NULL; "" if the file disagrees. */
static char *
s_col_req (sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text (st, i);
    return xs_strdup (t ? (const char *) t : "");
}

static int
s_bind_text (sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text (st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null (st, i);
}

/* Binds an id; 0 (none) becomes NULL. */
static int
s_bind_id (sqlite3_stmt *st, int i, int64_t id)
{
    return id ? sqlite3_bind_int64 (st, i, id) : sqlite3_bind_null (st, i);
}

/* Accumulates bind results: the first failure sticks in `rc`. */
#define S_BIND(expr) do { if (rc == SQLITE_OK) rc = (expr); } while (0)

static void
s_capture (xs_store_t *self)
{
    snprintf (self->errmsg, sizeof self->errmsg, "%s", sqlite3_errmsg (self->db));
}

/* Turns SQLite failure `rc` into *err. `fmt` names the object. A constraint
   failure is XS_ECONFLICT "<object>: <reason>"; anything else is XS_EIO
   "<file>: <reason> (<object>)". Notes when SQLite rolled back the caller's
   open transaction. Returns -1. */
static int s_sqlerr (xs_store_t *self, int rc, xs_err_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_sqlerr (xs_store_t *self, int rc, xs_err_t *err, const char *fmt, ...)
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
static sqlite3_stmt *
s_stmt (xs_store_t *self, s_stmt_id_t id, xs_err_t *err)
{
    if (!self->stmts [id]) {
        int rc = sqlite3_prepare_v3 (self->db, s_sql [id], -1, SQLITE_PREPARE_PERSISTENT,
                                     &self->stmts [id], NULL);
        if (rc != SQLITE_OK) {
            s_capture (self);
            sqlite3_finalize (self->stmts [id]);
            self->stmts [id] = NULL;
            s_sqlerr (self, rc, err, "preparing statement %d", (int) id);
            return NULL;
        }
    }
    return self->stmts [id];
}

/* Resets a statement after use and drops its (borrowed) bindings. */
static void
s_done (sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset (st);
        sqlite3_clear_bindings (st);
    }
}

/* Steps `st` unless binding already failed (`rc` != SQLITE_OK); captures
   SQLite's message on failure. Returns SQLITE_ROW, SQLITE_DONE or an error. */
static int
s_step (xs_store_t *self, sqlite3_stmt *st, int rc)
{
    if (rc == SQLITE_OK)
        rc = sqlite3_step (st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        s_capture (self);
    return rc;
}

/* Runs a statement without parameters (BEGIN, SAVEPOINT, ...). */
static int
s_exec (xs_store_t *self, s_stmt_id_t id)
{
    sqlite3_stmt *st = s_stmt (self, id, NULL);
    if (!st)
        return SQLITE_ERROR;
    int rc = s_step (self, st, SQLITE_OK);
    s_done (st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ---- savepoints: each multi-statement operation is atomic on its own ---- */

static int
s_sp_begin (xs_store_t *self, const char *object, xs_err_t *err)
{
    int rc = s_exec (self, S_SAVEPOINT);
    return rc == SQLITE_OK ? 0 : s_sqlerr (self, rc, err, "%s", object);
}

/* Ends the operation's savepoint: releases it when `ok`, else undoes it
   (leaving *err as the failed step set it). Returns 0 or -1. */
static int
s_sp_end (xs_store_t *self, bool ok, const char *object, xs_err_t *err)
{
    if (ok) {
        int rc = s_exec (self, S_RELEASE);
        if (rc == SQLITE_OK)
            return 0;
        s_sqlerr (self, rc, err, "%s", object);
        /* Outside a transaction RELEASE is the commit; if that failed,
           give up the whole thing. */
        if (!self->in_txn && !sqlite3_get_autocommit (self->db))
            s_exec (self, S_ROLLBACK);
        return -1;
    }
    if (!sqlite3_get_autocommit (self->db)) {
        s_exec (self, S_ROLLBACK_TO);
        s_exec (self, S_RELEASE);
    }
    if (self->in_txn && sqlite3_get_autocommit (self->db))
        self->in_txn = false;
    return -1;
}

/* 1 when the row selected by statement `id` bound to text/int exists,
   0 when not, -1 on error. */
static int
s_exists (xs_store_t *self, s_stmt_id_t id, const char *text, int64_t num, xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, id, err);
    if (!st)
        return -1;
    int rc = text ? s_bind_text (st, 1, text) : sqlite3_bind_int64 (st, 1, num);
    rc = s_step (self, st, rc);
    s_done (st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return s_sqlerr (self, rc, err, "lookup");
}

/* Runs a single-row count query bound to one id or text. -1 on error. */
static int64_t
s_count (xs_store_t *self, s_stmt_id_t id, int64_t num, const char *object, xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, id, err);
    if (!st)
        return -1;
    int rc = s_step (self, st, sqlite3_bind_int64 (st, 1, num));
    int64_t n = -1;
    if (rc == SQLITE_ROW)
        n = sqlite3_column_int64 (st, 0);
    else
        s_sqlerr (self, rc == SQLITE_DONE ? SQLITE_ERROR : rc, err, "%s", object);
    s_done (st);
    return n;
}

/* Runs a write statement whose parameters are bound (`rc` carries the bind
   result). Returns SQLITE_OK, or the SQLite error (message captured). */
static int
s_write (xs_store_t *self, sqlite3_stmt *st, int rc)
{
    rc = s_step (self, st, rc);
    s_done (st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ---- generic row fetching ---- */

typedef void *(*s_row_fn) (xs_store_t *self, sqlite3_stmt *st, const char *object,
                           xs_err_t *err);
typedef void (*s_free_fn) (void *item);

/* First row of a bound statement through `row`, or NULL: XS_ENOTFOUND
   "<object>: not found" when there is none. */
static void *
s_fetch_one (xs_store_t *self, sqlite3_stmt *st, int rc, s_row_fn row,
             const char *object, xs_err_t *err)
{
    void *item = NULL;
    rc = s_step (self, st, rc);
    if (rc == SQLITE_ROW)
        item = row (self, st, object, err);
    else
    if (rc == SQLITE_DONE)
        xs_err_set (err, XS_ENOTFOUND, "%s: not found", object);
    else
        s_sqlerr (self, rc, err, "%s", object);
    s_done (st);
    return item;
}

/* Every row of a bound statement as a NULL-terminated list, or NULL. */
static void **
s_fetch_all (xs_store_t *self, sqlite3_stmt *st, int rc, s_row_fn row, s_free_fn free_fn,
             const char *object, xs_err_t *err)
{
    size_t n = 0, cap = 8;
    void **list = xs_zalloc (cap * sizeof *list);
    if (rc == SQLITE_OK) {
        while ((rc = s_step (self, st, SQLITE_OK)) == SQLITE_ROW) {
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
        s_capture (self);
    if (rc != SQLITE_DONE) {
        s_sqlerr (self, rc, err, "%s", object);
        goto fail;
    }
    s_done (st);
    return list;
fail:
    s_done (st);
    for (size_t i = 0; i < n; i++)
        free_fn (list [i]);
    free (list);
    return NULL;
}

/* =========================================================================
    Free functions
   ========================================================================= */

#define S_LIST_DESTROY(type) \
void \
type##_list_destroy (type##_t ***list_p) \
{ \
    if (list_p && *list_p) { \
        for (type##_t **item = *list_p; *item; item++) \
            type##_destroy (item); \
        free (*list_p); \
        *list_p = NULL; \
    } \
} \
static void \
s_##type##_free (void *item) \
{ \
    type##_t *self = item; \
    type##_destroy (&self); \
}

void
xs_flavor_destroy (xs_flavor_t **self_p)
{
    if (self_p && *self_p) {
        xs_flavor_t *self = *self_p;
        free ((char *) self->label);
        free ((char *) self->description);
        free (self);
        *self_p = NULL;
    }
}
S_LIST_DESTROY (xs_flavor)

void
xs_backend_destroy (xs_backend_t **self_p)
{
    if (self_p && *self_p) {
        xs_backend_t *self = *self_p;
        free ((char *) self->flavor_label);
        free ((char *) self->zone);
        free ((char *) self->sr_type);
        free ((char *) self->name_label);
        free ((char *) self->sr_uuid);
        free ((char *) self->error);
        for (size_t i = 0; i < self->nconfig; i++) {
            free ((char *) self->config [i].key);
            free ((char *) self->config [i].value);
        }
        free (self->config);
        free (self);
        *self_p = NULL;
    }
}
S_LIST_DESTROY (xs_backend)

void
xs_host_destroy (xs_host_t **self_p)
{
    if (self_p && *self_p) {
        xs_host_t *self = *self_p;
        free ((char *) self->uuid);
        free ((char *) self->zone);
        free ((char *) self->name);
        free ((char *) self->public_key);
        free (self);
        *self_p = NULL;
    }
}
S_LIST_DESTROY (xs_host)

void
xs_sr_stats_destroy (xs_sr_stats_t **self_p)
{
    if (self_p && *self_p) {
        xs_sr_stats_t *self = *self_p;
        free ((char *) self->host_uuid);
        for (size_t i = 0; i < self->ncapabilities; i++)
            free ((char *) self->capabilities [i]);
        free (self->capabilities);
        free (self);
        *self_p = NULL;
    }
}
S_LIST_DESTROY (xs_sr_stats)

void
xs_volume_destroy (xs_volume_t **self_p)
{
    if (self_p && *self_p) {
        xs_volume_t *self = *self_p;
        free ((char *) self->uuid);
        free ((char *) self->name);
        free ((char *) self->vdi_uuid);
        free ((char *) self->host_uuid);
        free ((char *) self->error);
        free ((char *) self->parent_uuid);
        free ((char *) self->request_id);
        free (self);
        *self_p = NULL;
    }
}
S_LIST_DESTROY (xs_volume)

void
xs_job_destroy (xs_job_t **self_p)
{
    if (self_p && *self_p) {
        xs_job_t *self = *self_p;
        free ((char *) self->volume_uuid);
        free ((char *) self->op);
        free ((char *) self->args);
        free ((char *) self->host_uuid);
        free ((char *) self->result);
        free ((char *) self->error);
        free (self);
        *self_p = NULL;
    }
}
S_LIST_DESTROY (xs_job)

void
xs_attempt_destroy (xs_attempt_t **self_p)
{
    if (self_p && *self_p) {
        xs_attempt_t *self = *self_p;
        free ((char *) self->volume_uuid);
        free ((char *) self->host_uuid);
        free ((char *) self->reason);
        free (self);
        *self_p = NULL;
    }
}
S_LIST_DESTROY (xs_attempt)

const char *
xs_backend_config_get (const xs_backend_t *backend, const char *key)
{
    for (size_t i = 0; backend && key && i < backend->nconfig; i++)
        if (strcmp (backend->config [i].key, key) == 0)
            return backend->config [i].value;
    return NULL;
}

/* =========================================================================
    Opening and closing
   ========================================================================= */

/* Runs one PRAGMA (or other statement) and returns its first column as an
   integer in *value_p when not NULL. */
static int
s_pragma (xs_store_t *self, const char *sql, int64_t *value_p, xs_err_t *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2 (self->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step (st);
        if (rc == SQLITE_ROW && value_p)
            *value_p = sqlite3_column_int64 (st, 0);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        s_capture (self);
    sqlite3_finalize (st);
    if (rc != SQLITE_OK)
        return xs_err_set (err, XS_EIO, "%s: cannot use the catalog: %s", self->path,
                           self->errmsg);
    return 0;
}

/* Sets WAL and checks SQLite agreed (it does not on some filesystems). */
static int
s_set_wal (xs_store_t *self, xs_err_t *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2 (self->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step (st);
    char mode [16] = "";
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text (st, 0);
        snprintf (mode, sizeof mode, "%s", t ? (const char *) t : "");
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        s_capture (self);
    sqlite3_finalize (st);
    if (rc != SQLITE_OK)
        return xs_err_set (err, XS_EIO, "%s: cannot switch to WAL: %s", self->path, self->errmsg);
    if (strcmp (mode, "wal") != 0)
        return xs_err_set (err, XS_EIO, "%s: cannot switch to WAL (journal mode stays '%s')",
                           self->path, mode);
    return 0;
}

/* Applies every migration step after `version`, each in its own transaction. */
static int
s_migrate (xs_store_t *self, int64_t version, xs_err_t *err)
{
    for (int64_t v = version; v < XS_STORE_SCHEMA_VERSION; v++) {
        char *errmsg = NULL;
        char tail [128];
        snprintf (tail, sizeof tail, "PRAGMA user_version = %lld; PRAGMA application_id = %d;",
                  (long long) (v + 1), S_APPLICATION_ID);
        int rc = sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, &errmsg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec (self->db, s_migrations [v], NULL, NULL, &errmsg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec (self->db, tail, NULL, NULL, &errmsg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec (self->db, "COMMIT", NULL, NULL, &errmsg);
        if (rc != SQLITE_OK) {
            xs_err_set (err, XS_EIO, "%s: schema migration %lld -> %lld failed: %s",
                        self->path, (long long) v, (long long) (v + 1),
                        errmsg ? errmsg : sqlite3_errstr (rc));
            sqlite3_free (errmsg);
            if (!sqlite3_get_autocommit (self->db))
                sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        xs_info ("%s: catalog schema migrated from version %lld to %lld",
                 self->path, (long long) v, (long long) (v + 1));
    }
    return 0;
}

/* Takes the exclusive lock "<path>.lock". */
static int
s_lock (xs_store_t *self, xs_err_t *err)
{
    self->lock_fd = open (self->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (self->lock_fd < 0)
        return xs_err_set (err, XS_EIO, "%s: cannot open lock file %s: %s",
                           self->path, self->lock_path, strerror (errno));
    if (flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close (self->lock_fd);
        self->lock_fd = -1;
        if (e == EWOULDBLOCK)
            return xs_err_set (err, XS_ECONFLICT,
                               "%s: already open by another xensm process (%s is locked)",
                               self->path, self->lock_path);
        return xs_err_set (err, XS_EIO, "%s: cannot lock %s: %s",
                           self->path, self->lock_path, strerror (e));
    }
    return 0;
}

/* Makes sure the database file exists with mode 0600 and is writable,
   before SQLite sees it. */
static int
s_prepare_file (xs_store_t *self, xs_err_t *err)
{
    int fd = open (self->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        fd = open (self->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return xs_err_set (err, XS_EIO, "%s: cannot open for writing: %s",
                           self->path, strerror (errno));
    struct stat sb;
    int rc = 0;
    if (fstat (fd, &sb) != 0)
        rc = xs_err_set (err, XS_EIO, "%s: cannot stat: %s", self->path, strerror (errno));
    else
    if (!S_ISREG (sb.st_mode))
        rc = xs_err_set (err, XS_EIO, "%s: not a regular file", self->path);
    if (rc == 0) {
        self->db_fd = fd;
        self->db_mode = (unsigned) (sb.st_mode & 07777);
    }
    else
        close (fd);
    return rc;
}

/* Once the file is known to be an xensm catalog: mode 0600 (it holds
   secrets), whatever it was. */
static int
s_tighten_file (xs_store_t *self, xs_err_t *err)
{
    int rc = 0;
    if (self->db_mode != 0600) {
        if (fchmod (self->db_fd, 0600) != 0)
            rc = xs_err_set (err, XS_EIO, "%s: cannot set mode 0600: %s",
                             self->path, strerror (errno));
        else
            xs_warning ("%s: mode was %04o, set to 0600 (backend configs hold secrets)",
                        self->path, self->db_mode);
    }
    close (self->db_fd);
    self->db_fd = -1;
    return rc;
}

xs_store_t *
xs_store_new (const char *path, xs_err_t *err)
{
    if (s_empty (path)) {
        xs_err_set (err, XS_EINVAL, "catalog database: no path given");
        return NULL;
    }
    /* Refused before anything is created beside it (the lock file). */
    struct stat st;
    if (stat (path, &st) == 0 && S_ISDIR (st.st_mode)) {
        xs_err_set (err, XS_EINVAL, "%s: is a directory, not a database file", path);
        return NULL;
    }
    xs_store_t *self = xs_zalloc (sizeof *self);
    self->path = xs_strdup (path);
    self->lock_fd = -1;
    self->db_fd = -1;
    self->lock_path = xs_sprintf ("%s.lock", path);

    int64_t version = 0, app_id = 0, objects = 0;
    if (s_lock (self, err) || s_prepare_file (self, err))
        goto fail;

    int rc = sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        xs_err_set (err, XS_EIO, "%s: cannot open: %s", path,
                    self->db ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
        goto fail;
    }
    sqlite3_extended_result_codes (self->db, 1);
    sqlite3_busy_timeout (self->db, S_BUSY_TIMEOUT_MS);
    if (sqlite3_db_readonly (self->db, "main") != 0) {
        xs_err_set (err, XS_EIO, "%s: not writable", path);
        goto fail;
    }
    /* Read-only checks first, so that a file we refuse is never written. */
    if (s_pragma (self, "PRAGMA user_version", &version, err)
    ||  s_pragma (self, "PRAGMA application_id", &app_id, err)
    ||  s_pragma (self, "SELECT count(*) FROM sqlite_schema", &objects, err))
        goto fail;
    if (version > XS_STORE_SCHEMA_VERSION) {
        xs_err_set (err, XS_EINVAL,
                    "%s: schema version %lld is newer than this xensm knows (%d); "
                    "run a newer xensm", path, (long long) version, XS_STORE_SCHEMA_VERSION);
        goto fail;
    }
    if ((version > 0 && app_id != S_APPLICATION_ID) || (version == 0 && objects > 0)) {
        xs_err_set (err, XS_EINVAL, "%s: an SQLite database, but not an xensm catalog", path);
        goto fail;
    }
    int64_t fk = 0;
    if (s_tighten_file (self, err)
    ||  s_set_wal (self, err)
    ||  s_pragma (self, "PRAGMA synchronous = FULL", NULL, err)
    ||  s_pragma (self, "PRAGMA foreign_keys = ON", NULL, err)
    ||  s_pragma (self, "PRAGMA foreign_keys", &fk, err))
        goto fail;
    if (fk != 1) {
        xs_err_set (err, XS_EIO, "%s: SQLite refuses to enforce foreign keys", path);
        goto fail;
    }
    if (s_migrate (self, version, err))
        goto fail;
    return self;

fail:
    xs_store_destroy (&self);
    return NULL;
}

void
xs_store_destroy (xs_store_t **self_p)
{
    if (self_p && *self_p) {
        xs_store_t *self = *self_p;
        if (self->db) {
            if (!sqlite3_get_autocommit (self->db))
                sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
            for (int i = 0; i < S_NSTMTS; i++)
                sqlite3_finalize (self->stmts [i]);
            if (sqlite3_close (self->db) != SQLITE_OK)
                xs_error ("%s: close failed: %s", self->path, sqlite3_errmsg (self->db));
        }
        if (self->db_fd >= 0)
            close (self->db_fd);
        if (self->lock_fd >= 0)
            close (self->lock_fd);      /* releases the flock */
        free (self->path);
        free (self->lock_path);
        free (self);
        *self_p = NULL;
    }
}

const char *
xs_store_path (const xs_store_t *self)
{
    return self->path;
}

int
xs_store_schema_version (xs_store_t *self)
{
    int64_t v = -1;
    if (s_pragma (self, "PRAGMA user_version", &v, NULL))
        return -1;
    return (int) v;
}

void
xs_store_set_busy_timeout (xs_store_t *self, int ms)
{
    sqlite3_busy_timeout (self->db, ms);
}

/* =========================================================================
    Transactions
   ========================================================================= */

int
xs_store_begin (xs_store_t *self, xs_err_t *err)
{
    if (self->in_txn)
        return xs_err_set (err, XS_EINVAL, "%s: a transaction is already open", self->path);
    int rc = s_exec (self, S_BEGIN);
    if (rc != SQLITE_OK)
        return s_sqlerr (self, rc, err, "begin transaction");
    self->in_txn = true;
    return 0;
}

int
xs_store_commit (xs_store_t *self, xs_err_t *err)
{
    if (!self->in_txn)
        return xs_err_set (err, XS_EINVAL, "%s: no transaction to commit", self->path);
    int rc = s_exec (self, S_COMMIT);
    if (rc == SQLITE_OK) {
        self->in_txn = false;
        return 0;
    }
    s_sqlerr (self, rc, err, "commit");
    if (!sqlite3_get_autocommit (self->db))
        s_exec (self, S_ROLLBACK);
    self->in_txn = false;
    return -1;
}

int
xs_store_rollback (xs_store_t *self, xs_err_t *err)
{
    if (!self->in_txn)
        return 0;
    self->in_txn = false;
    if (sqlite3_get_autocommit (self->db))
        return 0;                       /* SQLite already rolled it back */
    int rc = s_exec (self, S_ROLLBACK);
    return rc == SQLITE_OK ? 0 : s_sqlerr (self, rc, err, "rollback");
}

bool
xs_store_in_transaction (const xs_store_t *self)
{
    return self->in_txn;
}

/* =========================================================================
    Flavors
   ========================================================================= */

static void *
s_flavor_row (xs_store_t *self, sqlite3_stmt *st, const char *object, xs_err_t *err)
{
    xs_flavor_t *f = xs_zalloc (sizeof *f);
    f->id = sqlite3_column_int64 (st, 0);
    f->label = s_col_req (st, 1);
    f->description = s_col_req (st, 2);
    f->created_at = sqlite3_column_int64 (st, 3);
    return f;
}

int64_t
xs_store_flavor_create (xs_store_t *self, const char *label, const char *description,
                        xs_err_t *err)
{
    if (s_empty (label))
        return xs_err_set (err, XS_EINVAL, "flavor: a label is required");
    sqlite3_stmt *st = s_stmt (self, S_FLAVOR_INSERT, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    S_BIND (s_bind_text (st, 1, label));
    S_BIND (s_bind_text (st, 2, description ? description : ""));
    S_BIND (sqlite3_bind_int64 (st, 3, xs_store_now_ms ()));
    rc = s_write (self, st, rc);
    if (rc == SQLITE_OK)
        return sqlite3_last_insert_rowid (self->db);
    if (rc == SQLITE_CONSTRAINT_UNIQUE)
        return xs_err_set (err, XS_ECONFLICT, "flavor %s: already exists", label);
    return s_sqlerr (self, rc, err, "flavor %s", label);
}

xs_flavor_t *
xs_store_flavor_get (xs_store_t *self, const char *label, xs_err_t *err)
{
    if (s_empty (label)) {
        xs_err_set (err, XS_EINVAL, "flavor: a label is required");
        return NULL;
    }
    sqlite3_stmt *st = s_stmt (self, S_FLAVOR_BY_LABEL, err);
    if (!st)
        return NULL;
    char object [300];
    snprintf (object, sizeof object, "flavor %s", label);
    return s_fetch_one (self, st, s_bind_text (st, 1, label), s_flavor_row, object, err);
}

xs_flavor_t *
xs_store_flavor_get_by_id (xs_store_t *self, int64_t id, xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, S_FLAVOR_BY_ID, err);
    if (!st)
        return NULL;
    char object [64];
    snprintf (object, sizeof object, "flavor %lld", (long long) id);
    return s_fetch_one (self, st, sqlite3_bind_int64 (st, 1, id), s_flavor_row, object, err);
}

xs_flavor_t **
xs_store_flavor_list (xs_store_t *self, xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, S_FLAVOR_LIST, err);
    if (!st)
        return NULL;
    return (xs_flavor_t **) s_fetch_all (self, st, SQLITE_OK, s_flavor_row,
                                         s_xs_flavor_free, "flavor list", err);
}

int
xs_store_flavor_delete (xs_store_t *self, const char *label, xs_err_t *err)
{
    char object [300];
    snprintf (object, sizeof object, "flavor %s", label ? label : "(null)");
    if (s_sp_begin (self, object, err))
        return -1;
    bool ok = false;
    xs_flavor_t *flavor = xs_store_flavor_get (self, label, err);
    if (!flavor)
        goto out;
    int64_t backends = s_count (self, S_FLAVOR_BACKENDS, flavor->id, object, err);
    if (backends < 0)
        goto out;
    if (backends > 0) {
        xs_err_set (err, XS_ECONFLICT, "%s: %lld backend%s still use%s it", object,
                    (long long) backends, backends == 1 ? "" : "s", backends == 1 ? "s" : "");
        goto out;
    }
    int64_t volumes = s_count (self, S_FLAVOR_LIVE_VOLUMES, flavor->id, object, err);
    if (volumes < 0)
        goto out;
    if (volumes > 0) {
        xs_err_set (err, XS_ECONFLICT, "%s: %lld live volume%s still use%s it", object,
                    (long long) volumes, volumes == 1 ? "" : "s", volumes == 1 ? "s" : "");
        goto out;
    }
    sqlite3_stmt *st = s_stmt (self, S_FLAVOR_DELETE, err);
    if (!st)
        goto out;
    int rc = s_write (self, st, sqlite3_bind_int64 (st, 1, flavor->id));
    if (rc != SQLITE_OK) {
        s_sqlerr (self, rc, err, "%s", object);
        goto out;
    }
    ok = true;
out:
    xs_flavor_destroy (&flavor);
    return s_sp_end (self, ok, object, err);
}

/* =========================================================================
    Backends
   ========================================================================= */

static void *
s_backend_row (xs_store_t *self, sqlite3_stmt *st, const char *object, xs_err_t *err)
{
    xs_backend_t *b = xs_zalloc (sizeof *b);
    b->id = sqlite3_column_int64 (st, 0);
    b->flavor_id = sqlite3_column_int64 (st, 1);
    b->flavor_label = s_col_req (st, 2);
    b->zone = s_col_req (st, 3);
    b->sr_type = s_col_req (st, 4);
    b->name_label = s_col_str (st, 5);
    b->sr_uuid = s_col_str (st, 6);
    const char *state = (const char *) sqlite3_column_text (st, 7);
    b->error = s_col_str (st, 8);
    b->has_ratio = sqlite3_column_type (st, 9) != SQLITE_NULL;
    b->ratio = b->has_ratio ? sqlite3_column_double (st, 9) : 0.0;
    b->has_reserve = sqlite3_column_type (st, 10) != SQLITE_NULL;
    b->reserve = b->has_reserve ? sqlite3_column_double (st, 10) : 0.0;
    b->created_at = sqlite3_column_int64 (st, 11);
    int v = s_from_name (s_backend_states, S_N (s_backend_states), state);
    if (v < 0) {
        xs_err_set (err, XS_EIO, "%s: backend %lld has unknown state '%s'",
                    self->path, (long long) b->id, state ? state : "(null)");
        xs_backend_destroy (&b);
        return NULL;
    }
    b->state = (xs_backend_state_t) v;
    return b;
}

/* Fills b->config from backend_config, in the order it was given. */
static int
s_backend_load_config (xs_store_t *self, xs_backend_t *b, xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, S_CONFIG_OF, err);
    if (!st)
        return -1;
    size_t cap = 0;
    int rc = sqlite3_bind_int64 (st, 1, b->id);
    while ((rc = s_step (self, st, rc)) == SQLITE_ROW) {
        if (b->nconfig == cap) {
            cap = cap ? cap * 2 : 8;
            b->config = xs_realloc (b->config, cap * sizeof *b->config);
        }
        b->config [b->nconfig].key = s_col_req (st, 0);
        b->config [b->nconfig].value = s_col_req (st, 1);
        b->nconfig++;
        rc = SQLITE_OK;
    }
    s_done (st);
    if (rc != SQLITE_DONE)
        return s_sqlerr (self, rc, err, "backend %lld config", (long long) b->id);
    return 0;
}

static xs_backend_t **
s_backend_list (xs_store_t *self, sqlite3_stmt *st, int rc, const char *object, xs_err_t *err)
{
    xs_backend_t **list = (xs_backend_t **) s_fetch_all (self, st, rc, s_backend_row,
                                                         s_xs_backend_free, object, err);
    for (xs_backend_t **b = list; b && *b; b++)
        if (s_backend_load_config (self, *b, err)) {
            xs_backend_list_destroy (&list);
            break;
        }
    return list;
}

int64_t
xs_store_backend_add (xs_store_t *self, const xs_backend_t *spec, xs_err_t *err)
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
    if (s_empty (spec->sr_type))
        return xs_err_set (err, XS_EINVAL, "%s: an SR type is required", object);
    if (s_empty (spec->zone))
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
        if (s_empty (spec->config [i].key))
            return xs_err_set (err, XS_EINVAL, "%s: config key %zu is empty", object, i + 1);
        if (!spec->config [i].value)
            return xs_err_set (err, XS_EINVAL, "%s: config key %s has no value",
                               object, spec->config [i].key);
    }

    if (s_sp_begin (self, object, err))
        return -1;
    int64_t id = -1;
    xs_flavor_t *flavor = spec->flavor_label
                        ? xs_store_flavor_get (self, spec->flavor_label, err)
                        : xs_store_flavor_get_by_id (self, spec->flavor_id, err);
    if (!flavor)
        goto out;
    sqlite3_stmt *st = s_stmt (self, S_BACKEND_INSERT, err);
    if (!st)
        goto out;
    int rc = SQLITE_OK;
    S_BIND (sqlite3_bind_int64 (st, 1, flavor->id));
    S_BIND (s_bind_text (st, 2, spec->zone));
    S_BIND (s_bind_text (st, 3, spec->sr_type));
    S_BIND (s_bind_text (st, 4, spec->name_label));
    S_BIND (s_bind_text (st, 5, spec->sr_uuid));
    S_BIND (spec->has_ratio ? sqlite3_bind_double (st, 6, spec->ratio) : sqlite3_bind_null (st, 6));
    S_BIND (spec->has_reserve ? sqlite3_bind_double (st, 7, spec->reserve)
                              : sqlite3_bind_null (st, 7));
    S_BIND (sqlite3_bind_int64 (st, 8, xs_store_now_ms ()));
    rc = s_write (self, st, rc);
    if (rc == SQLITE_CONSTRAINT_UNIQUE && spec->sr_uuid) {
        xs_err_set (err, XS_ECONFLICT, "%s: SR %s already belongs to another backend",
                    object, spec->sr_uuid);
        goto out;
    }
    if (rc != SQLITE_OK) {
        s_sqlerr (self, rc, err, "%s", object);
        goto out;
    }
    int64_t new_id = sqlite3_last_insert_rowid (self->db);

    st = s_stmt (self, S_CONFIG_INSERT, err);
    if (!st)
        goto out;
    for (size_t i = 0; i < spec->nconfig; i++) {
        rc = SQLITE_OK;
        S_BIND (sqlite3_bind_int64 (st, 1, new_id));
        S_BIND (sqlite3_bind_int64 (st, 2, (int64_t) i));
        S_BIND (s_bind_text (st, 3, spec->config [i].key));
        S_BIND (s_bind_text (st, 4, spec->config [i].value));
        rc = s_write (self, st, rc);
        if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
            xs_err_set (err, XS_EINVAL, "%s: config key %s given twice",
                        object, spec->config [i].key);
            goto out;
        }
        if (rc != SQLITE_OK) {
            /* Never the value: it may be a secret. */
            s_sqlerr (self, rc, err, "%s config key %s", object, spec->config [i].key);
            goto out;
        }
    }
    id = new_id;
out:
    xs_flavor_destroy (&flavor);
    if (s_sp_end (self, id > 0, object, err))
        return -1;
    return id;
}

xs_backend_t *
xs_store_backend_get (xs_store_t *self, int64_t id, xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, S_BACKEND_GET, err);
    if (!st)
        return NULL;
    char object [64];
    snprintf (object, sizeof object, "backend %lld", (long long) id);
    xs_backend_t *b = s_fetch_one (self, st, sqlite3_bind_int64 (st, 1, id),
                                   s_backend_row, object, err);
    if (b && s_backend_load_config (self, b, err))
        xs_backend_destroy (&b);
    return b;
}

xs_backend_t **
xs_store_backend_list (xs_store_t *self, xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, S_BACKEND_LIST, err);
    return st ? s_backend_list (self, st, SQLITE_OK, "backend list", err) : NULL;
}

xs_backend_t **
xs_store_backend_list_by_flavor (xs_store_t *self, int64_t flavor_id, xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, S_BACKEND_BY_FLAVOR, err);
    if (!st)
        return NULL;
    char object [64];
    snprintf (object, sizeof object, "backends of flavor %lld", (long long) flavor_id);
    return s_backend_list (self, st, sqlite3_bind_int64 (st, 1, flavor_id), object, err);
}

int64_t
xs_store_backend_next_of_flavor (xs_store_t *self, int64_t flavor_id, int64_t after,
                                 xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, S_BACKEND_NEXT_OF_FLAVOR, err);
    if (!st)
        return -1;
    int rc = sqlite3_bind_int64 (st, 1, flavor_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64 (st, 2, after);
    rc = s_step (self, st, rc);
    int64_t id = -1;
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64 (st, 0);
    else
    if (rc == SQLITE_DONE)
        id = 0;
    else
        s_sqlerr (self, rc, err, "backends of flavor %lld", (long long) flavor_id);
    s_done (st);
    return id;
}

xs_backend_t **
xs_store_backend_list_by_zone (xs_store_t *self, const char *zone, xs_err_t *err)
{
    if (s_empty (zone)) {
        xs_err_set (err, XS_EINVAL, "backend list: a zone is required");
        return NULL;
    }
    sqlite3_stmt *st = s_stmt (self, S_BACKEND_BY_ZONE, err);
    if (!st)
        return NULL;
    char object [300];
    snprintf (object, sizeof object, "backends of zone %s", zone);
    return s_backend_list (self, st, s_bind_text (st, 1, zone), object, err);
}

int64_t
xs_store_backend_live_volumes (xs_store_t *self, int64_t id, xs_err_t *err)
{
    char object [64];
    snprintf (object, sizeof object, "backend %lld", (long long) id);
    return s_count (self, S_BACKEND_LIVE_VOLUMES, id, object, err);
}

int
xs_store_backend_remove (xs_store_t *self, int64_t id, xs_err_t *err)
{
    char object [64];
    snprintf (object, sizeof object, "backend %lld", (long long) id);
    if (s_sp_begin (self, object, err))
        return -1;
    bool ok = false;
    int found = s_exists (self, S_BACKEND_EXISTS, NULL, id, err);
    if (found < 0)
        goto out;
    if (!found) {
        xs_err_set (err, XS_ENOTFOUND, "%s: not found", object);
        goto out;
    }
    int64_t live = s_count (self, S_BACKEND_LIVE_VOLUMES, id, object, err);
    if (live < 0)
        goto out;
    if (live > 0) {
        xs_err_set (err, XS_ECONFLICT, "%s: %lld volume%s still live on it", object,
                    (long long) live, live == 1 ? "" : "s");
        goto out;
    }
    sqlite3_stmt *st = s_stmt (self, S_BACKEND_DELETE, err);
    if (!st)
        goto out;
    int rc = s_write (self, st, sqlite3_bind_int64 (st, 1, id));
    if (rc != SQLITE_OK) {
        s_sqlerr (self, rc, err, "%s", object);
        goto out;
    }
    ok = true;
out:
    return s_sp_end (self, ok, object, err);
}

int
xs_store_backend_set_state (xs_store_t *self, int64_t id, xs_backend_state_t state,
                            const char *error, xs_err_t *err)
{
    const char *name = xs_backend_state_name (state);
    if (strcmp (name, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "backend %lld: unknown state %d",
                           (long long) id, (int) state);
    sqlite3_stmt *st = s_stmt (self, S_BACKEND_SET_STATE, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    S_BIND (sqlite3_bind_int64 (st, 1, id));
    S_BIND (s_bind_text (st, 2, name));
    S_BIND (s_bind_text (st, 3, error));
    rc = s_write (self, st, rc);
    if (rc != SQLITE_OK)
        return s_sqlerr (self, rc, err, "backend %lld", (long long) id);
    if (sqlite3_changes (self->db) == 0)
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
    if (s_empty (sr_uuid))
        return xs_err_set (err, XS_EINVAL, "backend %lld: an SR uuid is required",
                           (long long) id);
    sqlite3_stmt *st = s_stmt (self, S_BACKEND_SET_SR, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    S_BIND (sqlite3_bind_int64 (st, 1, id));
    S_BIND (s_bind_text (st, 2, sr_uuid));
    rc = s_write (self, st, rc);
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
        int64_t owner = 0;
        sqlite3_stmt *q = s_stmt (self, S_BACKEND_BY_SR, NULL);
        if (q && s_step (self, q, s_bind_text (q, 1, sr_uuid)) == SQLITE_ROW)
            owner = sqlite3_column_int64 (q, 0);
        s_done (q);
        return xs_err_set (err, XS_ECONFLICT, "backend %lld: SR %s already belongs to backend %lld",
                           (long long) id, sr_uuid, (long long) owner);
    }
    if (rc != SQLITE_OK)
        return s_sqlerr (self, rc, err, "backend %lld", (long long) id);
    if (sqlite3_changes (self->db) == 1)
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

/* =========================================================================
    Hosts and SR reports
   ========================================================================= */

static void *
s_host_row (xs_store_t *self, sqlite3_stmt *st, const char *object, xs_err_t *err)
{
    xs_host_t *h = xs_zalloc (sizeof *h);
    h->uuid = s_col_req (st, 0);
    h->zone = s_col_req (st, 1);
    h->name = s_col_str (st, 2);
    h->public_key = s_col_str (st, 3);
    const char *state = (const char *) sqlite3_column_text (st, 4);
    h->last_seen = sqlite3_column_int64 (st, 5);
    h->created_at = sqlite3_column_int64 (st, 6);
    int v = s_from_name (s_host_states, S_N (s_host_states), state);
    if (v < 0) {
        xs_err_set (err, XS_EIO, "%s: host %s has unknown state '%s'",
                    self->path, h->uuid, state ? state : "(null)");
        xs_host_destroy (&h);
        return NULL;
    }
    h->state = (xs_host_state_t) v;
    return h;
}

int
xs_store_host_upsert (xs_store_t *self, const xs_host_t *host, xs_err_t *err)
{
    if (!host || s_empty (host->uuid))
        return xs_err_set (err, XS_EINVAL, "host: a uuid is required");
    if (s_empty (host->zone))
        return xs_err_set (err, XS_EINVAL, "host %s: a zone is required", host->uuid);
    const char *state = xs_host_state_name (host->state);
    if (strcmp (state, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "host %s: unknown state %d", host->uuid,
                           (int) host->state);
    sqlite3_stmt *st = s_stmt (self, S_HOST_UPSERT, err);
    if (!st)
        return -1;
    int64_t now = xs_store_now_ms ();
    int rc = SQLITE_OK;
    S_BIND (s_bind_text (st, 1, host->uuid));
    S_BIND (s_bind_text (st, 2, host->zone));
    S_BIND (s_bind_text (st, 3, host->name));
    S_BIND (s_bind_text (st, 4, host->public_key));
    S_BIND (s_bind_text (st, 5, state));
    S_BIND (sqlite3_bind_int64 (st, 6, host->last_seen ? host->last_seen : now));
    S_BIND (sqlite3_bind_int64 (st, 7, now));
    rc = s_write (self, st, rc);
    return rc == SQLITE_OK ? 0 : s_sqlerr (self, rc, err, "host %s", host->uuid);
}

xs_host_t *
xs_store_host_get (xs_store_t *self, const char *uuid, xs_err_t *err)
{
    if (s_empty (uuid)) {
        xs_err_set (err, XS_EINVAL, "host: a uuid is required");
        return NULL;
    }
    sqlite3_stmt *st = s_stmt (self, S_HOST_GET, err);
    if (!st)
        return NULL;
    char object [300];
    snprintf (object, sizeof object, "host %s", uuid);
    return s_fetch_one (self, st, s_bind_text (st, 1, uuid), s_host_row, object, err);
}

xs_host_t **
xs_store_host_list (xs_store_t *self, const char *zone, xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, S_HOST_LIST, err);
    if (!st)
        return NULL;
    return (xs_host_t **) s_fetch_all (self, st, s_bind_text (st, 1, zone), s_host_row,
                                       s_xs_host_free, "host list", err);
}

/* Runs an UPDATE/DELETE keyed by a host uuid; XS_ENOTFOUND when no row. */
static int
s_host_write (xs_store_t *self, s_stmt_id_t id, const char *uuid, bool has_arg,
              const char *text_arg, int64_t int_arg, xs_err_t *err)
{
    if (s_empty (uuid))
        return xs_err_set (err, XS_EINVAL, "host: a uuid is required");
    sqlite3_stmt *st = s_stmt (self, id, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    S_BIND (s_bind_text (st, 1, uuid));
    if (has_arg)
        S_BIND (text_arg ? s_bind_text (st, 2, text_arg) : sqlite3_bind_int64 (st, 2, int_arg));
    rc = s_write (self, st, rc);
    if (rc != SQLITE_OK)
        return s_sqlerr (self, rc, err, "host %s", uuid);
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
    return s_host_write (self, S_HOST_SET_STATE, uuid, true, name, 0, err);
}

int
xs_store_host_touch (xs_store_t *self, const char *uuid, int64_t when, xs_err_t *err)
{
    return s_host_write (self, S_HOST_TOUCH, uuid, true, NULL,
                         when ? when : xs_store_now_ms (), err);
}

int
xs_store_host_remove (xs_store_t *self, const char *uuid, xs_err_t *err)
{
    return s_host_write (self, S_HOST_DELETE, uuid, false, NULL, 0, err);
}

static void *
s_sr_row (xs_store_t *self, sqlite3_stmt *st, const char *object, xs_err_t *err)
{
    xs_sr_stats_t *s = xs_zalloc (sizeof *s);
    s->host_uuid = s_col_req (st, 0);
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
    int host = s_exists (self, S_HOST_EXISTS, host_uuid, 0, err);
    if (host < 0)
        return -1;
    if (!host)
        return xs_err_set (err, XS_ENOTFOUND, "host %s: not found", host_uuid);
    return xs_err_set (err, XS_ENOTFOUND, "backend %lld: not found", (long long) backend_id);
}

int
xs_store_sr_stats_upsert (xs_store_t *self, const xs_sr_stats_t *stats, xs_err_t *err)
{
    if (!stats || s_empty (stats->host_uuid))
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
    sqlite3_stmt *st = s_stmt (self, S_SR_UPSERT, err);
    if (!st)
        goto out;
    int rc = SQLITE_OK;
    S_BIND (s_bind_text (st, 1, stats->host_uuid));
    S_BIND (sqlite3_bind_int64 (st, 2, stats->backend_id));
    S_BIND (sqlite3_bind_int (st, 3, stats->attached ? 1 : 0));
    if (stats->has_stats) {
        S_BIND (sqlite3_bind_int64 (st, 4, stats->physical_size));
        S_BIND (sqlite3_bind_int64 (st, 5, stats->physical_utilisation));
        S_BIND (sqlite3_bind_int64 (st, 6, stats->virtual_allocation));
    }
    else {
        S_BIND (sqlite3_bind_null (st, 4));
        S_BIND (sqlite3_bind_null (st, 5));
        S_BIND (sqlite3_bind_null (st, 6));
    }
    S_BIND (s_bind_text (st, 7, caps));
    S_BIND (sqlite3_bind_int64 (st, 8, xs_store_now_ms ()));
    rc = s_write (self, st, rc);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        s_sr_missing (self, stats->host_uuid, stats->backend_id, err);
    else
    if (rc != SQLITE_OK)
        s_sqlerr (self, rc, err, "SR report of backend %lld on host %s",
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
    if (s_empty (host_uuid))
        return xs_err_set (err, XS_EINVAL, "SR report: a host uuid is required");
    sqlite3_stmt *st = s_stmt (self, S_SR_SET_ATTACHED, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    S_BIND (s_bind_text (st, 1, host_uuid));
    S_BIND (sqlite3_bind_int64 (st, 2, backend_id));
    S_BIND (sqlite3_bind_int (st, 3, attached ? 1 : 0));
    S_BIND (sqlite3_bind_int64 (st, 4, xs_store_now_ms ()));
    rc = s_write (self, st, rc);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return s_sr_missing (self, host_uuid, backend_id, err);
    if (rc != SQLITE_OK)
        return s_sqlerr (self, rc, err, "SR of backend %lld on host %s",
                         (long long) backend_id, host_uuid);
    return 0;
}

xs_sr_stats_t **
xs_store_sr_stats_list (xs_store_t *self, int64_t backend_id, const char *host_uuid,
                        xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, S_SR_LIST, err);
    if (!st)
        return NULL;
    int rc = SQLITE_OK;
    S_BIND (sqlite3_bind_int64 (st, 1, backend_id));
    S_BIND (s_bind_text (st, 2, host_uuid));
    return (xs_sr_stats_t **) s_fetch_all (self, st, rc, s_sr_row, s_xs_sr_stats_free,
                                           "SR report list", err);
}

/* =========================================================================
    Volumes
   ========================================================================= */

static void *
s_volume_row (xs_store_t *self, sqlite3_stmt *st, const char *object, xs_err_t *err)
{
    xs_volume_t *v = xs_zalloc (sizeof *v);
    v->uuid = s_col_req (st, 0);
    v->name = s_col_str (st, 1);
    v->size_bytes = sqlite3_column_int64 (st, 2);
    v->flavor_id = sqlite3_column_int64 (st, 3);
    v->backend_id = sqlite3_column_int64 (st, 4);
    v->vdi_uuid = s_col_str (st, 5);
    v->host_uuid = s_col_str (st, 6);
    const char *state = (const char *) sqlite3_column_text (st, 7);
    v->error = s_col_str (st, 8);
    v->parent_uuid = s_col_str (st, 9);
    v->request_id = s_col_str (st, 10);
    v->created_at = sqlite3_column_int64 (st, 11);
    v->updated_at = sqlite3_column_int64 (st, 12);
    int s = s_from_name (s_volume_states, S_N (s_volume_states), state);
    if (s < 0) {
        xs_err_set (err, XS_EIO, "%s: volume %s has unknown state '%s'",
                    self->path, v->uuid, state ? state : "(null)");
        xs_volume_destroy (&v);
        return NULL;
    }
    v->state = (xs_volume_state_t) s;
    return v;
}

int
xs_store_volume_insert (xs_store_t *self, const xs_volume_t *vol, xs_err_t *err)
{
    if (!vol || s_empty (vol->uuid))
        return xs_err_set (err, XS_EINVAL, "volume: a uuid is required");
    if (vol->flavor_id <= 0)
        return xs_err_set (err, XS_EINVAL, "volume %s: a flavor is required", vol->uuid);
    if (vol->size_bytes < 0)
        return xs_err_set (err, XS_EINVAL, "volume %s: size %lld is negative", vol->uuid,
                           (long long) vol->size_bytes);
    if (vol->request_id && !*vol->request_id)
        return xs_err_set (err, XS_EINVAL, "volume %s: request id is empty", vol->uuid);
    const char *state = xs_volume_state_name (vol->state);
    if (strcmp (state, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "volume %s: unknown state %d", vol->uuid,
                           (int) vol->state);
    sqlite3_stmt *st = s_stmt (self, S_VOLUME_INSERT, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    S_BIND (s_bind_text (st, 1, vol->uuid));
    S_BIND (s_bind_text (st, 2, vol->name));
    S_BIND (sqlite3_bind_int64 (st, 3, vol->size_bytes));
    S_BIND (sqlite3_bind_int64 (st, 4, vol->flavor_id));
    S_BIND (s_bind_id (st, 5, vol->backend_id));
    S_BIND (s_bind_text (st, 6, vol->vdi_uuid));
    S_BIND (s_bind_text (st, 7, vol->host_uuid));
    S_BIND (s_bind_text (st, 8, state));
    S_BIND (s_bind_text (st, 9, vol->error));
    S_BIND (s_bind_text (st, 10, vol->parent_uuid));
    S_BIND (s_bind_text (st, 11, vol->request_id));
    S_BIND (sqlite3_bind_int64 (st, 12, xs_store_now_ms ()));
    rc = s_write (self, st, rc);
    if (rc == SQLITE_OK)
        return 0;
    if ((rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    &&  vol->request_id && strstr (self->errmsg, "request_id")) {
        xs_volume_t *other = xs_store_volume_get_by_request_id (self, vol->request_id, NULL);
        xs_err_set (err, XS_ECONFLICT, "volume request %s: already used by volume %s",
                    vol->request_id, other ? other->uuid : "?");
        xs_volume_destroy (&other);
        return -1;
    }
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return xs_err_set (err, XS_ECONFLICT, "volume %s: already exists", vol->uuid);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        int flavor = s_exists (self, S_FLAVOR_EXISTS, NULL, vol->flavor_id, err);
        if (flavor < 0)
            return -1;
        if (!flavor)
            return xs_err_set (err, XS_ENOTFOUND, "volume %s: flavor %lld not found",
                               vol->uuid, (long long) vol->flavor_id);
        return xs_err_set (err, XS_ENOTFOUND, "volume %s: backend %lld not found",
                           vol->uuid, (long long) vol->backend_id);
    }
    return s_sqlerr (self, rc, err, "volume %s", vol->uuid);
}

xs_volume_t *
xs_store_volume_get (xs_store_t *self, const char *uuid, xs_err_t *err)
{
    if (s_empty (uuid)) {
        xs_err_set (err, XS_EINVAL, "volume: a uuid is required");
        return NULL;
    }
    sqlite3_stmt *st = s_stmt (self, S_VOLUME_GET, err);
    if (!st)
        return NULL;
    char object [300];
    snprintf (object, sizeof object, "volume %s", uuid);
    return s_fetch_one (self, st, s_bind_text (st, 1, uuid), s_volume_row, object, err);
}

xs_volume_t *
xs_store_volume_get_by_request_id (xs_store_t *self, const char *request_id, xs_err_t *err)
{
    if (s_empty (request_id)) {
        xs_err_set (err, XS_EINVAL, "volume: a request id is required");
        return NULL;
    }
    sqlite3_stmt *st = s_stmt (self, S_VOLUME_BY_REQUEST, err);
    if (!st)
        return NULL;
    char object [300];
    snprintf (object, sizeof object, "volume request %s", request_id);
    return s_fetch_one (self, st, s_bind_text (st, 1, request_id), s_volume_row, object, err);
}

xs_volume_t **
xs_store_volume_list (xs_store_t *self, bool include_deleted, xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, S_VOLUME_LIST, err);
    if (!st)
        return NULL;
    return (xs_volume_t **) s_fetch_all (self, st, sqlite3_bind_int (st, 1, include_deleted),
                                         s_volume_row, s_xs_volume_free, "volume list", err);
}

int
xs_store_volume_update (xs_store_t *self, const xs_volume_t *vol, xs_err_t *err)
{
    if (!vol || s_empty (vol->uuid))
        return xs_err_set (err, XS_EINVAL, "volume: a uuid is required");
    const char *state = xs_volume_state_name (vol->state);
    if (strcmp (state, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "volume %s: unknown state %d", vol->uuid,
                           (int) vol->state);
    sqlite3_stmt *st = s_stmt (self, S_VOLUME_UPDATE, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    S_BIND (s_bind_text (st, 1, vol->uuid));
    S_BIND (s_bind_text (st, 2, vol->name));
    S_BIND (s_bind_text (st, 3, state));
    S_BIND (s_bind_id (st, 4, vol->backend_id));
    S_BIND (s_bind_text (st, 5, vol->vdi_uuid));
    S_BIND (s_bind_text (st, 6, vol->host_uuid));
    S_BIND (s_bind_text (st, 7, vol->error));
    S_BIND (sqlite3_bind_int64 (st, 8, xs_store_now_ms ()));
    rc = s_write (self, st, rc);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return xs_err_set (err, XS_ENOTFOUND, "volume %s: backend %lld not found",
                           vol->uuid, (long long) vol->backend_id);
    if (rc != SQLITE_OK)
        return s_sqlerr (self, rc, err, "volume %s", vol->uuid);
    if (sqlite3_changes (self->db) == 0)
        return xs_err_set (err, XS_ENOTFOUND, "volume %s: not found", vol->uuid);
    return 0;
}

int
xs_store_volume_set_state (xs_store_t *self, const char *uuid, xs_volume_state_t state,
                           const char *error, xs_err_t *err)
{
    if (s_empty (uuid))
        return xs_err_set (err, XS_EINVAL, "volume: a uuid is required");
    const char *name = xs_volume_state_name (state);
    if (strcmp (name, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "volume %s: unknown state %d", uuid, (int) state);
    sqlite3_stmt *st = s_stmt (self, S_VOLUME_SET_STATE, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    S_BIND (s_bind_text (st, 1, uuid));
    S_BIND (s_bind_text (st, 2, name));
    S_BIND (s_bind_text (st, 3, error));
    S_BIND (sqlite3_bind_int64 (st, 4, xs_store_now_ms ()));
    rc = s_write (self, st, rc);
    if (rc != SQLITE_OK)
        return s_sqlerr (self, rc, err, "volume %s", uuid);
    if (sqlite3_changes (self->db) == 0)
        return xs_err_set (err, XS_ENOTFOUND, "volume %s: not found", uuid);
    return 0;
}

/* =========================================================================
    Jobs and attempts
   ========================================================================= */

static void *
s_job_row (xs_store_t *self, sqlite3_stmt *st, const char *object, xs_err_t *err)
{
    xs_job_t *j = xs_zalloc (sizeof *j);
    j->id = sqlite3_column_int64 (st, 0);
    j->volume_uuid = s_col_str (st, 1);
    j->op = s_col_req (st, 2);
    j->args = s_col_str (st, 3);
    const char *state = (const char *) sqlite3_column_text (st, 4);
    j->backend_id = sqlite3_column_int64 (st, 5);
    j->host_uuid = s_col_str (st, 6);
    j->result = s_col_str (st, 7);
    j->error = s_col_str (st, 8);
    j->created_at = sqlite3_column_int64 (st, 9);
    j->updated_at = sqlite3_column_int64 (st, 10);
    int v = s_from_name (s_job_states, S_N (s_job_states), state);
    if (v < 0) {
        xs_err_set (err, XS_EIO, "%s: job %lld has unknown state '%s'",
                    self->path, (long long) j->id, state ? state : "(null)");
        xs_job_destroy (&j);
        return NULL;
    }
    j->state = (xs_job_state_t) v;
    return j;
}

int64_t
xs_store_job_insert (xs_store_t *self, const xs_job_t *job, xs_err_t *err)
{
    if (!job || s_empty (job->op))
        return xs_err_set (err, XS_EINVAL, "job: an op is required");
    const char *state = xs_job_state_name (job->state);
    if (strcmp (state, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "job %s: unknown state %d", job->op, (int) job->state);
    sqlite3_stmt *st = s_stmt (self, S_JOB_INSERT, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    S_BIND (s_bind_text (st, 1, job->volume_uuid));
    S_BIND (s_bind_text (st, 2, job->op));
    S_BIND (s_bind_text (st, 3, job->args));
    S_BIND (s_bind_text (st, 4, state));
    S_BIND (s_bind_id (st, 5, job->backend_id));
    S_BIND (s_bind_text (st, 6, job->host_uuid));
    S_BIND (s_bind_text (st, 7, job->result));
    S_BIND (s_bind_text (st, 8, job->error));
    S_BIND (sqlite3_bind_int64 (st, 9, xs_store_now_ms ()));
    rc = s_write (self, st, rc);
    if (rc == SQLITE_OK)
        return sqlite3_last_insert_rowid (self->db);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return xs_err_set (err, XS_ENOTFOUND, "job %s: volume %s not found", job->op,
                           job->volume_uuid ? job->volume_uuid : "?");
    return s_sqlerr (self, rc, err, "job %s of volume %s", job->op,
                     job->volume_uuid ? job->volume_uuid : "(none)");
}

xs_job_t *
xs_store_job_get (xs_store_t *self, int64_t id, xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, S_JOB_GET, err);
    if (!st)
        return NULL;
    char object [64];
    snprintf (object, sizeof object, "job %lld", (long long) id);
    return s_fetch_one (self, st, sqlite3_bind_int64 (st, 1, id), s_job_row, object, err);
}

int
xs_store_job_update (xs_store_t *self, const xs_job_t *job, xs_err_t *err)
{
    if (!job)
        return xs_err_set (err, XS_EINVAL, "job: nothing to update");
    const char *state = xs_job_state_name (job->state);
    if (strcmp (state, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "job %lld: unknown state %d",
                           (long long) job->id, (int) job->state);
    sqlite3_stmt *st = s_stmt (self, S_JOB_UPDATE, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    S_BIND (sqlite3_bind_int64 (st, 1, job->id));
    S_BIND (s_bind_text (st, 2, state));
    S_BIND (s_bind_id (st, 3, job->backend_id));
    S_BIND (s_bind_text (st, 4, job->host_uuid));
    S_BIND (s_bind_text (st, 5, job->result));
    S_BIND (s_bind_text (st, 6, job->error));
    S_BIND (sqlite3_bind_int64 (st, 7, xs_store_now_ms ()));
    rc = s_write (self, st, rc);
    if (rc != SQLITE_OK)
        return s_sqlerr (self, rc, err, "job %lld", (long long) job->id);
    if (sqlite3_changes (self->db) == 0)
        return xs_err_set (err, XS_ENOTFOUND, "job %lld: not found", (long long) job->id);
    return 0;
}

xs_job_t **
xs_store_job_list_unfinished (xs_store_t *self, xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, S_JOB_UNFINISHED, err);
    if (!st)
        return NULL;
    return (xs_job_t **) s_fetch_all (self, st, SQLITE_OK, s_job_row, s_xs_job_free,
                                      "unfinished jobs", err);
}

xs_job_t **
xs_store_job_list_by_volume (xs_store_t *self, const char *volume_uuid, xs_err_t *err)
{
    if (s_empty (volume_uuid)) {
        xs_err_set (err, XS_EINVAL, "jobs: a volume uuid is required");
        return NULL;
    }
    sqlite3_stmt *st = s_stmt (self, S_JOB_BY_VOLUME, err);
    if (!st)
        return NULL;
    char object [300];
    snprintf (object, sizeof object, "jobs of volume %s", volume_uuid);
    return (xs_job_t **) s_fetch_all (self, st, s_bind_text (st, 1, volume_uuid), s_job_row,
                                      s_xs_job_free, object, err);
}

static void *
s_attempt_row (xs_store_t *self, sqlite3_stmt *st, const char *object, xs_err_t *err)
{
    xs_attempt_t *a = xs_zalloc (sizeof *a);
    a->id = sqlite3_column_int64 (st, 0);
    a->volume_uuid = s_col_req (st, 1);
    a->backend_id = sqlite3_column_int64 (st, 2);
    a->host_uuid = s_col_str (st, 3);
    const char *outcome = (const char *) sqlite3_column_text (st, 4);
    a->reason = s_col_str (st, 5);
    a->at = sqlite3_column_int64 (st, 6);
    int v = s_from_name (s_outcomes, S_N (s_outcomes), outcome);
    if (v < 0) {
        xs_err_set (err, XS_EIO, "%s: attempt %lld has unknown outcome '%s'",
                    self->path, (long long) a->id, outcome ? outcome : "(null)");
        xs_attempt_destroy (&a);
        return NULL;
    }
    a->outcome = (xs_attempt_outcome_t) v;
    return a;
}

int64_t
xs_store_attempt_insert (xs_store_t *self, const xs_attempt_t *attempt, xs_err_t *err)
{
    if (!attempt || s_empty (attempt->volume_uuid))
        return xs_err_set (err, XS_EINVAL, "attempt: a volume uuid is required");
    const char *outcome = xs_attempt_outcome_name (attempt->outcome);
    if (strcmp (outcome, "?") == 0)
        return xs_err_set (err, XS_EINVAL, "attempt for volume %s: unknown outcome %d",
                           attempt->volume_uuid, (int) attempt->outcome);
    sqlite3_stmt *st = s_stmt (self, S_ATTEMPT_INSERT, err);
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    S_BIND (s_bind_text (st, 1, attempt->volume_uuid));
    S_BIND (sqlite3_bind_int64 (st, 2, attempt->backend_id));
    S_BIND (s_bind_text (st, 3, attempt->host_uuid));
    S_BIND (s_bind_text (st, 4, outcome));
    S_BIND (s_bind_text (st, 5, attempt->reason));
    S_BIND (sqlite3_bind_int64 (st, 6, attempt->at ? attempt->at : xs_store_now_ms ()));
    rc = s_write (self, st, rc);
    if (rc == SQLITE_OK)
        return sqlite3_last_insert_rowid (self->db);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return xs_err_set (err, XS_ENOTFOUND, "attempt: volume %s not found",
                           attempt->volume_uuid);
    return s_sqlerr (self, rc, err, "attempt for volume %s", attempt->volume_uuid);
}

xs_attempt_t **
xs_store_attempt_list_by_volume (xs_store_t *self, const char *volume_uuid, xs_err_t *err)
{
    if (s_empty (volume_uuid)) {
        xs_err_set (err, XS_EINVAL, "attempts: a volume uuid is required");
        return NULL;
    }
    sqlite3_stmt *st = s_stmt (self, S_ATTEMPT_BY_VOLUME, err);
    if (!st)
        return NULL;
    char object [300];
    snprintf (object, sizeof object, "attempts of volume %s", volume_uuid);
    return (xs_attempt_t **) s_fetch_all (self, st, s_bind_text (st, 1, volume_uuid),
                                          s_attempt_row, s_xs_attempt_free, object, err);
}

/* =========================================================================
    Counts
   ========================================================================= */

int
xs_store_counts (xs_store_t *self, xs_store_counts_t *counts, xs_err_t *err)
{
    sqlite3_stmt *st = s_stmt (self, S_COUNTS, err);
    if (!st)
        return -1;
    int rc = s_step (self, st, SQLITE_OK);
    if (rc == SQLITE_ROW) {
        counts->flavors = sqlite3_column_int64 (st, 0);
        counts->backends = sqlite3_column_int64 (st, 1);
        counts->hosts = sqlite3_column_int64 (st, 2);
        counts->hosts_up = sqlite3_column_int64 (st, 3);
        counts->volumes = sqlite3_column_int64 (st, 4);
        counts->volumes_live = sqlite3_column_int64 (st, 5);
        counts->jobs_unfinished = sqlite3_column_int64 (st, 6);
    }
    s_done (st);
    if (rc != SQLITE_ROW)
        return s_sqlerr (self, rc == SQLITE_DONE ? SQLITE_ERROR : rc, err, "counts");
    return 0;
}
