/*  xs_agentsrv: the catalog's side of the agent protocol. */
#include "xs_agentsrv.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xs_log.h"
#include "xs_mem.h"
#include "xs_proto.h"

#define S_MISSED_MAX 3              /* heartbeats missed before "down"     */
#define S_RECONCILE_EVERY 5         /* heartbeat ticks between reconciles  */
#define S_STATS_STORE_EVERY 10      /* heartbeats between stats writes     */

/* What one host says about one backend's SR. */
typedef struct {
    int64_t backend_id;
    char *sr_uuid;
    bool attached;
    bool has_stats;
    int64_t physical_size, physical_utilisation, virtual_allocation;
    json_t *capabilities;
    int64_t at;
    int64_t pending_since;      /* an attach was asked for; 0 when none */
} s_hsr_t;

typedef struct {
    char *uuid;
    char *zone;
    char *name;
    char *key;                  /* Z85 CURVE public key             */
    zframe_t *routing_id;
    int64_t last_seen;
    bool up;
    int inflight;               /* requests we sent, no result yet  */
    int busy;                   /* what the agent reported          */
    int beats;
    zhashx_t *srs;              /* "backend_id" -> s_hsr_t *        */
} s_host_t;

typedef struct {
    char *id;
    char *host_uuid;
    char *op;
    bool internal;              /* sr_attach/sr_detach of reconciling */
    int64_t backend_id;         /* internal ones                      */
    int64_t deadline;
} s_req_t;

struct _xs_agentsrv_t {
    xs_agentsrv_cfg_t cfg;
    char *endpoint;
    xs_store_t *store;
    xs_batch_t *batch;
    zloop_t *loop;
    xs_agentsrv_events_t events;
    zactor_t *auth;
    zsock_t *router;
    zsock_t *monitor;           /* handshake failures of the router  */
    zcert_t *cert;
    char *keys_dir;
    zhashx_t *hosts;            /* uuid -> s_host_t *                */
    zhashx_t *by_route;         /* routing id (hex) -> s_host_t * (borrowed) */
    zhashx_t *reqs;             /* request id -> s_req_t *           */
    zhashx_t *creators;         /* "backend_id" -> host uuid (string) */
    int timer;
    int ticks;
    uint64_t seq;
};

/* =========================================================================
    Small helpers
   ========================================================================= */

static char *
s_key_of_id (int64_t id, char *buf, size_t size)
{
    snprintf (buf, size, "%lld", (long long) id);
    return buf;
}

static void
s_hsr_free (void **item_p)
{
    if (item_p && *item_p) {
        s_hsr_t *h = (s_hsr_t *) *item_p;
        free (h->sr_uuid);
        json_decref (h->capabilities);
        free (h);
        *item_p = NULL;
    }
}

