/*  test_store_leader: one leader among several stores on one database, and
    the fence (xs_store_leader.c). SQLite: always the leader, one process
    per file. PostgreSQL (label pg): shared stores on one database, a
    takeover after the leader's connection ends or its lease expires, and a
    superseded leader that can write nothing.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store_fixture.h"

static const xs_store_instance_t s_a = {
    .instance = "cat-a", .admin_endpoint = "tcp://10.0.0.1:7001",
    .agent_endpoint = "tcp://10.0.0.1:7002", .api_endpoint = "10.0.0.1:8776", .lease_ms = 300 };
static const xs_store_instance_t s_b = {
    .instance = "cat-b", .admin_endpoint = "tcp://10.0.0.2:7001",
    .agent_endpoint = "tcp://10.0.0.2:7002", .lease_ms = 300 };

static xs_store_t *
s_open_shared (fixture_t *fx)
{
    xs_err_t err = { 0 };
    xs_store_options_t options = { .shared = true };
    xs_store_t *store = xs_store_open (fx->path, &options, &err);
    if (!store)
        fail_msg ("open shared %s: %s", fx->path, err.msg);
    return store;
}

/* Leads or fails the test; returns the generation. */
static int64_t
s_lead (xs_store_t *store, const xs_store_instance_t *me)
{
    xs_err_t err = { 0 };
    xs_store_leader_t leader;
    int rc = xs_store_lead (store, me, &leader, &err);
    if (rc != 1)
        fail_msg ("%s does not lead (%d): %s", me->instance, rc, err.msg);
    assert_string_equal (leader.instance, me->instance);
    assert_int_equal (leader.generation, xs_store_lead_generation (store));
    return leader.generation;
}

/* Waits (bounded) until `me` leads on `store`; returns the generation. */
static int64_t
s_wait_lead (xs_store_t *store, const xs_store_instance_t *me)
{
    xs_err_t err = { 0 };
    xs_store_leader_t leader;
    for (int i = 0; i < 200; i++) {
        int rc = xs_store_lead (store, me, &leader, &err);
        if (rc == 1)
            return leader.generation;
        if (rc < 0)
            fail_msg ("%s: %s", me->instance, err.msg);
        usleep (50 * 1000);     /* the lease runs on the database's clock */
    }
    fail_msg ("%s never led", me->instance);
    return -1;
}

/* SQLite: the one process always leads; each start is a new generation. */
static void
test_sqlite_always_leads (void **state)
{
    FX_SQLITE_ONLY ();
    fixture_t *fx = *state;
    fx->store = fx_open (fx);
    assert_int_equal (s_lead (fx->store, &s_a), 1);
    assert_int_equal (xs_store_flavor_create (fx->store, "gold", NULL, NULL) > 0, 1);
    fx->store = fx_reopen (fx);
    assert_int_equal (s_lead (fx->store, &s_a), 2);
    int n = 0;
    xs_store_leader_t *rows = xs_store_instance_list (fx->store, &n, NULL);
    assert_int_equal (n, 1);
    assert_string_equal (rows [0].instance, "cat-a");
    assert_string_equal (rows [0].agent_endpoint, "tcp://10.0.0.1:7002");
    free (rows);
}

/* Two shared stores: one leads, the other learns who and writes nothing. */
static void
test_pg_one_leader (void **state)
{
    FX_PG_ONLY ();
    fixture_t *fx = *state;
    xs_store_t *a = s_open_shared (fx), *b = s_open_shared (fx);
    int64_t gen = s_lead (a, &s_a);
    xs_store_leader_t leader;
    xs_err_t err = { 0 };
    assert_int_equal (xs_store_lead (b, &s_b, &leader, &err), 0);
    assert_string_equal (leader.instance, "cat-a");
    assert_string_equal (leader.admin_endpoint, "tcp://10.0.0.1:7001");
    assert_int_equal (leader.generation, gen);
    assert_true (leader.until > leader.now);
    /* The leader renews; the follower's writes are refused, in or out of
       a transaction. */
    assert_int_equal (s_lead (a, &s_a), gen);
    assert_true (xs_store_flavor_create (a, "gold", NULL, &err) > 0);
    assert_int_equal (xs_store_flavor_create (b, "silver", NULL, &err), -1);
    assert_int_equal (err.kind, XS_ENOTLEADER);
    assert_int_equal (xs_store_begin (b, &err), -1);
    assert_int_equal (err.kind, XS_ENOTLEADER);
    /* Both are listed. */
    int n = 0;
    xs_store_leader_t *rows = xs_store_instance_list (b, &n, &err);
    assert_int_equal (n, 2);
    assert_string_equal (rows [0].instance, "cat-a");
    assert_string_equal (rows [1].instance, "cat-b");
    free (rows);
    /* The leader goes (kill -9: its session ends): the other leads next. */
    xs_store_destroy (&a);
    assert_int_equal (s_wait_lead (b, &s_b), gen + 1);
    assert_true (xs_store_flavor_create (b, "silver", NULL, &err) > 0);
    xs_store_destroy (&b);
}

