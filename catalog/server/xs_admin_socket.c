/*  xs_admin_socket: the admin protocol's transport. */
#include "xs_admin_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "xs_catalog_cfg.h"
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_reply.h"

struct _xs_admin_socket_t {
    xs_admin_t *admin;              /* borrowed                               */
    zloop_t *loop;                  /* borrowed                               */
    zsock_t *sock;                  /* the ROUTER                             */
    char *endpoint;                 /* as bound (tcp port resolved)           */
    char *ipc_path;                 /* socket file we made, or NULL           */
    int ipc_lock_fd;                /* flock on "<ipc_path>.lock", or -1      */
    size_t batch_max;
    uint64_t replies;
};

/* ---------------------------------------------------------------------
   ipc endpoints: directory, lock, liveness probe
   --------------------------------------------------------------------- */

/* Creates every missing directory of `dir` with mode 0700. */
static int
s_make_dirs (const char *dir, xs_err_t *err)
{
    char path [PATH_MAX];
    if (snprintf (path, sizeof path, "%s", dir) >= (int) sizeof path)
        return xs_err_set (err, XS_EINVAL, "%s: path too long", dir);
    for (char *p = path + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir (path, 0700) && errno != EEXIST)
                return xs_err_set (err, XS_EIO, "cannot create directory %s: %s",
                                   path, strerror (errno));
            *p = saved;
            if (!saved)
                break;
        }
    }
    return 0;
}

/* 1 when something accepts connections on unix socket `path`, 0 when not
   (missing or stale file), -1 when it cannot be told (*err set). */
static int
s_probe_unix (const char *path, xs_err_t *err)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen (path) >= sizeof addr.sun_path)
        return xs_err_set (err, XS_EINVAL, "%s: socket path too long", path);
    strcpy (addr.sun_path, path);
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return xs_err_set (err, XS_EIO, "socket(): %s", strerror (errno));
    int rc = connect (fd, (struct sockaddr *) &addr, sizeof addr);
    int saved = errno;
    close (fd);
    if (rc == 0)
        return 1;
    if (saved == ENOENT || saved == ECONNREFUSED)
        return 0;
    return xs_err_set (err, XS_EIO, "cannot probe %s: %s", path, strerror (saved));
}

