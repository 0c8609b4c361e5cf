/*  Unit tests for xs_daemon: XENSM_READY_FD and readiness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/xs_daemon.h"

static void
test_no_ready_fd (void **state)
{
    unsetenv ("XENSM_READY_FD");
    xs_daemon_ready_t ready;
    xs_err_t err;
    assert_int_equal (xs_daemon_ready_init (&ready, &err), 0);
    assert_int_equal (ready.env_fd, -1);
    assert_int_equal (ready.parent_fd, -1);
    setenv ("XENSM_READY_FD", "", 1);
    assert_int_equal (xs_daemon_ready_init (&ready, &err), 0);
    assert_int_equal (ready.env_fd, -1);
    xs_daemon_ready (&ready);       /* nothing to tell: harmless */
}

static void
test_bad_ready_fd_refused (void **state)
{
    const char *bad [] = { "x", "3x", "-1", "65536", "99999999999999999999", " 3" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        setenv ("XENSM_READY_FD", bad [i], 1);
        xs_daemon_ready_t ready;
        xs_err_t err;
        assert_int_equal (xs_daemon_ready_init (&ready, &err), -1);
        assert_int_equal (err.kind, XS_EINVAL);
        assert_non_null (strstr (err.msg, "XENSM_READY_FD"));
        assert_non_null (strstr (err.msg, "is not a file descriptor"));
    }
    unsetenv ("XENSM_READY_FD");
}

static void
test_ready_written_once_and_closed (void **state)
{
    int pipefd [2];
    assert_int_equal (pipe (pipefd), 0);
    char value [16];
    snprintf (value, sizeof value, "%d", pipefd [1]);
    setenv ("XENSM_READY_FD", value, 1);
    xs_daemon_ready_t ready;
    xs_err_t err;
    assert_int_equal (xs_daemon_ready_init (&ready, &err), 0);
    assert_int_equal (ready.env_fd, pipefd [1]);
    xs_daemon_ready (&ready);
    assert_int_equal (ready.env_fd, -1);
    xs_daemon_ready (&ready);       /* a second call writes nothing */
    char buffer [16] = "";
    assert_int_equal (read (pipefd [0], buffer, sizeof buffer), 6);
    assert_memory_equal (buffer, "READY\n", 6);
    /* The write end was closed: EOF. */
    assert_int_equal (read (pipefd [0], buffer, sizeof buffer), 0);
    close (pipefd [0]);
    unsetenv ("XENSM_READY_FD");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_no_ready_fd),
        cmocka_unit_test (test_bad_ready_fd_refused),
        cmocka_unit_test (test_ready_written_once_and_closed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
