/*  Unit tests for xs_op: operation names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/xs_op.h"

static void
test_every_op_round_trips (void **state)
{
    for (int op = XS_OP_NONE + 1; op < XS_OP_COUNT; op++) {
        const char *name = xs_op_name ((xs_op_t) op);
        assert_string_not_equal (name, "?");
        assert_int_equal (xs_op_from_name (name), op);
    }
}

static void
test_wire_names_are_stable (void **state)
{
    /* The protocol and the plugin's functions use these names. */
    assert_string_equal (xs_op_name (XS_OP_VDI_CREATE), "vdi_create");
    assert_string_equal (xs_op_name (XS_OP_SR_ATTACH), "sr_attach");
    assert_string_equal (xs_op_name (XS_OP_HOST_INFO), "host_info");
    assert_int_equal (xs_op_from_name ("vdi_snapshot"), XS_OP_VDI_SNAPSHOT);
    assert_string_equal (xs_op_name (XS_OP_VDI_RESIZE), "vdi_resize");
}

static void
test_unknown_and_out_of_range (void **state)
{
    assert_int_equal (xs_op_from_name (NULL), XS_OP_NONE);
    assert_int_equal (xs_op_from_name (""), XS_OP_NONE);
    assert_int_equal (xs_op_from_name ("VDI_CREATE"), XS_OP_NONE);
    assert_int_equal (xs_op_from_name ("?"), XS_OP_NONE);
    assert_string_equal (xs_op_name (XS_OP_NONE), "?");
    assert_string_equal (xs_op_name (XS_OP_COUNT), "?");
    assert_string_equal (xs_op_name ((xs_op_t) -1), "?");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_every_op_round_trips),
        cmocka_unit_test (test_wire_names_are_stable),
        cmocka_unit_test (test_unknown_and_out_of_range),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
