/*  xs_voladmin: the admin commands that need the agents: volume_* and host_*
    (docs/PROTOCOL.md "Admin protocol"). Volume commands finish only when
    their outcome is committed, so they answer through a callback instead of
    returning the reply; the catalog server sends it on the admin socket to
    the client that asked.

    Replies use the admin envelope:
        {"v": 1, "id": "c1", "ok": true,  "result": {...}}
        {"v": 1, "id": "c1", "ok": false,
         "error": {"code": "<kind>", "kind": "<kind>", "message": "..."}}

    Ownership: the scheduler is borrowed and outlives this object. The reply
    text handed to the callback belongs to the callee (free()).
*/
#ifndef XS_VOLADMIN_H_INCLUDED
#define XS_VOLADMIN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "xs_sched.h"

typedef void (xs_voladmin_reply_fn) (void *arg, char *reply, size_t size);

typedef struct _xs_voladmin_t xs_voladmin_t;

/* Never NULL. Caller destroys. */
xs_voladmin_t *xs_voladmin_new (xs_sched_t *sched);

/* NULLs *self_p; idempotent. Replies still owed were sent by xs_sched_destroy. */
void xs_voladmin_destroy (xs_voladmin_t **self_p);

/* True when `cmd` is one of this class's commands. */
bool xs_voladmin_handles (const char *cmd);

/* Runs command `cmd` with `args` (borrowed; may be NULL) for request `id`
   and calls reply (arg, text, size) exactly once: at once for reads and
   refusals, after the commit for changes. */
void xs_voladmin_handle (xs_voladmin_t *self, const char *id, const char *cmd,
                         json_t *args, xs_voladmin_reply_fn *reply, void *arg);

/* Name of the i-th command (NULL past the end), for help and docs. */
const char *xs_voladmin_command_name (size_t index);

#endif
