/*  xs-bench-hosts: many light bench host agents in one thread, for the
    10,000-agent row of bench/run (section 3).

    Each host is one ZeroMQ DEALER socket with its own CURVE client
    certificate, speaking the agent protocol (docs/PROTOCOL.md) as
    xensm-agentd does: register, welcome, one sr_state per backend (the
    stored SR, or a made one for `create: true`), a heartbeat every
    heartbeat_ms carrying every SR's stats on the first beat after a
    welcome and every 10th, an empty list otherwise; every request answered
    at once; `not_registered` registers again. One thread and one epoll set
    (each socket's ZMQ_FD, drained until ZMQ_EVENTS has no POLLIN), the
    heartbeats due in FIFO order, so that the process costs little next to
    the catalog it loads. No xapi, no worker threads.

    xs-bench-hosts --prepare --dir DIR --enroll KEYS_DIR --hosts N
    xs-bench-hosts --catalog ENDPOINT --catalog-key FILE --dir DIR
                   [--first I] --hosts N [--per-zone Z]

    Host i uses DIR/host<i>.cert and host uuid
    00000000-0000-4000-a000-<i as 12 digits>, in zone scale-<i / Z>
    (default Z 100, a pool's size). --prepare writes the certificates and
    copies each public one into KEYS_DIR (what `xensm-manage host enroll`
    does). With XENSM_READY_FD=n, "READY\n" goes to fd n once every host of
    this process has been welcomed. Runs until SIGTERM or SIGINT, then
    prints "acks <heartbeat acks received>" on stdout. Raises its own
    descriptor limit to the hard limit (two descriptors per host: the TCP
    connection and the socket's mailbox).
*/
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <czmq.h>

#include "xs_daemon.h"
#include "xs_proto.h"

#define S_PIB 1125899906842624LL

typedef struct {
    zsock_t *sock;
    char uuid [48];
    char zone [32];
    bool welcomed;
    int beats;
    json_t *srs;                /* [{backend_id, sr_uuid}] attached */
    int64_t due;                /* next heartbeat, zclock_mono      */
} s_host_t;

typedef struct {
    s_host_t *hosts;
    int n;
    int welcomed;
    int connected;              /* hosts[0 .. connected) have sockets */
    int heartbeat_ms;
    uint64_t seq;
    uint64_t acks;
    int ring_head;              /* hosts in due order: a FIFO ring of indexes */
    int ring_len;
    int *ring;
} s_bench_t;

static void
s_send (s_bench_t *self, s_host_t *h, xs_proto_t **msg_p)
{
    size_t size;
    char *data = xs_proto_encode (*msg_p, &size, NULL);
    xs_proto_destroy (msg_p);
    if (!data)
        return;
    zmq_send (zsock_resolve (h->sock), data, size, ZMQ_DONTWAIT);
    free (data);
}

static const char *
s_next_id (s_bench_t *self, char *buf, size_t size)
{
    snprintf (buf, size, "b%llu", (unsigned long long) ++self->seq);
    return buf;
}

static void
s_register (s_bench_t *self, s_host_t *h)
{
    char id [32];
    xs_proto_t *m = xs_proto_new (XS_PROTO_REGISTER, s_next_id (self, id, sizeof id));
    xs_proto_set_str (m, "host_uuid", h->uuid);
    xs_proto_set_str (m, "zone", h->zone);
    xs_proto_set_str (m, "name", h->uuid);
    s_send (self, h, &m);
}

static void
s_heartbeat (s_bench_t *self, s_host_t *h)
{
    char id [32];
    xs_proto_t *m = xs_proto_new (XS_PROTO_HEARTBEAT, s_next_id (self, id, sizeof id));
    xs_proto_set_str (m, "host_uuid", h->uuid);
    xs_proto_set_int (m, "busy", 0);
    json_t *srs = json_array ();
    if (h->beats++ % 10 == 0) {
        size_t i;
        json_t *sr;
        json_array_foreach (h->srs, i, sr)
            json_array_append_new (srs, json_pack (
                "{s:O, s:O, s:I, s:I, s:I, s:[s, s, s, s]}",
                "backend_id", json_object_get (sr, "backend_id"),
                "sr_uuid", json_object_get (sr, "sr_uuid"), "physical_size",
                (json_int_t) S_PIB, "physical_utilisation", (json_int_t) 0,
                "virtual_allocation", (json_int_t) 0, "capabilities", "VDI_CREATE",
                "VDI_DELETE", "VDI_CLONE", "VDI_SNAPSHOT"));
    }
    xs_proto_set (m, "srs", &srs);
    s_send (self, h, &m);
}

