/*  xs_store: the catalog's store. The ONLY code in xensm that speaks SQL.

    This header is the store's interface and names nothing of how the data is
    kept: the rows it hands out are xs_rows.h, its inputs are the spec
    structs below. Two databases stand behind it with the same contracts:
    an SQLite file (xs_store_lite.c says how it is kept) and a PostgreSQL
    server (xs_store_pg.c); xs_store_open picks one by the name given.

    One xs_store_t is one open catalog database, used by one process at a
    time: opening a database another store holds fails with XS_ECONFLICT. An
    acknowledged commit survives a crash or a power loss. The schema is
    migrated forward on open; a database written by a newer xensm is refused.

    Transactions: every operation outside xs_store_begin () is atomic on its
    own. Between xs_store_begin () and xs_store_commit () many operations
    share one transaction, so a daemon can group-commit a batch of requests;
    an operation that fails inside a transaction undoes only itself and leaves
    the transaction open for the caller to commit or roll back.

    Errors: every function takes `xs_err_t *err` last and returns -1 / NULL
    with a message naming the object and the reason:
      XS_ENOTFOUND  the named object does not exist;
      XS_ECONFLICT  already exists, still in use, unique/foreign-key conflict,
                    database already open elsewhere;
      XS_EINVAL     bad argument (unknown state, NULL required field, schema
                    newer than this program);
      XS_EIO        any other database or file failure, naming the database
                    ("catalog.db: database is locked (flavor silver)").
    The store never logs or prints config values (they may be secrets).

    Ids and times: backend, job and attempt ids are positive and never
    reused, even after a delete; 0 means "none". Timestamps are Unix time in
    milliseconds (xs_store_now_ms ()); the store stamps created_at and
    updated_at itself.

    Ownership: results are rows (xs_rows.h) or lists of rows the caller owns
    and frees with their destroy. Specs, like every other argument, are
    borrowed for the call and never kept.

    Not thread-safe: use one xs_store_t from one thread at a time.
*/
#ifndef XS_STORE_H_INCLUDED
#define XS_STORE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xs_err.h"
#include "xs_rows.h"

/* Highest schema version this code writes and reads. */
#define XS_STORE_SCHEMA_VERSION 7

typedef struct _xs_store_t xs_store_t;

/* ---------------------------------------------------------------------
   Specs: what the caller asks the store to write (every pointer borrowed)
   --------------------------------------------------------------------- */

/* One key=value of a backend's device config, as given. */
typedef struct {
    const char *key;            /* non-empty; distinct within a backend    */
    const char *value;          /* any text, kept whole                    */
} xs_kv_spec_t;

typedef struct {
    const char *flavor_label;   /* the flavor; when NULL, flavor_id is     */
    int64_t flavor_id;
    const char *zone;           /* required                                */
    const char *sr_type;        /* required: "nfs", "lvmoiscsi", ...       */
    const char *name_label;     /* NULL when not given                     */
    const char *sr_uuid;        /* an existing SR; NULL: one is created    */
    bool has_ratio;
    double ratio;               /* > 0                                     */
    bool has_reserve;
    double reserve;             /* 0..100                                  */
    size_t nconfig;             /* device_config, kept in this order       */
    const xs_kv_spec_t *config;
} xs_backend_spec_t;

typedef struct {
    const char *uuid;           /* required: the key                       */
    const char *zone;           /* required                                */
    const char *name;           /* may be NULL                             */
    const char *public_key;     /* may be NULL                             */
    xs_host_state_t state;
    int64_t last_seen;          /* 0 = now                                 */
} xs_host_spec_t;

/* What one host reports about one backend's SR. */
typedef struct {
    const char *host_uuid;      /* required; the host must exist           */
    int64_t backend_id;         /* the backend must exist                  */
    bool attached;
    bool has_stats;             /* false: the sizes are not known (NULL)   */
    int64_t physical_size;
    int64_t physical_utilisation;
    int64_t virtual_allocation;
    size_t ncapabilities;
    const char *const *capabilities;
} xs_sr_stats_spec_t;

/* A volume to insert (every field), or the new values of one to update
   (name, state, backend_id, vdi_uuid, host_uuid, error of uuid). */
