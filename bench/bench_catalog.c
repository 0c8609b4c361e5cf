/*  xs-bench-catalog: the programs of bench/run's catalog benchmarks.

    xs-bench-catalog agents ENDPOINT CATALOG_CERT DIR N ZONE
        N bench agents in one process: the real agent class (xs_agent: CURVE,
        register, heartbeats, worker threads) with an executor that answers
        every operation at once, so the catalog is what gets measured. Makes
        DIR/agent-<i>.cert and copies each public part into DIR/keys (point
        the catalog's --agent-keys there). Prints READY once every agent is
        registered, then serves until SIGTERM/SIGINT.

    xs-bench-catalog load ENDPOINT OP COUNT WINDOW [ARG...]
        A client of the admin protocol (ZeroMQ DEALER) keeping WINDOW
        requests outstanding until COUNT were answered. OP:
          create FLAVOR SIZE UUIDS_OUT   volume_create; the uuids go to UUIDS_OUT
          delete UUIDS_IN                volume_delete of each uuid of the file
          backends FLAVOR                backend_add of COUNT existing "nfs" SRs
        Prints one JSON line: {op, count, ok, failed, seconds, per_second,
        p50_ms, p99_ms, max_ms}. The first failure's message goes to stderr.

    xs-bench-catalog relay CLIENT_ENDPOINT AGENT_ENDPOINT CERT
        The baseline: a bare ZeroMQ relay over the same path (client ->
        relay -> agent -> relay -> client) with the same sockets and CURVE,
        no SQLite and no placement. It answers register/heartbeat like the
        catalog, forwards each admin request as one agent `request`
        (vdi_create) to the next agent in turn and relays the result.
        Prints READY once bound.

    xs-bench-catalog fill DB COUNT
        Adds one flavor, one backend and COUNT available volumes to the
        catalog database DB (the real store, one transaction).
*/
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>

#include "xs_agent.h"
#include "xs_cert.h"
#include "xs_proto.h"
#include "xs_store.h"

static void
s_die (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "xs-bench-catalog: ");
    vfprintf (stderr, fmt, ap);
    fputc ('\n', stderr);
    va_end (ap);
    exit (1);
}

/* =========================================================================
    agents
   ========================================================================= */

static json_t *
s_instant_run (void *ctx, const char *op, const json_t *args, xs_err_t *err)
{
    const char *host = (const char *) ctx;
    if (streq (op, "host_info"))
        return json_pack ("{s:s, s:s}", "uuid", host, "name_label", host);
    if (streq (op, "sr_attach")) {
        const char *sr = json_string_value (json_object_get (json_object_get (args, "backend"),
                                                            "sr_uuid"));
        return json_pack ("{s:s}", "sr_uuid", sr ? sr : "bench-sr");
    }
    if (streq (op, "sr_stats"))
        return json_pack ("{s:I, s:I, s:I, s:[s, s, s, s]}",
                          "physical_size", (json_int_t) 1 << 60, "physical_utilisation",
                          (json_int_t) 0, "virtual_allocation", (json_int_t) 0,
                          "capabilities", "VDI_CREATE", "VDI_DELETE", "VDI_CLONE",
                          "VDI_SNAPSHOT");
    if (streq (op, "vdi_create") || streq (op, "vdi_snapshot") || streq (op, "vdi_clone")) {
        const char *vol = json_string_value (json_object_get (
            args, streq (op, "vdi_create") ? "volume_uuid" : "new_volume_uuid"));
        return json_pack ("{s:s, s:O, s:I}", "vdi_uuid", vol ? vol : "",
                          "sr_uuid", json_object_get (args, "sr_uuid"),
                          "size", json_integer_value (json_object_get (args, "size")));
    }
    if (streq (op, "vdi_destroy") || streq (op, "sr_detach"))
        return json_object ();
    xs_err_set (err, XS_EINVAL, "bench agent: op %s not supported", op);
    return NULL;
}

static void *s_instant_open (void *arg, xs_err_t *err) { return arg; }
static void s_instant_close (void **ctx_p) { *ctx_p = NULL; }
static const xs_executor_t s_instant = {"instant", s_instant_open, s_instant_close,
                                        s_instant_run};

