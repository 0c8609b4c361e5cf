/*  xs_cinder_util: the helpers the Cinder routes share: ids and times in
    Cinder's shapes, who may see what, Cinder's error for an admin command's
    failure, and calling the ONE admin command table (xs_admin_run) with a
    reply whose sink answers the HTTP request.
*/
#include "xs_cinder_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xs_mem.h"
#include "xs_op.h"

/* =========================================================================
    Small helpers
   ========================================================================= */

/* "2026-12-07T04:17:10.541000" (UTC, no zone, as Cinder) from Unix ms. */
void
xs_cinder_iso_time (int64_t ms, char *buf, size_t size)
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
void
xs_cinder_name_uuid (const char *prefix, const char *name, char buf [37])
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

void
xs_cinder_type_id (const char *label, char buf [37])
{
    xs_cinder_name_uuid ("xensm-flavor:", label, buf);
}

/* True for a canonical uuid (8-4-4-4-12 hex). */
bool
xs_cinder_is_uuid (const char *s)
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

const char *
xs_cinder_str (const json_t *obj, const char *key)
{
    return json_string_value (json_object_get (obj, key));
}

bool
xs_cinder_truthy (const char *v)
{
    return v && (streq (v, "1") || strcasecmp (v, "true") == 0 || strcasecmp (v, "yes") == 0);
}

/* Whether the caller is an admin: keystone's admin role; with noauth, the
   project named api_noauth_project (so that projects are isolated). */
bool
xs_cinder_admin (const xs_cinder_t *self, const xs_api_req_t *req)
{
    const xs_api_identity_t *id = xs_api_req_identity (req);
    return id->is_admin && (self->keystone || streq (id->project_id, self->noauth_admin));
}

/* Whether the caller may see a volume of `project`. */
bool
xs_cinder_visible (const xs_cinder_t *self, const xs_api_req_t *req, const char *project)
{
    return xs_cinder_admin (self, req)
        || streq (project ? project : "", xs_api_req_identity (req)->project_id);
}

/* Refuses a non-admin with 403; true when it did. */
bool
xs_cinder_refuse_non_admin (const xs_cinder_t *self, xs_api_req_t **req_p)
{
    if (xs_cinder_admin (self, *req_p))
        return false;
    xs_api_reply_error (req_p, 403, "Policy doesn't allow %s to be performed.",
                        xs_api_req_route (*req_p));
    return true;
}

/* An admin command's failure as Cinder's error: its kind's status, or
   conflict_status for a conflict (400 "Invalid ..." for most of Cinder). */
void
xs_cinder_reply_failure (xs_api_req_t **req_p, const xs_reply_answer_t *answer,
                         unsigned conflict_status)
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


static void
s_call_gone (void *arg)
{
    ((xs_cinder_call_t *) arg)->req = NULL;
}

/* xs_reply's sink: hands the answer to the route's done function. */
static void
s_call_sink (void *arg, xs_reply_answer_t *answer)
{
    xs_cinder_call_t *call = (xs_cinder_call_t *) arg;
    if (call->req)
        call->done (call->self, &call->req, call, answer);
    json_decref (answer->result);
    free (call->key);
    free (call);
}

/* Runs admin command `cmd` with args (taken) for req; done answers req
   with the outcome, now or once the command's reply is complete (the
   request is parked meanwhile). */
