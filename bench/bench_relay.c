/*  xs-bench-relay: the baseline of the catalog throughput benchmark
    (bench/run, section 3): a bare ZeroMQ relay over the same path as
    xensm-catalogd, client -> relay -> agent -> relay -> client, with no
    store and no scheduler.

    Clients: a ROUTER with the admin protocol's framing ([""][JSON], see
    docs/PROTOCOL.md "Admin protocol"): `ping` answers {agent_endpoint};
    `volume_create` {flavor, size, ...} becomes a `vdi_create` request for a
    new volume uuid, `volume_delete` {uuid} a `vdi_destroy`; each goes to the
    next registered agent (round robin) and its result goes back as the
    reply, shaped as the catalog's ({volume: {uuid, vdi_uuid}} or {volume: {uuid}}).

    Agents: a ROUTER with CURVE and zauth on an allow-list directory, as the
    catalog's, speaking docs/PROTOCOL.md "Agent protocol" through the same
    codec (xs_proto): register -> welcome (no backends), heartbeat ->
    heartbeat_ack, result -> the client's reply.

    xs-bench-relay --admin ENDPOINT --agent ENDPOINT --cert FILE --agent-keys DIR

    With XENSM_READY_FD=n, "READY\n" goes to fd n once both sockets are
    bound. Runs until SIGTERM or SIGINT.
*/
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>

#include "xs_cert.h"
#include "xs_log.h"
#include "xs_proto.h"

#define S_MAX_AGENTS 1024
#define S_DRAIN 256

typedef struct {
    zframe_t *client;           /* the client's routing id         */
    char *client_id;            /* the id of its request           */
    char uuid [40];             /* the volume                      */
} s_pending_t;

typedef struct {
    zsock_t *clients;
    zsock_t *agents;
    char *agent_endpoint;
    zframe_t *routes [S_MAX_AGENTS];
    int nroutes;
    int next;
    zhashx_t *pending;          /* wire id -> s_pending_t *         */
    uint64_t seq;
} s_relay_t;

static void
s_pending_free (void **item_p)
{
    s_pending_t *p = (s_pending_t *) *item_p;
    if (p) {
        zframe_destroy (&p->client);
        free (p->client_id);
        free (p);
        *item_p = NULL;
    }
}

static void
s_send_agent (s_relay_t *self, zframe_t *route, xs_proto_t **msg_p)
{
    size_t size = 0;
    char *text = xs_proto_encode (*msg_p, &size, NULL);
    xs_proto_destroy (msg_p);
    if (!text)
        return;
    zframe_t *copy = zframe_dup (route);
    zframe_send (&copy, self->agents, ZFRAME_MORE | ZFRAME_DONTWAIT);
    zmq_send (zsock_resolve (self->agents), text, size, ZMQ_DONTWAIT);
    free (text);
}

