/*  Unit tests for xs_redact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/xs_log.h"
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

/* Secrets inside xapi's error texts (SR_BACKEND_FAILURE_*: the SM
   driver's stderr) never reach a log or the catalog (issue 11, D7). */
static void
test_secrets_in_free_text (void **state)
{
    static const struct { const char *in, *out; } cases [] = {
        { "driver said: secret=s3cr3t", "driver said: secret=******" },
        { "iscsiadm -m node --chappassword=hunter2 -T iqn", "iscsiadm -m node --chappassword=****** -T iqn" },
        { "password: hunter2, user root", "password: ******, user root" },
        { "{\"cifspassword\": \"a b c\", \"server\": \"s\"}",
          "{\"cifspassword\": \"******\", \"server\": \"s\"}" },
        { "incoming_chappassword='x y' target=10.0.0.1", "incoming_chappassword='******' target=10.0.0.1" },
        { "[, NFS mount error, secret=abc]", "[, NFS mount error, secret=******]" },
        { "no secrets here: server=filer, path=/a", "no secrets here: server=filer, path=/a" },
        { "password", "password" },
        { "password=", "password=" },
        { "mypassword=", "mypassword=" },
        { "", "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        char *got = xs_redact_text (cases [i].in);
        assert_string_equal (got, cases [i].out);
        free (got);
    }
    assert_null (xs_redact_text (NULL));
}

static void
test_known_values_in_text (void **state)
{
    char text [128] = "login failed for CHAP secret hunter2 (hunter2), ok";
    const char *const values [] = { "hunter2", "ab", NULL };
    xs_redact_values (text, sizeof text, values);
    assert_string_equal (text, "login failed for CHAP secret ****** (******), ok");
    /* No room to grow: the value's own bytes become '*'. */
    char tight [] = "pw abcdefghij";
    const char *const long_one [] = { "abc", NULL };
    xs_redact_values (tight, sizeof tight, long_one);
    assert_string_equal (tight, "pw ***defghij");
    xs_redact_values (NULL, 0, values);
}

/* Remembered values (an agent's device_config secrets) are redacted from
   any text and every log line; short ones and repeats are not kept. */
static void
test_remembered_values_everywhere (void **state)
{
    (void) state;
    xs_redact_remember ("s3cr3t-chap");
    xs_redact_remember ("s3cr3t-chap");
    xs_redact_remember ("ab");
    xs_redact_remember (NULL);
    char text [128] = "iscsiadm: login with s3cr3t-chap failed (ab)";
    xs_redact_known (text, sizeof text);
    assert_string_equal (text, "iscsiadm: login with ****** failed (ab)");
    /* The log line, as written to stderr. */
    char path [] = "/tmp/xs-redact-log-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    fflush (stderr);
    int saved = dup (2);
    dup2 (fd, 2);
    xs_log (XS_LOG_ERROR, "attach failed: %s", "password was s3cr3t-chap");
    fflush (stderr);
    dup2 (saved, 2);
    close (saved);
    char line [256] = "";
    ssize_t n = pread (fd, line, sizeof line - 1, 0);
    close (fd);
    unlink (path);
    assert_true (n > 0);
    assert_null (strstr (line, "s3cr3t-chap"));
    assert_non_null (strstr (line, "attach failed: password was ******"));
    xs_redact_forget_all ();
    char again [64] = "s3cr3t-chap";
    xs_redact_known (again, sizeof again);
    assert_string_equal (again, "s3cr3t-chap");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_known_secret_keys),
        cmocka_unit_test (test_plain_keys_pass_through),
        cmocka_unit_test (test_secrets_in_free_text),
        cmocka_unit_test (test_known_values_in_text),
        cmocka_unit_test (test_remembered_values_everywhere),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
