/*  xs_catalog_server: the running catalog (store + admin socket + loop). */
#include "xs_catalog_server.h"
#include "xs_admin.h"
#include "xs_catalog_cfg.h"
#include "xs_log.h"

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

struct _xs_catalog_server_t {
    const xs_config_t *config;      /* borrowed */
    xs_store_t *store;
    xs_admin_t *admin;
    zloop_t *loop;
    zsock_t *admin_sock;
    char *admin_endpoint;           /* as bound (tcp port resolved)           */
    char *ipc_path;                 /* socket file we created, or NULL        */
    int ipc_lock_fd;                /* flock on "<ipc_path>.lock", or -1      */
    size_t batch_max;
    uint64_t requests;
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

/* Makes sure nothing else serves ipc `path`: takes the lock beside it,
   probes it, removes a stale socket file. */
static int
s_claim_ipc (xs_catalog_server_t *self, const char *endpoint, const char *path,
             xs_err_t *err)
{
    char *dir = strdup (path);
    if (!dir)
        abort ();
    char *slash = strrchr (dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (s_make_dirs (dir, err)) {
            free (dir);
            return xs_err_prefix (err, "admin endpoint %s", endpoint);
        }
    }
    free (dir);

    char lock_path [PATH_MAX];
    if (snprintf (lock_path, sizeof lock_path, "%s.lock", path) >= (int) sizeof lock_path)
        return xs_err_set (err, XS_EINVAL, "admin endpoint %s: path too long", endpoint);
    self->ipc_lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->ipc_lock_fd < 0)
        return xs_err_set (err, XS_EIO, "admin endpoint %s: cannot open lock file %s: %s",
                           endpoint, lock_path, strerror (errno));
    if (flock (self->ipc_lock_fd, LOCK_EX | LOCK_NB)) {
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
   Serving admin requests
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

/* Sends [routing id][""][reply]; a peer gone or a full queue loses the
   reply (the client times out) but never blocks the loop. */
static void
s_send_reply (void *handle, zmq_msg_t *routing_id, const char *reply, size_t size)
{
    if (zmq_msg_send (routing_id, handle, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
    ||  zmq_send (handle, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
    ||  zmq_send (handle, reply, size, ZMQ_DONTWAIT) < 0)
        xs_debug ("admin socket: reply dropped: %s", zmq_strerror (errno));
}

static int
s_on_admin (zloop_t *loop, zsock_t *sock, void *arg)
{
    xs_catalog_server_t *self = arg;
    void *handle = zsock_resolve (sock);
    s_message_t *batch = calloc (self->batch_max, sizeof *batch);
    const void **data = calloc (self->batch_max, sizeof *data);
    size_t *sizes = calloc (self->batch_max, sizeof *sizes);
    char **replies = calloc (self->batch_max, sizeof *replies);
    size_t *reply_sizes = calloc (self->batch_max, sizeof *reply_sizes);
    if (!batch || !data || !sizes || !replies || !reply_sizes)
        abort ();

    size_t count = 0;
    while (count < self->batch_max) {
        s_message_t *m = &batch [count];
        if (s_recv_message (handle, m) <= 0)
            break;
        char *refusal = NULL;
        size_t refusal_size = 0;
        char message [256];
        if (m->frames != 2 || !m->delimiter_ok) {
            snprintf (message, sizeof message,
                      "expected 2 frames (an empty delimiter, then one JSON body), got %zu%s",
                      m->frames, m->frames >= 1 && !m->delimiter_ok ? " with a non-empty first frame" : "");
            refusal = xs_admin_error_reply (NULL, XS_ADMIN_E_MALFORMED, XS_EINVAL, message,
                                            &refusal_size);
        }
        else
        if (zmq_msg_size (&m->body) > XS_ADMIN_MAX_SIZE) {
            snprintf (message, sizeof message, "request of %zu bytes is larger than %d bytes",
                      zmq_msg_size (&m->body), XS_ADMIN_MAX_SIZE);
            refusal = xs_admin_error_reply (NULL, XS_ADMIN_E_TOO_LARGE, XS_EINVAL, message,
                                            &refusal_size);
        }
        if (refusal) {
            xs_info ("admin: request refused: %s", message);
            s_send_reply (handle, &m->routing_id, refusal, refusal_size);
            free (refusal);
            self->requests++;
            zmq_msg_close (&m->routing_id);
            zmq_msg_close (&m->body);
            continue;
        }
        data [count] = zmq_msg_data (&m->body);
        sizes [count] = zmq_msg_size (&m->body);
        count++;
    }
    if (count) {
        xs_admin_handle_batch (self->admin, count, data, sizes, replies, reply_sizes);
        for (size_t i = 0; i < count; i++) {
            s_send_reply (handle, &batch [i].routing_id, replies [i], reply_sizes [i]);
            free (replies [i]);
            zmq_msg_close (&batch [i].routing_id);
            zmq_msg_close (&batch [i].body);
        }
        self->requests += count;
        if (count > 1)
            xs_debug ("admin: %zu requests in one commit", count);
    }
    free (batch);
    free (data);
    free (sizes);
    free (replies);
    free (reply_sizes);
    return 0;
}

/* ---------------------------------------------------------------------
   Life cycle
   --------------------------------------------------------------------- */

static int
s_bind_admin (xs_catalog_server_t *self, const char *endpoint, xs_err_t *err)
{
    if (xs_catalog_cfg_check_endpoint (endpoint, err))
        return -1;
    bool ipc = strncmp (endpoint, "ipc://", 6) == 0;
    if (ipc && s_claim_ipc (self, endpoint, endpoint + 6, err))
        return -1;
    self->admin_sock = zsock_new (ZMQ_ROUTER);
    if (!self->admin_sock)
        return xs_err_set (err, XS_ETRANSPORT, "admin endpoint %s: cannot create socket: %s",
                           endpoint, zmq_strerror (errno));
    zsock_set_linger (self->admin_sock, 0);
    zsock_set_maxmsgsize (self->admin_sock, XS_CATALOG_HARD_MAX_SIZE);
    zsock_set_rcvtimeo (self->admin_sock, 0);
    /* The socket file is born 0600: no window with the umask's mode. */
    mode_t old_mask = umask (0077);
    int rc = zsock_bind (self->admin_sock, "%s", endpoint);
    int saved = errno;
    umask (old_mask);
    if (rc < 0) {
        if (saved == EADDRINUSE)
            return xs_err_set (err, XS_ECONFLICT, "admin endpoint %s: in use", endpoint);
        return xs_err_set (err, XS_ETRANSPORT, "admin endpoint %s: cannot bind: %s",
                           endpoint, zmq_strerror (saved));
    }
    if (ipc) {
        self->ipc_path = strdup (endpoint + 6);
        if (!self->ipc_path)
            abort ();
        if (chmod (self->ipc_path, 0600))
            return xs_err_set (err, XS_EIO, "admin endpoint %s: chmod 0600: %s",
                               endpoint, strerror (errno));
    }
    char *last = zsock_last_endpoint (self->admin_sock);
    self->admin_endpoint = last ? last : strdup (endpoint);
    if (!self->admin_endpoint)
        abort ();
    return 0;
}

xs_catalog_server_t *
xs_catalog_server_new (const xs_config_t *config, xs_err_t *err)
{
    xs_catalog_server_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->config = config;
    self->ipc_lock_fd = -1;
    self->batch_max = (size_t) xs_config_int (config, XS_CATALOG_SECTION, "admin_batch", 64);
    if (self->batch_max < 1)
        self->batch_max = 1;

    const char *db = xs_config_get (config, XS_CATALOG_SECTION, "db");
    const char *endpoint = xs_config_get (config, XS_CATALOG_SECTION, "admin_endpoint");
    if (!db || !*db) {
        xs_err_set (err, XS_EINVAL, "no database path (set db in [catalog] or --db)");
        goto fail;
    }
    self->store = xs_store_new (db, err);
    if (!self->store) {
        xs_err_prefix (err, "database");
        goto fail;
    }
    if (s_bind_admin (self, endpoint ? endpoint : "", err))
        goto fail;
    self->admin = xs_admin_new (self->store, config);
    self->loop = zloop_new ();
    if (!self->loop) {
        xs_err_set (err, XS_EINTERNAL, "cannot create the event loop");
        goto fail;
    }
    if (zloop_reader (self->loop, self->admin_sock, s_on_admin, self)) {
        xs_err_set (err, XS_EINTERNAL, "cannot watch the admin socket");
        goto fail;
    }
    return self;
fail:
    xs_catalog_server_destroy (&self);
    return NULL;
}

void
xs_catalog_server_destroy (xs_catalog_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_catalog_server_t *self = *self_p;
    zloop_destroy (&self->loop);
    zsock_destroy (&self->admin_sock);
    /* Still holding the lock: nobody else can own this path yet. */
    if (self->ipc_path)
        unlink (self->ipc_path);
    if (self->ipc_lock_fd >= 0)
        close (self->ipc_lock_fd);
    xs_admin_destroy (&self->admin);
    xs_store_destroy (&self->store);
    free (self->ipc_path);
    free (self->admin_endpoint);
    free (self);
    *self_p = NULL;
}

static int
s_on_stop (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    xs_notice ("stop requested");
    return -1;          /* ends zloop_start */
}

int
xs_catalog_server_stop_on (xs_catalog_server_t *self, int fd)
{
    zmq_pollitem_t item = { NULL, fd, ZMQ_POLLIN, 0 };
    return zloop_poller (self->loop, &item, s_on_stop, self);
}

int
xs_catalog_server_run (xs_catalog_server_t *self)
{
    zloop_start (self->loop);
    return 0;
}

const char *
xs_catalog_server_admin_endpoint (const xs_catalog_server_t *self)
{
    return self->admin_endpoint;
}

zloop_t *
xs_catalog_server_loop (xs_catalog_server_t *self)
{
    return self->loop;
}

xs_store_t *
xs_catalog_server_store (xs_catalog_server_t *self)
{
    return self->store;
}

uint64_t
xs_catalog_server_requests (const xs_catalog_server_t *self)
{
    return self->requests;
}
