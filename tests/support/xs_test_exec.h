/*  xs_test_exec: a scripted executor for tests of the agent (xs_agent).

    The test gives the script, what a fake xapi answers to each op; this
    class gives the rest every such fake needs: the xs_executor_t, calls
    counted per op, calls serialised (a script may keep plain globals), and
    held calls. A held call (one whose args name a held volume in
    volume_uuid or new_volume_uuid) waits in its worker thread, before the
    script runs, until the test releases it: a slow xapi call without the
    wall clock.

    Use: cfg.executor = &xs_test_executor; cfg.executor_arg = exec. Destroy
    the agent before the executor (xs_test_exec_destroy releases first).
*/
#ifndef XS_TEST_EXEC_H_INCLUDED
#define XS_TEST_EXEC_H_INCLUDED

#include <stdbool.h>
#include <jansson.h>

#include "hostagent/xs_executor.h"

/* What the fake xapi answers: a new JSON object, or NULL with *err. */
typedef json_t *(xs_test_script_fn) (void *arg, xs_op_t op, const json_t *args, xs_err_t *err);

typedef struct _xs_test_exec_t xs_test_exec_t;

/* The executor of every xs_test_exec_t (its executor_arg is the object). */
extern const xs_executor_t xs_test_executor;

/* A fake running `script` with `arg` (both borrowed). */
xs_test_exec_t *xs_test_exec_new (xs_test_script_fn *script, void *arg);

/* Releases held calls and frees; NULLs *self_p; idempotent. */
void xs_test_exec_destroy (xs_test_exec_t **self_p);

/* Calls of `op` run so far (XS_OP_NONE: of every op). */
int xs_test_exec_calls (xs_test_exec_t *self, xs_op_t op);

/* Holds calls for `volume` (copied) from now on. */
void xs_test_exec_hold (xs_test_exec_t *self, const char *volume);

/* Waits until a held call is waiting; false after timeout_ms. */
bool xs_test_exec_wait_held (xs_test_exec_t *self, int timeout_ms);

/* True while a held call waits. */
bool xs_test_exec_holding (xs_test_exec_t *self);

/* Lets every held call run and holds no more. */
void xs_test_exec_release (xs_test_exec_t *self);

#endif
