/*  Integration test: real xensm-agentd processes against the xapi simulator
    (tests/xapisim/xapisim.py, a real process), driven by the catalog's own
    scheduler (xs_sched + xs_agentsrv over a real store) in this process.

    A pool of two hosts; one backend without an SR: exactly one agent
    creates it (SR.create), the other attaches it; a volume is created,
    snapshotted and deleted through the agents' XenAPI calls; an unknown
    agent key is refused. Every process started is stopped, also on failure.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <czmq.h>

#include "common/xs_cert.h"
#include "common/xs_log.h"
#include "catalog/xs_sched.h"
#include "hostagent/xs_agent.h"

#define S_MAX_PIDS 8

static struct {
    char dir [128];
    pid_t pids [S_MAX_PIDS];
    int npids;
    char sock [2][256];
    char uuid [2][64];
    xs_store_t *store;
    zloop_t *loop;
    xs_batch_t *batch;
    xs_sched_t *sched;
} S;

static void
s_kill_all (void)
{
    for (int i = 0; i < S.npids; i++)
        if (S.pids [i] > 0) {
            kill (S.pids [i], SIGTERM);
            int status;
            for (int t = 0; t < 50 && waitpid (S.pids [i], &status, WNOHANG) == 0; t++)
                usleep (100000);
            kill (S.pids [i], SIGKILL);
            waitpid (S.pids [i], &status, 0);
            S.pids [i] = 0;
        }
}

/* Starts argv with stdout to *out_fd (when not NULL) and XENSM_READY_FD on
   a pipe returned in *ready_fd (when not NULL). */
static pid_t
s_spawn (char *const argv [], int *out_fd, int *ready_fd)
{
    int out [2] = {-1, -1}, ready [2] = {-1, -1};
    if (out_fd)
        assert_int_equal (pipe (out), 0);
    if (ready_fd)
        assert_int_equal (pipe (ready), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        if (out_fd) {
            dup2 (out [1], 1);
            close (out [0]);
        }
        if (ready_fd) {
            close (ready [0]);
            char fd [16];
            snprintf (fd, sizeof fd, "%d", ready [1]);
            setenv ("XENSM_READY_FD", fd, 1);
        }
        execv (argv [0], argv);
        _exit (127);
    }
    S.pids [S.npids++] = pid;
    if (out_fd) {
        close (out [1]);
        *out_fd = out [0];
    }
    if (ready_fd) {
        close (ready [1]);
        *ready_fd = ready [0];
    }
    return pid;
}

/* A line from fd within timeout_ms, or false. */
static bool
s_read_line (int fd, char *buf, size_t size, int timeout_ms)
{
    size_t n = 0;
    int64_t deadline = zclock_mono () + timeout_ms;
    while (n + 1 < size) {
        struct pollfd p = {fd, POLLIN, 0};
        int left = (int) (deadline - zclock_mono ());
        if (left <= 0 || poll (&p, 1, left) <= 0)
            return false;
        ssize_t r = read (fd, buf + n, 1);
        if (r <= 0)
            return false;
        if (buf [n] == '\n') {
            buf [n] = '\0';
            return true;
        }
        n++;
    }
    return false;
}

/* ---- running the catalog loop until a condition holds ---- */

typedef bool (s_pred_fn) (void *arg);
typedef struct { s_pred_fn *pred; void *arg; int64_t deadline; bool met; } s_until_t;

static int
s_tick (zloop_t *loop, int timer_id, void *arg)
{
    s_until_t *u = (s_until_t *) arg;
    if (u->pred (u->arg)) {
        u->met = true;
        return -1;
    }
    return zclock_mono () > u->deadline ? -1 : 0;
}

static bool
s_until (s_pred_fn *pred, void *arg, int timeout_ms)
{
    s_until_t u = {pred, arg, zclock_mono () + timeout_ms, false};
    int t = zloop_timer (S.loop, 10, 0, s_tick, &u);
    zloop_start (S.loop);
    zloop_timer_end (S.loop, t);
    return u.met;
}

typedef struct { bool done; bool failed; xs_err_t err; json_t *reply; } s_res_t;

