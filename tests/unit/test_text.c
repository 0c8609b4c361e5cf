/*  Unit tests for xs_text: the one check for text from outside. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/xs_text.h"

static void
test_plain_text_passes (void **state)
{
    xs_err_t err;
    assert_int_equal (xs_text_check ("flavor label", "gold", 255, 0, &err), 0);
    assert_int_equal (xs_text_check ("flavor label", "Not all that glitters = é ✓", 255, 0,
                                     &err), 0);
}

static void
test_empty_refused_unless_allowed (void **state)
{
    xs_err_t err;
    assert_int_equal (xs_text_check ("flavor label", "", 255, 0, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_string_equal (err.msg, "flavor label: must not be empty");
    assert_int_equal (xs_text_check ("description", "", 255, XS_TEXT_MAY_BE_EMPTY, &err), 0);
}

static void
test_too_long_named (void **state)
{
    xs_err_t err;
    char text [300];
    memset (text, 'a', sizeof text - 1);
    text [sizeof text - 1] = '\0';
    assert_int_equal (xs_text_check ("volume name", text, 255, 0, &err), -1);
    assert_string_equal (err.msg, "volume name: longer than 255 bytes");
    text [255] = '\0';
    assert_int_equal (xs_text_check ("volume name", text, 255, 0, &err), 0);
}

static void
test_control_characters_named_with_position (void **state)
{
    xs_err_t err;
    assert_int_equal (xs_text_check ("volume name", "ab\x01", 255, 0, &err), -1);
    assert_string_equal (err.msg, "volume name: control character 0x01 at byte 2 not allowed");
    assert_int_equal (xs_text_check ("volume name", "a\x7f", 255, 0, &err), -1);
    assert_non_null (strstr (err.msg, "0x7f at byte 1"));
    assert_int_equal (xs_text_check ("volume name", "tab\there", 255, 0, &err), -1);
}

static void
test_invalid_utf8_refused (void **state)
{
    xs_err_t err;
    assert_int_equal (xs_text_check ("request id", "bad\xff", 255, 0, &err), -1);
    assert_string_equal (err.msg, "request id: not valid UTF-8");
    assert_int_equal (xs_text_check ("request id", "\xc0\x80", 255, 0, &err), -1);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_plain_text_passes),
        cmocka_unit_test (test_empty_refused_unless_allowed),
        cmocka_unit_test (test_too_long_named),
        cmocka_unit_test (test_control_characters_named_with_position),
        cmocka_unit_test (test_invalid_utf8_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