/* SR `sr_uuid` of backend `backend_id` attached: tell the catalog. */
static void
s_attached (s_bench_t *self, s_host_t *h, json_int_t backend_id, const char *sr_uuid)
{
    char id [32];
    xs_proto_t *m = xs_proto_new (XS_PROTO_SR_STATE, s_next_id (self, id, sizeof id));
    xs_proto_set_int (m, "backend_id", backend_id);
    xs_proto_set_str (m, "state", "attached");
    xs_proto_set_str (m, "sr_uuid", sr_uuid);
    s_send (self, h, &m);
    json_array_append_new (h->srs, json_pack ("{s:I, s:s}", "backend_id", backend_id,
                                              "sr_uuid", sr_uuid));
}

static void
s_made_uuid (json_int_t backend_id, char *buf, size_t size)
{
    snprintf (buf, size, "00000000-0000-4000-9000-%012lld", (long long) backend_id);
}

static void
s_on_welcome (s_bench_t *self, s_host_t *h, xs_proto_t *msg)
{
    self->heartbeat_ms = (int) xs_proto_int (msg, "heartbeat_ms", 1000);
    json_array_clear (h->srs);
    size_t i;
    json_t *b;
    json_array_foreach (xs_proto_get (msg, "backends"), i, b) {
        json_int_t backend_id = json_integer_value (json_object_get (b, "backend_id"));
        const char *sr = json_string_value (json_object_get (b, "sr_uuid"));
        char made [64];
        if (!sr && json_is_true (json_object_get (b, "create"))) {
            s_made_uuid (backend_id, made, sizeof made);
            sr = made;
        }
        if (sr)
            s_attached (self, h, backend_id, sr);
    }
    h->beats = 0;
    s_heartbeat (self, h);
    if (!h->welcomed) {
        h->welcomed = true;
        self->welcomed++;
    }
}

/* A request answered at once, as the bench executor of bench_agents.c. */
static void
s_on_request (s_bench_t *self, s_host_t *h, xs_proto_t *msg)
{
    json_t *args = xs_proto_args (msg);
    const char *sr = json_string_value (json_object_get (args, "sr_uuid"));
    json_t *value = NULL;
    switch (xs_proto_op (msg)) {
        case XS_OP_SR_ATTACH: {
            json_t *b = json_object_get (args, "backend");
            json_int_t backend_id = json_integer_value (json_object_get (b, "backend_id"));
            const char *stored = json_string_value (json_object_get (b, "sr_uuid"));
            char made [64];
            s_made_uuid (backend_id, made, sizeof made);
            value = json_pack ("{s:s}", "sr_uuid", stored ? stored : made);
            json_array_append_new (h->srs, json_pack ("{s:I, s:s}", "backend_id", backend_id,
                                                      "sr_uuid", stored ? stored : made));
            break;
        }
        case XS_OP_VDI_CREATE:
        case XS_OP_VDI_FIND:
            value = json_pack ("{s:s, s:s, s:O}", "vdi_uuid",
                               json_string_value (json_object_get (args, "volume_uuid")) ?: "",
                               "sr_uuid", sr ? sr : "", "size", json_object_get (args, "size"));
            break;
        default:
            value = json_object ();
    }
    xs_proto_t *r = xs_proto_result_ok_new (xs_proto_id (msg), &value);
    s_send (self, h, &r);
}

static void
s_on_message (s_bench_t *self, s_host_t *h, zframe_t *frame)
{
    xs_proto_t *reply = NULL;
    xs_err_t err;
    xs_proto_t *msg = xs_proto_decode (zframe_data (frame), zframe_size (frame), &reply, &err);
    xs_proto_destroy (&reply);
    if (!msg)
        return;
    switch (xs_proto_type (msg)) {
        case XS_PROTO_WELCOME:
            s_on_welcome (self, h, msg);
            break;
        case XS_PROTO_HEARTBEAT_ACK:
            self->acks++;
            break;
        case XS_PROTO_REQUEST:
            s_on_request (self, h, msg);
            break;
        case XS_PROTO_ERROR:
            if (streq (xs_proto_str (msg, "code") ?: "", XS_PROTO_E_NOT_REGISTERED))
                s_register (self, h);
            else
                fprintf (stderr, "xs-bench-hosts: host %s: error %s: %s\n", h->uuid,
                         xs_proto_str (msg, "code"), xs_proto_str (msg, "message"));
            break;
        default:
            break;
    }
    xs_proto_destroy (&msg);
}

