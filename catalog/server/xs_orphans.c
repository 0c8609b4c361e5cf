/*  xs_orphans: the orphan sweep (see xs_orphans.h). */
#include "xs_orphans.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xs_log.h"
#include "xs_mem.h"

#define S_LIST_PREFIX "sweep-"
#define S_REAP_PREFIX "reap-"

/* One orphan VDI as last seen. */
typedef struct {
    char *vdi_uuid;             /* the key                                    */
    char *volume_uuid;          /* what its tag says                          */
    char *sr_uuid;
    char *zone;
    char *why;
    int64_t backend_id;
    int64_t first_seen;         /* epoch milliseconds, for people             */
    int64_t first_mono;         /* zclock_mono, for the grace period          */
    int64_t stamp;              /* the listing that saw it last               */
    bool destroying;            /* a vdi_destroy is in flight                 */
} s_orphan_t;

/* A request of the sweep in flight: which backend it lists or which
   orphan it destroys. */
typedef struct {
    int64_t backend_id;
    char *zone;
    char *sr_uuid;
    char *vdi_uuid;             /* a removal's; NULL for a listing             */
} s_pending_t;

struct _xs_orphans_t {
    xs_orphans_cfg_t cfg;
    xs_store_t *store;
    zloop_t *loop;
    xs_agentsrv_t *agents;
    xs_hosts_t *hosts;
    xs_jobs_t *jobs;
    zhashx_t *orphans;          /* vdi uuid -> s_orphan_t * (owned)           */
    zhashx_t *pending;          /* request id -> s_pending_t * (owned, freed
                                   by hand: no destructor)                     */
    int64_t seq;                /* request ids and listing stamps             */
    int64_t last_sweep;         /* epoch milliseconds; 0: none yet            */
    int timer;                  /* -1: none                                   */
};

static void
s_orphan_free (void **item_p)
{
    s_orphan_t *o = (s_orphan_t *) *item_p;
    if (o) {
        free (o->vdi_uuid);
        free (o->volume_uuid);
        free (o->sr_uuid);
        free (o->zone);
        free (o->why);
        free (o);
    }
    *item_p = NULL;
}

static void
s_pending_free (void **item_p)
{
    s_pending_t *p = (s_pending_t *) *item_p;
    if (p) {
        free (p->zone);
        free (p->sr_uuid);
        free (p->vdi_uuid);
        free (p);
    }
    *item_p = NULL;
}

/* Whether a listing of backend_id's SR is still in flight. */
static bool
s_listing (xs_orphans_t *self, int64_t backend_id)
{
    for (s_pending_t *p = (s_pending_t *) zhashx_first (self->pending); p;
         p = (s_pending_t *) zhashx_next (self->pending))
        if (!p->vdi_uuid && p->backend_id == backend_id)
            return true;
    return false;
}

/* Sends `op` with *args_p (taken) to host_uuid, remembering what it is
   about. 0 or -1 (logged). */
static int
s_send (xs_orphans_t *self, const char *host_uuid, const char *prefix, xs_op_t op,
        json_t **args_p, s_pending_t *p)
{
    char id [64];
    snprintf (id, sizeof id, "%s%lld", prefix, (long long) ++self->seq);
    xs_err_t err;
    if (xs_agentsrv_request (self->agents, host_uuid, id, op, args_p, &err) != 0) {
        xs_debug ("orphan sweep: %s of SR %s: %s", xs_op_name (op), p->sr_uuid, err.msg);
        void *item = p;
        s_pending_free (&item);
        return -1;
    }
    zhashx_update (self->pending, id, p);
    return 0;
}

/* =========================================================================
    Judging a tagged VDI
   ========================================================================= */

/* Why the VDI `vdi_uuid` tagged `volume_uuid` is an orphan (caller frees),
   or NULL when it is not one now (recorded, or its volume is busy, or the
   store cannot say). */
