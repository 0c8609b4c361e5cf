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
    zsock_t *sock;
    char *endpoint;
    int timeout_ms;
    unsigned sequence;
};

xs_admin_client_t *
xs_admin_client_new (const char *endpoint, int timeout_ms, xs_err_t *err)
{
    struct stat st;
    if (strncmp (endpoint, "ipc://", 6) == 0 && stat (endpoint + 6, &st)) {
        xs_err_set (err, XS_ETRANSPORT,
                    "catalog at %s: %s (is xensm-catalogd running? set --endpoint or XENSM_ADMIN_ENDPOINT)",
                    endpoint, strerror (errno));
        return NULL;
    }
    if (strncmp (endpoint, "ipc://", 6) == 0 && access (endpoint + 6, R_OK | W_OK)) {
        xs_err_set (err, XS_ETRANSPORT, "catalog at %s: %s (the admin socket is for root only)",
                    endpoint, strerror (errno));
        return NULL;
    }
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
    zsock_set_maxmsgsize (self->sock, 64 * 1024 * 1024);
    if (zsock_connect (self->sock, "%s", endpoint)) {
        xs_err_set (err, XS_ETRANSPORT, "catalog at %s: cannot connect: %s",
                    endpoint, zmq_strerror (errno));
        goto fail;
    }
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
    zsock_destroy (&self->sock);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

/* Receives one whole message; returns its last frame as a NUL-terminated
   string (caller frees) or NULL for an empty message. */
static char *
s_recv_body (void *handle)
{
    char *body = NULL;
    int more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&part);
            break;
        }
        more = zmq_msg_more (&part);
        if (!more) {
            body = xs_zalloc (zmq_msg_size (&part) + 1);
            memcpy (body, zmq_msg_data (&part), zmq_msg_size (&part));
            body [zmq_msg_size (&part)] = '\0';
        }
        zmq_msg_close (&part);
    }
    return body;
}

json_t *
xs_admin_client_call (xs_admin_client_t *self, const char *cmd, json_t **args_p,
                      xs_err_t *err)
{
    json_t *args = args_p && *args_p ? *args_p : json_object ();
    if (args_p)
        *args_p = NULL;
    json_t *result = NULL;
    json_t *reply = NULL;
    char *text = NULL;
    char id [32];
    snprintf (id, sizeof id, "%d-%u", (int) getpid (), ++self->sequence);
    json_t *request = json_pack ("{s:i, s:s, s:s, s:o}", "v", XS_ADMIN_CLIENT_VERSION, "id", id,
                                 "cmd", cmd, "args", args);
    if (!request) {
        xs_err_set (err, XS_EINVAL, "%s: cannot encode the request (text must be UTF-8)", cmd);
        goto out;
    }
    text = json_dumps (request, JSON_COMPACT);
    if (!text)
        abort ();
    void *handle = zsock_resolve (self->sock);
    if (zmq_send (handle, "", 0, ZMQ_SNDMORE) < 0
    ||  zmq_send (handle, text, strlen (text), 0) < 0) {
        xs_err_set (err, XS_ETRANSPORT, "catalog at %s: send failed: %s",
                    self->endpoint, zmq_strerror (errno));
        goto out;
    }
    int64_t deadline = zclock_mono () + self->timeout_ms;
    while (!result) {
        int64_t left = deadline - zclock_mono ();
        zmq_pollitem_t item = { handle, 0, ZMQ_POLLIN, 0 };
        int rc = left > 0 ? zmq_poll (&item, 1, (long) left) : 0;
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0) {
            xs_err_set (err, XS_ETRANSPORT,
                        "catalog at %s: no reply within %d s (is xensm-catalogd running?)",
                        self->endpoint, (self->timeout_ms + 999) / 1000);
            goto out;
        }
        char *body = s_recv_body (handle);
        json_decref (reply);
        reply = body ? json_loads (body, 0, NULL) : NULL;
        free (body);
        const char *reply_id = json_string_value (json_object_get (reply, "id"));
        if (!reply_id || strcmp (reply_id, id) != 0) {
            /* A protocol-level error has no id: it is ours if it came now. */
            if (!json_is_false (json_object_get (reply, "ok")) || (reply_id && *reply_id))
                continue;
        }
        if (json_is_true (json_object_get (reply, "ok"))) {
            result = json_object_get (reply, "result");
            if (!json_is_object (result)) {
                result = NULL;
                xs_err_set (err, XS_EINTERNAL, "catalog at %s: reply without a result",
                            self->endpoint);
                goto out;
            }
            json_incref (result);
        }
        else {
            json_t *error = json_object_get (reply, "error");
            const char *kind = json_string_value (json_object_get (error, "kind"));
            const char *message = json_string_value (json_object_get (error, "message"));
            xs_err_set (err, xs_errkind_from_name (kind), "%s",
                        message ? message : "the catalog refused the request");
            goto out;
        }
    }
out:
    json_decref (request);
    json_decref (reply);
    free (text);
    return result;
}
