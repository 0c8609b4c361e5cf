/*  Unit tests for xs_zap: the agent socket's ZAP handler, with a real CURVE
    ROUTER and DEALER clients. The handler rebinds its socket now and then
    to let go of the finished handshakes' ZAP pipes (libzmq keeps one per
    session, 33 KiB): sessions already up keep working, new enrolled keys
    are still admitted, unknown ones still refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "catalog/server/xs_zap.h"

typedef struct {
    char dir [256];
    zactor_t *auth;
    zcert_t *server;
    zsock_t *router;
    char endpoint [64];
} s_fx_t;

static int
s_setup (void **state)
{
    s_fx_t *f = calloc (1, sizeof *f);
    snprintf (f->dir, sizeof f->dir, "/tmp/xs-test-zap-XXXXXX");
    assert_non_null (mkdtemp (f->dir));
    xs_zap_args_t args = {.dir = f->dir};
    f->auth = zactor_new (xs_zap_actor, &args);
    assert_true (f->auth && args.ok);
    f->server = zcert_new ();
    f->router = zsock_new (ZMQ_ROUTER);
    zcert_apply (f->server, f->router);
    zsock_set_curve_server (f->router, 1);
    zsock_set_zap_domain (f->router, "test");
    int enforce = 1;
    assert_int_equal (zmq_setsockopt (zsock_resolve (f->router), XS_ZAP_ENFORCE_DOMAIN,
                                      &enforce, sizeof enforce), 0);
    int port = zsock_bind (f->router, "tcp://127.0.0.1:*");
    assert_true (port > 0);
    snprintf (f->endpoint, sizeof f->endpoint, "tcp://127.0.0.1:%d", port);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fx_t *f = (s_fx_t *) *state;
    zsock_destroy (&f->router);
    zactor_destroy (&f->auth);
    zcert_destroy (&f->server);
    zdir_t *dir = zdir_new (f->dir, NULL);
    if (dir)
        zdir_remove (dir, true);
    zdir_destroy (&dir);
    free (f);
    return 0;
}

/* A DEALER with a new key, enrolled (its public certificate in the
   directory) or not, connected to the router. */
static zsock_t *
s_client (s_fx_t *f, bool enrolled, const char *name)
{
    zcert_t *cert = zcert_new ();
    if (enrolled) {
        char path [512];
        snprintf (path, sizeof path, "%s/%s.cert", f->dir, name);
        assert_int_equal (zcert_save_public (cert, path), 0);
    }
    zsock_t *client = zsock_new (ZMQ_DEALER);
    zsock_set_linger (client, 0);
    zcert_apply (cert, client);
    zsock_set_curve_serverkey (client, zcert_public_txt (f->server));
    zcert_destroy (&cert);
    assert_int_equal (zsock_connect (client, "%s", f->endpoint), 0);
    return client;
}

/* Whether `text` sent by client reaches the router within timeout_ms, with
   a User-Id; the router answers it (so the client's session is used both
   ways). */
static bool
s_round_trip (s_fx_t *f, zsock_t *client, const char *text, int timeout_ms)
{
    zstr_send (client, text);
    zpoller_t *poller = zpoller_new (f->router, NULL);
    bool ok = false;
    if (zpoller_wait (poller, timeout_ms) == f->router) {
        zmsg_t *msg = zmsg_recv (f->router);
        zframe_t *route = zmsg_pop (msg);
        zframe_t *body = zmsg_first (msg);
        ok = body && zframe_streq (body, text) && zframe_meta (body, "User-Id");
        zframe_send (&route, f->router, ZFRAME_MORE);
        zstr_send (f->router, "ack");
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    if (ok) {
        char *ack = zstr_recv (client);
        ok = ack && streq (ack, "ack");
        free (ack);
    }
    return ok;
}

static void
test_recycled_handler_keeps_sessions_and_admits (void **state)
{
    s_fx_t *f = (s_fx_t *) *state;
    assert_int_equal (xs_zap_recycled (f->auth), 0);
    zsock_t *a = s_client (f, true, "a");
    /* The allow-list directory is not cached while younger than 2 s:
       admitted all the same. */
    assert_true (s_round_trip (f, a, "one", 10000));
    /* A handshake served, then quiet: the handler rebinds. */
    int64_t deadline = zclock_mono () + 10000;
    while (xs_zap_recycled (f->auth) < 1 && zclock_mono () < deadline)
        zclock_sleep (10);
    assert_true (xs_zap_recycled (f->auth) >= 1);
    /* The session that was admitted before goes on. */
    assert_true (s_round_trip (f, a, "two", 5000));
    /* A new enrolled key is admitted by the new handler... */
    zsock_t *b = s_client (f, true, "b");
    assert_true (s_round_trip (f, b, "three", 10000));
    /* ...and an unknown one refused. */
    zsock_t *c = s_client (f, false, "c");
    assert_false (s_round_trip (f, c, "four", 1000));
    zsock_destroy (&a);
    zsock_destroy (&b);
    zsock_destroy (&c);
}

/* What guards the instant between unbind and bind of a recycle: with no
   ZAP handler bound at all, a socket set up as the agent socket is
   (ZAP_ENFORCE_DOMAIN) admits nobody, enrolled or not, instead of letting
   the handshake pass unauthenticated (libzmq's default without it). */
static void
test_no_handler_admits_nobody (void **state)
{
    s_fx_t *f = (s_fx_t *) *state;
    zsock_t *a = s_client (f, true, "a");
    assert_true (s_round_trip (f, a, "before", 10000));
    zactor_destroy (&f->auth);          /* unbinds the handler */
    zsock_t *b = s_client (f, true, "b");
    zsock_t *c = s_client (f, false, "c");
    zstr_send (b, "enrolled");
    zstr_send (c, "unknown");
    /* Nothing reaches the router (with or without a User-Id). */
    zpoller_t *poller = zpoller_new (f->router, NULL);
    assert_null (zpoller_wait (poller, 1500));
    zpoller_destroy (&poller);
    zsock_destroy (&a);
    zsock_destroy (&b);
    zsock_destroy (&c);
}

int
main (void)
{
    zsys_init ();
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_recycled_handler_keeps_sessions_and_admits,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_no_handler_admits_nobody, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
