/*  Unit tests of xs_agent_workers, the agent's worker pool: jobs come back
    with their results, requests for one volume run one after the other
    while other work goes on, `busy` counts the requests, and every way an
    executor can fail becomes a {kind, message} payload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <czmq.h>

#include "common/xs_log.h"
#include "hostagent/xs_agent_workers.h"
#include "tests/support/xs_test_exec.h"
#include "tests/support/xs_test_loop.h"

#define S_MAX_DONE 16

/* ---------------------------------------------------------------------
   The script and the fixture
   --------------------------------------------------------------------- */

static json_t *
s_script (void *arg, xs_op_t op, const json_t *args, xs_err_t *err)
{
    const char *volume = json_string_value (json_object_get (args, "volume_uuid"));
    if (volume && streq (volume, "broken")) {
        xs_err_set (err, XS_EXAPI, "VDI.create: SR_FULL []");
        return NULL;
    }
    if (volume && streq (volume, "silent"))
        return NULL;                        /* no result, no reason */
    if (volume && streq (volume, "odd"))
        return json_pack ("[s]", "not an object");
    return json_pack ("{s:s, s:s?}", "op", xs_op_name (op), "volume", volume);
}

typedef struct {
    zloop_t *loop;
    xs_test_exec_t *exec;
    xs_agent_workers_t *workers;
    struct {
        xs_agent_job_t *job;
        bool ok;
        json_t *payload;
    } done [S_MAX_DONE];
    int ndone;
} fixture_t;

static void
s_on_done (void *arg, xs_agent_job_t *job, bool ok, json_t *payload)
{
    fixture_t *f = (fixture_t *) arg;
    assert_true (f->ndone < S_MAX_DONE);
    f->done [f->ndone].job = job;
    f->done [f->ndone].ok = ok;
    f->done [f->ndone].payload = payload;
    f->ndone++;
}

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    f->loop = zloop_new ();
    f->exec = xs_test_exec_new (s_script, NULL);
    xs_err_t err;
    f->workers = xs_agent_workers_new (2, &xs_test_executor, f->exec, &err);
    assert_non_null (f->workers);
    assert_int_equal (xs_agent_workers_watch (f->workers, f->loop, s_on_done, f), 0);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    xs_test_exec_release (f->exec);
    xs_agent_workers_unwatch (f->workers, f->loop);
    xs_agent_workers_destroy (&f->workers);
    xs_agent_workers_destroy (&f->workers);     /* idempotent */
    xs_test_exec_destroy (&f->exec);
    for (int i = 0; i < f->ndone; i++) {
        xs_agent_job_destroy (&f->done [i].job);
        json_decref (f->done [i].payload);
    }
    zloop_destroy (&f->loop);
    free (f);
    return 0;
}

/* A request job for `volume` (vdi_create, id = volume). */
static void
s_enqueue (fixture_t *f, xs_agent_jobkind_t kind, const char *volume)
{
    json_t *args = json_pack ("{s:s, s:s, s:i}", "sr_uuid", "sr-1", "volume_uuid", volume,
                              "size", 1);
    xs_agent_job_t *job = xs_agent_job_new (kind, volume, XS_OP_VDI_CREATE, args);
    json_decref (args);
    xs_agent_workers_enqueue (f->workers, &job);
    assert_null (job);
}

static int s_wanted;

static bool
s_done_count (void *arg)
{
    return ((fixture_t *) arg)->ndone >= s_wanted;
}

static void
s_wait_done (fixture_t *f, int count)
{
    s_wanted = count;
    if (!xs_test_run_until (f->loop, s_done_count, f, 10000))
        fail_msg ("%d of %d jobs done", f->ndone, count);
}

/* ---------------------------------------------------------------------
   Tests
   --------------------------------------------------------------------- */

static void
test_jobs_come_back_with_their_results (void **state)
{
    fixture_t *f = *state;
    json_t *args = json_pack ("{s:s, s:s}", "volume_uuid", "parent", "new_volume_uuid", "child");
    xs_agent_job_t *job = xs_agent_job_new (XS_AGENT_JOB_REQUEST, "r-1", XS_OP_VDI_CLONE, args);
    json_decref (args);
    /* A request's volume is the one it makes; its args travel as text. */
    assert_string_equal (job->volume, "child");
    json_t *copy = json_loads (job->args, 0, NULL);
    assert_string_equal (json_string_value (json_object_get (copy, "volume_uuid")), "parent");
    json_decref (copy);
    xs_agent_workers_enqueue (f->workers, &job);
    job = xs_agent_job_new (XS_AGENT_JOB_HOST_INFO, NULL, XS_OP_HOST_INFO, NULL);
    assert_string_equal (job->args, "{}");
    assert_null (job->volume);
    xs_agent_workers_enqueue (f->workers, &job);
    s_wait_done (f, 2);
    for (int i = 0; i < 2; i++) {
        assert_true (f->done [i].ok);
        const char *op = json_string_value (json_object_get (f->done [i].payload, "op"));
        assert_string_equal (op, xs_op_name (f->done [i].job->op));
    }
    assert_int_equal (xs_agent_workers_busy (f->workers), 0);
}

