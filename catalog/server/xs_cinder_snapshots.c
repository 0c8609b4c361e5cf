/*  xs_cinder_snapshots: the Block Storage API's snapshots (create, list
    summary and detail, show, rename, delete) over the admin command table.

    A snapshot is a volume row that `volume_snapshot` made (VDI.snapshot of
    its parent, on the parent's backend, with the parent's size, flavor and
    project); its status is the row's state. Creates go through admin
    `volume_snapshot`, deletes through `volume_delete`, renames through
    `volume_rename`, reads through `volume_show` and `volume_list`: the
    same handlers and rules as `xensm-manage volume snapshot`.
*/
#include "xs_cinder_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_mem.h"

/* =========================================================================
    Views
   ========================================================================= */

/* A snapshot's own members: the holes of its template (s_snap_tmpl). */
enum {
    S_ID, S_NAME, S_VOLUME, S_STATUS, S_SIZE, S_CREATED, S_UPDATED, S_PROGRESS, S_PROJECT,
    S_HOLES
};

/* Cinder's snapshot summary, or detail (progress and project added), in
   Cinder's order, a hole for each member that is a snapshot's own. */
static xs_api_tmpl_t *
s_snap_tmpl (bool detail)
{
    json_t *h [S_HOLES];
    for (size_t i = 0; i < S_HOLES; i++)
        h [i] = xs_api_tmpl_hole (i);
    json_t *object = xs_nn (json_pack (
        "{s:O, s:O, s:n, s:O, s:O, s:O, s:O, s:O, s:{}, s:n, s:n, s:b}",
        "id", h [S_ID], "name", h [S_NAME], "description", "volume_id", h [S_VOLUME],
        "status", h [S_STATUS], "size", h [S_SIZE], "created_at", h [S_CREATED],
        "updated_at", h [S_UPDATED], "metadata", "user_id", "group_snapshot_id",
        "consumes_quota", 1));
    if (detail) {
        json_object_set (object, "os-extended-snapshot-attributes:progress", h [S_PROGRESS]);
        json_object_set (object, "os-extended-snapshot-attributes:project_id", h [S_PROJECT]);
    }
    xs_api_tmpl_t *tmpl = xs_nn (xs_api_tmpl_new (object, S_HOLES));
    json_decref (object);
    for (size_t i = 0; i < S_HOLES; i++)
        json_decref (h [i]);
    return tmpl;
}

/* The values of one snapshot, set in place snapshot after snapshot. */
typedef struct {
    json_t *own [S_HOLES];
    xs_api_val_t values [S_HOLES];
} s_snap_t;

static void
s_snap_init (s_snap_t *snap)
{
    for (size_t i = 0; i < S_HOLES; i++)
        snap->own [i] = i == S_SIZE ? xs_nn (json_integer (0)) : xs_nn (json_string (""));
}

static void
s_snap_fini (s_snap_t *snap)
{
    for (size_t i = 0; i < S_HOLES; i++)
        json_decref (snap->own [i]);
}

/* Sets the values to those of snapshot v. */
static void
s_snap_set (s_snap_t *snap, const xs_cinder_vol_t *v)
{
    char created [40], updated [40];
    xs_cinder_iso_time (v->created_at, created, sizeof created);
    xs_cinder_iso_time (v->updated_at, updated, sizeof updated);
    const char *state = v->state ? v->state : "error";
    json_t **own = snap->own;
    xs_api_val_t *val = snap->values;
    val [S_ID] = xs_api_val_text (own [S_ID], v->uuid);
    val [S_NAME] = xs_api_val_text (own [S_NAME], v->name);
    val [S_VOLUME] = xs_api_val_text (own [S_VOLUME], v->parent);
    val [S_STATUS] = xs_api_val_text (own [S_STATUS], state);
    val [S_SIZE] = xs_api_val_int (own [S_SIZE], (v->size + XS_CINDER_GIB - 1) / XS_CINDER_GIB);
    val [S_CREATED] = xs_api_val_text (own [S_CREATED], created);
    val [S_UPDATED] = xs_api_val_text (own [S_UPDATED], updated);
    val [S_PROGRESS] = xs_api_val_text (own [S_PROGRESS],
                                        streq (state, "available") ? "100%" : "0%");
    val [S_PROJECT] = xs_api_val_text (own [S_PROJECT], v->project ? v->project : "");
}

/* Cinder's snapshot detail of admin volume view v. New object. */
static json_t *
s_snapshot_view (const json_t *v)
{
    s_snap_t snap;
    s_snap_init (&snap);
    xs_cinder_vol_t vol = xs_cinder_vol_of_view (v);
    s_snap_set (&snap, &vol);
    xs_api_tmpl_t *tmpl = s_snap_tmpl (true);
    json_t *s = xs_api_tmpl_object (tmpl, snap.values);
    xs_api_tmpl_destroy (&tmpl);
    s_snap_fini (&snap);
    return s;
}