typedef struct {
    const char *uuid;           /* required: the key                       */
    const char *name;           /* may be NULL                             */
    int64_t size_bytes;         /* >= 0                                    */
    int64_t flavor_id;          /* required on insert                      */
    int64_t backend_id;         /* 0 = not placed                          */
    const char *vdi_uuid;       /* may be NULL                             */
    const char *host_uuid;      /* may be NULL                             */
    xs_volume_state_t state;
    const char *error;          /* may be NULL                             */
    const char *parent_uuid;    /* snapshot/clone source; may be NULL      */
    const char *request_id;     /* idempotency key; NULL or non-empty      */
    const char *project;        /* owner (API tenant); NULL: "" (insert only) */
    int64_t updated_at;         /* update only: the stamp; 0: now          */
} xs_volume_spec_t;

/* A VDI made by a job (create, snapshot, clone), as xs_store_vdi_made
   records it. */
typedef struct {
    int64_t job_id;             /* the job, now done                       */
    const char *job_host;       /* the host the job row names              */
    const char *result;         /* JSON text of the agent's answer         */
    const char *volume_uuid;    /* now available                           */
    int64_t backend_id;
    const char *vdi_uuid;
    const char *host_uuid;      /* the agent that made it                  */
    bool attempt;               /* a create: its attempt succeeded         */
    int64_t at;                 /* the stamp; 0: now                       */
} xs_vdi_made_spec_t;

/* A job to insert (every field), or the new values of one to update
   (state, backend_id, host_uuid, result, error). */
typedef struct {
    const char *volume_uuid;    /* may be NULL; when given, must exist     */
    const char *op;             /* required: protocol op name              */
    const char *args;           /* JSON text; may be NULL                  */
    xs_job_state_t state;
    int64_t backend_id;         /* 0 = none                                */
    const char *host_uuid;      /* may be NULL                             */
    const char *result;         /* JSON text; may be NULL                  */
    const char *error;          /* may be NULL                             */
} xs_job_spec_t;

typedef struct {
    const char *volume_uuid;    /* required; must exist                    */
    int64_t backend_id;
    const char *host_uuid;      /* may be NULL                             */
    xs_attempt_outcome_t outcome;
    const char *reason;         /* may be NULL                             */
    int64_t at;                 /* 0 = now                                 */
} xs_attempt_spec_t;

/* ---------------------------------------------------------------------
   Opening, closing, transactions
   --------------------------------------------------------------------- */

/* Opens (creating when missing) the catalog database at `path`,
   takes it for this store alone and brings its schema to
   XS_STORE_SCHEMA_VERSION. Returns a store the caller destroys, or NULL
   with *err set: XS_ECONFLICT when another store holds the database,
   XS_EINVAL when it is not an xensm catalog or its schema is newer than
   this program, XS_EIO when it cannot be created, is not writable or is not
   a database. A failed open never modifies an existing database's data. */
xs_store_t *xs_store_new (const char *path, xs_err_t *err);

/* How to reach a database server (ignored for an SQLite file). */
typedef struct {
    /* A file whose first line is the password (mode 0600 or 0400), for a
       server that asks for one and no ~/.pgpass entry; NULL: none. The
       password is never taken from the command line nor logged. */
    const char *password_file;
    /* SQLite: open even though the write-ahead log of a catalog that was
       not closed cleanly is missing (someone deleted it: what was
       acknowledged since the last checkpoint is lost). Refused otherwise. */
    bool accept_lost_wal;
    /* PostgreSQL: several catalogd share the database. The open takes no
       exclusive lock (it fails with XS_ECONFLICT only when the database is
       held by a store opened without `shared`); one of them leads, by
       xs_store_lead. Ignored for an SQLite file, which stays one process's
       alone (a second store on it is XS_ECONFLICT, shared or not). */
    bool shared;
} xs_store_options_t;

/* Opens the catalog database `db`: a path is an SQLite file (as
   xs_store_new); "postgresql://..." or "postgres://..." is a libpq URI of a
   PostgreSQL database, which must exist (the store makes its tables) and
   which this store then holds alone (an advisory lock: a second store on
   it fails with XS_ECONFLICT). A URI that carries a password is refused
   (XS_EINVAL): use ~/.pgpass or options->password_file. `options` may be
   NULL. The contracts below are the same for both.

   PostgreSQL: when the connection is lost, the operation (or commit) that
   saw it fails with XS_EIO "<uri>: connection to the database lost ...",
   the open transaction is gone (nothing of it was committed), and the
   following calls reconnect, with a backoff from 100 ms to 5 s between
   attempts. */
