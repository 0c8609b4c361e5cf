/*  Unit tests for xs_manage_print (xensm-manage's sizes and times) and
    xs_manage_parse_size, its inverse. */
#include "catalog/cli/xs_manage.h"
#include "catalog/cli/xs_manage_print.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* ---------------------------------------------------------------------
   Size parser
   --------------------------------------------------------------------- */

static void
test_sizes_accepted (void **state)
{
    static const struct { const char *text; int64_t bytes; } ok [] = {
        { "1", 1 },
        { "512", 512 },
        { "512B", 512 },
        { "1K", 1024 },
        { "1k", 1024 },
        { "1KiB", 1024 },
        { "10M", 10LL << 20 },
        { "10mib", 10LL << 20 },
        { "10G", 10LL << 30 },
        { "10GiB", 10LL << 30 },
        { "3T", 3LL << 40 },
        { "3TiB", 3LL << 40 },
        { "007G", 7LL << 30 },
        { "8388607T", 8388607LL << 40 },        /* the largest whole TiB count */
        { "9223372036854775807", INT64_MAX },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok [0]; i++) {
        int64_t bytes = 0;
        if (xs_manage_parse_size (ok [i].text, &bytes) != 0)
            fail_msg ("'%s' refused", ok [i].text);
        if (bytes != ok [i].bytes)
            fail_msg ("'%s' gave %lld, wanted %lld", ok [i].text, (long long) bytes,
                      (long long) ok [i].bytes);
    }
}

static void
test_sizes_refused (void **state)
{
    static const char *const bad [] = {
        "", "0", "0G", "-1", "-1G", "+1G", " 1G", "1G ", "1 G", "1.5G", "1e3", "G", "1GB",
        "1Gi", "1X", "0x10", "10P", "8388608T", "9223372036854775808", "99999999999999999999",
        "18446744073709551616K", "1KK", "1iB",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        int64_t bytes = 42;
        if (xs_manage_parse_size (bad [i], &bytes) == 0)
            fail_msg ("'%s' accepted as %lld", bad [i], (long long) bytes);
        assert_int_equal (bytes, 42);       /* untouched on refusal */
    }
    int64_t bytes;
    assert_int_equal (xs_manage_parse_size (NULL, &bytes), -1);
}

/* ---------------------------------------------------------------------
   Formats
   --------------------------------------------------------------------- */

static void
test_size_and_time_formats (void **state)
{
    char text [32];
    xs_manage_format_size (512, text, sizeof text);
    assert_string_equal (text, "512 B");
    xs_manage_format_size (10LL << 30, text, sizeof text);
    assert_string_equal (text, "10 GiB");
    xs_manage_format_size (3LL << 19, text, sizeof text);
    assert_string_equal (text, "1.5 MiB");
    xs_manage_format_size (INT64_MAX, text, sizeof text);
    assert_string_equal (text, "8 EiB");
    xs_manage_format_time (1764028861000, text, sizeof text);
    assert_string_equal (text, "2025-11-25 00:01:01");
    xs_manage_format_time (0, text, sizeof text);
    assert_string_equal (text, "-");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_sizes_accepted),
        cmocka_unit_test (test_sizes_refused),
        cmocka_unit_test (test_size_and_time_formats),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    return rc;
}
