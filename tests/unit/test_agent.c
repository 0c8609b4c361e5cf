/*  Unit tests for xs_agent: a real agent actor with a scripted executor,
    talking CURVE to a ROUTER played by the test, admitted through zauth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <czmq.h>

#include "common/xs_log.h"
#include "common/xs_proto.h"
#include "hostagent/xs_agent.h"
#include "tests/support/xs_test_certs.h"
#include "tests/support/xs_test_exec.h"

/* ---------------------------------------------------------------------
   What the fake xapi answers
   --------------------------------------------------------------------- */

static int s_host_info_failures;   /* host_info calls still to fail   */
static int s_host_info_calls;

static json_t *
s_script (void *arg, xs_op_t op, const json_t *args, xs_err_t *err)
{
    if (op == XS_OP_HOST_INFO)
        s_host_info_calls++;
    if (op == XS_OP_HOST_INFO && s_host_info_failures > 0) {
        s_host_info_failures--;
        xs_err_set (err, XS_ETRANSPORT, "xapi is not answering yet");
        return NULL;
    }
    if (op == XS_OP_HOST_INFO)
        return json_pack ("{s:s, s:s, s:{s:[s, s]}}", "uuid", "host-from-xapi",
                          "name_label", "xs01", "sm_drivers", "nfs", "VDI_CREATE", "VDI_CLONE");
    if (op == XS_OP_SR_ATTACH) {
        json_t *b = json_object_get (args, "backend");
        json_t *sr = json_object_get (b, "sr_uuid");
        if (json_is_string (sr))
            return json_pack ("{s:O}", "sr_uuid", sr);
        return json_pack ("{s:s}", "sr_uuid", "sr-created");
    }
    if (op == XS_OP_SR_STATS)
        return json_pack ("{s:I, s:I, s:I, s:[s]}", "physical_size", (json_int_t) 1000,
                          "physical_utilisation", (json_int_t) 10,
                          "virtual_allocation", (json_int_t) 100, "capabilities", "VDI_CREATE");
    const char *vol = json_string_value (json_object_get (args, "volume_uuid"));
    if (vol && streq (vol, "full")) {
        xs_err_set (err, XS_EXAPI, "SR_FULL [sr-1]");
        return NULL;
    }
    if (op == XS_OP_VDI_CREATE)
        return json_pack ("{s:s, s:s}", "vdi_uuid", "vdi-of-" , "volume", vol ? vol : "");
    xs_err_set (err, XS_EINVAL, "%s: not scripted", xs_op_name (op));
    return NULL;
}

/* ---------------------------------------------------------------------
   Fixture: keys, zauth, a ROUTER, the scripted executor
   --------------------------------------------------------------------- */

typedef struct {
    xs_test_certs_t *certs;
    xs_test_exec_t *exec;
    zactor_t *auth;
    zsock_t *router;
    int port;
    zactor_t *agent_actor;
    xs_agent_t *agent;
    zframe_t *peer;             /* routing id of the agent */
} fixture_t;

static int
setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    /* Both certificates, the agent's enrolled in the allow-list. */
    f->certs = xs_test_certs_new ("xs_agent_test");
    f->exec = xs_test_exec_new (s_script, NULL);

    f->auth = zactor_new (zauth, NULL);
    assert_int_equal (zstr_sendx (f->auth, "CURVE", f->certs->keys_dir, NULL), 0);
    zsock_wait (f->auth);

    zcert_t *server = zcert_load (f->certs->catalog_cert);
    f->router = zsock_new (ZMQ_ROUTER);
    zcert_apply (server, f->router);
    zcert_destroy (&server);
    zsock_set_curve_server (f->router, 1);
    zsock_set_zap_domain (f->router, "xensm");
    zsock_set_rcvtimeo (f->router, 5000);
    f->port = zsock_bind (f->router, "tcp://127.0.0.1:*");
    assert_true (f->port > 0);
    *state = f;
    return 0;
}

static void
s_stop_agent (fixture_t *f)
{
    xs_test_exec_release (f->exec);     /* a held call must not block the workers */
    zactor_destroy (&f->agent_actor);
    xs_agent_destroy (&f->agent);
}

