/*  xs_cinder_volumes: the Block Storage API's volume routes (list, show,
    create, delete, update, actions) over the admin command table.
*/
#include "xs_cinder_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_mem.h"
#include "xs_volumes.h"

#define S_MAX_GIB (1LL << 20)                   /* 1 PiB in GiB                */

/* =========================================================================
    Views
   ========================================================================= */

/* The members of Cinder's volume detail that are a volume's own: the
   holes of the reply's template (s_view_tmpl). */
enum {
    S_ID, S_NAME, S_STATUS, S_SIZE, S_TYPE, S_TYPE_ID, S_ZONE, S_CREATED, S_UPDATED,
    S_SNAPSHOT, S_SOURCE, S_HREF, S_TENANT, S_HOST, S_HOLES
};

/* What the volumes of one reply share, made once per reply: the
   template, the self links' prefix, the zones, the JSON text of each
   distinct status, flavor, type id, zone, host and project (dumped once,
   for every row that has it), and the values of one row, set in place
   row after row. */
typedef struct {
    xs_cinder_t *self;
    json_t *zones;              /* backend id as text -> zone (borrowed)   */
    xs_api_tmpl_t *tmpl;        /* the detail, or the summary              */
    char *href;                 /* "<base>/v3[/<project>]/volumes/<uuid>"  */
    size_t href_len;            /* of the prefix, up to "volumes/"         */
    size_t href_cap;
    json_t *shared;             /* text -> its JSON text                   */
    json_t *type_ids;           /* flavor label -> its type id's JSON text */
    xs_api_val_t null;          /* JSON null's text                        */
    json_t *null_text;
    json_t *own [S_HOLES];      /* the row's own strings and size          */
    xs_api_val_t values [S_HOLES];      /* the row's values                */
} s_view_t;

/* Cinder's volume detail (summary: its id, name and links), in Cinder's
   order, with a hole for each member that is a volume's own. Nothing
   here attaches, encrypts, replicates, groups or migrates a volume, nor
   keeps a description or metadata: the rest is the same for every one. */
static xs_api_tmpl_t *
s_view_tmpl (bool detail)
{
    json_t *h [S_HOLES];
    for (size_t i = 0; i < S_HOLES; i++)
        h [i] = xs_api_tmpl_hole (i);
    json_t *links = xs_nn (json_pack ("[{s:s, s:O}]", "rel", "self", "href", h [S_HREF]));
    json_t *object = detail
        ? json_pack ("{s:O, s:O, s:O, s:O, s:O, s:O, s:{}, s:[], s:s, s:O, s:O, s:O, s:n,"
                     " s:O, s:O, s:n, s:b, s:n, s:n, s:b, s:n, s:O, s:O, s:O, s:n, s:n,"
                     " s:b, s:n, s:n, s:b, s:n}",
                     "id", h [S_ID], "name", h [S_NAME], "status", h [S_STATUS],
                     "size", h [S_SIZE], "volume_type", h [S_TYPE],
                     "volume_type_id", h [S_TYPE_ID], "metadata", "attachments",
                     "bootable", "false", "availability_zone", h [S_ZONE],
                     "created_at", h [S_CREATED], "updated_at", h [S_UPDATED], "description",
                     "snapshot_id", h [S_SNAPSHOT], "source_volid", h [S_SOURCE], "user_id",
                     "encrypted", 0, "replication_status", "consistencygroup_id",
                     "multiattach", 0, "migration_status", "links", links,
                     "os-vol-tenant-attr:tenant_id", h [S_TENANT],
                     "os-vol-host-attr:host", h [S_HOST], "group_id", "provider_id",
                     "shared_targets", 0, "service_uuid", "cluster_name", "consumes_quota", 1,
                     "os-vol-mig-status-attr:name_id")
        : json_pack ("{s:O, s:O, s:O}", "id", h [S_ID], "name", h [S_NAME], "links", links);
    xs_api_tmpl_t *tmpl = xs_nn (xs_api_tmpl_new (xs_nn (object), S_HOLES));
    json_decref (object);
    json_decref (links);
    for (size_t i = 0; i < S_HOLES; i++)
        json_decref (h [i]);
    return tmpl;
}

