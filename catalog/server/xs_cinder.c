/*  xs_cinder: the Block Storage API routes over the admin command table. */
#include "xs_cinder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xs_api.h"
#include "xs_catalog_cfg.h"
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_volumes.h"

#define S_GIB (1024LL * 1024 * 1024)
#define S_MAX_GIB (1LL << 20)                   /* 1 PiB in GiB                */
#define S_MESSAGE_DAYS 30

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
};

/* =========================================================================
    Small helpers
   ========================================================================= */

/* "2026-12-07T04:17:10.541000" (UTC, no zone, as Cinder) from Unix ms. */
static void
s_iso_time (int64_t ms, char *buf, size_t size)
{
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    char base [32];
    strftime (base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf (buf, size, "%s.%06d", base, (int) (ms % 1000) * 1000);
}

/* A name-based uuid (SHA-1, version 5 layout) of prefix + name: the id of
   a type (flavor label) or of a message (volume uuid). */
static void
s_name_uuid (const char *prefix, const char *name, char buf [37])
{
    zdigest_t *d = xs_nn (zdigest_new ());
    zdigest_update (d, (const byte *) prefix, strlen (prefix));
    zdigest_update (d, (const byte *) name, strlen (name));
    byte h [16];
    memcpy (h, zdigest_data (d), 16);
    zdigest_destroy (&d);
    h [6] = (byte) ((h [6] & 0x0f) | 0x50);
    h [8] = (byte) ((h [8] & 0x3f) | 0x80);
    snprintf (buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
              h [0], h [1], h [2], h [3], h [4], h [5], h [6], h [7], h [8], h [9], h [10],
              h [11], h [12], h [13], h [14], h [15]);
}

static void
s_type_id (const char *label, char buf [37])
{
    s_name_uuid ("xensm-flavor:", label, buf);
}

/* True for a canonical uuid (8-4-4-4-12 hex). */
static bool
s_is_uuid (const char *s)
{
    if (!s || strlen (s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s [i] != '-' : !isxdigit ((unsigned char) s [i]))
            return false;
    }
    return true;
}

static const char *
s_str (const json_t *obj, const char *key)
{
    return json_string_value (json_object_get (obj, key));
}

static bool
s_truthy (const char *v)
{
    return v && (streq (v, "1") || strcasecmp (v, "true") == 0 || strcasecmp (v, "yes") == 0);
}

/* Whether the caller is an admin: keystone's admin role; with noauth, the
   project named api_noauth_project (so that projects are isolated). */
static bool
s_admin (const xs_cinder_t *self, const xs_api_req_t *req)
{
    const xs_api_identity_t *id = xs_api_req_identity (req);
    return id->is_admin && (self->keystone || streq (id->project_id, self->noauth_admin));
}

/* Whether the caller may see a volume of `project`. */
static bool
s_visible (const xs_cinder_t *self, const xs_api_req_t *req, const char *project)
{
    return s_admin (self, req)
        || streq (project ? project : "", xs_api_req_identity (req)->project_id);
}

/* Refuses a non-admin with 403; true when it did. */
static bool
s_refuse_non_admin (const xs_cinder_t *self, xs_api_req_t **req_p)
{
    if (s_admin (self, *req_p))
        return false;
    xs_api_reply_error (req_p, 403, "Policy doesn't allow %s to be performed.",
                        xs_api_req_route (*req_p));
    return true;
}

/* An admin command's failure as Cinder's error: its kind's status, or
   conflict_status for a conflict (400 "Invalid ..." for most of Cinder). */
static void
s_reply_failure (xs_api_req_t **req_p, const xs_reply_answer_t *answer, unsigned conflict_status)
{
    const xs_err_t *err = answer->err;
    unsigned status = err->kind == XS_ECONFLICT ? conflict_status : xs_api_status_for (err->kind);
    if (status == 400)
        xs_api_reply_error (req_p, 400, "Invalid input received: %s", err->msg);
    else
        xs_api_reply_error (req_p, status, "%s", err->msg);
}

/* =========================================================================
    Calling the admin table: a reply whose sink answers the HTTP request
   ========================================================================= */

typedef struct _s_call_t s_call_t;
typedef void (s_done_fn) (xs_cinder_t *self, xs_api_req_t **req_p, s_call_t *call,
                          const xs_reply_answer_t *answer);

struct _s_call_t {
    xs_cinder_t *self;
    xs_api_req_t *req;              /* NULL once the client has gone           */
    s_done_fn *done;
    char *key;                      /* the id or name the route was given      */
};

static void
s_call_gone (void *arg)
{
    ((s_call_t *) arg)->req = NULL;
}

/* xs_reply's sink: hands the answer to the route's done function. */
static void
s_call_sink (void *arg, xs_reply_answer_t *answer)
{
    s_call_t *call = (s_call_t *) arg;
    if (call->req)
        call->done (call->self, &call->req, call, answer);
    json_decref (answer->result);
    free (call->key);
    free (call);
}

/* Runs admin command `cmd` with args (taken) for req; done answers req
   with the outcome, now or once the command's reply is complete (the
   request is parked meanwhile). */
static void
s_call (xs_cinder_t *self, xs_api_req_t *req, const char *cmd, json_t *args, s_done_fn *done,
        const char *key)
{
    s_call_t *call = xs_zalloc (sizeof *call);
    call->self = self;
    call->req = req;
    call->done = done;
    call->key = key ? xs_strdup (key) : NULL;
    xs_api_req_on_gone (req, s_call_gone, call);
    xs_reply_t *reply = xs_reply_new (s_call_sink, call);
    xs_reply_set_id (reply, xs_api_req_id (req));
    xs_admin_run (self->admin, cmd, args, &reply);
    json_decref (args);
}

/* =========================================================================
    Views
   ========================================================================= */

/* backend id (as text) -> zone, from the store. New object. */
static json_t *
s_zone_map (xs_cinder_t *self)
{
    json_t *map = xs_nn (json_object ());
    xs_backend_t **list = xs_store_backend_list (self->store, NULL);
    for (xs_backend_t **b = list; b && *b; b++) {
        char key [32];
        snprintf (key, sizeof key, "%lld", (long long) (*b)->id);
        json_object_set_new (map, key, xs_nn (json_string ((*b)->zone)));
    }
    xs_backend_list_destroy (&list);
    return map;
}

static json_t *
s_null_or (const char *s)
{
    return s ? xs_nn (json_string (s)) : json_null ();
}

/* Cinder's volume detail of v (an admin volume view). New object. */
static json_t *
s_volume_detail (xs_cinder_t *self, const xs_api_req_t *req, const json_t *v, json_t *zones)
{
    const char *uuid = s_str (v, "uuid");
    const char *flavor = s_str (v, "flavor");
    json_int_t bytes = json_integer_value (json_object_get (v, "size"));
    json_t *backend = json_object_get (v, "backend_id");
    char zone_key [32] = "";
    if (json_is_integer (backend))
        snprintf (zone_key, sizeof zone_key, "%" JSON_INTEGER_FORMAT, json_integer_value (backend));
    const char *zone = s_str (zones, zone_key);
    char created [40], updated [40], type_id [37], host [64];
    s_iso_time (json_integer_value (json_object_get (v, "created_at")), created, sizeof created);
    s_iso_time (json_integer_value (json_object_get (v, "updated_at")), updated, sizeof updated);
    if (flavor)
        s_type_id (flavor, type_id);
    snprintf (host, sizeof host, "xensm@backend-%s", *zone_key ? zone_key : "none");
    char path [64];
    snprintf (path, sizeof path, "volumes/%s", uuid);
    char *self_url = xs_api_req_url (req, path);
    json_t *d = xs_nn (json_pack (
        "{s:s, s:o, s:s, s:I, s:o, s:o, s:{}, s:[], s:s, s:s, s:s, s:s, s:n, s:n, s:o,"
        " s:n, s:b, s:n, s:n, s:b, s:n, s:[{s:s, s:s}], s:s, s:o, s:n, s:n, s:b, s:n, s:n,"
        " s:b, s:o}",
        "id", uuid,
        "name", s_null_or (s_str (v, "name")),
        "status", s_str (v, "state") ? s_str (v, "state") : "error",
        "size", (json_int_t) ((bytes + S_GIB - 1) / S_GIB),
        "volume_type", s_null_or (flavor),
        "volume_type_id", flavor ? xs_nn (json_string (type_id)) : json_null (),
        "metadata",
        "attachments",
        "bootable", "false",
        "availability_zone", zone ? zone : self->default_zone,
        "created_at", created,
        "updated_at", updated,
        "description",
        "snapshot_id",
        "source_volid", s_null_or (s_str (v, "parent_uuid")),
        "user_id",
        "encrypted", 0,
        "replication_status",
        "consistencygroup_id",
        "multiattach", 0,
        "migration_status",
        "links", "rel", "self", "href", self_url,
        "os-vol-tenant-attr:tenant_id", s_str (v, "project") ? s_str (v, "project") : "",
        "os-vol-host-attr:host", xs_nn (json_string (host)),
        "group_id",
        "provider_id",
        "shared_targets", 0,
        "service_uuid",
        "cluster_name",
        "consumes_quota", 1,
        "os-vol-mig-status-attr:name_id", json_null ()));
    free (self_url);
    return d;
}

/* Cinder's volume summary: {id, name, links}. */
static json_t *
s_volume_summary (const json_t *detail)
{
    return xs_nn (json_pack ("{s:O, s:O, s:O}", "id", json_object_get (detail, "id"),
                             "name", json_object_get (detail, "name"),
                             "links", json_object_get (detail, "links")));
}

/* Cinder's volume type of f (an admin flavor view). */
static json_t *
s_type_view (const json_t *f)
{
    char id [37];
    s_type_id (s_str (f, "label"), id);
    const char *description = s_str (f, "description");
    return xs_nn (json_pack ("{s:s, s:s, s:o, s:b, s:{}, s:b, s:n}", "id", id,
                             "name", s_str (f, "label"),
                             "description", description && *description
                                            ? xs_nn (json_string (description)) : json_null (),
                             "is_public", 1, "extra_specs",
                             "os-volume-type-access:is_public", 1, "qos_specs_id"));
}

/* The flavor of `key` (a type id or a name) in an admin flavor list, or
   NULL. Borrowed. */
static json_t *
s_find_type (json_t *flavors, const char *key)
{
    size_t i;
    json_t *f;
    json_array_foreach (flavors, i, f) {
        char id [37];
        s_type_id (s_str (f, "label"), id);
        if (streq (id, key) || streq (s_str (f, "label"), key))
            return f;
    }
    return NULL;
}

/* =========================================================================
    Versions (xs_api serves them) and volumes
   ========================================================================= */

static int
s_newest_first (const void *a, const void *b)
{
    const json_t *va = *(json_t *const *) a, *vb = *(json_t *const *) b;
    json_int_t ca = json_integer_value (json_object_get (va, "created_at"));
    json_int_t cb = json_integer_value (json_object_get (vb, "created_at"));
    if (ca != cb)
        return ca < cb ? 1 : -1;
    return -strcmp (s_str (va, "uuid"), s_str (vb, "uuid"));
}

/* volume_list's answer: the caller's volumes (all of them for an admin
   with all_tenants), filtered by name and status, newest first, paged. */
static void
s_volumes_done (xs_cinder_t *self, xs_api_req_t **req_p, s_call_t *call,
                const xs_reply_answer_t *answer, bool detail)
{
    xs_api_req_t *req = *req_p;
    if (!answer->result) {
        s_reply_failure (req_p, answer, 500);
        return;
    }
    xs_api_page_t page;
    xs_err_t err;
    if (xs_api_req_page (req, &page, &err)) {
        xs_api_reply_err (req_p, &err);
        return;
    }
    bool all = s_admin (self, req) && s_truthy (xs_api_req_query (req, "all_tenants"));
    const char *project = xs_api_req_identity (req)->project_id;
    const char *name = xs_api_req_query (req, "name");
    const char *status = xs_api_req_query (req, "status");
    json_t *volumes = json_object_get (answer->result, "volumes");
    size_t n = json_array_size (volumes), kept = 0;
    json_t **sorted = xs_zalloc ((n + 1) * sizeof *sorted);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get (volumes, i);
        if ((!all && !streq (s_str (v, "project") ? s_str (v, "project") : "", project))
        ||  (name && !streq (s_str (v, "name") ? s_str (v, "name") : "", name))
        ||  (status && !streq (s_str (v, "state"), status))
        ||  streq (s_str (v, "state"), "deleted"))
            continue;
        sorted [kept++] = v;
    }
    qsort (sorted, kept, sizeof *sorted, s_newest_first);
    json_t *zones = s_zone_map (self);
    json_t *items = xs_nn (json_array ());
    for (size_t i = 0; i < kept; i++) {
        json_t *d = s_volume_detail (self, req, sorted [i], zones);
        json_array_append_new (items, detail ? d : s_volume_summary (d));
        if (!detail)
            json_decref (d);
    }
    free (sorted);
    json_decref (zones);
    json_t *paged = xs_api_page_array (items, &page, &err);
    json_decref (items);
    if (!paged) {
        xs_api_reply_err (req_p, &err);
        return;
    }
    size_t got = json_array_size (paged);
    char *last = got ? xs_strdup (s_str (json_array_get (paged, got - 1), "id")) : NULL;
    json_t *reply = xs_nn (json_pack ("{s:o}", "volumes", paged));
    xs_api_req_next_link (req, reply, "volumes", detail ? "volumes/detail" : "volumes", &page,
                          got, last);
    if (xs_api_req_query (req, "with_count") && s_truthy (xs_api_req_query (req, "with_count")))
        json_object_set_new (reply, "count", json_integer ((json_int_t) kept));
    free (last);
    xs_api_reply_json (req_p, 200, reply);
}

