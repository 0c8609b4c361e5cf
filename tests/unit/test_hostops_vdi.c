/*  Unit tests of xs_hostops' VDI operations against a real peer: the xapi
    simulator (hostops_fixture), one pool of two hosts. Every operation, its
    idempotence, its refusals and the XenAPI error it keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/xs_log.h"
#include "host/xs_hostops.h"
#include "tests/support/xs_test_proc.h"
#include "tests/support/xs_test_xapisim.h"

#include "hostops_fixture.h"

/* ---------------------------------------------------------------------
   VDIs
   --------------------------------------------------------------------- */

static void
test_vdi_life_cycle_is_repeatable (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char sr [64];
    hx_new_sr (f, "nfs", hx_nfs_config ("/sr/vdis"), sr);

    json_t *vdi = xs_hostops_vdi_create (f->ops, sr, VOL_A, GIB, "data", &err);
    if (!vdi)
        fail_msg ("vdi_create: %s", err.msg);
    assert_true (hx_bool (vdi, "created"));
    assert_string_equal (hx_str (vdi, "volume_uuid"), VOL_A);
    assert_string_equal (hx_str (vdi, "sr_uuid"), sr);
    assert_int_equal (json_integer_value (json_object_get (vdi, "size")), GIB);
    char vdi_uuid [64];
    snprintf (vdi_uuid, sizeof vdi_uuid, "%s", hx_str (vdi, "vdi_uuid"));
    json_decref (vdi);
    /* As xapi holds it: named for the volume, tagged, described. */
    json_t *dump = xs_test_xapisim_dump (hx_sim);
    json_t *record = xs_test_xapisim_vdi_of (dump, VOL_A);
    assert_non_null (record);
    assert_string_equal (hx_str (record, "name_label"), "xensm-" VOL_A);
    assert_string_equal (hx_str (record, "name_description"), "data");
    json_decref (dump);

    /* Repeated: the same VDI, not a second one. */
    vdi = xs_hostops_vdi_create (f->ops, sr, VOL_A, GIB, "data", &err);
    assert_non_null (vdi);
    assert_false (hx_bool (vdi, "created"));
    assert_string_equal (hx_str (vdi, "vdi_uuid"), vdi_uuid);
    json_decref (vdi);
    vdi = xs_hostops_vdi_find (f->ops, VOL_A, sr, &err);
    assert_non_null (vdi);
    assert_string_equal (hx_str (vdi, "vdi_uuid"), vdi_uuid);
    assert_false (hx_bool (vdi, "is_a_snapshot"));
    json_decref (vdi);

    /* Snapshot and clone, each repeatable. */
    for (int round = 0; round < 2; round++) {
        json_t *snap = xs_hostops_vdi_snapshot (f->ops, VOL_A, VOL_B, sr, &err);
        if (!snap)
            fail_msg ("vdi_snapshot: %s", err.msg);
        assert_true (hx_bool (snap, "created") == (round == 0));
        assert_true (hx_bool (snap, "snapshot"));
        assert_true (hx_bool (snap, "is_a_snapshot"));
        assert_string_equal (hx_str (snap, "parent_volume_uuid"), VOL_A);
        assert_string_equal (hx_str (snap, "volume_uuid"), VOL_B);
        json_decref (snap);
        json_t *clone = xs_hostops_vdi_clone (f->ops, VOL_B, VOL_C, NULL, &err);
        if (!clone)
            fail_msg ("vdi_clone: %s", err.msg);
        assert_true (hx_bool (clone, "created") == (round == 0));
        assert_false (hx_bool (clone, "snapshot"));
        json_decref (clone);
    }
    /* The snapshot is its own volume's VDI now, not its parent's. */
    vdi = xs_hostops_vdi_find (f->ops, VOL_A, NULL, &err);
    assert_string_equal (hx_str (vdi, "vdi_uuid"), vdi_uuid);
    json_decref (vdi);

    /* Destroyed once; destroying again finds nothing to do. */
    const char *volumes [] = { VOL_C, VOL_B, VOL_A };
    for (int i = 0; i < 3; i++) {
        json_t *gone = xs_hostops_vdi_destroy (f->ops, volumes [i], sr, &err);
        assert_non_null (gone);
        assert_int_equal (json_integer_value (json_object_get (gone, "destroyed")), 1);
        json_decref (gone);
        gone = xs_hostops_vdi_destroy (f->ops, volumes [i], NULL, &err);
        assert_non_null (gone);
        assert_int_equal (json_integer_value (json_object_get (gone, "destroyed")), 0);
        json_decref (gone);
    }
    assert_null (xs_hostops_vdi_find (f->ops, VOL_A, sr, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    char expect [200];
    snprintf (expect, sizeof expect, "volume " VOL_A ": no VDI found in SR %s", sr);
    assert_string_equal (err.msg, expect);
}

static void
test_vdi_refusals (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char sr [64], other [64];
    hx_new_sr (f, "nfs", hx_nfs_config ("/sr/r1"), sr);
    hx_new_sr (f, "nfs", hx_nfs_config ("/sr/r2"), other);

    assert_null (xs_hostops_vdi_create (f->ops, sr, VOL_D, 0, NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_string_equal (err.msg, "volume " VOL_D ": size 0 is not a positive number of bytes");
    /* Default description. */
    json_t *vdi = xs_hostops_vdi_create (f->ops, sr, VOL_D, GIB, NULL, &err);
    assert_non_null (vdi);
    json_decref (vdi);
    json_t *dump = xs_test_xapisim_dump (hx_sim);
    assert_string_equal (hx_str (xs_test_xapisim_vdi_of (dump, VOL_D), "name_description"),
                         "xensm volume " VOL_D);
    json_decref (dump);
    /* The volume has a VDI in another SR: an earlier attempt's whose
       outcome was lost (D5). It goes; the VDI is made in `other`. */
    json_t *first = xs_hostops_vdi_find (f->ops, VOL_D, sr, &err);
    assert_non_null (first);
    vdi = xs_hostops_vdi_create (f->ops, other, VOL_D, GIB, NULL, &err);
    if (!vdi)
        fail_msg ("vdi_create in the other SR: %s", err.msg);
    assert_string_equal (hx_str (vdi, "sr_uuid"), other);
    assert_true (json_is_true (json_object_get (vdi, "created")));
    assert_null (xs_hostops_vdi_find (f->ops, VOL_D, sr, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    json_decref (vdi);
    json_decref (first);
    /* A copy needs a new uuid; a missing parent is not found. */
    assert_null (xs_hostops_vdi_clone (f->ops, VOL_D, VOL_D, NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_null (xs_hostops_vdi_snapshot (f->ops, VOL_F, VOL_E, NULL, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_non_null (strstr (err.msg, "(cannot snapshot it)"));
    /* An unknown SR: not found for find, nothing to destroy for destroy. */
    assert_null (xs_hostops_vdi_find (f->ops, VOL_D, VOL_F, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    json_t *gone = xs_hostops_vdi_destroy (f->ops, VOL_D, VOL_F, &err);
    assert_non_null (gone);
    assert_int_equal (json_integer_value (json_object_get (gone, "destroyed")), 0);
    json_decref (gone);
    gone = xs_hostops_vdi_destroy (f->ops, VOL_D, other, &err);
    json_decref (gone);
}

/* The orphan sweep's two operations: vdi_list shows the tagged VDIs of
   one SR (a copy's parent too); vdi_destroy naming a VDI removes it only
   while it is still tagged with that volume in that SR. */
static void
test_sweep_list_and_reap (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char sr [64], other [64];
    hx_new_sr (f, "nfs", hx_nfs_config ("/sr/w1"), sr);
    hx_new_sr (f, "nfs", hx_nfs_config ("/sr/w2"), other);
    json_t *a = xs_hostops_vdi_create (f->ops, sr, VOL_A, GIB, NULL, &err);
    json_t *b = xs_hostops_vdi_snapshot (f->ops, VOL_A, VOL_B, sr, &err);
    json_t *c = xs_hostops_vdi_create (f->ops, other, VOL_C, GIB, NULL, &err);
    assert_true (a && b && c);
    json_t *list = xs_hostops_vdi_list (f->ops, sr, &err);
    assert_non_null (list);
    json_t *vdis = json_object_get (list, "vdis");
    assert_int_equal (json_array_size (vdis), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_array_get (vdis, i);
        bool is_b = strcmp (hx_str (v, "volume_uuid"), VOL_B) == 0;
        assert_string_equal (hx_str (v, "vdi_uuid"), hx_str (is_b ? b : a, "vdi_uuid"));
        if (is_b)
            assert_string_equal (hx_str (v, "parent_uuid"), VOL_A);
    }
    json_decref (list);
    assert_null (xs_hostops_vdi_list (f->ops, VOL_F, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    /* Not tagged with that volume, or not in that SR: left alone. */
    const char *vdi_a = hx_str (a, "vdi_uuid");
    assert_null (xs_hostops_vdi_reap (f->ops, VOL_B, sr, vdi_a, &err));
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_null (xs_hostops_vdi_reap (f->ops, VOL_A, other, vdi_a, &err));
    assert_int_equal (err.kind, XS_ECONFLICT);
    json_t *found = xs_hostops_vdi_find (f->ops, VOL_A, sr, &err);
    assert_non_null (found);
    json_decref (found);
    json_t *gone = xs_hostops_vdi_reap (f->ops, VOL_A, sr, vdi_a, &err);
    assert_non_null (gone);
    assert_int_equal (json_integer_value (json_object_get (gone, "destroyed")), 1);
    json_decref (gone);
    gone = xs_hostops_vdi_reap (f->ops, VOL_A, sr, vdi_a, &err);
    assert_non_null (gone);
    assert_int_equal (json_integer_value (json_object_get (gone, "destroyed")), 0);
    json_decref (gone);
    assert_null (xs_hostops_vdi_find (f->ops, VOL_A, sr, &err));
    json_decref (a);
    json_decref (b);
    json_decref (c);
    /* The simulator outlives the test: the volumes go. */
    json_decref (xs_hostops_vdi_destroy (f->ops, VOL_B, sr, &err));
    json_decref (xs_hostops_vdi_destroy (f->ops, VOL_C, other, &err));
}

/* An SR type without VDI_CLONE: refused as xapi would, with its code. */
static void
test_copy_without_capability_is_refused_with_xapis_code (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char sr [64];
    hx_new_sr (f, "iscsi", json_pack ("{s:s, s:s}", "target", "t", "targetIQN", "iqn"), sr);
    json_t *stats = xs_hostops_sr_stats (f->ops, sr, &err);
    assert_non_null (stats);
    assert_true (hx_bool (stats, "lun_per_vdi"));        /* RawISCSISR */
    json_decref (stats);
    json_t *vdi = xs_hostops_vdi_create (f->ops, sr, VOL_E, GIB, NULL, &err);
    if (!vdi)
        fail_msg ("vdi_create: %s", err.msg);
    json_decref (vdi);
    assert_null (xs_hostops_vdi_clone (f->ops, VOL_E, VOL_F, sr, &err));
    assert_int_equal (err.kind, XS_ECONFLICT);
    char expect [300];
    snprintf (expect, sizeof expect,
              "volume " VOL_F ": cannot clone volume " VOL_E ": SR %s (type iscsi) does not "
              "support VDI_CLONE", sr);
    assert_string_equal (err.msg, expect);
    assert_string_equal (xs_hostops_error_code (f->ops), "SR_OPERATION_NOT_SUPPORTED");
    const xs_value_t *params = xs_hostops_error_params (f->ops);
    assert_int_equal (xs_value_size (params), 2);
    assert_string_equal (xs_value_str (xs_value_at (params, 0)), sr);
    assert_string_equal (xs_value_str (xs_value_at (params, 1)), "VDI_CLONE");
    json_t *gone = xs_hostops_vdi_destroy (f->ops, VOL_E, sr, &err);
    json_decref (gone);
}

/* vdi_resize grows the volume's VDI, repeats as a no-op, refuses on an SR
   type without VDI_RESIZE with xapi's code, and never touches a VDI that
   is not tagged as the volume's. */
static void
test_vdi_resize (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char sr [64], lun_sr [64];
    hx_new_sr (f, "nfs", hx_nfs_config ("/sr/resize"), sr);
    json_t *vdi = xs_hostops_vdi_create (f->ops, sr, VOL_A, GIB, NULL, &err);
    assert_non_null (vdi);
    json_decref (vdi);
    json_t *r = xs_hostops_vdi_resize (f->ops, VOL_A, 3 * GIB, NULL, &err);
    if (!r)
        fail_msg ("vdi_resize: %s", err.msg);
    assert_int_equal (json_integer_value (json_object_get (r, "virtual_size")), 3 * GIB);
    assert_int_equal (json_integer_value (json_object_get (r, "previous_size")), GIB);
    assert_true (json_is_true (json_object_get (r, "resized")));
    assert_string_equal (json_string_value (json_object_get (r, "sr_uuid")), sr);
    json_decref (r);
    /* Repeated, or asked smaller: left as it is (xapi never shrinks). */
    r = xs_hostops_vdi_resize (f->ops, VOL_A, 2 * GIB, sr, &err);
    assert_non_null (r);
    assert_false (json_is_true (json_object_get (r, "resized")));
    assert_int_equal (json_integer_value (json_object_get (r, "virtual_size")), 3 * GIB);
    json_decref (r);
    /* Bad size; a volume without a VDI. */
    assert_null (xs_hostops_vdi_resize (f->ops, VOL_A, 0, NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_null (xs_hostops_vdi_resize (f->ops, VOL_B, GIB, NULL, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    /* xapi's failure is kept (no space left). */
    static const char *const params [] = { "", "There is insufficient space", "", NULL };
    xs_test_xapisim_fail (hx_sim, "VDI.resize", 1, false, "SR_BACKEND_FAILURE_44", params);
    assert_null (xs_hostops_vdi_resize (f->ops, VOL_A, 4 * GIB, NULL, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (err.msg, "volume " VOL_A ": VDI.resize failed: SR_BACKEND_FAILURE_44 "
                                  "[, There is insufficient space, ]");
    assert_string_equal (xs_hostops_error_code (f->ops), "SR_BACKEND_FAILURE_44");
    /* A LUN-per-VDI SR has no VDI_RESIZE: refused before xapi is asked. */
    hx_new_sr (f, "iscsi", json_pack ("{s:s, s:s}", "target", "t", "targetIQN", "iqn.rs"), lun_sr);
    vdi = xs_hostops_vdi_create (f->ops, lun_sr, VOL_C, GIB, NULL, &err);
    if (!vdi)
        fail_msg ("vdi_create: %s", err.msg);
    json_decref (vdi);
    assert_null (xs_hostops_vdi_resize (f->ops, VOL_C, 2 * GIB, NULL, &err));
    assert_int_equal (err.kind, XS_ECONFLICT);
    char expect [300];
    snprintf (expect, sizeof expect, "volume " VOL_C ": cannot extend: SR %s (type iscsi) does "
              "not support VDI_RESIZE", lun_sr);
    assert_string_equal (err.msg, expect);
    assert_string_equal (xs_hostops_error_code (f->ops), "SR_OPERATION_NOT_SUPPORTED");
    const xs_value_t *p = xs_hostops_error_params (f->ops);
    assert_string_equal (xs_value_str (xs_value_at (p, 0)), lun_sr);
    assert_string_equal (xs_value_str (xs_value_at (p, 1)), "VDI_RESIZE");
    json_decref (xs_hostops_vdi_destroy (f->ops, VOL_C, NULL, &err));
    json_decref (xs_hostops_vdi_destroy (f->ops, VOL_A, NULL, &err));
}

/* A XenAPI failure keeps its code and params until the next operation. */
static void
test_xapi_failure_is_kept_until_the_next_operation (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char sr [64];
    hx_new_sr (f, "nfs", hx_nfs_config ("/sr/full"), sr);
    static const char *const params [] = { "", "There is insufficient space", "", NULL };
    xs_test_xapisim_fail (hx_sim, "VDI.create", 1, false, "SR_BACKEND_FAILURE_44", params);
    assert_null (xs_hostops_vdi_create (f->ops, sr, VOL_F, GIB, NULL, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (err.msg, "volume " VOL_F ": VDI.create failed: SR_BACKEND_FAILURE_44 "
                                  "[, There is insufficient space, ]");
    assert_string_equal (xs_hostops_error_code (f->ops), "SR_BACKEND_FAILURE_44");
    assert_string_equal (xs_value_str (xs_value_at (xs_hostops_error_params (f->ops), 1)),
                         "There is insufficient space");
    /* The next operation succeeds and forgets it. */
    json_t *vdi = xs_hostops_vdi_create (f->ops, sr, VOL_F, GIB, NULL, &err);
    assert_non_null (vdi);
    json_decref (vdi);
    assert_null (xs_hostops_error_code (f->ops));
    assert_null (xs_hostops_error_params (f->ops));
    json_t *gone = xs_hostops_vdi_destroy (f->ops, VOL_F, NULL, &err);
    json_decref (gone);
}


int
main (void)
{
    xs_log_init ("test_hostops_vdi", false, getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_vdi_life_cycle_is_repeatable, hx_setup, hx_teardown),
        cmocka_unit_test_setup_teardown (test_vdi_refusals, hx_setup, hx_teardown),
        cmocka_unit_test_setup_teardown (test_sweep_list_and_reap, hx_setup, hx_teardown),
        cmocka_unit_test_setup_teardown (test_copy_without_capability_is_refused_with_xapis_code,
                                         hx_setup, hx_teardown),
        cmocka_unit_test_setup_teardown (test_vdi_resize, hx_setup, hx_teardown),
        cmocka_unit_test_setup_teardown (test_xapi_failure_is_kept_until_the_next_operation,
                                         hx_setup, hx_teardown),
    };
    return cmocka_run_group_tests (tests, hx_group_setup, hx_group_teardown);
}
