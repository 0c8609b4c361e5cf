/*  xs_agent: the host agent's message loop, registration, heartbeats and
    worker threads. */
#include "xs_agent.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xs_log.h"
#include "xs_mem.h"
#include "xs_proto.h"

#define S_MISSED_ACKS_MAX 3
#define S_DEFAULT_HEARTBEAT_MS 1000

typedef enum {
    S_JOB_HOST_INFO,        /* who am I: before registering            */
    S_JOB_REQUEST,          /* a catalog request: answered by a result */
    S_JOB_ATTACH,           /* a welcome backend: answered by sr_state */
    S_JOB_STATS             /* refresh one SR's stats for heartbeats   */
} s_jobkind_t;

typedef struct {
    s_jobkind_t kind;
    char *id;               /* request id (S_JOB_REQUEST)              */
    xs_op_t op;
    char *args;             /* JSON text                               */
    int64_t backend_id;     /* S_JOB_ATTACH, S_JOB_STATS               */
    char *volume;           /* the volume a request makes or removes   */
    unsigned generation;    /* connection generation it belongs to     */
} s_job_t;

typedef struct {
    zactor_t *actor;
    s_job_t *job;           /* running job or NULL when idle           */
} s_worker_t;

typedef struct {
    int64_t backend_id;
    char *sr_uuid;
    json_t *stats;          /* last sr_stats value, or NULL            */
    json_t *sent;           /* stats last sent in a heartbeat, or NULL */
    bool refreshing;
} s_sr_t;

/* Heartbeats carry the SRs whose stats changed since they were last sent,
   and every SR on every S_FULL_HEARTBEAT-th one (and the first after a
   welcome): a catalog with a thousand backends does not decode a thousand
   unchanged entries per host and second. */
#define S_FULL_HEARTBEAT 10

typedef struct {
    const xs_executor_t *executor;
    void *executor_arg;
} s_worker_args_t;

typedef enum { S_IDENTIFYING, S_REGISTERING, S_REGISTERED } s_state_t;

struct _xs_agent_t {
    xs_agent_cfg_t cfg;
    char *catalog_endpoint, *zone, *cfg_host_uuid, *cfg_name;
    char *host_uuid, *name;
    zcert_t *cert;
    char *server_key;
    zsock_t *dealer;
    zloop_t *loop;
    s_worker_t *workers;
    int nworkers;
    s_worker_args_t wargs;      /* shared by the workers (read only) */
    zlist_t *queue;             /* s_job_t * waiting for a worker */
    zhashx_t *srs;              /* "backend_id" -> s_sr_t *       */
    s_state_t state;
    unsigned generation;        /* bumped on every new socket     */
    char register_id [XS_PROTO_MAX_ID];
    int backoff_ms;
    int retry_timer;            /* register/identify retry, or -1 */
    int heartbeat_timer;        /* -1 when not registered         */
    int heartbeat_ms;
    unsigned heartbeats;    /* sent since the last welcome             */
    int missed_acks;
    int beats;
    int busy;                   /* requests queued or running     */
    bool ready_sent;
};

/* =========================================================================
    Jobs and workers
   ========================================================================= */

static void
s_job_destroy (s_job_t **job_p)
{
    if (job_p && *job_p) {
        free ((*job_p)->id);
        free ((*job_p)->args);
        free ((*job_p)->volume);
        free (*job_p);
        *job_p = NULL;
    }
}

static s_job_t *
s_job_new (s_jobkind_t kind, const char *id, xs_op_t op, const json_t *args)
{
    s_job_t *job = xs_zalloc (sizeof *job);
    job->kind = kind;
    job->id = xs_strdup (id);
    job->op = op;
    job->args = args ? xs_nn (json_dumps (args, JSON_COMPACT)) : xs_strdup ("{}");
    if (kind == S_JOB_REQUEST) {
        /* The volume it makes (a snapshot's or clone's new one) or removes. */
        const char *volume = json_string_value (json_object_get (args, "new_volume_uuid"));
        if (!volume)
            volume = json_string_value (json_object_get (args, "volume_uuid"));
        job->volume = xs_strdup (volume);
    }
    return job;
}

