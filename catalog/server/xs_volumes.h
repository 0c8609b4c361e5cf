/*  xs_volumes: the volume commands (docs/PROTOCOL.md "Admin protocol",
    volume_*): create, delete, snapshot, clone, and the reads (show, list,
    connection).

    A change writes the volume row inside the loop's group commit and hands
    the host operation to xs_jobs, which answers the client's xs_reply_t
    with {"volume": {...}} once the outcome is committed. A refusal
    (validation, conflict, not found) answers at once, writing nothing.
    The same request id never makes two volumes: a repeat gets the volume
    the first one made, once it is settled.

    Borrowed: store, batch, hosts and jobs outlive the volumes.
*/
#ifndef XS_VOLUMES_H_INCLUDED
#define XS_VOLUMES_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "xs_batch.h"
#include "xs_err.h"
#include "xs_hosts.h"
#include "xs_jobs.h"
#include "xs_op.h"
#include "xs_reply.h"
#include "xs_store.h"

/* A volume to create. */
typedef struct {
    const char *flavor;         /* label, required   */
    int64_t size;               /* bytes, > 0        */
    const char *name;           /* may be NULL       */
    const char *request_id;     /* may be NULL       */
    const char *project;        /* owner; may be NULL */
} xs_volume_request_t;

typedef struct _xs_volumes_t xs_volumes_t;

/* Never NULL. Caller destroys. */
xs_volumes_t *xs_volumes_new (xs_store_t *store, xs_batch_t *batch, xs_hosts_t *hosts,
                              xs_jobs_t *jobs);

/* NULLs *self_p; idempotent. */
void xs_volumes_destroy (xs_volumes_t **self_p);

/* The changes: each takes *reply_p and answers it (see above). */
void xs_volumes_create (xs_volumes_t *self, const xs_volume_request_t *req,
                        xs_reply_t **reply_p);
void xs_volumes_delete (xs_volumes_t *self, const char *uuid, xs_reply_t **reply_p);
/* op is XS_OP_VDI_SNAPSHOT or XS_OP_VDI_CLONE; name and request_id (kept
   on the new volume, so that a caller finds the copy a failed job left)
   may be NULL. */
void xs_volumes_copy (xs_volumes_t *self, xs_op_t op, const char *parent_uuid,
                      const char *name, const char *request_id, xs_reply_t **reply_p);

/* Grows available volume `uuid` to new_size bytes (more than its size)
   with its agent's vdi_resize: `extending` while in flight, then
   `available` with the new size, or `error_extending` with the reason
   (the data is as it was). Refused at once, changing nothing, when the
   volume is not available or new_size is not larger. */
void xs_volumes_extend (xs_volumes_t *self, const char *uuid, int64_t new_size,
                        xs_reply_t **reply_p);

/* Sets the state of a volume that no job is working on to `state`
   (available, error or error_deleting): an operator's repair after an
   outcome the catalog could not learn. Answers {"volume": {...}}. */
void xs_volumes_reset_state (xs_volumes_t *self, const char *uuid, const char *state,
                             xs_reply_t **reply_p);

/* Renames a volume that no job is working on. Answers {"volume": {...}}. */
void xs_volumes_rename (xs_volumes_t *self, const char *uuid, const char *name,
                        xs_reply_t **reply_p);

/* The reads: new JSON the caller owns, or NULL with *err. show adds the
   volume's attempts and jobs; connection gives sr_uuid, sr_type, vdi_uuid
   and the keys to introduce the SR, secrets as ****** unless
   show_secrets. They need the store alone (a follower catalogd, which has
   no xs_volumes_t, serves them from the database). */
json_t *xs_volumes_show (xs_store_t *store, const char *uuid, xs_err_t *err);
json_t *xs_volumes_list (xs_store_t *store, bool include_deleted, xs_err_t *err);
json_t *xs_volumes_connection (xs_store_t *store, const char *uuid, bool show_secrets,
                               xs_err_t *err);

/* The JSON view of volume v with its flavor's label (NULL: looked up in
   store). New reference. */
json_t *xs_volume_view (xs_store_t *store, const xs_volume_t *v, const char *flavor_label);

/* The JSON view of volume `uuid`, or NULL with *err. */
json_t *xs_volume_view_by_uuid (xs_store_t *store, const char *uuid, xs_err_t *err);

#endif
