/*  xs_hosts: the live host registry of the agent server. */
#include "xs_hosts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_mem.h"

struct _xs_hosts_t {
    zhashx_t *hosts;            /* uuid -> xs_live_host_t *                   */
    zhashx_t *by_route;         /* routing id (hex) -> xs_live_host_t * (borrowed) */
};

/* =========================================================================
    Entries
   ========================================================================= */

static void
s_key_of_id (int64_t id, char *buf, size_t size)
{
    snprintf (buf, size, "%lld", (long long) id);
}

static void
s_route_key (zframe_t *route, char *buf, size_t size)
{
    char *hex = xs_nn (zframe_strhex (route));
    snprintf (buf, size, "%s", hex);
    free (hex);
}

static void
s_sr_free (void **item_p)
{
    if (item_p && *item_p) {
        xs_live_sr_t *sr = (xs_live_sr_t *) *item_p;
        free (sr->sr_uuid);
        json_decref (sr->capabilities);
        free (sr);
        *item_p = NULL;
    }
}

static void
s_host_free (void **item_p)
{
    if (item_p && *item_p) {
        xs_live_host_t *h = (xs_live_host_t *) *item_p;
        free (h->uuid);
        free (h->zone);
        free (h->name);
        free (h->key);
        zframe_destroy (&h->routing_id);
        zhashx_destroy (&h->srs);
        free (h);
        *item_p = NULL;
    }
}

xs_live_sr_t *
xs_live_sr (xs_live_host_t *h, int64_t backend_id, bool create)
{
    char key [32];
    s_key_of_id (backend_id, key, sizeof key);
    xs_live_sr_t *sr = (xs_live_sr_t *) zhashx_lookup (h->srs, key);
    if (!sr && create) {
        sr = xs_zalloc (sizeof *sr);
        sr->backend_id = backend_id;
        zhashx_insert (h->srs, key, sr);
    }
    return sr;
}

void
xs_live_sr_forget (xs_live_host_t *h, int64_t backend_id)
{
    char key [32];
    s_key_of_id (backend_id, key, sizeof key);
    zhashx_delete (h->srs, key);
}

/* =========================================================================
    The registry
   ========================================================================= */

xs_hosts_t *
xs_hosts_new (void)
{
    xs_hosts_t *self = xs_zalloc (sizeof *self);
    self->hosts = xs_nn (zhashx_new ());
    zhashx_set_destructor (self->hosts, s_host_free);
    self->by_route = xs_nn (zhashx_new ());
    return self;
}

void
xs_hosts_destroy (xs_hosts_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_hosts_t *self = *self_p;
    zhashx_destroy (&self->by_route);
    zhashx_destroy (&self->hosts);
    free (self);
    *self_p = NULL;
}

xs_live_host_t *
xs_hosts_get (xs_hosts_t *self, const char *uuid)
{
    return uuid ? (xs_live_host_t *) zhashx_lookup (self->hosts, uuid) : NULL;
}

xs_live_host_t *
xs_hosts_by_route (xs_hosts_t *self, zframe_t *route)
{
    char key [64];
    s_route_key (route, key, sizeof key);
    return (xs_live_host_t *) zhashx_lookup (self->by_route, key);
}

xs_live_host_t *
xs_hosts_register (xs_hosts_t *self, const char *uuid, const char *zone, const char *name,
                   const char *key, zframe_t *route)
{
    xs_live_host_t *h = xs_hosts_get (self, uuid);
    char rk [64];
    if (h) {
        s_route_key (h->routing_id, rk, sizeof rk);
        zhashx_delete (self->by_route, rk);
        zframe_destroy (&h->routing_id);
        free (h->zone);
        free (h->name);
        free (h->key);
        zhashx_purge (h->srs);
    }
    else {
        h = xs_zalloc (sizeof *h);
        h->uuid = xs_strdup (uuid);
        h->srs = xs_nn (zhashx_new ());
        zhashx_set_destructor (h->srs, s_sr_free);
        zhashx_insert (self->hosts, uuid, h);
    }
    h->zone = xs_strdup (zone);
    h->name = xs_strdup (name ? name : "");
    h->key = xs_strdup (key);
    h->routing_id = xs_nn (zframe_dup (route));
    h->last_seen = zclock_mono ();
    h->up = true;
    h->inflight = 0;
    s_route_key (route, rk, sizeof rk);
    zhashx_update (self->by_route, rk, h);
    return h;
}

void
xs_hosts_forget (xs_hosts_t *self, const char *uuid)
{
    xs_live_host_t *h = xs_hosts_get (self, uuid);
    if (!h)
        return;
    char rk [64];
    s_route_key (h->routing_id, rk, sizeof rk);
    zhashx_delete (self->by_route, rk);
    char *key = xs_strdup (uuid);     /* uuid may be h's own */
    zhashx_delete (self->hosts, key);
    free (key);
}

zlist_t *
xs_hosts_snapshot (xs_hosts_t *self)
{
    zlist_t *list = xs_nn (zlist_new ());
    for (xs_live_host_t *h = (xs_live_host_t *) zhashx_first (self->hosts); h;
         h = (xs_live_host_t *) zhashx_next (self->hosts))
        zlist_append (list, h);
    return list;
}

