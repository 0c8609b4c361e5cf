/*  itest_api_host: xs_api on a zloop with the version documents and a few
    stub routes, for driving with the real OpenStack clients (phase A of the
    Block Storage API: no catalog behind it yet).

    Usage: itest_api_host LISTEN [CERT KEY]
    Environment: ITEST_VOLUMES (fake volumes, default 3), ITEST_PUBLIC
    (api_public_endpoint), ITEST_KEYSTONE_URL/_USER/_PASSWORD/_PROJECT
    (keystone mode). Prints "PORT <n>" on stdout when serving; stops on
    SIGTERM or SIGINT.

    Stub routes: volumes (detail, summary, show, create answered 50 ms later
    from a timer), types, availability zones, limits, a route that never
    answers (/v3/park: for disconnect tests) and /metrics.
*/
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/api/xs_api.h"
#include "catalog/api/xs_prom.h"
#include "common/xs_log.h"

typedef struct {
    zloop_t *loop;
    xs_api_t *api;
    json_t *volumes;            /* stable order: newest first, as Cinder */
    size_t parked;
    size_t gone;
    xs_histo_t *latency;
} s_host_t;

static json_t *
s_volume (const char *id, const char *name, const char *status, const char *project)
{
    return json_pack ("{s:s, s:s, s:s, s:i, s:s, s:{}, s:[], s:s, s:s, s:s, s:s, s:b, s:b,"
                      " s:s, s:[]}",
                      "id", id, "name", name, "status", status, "size", 1,
                      "volume_type", "gold", "metadata", "attachments",
                      "bootable", "false", "availability_zone", "za",
                      "created_at", "2026-12-07T04:17:10.541373",
                      "os-vol-tenant-attr:tenant_id", project,
                      "encrypted", 0, "multiattach", 0, "description", "", "links");
}

static void
s_fill (s_host_t *self, size_t n)
{
    self->volumes = json_array ();
    for (size_t i = 0; i < n; i++) {
        char id [64], name [32];
        snprintf (id, sizeof id, "00000000-0000-4000-8000-%012zu", n - i);
        snprintf (name, sizeof name, "vol-%zu", n - i);
        json_array_append_new (self->volumes, s_volume (id, name, "available", "proj1"));
    }
}

/* ---------------------------------------------------------------------------
 *  Stub routes
 * ------------------------------------------------------------------------- */

static void
s_volume_list (xs_api_req_t *req, void *arg, bool detail)
{
    s_host_t *self = (s_host_t *) arg;
    xs_api_page_t page;
    xs_err_t err;
    if (xs_api_req_page (req, &page, &err)) {
        xs_api_reply_err (&req, &err);
        return;
    }
    const char *name = xs_api_req_query (req, "name");
    json_t *all = json_array ();
    size_t i;
    json_t *v;
    json_array_foreach (self->volumes, i, v)
        if (!name || strcmp (name, json_string_value (json_object_get (v, "name"))) == 0)
            json_array_append (all, v);
    json_t *items = xs_api_page_array (all, &page, &err);
    json_decref (all);
    if (!items) {
        xs_api_reply_err (&req, &err);
        return;
    }
    if (!detail) {
        json_t *summary = json_array ();
        json_array_foreach (items, i, v)
            json_array_append_new (summary, json_pack ("{s:O, s:O, s:[]}", "id",
                                   json_object_get (v, "id"), "name",
                                   json_object_get (v, "name"), "links"));
        json_decref (items);
        items = summary;
    }
    size_t n = json_array_size (items);
    const char *last = n ? json_string_value (json_object_get (json_array_get (items, n - 1),
                                                               "id")) : NULL;
    char *last_id = last ? strdup (last) : NULL;
    json_t *reply = json_pack ("{s:o}", "volumes", items);
    xs_api_req_next_link (req, reply, "volumes", detail ? "volumes/detail" : "volumes", &page,
                          n, last_id);
    free (last_id);
    xs_api_reply_json (&req, 200, reply);
}

static void s_volumes_detail (xs_api_req_t *req, void *arg) { s_volume_list (req, arg, true); }
static void s_volumes (xs_api_req_t *req, void *arg) { s_volume_list (req, arg, false); }

