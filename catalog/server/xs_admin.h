/*  xs_admin: the catalog's admin API. One JSON request in, one JSON reply
    out, over the store; no sockets here (xs_catalog_server owns those), so a
    test can drive it directly.

    Request  {"v": 1, "id": "c1", "cmd": "flavor_create", "args": {...}}
    Reply    {"v": 1, "id": "c1", "ok": true,  "result": {...}}
             {"v": 1, "id": "c1", "ok": false,
              "error": {"code": "not_found", "kind": "not_found", "message": "..."}}

    docs/PROTOCOL.md, section "Admin protocol", lists every command, its args
    and result, and the error codes. Commands are dispatched from one static
    table. Secrets never leave in a reply: every listing is redacted here
    (xs_redact), in the daemon, and nothing logs a request body.

    Batching: xs_admin_handle_batch runs many requests in ONE store
    transaction and returns their replies only after it committed (group
    commit: an acknowledged change is on disk). A request that fails inside
    the batch undoes only itself.

    Ownership: the store and config are borrowed and must outlive the admin.
    Reply texts are returned to the caller, who frees them (free()).
*/
#ifndef XS_ADMIN_H_INCLUDED
#define XS_ADMIN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "xs_config.h"
#include "xs_err.h"
#include "xs_store.h"

#define XS_ADMIN_VERSION 1
/* Largest request body answered normally; bigger ones get `too_large`. */
#define XS_ADMIN_MAX_SIZE (1024 * 1024)
/* Longest request id. */
#define XS_ADMIN_MAX_ID 64

/* Protocol error codes (operation errors use xs_errkind_name () codes:
   invalid, not_found, conflict, io, internal). */
#define XS_ADMIN_E_MALFORMED    "malformed"
#define XS_ADMIN_E_VERSION      "unsupported_version"
#define XS_ADMIN_E_UNKNOWN_CMD  "unknown_command"
#define XS_ADMIN_E_TOO_LARGE    "too_large"

typedef struct _xs_admin_t xs_admin_t;

/* New admin API over `store`, with the catalog defaults (default_zone,
   default_ratio, default_reserve) read from `config`. Both borrowed.
   Never NULL. Caller destroys. */
xs_admin_t *xs_admin_new (xs_store_t *store, const xs_config_t *config);

/* Frees the admin; NULLs *self_p; idempotent. */
void xs_admin_destroy (xs_admin_t **self_p);

/* Handles one request body of `size` bytes (any bytes: never crashes) in
   its own transaction. Returns the reply text, NUL-terminated, its length in
   *reply_size when not NULL. Never NULL. Caller frees. */
char *xs_admin_handle (xs_admin_t *self, const void *data, size_t size,
                       size_t *reply_size);

/* Handles `count` requests as one group commit: replies [i] (and
   reply_sizes [i] when not NULL) receive the reply to data [i] (caller frees
   each). When the commit fails every reply of the batch is an `io` error.
   It owns the transaction: the store must have none open (else every reply
   is an `io` error) — use xs_admin_handle_one inside someone else's.
   Delegated commands are not served here (they get `unknown_command`). */
void xs_admin_handle_batch (xs_admin_t *self, size_t count,
                            const void *const *data, const size_t *sizes,
                            char **replies, size_t *reply_sizes);

/* Handles one request inside whatever store transaction the caller has
   open (or on its own when none is), without committing: for a loop-wide
   group commit (catalog/xs_batch: xs_batch_open, then this, then send the
   reply from an xs_batch_defer action once committed). Reply as
   xs_admin_handle, except for a delegated command (see
   xs_admin_set_delegate): its envelope is checked, it is handed to the
   delegate with `ctx`, and NULL is returned (the delegate answers). */
char *xs_admin_handle_one (xs_admin_t *self, const void *data, size_t size,
                           size_t *reply_size, void *ctx);

/* Commands served outside this class (the volume and host commands, which
   need the agents and answer only once their outcome is committed). */
typedef struct {
    /* True when the delegate serves `cmd`. */
    bool (*handles) (const char *cmd);
    /* Its i-th command name, NULL past the end (for `unknown command`). */
    const char *(*command_name) (size_t index);
    /* Serves a request whose envelope was checked. id, cmd and args are
       borrowed for the call (args is an object, never NULL). */
    void (*handle) (void *arg, const char *id, const char *cmd, json_t *args, void *ctx);
    /* Called when backend_remove removed backend `id` whose SR was
       `sr_uuid` (NULL when none was made): the hosts should detach it. The
       removal is not committed yet. May be NULL. */
    void (*backend_removed) (void *arg, int64_t id, const char *sr_uuid);
    void *arg;
} xs_admin_delegate_t;

/* Sets (copies) the delegate; NULL removes it. */
void xs_admin_set_delegate (xs_admin_t *self, const xs_admin_delegate_t *delegate);

/* Adds `key`: `value` to what `ping` returns (e.g. the agent endpoint and the
   catalog's public key). Both copied. */
void xs_admin_set_info (xs_admin_t *self, const char *key, const char *value);

/* An error reply for a request refused before it was read (wrong frame
   count, too large). `id` may be NULL. Caller frees. */
char *xs_admin_error_reply (const char *id, const char *code, xs_errkind_t kind,
                            const char *message, size_t *reply_size);

/* Name of the i-th command of the table (NULL past the end). */
const char *xs_admin_command_name (size_t index);

#endif
