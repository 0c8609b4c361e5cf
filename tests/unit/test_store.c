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
    assert_int_equal (fx_file_mode (fx->path), 0600);
    snprintf (p, sizeof p, "%s-wal", fx->path);
    assert_int_equal (fx_file_mode (p), 0600);
    /* No -shm: the WAL index is in the process (exclusive locking), never
       a mapped file whose page faults die with SIGBUS when it cannot be
       written (fault campaign D10: chattr +i on the three files). */
    snprintf (p, sizeof p, "%s-shm", fx->path);
    assert_int_not_equal (access (p, F_OK), 0);
    snprintf (p, sizeof p, "%s.lock", fx->path);
    assert_int_equal (fx_file_mode (p), 0600);
    xs_store_destroy (&store);
    assert_null (store);
    xs_store_destroy (&store);          /* idempotent */

    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal (sqlite3_open_v2 (fx->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_step (st), SQLITE_ROW);
    assert_string_equal ((const char *) sqlite3_column_text (st, 0), "wal");
    sqlite3_finalize (st);
    sqlite3_close (db);
}

static void
test_existing_lax_file_is_tightened (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    xs_store_destroy (&store);
    assert_int_equal (chmod (fx->path, 0644), 0);
    store = fx_open (fx);
    assert_int_equal (fx_file_mode (fx->path), 0600);
    xs_store_destroy (&store);
}

/* A zero-length file is a lost or truncated catalog, not a new one: it was
   started as an empty catalog and written to (fault campaign D12). */
static void
test_empty_file_is_refused_untouched (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    fx_write_file (fx->path, "", 0, 0600);
    xs_err_t err = { 0 };
    xs_store_t *store = xs_store_new (fx->path, &err);
    assert_null (store);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "empty (0 bytes)"));
    struct stat sb;
    assert_int_equal (stat (fx->path, &sb), 0);
    assert_int_equal (sb.st_size, 0);
}

