/*  xs_catalog_server: the running catalog. Owns the store, the admin
    socket (a ZeroMQ ROUTER) and the zloop that serves it; xensm-catalogd's
    main only parses argv, builds one of these and runs it.

    Start-up refuses, with an error naming the file or endpoint, when:
      - the database cannot be opened for writing, is not a catalog, or is
        held by another catalog (the store's lock);
      - the admin endpoint is in use. For ipc:// endpoints ZeroMQ would
        silently take over a live socket file, so the server first takes an
        exclusive lock on "<socket path>.lock" (flock; released by the kernel
        when the process dies) and then probes the socket file with a
        connect(): a live listener is refused, a stale file is removed. The
        socket's directory is created (0700) when missing and the socket is
        created with mode 0600.

    Serving: each time the admin socket is readable the server drains up to
    `admin_batch` requests, runs them through xs_admin as one group commit
    and only then sends the replies. Frames that are not
    [routing id][empty delimiter][body] and bodies over XS_ADMIN_MAX_SIZE get
    an error reply; bodies over XS_CATALOG_HARD_MAX_SIZE are dropped by
    ZeroMQ (ZMQ_MAXMSGSIZE) with the peer's connection.

    Agents: the server also runs the agent side on the same loop: the
    catalog certificate (`cert`, made on first start when neither part
    exists), the CURVE agent socket (`agent_endpoint`, allow-list
    `agent_keys`), the scheduler (xs_sched) and the volume and host admin
    commands (xs_voladmin, as xs_admin's delegate). Every store write of a
    loop pass — admin changes, jobs, results — joins one group commit
    (xs_batch); replies leave only after it. Unfinished jobs of the journal
    resume at start.

    Ownership: the config is borrowed and must outlive the server.
*/
#ifndef XS_CATALOG_SERVER_H_INCLUDED
#define XS_CATALOG_SERVER_H_INCLUDED

#include <czmq.h>

#include "xs_config.h"
#include "xs_err.h"
#include "xs_store.h"

/* ZeroMQ drops (and disconnects) frames above this; between
   XS_ADMIN_MAX_SIZE and this a request gets a `too_large` reply. */
#define XS_CATALOG_HARD_MAX_SIZE (16 * 1024 * 1024)

typedef struct _xs_catalog_server_t xs_catalog_server_t;

/* Opens the store, binds the admin and agent endpoints from `config`
   (section [catalog]: db, admin_endpoint, admin_batch, defaults, agent
   settings) and resumes the journal. Returns the server
   or NULL with *err set and nothing left behind. Caller destroys. */
xs_catalog_server_t *xs_catalog_server_new (const xs_config_t *config, xs_err_t *err);

/* Closes the socket (removing an ipc socket file it created), the store and
   the loop. NULLs *self_p; idempotent. */
void xs_catalog_server_destroy (xs_catalog_server_t **self_p);

/* Makes the loop stop when `fd` becomes readable (e.g. a signalfd for
   SIGTERM/SIGINT, or a pipe in a test). The fd stays the caller's. 0 or -1. */
int xs_catalog_server_stop_on (xs_catalog_server_t *self, int fd);

/* Serves until a stop fd is readable, czmq's own signal handler fired
   (zsys_interrupted) or a handler stops the loop. Returns 0. */
int xs_catalog_server_run (xs_catalog_server_t *self);

/* The endpoint actually bound (tcp port resolved), borrowed. */
const char *xs_catalog_server_admin_endpoint (const xs_catalog_server_t *self);

/* Number of admin requests answered so far (for tests and logs). */
uint64_t xs_catalog_server_requests (const xs_catalog_server_t *self);

/* The agent endpoint actually bound, borrowed. */
const char *xs_catalog_server_agent_endpoint (const xs_catalog_server_t *self);

/* Unfinished jobs of the journal resumed at start. */
int xs_catalog_server_resumed (const xs_catalog_server_t *self);

#endif
