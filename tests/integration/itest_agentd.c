/*  Integration test: real xensm-agentd processes against the xapi simulator
    (tests/xapisim/xapisim.py, a real process), driven by the catalog's own
    classes (xs_agentsrv, xs_placement, xs_jobs, xs_volumes over a real
    store) in this process.

    A pool of two hosts; one backend without an SR: exactly one agent
    creates it (SR.create), the other attaches it; a volume is created,
    snapshotted and deleted through the agents' XenAPI calls; the volume's
    name is its VDI's description (the agent side of the op table's choice,
    end to end). Every process started is stopped, also on failure.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <czmq.h>

#include "common/xs_cert.h"
#include "common/xs_log.h"
#include "catalog/server/xs_agentsrv.h"
#include "catalog/server/xs_allowlist.h"
#include "catalog/server/xs_hosts.h"
#include "catalog/server/xs_jobs.h"
#include "catalog/server/xs_placement.h"
#include "catalog/server/xs_volumes.h"
#include "hostagent/xs_agent.h"
#include "host/xs_xenapi.h"
#include "tests/support/xs_test_loop.h"
#include "tests/support/xs_test_proc.h"
#include "tests/support/xs_test_xapisim.h"

static struct {
    char dir [128];
    xs_store_t *store;
    zloop_t *loop;
    xs_batch_t *batch;
    xs_allowlist_t *allowlist;
    xs_hosts_t *hosts;
    xs_agentsrv_t *agents;
    xs_placement_t *placement;
    xs_jobs_t *jobs;
    xs_volumes_t *volumes;
    xs_test_xapisim_t *sim;
} S;

typedef struct { bool done; bool failed; xs_err_t err; json_t *reply; } s_res_t;

static void
s_done (void *arg, xs_reply_answer_t *answer)
{
    s_res_t *r = (s_res_t *) arg;
    r->done = true;
    r->reply = json_incref (json_object_get (answer->result, "volume"));
    json_decref (answer->result);
    if (answer->err) {
        r->failed = true;
        r->err = *answer->err;
    }
}

static bool
s_is_done (void *arg)
{
    return ((s_res_t *) arg)->done;
}

static bool
s_attached_twice (void *arg)
{
    xs_hosts_sr_t sr;
    xs_hosts_sr_info (S.hosts, "z1", *(int64_t *) arg, &sr);
    return sr.live_hosts == 2 && sr.has_stats;
}

static bool
s_two_hosts (void *arg)
{
    json_t *hosts = xs_agentsrv_host_list (S.agents, NULL);
    int up = 0;
    size_t i;
    json_t *h;
    json_array_foreach (hosts, i, h)
        up += streq (json_string_value (json_object_get (h, "state")), "up");
    json_decref (hosts);
    return up == 2;
}

/* The catalog side, in this process: a store with flavor gold and one nfs
   backend without an SR in zone z1, the agent server, placement, jobs and volumes.
   Returns the backend's id. */
static int64_t
s_start_catalog (const char *cert)
{
    char db [256], keys [256];
    snprintf (db, sizeof db, "%s/catalog.db", S.dir);
    snprintf (keys, sizeof keys, "%s/agents", S.dir);
    assert_int_equal (xs_cert_generate (cert, NULL), 0);
    xs_err_t err;
    S.store = xs_store_new (db, &err);
    assert_non_null (S.store);
    S.loop = zloop_new ();
    S.batch = xs_batch_new (S.store, S.loop);
    S.allowlist = xs_allowlist_new (keys, &err);
    assert_non_null (S.allowlist);
    S.hosts = xs_hosts_new ();
    xs_agentsrv_cfg_t acfg = {.endpoint = "tcp://127.0.0.1:*", .cert_file = cert,
                              .heartbeat_ms = 200};
    xs_agentsrv_deps_t deps = {.store = S.store, .batch = S.batch, .loop = S.loop,
                               .hosts = S.hosts, .allowlist = S.allowlist};
    S.agents = xs_agentsrv_new (&acfg, &deps, &err);
    if (!S.agents)
        fail_msg ("%s", err.msg);
    xs_placement_cfg_t pcfg = {.default_ratio = 1.0};
    S.placement = xs_placement_new (&pcfg, S.store, S.batch, S.hosts);
    xs_jobs_cfg_t jcfg = {.wait_ms = 10000};
    S.jobs = xs_jobs_new (&jcfg, S.store, S.batch, S.loop, S.agents, S.hosts,
                          S.placement);
    S.volumes = xs_volumes_new (S.store, S.batch, S.hosts, S.jobs);
    assert_true (xs_store_flavor_create (S.store, "gold", "Not all that glitters", &err) > 0);
    xs_kv_spec_t config [] = {{.key = "server", .value = "myserver"},
                              {.key = "serverpath", .value = "/local/scratch/myname"}};
    xs_backend_spec_t spec = {.flavor_label = "gold", .zone = "z1", .sr_type = "nfs",
                              .name_label = "toybox", .nconfig = 2, .config = config};
    int64_t backend = xs_store_backend_add (S.store, &spec, &err);
    assert_true (backend > 0);
    return backend;
}