xs_store_t *xs_store_open (const char *db, const xs_store_options_t *options,
                           xs_err_t *err);

/* "SQLite" or "PostgreSQL". */
const char *xs_store_kind (const xs_store_t *self);

/* Rolls back any open transaction, closes the database and lets another
   store open it. NULLs *self_p; idempotent. */
void xs_store_destroy (xs_store_t **self_p);

/* Schema version of the open database (XS_STORE_SCHEMA_VERSION), or -1. */
int xs_store_schema_version (xs_store_t *self);

/* How long an operation waits for a lock held by another connection to the
   database before failing with XS_EIO (default 5000 ms). */
void xs_store_set_busy_timeout (xs_store_t *self, int ms);

/* Starts a transaction. -1 when one is already open (XS_EINVAL) or the
   database refuses (XS_EIO). */
int xs_store_begin (xs_store_t *self, xs_err_t *err);

/* Commits the open transaction. On failure the transaction is rolled back
   and nothing of it is stored. -1 when none is open. */
int xs_store_commit (xs_store_t *self, xs_err_t *err);

/* Rolls back the open transaction; 0 (nothing to do) when none is open. */
int xs_store_rollback (xs_store_t *self, xs_err_t *err);

/* True between xs_store_begin and xs_store_commit/rollback. When a failure
   made the database roll the transaction back (the error then says so), it
   stays true: every operation fails with the reason, and so does the commit
   (nothing of it is stored), until the caller commits or rolls back; a
   group commit never acknowledges what was lost. */
bool xs_store_in_transaction (const xs_store_t *self);

/* Statements the store has run since it was opened (every read and write,
   BEGIN and COMMIT included): what a request costs in the store, for tests
   that pin it (an API create reads no whole table). */
uint64_t xs_store_statements (const xs_store_t *self);

/* The same counted as round trips to a database server, on either store:
   a group of writes sent as one pipeline (xs_store_vdi_made), with its
   savepoint and its read-back, counts once. What a request waits for on
   PostgreSQL, for tests that pin it (a create: test_create_cost). */
uint64_t xs_store_round_trips (const xs_store_t *self);

/* Current Unix time in milliseconds (the store's timestamps). */
int64_t xs_store_now_ms (void);

/* ---------------------------------------------------------------------
   Flavors
   --------------------------------------------------------------------- */

/* Creates flavor `label` (non-empty) with `description` (NULL = "").
   Returns its id, or -1: XS_ECONFLICT "flavor gold: already exists". */
int64_t xs_store_flavor_create (xs_store_t *self, const char *label,
                                const char *description, xs_err_t *err);

/* The flavor, or NULL (XS_ENOTFOUND "flavor gold: not found"). Caller destroys. */
xs_flavor_t *xs_store_flavor_get (xs_store_t *self, const char *label, xs_err_t *err);
xs_flavor_t *xs_store_flavor_get_by_id (xs_store_t *self, int64_t id, xs_err_t *err);

/* Every flavor in id order (possibly empty), or NULL on error. Caller destroys. */
xs_flavor_t **xs_store_flavor_list (xs_store_t *self, xs_err_t *err);

/* Deletes flavor `label`. Refused while backends or live volumes use it:
   XS_ECONFLICT "flavor gold: 2 backends still use it". A volume in error
   without a VDI (a create that failed everywhere) holds nothing and does
   not count. XS_ENOTFOUND when absent. Deleted and such failed volumes
   keep their history with flavor_id 0. */
int xs_store_flavor_delete (xs_store_t *self, const char *label, xs_err_t *err);

/* ---------------------------------------------------------------------
   Backends
   --------------------------------------------------------------------- */

/* Adds a backend from `spec`, in one atomic step with its config:
     spec->flavor_label (or, when NULL, spec->flavor_id) names an existing
       flavor (else XS_ENOTFOUND);
     spec->zone and spec->sr_type are required (non-empty);
     spec->name_label, spec->sr_uuid are optional (NULL; sr_uuid not "");
     spec->has_ratio/ratio (> 0), spec->has_reserve/reserve (0..100);
     spec->config[0..nconfig): keys non-empty and distinct (XS_EINVAL
       otherwise), values any string, kept whole and in order.
   A new backend is `new`. An sr_uuid already used by another backend is
   XS_ECONFLICT. Returns the new id, or -1 (and nothing is stored). */
