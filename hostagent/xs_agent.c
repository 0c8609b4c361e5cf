/*  xs_agent: the host agent's connection to the catalog: registration,
    heartbeats, requests in and results out. The workers that run the
    requests are xs_agent_workers; the SRs it reports in heartbeats,
    xs_agent_srs. */
#include "xs_agent.h"

#include <errno.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "xs_agent_catalogs.h"
#include "xs_agent_certs.h"
#include "xs_agent_cfg.h"
#include "xs_agent_srs.h"
#include "xs_agent_watch.h"
#include "xs_agent_workers.h"
#include "xs_build_config.h"
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_proto.h"

#define S_MISSED_ACKS_MAX 3
#define S_DEFAULT_HEARTBEAT_MS 1000

typedef enum { S_IDENTIFYING, S_REGISTERING, S_REGISTERED } s_state_t;

struct _xs_agent_t {
    xs_agent_cfg_t cfg;
    char *catalog_list, *zone, *cfg_host_uuid, *cfg_name;
    xs_agent_catalogs_t *catalogs;  /* catalog_endpoint: one, or a list    */
    const char *catalog_endpoint;   /* the current one, borrowed           */
    char *host_uuid, *name;
    zcert_t *cert;
    char *server_key;
    zsock_t *dealer;
    zsock_t *monitor;           /* the dealer's disconnections (a list)  */
    zloop_t *loop;
    int stop_fd;                /* SIGTERM/SIGINT signalfd, or -1 */
    xs_agent_workers_t *workers;
    xs_agent_watch_t *watch;    /* SR stats from xapi's events        */
    xs_agent_srs_t *srs;        /* the attached SRs and their stats */
    s_state_t state;
    unsigned generation;        /* bumped on every new socket     */
    char register_id [XS_PROTO_MAX_ID];
    int backoff_ms;
    int retry_timer;            /* register/identify retry, or -1 */
    int heartbeat_timer;        /* -1 when not registered         */
    int heartbeat_ms;
    int missed_acks;
    int beats;
    json_t *sm_drivers;         /* the pool's SM drivers (host_info), or NULL */
    bool sm_drivers_sent;       /* in a register or heartbeat since learnt    */
    bool host_info_asked;       /* a host_info job is queued or running       */
};

/* Queues a job of the current connection for the workers. */
static void
s_enqueue (xs_agent_t *self, xs_agent_job_t *job)
{
    job->generation = self->generation;
    xs_agent_workers_enqueue (self->workers, &job);
}

/* ---------------------------------------------------------------------
   Sending
   --------------------------------------------------------------------- */

/* Encodes and sends; takes ownership of *msg_p. Drops (and logs) what the
   socket will not take now: the catalog re-sends work it needs. */
static void
s_send (xs_agent_t *self, xs_proto_t **msg_p)
{
    xs_proto_t *msg = *msg_p;
    *msg_p = NULL;
    xs_err_t err;
    size_t size = 0;
    char *text = xs_proto_encode (msg, &size, &err);
    if (!text)
        xs_error ("cannot encode %s: %s", xs_proto_type_name (xs_proto_type (msg)), err.msg);
    else if (self->dealer
    &&  zmq_send (zsock_resolve (self->dealer), text, size, ZMQ_DONTWAIT) == -1)
        xs_warning ("catalog %s: %s %s not sent: %s", self->catalog_endpoint,
                    xs_proto_type_name (xs_proto_type (msg)), xs_proto_id (msg),
                    zmq_strerror (zmq_errno ()));
    free (text);
    xs_proto_destroy (&msg);
}