/* Worker thread: runs one job at a time through the executor. */

static void
s_worker_actor (zsock_t *pipe, void *arg)
{
    s_worker_args_t *wa = (s_worker_args_t *) arg;
    xs_err_t err;
    void *ctx = wa->executor->open (wa->executor_arg, &err);
    if (!ctx)
        xs_warning ("worker: %s executor not ready yet: %s", wa->executor->name, err.msg);
    zsock_signal (pipe, 0);

    while (true) {
        char *cmd = NULL, *args_text = NULL;
        int op_number = XS_OP_NONE;
        if (zsock_recv (pipe, "sis", &cmd, &op_number, &args_text) == -1 || !cmd
        ||  streq (cmd, "$TERM")) {
            zstr_free (&cmd);
            zstr_free (&args_text);
            break;
        }
        xs_op_t op = (xs_op_t) op_number;
        json_t *value = NULL;
        xs_err_clear (&err);
        if (!ctx)
            ctx = wa->executor->open (wa->executor_arg, &err);
        if (ctx) {
            json_t *args = json_loads (args_text ? args_text : "{}", 0, NULL);
            value = wa->executor->run (ctx, op, args, &err);
            json_decref (args);
            if (!value && err.kind == XS_OK)
                xs_err_set (&err, XS_EINTERNAL, "%s: executor gave no result", xs_op_name (op));
        }
        char *text = NULL;
        if (value && json_is_object (value))
            text = json_dumps (value, JSON_COMPACT);
        else {
            if (value)
                xs_err_set (&err, XS_EINTERNAL, "%s: executor result is not an object",
                            xs_op_name (op));
            json_t *e = json_pack ("{s:s, s:s}", "kind", xs_errkind_name (err.kind),
                                   "message", err.msg);
            if (!e)
                e = json_pack ("{s:s, s:s}", "kind", xs_errkind_name (err.kind),
                               "message", "failed (message not UTF-8)");
            text = json_dumps (e, JSON_COMPACT);
            json_decref (e);
            json_decref (value);
            value = NULL;
        }
        zsock_send (pipe, "is", value ? 1 : 0, text);
        free (text);
        json_decref (value);
        zstr_free (&cmd);
        zstr_free (&args_text);
    }
    wa->executor->close (&ctx);
}

/* Whether a worker is running a request for `volume`. */
static bool
s_volume_busy (xs_agent_t *self, const char *volume)
{
    for (int i = 0; volume && i < self->nworkers; i++) {
        s_job_t *job = self->workers [i].job;
        if (job && job->volume && streq (job->volume, volume))
            return true;
    }
    return false;
}

/* Hands queued jobs to idle workers, in order, except that requests for a
   volume wait while another request for it runs: a catalog that restarted
   sends its unfinished jobs again, and the second vdi_create must find the
   VDI the first one made (it is idempotent) rather than race it. */
static void
s_dispatch (xs_agent_t *self)
{
    for (int i = 0; i < self->nworkers && zlist_size (self->queue) > 0; i++) {
        s_worker_t *w = &self->workers [i];
        if (w->job)
            continue;
        s_job_t *next = NULL;
        for (s_job_t *job = (s_job_t *) zlist_first (self->queue); job && !next;
             job = (s_job_t *) zlist_next (self->queue))
            if (!s_volume_busy (self, job->volume))
                next = job;
        if (!next)
            return;
        zlist_remove (self->queue, next);
        w->job = next;
        zsock_send (w->actor, "sis", "JOB", (int) w->job->op, w->job->args);
    }
}

static void
s_enqueue (xs_agent_t *self, s_job_t *job)
{
    job->generation = self->generation;
    if (job->kind == S_JOB_REQUEST)
        self->busy++;
    zlist_append (self->queue, job);
    s_dispatch (self);
}

/* =========================================================================
    Sending
   ========================================================================= */

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