static void
test_one_volume_at_a_time_while_other_work_goes_on (void **state)
{
    fixture_t *f = *state;
    xs_test_exec_hold (f->exec, "v1");
    s_enqueue (f, XS_AGENT_JOB_REQUEST, "v1");
    s_enqueue (f, XS_AGENT_JOB_REQUEST, "v1");
    s_enqueue (f, XS_AGENT_JOB_REQUEST, "v2");
    s_enqueue (f, XS_AGENT_JOB_STATS, "v3");
    assert_true (xs_test_exec_wait_held (f->exec, 5000));
    /* v2 and the stats job pass the held v1; the second v1 waits queued
       although a worker is free. */
    s_wait_done (f, 2);
    assert_string_equal (f->done [0].job->id, "v2");
    assert_string_equal (f->done [1].job->id, "v3");
    assert_true (xs_test_exec_holding (f->exec));
    assert_int_equal (xs_agent_workers_busy (f->workers), 2);   /* requests only */
    assert_int_equal (xs_test_exec_calls (f->exec, XS_OP_VDI_CREATE), 2);
    xs_test_exec_release (f->exec);
    s_wait_done (f, 4);
    assert_string_equal (f->done [2].job->id, "v1");
    assert_string_equal (f->done [3].job->id, "v1");
    assert_int_equal (xs_agent_workers_busy (f->workers), 0);
    assert_int_equal (xs_test_exec_calls (f->exec, XS_OP_VDI_CREATE), 4);
}

static void
test_executor_failures_become_payloads (void **state)
{
    fixture_t *f = *state;
    s_enqueue (f, XS_AGENT_JOB_REQUEST, "broken");
    s_wait_done (f, 1);
    s_enqueue (f, XS_AGENT_JOB_REQUEST, "silent");
    s_wait_done (f, 2);
    s_enqueue (f, XS_AGENT_JOB_REQUEST, "odd");
    s_wait_done (f, 3);
    static const struct { const char *kind, *message; } want [] = {
        { "xapi", "VDI.create: SR_FULL []" },
        { "internal", "vdi_create: executor gave no result" },
        { "internal", "vdi_create: executor result is not an object" },
    };
    for (int i = 0; i < 3; i++) {
        assert_false (f->done [i].ok);
        assert_string_equal (json_string_value (json_object_get (f->done [i].payload, "kind")),
                             want [i].kind);
        assert_string_equal (json_string_value (json_object_get (f->done [i].payload, "message")),
                             want [i].message);
    }
}

/* An executor that cannot open (xapi down): each job fails with the reason,
   and the next job tries to open again. */
static int s_opens;

static void *
s_open_never (void *arg, xs_err_t *err)
{
    __atomic_add_fetch (&s_opens, 1, __ATOMIC_SEQ_CST);
    xs_err_set (err, XS_ETRANSPORT, "xapi unix:/nowhere: login: cannot connect");
    return NULL;
}

static void
s_close_nothing (void **ctx_p)
{
}

static const xs_executor_t s_unopenable = { "down", s_open_never, s_close_nothing, NULL };

static void
test_executor_that_cannot_open (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    xs_agent_workers_unwatch (f->workers, f->loop);
    xs_agent_workers_destroy (&f->workers);
    s_opens = 0;
    f->workers = xs_agent_workers_new (1, &s_unopenable, NULL, &err);
    assert_non_null (f->workers);
    assert_int_equal (xs_agent_workers_watch (f->workers, f->loop, s_on_done, f), 0);
    s_enqueue (f, XS_AGENT_JOB_REQUEST, "v1");
    s_wait_done (f, 1);
    assert_false (f->done [0].ok);
    assert_string_equal (json_string_value (json_object_get (f->done [0].payload, "kind")),
                         "transport");
    assert_non_null (strstr (json_string_value (json_object_get (f->done [0].payload,
                                                                  "message")), "cannot connect"));
    assert_int_equal (__atomic_load_n (&s_opens, __ATOMIC_SEQ_CST), 2);   /* start, then the job */
}

int
main (void)
{
    xs_log_init ("test_agent_workers", false, XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_jobs_come_back_with_their_results, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_one_volume_at_a_time_while_other_work_goes_on,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_executor_failures_become_payloads, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_executor_that_cannot_open, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