static void
s_send_heartbeat (xs_agent_t *self)
{
    xs_proto_t *msg = xs_proto_new (XS_PROTO_HEARTBEAT, NULL);
    xs_proto_set_str (msg, "host_uuid", self->host_uuid);
    xs_proto_set_int (msg, "busy", xs_agent_workers_busy (self->workers));
    json_t *srs = xs_agent_srs_heartbeat (self->srs);
    xs_proto_set (msg, "srs", &srs);
    if (self->sm_drivers && !self->sm_drivers_sent) {
        json_t *drivers = json_incref (self->sm_drivers);
        xs_proto_set (msg, "sm_drivers", &drivers);
        self->sm_drivers_sent = true;
    }
    s_send (self, &msg);
    /* Registered without the pool's SM drivers (xapi did not answer at the
       start): asked again every stats_every heartbeats until learnt. */
    if (!self->sm_drivers && !self->host_info_asked
    &&  self->beats % self->cfg.stats_every == 0) {
        self->host_info_asked = true;
        s_enqueue (self, xs_agent_job_new (XS_AGENT_JOB_HOST_INFO, NULL, XS_OP_HOST_INFO, NULL));
    }
}

/* ---------------------------------------------------------------------
   Connection, registration, heartbeats
   --------------------------------------------------------------------- */

static int s_on_dealer (zloop_t *loop, zsock_t *reader, void *arg);
static int s_on_retry (zloop_t *loop, int timer_id, void *arg);
static void s_start_registering (xs_agent_t *self, bool now);

/* The catalogd dropped the connection (died, stopped): with a list, the
   next heartbeat moves on to the next catalogd, without silence_ms. */
static int
s_on_monitor (zloop_t *loop, zsock_t *reader, void *arg)
{
    xs_agent_t *self = (xs_agent_t *) arg;
    zmsg_t *m = zmsg_recv (reader);
    uint16_t event = 0;
    if (m && zframe_size (zmsg_first (m)) >= 2)
        memcpy (&event, zframe_data (zmsg_first (m)), 2);
    zmsg_destroy (&m);
    if (event == ZMQ_EVENT_DISCONNECTED && self->state == S_REGISTERED) {
        xs_warning ("catalog %s: the connection dropped; moving on at the next heartbeat",
                    self->catalog_endpoint);
        self->missed_acks = 1000000;
    }
    return 0;
}

/* Watches the dealer for disconnections, with a list (best effort). */
static void
s_watch (xs_agent_t *self, zsock_t *dealer)
{
    static unsigned instance;
    char mon [64];
    snprintf (mon, sizeof mon, "inproc://xensm-agent-monitor-%u", ++instance);
    if (xs_agent_catalogs_size (self->catalogs) < 2
    ||  zmq_socket_monitor (zsock_resolve (dealer), mon, ZMQ_EVENT_DISCONNECTED) != 0)
        return;
    self->monitor = zsock_new_pair (mon);
    if (self->monitor && zloop_reader (self->loop, self->monitor, s_on_monitor, self))
        zsock_destroy (&self->monitor);
}

/* Stops watching and closes the dealer. */
static void
s_close_dealer (xs_agent_t *self)
{
    if (self->monitor) {
        zloop_reader_end (self->loop, self->monitor);
        zmq_socket_monitor (zsock_resolve (self->dealer), NULL, 0);
        zsock_destroy (&self->monitor);
    }
    if (self->dealer) {
        zloop_reader_end (self->loop, self->dealer);
        zsock_destroy (&self->dealer);
    }
}

static int
s_connect (xs_agent_t *self, xs_err_t *err)
{
    s_close_dealer (self);
    self->generation++;
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    if (!dealer)
        return xs_err_set (err, XS_ETRANSPORT, "catalog %s: cannot create socket: %s",
                           self->catalog_endpoint, zmq_strerror (zmq_errno ()));
    zcert_apply (self->cert, dealer);
    zsock_set_curve_serverkey (dealer, self->server_key);
    zsock_set_maxmsgsize (dealer, XS_PROTO_MAX_SIZE + 1024);
    zsock_set_linger (dealer, 0);
    zsock_set_reconnect_ivl (dealer, self->cfg.backoff_min_ms);
    zsock_set_reconnect_ivl_max (dealer, self->cfg.backoff_max_ms);
    if (zsock_connect (dealer, "%s", self->catalog_endpoint) == -1) {
        zsock_destroy (&dealer);
        return xs_err_set (err, XS_EINVAL, "catalog endpoint %s: cannot connect: %s",
                           self->catalog_endpoint, zmq_strerror (zmq_errno ()));
    }
    if (zloop_reader (self->loop, dealer, s_on_dealer, self) == -1) {
        zsock_destroy (&dealer);
        return xs_err_set (err, XS_EINTERNAL, "catalog %s: cannot poll socket",
                           self->catalog_endpoint);
    }
    self->dealer = dealer;
    s_watch (self, dealer);
    return 0;
}