static void
s_host_free (void **item_p)
{
    if (item_p && *item_p) {
        s_host_t *h = (s_host_t *) *item_p;
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

static void
s_req_free (void **item_p)
{
    if (item_p && *item_p) {
        s_req_t *r = (s_req_t *) *item_p;
        free (r->id);
        free (r->host_uuid);
        free (r->op);
        free (r);
        *item_p = NULL;
    }
}

static void
s_str_free (void **item_p)
{
    if (item_p && *item_p) {
        free (*item_p);
        *item_p = NULL;
    }
}

static s_hsr_t *
s_hsr_get (s_host_t *host, int64_t backend_id, bool create)
{
    char key [32];
    s_key_of_id (backend_id, key, sizeof key);
    s_hsr_t *h = (s_hsr_t *) zhashx_lookup (host->srs, key);
    if (!h && create) {
        h = xs_zalloc (sizeof *h);
        h->backend_id = backend_id;
        zhashx_insert (host->srs, key, h);
    }
    return h;
}

/* Opens the group commit; logs when the store cannot. */
static bool
s_write (xs_agentsrv_t *self)
{
    xs_err_t err;
    if (xs_batch_open (self->batch, &err)) {
        xs_error ("catalog store: %s", err.msg);
        return false;
    }
    return true;
}

/* =========================================================================
    Sending
   ========================================================================= */

static int
s_send_route (xs_agentsrv_t *self, zframe_t *route, xs_proto_t **msg_p, xs_err_t *err)
{
    xs_proto_t *msg = *msg_p;
    *msg_p = NULL;
    size_t size = 0;
    int rc = -1;
    char *text = xs_proto_encode (msg, &size, err);
    if (!text)
        goto out;
    void *sock = zsock_resolve (self->router);
    if (zmq_send (sock, zframe_data (route), zframe_size (route), ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1
    ||  zmq_send (sock, text, size, ZMQ_DONTWAIT) == -1) {
        xs_err_set (err, XS_ETRANSPORT, "%s %s: cannot send: %s",
                    xs_proto_type_name (xs_proto_type (msg)), xs_proto_id (msg),
                    zmq_strerror (zmq_errno ()));
        goto out;
    }
    rc = 0;
out:
    free (text);
    xs_proto_destroy (&msg);
    return rc;
}

static int
s_send_host (xs_agentsrv_t *self, s_host_t *host, xs_proto_t **msg_p, xs_err_t *err)
{
    if (s_send_route (self, host->routing_id, msg_p, err))
        return xs_err_prefix (err, "host %s", host->uuid);
    return 0;
}

/* An internal request (reconciling an SR). */
static void
s_internal_request (xs_agentsrv_t *self, s_host_t *host, const char *op, int64_t backend_id,
                    json_t **args_p)
{
    char id [XS_PROTO_MAX_ID];
    snprintf (id, sizeof id, "sr-%llu", (unsigned long long) ++self->seq);
    xs_proto_t *req = xs_proto_request_new (id, xs_op_from_name (op), args_p);
    xs_err_t err;
    if (s_send_host (self, host, &req, &err)) {
        xs_warning ("%s", err.msg);
        return;
    }
    s_req_t *r = xs_zalloc (sizeof *r);
    r->id = xs_strdup (id);
    r->host_uuid = xs_strdup (host->uuid);
    r->op = xs_strdup (op);
    r->internal = true;
    r->backend_id = backend_id;
    r->deadline = zclock_mono () + self->cfg.request_timeout_ms;
    zhashx_insert (self->reqs, id, r);
}

/* =========================================================================
    Backends for an agent
   ========================================================================= */

static bool
s_host_live (s_host_t *h)
{
    return h && h->up;
}

/* Whether host uuid `who` may create backend_id's SR: it is the creator, or
   there is no live creator and it becomes one. */
static bool
s_claim_creator (xs_agentsrv_t *self, const xs_backend_t *b, s_host_t *host)
{
    char key [32];
    s_key_of_id (b->id, key, sizeof key);
    const char *creator = (const char *) zhashx_lookup (self->creators, key);
    if (creator && !streq (creator, host->uuid)
    &&  s_host_live ((s_host_t *) zhashx_lookup (self->hosts, creator)))
        return false;
    if (b->state == XS_BACKEND_ERROR)
        return false;           /* an admin looks at it first */
    zhashx_update (self->creators, key, xs_strdup (host->uuid));
    if (s_write (self)) {
        xs_err_t err;
        if (xs_store_backend_set_state (self->store, b->id, XS_BACKEND_ATTACHING, NULL, &err))
            xs_warning ("%s", err.msg);
    }
    xs_info ("backend %lld: host %s (%s) creates its SR", (long long) b->id, host->uuid,
             host->name ? host->name : "");
    return true;
}

/* The zone's backends for a welcome; exactly one live agent gets create. */
static json_t *
s_zone_backends (xs_agentsrv_t *self, s_host_t *host)
{
    json_t *list = json_array ();
    xs_err_t err;
    xs_backend_t **backends = xs_store_backend_list_by_zone (self->store, host->zone, &err);
    if (!backends) {
        xs_error ("zone %s: cannot list backends: %s", host->zone, err.msg);
        return list;
    }
    for (xs_backend_t **b = backends; *b; b++) {
        if ((*b)->state == XS_BACKEND_DRAINING)
            continue;
        bool create = !(*b)->sr_uuid && s_claim_creator (self, *b, host);
        json_array_append_new (list, xs_backend_agent_json (*b, create));
        if ((*b)->sr_uuid || create)
            s_hsr_get (host, (*b)->id, true)->pending_since = zclock_mono ();
    }
    xs_backend_list_destroy (&backends);
    return list;
}

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

/* The hosts, as a list to walk while the loop body may look hosts up:
   zhashx_lookup moves the table's iteration cursor, so a walk with
   zhashx_first/next must never call anything that looks into the same
   table (that once made reconcile loop for ever). Caller destroys. */
static zlist_t *
s_hosts_snapshot (xs_agentsrv_t *self)
{
    zlist_t *list = zlist_new ();
    for (s_host_t *h = (s_host_t *) zhashx_first (self->hosts); h;
         h = (s_host_t *) zhashx_next (self->hosts))
        zlist_append (list, h);
    return list;
}

void
xs_agentsrv_reconcile (xs_agentsrv_t *self)
{
    xs_err_t err;
    xs_backend_t **backends = xs_store_backend_list (self->store, &err);
    if (!backends) {
        xs_error ("reconcile: cannot list backends: %s", err.msg);
        return;
    }
    /* Backends come in id order: existence is a binary search. The attaches
       in flight, as "host/backend" keys: one pass over the requests, not one
       per host and backend. */
    size_t nbackends = 0;
    while (backends [nbackends])
        nbackends++;
    zhashx_t *attaching = zhashx_new ();
    for (s_req_t *r = (s_req_t *) zhashx_first (self->reqs); r;
         r = (s_req_t *) zhashx_next (self->reqs))
        if (r->internal && streq (r->op, "sr_attach")) {
            char key [128];
            snprintf (key, sizeof key, "%s/%lld", r->host_uuid, (long long) r->backend_id);
            zhashx_update (attaching, key, (void *) 1);
        }
    zlist_t *hosts = s_hosts_snapshot (self);
    for (s_host_t *h = (s_host_t *) zlist_first (hosts); h;
         h = (s_host_t *) zlist_next (hosts)) {
        if (!h->up)
            continue;
        /* SRs of removed backends: detach them (PBD.unplug, SR.forget). */
        zlist_t *gone = zlist_new ();
        for (s_hsr_t *hsr = (s_hsr_t *) zhashx_first (h->srs); hsr;
             hsr = (s_hsr_t *) zhashx_next (h->srs))
            if (!s_backend_in (backends, nbackends, hsr->backend_id))
                zlist_append (gone, hsr);
        for (s_hsr_t *hsr = (s_hsr_t *) zlist_first (gone); hsr;
             hsr = (s_hsr_t *) zlist_next (gone)) {
            int64_t backend_id = hsr->backend_id;
            if (hsr->attached && hsr->sr_uuid) {
                xs_notice ("backend %lld was removed: host %s detaches SR %s",
                           (long long) backend_id, h->uuid, hsr->sr_uuid);
                json_t *args = json_pack ("{s:I, s:s}", "backend_id", (json_int_t) backend_id,
                                          "sr_uuid", hsr->sr_uuid);
                s_internal_request (self, h, "sr_detach", backend_id, &args);
            }
            char k [32];
            zhashx_delete (h->srs, s_key_of_id (backend_id, k, sizeof k));
        }
        zlist_destroy (&gone);
        for (xs_backend_t **b = backends; *b; b++) {
            if (!streq ((*b)->zone, h->zone) || (*b)->state == XS_BACKEND_DRAINING)
                continue;
            s_hsr_t *hsr = s_hsr_get (h, (*b)->id, false);
            if (hsr && hsr->attached)
                continue;
            /* An attach (or the SR.create) asked for lately is still running. */
            if (hsr && hsr->pending_since
            &&  zclock_mono () - hsr->pending_since < self->cfg.request_timeout_ms)
                continue;
            /* One attach in flight per host and backend. */
            char key [128];
            snprintf (key, sizeof key, "%s/%lld", h->uuid, (long long) (*b)->id);
            if (zhashx_lookup (attaching, key))
                continue;
            bool create = false;
            if (!(*b)->sr_uuid) {
                if (!s_claim_creator (self, *b, h))
                    continue;
                create = true;
            }
            else
            if (hsr && hsr->sr_uuid && !hsr->attached && hsr->at
            &&  zclock_mono () - hsr->at < 10 * self->cfg.heartbeat_ms)
                continue;       /* failed lately: do not hammer it */
            json_t *args = json_pack ("{s:o}", "backend", xs_backend_agent_json (*b, create));
            s_internal_request (self, h, "sr_attach", (*b)->id, &args);
            s_hsr_get (h, (*b)->id, true)->pending_since = zclock_mono ();
        }
    }
    zlist_destroy (&hosts);
    zhashx_destroy (&attaching);
    xs_backend_list_destroy (&backends);
}

/* After the new SR uuid of backend_id is committed, the other live hosts
   of the zone attach it. */
typedef struct {
    xs_agentsrv_t *self;
} s_after_sr_t;

static void
s_after_sr_uuid (void *arg, bool committed)
{
    s_after_sr_t *a = (s_after_sr_t *) arg;
    if (committed)
        xs_agentsrv_reconcile (a->self);
    free (a);
}

/* An agent attached (or failed to attach) backend_id. */
static void
s_sr_attached (xs_agentsrv_t *self, s_host_t *host, int64_t backend_id, const char *sr_uuid,
               const char *error)
{
    xs_err_t err;
    char key [32];
    s_key_of_id (backend_id, key, sizeof key);
    const char *creator = (const char *) zhashx_lookup (self->creators, key);
    bool was_creator = creator && streq (creator, host->uuid);
    s_hsr_t *hsr = s_hsr_get (host, backend_id, true);
    hsr->at = zclock_mono ();
    hsr->pending_since = 0;
    if (!s_write (self))
        return;
    xs_backend_t *b = xs_store_backend_get (self->store, backend_id, &err);
    if (!b) {
        xs_warning ("host %s: sr_state for backend %lld: %s", host->uuid,
                    (long long) backend_id, err.msg);
        return;
    }
    if (error || !sr_uuid) {
        hsr->attached = false;
        xs_warning ("backend %lld: host %s could not %s its SR: %s", (long long) backend_id,
                    host->uuid, was_creator ? "create" : "attach", error ? error : "no uuid");
        xs_store_sr_set_attached (self->store, host->uuid, backend_id, false, NULL);
        if (was_creator) {
            zhashx_delete (self->creators, key);
            char text [XS_ERR_MSG_MAX];
            snprintf (text, sizeof text, "SR.create failed on host %s: %s",
                      host->name && *host->name ? host->name : host->uuid, error ? error : "?");
            xs_store_backend_set_error (self->store, backend_id, text, NULL);
        }
        goto out;
    }
    if (b->sr_uuid && !streq (b->sr_uuid, sr_uuid)) {
        xs_error ("backend %lld: host %s attached SR %s but the backend's SR is %s; ignored",
                  (long long) backend_id, host->uuid, sr_uuid, b->sr_uuid);
        goto out;
    }
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
        xs_notice ("backend %lld: SR %s created by host %s", (long long) backend_id, sr_uuid,
                   host->uuid);
        s_after_sr_t *a = xs_zalloc (sizeof *a);
        a->self = self;
        xs_batch_defer (self->batch, s_after_sr_uuid, a);
    }
    if (b->state != XS_BACKEND_ATTACHED && b->state != XS_BACKEND_DRAINING)
        xs_store_backend_set_state (self->store, backend_id, XS_BACKEND_ATTACHED, NULL, NULL);
    if (self->events.on_capacity)
        self->events.on_capacity (self->events.arg);
out:
    xs_backend_destroy (&b);
}

/* =========================================================================
    Hosts going down
   ========================================================================= */

/* Drops every request in flight on host `uuid`, reporting external ones lost. */
static void
s_requests_lost (xs_agentsrv_t *self, const char *uuid)
{
    zlist_t *lost = zlist_new ();
    zlist_autofree (lost);
    for (s_req_t *r = (s_req_t *) zhashx_first (self->reqs); r;
         r = (s_req_t *) zhashx_next (self->reqs))
        if (streq (r->host_uuid, uuid))
            zlist_append (lost, r->id);
    for (char *id = (char *) zlist_first (lost); id; id = (char *) zlist_next (lost)) {
        s_req_t *r = (s_req_t *) zhashx_lookup (self->reqs, id);
        bool internal = r->internal;
        zhashx_delete (self->reqs, id);
        if (!internal && self->events.on_lost)
            self->events.on_lost (self->events.arg, id, uuid);
    }
    zlist_destroy (&lost);
    s_host_t *h = (s_host_t *) zhashx_lookup (self->hosts, uuid);
    if (h)
        h->inflight = 0;
}

static void
s_host_down (xs_agentsrv_t *self, s_host_t *h, const char *why)
{
    if (!h->up)
        return;
    h->up = false;
    xs_warning ("host %s (%s, zone %s) is down: %s", h->uuid, h->name ? h->name : "",
                h->zone, why);
    if (s_write (self)) {
        xs_err_t err;
        if (xs_store_host_set_state (self->store, h->uuid, XS_HOST_DOWN, &err))
            xs_warning ("%s", err.msg);
    }
    char *uuid = xs_strdup (h->uuid);
    s_requests_lost (self, uuid);
    free (uuid);
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    xs_agentsrv_t *self = (xs_agentsrv_t *) arg;
    int64_t now = zclock_mono ();
    /* Collect first: s_host_down calls back into the scheduler, which walks
       the hosts itself. */
    zlist_t *down = zlist_new ();
    for (s_host_t *h = (s_host_t *) zhashx_first (self->hosts); h;
         h = (s_host_t *) zhashx_next (self->hosts))
        if (h->up && now - h->last_seen > (int64_t) S_MISSED_MAX * self->cfg.heartbeat_ms)
            zlist_append (down, h);
    for (s_host_t *h = (s_host_t *) zlist_first (down); h; h = (s_host_t *) zlist_next (down))
        s_host_down (self, h, "missed 3 heartbeats");
    zlist_destroy (&down);

    /* Requests past their deadline fail. */
    zlist_t *late = zlist_new ();
    zlist_autofree (late);
    for (s_req_t *r = (s_req_t *) zhashx_first (self->reqs); r;
         r = (s_req_t *) zhashx_next (self->reqs))
        if (r->deadline < now)
            zlist_append (late, r->id);
    for (char *id = (char *) zlist_first (late); id; id = (char *) zlist_next (late)) {
        s_req_t *r = (s_req_t *) zhashx_lookup (self->reqs, id);
        xs_err_t err;
        xs_err_set (&err, XS_ETRANSPORT, "%s on host %s: no result after %d ms", r->op,
                    r->host_uuid, self->cfg.request_timeout_ms);
        char *host_uuid = xs_strdup (r->host_uuid);
        bool internal = r->internal;
        s_host_t *h = (s_host_t *) zhashx_lookup (self->hosts, host_uuid);
        if (h && h->inflight > 0)
            h->inflight--;
        zhashx_delete (self->reqs, id);
        if (!internal && self->events.on_result)
            self->events.on_result (self->events.arg, id, host_uuid, NULL, &err);
        free (host_uuid);
    }
    zlist_destroy (&late);
    if (++self->ticks % S_RECONCILE_EVERY == 0)
        xs_agentsrv_reconcile (self);
    return 0;
}

/* =========================================================================
    Incoming messages
   ========================================================================= */

static void
s_route_key (zframe_t *route, char *buf, size_t size)
{
    char *hex = zframe_strhex (route);
    snprintf (buf, size, "%s", hex);
    free (hex);
}

static s_host_t *
s_host_by_route (xs_agentsrv_t *self, zframe_t *route)
{
    char key [64];
    s_route_key (route, key, sizeof key);
    return (s_host_t *) zhashx_lookup (self->by_route, key);
}

static void
s_reply_error (xs_agentsrv_t *self, zframe_t *route, const char *id, const char *code,
               const char *text)
{
    xs_proto_t *e = xs_proto_error_new (id, code, "%s", text);
    s_send_route (self, route, &e, NULL);
}

static void
s_key_file (const char *dir, const char *z85, char *buf, size_t size)
{
    uint8_t raw [32];
    char hex [65];
    zmq_z85_decode (raw, z85);
    for (int i = 0; i < 32; i++)
        snprintf (hex + 2 * i, 3, "%02x", raw [i]);
    snprintf (buf, size, "%s/%s.key", dir, hex);
}

/* Whether `key` (the session's CURVE key) is in the allow-list now: zauth
   checks it once, at the handshake; a host removed since keeps its session. */
static bool
s_key_admitted (xs_agentsrv_t *self, const char *key)
{
    if (strlen (key) != 40)
        return false;
    char path [4096];
    s_key_file (self->keys_dir, key, path, sizeof path);
    return access (path, F_OK) == 0;
}

static void
s_on_register (xs_agentsrv_t *self, zframe_t *route, const char *key, xs_proto_t *msg)
{
    xs_err_t err;
    const char *uuid = xs_proto_str (msg, "host_uuid");
    const char *zone = xs_proto_str (msg, "zone");
    const char *name = xs_proto_str (msg, "name");
    char text [512];

    if (!s_key_admitted (self, key)) {
        xs_warning ("host %s: register refused: its key %s is no longer in the allow-list "
                    "(host removed)", uuid, key);
        snprintf (text, sizeof text, "host %s: this agent's key is not enrolled", uuid);
        s_reply_error (self, route, xs_proto_id (msg), XS_PROTO_E_REFUSED, text);
        return;
    }
    xs_host_t *row = xs_store_host_get (self->store, uuid, &err);
    if (!row && err.kind != XS_ENOTFOUND) {
        s_reply_error (self, route, xs_proto_id (msg), XS_PROTO_E_INTERNAL, err.msg);
        return;
    }
    if (row && row->public_key && *row->public_key && !streq (row->public_key, key)) {
        xs_warning ("host %s: register refused: it enrolled with another key", uuid);
        snprintf (text, sizeof text, "host %s is bound to another key", uuid);
        s_reply_error (self, route, xs_proto_id (msg), XS_PROTO_E_REFUSED, text);
        xs_host_destroy (&row);
        return;
    }
    xs_host_destroy (&row);

    s_host_t *h = (s_host_t *) zhashx_lookup (self->hosts, uuid);
    if (h) {
        /* Registered again (reconnect, restart of the agent): in-flight
           work on the old session is lost. */
        char old [64];
        s_route_key (h->routing_id, old, sizeof old);
        zhashx_delete (self->by_route, old);
        if (h->up && !zframe_eq (h->routing_id, route))
            s_requests_lost (self, uuid);
        zframe_destroy (&h->routing_id);
        free (h->zone);
        free (h->name);
        free (h->key);
        zhashx_purge (h->srs);
    }
    else {
        h = xs_zalloc (sizeof *h);
        h->uuid = xs_strdup (uuid);
        h->srs = zhashx_new ();
        zhashx_set_destructor (h->srs, s_hsr_free);
        zhashx_insert (self->hosts, uuid, h);
    }
    h->zone = xs_strdup (zone);
    h->name = xs_strdup (name ? name : "");
    h->key = xs_strdup (key);
    h->routing_id = zframe_dup (route);
    h->last_seen = zclock_mono ();
    h->up = true;
    h->inflight = 0;
    char rk [64];
    s_route_key (route, rk, sizeof rk);
    zhashx_update (self->by_route, rk, h);

    if (s_write (self)) {
        xs_host_spec_t up = {.uuid = uuid, .zone = zone, .name = name, .public_key = key,
                             .state = XS_HOST_UP};
        if (xs_store_host_upsert (self->store, &up, &err))
            xs_error ("%s", err.msg);
    }
    xs_notice ("host %s (%s) registered in zone %s", uuid, name ? name : "", zone);

    xs_proto_t *w = xs_proto_new (XS_PROTO_WELCOME, xs_proto_id (msg));
    xs_proto_set_str (w, "host_uuid", uuid);
    xs_proto_set_str (w, "zone", zone);
    xs_proto_set_int (w, "heartbeat_ms", self->cfg.heartbeat_ms);
    json_t *backends = s_zone_backends (self, h);
    xs_proto_set (w, "backends", &backends);
    if (s_send_host (self, h, &w, &err))
        xs_warning ("%s", err.msg);
    if (self->events.on_capacity)
        self->events.on_capacity (self->events.arg);
}

static void
s_on_heartbeat (xs_agentsrv_t *self, s_host_t *h, xs_proto_t *msg)
{
    h->last_seen = zclock_mono ();
    h->busy = (int) xs_proto_int (msg, "busy", 0);
    bool came_back = !h->up;
    if (came_back) {
        h->up = true;
        xs_notice ("host %s is up again", h->uuid);
        if (s_write (self))
            xs_store_host_set_state (self->store, h->uuid, XS_HOST_UP, NULL);
    }
    bool store_stats = ++h->beats % S_STATS_STORE_EVERY == 1;
    size_t i;
    json_t *sr;
    json_array_foreach (xs_proto_get (msg, "srs"), i, sr) {
        int64_t backend_id = json_integer_value (json_object_get (sr, "backend_id"));
        s_hsr_t *hsr = s_hsr_get (h, backend_id, false);
        if (!hsr || !hsr->attached)
            continue;           /* only SRs the catalog saw attached */
        hsr->has_stats = true;
        hsr->physical_size = json_integer_value (json_object_get (sr, "physical_size"));
        hsr->physical_utilisation = json_integer_value (json_object_get (sr, "physical_utilisation"));
        hsr->virtual_allocation = json_integer_value (json_object_get (sr, "virtual_allocation"));
        json_decref (hsr->capabilities);
        hsr->capabilities = json_incref (json_object_get (sr, "capabilities"));
        hsr->at = zclock_mono ();
        if (store_stats && s_write (self)) {
            size_t ncap = json_array_size (hsr->capabilities);
            const char **caps = xs_zalloc ((ncap + 1) * sizeof *caps);
            for (size_t k = 0; k < ncap; k++)
                caps [k] = json_string_value (json_array_get (hsr->capabilities, k));
            xs_sr_stats_spec_t st = {
                .host_uuid = h->uuid, .backend_id = backend_id, .attached = true,
                .has_stats = true, .physical_size = hsr->physical_size,
                .physical_utilisation = hsr->physical_utilisation,
                .virtual_allocation = hsr->virtual_allocation,
                .ncapabilities = ncap, .capabilities = caps,
            };
            xs_err_t err;
            if (xs_store_sr_stats_upsert (self->store, &st, &err))
                xs_debug ("%s", err.msg);
            free (caps);
        }
    }
    if (store_stats && s_write (self))
        xs_store_host_touch (self->store, h->uuid, 0, NULL);
    xs_proto_t *ack = xs_proto_new (XS_PROTO_HEARTBEAT_ACK, xs_proto_id (msg));
    s_send_host (self, h, &ack, NULL);
    if (came_back && self->events.on_capacity)
        self->events.on_capacity (self->events.arg);
}

static void
s_on_result (xs_agentsrv_t *self, const char *key, xs_proto_t *msg)
{
    const char *id = xs_proto_id (msg);
    s_req_t *r = (s_req_t *) zhashx_lookup (self->reqs, id);
    if (!r) {
        xs_debug ("result %s: no such request in flight (late or re-sent); ignored", id);
        return;
    }
    s_host_t *h = (s_host_t *) zhashx_lookup (self->hosts, r->host_uuid);
    if (h && !streq (h->key, key)) {
        xs_warning ("result %s from a peer that is not host %s; ignored", id, r->host_uuid);
        return;
    }
    if (h && h->inflight > 0)
        h->inflight--;
    bool ok = xs_proto_bool (msg, "ok", false);
    xs_err_t err;
    if (!ok)
        xs_proto_result_err (msg, &err);
    json_t *value = ok ? xs_proto_get (msg, "value") : NULL;
    if (r->internal) {
        if (h && streq (r->op, "sr_attach"))
            s_sr_attached (self, h, r->backend_id,
                           json_string_value (json_object_get (value, "sr_uuid")),
                           ok ? NULL : err.msg);
        else
        if (h && streq (r->op, "sr_detach") && ok) {
            char k [32];
            zhashx_delete (h->srs, s_key_of_id (r->backend_id, k, sizeof k));
        }
        zhashx_delete (self->reqs, id);
        return;
    }
    char *host_uuid = xs_strdup (r->host_uuid);
    char *rid = xs_strdup (id);
    zhashx_delete (self->reqs, id);
    if (self->events.on_result)
        self->events.on_result (self->events.arg, rid, host_uuid, value, ok ? NULL : &err);
    free (rid);
    free (host_uuid);
}

static int
s_on_router (zloop_t *loop, zsock_t *reader, void *arg)
{
    xs_agentsrv_t *self = (xs_agentsrv_t *) arg;
    /* Drain what is ready (bounded), so one commit covers a burst. */
    for (int n = 0; n < 256; n++) {
        zmsg_t *zmsg = zmsg_recv_nowait (reader);
        if (!zmsg)
            break;
        zframe_t *route = zmsg_pop (zmsg);
        xs_proto_t *msg = NULL;
        xs_proto_t *reply = NULL;
        if (!route || zmsg_size (zmsg) != 1) {
            if (route) {
                char text [128];
                snprintf (text, sizeof text, "message of %zu frames; the protocol uses one",
                          zmsg_size (zmsg));
                s_reply_error (self, route, "", XS_PROTO_E_MALFORMED, text);
            }
            goto next;
        }
        zframe_t *body = zmsg_first (zmsg);
        const char *key = zframe_meta (body, "User-Id");
        xs_err_t err;
        msg = xs_proto_decode (zframe_data (body), zframe_size (body), &reply, &err);
        if (!msg) {
            xs_warning ("agent socket: bad message from %s: %s", key ? key : "?", err.msg);
            goto next;
        }
        s_host_t *h = s_host_by_route (self, route);
        switch (xs_proto_type (msg)) {
            case XS_PROTO_REGISTER:
                s_on_register (self, route, key ? key : "", msg);
                break;
            case XS_PROTO_HEARTBEAT:
            case XS_PROTO_SR_STATE:
                if (!h || !streq (h->uuid, xs_proto_type (msg) == XS_PROTO_HEARTBEAT
                                  ? xs_proto_str (msg, "host_uuid") : h->uuid)) {
                    reply = xs_proto_error_new (xs_proto_id (msg), XS_PROTO_E_NOT_REGISTERED,
                                                "register first");
                    break;
                }
                if (xs_proto_type (msg) == XS_PROTO_HEARTBEAT)
                    s_on_heartbeat (self, h, msg);
                else {
                    h->last_seen = zclock_mono ();
                    const char *state = xs_proto_str (msg, "state");
                    int64_t backend_id = xs_proto_int (msg, "backend_id", 0);
                    if (streq (state, "attached"))
                        s_sr_attached (self, h, backend_id, xs_proto_str (msg, "sr_uuid"), NULL);
                    else
                    if (streq (state, "error"))
                        s_sr_attached (self, h, backend_id, NULL,
                                       xs_proto_str (msg, "error") ? xs_proto_str (msg, "error")
                                                                   : "failed");
                    else
                    if (streq (state, "detached")) {
                        char k [32];
                        zhashx_delete (h->srs, s_key_of_id (backend_id, k, sizeof k));
                    }
                    else
                        reply = xs_proto_error_new (xs_proto_id (msg), XS_PROTO_E_MALFORMED,
                                                    "sr_state: unknown state %.32s", state);
                }
                break;
            case XS_PROTO_RESULT:
                s_on_result (self, key ? key : "", msg);
                break;
            case XS_PROTO_ERROR:
                xs_warning ("agent %s: error %s for message %s: %s",
                            h ? h->uuid : (key ? key : "?"), xs_proto_str (msg, "code"),
                            xs_proto_id (msg), xs_proto_str (msg, "message"));
                break;
            default:
                reply = xs_proto_error_new (xs_proto_id (msg), XS_PROTO_E_UNEXPECTED,
                                            "%s is not sent to the catalog",
                                            xs_proto_type_name (xs_proto_type (msg)));
                break;
        }
next:
        if (reply && route)
            s_send_route (self, route, &reply, NULL);
        xs_proto_destroy (&reply);
        xs_proto_destroy (&msg);
        zframe_destroy (&route);
        zmsg_destroy (&zmsg);
    }
    return 0;
}

/* A client failed the CURVE handshake: log it (zauth has refused it). */
static int
s_on_monitor (zloop_t *loop, zsock_t *reader, void *arg)
{
    zmsg_t *m = zmsg_recv (reader);
    if (!m)
        return 0;
    zframe_t *ev = zmsg_first (m);
    zframe_t *addr = zmsg_next (m);
    if (ev && zframe_size (ev) >= 6) {
        uint16_t event;
        uint32_t value;
        memcpy (&event, zframe_data (ev), 2);
        memcpy (&value, zframe_data (ev) + 2, 4);
        char *where = addr ? zframe_strdup (addr) : xs_strdup ("?");
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            xs_warning ("agent socket: refused a connection on %s: CURVE key not in the "
                        "allow-list (ZAP status %u)", where, value);
        else
            xs_warning ("agent socket: handshake failed on %s (event 0x%x, %u)", where,
                        event, value);
        free (where);
    }
    zmsg_destroy (&m);
    return 0;
}

/* =========================================================================
    Construction
   ========================================================================= */

xs_agentsrv_t *
xs_agentsrv_new (const xs_agentsrv_cfg_t *cfg, xs_store_t *store, xs_batch_t *batch,
                 zloop_t *loop, const xs_agentsrv_events_t *events, xs_err_t *err)
{
    xs_agentsrv_t *self = xs_zalloc (sizeof *self);
    self->cfg = *cfg;
    self->cfg.endpoint = NULL;
    self->cfg.cert_file = NULL;
    self->cfg.keys_dir = NULL;
    if (self->cfg.heartbeat_ms <= 0)
        self->cfg.heartbeat_ms = 1000;
    if (self->cfg.request_timeout_ms <= 0)
        self->cfg.request_timeout_ms = 60000;
    self->store = store;
    self->batch = batch;
    self->loop = loop;
    self->timer = -1;
    if (events)
        self->events = *events;
    self->hosts = zhashx_new ();
    zhashx_set_destructor (self->hosts, s_host_free);
    self->by_route = zhashx_new ();
    self->reqs = zhashx_new ();
    zhashx_set_destructor (self->reqs, s_req_free);
    self->creators = zhashx_new ();
    zhashx_set_destructor (self->creators, s_str_free);

    if (!cfg->endpoint || !cfg->cert_file || !cfg->keys_dir) {
        xs_err_set (err, XS_EINVAL, "agent socket: agent_endpoint, cert and agent_keys_dir "
                                    "are all required");
        goto fail;
    }
    self->keys_dir = xs_strdup (cfg->keys_dir);
    char secret [4096];
    snprintf (secret, sizeof secret, "%s_secret", cfg->cert_file);
    if (access (secret, R_OK) != 0) {
        xs_err_set (err, XS_EINVAL, "catalog certificate %s: cannot read its secret part %s: %s",
                    cfg->cert_file, secret, strerror (errno));
        goto fail;
    }
    self->cert = zcert_load (cfg->cert_file);
    if (!self->cert) {
        xs_err_set (err, XS_EINVAL, "catalog certificate %s: cannot load", cfg->cert_file);
        goto fail;
    }
    if (mkdir (self->keys_dir, 0700) == -1 && errno != EEXIST) {
        xs_err_set (err, XS_EIO, "agent keys directory %s: %s", self->keys_dir, strerror (errno));
        goto fail;
    }
    self->auth = zactor_new (zauth, NULL);
    if (!self->auth || zstr_sendx (self->auth, "CURVE", self->keys_dir, NULL)
    ||  zsock_wait (self->auth) == -1) {
        xs_err_set (err, XS_EINTERNAL, "agent socket: cannot start the ZAP handler");
        goto fail;
    }
    self->router = zsock_new (ZMQ_ROUTER);
    if (!self->router) {
        xs_err_set (err, XS_ETRANSPORT, "agent socket: %s", zmq_strerror (zmq_errno ()));
        goto fail;
    }
    zcert_apply (self->cert, self->router);
    zsock_set_curve_server (self->router, 1);
    zsock_set_zap_domain (self->router, "xensm-agents");
    zsock_set_maxmsgsize (self->router, XS_PROTO_MAX_SIZE + 1024);
    zsock_set_router_mandatory (self->router, 1);
    zsock_set_linger (self->router, 0);
    zsock_set_sndhwm (self->router, 100000);
    zsock_set_rcvhwm (self->router, 100000);

    static unsigned instance;
    char mon [64];
    snprintf (mon, sizeof mon, "inproc://xensm-agentsrv-monitor-%u", ++instance);
    if (zmq_socket_monitor (zsock_resolve (self->router), mon,
                            ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                          | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) == 0) {
        self->monitor = zsock_new_pair (mon);
        if (self->monitor)
            zloop_reader (loop, self->monitor, s_on_monitor, self);
    }
    if (zsock_bind (self->router, "%s", cfg->endpoint) == -1) {
        xs_err_set (err, XS_ETRANSPORT, "agent endpoint %s: cannot bind: %s", cfg->endpoint,
                    zmq_strerror (zmq_errno ()));
        goto fail;
    }
    /* As bound: a port of * or 0 resolved. */
    self->endpoint = zsock_last_endpoint (self->router);
    if (!self->endpoint)
        self->endpoint = xs_strdup (cfg->endpoint);
    if (zloop_reader (loop, self->router, s_on_router, self) == -1) {
        xs_err_set (err, XS_EINTERNAL, "agent socket: cannot poll");
        goto fail;
    }
    self->timer = zloop_timer (loop, (size_t) self->cfg.heartbeat_ms, 0, s_on_tick, self);

    /* Nobody is up until they register again. */
    xs_host_t **hosts = xs_store_host_list (store, NULL, err);
    if (!hosts)
        goto fail;
    for (xs_host_t **h = hosts; *h; h++)
        if ((*h)->state == XS_HOST_UP && s_write (self))
            xs_store_host_set_state (store, (*h)->uuid, XS_HOST_DOWN, NULL);
    xs_host_list_destroy (&hosts);
    return self;

fail:
    xs_agentsrv_destroy (&self);
    return NULL;
}

void
xs_agentsrv_destroy (xs_agentsrv_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_agentsrv_t *self = *self_p;
    if (self->loop) {
        if (self->timer >= 0)
            zloop_timer_end (self->loop, self->timer);
        if (self->router)
            zloop_reader_end (self->loop, self->router);
        if (self->monitor)
            zloop_reader_end (self->loop, self->monitor);
    }
    if (self->router)
        zmq_socket_monitor (zsock_resolve (self->router), NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->router);
    zactor_destroy (&self->auth);
    zcert_destroy (&self->cert);
    zhashx_destroy (&self->by_route);
    zhashx_destroy (&self->hosts);
    zhashx_destroy (&self->reqs);
    zhashx_destroy (&self->creators);
    free (self->keys_dir);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

const char *
xs_agentsrv_endpoint (const xs_agentsrv_t *self)
{
    return self->endpoint;
}

/* =========================================================================
    For the scheduler
   ========================================================================= */

const char *
xs_agentsrv_pick (xs_agentsrv_t *self, const char *zone, int64_t backend_id)
{
    s_host_t *best = NULL;
    for (s_host_t *h = (s_host_t *) zhashx_first (self->hosts); h;
         h = (s_host_t *) zhashx_next (self->hosts)) {
        if (!h->up || !streq (h->zone, zone))
            continue;
        s_hsr_t *hsr = s_hsr_get (h, backend_id, false);
        if (!hsr || !hsr->attached)
            continue;
        if (!best || h->inflight < best->inflight)
            best = h;
    }
    return best ? best->uuid : NULL;
}

bool
xs_agentsrv_can_run (xs_agentsrv_t *self, const char *host_uuid, int64_t backend_id)
{
    s_host_t *h = host_uuid ? (s_host_t *) zhashx_lookup (self->hosts, host_uuid) : NULL;
    if (!h || !h->up)
        return false;
    s_hsr_t *hsr = s_hsr_get (h, backend_id, false);
    return hsr && hsr->attached;
}

int
xs_agentsrv_live_in_zone (xs_agentsrv_t *self, const char *zone)
{
    int n = 0;
    for (s_host_t *h = (s_host_t *) zhashx_first (self->hosts); h;
         h = (s_host_t *) zhashx_next (self->hosts))
        if (h->up && streq (h->zone, zone))
            n++;
    return n;
}

void
xs_agentsrv_sr_info (xs_agentsrv_t *self, int64_t backend_id, xs_agentsrv_sr_t *sr)
{
    memset (sr, 0, sizeof *sr);
    int64_t newest = -1;
    for (s_host_t *h = (s_host_t *) zhashx_first (self->hosts); h;
         h = (s_host_t *) zhashx_next (self->hosts)) {
        if (!h->up)
            continue;
        s_hsr_t *hsr = s_hsr_get (h, backend_id, false);
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

int
xs_agentsrv_request (xs_agentsrv_t *self, const char *host_uuid, const char *request_id,
                     const char *op, json_t **args_p, xs_err_t *err)
{
    s_host_t *h = (s_host_t *) zhashx_lookup (self->hosts, host_uuid);
    if (!s_host_live (h)) {
        json_decref (*args_p);
        *args_p = NULL;
        return xs_err_set (err, XS_ETRANSPORT, "host %s: not live", host_uuid);
    }
    xs_proto_t *req = xs_proto_request_new (request_id, xs_op_from_name (op), args_p);
    if (s_send_host (self, h, &req, err))
        return -1;
    s_req_t *r = xs_zalloc (sizeof *r);
    r->id = xs_strdup (request_id);
    r->host_uuid = xs_strdup (host_uuid);
    r->op = xs_strdup (op);
    r->deadline = zclock_mono () + self->cfg.request_timeout_ms;
    zhashx_update (self->reqs, request_id, r);
    h->inflight++;
    return 0;
}

void
xs_agentsrv_cancel (xs_agentsrv_t *self, const char *request_id)
{
    s_req_t *r = (s_req_t *) zhashx_lookup (self->reqs, request_id);
    if (r) {
        s_host_t *h = (s_host_t *) zhashx_lookup (self->hosts, r->host_uuid);
        if (h && h->inflight > 0)
            h->inflight--;
        zhashx_delete (self->reqs, request_id);
    }
}

void
xs_agentsrv_detach_backend (xs_agentsrv_t *self, int64_t backend_id, const char *sr_uuid)
{
    char k [32];
    s_key_of_id (backend_id, k, sizeof k);
    zhashx_delete (self->creators, k);
    zlist_t *hosts = s_hosts_snapshot (self);
    for (s_host_t *h = (s_host_t *) zlist_first (hosts); h;
         h = (s_host_t *) zlist_next (hosts)) {
        s_hsr_t *hsr = s_hsr_get (h, backend_id, false);
        if (!hsr)
            continue;
        const char *uuid = sr_uuid ? sr_uuid : hsr->sr_uuid;
        hsr->attached = false;
        if (!h->up || !uuid)
            continue;
        json_t *args = json_pack ("{s:I, s:s}", "backend_id", (json_int_t) backend_id,
                                  "sr_uuid", uuid);
        s_internal_request (self, h, "sr_detach", backend_id, &args);
    }
    zlist_destroy (&hosts);
}

/* =========================================================================
    Enrollment and the host list
   ========================================================================= */

/* The Z85 key in a czmq public certificate or a bare key; NULL if none. */
static char *
s_parse_key (const char *text)
{
    char *key = NULL;
    char *copy = xs_strdup (text);
    /* A bare key: 40 Z85 characters, maybe with surrounding blanks. */
    char *start = copy;
    while (*start == ' ' || *start == '\n' || *start == '\t' || *start == '\r')
        start++;
    char *end = start + strlen (start);
    while (end > start && (end [-1] == ' ' || end [-1] == '\n' || end [-1] == '\r'
                           || end [-1] == '\t'))
        *--end = '\0';
    if (strlen (start) == 40 && !strpbrk (start, " \t\r\n")) {
        key = xs_strdup (start);
    }
    else
    if (strstr (copy, "public-key")) {
        zconfig_t *config = zconfig_str_load (copy);
        if (config) {
            char *pub = zconfig_get (config, "curve/public-key", NULL);
            if (pub)
                key = xs_strdup (pub);
            zconfig_destroy (&config);
        }
    }
    free (copy);
    uint8_t raw [32];
    if (key && (strlen (key) != 40 || !zmq_z85_decode (raw, key))) {
        free (key);
        key = NULL;
    }
    return key;
}

char *
xs_agentsrv_enroll (xs_agentsrv_t *self, const char *cert_text, xs_err_t *err)
{
    char *key = cert_text ? s_parse_key (cert_text) : NULL;
    if (!key)
        return xs_err_set (err, XS_EINVAL, "public key: not a czmq public certificate nor a "
                                           "40-character Z85 key"), NULL;
    char path [4096];
    s_key_file (self->keys_dir, key, path, sizeof path);
    uint8_t pub [32], zero [32] = {0};
    zcert_t *cert = zmq_z85_decode (pub, key) ? zcert_new_from (pub, zero) : NULL;
    if (!cert) {
        free (key);
        return xs_err_set (err, XS_EINVAL, "public key: not a valid Z85 key"), NULL;
    }
    zcert_set_meta (cert, "enrolled-by", "xensm-manage host enroll");
    int rc = zcert_save_public (cert, path);
    zcert_destroy (&cert);
    if (rc == -1) {
        xs_err_set (err, XS_EIO, "allow-list %s: cannot write %s: %s", self->keys_dir, path,
                    strerror (errno));
        free (key);
        return NULL;
    }
    xs_notice ("enrolled agent key %s", key);
    return key;
}

int
xs_agentsrv_remove (xs_agentsrv_t *self, const char *who, xs_err_t *err)
{
    char *key = NULL;
    char *uuid = NULL;
    int rc = -1;
    xs_host_t *row = xs_store_host_get (self->store, who, NULL);
    if (row) {
        uuid = xs_strdup (row->uuid);
        key = row->public_key ? xs_strdup (row->public_key) : NULL;
    }
    else {
        key = s_parse_key (who);
        if (!key) {
            xs_err_set (err, XS_ENOTFOUND, "host %s: not found (give a host uuid or a public key)",
                        who);
            goto out;
        }
        /* The host registered with that key, if any. */
        xs_host_t **hosts = xs_store_host_list (self->store, NULL, err);
        if (!hosts)
            goto out;
        for (xs_host_t **h = hosts; *h; h++)
            if ((*h)->public_key && streq ((*h)->public_key, key))
                uuid = xs_strdup ((*h)->uuid);
        xs_host_list_destroy (&hosts);
    }
    bool removed_something = false;
    if (key) {
        char path [4096];
        s_key_file (self->keys_dir, key, path, sizeof path);
        if (unlink (path) == 0)
            removed_something = true;
        else
        if (errno != ENOENT) {
            xs_err_set (err, XS_EIO, "allow-list: cannot remove %s: %s", path, strerror (errno));
            goto out;
        }
    }
    if (uuid) {
        s_host_t *h = (s_host_t *) zhashx_lookup (self->hosts, uuid);
        if (h) {
            s_host_down (self, h, "removed by the admin");
            char rk [64];
            s_route_key (h->routing_id, rk, sizeof rk);
            zhashx_delete (self->by_route, rk);
            zhashx_delete (self->hosts, uuid);
        }
        if (!s_write (self)) {
            xs_err_set (err, XS_EIO, "host %s: catalog store unavailable", uuid);
            goto out;
        }
        if (xs_store_host_remove (self->store, uuid, err))
            goto out;
        removed_something = true;
    }
    if (!removed_something) {
        xs_err_set (err, XS_ENOTFOUND, "host %s: neither enrolled nor registered", who);
        goto out;
    }
    xs_notice ("host %s removed (key %s)", uuid ? uuid : "-", key ? key : "-");
    rc = 0;
out:
    xs_host_destroy (&row);
    free (key);
    free (uuid);
    return rc;
}

json_t *
xs_agentsrv_host_list (xs_agentsrv_t *self, xs_err_t *err)
{
    xs_host_t **hosts = xs_store_host_list (self->store, NULL, err);
    if (!hosts)
        return NULL;
    json_t *list = json_array ();
    zhashx_t *keys = zhashx_new ();
    int64_t now_ms = xs_store_now_ms ();
    int64_t mono = zclock_mono ();
    for (xs_host_t **hp = hosts; *hp; hp++) {
        xs_host_t *row = *hp;
        s_host_t *h = (s_host_t *) zhashx_lookup (self->hosts, row->uuid);
        json_t *srs = json_array ();
        int64_t last_seen = row->last_seen;
        bool up = h && h->up;
        if (h) {
            last_seen = now_ms - (mono - h->last_seen);
            for (s_hsr_t *hsr = (s_hsr_t *) zhashx_first (h->srs); hsr;
                 hsr = (s_hsr_t *) zhashx_next (h->srs))
                if (hsr->attached) {
                    json_t *sr = json_pack ("{s:I, s:s}", "backend_id",
                                            (json_int_t) hsr->backend_id,
                                            "sr_uuid", hsr->sr_uuid ? hsr->sr_uuid : "");
                    /* What the host last reported (absent until a heartbeat has). */
                    if (hsr->has_stats) {
                        json_object_set_new (sr, "physical_size",
                                             json_integer (hsr->physical_size));
                        json_object_set_new (sr, "physical_utilisation",
                                             json_integer (hsr->physical_utilisation));
                        json_object_set_new (sr, "virtual_allocation",
                                             json_integer (hsr->virtual_allocation));
                    }
                    json_array_append_new (srs, sr);
                }
        }
        if (row->public_key)
            zhashx_insert (keys, row->public_key, (void *) 1);
        json_array_append_new (list, json_pack (
            "{s:s, s:s, s:s, s:s, s:I, s:s, s:o}",
            "uuid", row->uuid, "zone", row->zone, "name", row->name ? row->name : "",
            "state", up ? "up" : "down", "last_seen", (json_int_t) last_seen,
            "public_key", row->public_key ? row->public_key : "", "srs", srs));
    }
    xs_host_list_destroy (&hosts);

    /* Enrolled keys that never registered. */
    zdir_t *dir = zdir_new (self->keys_dir, NULL);
    if (dir) {
        zfile_t **files = zdir_flatten (dir);
        for (int i = 0; files && files [i]; i++) {
            zcert_t *cert = zcert_load (zfile_filename (files [i], NULL));
            if (cert && !zhashx_lookup (keys, zcert_public_txt (cert)))
                json_array_append_new (list, json_pack (
                    "{s:s, s:s, s:s, s:s, s:I, s:s, s:[]}", "uuid", "", "zone", "", "name", "",
                    "state", "enrolled", "last_seen", (json_int_t) 0,
                    "public_key", zcert_public_txt (cert), "srs"));
            zcert_destroy (&cert);
        }
        zdir_flatten_free (&files);
        zdir_destroy (&dir);
    }
    zhashx_destroy (&keys);
    return list;
}