static int
s_agents (int argc, char **argv)
{
    if (argc != 5)
        s_die ("usage: agents ENDPOINT CATALOG_CERT DIR N ZONE");
    const char *endpoint = argv [0], *catalog_cert = argv [1], *dir = argv [2];
    int n = atoi (argv [3]);
    const char *zone = argv [4];
    if (n < 1 || n > 1000)
        s_die ("agents: N must be 1..1000");
    char keys [PATH_MAX - 32];
    snprintf (keys, sizeof keys, "%s/keys", dir);
    if (mkdir (keys, 0700) && errno != EEXIST)
        s_die ("mkdir %s: %s", keys, strerror (errno));
    int ready [2];
    if (pipe (ready))
        s_die ("pipe: %s", strerror (errno));
    zsys_init ();
    xs_agent_t **agents = calloc ((size_t) n, sizeof *agents);
    zactor_t **actors = calloc ((size_t) n, sizeof *actors);
    char (*names) [64] = calloc ((size_t) n, sizeof *names);
    for (int i = 0; i < n; i++) {
        char cert [PATH_MAX], pub [PATH_MAX + 32];
        snprintf (cert, sizeof cert, "%s/agent-%d.cert", dir, i);
        snprintf (pub, sizeof pub, "%s/agent-%d.cert", keys, i);
        xs_err_t err;
        if (xs_cert_generate (cert, &err))
            s_die ("%s", err.msg);
        zcert_t *c = zcert_load (cert);
        if (!c || zcert_save_public (c, pub))
            s_die ("cannot write %s", pub);
        zcert_destroy (&c);
        snprintf (names [i], sizeof names [i], "00000000-bench-4000-8000-%012d", i);
        xs_agent_cfg_t cfg = {
            .catalog_endpoint = endpoint, .zone = zone, .host_uuid = names [i],
            .name = names [i], .cert_file = cert, .catalog_key_file = catalog_cert,
            .workers = 2, .backoff_min_ms = 100, .backoff_max_ms = 1000,
            .ready_fd = ready [1], .executor = &s_instant, .executor_arg = names [i],
        };
        agents [i] = xs_agent_new (&cfg, &err);
        if (!agents [i])
            s_die ("agent %d: %s", i, err.msg);
        actors [i] = zactor_new (xs_agent_actor, agents [i]);
    }
    /* Every agent writes READY\n once it is welcomed. */
    int lines = 0;
    char buf [256];
    while (lines < n && !zsys_interrupted) {
        ssize_t got = read (ready [0], buf, sizeof buf);
        if (got <= 0)
            break;
        for (ssize_t i = 0; i < got; i++)
            lines += buf [i] == '\n';
    }
    printf ("READY\n");
    fflush (stdout);
    while (!zsys_interrupted)
        zclock_sleep (100);     /* serving is the actors' work; this waits for SIGTERM */
    for (int i = 0; i < n; i++) {
        zactor_destroy (&actors [i]);
        xs_agent_destroy (&agents [i]);
    }
    free (agents);
    free (actors);
    free (names);
    return 0;
}