/* With a list, connects to the next catalogd; true when it moved. */
static bool
s_next_catalog (xs_agent_t *self)
{
    if (!xs_agent_catalogs_next (self->catalogs))
        return false;
    self->catalog_endpoint = xs_agent_catalogs_current (self->catalogs);
    xs_notice ("catalog %s: trying this one (the leader may have moved)", self->catalog_endpoint);
    xs_err_t err;
    if (s_connect (self, &err))
        xs_error ("%s", err.msg);
    return true;
}

static void
s_send_register (xs_agent_t *self)
{
    xs_proto_t *msg = xs_proto_new (XS_PROTO_REGISTER, NULL);
    snprintf (self->register_id, sizeof self->register_id, "%s", xs_proto_id (msg));
    xs_proto_set_str (msg, "host_uuid", self->host_uuid);
    xs_proto_set_str (msg, "zone", self->zone);
    xs_proto_set_str (msg, "name", self->name ? self->name : "");
    xs_proto_set_str (msg, "agent_version", XENSM_VERSION);
    if (self->sm_drivers) {
        json_t *drivers = json_incref (self->sm_drivers);
        xs_proto_set (msg, "sm_drivers", &drivers);
        self->sm_drivers_sent = true;
    }
    xs_info ("catalog %s: registering host %s in zone %s", self->catalog_endpoint,
             self->host_uuid, self->zone);
    s_send (self, &msg);
}

static void
s_stop_timer (xs_agent_t *self, int *timer)
{
    if (*timer >= 0) {
        zloop_timer_end (self->loop, *timer);
        *timer = -1;
    }
}

static void
s_schedule_retry (xs_agent_t *self)
{
    s_stop_timer (self, &self->retry_timer);
    self->retry_timer = zloop_timer (self->loop, (size_t) self->backoff_ms, 1, s_on_retry, self);
    self->backoff_ms *= 2;
    if (self->backoff_ms > self->cfg.backoff_max_ms)
        self->backoff_ms = self->cfg.backoff_max_ms;
}

/* Registers now (or after the current backoff) and keeps retrying with
   backoff until a welcome arrives. */
static void
s_start_registering (xs_agent_t *self, bool now)
{
    s_stop_timer (self, &self->heartbeat_timer);
    self->state = S_REGISTERING;
    self->missed_acks = 0;
    if (now)
        s_send_register (self);
    s_schedule_retry (self);
}

static void
s_identify (xs_agent_t *self)
{
    self->state = S_IDENTIFYING;
    self->host_info_asked = true;
    s_enqueue (self, xs_agent_job_new (XS_AGENT_JOB_HOST_INFO, NULL, XS_OP_HOST_INFO, NULL));
}

static int
s_on_retry (zloop_t *loop, int timer_id, void *arg)
{
    xs_agent_t *self = (xs_agent_t *) arg;
    self->retry_timer = -1;
    if (self->state == S_IDENTIFYING)
        s_identify (self);
    else
    if (self->state == S_REGISTERING) {
        s_next_catalog (self);          /* unanswered: maybe not the leader */
        s_send_register (self);
        s_schedule_retry (self);
    }
    return 0;
}

/* Queues a stats job for one SR (xs_agent_srs_refresh_fn). */
static void
s_refresh_one (void *arg, int64_t backend_id, const char *sr_uuid)
{
    xs_agent_t *self = (xs_agent_t *) arg;
    json_t *args = xs_nn (json_pack ("{s:s}", "sr_uuid", sr_uuid));
    xs_agent_job_t *job = xs_agent_job_new (XS_AGENT_JOB_STATS, NULL, XS_OP_SR_STATS, args);
    json_decref (args);
    job->backend_id = backend_id;
    s_enqueue (self, job);
}

