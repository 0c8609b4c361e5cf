/*  Unit tests for xs_redact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/xs_redact.h"

static void
test_known_secret_keys (void **state)
{
    const char *secret [] = { "password", "chappassword", "incoming_chappassword",
                              "cifspassword", "PASSWORD", "api_secret", "SecretKey" };
    for (size_t i = 0; i < sizeof secret / sizeof secret [0]; i++) {
        assert_true (xs_redact_is_secret (secret [i]));
        assert_string_equal (xs_redact_value (secret [i], "hunter2"), XS_REDACTED);
    }
}

static void
test_plain_keys_pass_through (void **state)
{
    const char *plain [] = { "server", "serverpath", "chapuser", "username", "target", "pass" };
    for (size_t i = 0; i < sizeof plain / sizeof plain [0]; i++) {
        assert_false (xs_redact_is_secret (plain [i]));
        assert_string_equal (xs_redact_value (plain [i], "v=1"), "v=1");
    }
    assert_false (xs_redact_is_secret (NULL));
    assert_null (xs_redact_value ("password", NULL));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_known_secret_keys),
        cmocka_unit_test (test_plain_keys_pass_through),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
