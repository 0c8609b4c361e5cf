/*  xs_cinder: the Block Storage API's life cycle and its route table; the
    routes are in xs_cinder_volumes.c, xs_cinder_types.c and
    xs_cinder_views.c, their helpers in xs_cinder_util.c.
*/
#include "xs_cinder_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_catalog_cfg.h"
#include "xs_log.h"
#include "xs_mem.h"

/* =========================================================================
    The route table
   ========================================================================= */

static const xs_api_route_t s_routes [] = {
    XS_API_VERSION_ROUTES,
    {"GET",    "/volumes/detail", xs_cinder_volumes_detail, 0, "volume.list_detail"},
    {"GET",    "/volumes", xs_cinder_volumes_summary, 0, "volume.list"},
    {"POST",   "/volumes", xs_cinder_volume_create, XS_ROUTE_BODY, "volume.create"},
    {"GET",    "/volumes/{id}", xs_cinder_volume_show, 0, "volume.show"},
    {"DELETE", "/volumes/{id}", xs_cinder_volume_delete, 0, "volume.delete"},
    {"PUT",    "/volumes/{id}", xs_cinder_volume_update, XS_ROUTE_BODY, "volume.update"},
    {"POST",   "/volumes/{id}/action", xs_cinder_volume_action, XS_ROUTE_BODY, "volume.action"},
    {"GET",    "/snapshots/detail", xs_cinder_snapshots_detail, 0, "snapshot.list_detail"},
    {"GET",    "/snapshots", xs_cinder_snapshots_summary, 0, "snapshot.list"},
    {"POST",   "/snapshots", xs_cinder_snapshot_create, XS_ROUTE_BODY, "snapshot.create"},
    {"GET",    "/snapshots/{id}", xs_cinder_snapshot_show, 0, "snapshot.show"},
    {"DELETE", "/snapshots/{id}", xs_cinder_snapshot_delete, 0, "snapshot.delete"},
    {"PUT",    "/snapshots/{id}", xs_cinder_snapshot_update, XS_ROUTE_BODY, "snapshot.update"},
    {"GET",    "/types", xs_cinder_types, 0, "type.list"},
    {"POST",   "/types", xs_cinder_type_create, XS_ROUTE_BODY, "type.create"},
    {"GET",    "/types/{id}", xs_cinder_type_show, 0, "type.show"},
    {"DELETE", "/types/{id}", xs_cinder_type_delete, 0, "type.delete"},
    {"GET",    "/types/{id}/extra_specs", xs_cinder_type_extra_specs, 0, "type.extra_specs"},
    {"POST",   "/types/{id}/extra_specs", xs_cinder_type_extra_specs_set, XS_ROUTE_BODY,
     "type.extra_specs_set"},
    {"GET",    "/metrics", xs_cinder_metrics,
     XS_ROUTE_ROOT | XS_ROUTE_PUBLIC | XS_ROUTE_ANY_VERSION, "metrics"},
    {"GET",    "/os-availability-zone", xs_cinder_zones, 0, "zone.list"},
    {"GET",    "/limits", xs_cinder_limits, 0, "limits"},
    {"GET",    "/os-quota-sets/{project}", xs_cinder_quota_show, 0, "quota.show"},
    {"GET",    "/messages", xs_cinder_messages, 0, "message.list"},
    {"GET",    "/messages/{id}", xs_cinder_message_show, 0, "message.show"},
    {NULL, NULL, NULL, 0, NULL},
};

/* =========================================================================
    A follower's API: reads from the database, changes to the leader
   ========================================================================= */

/* xs_api's gate: on a follower catalogd every request but a GET is sent to
   the leader's API with 307 (the same method and body, as keystoneauth and
   curl -L resend them), or refused with 503 when no leader with an API is
   known (a takeover under way). True when it answered. */
static bool
s_follower_gate (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    const xs_store_leader_t *l = xs_admin_leader (self->admin);
    if (!l || streq (xs_api_req_method (req), "GET"))
        return false;
    bool known = l->generation > 0 && l->until >= l->now && *l->api_endpoint
              && !streq (l->api_endpoint, self->endpoint);
    if (!known) {
        xs_api_req_add_header (req, "Retry-After", "1");
        xs_api_reply_error (&req, 503, "this catalogd does not lead and no other with an API "
                            "does at the moment (a takeover takes a few seconds): retry");
        return true;
    }
    char *location = xs_sprintf ("%s%s", l->api_endpoint, xs_api_req_path (req));
    xs_api_req_add_header (req, "Location", location);
    xs_api_reply_error (&req, 307, "this catalogd does not lead; the leader %s serves "
                        "changes: %s", l->instance, location);
    free (location);
    return true;
}

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
        .gate = s_follower_gate,
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

void
xs_cinder_set_metrics (xs_cinder_t *self, xs_metrics_t *metrics, xs_hosts_t *hosts)
{
    self->metrics = metrics;
    self->hosts = hosts;
}
