/*  xs-bench-zprobe: what N idle CURVE peers cost a bare ZeroMQ ROUTER, the
    baseline for catalogd's memory per connected agent (bench/run section 3,
    the 10,000-agent row).

    xs-bench-zprobe --server ENDPOINT --cert FILE [--arena-max N] [--zap]
        A CURVE server ROUTER (no ZAP handler: every client key is admitted;
        with --zap, a ZAP handler admits every key and names it as the
        User-Id, as catalogd's does after its allow-list check) that
        answers every message with one of the same size to its sender, as
        catalogd answers a heartbeat with its ack. On SIGUSR1 it prints
        its VmRSS and malloc's view (mallinfo2: arena, in use, free) on
        stdout. --arena-max sets mallopt (M_ARENA_MAX) first.
    xs-bench-zprobe --clients N --endpoint ENDPOINT --server-key FILE
                    [--beat-ms MS]
        N DEALER sockets, each with its own CURVE key, each sending a
        100-byte message every MS (default 1000) ms, spread over the
        interval. Prints "connected" once every client has had an answer.

    Both run until SIGTERM or SIGINT. One thread each besides libzmq's I/O
    thread; they raise their descriptor limit to the hard limit.
*/
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <czmq.h>

#include "xs_daemon.h"

static long
s_rss_kib (void)
{
    FILE *f = fopen ("/proc/self/status", "r");
    char line [256];
    long kib = -1;
    while (f && fgets (line, sizeof line, f))
        if (strncmp (line, "VmRSS:", 6) == 0)
            kib = atol (line + 6);
    if (f)
        fclose (f);
    return kib;
}

static int
s_signals (void)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGUSR1);
    sigprocmask (SIG_BLOCK, &set, NULL);
    return signalfd (-1, &set, SFD_CLOEXEC);
}

/* 1: stop; 0: SIGUSR1 (report); -1: nothing read. */
static int
s_signal (int sigfd)
{
    struct signalfd_siginfo si;
    if (read (sigfd, &si, sizeof si) != (ssize_t) sizeof si)
        return -1;
    return si.ssi_signo == SIGUSR1 ? 0 : 1;
}

/* A ZAP handler (RFC 27) that admits every CURVE key, its Z85 the User-Id. */
static void
s_zap_actor (zsock_t *pipe, void *arg)
{
    zsock_t *handler = zsock_new (ZMQ_REP);
    if (!handler || zsock_bind (handler, "inproc://zeromq.zap.01") == -1) {
        zsock_destroy (&handler);
        zsock_signal (pipe, 1);
        return;
    }
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, handler, NULL);
    while (zpoller_wait (poller, -1) == handler) {
        zmsg_t *req = zmsg_recv (handler);
        if (!req)
            break;
        char *version = zmsg_popstr (req), *id = zmsg_popstr (req);
        zframe_t *key = zmsg_last (req);
        char z85 [41] = "";
        if (key && zframe_size (key) == 32)
            zmq_z85_encode (z85, zframe_data (key), 32);
        zmsg_t *reply = zmsg_new ();
        zmsg_addstr (reply, "1.0");
        zmsg_addstr (reply, id ? id : "");
        zmsg_addstr (reply, "200");
        zmsg_addstr (reply, "OK");
        zmsg_addstr (reply, z85);
        zmsg_addmem (reply, NULL, 0);
        zmsg_send (&reply, handler);
        free (version);
        free (id);
        zmsg_destroy (&req);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&handler);
}

static int
s_server (const char *endpoint, const char *cert_file, bool zap, int sigfd)
{
    zactor_t *auth = zap ? zactor_new (s_zap_actor, NULL) : NULL;
    zcert_t *cert = zcert_load (cert_file);
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    if (!cert || !router) {
        fprintf (stderr, "xs-bench-zprobe: cannot load %s or make a socket\n", cert_file);
        return 1;
    }
    zcert_apply (cert, router);
    zsock_set_curve_server (router, 1);
    if (zap)
        zsock_set_zap_domain (router, "probe");
    zsock_set_sndhwm (router, 100000);
    zsock_set_rcvhwm (router, 100000);
    zsock_set_linger (router, 0);
    if (zsock_bind (router, "%s", endpoint) == -1) {
        fprintf (stderr, "xs-bench-zprobe: cannot bind %s\n", endpoint);
        return 1;
    }
    zmq_pollitem_t items [] = {{zsock_resolve (router), 0, ZMQ_POLLIN, 0},
                               {NULL, sigfd, ZMQ_POLLIN, 0}};
    uint64_t answered = 0;
    while (zmq_poll (items, 2, -1) >= 0 || zmq_errno () == EINTR) {
        if (items [1].revents & ZMQ_POLLIN) {
            int sig = s_signal (sigfd);
            if (sig == 1)
                break;
            struct mallinfo2 mi = mallinfo2 ();
            printf ("rss_kib %ld arena_kib %zu hblkhd_kib %zu inuse_kib %zu free_kib %zu "
                    "answered %llu\n", s_rss_kib (), mi.arena / 1024, mi.hblkhd / 1024,
                    mi.uordblks / 1024, mi.fordblks / 1024, (unsigned long long) answered);
            fflush (stdout);
        }
        for (int n = 0; n < 256; n++) {
            zmsg_t *msg = zmsg_recv_nowait (router);
            if (!msg)
                break;
            zmsg_send (&msg, router);
            answered++;
        }
    }
    zsock_destroy (&router);
    zactor_destroy (&auth);
    zcert_destroy (&cert);
    return 0;
}