static char *
s_why_orphan (xs_orphans_t *self, const char *vdi_uuid, const char *volume_uuid)
{
    xs_err_t err;
    char why [256];
    if (xs_jobs_touches (self->jobs, volume_uuid))
        return NULL;
    xs_volume_t *v = xs_store_volume_get (self->store, volume_uuid, &err);
    if (!v) {
        if (err.kind != XS_ENOTFOUND)
            return NULL;
        snprintf (why, sizeof why, "no volume %s in the catalog", volume_uuid);
        return xs_strdup (why);
    }
    why [0] = '\0';
    bool recorded = v->vdi_uuid && streq (v->vdi_uuid, vdi_uuid);
    bool busy = v->state == XS_VOLUME_CREATING || v->state == XS_VOLUME_DELETING
             || v->state == XS_VOLUME_EXTENDING;
    /* The VDI a volume records is its data whatever the state (an `error`
       set by an operator's reset included), until the volume is deleted. */
    if (busy || (recorded && v->state != XS_VOLUME_DELETED))
        ;
    else
    if (v->state == XS_VOLUME_DELETED || v->state == XS_VOLUME_ERROR)
        snprintf (why, sizeof why, "volume %s is %s", volume_uuid,
                  xs_volume_state_name (v->state));
    else
        snprintf (why, sizeof why, "volume %s records %s%s", volume_uuid,
                  v->vdi_uuid ? "VDI " : "no VDI", v->vdi_uuid ? v->vdi_uuid : "");
    xs_volume_destroy (&v);
    return why [0] ? xs_strdup (why) : NULL;
}

/* Destroys orphan o through host_uuid once its grace is over. */
static void
s_maybe_reap (xs_orphans_t *self, s_orphan_t *o, const char *host_uuid)
{
    if (o->destroying || zclock_mono () - o->first_mono < self->cfg.grace_ms)
        return;
    /* Judged again now: the listing may be older than a change. */
    char *why = s_why_orphan (self, o->vdi_uuid, o->volume_uuid);
    if (!why)
        return;
    free (why);
    s_pending_t *p = xs_zalloc (sizeof *p);
    p->backend_id = o->backend_id;
    p->zone = xs_strdup (o->zone);
    p->sr_uuid = xs_strdup (o->sr_uuid);
    p->vdi_uuid = xs_strdup (o->vdi_uuid);
    json_t *args = xs_nn (json_pack ("{s:s, s:s, s:s}", "volume_uuid", o->volume_uuid,
                                     "sr_uuid", o->sr_uuid, "vdi_uuid", o->vdi_uuid));
    if (s_send (self, host_uuid, S_REAP_PREFIX, XS_OP_VDI_DESTROY, &args, p) == 0)
        o->destroying = true;
}

/* One tagged VDI of backend p's listing (through host_uuid), seen with
   `stamp`. */
static void
s_judge (xs_orphans_t *self, const s_pending_t *p, const json_t *entry, int64_t stamp,
         const char *host_uuid)
{
    const char *vdi = json_string_value (json_object_get (entry, "vdi_uuid"));
    const char *volume = json_string_value (json_object_get (entry, "volume_uuid"));
    if (!vdi || !*vdi || !volume || !*volume)
        return;
    char *why = s_why_orphan (self, vdi, volume);
    s_orphan_t *o = (s_orphan_t *) zhashx_lookup (self->orphans, vdi);
    if (!why) {
        if (o && !o->destroying)
            zhashx_delete (self->orphans, vdi);
        return;
    }
    if (!o || !streq (o->volume_uuid, volume) || o->backend_id != p->backend_id) {
        o = xs_zalloc (sizeof *o);
        o->vdi_uuid = xs_strdup (vdi);
        o->volume_uuid = xs_strdup (volume);
        o->sr_uuid = xs_strdup (p->sr_uuid);
        o->zone = xs_strdup (p->zone);
        o->backend_id = p->backend_id;
        o->first_seen = zclock_time ();
        o->first_mono = zclock_mono ();
        o->why = why;
        zhashx_update (self->orphans, vdi, o);
        xs_notice ("orphan VDI %s (tagged volume %s) in SR %s of backend %lld, zone %s: %s",
                   vdi, volume, p->sr_uuid, (long long) p->backend_id, p->zone, why);
    }
    else {
        free (o->why);
        o->why = why;
    }
    o->stamp = stamp;
    s_maybe_reap (self, o, host_uuid);
}

