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

static void
test_misleading_characters_refused (void **state)
{
    xs_err_t err;
    /* U+202E (right-to-left override), U+200B (zero-width space), U+0085
       (next line), U+FEFF, U+2066 (isolate): each named with its byte. */
    static const struct { const char *text; const char *msg; } bad [] = {
        { "gold\xe2\x80\xae", "flavor label: invisible or direction-changing character "
                               "U+202E at byte 4 not allowed" },
        { "go\xe2\x80\x8bld", "flavor label: invisible or direction-changing character "
                               "U+200B at byte 2 not allowed" },
        { "a\xc2\x85" "b", "flavor label: invisible or direction-changing character U+0085 "
                          "at byte 1 not allowed" },
        { "\xef\xbb\xbfgold", "flavor label: invisible or direction-changing character "
                               "U+FEFF at byte 0 not allowed" },
        { "x\xe2\x81\xa6y", "flavor label: invisible or direction-changing character "
                            "U+2066 at byte 1 not allowed" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (xs_text_check ("flavor label", bad [i].text, 255, 0, &err), -1);
        assert_string_equal (err.msg, bad [i].msg);
    }
    /* Visible letters of any script pass, also 4-byte ones. */
    assert_int_equal (xs_text_check ("flavor label", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d "
                                     "\xf0\x9f\x92\xbe", 255, 0, &err), 0);
}

static void
test_blank_refused_unless_may_be_empty (void **state)
{
    xs_err_t err;
    assert_int_equal (xs_text_check ("flavor label", "   ", 255, 0, &err), -1);
    assert_string_equal (err.msg, "flavor label: must not be blank");
    assert_int_equal (xs_text_check ("flavor label", " a ", 255, 0, &err), 0);
    assert_int_equal (xs_text_check ("description", "  ", 255, XS_TEXT_MAY_BE_EMPTY, &err),
                      0);
}

static void
test_names (void **state)
{
    xs_err_t err;
    static const char *const good [] = { "za", "zone-1", "Pool_A.dc2", "9" };
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++)
        assert_int_equal (xs_text_check_name ("zone", good [i], 64, &err), 0);
    assert_int_equal (xs_text_check_name ("zone", "a b", 64, &err), -1);
    assert_string_equal (err.msg, "zone 'a b': byte 1 not allowed (letters, digits, and "
                         "after the first . _ -)");
    assert_int_equal (xs_text_check_name ("zone", "z\xc3\xa9", 64, &err), -1);
    assert_int_equal (xs_text_check_name ("zone", "-za", 64, &err), -1);
    assert_int_equal (xs_text_check_name ("zone", "", 64, &err), -1);
    assert_string_equal (err.msg, "zone: must not be empty");
    char longer [80];
    memset (longer, 'z', sizeof longer - 1);
    longer [sizeof longer - 1] = '\0';
    assert_int_equal (xs_text_check_name ("zone", longer, 64, &err), -1);
    assert_string_equal (err.msg, "zone: longer than 64 bytes");
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
        cmocka_unit_test (test_misleading_characters_refused),
        cmocka_unit_test (test_blank_refused_unless_may_be_empty),
        cmocka_unit_test (test_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
