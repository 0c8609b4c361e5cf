/*  Unit tests of the store's life cycle (xs_store.c): files and their
    modes, locking, migrations, refusals of what is not a catalog, the
    schema's own constraints, transactions, restarts, a locked database and
    the group-commit rate. Each test works in its own temporary directory; a
    second, raw SQLite connection checks what is really in the file and plays
    "another process" where needed. The tables have a test file each
    (test_store_<table>.c); fault injection is test_store_faults.c.

    Run with XENSM_TEST_DB=pg (unit.store.pg), the same tests run on a real
    PostgreSQL server, the file tests are skipped and the PostgreSQL ones
    (the section at the end) run: the schema in the database, refusals,
    the password never in the URI, a lost connection, a held lock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_fixture.h"
#include "xs_store_int.h"      /* xs_sql_migrations */

/* ---------------------------------------------------------------------
   Helpers
   --------------------------------------------------------------------- */

static unsigned
s_mode (const char *path)
{
    struct stat sb;
    if (stat (path, &sb) != 0)
        fail_msg ("%s: missing", path);
    return (unsigned) (sb.st_mode & 07777);
}

static char *
s_slurp (const char *path, size_t *size_p)
{
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = malloc ((size_t) n + 1);
    assert_int_equal (fread (buf, 1, (size_t) n, f), (size_t) n);
    fclose (f);
    *size_p = (size_t) n;
    return buf;
}

static void
s_write_file (const char *path, const void *data, size_t size, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, data, size), (ssize_t) size);
    fchmod (fd, mode);
    close (fd);
}

/* ---------------------------------------------------------------------
   Files, modes, locks, migrations
   --------------------------------------------------------------------- */