int64_t xs_store_backend_add (xs_store_t *self, const xs_backend_spec_t *spec,
                              xs_err_t *err);

/* Backend `id` with its config, or NULL (XS_ENOTFOUND). Caller destroys. */
xs_backend_t *xs_store_backend_get (xs_store_t *self, int64_t id, xs_err_t *err);

/* Backends with their config, in id order (possibly empty), or NULL on error.
   _by_flavor is the placement order of that flavor. Caller destroys. */
xs_backend_t **xs_store_backend_list (xs_store_t *self, xs_err_t *err);
xs_backend_t **xs_store_backend_list_by_flavor (xs_store_t *self, int64_t flavor_id,
                                                xs_err_t *err);
xs_backend_t **xs_store_backend_list_by_zone (xs_store_t *self, const char *zone,
                                              xs_err_t *err);

/* Backends as xs_store_backend_list has them but without their config
   (nconfig 0): one query, for what needs their rows alone (zones). */
xs_backend_t **xs_store_backend_list_rows (xs_store_t *self, xs_err_t *err);

/* The id of flavor_id's first backend with an id above `after` (placement
   order), 0 when there is none, -1 on error. One index lookup: placement
   walks the flavor's backends with it without loading them all. */
int64_t xs_store_backend_next_of_flavor (xs_store_t *self, int64_t flavor_id, int64_t after,
                                         xs_err_t *err);

/* Removes backend `id` (its config and SR reports go with it). Refused while
   live volumes are on it: XS_ECONFLICT "backend 3: 2 volumes still live on
   it", and while a volume operation journaled on it is unfinished (a create
   placed there): XS_ECONFLICT "backend 3: 1 volume operation in progress on
   it (volume <uuid>: vdi_create); wait for it to finish". Deleted volumes
   keep their history with backend_id 0. */
int xs_store_backend_remove (xs_store_t *self, int64_t id, xs_err_t *err);

/* Sets the state and the error text (NULL clears it). */
int xs_store_backend_set_state (xs_store_t *self, int64_t id, xs_backend_state_t state,
                                const char *error, xs_err_t *err);

/* Shorthand for set_state (id, XS_BACKEND_ERROR, error). */
int xs_store_backend_set_error (xs_store_t *self, int64_t id, const char *error,
                                xs_err_t *err);

/* Records the uuid of the SR made for backend `id`. Only once: when the
   backend already has a different sr_uuid, XS_ECONFLICT (only one agent ever
   creates a backend's SR); setting the same uuid again is a no-op success.
   An sr_uuid used by another backend is XS_ECONFLICT too. */
int xs_store_backend_set_sr_uuid (xs_store_t *self, int64_t id, const char *sr_uuid,
                                  xs_err_t *err);

/* ---------------------------------------------------------------------
   Hosts and their SR reports
   --------------------------------------------------------------------- */

/* Inserts or updates host spec->uuid: zone (required), name, public_key,
   state, last_seen (0 = now). created_at is kept on update. */
int xs_store_host_upsert (xs_store_t *self, const xs_host_spec_t *host, xs_err_t *err);

/* Host `uuid`, or NULL (XS_ENOTFOUND). Caller destroys. */
xs_host_t *xs_store_host_get (xs_store_t *self, const char *uuid, xs_err_t *err);

/* Hosts ordered by zone then uuid; only zone `zone` when not NULL. Caller
   destroys. */
xs_host_t **xs_store_host_list (xs_store_t *self, const char *zone, xs_err_t *err);

/* What project `project` uses: its volumes not deleted, told apart into
   volumes and snapshots (a copy whose first job was vdi_snapshot), and
   their size in GiB, each rounded up. One query (index volume_by_project),
   never a walk over every volume. */
typedef struct {
    int64_t volumes;
    int64_t snapshots;
    int64_t gigabytes;
} xs_volume_usage_t;
int xs_store_volume_usage (xs_store_t *self, const char *project, xs_volume_usage_t *usage,
                           xs_err_t *err);

/* The snapshots (not deleted) of volume `uuid`, or -1 with *err. */
int64_t xs_store_volume_snapshots_of (xs_store_t *self, const char *uuid, xs_err_t *err);

/* The volumes not deleted, counted by flavor label and state: an array
   of {"flavor": label or null, "state", "count"}. Caller decrefs. */
json_t *xs_store_volume_counts (xs_store_t *self, xs_err_t *err);

