/*  xs_catalog_server: the running catalog (store + admin socket + loop). */
#include "xs_admin.h"
#include "xs_batch.h"
#include "xs_catalog_cfg.h"
#include "xs_catalog_server.h"
#include "xs_cert.h"
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_sched.h"
#include "xs_voladmin.h"

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
    xs_batch_t *batch;              /* the loop's group commit                */
    xs_sched_t *sched;              /* agents, placement, jobs                */
    xs_voladmin_t *voladmin;        /* volume_* and host_* commands           */
    zloop_t *loop;
    zsock_t *admin_sock;
    char *admin_endpoint;           /* as bound (tcp port resolved)           */
    char *ipc_path;                 /* socket file we created, or NULL        */
    int ipc_lock_fd;                /* flock on "<ipc_path>.lock", or -1      */
    size_t batch_max;
    uint64_t requests;
    int resumed;                    /* jobs resumed at start                  */
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
    char *dir = xs_strdup (path);
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

/* A reply owed to one client: who asked and, for a reply that waits for the
   group commit, the reply itself. */
typedef struct {
    xs_catalog_server_t *server;
    zmq_msg_t routing_id;
    char *reply;
    size_t reply_size;
} s_owed_t;

static s_owed_t *
s_owed_new (xs_catalog_server_t *self, zmq_msg_t *routing_id)
{
    s_owed_t *owed = xs_zalloc (sizeof *owed);
    owed->server = self;
    zmq_msg_init (&owed->routing_id);
    zmq_msg_move (&owed->routing_id, routing_id);
    return owed;
}

/* Sends `reply` to whoever `owed` is for, then frees owed. */
static void
s_owed_send (s_owed_t *owed, const char *reply, size_t size)
{
    s_send_reply (zsock_resolve (owed->server->admin_sock), &owed->routing_id, reply, size);
    owed->server->requests++;
    zmq_msg_close (&owed->routing_id);
    free (owed->reply);
    free (owed);
}

/* xs_batch action: the commit holding the request's writes is over. */
static void
s_owed_after_commit (void *arg, bool committed)
{
    s_owed_t *owed = (s_owed_t *) arg;
    if (committed) {
        s_owed_send (owed, owed->reply, owed->reply_size);
        return;
    }
    json_t *reply = json_loadb (owed->reply, owed->reply_size, 0, NULL);
    size_t size = 0;
    char *failure = xs_admin_error_reply (json_string_value (json_object_get (reply, "id")),
                                          xs_errkind_name (XS_EIO), XS_EIO,
                                          "not stored: the commit failed (see the catalog log)",
                                          &size);
    json_decref (reply);
    s_owed_send (owed, failure, size);
    free (failure);
}

/* xs_voladmin's answer: its outcome is already committed. */
static void
s_owed_voladmin_reply (void *arg, char *reply, size_t size)
{
    s_owed_send ((s_owed_t *) arg, reply, size);
    free (reply);
}

/* xs_admin delegate: the volume and host commands go to xs_voladmin. */
static void
s_delegate_handle (void *arg, const char *id, const char *cmd, json_t *args, void *ctx)
{
    xs_catalog_server_t *self = (xs_catalog_server_t *) arg;
    xs_voladmin_handle (self->voladmin, id, cmd, args, s_owed_voladmin_reply, ctx);
}

typedef struct {
    xs_catalog_server_t *server;
    int64_t id;
    char *sr_uuid;
} s_detach_t;

static void
s_detach_after_commit (void *arg, bool committed)
{
    s_detach_t *d = (s_detach_t *) arg;
    if (committed && d->server->sched)
        xs_agentsrv_detach_backend (xs_sched_agents (d->server->sched), d->id, d->sr_uuid);
    free (d->sr_uuid);
    free (d);
}

/* xs_admin delegate: a removed backend's SR leaves the hosts once the
   removal is committed (PBD.unplug, SR.forget; never SR.destroy). */
static void
s_delegate_backend_removed (void *arg, int64_t id, const char *sr_uuid)
{
    xs_catalog_server_t *self = (xs_catalog_server_t *) arg;
    if (!sr_uuid)
        return;
    s_detach_t *d = xs_zalloc (sizeof *d);
    if (!d || !(d->sr_uuid = xs_strdup (sr_uuid)))
        abort ();
    d->server = self;
    d->id = id;
    xs_batch_defer (self->batch, s_detach_after_commit, d);
}

/* Answers a request refused before it was read. */
static void
s_refuse (xs_catalog_server_t *self, s_message_t *m, const char *code, const char *message)
{
    xs_info ("admin: request refused: %s", message);
    size_t size = 0;
    char *refusal = xs_admin_error_reply (NULL, code, XS_EINVAL, message, &size);
    s_owed_send (s_owed_new (self, &m->routing_id), refusal, size);
    free (refusal);
}

/* Serves what is waiting on the admin socket, at most batch_max requests a
   pass. Every change they make joins the loop's group commit (xs_batch):
   replies to changes go out only after it; the volume commands answer
   through xs_voladmin once their outcome is committed. */