static void
s_done (void *arg, json_t *reply, const xs_err_t *err)
{
    s_res_t *r = (s_res_t *) arg;
    r->done = true;
    r->reply = reply;
    if (err) {
        r->failed = true;
        r->err = *err;
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
    xs_agentsrv_sr_t sr;
    xs_agentsrv_sr_info (xs_sched_agents (S.sched), *(int64_t *) arg, &sr);
    return sr.live_hosts == 2 && sr.has_stats;
}

static bool
s_two_hosts (void *arg)
{
    json_t *hosts = xs_agentsrv_host_list (xs_sched_agents (S.sched), NULL);
    int up = 0;
    size_t i;
    json_t *h;
    json_array_foreach (hosts, i, h)
        up += streq (json_string_value (json_object_get (h, "state")), "up");
    json_decref (hosts);
    return up == 2;
}

static void
test_agentd_against_xapisim (void **state)
{
    const char *build = getenv ("XENSM_BUILD_DIR");
    const char *src = getenv ("XENSM_SOURCE_DIR");
    assert_non_null (build);
    assert_non_null (src);
    char agentd [512], sim [512];
    snprintf (agentd, sizeof agentd, "%s/hostagent/xensm-agentd", build);
    snprintf (sim, sizeof sim, "%s/tests/xapisim/xapisim.py", src);

    /* The simulator: one pool of two hosts, root with an empty password. */
    char unix_dir [256];
    snprintf (unix_dir, sizeof unix_dir, "%s/sim", S.dir);
    char *sim_argv [] = {(char *) "/usr/bin/python3", sim, (char *) "--pool",
                         (char *) "p1:xs01,xs02", (char *) "--user", (char *) "root:",
                         (char *) "--unix-dir", unix_dir, NULL};
    int sim_out = -1;
    s_spawn (sim_argv, &sim_out, NULL);
    char line [8192];
    assert_true (s_read_line (sim_out, line, sizeof line, 15000));
    json_t *info = json_loads (line, 0, NULL);
    assert_non_null (info);
    json_t *hosts = json_object_get (json_array_get (json_object_get (info, "pools"), 0), "hosts");
    for (int i = 0; i < 2; i++) {
        json_t *h = json_array_get (hosts, (size_t) i);
        snprintf (S.sock [i], sizeof S.sock [i], "unix:%s",
                  json_string_value (json_object_get (h, "unix")));
        snprintf (S.uuid [i], sizeof S.uuid [i], "%s",
                  json_string_value (json_object_get (h, "uuid")));
    }
    json_decref (info);

    /* The catalog side, in this process. */
    char db [256], cert [256], keys [256];
    snprintf (db, sizeof db, "%s/catalog.db", S.dir);
    snprintf (cert, sizeof cert, "%s/catalog.cert", S.dir);
    snprintf (keys, sizeof keys, "%s/agents", S.dir);
    assert_int_equal (xs_cert_generate (cert, NULL), 0);
    xs_err_t err;
    S.store = xs_store_new (db, &err);
    assert_non_null (S.store);
    S.loop = zloop_new ();
    S.batch = xs_batch_new (S.store, S.loop);
    xs_sched_cfg_t cfg = {.wait_ms = 10000};
    xs_agentsrv_cfg_t acfg = {.endpoint = "tcp://127.0.0.1:*", .cert_file = cert,
                              .keys_dir = keys, .heartbeat_ms = 200};
    S.sched = xs_sched_new (&cfg, &acfg, S.store, S.batch, S.loop, &err);
    if (!S.sched)
        fail_msg ("%s", err.msg);
    assert_true (xs_store_flavor_create (S.store, "gold", "Not all that glitters", &err) > 0);
    xs_kv_spec_t config [] = {{.key = "server", .value = "myserver"},
                              {.key = "serverpath", .value = "/local/scratch/myname"}};
    xs_backend_spec_t spec = {.flavor_label = "gold", .zone = "z1", .sr_type = "nfs",
                              .name_label = "toybox", .nconfig = 2, .config = config};
    int64_t backend = xs_store_backend_add (S.store, &spec, &err);
    assert_true (backend > 0);

    /* Two agents: keys made by the program, enrolled by the catalog. */
    int ready [2];
    for (int i = 0; i < 2; i++) {
        char acert [256];
        snprintf (acert, sizeof acert, "%s/agent%d.cert", S.dir, i);
        char *gen_argv [] = {agentd, (char *) "--gen-cert", acert, NULL};
        pid_t g = s_spawn (gen_argv, NULL, NULL);
        int status;
        assert_int_equal (waitpid (g, &status, 0), g);
        S.pids [--S.npids] = 0;
        assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
        zfile_t *f = zfile_new (NULL, acert);
        assert_int_equal (zfile_input (f), 0);
        zchunk_t *c = zfile_read (f, zfile_cursize (f), 0);
        char *text = zchunk_strdup (c);
        char *key = xs_agentsrv_enroll (xs_sched_agents (S.sched), text, &err);
        assert_non_null (key);
        free (key);
        free (text);
        zchunk_destroy (&c);
        zfile_destroy (&f);
        char *argv [] = {agentd, (char *) "--foreground", (char *) "-c", (char *) "/dev/null",
                         (char *) "--catalog",
                         (char *) xs_agentsrv_endpoint (xs_sched_agents (S.sched)),
                         (char *) "--zone", (char *) "z1", (char *) "--xapi", S.sock [i],
                         (char *) "--cert", acert, (char *) "--catalog-key", cert,
                         (char *) "--host-uuid", S.uuid [i], NULL};
        s_spawn (argv, NULL, &ready [i]);
    }
    /* Registration happens on the catalog loop: run it until both are up. */
    assert_true (s_until (s_two_hosts, NULL, 20000));
    for (int i = 0; i < 2; i++) {
        assert_true (s_read_line (ready [i], line, sizeof line, 5000));
        assert_string_equal (line, "READY");
        close (ready [i]);
    }
    /* The backend's SR: created once, attached by both. */
    xs_agentsrv_reconcile (xs_sched_agents (S.sched));
    assert_true (s_until (s_attached_twice, &backend, 20000));
    xs_backend_t *b = xs_store_backend_get (S.store, backend, &err);
    assert_non_null (b->sr_uuid);
    assert_int_equal (b->state, XS_BACKEND_ATTACHED);
    xs_backend_destroy (&b);

    /* A volume, its snapshot, then both deleted, all through xapi. */
    s_res_t r = {0};
    xs_sched_create_t req = {.flavor = "gold", .size = 1073741824LL, .name = "data"};
    xs_sched_volume_create (S.sched, &req, s_done, &r);
    assert_true (s_until (s_is_done, &r, 20000));
    if (r.failed)
        fail_msg ("create: %s", r.err.msg);
    assert_string_equal (json_string_value (json_object_get (r.reply, "state")), "available");
    assert_true (json_is_string (json_object_get (r.reply, "vdi_uuid")));
    char uuid [64];
    snprintf (uuid, sizeof uuid, "%s", json_string_value (json_object_get (r.reply, "uuid")));
    json_decref (r.reply);

    s_res_t s = {0};
    xs_sched_volume_copy (S.sched, "snapshot", uuid, NULL, s_done, &s);
    assert_true (s_until (s_is_done, &s, 20000));
    if (s.failed)
        fail_msg ("snapshot: %s", s.err.msg);
    char snap [64];
    snprintf (snap, sizeof snap, "%s", json_string_value (json_object_get (s.reply, "uuid")));
    json_decref (s.reply);

    const char *victims [] = {snap, uuid};
    for (int i = 0; i < 2; i++) {
        s_res_t d = {0};
        xs_sched_volume_delete (S.sched, victims [i], s_done, &d);
        assert_true (s_until (s_is_done, &d, 20000));
        if (d.failed)
            fail_msg ("delete %s: %s", victims [i], d.err.msg);
        assert_string_equal (json_string_value (json_object_get (d.reply, "state")), "deleted");
        json_decref (d.reply);
    }
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
    s_kill_all ();
    xs_sched_destroy (&S.sched);
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