/* =========================================================================
    load
   ========================================================================= */

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static int
s_load (int argc, char **argv)
{
    if (argc < 5)
        s_die ("usage: load ENDPOINT OP COUNT WINDOW [ARG...]");
    const char *endpoint = argv [0], *op = argv [1];
    long count = atol (argv [2]);
    long window = atol (argv [3]);
    char **rest = argv + 4;
    int nrest = argc - 4;
    if (count < 1 || window < 1)
        s_die ("load: COUNT and WINDOW must be positive");
    char **uuids = NULL;
    FILE *uuids_out = NULL;
    if (streq (op, "create")) {
        if (nrest != 3)
            s_die ("load create: FLAVOR SIZE UUIDS_OUT");
        uuids_out = fopen (rest [2], "w");
        if (!uuids_out)
            s_die ("%s: %s", rest [2], strerror (errno));
    }
    else
    if (streq (op, "delete")) {
        if (nrest != 1)
            s_die ("load delete: UUIDS_IN");
        FILE *in = fopen (rest [0], "r");
        if (!in)
            s_die ("%s: %s", rest [0], strerror (errno));
        uuids = calloc ((size_t) count, sizeof *uuids);
        char line [128];
        long n = 0;
        while (n < count && fgets (line, sizeof line, in)) {
            line [strcspn (line, "\n")] = '\0';
            uuids [n++] = strdup (line);
        }
        fclose (in);
        if (n < count)
            s_die ("load delete: %s holds %ld uuids, %ld wanted", rest [0], n, count);
    }
    else
    if (streq (op, "backends")) {
        if (nrest != 1)
            s_die ("load backends: FLAVOR");
    }
    else
        s_die ("load: unknown op %s", op);

    zsock_t *sock = zsock_new (ZMQ_DEALER);
    zsock_set_sndhwm (sock, 0);
    zsock_set_rcvhwm (sock, 0);
    if (!sock || zsock_connect (sock, "%s", endpoint))
        s_die ("connect %s failed", endpoint);
    double *latency = calloc ((size_t) count, sizeof *latency);
    int64_t *sent_at = calloc ((size_t) count, sizeof *sent_at);
    long sent = 0, answered = 0, ok = 0, failed = 0;
    int64_t start = zclock_usecs ();
    while (answered < count) {
        while (sent < count && sent - answered < window) {
            char id [32];
            snprintf (id, sizeof id, "%ld", sent);
            json_t *args;
            const char *cmd;
            if (streq (op, "create")) {
                cmd = "volume_create";
                args = json_pack ("{s:s, s:I}", "flavor", rest [0], "size",
                                  (json_int_t) atoll (rest [1]));
            }
            else
            if (streq (op, "delete")) {
                cmd = "volume_delete";
                args = json_pack ("{s:s}", "uuid", uuids [sent]);
            }
            else {
                char sr [64];
                snprintf (sr, sizeof sr, "5e000000-0000-4000-8000-%012ld", sent);
                char path [32];
                snprintf (path, sizeof path, "/b%ld", sent);
                cmd = "backend_add";
                args = json_pack ("{s:s, s:s, s:{s:s, s:s, s:s}}", "flavor", rest [0],
                                  "sr_type", "nfs", "params", "server", "bench",
                                  "serverpath", path, "sr_uuid", sr);
            }
            json_t *req = json_pack ("{s:i, s:s, s:s, s:o}", "v", 1, "id", id, "cmd", cmd,
                                     "args", args);
            char *text = json_dumps (req, JSON_COMPACT);
            json_decref (req);
            sent_at [sent] = zclock_usecs ();
            if (zstr_sendx (sock, "", text, NULL))
                s_die ("send failed");
            free (text);
            sent++;
        }
        char *empty = NULL, *reply = NULL;
        if (zstr_recvx (sock, &empty, &reply, NULL) < 2) {
            if (zsys_interrupted)
                break;
            continue;
        }
        json_t *j = json_loads (reply, 0, NULL);
        long id = atol (json_string_value (json_object_get (j, "id")) ?: "-1");
        if (id >= 0 && id < count) {
            latency [answered] = (double) (zclock_usecs () - sent_at [id]) / 1000.0;
            answered++;
            if (json_is_true (json_object_get (j, "ok"))) {
                ok++;
                const char *uuid = json_string_value (json_object_get (
                    json_object_get (json_object_get (j, "result"), "volume"), "uuid"));
                if (uuids_out && uuid)
                    fprintf (uuids_out, "%s\n", uuid);
            }
            else
            if (failed++ == 0)
                fprintf (stderr, "xs-bench-catalog: first failure: %s\n", reply);
        }
        json_decref (j);
        zstr_free (&empty);
        zstr_free (&reply);
    }
    double seconds = (double) (zclock_usecs () - start) / 1e6;
    qsort (latency, (size_t) answered, sizeof *latency, s_cmp_double);
    double p50 = answered ? latency [answered / 2] : 0;
    double p99 = answered ? latency [(size_t) ((double) answered * 0.99)] : 0;
    double max = answered ? latency [answered - 1] : 0;
    printf ("{\"op\": \"%s\", \"count\": %ld, \"ok\": %ld, \"failed\": %ld, \"seconds\": %.3f, "
            "\"per_second\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f}\n",
            op, answered, ok, failed, seconds, (double) answered / seconds, p50, p99, max);
    if (uuids_out)
        fclose (uuids_out);
    for (long i = 0; uuids && i < count; i++)
        free (uuids [i]);
    free (uuids);
    free (latency);
    free (sent_at);
    zsock_destroy (&sock);
    return failed ? 1 : 0;
}

/* =========================================================================
    relay
   ========================================================================= */

typedef struct {
    zframe_t *client;           /* routing id of the client */
    char *id;                   /* the client's request id   */
} s_pending_t;