static void
s_view_init (s_view_t *view, xs_cinder_t *self, const xs_api_req_t *req, json_t *zones,
             bool detail)
{
    *view = (s_view_t) {.self = self, .zones = zones, .tmpl = s_view_tmpl (detail)};
    view->href = xs_api_req_url (req, "volumes/");
    view->href_len = strlen (view->href);
    view->href_cap = view->href_len + 1;
    view->shared = xs_nn (json_object ());
    view->type_ids = xs_nn (json_object ());
    view->null_text = xs_api_dumped (json_null ());
    view->null = (xs_api_val_t) {.json = json_string_value (view->null_text),
                                 .len = json_string_length (view->null_text)};
    for (size_t i = 0; i < S_HOLES; i++)
        view->own [i] = i == S_SIZE ? xs_nn (json_integer (0)) : xs_nn (json_string (""));
}

static void
s_view_fini (s_view_t *view)
{
    xs_api_tmpl_destroy (&view->tmpl);
    free (view->href);
    json_decref (view->shared);
    json_decref (view->type_ids);
    json_decref (view->null_text);
    for (size_t i = 0; i < S_HOLES; i++)
        json_decref (view->own [i]);
}

/* The value of `text` in map (text -> its JSON text), its JSON text
   made by make (new string) and kept for the next row when not there. */
static xs_api_val_t
s_memo (json_t *map, const char *text, json_t *(*make) (const char *))
{
    json_t *json = json_object_get (map, text);
    if (!json) {
        json = make (text);
        json_object_set_new (map, text, json);
    }
    return (xs_api_val_t) {.json = json_string_value (json), .len = json_string_length (json)};
}

/* JSON text of the string text (of null when it is not UTF-8, which no
   JSON reply may hold). */
static json_t *
s_string_text (const char *text)
{
    json_t *s = json_string (text);
    json_t *dumped = xs_api_dumped (s ? s : json_null ());
    json_decref (s);
    return dumped;
}

/* JSON text of the type id of flavor `label`: one SHA-1 per flavor. */
static json_t *
s_type_id_text (const char *label)
{
    char buf [37];
    xs_cinder_type_id (label, buf);
    return s_string_text (buf);
}

/* The one JSON text of text in this reply. */
static xs_api_val_t
s_shared (s_view_t *view, const char *text)
{
    return s_memo (view->shared, text, s_string_text);
}

/* The view's own value `hole`, set to text (null for NULL). */
static xs_api_val_t
s_own (s_view_t *view, size_t hole, const char *text)
{
    return text ? xs_api_val_text (view->own [hole], text) : view->null;
}

/* The self link of volume uuid: the view's href with uuid after the
   prefix. */
static xs_api_val_t
s_self_href (s_view_t *view, const char *uuid)
{
    size_t n = strlen (uuid);
    if (view->href_len + n + 1 > view->href_cap) {
        view->href_cap = view->href_len + n + 1;
        view->href = xs_realloc (view->href, view->href_cap);
    }
    memcpy (view->href + view->href_len, uuid, n + 1);
    return s_own (view, S_HREF, view->href);
}

