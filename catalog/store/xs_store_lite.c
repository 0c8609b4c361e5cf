/*  xs_store_lite: the SQLite driver (xs_store_int.h) of the store: the
    database file's life cycle (file mode, lock, checks, WAL, durability,
    migration, closing) and the driver's statement ops over sqlite3_stmt.
    The SQL is in xs_store_sql.c.

    Opening a path:
      - creates the file with mode 0600 when missing (its -wal/-shm files
        inherit that mode), tightens an existing catalog to 0600 (backend
        configs hold secrets);
      - takes an exclusive advisory lock on "<path>.lock" (flock, mode 0600):
        a second store on the same database, in this or another process,
        fails with XS_ECONFLICT naming the file;
      - checks, before writing anything, that the file is an xensm catalog
        (PRAGMA application_id) no newer than this program (user_version);
      - refuses an empty (0-byte) file that it did not create: a lost or
        truncated catalog is not a new one;
      - locking_mode=EXCLUSIVE, before the first access: one process holds
        the catalog anyway (the lock file), and so the WAL index lives in
        this process's memory, not in a mmapped -shm file whose page faults
        killed the daemon with SIGBUS once the files could not be written
        (chattr +i). No other program can read a running catalog's file
        (SQLITE_BUSY): look at a copy of it and its -wal, or stop catalogd;
      - sets WAL, synchronous=FULL (an acknowledged commit survives power
        loss), foreign_keys=ON and a busy timeout;
      - migrates the schema forward, one transaction per step.
    xs_store_begin is BEGIN IMMEDIATE.

    The write-ahead log holds what was acknowledged since the last
    checkpoint, so deleting it by hand loses commits. The lock file says
    "open" while a catalog runs and "clean" once it was closed with the log
    checkpointed: a catalog found "open" (killed) whose log is missing is
    refused, naming the file, unless accept_lost_wal. While running, every
    transaction first checks the log is still the file SQLite writes; when
    it was deleted, its content is checkpointed into the database and a new
    log is made, so no later commit goes to a file nobody can find.
*/
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_store_int.h"

#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
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

_Static_assert (XS_RC_OK == SQLITE_OK && XS_RC_ROW == SQLITE_ROW && XS_RC_DONE == SQLITE_DONE
                && XS_RC_CONSTRAINT_UNIQUE == SQLITE_CONSTRAINT_UNIQUE
                && XS_RC_CONSTRAINT_PRIMARYKEY == SQLITE_CONSTRAINT_PRIMARYKEY
                && XS_RC_CONSTRAINT_FOREIGNKEY == SQLITE_CONSTRAINT_FOREIGNKEY
                && XS_RC_CONSTRAINT_CHECK == SQLITE_CONSTRAINT_CHECK
                && XS_RC_CONSTRAINT_NOTNULL == SQLITE_CONSTRAINT_NOTNULL
                && XS_RC_IOERR == SQLITE_IOERR && XS_RC_MISUSE == SQLITE_MISUSE,
                "the store's result codes are SQLite's");

/* The driver's connection (self->conn). */
typedef struct {
    char *lock_path;
    int lock_fd;
    char lock_state [16];               /* what the lock file said: "open",
                                           "clean" or "" (new, or older)    */
    int db_fd;                          /* the file, while opening          */
    unsigned db_mode;                   /* its mode when found              */
    sqlite3 *db;
    char *wal_path;
    bool wal_known;                     /* wal_dev/wal_ino are the live log */
    dev_t wal_dev;
    ino_t wal_ino;
} s_lite_t;

#define S_LITE(store) ((s_lite_t *) (store)->conn)

/* Keeps SQLite's current message for the next xs_sql_fail. */
static void
s_capture (xs_store_t *self)
{
    xs_sql_set_errmsg (self, sqlite3_errmsg (S_LITE (self)->db));
}

/* ---------------------------------------------------------------------
   Opening and closing
   --------------------------------------------------------------------- */

/* Runs one PRAGMA (or other statement) and returns its first column as an
   integer in *value_p when not NULL. */
