/*  Unit tests for xensm-manage's pieces that need no catalog: the volume
    size parser. (The commands themselves run against a real catalogd in
    tests/integration.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "catalog/xs_manage.h"

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
        "18446744073709551616K",
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

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_sizes_accepted),
        cmocka_unit_test (test_sizes_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