/* Takes the exclusive lock beside ipc `path`. */
static int
s_lock_ipc (xs_admin_socket_t *self, const char *endpoint, const char *path, xs_err_t *err)
{
    char lock_path [PATH_MAX];
    if (snprintf (lock_path, sizeof lock_path, "%s.lock", path) >= (int) sizeof lock_path)
        return xs_err_set (err, XS_EINVAL, "admin endpoint %s: path too long", endpoint);
    self->ipc_lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->ipc_lock_fd < 0)
        return xs_err_set (err, XS_EIO, "admin endpoint %s: cannot open lock file %s: %s",
                           endpoint, lock_path, strerror (errno));
    if (flock (self->ipc_lock_fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    int saved = errno;
    close (self->ipc_lock_fd);
    self->ipc_lock_fd = -1;
    if (saved == EWOULDBLOCK)
        return xs_err_set (err, XS_ECONFLICT,
                           "admin endpoint %s: in use by another xensm-catalogd (%s is locked)",
                           endpoint, lock_path);
    return xs_err_set (err, XS_EIO, "admin endpoint %s: cannot lock %s: %s",
                       endpoint, lock_path, strerror (saved));
}

/* Makes sure nothing else serves ipc `path`: makes its directory, takes
   the lock beside it, probes it, removes a stale socket file. */
static int
s_claim_ipc (xs_admin_socket_t *self, const char *endpoint, const char *path, xs_err_t *err)
{
    char *dir = xs_strdup (path);
    char *slash = strrchr (dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = '\0';
        if (s_make_dirs (dir, err))
            rc = xs_err_prefix (err, "admin endpoint %s", endpoint);
    }
    free (dir);
    if (rc || s_lock_ipc (self, endpoint, path, err))
        return -1;
    int live = s_probe_unix (path, err);
    if (live < 0)
        return xs_err_prefix (err, "admin endpoint %s", endpoint);
    if (live)
        return xs_err_set (err, XS_ECONFLICT,
                           "admin endpoint %s: in use (a process is listening on %s)",
                           endpoint, path);
    if (unlink (path) == 0)
        xs_notice ("removed stale admin socket %s", path);
    return 0;
}

/* ---------------------------------------------------------------------
   Replies: the envelope, sent to the client that asked
   --------------------------------------------------------------------- */

/* Who a reply goes to. */
typedef struct {
    xs_admin_socket_t *socket;
    zmq_msg_t routing_id;
} s_client_t;

/* The reply envelope (docs/PROTOCOL.md "Envelope"). */
static json_t *
s_envelope (const xs_reply_answer_t *answer)
{
    if (!answer->err)
        return xs_nn (json_pack ("{s:i, s:s, s:b, s:o}", "v", XS_ADMIN_VERSION, "id",
                                 answer->id, "ok", 1, "result", answer->result));
    const char *kind = xs_errkind_name (answer->err->kind);
    json_t *reply = json_pack ("{s:i, s:s, s:b, s:{s:s, s:s, s:s}}", "v", XS_ADMIN_VERSION,
                               "id", answer->id, "ok", 0, "error", "code", answer->code,
                               "kind", kind, "message", answer->err->msg);
    if (reply)
        return reply;
    /* Only a message that is not UTF-8 gets here; never send it. */
    return xs_nn (json_pack ("{s:i, s:s, s:b, s:{s:s, s:s, s:s}}", "v", XS_ADMIN_VERSION,
                             "id", "", "ok", 0, "error", "code", answer->code, "kind", kind,
                             "message", "(unprintable error message)"));
}

/* xs_reply sink: sends [routing id][""][envelope]. A peer gone or a full
   queue loses the reply (the client times out) but never blocks the loop. */
static void
s_send_reply (void *arg, xs_reply_answer_t *answer)
{
    s_client_t *client = (s_client_t *) arg;
    xs_admin_socket_t *self = client->socket;
    json_t *reply = s_envelope (answer);
    char *text = xs_nn (json_dumps (reply, JSON_COMPACT));
    json_decref (reply);
    void *handle = zsock_resolve (self->sock);
    if (zmq_msg_send (&client->routing_id, handle, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
    ||  zmq_send (handle, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
    ||  zmq_send (handle, text, strlen (text), ZMQ_DONTWAIT) < 0)
        xs_debug ("admin socket: reply dropped: %s", zmq_strerror (errno));
    self->replies++;
    free (text);
    zmq_msg_close (&client->routing_id);
    free (client);
}

/* A reply owed to the sender of routing_id (moved into it). */
static xs_reply_t *
s_reply_to (xs_admin_socket_t *self, zmq_msg_t *routing_id)
{
    s_client_t *client = xs_zalloc (sizeof *client);
    client->socket = self;
    zmq_msg_init (&client->routing_id);
    zmq_msg_move (&client->routing_id, routing_id);
    return xs_reply_new (s_send_reply, client);
}

/* ---------------------------------------------------------------------
   Requests
   --------------------------------------------------------------------- */

/* One received message: its routing id, body, and how it was framed. */
typedef struct {
    zmq_msg_t routing_id;
    zmq_msg_t body;
    size_t frames;                  /* frames after the routing id            */
    bool delimiter_ok;              /* the first of them was empty            */
} s_message_t;

/* Receives one whole message without waiting. Returns 1 with *m filled
   (caller closes its parts), 0 when none is waiting, -1 on a socket error. */
static int
s_recv_message (void *handle, s_message_t *m)
{
    zmq_msg_init (&m->routing_id);
    zmq_msg_init (&m->body);
    m->frames = 0;
    m->delimiter_ok = false;
    if (zmq_msg_recv (&m->routing_id, handle, ZMQ_DONTWAIT) < 0) {
        int saved = errno;
        zmq_msg_close (&m->routing_id);
        zmq_msg_close (&m->body);
        if (saved == EAGAIN || saved == EINTR)
            return 0;
        xs_error ("admin socket: receive failed: %s", zmq_strerror (saved));
        return -1;
    }
    bool more = zmq_msg_more (&m->routing_id);
    while (more) {
        /* Frames of a message arrive together: this never waits. Only the
           first two are kept, so many tiny frames cost no memory. */
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, handle, 0) < 0) {
            zmq_msg_close (&part);
            break;
        }
        more = zmq_msg_more (&part);
        m->frames++;
        if (m->frames == 1)
            m->delimiter_ok = zmq_msg_size (&part) == 0;
        if (m->frames == 2)
            zmq_msg_move (&m->body, &part);
        zmq_msg_close (&part);
    }
    return 1;
}

/* Hands one framed request to the admin, or refuses it. */
static void
s_serve (xs_admin_socket_t *self, s_message_t *m)
{
    xs_reply_t *reply = s_reply_to (self, &m->routing_id);
    size_t size = zmq_msg_size (&m->body);
    if (m->frames != 2 || !m->delimiter_ok) {
        xs_info ("admin: request refused: %zu frames%s", m->frames,
                 m->frames >= 1 && !m->delimiter_ok ? ", a non-empty first frame" : "");
        xs_reply_refuse (&reply, XS_ADMIN_E_MALFORMED,
                         "expected 2 frames (an empty delimiter, then one JSON body), got %zu%s",
                         m->frames, m->frames >= 1 && !m->delimiter_ok
                                    ? " with a non-empty first frame" : "");
    }
    else
    if (size > XS_ADMIN_MAX_SIZE) {
        xs_info ("admin: request refused: %zu bytes", size);
        xs_reply_refuse (&reply, XS_ADMIN_E_TOO_LARGE,
                         "request of %zu bytes is larger than %d bytes", size,
                         XS_ADMIN_MAX_SIZE);
    }
    else
        xs_admin_handle (self->admin, zmq_msg_data (&m->body), size, &reply);
}

/* Serves what is waiting on the socket, at most batch_max requests a pass
   (their changes share the loop's group commit). */
static int
s_on_readable (zloop_t *loop, zsock_t *sock, void *arg)
{
    xs_admin_socket_t *self = (xs_admin_socket_t *) arg;
    void *handle = zsock_resolve (sock);
    size_t served = 0;
    while (served < self->batch_max) {
        s_message_t m;
        if (s_recv_message (handle, &m) <= 0)
            break;
        served++;
        s_serve (self, &m);
        zmq_msg_close (&m.routing_id);
        zmq_msg_close (&m.body);
    }
    if (served > 1)
        xs_debug ("admin: %zu requests in one pass", served);
    return 0;
}

/* ---------------------------------------------------------------------
   Life cycle
   --------------------------------------------------------------------- */

static int
s_bind (xs_admin_socket_t *self, const char *endpoint, xs_err_t *err)
{
    if (xs_catalog_cfg_check_endpoint (endpoint, err))
        return -1;
    bool ipc = strncmp (endpoint, "ipc://", 6) == 0;
    if (ipc && s_claim_ipc (self, endpoint, endpoint + 6, err))
        return -1;
    self->sock = zsock_new (ZMQ_ROUTER);
    if (!self->sock)
        return xs_err_set (err, XS_ETRANSPORT, "admin endpoint %s: cannot create socket: %s",
                           endpoint, zmq_strerror (errno));
    zsock_set_linger (self->sock, 0);
    zsock_set_maxmsgsize (self->sock, XS_ADMIN_SOCKET_HARD_MAX);
    zsock_set_rcvtimeo (self->sock, 0);
    /* The socket file is born 0600: no window with the umask's mode. */
    mode_t old_mask = umask (0077);
    int rc = zsock_bind (self->sock, "%s", endpoint);
    int saved = errno;
    umask (old_mask);
    if (rc < 0) {
        if (saved == EADDRINUSE)
            return xs_err_set (err, XS_ECONFLICT, "admin endpoint %s: in use", endpoint);
        return xs_err_set (err, XS_ETRANSPORT, "admin endpoint %s: cannot bind: %s",
                           endpoint, zmq_strerror (saved));
    }
    if (ipc) {
        self->ipc_path = xs_strdup (endpoint + 6);
        if (chmod (self->ipc_path, 0600))
            return xs_err_set (err, XS_EIO, "admin endpoint %s: chmod 0600: %s",
                               endpoint, strerror (errno));
    }
    char *last = zsock_last_endpoint (self->sock);
    self->endpoint = last ? last : xs_strdup (endpoint);
    return 0;
}

xs_admin_socket_t *
xs_admin_socket_new (const char *endpoint, size_t batch_max, xs_admin_t *admin,
                     zloop_t *loop, xs_err_t *err)
{
    xs_admin_socket_t *self = xs_zalloc (sizeof *self);
    self->admin = admin;
    self->ipc_lock_fd = -1;
    self->batch_max = batch_max ? batch_max : 1;
    if (s_bind (self, endpoint ? endpoint : "", err))
        goto fail;
    if (zloop_reader (loop, self->sock, s_on_readable, self)) {
        xs_err_set (err, XS_EINTERNAL, "admin endpoint %s: cannot watch the socket", endpoint);
        goto fail;
    }
    self->loop = loop;
    return self;
fail:
    xs_admin_socket_destroy (&self);
    return NULL;
}

void
xs_admin_socket_destroy (xs_admin_socket_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_admin_socket_t *self = *self_p;
    if (self->loop)
        zloop_reader_end (self->loop, self->sock);
    zsock_destroy (&self->sock);
    /* Still holding the lock: nobody else can own this path yet. */
    if (self->ipc_path)
        unlink (self->ipc_path);
    if (self->ipc_lock_fd >= 0)
        close (self->ipc_lock_fd);
    free (self->ipc_path);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

const char *
xs_admin_socket_endpoint (const xs_admin_socket_t *self)
{
    return self->endpoint;
}

uint64_t
xs_admin_socket_replies (const xs_admin_socket_t *self)
{
    return self->replies;
}
