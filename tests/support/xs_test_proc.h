/*  xs_test_proc: child processes of a test (the programs under test, the
    xapi simulator). Every process spawned is remembered and stopped by
    xs_test_proc_stop_all (or one by one with xs_test_proc_stop), also when
    the test fails. Failures to spawn fail the running cmocka test.
*/
#ifndef XS_TEST_PROC_H_INCLUDED
#define XS_TEST_PROC_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Starts argv (argv [0] a path, or a name looked up in PATH). With out_fd,
   the child's stdout goes to a pipe whose read end lands in *out_fd; with
   ready_fd, the child gets XENSM_READY_FD=<n> and the read end of that
   pipe lands in *ready_fd. The caller closes both. */
pid_t xs_test_proc_spawn (char *const argv [], int *out_fd, int *ready_fd);

/* Waits for the child to exit (it was not spawned to serve); its exit
   status (as waitpid gives it). Forgets the child. */
int xs_test_proc_wait (pid_t pid);

/* Reads one line from fd (without its newline) within timeout_ms; false on
   timeout, end of file or an overlong line. */
bool xs_test_proc_read_line (int fd, char *buf, size_t size, int timeout_ms);

/* SIGTERM, up to 5 s for the child to exit, then SIGKILL; forgets it. */
void xs_test_proc_stop (pid_t pid);

/* Stops every child still running. */
void xs_test_proc_stop_all (void);

#endif