static void
s_volume_show (xs_api_req_t *req, void *arg)
{
    s_host_t *self = (s_host_t *) arg;
    const char *id = xs_api_req_param (req, "id");
    size_t i;
    json_t *v;
    json_array_foreach (self->volumes, i, v)
        if (strcmp (id, json_string_value (json_object_get (v, "id"))) == 0) {
            xs_api_reply_json (&req, 200, json_pack ("{s:O}", "volume", v));
            return;
        }
    xs_api_reply_error (&req, 404, "Volume %s could not be found.", id);
}

typedef struct {
    s_host_t *host;
    xs_api_req_t *req;
    json_t *volume;
    int timer;
} s_later_t;

static int
s_on_later (zloop_t *loop, int timer_id, void *arg)
{
    s_later_t *later = (s_later_t *) arg;
    later->host->parked--;
    xs_histo_observe (later->host->latency, 0.05);
    xs_api_reply_json (&later->req, 202, json_pack ("{s:o}", "volume", later->volume));
    free (later);
    return 0;
}

static void
s_on_later_gone (void *arg)
{
    s_later_t *later = (s_later_t *) arg;
    later->host->parked--;
    later->host->gone++;
    if (later->timer >= 0)
        zloop_timer_end (later->host->loop, later->timer);
    json_decref (later->volume);
    free (later);
}

/* POST /volumes: answered 50 ms later, from a timer (a parked request). */
static void
s_volume_create (xs_api_req_t *req, void *arg)
{
    s_host_t *self = (s_host_t *) arg;
    json_t *body;
    const char *name = NULL;
    long long size = 0;
    bool has_size = false;
    xs_err_t err;
    if (xs_api_json_element (xs_api_req_json (req), "volume", &body, &err)
        || xs_api_json_string (body, "name", 255, &name, &err)
        || xs_api_json_int (body, "size", 1, 1 << 20, &size, &has_size, &err)) {
        xs_api_reply_err (&req, &err);
        return;
    }
    if (!has_size) {
        xs_api_reply_error (&req, 400, "Invalid input received: size is required.");
        return;
    }
    s_later_t *later = calloc (1, sizeof *later);
    later->host = self;
    later->req = req;
    later->volume = s_volume ("11111111-2222-4333-8444-555555555555", name ? name : "",
                              "creating", xs_api_req_identity (req)->project_id);
    json_object_set_new (later->volume, "size", json_integer (size));
    later->timer = zloop_timer (self->loop, 50, 1, s_on_later, later);
    xs_api_req_on_gone (req, s_on_later_gone, later);
    self->parked++;
}

/* Never answered: for clients that give up (the gone callback counts them). */
static void
s_park (xs_api_req_t *req, void *arg)
{
    s_host_t *self = (s_host_t *) arg;
    s_later_t *later = calloc (1, sizeof *later);
    later->host = self;
    later->req = req;
    later->timer = -1;
    xs_api_req_on_gone (req, s_on_later_gone, later);
    self->parked++;
}

static void
s_types (xs_api_req_t *req, void *arg)
{
    xs_api_reply_json (&req, 200, json_pack (
        "{s:[{s:s, s:s, s:s, s:b, s:{}, s:b, s:n}]}", "volume_types",
        "id", "6b0d6a39-9d3b-4d9a-9f7e-2f7f6b5e3c11", "name", "gold",
        "description", "Not all that glitters", "is_public", 1, "extra_specs",
        "os-volume-type-access:is_public", 1, "qos_specs_id"));
}

static void
s_zones (xs_api_req_t *req, void *arg)
{
    xs_api_reply_json (&req, 200, json_pack ("{s:[{s:s, s:{s:b}}]}", "availabilityZoneInfo",
                                             "zoneName", "za", "zoneState", "available", 1));
}

static void
s_identity (xs_api_req_t *req, void *arg)
{
    const xs_api_identity_t *id = xs_api_req_identity (req);
    xs_api_reply_json (&req, 200, json_pack ("{s:s, s:s, s:b, s:s*, s:s}", "project_id",
                                             id->project_id, "user_id", id->user_id,
                                             "is_admin", id->is_admin, "url_project",
                                             xs_api_req_url_project (req), "request_id",
                                             xs_api_req_id (req)));
}