static void
s_volumes_detail_done (xs_cinder_t *self, xs_api_req_t **req_p, s_call_t *call,
                       const xs_reply_answer_t *answer)
{
    s_volumes_done (self, req_p, call, answer, true);
}

static void
s_volumes_summary_done (xs_cinder_t *self, xs_api_req_t **req_p, s_call_t *call,
                        const xs_reply_answer_t *answer)
{
    s_volumes_done (self, req_p, call, answer, false);
}

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
    s_call (self, req, "volume_list", xs_nn (json_object ()),
            detail ? s_volumes_detail_done : s_volumes_summary_done, NULL);
}

static void s_volumes_detail (xs_api_req_t *req, void *arg) { s_volume_list_route (req, arg, true); }
static void s_volumes_summary (xs_api_req_t *req, void *arg) { s_volume_list_route (req, arg, false); }

/* Refuses (400, answered; true) a description or metadata that is not
   empty: xensm keeps neither, and saying so beats dropping them. */
static bool
s_check_unstored (json_t *body, xs_api_req_t **req_p)
{
    json_t *metadata = json_object_get (body, "metadata");
    json_t *description = json_object_get (body, "description");
    if (!description)           /* Cinder's v1 name, which OSC still sends */
        description = json_object_get (body, "display_description");
    if (metadata && !json_is_object (metadata)) {
        xs_api_reply_error (req_p, 400, "Invalid input received: metadata must be an object.");
        return true;
    }
    if (json_object_size (metadata)
    ||  (description && (!json_is_string (description) || json_string_length (description)))) {
        xs_api_reply_error (req_p, 400, "Invalid input received: xensm does not store volume "
                            "descriptions or metadata; leave them out (or empty).");
        return true;
    }
    return false;
}