static json_t *
s_heartbeat_srs (xs_agent_t *self)
{
    json_t *srs = json_array ();
    bool full = self->heartbeats++ % S_FULL_HEARTBEAT == 0;
    for (s_sr_t *sr = (s_sr_t *) zhashx_first (self->srs); sr;
         sr = (s_sr_t *) zhashx_next (self->srs)) {
        if (!sr->stats)
            continue;
        if (!full && sr->sent && json_equal (sr->sent, sr->stats))
            continue;
        json_decref (sr->sent);
        sr->sent = json_incref (sr->stats);
        json_t *entry = json_deep_copy (sr->stats);
        json_object_set_new (entry, "backend_id", json_integer (sr->backend_id));
        json_object_set_new (entry, "sr_uuid", json_string (sr->sr_uuid));
        if (!json_is_array (json_object_get (entry, "capabilities")))
            json_object_set_new (entry, "capabilities", json_array ());
        json_array_append_new (srs, entry);
    }
    return srs;
}

static void
s_send_heartbeat (xs_agent_t *self)
{
    xs_proto_t *msg = xs_proto_new (XS_PROTO_HEARTBEAT, NULL);
    xs_proto_set_str (msg, "host_uuid", self->host_uuid);
    xs_proto_set_int (msg, "busy", self->busy);
    json_t *srs = s_heartbeat_srs (self);
    xs_proto_set (msg, "srs", &srs);
    s_send (self, &msg);
}

/* =========================================================================
    Connection, registration, heartbeats
   ========================================================================= */

static int s_on_dealer (zloop_t *loop, zsock_t *reader, void *arg);
static int s_on_retry (zloop_t *loop, int timer_id, void *arg);
static void s_start_registering (xs_agent_t *self, bool now);

static int
s_connect (xs_agent_t *self, xs_err_t *err)
{
    if (self->dealer) {
        zloop_reader_end (self->loop, self->dealer);
        zsock_destroy (&self->dealer);
    }
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
    return 0;
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
    s_enqueue (self, s_job_new (S_JOB_HOST_INFO, NULL, XS_OP_HOST_INFO, NULL));
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
        s_send_register (self);
        s_schedule_retry (self);
    }
    return 0;
}

static void
s_refresh_stats (xs_agent_t *self)
{
    for (s_sr_t *sr = (s_sr_t *) zhashx_first (self->srs); sr;
         sr = (s_sr_t *) zhashx_next (self->srs)) {
        if (sr->refreshing)
            continue;
        json_t *args = json_pack ("{s:s}", "sr_uuid", sr->sr_uuid);
        s_job_t *job = s_job_new (S_JOB_STATS, NULL, XS_OP_SR_STATS, args);
        json_decref (args);
        job->backend_id = sr->backend_id;
        sr->refreshing = true;
        s_enqueue (self, job);
    }
}

static int
s_on_heartbeat (zloop_t *loop, int timer_id, void *arg)
{
    xs_agent_t *self = (xs_agent_t *) arg;
    if (self->missed_acks >= S_MISSED_ACKS_MAX) {
        xs_warning ("catalog %s: no answer to %d heartbeats; reconnecting",
                    self->catalog_endpoint, self->missed_acks);
        xs_err_t err;
        if (s_connect (self, &err))
            xs_error ("%s", err.msg);
        self->backoff_ms = self->cfg.backoff_min_ms;
        s_start_registering (self, true);
        return 0;
    }
    s_send_heartbeat (self);
    self->missed_acks++;
    if (++self->beats % self->cfg.stats_every == 0)
        s_refresh_stats (self);
    return 0;
}

/* =========================================================================
    Incoming messages
   ========================================================================= */

static s_sr_t *
s_sr_lookup (xs_agent_t *self, int64_t backend_id)
{
    char key [32];
    snprintf (key, sizeof key, "%lld", (long long) backend_id);
    return (s_sr_t *) zhashx_lookup (self->srs, key);
}