/* Sets the view's values to those of volume v. */
static void
s_view_set (s_view_t *view, const xs_cinder_vol_t *v)
{
    char key [32] = "", created [40], updated [40], host [64];
    if (v->backend_id)
        snprintf (key, sizeof key, "%" PRId64, v->backend_id);
    const char *zone = xs_cinder_str (view->zones, key);
    snprintf (host, sizeof host, "xensm@backend-%s", *key ? key : "none");
    xs_cinder_iso_time (v->created_at, created, sizeof created);
    xs_cinder_iso_time (v->updated_at, updated, sizeof updated);
    bool from_snapshot = v->parent && xs_cinder_is_snapshot (view->self, v->parent);
    xs_api_val_t *val = view->values;
    val [S_ID] = s_own (view, S_ID, v->uuid);
    val [S_NAME] = s_own (view, S_NAME, v->name);
    val [S_STATUS] = s_shared (view, v->state ? v->state : "error");
    val [S_SIZE] = xs_api_val_int (view->own [S_SIZE], (v->size + XS_CINDER_GIB - 1)
                                                       / XS_CINDER_GIB);
    val [S_TYPE] = v->flavor ? s_shared (view, v->flavor) : view->null;
    val [S_TYPE_ID] = v->flavor ? s_memo (view->type_ids, v->flavor, s_type_id_text)
                                : view->null;
    val [S_ZONE] = s_shared (view, zone ? zone : view->self->default_zone);
    val [S_CREATED] = s_own (view, S_CREATED, created);
    val [S_UPDATED] = s_own (view, S_UPDATED, updated);
    val [S_SNAPSHOT] = s_own (view, S_SNAPSHOT, from_snapshot ? v->parent : NULL);
    val [S_SOURCE] = s_own (view, S_SOURCE, from_snapshot ? NULL : v->parent);
    val [S_HREF] = s_self_href (view, v->uuid);
    val [S_TENANT] = s_shared (view, v->project);
    val [S_HOST] = s_shared (view, host);
}

/* =========================================================================
    Versions (xs_api serves them) and volumes
   ========================================================================= */

/* GET /volumes[/detail]: the caller's volumes (all of them for an admin
   with all_tenants; no snapshots), filtered by name and status, newest
   first, one page: a store query for the page alone (xs_cinder_page). */
static void
s_volume_list_route (xs_api_req_t *req, void *arg, bool detail)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    xs_api_page_t page;
    xs_err_t err;
    if (xs_api_req_page (req, &page, &err)) {       /* bad limit: before any work */
        xs_api_reply_err (&req, &err);
        return;
    }
    int64_t count = -1;
    xs_volume_t **rows = xs_cinder_page (self, &req, false, &page, &count);
    if (!rows)
        return;
    xs_flavor_t **flavors = xs_store_flavor_list (self->store, NULL);
    json_t *zones = xs_cinder_zone_map (self);
    s_view_t view;
    s_view_init (&view, self, req, zones, detail);
    size_t n = xs_rows_list_size (rows);
    n = n < page.limit ? n : page.limit;
    xs_api_list_t *list = xs_api_list_new ("volumes", 1024 + n * (detail ? 1280 : 160));
    const xs_flavor_t *flavor = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!flavor || flavor->id != rows [i]->flavor_id)
            flavor = xs_cinder_flavor_of (flavors, rows [i]->flavor_id);
        xs_cinder_vol_t v = xs_cinder_vol_of_row (rows [i], flavor ? flavor->label : "");
        s_view_set (&view, &v);
        xs_api_list_add_tmpl (list, view.tmpl, view.values);
    }
    s_view_fini (&view);
    json_decref (zones);
    xs_flavor_list_destroy (&flavors);
    xs_cinder_reply_page (&req, &list, n ? rows [n - 1]->uuid : NULL, rows [n] != NULL,
                          "volumes", detail ? "volumes/detail" : "volumes", &page, count);
    xs_volume_list_destroy (&rows);
}

void
xs_cinder_volumes_detail (xs_api_req_t *req, void *arg)
{
    s_volume_list_route (req, arg, true);
}

void
xs_cinder_volumes_summary (xs_api_req_t *req, void *arg)
{
    s_volume_list_route (req, arg, false);
}

/* The zone map (backend id as text -> zone) s_view_set needs for the
   one volume v: its backend's row only (xs_cinder_zone_map reads every
   backend and its config: 26% of catalogd's CPU in the HTTP create bench,
   with 100 backends). New object. */
