/*  zmq_static_probe: proves that a program linked with xensm_static_program (a static executable)
    has a working czmq, libzmq and libsodium inside it.

    It does what xensm-agentd does with them: makes CURVE key pairs
    (zcert_new: libsodium), connects a DEALER to a CURVE ROUTER on 127.0.0.1
    and does one request/reply round trip, then checks that a client holding
    the wrong server key fails the CURVE handshake (seen on the server's
    monitor) and gets nothing through. Exit 0 when all of it holds, 1 with a
    message naming the step otherwise. tests/packaging/test_static_zmq.py runs
    it and checks with ldd that no ZeroMQ library is loaded from the system.
*/
#include <czmq.h>
#include <stdio.h>

#define PROBE_TIMEOUT_MS 10000

static int
s_fail (const char *step)
{
    fprintf (stderr, "zmq_static_probe: %s failed: %s\n", step, zmq_strerror (zmq_errno ()));
    return -1;
}

/*  Waits for one of `events` on the monitor socket; returns the event or -1. */
static int
s_wait_event (void *monitor, int events)
{
    int64_t deadline = zclock_mono () + PROBE_TIMEOUT_MS;
    while (zclock_mono () < deadline) {
        zmq_pollitem_t item = { monitor, 0, ZMQ_POLLIN, 0 };
        int rc = zmq_poll (&item, 1, (long) (deadline - zclock_mono ()));
        if (rc <= 0)
            return -1;
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, monitor, 0) == -1) {
            zmq_msg_close (&frame);
            return -1;
        }
        uint16_t event = 0;
        if (zmq_msg_size (&frame) >= sizeof event)
            memcpy (&event, zmq_msg_data (&frame), sizeof event);
        zmq_msg_close (&frame);
        zmq_msg_init (&frame);                   //  second frame: the endpoint
        zmq_msg_recv (&frame, monitor, 0);
        zmq_msg_close (&frame);
        if (event & events)
            return event;
    }
    return -1;
}

int
main (void)
{
    int status = 1;
    zcert_t *server_cert = NULL;
    zcert_t *client_cert = NULL;
    zcert_t *stranger_cert = NULL;
    zsock_t *server = NULL;
    zsock_t *client = NULL;
    zsock_t *stranger = NULL;
    zmsg_t *msg = NULL;
    char *reply = NULL;
    void *monitor = NULL;

    zsys_init ();
    zsys_set_linger (0);
    printf ("zmq_static_probe: libzmq %d.%d.%d, czmq %d.%d.%d\n",
            ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH,
            CZMQ_VERSION_MAJOR, CZMQ_VERSION_MINOR, CZMQ_VERSION_PATCH);

    server_cert = zcert_new ();
    client_cert = zcert_new ();
    stranger_cert = zcert_new ();
    if (!server_cert || !client_cert || !stranger_cert) {
        s_fail ("zcert_new");
        goto out;
    }
    if (streq (zcert_public_txt (server_cert), zcert_public_txt (client_cert))) {
        fprintf (stderr, "zmq_static_probe: two new certificates share a public key\n");
        goto out;
    }

    server = zsock_new (ZMQ_ROUTER);
    if (!server) {
        s_fail ("zsock_new ROUTER");
        goto out;
    }
    zcert_apply (server_cert, server);
    zsock_set_curve_server (server, 1);
    zsock_set_rcvtimeo (server, PROBE_TIMEOUT_MS);
    if (zsock_mechanism (server) != ZMQ_CURVE) {
        fprintf (stderr, "zmq_static_probe: the server socket does not use CURVE\n");
        goto out;
    }
    if (zmq_socket_monitor (zsock_resolve (server), "inproc://probe-monitor",
                            ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                            | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                            | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                            | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) == -1) {
        s_fail ("zmq_socket_monitor");
        goto out;
    }
    monitor = zmq_socket (zsys_init (), ZMQ_PAIR);
    if (!monitor || zmq_connect (monitor, "inproc://probe-monitor") == -1) {
        s_fail ("monitor connect");
        goto out;
    }
    int port = zsock_bind (server, "tcp://127.0.0.1:*");
    if (port == -1) {
        s_fail ("bind tcp://127.0.0.1:*");
        goto out;
    }

    //  A client that knows the server's public key: one round trip.
    client = zsock_new (ZMQ_DEALER);
    if (!client) {
        s_fail ("zsock_new DEALER");
        goto out;
    }
    zcert_apply (client_cert, client);
    zsock_set_curve_serverkey (client, zcert_public_txt (server_cert));
    zsock_set_rcvtimeo (client, PROBE_TIMEOUT_MS);
    if (zsock_connect (client, "tcp://127.0.0.1:%d", port) == -1) {
        s_fail ("connect");
        goto out;
    }
    if (zstr_send (client, "ping") == -1) {
        s_fail ("send ping");
        goto out;
    }
    if (s_wait_event (monitor, ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        fprintf (stderr, "zmq_static_probe: no CURVE handshake within %d ms\n", PROBE_TIMEOUT_MS);
        goto out;
    }
    msg = zmsg_recv (server);
    if (!msg || zmsg_size (msg) != 2) {
        s_fail ("server receive");
        goto out;
    }
    zframe_t *body = zmsg_last (msg);
    if (!zframe_streq (body, "ping")) {
        fprintf (stderr, "zmq_static_probe: server received something other than ping\n");
        goto out;
    }
    zframe_reset (body, "pong", 4);
    if (zmsg_send (&msg, server) == -1) {
        s_fail ("server send");
        goto out;
    }
    reply = zstr_recv (client);
    if (!reply || !streq (reply, "pong")) {
        fprintf (stderr, "zmq_static_probe: client got %s instead of pong\n",
                 reply ? reply : "nothing");
        goto out;
    }

    //  A client with the wrong server key must fail the handshake.
    stranger = zsock_new (ZMQ_DEALER);
    if (!stranger) {
        s_fail ("zsock_new DEALER");
        goto out;
    }
    zcert_apply (stranger_cert, stranger);
    zsock_set_curve_serverkey (stranger, zcert_public_txt (stranger_cert));
    if (zsock_connect (stranger, "tcp://127.0.0.1:%d", port) == -1
        || zstr_send (stranger, "intruder") == -1) {
        s_fail ("stranger connect");
        goto out;
    }
    int event = s_wait_event (monitor, ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                                       | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                                       | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                                       | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    if (event == -1 || event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        fprintf (stderr, "zmq_static_probe: a client with the wrong server key %s\n",
                 event == -1 ? "produced no handshake failure" : "completed the handshake");
        goto out;
    }
    zsock_set_rcvtimeo (server, 0);
    msg = zmsg_recv (server);
    if (msg) {
        fprintf (stderr, "zmq_static_probe: a message crossed a failed CURVE handshake\n");
        goto out;
    }
    printf ("zmq_static_probe: CURVE round trip ok, wrong key refused (event 0x%x)\n", event);
    status = 0;

out:
    zstr_free (&reply);
    zmsg_destroy (&msg);
    zsock_destroy (&stranger);
    zsock_destroy (&client);
    if (monitor)
        zmq_close (monitor);
    zsock_destroy (&server);
    zcert_destroy (&stranger_cert);
    zcert_destroy (&client_cert);
    zcert_destroy (&server_cert);
    return status;
}
