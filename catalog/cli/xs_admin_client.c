/*  xs_admin_client: calls the catalog's admin API over ZeroMQ. */
#include "xs_admin_client.h"
#include "xs_mem.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _xs_admin_client_t {
    zsock_t *sock;          /* DEALER to the catalog                         */
    zactor_t *monitor;      /* reports the connection dropping (zmonitor)    */
    zpoller_t *poller;      /* sock and monitor                              */
    char *endpoint;
    int timeout_ms;
    unsigned sequence;
};

/* ---------------------------------------------------------------------
   Life cycle
   --------------------------------------------------------------------- */

/* For an ipc:// endpoint: the socket file exists and we may use it. 0, or
   -1 with *err saying what to do. */
static int
s_check_ipc (const char *endpoint, xs_err_t *err)
{
    struct stat st;
    if (strncmp (endpoint, "ipc://", 6) != 0)
        return 0;
    if (stat (endpoint + 6, &st))
        return xs_err_set (err, XS_ETRANSPORT, "catalog at %s: %s (is xensm-catalogd running? "
                           "set --endpoint or XENSM_ADMIN_ENDPOINT)", endpoint, strerror (errno));
    if (access (endpoint + 6, R_OK | W_OK))
        return xs_err_set (err, XS_ETRANSPORT, "catalog at %s: %s (the admin socket is for "
                           "root only)", endpoint, strerror (errno));
    return 0;
}

/* Watches the DEALER for a dropped connection: ZeroMQ drops it, silently,
   when a reply is over XS_ADMIN_CLIENT_MAX_REPLY, or when the catalog
   stops; and for a refused connection (ZeroMQ retries it, silently, until
   the timeout): nothing listens there, e.g. a killed catalogd's ipc file,
   so a list of endpoints moves on at once. 0, or -1 with *err. */
static int
s_start_monitor (xs_admin_client_t *self, xs_err_t *err)
{
    self->monitor = zactor_new (zmonitor, self->sock);
    if (!self->monitor)
        return xs_err_set (err, XS_ETRANSPORT, "catalog at %s: cannot watch the connection",
                           self->endpoint);
    zstr_sendx (self->monitor, "LISTEN", "DISCONNECTED", "CONNECT_RETRIED", NULL);
    zstr_send (self->monitor, "START");
    zsock_wait (self->monitor);
    return 0;
}

xs_admin_client_t *
xs_admin_client_new (const char *endpoint, int timeout_ms, xs_err_t *err)
{
    if (s_check_ipc (endpoint, err))
        return NULL;
    xs_admin_client_t *self = xs_zalloc (sizeof *self);
    self->endpoint = xs_strdup (endpoint);
    self->timeout_ms = timeout_ms;
    /* The CLI has no use for czmq's signal handler: Ctrl-C just exits. */
    zsys_handler_set (NULL);
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock) {
        xs_err_set (err, XS_ETRANSPORT, "catalog at %s: cannot create socket: %s",
                    endpoint, zmq_strerror (errno));
        goto fail;
    }
    zsock_set_linger (self->sock, 0);
    zsock_set_maxmsgsize (self->sock, XS_ADMIN_CLIENT_MAX_REPLY);
    if (s_start_monitor (self, err))
        goto fail;
    if (zsock_connect (self->sock, "%s", endpoint)) {
        xs_err_set (err, XS_ETRANSPORT, "catalog at %s: cannot connect: %s",
                    endpoint, zmq_strerror (errno));
        goto fail;
    }
    self->poller = xs_nn (zpoller_new (self->sock, self->monitor, NULL));
    /* Wait through signals: only our own deadline ends a call. */
    zpoller_set_nonstop (self->poller, true);
    return self;
fail:
    xs_admin_client_destroy (&self);
    return NULL;
}