static json_t *
s_zone_of (xs_cinder_t *self, const json_t *v)
{
    json_t *map = xs_nn (json_object ());
    json_t *id = json_object_get (v, "backend_id");
    xs_backend_t *b = json_is_integer (id)
                    ? xs_store_backend_get (self->store, json_integer_value (id), NULL) : NULL;
    if (b) {
        char key [32];
        snprintf (key, sizeof key, "%lld", (long long) b->id);
        json_object_set_new (map, key, xs_nn (json_string (b->zone)));
    }
    xs_backend_destroy (&b);
    return map;
}

/* Answers {"volume": detail} with `status`, or 404 when the caller may not
   see it or it is deleted. */
static void
s_reply_volume (xs_cinder_t *self, xs_api_req_t **req_p, unsigned status, const json_t *v,
                const char *key)
{
    if (!v || !xs_cinder_visible (self, *req_p, xs_cinder_str (v, "project"))
    ||  streq (xs_cinder_str (v, "state"), "deleted") || xs_cinder_view_is_snapshot (self, v)) {
        xs_api_reply_error (req_p, 404, "Volume %s could not be found.", key);
        return;
    }
    json_t *zones = s_zone_of (self, v);
    s_view_t view;
    s_view_init (&view, self, *req_p, zones, true);
    xs_cinder_vol_t vol = xs_cinder_vol_of_view (v);
    s_view_set (&view, &vol);
    json_t *d = xs_api_tmpl_object (view.tmpl, view.values);
    s_view_fini (&view);
    json_decref (zones);
    json_t *reply = xs_nn (json_object ());
    json_object_set_new_nocheck (reply, "volume", d);
    xs_api_reply_json (req_p, status, reply);
}

static void
s_volume_show_done (xs_cinder_t *self, xs_api_req_t **req_p, xs_cinder_call_t *call,
                    const xs_reply_answer_t *answer)
{
    if (!answer->result && answer->err->kind != XS_ENOTFOUND)
        xs_cinder_reply_failure (req_p, answer, 500);
    else
        s_reply_volume (self, req_p, 200, json_object_get (answer->result, "volume"), call->key);
}

void
xs_cinder_volume_show (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    const char *id = xs_api_req_param (req, "id");
    if (!xs_cinder_is_uuid (id)) {          /* OSC probes with names: a quick 404 */
        xs_api_reply_error (&req, 404, "Volume %s could not be found.", id);
        return;
    }
    xs_cinder_call (self, req, "volume_show", xs_nn (json_pack ("{s:s}", "uuid", id)),
                    s_volume_show_done, id);
}


/* A create's outcome: 202 with the volume. A create the catalog took but
   could not place is a volume in `error` (202 too; GET /messages tells
   why); a refusal is Cinder's error. */
static void
s_volume_create_done (xs_cinder_t *self, xs_api_req_t **req_p, xs_cinder_call_t *call,
                      const xs_reply_answer_t *answer)
{
    if (answer->result) {
        s_reply_volume (self, req_p, 202, json_object_get (answer->result, "volume"),
                        call->key);
        return;
    }
    xs_volume_t *v = xs_store_volume_get_by_request_id (self->store, xs_api_req_id (*req_p),
                                                        NULL);
    json_t *view = v ? xs_volume_view_by_uuid (self->store, v->uuid, NULL) : NULL;
    xs_volume_destroy (&v);
    if (view)
        s_reply_volume (self, req_p, 202, view, call->key);
    else
    if (answer->err->kind == XS_ENOTFOUND)
        xs_api_reply_error (req_p, 404, "%s", answer->err->msg);
    else
        xs_cinder_reply_failure (req_p, answer, 400);
    json_decref (view);
}

/* The flavor label of a create's type (by name or id; absent means the
   only flavor there is), or NULL after an answer (404, 400). Caller frees. */
