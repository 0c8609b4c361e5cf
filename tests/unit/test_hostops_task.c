/*  Unit tests of xs_hostops' long operations as xapi tasks (issue 11,
    "Long storage operations"), against the xapi simulator: every one runs
    as Async.* and leaves no task behind, a failed task gives the same
    error as the synchronous call did, the deadline cancels the task and
    reports what xapi finally did, and a run killed (-9) while its task ran
    is settled by the next run on the same host, which finds the task by
    its tag. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/xs_log.h"
#include "host/xs_hostops.h"
#include "host/xs_hostops_dispatch.h"
#include "tests/support/xs_test_proc.h"
#include "tests/support/xs_test_xapisim.h"

#define GIB (INT64_C (1) << 30)
#define VOL_A "0a000000-0000-4000-8000-00000000000a"
#define VOL_B "0b000000-0000-4000-8000-00000000000b"
#define VOL_C "0c000000-0000-4000-8000-00000000000c"
#define VOL_D "0d000000-0000-4000-8000-00000000000d"
#define VOL_E "0e000000-0000-4000-8000-00000000000e"
#define VOL_F "0f000000-0000-4000-8000-00000000000f"
#define VOL_G "01000000-0000-4000-8000-000000000010"
#define VOL_H "01100000-0000-4000-8000-000000000011"
#define VOL_I "01200000-0000-4000-8000-000000000012"
#define VOL_J "01300000-0000-4000-8000-000000000013"

static xs_test_xapisim_t *s_sim;

typedef struct {
    xs_xenapi_t *client;
    xs_hostops_t *ops;
    char sr [64];
} fixture_t;

static int
s_group_setup (void **state)
{
    const char *const args [] = { "--pool", "p1:xs01,xs02", "--user", "root:", NULL };
    s_sim = xs_test_xapisim_start (args);
    return s_sim ? 0 : -1;
}

static int
s_group_teardown (void **state)
{
    xs_test_xapisim_stop (&s_sim);
    xs_test_proc_stop_all ();
    return 0;
}

static xs_xenapi_t *
s_client (void)
{
    xs_err_t err;
    xs_xenapi_t *client = xs_xenapi_new (xs_test_xapisim_unix_url (s_sim, 0), &err);
    assert_non_null (client);
    if (xs_xenapi_login (client, "root", "", &err))
        fail_msg ("login: %s", err.msg);
    return client;
}

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    f->client = s_client ();
    f->ops = xs_hostops_new (f->client);
    xs_hostops_set_host_uuid (f->ops, xs_test_xapisim_host_uuid (s_sim, 0));
    xs_test_xapisim_clear_faults (s_sim);
    static int n;
    char path [64];
    snprintf (path, sizeof path, "/sr/tasks%d", ++n);
    json_t *config = json_pack ("{s:s, s:s}", "server", "filer", "serverpath", path);
    xs_hostops_sr_spec_t spec = { .type = "nfs", .name_label = "task SR", .device_config = config };
    xs_err_t err;
    json_t *sr = xs_hostops_sr_attach (f->ops, &spec, &err);
    if (!sr)
        fail_msg ("sr_attach: %s", err.msg);
    snprintf (f->sr, sizeof f->sr, "%s", json_string_value (json_object_get (sr, "sr_uuid")));
    json_decref (sr);
    json_decref (config);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    xs_test_xapisim_clear_faults (s_sim);
    xs_hostops_destroy (&f->ops);
    xs_xenapi_destroy (&f->client);
    free (f);
    return 0;
}

/* Delays `method` (its Async form too) by `seconds` before its effect
   (cancellable, as xapi's storage operations are while queued). */
static void
s_delay (const char *method, const char *seconds)
{
    xs_value_t *rule = xs_value_struct_new ();
    xs_value_set_str (rule, "method", method);
    xs_value_set_str (rule, "action", "delay");
    xs_value_set_str (rule, "seconds", seconds);
    xs_value_set_str (rule, "when", "before");
    xs_value_t *call = xs_value_array_new ();
    xs_value_append (call, &rule);
    xs_value_t *id = xs_test_xapisim_control (s_sim, "add_fault", call);
    xs_value_destroy (&id);
}

static json_t *
s_counts (void)
{
    xs_value_t *text = xs_test_xapisim_control (s_sim, "counts", NULL);
    json_t *counts = json_loads (xs_value_str (text), 0, NULL);
    xs_value_destroy (&text);
    assert_non_null (counts);
    return counts;
}