static void
test_migrate_empty_file_to_current (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    unlink (fx->path);                  /* made by the store: version 0 */
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

/* Marks fx's catalog as schema `version`, as each store writes it. */
static void
s_mark_version (fixture_t *fx, int version)
{
    char sql [200];
    if (fx_is_pg ())
        snprintf (sql, sizeof sql, "CREATE TABLE xensm_schema (version BIGINT NOT NULL);"
                  "INSERT INTO xensm_schema VALUES (%d)", version);
    else
        snprintf (sql, sizeof sql, "PRAGMA user_version = %d; "
                  "PRAGMA application_id = 2020830531;", version);
    assert_int_equal (fx_raw_exec (fx->path, sql), FX_OK);
}

/* A catalog made by the schema steps below `version` (as each store
   writes them), holding what `sql` inserts, opened by the store: migrated
   to the latest version. */
static xs_store_t *
s_open_migrated (fixture_t *fx, int version, const char *sql)
{
    const char *const *steps = fx_is_pg () ? xs_pg_migrations : xs_sql_migrations;
    for (int v = 0; v < version; v++)
        assert_int_equal (fx_raw_exec (fx->path, steps [v]), FX_OK);
    assert_int_equal (fx_raw_exec (fx->path, sql), FX_OK);
    s_mark_version (fx, version);
    xs_store_t *store = fx_open (fx);
    assert_int_equal (xs_store_schema_version (store), XS_STORE_SCHEMA_VERSION);
    return store;
}

/* Asserts that the catalog has index `name`. */
static void
s_assert_index (fixture_t *fx, const char *name)
{
    char sql [160];
    snprintf (sql, sizeof sql, fx_is_pg ()
              ? "SELECT count(*) FROM pg_indexes WHERE indexname = '%s'"
              : "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = '%s'", name);
    assert_int_equal (fx_raw_int (fx->path, sql), 1);
}

/* Schema 1 -> 2 (projects): a volume of a version 1 catalog keeps
   everything and belongs to project "". */
static void
test_migrate_1_to_2_adds_projects (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open_migrated (fx, 1,
        "INSERT INTO flavor (label, created_at) VALUES ('gold', 1);"
        "INSERT INTO volume (uuid, name, size_bytes, flavor_id, state, created_at, updated_at)"
        " VALUES ('vol-1', 'old', 1024, 1, 'available', 1, 1);");
    xs_err_t err = { 0 };
    xs_volume_t *v = xs_store_volume_get (store, "vol-1", &err);
    assert_non_null (v);
    assert_string_equal (v->name, "old");
    assert_string_equal (v->project, "");
    xs_volume_destroy (&v);
    xs_store_destroy (&store);
    s_assert_index (fx, "volume_by_project");
}

/* Schema 2 -> 3 (extend's states): every volume, its jobs and attempts
   stay (SQLite rebuilds the table: nothing may cascade), in the same
   order; the new states and sizes can be written. */
static void
test_migrate_2_to_3_adds_extend_states (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open_migrated (fx, 2,
        "INSERT INTO flavor (label, created_at) VALUES ('gold', 1);"
        "INSERT INTO volume (uuid, name, size_bytes, flavor_id, state, created_at, updated_at,"
        " project) VALUES ('vol-b', 'first', 1024, 1, 'available', 1, 1, 'p1');"
        "INSERT INTO volume (uuid, name, size_bytes, flavor_id, state, created_at, updated_at)"
        " VALUES ('vol-a', 'second', 2048, 1, 'error', 2, 2);"
        "INSERT INTO job (volume_uuid, op, state, created_at, updated_at)"
        " VALUES ('vol-b', 'vdi_create', 'done', 1, 1);"
        "INSERT INTO attempt (volume_uuid, backend_id, outcome, at)"
        " VALUES ('vol-b', 1, 'ok', 1);");
    xs_err_t err = { 0 };
    xs_volume_t **list = xs_store_volume_list (store, true, &err);
    assert_non_null (list);
    assert_int_equal (xs_rows_list_size (list), 2);
    assert_string_equal (list [0]->uuid, "vol-b");      /* creation order kept */
    assert_string_equal (list [0]->project, "p1");
    assert_int_equal (list [1]->size_bytes, 2048);
    xs_volume_list_destroy (&list);
    xs_job_t **jobs = xs_store_job_list_by_volume (store, "vol-b", &err);
    assert_non_null (jobs);
    assert_int_equal (xs_rows_list_size (jobs), 1);
    xs_job_list_destroy (&jobs);
    xs_attempt_t **attempts = xs_store_attempt_list_by_volume (store, "vol-b", &err);
    assert_non_null (attempts);
    assert_int_equal (xs_rows_list_size (attempts), 1);
    xs_attempt_list_destroy (&attempts);
    /* The new states, and a new size. */
    assert_int_equal (xs_store_volume_set_state (store, "vol-b", XS_VOLUME_EXTENDING, NULL, &err),
                      0);
    assert_int_equal (xs_store_volume_set_size (store, "vol-b", 4096, XS_VOLUME_AVAILABLE, NULL,
                                                &err), 0);
    assert_int_equal (xs_store_volume_set_state (store, "vol-a", XS_VOLUME_ERROR_EXTENDING,
                                                 "no room", &err), 0);
    xs_volume_t *v = xs_store_volume_get (store, "vol-b", &err);
    assert_int_equal (v->size_bytes, 4096);
    assert_int_equal (v->state, XS_VOLUME_AVAILABLE);
    xs_volume_destroy (&v);
    v = xs_store_volume_get (store, "vol-a", &err);
    assert_int_equal (v->state, XS_VOLUME_ERROR_EXTENDING);
    assert_string_equal (v->error, "no room");
    xs_volume_destroy (&v);
    assert_int_equal (xs_store_volume_set_size (store, "vol-x", 1, XS_VOLUME_AVAILABLE, NULL,
                                                &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_int_equal (xs_store_volume_set_size (store, "vol-a", -1, XS_VOLUME_AVAILABLE, NULL,
                                                &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    /* Foreign keys are on again: a job of an unknown volume is refused. */
    xs_job_spec_t orphan = {.volume_uuid = "vol-x", .op = "vdi_create",
                            .state = XS_JOB_PENDING};
    assert_true (xs_store_job_insert (store, &orphan, &err) < 0);
    xs_store_destroy (&store);
    s_assert_index (fx, "volume_by_project");
}

/* Schema 5 -> 6: the volumes still `creating` have an index of their
   own, which the start-up's query (xs_store_volume_list_creating) pages
   through in uuid order, snapshots included, nothing else. */
static void
test_migrate_5_to_6_indexes_creating (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open_migrated (fx, 5,
        "INSERT INTO flavor (label, created_at) VALUES ('gold', 1);"
        "INSERT INTO volume (uuid, size_bytes, flavor_id, state, created_at, updated_at)"
        " VALUES ('vol-c', 1, 1, 'creating', 1, 1), ('vol-a', 1, 1, 'available', 1, 1),"
        " ('vol-b', 1, 1, 'creating', 2, 2), ('vol-d', 1, 1, 'deleted', 3, 3);"
        "INSERT INTO volume (uuid, size_bytes, flavor_id, state, parent_uuid, created_at,"
        " updated_at) VALUES ('vol-e', 1, 1, 'creating', 'vol-a', 4, 4);");
    xs_err_t err = { 0 };
    xs_volume_t **page = xs_store_volume_list_creating (store, "", 2, &err);
    assert_non_null (page);
    assert_int_equal (xs_rows_list_size (page), 2);
    assert_string_equal (page [0]->uuid, "vol-b");
    assert_string_equal (page [1]->uuid, "vol-c");
    xs_volume_list_destroy (&page);
    page = xs_store_volume_list_creating (store, "vol-c", 2, &err);
    assert_int_equal (xs_rows_list_size (page), 1);
    assert_string_equal (page [0]->uuid, "vol-e");
    xs_volume_list_destroy (&page);
    xs_store_destroy (&store);
    s_assert_index (fx, "volume_creating");
}

/* Schema 6 -> 7: the creates that ended in error have an index of their
   own; xs_store_volume_list_errors reads those rows, oldest first, all
   projects' or one's. */
static void
test_migrate_6_to_7_indexes_errors (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open_migrated (fx, 6,
        "INSERT INTO flavor (label, created_at) VALUES ('gold', 1);"
        "INSERT INTO volume (uuid, size_bytes, flavor_id, state, request_id, project,"
        " created_at, updated_at) VALUES"
        " ('vol-late', 1, 1, 'error', 'req-1', 'p1', 5, 5),"
        " ('vol-early', 1, 1, 'error', 'req-2', 'p2', 2, 2),"
        " ('vol-tie', 1, 1, 'error', 'req-3', 'p1', 2, 2),"
        " ('vol-ok', 1, 1, 'available', 'req-4', 'p1', 1, 1),"
        " ('vol-gone', 1, 1, 'deleted', 'req-5', 'p1', 1, 1);"
        "INSERT INTO volume (uuid, size_bytes, flavor_id, state, project, created_at,"
        " updated_at) VALUES ('vol-admin', 1, 1, 'error', 'p1', 1, 1);");
    xs_err_t err = { 0 };
    xs_volume_t **list = xs_store_volume_list_errors (store, NULL, &err);
    assert_non_null (list);
    assert_int_equal (xs_rows_list_size (list), 3);
    assert_string_equal (list [0]->uuid, "vol-early");
    assert_string_equal (list [1]->uuid, "vol-tie");
    assert_string_equal (list [2]->uuid, "vol-late");
    assert_string_equal (list [2]->request_id, "req-1");
    xs_volume_list_destroy (&list);
    list = xs_store_volume_list_errors (store, "p1", &err);
    assert_int_equal (xs_rows_list_size (list), 2);
    assert_string_equal (list [0]->uuid, "vol-tie");
    assert_string_equal (list [1]->uuid, "vol-late");
    xs_volume_list_destroy (&list);
    list = xs_store_volume_list_errors (store, "nobody", &err);
    assert_int_equal (xs_rows_list_size (list), 0);
    xs_volume_list_destroy (&list);
    xs_store_destroy (&store);
    s_assert_index (fx, "volume_error");
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
    char *before = fx_slurp (fx->path, &n1);
    xs_err_t err = { 0 };
    store = xs_store_new (fx->path, &err);
    assert_null (store);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "newer"));
    char *after = fx_slurp (fx->path, &n2);
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
    assert_int_equal (fx_file_mode (fx->path), 0644);       /* not ours: not even chmod */
}

static void
test_garbage_file_is_refused_untouched (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    char garbage [8192];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage [i] = (char) ("not a database at all! " [i % 23]);
    fx_write_file (fx->path, garbage, sizeof garbage, 0600);
    xs_err_t err = { 0 };
    xs_store_t *store = xs_store_new (fx->path, &err);
    assert_null (store);
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "not a database"));
    print_message ("garbage file: %s\n", err.msg);
    size_t n;
    char *after = fx_slurp (fx->path, &n);
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
    char *data = fx_slurp (fx->path, &n);
    assert_true (n > 8 * 4096);
    /* The flavor table's root page (the schema's migrations rebuild tables,
       so its rows are not simply the last pages). */
    int64_t root = fx_raw_int (fx->path, "SELECT rootpage FROM sqlite_schema"
                                         " WHERE name = 'flavor'");
    assert_true (root > 1 && (size_t) root * 4096 <= n);

    /* Scribble over it. The store still opens; reading flavors fails cleanly. */
    char *copy = malloc (n);
    memcpy (copy, data, n);
    memset (copy + (root - 1) * 4096, 0xA5, 4096);
    fx_write_file (fx->path, copy, n, 0600);
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
    fx_write_file (fx->path, copy, n, 0600);
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
        FX_TEST (test_empty_file_is_refused_untouched),
        FX_TEST (test_migrate_empty_file_to_current),
        FX_TEST (test_migrate_1_to_2_adds_projects),
        FX_TEST (test_migrate_2_to_3_adds_extend_states),
        FX_TEST (test_migrate_5_to_6_indexes_creating),
        FX_TEST (test_migrate_6_to_7_indexes_errors),
        FX_TEST (test_newer_schema_is_refused_untouched),
        FX_TEST (test_foreign_sqlite_database_is_refused),
        FX_TEST (test_garbage_file_is_refused_untouched),
        FX_TEST (test_corrupt_file_gives_clear_error),
        FX_TEST (test_second_open_is_refused),
        FX_TEST (test_unusable_paths),
        FX_TEST (test_schema_constraints),
        FX_TEST (test_transactions),
        FX_TEST (test_restart_keeps_everything),
        FX_TEST (test_create_rate),
        FX_TEST (test_conflict_inside_transaction_undoes_only_itself),
    };
    return cmocka_run_group_tests (tests, FX_GROUP_SETUP, FX_GROUP_TEARDOWN);
}