/* A listing of backend p's SR: judges each VDI; the orphans of that
   backend it no longer shows are forgotten. */
static void
s_listed (xs_orphans_t *self, const s_pending_t *p, const json_t *value, const char *host_uuid)
{
    int64_t stamp = ++self->seq;
    size_t i;
    json_t *entry;
    json_array_foreach (json_object_get (value, "vdis"), i, entry)
        s_judge (self, p, entry, stamp, host_uuid);
    zlist_t *gone = xs_nn (zlist_new ());
    zlist_autofree (gone);
    for (s_orphan_t *o = (s_orphan_t *) zhashx_first (self->orphans); o;
         o = (s_orphan_t *) zhashx_next (self->orphans))
        if (o->backend_id == p->backend_id && o->stamp != stamp && !o->destroying)
            zlist_append (gone, o->vdi_uuid);
    for (char *vdi = (char *) zlist_first (gone); vdi; vdi = (char *) zlist_next (gone))
        zhashx_delete (self->orphans, vdi);
    zlist_destroy (&gone);
}

/* The outcome of removing orphan p->vdi_uuid. */
static void
s_reaped (xs_orphans_t *self, const s_pending_t *p, const json_t *value, const xs_err_t *err)
{
    s_orphan_t *o = (s_orphan_t *) zhashx_lookup (self->orphans, p->vdi_uuid);
    if (!o)
        return;
    o->destroying = false;
    if (err) {
        xs_warning ("orphan VDI %s (tagged volume %s) in SR %s of backend %lld: not destroyed: "
                    "%s", o->vdi_uuid, o->volume_uuid, o->sr_uuid, (long long) o->backend_id,
                    err->msg);
        return;
    }
    char seen [32];
    time_t t = (time_t) (o->first_seen / 1000);
    struct tm tm;
    strftime (seen, sizeof seen, "%Y-%m-%dT%H:%M:%SZ", gmtime_r (&t, &tm));
    bool destroyed = json_integer_value (json_object_get (value, "destroyed")) > 0;
    xs_notice ("orphan VDI %s (tagged volume %s) in SR %s of backend %lld, zone %s: %s (%s; "
               "first seen %s)", o->vdi_uuid, o->volume_uuid, o->sr_uuid,
               (long long) o->backend_id, o->zone, destroyed ? "destroyed" : "already gone",
               o->why, seen);
    zhashx_delete (self->orphans, p->vdi_uuid);
}

bool
xs_orphans_on_result (void *arg, const char *request_id, const char *host_uuid,
                      const json_t *value, const xs_err_t *err)
{
    xs_orphans_t *self = (xs_orphans_t *) arg;
    s_pending_t *p = (s_pending_t *) zhashx_lookup (self->pending, request_id);
    if (!p)
        return false;
    zhashx_delete (self->pending, request_id);     /* no destructor: p is ours now */
    if (p->vdi_uuid)
        s_reaped (self, p, value, err);
    else
    if (err)
        xs_info ("orphan sweep: listing SR %s of backend %lld failed: %s", p->sr_uuid,
                 (long long) p->backend_id, err->msg);
    else
        s_listed (self, p, value, host_uuid);
    void *item = p;
    s_pending_free (&item);
    return true;
}

/* =========================================================================
    Sweeping
   ========================================================================= */

