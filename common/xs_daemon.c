/*  xs_daemon: readiness, background and stop signals for the daemons
    (see xs_daemon.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xs_daemon.h"
#include "xs_log.h"

int
xs_daemon_ready_init (xs_daemon_ready_t *ready, xs_err_t *err)
{
    ready->env_fd = -1;
    ready->parent_fd = -1;
    const char *env = getenv ("XENSM_READY_FD");
    if (!env || !*env)
        return 0;
    char *end = NULL;
    errno = 0;
    long fd = strtol (env, &end, 10);
    if (errno || *end || !isdigit ((unsigned char) env [0]) || fd > 65535)
        return xs_err_set (err, XS_EINVAL, "XENSM_READY_FD '%.64s' is not a file descriptor",
                           env);
    ready->env_fd = (int) fd;
    return 0;
}

int
xs_daemon_detach (xs_daemon_ready_t *ready, xs_err_t *err)
{
    int pipefd [2];
    if (pipe2 (pipefd, O_CLOEXEC))
        return xs_err_set (err, XS_EINTERNAL, "pipe: %s", strerror (errno));
    pid_t pid = fork ();
    if (pid < 0) {
        int saved = errno;
        close (pipefd [0]);
        close (pipefd [1]);
        return xs_err_set (err, XS_EINTERNAL, "fork: %s", strerror (saved));
    }
    if (pid > 0) {
        close (pipefd [1]);
        char buffer [8] = "";
        ssize_t n;
        do
            n = read (pipefd [0], buffer, sizeof buffer - 1);
        while (n < 0 && errno == EINTR);
        if (n > 0 && strncmp (buffer, "READY", 5) == 0)
            _exit (0);
        int status = 0;
        waitpid (pid, &status, 0);
        _exit (1);
    }
    close (pipefd [0]);
    setsid ();
    ready->parent_fd = pipefd [1];
    return 0;
}

/* Writes READY to *fd_p (when open), closes it and sets -1. */
static void
s_tell (int *fd_p)
{
    if (*fd_p < 0)
        return;
    if (write (*fd_p, "READY\n", 6) != 6)
        xs_warning ("cannot tell fd %d that we are ready: %s", *fd_p, strerror (errno));
    close (*fd_p);
    *fd_p = -1;
}

void
xs_daemon_ready (xs_daemon_ready_t *ready)
{
    s_tell (&ready->env_fd);
    if (ready->parent_fd >= 0) {
        int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd >= 0) {
            dup2 (null_fd, STDIN_FILENO);
            dup2 (null_fd, STDOUT_FILENO);
            dup2 (null_fd, STDERR_FILENO);
            close (null_fd);
        }
        s_tell (&ready->parent_fd);
    }
}

int
xs_daemon_stop_fd (xs_err_t *err)
{
    sigset_t stop_signals;
    sigemptyset (&stop_signals);
    sigaddset (&stop_signals, SIGTERM);
    sigaddset (&stop_signals, SIGINT);
    pthread_sigmask (SIG_BLOCK, &stop_signals, NULL);
    int fd = signalfd (-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return xs_err_set (err, XS_EINTERNAL, "signalfd: %s", strerror (errno));
    return fd;
}

unsigned long
xs_daemon_raise_nofile (void)
{
    struct rlimit lim;
    if (getrlimit (RLIMIT_NOFILE, &lim) != 0)
        return 0;
    if (lim.rlim_cur < lim.rlim_max) {
        rlim_t was = lim.rlim_cur;
        lim.rlim_cur = lim.rlim_max;
        if (setrlimit (RLIMIT_NOFILE, &lim) != 0) {
            xs_warning ("cannot raise the descriptor limit from %lu to %lu: %s",
                        (unsigned long) was, (unsigned long) lim.rlim_max, strerror (errno));
            lim.rlim_cur = was;
        }
    }
    return lim.rlim_cur == RLIM_INFINITY ? (unsigned long) -1 : (unsigned long) lim.rlim_cur;
}