static int
teardown (void **state)
{
    fixture_t *f = (fixture_t *) *state;
    s_stop_agent (f);
    zframe_destroy (&f->peer);
    zsock_destroy (&f->router);
    zactor_destroy (&f->auth);
    xs_test_certs_destroy (&f->certs);
    xs_test_exec_destroy (&f->exec);
    free (f);
    return 0;
}

static void s_start_agent_at (fixture_t *f, const char *endpoint, const char *cert,
                              const char *host_uuid);

static void
s_start_agent (fixture_t *f, const char *cert, const char *host_uuid, int heartbeat_ms)
{
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", f->port);
    s_start_agent_at (f, endpoint, cert, host_uuid);
    (void) heartbeat_ms;
}

static void
s_start_agent_at (fixture_t *f, const char *endpoint, const char *cert, const char *host_uuid)
{
    xs_agent_cfg_t cfg = {
        .catalog_endpoint = endpoint, .zone = "z1", .host_uuid = host_uuid,
        .cert_file = cert, .catalog_key_file = f->certs->catalog_cert,
        .workers = 2, .backoff_min_ms = 50, .backoff_max_ms = 200, .silence_ms = 300,
        .executor = &xs_test_executor, .executor_arg = f->exec,
    };
    xs_err_t err;
    f->agent = xs_agent_new (&cfg, &err);
    if (!f->agent)
        fail_msg ("xs_agent_new: %s", err.msg);
    f->agent_actor = zactor_new (xs_agent_actor, f->agent);
    assert_non_null (f->agent_actor);
}

/* Receives one message from the agent, skipping types in `skip` (a space-
   separated list); NULL on timeout. */
static xs_proto_t *
s_recv_skip (fixture_t *f, const char *skip)
{
    while (true) {
        zmsg_t *m = zmsg_recv (f->router);
        if (!m)
            return NULL;
        assert_int_equal (zmsg_size (m), 2);
        zframe_destroy (&f->peer);
        f->peer = zmsg_pop (m);
        zframe_t *body = zmsg_first (m);
        xs_err_t err;
        xs_proto_t *msg = xs_proto_decode (zframe_data (body), zframe_size (body), NULL, &err);
        if (!msg)
            fail_msg ("agent sent a bad message: %s", err.msg);
        zmsg_destroy (&m);
        char pad [64];
        snprintf (pad, sizeof pad, " %s ", xs_proto_type_name (xs_proto_type (msg)));
        char hay [256];
        snprintf (hay, sizeof hay, " %s ", skip ? skip : "");
        if (!strstr (hay, pad))
            return msg;
        xs_proto_destroy (&msg);
    }
}

static void
s_send_raw (fixture_t *f, const void *data, size_t size)
{
    zmsg_t *m = zmsg_new ();
    zmsg_append (m, &(zframe_t *) {zframe_dup (f->peer)});
    zmsg_addmem (m, data, size);
    assert_int_equal (zmsg_send (&m, f->router), 0);
}

static void
s_send (fixture_t *f, xs_proto_t **msg_p)
{
    size_t size;
    char *text = xs_proto_encode (*msg_p, &size, NULL);
    assert_non_null (text);
    s_send_raw (f, text, size);
    free (text);
    xs_proto_destroy (msg_p);
}

static void
s_welcome (fixture_t *f, xs_proto_t *reg, int heartbeat_ms)
{
    xs_proto_t *w = xs_proto_new (XS_PROTO_WELCOME, xs_proto_id (reg));
    xs_proto_set_str (w, "host_uuid", xs_proto_str (reg, "host_uuid"));
    xs_proto_set_str (w, "zone", "z1");
    xs_proto_set_int (w, "heartbeat_ms", heartbeat_ms);
    json_t *backends = json_pack (
        "[{s:i, s:s, s:s, s:n, s:b, s:{s:s, s:s}},"
        " {s:i, s:s, s:s, s:s, s:b, s:{s:s, s:s}},"
        " {s:i, s:s, s:s, s:n, s:b, s:{s:s}}]",
        "backend_id", 1, "sr_type", "nfs", "name_label", "new-one", "sr_uuid",
        "create", 1, "device_config", "server", "s", "serverpath", "/p",
        "backend_id", 2, "sr_type", "nfs", "name_label", "old-one", "sr_uuid", "sr-2",
        "create", 0, "device_config", "server", "s", "serverpath", "/q",
        "backend_id", 3, "sr_type", "nfs", "name_label", "not-yet", "sr_uuid",
        "create", 0, "device_config", "server", "s");
    xs_proto_set (w, "backends", &backends);
    s_send (f, &w);
}