/* Everything waiting on host h's socket (ZMQ_FD is edge-triggered: read
   until ZMQ_EVENTS says no more, after every send too). */
static void
s_drain (s_bench_t *self, s_host_t *h)
{
    while (zsock_events (h->sock) & ZMQ_POLLIN) {
        zframe_t *frame = zframe_recv (h->sock);
        if (!frame)
            break;
        s_on_message (self, h, frame);
        zframe_destroy (&frame);
    }
}

static int
s_prepare (const char *dir, const char *enroll, int first, int n)
{
    for (int i = first; i < first + n; i++) {
        char path [1024], to [1024];
        snprintf (path, sizeof path, "%s/host%d.cert", dir, i);
        snprintf (to, sizeof to, "%s/bench-host%d.cert", enroll, i);
        zcert_t *cert = zcert_new ();
        if (!cert || zcert_save (cert, path) || zcert_save_public (cert, to)) {
            fprintf (stderr, "xs-bench-hosts: cannot write %s and %s: %s\n", path, to,
                     strerror (errno));
            zcert_destroy (&cert);
            return 1;
        }
        zcert_destroy (&cert);
    }
    return 0;
}

/* Connects the next hosts, so that at most S_CONNECTING are connecting
   and registering at once (a herd of 10,000 CURVE handshakes at once on a
   loaded machine times out and retries faster than it is served; real
   agents start at different times too). */
#define S_CONNECTING 250

static int
s_connect (s_bench_t *self, int epfd, const char *catalog, zcert_t *server,
           const char *dir, int first, int per_zone)
{
    for (int i = self->connected; i < self->n && i < self->welcomed + S_CONNECTING; i++) {
        self->connected = i + 1;
        s_host_t *h = &self->hosts [i];
        char path [1024];
        snprintf (path, sizeof path, "%s/host%d.cert", dir, first + i);
        zcert_t *cert = zcert_load (path);
        h->sock = zsock_new (ZMQ_DEALER);
        if (!cert || !h->sock) {
            fprintf (stderr, "xs-bench-hosts: host %d: no certificate %s or no socket: %s\n",
                     first + i, path, strerror (errno));
            zcert_destroy (&cert);
            return -1;
        }
        snprintf (h->uuid, sizeof h->uuid, "00000000-0000-4000-a000-%012d", first + i);
        snprintf (h->zone, sizeof h->zone, "scale-%d", (first + i) / per_zone);
        h->srs = json_array ();
        zsock_set_linger (h->sock, 0);
        zcert_apply (cert, h->sock);
        zsock_set_curve_serverkey (h->sock, zcert_public_txt (server));
        zcert_destroy (&cert);
        if (zsock_connect (h->sock, "%s", catalog)) {
            fprintf (stderr, "xs-bench-hosts: cannot connect to %s\n", catalog);
            return -1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t) i};
        if (epoll_ctl (epfd, EPOLL_CTL_ADD, zsock_fd (h->sock), &ev)) {
            fprintf (stderr, "xs-bench-hosts: epoll: %s\n", strerror (errno));
            return -1;
        }
        s_register (self, h);
        s_drain (self, h);
    }
    return 0;
}

/* Heartbeats that are due, in FIFO order; ms until the next one. */
static int
s_beat (s_bench_t *self)
{
    int64_t now = zclock_mono ();
    while (self->ring_len > 0) {
        s_host_t *h = &self->hosts [self->ring [self->ring_head]];
        if (h->due > now)
            return (int) (h->due - now);
        self->ring_head = (self->ring_head + 1) % self->n;
        self->ring_len--;
        if (h->welcomed)
            s_heartbeat (self, h);
        h->due = now + self->heartbeat_ms;
        self->ring [(self->ring_head + self->ring_len) % self->n] = (int) (h - self->hosts);
        self->ring_len++;
        if (h->sock)
            s_drain (self, h);
    }
    return 1000;
}

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: xs-bench-hosts --prepare --dir DIR --enroll KEYS_DIR [--first I] "
                  "--hosts N\n"
                  "       xs-bench-hosts --catalog ENDPOINT --catalog-key FILE --dir DIR "
                  "[--first I] --hosts N [--per-zone Z]\n");
}

typedef struct {
    const char *catalog, *dir;
    zcert_t *server;
    int first, per_zone;
} s_conn_t;