/* A takeover the leader did not see (its session alive, its lease
   expired: a SIGSTOP): its next transaction, and every later write, fails
   with not_leader and stores nothing. */
static void
test_pg_paused_leader_is_fenced (void **state)
{
    FX_PG_ONLY ();
    fixture_t *fx = *state;
    xs_store_t *a = s_open_shared (fx), *b = s_open_shared (fx);
    int64_t gen = s_lead (a, &s_a);
    xs_err_t err = { 0 };
    assert_true (xs_store_flavor_create (a, "gold", NULL, &err) > 0);
    /* a is "paused": it renews nothing; b ends its session and takes over. */
    assert_int_equal (s_wait_lead (b, &s_b), gen + 1);
    /* Its session was ended: the first statement sees the connection lost
       (io), the next one reconnects and is fenced. */
    assert_int_equal (xs_store_begin (a, &err), -1);
    if (err.kind == XS_EIO) {
        assert_non_null (strstr (err.msg, "connection"));
        assert_int_equal (xs_store_begin (a, &err), -1);
    }
    assert_int_equal (err.kind, XS_ENOTLEADER);
    assert_non_null (strstr (err.msg, "not the leader"));
    assert_true (xs_store_fenced (a));
    assert_int_equal (xs_store_flavor_create (a, "silver", NULL, &err), -1);
    assert_int_equal (err.kind, XS_ENOTLEADER);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM flavor WHERE label = 'silver'"),
                      0);
    /* Nor a job of the journal, in a group transaction or alone. */
    xs_job_spec_t job = { .op = "sr_attach", .state = XS_JOB_PENDING };
    assert_int_equal (xs_store_job_insert (a, &job, &err), -1);
    assert_int_equal (err.kind, XS_ENOTLEADER);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM job"), 0);
    /* Asked again, it follows b. */
    xs_store_leader_t leader;
    assert_int_equal (xs_store_lead (a, &s_a, &leader, &err), 0);
    assert_string_equal (leader.instance, "cat-b");
    xs_store_destroy (&a);
    xs_store_destroy (&b);
}

/* The generation changed under an open session (another leader's UPDATE):
   the fence in the transaction itself refuses, and nothing of it lands. */
static void
test_pg_fence_in_transaction (void **state)
{
    FX_PG_ONLY ();
    fixture_t *fx = *state;
    xs_store_t *a = s_open_shared (fx);
    s_lead (a, &s_a);
    xs_err_t err = { 0 };
    assert_int_equal (fx_raw_exec (fx->path, "UPDATE catalog_leader SET generation = "
                                   "generation + 1"), FX_OK);
    assert_int_equal (xs_store_begin (a, &err), -1);
    assert_int_equal (err.kind, XS_ENOTLEADER);
    assert_non_null (strstr (err.msg, "superseded"));
    assert_false (xs_store_in_transaction (a));
    /* The lease renewal sees it too. */
    assert_int_equal (xs_store_lead (a, &s_a, NULL, &err), 1);  /* leads again: new gen */
    assert_int_equal (fx_raw_exec (fx->path, "UPDATE catalog_leader SET generation = "
                                   "generation + 1"), FX_OK);
    assert_int_equal (xs_store_lead (a, &s_a, NULL, &err), -1);
    assert_int_equal (err.kind, XS_ENOTLEADER);
    xs_store_destroy (&a);
}

/* A store opened alone holds the database: a shared one cannot lead. */
static void
test_pg_exclusive_store_keeps_it (void **state)
{
    FX_PG_ONLY ();
    fixture_t *fx = *state;
    fx->store = fx_open (fx);
    xs_store_t *b = s_open_shared (fx);
    xs_err_t err = { 0 };
    xs_store_leader_t leader;
    assert_int_equal (xs_store_lead (b, &s_b, &leader, &err), 0);
    assert_int_equal (leader.generation, 0);
    xs_store_destroy (&b);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        FX_TEST (test_sqlite_always_leads),
        FX_TEST (test_pg_one_leader),
        FX_TEST (test_pg_paused_leader_is_fenced),
        FX_TEST (test_pg_fence_in_transaction),
        FX_TEST (test_pg_exclusive_store_keeps_it),
    };
    return cmocka_run_group_tests (tests, FX_GROUP_SETUP, FX_GROUP_TEARDOWN);
}
