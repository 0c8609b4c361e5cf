/*  Unit tests for xs_agentsrv: the agent socket against real xs_agent
    actors (catalog_fixture): register and the allow-list (one source of
    truth with the CURVE handshake), enroll, remove, the host list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "catalog_fixture.h"
#include "common/xs_log.h"

static void
test_enroll_and_remove (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_agentsrv_t *a = f->agents;
    xs_err_t err;
    assert_null (xs_agentsrv_enroll (a, "not a key", &err));
    assert_int_equal (err.kind, XS_EINVAL);
    zcert_t *c = zcert_new ();
    char *key = xs_agentsrv_enroll (a, zcert_public_txt (c), &err);
    assert_non_null (key);
    assert_string_equal (key, zcert_public_txt (c));
    json_t *list = xs_agentsrv_host_list (a, &err);
    assert_int_equal (json_array_size (list), 1);
    assert_string_equal (fx_jstr (json_array_get (list, 0), "state"), "enrolled");
    json_decref (list);
    assert_int_equal (xs_agentsrv_remove (a, key, &err), 0);
    list = xs_agentsrv_host_list (a, &err);
    assert_int_equal (json_array_size (list), 0);
    json_decref (list);
    assert_int_equal (xs_agentsrv_remove (a, key, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    free (key);
    zcert_destroy (&c);
}

/* Registered and up (an fx_pred_fn; arg: the host name). */
static bool
s_host_up (fx_t *f, void *arg)
{
    xs_live_host_t *h = xs_hosts_get (f->hosts, (const char *) arg);
    return h && h->up;
}

/* The handshake (zauth) and register admit the same keys: any czmq public
   certificate in the allow-list directory, whatever its file name. Before,
   zauth admitted a certificate copied in by hand but register refused it
   (it looked only for "<hex>.key"), so such an agent connected and was
   turned away for ever. */
static void
test_certificate_copied_in_by_hand_admitted (void **state)
{
    fx_t *f = (fx_t *) *state;
    char cert [200];
    fx_make_agent_cert (f, "h7", cert, sizeof cert);
    char copy [300];
    snprintf (copy, sizeof copy, "%s/h7-by-hand.cert", f->keys);
    zcert_t *c = zcert_load (cert);
    assert_non_null (c);
    assert_int_equal (zcert_save_public (c, copy), 0);
    fx_start_agent_as_is (f, "h7", "z1");
    assert_true (fx_run_until (f, s_host_up, (void *) "h7", 5000));
    json_t *list = xs_agentsrv_host_list (f->agents, NULL);
    assert_int_equal (json_array_size (list), 1);
    assert_string_equal (fx_jstr (json_array_get (list, 0), "state"), "up");
    json_decref (list);

    /* Removing the host removes that file too: the key is gone from both. */
    xs_err_t err;
    assert_int_equal (xs_agentsrv_remove (f->agents, "h7", &err), 0);
    assert_false (zsys_file_exists (copy));
    assert_false (xs_allowlist_admits (f->allowlist, zcert_public_txt (c)));
    zcert_destroy (&c);
}

/* An agent whose key is not in the allow-list never registers. */
static void
test_unknown_key_refused (void **state)
{
    fx_t *f = (fx_t *) *state;
    fx_start_agent_as_is (f, "h8", "z1");
    assert_false (fx_run_until (f, s_host_up, (void *) "h8", 500));
    json_t *list = xs_agentsrv_host_list (f->agents, NULL);
    assert_int_equal (json_array_size (list), 0);
    json_decref (list);
}

static bool
s_host_down (fx_t *f, void *arg)
{
    xs_live_host_t *h = xs_hosts_get (f->hosts, (const char *) arg);
    return h && !h->up;
}

/* A catalog stalled before its first tick (SIGSTOP, a starved machine)
   forgives like one stalled later: after the stall the ZeroMQ I/O thread
   may not have handed the queued heartbeats over yet, so the first tick
   must not count the stall as the hosts' silence. It did (the tick's
   "last tick" was 0 until the first one ran): every host registered in
   the first heartbeat period went down after such a stall (CI, e2e on
   PostgreSQL). Here the agent is gone during the stall, so no queued
   heartbeat can hide the rule; after the catalog has listened for three
   heartbeat periods the silent host is down, as it should be. */