static int
s_pragma (xs_store_t *self, const char *sql, int64_t *value_p, xs_err_t *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2 (S_LITE (self)->db, sql, -1, &st, NULL);
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
    int rc = sqlite3_prepare_v2 (S_LITE (self)->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
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
        int rc = sqlite3_exec (S_LITE (self)->db, "BEGIN IMMEDIATE", NULL, NULL, &errmsg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec (S_LITE (self)->db, xs_sql_migrations [v], NULL, NULL, &errmsg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec (S_LITE (self)->db, tail, NULL, NULL, &errmsg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec (S_LITE (self)->db, "COMMIT", NULL, NULL, &errmsg);
        if (rc != SQLITE_OK) {
            xs_err_set (err, XS_EIO, "%s: schema migration %lld -> %lld failed: %s",
                        self->path, (long long) v, (long long) (v + 1),
                        errmsg ? errmsg : sqlite3_errstr (rc));
            sqlite3_free (errmsg);
            if (!sqlite3_get_autocommit (S_LITE (self)->db))
                sqlite3_exec (S_LITE (self)->db, "ROLLBACK", NULL, NULL, NULL);
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
    S_LITE (self)->lock_fd = open (S_LITE (self)->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (S_LITE (self)->lock_fd < 0)
        return xs_err_set (err, XS_EIO, "%s: cannot open lock file %s: %s",
                           self->path, S_LITE (self)->lock_path, strerror (errno));
    if (flock (S_LITE (self)->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close (S_LITE (self)->lock_fd);
        S_LITE (self)->lock_fd = -1;
        if (e == EWOULDBLOCK)
            return xs_err_set (err, XS_ECONFLICT,
                               "%s: already open by another xensm process (%s is locked)",
                               self->path, S_LITE (self)->lock_path);
        return xs_err_set (err, XS_EIO, "%s: cannot lock %s: %s",
                           self->path, S_LITE (self)->lock_path, strerror (e));
    }
    char *state = S_LITE (self)->lock_state;
    ssize_t n = pread (S_LITE (self)->lock_fd, state, sizeof S_LITE (self)->lock_state - 1, 0);
    state [n > 0 ? n : 0] = 0;
    state [strcspn (state, "\n")] = 0;
    return 0;
}

/* Writes `state` ("open", "clean") into the lock file, durably. */
static void
s_set_lock_state (xs_store_t *self, const char *state)
{
    int fd = S_LITE (self)->lock_fd;
    char line [16];
    int len = snprintf (line, sizeof line, "%s\n", state);
    if (pwrite (fd, line, (size_t) len, 0) != len || ftruncate (fd, len) != 0
    ||  fdatasync (fd) != 0)
        xs_warning ("%s: cannot record '%s' in %s: %s", self->path, state,
                    S_LITE (self)->lock_path, strerror (errno));
}

/* Makes sure the database file exists with mode 0600 and is writable,
   before SQLite sees it. */
static int
s_prepare_file (xs_store_t *self, xs_err_t *err)
{
    int fd = open (self->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool created = fd >= 0;
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
    else
    if (!created && sb.st_size == 0 && access (S_LITE (self)->wal_path, F_OK) != 0)
        rc = xs_err_set (err, XS_EINVAL, "%s: the file is empty (0 bytes), not a catalog: "
                         "a lost or truncated catalog is not started as a new one; remove "
                         "the file to start a new catalog", self->path);
    if (rc == 0) {
        S_LITE (self)->db_fd = fd;
        S_LITE (self)->db_mode = (unsigned) (sb.st_mode & 07777);
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
    if (S_LITE (self)->db_mode != 0600) {
        if (fchmod (S_LITE (self)->db_fd, 0600) != 0)
            rc = xs_err_set (err, XS_EIO, "%s: cannot set mode 0600: %s",
                             self->path, strerror (errno));
        else
            xs_warning ("%s: mode was %04o, set to 0600 (backend configs hold secrets)",
                        self->path, S_LITE (self)->db_mode);
    }
    close (S_LITE (self)->db_fd);
    S_LITE (self)->db_fd = -1;
    return rc;
}

/* Remembers which file is the live write-ahead log. */
static void
s_wal_remember (xs_store_t *self)
{
    s_lite_t *lite = S_LITE (self);
    struct stat sb;
    lite->wal_known = stat (lite->wal_path, &sb) == 0;
    if (lite->wal_known) {
        lite->wal_dev = sb.st_dev;
        lite->wal_ino = sb.st_ino;
    }
}

/* A catalog that was not closed cleanly (the lock file says "open", which
   is written once the log exists) and whose write-ahead log is gone lost
   what the log held: refused unless the operator accepts it. */
static int
s_check_lost_wal (xs_store_t *self, bool accept, xs_err_t *err)
{
    s_lite_t *lite = S_LITE (self);
    struct stat sb;
    if (strcmp (lite->lock_state, "open") != 0 || stat (lite->wal_path, &sb) == 0)
        return 0;
    if (!accept)
        return xs_err_set (err, XS_EIO, "%s: the catalog was not closed cleanly and its "
                           "write-ahead log %s is missing (deleted?): what was acknowledged "
                           "since its last checkpoint is lost. Put the file back, or start "
                           "once with --accept-lost-wal to go on without it", self->path,
                           lite->wal_path);
    xs_warning ("%s: the write-ahead log %s is missing and the catalog was not closed "
                "cleanly: going on without it (--accept-lost-wal); what it held is lost",
                self->path, lite->wal_path);
    return 0;
}

/* Before a transaction: when the write-ahead log was deleted (or replaced)
   under us, SQLite would go on writing a file nobody can find and a crash
   would lose those commits. Checkpoint what it holds into the database
   (SQLite still has it open), then leave WAL mode and enter it again to
   make a new log. */
static int
s_lite_before_begin (xs_store_t *self, xs_err_t *err)
{
    s_lite_t *lite = S_LITE (self);
    struct stat sb;
    if (!lite->wal_known
    ||  (stat (lite->wal_path, &sb) == 0 && sb.st_dev == lite->wal_dev
         && sb.st_ino == lite->wal_ino))
        return 0;
    xs_warning ("%s: its write-ahead log %s was deleted or replaced while the catalog ran: "
                "moving what it holds into the database and making a new one",
                self->path, lite->wal_path);
    int64_t busy = 1;
    if (s_pragma (self, "PRAGMA wal_checkpoint(TRUNCATE)", &busy, err)
    ||  s_pragma (self, "PRAGMA journal_mode = DELETE", NULL, err)
    ||  s_set_wal (self, err)
    ||  s_pragma (self, "SELECT count(*) FROM sqlite_schema", NULL, err))
        return xs_err_prefix (err, "write-ahead log deleted, not made again (restart the "
                              "catalog)");
    if (busy)
        return xs_err_set (err, XS_EIO, "%s: write-ahead log deleted and its checkpoint did "
                           "not complete; restart the catalog", self->path);
    s_wal_remember (self);
    return 0;
}

/* Opens self->path: see the top of this file. */
static int
s_lite_open (xs_store_t *self, const xs_store_options_t *options, xs_err_t *err)
{
    const char *path = self->path;
    /* Refused before anything is created beside it (the lock file). */
    struct stat st;
    if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
        return xs_err_set (err, XS_EINVAL, "%s: is a directory, not a database file", path);
    s_lite_t *lite = xs_zalloc (sizeof *lite);
    lite->lock_fd = -1;
    lite->db_fd = -1;
    lite->lock_path = xs_sprintf ("%s.lock", path);
    lite->wal_path = xs_sprintf ("%s-wal", path);
    self->conn = lite;

    int64_t version = 0, app_id = 0, objects = 0;
    if (s_lock (self, err)
    ||  s_check_lost_wal (self, options && options->accept_lost_wal, err)
    ||  s_prepare_file (self, err))
        return -1;

    int rc = sqlite3_open_v2 (path, &lite->db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK)
        return xs_err_set (err, XS_EIO, "%s: cannot open: %s", path,
                           lite->db ? sqlite3_errmsg (lite->db) : sqlite3_errstr (rc));
    sqlite3_extended_result_codes (lite->db, 1);
    sqlite3_busy_timeout (lite->db, S_BUSY_TIMEOUT_MS);
    if (s_pragma (self, "PRAGMA locking_mode = EXCLUSIVE", NULL, err))
        return -1;
    if (sqlite3_db_readonly (lite->db, "main") != 0)
        return xs_err_set (err, XS_EIO, "%s: not writable", path);
    /* Read-only checks first, so that a file we refuse is never written. */
    if (s_pragma (self, "PRAGMA user_version", &version, err)
    ||  s_pragma (self, "PRAGMA application_id", &app_id, err)
    ||  s_pragma (self, "SELECT count(*) FROM sqlite_schema", &objects, err))
        return -1;
    if (version > XS_STORE_SCHEMA_VERSION)
        return xs_err_set (err, XS_EINVAL,
                           "%s: schema version %lld is newer than this xensm knows (%d); "
                           "run a newer xensm", path, (long long) version,
                           XS_STORE_SCHEMA_VERSION);
    if ((version > 0 && app_id != S_APPLICATION_ID) || (version == 0 && objects > 0))
        return xs_err_set (err, XS_EINVAL, "%s: an SQLite database, but not an xensm catalog",
                           path);
    int64_t fk = 0;
    /* Migrations run with foreign keys off: a step that rebuilds a table
       drops the old one, which would otherwise cascade to its children. */
    if (s_tighten_file (self, err)
    ||  s_set_wal (self, err)
    ||  s_pragma (self, "PRAGMA synchronous = FULL", NULL, err)
    ||  s_pragma (self, "PRAGMA foreign_keys = OFF", NULL, err)
    ||  s_migrate (self, version, err)
    ||  s_pragma (self, "PRAGMA foreign_keys = ON", NULL, err)
    ||  s_pragma (self, "PRAGMA foreign_keys", &fk, err))
        return -1;
    if (fk != 1)
        return xs_err_set (err, XS_EIO, "%s: SQLite refuses to enforce foreign keys", path);
    s_wal_remember (self);
    if (!lite->wal_known)
        return xs_err_set (err, XS_EIO, "%s: SQLite made no write-ahead log %s", path,
                           lite->wal_path);
    s_set_lock_state (self, "open");
    return 0;
}

static void
s_lite_close (xs_store_t *self)
{
    s_lite_t *lite = S_LITE (self);
    if (!lite)
        return;
    bool clean = false;
    if (lite->db) {
        if (!sqlite3_get_autocommit (lite->db))
            sqlite3_exec (lite->db, "ROLLBACK", NULL, NULL, NULL);
        /* Everything into the database file: then the log may go. */
        int64_t busy = 1;
        clean = lite->wal_known
             && s_pragma (self, "PRAGMA wal_checkpoint(TRUNCATE)", &busy, NULL) == 0 && !busy;
        for (int i = 0; i < XS_SQL_NSTMTS; i++) {
            sqlite3_finalize (self->stmts [i].h);
            self->stmts [i].h = NULL;
        }
        if (sqlite3_close (lite->db) != SQLITE_OK)
            xs_error ("%s: close failed: %s", self->path, sqlite3_errmsg (lite->db));
    }
    if (clean && lite->lock_fd >= 0)
        s_set_lock_state (self, "clean");
    if (lite->db_fd >= 0)
        close (lite->db_fd);
    if (lite->lock_fd >= 0)
        close (lite->lock_fd);          /* releases the flock */
    free (lite->lock_path);
    free (lite->wal_path);
    free (lite);
    self->conn = NULL;
}

static int
s_lite_schema_version (xs_store_t *self)
{
    int64_t v = -1;
    if (s_pragma (self, "PRAGMA user_version", &v, NULL))
        return -1;
    return (int) v;
}

static void
s_lite_set_busy_timeout (xs_store_t *self, int ms)
{
    sqlite3_busy_timeout (S_LITE (self)->db, ms);
}

static bool
s_lite_autocommit (xs_store_t *self)
{
    return sqlite3_get_autocommit (S_LITE (self)->db) != 0;
}

/* ---------------------------------------------------------------------
   Statements
   --------------------------------------------------------------------- */

#define S_ST(st) ((sqlite3_stmt *) (st)->h)

static int
s_lite_prepare (xs_store_t *self, xs_sql_stmt_t *st)
{
    sqlite3_stmt *h = NULL;
    int rc = sqlite3_prepare_v3 (S_LITE (self)->db, xs_sql_text [st->id], -1,
                                 SQLITE_PREPARE_PERSISTENT, &h, NULL);
    if (rc != SQLITE_OK) {
        s_capture (self);
        sqlite3_finalize (h);
        return rc;
    }
    st->h = h;
    return SQLITE_OK;
}

static void
s_lite_finalize (xs_sql_stmt_t *st)
{
    sqlite3_finalize (S_ST (st));
    st->h = NULL;
}

/* A bind result, with SQLite's message kept when it failed. */
static int
s_bound (xs_sql_stmt_t *st, int rc)
{
    if (rc != SQLITE_OK)
        s_capture (st->store);
    return rc;
}

static int
s_lite_bind_int64 (xs_sql_stmt_t *st, int i, int64_t value)
{
    return s_bound (st, sqlite3_bind_int64 (S_ST (st), i, value));
}

static int
s_lite_bind_double (xs_sql_stmt_t *st, int i, double value)
{
    return s_bound (st, sqlite3_bind_double (S_ST (st), i, value));
}

static int
s_lite_bind_text (xs_sql_stmt_t *st, int i, const char *text)
{
    return s_bound (st, sqlite3_bind_text (S_ST (st), i, text, -1, SQLITE_STATIC));
}

static int
s_lite_bind_null (xs_sql_stmt_t *st, int i)
{
    return s_bound (st, sqlite3_bind_null (S_ST (st), i));
}

static int
s_lite_step (xs_sql_stmt_t *st)
{
    xs_store_t *self = st->store;
    int rc = sqlite3_step (S_ST (st));
    if (rc == SQLITE_DONE) {
        self->changes = sqlite3_changes (S_LITE (self)->db);
        self->last_id = sqlite3_last_insert_rowid (S_LITE (self)->db);
    }
    else
    if (rc != SQLITE_ROW)
        s_capture (self);
    return rc;
}

static void
s_lite_reset (xs_sql_stmt_t *st)
{
    sqlite3_reset (S_ST (st));
    sqlite3_clear_bindings (S_ST (st));
}

static int64_t
s_lite_col_int64 (xs_sql_stmt_t *st, int i)
{
    return sqlite3_column_int64 (S_ST (st), i);
}

static double
s_lite_col_double (xs_sql_stmt_t *st, int i)
{
    return sqlite3_column_double (S_ST (st), i);
}

static const char *
s_lite_col_text (xs_sql_stmt_t *st, int i)
{
    return (const char *) sqlite3_column_text (S_ST (st), i);
}

static bool
s_lite_col_null (xs_sql_stmt_t *st, int i)
{
    return sqlite3_column_type (S_ST (st), i) == SQLITE_NULL;
}

/* One connection for the file's whole life. */
static int
s_lite_conn_generation (xs_store_t *self)
{
    return 0;
}

const xs_sql_driver_t xs_sql_lite_driver = {
    .name = "SQLite",
    .conn_generation = s_lite_conn_generation,
    .open = s_lite_open,
    .close = s_lite_close,
    .schema_version = s_lite_schema_version,
    .set_busy_timeout = s_lite_set_busy_timeout,
    .autocommit = s_lite_autocommit,
    .before_begin = s_lite_before_begin,
    .prepare = s_lite_prepare,
    .finalize = s_lite_finalize,
    .bind_int64 = s_lite_bind_int64,
    .bind_double = s_lite_bind_double,
    .bind_text = s_lite_bind_text,
    .bind_null = s_lite_bind_null,
    .step = s_lite_step,
    .reset = s_lite_reset,
    .col_int64 = s_lite_col_int64,
    .col_double = s_lite_col_double,
    .col_text = s_lite_col_text,
    .col_null = s_lite_col_null,
    .step_savepoint = NULL,    /* SQLite undoes a failed statement alone */
};
