/*  xs_rows: what the catalog's store hands out, independent of how it is
    stored: the row types, their states and state names, how to free them,
    their JSON views. Any store implementation (xs_store.h) fills these same rows; nothing here
    knows SQL.

    Ownership you can read from the type: a row owns every `char *` in it
    (and its arrays); they go with its destroy. The store's inputs are the
    separate xs_*_spec_t of xs_store.h, which borrow.

    JSON views: each row has one JSON view per audience, named for it (the
    end of this file); the admin protocol and the agent protocol are built
    from them, so a field is written in one place.

    Rows are plain structs the caller owns. Free one with its
    xs_<type>_destroy (&p), a list (a NULL-terminated array of pointers,
    walked with `for (xs_flavor_t **f = list; *f; f++)`) with
    xs_<type>_list_destroy (&list). Every destroy frees the strings, NULLs
    the caller's pointer and accepts NULL; a list's destroy frees every row.
*/
#ifndef XS_ROWS_H_INCLUDED
#define XS_ROWS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "xs_err.h"

/* ---------------------------------------------------------------------
   States. Each has a stable lowercase name (stored in the database, shown
   by the CLI and sent on the wire).
   --------------------------------------------------------------------- */

typedef enum {
    XS_BACKEND_NEW = 0,         /* recorded, no SR attached yet            */
    XS_BACKEND_ATTACHING,
    XS_BACKEND_ATTACHED,
    XS_BACKEND_ERROR,           /* see xs_backend_t.error                  */
    XS_BACKEND_DRAINING         /* takes no new volumes                    */
} xs_backend_state_t;

typedef enum {
    XS_HOST_UP = 0,
    XS_HOST_DOWN
} xs_host_state_t;

typedef enum {
    XS_VOLUME_CREATING = 0,
    XS_VOLUME_AVAILABLE,
    XS_VOLUME_DELETING,
    XS_VOLUME_DELETED,
    XS_VOLUME_ERROR,
    XS_VOLUME_ERROR_DELETING,
    XS_VOLUME_EXTENDING,        /* its VDI is being grown (volume_extend)  */
    XS_VOLUME_ERROR_EXTENDING   /* growing failed; the data is as it was   */
} xs_volume_state_t;

typedef enum {
    XS_JOB_PENDING = 0,         /* committed, not yet sent to an agent     */
    XS_JOB_DISPATCHED,          /* sent, no result yet                     */
    XS_JOB_DONE,
    XS_JOB_FAILED
} xs_job_state_t;

typedef enum {
    XS_ATTEMPT_OK = 0,          /* the backend took the volume             */
    XS_ATTEMPT_FAILED,          /* tried and failed (xapi error, timeout)  */
    XS_ATTEMPT_SKIPPED          /* not tried: not attached, no space, ...  */
} xs_attempt_outcome_t;

/* Name of a state ("attached", "error_deleting", ...); "?" when out of range. */
const char *xs_backend_state_name (xs_backend_state_t state);
const char *xs_host_state_name (xs_host_state_t state);
const char *xs_volume_state_name (xs_volume_state_t state);
const char *xs_job_state_name (xs_job_state_t state);
const char *xs_attempt_outcome_name (xs_attempt_outcome_t outcome);

/* Parse a name (exact, lowercase) into *state_p. 0, or -1 with XS_EINVAL.
   A store reads the states of its rows with these. */
int xs_backend_state_from_name (const char *name, xs_backend_state_t *state_p, xs_err_t *err);
int xs_host_state_from_name (const char *name, xs_host_state_t *state_p, xs_err_t *err);
int xs_volume_state_from_name (const char *name, xs_volume_state_t *state_p, xs_err_t *err);
int xs_job_state_from_name (const char *name, xs_job_state_t *state_p, xs_err_t *err);
int xs_attempt_outcome_from_name (const char *name, xs_attempt_outcome_t *outcome_p,
                                  xs_err_t *err);

/* True for every volume state but `deleted` (the volume still holds, or may
   hold, data on its backend). What "live" means wherever the store counts
   or refuses on live volumes (flavor_delete, backend_remove, counts); a
   store implementation must apply the same rule. */