/* =========================================================================
    Questions placement and the jobs ask
   ========================================================================= */

const char *
xs_hosts_pick (xs_hosts_t *self, const char *zone, int64_t backend_id)
{
    xs_live_host_t *best = NULL;
    for (xs_live_host_t *h = (xs_live_host_t *) zhashx_first (self->hosts); h;
         h = (xs_live_host_t *) zhashx_next (self->hosts)) {
        if (!h->up || !streq (h->zone, zone))
            continue;
        xs_live_sr_t *sr = xs_live_sr (h, backend_id, false);
        if (!sr || !sr->attached)
            continue;
        if (!best || h->inflight < best->inflight)
            best = h;
    }
    return best ? best->uuid : NULL;
}

bool
xs_hosts_can_run (xs_hosts_t *self, const char *uuid, int64_t backend_id)
{
    xs_live_host_t *h = xs_hosts_get (self, uuid);
    if (!h || !h->up)
        return false;
    xs_live_sr_t *sr = xs_live_sr (h, backend_id, false);
    return sr && sr->attached;
}

int
xs_hosts_live_in_zone (xs_hosts_t *self, const char *zone)
{
    int n = 0;
    for (xs_live_host_t *h = (xs_live_host_t *) zhashx_first (self->hosts); h;
         h = (xs_live_host_t *) zhashx_next (self->hosts))
        if (h->up && streq (h->zone, zone))
            n++;
    return n;
}

void
xs_hosts_sr_info (xs_hosts_t *self, int64_t backend_id, xs_hosts_sr_t *sr)
{
    memset (sr, 0, sizeof *sr);
    int64_t newest = -1;
    for (xs_live_host_t *h = (xs_live_host_t *) zhashx_first (self->hosts); h;
         h = (xs_live_host_t *) zhashx_next (self->hosts)) {
        if (!h->up)
            continue;
        xs_live_sr_t *hsr = xs_live_sr (h, backend_id, false);
        if (!hsr || !hsr->attached)
            continue;
        sr->live_hosts++;
        if (hsr->has_stats && hsr->at > newest) {
            newest = hsr->at;
            sr->has_stats = true;
            sr->physical_size = hsr->physical_size;
            sr->physical_utilisation = hsr->physical_utilisation;
            sr->virtual_allocation = hsr->virtual_allocation;
            sr->capabilities = hsr->capabilities;
        }
    }
}

/* =========================================================================
    The host list
   ========================================================================= */

/* The SRs host h has attached, with what it last reported. */
static json_t *
s_srs_json (xs_live_host_t *h)
{
    json_t *srs = xs_nn (json_array ());
    for (xs_live_sr_t *hsr = (xs_live_sr_t *) zhashx_first (h->srs); hsr;
         hsr = (xs_live_sr_t *) zhashx_next (h->srs)) {
        if (!hsr->attached)
            continue;
        json_t *sr = xs_nn (json_pack ("{s:I, s:s}", "backend_id", (json_int_t) hsr->backend_id,
                                       "sr_uuid", hsr->sr_uuid ? hsr->sr_uuid : ""));
        /* Absent until a heartbeat has reported them. */
        if (hsr->has_stats) {
            json_object_set_new (sr, "physical_size", json_integer (hsr->physical_size));
            json_object_set_new (sr, "physical_utilisation",
                                 json_integer (hsr->physical_utilisation));
            json_object_set_new (sr, "virtual_allocation",
                                 json_integer (hsr->virtual_allocation));
        }
        json_array_append_new (srs, sr);
    }
    return srs;
}

json_t *
xs_hosts_list (xs_hosts_t *self, xs_host_t **rows, zlist_t *keys)
{
    json_t *list = xs_nn (json_array ());
    zhashx_t *registered = xs_nn (zhashx_new ());
    int64_t now_ms = xs_store_now_ms ();
    int64_t mono = zclock_mono ();
    for (xs_host_t **hp = rows; hp && *hp; hp++) {
        xs_host_t *row = *hp;
        xs_live_host_t *h = xs_hosts_get (self, row->uuid);
        int64_t last_seen = h ? now_ms - (mono - h->last_seen) : row->last_seen;
        json_t *srs = h ? s_srs_json (h) : xs_nn (json_array ());
        if (row->public_key)
            zhashx_update (registered, row->public_key, (void *) 1);
        json_array_append_new (list, xs_nn (json_pack (
            "{s:s, s:s, s:s, s:s, s:I, s:s, s:o}",
            "uuid", row->uuid, "zone", row->zone, "name", row->name ? row->name : "",
            "state", h && h->up ? "up" : "down", "last_seen", (json_int_t) last_seen,
            "public_key", row->public_key ? row->public_key : "", "srs", srs)));
    }
    /* Enrolled keys that never registered. */
    for (const char *key = keys ? (const char *) zlist_first (keys) : NULL; key;
         key = (const char *) zlist_next (keys))
        if (!zhashx_lookup (registered, key))
            json_array_append_new (list, xs_nn (json_pack (
                "{s:s, s:s, s:s, s:s, s:I, s:s, s:[]}", "uuid", "", "zone", "", "name", "",
                "state", "enrolled", "last_seen", (json_int_t) 0, "public_key", key, "srs")));
    zhashx_destroy (&registered);
    return list;
}