static void
s_refresh_stats (xs_agent_t *self)
{
    xs_agent_srs_refresh (self->srs, s_refresh_one, self);
}

static int
s_on_heartbeat (zloop_t *loop, int timer_id, void *arg)
{
    xs_agent_t *self = (xs_agent_t *) arg;
    /* A catalog that answers late is busy, not gone: reconnecting would lose
       the requests in flight and add a registration to its load. */
    if (self->missed_acks >= S_MISSED_ACKS_MAX
    &&  (int64_t) self->missed_acks * self->heartbeat_ms >= self->cfg.silence_ms) {
        xs_warning ("catalog %s: no answer to %d heartbeats; reconnecting",
                    self->catalog_endpoint, self->missed_acks);
        xs_err_t err;
        if (!s_next_catalog (self) && s_connect (self, &err))
            xs_error ("%s", err.msg);
        self->backoff_ms = self->cfg.backoff_min_ms;
        s_start_registering (self, true);
        return 0;
    }
    if (self->missed_acks > 0)
        xs_debug ("catalog %s: %d heartbeat(s) unanswered", self->catalog_endpoint,
                  self->missed_acks);
    s_send_heartbeat (self);
    self->missed_acks++;
    /* Polled only while xapi's events cannot be followed. */
    if (++self->beats % self->cfg.stats_every == 0 && !xs_agent_watch_live (self->watch))
        s_refresh_stats (self);
    return 0;
}

/* ---------------------------------------------------------------------
   Incoming messages
   --------------------------------------------------------------------- */

static void
s_on_welcome (xs_agent_t *self, xs_proto_t *msg)
{
    /* Any welcome ends the registering phase: a retry may have crossed the
       answer to an earlier register on the wire. Once registered, later
       welcomes (answers to those retries) are stale. */
    if (self->state != S_REGISTERING) {
        xs_debug ("catalog: stale welcome %s ignored", xs_proto_id (msg));
        return;
    }
    s_stop_timer (self, &self->retry_timer);
    self->state = S_REGISTERED;
    self->backoff_ms = self->cfg.backoff_min_ms;
    self->missed_acks = 0;
    self->heartbeat_ms = (int) xs_proto_int (msg, "heartbeat_ms", S_DEFAULT_HEARTBEAT_MS);
    if (self->heartbeat_ms < 10)
        self->heartbeat_ms = 10;
    xs_agent_srs_send_all (self->srs);  /* a (re)started catalog hears every SR at once */
    json_t *backends = xs_proto_get (msg, "backends");
    xs_notice ("catalog %s: registered host %s in zone %s; %zu backend(s)",
               self->catalog_endpoint, self->host_uuid, self->zone, json_array_size (backends));

    size_t i;
    json_t *backend;
    json_array_foreach (backends, i, backend) {
        int64_t backend_id = json_integer_value (json_object_get (backend, "backend_id"));
        bool has_sr = json_is_string (json_object_get (backend, "sr_uuid"));
        if (!has_sr && !json_is_true (json_object_get (backend, "create"))) {
            xs_info ("backend %lld: SR not created yet; waiting for the catalog",
                     (long long) backend_id);
            continue;
        }
        json_t *args = xs_nn (json_pack ("{s:O}", "backend", backend));
        xs_agent_job_t *job = xs_agent_job_new (XS_AGENT_JOB_ATTACH, NULL, XS_OP_SR_ATTACH, args);
        json_decref (args);
        job->backend_id = backend_id;
        s_enqueue (self, job);
    }
    self->heartbeat_timer = zloop_timer (self->loop, (size_t) self->heartbeat_ms, 0,
                                         s_on_heartbeat, self);
    s_send_heartbeat (self);
    self->missed_acks = 1;
    if (self->cfg.ready)
        xs_daemon_ready (self->cfg.ready);      /* once: it closes what it told */
}

