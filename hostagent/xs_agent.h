/*  xs_agent: the host agent. Connects to the catalog (DEALER, CURVE client),
    registers, attaches the zone's backends, heartbeats with SR stats and
    carries out the catalog's requests in worker threads, so a slow xapi call
    never blocks the message loop. Protocol: docs/PROTOCOL.md "Agent protocol".

    Life cycle: xs_agent_new loads the certificates and starts the workers
    (xs_agent_workers); xs_agent_run runs the message loop until the stop fd
    given to xs_agent_stop_on is readable (the daemon's SIGTERM/SIGINT
    signalfd, xs_daemon_stop_fd), or a zactor on xs_agent_actor runs it
    until $TERM; xs_agent_destroy stops the workers.

    Readiness (cfg.ready, from xs_daemon_ready_init and xs_daemon_detach): a
    detached parent is told once the loop runs (start-up is over), the
    XENSM_READY_FD reader once the catalog welcomed the agent.

    When the catalog goes silent (3 heartbeats and at least silence_ms
    without an ack) or answers `not_registered`, the agent drops its socket
    and registers again with exponential backoff (backoff_min_ms doubling up
    to backoff_max_ms). A catalog that only answers late is kept.
*/
#ifndef XS_AGENT_H_INCLUDED
#define XS_AGENT_H_INCLUDED

#include <czmq.h>

#include "xs_daemon.h"
#include "xs_err.h"
#include "xs_executor.h"

typedef struct {
    const char *catalog_endpoint;   /* tcp://catalog:7601                        */
    const char *zone;               /* required                                  */
    const char *host_uuid;          /* NULL: ask the executor ("host_info")      */
    const char *name;               /* NULL: the host's name_label               */
    const char *cert_file;          /* own cert: FILE (public) + FILE_secret     */
    const char *catalog_key_file;   /* the catalog's public certificate          */
    int workers;                    /* worker threads; 0 -> 4                    */
    int backoff_min_ms;             /* 0 -> 500                                  */
    int backoff_max_ms;             /* 0 -> 30000                                */
    int stats_every;                /* refresh SR stats every N heartbeats; 0 -> 1 */
    int silence_ms;                 /* no ack this long (and 3 heartbeats): gone;
                                       0 -> 10000                                */
    xs_daemon_ready_t *ready;       /* NULL, or told (see above); borrowed       */
    const xs_executor_t *executor;  /* required; borrowed, must outlive the agent */
    void *executor_arg;             /* passed to executor->open                  */
} xs_agent_cfg_t;

typedef struct _xs_agent_t xs_agent_t;

/* Validates cfg (copied; ready and the executor borrowed), loads both
   certificates and starts the workers. NULL with *err on failure (missing
   zone, unreadable certificate, ...). */
xs_agent_t *xs_agent_new (const xs_agent_cfg_t *cfg, xs_err_t *err);

/* Stops the workers and closes the socket; NULLs *self_p; idempotent. */
void xs_agent_destroy (xs_agent_t **self_p);

/* Ends xs_agent_run when `fd` becomes readable (a signalfd: the signal is
   read and logged). The caller keeps and closes fd. 0. */
int xs_agent_stop_on (xs_agent_t *self, int fd);

/* Runs the message loop in this thread until the stop fd fires. Returns 0,
   or -1 with *err when the loop or the socket cannot be set up. */
int xs_agent_run (xs_agent_t *self, xs_err_t *err);

/* zactor body: `arg` is an xs_agent_t the caller keeps and destroys after
   the actor. Signals once the loop runs; ends on $TERM. */
void xs_agent_actor (zsock_t *pipe, void *arg);

#endif
