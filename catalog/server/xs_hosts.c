/*  xs_hosts: the live host registry of the agent server. */
#include "xs_hosts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_mem.h"
#include "xs_srtype.h"

struct _xs_hosts_t {
    zhashx_t *hosts;            /* uuid -> xs_live_host_t *                   */
    zhashx_t *by_route;         /* routing id (hex) -> xs_live_host_t * (borrowed) */
    zhashx_t *zones;            /* zone -> zhashx_t of uuid -> xs_live_host_t *
                                   (borrowed): what placement asks about is
                                   one zone's hosts, not every host        */
    zlistx_t *heard;            /* up hosts (borrowed), by last_seen, oldest
                                   first; a host set down is dropped from the
                                   head lazily                              */
};

/* =========================================================================
    Entries
   ========================================================================= */

static void
s_key_of_id (int64_t id, char *buf, size_t size)
{
    snprintf (buf, size, "%lld", (long long) id);
}

/* The routing id in hex (every heartbeat looks its host up by it: no
   allocation). A routing id is 5 bytes (libzmq's own) or at most 255. */
static void
s_route_key (zframe_t *route, char *buf, size_t size)
{
    static const char digits [] = "0123456789ABCDEF";
    const byte *data = zframe_data (route);
    size_t n = zframe_size (route);
    size_t i;
    for (i = 0; i < n && 2 * i + 2 < size; i++) {
        buf [2 * i] = digits [data [i] >> 4];
        buf [2 * i + 1] = digits [data [i] & 15];
    }
    buf [2 * i] = '\0';
}

