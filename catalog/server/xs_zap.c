/*  xs_zap: the ZAP handler of the agent socket. */
#include "xs_zap.h"

#include <stdlib.h>
#include <string.h>

#include "xs_allowlist.h"
#include "xs_err.h"
#include "xs_log.h"

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_RECYCLE_IDLE_MS 200       /* no handshake for this long: recycle */
#define S_RECYCLE_EVERY 512         /* or after this many served           */

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

/* A REP socket bound on the ZAP endpoint, or NULL. */
static zsock_t *
s_bind_handler (void)
{
    zsock_t *handler = zsock_new (ZMQ_REP);
    if (handler && zsock_bind (handler, S_ZAP_ENDPOINT) == -1)
        zsock_destroy (&handler);
    return handler;
}

/* Closes *handler_p and binds a new one, letting go of the pipe that each
   handshake served since the last time left open: libzmq 4.3 keeps a
   session's ZAP pipe (two message queues, 33 KiB) for the whole session,
   so 10,000 agents held 330 MB of them (bench/bench_zprobe.c --zap). Only
   when no request is waiting; a handshake that starts in the microseconds
   without a handler fails (ZMQ_ZAP_ENFORCE_DOMAIN on the agent socket)
   and the agent's ZeroMQ reconnects. 0, or -1 when no socket could be
   bound (the old one is kept). */
static int
s_recycle (zsock_t **handler_p)
{
    zsock_t *old = *handler_p;
    if (zsock_events (old) & ZMQ_POLLIN)
        return 0;
    zsock_unbind (old, S_ZAP_ENDPOINT);
    zsock_t *handler = s_bind_handler ();
    if (!handler) {
        if (zsock_bind (old, S_ZAP_ENDPOINT) == -1)
            xs_error ("agent socket: cannot bind the ZAP handler again on %s: %s",
                      S_ZAP_ENDPOINT, zmq_strerror (zmq_errno ()));
        return -1;
    }
    zsock_destroy (&old);
    *handler_p = handler;
    return 0;
}

void
xs_zap_actor (zsock_t *pipe, void *arg)
{
    xs_zap_args_t *args = (xs_zap_args_t *) arg;
    xs_err_t err;
    xs_allowlist_t *allowlist = xs_allowlist_new (args->dir, &err);
    zsock_t *handler = allowlist ? s_bind_handler () : NULL;
    if (!handler) {
        xs_error ("agent socket: cannot serve ZAP on %s: %s", S_ZAP_ENDPOINT,
                  allowlist ? zmq_strerror (zmq_errno ()) : err.msg);
        xs_allowlist_destroy (&allowlist);
        args->ok = false;
        zsock_signal (pipe, 0);
        return;
    }
    args->ok = true;
    zsock_signal (pipe, 0);
    args = NULL;                        /* the caller's, gone from here on */
    zpoller_t *poller = zpoller_new (pipe, handler, NULL);
    int served = 0;                     /* since the handler was bound */
    int recycled = 0;
    int64_t last = 0;                   /* zclock_mono of the last served */
    while (true) {
        /* S_RECYCLE_IDLE_MS without a handshake, or S_RECYCLE_EVERY
           served in a flood: let go of the finished handshakes' pipes. */
        int64_t wait = served ? last + S_RECYCLE_IDLE_MS - zclock_mono () : -1;
        zsock_t *which = served && wait <= 0 ? NULL
                       : (zsock_t *) zpoller_wait (poller, (int) (wait < 0 ? -1 : wait));
        if (which == handler) {
            s_serve (handler, allowlist);
            last = zclock_mono ();
            if (++served < S_RECYCLE_EVERY)
                continue;
        }
        else
        if (which == pipe || (!which && served == 0) || zpoller_terminated (poller)) {
            char *cmd = which == pipe ? zstr_recv (pipe) : NULL;
            bool term = !cmd || streq (cmd, "$TERM");
            if (cmd && streq (cmd, "RECYCLED"))
                zstr_sendf (pipe, "%d", recycled);
            free (cmd);
            if (term)
                break;
            continue;
        }
        else
        if (zclock_mono () - last < S_RECYCLE_IDLE_MS)
            continue;
        zsock_t *was = handler;
        if (s_recycle (&handler) == 0 && handler != was) {
            zpoller_destroy (&poller);
            poller = zpoller_new (pipe, handler, NULL);
            served = 0;
            recycled++;
        }
        else
            last = zclock_mono ();      /* a request waits, or no socket: later */
    }
    zpoller_destroy (&poller);
    zsock_unbind (handler, S_ZAP_ENDPOINT);
    zsock_destroy (&handler);
    xs_allowlist_destroy (&allowlist);
}

int
xs_zap_recycled (zactor_t *auth)
{
    if (zstr_send (auth, "RECYCLED"))
        return -1;
    char *n = zstr_recv (auth);
    int recycled = n ? atoi (n) : -1;
    free (n);
    return recycled;
}