/* Sends [client][""][json] and frees json. */
static void
s_reply (s_relay_t *self, zframe_t *client, json_t *json)
{
    char *text = json_dumps (json, JSON_COMPACT);
    json_decref (json);
    zframe_t *copy = zframe_dup (client);
    zframe_send (&copy, self->clients, ZFRAME_MORE | ZFRAME_DONTWAIT);
    zmq_send (zsock_resolve (self->clients), "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (zsock_resolve (self->clients), text, strlen (text), ZMQ_DONTWAIT);
    free (text);
}

static void
s_reply_error (s_relay_t *self, zframe_t *client, const char *id, const char *message)
{
    s_reply (self, client, json_pack ("{s:i, s:s, s:b, s:{s:s, s:s, s:s}}", "v", 1, "id",
                                      id ? id : "", "ok", 0, "error", "code", "internal",
                                      "kind", "internal", "message", message));
}

static void
s_on_client (s_relay_t *self, zmsg_t *msg)
{
    zframe_t *client = zmsg_pop (msg);
    zframe_t *empty = zmsg_pop (msg);
    zframe_t *body = zmsg_pop (msg);
    json_t *req = NULL;
    if (!client || !empty || !body || zframe_size (empty) != 0)
        goto out;
    req = json_loadb ((const char *) zframe_data (body), zframe_size (body), 0, NULL);
    const char *id = json_string_value (json_object_get (req, "id"));
    const char *cmd = json_string_value (json_object_get (req, "cmd"));
    json_t *args = json_object_get (req, "args");
    if (!id || !cmd) {
        s_reply_error (self, client, id, "malformed request");
        goto out;
    }
    if (streq (cmd, "ping")) {
        s_reply (self, client, json_pack ("{s:i, s:s, s:b, s:{s:s}}", "v", 1, "id", id,
                                          "ok", 1, "result", "agent_endpoint",
                                          self->agent_endpoint));
        goto out;
    }
    bool create = streq (cmd, "volume_create");
    if (!create && !streq (cmd, "volume_delete")) {
        s_reply_error (self, client, id, "the relay knows ping, volume_create, volume_delete");
        goto out;
    }
    if (self->nroutes == 0) {
        s_reply_error (self, client, id, "no agent registered");
        goto out;
    }
    s_pending_t *p = zmalloc (sizeof *p);
    p->client = client;
    client = NULL;
    p->client_id = strdup (id);
    json_t *rargs = NULL;
    if (create) {
        zuuid_t *u = zuuid_new ();
        snprintf (p->uuid, sizeof p->uuid, "%s", zuuid_str_canonical (u));
        zuuid_destroy (&u);
        rargs = json_pack ("{s:s, s:s, s:I}", "sr_uuid", "00000000-0000-4000-9000-000000000001",
                           "volume_uuid", p->uuid, "size",
                           json_integer_value (json_object_get (args, "size")));
        const char *name = json_string_value (json_object_get (args, "name"));
        if (name)
            json_object_set_new (rargs, "name", json_string (name));
    }
    else {
        const char *uuid = json_string_value (json_object_get (args, "uuid"));
        snprintf (p->uuid, sizeof p->uuid, "%s", uuid ? uuid : "");
        rargs = json_pack ("{s:s, s:s}", "volume_uuid", p->uuid,
                           "sr_uuid", "00000000-0000-4000-9000-000000000001");
    }
    char wire [32];
    snprintf (wire, sizeof wire, "r%llu", (unsigned long long) ++self->seq);
    zhashx_insert (self->pending, wire, p);
    xs_proto_t *r = xs_proto_request_new (wire, create ? XS_OP_VDI_CREATE : XS_OP_VDI_DESTROY,
                                          &rargs);
    zframe_t *route = self->routes [self->next++ % self->nroutes];
    s_send_agent (self, route, &r);
out:
    json_decref (req);
    zframe_destroy (&client);
    zframe_destroy (&empty);
    zframe_destroy (&body);
}

static void
s_on_agent (s_relay_t *self, zmsg_t *zmsg)
{
    zframe_t *route = zmsg_pop (zmsg);
    zframe_t *body = zmsg_pop (zmsg);
    xs_proto_t *reply = NULL;
    xs_proto_t *msg = NULL;
    if (!route || !body)
        goto out;
    msg = xs_proto_decode (zframe_data (body), zframe_size (body), &reply, NULL);
    if (!msg)
        goto out;
    switch (xs_proto_type (msg)) {
        case XS_PROTO_REGISTER: {
            bool known = false;
            for (int i = 0; i < self->nroutes; i++)
                known |= zframe_eq (self->routes [i], route);
            if (!known && self->nroutes < S_MAX_AGENTS)
                self->routes [self->nroutes++] = zframe_dup (route);
            reply = xs_proto_new (XS_PROTO_WELCOME, xs_proto_id (msg));
            xs_proto_set_str (reply, "host_uuid", xs_proto_str (msg, "host_uuid"));
            xs_proto_set_str (reply, "zone", xs_proto_str (msg, "zone"));
            xs_proto_set_int (reply, "heartbeat_ms", 1000);
            json_t *none = json_array ();
            xs_proto_set (reply, "backends", &none);
            break;
        }
        case XS_PROTO_HEARTBEAT:
            reply = xs_proto_new (XS_PROTO_HEARTBEAT_ACK, xs_proto_id (msg));
            break;
        case XS_PROTO_RESULT: {
            s_pending_t *p = (s_pending_t *) zhashx_lookup (self->pending, xs_proto_id (msg));
            if (!p)
                break;
            if (xs_proto_bool (msg, "ok", false)) {
                json_t *value = xs_proto_get (msg, "value");
                json_t *result = json_pack ("{s:s}", "uuid", p->uuid);
                json_t *vdi = json_object_get (value, "vdi_uuid");
                if (vdi)
                    json_object_set (result, "vdi_uuid", vdi);
                s_reply (self, p->client, json_pack ("{s:i, s:s, s:b, s:{s:o}}", "v", 1, "id",
                                                     p->client_id, "ok", 1, "result", "volume",
                                                     result));
            }
            else
                s_reply_error (self, p->client, p->client_id, "the agent failed");
            zhashx_delete (self->pending, xs_proto_id (msg));
            break;
        }
        default:
            break;              /* sr_state, error: nothing to do */
    }
    if (reply)
        s_send_agent (self, route, &reply);
out:
    xs_proto_destroy (&msg);
    zframe_destroy (&route);
    zframe_destroy (&body);
}

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: xs-bench-relay --admin ENDPOINT --agent ENDPOINT --cert FILE "
                  "--agent-keys DIR\n");
}