static void
s_sr_free (void **item_p)
{
    if (item_p && *item_p) {
        xs_live_sr_t *sr = (xs_live_sr_t *) *item_p;
        free (sr->sr_uuid);
        json_decref (sr->capabilities);
        json_decref (sr->stored_capabilities);
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
        json_decref (h->sm_drivers);
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
    self->zones = xs_nn (zhashx_new ());
    zhashx_set_destructor (self->zones, (zhashx_destructor_fn *) zhashx_destroy);
    self->heard = xs_nn (zlistx_new ());
    return self;
}

/* The hosts of `zone` (uuid -> host), or NULL when none. Borrowed. */
static zhashx_t *
s_zone (xs_hosts_t *self, const char *zone)
{
    return zone ? (zhashx_t *) zhashx_lookup (self->zones, zone) : NULL;
}

static void
s_zone_add (xs_hosts_t *self, xs_live_host_t *h)
{
    zhashx_t *zone = s_zone (self, h->zone);
    if (!zone) {
        zone = xs_nn (zhashx_new ());
        zhashx_insert (self->zones, h->zone, zone);
    }
    zhashx_update (zone, h->uuid, h);
}

static void
s_zone_remove (xs_hosts_t *self, xs_live_host_t *h)
{
    zhashx_t *zone = s_zone (self, h->zone);
    if (!zone)
        return;
    zhashx_delete (zone, h->uuid);
    if (zhashx_size (zone) == 0)
        zhashx_delete (self->zones, h->zone);
}

void
xs_hosts_destroy (xs_hosts_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_hosts_t *self = *self_p;
    zlistx_destroy (&self->heard);
    zhashx_destroy (&self->zones);
    zhashx_destroy (&self->by_route);
    zhashx_destroy (&self->hosts);
    free (self);
    *self_p = NULL;
}

size_t
xs_hosts_count (xs_hosts_t *self)
{
    return zhashx_size (self->hosts);
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
        s_zone_remove (self, h);
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
    h->up = true;
    h->inflight = 0;
    xs_hosts_seen (self, h);
    s_route_key (route, rk, sizeof rk);
    zhashx_update (self->by_route, rk, h);
    s_zone_add (self, h);
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
    s_zone_remove (self, h);
    if (h->heard)
        zlistx_delete (self->heard, h->heard);
    char *key = xs_strdup (uuid);     /* uuid may be h's own */
    zhashx_delete (self->hosts, key);
    free (key);
}

void
xs_hosts_seen (xs_hosts_t *self, xs_live_host_t *h)
{
    h->last_seen = zclock_mono ();
    if (!h->up) {
        /* Out of the list: its new last_seen would break the order that
           xs_hosts_silent stops by (a message from a host set down). */
        if (h->heard)
            zlistx_delete (self->heard, h->heard);
        h->heard = NULL;
        return;
    }
    if (h->heard)
        zlistx_move_end (self->heard, h->heard);
    else
        h->heard = xs_nn (zlistx_add_end (self->heard, h));
}

/* The oldest up host by last_seen, or NULL; hosts set down since they
   were heard leave the list here. */
static xs_live_host_t *
s_oldest_up (xs_hosts_t *self)
{
    xs_live_host_t *h;
    while ((h = (xs_live_host_t *) zlistx_first (self->heard)) && !h->up) {
        zlistx_delete (self->heard, h->heard);
        h->heard = NULL;
    }
    return h;
}

zlist_t *
xs_hosts_silent (xs_hosts_t *self, int64_t since)
{
    zlist_t *silent = xs_nn (zlist_new ());
    for (xs_live_host_t *h = s_oldest_up (self); h && h->last_seen < since;
         h = (xs_live_host_t *) zlistx_next (self->heard))
        if (h->up)
            zlist_append (silent, h);
    return silent;
}

void
xs_hosts_forgive (xs_hosts_t *self, int64_t at)
{
    /* All of them get the same time: the order holds. */
    for (xs_live_host_t *h = s_oldest_up (self); h && h->last_seen < at;
         h = (xs_live_host_t *) zlistx_next (self->heard))
        h->last_seen = at;
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
    zhashx_t *hosts = s_zone (self, zone);
    for (xs_live_host_t *h = hosts ? (xs_live_host_t *) zhashx_first (hosts) : NULL; h;
         h = (xs_live_host_t *) zhashx_next (hosts)) {
        if (!h->up)
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
    zhashx_t *hosts = s_zone (self, zone);
    for (xs_live_host_t *h = hosts ? (xs_live_host_t *) zhashx_first (hosts) : NULL; h;
         h = (xs_live_host_t *) zhashx_next (hosts))
        if (h->up)
            n++;
    return n;
}

void
xs_hosts_sr_info (xs_hosts_t *self, const char *zone, int64_t backend_id, xs_hosts_sr_t *sr)
{
    memset (sr, 0, sizeof *sr);
    int64_t newest = -1;
    zhashx_t *hosts = s_zone (self, zone);
    for (xs_live_host_t *h = hosts ? (xs_live_host_t *) zhashx_first (hosts) : NULL; h;
         h = (xs_live_host_t *) zhashx_next (hosts)) {
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
    SM drivers: which SR types a host's pool can use at all
   ========================================================================= */

int
xs_live_host_set_sm_drivers (xs_live_host_t *h, const json_t *drivers, xs_err_t *err)
{
    if (!json_is_object (drivers))
        return xs_err_set (err, XS_EINVAL, "host %s: sm_drivers is not an object", h->uuid);
    const char *type;
    json_t *caps;
    json_object_foreach ((json_t *) drivers, type, caps) {
        size_t i;
        json_t *cap;
        if (!*type || !json_is_array (caps))
            return xs_err_set (err, XS_EINVAL, "host %s: sm_drivers: SR type '%s' needs a "
                               "list of capabilities", h->uuid, type);
        json_array_foreach (caps, i, cap)
            if (!json_is_string (cap))
                return xs_err_set (err, XS_EINVAL, "host %s: sm_drivers: SR type %s: "
                                   "capability %zu is not a string", h->uuid, type, i);
    }
    if (h->sm_drivers && json_equal (h->sm_drivers, (json_t *) drivers))
        return 0;
    json_decref (h->sm_drivers);
    h->sm_drivers = xs_nn (json_deep_copy (drivers));
    return 1;
}

bool
xs_live_host_lacks_driver (const xs_live_host_t *h, const char *sr_type)
{
    return h->sm_drivers && sr_type && !json_object_get (h->sm_drivers, sr_type);
}

static bool
s_has_string (const json_t *array, const char *value)
{
    size_t i;
    json_t *item;
    json_array_foreach (array, i, item)
        if (json_is_string (item) && streq (json_string_value (item), value))
            return true;
    return false;
}

/* "ext, lvm, nfs": the SR types of h's SM drivers, sorted. Caller frees. */
static char *
s_driver_names (const xs_live_host_t *h)
{
    zlistx_t *names = xs_nn (zlistx_new ());
    zlistx_set_comparator (names, (zlistx_comparator_fn *) strcmp);
    const char *type;
    json_t *caps;
    json_object_foreach (h->sm_drivers, type, caps)
        zlistx_add_end (names, (void *) type);
    zlistx_sort (names);
    char *buf = NULL;
    size_t size = 0;
    FILE *f = xs_nn (open_memstream (&buf, &size));
    const char *sep = "";
    for (const char *n = (const char *) zlistx_first (names); n;
         n = (const char *) zlistx_next (names), sep = ", ")
        fprintf (f, "%s%s", sep, n);
    if (zlistx_size (names) == 0)
        fprintf (f, "none");
    fclose (f);
    zlistx_destroy (&names);
    return xs_nn (buf);
}

char *
xs_hosts_backend_unusable (xs_hosts_t *self, const xs_backend_t *b)
{
    const xs_srtype_t *type = xs_srtype_find (b->sr_type);
    if (type && type->lun_per_vdi)
        return xs_sprintf ("SR type %s is LUN per VDI: its VDI.create only hands out an "
                           "existing LUN, so no volume can be created there", b->sr_type);
    int live = 0, reported = 0;
    const xs_live_host_t *lacking = NULL, *having = NULL;
    zhashx_t *hosts = s_zone (self, b->zone);
    for (xs_live_host_t *h = hosts ? (xs_live_host_t *) zhashx_first (hosts) : NULL; h;
         h = (xs_live_host_t *) zhashx_next (hosts)) {
        if (!h->up)
            continue;
        live++;
        if (!h->sm_drivers)
            continue;
        reported++;
        if (json_object_get (h->sm_drivers, b->sr_type))
            having = h;
        else
            lacking = h;
    }
    if (live > 0 && reported == live && !having) {
        char *names = s_driver_names (lacking);
        char *why = xs_sprintf ("no SM driver for SR type %s on the live hosts of zone %s "
                                "(their pool has: %s)", b->sr_type, b->zone, names);
        free (names);
        return why;
    }
    if (having && reported == live) {
        const json_t *caps = json_object_get (having->sm_drivers, b->sr_type);
        if (json_array_size (caps) > 0 && !s_has_string (caps, "VDI_CREATE"))
            return xs_sprintf ("the SM driver for SR type %s on the hosts of zone %s lacks "
                               "VDI_CREATE", b->sr_type, b->zone);
    }
    return NULL;
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
        /* The SR types its pool has drivers for; null until reported. */
        json_t *drivers = json_null ();
        if (h && h->sm_drivers) {
            drivers = xs_nn (json_array ());
            const char *type;
            json_t *caps;
            json_object_foreach (h->sm_drivers, type, caps)
                json_array_append_new (drivers, json_string (type));
        }
        json_array_append_new (list, xs_nn (json_pack (
            "{s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:o}",
            "uuid", row->uuid, "zone", row->zone, "name", row->name ? row->name : "",
            "state", h && h->up ? "up" : "down", "last_seen", (json_int_t) last_seen,
            "public_key", row->public_key ? row->public_key : "", "srs", srs,
            "sm_drivers", drivers)));
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