/* Agent `i` for simulated host i: its key made by the program and enrolled
   by the catalog. Returns the read end of its XENSM_READY_FD. */
static int
s_start_agent (int i, const char *catalog_cert)
{
    char agentd [] = XS_AGENTD_PATH;
    char acert [256];
    snprintf (acert, sizeof acert, "%s/agent%d.cert", S.dir, i);
    char *gen_argv [] = {agentd, (char *) "--gen-cert", acert, NULL};
    int status = xs_test_proc_wait (xs_test_proc_spawn (gen_argv, NULL, NULL));
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    zfile_t *f = zfile_new (NULL, acert);
    assert_int_equal (zfile_input (f), 0);
    zchunk_t *c = zfile_read (f, zfile_cursize (f), 0);
    char *text = zchunk_strdup (c);
    xs_err_t err;
    char *key = xs_agentsrv_enroll (S.agents, text, &err);
    assert_non_null (key);
    free (key);
    free (text);
    zchunk_destroy (&c);
    zfile_destroy (&f);
    char *argv [] = {agentd, (char *) "--foreground", (char *) "-c", (char *) "/dev/null",
                     (char *) "--catalog",
                     (char *) xs_agentsrv_endpoint (S.agents),
                     (char *) "--zone", (char *) "z1", (char *) "--xapi",
                     (char *) xs_test_xapisim_unix_url (S.sim, (size_t) i),
                     (char *) "--cert", acert, (char *) "--catalog-key", (char *) catalog_cert,
                     (char *) "--host-uuid",
                     (char *) xs_test_xapisim_host_uuid (S.sim, (size_t) i), NULL};
    int ready = -1;
    xs_test_proc_spawn (argv, NULL, &ready);
    return ready;
}

/* Runs the catalog loop until `r` is answered; fails the test on an error. */
static json_t *
s_answer (s_res_t *r, const char *what)
{
    assert_true (xs_test_run_until (S.loop, s_is_done, r, 20000));
    if (r->failed)
        fail_msg ("%s: %s", what, r->err.msg);
    return r->reply;
}

/* A volume named "data", its snapshot, then both deleted, all through the
   agents' XenAPI calls. The volume's name is its VDI's description. */
static void
s_volume_life_cycle (void)
{
    s_res_t r = {0};
    xs_volume_request_t req = {.flavor = "gold", .size = 1073741824LL, .name = "data"};
    xs_reply_t *reply = xs_reply_new (s_done, &r);
    xs_volumes_create (S.volumes, &req, &reply);
    json_t *volume = s_answer (&r, "create");
    assert_string_equal (json_string_value (json_object_get (volume, "state")), "available");
    assert_true (json_is_string (json_object_get (volume, "vdi_uuid")));
    char uuid [64];
    snprintf (uuid, sizeof uuid, "%s", json_string_value (json_object_get (volume, "uuid")));
    json_decref (volume);
    json_t *dump = xs_test_xapisim_dump (S.sim);
    json_t *vdi = xs_test_xapisim_vdi_of (dump, uuid);
    assert_non_null (vdi);
    assert_string_equal (json_string_value (json_object_get (vdi, "name_description")), "data");
    json_decref (dump);

    s_res_t s = {0};
    reply = xs_reply_new (s_done, &s);
    xs_volumes_copy (S.volumes, XS_OP_VDI_SNAPSHOT, uuid, NULL, NULL, &reply);
    json_t *snapshot = s_answer (&s, "snapshot");
    char snap [64];
    snprintf (snap, sizeof snap, "%s", json_string_value (json_object_get (snapshot, "uuid")));
    json_decref (snapshot);

    const char *victims [] = {snap, uuid};
    for (int i = 0; i < 2; i++) {
        s_res_t d = {0};
        reply = xs_reply_new (s_done, &d);
        xs_volumes_delete (S.volumes, victims [i], &reply);
        json_t *deleted = s_answer (&d, victims [i]);
        assert_string_equal (json_string_value (json_object_get (deleted, "state")), "deleted");
        json_decref (deleted);
    }
}

static bool
s_never (void *arg)
{
    return false;
}

/* sim.counts, parsed. */
static json_t *
s_counts (void)
{
    xs_value_t *text = xs_test_xapisim_control (S.sim, "counts", NULL);
    json_t *counts = json_loads (xs_value_str (text), 0, NULL);
    xs_value_destroy (&text);
    assert_non_null (counts);
    return counts;
}

/* Both hosts have reported the SR's stats (each agent's stats refresh
   after its attach is over). */
static bool
s_both_have_stats (void *arg)
{
    char key [32];
    snprintf (key, sizeof key, "%lld", (long long) *(int64_t *) arg);
    int n = 0;
    for (int i = 0; i < 2; i++) {
        xs_live_host_t *host = xs_hosts_get (S.hosts, xs_test_xapisim_host_uuid (S.sim, (size_t) i));
        xs_live_sr_t *sr = host ? (xs_live_sr_t *) zhashx_lookup (host->srs, key) : NULL;
        n += sr && sr->has_stats;
    }
    return n == 2;
}

