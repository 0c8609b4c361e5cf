/*  store_fixture: what every store test (tests/unit/test_store*.c) sets up:
    a temporary directory with a database path in it, optionally an open
    store, helpers that add rows and fail the test when they cannot, and a
    raw read-only connection to see what is really in the file.

    Register a test with FX_TEST (a fresh directory) or FX_TEST_OPEN (a
    fresh directory and an open store), and in the test:
      fixture_t *fx = *state;
      xs_store_t *store = fx->store;
*/
#ifndef STORE_FIXTURE_H_INCLUDED
#define STORE_FIXTURE_H_INCLUDED

#include <stdint.h>

#include "catalog/store/xs_store.h"

typedef struct {
    char dir [64];              /* the test's own temporary directory      */
    char path [128];            /* <dir>/catalog.db                        */
    xs_store_t *store;          /* fx_setup_open's store; the teardown destroys it */
} fixture_t;

/* cmocka tests with the fixture: a fresh directory, or that and an open store. */
#define FX_TEST(test) cmocka_unit_test_setup_teardown (test, fx_setup, fx_teardown)
#define FX_TEST_OPEN(test) cmocka_unit_test_setup_teardown (test, fx_setup_open, fx_teardown)

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

/* One integer from a raw read-only connection (the store may be open). */
int64_t fx_raw_int (const char *path, const char *sql);

/* Runs `sql` on a raw read-write connection with foreign keys on; returns
   SQLite's primary result code. */
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