static int
s_calls (const json_t *before, const json_t *after, const char *method)
{
    return (int) (json_integer_value (json_object_get (after, method))
                  - json_integer_value (json_object_get (before, method)));
}

/* Tasks the pool holds now (sim.dump). */
static size_t
s_tasks (void)
{
    json_t *dump = xs_test_xapisim_dump (s_sim);
    size_t n = json_array_size (json_object_get (json_array_get (json_object_get (dump, "pools"),
                                                                 0), "tasks"));
    json_decref (dump);
    return n;
}

static const char *
s_str (const json_t *json, const char *key)
{
    return json_string_value (json_object_get (json, key));
}

/* ---------------------------------------------------------------------
   Every long operation runs as a task, which is gone afterwards
   --------------------------------------------------------------------- */

static void
test_long_operations_run_as_tasks (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    json_t *before = s_counts ();
    json_t *vdi = xs_hostops_vdi_create (f->ops, f->sr, VOL_A, GIB, NULL, &err);
    if (!vdi)
        fail_msg ("vdi_create: %s", err.msg);
    json_decref (vdi);
    vdi = xs_hostops_vdi_resize (f->ops, VOL_A, 2 * GIB, f->sr, &err);
    if (!vdi)
        fail_msg ("vdi_resize: %s", err.msg);
    assert_true (json_is_true (json_object_get (vdi, "resized")));
    json_decref (vdi);
    json_t *copy = xs_hostops_vdi_snapshot (f->ops, VOL_A, VOL_B, f->sr, &err);
    if (!copy)
        fail_msg ("vdi_snapshot: %s", err.msg);
    assert_string_equal (s_str (copy, "parent_volume_uuid"), VOL_A);
    json_decref (copy);
    copy = xs_hostops_vdi_clone (f->ops, VOL_A, VOL_C, f->sr, &err);
    if (!copy)
        fail_msg ("vdi_clone: %s", err.msg);
    json_decref (copy);
    json_t *gone = xs_hostops_vdi_destroy (f->ops, VOL_C, f->sr, &err);
    assert_non_null (gone);
    assert_int_equal (json_integer_value (json_object_get (gone, "destroyed")), 1);
    json_decref (gone);
    json_t *after = s_counts ();
    const char *methods [] = { "VDI.create", "VDI.resize", "VDI.snapshot", "VDI.clone",
                               "VDI.destroy" };
    for (size_t i = 0; i < 5; i++) {
        char async [64];
        snprintf (async, sizeof async, "Async.%s", methods [i]);
        assert_int_equal (s_calls (before, after, async), 1);
        assert_int_equal (s_calls (before, after, methods [i]), 0);
    }
    assert_int_equal (s_calls (before, after, "task.add_to_other_config"), 5);
    assert_int_equal (s_calls (before, after, "task.destroy"), 5);
    /* SR.create of the fixture's sr_attach ran as a task too. */
    assert_true (json_integer_value (json_object_get (after, "Async.SR.create")) >= 1);
    assert_int_equal (json_integer_value (json_object_get (after, "SR.create")), 0);
    assert_int_equal (s_tasks (), 0);
    json_decref (before);
    json_decref (after);
}