/* Answers {"snapshot": detail} with `status`, or 404 when v is no
   snapshot the caller may see (deleted, another project's, a volume). */
static void
s_reply_snapshot (xs_cinder_t *self, xs_api_req_t **req_p, unsigned status, const json_t *v,
                  const char *key)
{
    if (!v || !xs_cinder_visible (self, *req_p, xs_cinder_project (v))
    ||  streq (xs_cinder_str (v, "state"), "deleted") || !xs_cinder_view_is_snapshot (self, v)) {
        xs_api_reply_error (req_p, 404, "Snapshot %s could not be found.", key);
        return;
    }
    xs_api_reply_json (req_p, status, xs_nn (json_pack ("{s:o}", "snapshot",
                                                        s_snapshot_view (v))));
}

/* The snapshot of the route's {id} the caller may see, or NULL after a
   404 (answered). Caller destroys. */
static xs_volume_t *
s_route_snapshot (xs_cinder_t *self, xs_api_req_t **req_p)
{
    const char *id = xs_api_req_param (*req_p, "id");
    xs_volume_t *v = xs_cinder_is_uuid (id) ? xs_store_volume_get (self->store, id, NULL) : NULL;
    if (v && (v->state == XS_VOLUME_DELETED || !v->parent_uuid
          || !xs_cinder_visible (self, *req_p, v->project)
          || !xs_cinder_is_snapshot (self, v->uuid)))
        xs_volume_destroy (&v);
    if (!v)
        xs_api_reply_error (req_p, 404, "Snapshot %s could not be found.", id);
    return v;
}

/* =========================================================================
    Lists
   ========================================================================= */

/* GET /snapshots[/detail]: the caller's snapshots (all of them for an
   admin with all_tenants), filtered by name, status and volume_id, newest
   first, one page: a store query for the page alone (xs_cinder_page). */
static void
s_snapshot_list_route (xs_api_req_t *req, void *arg, bool detail)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    xs_api_page_t page;
    xs_err_t err;
    if (xs_api_req_page (req, &page, &err)) {       /* bad limit: before any work */
        xs_api_reply_err (&req, &err);
        return;
    }
    int64_t count = -1;
    xs_volume_t **rows = xs_cinder_page (self, &req, true, &page, &count);
    if (!rows)
        return;
    size_t n = xs_rows_list_size (rows);
    n = n < page.limit ? n : page.limit;
    xs_api_list_t *list = xs_api_list_new ("snapshots", 1024 + n * 512);
    xs_api_tmpl_t *tmpl = s_snap_tmpl (detail);
    s_snap_t snap;
    s_snap_init (&snap);
    for (size_t i = 0; i < n; i++) {
        xs_cinder_vol_t v = xs_cinder_vol_of_row (rows [i], NULL);
        s_snap_set (&snap, &v);
        xs_api_list_add_tmpl (list, tmpl, snap.values);
    }
    s_snap_fini (&snap);
    xs_api_tmpl_destroy (&tmpl);
    xs_cinder_reply_page (&req, &list, n ? rows [n - 1]->uuid : NULL, rows [n] != NULL,
                          "snapshots", detail ? "snapshots/detail" : "snapshots", &page, count);
    xs_volume_list_destroy (&rows);
}

void
xs_cinder_snapshots_detail (xs_api_req_t *req, void *arg)
{
    s_snapshot_list_route (req, arg, true);
}

void
xs_cinder_snapshots_summary (xs_api_req_t *req, void *arg)
{
    s_snapshot_list_route (req, arg, false);
}

/* =========================================================================
    Create, show, rename, delete
   ========================================================================= */

/* volume_snapshot's outcome: 202 with the snapshot; a snapshot whose job
   failed is a snapshot in `error` (202 too, found by the request id); a
   refusal is Cinder's error. */
static void
s_snapshot_create_done (xs_cinder_t *self, xs_api_req_t **req_p, xs_cinder_call_t *call,
                        const xs_reply_answer_t *answer)
{
    if (answer->result) {
        s_reply_snapshot (self, req_p, 202, json_object_get (answer->result, "volume"),
                          call->key);
        return;
    }
    xs_volume_t *v = xs_store_volume_get_by_request_id (self->store, xs_api_req_id (*req_p),
                                                        NULL);
    json_t *view = v ? xs_volume_view_by_uuid (self->store, v->uuid, NULL) : NULL;
    xs_volume_destroy (&v);
    if (view)
        s_reply_snapshot (self, req_p, 202, view, call->key);
    else
    if (answer->err->kind == XS_ECONFLICT)
        xs_api_reply_error (req_p, 400, "Invalid volume: %s", answer->err->msg);
    else
        xs_cinder_reply_failure (req_p, answer, 400);
    json_decref (view);
}