void
xs_admin_client_destroy (xs_admin_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_admin_client_t *self = *self_p;
    zpoller_destroy (&self->poller);
    zactor_destroy (&self->monitor);    /* before the socket it watches */
    zsock_destroy (&self->sock);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------
   One call
   --------------------------------------------------------------------- */

/* Sends [""][request] for `cmd` with *args_p (taken, NULLed) and `id`.
   0, or -1 with *err. */
static int
s_send_request (xs_admin_client_t *self, const char *id, const char *cmd, json_t **args_p,
                xs_err_t *err)
{
    json_t *args = args_p && *args_p ? *args_p : xs_nn (json_object ());
    if (args_p)
        *args_p = NULL;
    json_t *request = json_pack ("{s:i, s:s, s:s, s:o}", "v", XS_ADMIN_CLIENT_VERSION,
                                 "id", id, "cmd", cmd, "args", args);
    if (!request)
        return xs_err_set (err, XS_EINVAL, "%s: cannot encode the request (text must be UTF-8)",
                           cmd);
    char *text = xs_nn (json_dumps (request, JSON_COMPACT));
    json_decref (request);
    zmsg_t *msg = xs_nn (zmsg_new ());
    zmsg_addmem (msg, "", 0);
    zmsg_addstr (msg, text);
    free (text);
    if (zmsg_send (&msg, self->sock)) {
        zmsg_destroy (&msg);
        return xs_err_set (err, XS_ETRANSPORT, "catalog at %s: send failed: %s",
                           self->endpoint, zmq_strerror (errno));
    }
    return 0;
}

/* Forgets connection drops reported before this call. */
static void
s_forget_drops (xs_admin_client_t *self)
{
    zsock_t *events = zactor_sock (self->monitor);
    while (zsock_events (events) & ZMQ_POLLIN) {
        zmsg_t *event = zmsg_recv (events);
        zmsg_destroy (&event);
    }
}

/* What a reply message is to the call with `id`. */
typedef enum { S_OURS, S_NOT_OURS, S_MALFORMED } s_reply_kind_t;

/* Reads a reply: its body is the message's last frame. *reply_p receives
   the parsed body (caller decrefs) unless S_MALFORMED, then *err says why. */
static s_reply_kind_t
s_read_reply (xs_admin_client_t *self, zmsg_t *msg, const char *id, json_t **reply_p,
              xs_err_t *err)
{
    zframe_t *body = zmsg_last (msg);
    json_error_t jerr;
    json_t *reply = body ? json_loadb ((const char *) zframe_data (body), zframe_size (body),
                                       0, &jerr) : NULL;
    if (!json_is_object (reply)) {
        xs_err_set (err, XS_ETRANSPORT, "catalog at %s: malformed reply (%s): is the endpoint "
                    "a catalog's admin socket?", self->endpoint,
                    reply ? "not a JSON object" : body ? jerr.text : "no body");
        json_decref (reply);
        return S_MALFORMED;
    }
    *reply_p = reply;
    const char *reply_id = json_string_value (json_object_get (reply, "id"));
    if (reply_id && strcmp (reply_id, id) == 0)
        return S_OURS;
    /* A protocol-level error has no id: it is ours if it came now. */
    if (json_is_false (json_object_get (reply, "ok")) && !(reply_id && *reply_id))
        return S_OURS;
    return S_NOT_OURS;
}

/* The result of our reply (new reference), or NULL with *err: the remote
   error's kind and message. */
static json_t *
s_result (xs_admin_client_t *self, json_t *reply, xs_err_t *err)
{
    if (json_is_true (json_object_get (reply, "ok"))) {
        json_t *result = json_object_get (reply, "result");
        if (json_is_object (result))
            return json_incref (result);
        xs_err_set (err, XS_EINTERNAL, "catalog at %s: reply without a result", self->endpoint);
        return NULL;
    }
    json_t *error = json_object_get (reply, "error");
    const char *kind = json_string_value (json_object_get (error, "kind"));
    const char *message = json_string_value (json_object_get (error, "message"));
    xs_err_set (err, xs_errkind_from_name (kind), "%s",
                message ? message : "the catalog refused the request");
    return NULL;
}

/* Waits for the reply to `id` until the deadline, skipping replies to
   other calls. Returns our reply (caller decrefs) or NULL with *err. */
static json_t *
s_wait_reply (xs_admin_client_t *self, const char *id, xs_err_t *err)
{
    int64_t deadline = zclock_mono () + self->timeout_ms;
    while (true) {
        int64_t left = deadline - zclock_mono ();
        void *which = left > 0 ? zpoller_wait (self->poller, (int) left) : NULL;
        if (!which && left > 0 && zpoller_terminated (self->poller) && errno == EINTR)
            continue;
        if (!which) {
            xs_err_set (err, XS_ETRANSPORT,
                        "catalog at %s: no reply within %d s (is xensm-catalogd running?)",
                        self->endpoint, (self->timeout_ms + 999) / 1000);
            return NULL;
        }
        if (which == self->monitor) {
            zmsg_t *event = zmsg_recv (self->monitor);
            char *name = event ? zmsg_popstr (event) : NULL;
            bool refused = name && streq (name, "CONNECT_RETRIED");
            zstr_free (&name);
            zmsg_destroy (&event);
            if (refused)
                xs_err_set (err, XS_ETRANSPORT, "catalog at %s: nothing listens there (the "
                            "connection is refused: is xensm-catalogd running?)",
                            self->endpoint);
            else
                xs_err_set (err, XS_ETRANSPORT, "catalog at %s: the connection closed before "
                            "the reply (the catalog stopped, or its reply was over the %d MiB "
                            "limit)", self->endpoint, XS_ADMIN_CLIENT_MAX_REPLY >> 20);
            return NULL;
        }
        zmsg_t *msg = zmsg_recv (self->sock);
        json_t *reply = NULL;
        s_reply_kind_t kind = msg ? s_read_reply (self, msg, id, &reply, err) : S_NOT_OURS;
        zmsg_destroy (&msg);
        if (kind == S_OURS)
            return reply;
        json_decref (reply);
        if (kind == S_MALFORMED)
            return NULL;
    }
}

json_t *
xs_admin_client_call (xs_admin_client_t *self, const char *cmd, json_t **args_p,
                      xs_err_t *err)
{
    char id [32];
    snprintf (id, sizeof id, "%d-%u", (int) getpid (), ++self->sequence);
    s_forget_drops (self);
    if (s_send_request (self, id, cmd, args_p, err))
        return NULL;
    json_t *reply = s_wait_reply (self, id, err);
    json_t *result = reply ? s_result (self, reply, err) : NULL;
    json_decref (reply);
    return result;
}