static void
s_on_error (xs_agent_t *self, xs_proto_t *msg)
{
    const char *code = xs_proto_str (msg, "code");
    xs_warning ("catalog %s: error %s for message %s: %s", self->catalog_endpoint, code,
                xs_proto_id (msg), xs_proto_str (msg, "message"));
    if (streq (code, XS_PROTO_E_NOT_REGISTERED) && self->state == S_REGISTERED) {
        self->backoff_ms = self->cfg.backoff_min_ms;
        s_start_registering (self, true);
    }
}

static int
s_on_dealer (zloop_t *loop, zsock_t *reader, void *arg)
{
    xs_agent_t *self = (xs_agent_t *) arg;
    zmsg_t *zmsg = zmsg_recv (reader);
    if (!zmsg)
        return 0;
    xs_proto_t *reply = NULL;
    xs_proto_t *msg = NULL;
    if (zmsg_size (zmsg) != 1) {
        xs_warning ("catalog %s: message of %zu frames refused", self->catalog_endpoint,
                    zmsg_size (zmsg));
        reply = xs_proto_error_new ("", XS_PROTO_E_MALFORMED,
                                    "message of %zu frames; the protocol uses one",
                                    zmsg_size (zmsg));
        goto out;
    }
    zframe_t *frame = zmsg_first (zmsg);
    xs_err_t err;
    msg = xs_proto_decode (zframe_data (frame), zframe_size (frame), &reply, &err);
    if (!msg) {
        xs_warning ("catalog %s: bad message: %s", self->catalog_endpoint, err.msg);
        goto out;
    }
    switch (xs_proto_type (msg)) {
        case XS_PROTO_WELCOME:
            s_on_welcome (self, msg);
            break;
        case XS_PROTO_HEARTBEAT_ACK:
            self->missed_acks = 0;
            break;
        case XS_PROTO_REQUEST:
            if (self->state != S_REGISTERED)
                xs_info ("request %s (%s) before welcome; running it anyway",
                         xs_proto_id (msg), xs_op_name (xs_proto_op (msg)));
            s_enqueue (self, xs_agent_job_new (XS_AGENT_JOB_REQUEST, xs_proto_id (msg),
                                               xs_proto_op (msg), xs_proto_args (msg)));
            break;
        case XS_PROTO_ERROR:
            s_on_error (self, msg);
            break;
        default:
            reply = xs_proto_error_new (xs_proto_id (msg), XS_PROTO_E_UNEXPECTED,
                                        "%s is not sent to an agent",
                                        xs_proto_type_name (xs_proto_type (msg)));
            break;
    }
out:
    if (reply)
        s_send (self, &reply);
    xs_proto_destroy (&msg);
    zmsg_destroy (&zmsg);
    return 0;
}

/* ---------------------------------------------------------------------
   Finished jobs
   --------------------------------------------------------------------- */

/* Who this host is: register now, or try again after the backoff. */
static void
s_done_host_info (xs_agent_t *self, bool ok, const json_t *payload, const char *reason)
{
    const char *uuid = json_string_value (json_object_get (payload, "uuid"));
    const char *name = json_string_value (json_object_get (payload, "name_label"));
    json_t *drivers = json_object_get (payload, "sm_drivers");
    self->host_info_asked = false;
    if (ok && json_is_object (drivers)) {
        json_decref (self->sm_drivers);
        self->sm_drivers = json_incref (drivers);
        self->sm_drivers_sent = false;
    }
    if (self->state != S_IDENTIFYING) {
        /* Registering already (a late answer): this only learnt the pool's
           SM drivers (sent with the next heartbeat). */
        if (!ok)
            xs_info ("cannot learn the pool's SM drivers: %s", reason ? reason : "?");
        return;
    }
    if (self->cfg.host_uuid) {
        /* The uuid is configured: register, with the drivers when learnt
           (xapi not answering yet must not keep the agent away). */
        if (!ok)
            xs_warning ("cannot learn the pool's SM drivers: %s; registering without them",
                        reason ? reason : "?");
        if (!self->name && ok && name)
            self->name = xs_strdup (name);
        s_start_registering (self, true);
    }
    else
    if (ok && uuid && *uuid) {
        free (self->host_uuid);
        self->host_uuid = xs_strdup (uuid);
        if (!self->name && name)
            self->name = xs_strdup (name);
        s_start_registering (self, true);
    }
    else {
        xs_warning ("cannot learn this host's uuid from xapi: %s; retrying in %d ms",
                    reason ? reason : "no uuid", self->backoff_ms);
        s_schedule_retry (self);
    }
}