static int
s_on_admin (zloop_t *loop, zsock_t *sock, void *arg)
{
    xs_catalog_server_t *self = arg;
    void *handle = zsock_resolve (sock);
    size_t served = 0;
    while (served < self->batch_max) {
        s_message_t m;
        if (s_recv_message (handle, &m) <= 0)
            break;
        served++;
        char message [256];
        if (m.frames != 2 || !m.delimiter_ok) {
            snprintf (message, sizeof message,
                      "expected 2 frames (an empty delimiter, then one JSON body), got %zu%s",
                      m.frames, m.frames >= 1 && !m.delimiter_ok ? " with a non-empty first frame" : "");
            s_refuse (self, &m, XS_ADMIN_E_MALFORMED, message);
        }
        else
        if (zmq_msg_size (&m.body) > XS_ADMIN_MAX_SIZE) {
            snprintf (message, sizeof message, "request of %zu bytes is larger than %d bytes",
                      zmq_msg_size (&m.body), XS_ADMIN_MAX_SIZE);
            s_refuse (self, &m, XS_ADMIN_E_TOO_LARGE, message);
        }
        else {
            s_owed_t *owed = s_owed_new (self, &m.routing_id);
            xs_err_t err;
            if (xs_batch_open (self->batch, &err))
                /* Each change then commits on its own (its savepoint). */
                xs_error ("admin: cannot start a group transaction: %s", err.msg);
            /* A delegated command may answer (and free owed) before this
               returns: only a reply returned here is owed's to keep. */
            size_t size = 0;
            char *reply = xs_admin_handle_one (self->admin, zmq_msg_data (&m.body),
                                               zmq_msg_size (&m.body), &size, owed);
            if (reply) {
                owed->reply = reply;
                owed->reply_size = size;
                xs_batch_defer (self->batch, s_owed_after_commit, owed);
            }
        }
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
        self->ipc_path = xs_strdup (endpoint + 6);
        if (chmod (self->ipc_path, 0600))
            return xs_err_set (err, XS_EIO, "admin endpoint %s: chmod 0600: %s",
                               endpoint, strerror (errno));
    }
    char *last = zsock_last_endpoint (self->admin_sock);
    self->admin_endpoint = last ? last : xs_strdup (endpoint);
    if (!self->admin_endpoint)
        abort ();
    return 0;
}

/* Starts the agent side: the catalog certificate (made on first start),
   the agent socket and the scheduler, and resumes the journal. */
static int
s_start_agents (xs_catalog_server_t *self, xs_err_t *err)
{
    const xs_config_t *config = self->config;
    const char *cert = xs_config_get (config, XS_CATALOG_SECTION, "cert");
    bool created = false;
    if (!cert || !*cert)
        return xs_err_set (err, XS_EINVAL, "no catalog certificate path (set cert in [catalog])");
    if (xs_cert_ensure (cert, &created, err))
        return -1;
    if (created)
        xs_notice ("made the catalog certificate %s (copy it to every host as the agent's "
                   "catalog_key)", cert);
    xs_sched_cfg_t sched_cfg = {
        .default_ratio = xs_config_double (config, XS_CATALOG_SECTION, "default_ratio", 1.0),
        .default_reserve = xs_config_double (config, XS_CATALOG_SECTION, "default_reserve", 0),
        .wait_ms = (int) xs_config_int (config, XS_CATALOG_SECTION, "job_wait_ms", 30000),
    };
    xs_agentsrv_cfg_t agents_cfg = {
        .endpoint = xs_config_get (config, XS_CATALOG_SECTION, "agent_endpoint"),
        .cert_file = cert,
        .keys_dir = xs_config_get (config, XS_CATALOG_SECTION, "agent_keys"),
        .heartbeat_ms = (int) xs_config_int (config, XS_CATALOG_SECTION, "heartbeat_ms", 1000),
        .request_timeout_ms = (int) xs_config_int (config, XS_CATALOG_SECTION,
                                                   "agent_timeout_ms", 360000),
    };
    self->batch = xs_batch_new (self->store, self->loop);
    self->sched = xs_sched_new (&sched_cfg, &agents_cfg, self->store, self->batch, self->loop,
                                err);
    if (!self->sched)
        return -1;
    self->voladmin = xs_voladmin_new (self->sched);
    xs_admin_delegate_t delegate = {
        .handles = xs_voladmin_handles,
        .command_name = xs_voladmin_command_name,
        .handle = s_delegate_handle,
        .backend_removed = s_delegate_backend_removed,
        .arg = self,
    };
    xs_admin_set_delegate (self->admin, &delegate);
    xs_agentsrv_t *agents = xs_sched_agents (self->sched);
    xs_admin_set_info (self->admin, "agent_endpoint", xs_agentsrv_endpoint (agents));
    zcert_t *public = zcert_load (cert);
    if (public) {
        xs_admin_set_info (self->admin, "catalog_key", zcert_public_txt (public));
        zcert_destroy (&public);
    }
    self->resumed = xs_sched_resume (self->sched, err);
    if (self->resumed < 0)
        return xs_err_prefix (err, "resuming the job journal");
    if (xs_batch_flush (self->batch))
        return xs_err_set (err, XS_EIO, "resuming the job journal: commit failed");
    return 0;
}

xs_catalog_server_t *
xs_catalog_server_new (const xs_config_t *config, xs_err_t *err)
{
    xs_catalog_server_t *self = xs_zalloc (sizeof *self);
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
    const char *password_file = xs_config_get (config, XS_CATALOG_SECTION, "db_password_file");
    xs_store_options_t db_options = {
        .password_file = password_file && *password_file ? password_file : NULL };
    self->store = xs_store_open (db, &db_options, err);
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
    if (s_start_agents (self, err))
        goto fail;
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
    /* Commit what is pending and send its replies, then answer the clients
       still waiting for a job (it resumes at the next start); all of that
       needs the admin socket, which goes last. */
    if (self->batch)
        xs_batch_flush (self->batch);
    xs_sched_destroy (&self->sched);
    xs_batch_destroy (&self->batch);
    xs_voladmin_destroy (&self->voladmin);
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

const char *
xs_catalog_server_agent_endpoint (const xs_catalog_server_t *self)
{
    return xs_agentsrv_endpoint (xs_sched_agents (self->sched));
}

int
xs_catalog_server_resumed (const xs_catalog_server_t *self)
{
    return self->resumed;
}