static void
s_metrics (xs_api_req_t *req, void *arg)
{
    s_host_t *self = (s_host_t *) arg;
    xs_prom_t *prom = xs_prom_new ();
    xs_prom_family (prom, "xensm_api_parked", XS_PROM_GAUGE, "Requests waiting for an answer.");
    xs_prom_sample (prom, (double) self->parked, NULL);
    xs_prom_family (prom, "xensm_api_gone_total", XS_PROM_COUNTER,
                    "Requests whose client left before the answer.");
    xs_prom_sample (prom, (double) self->gone, NULL);
    xs_prom_family (prom, "xensm_api_create_seconds", XS_PROM_HISTOGRAM,
                    "Time to answer a create.");
    xs_prom_histogram (prom, self->latency, "route", "volume.create", NULL);
    size_t len;
    char *text = xs_prom_take (prom, &len);
    xs_prom_destroy (&prom);
    /* A JSON reply type would be wrong here: Prometheus text, same headers. */
    xs_api_reply_text (&req, 200, xs_prom_content_type, text, len);
}

static const xs_api_route_t s_routes [] = {
    XS_API_VERSION_ROUTES,
    {"GET", "/metrics", s_metrics, XS_ROUTE_ROOT | XS_ROUTE_PUBLIC | XS_ROUTE_ANY_VERSION,
     "metrics"},
    {"GET", "/volumes/detail", s_volumes_detail, 0, "volume.list_detail"},
    {"GET", "/volumes", s_volumes, 0, "volume.list"},
    {"POST", "/volumes", s_volume_create, XS_ROUTE_BODY, "volume.create"},
    {"GET", "/volumes/{id}", s_volume_show, 0, "volume.show"},
    {"GET", "/types", s_types, 0, "type.list"},
    {"GET", "/os-availability-zone", s_zones, 0, "zone.list"},
    {"GET", "/park", s_park, 0, "test.park"},
    {"GET", "/identity", s_identity, 0, "test.identity"},
    {NULL, NULL, NULL, 0, NULL},
};

int
main (int argc, char **argv)
{
    if (argc != 2 && argc != 4) {
        fprintf (stderr, "usage: itest_api_host LISTEN [CERT KEY]\n");
        return 2;
    }
    zsys_init ();                /* SIGTERM/SIGINT end zloop_start */
    xs_log_init ("itest_api_host", false, getenv ("ITEST_DEBUG") ? XS_LOG_DEBUG : XS_LOG_NOTICE);
    s_host_t host = {0};
    static const double bounds [] = {0.01, 0.1, 1};
    host.latency = xs_histo_new (bounds, 3);
    s_fill (&host, getenv ("ITEST_VOLUMES") ? strtoul (getenv ("ITEST_VOLUMES"), NULL, 10) : 3);
    host.loop = zloop_new ();
    xs_api_opts_t opts = {
        .http = {.listen = argv [1], .cert_file = argc == 4 ? argv [2] : NULL,
                 .key_file = argc == 4 ? argv [3] : NULL},
        .public_endpoint = getenv ("ITEST_PUBLIC"),
        .allow_insecure = getenv ("ITEST_INSECURE") != NULL,
    };
    if (getenv ("ITEST_KEYSTONE_URL")) {
        opts.auth = XS_API_KEYSTONE;
        opts.keystone = (xs_keystone_opts_t) {
            .url = getenv ("ITEST_KEYSTONE_URL"), .user = getenv ("ITEST_KEYSTONE_USER"),
            .password = getenv ("ITEST_KEYSTONE_PASSWORD"),
            .project = getenv ("ITEST_KEYSTONE_PROJECT")};
    }
    xs_err_t err;
    host.api = xs_api_new (host.loop, &opts, s_routes, &host, &err);
    if (!host.api) {
        fprintf (stderr, "itest_api_host: %s\n", err.msg);
        zloop_destroy (&host.loop);
        json_decref (host.volumes);
        xs_histo_destroy (&host.latency);
        return 1;
    }
    printf ("PORT %u\n", (unsigned) xs_api_port (host.api));
    fflush (stdout);
    zloop_start (host.loop);
    xs_api_destroy (&host.api);
    zloop_destroy (&host.loop);
    json_decref (host.volumes);
    xs_histo_destroy (&host.latency);
    fprintf (stderr, "itest_api_host: stopped, %zu gone\n", host.gone);
    return 0;
}
