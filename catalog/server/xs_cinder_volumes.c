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

/* A volume as its Cinder views need it, from a store row or from an admin
   volume view (strings borrowed from either). */
typedef struct {
    const char *uuid, *name, *state, *flavor, *parent, *project;
    int64_t size, backend_id, created_at, updated_at;
} s_vol_t;

static s_vol_t
s_vol_of_view (const json_t *v)
{
    json_t *backend = json_object_get (v, "backend_id");
    return (s_vol_t) {
        .uuid = xs_cinder_str (v, "uuid"), .name = xs_cinder_str (v, "name"),
        .state = xs_cinder_str (v, "state"), .flavor = xs_cinder_str (v, "flavor"),
        .parent = xs_cinder_str (v, "parent_uuid"), .project = xs_cinder_project (v),
        .size = json_integer_value (json_object_get (v, "size")),
        .backend_id = json_is_integer (backend) ? json_integer_value (backend) : 0,
        .created_at = json_integer_value (json_object_get (v, "created_at")),
        .updated_at = json_integer_value (json_object_get (v, "updated_at")),
    };
}

/* Row v whose flavor's label is `flavor` ("" when the flavor is gone). */
static s_vol_t
s_vol_of_row (const xs_volume_t *v, const char *flavor)
{
    return (s_vol_t) {
        .uuid = v->uuid, .name = v->name, .state = xs_volume_state_name (v->state),
        .flavor = flavor, .parent = v->parent_uuid, .project = v->project ? v->project : "",
        .size = v->size_bytes, .backend_id = v->backend_id, .created_at = v->created_at,
        .updated_at = v->updated_at,
    };
}

/* What the volumes of one reply share, made once per reply: the self
   links' prefix, the zones, and one JSON string per distinct status,
   flavor, type id, zone, host and project, which every row that has it
   references instead of a copy of its own. */
typedef struct {
    xs_cinder_t *self;
    json_t *zones;              /* backend id as text -> zone (borrowed)   */
    char *href;                 /* "<base>/v3[/<project>]/volumes/<uuid>"  */
    size_t href_len;            /* of the prefix, up to "volumes/"         */
    size_t href_cap;
    json_t *shared;             /* text -> its string                      */
    json_t *type_ids;           /* flavor label -> its type id             */
    json_t *links;              /* [{"rel":"self","href":href}]: the row's  */
    json_t *href_value;         /*   href, set in place for each row        */
    json_t *metadata;           /* {} and [], the same for every row        */
    json_t *attachments;
} s_view_t;

static void
s_view_init (s_view_t *view, xs_cinder_t *self, const xs_api_req_t *req, json_t *zones)
{
    *view = (s_view_t) {.self = self, .zones = zones};
    view->href = xs_api_req_url (req, "volumes/");
    view->href_len = strlen (view->href);
    view->href_cap = view->href_len + 1;
    view->shared = xs_nn (json_object ());
    view->type_ids = xs_nn (json_object ());
    view->href_value = xs_nn (json_string_nocheck (""));
    view->links = xs_nn (json_pack ("[{s:s, s:O}]", "rel", "self", "href", view->href_value));
    view->metadata = xs_nn (json_object ());
    view->attachments = xs_nn (json_array ());
}

static void
s_view_fini (s_view_t *view)
{
    free (view->href);
    json_decref (view->shared);
    json_decref (view->type_ids);
    json_decref (view->href_value);
    json_decref (view->links);
    json_decref (view->metadata);
    json_decref (view->attachments);
}

/* The one string of text in this reply (a new reference). */
static json_t *
s_shared (s_view_t *view, const char *text)
{
    json_t *s = json_object_get (view->shared, text);
    if (s)
        return json_incref (s);
    s = xs_nn (json_string (text));
    json_object_set (view->shared, text, s);        /* kept for the next row */
    return s;
}

/* The type id of flavor `label` (a new reference): one SHA-1 per flavor. */
static json_t *
s_type_id (s_view_t *view, const char *label)
{
    json_t *id = json_object_get (view->type_ids, label);
    if (id)
        return json_incref (id);
    char buf [37];
    xs_cinder_type_id (label, buf);
    id = xs_nn (json_string_nocheck (buf));
    json_object_set (view->type_ids, label, id);    /* kept for the next row */
    return id;
}

/* The self link of volume uuid, [{"rel":"self","href":...}]: the view's
   one link, its href set to uuid's (a new reference). */
static json_t *
s_self_link (s_view_t *view, const char *uuid)
{
    size_t n = strlen (uuid);
    if (view->href_len + n + 1 > view->href_cap) {
        view->href_cap = view->href_len + n + 1;
        view->href = xs_realloc (view->href, view->href_cap);
    }
    memcpy (view->href + view->href_len, uuid, n + 1);
    xs_nn (json_string_set (view->href_value, view->href) == 0 ? view : NULL);
    return json_incref (view->links);
}

