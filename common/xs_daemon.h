/*  xs_daemon: what both daemons (xensm-catalogd, xensm-agentd) do the same
    way around their loop: tell a supervisor when they serve, go to the
    background, and stop on SIGTERM/SIGINT.

    Readiness: with XENSM_READY_FD=<n> in the environment a daemon writes
    "READY\n" to fd n once it serves, then closes it (tests and scripts wait
    on that instead of sleeping). A value that is not a descriptor number is
    a start-up error in both daemons (a supervisor waiting on it would wait
    for ever otherwise).

    Background: xs_daemon_detach forks; the parent stays until the child
    says READY (exit 0) or ends (exit 1), so a start-up error reaches the
    shell that started the daemon.
*/
#ifndef XS_DAEMON_H_INCLUDED
#define XS_DAEMON_H_INCLUDED

#include "xs_err.h"

typedef struct {
    int env_fd;         /* from XENSM_READY_FD, -1 when none             */
    int parent_fd;      /* to the waiting parent after detach, -1 when none */
} xs_daemon_ready_t;

/* Reads XENSM_READY_FD into ready (parent_fd = -1). 0, or -1 with XS_EINVAL
   naming the value when it is not a descriptor number (0..65535). */
int xs_daemon_ready_init (xs_daemon_ready_t *ready, xs_err_t *err);

/* Forks into the background (new session). Returns 0 in the child, with
   ready->parent_fd set; the parent never returns (it exits 0 once the child
   is ready, 1 when the child ends first). -1 with *err when fork fails. */
int xs_daemon_detach (xs_daemon_ready_t *ready, xs_err_t *err);

/* Tells whoever waits that the daemon serves: "READY\n" to each fd, closed
   and set to -1. After a detach, stdin/stdout/stderr go to /dev/null. */
void xs_daemon_ready (xs_daemon_ready_t *ready);

/* Blocks SIGTERM and SIGINT in the calling thread (call it before any
   other thread starts, so none takes them) and returns a signalfd that
   becomes readable when one arrives. -1 with *err. */
int xs_daemon_stop_fd (xs_err_t *err);

/* Raises the soft limit on open descriptors to the hard limit (a flood of
   connections must meet the most the system allows us, not a default
   1024). Returns the soft limit now in force (0 when it cannot be read). */
unsigned long xs_daemon_raise_nofile (void);

#endif
