/*  xs_admin: the admin protocol's commands (docs/PROTOCOL.md, "Admin
    protocol"), served from ONE table, in the redis way.

    Each command has a name, an argument schema (checked before its handler
    runs: "key:T" required, "key?T" optional, T one of s string, I integer,
    b boolean, o any value; other keys are ignored), the arguments in words
    (for refusals), what it needs (xs_admin_needs_t) and a kind that says
    when its reply may leave:

      READ    changes nothing; answered after the commit of whatever its
              loop pass wrote (a read never shows a change that may still
              be lost);
      WRITE   changes the store inside the loop's group commit (xs_batch);
              answered after that commit, with an `io` error if it fails;
      WAITS   changes the store and waits for the agents: answered once the
              outcome is committed (a volume create: minutes, at most).

    The reply is an xs_reply_t: the admin socket makes one per request and
    xs_admin_handle reads the envelope {"v", "id", "cmd", "args"} and runs
    the command; the HTTP API will call xs_admin_run with its own reply and
    arguments. Secrets never leave in a result: every listing is redacted
    here (xs_redact, xs_rows), in the daemon, and nothing logs a request
    body.

    Ownership: everything in xs_admin_deps_t is borrowed and outlives the
    admin.
*/
#ifndef XS_ADMIN_H_INCLUDED
#define XS_ADMIN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "xs_agentsrv.h"
#include "xs_batch.h"
#include "xs_config.h"
#include "xs_err.h"
#include "xs_orphans.h"
#include "xs_reply.h"
#include "xs_store.h"
#include "xs_volumes.h"

/* The protocol version, in requests and replies. */
#define XS_ADMIN_VERSION 1
/* Largest request body answered normally; bigger ones get `too_large`. */
#define XS_ADMIN_MAX_SIZE (1024 * 1024)
/* Longest request id. */
#define XS_ADMIN_MAX_ID 64

/* Protocol error codes (a failed command's code is its kind's name:
   invalid, not_found, conflict, io, internal, ...). */
#define XS_ADMIN_E_MALFORMED    "malformed"
#define XS_ADMIN_E_VERSION      "unsupported_version"
#define XS_ADMIN_E_UNKNOWN_CMD  "unknown_command"
#define XS_ADMIN_E_TOO_LARGE    "too_large"

typedef struct _xs_admin_t xs_admin_t;

/* When a command's reply may leave (see the header comment). */
typedef enum {
    XS_ADMIN_READ,
    XS_ADMIN_WRITE,
    XS_ADMIN_WAITS
} xs_admin_kind_t;

/* What a command runs on. XS_ADMIN_AGENTS commands (the volume_* and
   host_* ones) are refused as `internal` until xs_admin_set_agents. */
typedef enum {
    XS_ADMIN_STORE,             /* the store (and the group commit) alone   */
    XS_ADMIN_AGENTS             /* also the volumes and the agent server    */
} xs_admin_needs_t;

/* A handler: args (an object matching the command's schema, borrowed for
   the call); answers *reply_p exactly once, now or later. */
typedef void (xs_admin_fn) (xs_admin_t *self, json_t *args, xs_reply_t **reply_p);

/* One entry of the command table. */
typedef struct {
    const char *name;           /* "volume_create"                          */
    const char *args;           /* the schema: "flavor:s size:I name?s"     */
    const char *usage;          /* the arguments in words: "flavor size ..." */
    xs_admin_kind_t kind;
    xs_admin_needs_t needs;
    xs_admin_fn *handler;
} xs_admin_cmd_t;

/* What the commands work on, all borrowed. */
typedef struct {
    xs_store_t *store;
    const xs_config_t *config;  /* default_zone for backend_add              */
    xs_batch_t *batch;          /* the loop's group commit                  */
    xs_volumes_t *volumes;      /* volume_* commands                        */
    xs_agentsrv_t *agents;      /* host_* commands, SR detach               */
} xs_admin_deps_t;

/* A new admin over `deps` (copied). Never NULL. Caller destroys. */
xs_admin_t *xs_admin_new (const xs_admin_deps_t *deps);

/* Sets the volume and host commands' objects (both borrowed); until then
   (a catalog without agents: tests, the fuzzer) the commands that need
   them (XS_ADMIN_AGENTS in the table) are refused as `internal`. */
void xs_admin_set_agents (xs_admin_t *self, xs_volumes_t *volumes, xs_agentsrv_t *agents);

/* Sets the orphan sweep that `volume_orphans` reports (borrowed; NULL:
   none, the command answers `internal`). */
void xs_admin_set_orphans (xs_admin_t *self, xs_orphans_t *orphans);

/* Frees the admin; NULLs *self_p; idempotent. */
void xs_admin_destroy (xs_admin_t **self_p);

/* Adds `key`: `value` to what `ping` returns (the agent endpoint, the
   catalog's public key). Both copied. */
void xs_admin_set_info (xs_admin_t *self, const char *key, const char *value);

/* Whether this catalogd leads (the default) and, when it does not, which
   one does (`leader` copied; NULL or generation 0: none known). A follower
   serves the reads that need the store alone (xs_admin_follower_serves:
   ping, catalog_status, the flavor, backend and volume lists and shows,
   volume_connection) from the database, each call afresh, and answers
   every other command (the changes, and host_list, whose up/down and SRs
   only the leader knows) with `not_leader`, the message naming the
   leader's addresses as "admin_endpoint=<e> agent_endpoint=<e>" for
   clients to follow. */
void xs_admin_set_leader (xs_admin_t *self, bool leading, const xs_store_leader_t *leader);

/* Whether a follower serves `cmd` itself: a READ that needs the store
   alone. */
bool xs_admin_follower_serves (const xs_admin_cmd_t *cmd);

/* NULL while this catalogd leads; else the leader as last seen (borrowed,
   valid until the next xs_admin_set_leader; generation 0: none known). */
const xs_store_leader_t *xs_admin_leader (const xs_admin_t *self);

/* Serves one request body of `size` bytes (any bytes: never crashes):
   checks the envelope, sets the reply's id and runs the command. Takes
   *reply_p and answers it exactly once (now for a bad envelope, else as
   the command's kind says). */
void xs_admin_handle (xs_admin_t *self, const void *data, size_t size, xs_reply_t **reply_p);

/* Runs command `name` with `args` (an object, borrowed; NULL = {}): for
   callers that have no envelope (the HTTP API). Takes *reply_p and answers
   it exactly once; an unknown name is `unknown_command`. */
void xs_admin_run (xs_admin_t *self, const char *name, json_t *args, xs_reply_t **reply_p);

/* The i-th entry of the command table, NULL past the end. */
const xs_admin_cmd_t *xs_admin_command (size_t index);

#endif
