/*  Unit tests of the SQLite catalog's durability around its files: a
    running catalog holds the file alone (another program is told it is
    locked), a write-ahead log deleted under it or after a crash. SQLite
    only (skipped as unit.store_wal.pg). */
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

static void
test_locked_database_error_loses_nothing (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    xs_err_t err = { 0 };
    fx_add_flavor (store, "gold");

    /* Another program (say, an admin's sqlite3 shell) can neither take the
       write lock nor read while the catalog holds the file: it is told the
       database is locked, and the catalog goes on. */
    sqlite3 *other = NULL;
    assert_int_equal (sqlite3_open_v2 (fx->path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    int rc = sqlite3_exec (other, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    assert_int_equal (rc & 0xff, SQLITE_BUSY);
    rc = sqlite3_exec (other, "SELECT count(*) FROM flavor", NULL, NULL, NULL);
    assert_int_equal (rc & 0xff, SQLITE_BUSY);
    sqlite3_exec (other, "ROLLBACK", NULL, NULL, NULL);
    assert_true (xs_store_flavor_create (store, "silver", NULL, &err) > 0);
    xs_backend_spec_t spec = { .flavor_label = "gold", .zone = "z", .sr_type = "nfs" };
    assert_true (xs_store_backend_add (store, &spec, &err) > 0);
    xs_flavor_t **list = xs_store_flavor_list (store, &err);
    assert_int_equal (xs_rows_list_size (list), 2);
    xs_flavor_list_destroy (&list);
    xs_store_destroy (&store);
    /* Closed, the catalog is everybody's to read, with all of it. */
    sqlite3_stmt *st = NULL;
    assert_int_equal (sqlite3_prepare_v2 (other, "SELECT count(*) FROM flavor", -1, &st, NULL),
                      SQLITE_OK);
    assert_int_equal (sqlite3_step (st), SQLITE_ROW);
    assert_int_equal (sqlite3_column_int (st, 0), 2);
    sqlite3_finalize (st);
    sqlite3_close (other);
}

static int64_t
s_flavor_count (xs_store_t *store)
{
    xs_err_t err = { 0 };
    xs_flavor_t **list = xs_store_flavor_list (store, &err);
    assert_non_null (list);
    int64_t n = (int64_t) xs_rows_list_size (list);
    xs_flavor_list_destroy (&list);
    return n;
}

/* The write-ahead log deleted under a running catalog: commits went on into
   a file nobody could find, and a crash lost them all (fault campaign D14:
   77 of 400). Now the next transaction checkpoints the deleted log into the
   database and starts a new one: a crash image holds every commit. */
static void
test_deleted_wal_while_open_loses_nothing (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    fx_add_flavor (store, "before");
    char p [512];
    snprintf (p, sizeof p, "%s-wal", fx->path);
    assert_int_equal (unlink (p), 0);
    snprintf (p, sizeof p, "%s-shm", fx->path);
    unlink (p);
    fx_add_flavor (store, "after");
    fx_add_flavor (store, "later");
    char crash [512];
    snprintf (crash, sizeof crash, "%s.crash", fx->path);
    fx_copy_file (fx->path, "", crash);
    fx_copy_file (fx->path, "-wal", crash);
    xs_store_destroy (&store);
    xs_err_t err = { 0 };
    xs_store_t *image = xs_store_new (crash, &err);
    assert_non_null (image);
    assert_int_equal (s_flavor_count (image), 3);
    xs_store_destroy (&image);
}

/* A catalog killed with its log deleted afterwards lost what the log held
   (D14: 200 of 200, silently). Now it is refused, naming the file, unless
   accepted; after a clean close the log holds nothing and may go. */
static void
test_lost_wal_after_a_crash_is_refused (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    xs_store_t *store = fx_open (fx);
    fx_add_flavor (store, "gold");
    char crash [512], wal [600];
    snprintf (crash, sizeof crash, "%s.crash", fx->path);
    fx_copy_file (fx->path, "", crash);
    fx_copy_file (fx->path, ".lock", crash);        /* says "open" */
    xs_store_destroy (&store);
    snprintf (wal, sizeof wal, "%s-wal", crash);
    assert_int_not_equal (access (wal, F_OK), 0);   /* the log was not copied */

    xs_err_t err = { 0 };
    assert_null (xs_store_new (crash, &err));
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, wal));
    assert_non_null (strstr (err.msg, "--accept-lost-wal"));
    xs_store_options_t accept = { .accept_lost_wal = true };
    xs_store_t *image = xs_store_open (crash, &accept, &err);
    assert_non_null (image);
    xs_store_destroy (&image);

    /* Closed cleanly: the log is checkpointed, deleting it loses nothing. */
    store = fx_open (fx);
    xs_store_destroy (&store);
    snprintf (wal, sizeof wal, "%s-wal", fx->path);
    unlink (wal);
    store = fx_open (fx);
    assert_int_equal (s_flavor_count (store), 1);
    xs_store_destroy (&store);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        FX_TEST (test_locked_database_error_loses_nothing),
        FX_TEST (test_deleted_wal_while_open_loses_nothing),
        FX_TEST (test_lost_wal_after_a_crash_is_refused),
    };
    return cmocka_run_group_tests (tests, FX_GROUP_SETUP, FX_GROUP_TEARDOWN);
}
