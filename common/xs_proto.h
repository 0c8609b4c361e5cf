/*  xs_proto: one message of the catalog <-> host agent protocol.

    The catalog binds a ROUTER socket, each agent connects a DEALER; both use
    CURVE. A message is ONE ZeroMQ frame holding a JSON object (after the
    ROUTER's routing-id frame on the catalog side):

        {"v": 1, "type": "register", "id": "a1-7", ...fields of the type...}

    docs/PROTOCOL.md, section "Agent protocol", describes every type. Decoding
    checks the envelope and every field of the type (and the arguments of
    each request op) against one static schema table, so a handler can read
    fields without re-checking them. Unknown fields are ignored; an unknown
    type, op or version is an error.

    Ownership: an xs_proto_t owns its JSON body. Getters return borrowed
    pointers that live as long as the message. Functions taking `json_t **`
    take ownership of the reference and NULL the caller's pointer.
*/
#ifndef XS_PROTO_H_INCLUDED
#define XS_PROTO_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "xs_err.h"
#include "xs_op.h"

#define XS_PROTO_VERSION 1
/* Largest message either side accepts (also set as ZMQ_MAXMSGSIZE). */
#define XS_PROTO_MAX_SIZE (1024 * 1024)
/* Longest correlation id. */
#define XS_PROTO_MAX_ID 64

typedef enum {
    XS_PROTO_REGISTER = 0,  /* agent -> catalog: host_uuid, zone, name           */
    XS_PROTO_WELCOME,       /* catalog -> agent: the zone's backends               */
    XS_PROTO_HEARTBEAT,     /* agent -> catalog: busy, per-SR stats + capabilities */
    XS_PROTO_HEARTBEAT_ACK, /* catalog -> agent                                    */
    XS_PROTO_SR_STATE,      /* agent -> catalog: a backend's SR attached or not    */
    XS_PROTO_REQUEST,       /* catalog -> agent: op + args                         */
    XS_PROTO_RESULT,        /* agent -> catalog: ok + value or error               */
    XS_PROTO_ERROR,         /* either way: code + message; never answered          */
    XS_PROTO_NTYPES
} xs_proto_type_t;

/* Machine-readable codes of `error` messages. */
#define XS_PROTO_E_MALFORMED      "malformed"        /* not JSON, bad envelope or field */
#define XS_PROTO_E_VERSION        "unsupported_version"
#define XS_PROTO_E_UNKNOWN_TYPE   "unknown_type"
#define XS_PROTO_E_UNKNOWN_OP     "unknown_op"
#define XS_PROTO_E_TOO_LARGE      "too_large"
#define XS_PROTO_E_NOT_REGISTERED "not_registered"   /* heartbeat/result before register */
#define XS_PROTO_E_REFUSED        "refused"          /* e.g. host uuid bound to another key */
#define XS_PROTO_E_UNEXPECTED     "unexpected"       /* valid message, wrong direction */
#define XS_PROTO_E_INTERNAL       "internal"

typedef struct _xs_proto_t xs_proto_t;

/* ---------------------------------------------------------------------
   Construction
   --------------------------------------------------------------------- */

/* New message of `type` with correlation `id` (copied; NULL or "" makes a
   fresh unique id) and no fields yet. Never NULL. Caller destroys. */
xs_proto_t *xs_proto_new (xs_proto_type_t type, const char *id);

/* Frees the message; NULLs *self_p; idempotent. */
void xs_proto_destroy (xs_proto_t **self_p);

/* Sets field `key` to `*value_p` (taking the reference, NULLing *value_p).
   `v`, `type` and `id` cannot be set this way. Returns 0 or -1. */
int xs_proto_set (xs_proto_t *self, const char *key, json_t **value_p);
int xs_proto_set_str (xs_proto_t *self, const char *key, const char *value);
int xs_proto_set_int (xs_proto_t *self, const char *key, int64_t value);
int xs_proto_set_bool (xs_proto_t *self, const char *key, bool value);

/* Convenience constructors (never NULL; caller destroys). */
/* A request of `op` (sent as its wire name, xs_op_name); an op that is not
   a request op fails validation when encoded. */
xs_proto_t *xs_proto_request_new (const char *id, xs_op_t op, json_t **args_p);
xs_proto_t *xs_proto_result_ok_new (const char *id, json_t **value_p);
/* A failed result: error = {kind: xs_errkind_name (err->kind), message}. */
xs_proto_t *xs_proto_result_fail_new (const char *id, const xs_err_t *err);
xs_proto_t *xs_proto_error_new (const char *id, const char *code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* ---------------------------------------------------------------------
   Inspection
   --------------------------------------------------------------------- */
xs_proto_type_t xs_proto_type (const xs_proto_t *self);
const char *xs_proto_id (const xs_proto_t *self);
/* Stable wire name of a type ("register", ...); "?" when out of range. */
const char *xs_proto_type_name (xs_proto_type_t type);

/* Field `key`, borrowed; NULL when absent. */
json_t *xs_proto_get (const xs_proto_t *self, const char *key);
/* String field or NULL when absent, null or not a string. */
const char *xs_proto_str (const xs_proto_t *self, const char *key);
/* Integer field or `dflt`. */
int64_t xs_proto_int (const xs_proto_t *self, const char *key, int64_t dflt);
/* Boolean field or `dflt`. */
bool xs_proto_bool (const xs_proto_t *self, const char *key, bool dflt);

/* For a `request`: its op (XS_OP_NONE when it names none) and args
   (borrowed). */
xs_op_t xs_proto_op (const xs_proto_t *self);
json_t *xs_proto_args (const xs_proto_t *self);

/* For a failed `result`: fills *err with the remote kind and message. */
void xs_proto_result_err (const xs_proto_t *self, xs_err_t *err);

/* True when `op` (a wire name, may be NULL) is a request op this version
   knows. */
bool xs_proto_op_known (const char *op);

/* ---------------------------------------------------------------------
   Wire
   --------------------------------------------------------------------- */

/* Checks the message against the schema of its type (and op). 0 or -1. */
int xs_proto_validate (const xs_proto_t *self, xs_err_t *err);

/* Validates and serialises to compact JSON. Returns a string the caller
   frees (free()), its length in *size_p; NULL on failure. */
char *xs_proto_encode (const xs_proto_t *self, size_t *size_p, xs_err_t *err);

/* Parses and validates one frame. Returns a new message the caller
   destroys, or NULL with *err set. On failure, when `reply_p` is not NULL
   and the input was not itself an `error`, *reply_p receives the `error`
   message to send back (with the offending message's id when readable);
   the caller destroys it. Never crashes on any input. */
xs_proto_t *xs_proto_decode (const void *data, size_t size,
                             xs_proto_t **reply_p, xs_err_t *err);

#endif
