/*  Unit tests of xs_xapi_exec, the agent's real executor, against the xapi
    simulator: it logs in (or says why not), names its host, flattens the
    catalog's backend record for sr_attach, and runs the agent protocol's
    ops with their wire arguments through the one op table; `name` becomes
    the VDI's description (the agent side of that choice; the plugin side is
    in test_plugin_helper.c and test_plugin.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/xs_log.h"
#include "hostagent/xs_xapi_exec.h"
#include "tests/support/xs_test_proc.h"
#include "tests/support/xs_test_xapisim.h"

#define VOL_A "2a000000-0000-4000-8000-00000000000a"
#define VOL_B "2b000000-0000-4000-8000-00000000000b"
#define VOL_C "2c000000-0000-4000-8000-00000000000c"

static xs_test_xapisim_t *s_sim;

static int
s_group_setup (void **state)
{
    static const char *const args [] = { "--pool", "p1:xs01,xs02", "--user", "root:", NULL };
    s_sim = xs_test_xapisim_start (args);
    return 0;
}

static int
s_group_teardown (void **state)
{
    xs_test_xapisim_stop (&s_sim);
    xs_test_proc_stop_all ();
    return 0;
}

/* Runs op with wire args given as JSON text through a context. */
static json_t *
s_run (void *ctx, xs_op_t op, const char *text, xs_err_t *err)
{
    json_t *args = json_loads (text, 0, NULL);
    assert_non_null (args);
    json_t *result = xs_xapi_executor.run (ctx, op, args, err);
    json_decref (args);
    return result;
}

static json_t *
s_ok (void *ctx, xs_op_t op, const char *text)
{
    xs_err_t err;
    json_t *result = s_run (ctx, op, text, &err);
    if (!result)
        fail_msg ("%s %s: %s", xs_op_name (op), text, err.msg);
    return result;
}

static const char *
s_str (const json_t *json, const char *key)
{
    return json_string_value (json_object_get (json, key));
}

static void
test_open_logs_in_or_says_why_not (void **state)
{
    /* A wrong password: over TCP (a login on xapi's local socket is local
       and takes none). */
    xs_xapi_exec_cfg_t cfg = { .url = xs_test_xapisim_http_url (s_sim, 0), .password = "x" };
    xs_err_t err;
    assert_null (xs_xapi_executor.open (&cfg, &err));
    char expect [400];
    snprintf (expect, sizeof expect, "xapi %s: login: ", cfg.url);
    assert_non_null (strstr (err.msg, expect));
    assert_non_null (strstr (err.msg, "SESSION_AUTHENTICATION_FAILED"));
    assert_null (strstr (err.msg, "\"x\""));

    cfg.url = "ftp://xs01/";
    assert_null (xs_xapi_executor.open (&cfg, &err));
    assert_int_equal (err.kind, XS_EINVAL);

    /* username NULL is root, password NULL is "". */
    cfg.url = xs_test_xapisim_unix_url (s_sim, 0);
    cfg.password = NULL;
    void *ctx = xs_xapi_executor.open (&cfg, &err);
    if (!ctx)
        fail_msg ("open: %s", err.msg);
    xs_xapi_executor.close (&ctx);
    assert_null (ctx);
    xs_xapi_executor.close (&ctx);      /* idempotent */
}

static void
test_host_info_is_the_configured_host (void **state)
{
    /* On a member's socket the session is the master's: host_uuid says
       which host this agent runs on. */
    xs_xapi_exec_cfg_t cfg = { .url = xs_test_xapisim_unix_url (s_sim, 1),
                               .host_uuid = xs_test_xapisim_host_uuid (s_sim, 1),
                               .timeout_ms = 20000 };
    xs_err_t err;
    void *ctx = xs_xapi_executor.open (&cfg, &err);
    assert_non_null (ctx);
    json_t *info = s_ok (ctx, XS_OP_HOST_INFO, "{}");
    assert_string_equal (s_str (info, "uuid"), xs_test_xapisim_host_uuid (s_sim, 1));
    assert_false (json_is_true (json_object_get (info, "is_pool_master")));
    json_decref (info);
    xs_xapi_executor.close (&ctx);
}

