/*  xs_admin_client: calls the catalog's admin API (docs/PROTOCOL.md, "Admin
    protocol") over ZeroMQ.

    A DEALER socket that sends [""][request] like a REQ would, and waits for
    the reply at most `timeout_ms`, so a dead or stuck daemon never hangs the
    caller. One call at a time; each call has a fresh id and a reply with
    another id is skipped. A reply that is not a JSON object is refused at
    once; so is the wait when the connection drops (ZeroMQ drops it for a
    reply over XS_ADMIN_CLIENT_MAX_REPLY, which is never read into memory,
    and when the catalog stops). Every failure is an xs_err_t that names the
    endpoint; nothing here asserts on what the socket brings.

    Ownership: the caller owns the client (xs_admin_client_destroy).
    xs_admin_client_call takes the args reference (NULLs the caller's
    pointer) and returns a new reference to the reply's "result" that the
    caller releases (json_decref).
*/
#ifndef XS_ADMIN_CLIENT_H_INCLUDED
#define XS_ADMIN_CLIENT_H_INCLUDED

#include <jansson.h>

#include "xs_err.h"

/* The admin protocol version this client speaks ("v" of every request):
   docs/PROTOCOL.md, "Admin protocol"; the server's is XS_ADMIN_VERSION. */
#define XS_ADMIN_CLIENT_VERSION 1

/* The largest reply accepted, in bytes. */
#define XS_ADMIN_CLIENT_MAX_REPLY (64 * 1024 * 1024)

typedef struct _xs_admin_client_t xs_admin_client_t;

/* Connects to `endpoint`. For an ipc:// endpoint whose socket file does not
   exist, or that we may not use, fails at once (XS_ETRANSPORT) instead of
   waiting. Caller destroys. */
xs_admin_client_t *xs_admin_client_new (const char *endpoint, int timeout_ms, xs_err_t *err);

/* Closes the socket; NULLs *self_p; idempotent (self_p may be NULL). */
void xs_admin_client_destroy (xs_admin_client_t **self_p);

/* Sends command `cmd` with `*args_p` (args_p or *args_p may be NULL: {} is
   sent) and waits for the reply. Returns the result object, or NULL with
   *err set: the remote error's kind and message; XS_EINVAL when the
   request cannot be encoded (text that is not UTF-8); XS_ETRANSPORT when no
   reply came in time, the connection dropped or the reply was malformed;
   XS_EINTERNAL for a success without a result. */
json_t *xs_admin_client_call (xs_admin_client_t *self, const char *cmd, json_t **args_p,
                              xs_err_t *err);

#endif
