/*  manage_fixture: runs xensm-manage (xs_manage_run) in the test process
    against a fake catalog (tests/support/xs_fake_catalog) on an inproc
    endpoint, with its stdout and stderr captured, and checks the requests
    the fake received. Shared by test_manage*.c; cmocka asserts inside.

    Ownership: manage_setup makes the fixture (*state) and manage_teardown
    frees it, with the catalog, the temp dir and the last run's output.
*/
#ifndef MANAGE_FIXTURE_H_INCLUDED
#define MANAGE_FIXTURE_H_INCLUDED

#include <jansson.h>

#include "xs_fake_catalog.h"

typedef struct {
    xs_fake_catalog_t *catalog;
    const char *endpoint;       /* the catalog's (borrowed from it)      */
    char dir [64];              /* a temp dir for the test's files       */
    char *out, *err;            /* the last run's stdout and stderr      */
} manage_fixture_t;

/* cmocka setup and teardown: a new fixture in *state, and its end. */
int manage_setup (void **state);
int manage_teardown (void **state);

/* The fake catalog's answer to every later request: `result` (JSON object
   text) as a success, or an error of `kind` with `message`. */
void manage_reply_ok (manage_fixture_t *f, const char *result);
void manage_reply_error (manage_fixture_t *f, const char *kind, const char *message);

/* Runs `xensm-manage --endpoint <fake> ARGS...` (NULL-terminated). `answer`
   is the terminal's input for a prompt, or NULL when stdin is not a
   terminal. Keeps stdout and stderr in f->out, f->err. Returns the exit
   code. */
int manage_run (manage_fixture_t *f, const char *answer, ...);

/* The requests the fake catalog received since the last call, as a JSON
   array of request objects (caller decrefs). */
json_t *manage_take (manage_fixture_t *f);

/* Asserts that exactly one request was sent: command `cmd` with exactly the
   arguments `args` (JSON text), in a version 1 envelope. */
void manage_assert_sent (manage_fixture_t *f, const char *cmd, const char *args);

/* Asserts that no request was sent since the last check. */
void manage_assert_nothing_sent (manage_fixture_t *f);

/* Asserts that `text` (may be NULL) contains `part`. */
void assert_contains (const char *text, const char *part);

#endif