static int
s_clients (int n, const char *endpoint, const char *server_key, int beat_ms, int sigfd)
{
    zcert_t *server = zcert_load (server_key);
    zsock_t **socks = calloc ((size_t) n, sizeof *socks);
    bool *heard = calloc ((size_t) n, sizeof *heard);
    zmq_pollitem_t *items = calloc ((size_t) n + 1, sizeof *items);
    if (!server || !socks || !heard || !items) {
        fprintf (stderr, "xs-bench-zprobe: cannot load %s\n", server_key);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        zcert_t *cert = zcert_new ();
        socks [i] = zsock_new (ZMQ_DEALER);
        if (!cert || !socks [i]) {
            fprintf (stderr, "xs-bench-zprobe: client %d: no key or socket\n", i);
            return 1;
        }
        zsock_set_linger (socks [i], 0);
        zcert_apply (cert, socks [i]);
        zsock_set_curve_serverkey (socks [i], zcert_public_txt (server));
        zcert_destroy (&cert);
        zsock_connect (socks [i], "%s", endpoint);
        items [i] = (zmq_pollitem_t) {zsock_resolve (socks [i]), 0, ZMQ_POLLIN, 0};
    }
    items [n] = (zmq_pollitem_t) {NULL, sigfd, ZMQ_POLLIN, 0};
    char body [100];
    memset (body, 'x', sizeof body);
    int heard_n = 0, next = 0;
    int64_t start = zclock_mono ();
    uint64_t sent = 0;
    while (true) {
        /* Client i is due at start + i * beat_ms / n + k * beat_ms. */
        int64_t now = zclock_mono ();
        while ((int64_t) sent * beat_ms / n <= now - start) {
            zmq_send (zsock_resolve (socks [next]), body, sizeof body, ZMQ_DONTWAIT);
            next = (next + 1) % n;
            sent++;
        }
        int64_t due = start + (int64_t) sent * beat_ms / n;
        if (zmq_poll (items, n + 1, due - now > 0 ? due - now : 0) < 0 && zmq_errno () != EINTR)
            break;
        if ((items [n].revents & ZMQ_POLLIN) && s_signal (sigfd) == 1)
            break;
        for (int i = 0; i < n; i++)
            while (items [i].revents & ZMQ_POLLIN) {
                zframe_t *f = zframe_recv_nowait (socks [i]);
                if (!f)
                    break;
                zframe_destroy (&f);
                if (!heard [i]) {
                    heard [i] = true;
                    if (++heard_n == n) {
                        printf ("connected %d in %.1f s\n", n,
                                (zclock_mono () - start) / 1000.0);
                        fflush (stdout);
                    }
                }
            }
    }
    for (int i = 0; i < n; i++)
        zsock_destroy (&socks [i]);
    free (socks);
    free (heard);
    free (items);
    zcert_destroy (&server);
    return 0;
}

int
main (int argc, char **argv)
{
    static const struct option longopts [] = {
        {"server", required_argument, NULL, 's'},
        {"cert", required_argument, NULL, 'c'},
        {"arena-max", required_argument, NULL, 'a'},
        {"zap", no_argument, NULL, 'z'},
        {"clients", required_argument, NULL, 'n'},
        {"endpoint", required_argument, NULL, 'e'},
        {"server-key", required_argument, NULL, 'k'},
        {"beat-ms", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0}
    };
    const char *server = NULL, *cert = NULL, *endpoint = NULL, *server_key = NULL;
    int clients = 0, beat_ms = 1000, arena_max = 0, c;
    bool zap = false;
    while ((c = getopt_long (argc, argv, "", longopts, NULL)) != -1)
        switch (c) {
            case 's': server = optarg; break;
            case 'c': cert = optarg; break;
            case 'a': arena_max = atoi (optarg); break;
            case 'z': zap = true; break;
            case 'n': clients = atoi (optarg); break;
            case 'e': endpoint = optarg; break;
            case 'k': server_key = optarg; break;
            case 'b': beat_ms = atoi (optarg); break;
            default: return 2;
        }
    if (!(server && cert) && !(clients > 0 && endpoint && server_key && beat_ms > 0)) {
        fprintf (stderr, "usage: xs-bench-zprobe --server ENDPOINT --cert FILE [--arena-max N] [--zap]\n"
                         "       xs-bench-zprobe --clients N --endpoint ENDPOINT "
                         "--server-key FILE [--beat-ms MS]\n");
        return 2;
    }
    if (arena_max > 0)
        mallopt (M_ARENA_MAX, arena_max);
    xs_daemon_raise_nofile ();
    zsys_set_max_sockets (0);
    zsys_handler_set (NULL);
    int sigfd = s_signals ();
    if (sigfd < 0)
        return 1;
    int rc = server ? s_server (server, cert, zap, sigfd)
                    : s_clients (clients, endpoint, server_key, beat_ms, sigfd);
    close (sigfd);
    return rc;
}
