/*  xs_reconcile: which live host must attach which backend's SR. */
#include "xs_reconcile.h"

#include <stdio.h>
#include <stdlib.h>

#include "xs_agentsrv.h"
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_redact.h"

struct _xs_reconcile_t {
    xs_store_t *store;
    xs_batch_t *batch;
    xs_hosts_t *hosts;
    xs_agentsrv_t *agents;
    int heartbeat_ms;
    int request_timeout_ms;
    zhashx_t *creators;         /* "backend_id" -> host uuid (string) */
};

static void
s_str_free (void **item_p)
{
    if (item_p && *item_p) {
        free (*item_p);
        *item_p = NULL;
    }
}

xs_reconcile_t *
xs_reconcile_new (xs_store_t *store, xs_batch_t *batch, xs_hosts_t *hosts,
                  xs_agentsrv_t *agents, int heartbeat_ms, int request_timeout_ms)
{
    xs_reconcile_t *self = xs_zalloc (sizeof *self);
    self->store = store;
    self->batch = batch;
    self->hosts = hosts;
    self->agents = agents;
    self->heartbeat_ms = heartbeat_ms;
    self->request_timeout_ms = request_timeout_ms;
    self->creators = xs_nn (zhashx_new ());
    zhashx_set_destructor (self->creators, s_str_free);
    return self;
}

void
xs_reconcile_destroy (xs_reconcile_t **self_p)
{
    if (self_p && *self_p) {
        /* An action this deferred (s_after_sr_uuid) points at it. */
        xs_batch_flush ((*self_p)->batch);
        zhashx_destroy (&(*self_p)->creators);
        free (*self_p);
        *self_p = NULL;
    }
}

static void
s_key_of_id (int64_t id, char *buf, size_t size)
{
    snprintf (buf, size, "%lld", (long long) id);
}

/* Opens the group commit; logs when the store cannot. 0 or -1. */
static int
s_open_batch (xs_reconcile_t *self)
{
    xs_err_t err;
    if (xs_batch_open (self->batch, &err) == 0)
        return 0;
    xs_error ("catalog store: %s", err.msg);
    return -1;
}

/* =========================================================================
    The creator of a backend's SR
   ========================================================================= */

/* Whether host may create b's SR: it is the creator, or there is no live
   creator and it becomes one. */
static bool
s_claim_creator (xs_reconcile_t *self, const xs_backend_t *b, xs_live_host_t *host)
{
    char key [32];
    s_key_of_id (b->id, key, sizeof key);
    const char *creator = (const char *) zhashx_lookup (self->creators, key);
    if (creator && !streq (creator, host->uuid)) {
        xs_live_host_t *other = xs_hosts_get (self->hosts, creator);
        if (other && other->up)
            return false;
    }
    if (b->state == XS_BACKEND_ERROR)
        return false;           /* an admin looks at it first */
    zhashx_update (self->creators, key, xs_strdup (host->uuid));
    if (s_open_batch (self) == 0) {
        xs_err_t err;
        if (xs_store_backend_set_state (self->store, b->id, XS_BACKEND_ATTACHING, NULL, &err))
            xs_warning ("%s", err.msg);
    }
    xs_info ("backend %lld: host %s (%s) creates its SR", (long long) b->id, host->uuid,
             host->name ? host->name : "");
    return true;
}

json_t *
xs_reconcile_welcome (xs_reconcile_t *self, xs_live_host_t *host)
{
    json_t *list = xs_nn (json_array ());
    xs_err_t err;
    xs_backend_t **backends = xs_store_backend_list_by_zone (self->store, host->zone, &err);
    if (!backends) {
        xs_error ("zone %s: cannot list backends: %s", host->zone, err.msg);
        return list;
    }
    for (xs_backend_t **b = backends; *b; b++) {
        if ((*b)->state == XS_BACKEND_DRAINING)
            continue;
        /* Its pool has no driver for the type: SR_UNKNOWN_DRIVER there. */
        if (xs_live_host_lacks_driver (host, (*b)->sr_type))
            continue;
        bool create = !(*b)->sr_uuid && s_claim_creator (self, *b, host);
        json_array_append_new (list, xs_backend_agent_json (*b, create));
        if ((*b)->sr_uuid || create)
            xs_live_sr (host, (*b)->id, true)->pending_since = zclock_mono ();
    }
    xs_backend_list_destroy (&backends);
    return list;
}

/* =========================================================================
    Reconciling
   ========================================================================= */