static json_t *
s_string_or_null (const char *s)
{
    return s ? xs_nn (json_string (s)) : json_null ();
}

/* Sets Cinder's volume detail of v into d, member by member in Cinder's
   order: d may be new, or the previous row's detail (each member is then
   replaced, in place: a page reuses one object). d shares the view's
   links, metadata and attachments: dump it before the next row is set. */
static void
s_detail_set (json_t *d, s_view_t *view, const s_vol_t *v)
{
    char key [32] = "", created [40], updated [40], host [64];
    if (v->backend_id)
        snprintf (key, sizeof key, "%" PRId64, v->backend_id);
    const char *zone = xs_cinder_str (view->zones, key);
    snprintf (host, sizeof host, "xensm@backend-%s", *key ? key : "none");
    xs_cinder_iso_time (v->created_at, created, sizeof created);
    xs_cinder_iso_time (v->updated_at, updated, sizeof updated);
    bool from_snapshot = v->parent && xs_cinder_is_snapshot (view->self, v->parent);
#define S_SET(k, value) json_object_set_new_nocheck (d, k, value)
    S_SET ("id", xs_nn (json_string (v->uuid)));
    S_SET ("name", s_string_or_null (v->name));
    S_SET ("status", s_shared (view, v->state ? v->state : "error"));
    S_SET ("size", xs_nn (json_integer ((v->size + XS_CINDER_GIB - 1) / XS_CINDER_GIB)));
    S_SET ("volume_type", v->flavor ? s_shared (view, v->flavor) : json_null ());
    S_SET ("volume_type_id", v->flavor ? s_type_id (view, v->flavor) : json_null ());
    S_SET ("metadata", json_incref (view->metadata));
    S_SET ("attachments", json_incref (view->attachments));
    S_SET ("bootable", s_shared (view, "false"));
    S_SET ("availability_zone", s_shared (view, zone ? zone : view->self->default_zone));
    S_SET ("created_at", xs_nn (json_string_nocheck (created)));
    S_SET ("updated_at", xs_nn (json_string_nocheck (updated)));
    S_SET ("description", json_null ());
    S_SET ("snapshot_id", s_string_or_null (from_snapshot ? v->parent : NULL));
    S_SET ("source_volid", s_string_or_null (from_snapshot ? NULL : v->parent));
    S_SET ("user_id", json_null ());
    S_SET ("encrypted", json_false ());
    S_SET ("replication_status", json_null ());
    S_SET ("consistencygroup_id", json_null ());
    S_SET ("multiattach", json_false ());
    S_SET ("migration_status", json_null ());
    S_SET ("links", s_self_link (view, v->uuid));
    S_SET ("os-vol-tenant-attr:tenant_id", s_shared (view, v->project));
    S_SET ("os-vol-host-attr:host", s_shared (view, host));
    S_SET ("group_id", json_null ());
    S_SET ("provider_id", json_null ());
    S_SET ("shared_targets", json_false ());
    S_SET ("service_uuid", json_null ());
    S_SET ("cluster_name", json_null ());
    S_SET ("consumes_quota", json_true ());
    S_SET ("os-vol-mig-status-attr:name_id", json_null ());
#undef S_SET
}

/* Sets Cinder's volume summary {id, name, links} of detail d into s. */
static void
s_summary_set (json_t *s, const json_t *d)
{
    static const char *const keys [] = {"id", "name", "links"};
    for (size_t k = 0; k < 3; k++)
        json_object_set_nocheck (s, keys [k], json_object_get (d, keys [k]));
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
    s_view_init (&view, self, req, zones);
    /* One detail object, refilled row by row and dumped as it is added. */
    json_t *d = xs_nn (json_object ());
    json_t *summary = xs_nn (json_object ());
    size_t n = xs_rows_list_size (rows);
    n = n < page.limit ? n : page.limit;
    xs_api_list_t *list = xs_api_list_new ("volumes", 1024 + n * (detail ? 1280 : 160));
    const xs_flavor_t *flavor = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!flavor || flavor->id != rows [i]->flavor_id)
            flavor = xs_cinder_flavor_of (flavors, rows [i]->flavor_id);
        s_vol_t v = s_vol_of_row (rows [i], flavor ? flavor->label : "");
        s_detail_set (d, &view, &v);
        if (!detail)
            s_summary_set (summary, d);
        xs_api_list_add (list, detail ? d : summary);
    }
    json_decref (d);
    json_decref (summary);
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

/* The zone map (backend id as text -> zone) s_detail_set needs for the
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
    s_view_init (&view, self, *req_p, zones);
    json_t *d = xs_nn (json_object ());
    s_vol_t vol = s_vol_of_view (v);
    s_detail_set (d, &view, &vol);
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