/* Answers {"volume": detail} with `status`, or 404 when the caller may not
   see it or it is deleted. */
static void
s_reply_volume (xs_cinder_t *self, xs_api_req_t **req_p, unsigned status, const json_t *v,
                const char *key)
{
    if (!v || !s_visible (self, *req_p, s_str (v, "project"))
    ||  streq (s_str (v, "state"), "deleted")) {
        xs_api_reply_error (req_p, 404, "Volume %s could not be found.", key);
        return;
    }
    json_t *zones = s_zone_map (self);
    json_t *d = s_volume_detail (self, *req_p, v, zones);
    json_decref (zones);
    xs_api_reply_json (req_p, status, xs_nn (json_pack ("{s:o}", "volume", d)));
}

static void
s_volume_show_done (xs_cinder_t *self, xs_api_req_t **req_p, s_call_t *call,
                    const xs_reply_answer_t *answer)
{
    if (!answer->result && answer->err->kind != XS_ENOTFOUND)
        s_reply_failure (req_p, answer, 500);
    else
        s_reply_volume (self, req_p, 200, json_object_get (answer->result, "volume"), call->key);
}

static void
s_volume_show (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    const char *id = xs_api_req_param (req, "id");
    if (!s_is_uuid (id)) {          /* OSC probes with names: a quick 404 */
        xs_api_reply_error (&req, 404, "Volume %s could not be found.", id);
        return;
    }
    s_call (self, req, "volume_show", xs_nn (json_pack ("{s:s}", "uuid", id)),
            s_volume_show_done, id);
}