static void
test_stall_before_the_first_tick_is_forgiven (void **state)
{
    fx_t *f = (fx_t *) *state;
    fx_stop_catalog (f);
    f->heartbeat_ms = 600;
    fx_start_catalog (f);
    /* Registered well within the first period (a tick that ran already
       would make this the later-stall case, which holds as well). */
    fx_start_agent (f, "h1", "z1");
    assert_true (fx_run_until (f, s_host_up, (void *) "h1", 5000));
    fx_stop_agents (f);
    /* The stall: this loop does not run for over 3 heartbeat periods. */
    zclock_sleep (4 * f->heartbeat_ms);
    /* The next tick (zloop_start times it a period from now) forgives: the
       host gets a full window from there... */
    assert_false (fx_run_until (f, s_host_down, (void *) "h1", f->heartbeat_ms * 3 / 2));
    xs_live_host_t *h = xs_hosts_get (f->hosts, "h1");
    assert_non_null (h);
    assert_int_equal (h->downs, 0);
    /* ...and is down once the catalog has listened that long. */
    assert_true (fx_run_until (f, s_host_down, (void *) "h1", 10 * f->heartbeat_ms));
    assert_int_equal (h->downs, 1);
}

/* The physical_size of host h1's stored report on backend `id`, -1 when
   there is none yet. */
static int64_t
s_stored_size (fx_t *f, int64_t id)
{
    xs_err_t err;
    xs_sr_stats_t **rows = xs_store_sr_stats_list (f->store, id, "h1", &err);
    int64_t size = rows && rows [0] && rows [0]->has_stats ? rows [0]->physical_size : -1;
    xs_sr_stats_list_destroy (&rows);
    return size;
}

typedef struct {
    int64_t id;
    int64_t not_size;
} s_stored_t;

/* h1's stored report on the backend has sizes other than not_size. */
static bool
s_stored_other (fx_t *f, void *arg)
{
    s_stored_t *s = (s_stored_t *) arg;
    int64_t size = s_stored_size (f, s->id);
    return size >= 0 && size != s->not_size;
}

static bool
s_beats_reached (fx_t *f, void *arg)
{
    xs_live_host_t *h = xs_hosts_get (f->hosts, "h1");
    return h && h->beats >= *(int *) arg;
}

/* Heartbeats write a host's SR stats only when they differ from what its
   row holds: with 10,000 hosts, quiet SRs must cost the store nothing. A
   row changed behind the catalog's back stays as it is while the host
   reports the same stats (every 10th beat is a stats beat), and a new
   session of the host writes its stats again. */
static void
test_unchanged_stats_not_rewritten (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "gold", "", NULL);
    int64_t id = fx_backend (f, "gold", "z1", "one");
    fx_start_agent (f, "h1", "z1");
    fx_wait_ready (f, id, 1);
    s_stored_t any = {id, -1};
    assert_true (fx_run_until (f, s_stored_other, &any, 10000));
    xs_sr_stats_spec_t st = {.host_uuid = "h1", .backend_id = id, .attached = true,
                             .has_stats = true, .physical_size = 42};
    xs_err_t err;
    assert_int_equal (xs_store_sr_stats_upsert (f->store, &st, &err), 0);
    int beats = xs_hosts_get (f->hosts, "h1")->beats + 2 * 10 + 1;
    assert_true (fx_run_until (f, s_beats_reached, &beats, 20000));
    assert_int_equal (s_stored_size (f, id), 42);

    fx_stop_agents (f);
    fx_start_agent (f, "h1", "z1");
    s_stored_t other = {id, 42};
    assert_true (fx_run_until (f, s_stored_other, &other, 20000));
}

int
main (void)
{
    xs_log_init ("test_agentsrv", false, getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_enroll_and_remove, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_certificate_copied_in_by_hand_admitted, fx_setup,
                                         fx_teardown),
        cmocka_unit_test_setup_teardown (test_unknown_key_refused, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_unchanged_stats_not_rewritten, fx_setup,
                                         fx_teardown),
        cmocka_unit_test_setup_teardown (test_stall_before_the_first_tick_is_forgiven, fx_setup,
                                         fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
