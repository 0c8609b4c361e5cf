/*  xs_placement: first-fit placement of a new volume. */
#include "xs_placement.h"

#include <stdio.h>
#include <stdlib.h>

#include "xs_log.h"
#include "xs_mem.h"

#define S_PLACED_TTL_MS 60000     /* a placement counted at most this long (default) */

/* The placements on one backend that its SR stats may not count yet: a
   running total, so that a create costs the same however many were made
   in the last minute. */
typedef struct {
    int64_t base;               /* the SR's virtual_allocation at the first */
    int64_t sum;                /* bytes placed since (those in `list`)     */
    zlistx_t *list;             /* s_placed_t * (owned by `placed`), oldest first */
} s_pending_t;

/* One volume placed on a backend, counted until the stats do. */
typedef struct {
    s_pending_t *pending;       /* its backend's                            */
    void *handle;               /* in pending->list                         */
    char key [64];              /* "backend id/volume uuid" in `placed`     */
    int64_t size;
    int64_t at;                 /* zclock_mono */
} s_placed_t;

struct _xs_placement_t {
    xs_placement_cfg_t cfg;
    xs_store_t *store;
    xs_batch_t *batch;
    xs_hosts_t *hosts;
    xs_metrics_t *metrics;      /* borrowed; NULL: none */
    zhashx_t *pending;          /* "backend id" -> s_pending_t * (owned)        */
    zhashx_t *placed;           /* "backend id/volume uuid" -> s_placed_t * (owned) */
};

/* =========================================================================
    Placements the SR stats do not count yet (back-to-back creates)
   ========================================================================= */

static void
s_placed_remove (xs_placement_t *self, s_placed_t *p)
{
    p->pending->sum -= p->size;
    zlistx_delete (p->pending->list, p->handle);
    zhashx_delete (self->placed, p->key);           /* frees p */
}

/* Forgets backend_id's uncounted placements, all of them. */
static void
s_pending_reset (xs_placement_t *self, const char *backend_key)
{
    s_pending_t *pending = (s_pending_t *) zhashx_lookup (self->pending, backend_key);
    if (!pending)
        return;
    s_placed_t *p;
    while ((p = (s_placed_t *) zlistx_first (pending->list)))
        s_placed_remove (self, p);
    zhashx_delete (self->pending, backend_key);
}

static void
s_pending_free (void **item_p)
{
    s_pending_t *pending = (s_pending_t *) *item_p;
    if (pending) {
        zlistx_destroy (&pending->list);
        free (pending);
        *item_p = NULL;
    }
}

/* The allocation placement counts on backend_id whose SR stats say
   `stats_va`: the stats, or more when placements made since are not in
   them yet (forgotten once the stats catch up, or after the TTL). */
static int64_t
s_allocation (xs_placement_t *self, int64_t backend_id, int64_t stats_va)
{
    char key [32];
    snprintf (key, sizeof key, "%lld", (long long) backend_id);
    s_pending_t *pending = (s_pending_t *) zhashx_lookup (self->pending, key);
    if (!pending)
        return stats_va;
    int64_t expired = zclock_mono () - self->cfg.placed_ttl_ms;
    s_placed_t *p;
    while ((p = (s_placed_t *) zlistx_first (pending->list)) && p->at < expired)
        s_placed_remove (self, p);
    if (pending->sum == 0 || stats_va >= pending->base + pending->sum) {
        /* Fresh stats that include them all (or none left to count). */
        s_pending_reset (self, key);
        return stats_va;
    }
    return pending->base + pending->sum;
}

/* Volume_uuid (size bytes) goes to backend b: counted until the stats do. */
static void
s_placed_add (xs_placement_t *self, const char *zone, int64_t backend_id, const char *volume_uuid,
              int64_t size)
{
    xs_hosts_sr_t sr;
    xs_hosts_sr_info (self->hosts, zone, backend_id, &sr);
    if (!sr.has_stats)
        return;
    char key [32];
    snprintf (key, sizeof key, "%lld", (long long) backend_id);
    s_allocation (self, backend_id, sr.virtual_allocation);     /* resets when due */
    s_pending_t *pending = (s_pending_t *) zhashx_lookup (self->pending, key);
    if (!pending) {
        pending = xs_zalloc (sizeof *pending);
        pending->base = sr.virtual_allocation;
        pending->list = xs_nn (zlistx_new ());
        zhashx_insert (self->pending, key, pending);
    }
    s_placed_t *p = xs_zalloc (sizeof *p);
    snprintf (p->key, sizeof p->key, "%lld/%s", (long long) backend_id, volume_uuid);
    s_placed_t *again = (s_placed_t *) zhashx_lookup (self->placed, p->key);
    if (again)                  /* the same volume placed there again */
        s_placed_remove (self, again);
    p->pending = pending;
    p->size = size;
    p->at = zclock_mono ();
    p->handle = zlistx_add_end (pending->list, p);
    pending->sum += size;
    zhashx_insert (self->placed, p->key, p);
}

