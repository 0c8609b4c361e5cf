/*  test_create_cost: what one volume create costs in the store, from the
    request to the answer after the agent made the VDI, against the real
    catalog classes and a real agent (catalog_fixture). The cost is counted
    in round trips to the store (xs_store_round_trips: a read answered
    from the transaction's cache (xs_store_cache.c) is none, a group of
    writes sent as one pipeline is one). On PostgreSQL
    each statement was a round trip on catalogd's one loop, and 14 of them
    per create made it 3x slower than SQLite (bench/results.md, "3 catalog
    on PostgreSQL: where a create goes"): flavor, backend and its config
    read for every create, the job inserted then updated in the same
    commit, the volume read back twice for the answer. This keeps them
    from coming back.

    Creates arrive S_BATCH at a time, in one loop pass, as they do under
    load; each figure is the least of a few batches (heartbeats run
    statements meanwhile).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "catalog_fixture.h"
#include "common/xs_log.h"

#define S_BATCH 8
#define S_ROUNDS 3
/* Round trips per create, batched (4.5 when this was written: insert
   the volume, insert the job, the made VDI's writes and read-back as one,
   and each pass's BEGIN, COMMIT and first flavor read shared by the
   batch; 14 and more before, bench/results.md). */
#define S_MAX_PER_CREATE 5.0

static bool
s_all_done (fx_t *f, void *arg)
{
    fx_result_t *r = (fx_result_t *) arg;
    for (int i = 0; i < S_BATCH; i++)
        if (!r [i].done)
            return false;
    return true;
}

/* The reply of a create is the volume as stored (it is no longer read
   back to build it), its job done on the host that made it, one attempt. */
static void
s_check_created (fx_t *f, json_t *reply)
{
    const char *uuid = fx_jstr (reply, "uuid");
    assert_non_null (uuid);
    assert_string_equal (fx_jstr (reply, "state"), "available");
    xs_volume_t *v = xs_store_volume_get (f->store, uuid, NULL);
    assert_non_null (v);
    json_t *stored = xs_volume_view (f->store, v, NULL);
    assert_true (json_equal (stored, reply));
    json_decref (stored);
    xs_job_t **jobs = xs_store_job_list_by_volume (f->store, uuid, NULL);
    assert_int_equal (xs_rows_list_size (jobs), 1);
    assert_int_equal (jobs [0]->state, XS_JOB_DONE);
    assert_string_equal (jobs [0]->host_uuid, v->host_uuid);
    assert_non_null (jobs [0]->result);
    xs_job_list_destroy (&jobs);
    xs_attempt_t **attempts = xs_store_attempt_list_by_volume (f->store, uuid, NULL);
    assert_int_equal (xs_rows_list_size (attempts), 1);
    assert_int_equal (attempts [0]->outcome, XS_ATTEMPT_OK);
    assert_int_equal (attempts [0]->backend_id, v->backend_id);
    xs_attempt_list_destroy (&attempts);
    xs_volume_destroy (&v);
}

/* Statements of one batch of S_BATCH creates, all answered. */
static uint64_t
s_batch (fx_t *f, int round)
{
    fx_result_t r [S_BATCH];
    char ids [S_BATCH][32];
    memset (r, 0, sizeof r);
    uint64_t before = xs_store_round_trips (f->store);
    for (int i = 0; i < S_BATCH; i++) {
        snprintf (ids [i], sizeof ids [i], "cost-%d-%d", round, i);
        xs_volume_request_t req = {.flavor = "gold", .size = 4096, .name = "vol",
                                   .request_id = ids [i]};
        xs_reply_t *reply = fx_reply (&r [i]);
        xs_volumes_create (f->volumes, &req, &reply);
        assert_null (reply);
    }
    assert_true (fx_run_until (f, s_all_done, r, 10000));
    uint64_t n = xs_store_round_trips (f->store) - before;
    for (int i = 0; i < S_BATCH; i++) {
        if (r [i].failed)
            fail_msg ("create %d: %s", i, r [i].err.msg);
        s_check_created (f, r [i].reply);
        json_decref (r [i].reply);
    }
    return n;
}

static void
test_statements_per_create (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "gold", "", NULL);
    int64_t b = fx_backend (f, "gold", "z1", "one");
    fx_start_agent (f, "h1", "z1");
    fx_wait_ready (f, b, 1);
    s_batch (f, 0);                     /* warm: statements prepared */
    uint64_t least = UINT64_MAX;
    for (int round = 1; round <= S_ROUNDS; round++) {
        uint64_t n = s_batch (f, round);
        if (n < least)
            least = n;
    }
    double per_create = (double) least / S_BATCH;
    print_message ("store round trips per create (batches of %d): %.2f\n", S_BATCH, per_create);
    if (per_create > S_MAX_PER_CREATE)
        fail_msg ("a create costs %.2f store round trips (at most %.1f): a read or write "
                  "per create came back", per_create, S_MAX_PER_CREATE);
}

int
main (void)
{
    xs_log_init ("test_create_cost", false,
                 getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_statements_per_create, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