/* ---------------------------------------------------------------------
   Tests
   --------------------------------------------------------------------- */

static void
test_register_attach_heartbeat (void **state)
{
    fixture_t *f = (fixture_t *) *state;
    s_start_agent (f, f->certs->agent_cert, NULL, 0);
    xs_proto_t *reg = s_recv_skip (f, NULL);
    assert_non_null (reg);
    assert_int_equal (xs_proto_type (reg), XS_PROTO_REGISTER);
    /* No host uuid configured: it came from the executor's host_info. */
    assert_string_equal (xs_proto_str (reg, "host_uuid"), "host-from-xapi");
    assert_string_equal (xs_proto_str (reg, "name"), "xs01");
    assert_string_equal (xs_proto_str (reg, "zone"), "z1");
    /* The pool's SM drivers, for the catalog (issue 11: SR types the pool
       really has). */
    json_t *drivers = xs_proto_get (reg, "sm_drivers");
    assert_true (json_is_object (drivers));
    assert_string_equal (json_string_value (json_array_get (json_object_get (drivers, "nfs"), 1)),
                         "VDI_CLONE");
    s_welcome (f, reg, 50);
    xs_proto_destroy (&reg);

    /* Backends 1 (create) and 2 (introduce) attach; 3 waits for its SR. */
    bool seen [4] = {false};
    for (int n = 0; n < 2; n++) {
        xs_proto_t *st = s_recv_skip (f, "heartbeat register");
        assert_non_null (st);
        assert_int_equal (xs_proto_type (st), XS_PROTO_SR_STATE);
        int64_t id = xs_proto_int (st, "backend_id", -1);
        assert_true (id == 1 || id == 2);
        seen [id] = true;
        assert_string_equal (xs_proto_str (st, "state"), "attached");
        assert_string_equal (xs_proto_str (st, "sr_uuid"), id == 1 ? "sr-created" : "sr-2");
        xs_proto_destroy (&st);
    }
    assert_true (seen [1] && seen [2]);

    /* Heartbeats soon carry both SRs' stats. */
    bool with_stats = false;
    int with_drivers = 0;
    for (int n = 0; n < 40 && !with_stats; n++) {
        xs_proto_t *hb = s_recv_skip (f, "sr_state register");
        assert_non_null (hb);
        assert_int_equal (xs_proto_type (hb), XS_PROTO_HEARTBEAT);
        with_drivers += json_is_object (xs_proto_get (hb, "sm_drivers"));
        json_t *srs = xs_proto_get (hb, "srs");
        if (json_array_size (srs) == 2) {
            with_stats = true;
            json_t *s0 = json_array_get (srs, 0);
            assert_int_equal (json_integer_value (json_object_get (s0, "physical_size")), 1000);
        }
        xs_proto_t *ack = xs_proto_new (XS_PROTO_HEARTBEAT_ACK, xs_proto_id (hb));
        s_send (f, &ack);
        xs_proto_destroy (&hb);
    }
    assert_true (with_stats);
    assert_int_equal (with_drivers, 0);        /* the register had them */

    /* Unchanged stats are not sent again, except on every 10th heartbeat:
       of any 20 in a row, 2 carry both SRs and 18 none. */
    int full = 0, empty = 0;
    for (int n = 0; n < 20; n++) {
        xs_proto_t *hb = s_recv_skip (f, "sr_state register");
        assert_non_null (hb);
        size_t count = json_array_size (xs_proto_get (hb, "srs"));
        assert_true (count == 0 || count == 2);
        if (count == 2)
            full++;
        else
            empty++;
        xs_proto_t *ack = xs_proto_new (XS_PROTO_HEARTBEAT_ACK, xs_proto_id (hb));
        s_send (f, &ack);
        xs_proto_destroy (&hb);
    }
    assert_int_equal (full, 2);
    assert_int_equal (empty, 18);
}