static char *
s_create_label (xs_cinder_t *self, xs_api_req_t **req_p, const char *type)
{
    xs_err_t err;
    /* A type named by its label (what the clients send): one indexed read,
       not every flavor and a SHA-1 of each per create. */
    xs_flavor_t *named = type ? xs_store_flavor_get (self->store, type, NULL) : NULL;
    if (named) {
        char *label = named->label;
        named->label = NULL;
        xs_flavor_destroy (&named);
        return label;
    }
    xs_flavor_t **flavors = xs_store_flavor_list (self->store, &err);
    if (!flavors) {
        xs_api_reply_err (req_p, &err);
        return NULL;
    }
    const char *label = NULL;
    size_t nflavors = 0;
    for (xs_flavor_t **f = flavors; *f; f++, nflavors++) {
        char id [37];
        xs_cinder_type_id ((*f)->label, id);
        if (type && (streq (type, (*f)->label) || streq (type, id)))
            label = (*f)->label;
    }
    if (!type && nflavors == 1)
        label = flavors [0]->label;
    char *copy = label ? xs_strdup (label) : NULL;
    if (!label && type)
        xs_api_reply_error (req_p, 404, "Volume type with name %s could not be found.", type);
    else
    if (!label)
        xs_api_reply_error (req_p, 400, "Invalid input received: volume_type is required "
                            "(%zu volume types exist; `openstack volume type list`).",
                            nflavors);
    xs_flavor_list_destroy (&flavors);
    return copy;
}

/* Refuses (413 overLimit, answered; true) `volumes` more volumes (a
   create: 1; an extend: 0) and size more GiB that would pass the
   project's quota, counted from the catalog. */
static bool
s_quota_refused (xs_cinder_t *self, xs_api_req_t **req_p, const char *project, int volumes,
                 long long size)
{
    if (!(volumes && self->quota_volumes >= 0) && self->quota_gigabytes < 0)
        return false;           /* no limit to check: nothing to count */
    xs_cinder_usage_t used;
    xs_err_t err;
    if (xs_cinder_usage (self, project, &used, &err)) {
        xs_api_reply_err (req_p, &err);
        return true;
    }
    if (volumes && self->quota_volumes >= 0 && used.volumes + volumes > self->quota_volumes) {
        xs_api_reply_over_limit (req_p, "VolumeLimitExceeded: Maximum number of volumes "
                                 "allowed (%lld) exceeded for quota 'volumes'.",
                                 (long long) self->quota_volumes);
        return true;
    }
    if (self->quota_gigabytes >= 0 && used.gigabytes + size > self->quota_gigabytes) {
        xs_api_reply_over_limit (req_p, "VolumeSizeExceedsAvailableQuota: Requested volume or "
                                 "snapshot exceeds allowed gigabytes quota. Requested %lldG, "
                                 "quota is %lldG and %lldG has been consumed.", size,
                                 (long long) self->quota_gigabytes, (long long) used.gigabytes);
        return true;
    }
    return false;
}

/* The parent of a copy (POST /volumes with snapshot_id or source_volid):
   a live row the caller may see, a snapshot when `snapshot` says so and a
   volume otherwise. NULL after a 404 (answered). Caller destroys. */
static xs_volume_t *
s_copy_parent (xs_cinder_t *self, xs_api_req_t **req_p, const char *id, bool snapshot)
{
    xs_volume_t *p = xs_cinder_is_uuid (id) ? xs_store_volume_get (self->store, id, NULL) : NULL;
    if (p && (p->state == XS_VOLUME_DELETED || !xs_cinder_visible (self, *req_p, p->project)
          || (p->parent_uuid && xs_cinder_is_snapshot (self, p->uuid)) != snapshot))
        xs_volume_destroy (&p);
    if (!p)
        xs_api_reply_error (req_p, 404, "%s %s could not be found.",
                            snapshot ? "Snapshot" : "Volume", id);
    return p;
}

/* Refuses (400, answered; true) a copy's size or type that is not its
   parent's p: xensm copies a VDI as it is (extend it afterwards). */
