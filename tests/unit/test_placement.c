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
    json_t *show = xs_volumes_show (f->store, fx_jstr (r.reply, "uuid"), &err);
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

/* The reason of attempt i of `attempts`, checking its backend and outcome. */
static const char *
s_attempt (json_t *attempts, size_t i, int64_t backend, const char *outcome)
{
    json_t *a = json_array_get (attempts, i);
    assert_non_null (a);
    assert_int_equal (json_integer_value (json_object_get (a, "backend_id")), backend);
    assert_string_equal (fx_jstr (a, "outcome"), outcome);
    const char *reason = fx_jstr (a, "reason");
    return reason ? reason : "";
}

static bool
s_host_has_drivers (fx_t *f, void *arg)
{
    xs_live_host_t *h = xs_hosts_get (f->hosts, (const char *) arg);
    return h && h->up && h->sm_drivers;
}

/* What the pool cannot do is skipped with the reason, never tried: a
   LUN-per-VDI type (iscsi), a zone whose hosts lack the SR type's SM
   driver (whose SR is then never created there), an SR whose capabilities
   lack VDI_CREATE. */
static void
test_unusable_backends_are_skipped_with_reasons (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "gold", "", NULL);
    int64_t lun = fx_backend_typed (f, "gold", "z1", "lun", "iscsi");
    int64_t far = fx_backend (f, "gold", "z2", "far");
    int64_t nocreate = fx_backend (f, "gold", "z1", "nocreate");
    int64_t good = fx_backend (f, "gold", "z1", "good");
    fx_start_agent (f, "h1", "z1");
    fx_start_agent (f, "nonfs-h2", "z2");
    fx_wait_ready (f, lun, 1);
    fx_wait_ready (f, nocreate, 1);
    fx_wait_ready (f, good, 1);
    assert_true (fx_run_until (f, s_host_has_drivers, (void *) "nonfs-h2", 15000));
    xs_agentsrv_reconcile (f->agents);

    fx_result_t r = fx_create (f, "gold", 1 << 20, NULL);
    if (r.failed)
        fail_msg ("create failed: %s", r.err.msg);
    assert_int_equal (json_integer_value (json_object_get (r.reply, "backend_id")), good);
    xs_err_t err;
    json_t *show = xs_volumes_show (f->store, fx_jstr (r.reply, "uuid"), &err);
    json_t *attempts = json_object_get (show, "attempts");
    assert_int_equal (json_array_size (attempts), 4);
    assert_non_null (strstr (s_attempt (attempts, 0, lun, "skipped"),
                             "SR type iscsi is LUN per VDI"));
    assert_string_equal (s_attempt (attempts, 1, far, "skipped"),
                         "no SM driver for SR type nfs on the live hosts of zone z2 "
                         "(their pool has: ext, lvm)");
    assert_string_equal (s_attempt (attempts, 2, nocreate, "skipped"),
                         "its SR (type nfs) lacks VDI_CREATE");
    s_attempt (attempts, 3, good, "ok");
    json_decref (show);
    json_decref (r.reply);
    /* Nothing was sent where it could not work: one VDI.create only, and
       the zone without the driver never created (nor attached) the SR. */
    assert_int_equal (fx_counts ().vdi_creates, 1);
    assert_int_equal (fx_counts ().sr_creates, 3);
    xs_live_host_t *h2 = xs_hosts_get (f->hosts, "nonfs-h2");
    assert_null (xs_live_sr (h2, far, false));
    xs_backend_t *b = xs_store_backend_get (f->store, far, &err);
    assert_int_equal (b->state, XS_BACKEND_NEW);
    char *why = xs_agentsrv_backend_unusable (f->agents, b);
    assert_non_null (strstr (why, "no SM driver for SR type nfs"));
    free (why);
    xs_backend_destroy (&b);
}

static bool
s_never (fx_t *f, void *arg)
{
    (void) f;
    (void) arg;
    return false;
}

/* Back-to-back creates: a volume placed on a backend counts there until
   its SR stats show it (the fixture's stats never do), a failed create is
   not counted where it failed, and a placement stops counting after the
   TTL. */
static void
test_placements_the_stats_do_not_count_yet (void **state)
{
    fx_t *f = (fx_t *) *state;
    fx_stop_catalog (f);
    f->placed_ttl_ms = 400;
    fx_start_catalog (f);
    xs_store_flavor_create (f->store, "gold", "", NULL);
    int64_t tinyfails = fx_backend (f, "gold", "z1", "tinyfails");     /* 1 MiB, fails */
    int64_t tiny = fx_backend (f, "gold", "z1", "tiny");                /* 1 MiB */
    int64_t good = fx_backend (f, "gold", "z1", "good");
    fx_start_agent (f, "h1", "z1");
    fx_wait_ready (f, tinyfails, 1);
    fx_wait_ready (f, tiny, 1);
    fx_wait_ready (f, good, 1);

    const int64_t half = 512 * 1024;
    int64_t expect [] = { tiny, tiny, good };
    for (int i = 0; i < 3; i++) {
        fx_result_t r = fx_create (f, "gold", half, NULL);
        assert_false (r.failed);
        assert_int_equal (json_integer_value (json_object_get (r.reply, "backend_id")),
                          expect [i]);
        json_t *show = xs_volumes_show (f->store, fx_jstr (r.reply, "uuid"), NULL);
        json_t *attempts = json_object_get (show, "attempts");
        /* Failed on tinyfails every time: never counted there (else the
           third would be skipped there for space). */
        s_attempt (attempts, 0, tinyfails, "failed");
        if (i == 2)     /* tiny holds two halves the stats do not show yet */
            assert_non_null (strstr (s_attempt (attempts, 1, tiny, "skipped"),
                                     "1048576 bytes allocated (with volumes placed since "
                                     "the last SR stats)"));
        json_decref (show);
        json_decref (r.reply);
    }
    /* After the TTL they no longer count: tiny takes the next one. */
    fx_run_until (f, s_never, NULL, 600);
    fx_result_t r = fx_create (f, "gold", half, NULL);
    assert_false (r.failed);
    assert_int_equal (json_integer_value (json_object_get (r.reply, "backend_id")), tiny);
    json_decref (r.reply);
}

int
main (void)
{
    xs_log_init ("test_placement", false, getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_placements_the_stats_do_not_count_yet, fx_setup,
                                         fx_teardown),
        cmocka_unit_test_setup_teardown (test_first_fit_falls_through_and_skips_full, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_no_candidate_lists_every_attempt, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_unusable_backends_are_skipped_with_reasons, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