static bool
s_allocation_above (void *arg)
{
    int64_t *want = (int64_t *) arg;
    xs_hosts_sr_t sr;
    xs_hosts_sr_info (S.hosts, "z1", want [0], &sr);
    return sr.has_stats && sr.virtual_allocation >= want [1];
}

/* Issue 11, "Fewer calls to the master": idle agents call xapi for nothing
   but a waiting event.from (no SR stats polling: the catalog's heartbeats
   come every 200 ms), and a change of the SR (a VDI made behind xensm's
   back) still reaches the catalog's stats, through the events. */
static void
s_idle_agents_follow_events (int64_t backend)
{
    assert_true (xs_test_run_until (S.loop, s_both_have_stats, &backend, 20000));
    json_t *before = s_counts ();
    xs_test_run_until (S.loop, s_never, NULL, 3000);
    json_t *after = s_counts ();
    const char *method;
    json_t *count;
    int calls = 0;
    json_object_foreach (after, method, count)
        if (strcmp (method, "event.from") != 0) {
            int n = (int) (json_integer_value (count)
                           - json_integer_value (json_object_get (before, method)));
            if (n)
                print_message ("  %s %d\n", method, n);
            calls += n;
        }
    print_message ("xapi calls of 2 idle agents in 3 s besides event.from: %d\n", calls);
    assert_int_equal (calls, 0);
    json_decref (before);
    json_decref (after);

    xs_hosts_sr_t sr;
    xs_hosts_sr_info (S.hosts, "z1", backend, &sr);
    xs_err_t err;
    xs_backend_t *b = xs_store_backend_get (S.store, backend, &err);
    assert_non_null (b);
    xs_xenapi_t *client = xs_xenapi_new (xs_test_xapisim_unix_url (S.sim, 0), &err);
    assert_int_equal (xs_xenapi_login (client, "root", "", &err), 0);
    char *ref = xs_xenapi_sr_get_by_uuid (client, b->sr_uuid, &err);
    assert_non_null (ref);
    xs_xenapi_vdi_args_t args = { .sr = ref, .name_label = "not xensm's",
                                  .virtual_size = 1073741824LL };
    char *vdi = xs_xenapi_vdi_create (client, &args, &err);
    if (!vdi)
        fail_msg ("VDI.create: %s", err.msg);
    int64_t want [2] = { backend, sr.virtual_allocation + 1073741824LL };
    assert_true (xs_test_run_until (S.loop, s_allocation_above, want, 20000));
    assert_int_equal (xs_xenapi_vdi_destroy (client, vdi, &err), 0);
    free (vdi);
    free (ref);
    xs_xenapi_destroy (&client);
    xs_backend_destroy (&b);
}

static void
test_agentd_against_xapisim (void **state)
{
    /* The simulator: one pool of two hosts, root with an empty password. */
    static const char *const sim_args [] = { "--pool", "p1:xs01,xs02", "--user", "root:", NULL };
    S.sim = xs_test_xapisim_start (sim_args);
    char cert [256];
    snprintf (cert, sizeof cert, "%s/catalog.cert", S.dir);
    int64_t backend = s_start_catalog (cert);
    int ready [2];
    for (int i = 0; i < 2; i++)
        ready [i] = s_start_agent (i, cert);

    /* Registration happens on the catalog loop: run it until both are up. */
    assert_true (xs_test_run_until (S.loop, s_two_hosts, NULL, 20000));
    for (int i = 0; i < 2; i++) {
        char line [256];
        assert_true (xs_test_proc_read_line (ready [i], line, sizeof line, 5000));
        assert_string_equal (line, "READY");
        close (ready [i]);
    }
    /* The backend's SR: created once, attached by both. */
    xs_agentsrv_reconcile (S.agents);
    assert_true (xs_test_run_until (S.loop, s_attached_twice, &backend, 20000));
    xs_err_t err;
    xs_backend_t *b = xs_store_backend_get (S.store, backend, &err);
    assert_non_null (b->sr_uuid);
    assert_int_equal (b->state, XS_BACKEND_ATTACHED);
    xs_backend_destroy (&b);

    s_idle_agents_follow_events (backend);
    s_volume_life_cycle ();
}

static int
setup (void **state)
{
    snprintf (S.dir, sizeof S.dir, "/tmp/xs_itest_agentd.XXXXXX");
    assert_non_null (mkdtemp (S.dir));
    return 0;
}

static int
teardown (void **state)
{
    xs_test_xapisim_stop (&S.sim);
    xs_test_proc_stop_all ();
    xs_volumes_destroy (&S.volumes);
    xs_jobs_destroy (&S.jobs);
    xs_placement_destroy (&S.placement);
    xs_agentsrv_destroy (&S.agents);
    xs_hosts_destroy (&S.hosts);
    xs_allowlist_destroy (&S.allowlist);
    xs_batch_destroy (&S.batch);
    zloop_destroy (&S.loop);
    xs_store_destroy (&S.store);
    char cmd [300];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", S.dir);
    if (system (cmd) != 0)
        return -1;
    return 0;
}

int
main (void)
{
    xs_log_init ("itest_agentd", false, getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_agentd_against_xapisim, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
