/*  xs_fake_catalog: a stand-in for xensm-catalogd's admin socket, for tests
    of the admin client and the CLI.

    A ROUTER socket bound on any endpoint (inproc, ipc, or tcp with an
    ephemeral port) in an actor thread of the test process. It records every
    request it receives and answers each one:
    - by default with the reply set by xs_fake_catalog_reply (a JSON object
      to which the request's "v": 1 and "id" are added), or not at all;
    - or, for the next request only, with the exact bodies queued by
      xs_fake_catalog_script (any bytes, any size, several replies), so a
      test can send replies with another id, malformed or oversized ones.

    Ownership: the caller owns the object (xs_fake_catalog_destroy). Texts
    passed in are copied. xs_fake_catalog_take returns a new reference.
    Nothing here asserts: failures are NULL or -1 for the test to check.
*/
#ifndef XS_FAKE_CATALOG_H_INCLUDED
#define XS_FAKE_CATALOG_H_INCLUDED

#include <jansson.h>
#include <stddef.h>

/* Placeholder in a scripted reply, replaced by the request's id. */
#define XS_FAKE_CATALOG_ID "@ID@"

typedef struct _xs_fake_catalog_t xs_fake_catalog_t;

/* Starts a fake catalog bound on `endpoint` (e.g. "inproc://x" or
   "tcp://127.0.0.1:*"), answering nothing until told. NULL when the bind
   fails. Caller destroys. */
xs_fake_catalog_t *xs_fake_catalog_new (const char *endpoint);

/* Stops the actor and closes the socket; NULLs *self_p; idempotent. */
void xs_fake_catalog_destroy (xs_fake_catalog_t **self_p);

/* The endpoint it is bound on, with the port chosen for "tcp://...:*".
   Borrowed; valid until destroy. */
const char *xs_fake_catalog_endpoint (xs_fake_catalog_t *self);

/* Answers every later request with `reply`: JSON object text without "v"
   and "id" (they are added). "" answers nothing (a silent catalog). */
void xs_fake_catalog_reply (xs_fake_catalog_t *self, const char *reply);

/* xs_fake_catalog_reply with {"ok": true, "result": <result>}. */
void xs_fake_catalog_reply_ok (xs_fake_catalog_t *self, const char *result);

/* xs_fake_catalog_reply with {"ok": false, "error": {"code": kind, "kind":
   kind, "message": message}} (no quotes or backslashes in either). */
void xs_fake_catalog_reply_error (xs_fake_catalog_t *self, const char *kind,
                                  const char *message);

/* Queues one reply body for the next request only: `size` bytes of `data`,
   sent as they are except that every XS_FAKE_CATALOG_ID is replaced by the
   request's id. Bodies queued before the same request go out in order;
   with any queued, the reply set by xs_fake_catalog_reply is not sent. */
void xs_fake_catalog_script (xs_fake_catalog_t *self, const void *data, size_t size);

/* The requests received since the last take, oldest first, as a JSON array:
   each request parsed, or JSON null for a body that is not JSON. Caller
   decrefs. NULL when the actor did not answer. */
json_t *xs_fake_catalog_take (xs_fake_catalog_t *self);

#endif