static bool
s_copy_refused (xs_cinder_t *self, xs_api_req_t **req_p, const xs_volume_t *p,
                const char *type, bool has_size, long long size)
{
    long long gib = (p->size_bytes + XS_CINDER_GIB - 1) / XS_CINDER_GIB;
    xs_flavor_t *f = xs_store_flavor_get_by_id (self->store, p->flavor_id, NULL);
    char type_id [37] = "";
    if (f)
        xs_cinder_type_id (f->label, type_id);
    bool same_type = !type || (f && (streq (type, f->label) || streq (type, type_id)));
    if (has_size && size != gib)
        xs_api_reply_error (req_p, 400, "Invalid input received: a volume made from %s has "
                            "its size, %lld GiB, not %lld GiB (extend it afterwards).", p->uuid,
                            gib, size);
    else
    if (!same_type)
        xs_api_reply_error (req_p, 400, "Invalid input received: a volume made from %s has "
                            "its volume type, %s, not %s.", p->uuid, f ? f->label : "(none)",
                            type);
    xs_flavor_destroy (&f);
    return (has_size && size != gib) || !same_type;
}

/* POST /volumes with snapshot_id or source_volid: admin volume_clone of
   the snapshot or volume `id`, with its size, type and project. */
static void
s_volume_copy (xs_cinder_t *self, xs_api_req_t *req, const char *id, bool snapshot,
               const char *name, const char *type, bool has_size, long long size)
{
    xs_volume_t *p = s_copy_parent (self, &req, id, snapshot);
    if (!p)
        return;
    long long gib = (p->size_bytes + XS_CINDER_GIB - 1) / XS_CINDER_GIB;
    if (!s_copy_refused (self, &req, p, type, has_size, size)
    &&  !s_quota_refused (self, &req, p->project ? p->project : "", 1, gib)) {
        json_t *args = xs_nn (json_pack ("{s:s, s:s}", "uuid", p->uuid,
                                         "request_id", xs_api_req_id (req)));
        if (name && *name)
            json_object_set_new (args, "name", json_string (name));
        xs_cinder_call (self, req, "volume_clone", args, s_volume_create_done, p->uuid);
    }
    xs_volume_destroy (&p);
}

void
xs_cinder_volume_create (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    json_t *body = NULL;
    const char *name = NULL, *type = NULL, *source = NULL, *snapshot = NULL;
    const char *description = NULL, *zone = NULL;
    long long size = 0;
    bool has_size = false;
    xs_err_t err;
    if (xs_api_json_element (xs_api_req_json (req), "volume", &body, &err)
    ||  xs_api_json_string (body, "name", 255, &name, &err)
    ||  xs_api_json_string (body, "description", 255, &description, &err)
    ||  xs_api_json_string (body, "volume_type", 255, &type, &err)
    ||  xs_api_json_string (body, "availability_zone", 255, &zone, &err)
    ||  xs_api_json_string (body, "source_volid", 64, &source, &err)
    ||  xs_api_json_string (body, "snapshot_id", 64, &snapshot, &err)
    ||  xs_api_json_int (body, "size", 1, S_MAX_GIB, &size, &has_size, &err)) {
        xs_api_reply_err (&req, &err);
        return;
    }
    if (xs_cinder_check_unstored (body, &req))
        return;
    if ((snapshot && source) || json_object_get (body, "imageRef")
    ||  json_object_get (body, "backup_id")) {
        xs_api_reply_error (&req, 400, "Invalid input received: xensm creates volumes empty, "
                            "from a snapshot (snapshot_id) or from a volume (source_volid), "
                            "one of them; imageRef and backup_id are not supported.");
        return;
    }
    if (snapshot || source) {
        s_volume_copy (self, req, snapshot ? snapshot : source, snapshot != NULL, name, type,
                       has_size, size);
        return;
    }
    if (!has_size) {
        xs_api_reply_error (&req, 400, "Invalid input received: size is required (GiB, "
                            "a positive integer).");
        return;
    }
    const char *project = xs_api_req_identity (req)->project_id;
    char *label = s_create_label (self, &req, type);
    if (!label || s_quota_refused (self, &req, project, 1, size)) {
        free (label);
        return;
    }
    json_t *args = xs_nn (json_pack ("{s:s, s:I, s:s, s:s}", "flavor", label,
                                     "size", (json_int_t) (size * XS_CINDER_GIB),
                                     "request_id", xs_api_req_id (req), "project", project));
    if (name && *name)
        json_object_set_new (args, "name", json_string (name));
    xs_cinder_call (self, req, "volume_create", args, s_volume_create_done, NULL);
    free (label);
}

