/*  Unit tests for xs_placement (driven through xs_volumes_create, as the
    catalog does): first fit in backend id order, skipping full and
    unattached backends, falling through on failure, and naming every
    attempt when nothing can take the volume. */
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

static void
test_first_fit_falls_through_and_skips_full (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "gold", "", NULL);
    xs_store_flavor_create (f->store, "silver", "", NULL);
    int64_t tiny = fx_backend (f, "gold", "z1", "tiny");
    int64_t fails = fx_backend (f, "gold", "z1", "fails");
    int64_t good = fx_backend (f, "gold", "z1", "good");
    int64_t silver = fx_backend (f, "silver", "z1", "silverone");
    fx_start_agent (f, "h1", "z1");
    fx_wait_ready (f, tiny, 1);
    fx_wait_ready (f, fails, 1);
    fx_wait_ready (f, good, 1);
    fx_wait_ready (f, silver, 1);

    fx_result_t r = fx_create (f, "gold", 1073741824LL, NULL);
    if (r.failed)
        fail_msg ("create failed: %s", r.err.msg);
    assert_string_equal (fx_jstr (r.reply, "state"), "available");
    assert_int_equal (json_integer_value (json_object_get (r.reply, "backend_id")), good);
    xs_err_t err;
    json_t *show = xs_volumes_show (f->volumes, fx_jstr (r.reply, "uuid"), &err);
    json_t *attempts = json_object_get (show, "attempts");
    assert_int_equal (json_array_size (attempts), 3);
    json_t *a0 = json_array_get (attempts, 0), *a1 = json_array_get (attempts, 1),
           *a2 = json_array_get (attempts, 2);
    assert_int_equal (json_integer_value (json_object_get (a0, "backend_id")), tiny);
    assert_string_equal (fx_jstr (a0, "outcome"), "skipped");
    assert_non_null (strstr (fx_jstr (a0, "reason"), "no space"));
    assert_int_equal (json_integer_value (json_object_get (a1, "backend_id")), fails);
    assert_string_equal (fx_jstr (a1, "outcome"), "failed");
    assert_non_null (strstr (fx_jstr (a1, "reason"), "SR_BACKEND_FAILURE_78"));
    assert_int_equal (json_integer_value (json_object_get (a2, "backend_id")), good);
    assert_string_equal (fx_jstr (a2, "outcome"), "ok");
    json_decref (show);
    json_decref (r.reply);

    /* The flavor drives placement: silver goes to silver's backend. */
    r = fx_create (f, "silver", 1024, NULL);
    assert_false (r.failed);
    assert_int_equal (json_integer_value (json_object_get (r.reply, "backend_id")), silver);
    json_decref (r.reply);
}

static void
test_no_candidate_lists_every_attempt (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "bronze", "", NULL);
    int64_t fails = fx_backend (f, "bronze", "z1", "fails");
    int64_t lonely = fx_backend (f, "bronze", "z9", "lonely");
    fx_start_agent (f, "h1", "z1");
    fx_wait_ready (f, fails, 1);
    fx_result_t r = fx_create (f, "bronze", 4096, NULL);
    assert_true (r.failed);
    assert_int_equal (r.err.kind, XS_ECONFLICT);
    char b1 [64], b2 [64];
    snprintf (b1, sizeof b1, "backend %lld failed", (long long) fails);
    snprintf (b2, sizeof b2, "backend %lld skipped", (long long) lonely);
    assert_non_null (strstr (r.err.msg, b1));
    assert_non_null (strstr (r.err.msg, b2));
    assert_non_null (strstr (r.err.msg, "SR_BACKEND_FAILURE_78"));
    /* The volume row says error, with the same reasons. */
    xs_volume_t **vols = xs_store_volume_list (f->store, false, NULL);
    assert_int_equal (xs_rows_list_size (vols), 1);
    assert_int_equal (vols [0]->state, XS_VOLUME_ERROR);
    assert_non_null (strstr (vols [0]->error, b1));
    xs_volume_list_destroy (&vols);
    /* Unknown flavor and bad size: clear errors, no row. */
    r = fx_create (f, "platinum", 4096, NULL);
    assert_true (r.failed);
    assert_int_equal (r.err.kind, XS_ENOTFOUND);
    r = fx_create (f, "bronze", 0, NULL);
    assert_true (r.failed);
    assert_int_equal (r.err.kind, XS_EINVAL);
}


int
main (void)
{
    xs_log_init ("test_placement", false, getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_first_fit_falls_through_and_skips_full, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_no_candidate_lists_every_attempt, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
