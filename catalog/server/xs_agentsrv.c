/*  xs_agentsrv: the catalog's side of the agent protocol. */
#include "xs_agentsrv_int.h"
#include "xs_text.h"
#include "xs_connguard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xs_log.h"
#include "xs_mem.h"
#include "xs_proto.h"
#include "xs_zap.h"

#define S_MISSED_MAX 3              /* heartbeats missed before "down"     */
#define S_RECONCILE_EVERY 5         /* heartbeat ticks between reconciles  */
#define S_STATS_STORE_EVERY 10      /* heartbeats between stats writes     */
#define S_DRAIN_MAX 256             /* agent messages handled per wake-up  */
#define S_BACKLOG 4096              /* connections waiting to be accepted  */

static void
s_req_free (void **item_p)
{
    if (item_p && *item_p) {
        s_req_t *r = (s_req_t *) *item_p;
        free (r->id);
        free (r->host_uuid);
        free (r);
        *item_p = NULL;
    }
}

int
xs_agentsrv_open_batch (xs_agentsrv_t *self)
{
    xs_err_t err;
    if (xs_batch_open (self->batch, &err) == 0)
        return 0;
    xs_error ("catalog store: %s", err.msg);
    return -1;
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
s_send_host (xs_agentsrv_t *self, xs_live_host_t *host, xs_proto_t **msg_p, xs_err_t *err)
{
    if (s_send_route (self, host->routing_id, msg_p, err))
        return xs_err_prefix (err, "host %s", host->uuid);
    return 0;
}

/* Tracks request `id` (op) in flight on host h. */
static s_req_t *
s_track (xs_agentsrv_t *self, xs_live_host_t *h, const char *id, xs_op_t op)
{
    s_req_t *r = xs_zalloc (sizeof *r);
    r->id = xs_strdup (id);
    r->host_uuid = xs_strdup (h->uuid);
    r->op = op;
    r->deadline = zclock_mono () + self->cfg.request_timeout_ms;
    zhashx_update (self->reqs, id, r);
    return r;
}

void
xs_agentsrv_send_internal (xs_agentsrv_t *self, xs_live_host_t *host, xs_op_t op,
                           int64_t backend_id, json_t **args_p)
{
    char id [XS_PROTO_MAX_ID];
    snprintf (id, sizeof id, "sr-%llu", (unsigned long long) ++self->seq);
    xs_proto_t *req = xs_proto_request_new (id, op, args_p);
    xs_err_t err;
    if (s_send_host (self, host, &req, &err)) {
        xs_warning ("%s", err.msg);
        return;
    }
    s_req_t *r = s_track (self, host, id, op);
    r->internal = true;
    r->backend_id = backend_id;
}

zhashx_t *
xs_agentsrv_attaches (xs_agentsrv_t *self)
{
    zhashx_t *attaching = xs_nn (zhashx_new ());
    for (s_req_t *r = (s_req_t *) zhashx_first (self->reqs); r;
         r = (s_req_t *) zhashx_next (self->reqs))
        if (r->internal && r->op == XS_OP_SR_ATTACH) {
            char key [128];
            snprintf (key, sizeof key, "%s/%lld", r->host_uuid, (long long) r->backend_id);
            zhashx_update (attaching, key, (void *) 1);
        }
    return attaching;
}

void
xs_agentsrv_capacity (xs_agentsrv_t *self)
{
    if (self->events.on_capacity)
        self->events.on_capacity (self->events.arg);
}

/* =========================================================================
    Hosts going down, requests running late
   ========================================================================= */

/* Drops every request in flight on host `uuid`, reporting external ones lost. */
static void
s_requests_lost (xs_agentsrv_t *self, const char *uuid)
{
    zlist_t *lost = xs_nn (zlist_new ());
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
    xs_live_host_t *h = xs_hosts_get (self->hosts, uuid);
    if (h)
        h->inflight = 0;
}

void
xs_agentsrv_host_down (xs_agentsrv_t *self, xs_live_host_t *h, const char *why)
{
    if (!h->up)
        return;
    h->up = false;
    h->downs++;
    xs_warning ("host %s (%s, zone %s) is down: %s", h->uuid, h->name ? h->name : "",
                h->zone, why);
    if (xs_agentsrv_open_batch (self) == 0) {
        xs_err_t err;
        if (xs_store_host_set_state (self->store, h->uuid, XS_HOST_DOWN, &err))
            xs_warning ("%s", err.msg);
    }
    char *uuid = xs_strdup (h->uuid);
    s_requests_lost (self, uuid);
    free (uuid);
}

/* Hosts silent for S_MISSED_MAX heartbeats are down: only the silent
   ones are walked (xs_hosts_silent), not every host. */
static void
s_mark_silent_down (xs_agentsrv_t *self, int64_t now)
{
    /* Collect first: s_host_down calls back into the jobs, which look
       hosts up themselves. */
    zlist_t *down = xs_hosts_silent (self->hosts,
                                     now - (int64_t) S_MISSED_MAX * self->cfg.heartbeat_ms);
    for (xs_live_host_t *h = (xs_live_host_t *) zlist_first (down); h;
         h = (xs_live_host_t *) zlist_next (down)) {
        char why [64];
        snprintf (why, sizeof why, "missed 3 heartbeats (silent for %lld ms)",
                  (long long) (now - h->last_seen));
        xs_agentsrv_host_down (self, h, why);
    }
    zlist_destroy (&down);
}

/* Requests past their deadline fail. */
static void
s_fail_late (xs_agentsrv_t *self, int64_t now)
{
    zlist_t *late = xs_nn (zlist_new ());
    zlist_autofree (late);
    for (s_req_t *r = (s_req_t *) zhashx_first (self->reqs); r;
         r = (s_req_t *) zhashx_next (self->reqs))
        if (r->deadline < now)
            zlist_append (late, r->id);
    for (char *id = (char *) zlist_first (late); id; id = (char *) zlist_next (late)) {
        s_req_t *r = (s_req_t *) zhashx_lookup (self->reqs, id);
        xs_err_t err;
        xs_err_set (&err, XS_ETRANSPORT, "%s on host %s: no result after %d ms",
                    xs_op_name (r->op), r->host_uuid, self->cfg.request_timeout_ms);
        char *host_uuid = xs_strdup (r->host_uuid);
        bool internal = r->internal;
        xs_live_host_t *h = xs_hosts_get (self->hosts, host_uuid);
        if (h && h->inflight > 0)
            h->inflight--;
        zhashx_delete (self->reqs, id);
        if (!internal && self->events.on_result)
            self->events.on_result (self->events.arg, id, host_uuid, NULL, &err);
        free (host_uuid);
    }
    zlist_destroy (&late);
}

/* A late tick means this loop was not listening (stopped, starved or
   busy): every host gets a full window from now before its silence
   counts. */
static void
s_forgive_late_tick (xs_agentsrv_t *self, int64_t now)
{
    if (self->last_tick && now - self->last_tick > 2 * (int64_t) self->cfg.heartbeat_ms)
        xs_hosts_forgive (self->hosts, now - self->cfg.heartbeat_ms);
    self->last_tick = now;
}

static int s_drain (xs_agentsrv_t *self);

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    xs_agentsrv_t *self = (xs_agentsrv_t *) arg;
    /* Heartbeats already queued on the socket count: when this loop was
       busy (a burst of admin requests, a slow commit), the agents were not
       silent, the catalog was. As many as a heartbeat of every host: a
       fixed 4,096 left 10,000 hosts' queued heartbeats unread, and
       thousands of hosts were marked down (and up again) at once. */
    int rounds = 16 + (int) (xs_hosts_count (self->hosts) / S_DRAIN_MAX);
    for (int round = 0; round < rounds && s_drain (self) == S_DRAIN_MAX; round++)
        ;
    int64_t now = zclock_mono ();
    s_forgive_late_tick (self, now);
    s_mark_silent_down (self, now);
    s_fail_late (self, now);
    if (++self->ticks % S_RECONCILE_EVERY == 0)
        xs_reconcile_run (self->reconcile);
    return 0;
}