int
main (int argc, char **argv)
{
    static const struct option longopts [] = {
        {"admin", required_argument, NULL, 'a'},
        {"agent", required_argument, NULL, 'A'},
        {"cert", required_argument, NULL, 'k'},
        {"agent-keys", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    const char *admin = NULL, *agent = NULL, *cert_file = NULL, *keys = NULL;
    int c;
    while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
            case 'a': admin = optarg; break;
            case 'A': agent = optarg; break;
            case 'k': cert_file = optarg; break;
            case 'K': keys = optarg; break;
            case 'h': s_usage (stdout); return 0;
            default: s_usage (stderr); return 2;
        }
    }
    if (!admin || !agent || !cert_file || !keys || optind < argc) {
        s_usage (stderr);
        return 2;
    }
    xs_log_init ("xs-bench-relay", false, XS_LOG_WARNING);
    sigset_t stop;
    sigemptyset (&stop);
    sigaddset (&stop, SIGTERM);
    sigaddset (&stop, SIGINT);
    pthread_sigmask (SIG_BLOCK, &stop, NULL);
    zsys_handler_set (NULL);
    int sigfd = signalfd (-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);

    int rc = 1;
    s_relay_t relay = {0};
    s_relay_t *self = &relay;
    zactor_t *auth = NULL;
    zcert_t *cert = NULL;
    xs_err_t err;
    bool created = false;
    self->pending = zhashx_new ();
    zhashx_set_destructor (self->pending, s_pending_free);
    if (sigfd < 0 || xs_cert_ensure (cert_file, &created, &err)) {
        fprintf (stderr, "xs-bench-relay: %s\n", sigfd < 0 ? strerror (errno) : err.msg);
        goto out;
    }
    cert = zcert_load (cert_file);
    auth = zactor_new (zauth, NULL);
    if (!cert || !auth || zstr_sendx (auth, "CURVE", keys, NULL) || zsock_wait (auth) == -1) {
        fprintf (stderr, "xs-bench-relay: cannot load %s or start zauth\n", cert_file);
        goto out;
    }
    self->agents = zsock_new (ZMQ_ROUTER);
    zcert_apply (cert, self->agents);
    zsock_set_curve_server (self->agents, 1);
    zsock_set_zap_domain (self->agents, "xensm-agents");
    zsock_set_maxmsgsize (self->agents, XS_PROTO_MAX_SIZE + 1024);
    zsock_set_linger (self->agents, 0);
    zsock_set_sndhwm (self->agents, 100000);
    zsock_set_rcvhwm (self->agents, 100000);
    self->clients = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (self->clients, 0);
    if (zsock_bind (self->agents, "%s", agent) == -1
    ||  zsock_bind (self->clients, "%s", admin) == -1) {
        fprintf (stderr, "xs-bench-relay: cannot bind: %s\n", zmq_strerror (zmq_errno ()));
        goto out;
    }
    self->agent_endpoint = zsock_last_endpoint (self->agents);
    const char *env = getenv ("XENSM_READY_FD");
    if (env && *env) {
        int fd = atoi (env);
        if (write (fd, "READY\n", 6) != 6)
            fprintf (stderr, "xs-bench-relay: READY: %s\n", strerror (errno));
        close (fd);
    }
    zmq_pollitem_t items [] = {
        {zsock_resolve (self->clients), 0, ZMQ_POLLIN, 0},
        {zsock_resolve (self->agents), 0, ZMQ_POLLIN, 0},
        {NULL, sigfd, ZMQ_POLLIN, 0},
    };
    while (true) {
        if (zmq_poll (items, 3, -1) < 0 && zmq_errno () != EINTR)
            break;
        if (items [2].revents & ZMQ_POLLIN)
            break;
        for (int n = 0; n < S_DRAIN && (items [0].revents & ZMQ_POLLIN); n++) {
            zmsg_t *msg = zmsg_recv_nowait (self->clients);
            if (!msg)
                break;
            s_on_client (self, msg);
            zmsg_destroy (&msg);
        }
        for (int n = 0; n < S_DRAIN && (items [1].revents & ZMQ_POLLIN); n++) {
            zmsg_t *msg = zmsg_recv_nowait (self->agents);
            if (!msg)
                break;
            s_on_agent (self, msg);
            zmsg_destroy (&msg);
        }
    }
    rc = 0;
out:
    zhashx_destroy (&self->pending);
    for (int i = 0; i < self->nroutes; i++)
        zframe_destroy (&self->routes [i]);
    zsock_destroy (&self->clients);
    zsock_destroy (&self->agents);
    zactor_destroy (&auth);
    zcert_destroy (&cert);
    free (self->agent_endpoint);
    if (sigfd >= 0)
        close (sigfd);
    return rc;
}
