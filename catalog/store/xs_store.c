/*  xs_store: the catalog's embedded store on SQLite. This file is the
    database's life cycle: opening (file mode, lock, checks, WAL,
    durability, migration), closing, and transactions. The SQL is in
    xs_store_sql.c, the statement machinery in xs_store_stmt.c, each table's
    operations in xs_store_<table>.c.

    Opening a path:
      - creates the file with mode 0600 when missing (its -wal/-shm files
        inherit that mode), tightens an existing catalog to 0600 (backend
        configs hold secrets);
      - takes an exclusive advisory lock on "<path>.lock" (flock, mode 0600):
        a second store on the same database, in this or another process,
        fails with XS_ECONFLICT naming the file;
      - checks, before writing anything, that the file is an xensm catalog
        (PRAGMA application_id) no newer than this program (user_version);
      - sets WAL, synchronous=FULL (an acknowledged commit survives power
        loss), foreign_keys=ON and a busy timeout;
      - migrates the schema forward, one transaction per step.
    xs_store_begin is BEGIN IMMEDIATE; an operation outside it that needs
    several statements runs in its own savepoint (xs_sql_savepoint).
*/
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_store_int.h"

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

int64_t
xs_store_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
    int rc = sqlite3_prepare_v2 (self->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step (st);
        if (rc == SQLITE_ROW && value_p)
            *value_p = sqlite3_column_int64 (st, 0);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        xs_sql_capture (self);
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
        xs_sql_capture (self);
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
            rc = sqlite3_exec (self->db, xs_sql_migrations [v], NULL, NULL, &errmsg);
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
    if (xs_store_empty (path)) {
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
            for (int i = 0; i < XS_SQL_NSTMTS; i++)
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

/* ---------------------------------------------------------------------
   Transactions
   --------------------------------------------------------------------- */

int
xs_store_begin (xs_store_t *self, xs_err_t *err)
{
    if (self->in_txn)
        return xs_err_set (err, XS_EINVAL, "%s: a transaction is already open", self->path);
    int rc = xs_sql_exec (self, XS_SQL_BEGIN);
    if (rc != SQLITE_OK)
        return xs_sql_fail (self, rc, err, "begin transaction");
    self->in_txn = true;
    return 0;
}

int
xs_store_commit (xs_store_t *self, xs_err_t *err)
{
    if (!self->in_txn)
        return xs_err_set (err, XS_EINVAL, "%s: no transaction to commit", self->path);
    int rc = xs_sql_exec (self, XS_SQL_COMMIT);
    if (rc == SQLITE_OK) {
        self->in_txn = false;
        return 0;
    }
    xs_sql_fail (self, rc, err, "commit");
    if (!sqlite3_get_autocommit (self->db))
        xs_sql_exec (self, XS_SQL_ROLLBACK);
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
    int rc = xs_sql_exec (self, XS_SQL_ROLLBACK);
    return rc == SQLITE_OK ? 0 : xs_sql_fail (self, rc, err, "rollback");
}

bool
xs_store_in_transaction (const xs_store_t *self)
{
    return self->in_txn;
}

/* ---------------------------------------------------------------------
   Counts
   --------------------------------------------------------------------- */

int
xs_store_counts (xs_store_t *self, xs_store_counts_t *counts, xs_err_t *err)
{
    sqlite3_stmt *st = xs_sql_stmt (self, XS_SQL_COUNTS, err);
    if (!st)
        return -1;
    int rc = xs_sql_step (self, st, SQLITE_OK);
    if (rc == SQLITE_ROW) {
        counts->flavors = sqlite3_column_int64 (st, 0);
        counts->backends = sqlite3_column_int64 (st, 1);
        counts->hosts = sqlite3_column_int64 (st, 2);
        counts->hosts_up = sqlite3_column_int64 (st, 3);
        counts->volumes = sqlite3_column_int64 (st, 4);
        counts->volumes_live = sqlite3_column_int64 (st, 5);
        counts->jobs_unfinished = sqlite3_column_int64 (st, 6);
    }
    xs_sql_reset (st);
    if (rc != SQLITE_ROW)
        return xs_sql_fail (self, rc == SQLITE_DONE ? SQLITE_ERROR : rc, err, "counts");
    return 0;
}