/* Whether backend `id` is in `list` (n backends in ascending id order). */
static bool
s_backend_in (xs_backend_t **list, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (list [mid]->id == id)
            return true;
        if (list [mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Host h detaches the SRs of removed backends (PBD.unplug, SR.forget). */
static void
s_detach_gone (xs_reconcile_t *self, xs_live_host_t *h, xs_backend_t **backends, size_t n)
{
    zlist_t *gone = xs_nn (zlist_new ());
    for (xs_live_sr_t *hsr = (xs_live_sr_t *) zhashx_first (h->srs); hsr;
         hsr = (xs_live_sr_t *) zhashx_next (h->srs))
        if (!s_backend_in (backends, n, hsr->backend_id))
            zlist_append (gone, hsr);
    for (xs_live_sr_t *hsr = (xs_live_sr_t *) zlist_first (gone); hsr;
         hsr = (xs_live_sr_t *) zlist_next (gone)) {
        int64_t backend_id = hsr->backend_id;
        if (hsr->attached && hsr->sr_uuid) {
            xs_notice ("backend %lld was removed: host %s detaches SR %s",
                       (long long) backend_id, h->uuid, hsr->sr_uuid);
            json_t *args = xs_nn (json_pack ("{s:I, s:s}", "backend_id", (json_int_t) backend_id,
                                             "sr_uuid", hsr->sr_uuid));
            xs_agentsrv_send_internal (self->agents, h, XS_OP_SR_DETACH, backend_id, &args);
        }
        xs_live_sr_forget (h, backend_id);
    }
    zlist_destroy (&gone);
}

/* Whether host h should be asked to attach (or create) backend b's SR
   now; *create is set when it makes the SR. */
static bool
s_should_attach (xs_reconcile_t *self, xs_live_host_t *h, xs_backend_t *b, zhashx_t *attaching,
                 bool *create)
{
    *create = false;
    if (!streq (b->zone, h->zone) || b->state == XS_BACKEND_DRAINING)
        return false;
    /* Its pool has no driver for the type: neither attach nor create it
       there (placement names the reason, backend_list shows it). */
    if (xs_live_host_lacks_driver (h, b->sr_type))
        return false;
    xs_live_sr_t *hsr = xs_live_sr (h, b->id, false);
    if (hsr && hsr->attached)
        return false;
    /* An attach (or the SR.create) asked for lately is still running. */
    if (hsr && hsr->pending_since
    &&  zclock_mono () - hsr->pending_since < self->request_timeout_ms)
        return false;
    /* One attach in flight per host and backend. */
    char key [128];
    snprintf (key, sizeof key, "%s/%lld", h->uuid, (long long) b->id);
    if (zhashx_lookup (attaching, key))
        return false;
    if (!b->sr_uuid)
        return *create = s_claim_creator (self, b, h);
    /* Failed lately: do not hammer it. */
    return !(hsr && hsr->sr_uuid && !hsr->attached && hsr->at
             && zclock_mono () - hsr->at < 10 * self->heartbeat_ms);
}

void
xs_reconcile_run (xs_reconcile_t *self)
{
    xs_err_t err;
    xs_backend_t **backends = xs_store_backend_list (self->store, &err);
    if (!backends) {
        xs_error ("reconcile: cannot list backends: %s", err.msg);
        return;
    }
    /* Backends come in id order: existence is a binary search. */
    size_t nbackends = 0;
    while (backends [nbackends])
        nbackends++;
    /* A host attaches only its zone's backends: each host walks those, not
       every backend (10,000 hosts in 100 zones: 10,000 x 1, not x 100). */
    zhashx_t *zones = xs_nn (zhashx_new ());
    zhashx_set_destructor (zones, (zhashx_destructor_fn *) zlistx_destroy);
    for (xs_backend_t **b = backends; *b; b++) {
        zlistx_t *in = (zlistx_t *) zhashx_lookup (zones, (*b)->zone);
        if (!in) {
            in = xs_nn (zlistx_new ());
            zhashx_insert (zones, (*b)->zone, in);
        }
        zlistx_add_end (in, *b);
    }
    zhashx_t *attaching = xs_agentsrv_attaches (self->agents);
    zlist_t *hosts = xs_hosts_snapshot (self->hosts);
    for (xs_live_host_t *h = (xs_live_host_t *) zlist_first (hosts); h;
         h = (xs_live_host_t *) zlist_next (hosts)) {
        if (!h->up)
            continue;
        s_detach_gone (self, h, backends, nbackends);
        zlistx_t *in = (zlistx_t *) zhashx_lookup (zones, h->zone);
        for (xs_backend_t *b = in ? (xs_backend_t *) zlistx_first (in) : NULL; b;
             b = (xs_backend_t *) zlistx_next (in)) {
            bool create;
            if (!s_should_attach (self, h, b, attaching, &create))
                continue;
            json_t *args = xs_nn (json_pack ("{s:o}", "backend",
                                             xs_backend_agent_json (b, create)));
            xs_agentsrv_send_internal (self->agents, h, XS_OP_SR_ATTACH, b->id, &args);
            xs_live_sr (h, b->id, true)->pending_since = zclock_mono ();
        }
    }
    zlist_destroy (&hosts);
    zhashx_destroy (&attaching);
    zhashx_destroy (&zones);
    xs_backend_list_destroy (&backends);
}

/* =========================================================================
    Attach outcomes
   ========================================================================= */

/* After the new SR uuid is committed, the other live hosts of the zone
   attach it. */
static void
s_after_sr_uuid (void *arg, bool committed)
{
    if (committed)
        xs_reconcile_run ((xs_reconcile_t *) arg);
}

/* An agent's error text about backend b with secrets redacted: secret
   key=value pairs, and every secret value of b's device config (an agent
   passes xapi's text on; an older one or a driver may quote a secret).
   Written into text. */
static const char *
s_redacted (const xs_backend_t *b, const char *error, char *text, size_t size)
{
    char *keyed = xs_redact_text (error);
    snprintf (text, size, "%s", keyed);
    free (keyed);
    const char **values = xs_zalloc ((b->nconfig + 1) * sizeof *values);
    size_t n = 0;
    for (size_t i = 0; i < b->nconfig; i++)
        if (xs_redact_is_secret (b->config [i].key) && b->config [i].value)
            values [n++] = b->config [i].value;
    xs_redact_values (text, size, values);
    free (values);
    return text;
}

/* Host failed to attach (or create) backend b's SR. */
static void
s_attach_failed (xs_reconcile_t *self, xs_live_host_t *host, xs_live_sr_t *hsr,
                 const xs_backend_t *b, bool was_creator, const char *error)
{
    int64_t backend_id = b->id;
    char safe [XS_ERR_MSG_MAX];
    if (error)
        error = s_redacted (b, error, safe, sizeof safe);
    hsr->attached = false;
    xs_warning ("backend %lld: host %s could not %s its SR: %s", (long long) backend_id,
                host->uuid, was_creator ? "create" : "attach", error ? error : "no uuid");
    xs_store_sr_set_attached (self->store, host->uuid, backend_id, false, NULL);
    if (!was_creator)
        return;
    char key [32];
    s_key_of_id (backend_id, key, sizeof key);
    zhashx_delete (self->creators, key);
    char *text = xs_sprintf ("SR.create failed on host %s: %s",
                             host->name && *host->name ? host->name : host->uuid,
                             error ? error : "?");
    xs_store_backend_set_error (self->store, backend_id, text, NULL);
    free (text);
}

void
xs_reconcile_sr_attached (xs_reconcile_t *self, xs_live_host_t *host, int64_t backend_id,
                          const char *sr_uuid, const char *error)
{
    xs_err_t err;
    char key [32];
    s_key_of_id (backend_id, key, sizeof key);
    const char *creator = (const char *) zhashx_lookup (self->creators, key);
    bool was_creator = creator && streq (creator, host->uuid);
    xs_live_sr_t *hsr = xs_live_sr (host, backend_id, true);
    hsr->at = zclock_mono ();
    hsr->pending_since = 0;
    if (s_open_batch (self))
        return;
    xs_backend_t *b = xs_store_backend_get (self->store, backend_id, &err);
    if (!b) {
        xs_warning ("host %s: sr_state for backend %lld: %s", host->uuid,
                    (long long) backend_id, err.msg);
        return;
    }
    if (error || !sr_uuid)
        s_attach_failed (self, host, hsr, b, was_creator, error);
    else
    if (b->sr_uuid && !streq (b->sr_uuid, sr_uuid))
        xs_error ("backend %lld: host %s attached SR %s but the backend's SR is %s; ignored",
                  (long long) backend_id, host->uuid, sr_uuid, b->sr_uuid);
    else {
        free (hsr->sr_uuid);
        hsr->sr_uuid = xs_strdup (sr_uuid);
        hsr->attached = true;
        xs_store_sr_set_attached (self->store, host->uuid, backend_id, true, NULL);
        if (!b->sr_uuid) {
            if (xs_store_backend_set_sr_uuid (self->store, backend_id, sr_uuid, &err)) {
                xs_error ("%s", err.msg);
                goto out;
            }
            zhashx_delete (self->creators, key);
            xs_notice ("backend %lld: SR %s created by host %s", (long long) backend_id,
                       sr_uuid, host->uuid);
            xs_batch_defer (self->batch, s_after_sr_uuid, self);
        }
        if (b->state != XS_BACKEND_ATTACHED && b->state != XS_BACKEND_DRAINING)
            xs_store_backend_set_state (self->store, backend_id, XS_BACKEND_ATTACHED, NULL, NULL);
        xs_agentsrv_capacity (self->agents);
    }
out:
    xs_backend_destroy (&b);
}

void
xs_reconcile_detach_backend (xs_reconcile_t *self, int64_t backend_id, const char *sr_uuid)
{
    char k [32];
    s_key_of_id (backend_id, k, sizeof k);
    zhashx_delete (self->creators, k);
    zlist_t *hosts = xs_hosts_snapshot (self->hosts);
    for (xs_live_host_t *h = (xs_live_host_t *) zlist_first (hosts); h;
         h = (xs_live_host_t *) zlist_next (hosts)) {
        xs_live_sr_t *hsr = xs_live_sr (h, backend_id, false);
        if (!hsr)
            continue;
        const char *uuid = sr_uuid ? sr_uuid : hsr->sr_uuid;
        hsr->attached = false;
        if (!h->up || !uuid)
            continue;
        json_t *args = xs_nn (json_pack ("{s:I, s:s}", "backend_id", (json_int_t) backend_id,
                                         "sr_uuid", uuid));
        xs_agentsrv_send_internal (self->agents, h, XS_OP_SR_DETACH, backend_id, &args);
    }
    zlist_destroy (&hosts);
}
