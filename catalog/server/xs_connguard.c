/*  xs_connguard: sheds connections before they use up the descriptors. */
#include "xs_connguard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "xs_log.h"
#include "xs_mem.h"

#define S_RESERVE_MIN 64            /* descriptors kept for everything else */
#define S_LOG_EVERY_MS 10000        /* at most one "shed" line per this     */

struct _xs_connguard_t {
    zsock_t *sock;              /* borrowed: the guarded socket           */
    zsock_t *monitor;           /* its monitor events                     */
    zloop_t *loop;
    int port;                   /* as bound; 0 before xs_connguard_bound */
    size_t usable;              /* descriptors its connections may use    */
    int64_t *accepted;          /* fd -> zclock_mono of the accept; 0: none */
    size_t accepted_size;
    size_t open;                /* fds with accepted [fd] != 0            */
    uint64_t shed;
    uint64_t shed_logged;       /* shed when the last line was written    */
    int64_t logged_at;
    uint64_t accept_failed;
};

void
xs_connguard_prepare (zsock_t *sock)
{
    zsock_set_handshake_ivl (sock, XS_CONNGUARD_HANDSHAKE_MS);
}

/* The descriptors the guarded connections may use: the soft limit less a
   reserve. */
static size_t
s_usable (void)
{
    struct rlimit lim;
    if (getrlimit (RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY
    ||  lim.rlim_cur > 1u << 24)
        return 1u << 24;
    size_t limit = (size_t) lim.rlim_cur;
    size_t reserve = limit / 8 > S_RESERVE_MIN ? limit / 8 : S_RESERVE_MIN;
    return limit > 2 * reserve ? limit - reserve : limit / 2;
}

/* Whether fd is (still) a TCP connection to the guarded port: the event
   may be older than the descriptor's current use. */
static bool
s_is_ours (xs_connguard_t *self, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (self->port == 0 || getsockname (fd, (struct sockaddr *) &ss, &len) != 0)
        return false;
    if (ss.ss_family == AF_INET)
        return ntohs (((struct sockaddr_in *) &ss)->sin_port) == self->port;
    if (ss.ss_family == AF_INET6)
        return ntohs (((struct sockaddr_in6 *) &ss)->sin6_port) == self->port;
    return false;
}

static void
s_track (xs_connguard_t *self, int fd, int64_t now)
{
    if ((size_t) fd >= self->accepted_size) {
        size_t size = self->accepted_size ? self->accepted_size : 256;
        while (size <= (size_t) fd)
            size *= 2;
        self->accepted = xs_realloc (self->accepted, size * sizeof *self->accepted);
        memset (self->accepted + self->accepted_size, 0,
                (size - self->accepted_size) * sizeof *self->accepted);
        self->accepted_size = size;
    }
    if (self->accepted [fd] == 0)
        self->open++;
    self->accepted [fd] = now;
}

static void
s_untrack (xs_connguard_t *self, int fd)
{
    if (fd >= 0 && (size_t) fd < self->accepted_size && self->accepted [fd]) {
        self->accepted [fd] = 0;
        self->open--;
    }
}

/* Connections accepted within the handshake interval (and a second). */
static size_t
s_young (const xs_connguard_t *self, int64_t now)
{
    size_t n = 0;
    int64_t since = now - XS_CONNGUARD_HANDSHAKE_MS - 1000;
    for (size_t fd = 0; fd < self->accepted_size; fd++)
        if (self->accepted [fd] > since)
            n++;
    return n;
}

static void
s_log_shed (xs_connguard_t *self, int64_t now, size_t young)
{
    if (self->shed == self->shed_logged || now - self->logged_at < S_LOG_EVERY_MS)
        return;
    xs_warning ("agent socket: shed %llu new connection(s) (%llu in all): %zu open, %zu of "
                "them younger than the %d ms handshake interval; at most %zu descriptors "
                "for connections (RLIMIT_NOFILE less a reserve)",
                (unsigned long long) (self->shed - self->shed_logged),
                (unsigned long long) self->shed, self->open, young,
                XS_CONNGUARD_HANDSHAKE_MS, self->usable);
    self->shed_logged = self->shed;
    self->logged_at = now;
}

/* A connection was accepted on fd: counted, or shed when over a cap. */
static void
s_accepted (xs_connguard_t *self, int fd)
{
    if (fd < 0 || !s_is_ours (self, fd))
        return;
    int64_t now = zclock_mono ();
    size_t young = s_young (self, now);
    if (self->open + 1 > self->usable || young + 1 > self->usable / 2) {
        s_untrack (self, fd);
        if (shutdown (fd, SHUT_RDWR) == 0)
            self->shed++;
        s_log_shed (self, now, young);
        return;
    }
    s_track (self, fd, now);
}

static void
s_event (xs_connguard_t *self, uint16_t event, uint32_t value, const char *where)
{
    if (event == ZMQ_EVENT_ACCEPTED)
        s_accepted (self, (int) value);
    else
    if (event == ZMQ_EVENT_DISCONNECTED)
        s_untrack (self, (int) value);
    else
    if (event == ZMQ_EVENT_ACCEPT_FAILED) {
        /* libzmq copes (the listener retries); say so now and then. */
        if (self->accept_failed++ % 1000 == 0)
            xs_warning ("agent socket: accept failed on %s: %s (%llu time(s))", where,
                        strerror ((int) value), (unsigned long long) self->accept_failed);
    }
    else
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        xs_warning ("agent socket: refused a connection on %s: CURVE key not in the "
                    "allow-list (ZAP status %u)", where, value);
    else
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        xs_warning ("agent socket: handshake failed on %s (event 0x%x, %u)", where, event,
                    value);
}

static int
s_on_monitor (zloop_t *loop, zsock_t *reader, void *arg)
{
    xs_connguard_t *self = (xs_connguard_t *) arg;
    /* Drain what is there: a flood is many events per wake-up. */
    for (int n = 0; n < 4096 && (zsock_events (reader) & ZMQ_POLLIN); n++) {
        zmsg_t *m = zmsg_recv (reader);
        if (!m)
            break;
        zframe_t *ev = zmsg_first (m);
        zframe_t *addr = zmsg_next (m);
        if (ev && zframe_size (ev) >= 6) {
            uint16_t event;
            uint32_t value;
            memcpy (&event, zframe_data (ev), 2);
            memcpy (&value, zframe_data (ev) + 2, 4);
            char *where = addr ? zframe_strdup (addr) : xs_strdup ("?");
            s_event (self, event, value, where);
            free (where);
        }
        zmsg_destroy (&m);
    }
    return 0;
}

xs_connguard_t *
xs_connguard_new (zsock_t *sock, zloop_t *loop)
{
    static unsigned instance;
    char mon [64];
    snprintf (mon, sizeof mon, "inproc://xensm-connguard-%u", ++instance);
    if (zmq_socket_monitor (zsock_resolve (sock), mon,
                            ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED
                          | ZMQ_EVENT_ACCEPT_FAILED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                          | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0) {
        xs_warning ("agent socket: no monitor (%s): connections are not guarded",
                    zmq_strerror (zmq_errno ()));
        return NULL;
    }
    xs_connguard_t *self = xs_zalloc (sizeof *self);
    self->sock = sock;
    self->loop = loop;
    self->usable = s_usable ();
    /* No high-water mark: a dropped event would miscount. */
    self->monitor = zsock_new (ZMQ_PAIR);
    if (self->monitor) {
        zsock_set_rcvhwm (self->monitor, 0);
        if (zsock_connect (self->monitor, "%s", mon) != 0)
            zsock_destroy (&self->monitor);
    }
    if (!self->monitor || zloop_reader (loop, self->monitor, s_on_monitor, self) != 0) {
        xs_warning ("agent socket: cannot read its monitor: connections are not guarded");
        xs_connguard_destroy (&self);
        return NULL;
    }
    return self;
}

void
xs_connguard_bound (xs_connguard_t *self, const char *endpoint)
{
    const char *colon = endpoint ? strrchr (endpoint, ':') : NULL;
    if (self && colon)
        self->port = atoi (colon + 1);
}

void
xs_connguard_destroy (xs_connguard_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_connguard_t *self = *self_p;
    if (self->monitor)
        zloop_reader_end (self->loop, self->monitor);
    zmq_socket_monitor (zsock_resolve (self->sock), NULL, 0);
    zsock_destroy (&self->monitor);
    free (self->accepted);
    free (self);
    *self_p = NULL;
}

size_t
xs_connguard_open (const xs_connguard_t *self)
{
    return self ? self->open : 0;
}

uint64_t
xs_connguard_shed (const xs_connguard_t *self)
{
    return self ? self->shed : 0;
}