/* The project's live volumes and GiB, counted from the catalog. */
static int
s_usage (xs_cinder_t *self, const char *project, int64_t *volumes, int64_t *gigabytes,
         xs_err_t *err)
{
    *volumes = *gigabytes = 0;
    xs_volume_t **list = xs_store_volume_list (self->store, false, err);
    if (!list)
        return -1;
    for (xs_volume_t **v = list; *v; v++)
        if (streq ((*v)->project ? (*v)->project : "", project)) {
            (*volumes)++;
            *gigabytes += ((*v)->size_bytes + S_GIB - 1) / S_GIB;
        }
    xs_volume_list_destroy (&list);
    return 0;
}

/* A create's outcome: 202 with the volume. A create the catalog took but
   could not place is a volume in `error` (202 too; GET /messages tells
   why); a refusal is Cinder's error. */
static void
s_volume_create_done (xs_cinder_t *self, xs_api_req_t **req_p, s_call_t *call,
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
        s_reply_failure (req_p, answer, 400);
    json_decref (view);
}

static void
s_volume_create (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    json_t *body = NULL;
    const char *name = NULL, *type = NULL, *source = NULL, *snapshot = NULL;
    const char *description = NULL, *zone = NULL;
    long long size = 0;
    bool has_size = false;
    xs_err_t err;
    xs_flavor_t **flavors = NULL;
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
    if (s_check_unstored (body, &req))
        return;
    if (snapshot || json_object_get (body, "imageRef") || json_object_get (body, "backup_id")) {
        xs_api_reply_error (&req, 400, "Invalid input received: xensm creates volumes empty "
                            "or as clones (source_volid); snapshot_id, imageRef and backup_id "
                            "are not supported.");
        return;
    }
    const char *project = xs_api_req_identity (req)->project_id;
    if (source) {
        /* A clone: size and type are the source's. */
        xs_volume_t *src = s_is_uuid (source) ? xs_store_volume_get (self->store, source, NULL)
                                              : NULL;
        bool found = src && src->state != XS_VOLUME_DELETED
                  && s_visible (self, req, src->project);
        bool bigger = found && has_size && size * S_GIB != src->size_bytes;
        xs_volume_destroy (&src);
        if (!found)
            xs_api_reply_error (&req, 404, "Volume %s could not be found.", source);
        else
        if (bigger)
            xs_api_reply_error (&req, 400, "Invalid input received: a clone has its source's "
                                "size (extend it afterwards is not supported yet).");
        else {
            json_t *args = xs_nn (json_pack ("{s:s}", "uuid", source));
            if (name)
                json_object_set_new (args, "name", json_string (name));
            s_call (self, req, "volume_clone", args, s_volume_create_done, source);
        }
        return;
    }
    if (!has_size) {
        xs_api_reply_error (&req, 400, "Invalid input received: size is required (GiB, "
                            "a positive integer).");
        return;
    }
    /* The type: given by name or id; absent means the only flavor there is. */
    flavors = xs_store_flavor_list (self->store, &err);
    if (!flavors) {
        xs_api_reply_err (&req, &err);
        return;
    }
    const char *label = NULL;
    size_t nflavors = 0;
    for (xs_flavor_t **f = flavors; *f; f++, nflavors++) {
        char id [37];
        s_type_id ((*f)->label, id);
        if (type && (streq (type, (*f)->label) || streq (type, id)))
            label = (*f)->label;
    }
    if (!type && nflavors == 1)
        label = flavors [0]->label;
    if (!label) {
        if (type)
            xs_api_reply_error (&req, 404, "Volume type with name %s could not be found.", type);
        else
            xs_api_reply_error (&req, 400, "Invalid input received: volume_type is required "
                                "(%zu volume types exist; `openstack volume type list`).",
                                nflavors);
        goto out;
    }
    /* The quota, counted from the catalog. */
    int64_t used_volumes, used_gb;
    if (s_usage (self, project, &used_volumes, &used_gb, &err)) {
        xs_api_reply_err (&req, &err);
        goto out;
    }
    if (self->quota_volumes >= 0 && used_volumes + 1 > self->quota_volumes) {
        xs_api_reply_over_limit (&req, "VolumeLimitExceeded: Maximum number of volumes allowed "
                                 "(%lld) exceeded for quota 'volumes'.",
                                 (long long) self->quota_volumes);
        goto out;
    }
    if (self->quota_gigabytes >= 0 && used_gb + size > self->quota_gigabytes) {
        xs_api_reply_over_limit (&req, "VolumeSizeExceedsAvailableQuota: Requested volume or "
                                 "snapshot exceeds allowed gigabytes quota. Requested %lldG, "
                                 "quota is %lldG and %lldG has been consumed.", size,
                                 (long long) self->quota_gigabytes, (long long) used_gb);
        goto out;
    }
    json_t *args = xs_nn (json_pack ("{s:s, s:I, s:s, s:s}", "flavor", label,
                                     "size", (json_int_t) (size * S_GIB),
                                     "request_id", xs_api_req_id (req), "project", project));
    if (name && *name)
        json_object_set_new (args, "name", json_string (name));
    s_call (self, req, "volume_create", args, s_volume_create_done, NULL);
out:
    xs_flavor_list_destroy (&flavors);
}

static void
s_volume_delete_done (xs_cinder_t *self, xs_api_req_t **req_p, s_call_t *call,
                      const xs_reply_answer_t *answer)
{
    if (answer->result)
        xs_api_reply_empty (req_p, 202);
    else
        s_reply_failure (req_p, answer, 400);
}

/* The volume of the route's {id} the caller may see, or NULL after a 404
   (answered). Caller destroys. */
static xs_volume_t *
s_route_volume (xs_cinder_t *self, xs_api_req_t **req_p)
{
    const char *id = xs_api_req_param (*req_p, "id");
    xs_volume_t *v = s_is_uuid (id) ? xs_store_volume_get (self->store, id, NULL) : NULL;
    if (v && (v->state == XS_VOLUME_DELETED || !s_visible (self, *req_p, v->project)))
        xs_volume_destroy (&v);
    if (!v)
        xs_api_reply_error (req_p, 404, "Volume %s could not be found.", id);
    return v;
}

