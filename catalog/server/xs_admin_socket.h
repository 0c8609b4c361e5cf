/*  xs_admin_socket: the admin protocol's transport (docs/PROTOCOL.md,
    "Admin protocol": transport, framing, envelope).

    Binds a ZeroMQ ROUTER on the admin endpoint and serves it on the
    caller's zloop. Each time the socket is readable it drains up to
    `batch_max` requests; a request framed [routing id][""][body] with a
    body of at most XS_ADMIN_MAX_SIZE bytes becomes an xs_reply_t (whose
    sink sends the reply envelope back to that client) handed with the body
    to xs_admin_handle. Anything else is refused here: wrong frames get
    `malformed`, a bigger body `too_large`; frames over
    XS_ADMIN_SOCKET_HARD_MAX make ZeroMQ drop the sender (ZMQ_MAXMSGSIZE).

    ipc:// endpoints: ZeroMQ would silently take over a live socket file,
    so the socket first takes an exclusive flock on "<path>.lock" (released
    by the kernel when the process dies) and probes the file with a
    connect(): a live listener is refused ("in use"), a stale file removed.
    The directory is created (0700) when missing and the socket file is born
    with mode 0600. tcp:// endpoints (tests) have no authentication.

    Ownership: the admin and the loop are borrowed and outlive the socket.
    Replies still owed when the socket is destroyed must have been answered
    before (xs_catalog_server answers them first).
*/
#ifndef XS_ADMIN_SOCKET_H_INCLUDED
#define XS_ADMIN_SOCKET_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <czmq.h>

#include "xs_admin.h"
#include "xs_err.h"

/* ZeroMQ drops (and disconnects) frames above this; between
   XS_ADMIN_MAX_SIZE and this a request gets a `too_large` reply. */
#define XS_ADMIN_SOCKET_HARD_MAX (16 * 1024 * 1024)

typedef struct _xs_admin_socket_t xs_admin_socket_t;

/* Binds `endpoint` (ipc:// or tcp://) and serves it on `loop`, handing
   requests to `admin`, at most batch_max (>= 1) per pass. NULL with *err
   (naming the endpoint) when it is invalid or in use; nothing is left
   behind. Caller destroys. */
xs_admin_socket_t *xs_admin_socket_new (const char *endpoint, size_t batch_max,
                                        xs_admin_t *admin, zloop_t *loop, xs_err_t *err);

/* Leaves the loop, closes the socket, removes an ipc socket file it made
   and releases its lock. NULLs *self_p; idempotent. */
void xs_admin_socket_destroy (xs_admin_socket_t **self_p);

/* The endpoint as bound (a tcp port resolved), borrowed. */
const char *xs_admin_socket_endpoint (const xs_admin_socket_t *self);

/* Replies sent so far (for logs and tests). */
uint64_t xs_admin_socket_replies (const xs_admin_socket_t *self);

#endif