/* =========================================================================
    Incoming messages
   ========================================================================= */

static void
s_reply_error (xs_agentsrv_t *self, zframe_t *route, const char *id, const char *code,
               const char *text)
{
    xs_proto_t *e = xs_proto_error_new (id, code, "%s", text);
    s_send_route (self, route, &e, NULL);
}

/* Whether host `uuid` with session key `key` may register: the key is in
   the allow-list now (zauth checked it at the handshake; a host removed
   since keeps its session) and its binding holds
   (xs_agentsrv_binding_refusal).
   Refuses (answering route) when not. */
static bool
s_may_register (xs_agentsrv_t *self, zframe_t *route, const char *key, const char *uuid,
                const char *zone, xs_proto_t *msg)
{
    char text [XS_ERR_MSG_MAX];
    xs_err_t err = { 0 };
    if (!xs_allowlist_admits (self->allowlist, key)) {
        xs_warning ("host %s: register refused: its key %s is no longer in the allow-list "
                    "(host removed)", uuid, key);
        snprintf (text, sizeof text, "host %s: this agent's key is not enrolled", uuid);
        s_reply_error (self, route, xs_proto_id (msg), XS_PROTO_E_REFUSED, text);
        return false;
    }
    const char *why = xs_agentsrv_binding_refusal (self, key, uuid, zone, text, sizeof text,
                                                   &err);
    if (why) {
        bool internal = err.kind == XS_EIO || err.kind == XS_EINTERNAL;
        xs_warning ("register refused (key %s): %s", key, why);
        s_reply_error (self, route, xs_proto_id (msg),
                       internal ? XS_PROTO_E_INTERNAL : XS_PROTO_E_REFUSED, why);
        return false;
    }
    return true;
}