/* Sets host `uuid`'s state. XS_ENOTFOUND when absent. */
int xs_store_host_set_state (xs_store_t *self, const char *uuid, xs_host_state_t state,
                             xs_err_t *err);

/* Sets last_seen to `when` (0 = now). XS_ENOTFOUND when absent. */
int xs_store_host_touch (xs_store_t *self, const char *uuid, int64_t when, xs_err_t *err);

/* Deletes host `uuid` and its SR reports. XS_ENOTFOUND when absent. */
int xs_store_host_remove (xs_store_t *self, const char *uuid, xs_err_t *err);

/* Inserts or replaces what host stats->host_uuid reports about backend
   stats->backend_id (both must exist: XS_ENOTFOUND naming the missing one):
   attached, the sizes (unknown when !has_stats), capabilities. updated_at is
   set to now. */
int xs_store_sr_stats_upsert (xs_store_t *self, const xs_sr_stats_spec_t *stats,
                              xs_err_t *err);

/* Sets only the attached flag of (host, backend), creating the report with
   no stats when missing; the stats already reported are kept. */
int xs_store_sr_set_attached (xs_store_t *self, const char *host_uuid, int64_t backend_id,
                              bool attached, xs_err_t *err);

/* ---------------------------------------------------------------------
   Volumes
   --------------------------------------------------------------------- */

/* Inserts vol (uuid, flavor_id, size_bytes >= 0 required; the other fields
   as given). XS_ECONFLICT for an existing uuid ("volume U: already exists")
   or request id ("volume request R: already used by volume U");
   XS_ENOTFOUND for an unknown flavor or backend. */
int xs_store_volume_insert (xs_store_t *self, const xs_volume_spec_t *vol, xs_err_t *err);

/* Volume `uuid`, or NULL (XS_ENOTFOUND). Caller destroys. */
xs_volume_t *xs_store_volume_get (xs_store_t *self, const char *uuid, xs_err_t *err);

/* The volume made for request id `request_id`, or NULL (XS_ENOTFOUND).
   Caller destroys. */
xs_volume_t *xs_store_volume_get_by_request_id (xs_store_t *self, const char *request_id,
                                                xs_err_t *err);

/* Volumes in creation order; deleted ones only when include_deleted.
   Caller destroys. */
xs_volume_t **xs_store_volume_list (xs_store_t *self, bool include_deleted, xs_err_t *err);

/* What one page of a volume (or snapshot) list selects, as the Block
   Storage API lists them. Every pointer is borrowed; NULL means "any". */
typedef struct {
    const char *project;        /* the owner; NULL: every project          */
    bool snapshots;             /* true: snapshots only (a copy whose first
                                   job was vdi_snapshot); false: the rest  */
    const char *name;           /* exactly this name ("": the unnamed)     */
    const char *state;          /* a state name ("available", ...)         */
    const char *parent_uuid;    /* copies of this volume only              */
    const char *marker;         /* uuid of the last row seen: rows after it */
    int64_t offset;             /* rows skipped after the marker (>= 0)    */
    int64_t limit;              /* rows wanted (>= 1)                      */
} xs_volume_page_spec_t;

/* One page: the volumes spec selects, never deleted ones, newest first
   (created_at descending, then uuid descending, byte order), after the
   marker, skipping `offset`, at most limit + 1 of them (the extra one says
   a next page exists). One index range scan (schema step 5), never a walk
   over every volume. A marker that is not a row spec selects (unknown,
   deleted, another project's, the other kind, filtered out) is
   XS_ENOTFOUND "marker <uuid>: not found". NULL-terminated; caller
   destroys; NULL with *err. */
xs_volume_t **xs_store_volume_page (xs_store_t *self, const xs_volume_page_spec_t *spec,
                                    xs_err_t *err);

/* How many volumes spec selects (marker, offset and limit ignored), or -1
   with *err. A count walks the selection: for `with_count`, not for pages. */
int64_t xs_store_volume_page_count (xs_store_t *self, const xs_volume_page_spec_t *spec,
                                    xs_err_t *err);

/* Up to `limit` volumes (snapshots and clones included) in state
   `creating` whose uuid sorts after `after` (byte order; "" for the
   first), in that order: an index range scan over such rows only (schema
   6). Caller destroys. */
xs_volume_t **xs_store_volume_list_creating (xs_store_t *self, const char *after, int limit,
                                             xs_err_t *err);