/* Volume_uuid was not made on backend_id after all: no longer counted. */
static void
s_placed_drop (xs_placement_t *self, int64_t backend_id, const char *volume_uuid)
{
    char key [64];
    snprintf (key, sizeof key, "%lld/%s", (long long) backend_id, volume_uuid);
    s_placed_t *p = (s_placed_t *) zhashx_lookup (self->placed, key);
    if (p)
        s_placed_remove (self, p);
}

static void
s_free_item (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

void
xs_placement_set_metrics (xs_placement_t *self, xs_metrics_t *metrics)
{
    self->metrics = metrics;
}

xs_placement_t *
xs_placement_new (const xs_placement_cfg_t *cfg, xs_store_t *store, xs_batch_t *batch,
                  xs_hosts_t *hosts)
{
    xs_placement_t *self = xs_zalloc (sizeof *self);
    self->cfg = *cfg;
    if (self->cfg.default_ratio <= 0)
        self->cfg.default_ratio = 1.0;
    if (self->cfg.default_reserve < 0 || self->cfg.default_reserve > 100)
        self->cfg.default_reserve = 0;
    if (self->cfg.placed_ttl_ms <= 0)
        self->cfg.placed_ttl_ms = S_PLACED_TTL_MS;
    self->store = store;
    self->batch = batch;
    self->hosts = hosts;
    self->pending = xs_nn (zhashx_new ());
    zhashx_set_destructor (self->pending, s_pending_free);
    self->placed = xs_nn (zhashx_new ());
    zhashx_set_destructor (self->placed, s_free_item);
    return self;
}

void
xs_placement_destroy (xs_placement_t **self_p)
{
    if (self_p && *self_p) {
        xs_placement_t *self = *self_p;
        zhashx_destroy (&self->pending);     /* the lists first: they own nothing */
        zhashx_destroy (&self->placed);
        free (self);
        *self_p = NULL;
    }
}

void
xs_placement_attempt (xs_placement_t *self, const char *volume_uuid, int64_t backend_id,
                      const char *host, xs_attempt_outcome_t outcome, const char *reason)
{
    xs_err_t err;
    xs_attempt_spec_t a = {.volume_uuid = volume_uuid, .backend_id = backend_id,
                           .host_uuid = host, .outcome = outcome, .reason = reason};
    if (xs_batch_open (self->batch, &err) || xs_store_attempt_insert (self->store, &a, &err) == -1)
        xs_error ("volume %s: cannot record attempt on backend %lld: %s", volume_uuid,
                  (long long) backend_id, err.msg);
    xs_metrics_attempt (self->metrics, outcome, reason);
    if (outcome == XS_ATTEMPT_FAILED)       /* nothing made there after all */
        s_placed_drop (self, backend_id, volume_uuid);
    if (outcome != XS_ATTEMPT_OK)
        xs_info ("volume %s: backend %lld %s: %s", volume_uuid, (long long) backend_id,
                 xs_attempt_outcome_name (outcome), reason ? reason : "");
}

char *
xs_placement_attempts_text (xs_placement_t *self, const char *volume_uuid)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = xs_nn (open_memstream (&buf, &size));
    xs_attempt_t **list = xs_store_attempt_list_by_volume (self->store, volume_uuid, NULL);
    int n = 0;
    for (xs_attempt_t **a = list; a && *a; a++, n++)
        fprintf (f, "%sbackend %lld %s: %s", n ? "; " : "", (long long) (*a)->backend_id,
                 xs_attempt_outcome_name ((*a)->outcome), (*a)->reason ? (*a)->reason : "");
    if (n == 0) {
        xs_volume_t *v = xs_store_volume_get (self->store, volume_uuid, NULL);
        xs_flavor_t *flavor = v ? xs_store_flavor_get_by_id (self->store, v->flavor_id, NULL)
                                : NULL;
        fprintf (f, "flavor %s has no backends (add one with `xensm-manage sm backend_add`)",
                 flavor ? flavor->label : "?");
        xs_flavor_destroy (&flavor);
        xs_volume_destroy (&v);
    }
    xs_attempt_list_destroy (&list);
    fclose (f);
    return xs_nn (buf);
}

static bool
s_has_capability (const json_t *caps, const char *cap)
{
    size_t i;
    json_t *item;
    json_array_foreach (caps, i, item)
        if (json_is_string (item) && streq (json_string_value (item), cap))
            return true;
    return false;
}