static void
s_on_register (xs_agentsrv_t *self, zframe_t *route, const char *key, xs_proto_t *msg)
{
    xs_err_t err;
    const char *uuid = xs_proto_str (msg, "host_uuid");
    const char *zone = xs_proto_str (msg, "zone");
    const char *name = xs_proto_str (msg, "name");
    if (!s_may_register (self, route, key, uuid, zone, msg))
        return;
    /* Registered again (reconnect, restart of the agent): in-flight work
       on the old session is lost. */
    xs_live_host_t *old = xs_hosts_get (self->hosts, uuid);
    if (old && old->up && !zframe_eq (old->routing_id, route))
        s_requests_lost (self, uuid);
    xs_live_host_t *h = xs_hosts_register (self->hosts, uuid, zone, name, key, route);
    zhashx_update (self->key_hosts, key, xs_strdup (uuid));
    xs_agentsrv_sm_drivers (self, h, xs_proto_get (msg, "sm_drivers"));
    if (xs_agentsrv_open_batch (self) == 0) {
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
    json_t *backends = xs_reconcile_welcome (self->reconcile, h);
    xs_proto_set (w, "backends", &backends);
    if (s_send_host (self, h, &w, &err))
        xs_warning ("%s", err.msg);
    xs_agentsrv_capacity (self);
}

static void
s_on_heartbeat (xs_agentsrv_t *self, xs_live_host_t *h, xs_proto_t *msg)
{
    h->busy = (int) xs_proto_int (msg, "busy", 0);
    bool came_back = !h->up;
    if (came_back) {
        h->up = true;
        xs_notice ("host %s is up again", h->uuid);
        if (xs_agentsrv_open_batch (self) == 0)
            xs_store_host_set_state (self->store, h->uuid, XS_HOST_UP, NULL);
    }
    xs_hosts_seen (self->hosts, h);
    bool store_stats = ++h->beats % S_STATS_STORE_EVERY == 1;
    size_t i;
    json_t *sr;
    json_array_foreach (xs_proto_get (msg, "srs"), i, sr) {
        int64_t backend_id = json_integer_value (json_object_get (sr, "backend_id"));
        xs_live_sr_t *hsr = xs_live_sr (h, backend_id, false);
        if (!hsr || !hsr->attached)
            continue;           /* only SRs the catalog saw attached */
        hsr->has_stats = true;
        hsr->physical_size = json_integer_value (json_object_get (sr, "physical_size"));
        hsr->physical_utilisation = json_integer_value (json_object_get (sr, "physical_utilisation"));
        hsr->virtual_allocation = json_integer_value (json_object_get (sr, "virtual_allocation"));
        json_decref (hsr->capabilities);
        hsr->capabilities = json_incref (json_object_get (sr, "capabilities"));
        hsr->at = zclock_mono ();
    }
    if (store_stats && xs_agentsrv_open_batch (self) == 0)
        xs_agentsrv_store_stats (self, h);
    if (xs_agentsrv_sm_drivers (self, h, xs_proto_get (msg, "sm_drivers")))
        xs_reconcile_run (self->reconcile);
    xs_proto_t *ack = xs_proto_new (XS_PROTO_HEARTBEAT_ACK, xs_proto_id (msg));
    s_send_host (self, h, &ack, NULL);
    if (came_back)
        xs_agentsrv_capacity (self);
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
    xs_live_host_t *h = xs_hosts_get (self->hosts, r->host_uuid);
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
        if (h && r->op == XS_OP_SR_ATTACH)
            xs_reconcile_sr_attached (self->reconcile, h, r->backend_id,
                                      json_string_value (json_object_get (value, "sr_uuid")),
                                      ok ? NULL : err.msg);
        else
        if (h && r->op == XS_OP_SR_DETACH && ok)
            xs_live_sr_forget (h, r->backend_id);
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

/* sr_state from host h: an SR attached, failed or detached by itself. */
static xs_proto_t *
s_on_sr_state (xs_agentsrv_t *self, xs_live_host_t *h, xs_proto_t *msg)
{
    xs_hosts_seen (self->hosts, h);
    const char *state = xs_proto_str (msg, "state");
    int64_t backend_id = xs_proto_int (msg, "backend_id", 0);
    if (streq (state, "attached"))
        xs_reconcile_sr_attached (self->reconcile, h, backend_id,
                                  xs_proto_str (msg, "sr_uuid"), NULL);
    else
    if (streq (state, "error"))
        xs_reconcile_sr_attached (self->reconcile, h, backend_id, NULL,
                                  xs_proto_str (msg, "error") ? xs_proto_str (msg, "error")
                                                              : "failed");
    else
    if (streq (state, "detached"))
        xs_live_sr_forget (h, backend_id);
    else
        return xs_proto_error_new (xs_proto_id (msg), XS_PROTO_E_MALFORMED,
                                   "sr_state: unknown state %.32s", state);
    return NULL;
}

/* Serves one decoded message from `route` (session key `key`); returns the
   reply to send, or NULL. */
static xs_proto_t *
s_dispatch (xs_agentsrv_t *self, zframe_t *route, const char *key, xs_proto_t *msg)
{
    xs_live_host_t *h = xs_hosts_by_route (self->hosts, route);
    xs_proto_type_t type = xs_proto_type (msg);
    switch (type) {
        case XS_PROTO_REGISTER:
            s_on_register (self, route, key, msg);
            return NULL;
        case XS_PROTO_HEARTBEAT:
        case XS_PROTO_SR_STATE:
            if (!h || (type == XS_PROTO_HEARTBEAT
                       && !streq (h->uuid, xs_proto_str (msg, "host_uuid"))))
                return xs_proto_error_new (xs_proto_id (msg), XS_PROTO_E_NOT_REGISTERED,
                                           "register first");
            if (type == XS_PROTO_SR_STATE)
                return s_on_sr_state (self, h, msg);
            s_on_heartbeat (self, h, msg);
            return NULL;
        case XS_PROTO_RESULT:
            s_on_result (self, key, msg);
            return NULL;
        case XS_PROTO_ERROR:
            xs_warning ("agent %s: error %s for message %s: %s", h ? h->uuid : key,
                        xs_proto_str (msg, "code"), xs_proto_id (msg),
                        xs_proto_str (msg, "message"));
            return NULL;
        default:
            return xs_proto_error_new (xs_proto_id (msg), XS_PROTO_E_UNEXPECTED,
                                       "%s is not sent to the catalog",
                                       xs_proto_type_name (type));
    }
}

/* Receives and serves one message; false when none was waiting. */
static bool
s_serve_one (xs_agentsrv_t *self, zsock_t *reader)
{
    zmsg_t *zmsg = zmsg_recv_nowait (reader);
    if (!zmsg)
        return false;
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
        goto out;
    }
    zframe_t *body = zmsg_first (zmsg);
    const char *key = zframe_meta (body, "User-Id");
    xs_err_t err;
    msg = xs_proto_decode (zframe_data (body), zframe_size (body), &reply, &err);
    if (msg)
        reply = s_dispatch (self, route, key ? key : "", msg);
    else
        xs_warning ("agent socket: bad message from %s: %s", key ? key : "?", err.msg);
out:
    if (reply && route)
        s_send_route (self, route, &reply, NULL);
    xs_proto_destroy (&reply);
    xs_proto_destroy (&msg);
    zframe_destroy (&route);
    zmsg_destroy (&zmsg);
    return true;
}

/* Handles what is ready on the agent socket, at most S_DRAIN_MAX
   messages; returns how many were handled. */
static int
s_drain (xs_agentsrv_t *self)
{
    int n = 0;
    while (n < S_DRAIN_MAX && s_serve_one (self, self->router))
        n++;
    return n;
}

static int
s_on_router (zloop_t *loop, zsock_t *reader, void *arg)
{
    /* Drain what is ready (bounded), so one commit covers a burst. */
    s_drain ((xs_agentsrv_t *) arg);
    return 0;
}

/* =========================================================================
    Construction
   ========================================================================= */

/* Loads the catalog certificate (both parts must be readable). */
static int
s_load_cert (xs_agentsrv_t *self, const char *cert_file, xs_err_t *err)
{
    char secret [4096];
    snprintf (secret, sizeof secret, "%s_secret", cert_file);
    if (access (secret, R_OK) != 0)
        return xs_err_set (err, XS_EINVAL, "catalog certificate %s: cannot read its secret "
                           "part %s: %s", cert_file, secret, strerror (errno));
    self->cert = zcert_load (cert_file);
    if (!self->cert)
        return xs_err_set (err, XS_EINVAL, "catalog certificate %s: cannot load", cert_file);
    return 0;
}

/* The ZAP handler admitting the keys of the allow-list directory
   (xs_zap), and the CURVE server ROUTER it guards. */
static int
s_start_router (xs_agentsrv_t *self, xs_err_t *err)
{
    xs_zap_args_t zap = {.dir = xs_allowlist_dir (self->allowlist)};
    self->auth = zactor_new (xs_zap_actor, &zap);
    if (!self->auth || !zap.ok) {
        zactor_destroy (&self->auth);
        return xs_err_set (err, XS_EINTERNAL, "agent socket: cannot start the ZAP handler");
    }
    self->router = zsock_new (ZMQ_ROUTER);
    if (!self->router)
        return xs_err_set (err, XS_ETRANSPORT, "agent socket: %s", zmq_strerror (zmq_errno ()));
    zcert_apply (self->cert, self->router);
    zsock_set_curve_server (self->router, 1);
    zsock_set_zap_domain (self->router, "xensm-agents");
    /* A handshake that finds no ZAP handler fails instead of passing
       unauthenticated (xs_zap rebinds its socket now and then). */
    int enforce = 1;
    if (zmq_setsockopt (zsock_resolve (self->router), XS_ZAP_ENFORCE_DOMAIN, &enforce,
                        sizeof enforce) == -1)
        return xs_err_set (err, XS_ETRANSPORT, "agent socket: ZAP_ENFORCE_DOMAIN: %s",
                           zmq_strerror (zmq_errno ()));
    zsock_set_maxmsgsize (self->router, XS_PROTO_MAX_SIZE + 1024);
    zsock_set_router_mandatory (self->router, 1);
    zsock_set_linger (self->router, 0);
    zsock_set_sndhwm (self->router, 100000);
    zsock_set_rcvhwm (self->router, 100000);
    /* libzmq accepts one connection each time its I/O thread gets to the
       listener, rarely among thousands of busy connections: with the
       default backlog of 100, agents starting together overflowed the
       accept queue and waited out TCP's SYN retries (1, 3, 7, 15 s). The
       kernel caps it at net.core.somaxconn. */
    zsock_set_backlog (self->router, S_BACKLOG);
    xs_connguard_prepare (self->router);
    return 0;
}

/* Logs failed handshakes and sheds connections before they use up the
   descriptors (xs_connguard). Best effort: unguarded when the monitor
   cannot be made. */
static void
s_watch_connections (xs_agentsrv_t *self)
{
    self->guard = xs_connguard_new (self->router, self->loop);
}

/* Binds the endpoint and joins the loop. */
static int
s_bind (xs_agentsrv_t *self, const char *endpoint, xs_err_t *err)
{
    if (zsock_bind (self->router, "%s", endpoint) == -1)
        return xs_err_set (err, XS_ETRANSPORT, "agent endpoint %s: cannot bind: %s", endpoint,
                           zmq_strerror (zmq_errno ()));
    /* As bound: a port of * or 0 resolved. */
    self->endpoint = zsock_last_endpoint (self->router);
    if (!self->endpoint)
        self->endpoint = xs_strdup (endpoint);
    xs_connguard_bound (self->guard, self->endpoint);
    if (zloop_reader (self->loop, self->router, s_on_router, self) == -1)
        return xs_err_set (err, XS_EINTERNAL, "agent socket: cannot poll");
    self->timer = zloop_timer (self->loop, (size_t) self->cfg.heartbeat_ms, 0, s_on_tick, self);
    /* The first tick is judged late from here: a catalog stalled before it
       (stopped, starved) must forgive too. With 0, hosts registered in the
       first heartbeat period were marked down by the tick after the stall,
       before the I/O thread had handed their queued heartbeats over. */
    self->last_tick = zclock_mono ();
    return 0;
}

/* Nobody is up until they register again. */
static int
s_mark_stored_hosts_down (xs_agentsrv_t *self, xs_err_t *err)
{
    xs_host_t **hosts = xs_store_host_list (self->store, NULL, err);
    if (!hosts)
        return -1;
    for (xs_host_t **h = hosts; *h; h++)
        if ((*h)->state == XS_HOST_UP && xs_agentsrv_open_batch (self) == 0)
            xs_store_host_set_state (self->store, (*h)->uuid, XS_HOST_DOWN, NULL);
    xs_host_list_destroy (&hosts);
    return 0;
}

xs_agentsrv_t *
xs_agentsrv_new (const xs_agentsrv_cfg_t *cfg, const xs_agentsrv_deps_t *deps, xs_err_t *err)
{
    xs_agentsrv_t *self = xs_zalloc (sizeof *self);
    self->cfg = *cfg;
    self->cfg.endpoint = NULL;
    self->cfg.cert_file = NULL;
    if (self->cfg.heartbeat_ms <= 0)
        self->cfg.heartbeat_ms = 1000;
    if (self->cfg.request_timeout_ms <= 0)
        self->cfg.request_timeout_ms = 60000;
    self->store = deps->store;
    self->batch = deps->batch;
    self->loop = deps->loop;
    self->hosts = deps->hosts;
    self->allowlist = deps->allowlist;
    self->timer = -1;
    self->reqs = xs_nn (zhashx_new ());
    zhashx_set_destructor (self->reqs, s_req_free);
    self->reconcile = xs_reconcile_new (self->store, self->batch, self->hosts, self,
                                        self->cfg.heartbeat_ms, self->cfg.request_timeout_ms);
    if (!cfg->endpoint || !cfg->cert_file) {
        xs_err_set (err, XS_EINVAL, "agent socket: agent_endpoint and cert are both required");
        goto fail;
    }
    if (s_load_cert (self, cfg->cert_file, err) || s_start_router (self, err))
        goto fail;
    s_watch_connections (self);
    if (s_bind (self, cfg->endpoint, err) || s_mark_stored_hosts_down (self, err))
        goto fail;
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
    /* First, while the socket is open: its flush may still send. */
    xs_reconcile_destroy (&self->reconcile);
    if (self->timer >= 0)
        zloop_timer_end (self->loop, self->timer);
    if (self->router)
        zloop_reader_end (self->loop, self->router);
    xs_connguard_destroy (&self->guard);
    zsock_destroy (&self->router);
    zactor_destroy (&self->auth);
    zcert_destroy (&self->cert);
    zhashx_destroy (&self->reqs);
    zhashx_destroy (&self->key_hosts);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

void
xs_agentsrv_set_events (xs_agentsrv_t *self, const xs_agentsrv_events_t *events)
{
    if (events)
        self->events = *events;
    else
        memset (&self->events, 0, sizeof self->events);
}

const char *
xs_agentsrv_endpoint (const xs_agentsrv_t *self)
{
    return self->endpoint;
}

/* =========================================================================
    For the jobs and the admin
   ========================================================================= */

int
xs_agentsrv_request (xs_agentsrv_t *self, const char *host_uuid, const char *request_id,
                     xs_op_t op, json_t **args_p, xs_err_t *err)
{
    xs_live_host_t *h = xs_hosts_get (self->hosts, host_uuid);
    if (!h || !h->up) {
        json_decref (*args_p);
        *args_p = NULL;
        return xs_err_set (err, XS_ETRANSPORT, "host %s: not live", host_uuid);
    }
    xs_proto_t *req = xs_proto_request_new (request_id, op, args_p);
    if (s_send_host (self, h, &req, err))
        return -1;
    s_track (self, h, request_id, op);
    h->inflight++;
    return 0;
}

void
xs_agentsrv_cancel (xs_agentsrv_t *self, const char *request_id)
{
    s_req_t *r = (s_req_t *) zhashx_lookup (self->reqs, request_id);
    if (r) {
        xs_live_host_t *h = xs_hosts_get (self->hosts, r->host_uuid);
        if (h && h->inflight > 0)
            h->inflight--;
        zhashx_delete (self->reqs, request_id);
    }
}

void
xs_agentsrv_reconcile (xs_agentsrv_t *self)
{
    xs_reconcile_run (self->reconcile);
}

void
xs_agentsrv_detach_backend (xs_agentsrv_t *self, int64_t backend_id, const char *sr_uuid)
{
    xs_reconcile_detach_backend (self->reconcile, backend_id, sr_uuid);
}