static void
test_new_file_is_0600_with_sidecars (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    mode_t old = umask (0);             /* a lax umask must not matter */
    xs_store_t *store = fx_open (fx);
    umask (old);
    assert_int_equal (xs_store_schema_version (store), XS_STORE_SCHEMA_VERSION);
    fx_add_flavor (store, "gold");

    char p [512];
    assert_int_equal (s_mode (fx->path), 0600);
    snprintf (p, sizeof p, "%s-wal", fx->path);
    assert_int_equal (s_mode (p), 0600);
    snprintf (p, sizeof p, "%s-shm", fx->path);
    assert_int_equal (s_mode (p), 0600);
    snprintf (p, sizeof p, "%s.lock", fx->path);
    assert_int_equal (s_mode (p), 0600);

    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal (sqlite3_open_v2 (fx->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_step (st), SQLITE_ROW);
    assert_string_equal ((const char *) sqlite3_column_text (st, 0), "wal");
    sqlite3_finalize (st);
    sqlite3_close (db);
    xs_store_destroy (&store);
    assert_null (store);
    xs_store_destroy (&store);          /* idempotent */
}

static void
test_existing_lax_file_is_tightened (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    s_write_file (fx->path, "", 0, 0644);      /* version 0: an empty file */
    xs_store_t *store = fx_open (fx);
    assert_int_equal (s_mode (fx->path), 0600);
    xs_store_destroy (&store);
}

static void
test_migrate_empty_file_to_current (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    s_write_file (fx->path, "", 0, 0600);
    xs_store_t *store = fx_open (fx);
    xs_store_destroy (&store);
    assert_int_equal (fx_raw_int (fx->path, "PRAGMA user_version"), XS_STORE_SCHEMA_VERSION);
    const char *tables [] = { "flavor", "backend", "backend_config", "host", "host_sr",
                              "volume", "job", "attempt" };
    for (size_t i = 0; i < sizeof tables / sizeof tables [0]; i++) {
        char sql [128];
        snprintf (sql, sizeof sql,
                  "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '%s'",
                  tables [i]);
        assert_int_equal (fx_raw_int (fx->path, sql), 1);
    }
    /* The hot-path indexes exist. */
    const char *indexes [] = { "backend_by_flavor", "job_unfinished", "attempt_by_volume" };
    for (size_t i = 0; i < sizeof indexes / sizeof indexes [0]; i++) {
        char sql [128];
        snprintf (sql, sizeof sql,
                  "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = '%s'",
                  indexes [i]);
        assert_int_equal (fx_raw_int (fx->path, sql), 1);
    }
    /* Opening a current database again migrates nothing and keeps the version. */
    store = fx_open (fx);
    assert_int_equal (xs_store_schema_version (store), XS_STORE_SCHEMA_VERSION);
    xs_store_destroy (&store);
}

/* Schema 1 -> 2 (projects): a volume of a version 1 catalog keeps
   everything and belongs to project "". */
static void
test_migrate_1_to_2_adds_projects (void **state)
{
    fixture_t *fx = *state;
    /* A version 1 catalog as each store writes it. */
    assert_int_equal (fx_raw_exec (fx->path, fx_is_pg () ? xs_pg_migrations [0]
                                                         : xs_sql_migrations [0]), FX_OK);
    assert_int_equal (fx_raw_exec (fx->path,
        "INSERT INTO flavor (label, created_at) VALUES ('gold', 1);"
        "INSERT INTO volume (uuid, name, size_bytes, flavor_id, state, created_at, updated_at)"
        " VALUES ('vol-1', 'old', 1024, 1, 'available', 1, 1);"), FX_OK);
    assert_int_equal (fx_raw_exec (fx->path, fx_is_pg ()
        ? "CREATE TABLE xensm_schema (version BIGINT NOT NULL);"
          "INSERT INTO xensm_schema VALUES (1)"
        : "PRAGMA user_version = 1; PRAGMA application_id = 2020830531;"), FX_OK);
    xs_store_t *store = fx_open (fx);
    assert_int_equal (xs_store_schema_version (store), XS_STORE_SCHEMA_VERSION);
    xs_err_t err = { 0 };
    xs_volume_t *v = xs_store_volume_get (store, "vol-1", &err);
    assert_non_null (v);
    assert_string_equal (v->name, "old");
    assert_string_equal (v->project, "");
    xs_volume_destroy (&v);
    xs_store_destroy (&store);
    assert_int_equal (fx_raw_int (fx->path, fx_is_pg ()
        ? "SELECT count(*) FROM pg_indexes WHERE indexname = 'volume_by_project'"
        : "SELECT count(*) FROM sqlite_schema WHERE type = 'index'"
          " AND name = 'volume_by_project'"), 1);
}

static void
test_newer_schema_is_refused_untouched (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    fx_add_flavor (store, "gold");
    xs_store_destroy (&store);
    char sql [64];
    snprintf (sql, sizeof sql, "PRAGMA user_version = %d", XS_STORE_SCHEMA_VERSION + 5);
    assert_int_equal (fx_raw_exec (fx->path, sql), SQLITE_OK);

    size_t n1, n2;
    char *before = s_slurp (fx->path, &n1);
    xs_err_t err = { 0 };
    store = xs_store_new (fx->path, &err);
    assert_null (store);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "newer"));
    char *after = s_slurp (fx->path, &n2);
    assert_int_equal (n1, n2);
    assert_memory_equal (before, after, n1);
    free (before);
    free (after);
}

static void
test_foreign_sqlite_database_is_refused (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    assert_int_equal (fx_raw_exec (fx->path, "CREATE TABLE mine (x); INSERT INTO mine VALUES (42)"),
                      SQLITE_OK);
    chmod (fx->path, 0644);
    xs_err_t err = { 0 };
    xs_store_t *store = xs_store_new (fx->path, &err);
    assert_null (store);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "not an xensm catalog"));
    assert_int_equal (fx_raw_int (fx->path, "SELECT x FROM mine"), 42);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM sqlite_schema"), 1);
    assert_int_equal (s_mode (fx->path), 0644);       /* not ours: not even chmod */
}

static void
test_garbage_file_is_refused_untouched (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    char garbage [8192];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage [i] = (char) ("not a database at all! " [i % 23]);
    s_write_file (fx->path, garbage, sizeof garbage, 0600);
    xs_err_t err = { 0 };
    xs_store_t *store = xs_store_new (fx->path, &err);
    assert_null (store);
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "not a database"));
    print_message ("garbage file: %s\n", err.msg);
    size_t n;
    char *after = s_slurp (fx->path, &n);
    assert_int_equal (n, sizeof garbage);
    assert_memory_equal (after, garbage, n);
    free (after);
    /* No WAL was made for it either. */
    char p [512];
    snprintf (p, sizeof p, "%s-wal", fx->path);
    assert_int_not_equal (access (p, F_OK), 0);
}