static void
s_sr_put (xs_agent_t *self, int64_t backend_id, const char *sr_uuid)
{
    char key [32];
    snprintf (key, sizeof key, "%lld", (long long) backend_id);
    s_sr_t *sr = (s_sr_t *) zhashx_lookup (self->srs, key);
    if (sr && streq (sr->sr_uuid, sr_uuid))
        return;
    sr = xs_zalloc (sizeof *sr);
    sr->backend_id = backend_id;
    sr->sr_uuid = xs_strdup (sr_uuid);
    zhashx_update (self->srs, key, sr);     /* frees any old entry */
}

static void
s_sr_remove (xs_agent_t *self, int64_t backend_id)
{
    char key [32];
    snprintf (key, sizeof key, "%lld", (long long) backend_id);
    zhashx_delete (self->srs, key);
}

static void
s_sr_free (void **item_p)
{
    if (item_p && *item_p) {
        s_sr_t *sr = (s_sr_t *) *item_p;
        free (sr->sr_uuid);
        json_decref (sr->stats);
        json_decref (sr->sent);
        free (sr);
        *item_p = NULL;
    }
}

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
    self->heartbeats = 0;       /* a (re)started catalog hears every SR at once */
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
        json_t *args = json_pack ("{s:O}", "backend", backend);
        s_job_t *job = s_job_new (S_JOB_ATTACH, NULL, XS_OP_SR_ATTACH, args);
        json_decref (args);
        job->backend_id = backend_id;
        s_enqueue (self, job);
    }
    self->heartbeat_timer = zloop_timer (self->loop, (size_t) self->heartbeat_ms, 0,
                                         s_on_heartbeat, self);
    s_send_heartbeat (self);
    self->missed_acks = 1;
    if (!self->ready_sent && self->cfg.ready_fd >= 0) {
        if (write (self->cfg.ready_fd, "READY\n", 6) != 6)
            xs_warning ("readiness fd %d: %s", self->cfg.ready_fd, strerror (errno));
        close (self->cfg.ready_fd);
        self->ready_sent = true;
    }
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
            s_enqueue (self, s_job_new (S_JOB_REQUEST, xs_proto_id (msg), xs_proto_op (msg),
                                        xs_proto_args (msg)));
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