/* The volume of the route's {id} the caller may see, or NULL after a 404
   (answered). Caller destroys. */
static xs_volume_t *
s_route_volume (xs_cinder_t *self, xs_api_req_t **req_p)
{
    const char *id = xs_api_req_param (*req_p, "id");
    xs_volume_t *v = xs_cinder_is_uuid (id) ? xs_store_volume_get (self->store, id, NULL) : NULL;
    if (v && (v->state == XS_VOLUME_DELETED || !xs_cinder_visible (self, *req_p, v->project)
          || (v->parent_uuid && xs_cinder_is_snapshot (self, v->uuid))))
        xs_volume_destroy (&v);
    if (!v)
        xs_api_reply_error (req_p, 404, "Volume %s could not be found.", id);
    return v;
}

void
xs_cinder_volume_delete (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    xs_volume_t *v = s_route_volume (self, &req);
    if (!v)
        return;
    bool settled = v->state == XS_VOLUME_AVAILABLE || v->state == XS_VOLUME_ERROR
                || v->state == XS_VOLUME_ERROR_DELETING || v->state == XS_VOLUME_ERROR_EXTENDING;
    size_t snapshots = settled ? xs_cinder_snapshot_count (self, v->uuid) : 0;
    if (!settled || snapshots)
        xs_api_reply_error (&req, 400, "Invalid volume: Volume status must be available or "
                            "error or error_restoring or error_extending or error_managing and "
                            "must not be migrating, attached, belong to a group, have "
                            "snapshots or be disassociated from snapshots after volume "
                            "transfer. (volume %s is %s, with %zu snapshots; delete them "
                            "first)", v->uuid, xs_volume_state_name (v->state), snapshots);
    else
        xs_cinder_call (self, req, "volume_delete", xs_nn (json_pack ("{s:s}", "uuid", v->uuid)),
                        xs_cinder_accepted, v->uuid);
    xs_volume_destroy (&v);
}

static void
s_volume_update_done (xs_cinder_t *self, xs_api_req_t **req_p, xs_cinder_call_t *call,
                      const xs_reply_answer_t *answer)
{
    if (answer->result)
        s_reply_volume (self, req_p, 200, json_object_get (answer->result, "volume"),
                        call->key);
    else
        xs_cinder_reply_failure (req_p, answer, 400);
}

/* PUT /volumes/{id}: the name; description and metadata are not kept. */
void
xs_cinder_volume_update (xs_api_req_t *req, void *arg)
{
    xs_cinder_update ((xs_cinder_t *) arg, req, "volume", s_route_volume, s_volume_update_done,
                      s_volume_show_done);
}

/* os-extend's answer: 202 once the volume is extended, and also when the
   agent failed and the volume went to error_extending (Cinder accepts the
   request; the status tells the outcome). A refusal that changed nothing
   is a 400 with the reason. */
static void
s_extend_done (xs_cinder_t *self, xs_api_req_t **req_p, xs_cinder_call_t *call,
               const xs_reply_answer_t *answer)
{
    xs_volume_t *v = answer->result ? NULL : xs_store_volume_get (self->store, call->key, NULL);
    if (answer->result || (v && v->state == XS_VOLUME_ERROR_EXTENDING))
        xs_api_reply_empty (req_p, 202);
    else
        xs_cinder_reply_failure (req_p, answer, 400);
    xs_volume_destroy (&v);
}

