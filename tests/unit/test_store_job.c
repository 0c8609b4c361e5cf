/*  Unit tests of the store's job journal and placement attempts
    (xs_store_job.c), and the whole-database counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"

/* ---------------------------------------------------------------------
   The job journal
   --------------------------------------------------------------------- */

static void
test_jobs (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (store, "gold");
    int64_t b1 = fx_add_backend (store, "gold", "z1");
    int64_t b2 = fx_add_backend (store, "gold", "z1");
    fx_add_volume (store, "vol-1", gold, 0, XS_VOLUME_CREATING, NULL);
    fx_add_volume (store, "vol-2", gold, 0, XS_VOLUME_CREATING, NULL);

    xs_job_spec_t j = { .volume_uuid = "vol-1", .op = "vdi_create",
                   .args = "{\"size\":1048576}", .state = XS_JOB_PENDING };
    int64_t j1 = xs_store_job_insert (store, &j, &err);
    assert_true (j1 > 0);
    j.volume_uuid = "vol-2";
    int64_t j2 = xs_store_job_insert (store, &j, &err);
    j = (xs_job_spec_t) { .op = "sr_attach", .state = XS_JOB_DISPATCHED, .backend_id = b1,
                     .host_uuid = "h-1" };
    int64_t j3 = xs_store_job_insert (store, &j, &err);
    assert_true (j1 < j2 && j2 < j3);
    j.volume_uuid = "ghost";
    assert_int_equal (xs_store_job_insert (store, &j, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    j = (xs_job_spec_t) { .op = "" };
    assert_int_equal (xs_store_job_insert (store, &j, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);

    xs_job_t **jobs = xs_store_job_list_unfinished (store, &err);
    assert_int_equal (xs_rows_list_size (jobs), 3);
    assert_int_equal (jobs [0]->id, j1);
    assert_string_equal (jobs [0]->args, "{\"size\":1048576}");
    assert_int_equal (jobs [2]->backend_id, b1);
    assert_null (jobs [2]->volume_uuid);
    xs_job_list_destroy (&jobs);

    xs_job_spec_t upd = { .state = XS_JOB_DONE, .backend_id = b2, .host_uuid = "h-2",
                          .result = "{\"vdi_uuid\":\"vdi-1\"}" };
    assert_int_equal (xs_store_job_update (store, j1, &upd, &err), 0);
    xs_job_t *got = xs_store_job_get (store, j1, &err);
    assert_int_equal (got->state, XS_JOB_DONE);
    assert_int_equal (got->backend_id, b2);
    assert_string_equal (got->host_uuid, "h-2");
    assert_string_equal (got->result, "{\"vdi_uuid\":\"vdi-1\"}");
    assert_null (got->error);
    xs_job_destroy (&got);
    upd = (xs_job_spec_t) { .state = XS_JOB_FAILED, .backend_id = b1, .host_uuid = "h-1",
                            .error = "agent lost" };
    assert_int_equal (xs_store_job_update (store, j3, &upd, &err), 0);
    assert_int_equal (xs_store_job_update (store, 999, &upd, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_null (xs_store_job_get (store, 999, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);

    jobs = xs_store_job_list_unfinished (store, &err);
    assert_int_equal (xs_rows_list_size (jobs), 1);
    assert_int_equal (jobs [0]->id, j2);
    xs_job_list_destroy (&jobs);
    jobs = xs_store_job_list_by_volume (store, "vol-1", &err);
    assert_int_equal (xs_rows_list_size (jobs), 1);
    assert_int_equal (jobs [0]->state, XS_JOB_DONE);
    xs_job_list_destroy (&jobs);

    xs_store_counts_t counts = { 0 };
    assert_int_equal (xs_store_counts (store, &counts, &err), 0);
    assert_int_equal (counts.flavors, 1);
    assert_int_equal (counts.backends, 2);
    assert_int_equal (counts.hosts, 0);
    assert_int_equal (counts.volumes, 2);
    assert_int_equal (counts.volumes_live, 2);
    assert_int_equal (counts.jobs_unfinished, 1);
}

/* ---------------------------------------------------------------------
   Placement attempts
   --------------------------------------------------------------------- */

static void
test_attempts (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (store, "gold");
    int64_t b1 = fx_add_backend (store, "gold", "z1");
    int64_t b2 = fx_add_backend (store, "gold", "z1");
    fx_add_volume (store, "vol-1", gold, 0, XS_VOLUME_CREATING, NULL);
    fx_add_volume (store, "vol-2", gold, 0, XS_VOLUME_CREATING, NULL);
    /* Attempts, in the order they were made. */
    xs_attempt_spec_t a = { .volume_uuid = "vol-1", .backend_id = b1,
                       .outcome = XS_ATTEMPT_SKIPPED, .reason = "not enough space" };
    assert_true (xs_store_attempt_insert (store, &a, &err) > 0);
    a = (xs_attempt_spec_t) { .volume_uuid = "vol-1", .backend_id = b2, .host_uuid = "h-2",
                         .outcome = XS_ATTEMPT_FAILED, .reason = "SR_BACKEND_FAILURE_44", .at = 5 };
    assert_true (xs_store_attempt_insert (store, &a, &err) > 0);
    a = (xs_attempt_spec_t) { .volume_uuid = "vol-1", .backend_id = b2, .outcome = XS_ATTEMPT_OK };
    assert_true (xs_store_attempt_insert (store, &a, &err) > 0);
    a.volume_uuid = "ghost";
    assert_int_equal (xs_store_attempt_insert (store, &a, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);

    xs_attempt_t **attempts = xs_store_attempt_list_by_volume (store, "vol-1", &err);
    assert_int_equal (xs_rows_list_size (attempts), 3);
    assert_int_equal (attempts [0]->outcome, XS_ATTEMPT_SKIPPED);
    assert_string_equal (attempts [0]->reason, "not enough space");
    assert_null (attempts [0]->host_uuid);
    assert_int_equal (attempts [1]->outcome, XS_ATTEMPT_FAILED);
    assert_string_equal (attempts [1]->host_uuid, "h-2");
    assert_int_equal (attempts [1]->at, 5);
    assert_int_equal (attempts [2]->outcome, XS_ATTEMPT_OK);
    assert_null (attempts [2]->reason);
    xs_attempt_list_destroy (&attempts);
    attempts = xs_store_attempt_list_by_volume (store, "vol-2", &err);
    assert_int_equal (xs_rows_list_size (attempts), 0);
    xs_attempt_list_destroy (&attempts);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        FX_TEST_OPEN (test_jobs),
        FX_TEST_OPEN (test_attempts),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