static void
test_agent_ops_with_wire_arguments (void **state)
{
    xs_xapi_exec_cfg_t cfg = { .url = xs_test_xapisim_unix_url (s_sim, 0) };
    xs_err_t err;
    void *ctx = xs_xapi_executor.open (&cfg, &err);
    assert_non_null (ctx);

    /* A backend record without an SR, not to be created: nothing to do. */
    const char *waiting = "{\"backend\": {\"backend_id\": 8, \"sr_type\": \"nfs\", "
                          "\"name_label\": \"later\", \"sr_uuid\": null, \"create\": false, "
                          "\"device_config\": {\"server\": \"f\", \"serverpath\": \"/w\"}}}";
    assert_null (s_run (ctx, XS_OP_SR_ATTACH, waiting, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_string_equal (err.msg, "backend 8: no SR uuid and not asked to create one");

    /* The one chosen to create it does. */
    json_t *sr = s_ok (ctx, XS_OP_SR_ATTACH,
                       "{\"backend\": {\"backend_id\": 7, \"sr_type\": \"nfs\", "
                       "\"name_label\": \"gold-7\", \"sr_uuid\": null, \"create\": true, "
                       "\"device_config\": {\"server\": \"f\", \"serverpath\": \"/g\"}}}");
    assert_true (json_is_true (json_object_get (sr, "created")));
    char sr_uuid [64], text [512];
    snprintf (sr_uuid, sizeof sr_uuid, "%s", s_str (sr, "sr_uuid"));
    json_decref (sr);
    snprintf (text, sizeof text, "{\"sr_uuid\": \"%s\"}", sr_uuid);
    json_t *stats = s_ok (ctx, XS_OP_SR_STATS, text);
    assert_string_equal (s_str (stats, "name_label"), "gold-7");
    json_decref (stats);

    /* vdi_create as the catalog sends it: `name` is the VDI's description. */
    snprintf (text, sizeof text, "{\"sr_uuid\": \"%s\", \"volume_uuid\": \"" VOL_A "\", "
                                 "\"size\": 1048576, \"name\": \"web data\"}", sr_uuid);
    json_t *vdi = s_ok (ctx, XS_OP_VDI_CREATE, text);
    json_decref (vdi);
    snprintf (text, sizeof text, "{\"sr_uuid\": \"%s\", \"volume_uuid\": \"" VOL_B "\", "
                                 "\"size\": 1048576}", sr_uuid);
    vdi = s_ok (ctx, XS_OP_VDI_CREATE, text);
    json_decref (vdi);
    json_t *dump = xs_test_xapisim_dump (s_sim);
    assert_string_equal (s_str (xs_test_xapisim_vdi_of (dump, VOL_A), "name_description"),
                         "web data");
    assert_string_equal (s_str (xs_test_xapisim_vdi_of (dump, VOL_B), "name_description"),
                         "xensm volume " VOL_B);
    json_decref (dump);

    const char *volumes [] = { VOL_A, VOL_B };
    for (int i = 0; i < 2; i++) {
        snprintf (text, sizeof text, "{\"volume_uuid\": \"%s\", \"sr_uuid\": \"%s\"}",
                  volumes [i], sr_uuid);
        json_t *gone = s_ok (ctx, XS_OP_VDI_DESTROY, text);
        assert_int_equal (json_integer_value (json_object_get (gone, "destroyed")), 1);
        json_decref (gone);
    }
    snprintf (text, sizeof text, "{\"backend_id\": 7, \"sr_uuid\": \"%s\"}", sr_uuid);
    json_t *detached = s_ok (ctx, XS_OP_SR_DETACH, text);
    assert_true (json_is_true (json_object_get (detached, "forgotten")));
    json_decref (detached);

    /* Not a host operation. */
    assert_null (s_run (ctx, XS_OP_NONE, "{}", &err));
    assert_int_equal (err.kind, XS_EINVAL);
    xs_xapi_executor.close (&ctx);
}

/* Pending tasks of Async.VDI.create in the pool (sim.dump). */
static int
s_pending_creates (void)
{
    json_t *dump = xs_test_xapisim_dump (s_sim);
    json_t *tasks = json_object_get (json_array_get (json_object_get (dump, "pools"), 0), "tasks");
    int n = 0;
    size_t i;
    json_t *t;
    json_array_foreach (tasks, i, t)
        if (strcmp (s_str (t, "name_label"), "Async.VDI.create") == 0
        &&  strcmp (s_str (t, "status"), "pending") == 0)
            n++;
    json_decref (dump);
    return n;
}

/* The agent is killed (-9) while xapi runs its VDI.create; the restarted
   agent's executor, before it runs any job, follows that task to its end
   and destroys it: the catalog's repeated vdi_create then finds the VDI
   instead of making a second one. */
static void
test_restarted_agent_settles_its_task (void **state)
{
    xs_err_t err;
    xs_xapi_exec_cfg_t cfg = { .url = xs_test_xapisim_unix_url (s_sim, 0),
                               .host_uuid = xs_test_xapisim_host_uuid (s_sim, 0) };
    void *ctx = xs_xapi_executor.open (&cfg, &err);
    assert_non_null (ctx);
    json_t *sr = s_ok (ctx, XS_OP_SR_ATTACH,
                       "{\"backend\": {\"backend_id\": 9, \"sr_type\": \"nfs\", "
                       "\"name_label\": \"kill-9\", \"sr_uuid\": null, \"create\": true, "
                       "\"device_config\": {\"server\": \"f\", \"serverpath\": \"/k\"}}}");
    char text [512];
    snprintf (text, sizeof text, "{\"sr_uuid\": \"%s\", \"volume_uuid\": \"" VOL_C "\", "
                                 "\"size\": 1048576}", s_str (sr, "sr_uuid"));
    json_decref (sr);
    xs_xapi_executor.close (&ctx);

    xs_value_t *rule = xs_value_struct_new ();
    xs_value_set_str (rule, "method", "VDI.create");
    xs_value_set_str (rule, "action", "delay");
    xs_value_set_str (rule, "seconds", "5");     /* room for a loaded machine */
    xs_value_t *call = xs_value_array_new ();
    xs_value_append (call, &rule);
    xs_value_t *id = xs_test_xapisim_control (s_sim, "add_fault", call);
    xs_value_destroy (&id);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        xs_xapi_exec_cfg_t child = cfg;
        void *c = xs_xapi_executor.open (&child, &err);
        json_t *args = json_loads (text, 0, NULL);
        json_t *r = c ? xs_xapi_executor.run (c, XS_OP_VDI_CREATE, args, &err) : NULL;
        _exit (r ? 0 : 1);      /* not reached: killed first */
    }
    /* Killed once its task runs (the sim's dump, polled: the task is in
       another process, nothing here to wait on). */
    for (int i = 0; i < 600 && s_pending_creates () == 0; i++)
        usleep (20 * 1000);
    assert_int_equal (s_pending_creates (), 1);
    kill (pid, SIGKILL);
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFSIGNALED (status));

    xs_xapi_exec_cfg_t again = { .url = cfg.url, .host_uuid = cfg.host_uuid };
    ctx = xs_xapi_executor.open (&again, &err);
    assert_non_null (ctx);
    assert_true (again.tasks_settled);
    assert_int_equal (s_pending_creates (), 0);
    json_t *dump = xs_test_xapisim_dump (s_sim);
    assert_int_equal (json_array_size (json_object_get (
                          json_array_get (json_object_get (dump, "pools"), 0), "tasks")), 0);
    json_t *made = xs_test_xapisim_vdi_of (dump, VOL_C);
    assert_non_null (made);
    char vdi_uuid [64];
    snprintf (vdi_uuid, sizeof vdi_uuid, "%s", s_str (made, "uuid"));
    json_decref (dump);
    /* The repeated request finds it. */
    json_t *vdi = s_ok (ctx, XS_OP_VDI_CREATE, text);
    assert_false (json_is_true (json_object_get (vdi, "created")));
    assert_string_equal (s_str (vdi, "vdi_uuid"), vdi_uuid);
    json_decref (vdi);
    xs_test_xapisim_clear_faults (s_sim);
    xs_xapi_executor.close (&ctx);
}

int
main (void)
{
    xs_log_init ("test_xapi_exec", false, getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_open_logs_in_or_says_why_not),
        cmocka_unit_test (test_host_info_is_the_configured_host),
        cmocka_unit_test (test_agent_ops_with_wire_arguments),
        cmocka_unit_test (test_restarted_agent_settles_its_task),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