/* A failed task: the same error (message, code, params) as the call. */
static void
test_failed_task_gives_the_calls_error (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    const char *const params [] = { "", "The SR is full", "", NULL };
    xs_test_xapisim_fail (s_sim, "VDI.create", 1, false, "SR_BACKEND_FAILURE_44", params);
    assert_null (xs_hostops_vdi_create (f->ops, f->sr, VOL_D, GIB, NULL, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    char expected [160];
    snprintf (expected, sizeof expected,
              "volume %s: VDI.create failed: SR_BACKEND_FAILURE_44 [, The SR is full, ]", VOL_D);
    assert_string_equal (err.msg, expected);
    assert_string_equal (xs_hostops_error_code (f->ops), "SR_BACKEND_FAILURE_44");
    assert_string_equal (xs_value_str (xs_value_at (xs_hostops_error_params (f->ops), 1)),
                         "The SR is full");
    assert_int_equal (s_tasks (), 0);
    /* Retried, it works (nothing half-made in the way). */
    json_t *vdi = xs_hostops_vdi_create (f->ops, f->sr, VOL_D, GIB, NULL, &err);
    assert_non_null (vdi);
    json_decref (vdi);
}

/* A lost read while following (task.get_record) is asked again: the
   clone's copy is tagged as its new volume's, never left carrying its
   parent's tag (audit D6). */
static void
test_lost_task_read_is_asked_again (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    json_t *vdi = xs_hostops_vdi_create (f->ops, f->sr, VOL_I, GIB, NULL, &err);
    assert_non_null (vdi);
    json_decref (vdi);
    xs_test_xapisim_fail (s_sim, "task.get_record", 1, false, "INTERNAL_ERROR", NULL);
    json_t *copy = xs_hostops_vdi_clone (f->ops, VOL_I, VOL_J, f->sr, &err);
    if (!copy)
        fail_msg ("vdi_clone with a lost task.get_record: %s", err.msg);
    json_t *made = xs_hostops_vdi_find (f->ops, VOL_J, f->sr, &err);
    assert_non_null (made);
    assert_string_equal (s_str (made, "vdi_uuid"), s_str (copy, "vdi_uuid"));
    json_decref (made);
    json_decref (copy);
    assert_int_equal (s_tasks (), 0);
}

/* On the deadline the task is cancelled; what xapi finally did (nothing:
   cancelled while queued) is the outcome, and no task is left. */
static void
test_deadline_cancels_the_task (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    s_delay ("VDI.create", "60");
    xs_hostops_set_deadline (f->ops, 300);
    json_t *before = s_counts ();
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    assert_null (xs_hostops_vdi_create (f->ops, f->sr, VOL_E, GIB, NULL, &err));
    clock_gettime (CLOCK_MONOTONIC, &t1);
    assert_true (t1.tv_sec - t0.tv_sec < 30);
    assert_string_equal (xs_hostops_error_code (f->ops), "TASK_CANCELLED");
    assert_non_null (strstr (err.msg, "VDI.create failed: TASK_CANCELLED"));
    json_t *after = s_counts ();
    assert_int_equal (s_calls (before, after, "task.cancel"), 1);
    json_decref (before);
    json_decref (after);
    assert_int_equal (s_tasks (), 0);
    /* Nothing was made: the volume has no VDI. */
    xs_test_xapisim_clear_faults (s_sim);
    assert_null (xs_hostops_vdi_find (f->ops, VOL_E, f->sr, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
}

/* ---------------------------------------------------------------------
   A run killed while its task ran: the next one settles the task
   --------------------------------------------------------------------- */

/* Waits (event.from on class task) until the pool holds a pending task
   of Async.`method` that carries xensm's tag (the caller tags it with a
   second call: killed before that, nobody could know it as its own). */
static void
s_wait_for_task (xs_xenapi_t *client, const char *method)
{
    char *token = strdup ("");
    struct timespec t0, now;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    for (;;) {
        json_t *dump = xs_test_xapisim_dump (s_sim);
        json_t *tasks = json_object_get (json_array_get (json_object_get (dump, "pools"), 0),
                                         "tasks");
        size_t i;
        json_t *t;
        bool found = false;
        json_array_foreach (tasks, i, t)
            if (strstr (s_str (t, "name_label"), method) && strcmp (s_str (t, "status"), "pending") == 0
            &&  json_object_get (json_object_get (t, "other_config"), XS_XENAPI_TASK_TAG_KEY))
                found = true;
        json_decref (dump);
        if (found)
            break;
        clock_gettime (CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > 60)
            fail_msg ("no pending Async.%s task after 60 s", method);
        xs_value_t *params = xs_value_array_new ();
        xs_value_t *classes = xs_value_array_new ();
        xs_value_append_str (classes, "task");
        xs_value_append (params, &classes);
        xs_value_append_str (params, token);
        xs_value_t *timeout = xs_value_double_new (5.0);
        xs_value_append (params, &timeout);
        xs_err_t err;
        xs_value_t *events = xs_xenapi_call (client, "event.from", params, &err);
        xs_value_destroy (&params);
        if (!events)
            fail_msg ("event.from: %s", err.msg);
        free (token);
        token = strdup (xs_value_get_str (events, "token"));
        xs_value_destroy (&events);
    }
    free (token);
}

/* A child process (the agent) starts `what` of a volume under a delayed
   xapi and is killed -9 while the task runs. Returns when it is dead. */
static void
s_killed_while (fixture_t *f, const char *method, bool copy)
{
    s_delay (method, "5");      /* room for a loaded machine to kill it first */
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        xs_err_t err;
        xs_xenapi_t *client = s_client ();
        xs_hostops_t *ops = xs_hostops_new (client);
        xs_hostops_set_host_uuid (ops, xs_test_xapisim_host_uuid (s_sim, 0));
        json_t *r = copy ? xs_hostops_vdi_clone (ops, VOL_F, VOL_H, f->sr, &err)
                         : xs_hostops_vdi_create (ops, f->sr, VOL_G, GIB, NULL, &err);
        _exit (r ? 0 : 1);      /* not reached: killed first */
    }
    s_wait_for_task (f->client, method);
    kill (pid, SIGKILL);
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFSIGNALED (status));
}

static void
test_restarted_run_settles_the_task_it_left (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    json_t *vdi = xs_hostops_vdi_create (f->ops, f->sr, VOL_F, GIB, NULL, &err);
    assert_non_null (vdi);
    json_decref (vdi);

    s_killed_while (f, "VDI.create", false);
    assert_int_equal (s_tasks (), 1);
    /* Another host's xensm leaves it alone. */
    xs_hostops_t *other = xs_hostops_new (f->client);
    xs_hostops_set_host_uuid (other, xs_test_xapisim_host_uuid (s_sim, 1));
    json_t *none = xs_hostops_tasks_adopt (other, true, &err);
    assert_non_null (none);
    assert_int_equal (json_array_size (json_object_get (none, "ended")), 0);
    assert_int_equal (json_array_size (json_object_get (none, "pending")), 0);
    json_decref (none);
    xs_hostops_destroy (&other);
    /* This host's finds it, listed as pending, then followed to its end. */
    json_t *found = xs_hostops_tasks_adopt (f->ops, false, &err);
    assert_non_null (found);
    json_t *pending = json_array_get (json_object_get (found, "pending"), 0);
    assert_non_null (pending);
    assert_string_equal (s_str (pending, "method"), "VDI.create");
    assert_string_equal (s_str (pending, "uuid"), VOL_G);
    json_t *entry = xs_hostops_task_follow (f->ops, s_str (pending, "task"), &err);
    if (!entry)
        fail_msg ("task_follow: %s", err.msg);
    json_decref (found);
    assert_string_equal (s_str (entry, "status"), "success");
    /* What xapi did is recorded: the volume's VDI, findable as usual. */
    json_t *made = xs_hostops_vdi_find (f->ops, VOL_G, f->sr, &err);
    assert_non_null (made);
    assert_string_equal (s_str (entry, "vdi_uuid"), s_str (made, "vdi_uuid"));
    json_decref (made);
    json_decref (entry);
    assert_int_equal (s_tasks (), 0);

    /* A clone killed mid-way: its copy, which carries the parent's tag,
       becomes the new volume's (never found as the parent's VDI). */
    s_killed_while (f, "VDI.clone", true);
    json_t *ended = xs_hostops_tasks_adopt (f->ops, true, &err);
    assert_non_null (ended);
    entry = json_array_get (json_object_get (ended, "ended"), 0);
    assert_non_null (entry);
    assert_string_equal (s_str (entry, "method"), "VDI.clone");
    assert_string_equal (s_str (entry, "status"), "success");
    made = xs_hostops_vdi_find (f->ops, VOL_H, f->sr, &err);
    if (!made)
        fail_msg ("the clone's copy: %s", err.msg);
    assert_string_equal (s_str (entry, "vdi_uuid"), s_str (made, "vdi_uuid"));
    json_decref (made);
    json_t *parent = xs_hostops_vdi_find (f->ops, VOL_F, f->sr, &err);
    assert_non_null (parent);
    assert_string_not_equal (s_str (parent, "vdi_uuid"), s_str (entry, "vdi_uuid"));
    json_decref (parent);
    json_decref (ended);
    assert_int_equal (s_tasks (), 0);
}

/* A create the catalog resumed after a takeover reaches another host while
   the first host's call still runs (its reply went to the old leader): it
   waits for that call and answers its VDI, never a second one; the first
   host still reads and destroys its own task. Without "resumed" nothing is
   asked (creates keep their 3 calls). */
static void
test_resumed_create_waits_for_another_hosts_call (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    json_t *before = s_counts ();
    s_delay ("VDI.create", "2");
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        xs_xenapi_t *client = s_client ();
        xs_hostops_t *ops = xs_hostops_new (client);
        xs_hostops_set_host_uuid (ops, xs_test_xapisim_host_uuid (s_sim, 0));
        json_t *r = xs_hostops_vdi_create (ops, f->sr, VOL_I, GIB, NULL, &err);
        _exit (r && json_is_true (json_object_get (r, "created")) ? 0 : 1);
    }
    s_wait_for_task (f->client, "VDI.create");
    xs_hostops_t *other = xs_hostops_new (f->client);
    xs_hostops_set_host_uuid (other, xs_test_xapisim_host_uuid (s_sim, 1));
    json_t *args = json_pack ("{s:s, s:s, s:I, s:b}", "sr_uuid", f->sr, "volume_uuid", VOL_I,
                              "size", (json_int_t) GIB, "resumed", 1);
    json_t *made = xs_hostops_dispatch (other, XS_OP_VDI_CREATE, args, &err);
    if (!made)
        fail_msg ("resumed create: %s", err.msg);
    assert_true (json_is_false (json_object_get (made, "created")));
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    json_t *after = s_counts ();
    assert_int_equal (s_calls (before, after, "Async.VDI.create"), 1);
    assert_int_equal (s_calls (before, after, "task.get_all_records"), 1);
    json_t *found = xs_hostops_vdi_find (other, VOL_I, f->sr, &err);
    assert_non_null (found);
    assert_string_equal (s_str (found, "vdi_uuid"), s_str (made, "vdi_uuid"));
    assert_int_equal (s_tasks (), 0);
    /* Not resumed: no task listing. */
    json_object_del (args, "resumed");
    json_object_set_new (args, "volume_uuid", json_string (VOL_J));
    json_t *plain = xs_hostops_dispatch (other, XS_OP_VDI_CREATE, args, &err);
    assert_non_null (plain);
    json_t *last = s_counts ();
    assert_int_equal (s_calls (after, last, "task.get_all_records"), 0);
    json_decref (plain);
    json_decref (last);
    json_decref (found);
    json_decref (after);
    json_decref (before);
    json_decref (made);
    json_decref (args);
    xs_hostops_destroy (&other);
}

/* The SR ref remembered to save a call goes stale when the SR is forgotten
   and introduced again (a new ref): stats and creates ask for it again. */
static void
test_stale_sr_ref_is_asked_again (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    json_t *stats = xs_hostops_sr_stats (f->ops, f->sr, &err);
    assert_non_null (stats);
    json_decref (stats);
    /* Another client forgets it and brings it back. */
    xs_hostops_t *other = xs_hostops_new (f->client);
    json_t *gone = xs_hostops_sr_detach (other, f->sr, &err);
    if (!gone)
        fail_msg ("sr_detach: %s", err.msg);
    assert_true (json_is_true (json_object_get (gone, "forgotten")));
    json_decref (gone);
    json_t *config = json_pack ("{s:s, s:s}", "server", "filer", "serverpath", "/sr/back");
    xs_hostops_sr_spec_t spec = { .sr_uuid = f->sr, .type = "nfs", .device_config = config };
    json_t *back = xs_hostops_sr_attach (other, &spec, &err);
    if (!back)
        fail_msg ("sr_attach again: %s", err.msg);
    json_decref (back);
    json_decref (config);
    xs_hostops_destroy (&other);

    json_t *before = s_counts ();
    stats = xs_hostops_sr_stats (f->ops, f->sr, &err);
    if (!stats)
        fail_msg ("sr_stats with a stale ref: %s", err.msg);
    assert_string_equal (s_str (stats, "sr_uuid"), f->sr);
    json_decref (stats);
    json_t *after = s_counts ();
    assert_int_equal (s_calls (before, after, "SR.get_by_uuid"), 1);
    json_decref (before);
    json_decref (after);
    json_t *vdi = xs_hostops_vdi_create (f->ops, f->sr, VOL_E, GIB, NULL, &err);
    if (!vdi)
        fail_msg ("vdi_create after: %s", err.msg);
    assert_string_equal (s_str (vdi, "sr_uuid"), f->sr);
    json_decref (vdi);
}

int
main (void)
{
    xs_log_init ("test_hostops_task", false, getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_long_operations_run_as_tasks, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_failed_task_gives_the_calls_error, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_lost_task_read_is_asked_again, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_deadline_cancels_the_task, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_restarted_run_settles_the_task_it_left, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_resumed_create_waits_for_another_hosts_call,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_stale_sr_ref_is_asked_again, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