/* xapi not answering at the start: an agent whose host uuid is configured
   registers without the pool's SM drivers, asks again on its heartbeats,
   and the first heartbeat after it learns them carries them, once. */
static void
test_drivers_learnt_later_reach_the_catalog (void **state)
{
    fixture_t *f = (fixture_t *) *state;
    s_host_info_failures = 1;
    s_host_info_calls = 0;
    s_start_agent (f, f->certs->agent_cert, "h-conf", 0);
    xs_proto_t *reg = s_recv_skip (f, NULL);
    assert_non_null (reg);
    assert_int_equal (xs_proto_type (reg), XS_PROTO_REGISTER);
    assert_null (xs_proto_get (reg, "sm_drivers"));
    s_welcome (f, reg, 20);
    xs_proto_destroy (&reg);
    int with_drivers = 0, beats = 0;
    for (; beats < 200 && with_drivers == 0; beats++) {
        xs_proto_t *hb = s_recv_skip (f, "sr_state register");
        assert_non_null (hb);
        json_t *drivers = xs_proto_get (hb, "sm_drivers");
        if (json_is_object (drivers)) {
            with_drivers++;
            assert_non_null (json_object_get (drivers, "nfs"));
        }
        xs_proto_t *ack = xs_proto_new (XS_PROTO_HEARTBEAT_ACK, xs_proto_id (hb));
        s_send (f, &ack);
        xs_proto_destroy (&hb);
    }
    assert_int_equal (with_drivers, 1);
    for (int n = 0; n < 25; n++) {      /* learnt: neither sent nor asked again */
        xs_proto_t *hb = s_recv_skip (f, "sr_state register");
        assert_non_null (hb);
        assert_null (xs_proto_get (hb, "sm_drivers"));
        xs_proto_t *ack = xs_proto_new (XS_PROTO_HEARTBEAT_ACK, xs_proto_id (hb));
        s_send (f, &ack);
        xs_proto_destroy (&hb);
    }
    assert_int_equal (s_host_info_calls, 2);
}

static void
test_requests_results_and_slow_calls (void **state)
{
    fixture_t *f = (fixture_t *) *state;
    s_start_agent (f, f->certs->agent_cert, "h-conf", 0);
    xs_proto_t *reg = s_recv_skip (f, NULL);
    assert_non_null (reg);
    assert_string_equal (xs_proto_str (reg, "host_uuid"), "h-conf");
    /* Its host uuid configured, it still learns the pool's SM drivers
       before it registers: a backend added before they reached the catalog
       could be placed on a host lacking the driver. */
    assert_true (json_is_object (xs_proto_get (reg, "sm_drivers")));
    s_welcome (f, reg, 40);
    xs_proto_destroy (&reg);

    /* A slow call: the fake holds it in its worker until released. */
    xs_test_exec_hold (f->exec, "slow");
    json_t *args = json_pack ("{s:s, s:s, s:i}", "sr_uuid", "sr-2", "volume_uuid", "slow", "size", 1);
    xs_proto_t *req = xs_proto_request_new ("slow-1", XS_OP_VDI_CREATE, &args);
    s_send (f, &req);
    args = json_pack ("{s:s, s:s, s:i}", "sr_uuid", "sr-2", "volume_uuid", "full", "size", 1);
    req = xs_proto_request_new ("full-1", XS_OP_VDI_CREATE, &args);
    s_send (f, &req);
    assert_true (xs_test_exec_wait_held (f->exec, 5000));

    /* While it runs, heartbeats keep coming and the other request is
       answered, with the xapi reason: the loop never stalls. */
    int beats_while_slow = 0;
    bool got_full = false;
    while (!got_full || beats_while_slow < 5) {
        xs_proto_t *m = s_recv_skip (f, "sr_state register");
        assert_non_null (m);
        if (xs_proto_type (m) == XS_PROTO_HEARTBEAT) {
            beats_while_slow++;
            xs_proto_t *ack = xs_proto_new (XS_PROTO_HEARTBEAT_ACK, xs_proto_id (m));
            s_send (f, &ack);
        }
        else {
            assert_int_equal (xs_proto_type (m), XS_PROTO_RESULT);
            assert_string_equal (xs_proto_id (m), "full-1");
            assert_false (xs_proto_bool (m, "ok", true));
            xs_err_t err;
            xs_proto_result_err (m, &err);
            assert_int_equal (err.kind, XS_EXAPI);
            assert_string_equal (err.msg, "SR_FULL [sr-1]");
            got_full = true;
        }
        xs_proto_destroy (&m);
    }
    assert_true (xs_test_exec_holding (f->exec));
    assert_int_equal (xs_test_exec_calls (f->exec, XS_OP_VDI_CREATE), 1);

    /* Released, the slow call answers. */
    xs_test_exec_release (f->exec);
    xs_proto_t *m = NULL;
    while ((m = s_recv_skip (f, "sr_state register")) && xs_proto_type (m) == XS_PROTO_HEARTBEAT) {
        xs_proto_t *ack = xs_proto_new (XS_PROTO_HEARTBEAT_ACK, xs_proto_id (m));
        s_send (f, &ack);
        xs_proto_destroy (&m);
    }
    assert_non_null (m);
    assert_int_equal (xs_proto_type (m), XS_PROTO_RESULT);
    assert_string_equal (xs_proto_id (m), "slow-1");
    assert_true (xs_proto_bool (m, "ok", false));
    xs_proto_destroy (&m);
    assert_int_equal (xs_test_exec_calls (f->exec, XS_OP_VDI_CREATE), 2);
}