static void
s_send_agent (zsock_t *agents, zframe_t *route, xs_proto_t *msg)
{
    size_t size = 0;
    char *text = xs_proto_encode (msg, &size, NULL);
    zframe_t *copy = zframe_dup (route);
    zframe_send (&copy, agents, ZFRAME_MORE);
    zsock_bsend (agents, "b", text, size);
    free (text);
}

static int
s_relay (int argc, char **argv)
{
    if (argc != 3)
        s_die ("usage: relay CLIENT_ENDPOINT AGENT_ENDPOINT CERT");
    zsys_init ();
    xs_err_t err;
    if (xs_cert_ensure (argv [2], NULL, &err))
        s_die ("%s", err.msg);
    zcert_t *cert = zcert_load (argv [2]);
    zsock_t *clients = zsock_new (ZMQ_ROUTER);
    zsock_t *agents = zsock_new (ZMQ_ROUTER);
    zsock_set_sndhwm (clients, 0);
    zsock_set_rcvhwm (clients, 0);
    zsock_set_sndhwm (agents, 0);
    zsock_set_rcvhwm (agents, 0);
    zcert_apply (cert, agents);
    zsock_set_curve_server (agents, 1);
    if (zsock_bind (clients, "%s", argv [0]) < 0 || zsock_bind (agents, "%s", argv [1]) < 0)
        s_die ("bind failed: %s", zmq_strerror (errno));
    char *bound = zsock_last_endpoint (agents);
    printf ("READY %s\n", bound);
    fflush (stdout);
    free (bound);
    zlist_t *routes = zlist_new ();             /* zframe_t * of registered agents */
    zhashx_t *pending = zhashx_new ();          /* wire id -> s_pending_t */
    uint64_t next = 0;
    zpoller_t *poller = zpoller_new (clients, agents, NULL);
    while (!zsys_interrupted) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, 200);
        if (which == agents) {
            zframe_t *route = zframe_recv (agents);
            zframe_t *body = zframe_recv (agents);
            if (!route || !body) {
                zframe_destroy (&route);
                zframe_destroy (&body);
                continue;
            }
            xs_proto_t *msg = xs_proto_decode (zframe_data (body), zframe_size (body), NULL,
                                                NULL);
            xs_proto_type_t type = msg ? xs_proto_type (msg) : XS_PROTO_ERROR;
            if (msg && type == XS_PROTO_REGISTER) {
                xs_proto_t *w = xs_proto_new (XS_PROTO_WELCOME, xs_proto_id (msg));
                xs_proto_set_str (w, "host_uuid", xs_proto_str (msg, "host_uuid"));
                xs_proto_set_str (w, "zone", xs_proto_str (msg, "zone"));
                xs_proto_set_int (w, "heartbeat_ms", 1000);
                json_t *none = json_array ();
                xs_proto_set (w, "backends", &none);
                s_send_agent (agents, route, w);
                xs_proto_destroy (&w);
                zlist_append (routes, zframe_dup (route));
            }
            else
            if (msg && type == XS_PROTO_HEARTBEAT) {
                xs_proto_t *ack = xs_proto_new (XS_PROTO_HEARTBEAT_ACK, xs_proto_id (msg));
                s_send_agent (agents, route, ack);
                xs_proto_destroy (&ack);
            }
            else
            if (msg && type == XS_PROTO_RESULT) {
                s_pending_t *p = (s_pending_t *) zhashx_lookup (pending, xs_proto_id (msg));
                if (p) {
                    bool good = xs_proto_bool (msg, "ok", false);
                    json_t *reply = json_pack ("{s:i, s:s, s:b, s:{s:{s:s}}}", "v", 1,
                                               "id", p->id, "ok", good, "result", "volume",
                                               "uuid", xs_proto_id (msg));
                    char *text = json_dumps (reply, JSON_COMPACT);
                    json_decref (reply);
                    zframe_send (&p->client, clients, ZFRAME_MORE);
                    zstr_sendx (clients, "", text, NULL);
                    free (text);
                    free (p->id);
                    zhashx_delete (pending, xs_proto_id (msg));
                    free (p);
                }
            }
            xs_proto_destroy (&msg);
            zframe_destroy (&route);
            zframe_destroy (&body);
        }
        else
        if (which == clients) {
            zmsg_t *m = zmsg_recv (clients);
            zframe_t *route = zmsg_pop (m);
            zframe_t *empty = zmsg_pop (m);
            char *text = zmsg_popstr (m);
            json_t *req = text ? json_loads (text, 0, NULL) : NULL;
            zframe_t *agent = (zframe_t *) zlist_first (routes);
            if (req && agent) {
                /* Round robin: the head goes to the tail. */
                zlist_remove (routes, agent);
                zlist_append (routes, agent);
                char wire [32];
                snprintf (wire, sizeof wire, "r%" PRIu64, next++);
                s_pending_t *p = calloc (1, sizeof *p);
                p->client = route;
                route = NULL;
                p->id = strdup (json_string_value (json_object_get (req, "id")) ?: "");
                zhashx_insert (pending, wire, p);
                json_t *args = json_pack ("{s:s, s:s, s:I}", "sr_uuid", "bench-sr",
                                          "volume_uuid", wire, "size",
                                          json_integer_value (json_object_get (
                                              json_object_get (req, "args"), "size")));
                xs_proto_t *r = xs_proto_request_new (wire, "vdi_create", &args);
                s_send_agent (agents, agent, r);
                xs_proto_destroy (&r);
            }
            json_decref (req);
            free (text);
            zframe_destroy (&route);
            zframe_destroy (&empty);
            zmsg_destroy (&m);
        }
    }
    zpoller_destroy (&poller);
    zframe_t *f;
    while ((f = (zframe_t *) zlist_pop (routes)))
        zframe_destroy (&f);
    zlist_destroy (&routes);
    zhashx_destroy (&pending);
    zsock_destroy (&clients);
    zsock_destroy (&agents);
    zcert_destroy (&cert);
    return 0;
}