static void
s_volume_delete (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    xs_volume_t *v = s_route_volume (self, &req);
    if (!v)
        return;
    if (v->state != XS_VOLUME_AVAILABLE && v->state != XS_VOLUME_ERROR
    &&  v->state != XS_VOLUME_ERROR_DELETING)
        xs_api_reply_error (&req, 400, "Invalid volume: Volume status must be available or "
                            "error or error_restoring or error_extending or error_managing and "
                            "must not be migrating, attached, belong to a group, have "
                            "snapshots or be disassociated from snapshots after volume "
                            "transfer. (volume %s is %s)", v->uuid,
                            xs_volume_state_name (v->state));
    else
        s_call (self, req, "volume_delete", xs_nn (json_pack ("{s:s}", "uuid", v->uuid)),
                s_volume_delete_done, v->uuid);
    xs_volume_destroy (&v);
}

static void
s_volume_update_done (xs_cinder_t *self, xs_api_req_t **req_p, s_call_t *call,
                      const xs_reply_answer_t *answer)
{
    if (answer->result)
        s_reply_volume (self, req_p, 200, json_object_get (answer->result, "volume"),
                        call->key);
    else
        s_reply_failure (req_p, answer, 400);
}

/* PUT /volumes/{id}: the name ("name", or "display_name" as OSC sends it;
   description and metadata are not kept). */
static void
s_volume_update (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    json_t *body = NULL;
    const char *name = NULL;
    xs_err_t err;
    if (xs_api_json_element (xs_api_req_json (req), "volume", &body, &err)
    ||  xs_api_json_string (body, "name", 255, &name, &err)
    ||  (!name && xs_api_json_string (body, "display_name", 255, &name, &err))) {
        xs_api_reply_err (&req, &err);
        return;
    }
    if (s_check_unstored (body, &req))
        return;
    xs_volume_t *v = s_route_volume (self, &req);
    if (!v)
        return;
    if (name && *name)
        s_call (self, req, "volume_rename",
                xs_nn (json_pack ("{s:s, s:s}", "uuid", v->uuid, "name", name)),
                s_volume_update_done, v->uuid);
    else
        s_call (self, req, "volume_show", xs_nn (json_pack ("{s:s}", "uuid", v->uuid)),
                s_volume_show_done, v->uuid);
    xs_volume_destroy (&v);
}

static void
s_action_done (xs_cinder_t *self, xs_api_req_t **req_p, s_call_t *call,
               const xs_reply_answer_t *answer)
{
    if (answer->result)
        xs_api_reply_empty (req_p, 202);
    else
        s_reply_failure (req_p, answer, 400);
}

/* POST /volumes/{id}/action: os-force_delete, os-reset_status (admin);
   os-extend is refused until an agent operation resizes a VDI. */
static void
s_volume_action (xs_api_req_t *req, void *arg)
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
        xs_api_reply_error (&req, 400, "Invalid input received: extending a volume is not "
                            "supported by xensm yet (no agent operation resizes a VDI).");
    else
    if (streq (action, "os-force_delete")) {
        if (!s_refuse_non_admin (self, &req))
            s_call (self, req, "volume_delete", xs_nn (json_pack ("{s:s}", "uuid", v->uuid)),
                    s_action_done, v->uuid);
    }
    else
    if (streq (action, "os-reset_status")) {
        json_t *args = json_object_get (body, action);
        const char *status = json_is_object (args) ? s_str (args, "status") : NULL;
        if (s_refuse_non_admin (self, &req))
            ;
        else
        if (!status)
            xs_api_reply_error (&req, 400, "Invalid input received: os-reset_status needs "
                                "{\"status\": \"available\" or \"error\"}.");
        else
            s_call (self, req, "volume_reset_state",
                    xs_nn (json_pack ("{s:s, s:s}", "uuid", v->uuid, "state", status)),
                    s_action_done, v->uuid);
    }
    else
        xs_api_reply_error (&req, 400, "Invalid input received: action %.64s is not supported "
                            "by xensm.", action);
    xs_volume_destroy (&v);
    json_decref (raw);
}

/* =========================================================================
    Volume types: the flavors
   ========================================================================= */

static void
s_types_done (xs_cinder_t *self, xs_api_req_t **req_p, s_call_t *call,
              const xs_reply_answer_t *answer)
{
    if (!answer->result) {
        s_reply_failure (req_p, answer, 500);
        return;
    }
    json_t *flavors = json_object_get (answer->result, "flavors");
    if (call->key) {
        json_t *f = s_find_type (flavors, call->key);
        if (f)
            xs_api_reply_json (req_p, 200, xs_nn (json_pack ("{s:o}", "volume_type",
                                                             s_type_view (f))));
        else
            xs_api_reply_error (req_p, 404, "Volume type %s could not be found.", call->key);
        return;
    }
    json_t *types = xs_nn (json_array ());
    size_t i;
    json_t *f;
    json_array_foreach (flavors, i, f)
        json_array_append_new (types, s_type_view (f));
    xs_api_reply_json (req_p, 200, xs_nn (json_pack ("{s:o}", "volume_types", types)));
}

static void
s_types (xs_api_req_t *req, void *arg)
{
    s_call ((xs_cinder_t *) arg, req, "flavor_list", xs_nn (json_object ()), s_types_done, NULL);
}

static void
s_type_show (xs_api_req_t *req, void *arg)
{
    s_call ((xs_cinder_t *) arg, req, "flavor_list", xs_nn (json_object ()), s_types_done,
            xs_api_req_param (req, "id"));
}