static void
test_corrupt_file_gives_clear_error (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    char label [32];
    for (int i = 0; i < 200; i++) {
        snprintf (label, sizeof label, "flavor-%03d", i);
        fx_add_flavor (store, label);
    }
    xs_store_destroy (&store);
    size_t n;
    char *data = s_slurp (fx->path, &n);
    assert_true (n > 8 * 4096);

    /* The flavor rows were written last: scribble over the last pages. The
       store still opens; reading flavors fails cleanly. */
    char *copy = malloc (n);
    memcpy (copy, data, n);
    memset (copy + n - 2 * 4096, 0xA5, 2 * 4096);
    s_write_file (fx->path, copy, n, 0600);
    xs_err_t err = { 0 };
    store = fx_open (fx);
    assert_null (xs_store_flavor_list (store, &err));
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "malformed"));
    print_message ("corrupt data pages: %s\n", err.msg);
    xs_store_destroy (&store);

    /* Scribble over everything after page 1: the open itself fails cleanly. */
    memcpy (copy, data, n);
    memset (copy + 4096, 0xA5, n - 4096);
    s_write_file (fx->path, copy, n, 0600);
    store = xs_store_new (fx->path, &err);
    assert_null (store);
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "malformed"));
    print_message ("corrupt schema: %s\n", err.msg);
    free (copy);
    free (data);
}

static void
test_second_open_is_refused (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *first = fx_open (fx);
    xs_err_t err = { 0 };
    xs_store_t *second = xs_store_new (fx->path, &err);
    assert_null (second);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "already open"));
    print_message ("second open: %s\n", err.msg);
    /* The first one still works. */
    fx_add_flavor (first, "gold");
    xs_store_destroy (&first);
    second = fx_open (fx);
    xs_flavor_t *f = xs_store_flavor_get (second, "gold", &err);
    assert_non_null (f);
    xs_flavor_destroy (&f);
    xs_store_destroy (&second);
}

static void
test_unusable_paths (void **state)
{
    fixture_t *fx = *state;
    xs_err_t err = { 0 };
    assert_null (xs_store_new (NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_null (xs_store_new ("", &err));
    char p [512];
    snprintf (p, sizeof p, "%s/no/such/dir/catalog.db", fx->dir);
    assert_null (xs_store_new (p, &err));
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, p));
    /* A directory is not a database, and nothing is made beside it. */
    assert_null (xs_store_new (fx->dir, &err));
    assert_non_null (strstr (err.msg, fx->dir));
    assert_non_null (strstr (err.msg, "directory"));
    snprintf (p, sizeof p, "%s.lock", fx->dir);
    assert_int_equal (access (p, F_OK), -1);
}

/* ---------------------------------------------------------------------
   The schema's own constraints (what a raw writer to the file hits)
   --------------------------------------------------------------------- */