/* =========================================================================
    fill
   ========================================================================= */

static int
s_fill (int argc, char **argv)
{
    if (argc != 2)
        s_die ("usage: fill DB COUNT");
    long count = atol (argv [1]);
    if (count < 0 || count > 999999999L)
        s_die ("fill: COUNT must be 0..999999999");
    xs_err_t err;
    xs_store_t *store = xs_store_new (argv [0], &err);
    if (!store)
        s_die ("%s", err.msg);
    if (xs_store_begin (store, &err))
        s_die ("%s", err.msg);
    if (xs_store_flavor_create (store, "bench", "filled", &err) < 0)
        s_die ("%s", err.msg);
    xs_kv_t config [] = {{.key = (char *) "server", .value = (char *) "bench"},
                         {.key = (char *) "serverpath", .value = (char *) "/fill"}};
    xs_backend_t spec = {.flavor_label = (char *) "bench", .zone = (char *) "default",
                         .sr_type = (char *) "nfs",
                         .sr_uuid = (char *) "5e000000-0000-4000-8000-ffffffffffff",
                         .nconfig = 2, .config = config};
    int64_t backend = xs_store_backend_add (store, &spec, &err);
    if (backend < 0)
        s_die ("%s", err.msg);
    for (long i = 0; i < count; i++) {
        char uuid [48], vdi [48];
        snprintf (uuid, sizeof uuid, "0000f111-0000-4000-8000-%012d", (int) i);
        snprintf (vdi, sizeof vdi, "0000d111-0000-4000-8000-%012d", (int) i);
        xs_volume_t v = {.uuid = uuid, .size_bytes = 1 << 20, .flavor_id = 1,
                         .backend_id = backend, .vdi_uuid = vdi,
                         .state = XS_VOLUME_AVAILABLE};
        if (xs_store_volume_insert (store, &v, &err))
            s_die ("%s", err.msg);
    }
    if (xs_store_commit (store, &err))
        s_die ("%s", err.msg);
    xs_store_destroy (&store);
    printf ("{\"volumes\": %ld}\n", count);
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc < 2)
        s_die ("usage: xs-bench-catalog agents|load|relay|fill ...");
    signal (SIGPIPE, SIG_IGN);
    if (streq (argv [1], "agents"))
        return s_agents (argc - 2, argv + 2);
    if (streq (argv [1], "load"))
        return s_load (argc - 2, argv + 2);
    if (streq (argv [1], "relay"))
        return s_relay (argc - 2, argv + 2);
    if (streq (argv [1], "fill"))
        return s_fill (argc - 2, argv + 2);
    s_die ("unknown command %s", argv [1]);
    return 2;
}
