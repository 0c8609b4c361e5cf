/*  Unit tests for xs_err. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/xs_err.h"

static void
test_set_fills_kind_and_message (void **state)
{
    xs_err_t err;
    xs_err_clear (&err);
    assert_int_equal (xs_err_set (&err, XS_ENOTFOUND, "flavor %s: not found", "gold"), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "flavor gold: not found");
}

static void
test_set_with_null_is_harmless (void **state)
{
    assert_int_equal (xs_err_set (NULL, XS_EIO, "x"), -1);
    assert_int_equal (xs_err_prefix (NULL, "y"), -1);
}

static void
test_prefix_adds_context (void **state)
{
    xs_err_t err;
    xs_err_set (&err, XS_EXAPI, "SR_BACKEND_FAILURE_73 [NFS mount error]");
    xs_err_prefix (&err, "backend %d", 3);
    assert_string_equal (err.msg, "backend 3: SR_BACKEND_FAILURE_73 [NFS mount error]");
    assert_int_equal (err.kind, XS_EXAPI);
}

static void
test_long_message_is_truncated_not_overflowed (void **state)
{
    char big [4096];
    memset (big, 'a', sizeof big - 1);
    big [sizeof big - 1] = '\0';
    xs_err_t err;
    xs_err_set (&err, XS_EINVAL, "%s", big);
    assert_int_equal (strlen (err.msg), XS_ERR_MSG_MAX - 1);
    xs_err_prefix (&err, "ctx");
    assert_int_equal (strlen (err.msg), XS_ERR_MSG_MAX - 1);
    assert_memory_equal (err.msg, "ctx: ", 5);
}

static void
test_kind_names_round_trip (void **state)
{
    for (int k = XS_OK; k <= XS_EINTERNAL; k++)
        assert_int_equal (xs_errkind_from_name (xs_errkind_name ((xs_errkind_t) k)), k);
    assert_int_equal (xs_errkind_from_name ("no-such-kind"), XS_EINTERNAL);
    assert_int_equal (xs_errkind_from_name (NULL), XS_EINTERNAL);
    assert_string_equal (xs_errkind_name ((xs_errkind_t) 999), "internal");
}

static void
test_exit_codes (void **state)
{
    assert_int_equal (xs_errkind_exit_code (XS_OK), 0);
    assert_int_equal (xs_errkind_exit_code (XS_EINVAL), 2);
    assert_int_equal (xs_errkind_exit_code (XS_ENOTFOUND), 2);
    assert_int_equal (xs_errkind_exit_code (XS_ECONFLICT), 1);
    assert_int_equal (xs_errkind_exit_code (XS_EIO), 1);
    assert_int_equal (xs_errkind_exit_code (XS_EXAPI), 1);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_set_fills_kind_and_message),
        cmocka_unit_test (test_set_with_null_is_harmless),
        cmocka_unit_test (test_prefix_adds_context),
        cmocka_unit_test (test_long_message_is_truncated_not_overflowed),
        cmocka_unit_test (test_kind_names_round_trip),
        cmocka_unit_test (test_exit_codes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
