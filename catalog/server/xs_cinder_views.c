/*  xs_cinder_views: the Block Storage API's read-only views of the store:
    availability zones (the backends' zones), limits and quota sets
    (counted from the catalog), user messages (the placement attempts of a
    create that ended in error, keyed by the create's request id).
*/
#include "xs_cinder_int.h"
#include "xs_prom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_mem.h"

#define S_MESSAGE_DAYS 30

/* =========================================================================
    Zones, limits, quotas, messages (views of the store)
   ========================================================================= */

/* GET /metrics: Prometheus' text (xs_metrics). */
void
xs_cinder_metrics (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    if (!self->metrics) {
        xs_api_reply_error (&req, 404, "metrics are not kept by this server");
        return;
    }
    size_t len = 0;
    xs_err_t err;
    char *text = xs_metrics_render (self->metrics, self->store, self->hosts, &len, &err);
    if (!text) {
        xs_api_reply_err (&req, &err);
        return;
    }
    xs_api_reply_text (&req, 200, xs_prom_content_type, text, len);
}

void
xs_cinder_zones (xs_api_req_t *req, void *arg)
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

void
xs_cinder_limits (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    xs_cinder_usage_t used;
    xs_err_t err;
    if (xs_cinder_usage (self, xs_api_req_identity (req)->project_id, &used, &err)) {
        xs_api_reply_err (&req, &err);
        return;
    }
    xs_api_reply_json (&req, 200, xs_nn (json_pack (
        "{s:{s:[], s:{s:I, s:i, s:I, s:i, s:i, s:I, s:I, s:I, s:i, s:i}}}", "limits", "rate",
        "absolute", "maxTotalVolumes", (json_int_t) self->quota_volumes,
        "maxTotalSnapshots", -1, "maxTotalVolumeGigabytes", (json_int_t) self->quota_gigabytes,
        "maxTotalBackups", 0, "maxTotalBackupGigabytes", 0,
        "totalVolumesUsed", (json_int_t) used.volumes,
        "totalGigabytesUsed", (json_int_t) used.gigabytes,
        "totalSnapshotsUsed", (json_int_t) used.snapshots, "totalBackupsUsed", 0,
        "totalBackupGigabytesUsed", 0)));
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

void
xs_cinder_quota_show (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    const char *project = xs_api_req_param (req, "project");
    if (!xs_api_project_id_valid (project)) {
        xs_api_reply_error (&req, 400, "Invalid input received: bad project id.");
        return;
    }
    if (!xs_cinder_visible (self, req, project)) {
        xs_api_reply_error (&req, 403, "Policy doesn't allow quota show of another project.");
        return;
    }
    bool usage = xs_cinder_truthy (xs_api_req_query (req, "usage"));
    xs_cinder_usage_t used;
    xs_err_t err;
    if (xs_cinder_usage (self, project, &used, &err)) {
        xs_api_reply_err (&req, &err);
        return;
    }
    json_t *q = xs_nn (json_pack ("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", project,
        "volumes", s_quota (usage, self->quota_volumes, used.volumes),
        "gigabytes", s_quota (usage, self->quota_gigabytes, used.gigabytes),
        "snapshots", s_quota (usage, -1, used.snapshots), "backups", s_quota (usage, 0, 0),
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
    xs_cinder_name_uuid ("xensm-message:", v->uuid, id);
    xs_cinder_iso_time (v->updated_at, created, sizeof created);
    xs_cinder_iso_time (v->updated_at + (int64_t) S_MESSAGE_DAYS * 86400 * 1000, until,
                        sizeof until);
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
   error that a request created (everyone's for an admin), oldest first;
   the store reads those rows only (xs_store_volume_list_errors). */
static void
s_messages_common (xs_api_req_t *req, xs_cinder_t *self, const char *want_id)
{
    const char *request_id = xs_api_req_query (req, "request_id");
    const char *project = xs_cinder_admin (self, req) ? NULL
                        : xs_api_req_identity (req)->project_id;
    xs_err_t err;
    xs_volume_t **list = xs_store_volume_list_errors (self->store, project, &err);
    if (!list) {
        xs_api_reply_err (&req, &err);
        return;
    }
    json_t *messages = xs_nn (json_array ());
    for (xs_volume_t **v = list; *v; v++) {
        if (request_id && !streq (request_id, (*v)->request_id))
            continue;
        json_t *m = s_message_view (req, *v);
        if (!want_id || streq (want_id, xs_cinder_str (m, "id")))
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

void
xs_cinder_messages (xs_api_req_t *req, void *arg)
{
    s_messages_common (req, (xs_cinder_t *) arg, NULL);
}

void
xs_cinder_message_show (xs_api_req_t *req, void *arg)
{
    s_messages_common (req, (xs_cinder_t *) arg, xs_api_req_param (req, "id"));
}

/* Compute's /servers/detail on the volume endpoint (OSC under `none`): 404. */