/* Why backend b cannot take `size` now, or NULL when it is a candidate.
   *agentless is set when the only reason is that no agent of its zone
   (with its SR) is live yet. Caller frees. */
static char *
s_skip_reason (xs_placement_t *self, const xs_backend_t *b, int64_t size, bool *agentless)
{
    *agentless = false;
    /* What the pool can do at all first: such a backend is not tried. */
    char *unusable = xs_hosts_backend_unusable (self->hosts, b);
    if (unusable)
        return unusable;
    if (b->state != XS_BACKEND_ATTACHED)
        return xs_sprintf ("not attached (state %s%s%s)", xs_backend_state_name (b->state),
                           b->error ? ": " : "", b->error ? b->error : "");
    if (xs_hosts_live_in_zone (self->hosts, b->zone) == 0) {
        *agentless = true;
        return xs_sprintf ("no live agent in zone %s", b->zone);
    }
    xs_hosts_sr_t sr;
    xs_hosts_sr_info (self->hosts, b->zone, b->id, &sr);
    if (sr.live_hosts == 0) {
        *agentless = true;
        return xs_sprintf ("no live agent of zone %s has its SR attached", b->zone);
    }
    if (!sr.has_stats)
        return NULL;
    /* The SR's own capabilities (an empty list: not known). */
    if (json_array_size (sr.capabilities) > 0 && !s_has_capability (sr.capabilities, "VDI_CREATE"))
        return xs_sprintf ("its SR (type %s) lacks VDI_CREATE", b->sr_type);
    double ratio = b->has_ratio ? b->ratio : self->cfg.default_ratio;
    double reserve = b->has_reserve ? b->reserve : self->cfg.default_reserve;
    double limit = (double) sr.physical_size * ratio * (1.0 - reserve / 100.0);
    int64_t allocated = s_allocation (self, b->id, sr.virtual_allocation);
    if ((double) allocated + (double) size > limit)
        return xs_sprintf ("no space: %lld bytes allocated%s + %lld requested > %.0f "
                           "(size %lld x ratio %g x (1 - reserve %g%%))",
                           (long long) allocated,
                           allocated > sr.virtual_allocation ? " (with volumes placed since "
                           "the last SR stats)" : "", (long long) size, limit,
                           (long long) sr.physical_size, ratio, reserve);
    return NULL;
}

xs_backend_t *
xs_placement_next (xs_placement_t *self, const char *volume_uuid, int64_t flavor_id,
                   int64_t size, int64_t *after_p, json_t *waiting)
{
    xs_err_t err;
    while (true) {
        int64_t backend_id = xs_store_backend_next_of_flavor (self->store, flavor_id,
                                                              *after_p, &err);
        if (backend_id < 0) {
            xs_error ("volume %s: cannot walk the backends of its flavor: %s",
                      volume_uuid, err.msg);
            return NULL;
        }
        if (backend_id == 0)
            return NULL;
        *after_p = backend_id;
        xs_backend_t *b = xs_store_backend_get (self->store, backend_id, &err);
        if (!b)
            continue;           /* removed meanwhile */
        bool agentless;
        char *why = s_skip_reason (self, b, size, &agentless);
        if (!why) {
            s_placed_add (self, b->zone, b->id, volume_uuid, size);
            return b;
        }
        if (agentless && waiting)
            json_array_append_new (waiting, json_integer (backend_id));
        else
            xs_placement_attempt (self, volume_uuid, backend_id, NULL, XS_ATTEMPT_SKIPPED, why);
        free (why);
        xs_backend_destroy (&b);
    }
}

xs_backend_t *
xs_placement_waited (xs_placement_t *self, const char *volume_uuid, int64_t size,
                     json_t *waiting, bool give_up)
{
    size_t i = 0;
    while (i < json_array_size (waiting)) {
        int64_t backend_id = (int64_t) json_integer_value (json_array_get (waiting, i));
        xs_backend_t *b = xs_store_backend_get (self->store, backend_id, NULL);
        bool agentless = false;
        char *why = b ? s_skip_reason (self, b, size, &agentless) : NULL;
        if (b && !why) {
            json_array_remove (waiting, i);
            s_placed_add (self, b->zone, b->id, volume_uuid, size);
            return b;
        }
        if (b && agentless && !give_up)
            i++;                /* still waiting for an agent of its zone */
        else {
            json_array_remove (waiting, i);
            if (b)              /* (a backend removed meanwhile is dropped) */
                xs_placement_attempt (self, volume_uuid, backend_id, NULL, XS_ATTEMPT_SKIPPED,
                                      why);
        }
        free (why);
        xs_backend_destroy (&b);
    }
    return NULL;
}