bool xs_volume_state_is_live (xs_volume_state_t state);

/* ---------------------------------------------------------------------
   Rows
   --------------------------------------------------------------------- */

typedef struct {
    int64_t id;
    char *label;                /* unique                                  */
    char *description;          /* never NULL ("" when none)               */
    int64_t created_at;
} xs_flavor_t;

/* One key=value of a backend's device config. Values are kept whole. */
typedef struct {
    char *key;
    char *value;
} xs_kv_t;

typedef struct {
    int64_t id;
    int64_t flavor_id;
    char *flavor_label;         /* joined from flavor, for display         */
    char *zone;
    char *sr_type;              /* "nfs", "lvmoiscsi", ...                 */
    char *name_label;           /* NULL when not given                     */
    char *sr_uuid;              /* NULL until the SR exists                */
    xs_backend_state_t state;
    char *error;                /* last error text; NULL when none         */
    /* Catalog settings; when has_* is false the catalog default applies. */
    bool has_ratio;
    double ratio;               /* over-subscription factor, > 0           */
    bool has_reserve;
    double reserve;             /* percent kept free, 0..100               */
    int64_t created_at;
    /* device_config, in the order it was given at backend_add. */
    size_t nconfig;
    xs_kv_t *config;
} xs_backend_t;

typedef struct {
    char *uuid;                 /* xapi host uuid, the key                 */
    char *zone;
    char *name;                 /* may be NULL                             */
    char *public_key;           /* Z85 CURVE public key; may be NULL       */
    xs_host_state_t state;
    int64_t last_seen;
    int64_t created_at;
} xs_host_t;

/* What one host last reported about one backend's SR. */
typedef struct {
    char *host_uuid;
    int64_t backend_id;
    bool attached;              /* the host's PBD for the SR is plugged    */
    bool has_stats;             /* false until sizes were reported         */
    int64_t physical_size;
    int64_t physical_utilisation;
    int64_t virtual_allocation;
    size_t ncapabilities;
    char **capabilities;        /* SM capabilities, e.g. "VDI_CREATE"      */
    int64_t updated_at;
} xs_sr_stats_t;

typedef struct {
    char *uuid;                 /* the key; the VDI is tagged with it      */
    char *name;                 /* may be NULL                             */
    int64_t size_bytes;
    int64_t flavor_id;          /* 0 only for history rows whose flavor is gone */
    int64_t backend_id;         /* 0 until placed                          */
    char *vdi_uuid;             /* NULL until the VDI exists               */
    char *host_uuid;            /* agent that made it; may be NULL         */
    xs_volume_state_t state;
    char *error;                /* NULL when none                          */
    char *parent_uuid;          /* snapshot/clone source; NULL otherwise   */
    char *request_id;           /* idempotency key; unique; may be NULL    */
    int64_t created_at;
    int64_t updated_at;
    char *project;              /* owner (API tenant); "" when none        */
} xs_volume_t;

/* One dispatched operation (vdi_create, vdi_destroy, sr_attach, ...). */
typedef struct {
    int64_t id;
    char *volume_uuid;          /* NULL for operations on no volume        */
    char *op;                   /* protocol op name                        */
    char *args;                 /* JSON text of the arguments; may be NULL */
    xs_job_state_t state;
    int64_t backend_id;         /* 0 when none                             */
    char *host_uuid;            /* agent it went to; NULL before dispatch  */
    char *result;               /* JSON text of the result; may be NULL    */
    char *error;                /* failure text; may be NULL               */
    int64_t created_at;
    int64_t updated_at;
} xs_job_t;

/* One placement attempt of a volume on a backend. */
typedef struct {
    int64_t id;
    char *volume_uuid;
    int64_t backend_id;
    char *host_uuid;            /* may be NULL (e.g. skipped)              */
    xs_attempt_outcome_t outcome;
    char *reason;               /* may be NULL for XS_ATTEMPT_OK           */
    int64_t at;
} xs_attempt_t;