/* The volume a snapshot create names: live, visible, no snapshot itself,
   available. NULL after an answer (404, 400). Caller destroys. */
static xs_volume_t *
s_snapshot_parent (xs_cinder_t *self, xs_api_req_t **req_p, const char *volume_id)
{
    xs_volume_t *v = xs_cinder_is_uuid (volume_id)
                   ? xs_store_volume_get (self->store, volume_id, NULL) : NULL;
    if (v && (v->state == XS_VOLUME_DELETED || !xs_cinder_visible (self, *req_p, v->project)
          || (v->parent_uuid && xs_cinder_is_snapshot (self, v->uuid))))
        xs_volume_destroy (&v);
    if (!v)
        xs_api_reply_error (req_p, 404, "Volume %s could not be found.", volume_id);
    else
    if (v->state != XS_VOLUME_AVAILABLE) {
        xs_api_reply_error (req_p, 400, "Invalid volume: Volume %s status must be available, "
                            "but current status is: %s.", v->uuid,
                            xs_volume_state_name (v->state));
        xs_volume_destroy (&v);
    }
    return v;
}

void
xs_cinder_snapshot_create (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    json_t *body = NULL;
    const char *volume_id = NULL, *name = NULL, *description = NULL;
    bool force = false, has_force = false;
    xs_err_t err;
    if (xs_api_json_element (xs_api_req_json (req), "snapshot", &body, &err)
    ||  xs_api_json_string (body, "volume_id", 64, &volume_id, &err)
    ||  xs_api_json_string (body, "name", 255, &name, &err)
    ||  (!name && xs_api_json_string (body, "display_name", 255, &name, &err))
    ||  xs_api_json_string (body, "description", 255, &description, &err)
    ||  xs_api_json_bool (body, "force", &force, &has_force, &err)) {
        xs_api_reply_err (&req, &err);
        return;
    }
    if (xs_cinder_check_unstored (body, &req))
        return;
    if (!volume_id) {
        xs_api_reply_error (&req, 400, "Invalid input received: volume_id is required.");
        return;
    }
    xs_volume_t *v = s_snapshot_parent (self, &req, volume_id);
    if (!v)
        return;
    json_t *args = xs_nn (json_pack ("{s:s, s:s}", "uuid", v->uuid,
                                     "request_id", xs_api_req_id (req)));
    if (name && *name)
        json_object_set_new (args, "name", json_string (name));
    xs_cinder_call (self, req, "volume_snapshot", args, s_snapshot_create_done, NULL);
    xs_volume_destroy (&v);
}

static void
s_snapshot_show_done (xs_cinder_t *self, xs_api_req_t **req_p, xs_cinder_call_t *call,
                      const xs_reply_answer_t *answer)
{
    if (!answer->result && answer->err->kind != XS_ENOTFOUND)
        xs_cinder_reply_failure (req_p, answer, 500);
    else
        s_reply_snapshot (self, req_p, 200, json_object_get (answer->result, "volume"),
                          call->key);
}

void
xs_cinder_snapshot_show (xs_api_req_t *req, void *arg)
{
    const char *id = xs_api_req_param (req, "id");
    if (!xs_cinder_is_uuid (id)) {      /* OSC probes with names: a quick 404 */
        xs_api_reply_error (&req, 404, "Snapshot %s could not be found.", id);
        return;
    }
    xs_cinder_call ((xs_cinder_t *) arg, req, "volume_show",
                    xs_nn (json_pack ("{s:s}", "uuid", id)), s_snapshot_show_done, id);
}

/* PUT /snapshots/{id}: the name; description and metadata are not kept. */
void
xs_cinder_snapshot_update (xs_api_req_t *req, void *arg)
{
    xs_cinder_update ((xs_cinder_t *) arg, req, "snapshot", s_route_snapshot,
                      s_snapshot_show_done, s_snapshot_show_done);
}

void
xs_cinder_snapshot_delete (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    xs_volume_t *v = s_route_snapshot (self, &req);
    if (!v)
        return;
    if (v->state != XS_VOLUME_AVAILABLE && v->state != XS_VOLUME_ERROR
    &&  v->state != XS_VOLUME_ERROR_DELETING)
        xs_api_reply_error (&req, 400, "Invalid snapshot: Snapshot status must be available "
                            "or error and must not be part of a group. (snapshot %s is %s)",
                            v->uuid, xs_volume_state_name (v->state));
    else
        xs_cinder_call (self, req, "volume_delete", xs_nn (json_pack ("{s:s}", "uuid", v->uuid)),
                        xs_cinder_accepted, v->uuid);
    xs_volume_destroy (&v);
}