static int
s_run (s_bench_t *self, int epfd, const s_conn_t *c)
{
    bool told = false;
    struct epoll_event events [256];
    while (true) {
        if (self->connected < self->n
        &&  s_connect (self, epfd, c->catalog, c->server, c->dir, c->first, c->per_zone))
            return 1;
        if (!told && self->welcomed == self->n) {
            told = true;
            const char *env = getenv ("XENSM_READY_FD");
            if (env && *env) {
                int fd = atoi (env);
                if (write (fd, "READY\n", 6) != 6)
                    fprintf (stderr, "xs-bench-hosts: READY: %s\n", strerror (errno));
                close (fd);
            }
        }
        int timeout = s_beat (self);
        int n = epoll_wait (epfd, events, 256, timeout);
        if (n < 0 && errno != EINTR)
            return 1;
        for (int k = 0; k < n; k++) {
            if (events [k].data.u32 == UINT32_MAX)
                return 0;
            s_drain (self, &self->hosts [events [k].data.u32]);
        }
    }
}

int
main (int argc, char **argv)
{
    static const struct option longopts [] = {
        {"catalog", required_argument, NULL, 'C'},
        {"catalog-key", required_argument, NULL, 'K'},
        {"dir", required_argument, NULL, 'd'},
        {"enroll", required_argument, NULL, 'e'},
        {"first", required_argument, NULL, 'f'},
        {"hosts", required_argument, NULL, 'n'},
        {"per-zone", required_argument, NULL, 'z'},
        {"prepare", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    const char *catalog = NULL, *catalog_key = NULL, *dir = NULL, *enroll = NULL;
    int first = 0, n = 0, per_zone = 100;
    bool prepare = false;
    int c;
    while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
            case 'C': catalog = optarg; break;
            case 'K': catalog_key = optarg; break;
            case 'd': dir = optarg; break;
            case 'e': enroll = optarg; break;
            case 'f': first = atoi (optarg); break;
            case 'n': n = atoi (optarg); break;
            case 'z': per_zone = atoi (optarg); break;
            case 'p': prepare = true; break;
            case 'h': s_usage (stdout); return 0;
            default: s_usage (stderr); return 2;
        }
    }
    if (!dir || n < 1 || first < 0 || per_zone < 1 || optind < argc
    ||  (prepare ? !enroll : (!catalog || !catalog_key))) {
        s_usage (stderr);
        return 2;
    }
    if (prepare)
        return s_prepare (dir, enroll, first, n);
    xs_daemon_raise_nofile ();
    zsys_set_max_sockets (0);       /* as many as the descriptors allow */
    zsys_handler_set (NULL);
    sigset_t stop;
    sigemptyset (&stop);
    sigaddset (&stop, SIGTERM);
    sigaddset (&stop, SIGINT);
    sigprocmask (SIG_BLOCK, &stop, NULL);
    int sigfd = signalfd (-1, &stop, SFD_CLOEXEC);
    int epfd = epoll_create1 (EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    if (sigfd < 0 || epfd < 0 || epoll_ctl (epfd, EPOLL_CTL_ADD, sigfd, &ev)) {
        fprintf (stderr, "xs-bench-hosts: signalfd/epoll: %s\n", strerror (errno));
        return 1;
    }
    s_bench_t self = {.n = n, .heartbeat_ms = 1000};
    self.hosts = calloc ((size_t) n, sizeof *self.hosts);
    self.ring = calloc ((size_t) n, sizeof *self.ring);
    int rc = 1;
    s_conn_t conn = {catalog, dir, zcert_load (catalog_key), first, per_zone};
    if (!conn.server)
        fprintf (stderr, "xs-bench-hosts: cannot read %s\n", catalog_key);
    else
    if (self.hosts && self.ring) {
        /* The first heartbeats spread over one interval. */
        int64_t now = zclock_mono ();
        for (int i = 0; i < n; i++) {
            self.hosts [i].due = now + (int64_t) i * 1000 / n;
            self.ring [i] = i;
        }
        self.ring_len = n;
        rc = s_run (&self, epfd, &conn);
    }
    zcert_destroy (&conn.server);
    printf ("acks %llu\n", (unsigned long long) self.acks);
    for (int i = 0; self.hosts && i < n; i++) {
        zsock_destroy (&self.hosts [i].sock);
        json_decref (self.hosts [i].srs);
    }
    free (self.hosts);
    free (self.ring);
    close (epfd);
    close (sigfd);
    return rc;
}