void
xs_orphans_sweep (xs_orphans_t *self)
{
    xs_err_t err;
    xs_backend_t **backends = xs_store_backend_list (self->store, &err);
    if (!backends) {
        xs_warning ("orphan sweep: cannot list the backends: %s", err.msg);
        return;
    }
    self->last_sweep = zclock_time ();
    for (xs_backend_t **bp = backends; *bp; bp++) {
        const xs_backend_t *b = *bp;
        const char *host = b->sr_uuid ? xs_hosts_pick (self->hosts, b->zone, b->id) : NULL;
        if (!host || s_listing (self, b->id))
            continue;           /* no SR yet, no live agent with it, or still listing */
        s_pending_t *p = xs_zalloc (sizeof *p);
        p->backend_id = b->id;
        p->zone = xs_strdup (b->zone);
        p->sr_uuid = xs_strdup (b->sr_uuid);
        json_t *args = xs_nn (json_pack ("{s:s}", "sr_uuid", b->sr_uuid));
        s_send (self, host, S_LIST_PREFIX, XS_OP_VDI_LIST, &args, p);
    }
    xs_backend_list_destroy (&backends);
}

static int
s_on_timer (zloop_t *loop, int timer_id, void *arg)
{
    xs_orphans_sweep ((xs_orphans_t *) arg);
    return 0;
}

json_t *
xs_orphans_list (xs_orphans_t *self)
{
    json_t *list = xs_nn (json_array ());
    for (s_orphan_t *o = (s_orphan_t *) zhashx_first (self->orphans); o;
         o = (s_orphan_t *) zhashx_next (self->orphans))
        json_array_append_new (list, xs_nn (json_pack (
            "{s:s, s:I, s:s, s:s, s:s, s:I, s:s, s:b}", "zone", o->zone,
            "backend_id", (json_int_t) o->backend_id, "sr_uuid", o->sr_uuid,
            "vdi_uuid", o->vdi_uuid, "volume_uuid", o->volume_uuid,
            "first_seen", (json_int_t) o->first_seen, "why", o->why,
            "destroying", o->destroying)));
    return xs_nn (json_pack ("{s:o, s:I, s:I, s:I}", "orphans", list,
                             "interval_ms", (json_int_t) self->cfg.interval_ms,
                             "grace_ms", (json_int_t) self->cfg.grace_ms,
                             "last_sweep", (json_int_t) self->last_sweep));
}

/* =========================================================================
    Construction
   ========================================================================= */

xs_orphans_t *
xs_orphans_new (const xs_orphans_cfg_t *cfg, xs_store_t *store, zloop_t *loop,
                xs_agentsrv_t *agents, xs_hosts_t *hosts, xs_jobs_t *jobs)
{
    xs_orphans_t *self = xs_zalloc (sizeof *self);
    self->cfg = *cfg;
    self->store = store;
    self->loop = loop;
    self->agents = agents;
    self->hosts = hosts;
    self->jobs = jobs;
    self->orphans = xs_nn (zhashx_new ());
    zhashx_set_destructor (self->orphans, s_orphan_free);
    self->pending = xs_nn (zhashx_new ());
    self->timer = cfg->interval_ms > 0
                ? zloop_timer (loop, (size_t) cfg->interval_ms, 0, s_on_timer, self) : -1;
    xs_jobs_set_other (jobs, xs_orphans_on_result, self);
    return self;
}

void
xs_orphans_destroy (xs_orphans_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_orphans_t *self = *self_p;
    if (self->timer != -1)
        zloop_timer_end (self->loop, self->timer);
    xs_jobs_set_other (self->jobs, NULL, NULL);
    for (void *p = zhashx_first (self->pending); p; p = zhashx_next (self->pending)) {
        xs_agentsrv_cancel (self->agents, (const char *) zhashx_cursor (self->pending));
        s_pending_free (&p);
    }
    zhashx_destroy (&self->pending);
    zhashx_destroy (&self->orphans);
    free (self);
    *self_p = NULL;
}
