/*  xs_cinder_int: what the files of xs_cinder share. Private to them:
    xs_cinder.c (life cycle and the route table), xs_cinder_util.c (helpers,
    Cinder's error shapes, calling the admin table), xs_cinder_volumes.c,
    xs_cinder_types.c, xs_cinder_views.c (zones, limits, quotas, messages).
*/
#ifndef XS_CINDER_INT_H_INCLUDED
#define XS_CINDER_INT_H_INCLUDED

#include <jansson.h>

#include "xs_api.h"
#include "xs_cinder.h"
#include "xs_metrics.h"
#include "xs_reply.h"

#define XS_CINDER_GIB (1024LL * 1024 * 1024)

struct _xs_cinder_t {
    xs_api_t *api;
    xs_admin_t *admin;              /* borrowed: the one command table         */
    xs_store_t *store;              /* borrowed: views only                    */
    bool keystone;
    char *noauth_admin;             /* noauth: this project is admin           */
    char *default_zone;             /* zone of a volume not placed (yet)       */
    int64_t quota_volumes;          /* -1: unlimited                           */
    int64_t quota_gigabytes;
    char *endpoint;
    xs_metrics_t *metrics;          /* borrowed, for GET /metrics; NULL: none  */
    xs_hosts_t *hosts;              /* borrowed, for GET /metrics              */
};

/* =========================================================================
    Helpers (xs_cinder_util.c)
   ========================================================================= */

/* "2026-12-07T04:17:10.541000" (UTC, no zone, as Cinder) from Unix ms. */
void xs_cinder_iso_time (int64_t ms, char *buf, size_t size);

/* A name-based uuid (SHA-1, version 5 layout) of prefix + name. */
void xs_cinder_name_uuid (const char *prefix, const char *name, char buf [37]);

/* The id of the type of flavor `label`. */
void xs_cinder_type_id (const char *label, char buf [37]);

/* True for a canonical uuid (8-4-4-4-12 hex). */
bool xs_cinder_is_uuid (const char *s);

/* obj's string member key, or NULL. Borrowed. */
const char *xs_cinder_str (const json_t *obj, const char *key);

/* "1", "true", "yes" (any case). */
bool xs_cinder_truthy (const char *v);

/* Whether the caller is an admin: keystone's admin role; with noauth, the
   project named api_noauth_project (so that projects are isolated). */
bool xs_cinder_admin (const xs_cinder_t *self, const xs_api_req_t *req);

/* Whether the caller may see an object of `project`. */
bool xs_cinder_visible (const xs_cinder_t *self, const xs_api_req_t *req, const char *project);

/* Refuses a non-admin with 403; true when it did. */
bool xs_cinder_refuse_non_admin (const xs_cinder_t *self, xs_api_req_t **req_p);

/* An admin command's failure as Cinder's error: its kind's status, or
   conflict_status for a conflict (400 "Invalid ..." for most of Cinder). */
void xs_cinder_reply_failure (xs_api_req_t **req_p, const xs_reply_answer_t *answer,
                              unsigned conflict_status);

/* A string, or JSON null for NULL. New reference. */
json_t *xs_cinder_null_or (const char *s);

/* backend id (as text) -> zone, from the store. New object. */
json_t *xs_cinder_zone_map (xs_cinder_t *self);

/* A project's usage, counted from the catalog (live rows). */
typedef struct {
    int64_t volumes;            /* snapshots not counted                   */
    int64_t snapshots;
    int64_t gigabytes;          /* of both, each rounded up to a GiB       */
} xs_cinder_usage_t;

/* Fills *used for project. 0 or -1 with *err. */
int xs_cinder_usage (xs_cinder_t *self, const char *project, xs_cinder_usage_t *used,
                     xs_err_t *err);

/* Refuses (400, answered; true) a description or metadata that is not
   empty: xensm keeps neither, and saying so beats dropping them. */
bool xs_cinder_check_unstored (json_t *body, xs_api_req_t **req_p);

/* An admin volume view's project ("" when it has none). Borrowed. */
const char *xs_cinder_project (const json_t *v);

/* A volume (or snapshot) as the Cinder views need it, from a store row or
   from an admin volume view (strings borrowed from either). */
typedef struct {
    const char *uuid, *name, *state, *flavor, *parent, *project;
    int64_t size, backend_id, created_at, updated_at;
} xs_cinder_vol_t;

/* Admin volume view v's. */
xs_cinder_vol_t xs_cinder_vol_of_view (const json_t *v);

/* Row v's, its flavor's label `flavor` ("" when the flavor is gone). */
xs_cinder_vol_t xs_cinder_vol_of_row (const xs_volume_t *v, const char *flavor);

/* =========================================================================
    Snapshots are volumes made by vdi_snapshot (their first job); the API
    shows them as snapshots and keeps them out of the volume lists.
   ========================================================================= */