/* A worker finished its job. */
static int
s_on_worker (zloop_t *loop, zsock_t *reader, void *arg)
{
    xs_agent_t *self = (xs_agent_t *) arg;
    s_worker_t *w = NULL;
    for (int i = 0; i < self->nworkers; i++)
        if (zactor_sock (self->workers [i].actor) == reader)
            w = &self->workers [i];
    int ok = 0;
    char *text = NULL;
    if (!w || zsock_recv (reader, "is", &ok, &text) == -1 || !w->job) {
        zstr_free (&text);
        return 0;
    }
    s_job_t *job = w->job;
    w->job = NULL;
    json_t *payload = json_loads (text ? text : "{}", 0, NULL);
    zstr_free (&text);
    if (!payload)
        payload = json_object ();
    const char *reason = json_string_value (json_object_get (payload, "message"));
    bool current = job->generation == self->generation;

    switch (job->kind) {
        case S_JOB_HOST_INFO: {
            const char *uuid = json_string_value (json_object_get (payload, "uuid"));
            const char *name = json_string_value (json_object_get (payload, "name_label"));
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
            break;
        }
        case S_JOB_REQUEST: {
            self->busy--;
            if (ok) {
                if (job->op == XS_OP_SR_ATTACH || job->op == XS_OP_SR_DETACH) {
                    json_t *args = json_loads (job->args, 0, NULL);
                    json_t *b = json_object_get (args, "backend");
                    int64_t backend_id = json_integer_value (
                        json_object_get (b ? b : args, "backend_id"));
                    const char *sr_uuid = json_string_value (json_object_get (payload, "sr_uuid"));
                    if (job->op == XS_OP_SR_ATTACH && sr_uuid)
                        s_sr_put (self, backend_id, sr_uuid);
                    else
                    if (job->op == XS_OP_SR_DETACH)
                        s_sr_remove (self, backend_id);
                    json_decref (args);
                }
                json_t *value = payload;
                payload = NULL;
                xs_proto_t *result = xs_proto_result_ok_new (job->id, &value);
                s_send (self, &result);
            }
            else {
                xs_err_t err;
                xs_err_set (&err, xs_errkind_from_name (json_string_value (
                                json_object_get (payload, "kind"))),
                            "%s", reason ? reason : "failed");
                xs_info ("request %s (%s) failed: %s", job->id, xs_op_name (job->op), err.msg);
                xs_proto_t *result = xs_proto_result_fail_new (job->id, &err);
                s_send (self, &result);
            }
            break;
        }
        case S_JOB_ATTACH: {
            if (!current)
                break;
            xs_proto_t *state = xs_proto_new (XS_PROTO_SR_STATE, NULL);
            xs_proto_set_int (state, "backend_id", job->backend_id);
            const char *sr_uuid = json_string_value (json_object_get (payload, "sr_uuid"));
            if (ok && sr_uuid && *sr_uuid) {
                s_sr_put (self, job->backend_id, sr_uuid);
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
            break;
        }
        case S_JOB_STATS: {
            s_sr_t *sr = s_sr_lookup (self, job->backend_id);
            if (sr) {
                sr->refreshing = false;
                if (ok) {
                    json_decref (sr->stats);
                    sr->stats = payload;
                    payload = NULL;
                }
                else
                    xs_debug ("backend %lld: stats: %s", (long long) job->backend_id, reason);
            }
            break;
        }
    }
    json_decref (payload);
    s_job_destroy (&job);
    s_dispatch (self);
    return 0;
}

static int
s_on_pipe (zloop_t *loop, zsock_t *reader, void *arg)
{
    char *cmd = zstr_recv (reader);
    bool term = !cmd || streq (cmd, "$TERM");
    zstr_free (&cmd);
    return term ? -1 : 0;
}

/* =========================================================================
    Construction
   ========================================================================= */

static char *
s_strdup_or_null (const char *s)
{
    return s && *s ? xs_strdup (s) : NULL;
}

xs_agent_t *
xs_agent_new (const xs_agent_cfg_t *cfg, xs_err_t *err)
{
    xs_agent_t *self = NULL;
    zcert_t *server = NULL;
    if (!cfg || !cfg->executor)
        return xs_err_set (err, XS_EINVAL, "agent: no executor"), NULL;
    if (!cfg->zone || !*cfg->zone)
        return xs_err_set (err, XS_EINVAL, "agent: no zone set (--zone or zone= in the config)"), NULL;
    if (!cfg->catalog_endpoint || !*cfg->catalog_endpoint)
        return xs_err_set (err, XS_EINVAL, "agent: no catalog endpoint (--catalog)"), NULL;
    if (!cfg->cert_file || !*cfg->cert_file)
        return xs_err_set (err, XS_EINVAL, "agent: no certificate (--cert)"), NULL;
    if (!cfg->catalog_key_file || !*cfg->catalog_key_file)
        return xs_err_set (err, XS_EINVAL, "agent: no catalog key (--catalog-key)"), NULL;

    self = xs_zalloc (sizeof *self);
    self->cfg = *cfg;
    if (self->cfg.workers <= 0)
        self->cfg.workers = 4;
    if (self->cfg.backoff_min_ms <= 0)
        self->cfg.backoff_min_ms = 500;
    if (self->cfg.backoff_max_ms < self->cfg.backoff_min_ms)
        self->cfg.backoff_max_ms = self->cfg.backoff_min_ms > 30000 ? self->cfg.backoff_min_ms : 30000;
    if (self->cfg.stats_every <= 0)
        self->cfg.stats_every = 1;
    self->catalog_endpoint = xs_strdup (cfg->catalog_endpoint);
    self->zone = xs_strdup (cfg->zone);
    self->cfg_host_uuid = s_strdup_or_null (cfg->host_uuid);
    self->cfg_name = s_strdup_or_null (cfg->name);
    self->cfg.catalog_endpoint = self->catalog_endpoint;
    self->cfg.zone = self->zone;
    self->cfg.host_uuid = self->cfg_host_uuid;
    self->cfg.name = self->cfg_name;
    self->cfg.cert_file = NULL;
    self->cfg.catalog_key_file = NULL;
    self->retry_timer = -1;
    self->heartbeat_timer = -1;
    self->backoff_ms = self->cfg.backoff_min_ms;

    /* czmq's zcert_load reads FILE and FILE_secret; a missing secret part
       leaves a certificate with an all-zero secret key: refuse that. */
    char secret_file [4096];
    snprintf (secret_file, sizeof secret_file, "%s_secret", cfg->cert_file);
    if (access (secret_file, R_OK) != 0) {
        xs_err_set (err, XS_EINVAL, "certificate %s: cannot read its secret part %s: %s",
                    cfg->cert_file, secret_file, strerror (errno));
        goto fail;
    }
    self->cert = zcert_load (cfg->cert_file);
    if (!self->cert) {
        xs_err_set (err, XS_EINVAL, "certificate %s: cannot load (not a czmq certificate?)",
                    cfg->cert_file);
        goto fail;
    }
    server = zcert_load (cfg->catalog_key_file);
    if (!server) {
        xs_err_set (err, XS_EINVAL, "catalog key %s: cannot load (not a czmq certificate?)",
                    cfg->catalog_key_file);
        goto fail;
    }
    self->server_key = xs_strdup (zcert_public_txt (server));
    zcert_destroy (&server);

    self->queue = zlist_new ();
    self->srs = zhashx_new ();
    zhashx_set_destructor (self->srs, s_sr_free);
    self->nworkers = self->cfg.workers;
    self->workers = xs_zalloc (sizeof (s_worker_t) * (size_t) self->nworkers);
    self->wargs.executor = self->cfg.executor;
    self->wargs.executor_arg = self->cfg.executor_arg;
    for (int i = 0; i < self->nworkers; i++) {
        self->workers [i].actor = zactor_new (s_worker_actor, &self->wargs);
        if (!self->workers [i].actor) {
            xs_err_set (err, XS_EINTERNAL, "agent: cannot start worker %d", i);
            goto fail;
        }
    }
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
    for (int i = 0; self->workers && i < self->nworkers; i++) {
        zactor_destroy (&self->workers [i].actor);
        s_job_destroy (&self->workers [i].job);
    }
    free (self->workers);
    while (self->queue && zlist_size (self->queue)) {
        s_job_t *job = (s_job_t *) zlist_pop (self->queue);
        s_job_destroy (&job);
    }
    zlist_destroy (&self->queue);
    zhashx_destroy (&self->srs);
    zsock_destroy (&self->dealer);
    zloop_destroy (&self->loop);
    zcert_destroy (&self->cert);
    free (self->server_key);
    free (self->catalog_endpoint);
    free (self->zone);
    free (self->cfg_host_uuid);
    free (self->cfg_name);
    free (self->host_uuid);
    free (self->name);
    free (self);
    *self_p = NULL;
}

/* Runs the loop; `pipe` (may be NULL) ends it on $TERM. */
static int
s_run (xs_agent_t *self, zsock_t *pipe, xs_err_t *err)
{
    int rc = -1;
    self->loop = zloop_new ();
    for (int i = 0; i < self->nworkers; i++)
        zloop_reader (self->loop, zactor_sock (self->workers [i].actor), s_on_worker, self);
    if (pipe)
        zloop_reader (self->loop, pipe, s_on_pipe, self);
    if (s_connect (self, err))
        goto out;
    if (pipe)
        zsock_signal (pipe, 0);
    if (self->cfg.host_uuid) {
        self->host_uuid = xs_strdup (self->cfg.host_uuid);
        self->name = self->cfg.name ? xs_strdup (self->cfg.name) : NULL;
        s_start_registering (self, true);
    }
    else {
        self->name = self->cfg.name ? xs_strdup (self->cfg.name) : NULL;
        s_identify (self);
    }
    zloop_start (self->loop);
    rc = 0;
out:
    if (self->dealer)
        zloop_reader_end (self->loop, self->dealer);
    zsock_destroy (&self->dealer);
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