/* A catalog request: the result goes back, and attached or detached SRs
   join or leave the heartbeats. Takes *payload_p. */
static void
s_done_request (xs_agent_t *self, xs_agent_job_t *job, bool ok, json_t **payload_p,
                const char *reason)
{
    if (!ok) {
        xs_err_t err;
        xs_err_set (&err, xs_errkind_from_name (json_string_value (
                        json_object_get (*payload_p, "kind"))),
                    "%s", reason ? reason : "failed");
        xs_info ("request %s (%s) failed: %s", job->id, xs_op_name (job->op), err.msg);
        xs_proto_t *result = xs_proto_result_fail_new (job->id, &err);
        s_send (self, &result);
        return;
    }
    if (job->op == XS_OP_SR_ATTACH || job->op == XS_OP_SR_DETACH) {
        json_t *args = json_loads (job->args, 0, NULL);
        json_t *b = json_object_get (args, "backend");
        int64_t backend_id = json_integer_value (json_object_get (b ? b : args, "backend_id"));
        const char *sr_uuid = json_string_value (json_object_get (*payload_p, "sr_uuid"));
        if (job->op == XS_OP_SR_ATTACH && sr_uuid) {
            xs_agent_srs_put (self->srs, backend_id, sr_uuid);
            s_refresh_stats (self);     /* its first stats: no event may come */
        }
        else
        if (job->op == XS_OP_SR_DETACH)
            xs_agent_srs_remove (self->srs, backend_id);
        json_decref (args);
    }
    xs_proto_t *result = xs_proto_result_ok_new (job->id, payload_p);
    s_send (self, &result);
}

/* A welcome's backend: tell the catalog whether its SR is attached. */
static void
s_done_attach (xs_agent_t *self, xs_agent_job_t *job, bool ok, const json_t *payload,
               const char *reason)
{
    if (job->generation != self->generation)
        return;                 /* for a connection that is gone */
    xs_proto_t *state = xs_proto_new (XS_PROTO_SR_STATE, NULL);
    xs_proto_set_int (state, "backend_id", job->backend_id);
    const char *sr_uuid = json_string_value (json_object_get (payload, "sr_uuid"));
    if (ok && sr_uuid && *sr_uuid) {
        xs_agent_srs_put (self->srs, job->backend_id, sr_uuid);
        xs_proto_set_str (state, "state", "attached");
        xs_proto_set_str (state, "sr_uuid", sr_uuid);
        xs_info ("backend %lld: SR %s attached", (long long) job->backend_id, sr_uuid);
        s_refresh_stats (self);
    }
    else {
        xs_warning ("backend %lld: attach failed: %s", (long long) job->backend_id,
                    reason ? reason : "no sr_uuid in the result");
        xs_proto_set_str (state, "state", "error");
        xs_proto_set_str (state, "error", reason ? reason : "no sr_uuid in the result");
    }
    s_send (self, &state);
}

/* Fresh stats of one SR for the next heartbeats. Takes *payload_p when ok. */
static void
s_done_stats (xs_agent_t *self, xs_agent_job_t *job, bool ok, json_t **payload_p,
              const char *reason)
{
    if (xs_agent_srs_stats_done (self->srs, job->backend_id, ok ? payload_p : NULL) == 0
    &&  !ok)
        xs_debug ("backend %lld: stats: %s", (long long) job->backend_id, reason);
}

