/*  Unit tests of the store's PostgreSQL driver alone: the schema in the
    database, refusals of what is not a catalog, the password never in the
    URI, a lost connection, a held lock. They run as unit.store_pg.pg on a
    real PostgreSQL server (skipped on SQLite). */
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
    fx_write_file (file, "s3cr3t\n", 7, 0644);
    assert_null (xs_store_open (fx->path, &options, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "chmod 600"));
    assert_null (strstr (err.msg, "s3cr3t"));
    /* Empty. */
    fx_write_file (file, "\n", 1, 0600);
    assert_null (xs_store_open (fx->path, &options, &err));
    assert_non_null (strstr (err.msg, "empty"));
    /* Right (the test server trusts its socket: the password is sent, not needed). */
    fx_write_file (file, "s3cr3t\n", 7, 0600);
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

int
main (void)
{
    const struct CMUnitTest tests [] = {
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