static void
s_type_create_done (xs_cinder_t *self, xs_api_req_t **req_p, s_call_t *call,
                    const xs_reply_answer_t *answer)
{
    if (answer->result)
        xs_api_reply_json (req_p, 200, xs_nn (json_pack ("{s:o}", "volume_type",
                           s_type_view (json_object_get (answer->result, "flavor")))));
    else
    if (answer->err->kind == XS_ECONFLICT)
        xs_api_reply_error (req_p, 409, "Volume Type %s already exists.", call->key);
    else
        s_reply_failure (req_p, answer, 409);
}

static void
s_type_create (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    json_t *body = NULL;
    const char *name = NULL, *description = NULL;
    xs_err_t err;
    if (s_refuse_non_admin (self, &req))
        return;
    if (xs_api_json_element (xs_api_req_json (req), "volume_type", &body, &err)
    ||  xs_api_json_string (body, "name", 255, &name, &err)
    ||  xs_api_json_string (body, "description", 255, &description, &err)) {
        xs_api_reply_err (&req, &err);
        return;
    }
    if (!name || !*name) {
        xs_api_reply_error (&req, 400, "Invalid input received: a volume type needs a name.");
        return;
    }
    json_t *args = xs_nn (json_pack ("{s:s}", "label", name));
    if (description)
        json_object_set_new (args, "description", json_string (description));
    s_call (self, req, "flavor_create", args, s_type_create_done, name);
}

/* The flavor label of the route's {id} (type id or name), or NULL after a
   404 (answered). Caller frees. */
static char *
s_route_type (xs_cinder_t *self, xs_api_req_t **req_p)
{
    const char *key = xs_api_req_param (*req_p, "id");
    char *label = NULL;
    xs_flavor_t **flavors = xs_store_flavor_list (self->store, NULL);
    for (xs_flavor_t **f = flavors; f && *f && !label; f++) {
        char id [37];
        s_type_id ((*f)->label, id);
        if (streq (id, key) || streq ((*f)->label, key))
            label = xs_strdup ((*f)->label);
    }
    xs_flavor_list_destroy (&flavors);
    if (!label)
        xs_api_reply_error (req_p, 404, "Volume type %s could not be found.", key);
    return label;
}

static void
s_type_delete_done (xs_cinder_t *self, xs_api_req_t **req_p, s_call_t *call,
                    const xs_reply_answer_t *answer)
{
    if (answer->result)
        xs_api_reply_empty (req_p, 202);
    else
    if (answer->err->kind == XS_ECONFLICT)
        xs_api_reply_error (req_p, 400, "Target volume type is still in use. (%s)",
                            answer->err->msg);
    else
        s_reply_failure (req_p, answer, 400);
}

static void
s_type_delete (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    if (s_refuse_non_admin (self, &req))
        return;
    char *label = s_route_type (self, &req);
    if (label)
        s_call (self, req, "flavor_delete", xs_nn (json_pack ("{s:s}", "label", label)),
                s_type_delete_done, label);
    free (label);
}

static void
s_type_extra_specs (xs_api_req_t *req, void *arg)
{
    char *label = s_route_type ((xs_cinder_t *) arg, &req);
    if (label)
        xs_api_reply_json (&req, 200, xs_nn (json_pack ("{s:{}}", "extra_specs")));
    free (label);
}

static void
s_type_extra_specs_set (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    if (s_refuse_non_admin (self, &req))
        return;
    char *label = s_route_type (self, &req);
    if (label)
        xs_api_reply_error (&req, 400, "Invalid input received: xensm keeps no extra specs; a "
                            "type's backends are added with `xensm-manage sm backend add %s "
                            "...`.", label);
    free (label);
}

/* =========================================================================
    Zones, limits, quotas, messages (views of the store)
   ========================================================================= */

static void
s_zones (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    json_t *state = xs_nn (json_object ());       /* zone -> available */
    xs_backend_t **backends = xs_store_backend_list (self->store, NULL);
    for (xs_backend_t **b = backends; backends && *b; b++)
        if (!json_object_get (state, (*b)->zone))
            json_object_set_new (state, (*b)->zone, json_false ());
    xs_backend_list_destroy (&backends);
    xs_host_t **hosts = xs_store_host_list (self->store, NULL, NULL);
    for (xs_host_t **h = hosts; hosts && *h; h++)
        if ((*h)->state == XS_HOST_UP || !json_object_get (state, (*h)->zone))
            json_object_set_new (state, (*h)->zone, json_boolean ((*h)->state == XS_HOST_UP));
    xs_host_list_destroy (&hosts);
    json_t *zones = xs_nn (json_array ());
    const char *zone;
    json_t *up;
    json_object_foreach (state, zone, up)
        json_array_append_new (zones, xs_nn (json_pack ("{s:s, s:{s:O}}", "zoneName", zone,
                                                        "zoneState", "available", up)));
    json_decref (state);
    xs_api_reply_json (&req, 200, xs_nn (json_pack ("{s:o}", "availabilityZoneInfo", zones)));
}

static void
s_limits (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    int64_t volumes, gigabytes;
    xs_err_t err;
    if (s_usage (self, xs_api_req_identity (req)->project_id, &volumes, &gigabytes, &err)) {
        xs_api_reply_err (&req, &err);
        return;
    }
    xs_api_reply_json (&req, 200, xs_nn (json_pack (
        "{s:{s:[], s:{s:I, s:i, s:I, s:i, s:i, s:I, s:I, s:i, s:i, s:i}}}", "limits", "rate",
        "absolute", "maxTotalVolumes", (json_int_t) self->quota_volumes,
        "maxTotalSnapshots", 0, "maxTotalVolumeGigabytes", (json_int_t) self->quota_gigabytes,
        "maxTotalBackups", 0, "maxTotalBackupGigabytes", 0,
        "totalVolumesUsed", (json_int_t) volumes, "totalGigabytesUsed", (json_int_t) gigabytes,
        "totalSnapshotsUsed", 0, "totalBackupsUsed", 0, "totalBackupGigabytesUsed", 0)));
}

