/*  xs_test_proc: child processes of a test (see xs_test_proc.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/support/xs_test_proc.h"

#define S_MAX_PIDS 32

static pid_t s_pids [S_MAX_PIDS];

static void
s_remember (pid_t pid)
{
    for (int i = 0; i < S_MAX_PIDS; i++)
        if (s_pids [i] == 0) {
            s_pids [i] = pid;
            return;
        }
    fail_msg ("more than %d child processes", S_MAX_PIDS);
}

static void
s_forget (pid_t pid)
{
    for (int i = 0; i < S_MAX_PIDS; i++)
        if (s_pids [i] == pid)
            s_pids [i] = 0;
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

pid_t
xs_test_proc_spawn (char *const argv [], int *out_fd, int *ready_fd)
{
    int out [2] = { -1, -1 }, ready [2] = { -1, -1 };
    if (out_fd)
        assert_int_equal (pipe (out), 0);
    if (ready_fd)
        assert_int_equal (pipe (ready), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        if (out_fd) {
            dup2 (out [1], STDOUT_FILENO);
            close (out [0]);
            close (out [1]);
        }
        if (ready_fd) {
            close (ready [0]);
            char fd [16];
            snprintf (fd, sizeof fd, "%d", ready [1]);
            setenv ("XENSM_READY_FD", fd, 1);
        }
        execvp (argv [0], argv);
        _exit (127);
    }
    s_remember (pid);
    if (out_fd) {
        close (out [1]);
        *out_fd = out [0];
    }
    if (ready_fd) {
        close (ready [1]);
        *ready_fd = ready [0];
    }
    return pid;
}

int
xs_test_proc_wait (pid_t pid)
{
    int status = 0;
    pid_t got;
    do
        got = waitpid (pid, &status, 0);
    while (got < 0 && errno == EINTR);
    assert_int_equal (got, pid);
    s_forget (pid);
    return status;
}

bool
xs_test_proc_read_line (int fd, char *buf, size_t size, int timeout_ms)
{
    size_t n = 0;
    int64_t deadline = s_now_ms () + timeout_ms;
    while (n + 1 < size) {
        struct pollfd p = { fd, POLLIN, 0 };
        int left = (int) (deadline - s_now_ms ());
        if (left <= 0 || poll (&p, 1, left) <= 0)
            return false;
        ssize_t r = read (fd, buf + n, 1);
        if (r <= 0)
            return false;
        if (buf [n] == '\n') {
            buf [n] = '\0';
            return true;
        }
        n++;
    }
    return false;
}

void
xs_test_proc_stop (pid_t pid)
{
    if (pid <= 0)
        return;
    kill (pid, SIGTERM);
    int status;
    pid_t reaped = 0;
    for (int t = 0; t < 50 && (reaped = waitpid (pid, &status, WNOHANG)) == 0; t++)
        usleep (100000);            /* a child's exit cannot be polled for */
    if (reaped == 0) {
        kill (pid, SIGKILL);
        waitpid (pid, &status, 0);
    }
    s_forget (pid);
}

void
xs_test_proc_stop_all (void)
{
    for (int i = 0; i < S_MAX_PIDS; i++)
        if (s_pids [i] > 0)
            xs_test_proc_stop (s_pids [i]);
}