/* Whether volume `uuid` is a snapshot. */
bool xs_cinder_is_snapshot (xs_cinder_t *self, const char *uuid);

/* Whether admin volume view v is a snapshot (it has a parent, and is). */
bool xs_cinder_view_is_snapshot (xs_cinder_t *self, const json_t *v);

/* The live snapshots of volume `uuid`. */
size_t xs_cinder_snapshot_count (xs_cinder_t *self, const char *uuid);

/* =========================================================================
    Lists
   ========================================================================= */

/* The page of volumes (snapshots when `snapshots`) the request lists:
   the caller's (everyone's for an admin with all_tenants), not deleted,
   filtered by the query's name and status (and volume_id for snapshots),
   newest first (ties by uuid), from page's marker and offset: at most
   page->limit + 1 rows (one more than the page: a next page follows).
   *count is the total with with_count, else -1. A NULL-terminated list
   the caller destroys, or NULL after an answer (Cinder's 400 for an
   unknown marker, 500 for a store failure). */
xs_volume_t **xs_cinder_page (xs_cinder_t *self, xs_api_req_t **req_p, bool snapshots,
                              const xs_api_page_t *page, int64_t *count);

/* The flavor of id in `flavors` (borrowed), or NULL when it is gone. */
const xs_flavor_t *xs_cinder_flavor_of (xs_flavor_t **flavors, int64_t id);

/* Answers 200 {key: the list's items (taken: one page, written under
   `key`), key_links: next when `more` follow (after last_id, the last
   item's id), count when count >= 0}. path is the collection's
   ("volumes/detail"). */
void xs_cinder_reply_page (xs_api_req_t **req_p, xs_api_list_t **list_p, const char *last_id,
                           bool more, const char *key, const char *path,
                           const xs_api_page_t *page, int64_t count);

/* =========================================================================
    Calling the admin table: a reply whose sink answers the HTTP request
   ========================================================================= */

typedef struct _xs_cinder_call_t xs_cinder_call_t;
typedef void (xs_cinder_done_fn) (xs_cinder_t *self, xs_api_req_t **req_p,
                                  xs_cinder_call_t *call, const xs_reply_answer_t *answer);

struct _xs_cinder_call_t {
    xs_cinder_t *self;
    xs_api_req_t *req;              /* NULL once the client has gone           */
    xs_cinder_done_fn *done;
    char *key;                      /* the id or name the route was given      */
};

/* Runs admin command `cmd` with args (taken) for req; done answers req
   with the outcome, now or once the command's reply is complete (the
   request is parked meanwhile). key (copied) is kept in call->key. */
void xs_cinder_call (xs_cinder_t *self, xs_api_req_t *req, const char *cmd, json_t *args,
                     xs_cinder_done_fn *done, const char *key);

/* A done function for commands whose success is a bare 202 (deletes,
   actions): 202, or Cinder's error for the failure (400 for a conflict). */
xs_cinder_done_fn xs_cinder_accepted;

/* The row of the route's {id} the caller may see (a volume, a snapshot),
   or NULL after a 404 (answered). Caller destroys. */
typedef xs_volume_t *(xs_cinder_find_fn) (xs_cinder_t *self, xs_api_req_t **req_p);

/* PUT /volumes/{id} and /snapshots/{id}: the name ("name", or
   "display_name" as OSC sends it) from the body's `element`; description
   and metadata are not kept (refused unless empty). The row comes from
   find; a new name runs volume_rename answered by renamed, none runs
   volume_show answered by shown. */
void xs_cinder_update (xs_cinder_t *self, xs_api_req_t *req, const char *element,
                       xs_cinder_find_fn *find, xs_cinder_done_fn *renamed,
                       xs_cinder_done_fn *shown);

/* =========================================================================
    Route handlers
   ========================================================================= */

/* xs_cinder_volumes.c */
xs_api_handler_fn xs_cinder_volumes_detail, xs_cinder_volumes_summary, xs_cinder_volume_create,
    xs_cinder_volume_show, xs_cinder_volume_delete, xs_cinder_volume_update,
    xs_cinder_volume_action;

/* xs_cinder_types.c */
xs_api_handler_fn xs_cinder_types, xs_cinder_type_create, xs_cinder_type_show,
    xs_cinder_type_delete, xs_cinder_type_extra_specs, xs_cinder_type_extra_specs_set;

/* xs_cinder_snapshots.c */
xs_api_handler_fn xs_cinder_snapshots_detail, xs_cinder_snapshots_summary,
    xs_cinder_snapshot_create, xs_cinder_snapshot_show, xs_cinder_snapshot_delete,
    xs_cinder_snapshot_update;

/* xs_cinder_views.c */
xs_api_handler_fn xs_cinder_metrics, xs_cinder_zones, xs_cinder_limits, xs_cinder_quota_show, xs_cinder_messages,
    xs_cinder_message_show;

#endif