static void
test_schema_constraints (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    int64_t gold = fx_add_flavor (store, "gold");
    fx_add_backend (store, "gold", "z1");
    fx_add_volume (store, "v1", gold, 0, XS_VOLUME_AVAILABLE, "r1");
    xs_store_destroy (&store);

    const char *bad [] = {
        "INSERT INTO flavor (label, created_at) VALUES ('gold', 0)",          /* unique   */
        "INSERT INTO flavor (label, created_at) VALUES ('', 0)",
        "DELETE FROM flavor WHERE label = 'gold'",                            /* restrict */
        "INSERT INTO backend (flavor_id, zone, sr_type, created_at) VALUES (99, 'z', 'nfs', 0)",
        "UPDATE backend SET state = 'bogus'",
        "UPDATE backend SET ratio = 0",
        "UPDATE backend SET reserve = 150",
        "INSERT INTO backend_config (backend_id, position, key, value)"
        " VALUES (1, 9, 'server', 'dup')",
        "INSERT INTO host (uuid, zone, state, last_seen, created_at)"
        " VALUES ('h', 'z', 'sideways', 0, 0)",
        "INSERT INTO volume (uuid, size_bytes, flavor_id, state, request_id, created_at,"
        " updated_at) VALUES ('v2', 1, 1, 'available', 'r1', 0, 0)",            /* request  */
        "UPDATE volume SET state = 'melted'",
        "UPDATE volume SET size_bytes = -5",
        "INSERT INTO job (op, state, created_at, updated_at) VALUES ('x', 'lost', 0, 0)",
        "INSERT INTO job (volume_uuid, op, state, created_at, updated_at)"
        " VALUES ('nope', 'x', 'pending', 0, 0)",
        "INSERT INTO attempt (volume_uuid, backend_id, outcome, at) VALUES ('v1', 1, 'meh', 0)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        if (fx_raw_exec (fx->path, bad [i]) != SQLITE_CONSTRAINT)
            fail_msg ("the schema accepted: %s", bad [i]);
    /* Several volumes without a request id are fine. */
    assert_int_equal (fx_raw_exec (fx->path,
        "INSERT INTO volume (uuid, size_bytes, flavor_id, state, created_at, updated_at)"
        " VALUES ('v3', 1, 1, 'available', 0, 0), ('v4', 1, 1, 'available', 0, 0)"), SQLITE_OK);
    /* Deleting a backend cascades its config. */
    assert_int_equal (fx_raw_exec (fx->path, "DELETE FROM backend"), SQLITE_OK);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM backend_config"), 0);
}

/* ---------------------------------------------------------------------
   Transactions, restart, a locked database
   --------------------------------------------------------------------- */

static void
test_transactions (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    xs_err_t err = { 0 };
    assert_false (xs_store_in_transaction (store));
    assert_int_equal (xs_store_commit (store, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_int_equal (xs_store_rollback (store, &err), 0);

    assert_int_equal (xs_store_begin (store, &err), 0);
    assert_int_equal (xs_store_begin (store, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    fx_add_flavor (store, "gold");
    fx_add_backend (store, "gold", "z1");
    assert_int_equal (xs_store_rollback (store, &err), 0);
    assert_false (xs_store_in_transaction (store));
    assert_null (xs_store_flavor_get (store, "gold", &err));
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM backend_config"), 0);

    /* A group commit of many creates. */
    int64_t gold = fx_add_flavor (store, "gold");
    assert_int_equal (xs_store_begin (store, &err), 0);
    char uuid [64];
    for (int i = 0; i < 500; i++) {
        snprintf (uuid, sizeof uuid, "vol-%04d", i);
        fx_add_volume (store, uuid, gold, 0, XS_VOLUME_CREATING, uuid);
    }
    /* Not visible to another connection before the commit. */
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM volume"), 0);
    assert_int_equal (xs_store_commit (store, &err), 0);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM volume"), 500);

    /* Closing with a transaction open rolls it back. */
    assert_int_equal (xs_store_begin (store, &err), 0);
    fx_add_flavor (store, "ghost");
    xs_store_destroy (&store);
    store = fx_open (fx);
    assert_null (xs_store_flavor_get (store, "ghost", &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    xs_store_destroy (&store);
}

static void
test_restart_keeps_everything (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (store, "gold");
    int64_t b1 = fx_add_backend (store, "gold", "z1");
    xs_host_spec_t h = { .uuid = "h-1", .zone = "z1" };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), 0);
    assert_int_equal (xs_store_sr_set_attached (store, "h-1", b1, true, &err), 0);
    fx_add_volume (store, "vol-1", gold, b1, XS_VOLUME_AVAILABLE, "r-1");
    xs_job_spec_t j = { .volume_uuid = "vol-1", .op = "vdi_create", .state = XS_JOB_DISPATCHED };
    assert_true (xs_store_job_insert (store, &j, &err) > 0);
    xs_attempt_spec_t a = { .volume_uuid = "vol-1", .backend_id = b1, .outcome = XS_ATTEMPT_OK };
    assert_true (xs_store_attempt_insert (store, &a, &err) > 0);
    xs_store_destroy (&store);

    store = fx_open (fx);
    xs_store_counts_t c = { 0 };
    assert_int_equal (xs_store_counts (store, &c, &err), 0);
    assert_int_equal (c.flavors, 1);
    assert_int_equal (c.backends, 1);
    assert_int_equal (c.hosts, 1);
    assert_int_equal (c.hosts_up, 1);
    assert_int_equal (c.volumes, 1);
    assert_int_equal (c.volumes_live, 1);
    assert_int_equal (c.jobs_unfinished, 1);
    xs_volume_t *v = xs_store_volume_get_by_request_id (store, "r-1", &err);
    assert_string_equal (v->uuid, "vol-1");
    xs_volume_destroy (&v);
    xs_sr_stats_t **s = xs_store_sr_stats_list (store, b1, "h-1", &err);
    assert_int_equal (xs_rows_list_size (s), 1);
    assert_true (s [0]->attached);
    xs_sr_stats_list_destroy (&s);
    xs_attempt_t **al = xs_store_attempt_list_by_volume (store, "vol-1", &err);
    assert_int_equal (xs_rows_list_size (al), 1);
    xs_attempt_list_destroy (&al);
    xs_store_destroy (&store);
}

static void
test_locked_database_error_loses_nothing (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    xs_err_t err = { 0 };
    fx_add_flavor (store, "gold");
    xs_store_set_busy_timeout (store, 50);

    /* Another writer (say, an admin's sqlite3 shell) holds the write lock. */
    sqlite3 *other = NULL;
    assert_int_equal (sqlite3_open_v2 (fx->path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_exec (other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    assert_int_equal (xs_store_flavor_create (store, "silver", NULL, &err), -1);
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "database is locked"));
    assert_non_null (strstr (err.msg, "flavor silver"));
    print_message ("locked: %s\n", err.msg);
    assert_int_equal (xs_store_begin (store, &err), -1);
    assert_int_equal (err.kind, XS_EIO);
    assert_false (xs_store_in_transaction (store));
    xs_backend_spec_t spec = { .flavor_label = "gold", .zone = "z", .sr_type = "nfs" };
    assert_int_equal (xs_store_backend_add (store, &spec, &err), -1);
    assert_int_equal (err.kind, XS_EIO);
    /* Reads still work under WAL. */
    xs_flavor_t *f = xs_store_flavor_get (store, "gold", &err);
    assert_non_null (f);
    xs_flavor_destroy (&f);

    assert_int_equal (sqlite3_exec (other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (other);
    assert_true (xs_store_flavor_create (store, "silver", NULL, &err) > 0);
    assert_true (xs_store_backend_add (store, &spec, &err) > 0);
    xs_flavor_t **list = xs_store_flavor_list (store, &err);
    assert_int_equal (xs_rows_list_size (list), 2);
    xs_flavor_list_destroy (&list);
    xs_store_destroy (&store);
}

/* ---------------------------------------------------------------------
   PostgreSQL: the same contracts on a database server
   --------------------------------------------------------------------- */

static void
test_pg_migrate_empty_database (void **state)
{
    FX_PG_ONLY ();
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    assert_string_equal (xs_store_kind (store), "PostgreSQL");
    assert_int_equal (xs_store_schema_version (store), XS_STORE_SCHEMA_VERSION);
    xs_store_destroy (&store);
    assert_int_equal (fx_raw_int (fx->path, "SELECT version FROM xensm_schema"),
                      XS_STORE_SCHEMA_VERSION);
    const char *tables [] = { "flavor", "backend", "backend_config", "host", "host_sr",
                              "volume", "job", "attempt" };
    for (size_t i = 0; i < sizeof tables / sizeof tables [0]; i++) {
        char sql [160];
        snprintf (sql, sizeof sql, "SELECT count(*) FROM pg_tables"
                  " WHERE schemaname = current_schema () AND tablename = '%s'", tables [i]);
        assert_int_equal (fx_raw_int (fx->path, sql), 1);
    }
    const char *indexes [] = { "backend_by_flavor", "job_unfinished", "attempt_by_volume" };
    for (size_t i = 0; i < sizeof indexes / sizeof indexes [0]; i++) {
        char sql [160];
        snprintf (sql, sizeof sql, "SELECT count(*) FROM pg_indexes WHERE indexname = '%s'",
                  indexes [i]);
        assert_int_equal (fx_raw_int (fx->path, sql), 1);
    }
    store = fx_open (fx);
    assert_int_equal (xs_store_schema_version (store), XS_STORE_SCHEMA_VERSION);
    xs_store_destroy (&store);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM xensm_schema"), 1);
}

static void
test_pg_newer_schema_is_refused_untouched (void **state)
{
    FX_PG_ONLY ();
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    fx_add_flavor (store, "gold");
    xs_store_destroy (&store);
    char sql [64];
    snprintf (sql, sizeof sql, "UPDATE xensm_schema SET version = %d",
              XS_STORE_SCHEMA_VERSION + 5);
    assert_int_equal (fx_raw_exec (fx->path, sql), FX_OK);
    xs_err_t err = { 0 };
    assert_null (xs_store_new (fx->path, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "newer"));
    assert_int_equal (fx_raw_int (fx->path, "SELECT version FROM xensm_schema"),
                      XS_STORE_SCHEMA_VERSION + 5);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM flavor"), 1);
}

static void
test_pg_foreign_database_is_refused (void **state)
{
    FX_PG_ONLY ();
    fixture_t *fx = *state;
    assert_int_equal (fx_raw_exec (fx->path, "CREATE TABLE mine (x int);"
                                   " INSERT INTO mine VALUES (42)"), FX_OK);
    xs_err_t err = { 0 };
    assert_null (xs_store_new (fx->path, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "not an xensm catalog"));
    print_message ("foreign database: %s\n", err.msg);
    assert_int_equal (fx_raw_int (fx->path, "SELECT x FROM mine"), 42);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM pg_tables"
                                  " WHERE schemaname = current_schema ()"), 1);
}

static void
test_pg_password_never_in_the_uri (void **state)
{
    FX_PG_ONLY ();
    fixture_t *fx = *state;
    char uri [512];
    snprintf (uri, sizeof uri, "postgresql://xensm:s3cr3t@/%s?host=%s", fx->dbname,
              xs_test_pg_socket_dir (fx_pg ()));
    xs_err_t err = { 0 };
    assert_null (xs_store_new (uri, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, ".pgpass"));
    assert_null (strstr (err.msg, "s3cr3t"));
    snprintf (uri, sizeof uri, "%s&password=s3cr3t", fx->path);
    assert_null (xs_store_new (uri, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_null (strstr (err.msg, "s3cr3t"));
    /* Not a URI libpq can read: refused without repeating it. */
    assert_null (xs_store_new ("postgresql://xensm:s3cr3t@[bad/x", &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_null (strstr (err.msg, "s3cr3t"));
}

static void
test_pg_password_file (void **state)
{
    FX_PG_ONLY ();
    fixture_t *fx = *state;
    char file [512];
    snprintf (file, sizeof file, "%s/db.password", fx->dir);
    xs_store_options_t options = { .password_file = file };
    xs_err_t err = { 0 };
    /* Missing. */
    assert_null (xs_store_open (fx->path, &options, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, file));
    /* Readable by others. */
    s_write_file (file, "s3cr3t\n", 7, 0644);
    assert_null (xs_store_open (fx->path, &options, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "chmod 600"));
    assert_null (strstr (err.msg, "s3cr3t"));
    /* Empty. */
    s_write_file (file, "\n", 1, 0600);
    assert_null (xs_store_open (fx->path, &options, &err));
    assert_non_null (strstr (err.msg, "empty"));
    /* Right (the test server trusts its socket: the password is sent, not needed). */
    s_write_file (file, "s3cr3t\n", 7, 0600);
    xs_store_t *store = xs_store_open (fx->path, &options, &err);
    assert_non_null (store);
    fx_add_flavor (store, "gold");
    xs_store_destroy (&store);
}

static void
test_pg_lost_connection_loses_nothing_acknowledged (void **state)
{
    FX_PG_ONLY ();
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    xs_err_t err = { 0 };
    fx_add_flavor (store, "gold");

    /* A group commit in flight when the server drops the session. */
    assert_int_equal (xs_store_begin (store, &err), 0);
    fx_add_flavor (store, "silver");
    assert_true (xs_test_pg_kick (fx_pg (), fx->dbname) >= 1);
    assert_int_equal (xs_store_flavor_create (store, "bronze", NULL, &err), -1);
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "connection to the database lost"));
    assert_non_null (strstr (err.msg, "flavor bronze"));
    assert_non_null (strstr (err.msg, "rolled back"));
    print_message ("lost: %s\n", err.msg);
    /* The transaction is gone: everything in it fails, the commit too. */
    assert_true (xs_store_in_transaction (store));
    assert_int_equal (xs_store_flavor_create (store, "copper", NULL, &err), -1);
    assert_int_equal (err.kind, XS_EIO);
    assert_int_equal (xs_store_commit (store, &err), -1);
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, "nothing of it is stored"));
    print_message ("commit: %s\n", err.msg);
    assert_false (xs_store_in_transaction (store));

    /* Reconnected: nothing of the lost transaction is there, gold is. */
    assert_null (xs_store_flavor_get (store, "silver", &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    xs_flavor_t *f = xs_store_flavor_get (store, "gold", &err);
    assert_non_null (f);
    xs_flavor_destroy (&f);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM flavor"), 1);
    /* It holds the database again: a second store is refused. */
    assert_null (xs_store_new (fx->path, &err));
    assert_int_equal (err.kind, XS_ECONFLICT);

    /* Outside a transaction: the operation that sees it fails, the next works. */
    assert_true (xs_test_pg_kick (fx_pg (), fx->dbname) >= 1);
    assert_int_equal (xs_store_flavor_create (store, "silver", NULL, &err), -1);
    assert_int_equal (err.kind, XS_EIO);
    assert_false (xs_store_in_transaction (store));
    assert_true (xs_store_flavor_create (store, "silver", NULL, &err) > 0);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM flavor"), 2);

    /* The server gone for good: each call fails at once, saying so. */
    xs_test_pg_t *pg = fx_pg ();
    assert_int_equal (xs_test_pg_dropdb (pg, fx->dbname), 0);
    for (int i = 0; i < 3; i++) {
        assert_null (xs_store_flavor_get (store, "gold", &err));
        assert_int_equal (err.kind, XS_EIO);
        assert_non_null (strstr (err.msg, fx->path));
    }
    print_message ("gone: %s\n", err.msg);
    xs_store_destroy (&store);
}

static void
test_pg_locked_table_error_loses_nothing (void **state)
{
    FX_PG_ONLY ();
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    xs_err_t err = { 0 };
    fx_add_flavor (store, "gold");
    xs_store_set_busy_timeout (store, 50);

    /* Another session (an admin's psql) holds a lock on the table. */
    PGconn *other = PQconnectdb (fx->path);
    assert_int_equal (PQstatus (other), CONNECTION_OK);
    PGresult *res = PQexec (other, "BEGIN; LOCK TABLE flavor IN EXCLUSIVE MODE");
    assert_int_equal (PQresultStatus (res), PGRES_COMMAND_OK);
    PQclear (res);

    assert_int_equal (xs_store_flavor_create (store, "silver", NULL, &err), -1);
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "lock timeout"));
    assert_non_null (strstr (err.msg, "flavor silver"));
    print_message ("locked: %s\n", err.msg);
    /* Inside a group commit, the failed write undoes only itself. */
    assert_int_equal (xs_store_begin (store, &err), 0);
    assert_int_equal (xs_store_flavor_create (store, "silver", NULL, &err), -1);
    assert_true (xs_store_in_transaction (store));
    xs_host_spec_t h = { .uuid = "h-1", .zone = "z1" };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), 0);
    /* Reads of the locked table still work (EXCLUSIVE lets them). */
    xs_flavor_t *f = xs_store_flavor_get (store, "gold", &err);
    assert_non_null (f);
    xs_flavor_destroy (&f);
    assert_int_equal (xs_store_commit (store, &err), 0);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM host"), 1);

    res = PQexec (other, "ROLLBACK");
    PQclear (res);
    PQfinish (other);
    assert_true (xs_store_flavor_create (store, "silver", NULL, &err) > 0);
    xs_store_destroy (&store);
}

/* A conflict inside a group commit undoes only itself (PostgreSQL would
   abort the whole transaction without the store's savepoint per write). */
static void
test_conflict_inside_transaction_undoes_only_itself (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (store, "gold");
    assert_int_equal (xs_store_begin (store, &err), 0);
    fx_add_volume (store, "v-1", gold, 0, XS_VOLUME_CREATING, "r-1");
    assert_int_equal (xs_store_flavor_create (store, "gold", NULL, &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    xs_volume_spec_t dup = { .uuid = "v-2", .size_bytes = 1, .flavor_id = gold,
                             .state = XS_VOLUME_CREATING, .request_id = "r-1" };
    assert_int_equal (xs_store_volume_insert (store, &dup, &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_non_null (strstr (err.msg, "already used by volume v-1"));
    xs_job_spec_t orphan = { .volume_uuid = "nope", .op = "vdi_create",
                             .state = XS_JOB_PENDING };
    assert_int_equal (xs_store_job_insert (store, &orphan, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    fx_add_volume (store, "v-3", gold, 0, XS_VOLUME_CREATING, "r-3");
    assert_true (xs_store_in_transaction (store));
    assert_int_equal (xs_store_commit (store, &err), 0);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM volume"), 2);
    xs_store_destroy (&store);
}

/* Group-committed creates: the rate is printed for the record. */
static void
test_create_rate (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (store, "gold");
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    const int batches = 20, per_batch = 250;
    char uuid [64];
    for (int b = 0; b < batches; b++) {
        assert_int_equal (xs_store_begin (store, &err), 0);
        for (int i = 0; i < per_batch; i++) {
            snprintf (uuid, sizeof uuid, "v-%d-%d", b, i);
            fx_add_volume (store, uuid, gold, 0, XS_VOLUME_CREATING, uuid);
            xs_job_spec_t j = { .volume_uuid = uuid, .op = "vdi_create", .state = XS_JOB_PENDING };
            assert_true (xs_store_job_insert (store, &j, &err) > 0);
        }
        assert_int_equal (xs_store_commit (store, &err), 0);
    }
    clock_gettime (CLOCK_MONOTONIC, &t1);
    double secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    int total = batches * per_batch;
    print_message ("store: %d volume+job creates in %d commits: %.3f s (%.0f/s)\n",
                   total, batches, secs, total / secs);
    xs_store_counts_t c = { 0 };
    assert_int_equal (xs_store_counts (store, &c, &err), 0);
    assert_int_equal (c.volumes, total);
    assert_int_equal (c.jobs_unfinished, total);
    xs_store_destroy (&store);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        FX_TEST (test_new_file_is_0600_with_sidecars),
        FX_TEST (test_existing_lax_file_is_tightened),
        FX_TEST (test_migrate_empty_file_to_current),
        FX_TEST (test_migrate_1_to_2_adds_projects),
        FX_TEST (test_newer_schema_is_refused_untouched),
        FX_TEST (test_foreign_sqlite_database_is_refused),
        FX_TEST (test_garbage_file_is_refused_untouched),
        FX_TEST (test_corrupt_file_gives_clear_error),
        FX_TEST (test_second_open_is_refused),
        FX_TEST (test_unusable_paths),
        FX_TEST (test_schema_constraints),
        FX_TEST (test_transactions),
        FX_TEST (test_restart_keeps_everything),
        FX_TEST (test_locked_database_error_loses_nothing),
        FX_TEST (test_create_rate),
        FX_TEST (test_conflict_inside_transaction_undoes_only_itself),
        FX_TEST (test_pg_migrate_empty_database),
        FX_TEST (test_pg_newer_schema_is_refused_untouched),
        FX_TEST (test_pg_foreign_database_is_refused),
        FX_TEST (test_pg_password_never_in_the_uri),
        FX_TEST (test_pg_password_file),
        FX_TEST (test_pg_lost_connection_loses_nothing_acknowledged),
        FX_TEST (test_pg_locked_table_error_loses_nothing),
    };
    return cmocka_run_group_tests (tests, FX_GROUP_SETUP, FX_GROUP_TEARDOWN);
}
