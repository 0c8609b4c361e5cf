/*  xs_catalog_server: the running catalog, wired together. Owns the store,
    the zloop, the group commit (xs_batch), the command table (xs_admin),
    the admin endpoint (xs_admin_socket) and the agent side (xs_agentsrv,
    xs_placement, xs_jobs, xs_volumes); xensm-catalogd's main only parses argv, builds one of
    these and runs it.

    Start-up refuses, with an error naming the file or endpoint, when the
    database cannot be opened for writing, is not a catalog or is held by
    another catalog (the store's lock), or when the admin endpoint is in use
    (xs_admin_socket says how an ipc:// endpoint is claimed).

    Serving: the admin socket hands each request to xs_admin with an
    xs_reply_t; every store write of a loop pass (admin changes, jobs,
    results) joins one group commit, and replies leave only after it.

    Agents: the catalog certificate (`cert`, made on first start when
    neither part exists), the CURVE agent socket (`agent_endpoint`,
    allow-list `agent_keys`), placement and the job journal run on the
    same loop.
    Unfinished jobs of the journal resume at start.

    Several catalogd on one PostgreSQL database (xs_store_lead): one leads
    and runs all of the above; the others follow: they bind the admin
    endpoint and the Block Storage API, serve the admin reads that need the
    store alone (xs_admin_follower_serves) and the API's GETs from the
    database, answer other admin commands `not_leader` naming the leader
    and other API requests 307 to the leader's API, and try to lead every
    leader_retry_ms. The one that takes over starts the agent side and
    resumes the journal then. A leader that finds itself fenced (xs_store:
    a paused leader that wakes after another took over) logs it, stops the
    agent side and /metrics, and follows. Followers bind no agent socket
    (agents find the leader through their list of endpoints). With SQLite
    the one catalogd always leads.

    Ownership: the config is borrowed and must outlive the server.
*/
#ifndef XS_CATALOG_SERVER_H_INCLUDED
#define XS_CATALOG_SERVER_H_INCLUDED

#include <czmq.h>

#include "xs_config.h"
#include "xs_err.h"
#include "xs_store.h"

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
   (zsys_interrupted) or a handler stops the loop. Returns 0, or -1 when it
   took over but could not start leading (the agent endpoint in use...). */
int xs_catalog_server_run (xs_catalog_server_t *self);

/* True while this catalogd leads (always with SQLite). */
bool xs_catalog_server_leading (const xs_catalog_server_t *self);

/* The endpoint actually bound (tcp port resolved), borrowed. */
const char *xs_catalog_server_admin_endpoint (const xs_catalog_server_t *self);

/* Number of admin requests answered so far (for tests and logs). */
uint64_t xs_catalog_server_requests (const xs_catalog_server_t *self);

/* The agent endpoint actually bound, borrowed. */
const char *xs_catalog_server_agent_endpoint (const xs_catalog_server_t *self);

/* Unfinished jobs of the journal resumed at start. */
int xs_catalog_server_resumed (const xs_catalog_server_t *self);

#endif