/* The volumes in state `error` that a request created (request_id set),
   oldest first (created_at, then uuid): only project's when project is
   not NULL. An index range scan over such rows only (schema 7): the
   Block Storage API's user messages. Caller destroys. */
xs_volume_t **xs_store_volume_list_errors (xs_store_t *self, const char *project,
                                           xs_err_t *err);

/* Records a VDI made (a job's answer) as one, all or none: the job done
   with its result, the volume available on the VDI (error cleared) and,
   for a create, its successful placement attempt; one round trip on
   PostgreSQL (with the volume read back in the same pipeline). Returns
   the volume as written (caller destroys), or NULL with *err, nothing of
   it then stored (but for XS_ENOTFOUND: the job or the volume was gone,
   and what matched was written). */
xs_volume_t *xs_store_vdi_made (xs_store_t *self, const xs_vdi_made_spec_t *made,
                                xs_err_t *err);

/* Writes the mutable fields of volume vol->uuid: name, state, backend_id,
   vdi_uuid, host_uuid, error (the other fields of vol are ignored); stamps
   updated_at (vol->updated_at, or now when 0: a caller that answers with
   the row it wrote, without reading it back, gives the stamp). XS_ENOTFOUND when the volume or the backend is absent. */
int xs_store_volume_update (xs_store_t *self, const xs_volume_spec_t *vol, xs_err_t *err);

/* Sets the size of volume `uuid` (size_bytes >= 0; an extended volume's
   new size), its state and error text (NULL clears it); stamps
   updated_at. XS_ENOTFOUND when the volume is absent. */
int xs_store_volume_set_size (xs_store_t *self, const char *uuid, int64_t size_bytes,
                              xs_volume_state_t state, const char *error, xs_err_t *err);

/* Sets state and error text (NULL clears it); stamps updated_at. */
int xs_store_volume_set_state (xs_store_t *self, const char *uuid, xs_volume_state_t state,
                               const char *error, xs_err_t *err);

/* ---------------------------------------------------------------------
   The job journal and placement attempts
   --------------------------------------------------------------------- */

/* Inserts a job (op required; volume_uuid, when given, must exist:
   XS_ENOTFOUND). Returns its id, or -1. */
int64_t xs_store_job_insert (xs_store_t *self, const xs_job_spec_t *job, xs_err_t *err);

/* Writes job `id`'s state, backend_id, host_uuid, result, error from `job`
   (its volume_uuid, op and args are ignored); stamps updated_at.
   XS_ENOTFOUND when absent. */
int xs_store_job_update (xs_store_t *self, int64_t id, const xs_job_spec_t *job,
                         xs_err_t *err);

/* Pending and dispatched jobs in id order (what a restart resumes). Caller
   destroys. */
xs_job_t **xs_store_job_list_unfinished (xs_store_t *self, xs_err_t *err);

/* Every job of volume `uuid` in id order. Caller destroys. */
xs_job_t **xs_store_job_list_by_volume (xs_store_t *self, const char *volume_uuid,
                                        xs_err_t *err);

/* Records a placement attempt (the volume must exist: XS_ENOTFOUND).
   Returns its id or -1. */
int64_t xs_store_attempt_insert (xs_store_t *self, const xs_attempt_spec_t *attempt,
                                 xs_err_t *err);

/* Attempts for volume `uuid` in the order they were made. Caller destroys. */
xs_attempt_t **xs_store_attempt_list_by_volume (xs_store_t *self, const char *volume_uuid,
                                                xs_err_t *err);

/* ---------------------------------------------------------------------
   Inspection. The daemon does not need these today; they are part of the
   interface because they are how the tests (and a second store's
   conformance tests) see what the writes above did without reaching past
   the interface into the database, and what a status page would show.
   --------------------------------------------------------------------- */

typedef struct {
    int64_t flavors;
    int64_t backends;
    int64_t hosts;
    int64_t hosts_up;
    int64_t volumes;            /* every row, deleted ones included        */
    int64_t volumes_live;       /* xs_volume_state_is_live                 */
    int64_t jobs_unfinished;    /* pending or dispatched                   */
} xs_store_counts_t;