/* ---------------------------------------------------------------------
   Freeing rows. xs_<type>_destroy frees the row with every string and
   array in it and NULLs *self_p; xs_<type>_list_destroy frees every row of
   the list, the list, and NULLs *list_p. Both accept NULL and a NULL *p.
   --------------------------------------------------------------------- */

void xs_flavor_destroy (xs_flavor_t **self_p);
void xs_flavor_list_destroy (xs_flavor_t ***list_p);
void xs_backend_destroy (xs_backend_t **self_p);
void xs_backend_list_destroy (xs_backend_t ***list_p);
void xs_host_destroy (xs_host_t **self_p);
void xs_host_list_destroy (xs_host_t ***list_p);
void xs_sr_stats_destroy (xs_sr_stats_t **self_p);
void xs_sr_stats_list_destroy (xs_sr_stats_t ***list_p);
void xs_volume_destroy (xs_volume_t **self_p);
void xs_volume_list_destroy (xs_volume_t ***list_p);
void xs_job_destroy (xs_job_t **self_p);
void xs_job_list_destroy (xs_job_t ***list_p);
void xs_attempt_destroy (xs_attempt_t **self_p);
void xs_attempt_list_destroy (xs_attempt_t ***list_p);

/* ---------------------------------------------------------------------
   Reading rows
   --------------------------------------------------------------------- */

/* Value of config key `key` of a backend (borrowed from it), or NULL when absent. */
const char *xs_backend_config_get (const xs_backend_t *backend, const char *key);

/* Number of elements of a NULL-terminated row list (0 for NULL). */
size_t xs_rows_list_size (const void *list);

/* ---------------------------------------------------------------------
   JSON views. Each returns a new object the caller owns (json_decref), or
   NULL when a text field is not valid UTF-8 (jansson refuses such text;
   only a database written by something else holds it). A config value
   that is not valid UTF-8 is left out of its config object.
   --------------------------------------------------------------------- */

/* The admin protocol's flavor: {id, label, description, created_at}. */
json_t *xs_flavor_json (const xs_flavor_t *flavor);

/* A backend's device_config as an object of strings, in its order. With
   show_secrets false every secret value (xs_redact: password, chappassword,
   any key with "password" or "secret") is XS_REDACTED; with true the values
   are as stored, for the one place that needs them (see xs_backend_agent_json). */
json_t *xs_backend_config_json (const xs_backend_t *backend, bool show_secrets);

/* The admin protocol's backend, secrets REDACTED: {id, flavor_id, flavor,
   zone, sr_type, name_label, sr_uuid, state, error, ratio, reserve, shared,
   clone_snapshot, config, created_at}; shared and clone_snapshot are the SR
   type's (xs_srtype; false for an unknown type), ratio and reserve null when
   the catalog default applies. For listings, replies and logs. */
json_t *xs_backend_admin_json (const xs_backend_t *backend);

/* The agent protocol's *backend* object, secrets IN CLEAR: {backend_id,
   sr_type, name_label ("" when none), sr_uuid (or null), shared, create,
   device_config}. `shared` is the SR type's (xs_srtype; false for an
   unknown type); `create` asks this agent to create the SR. Only for the
   message to the agent that attaches the SR: never log or list it. */
json_t *xs_backend_agent_json (const xs_backend_t *backend, bool create);

/* The admin protocol's volume: {uuid, name, size, flavor, backend_id,
   vdi_uuid, host_uuid, state, error, parent_uuid, request_id, created_at,
   updated_at}; `flavor` is flavor_label (borrowed; null when NULL), the
   absent optional fields are null. */
json_t *xs_volume_json (const xs_volume_t *volume, const char *flavor_label);

/* One placement attempt as `volume show` lists it: {backend_id, host_uuid,
   outcome, reason, at}. */
json_t *xs_attempt_json (const xs_attempt_t *attempt);

/* One job as `volume show` lists it: {id, op, state, backend_id, host_uuid,
   error} (its args and result are not shown). */
json_t *xs_job_json (const xs_job_t *job);

#endif
