/*  store_fixture: what every store test (tests/unit/test_store*.c) sets up:
    a temporary directory with a database path in it, optionally an open
    store, helpers that add rows and fail the test when they cannot, and a
    raw connection to see what is really in the database.

    Every store test runs against both stores: XENSM_TEST_DB=pg (ctest
    label pg) starts a real PostgreSQL server for the executable
    (tests/support/xs_test_pg) and gives each test a database of its own,
    fx->path being its URI; otherwise (label sqlite) fx->path is a file.
    Register the group with FX_GROUP_SETUP/FX_GROUP_TEARDOWN, and begin a
    test that is about the SQLite file itself with FX_SQLITE_ONLY (), one
    about PostgreSQL with FX_PG_ONLY ().

    Register a test with FX_TEST (a fresh directory) or FX_TEST_OPEN (a
    fresh directory and an open store), and in the test:
      fixture_t *fx = *state;
      xs_store_t *store = fx->store;
*/
#ifndef STORE_FIXTURE_H_INCLUDED
#define STORE_FIXTURE_H_INCLUDED

#include <stdint.h>
#include <sys/types.h>

#include <stdbool.h>

#include "catalog/store/xs_store.h"
#include "tests/support/xs_test_pg.h"

typedef struct {
    char dir [64];              /* the test's own temporary directory      */
    char path [256];            /* <dir>/catalog.db, or the database's URI */
    char dbname [64];           /* PostgreSQL: the test's database         */
    xs_store_t *store;          /* fx_setup_open's store; the teardown destroys it */
} fixture_t;

/* cmocka tests with the fixture: a fresh directory, or that and an open store. */
#define FX_TEST(test) cmocka_unit_test_setup_teardown (test, fx_setup, fx_teardown)
#define FX_TEST_OPEN(test) cmocka_unit_test_setup_teardown (test, fx_setup_open, fx_teardown)

/* cmocka group setup and teardown: start and stop the PostgreSQL server
   when XENSM_TEST_DB=pg. */
int fx_group_setup (void **state);
int fx_group_teardown (void **state);
#define FX_GROUP_SETUP fx_group_setup
#define FX_GROUP_TEARDOWN fx_group_teardown

/* True when the tests run against PostgreSQL. */
bool fx_is_pg (void);

/* The PostgreSQL server of the run (NULL on SQLite). */
xs_test_pg_t *fx_pg (void);

#define FX_SQLITE_ONLY() do { if (fx_is_pg ()) { skip (); return; } } while (0)
#define FX_PG_ONLY() do { if (!fx_is_pg ()) { skip (); return; } } while (0)

/* The primary result codes fx_raw_exec returns (SQLite's values). */
/* Copies path+suffix ("", "-wal", ".lock") to to+suffix, as a crash at
   this moment would leave it on disk (nothing, and no stale copy, when the
   source is missing). */
void fx_copy_file (const char *path, const char *suffix, const char *to);

/* A file's mode bits (fails the test when it is missing). */
unsigned fx_file_mode (const char *path);

/* A file's bytes (caller frees; *size_p their count). */
char *fx_slurp (const char *path, size_t *size_p);

/* Writes a file of `size` bytes with mode `mode`. */
void fx_write_file (const char *path, const void *data, size_t size, mode_t mode);

#define FX_OK 0
#define FX_ERROR 1
#define FX_CONSTRAINT 19

/* A fresh temporary directory, no store. */
int fx_setup (void **state);

/* A fresh temporary directory and a store open on fx->path. */
int fx_setup_open (void **state);

/* Destroys fx->store, removes the directory and everything in it. */
int fx_teardown (void **state);

/* Opens a store on fx->path or fails the test. The caller destroys it. */
xs_store_t *fx_open (fixture_t *fx);

/* Closes fx->store and opens it again (a restart); returns the new one. */
xs_store_t *fx_reopen (fixture_t *fx);

/* One integer from a raw read-only connection (the store may be open);
   -1 when there is no row. */
int64_t fx_raw_int (const char *path, const char *sql);

/* Runs `sql` on a raw read-write connection with foreign keys on; returns
   FX_OK, FX_CONSTRAINT or another SQLite primary result code. */
int fx_raw_exec (const char *path, const char *sql);

/* Adds flavor `label` ("desc") and returns its id, or fails the test. */
int64_t fx_add_flavor (xs_store_t *store, const char *label);

/* Adds an nfs backend of flavor `flavor` in `zone` with two config keys
   (server, serverpath) and returns its id, or fails the test. */
int64_t fx_add_backend (xs_store_t *store, const char *flavor, const char *zone);

/* Inserts a 1 MiB volume, or fails the test. */
void fx_add_volume (xs_store_t *store, const char *uuid, int64_t flavor, int64_t backend,
                    xs_volume_state_t state, const char *request_id);

#endif
