/*  Unit tests for xs_log: level names and filtering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/xs_log.h"

static void
test_level_names_in_enum_order (void **state)
{
    assert_int_equal (xs_log_level_from_name ("error"), XS_LOG_ERROR);
    assert_int_equal (xs_log_level_from_name ("warning"), XS_LOG_WARNING);
    assert_int_equal (xs_log_level_from_name ("notice"), XS_LOG_NOTICE);
    assert_int_equal (xs_log_level_from_name ("info"), XS_LOG_INFO);
    assert_int_equal (xs_log_level_from_name ("debug"), XS_LOG_DEBUG);
    int n = 0;
    while (xs_log_level_names [n])
        n++;
    assert_int_equal (n, XS_LOG_DEBUG + 1);
}

static void
test_unknown_level_is_minus_one (void **state)
{
    assert_int_equal (xs_log_level_from_name (NULL), -1);
    assert_int_equal (xs_log_level_from_name (""), -1);
    assert_int_equal (xs_log_level_from_name ("DEBUG"), -1);
    assert_int_equal (xs_log_level_from_name ("verbose"), -1);
}

static void
test_enabled_follows_level (void **state)
{
    xs_log_init ("test_log", false, XS_LOG_NOTICE);
    assert_true (xs_log_enabled (XS_LOG_ERROR));
    assert_true (xs_log_enabled (XS_LOG_NOTICE));
    assert_false (xs_log_enabled (XS_LOG_INFO));
    xs_log_init ("test_log", false, XS_LOG_DEBUG);
    assert_true (xs_log_enabled (XS_LOG_DEBUG));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_level_names_in_enum_order),
        cmocka_unit_test (test_unknown_level_is_minus_one),
        cmocka_unit_test (test_enabled_follows_level),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