/* {"os-extend": {"new_size": N}}: volume_extend to N GiB, with Cinder's
   checks first (available, larger, the project's gigabytes quota). */
static void
s_volume_extend (xs_cinder_t *self, xs_api_req_t *req, const xs_volume_t *v, json_t *args)
{
    long long new_size = 0;
    bool has = false;
    xs_err_t err;
    if (!json_is_object (args)
    ||  xs_api_json_int (args, "new_size", 1, S_MAX_GIB, &new_size, &has, &err) || !has) {
        xs_api_reply_error (&req, 400, "Invalid input received: os-extend needs "
                            "{\"new_size\": GiB, a positive integer}.");
        return;
    }
    long long size = (long long) ((v->size_bytes + XS_CINDER_GIB - 1) / XS_CINDER_GIB);
    if (v->state != XS_VOLUME_AVAILABLE)
        xs_api_reply_error (&req, 400, "Invalid volume: Volume %s status must be available to "
                            "extend, but current status is: %s.", v->uuid,
                            xs_volume_state_name (v->state));
    else
    if (new_size <= size)
        xs_api_reply_error (&req, 400, "Invalid input received: New size for extend must be "
                            "greater than current size. (current: %lld, extended: %lld).",
                            size, new_size);
    else
    if (!s_quota_refused (self, &req, v->project ? v->project : "", 0, new_size - size))
        xs_cinder_call (self, req, "volume_extend",
                        xs_nn (json_pack ("{s:s, s:I}", "uuid", v->uuid, "size",
                                          (json_int_t) (new_size * XS_CINDER_GIB))),
                        s_extend_done, v->uuid);
}

/* POST /volumes/{id}/action: os-extend; os-force_delete, os-reset_status
   (admin). */
void
xs_cinder_volume_action (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    json_t *body = xs_api_req_json (req);
    json_t *raw = NULL;
    if (json_object_size (body) == 0) {
        /* {"os-force_delete": null}, as cinderclient sends it: the parsed
           body lost the null; the raw one (already checked) has the name. */
        size_t len = 0;
        const char *data = xs_api_req_body (req, &len);
        raw = data ? json_loadb (data, len, 0, NULL) : NULL;
    }
    xs_volume_t *v = s_route_volume (self, &req);
    if (!v) {
        json_decref (raw);
        return;
    }
    json_t *named = raw ? raw : body;
    const char *action = json_is_object (named) && json_object_size (named) == 1
                       ? json_object_iter_key (json_object_iter (named)) : NULL;
    if (!action)
        xs_api_reply_error (&req, 400, "Invalid input received: the body names one action.");
    else
    if (streq (action, "os-extend"))
        s_volume_extend (self, req, v, json_object_get (body, action));
    else
    if (streq (action, "os-force_delete")) {
        if (!xs_cinder_refuse_non_admin (self, &req))
            xs_cinder_call (self, req, "volume_delete",
                            xs_nn (json_pack ("{s:s}", "uuid", v->uuid)), xs_cinder_accepted,
                            v->uuid);
    }
    else
    if (streq (action, "os-reset_status")) {
        json_t *args = json_object_get (body, action);
        const char *status = json_is_object (args) ? xs_cinder_str (args, "status") : NULL;
        if (xs_cinder_refuse_non_admin (self, &req))
            ;
        else
        if (!status)
            xs_api_reply_error (&req, 400, "Invalid input received: os-reset_status needs "
                                "{\"status\": \"available\" or \"error\"}.");
        else
            xs_cinder_call (self, req, "volume_reset_state",
                            xs_nn (json_pack ("{s:s, s:s}", "uuid", v->uuid, "state", status)),
                            xs_cinder_accepted, v->uuid);
    }
    else
        xs_api_reply_error (&req, 400, "Invalid input received: action %.64s is not supported "
                            "by xensm.", action);
    xs_volume_destroy (&v);
    json_decref (raw);
}