/* One quota value: the limit, or {limit, in_use, reserved} with usage. */
static json_t *
s_quota (bool usage, int64_t limit, int64_t in_use)
{
    if (!usage)
        return xs_nn (json_integer (limit));
    return xs_nn (json_pack ("{s:I, s:I, s:i}", "limit", (json_int_t) limit,
                             "in_use", (json_int_t) in_use, "reserved", 0));
}

static void
s_quota_show (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    const char *project = xs_api_req_param (req, "project");
    if (!xs_api_project_id_valid (project)) {
        xs_api_reply_error (&req, 400, "Invalid input received: bad project id.");
        return;
    }
    if (!s_visible (self, req, project)) {
        xs_api_reply_error (&req, 403, "Policy doesn't allow quota show of another project.");
        return;
    }
    bool usage = s_truthy (xs_api_req_query (req, "usage"));
    int64_t volumes, gigabytes;
    xs_err_t err;
    if (s_usage (self, project, &volumes, &gigabytes, &err)) {
        xs_api_reply_err (&req, &err);
        return;
    }
    json_t *q = xs_nn (json_pack ("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", project,
        "volumes", s_quota (usage, self->quota_volumes, volumes),
        "gigabytes", s_quota (usage, self->quota_gigabytes, gigabytes),
        "snapshots", s_quota (usage, 0, 0), "backups", s_quota (usage, 0, 0),
        "backup_gigabytes", s_quota (usage, 0, 0),
        "per_volume_gigabytes", s_quota (usage, -1, 0), "groups", s_quota (usage, 0, 0)));
    xs_flavor_t **flavors = xs_store_flavor_list (self->store, NULL);
    for (xs_flavor_t **f = flavors; flavors && *f; f++) {
        static const char *const kinds [] = {"volumes_", "gigabytes_", "snapshots_"};
        for (size_t k = 0; k < 3; k++) {
            char key [300];
            snprintf (key, sizeof key, "%s%s", kinds [k], (*f)->label);
            json_object_set_new (q, key, s_quota (usage, -1, 0));
        }
    }
    xs_flavor_list_destroy (&flavors);
    xs_api_reply_json (&req, 200, xs_nn (json_pack ("{s:o}", "quota_set", q)));
}

/* The user message of a create that ended in error: its reason names
   every placement attempt. */
static json_t *
s_message_view (const xs_api_req_t *req, const xs_volume_t *v)
{
    char id [37], created [40], until [40], path [64];
    s_name_uuid ("xensm-message:", v->uuid, id);
    s_iso_time (v->updated_at, created, sizeof created);
    s_iso_time (v->updated_at + (int64_t) S_MESSAGE_DAYS * 86400 * 1000, until, sizeof until);
    snprintf (path, sizeof path, "messages/%s", id);
    char *url = xs_api_req_url (req, path);
    char *text = xs_sprintf ("schedule allocate volume: %s",
                             v->error ? v->error : "the volume went to error");
    json_t *m = xs_nn (json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s}]}",
        "id", id, "event_id", "VOLUME_VOLUME_001_002", "user_message", text,
        "message_level", "ERROR", "resource_type", "VOLUME", "resource_uuid", v->uuid,
        "request_id", v->request_id, "created_at", created, "guaranteed_until", until,
        "links", "rel", "self", "href", url));
    free (text);
    free (url);
    return m;
}

/* GET /messages[?request_id=] and /messages/{id}: the caller's volumes in
   error that a request created. */
static void
s_messages_common (xs_api_req_t *req, xs_cinder_t *self, const char *want_id)
{
    const char *request_id = xs_api_req_query (req, "request_id");
    xs_err_t err;
    xs_volume_t **list = xs_store_volume_list (self->store, false, &err);
    if (!list) {
        xs_api_reply_err (&req, &err);
        return;
    }
    json_t *messages = xs_nn (json_array ());
    for (xs_volume_t **v = list; *v; v++) {
        if ((*v)->state != XS_VOLUME_ERROR || !(*v)->request_id
        ||  !s_visible (self, req, (*v)->project)
        ||  (request_id && !streq (request_id, (*v)->request_id)))
            continue;
        json_t *m = s_message_view (req, *v);
        if (!want_id || streq (want_id, s_str (m, "id")))
            json_array_append_new (messages, m);
        else
            json_decref (m);
    }
    xs_volume_list_destroy (&list);
    if (!want_id)
        xs_api_reply_json (&req, 200, xs_nn (json_pack ("{s:o}", "messages", messages)));
    else
    if (json_array_size (messages))
        xs_api_reply_json (&req, 200, xs_nn (json_pack ("{s:O}", "message",
                                                        json_array_get (messages, 0))));
    else
        xs_api_reply_error (&req, 404, "Message %s could not be found.", want_id);
    if (want_id)
        json_decref (messages);
}

static void
s_messages (xs_api_req_t *req, void *arg)
{
    s_messages_common (req, (xs_cinder_t *) arg, NULL);
}

static void
s_message_show (xs_api_req_t *req, void *arg)
{
    s_messages_common (req, (xs_cinder_t *) arg, xs_api_req_param (req, "id"));
}

/* Compute's /servers/detail on the volume endpoint (OSC under `none`): 404. */

/* =========================================================================
    The route table
   ========================================================================= */