static void
test_garbage_gets_error_and_not_registered_reregisters (void **state)
{
    fixture_t *f = (fixture_t *) *state;
    s_start_agent (f, f->certs->agent_cert, "h-conf", 0);
    xs_proto_t *reg = s_recv_skip (f, NULL);
    assert_non_null (reg);
    s_welcome (f, reg, 1000);
    xs_proto_destroy (&reg);

    s_send_raw (f, "\x01\x02garbage", 9);
    xs_proto_t *e = s_recv_skip (f, "heartbeat sr_state register");
    assert_non_null (e);
    assert_int_equal (xs_proto_type (e), XS_PROTO_ERROR);
    assert_string_equal (xs_proto_str (e, "code"), XS_PROTO_E_MALFORMED);
    xs_proto_destroy (&e);

    /* A message type the agent never receives. */
    xs_proto_t *wrong = xs_proto_new (XS_PROTO_SR_STATE, "w-1");
    xs_proto_set_int (wrong, "backend_id", 1);
    xs_proto_set_str (wrong, "state", "attached");
    s_send (f, &wrong);
    e = s_recv_skip (f, "heartbeat sr_state register");
    assert_non_null (e);
    assert_string_equal (xs_proto_str (e, "code"), XS_PROTO_E_UNEXPECTED);
    assert_string_equal (xs_proto_id (e), "w-1");
    xs_proto_destroy (&e);

    /* An error message is never answered; not_registered makes it register. */
    xs_proto_t *nr = xs_proto_error_new ("x", XS_PROTO_E_NOT_REGISTERED, "who are you");
    s_send (f, &nr);
    reg = s_recv_skip (f, "heartbeat sr_state");
    assert_non_null (reg);
    assert_int_equal (xs_proto_type (reg), XS_PROTO_REGISTER);
    xs_proto_destroy (&reg);
}

static void
test_silent_catalog_means_register_again (void **state)
{
    fixture_t *f = (fixture_t *) *state;
    s_start_agent (f, f->certs->agent_cert, "h-conf", 0);
    xs_proto_t *reg = s_recv_skip (f, NULL);
    assert_non_null (reg);
    char first_id [XS_PROTO_MAX_ID + 1];
    snprintf (first_id, sizeof first_id, "%s", xs_proto_id (reg));
    /* No welcome: it retries register with backoff. */
    xs_proto_destroy (&reg);
    reg = s_recv_skip (f, NULL);
    assert_non_null (reg);
    assert_int_equal (xs_proto_type (reg), XS_PROTO_REGISTER);
    assert_string_not_equal (xs_proto_id (reg), first_id);
    s_welcome (f, reg, 30);
    xs_proto_destroy (&reg);
    /* Now never ack a heartbeat: after silence_ms (300 ms: 10 heartbeats of
       30 ms, more than the 3 that are the least) it registers again. */
    int beats = 0;
    xs_proto_t *m = NULL;
    /* Retries sent before the welcome was read come before the first
       heartbeat (one socket keeps order): skip those. */
    while ((m = s_recv_skip (f, "sr_state"))
       &&  (xs_proto_type (m) == XS_PROTO_HEARTBEAT
            || (xs_proto_type (m) == XS_PROTO_REGISTER && beats == 0))) {
        if (xs_proto_type (m) == XS_PROTO_HEARTBEAT)
            beats++;
        xs_proto_destroy (&m);
    }
    assert_non_null (m);
    assert_int_equal (xs_proto_type (m), XS_PROTO_REGISTER);
    assert_int_equal (beats, 10);
    xs_proto_destroy (&m);
}