/* A worker finished `job` (xs_agent_done_fn): owns job and payload. */
static void
s_on_done (void *arg, xs_agent_job_t *job, bool ok, json_t *payload)
{
    xs_agent_t *self = (xs_agent_t *) arg;
    const char *reason = json_string_value (json_object_get (payload, "message"));
    switch (job->kind) {
        case XS_AGENT_JOB_HOST_INFO:
            s_done_host_info (self, ok, payload, reason);
            break;
        case XS_AGENT_JOB_REQUEST:
            s_done_request (self, job, ok, &payload, reason);
            break;
        case XS_AGENT_JOB_ATTACH:
            s_done_attach (self, job, ok, payload, reason);
            break;
        case XS_AGENT_JOB_STATS:
            s_done_stats (self, job, ok, &payload, reason);
            break;
    }
    json_decref (payload);
    xs_agent_job_destroy (&job);
}

static int
s_on_pipe (zloop_t *loop, zsock_t *reader, void *arg)
{
    char *cmd = zstr_recv (reader);
    bool term = !cmd || streq (cmd, "$TERM");
    zstr_free (&cmd);
    return term ? -1 : 0;
}

/* ---------------------------------------------------------------------
   Construction
   --------------------------------------------------------------------- */

static char *
s_strdup_or_null (const char *s)
{
    return s && *s ? xs_strdup (s) : NULL;
}

/* A copy of cfg with its defaults, owning its strings. */
static void
s_copy_cfg (xs_agent_t *self, const xs_agent_cfg_t *cfg)
{
    self->cfg = *cfg;
    if (self->cfg.workers <= 0)
        self->cfg.workers = 4;
    if (self->cfg.backoff_min_ms <= 0)
        self->cfg.backoff_min_ms = 500;
    if (self->cfg.backoff_max_ms < self->cfg.backoff_min_ms)
        self->cfg.backoff_max_ms = self->cfg.backoff_min_ms > 30000 ? self->cfg.backoff_min_ms
                                                                    : 30000;
    if (self->cfg.stats_every <= 0)
        self->cfg.stats_every = 1;
    if (self->cfg.silence_ms <= 0)
        self->cfg.silence_ms = 10000;
    self->catalog_list = xs_strdup (cfg->catalog_endpoint);
    self->catalogs = xs_agent_catalogs_new (cfg->catalog_endpoint);
    self->catalog_endpoint = xs_agent_catalogs_current (self->catalogs);
    self->zone = xs_strdup (cfg->zone);
    self->cfg_host_uuid = s_strdup_or_null (cfg->host_uuid);
    self->cfg_name = s_strdup_or_null (cfg->name);
    self->cfg.catalog_endpoint = self->catalog_list;
    self->cfg.zone = self->zone;
    self->cfg.host_uuid = self->cfg_host_uuid;
    self->cfg.name = self->cfg_name;
    self->cfg.cert_file = NULL;
    self->cfg.catalog_key_file = NULL;
}

xs_agent_t *
xs_agent_new (const xs_agent_cfg_t *cfg, xs_err_t *err)
{
    if (xs_agent_cfg_check (cfg, err))
        return NULL;
    xs_agent_t *self = xs_zalloc (sizeof *self);
    s_copy_cfg (self, cfg);
    self->stop_fd = -1;
    self->retry_timer = -1;
    self->heartbeat_timer = -1;
    self->backoff_ms = self->cfg.backoff_min_ms;
    if (xs_agent_certs_load (cfg->cert_file, cfg->catalog_key_file, &self->cert,
                             &self->server_key, err))
        goto fail;
    self->srs = xs_agent_srs_new ();
    self->workers = xs_agent_workers_new (self->cfg.workers, self->cfg.executor,
                                          self->cfg.executor_arg, err);
    if (!self->workers)
        goto fail;
    self->watch = xs_agent_watch_new (self->cfg.executor, self->cfg.executor_arg, err);
    if (!self->watch)
        goto fail;
    return self;
fail:
    xs_agent_destroy (&self);
    return NULL;
}