static const xs_api_route_t s_routes [] = {
    XS_API_VERSION_ROUTES,
    {"GET",    "/volumes/detail", s_volumes_detail, 0, "volume.list_detail"},
    {"GET",    "/volumes", s_volumes_summary, 0, "volume.list"},
    {"POST",   "/volumes", s_volume_create, XS_ROUTE_BODY, "volume.create"},
    {"GET",    "/volumes/{id}", s_volume_show, 0, "volume.show"},
    {"DELETE", "/volumes/{id}", s_volume_delete, 0, "volume.delete"},
    {"PUT",    "/volumes/{id}", s_volume_update, XS_ROUTE_BODY, "volume.update"},
    {"POST",   "/volumes/{id}/action", s_volume_action, XS_ROUTE_BODY, "volume.action"},
    {"GET",    "/types", s_types, 0, "type.list"},
    {"POST",   "/types", s_type_create, XS_ROUTE_BODY, "type.create"},
    {"GET",    "/types/{id}", s_type_show, 0, "type.show"},
    {"DELETE", "/types/{id}", s_type_delete, 0, "type.delete"},
    {"GET",    "/types/{id}/extra_specs", s_type_extra_specs, 0, "type.extra_specs"},
    {"POST",   "/types/{id}/extra_specs", s_type_extra_specs_set, XS_ROUTE_BODY,
     "type.extra_specs_set"},
    {"GET",    "/os-availability-zone", s_zones, 0, "zone.list"},
    {"GET",    "/limits", s_limits, 0, "limits"},
    {"GET",    "/os-quota-sets/{project}", s_quota_show, 0, "quota.show"},
    {"GET",    "/messages", s_messages, 0, "message.list"},
    {"GET",    "/messages/{id}", s_message_show, 0, "message.show"},
    {NULL, NULL, NULL, 0, NULL},
};

/* =========================================================================
    Life cycle
   ========================================================================= */

/* The first line of `path`, or NULL with *err. Caller frees (and wipes). */
static char *
s_read_secret (const char *path, xs_err_t *err)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        xs_err_set (err, XS_EIO, "keystone_password_file %s: %s", path, strerror (errno));
        return NULL;
    }
    char line [1024] = "";
    bool ok = fgets (line, sizeof line, f) != NULL;
    fclose (f);
    line [strcspn (line, "\r\n")] = 0;
    if (!ok || !*line) {
        xs_err_set (err, XS_EINVAL, "keystone_password_file %s: empty", path);
        return NULL;
    }
    char *secret = xs_strdup (line);
    memset (line, 0, sizeof line);
    return secret;
}

static const char *
s_cfg (const xs_config_t *config, const char *key)
{
    const char *v = xs_config_get (config, XS_CATALOG_SECTION, key);
    return v && *v ? v : NULL;
}

int
xs_cinder_new (zloop_t *loop, const xs_config_t *config, xs_admin_t *admin, xs_store_t *store,
               xs_cinder_t **self_p, xs_err_t *err)
{
    *self_p = NULL;
    const char *listen = s_cfg (config, "api_listen");
    if (!listen)
        return 0;
    xs_cinder_t *self = xs_zalloc (sizeof *self);
    char *password = NULL;
    self->admin = admin;
    self->store = store;
    self->keystone = streq (xs_config_get (config, XS_CATALOG_SECTION, "api_auth"), "keystone");
    self->noauth_admin = xs_strdup (s_cfg (config, "api_noauth_project")
                                    ? s_cfg (config, "api_noauth_project") : "admin");
    self->default_zone = xs_strdup (s_cfg (config, "default_zone")
                                    ? s_cfg (config, "default_zone") : "default");
    self->quota_volumes = xs_config_int (config, XS_CATALOG_SECTION, "api_quota_volumes", 1000);
    self->quota_gigabytes = xs_config_int (config, XS_CATALOG_SECTION, "api_quota_gigabytes",
                                           100000);
    xs_api_opts_t opts = {
        .http = {.listen = listen, .cert_file = s_cfg (config, "api_cert"),
                 .key_file = s_cfg (config, "api_key")},
        .public_endpoint = s_cfg (config, "api_public_endpoint"),
        .auth = self->keystone ? XS_API_KEYSTONE : XS_API_NOAUTH,
        .allow_insecure = xs_config_bool (config, XS_CATALOG_SECTION, "api_allow_insecure",
                                          false),
        .noauth_project = self->noauth_admin,
    };
    if (self->keystone) {
        const char *file = s_cfg (config, "keystone_password_file");
        if (!s_cfg (config, "keystone_url") || !s_cfg (config, "keystone_user") || !file) {
            xs_err_set (err, XS_EINVAL, "api_auth = keystone needs keystone_url, keystone_user "
                        "and keystone_password_file in [catalog]");
            goto fail;
        }
        if (!(password = s_read_secret (file, err)))
            goto fail;
        opts.keystone = (xs_keystone_opts_t) {
            .url = s_cfg (config, "keystone_url"), .user = s_cfg (config, "keystone_user"),
            .password = password, .project = s_cfg (config, "keystone_project"),
            .cafile = s_cfg (config, "keystone_cafile")};
    }
    self->api = xs_api_new (loop, &opts, s_routes, self, err);
    if (password) {
        memset (password, 0, strlen (password));
        free (password);
    }
    if (!self->api)
        goto fail;
    /* The endpoint clients use: the listen address with the bound port. */
    const char *colon = strrchr (listen, ':');
    self->endpoint = xs_sprintf ("%s://%.*s:%u", opts.http.cert_file ? "https" : "http",
                                 (int) (colon - listen), listen,
                                 (unsigned) xs_api_port (self->api));
    xs_notice ("Block Storage API on %s (%s)", self->endpoint,
               self->keystone ? "keystone" : "noauth");
    *self_p = self;
    return 0;
fail:
    xs_err_prefix (err, "api");
    xs_cinder_destroy (&self);
    return -1;
}

void
xs_cinder_destroy (xs_cinder_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_cinder_t *self = *self_p;
    xs_api_destroy (&self->api);
    free (self->noauth_admin);
    free (self->default_zone);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

uint16_t
xs_cinder_port (const xs_cinder_t *self)
{
    return xs_api_port (self->api);
}

const char *
xs_cinder_endpoint (const xs_cinder_t *self)
{
    return self->endpoint;
}