/* catalog_endpoint = A,B: nobody answers at A (a follower binds no agent
   socket), so the agent registers at B; when B falls silent it tries A,
   then B again. */
static void
test_endpoint_list_moves_to_the_next (void **state)
{
    fixture_t *f = (fixture_t *) *state;
    char endpoints [128];
    snprintf (endpoints, sizeof endpoints, "tcp://127.0.0.1:1, tcp://127.0.0.1:%d", f->port);
    s_start_agent_at (f, endpoints, f->certs->agent_cert, "h-list");
    xs_proto_t *reg = s_recv_skip (f, NULL);
    assert_non_null (reg);
    assert_int_equal (xs_proto_type (reg), XS_PROTO_REGISTER);
    s_welcome (f, reg, 30);
    xs_proto_destroy (&reg);
    /* Silent: after silence_ms it moves on (to A, which is dead, then back
       to B) and registers here again. */
    xs_proto_t *m = NULL;
    while ((m = s_recv_skip (f, "sr_state heartbeat")) && xs_proto_type (m) != XS_PROTO_REGISTER)
        xs_proto_destroy (&m);
    assert_non_null (m);
    xs_proto_destroy (&m);
}

static void
test_unknown_key_is_refused (void **state)
{
    fixture_t *f = (fixture_t *) *state;
    char stranger [400];
    xs_test_certs_make (f->certs, "stranger.cert", stranger, sizeof stranger);
    s_start_agent (f, stranger, "h-stranger", 0);
    zsock_set_rcvtimeo (f->router, 700);
    zmsg_t *m = zmsg_recv (f->router);
    assert_null (m);            /* nothing ever reaches the catalog */
}

static void
test_bad_config_refused (void **state)
{
    fixture_t *f = (fixture_t *) *state;
    xs_err_t err;
    xs_agent_cfg_t cfg = {
        .catalog_endpoint = "tcp://127.0.0.1:1", .zone = "z1",
        .cert_file = "/nonexistent/agent.cert", .catalog_key_file = f->certs->catalog_cert,
        .executor = &xs_test_executor, .executor_arg = f->exec,
    };
    assert_null (xs_agent_new (&cfg, &err));
    assert_non_null (strstr (err.msg, "/nonexistent/agent.cert"));
    cfg.cert_file = f->certs->agent_cert;
    cfg.zone = "";
    assert_null (xs_agent_new (&cfg, &err));
    assert_non_null (strstr (err.msg, "zone"));
    cfg.zone = "z1";
    cfg.catalog_key_file = "/nonexistent/catalog.cert";
    assert_null (xs_agent_new (&cfg, &err));
    assert_non_null (strstr (err.msg, "catalog key"));
}

int
main (void)
{
    xs_log_init ("test_agent", false, getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_register_attach_heartbeat, setup, teardown),
        cmocka_unit_test_setup_teardown (test_drivers_learnt_later_reach_the_catalog, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_requests_results_and_slow_calls, setup, teardown),
        cmocka_unit_test_setup_teardown (test_garbage_gets_error_and_not_registered_reregisters,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_silent_catalog_means_register_again, setup, teardown),
        cmocka_unit_test_setup_teardown (test_endpoint_list_moves_to_the_next, setup, teardown),
        cmocka_unit_test_setup_teardown (test_unknown_key_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown (test_bad_config_refused, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