void
xs_agent_destroy (xs_agent_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_agent_t *self = *self_p;
    xs_agent_watch_destroy (&self->watch);
    xs_agent_workers_destroy (&self->workers);
    xs_agent_srs_destroy (&self->srs);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->dealer);
    zloop_destroy (&self->loop);
    zcert_destroy (&self->cert);
    free (self->server_key);
    xs_agent_catalogs_destroy (&self->catalogs);
    free (self->catalog_list);
    free (self->zone);
    free (self->cfg_host_uuid);
    free (self->cfg_name);
    free (self->host_uuid);
    free (self->name);
    json_decref (self->sm_drivers);
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------
   Running
   --------------------------------------------------------------------- */

/* SIGTERM or SIGINT on the stop fd: the loop ends. */
static int
s_on_stop (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    struct signalfd_siginfo info;
    if (read (item->fd, &info, sizeof info) == (ssize_t) sizeof info)
        xs_notice ("signal %u: stopping", (unsigned) info.ssi_signo);
    return -1;
}

int
xs_agent_stop_on (xs_agent_t *self, int fd)
{
    self->stop_fd = fd;
    return 0;
}

/* A parent waiting after xs_daemon_detach learns that start-up is over
   once the loop runs; XENSM_READY_FD waits for the registration. */
static void
s_tell_parent (xs_agent_t *self)
{
    xs_daemon_ready_t *ready = self->cfg.ready;
    if (!ready || ready->parent_fd < 0)
        return;
    xs_daemon_ready_t parent = { .env_fd = -1, .parent_fd = ready->parent_fd };
    xs_daemon_ready (&parent);
    ready->parent_fd = -1;
}

/* Sets up the loop: workers, the actor pipe and the stop fd (each may be
   absent), the socket. */
static int
s_loop_new (xs_agent_t *self, zsock_t *pipe, xs_err_t *err)
{
    self->loop = xs_nn (zloop_new ());
    if (xs_agent_workers_watch (self->workers, self->loop, s_on_done, self)
    ||  xs_agent_watch_start (self->watch, self->loop, xs_agent_srs_on_changes,
                                 self->srs))
        return xs_err_set (err, XS_EINTERNAL, "agent: cannot watch the workers");
    if (pipe && zloop_reader (self->loop, pipe, s_on_pipe, self) == -1)
        return xs_err_set (err, XS_EINTERNAL, "agent: cannot watch the actor pipe");
    zmq_pollitem_t stop = { NULL, self->stop_fd, ZMQ_POLLIN, 0 };
    if (self->stop_fd >= 0 && zloop_poller (self->loop, &stop, s_on_stop, self) == -1)
        return xs_err_set (err, XS_EINTERNAL, "agent: cannot watch for SIGTERM/SIGINT");
    return s_connect (self, err);
}

/* Runs the loop; `pipe` (may be NULL) ends it on $TERM. */
static int
s_run (xs_agent_t *self, zsock_t *pipe, xs_err_t *err)
{
    int rc = -1;
    if (s_loop_new (self, pipe, err))
        goto out;
    if (pipe)
        zsock_signal (pipe, 0);
    s_tell_parent (self);
    self->name = self->cfg.name ? xs_strdup (self->cfg.name) : NULL;
    /* host_info first, its host uuid configured or not: the register
       carries the pool's SM drivers, so that no backend is placed on this
       host before the catalog knows whether it has the driver. */
    if (self->cfg.host_uuid)
        self->host_uuid = xs_strdup (self->cfg.host_uuid);
    s_identify (self);
    zloop_start (self->loop);
    rc = 0;
out:
    s_close_dealer (self);
    xs_agent_workers_unwatch (self->workers, self->loop);
    xs_agent_watch_stop (self->watch);
    zloop_destroy (&self->loop);
    self->retry_timer = self->heartbeat_timer = -1;
    return rc;
}

int
xs_agent_run (xs_agent_t *self, xs_err_t *err)
{
    return s_run (self, NULL, err);
}

void
xs_agent_actor (zsock_t *pipe, void *arg)
{
    xs_err_t err;
    if (s_run ((xs_agent_t *) arg, pipe, &err)) {
        xs_error ("%s", err.msg);
        zsock_signal (pipe, 1);
    }
}