/* ---------------------------------------------------------------------
   Leadership: several catalogd on one PostgreSQL database, one leader

   The leader holds the session advisory lock of the database and the one
   row of catalog_leader: its fencing generation, instance name and
   addresses, since when it leads and until when its lease runs (the
   database's clock). Taking over increments the generation. From then on
   EVERY transaction of the leading store (xs_store_begin, and each
   operation outside one) checks in that same transaction that the
   generation is still its own and locks the row for share: a leader that
   was paused (SIGSTOP) while another took over can never write again; its
   operations fail with XS_ENOTLEADER and it must step down. A leader whose
   connection was lost (and so its lock) is fenced the same way and may
   lead again only through xs_store_lead.

   An instance that finds the lock held waits; when the holder's lease has
   expired (a paused leader, a dead network) it ends the holder's database
   session (pg_terminate_backend: same role) and takes the lock.

   SQLite: one process per file, so xs_store_lead always succeeds at once;
   the tables are the same, so catalog status reads alike.
   --------------------------------------------------------------------- */

#define XS_STORE_NAME_MAX 256

/* Who this catalogd is (every pointer borrowed). */
typedef struct {
    const char *instance;       /* required: unique per catalogd           */
    const char *admin_endpoint; /* may be NULL                             */
    const char *agent_endpoint; /* may be NULL                             */
    const char *api_endpoint;   /* may be NULL                             */
    int64_t lease_ms;           /* the lease a leader renews; > 0          */
} xs_store_instance_t;

/* The leader row, or one instance row (times in ms of the database's clock;
   `now` is that clock when read). generation 0: nobody has led yet. */
typedef struct {
    int64_t generation;         /* the leader's (0 in an instance row)     */
    char instance [XS_STORE_NAME_MAX];
    char admin_endpoint [XS_STORE_NAME_MAX];
    char agent_endpoint [XS_STORE_NAME_MAX];
    char api_endpoint [XS_STORE_NAME_MAX];
    int64_t since;              /* leader since; instance: started at      */
    int64_t until;              /* lease end; instance: last seen          */
    int64_t now;
} xs_store_leader_t;

/* Records `me` in catalog_instance (seen now) and tries to lead: returns 1
   when this store now leads (a new generation, *leader is the row), 0
   when another instance leads (*leader says which; an expired holder's
   session is ended on the way so the next attempt can win), -1 on error.
   Called again while leading, it renews the lease and the addresses (1),
   or finds the store fenced (-1, XS_ENOTLEADER). Outside a transaction
   only. */
int xs_store_lead (xs_store_t *self, const xs_store_instance_t *me,
                   xs_store_leader_t *leader, xs_err_t *err);

/* Gives leadership up (lease ended now; the lock goes with the session).
   Nothing when not leading. 0 or -1. */
int xs_store_resign (xs_store_t *self, xs_err_t *err);

/* The generation this store leads with; 0 when it does not lead. */
int64_t xs_store_lead_generation (const xs_store_t *self);

/* True once a takeover by another instance (or the loss of the leader's
   connection) was seen: every write fails with XS_ENOTLEADER until the
   store leads again through xs_store_lead. */
bool xs_store_fenced (const xs_store_t *self);

/* The leader row (generation 0: nobody led yet). 0 or -1. */
int xs_store_leader_get (xs_store_t *self, xs_store_leader_t *leader, xs_err_t *err);

/* Every instance recorded, by name, as a calloc'd array of *count rows
   (caller frees with free ()); NULL with *count 0 when there are none or
   on error (then *err is set and -1 in *count). */
xs_store_leader_t *xs_store_instance_list (xs_store_t *self, int *count, xs_err_t *err);

/* Fills *counts, all read in one consistent snapshot. 0 or -1. */
int xs_store_counts (xs_store_t *self, xs_store_counts_t *counts, xs_err_t *err);

/* Job `id`, or NULL (XS_ENOTFOUND). Caller destroys. */
xs_job_t *xs_store_job_get (xs_store_t *self, int64_t id, xs_err_t *err);

/* SR reports, filtered by backend (0 = any) and host (NULL = any), ordered
   by backend id then host uuid. Caller destroys. */
xs_sr_stats_t **xs_store_sr_stats_list (xs_store_t *self, int64_t backend_id,
                                        const char *host_uuid, xs_err_t *err);

/* Number of live volumes (xs_volume_state_is_live) placed on backend `id`:
   what xs_store_backend_remove refuses on. -1 on error. */
int64_t xs_store_backend_live_volumes (xs_store_t *self, int64_t id, xs_err_t *err);

#endif