void
xs_cinder_call (xs_cinder_t *self, xs_api_req_t *req, const char *cmd, json_t *args,
                xs_cinder_done_fn *done, const char *key)
{
    xs_cinder_call_t *call = xs_zalloc (sizeof *call);
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

void
xs_cinder_accepted (xs_cinder_t *self, xs_api_req_t **req_p, xs_cinder_call_t *call,
                    const xs_reply_answer_t *answer)
{
    if (answer->result)
        xs_api_reply_empty (req_p, 202);
    else
        xs_cinder_reply_failure (req_p, answer, 400);
}

void
xs_cinder_update (xs_cinder_t *self, xs_api_req_t *req, const char *element,
                  xs_cinder_find_fn *find, xs_cinder_done_fn *renamed, xs_cinder_done_fn *shown)
{
    json_t *body = NULL;
    const char *name = NULL;
    xs_err_t err;
    if (xs_api_json_element (xs_api_req_json (req), element, &body, &err)
    ||  xs_api_json_string (body, "name", 255, &name, &err)
    ||  (!name && xs_api_json_string (body, "display_name", 255, &name, &err))) {
        xs_api_reply_err (&req, &err);
        return;
    }
    if (xs_cinder_check_unstored (body, &req))
        return;
    xs_volume_t *v = find (self, &req);
    if (!v)
        return;
    if (name && *name)
        xs_cinder_call (self, req, "volume_rename",
                        xs_nn (json_pack ("{s:s, s:s}", "uuid", v->uuid, "name", name)),
                        renamed, v->uuid);
    else
        xs_cinder_call (self, req, "volume_show", xs_nn (json_pack ("{s:s}", "uuid", v->uuid)),
                        shown, v->uuid);
    xs_volume_destroy (&v);
}

/* =========================================================================
    Views
   ========================================================================= */

/* backend id (as text) -> zone, from the store. New object. */
json_t *
xs_cinder_zone_map (xs_cinder_t *self)
{
    json_t *map = xs_nn (json_object ());
    xs_backend_t **list = xs_store_backend_list_rows (self->store, NULL);
    for (xs_backend_t **b = list; b && *b; b++) {
        char key [32];
        snprintf (key, sizeof key, "%lld", (long long) (*b)->id);
        json_object_set_new (map, key, xs_nn (json_string ((*b)->zone)));
    }
    xs_backend_list_destroy (&list);
    return map;
}

xs_cinder_vol_t
xs_cinder_vol_of_view (const json_t *v)
{
    json_t *backend = json_object_get (v, "backend_id");
    return (xs_cinder_vol_t) {
        .uuid = xs_cinder_str (v, "uuid"), .name = xs_cinder_str (v, "name"),
        .state = xs_cinder_str (v, "state"), .flavor = xs_cinder_str (v, "flavor"),
        .parent = xs_cinder_str (v, "parent_uuid"), .project = xs_cinder_project (v),
        .size = json_integer_value (json_object_get (v, "size")),
        .backend_id = json_is_integer (backend) ? json_integer_value (backend) : 0,
        .created_at = json_integer_value (json_object_get (v, "created_at")),
        .updated_at = json_integer_value (json_object_get (v, "updated_at")),
    };
}

xs_cinder_vol_t
xs_cinder_vol_of_row (const xs_volume_t *v, const char *flavor)
{
    return (xs_cinder_vol_t) {
        .uuid = v->uuid, .name = v->name, .state = xs_volume_state_name (v->state),
        .flavor = flavor, .parent = v->parent_uuid, .project = v->project ? v->project : "",
        .size = v->size_bytes, .backend_id = v->backend_id, .created_at = v->created_at,
        .updated_at = v->updated_at,
    };
}

json_t *
xs_cinder_null_or (const char *s)
{
    return s ? xs_nn (json_string (s)) : json_null ();
}
int
xs_cinder_usage (xs_cinder_t *self, const char *project, xs_cinder_usage_t *used,
                 xs_err_t *err)
{
    /* One query: it walked every volume of the catalog, at every create
       (the HTTP path ran at 7% of the admin path's rate with 5,000 live
       volumes; bench/results.md "3 api"). */
    *used = (xs_cinder_usage_t) {0};
    xs_volume_usage_t usage;
    if (xs_store_volume_usage (self->store, project, &usage, err))
        return -1;
    used->volumes = usage.volumes;
    used->snapshots = usage.snapshots;
    used->gigabytes = usage.gigabytes;
    return 0;
}

/* =========================================================================
    Snapshots: volumes made by vdi_snapshot
   ========================================================================= */

bool
xs_cinder_is_snapshot (xs_cinder_t *self, const char *uuid)
{
    xs_job_t **jobs = uuid ? xs_store_job_list_by_volume (self->store, uuid, NULL) : NULL;
    bool yes = jobs && jobs [0] && streq (jobs [0]->op, xs_op_name (XS_OP_VDI_SNAPSHOT));
    xs_job_list_destroy (&jobs);
    return yes;
}

bool
xs_cinder_view_is_snapshot (xs_cinder_t *self, const json_t *v)
{
    return xs_cinder_str (v, "parent_uuid")
        && xs_cinder_is_snapshot (self, xs_cinder_str (v, "uuid"));
}

const char *
xs_cinder_project (const json_t *v)
{
    const char *project = xs_cinder_str (v, "project");
    return project ? project : "";
}

/* =========================================================================
    Lists: selection and paging
   ========================================================================= */

/* The page of volumes (or snapshots) the request lists: one store query
   (xs_store_volume_page), never a walk over every volume. */
xs_volume_t **
xs_cinder_page (xs_cinder_t *self, xs_api_req_t **req_p, bool snapshots,
                const xs_api_page_t *page, int64_t *count)
{
    const xs_api_req_t *req = *req_p;
    bool all = xs_cinder_admin (self, req)
            && xs_cinder_truthy (xs_api_req_query (req, "all_tenants"));
    xs_volume_page_spec_t spec = {
        .project = all ? NULL : xs_api_req_identity (req)->project_id,
        .snapshots = snapshots,
        .name = xs_api_req_query (req, "name"),
        .state = xs_api_req_query (req, "status"),
        .parent_uuid = snapshots ? xs_api_req_query (req, "volume_id") : NULL,
        .marker = page->marker,
        .offset = (int64_t) page->offset,
        .limit = (int64_t) page->limit,
    };
    xs_err_t err;
    *count = -1;
    if (xs_cinder_truthy (xs_api_req_query (req, "with_count"))
    &&  (*count = xs_store_volume_page_count (self->store, &spec, &err)) < 0) {
        xs_api_reply_err (req_p, &err);
        return NULL;
    }
    xs_volume_t **rows = xs_store_volume_page (self->store, &spec, &err);
    if (!rows && err.kind == XS_ENOTFOUND)
        xs_api_reply_error (req_p, 400, "Invalid input received: marker not found: %s",
                            page->marker);
    else
    if (!rows)
        xs_api_reply_err (req_p, &err);
    return rows;
}

const xs_flavor_t *
xs_cinder_flavor_of (xs_flavor_t **flavors, int64_t id)
{
    for (xs_flavor_t **f = flavors; f && *f; f++)
        if ((*f)->id == id)
            return *f;
    return NULL;
}

void
xs_cinder_reply_page (xs_api_req_t **req_p, xs_api_list_t **list_p, const char *last_id,
                      bool more, const char *key, const char *path, const xs_api_page_t *page,
                      int64_t count)
{
    json_t *tail = xs_nn (json_object ());
    size_t got = xs_api_list_size (*list_p);
    if (more && got)
        xs_api_req_next_link (*req_p, tail, key, path, page, got, last_id);
    if (count >= 0)
        json_object_set_new (tail, "count", json_integer ((json_int_t) count));
    xs_api_reply_list (req_p, 200, list_p, tail);
    json_decref (tail);
}

/* Refuses (400, answered; true) a description or metadata that is not
   empty: xensm keeps neither, and saying so beats dropping them. */
bool
xs_cinder_check_unstored (json_t *body, xs_api_req_t **req_p)
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

size_t
xs_cinder_snapshot_count (xs_cinder_t *self, const char *uuid)
{
    int64_t n = xs_store_volume_snapshots_of (self->store, uuid, NULL);
    return n > 0 ? (size_t) n : 0;
}
