/*  xs_zap: the ZAP handler of the agent socket. */
#include "xs_zap.h"

#include <string.h>

#include "xs_allowlist.h"
#include "xs_err.h"
#include "xs_log.h"

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"

/* Answers one ZAP request (RFC 27: version, request id, domain, address,
   identity, mechanism, credentials...). */
static void
s_serve (zsock_t *handler, xs_allowlist_t *allowlist)
{
    zmsg_t *req = zmsg_recv (handler);
    if (!req)
        return;
    char *version = zmsg_popstr (req);
    char *id = zmsg_popstr (req);
    free (zmsg_popstr (req));           /* domain   */
    free (zmsg_popstr (req));           /* address  */
    free (zmsg_popstr (req));           /* identity */
    char *mechanism = zmsg_popstr (req);
    zframe_t *credentials = zmsg_pop (req);
    char key [41] = "";
    const char *status = "400", *text = "no access";
    if (version && streq (version, "1.0") && mechanism && streq (mechanism, "CURVE")
    &&  credentials && zframe_size (credentials) == 32
    &&  zmq_z85_encode (key, zframe_data (credentials), 32)
    &&  xs_allowlist_admits (allowlist, key)) {
        status = "200";
        text = "OK";
    }
    else
        key [0] = '\0';
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_addstr (reply, id ? id : "");
    zmsg_addstr (reply, status);
    zmsg_addstr (reply, text);
    zmsg_addstr (reply, key);           /* User-Id: the Z85 key */
    zmsg_addmem (reply, NULL, 0);       /* no metadata */
    zmsg_send (&reply, handler);
    zframe_destroy (&credentials);
    free (mechanism);
    free (id);
    free (version);
    zmsg_destroy (&req);
}

void
xs_zap_actor (zsock_t *pipe, void *arg)
{
    xs_zap_args_t *args = (xs_zap_args_t *) arg;
    xs_err_t err;
    xs_allowlist_t *allowlist = xs_allowlist_new (args->dir, &err);
    zsock_t *handler = allowlist ? zsock_new (ZMQ_REP) : NULL;
    if (!handler || zsock_bind (handler, S_ZAP_ENDPOINT) == -1) {
        xs_error ("agent socket: cannot serve ZAP on %s: %s", S_ZAP_ENDPOINT,
                  allowlist ? zmq_strerror (zmq_errno ()) : err.msg);
        zsock_destroy (&handler);
        xs_allowlist_destroy (&allowlist);
        args->ok = false;
        zsock_signal (pipe, 0);
        return;
    }
    args->ok = true;
    zsock_signal (pipe, 0);
    args = NULL;                        /* the caller's, gone from here on */
    zpoller_t *poller = zpoller_new (pipe, handler, NULL);
    while (true) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, -1);
        if (which == handler)
            s_serve (handler, allowlist);
        else {
            char *cmd = which == pipe ? zstr_recv (pipe) : NULL;
            bool term = !cmd || streq (cmd, "$TERM");
            free (cmd);
            if (term)
                break;
        }
    }
    zpoller_destroy (&poller);
    zsock_unbind (handler, S_ZAP_ENDPOINT);
    zsock_destroy (&handler);
    xs_allowlist_destroy (&allowlist);
}
