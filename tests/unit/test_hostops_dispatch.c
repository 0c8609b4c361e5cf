/*  Unit tests of xs_hostops_dispatch, the one operation table: every host
    op is in it, required and ill-typed arguments are refused with a clear
    error before anything reaches xapi, an unknown op is refused, and each
    op reaches its own handler (against the xapi simulator). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/xs_log.h"
#include "host/xs_hostops_dispatch.h"
#include "tests/support/xs_test_proc.h"
#include "tests/support/xs_test_xapisim.h"

#define VOL_A "1a000000-0000-4000-8000-00000000000a"
#define VOL_B "1b000000-0000-4000-8000-00000000000b"
#define VOL_C "1c000000-0000-4000-8000-00000000000c"

/* A client and ops aimed at a port nobody serves: a call that reached
   xapi would fail with XS_ETRANSPORT. */
typedef struct {
    xs_xenapi_t *client;
    xs_hostops_t *ops;
} fixture_t;

static int
s_setup_offline (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    xs_err_t err;
    f->client = xs_xenapi_new ("http://127.0.0.1:1/", &err);
    assert_non_null (f->client);
    xs_xenapi_set_session (f->client, "OpaqueRef:offline");
    f->ops = xs_hostops_new (f->client);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    xs_hostops_destroy (&f->ops);
    xs_xenapi_destroy (&f->client);
    free (f);
    return 0;
}

/* ---------------------------------------------------------------------
   The table
   --------------------------------------------------------------------- */

static void
test_every_host_op_is_in_the_table (void **state)
{
    for (int op = XS_OP_NONE + 1; op < XS_OP_COUNT; op++) {
        const xs_hostops_op_t *entry = xs_hostops_op ((xs_op_t) op);
        if (!entry)
            fail_msg ("%s is not in the op table", xs_op_name ((xs_op_t) op));
        assert_int_equal (entry->op, op);
        assert_non_null (entry->handler);
        assert_non_null (entry->required);
    }
    assert_null (xs_hostops_op (XS_OP_NONE));
    assert_null (xs_hostops_op (XS_OP_COUNT));
    /* The required arguments, as both the agent protocol and the plugin say. */
    const char *const *required = xs_hostops_op (XS_OP_VDI_CREATE)->required;
    assert_string_equal (required [0], "sr_uuid");
    assert_string_equal (required [1], "volume_uuid");
    assert_string_equal (required [2], "size");
    assert_null (required [3]);
    assert_null (xs_hostops_op (XS_OP_HOST_INFO)->required [0]);
}

static void
test_unknown_op_is_refused (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    assert_null (xs_hostops_dispatch (f->ops, XS_OP_NONE, NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_string_equal (err.msg, "op ?: not a host operation");
    assert_null (xs_hostops_dispatch (f->ops, (xs_op_t) 77, NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
}

/* Every op's arguments with each required one left out in turn. */
static void
test_missing_required_args_are_refused_by_name (void **state)
{
    fixture_t *f = *state;
    for (int op = XS_OP_NONE + 1; op < XS_OP_COUNT; op++) {
        const xs_hostops_op_t *entry = xs_hostops_op ((xs_op_t) op);
        for (size_t drop = 0; entry->required [drop]; drop++) {
            json_t *args = json_object ();
            for (size_t i = 0; entry->required [i]; i++)
                if (i != drop)
                    json_object_set_new (args, entry->required [i],
                                         json_string (strcmp (entry->required [i], "size") == 0
                                                      ? "1024" : VOL_A));
            xs_err_t err;
            assert_null (xs_hostops_dispatch (f->ops, (xs_op_t) op, args, &err));
            assert_int_equal (err.kind, XS_EINVAL);
            char expect [128];
            snprintf (expect, sizeof expect, "%s: missing argument %s",
                      xs_op_name ((xs_op_t) op), entry->required [drop]);
            assert_string_equal (err.msg, expect);
            json_decref (args);
        }
    }
}

static void
test_ill_typed_args_are_refused_before_xapi (void **state)
{
    fixture_t *f = *state;
    static const struct { xs_op_t op; const char *args; const char *says; } cases [] = {
        { XS_OP_SR_STATS, "{\"sr_uuid\": 7}", "sr_stats: argument sr_uuid must be a string" },
        { XS_OP_VDI_CREATE, "{\"sr_uuid\": \"s\", \"volume_uuid\": \"v\", \"size\": \"12abc\"}",
          "vdi_create: argument size must be a number of bytes" },
        { XS_OP_VDI_CREATE, "{\"sr_uuid\": \"s\", \"volume_uuid\": \"v\", \"size\": -1}",
          "vdi_create: argument size must be a number of bytes" },
        { XS_OP_VDI_CREATE, "{\"sr_uuid\": \"s\", \"volume_uuid\": \"v\", \"size\": 1, "
                            "\"name\": [\"x\"]}",
          "vdi_create: argument name must be a string" },
        { XS_OP_SR_ATTACH, "{\"type\": \"nfs\", \"device_config\": \"server=x\"}",
          "sr_attach: argument device_config must be an object" },
        { XS_OP_VDI_FIND, "[\"v\"]", "vdi_find: the arguments are not an object" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        json_t *args = json_loads (cases [i].args, JSON_DECODE_ANY, NULL);
        assert_non_null (args);
        xs_err_t err;
        assert_null (xs_hostops_dispatch (f->ops, cases [i].op, args, &err));
        assert_int_equal (err.kind, XS_EINVAL);
        assert_string_equal (err.msg, cases [i].says);
        json_decref (args);
    }
    /* JSON null is an absent argument: a required one is missing. */
    json_t *nulls = json_pack ("{s:n}", "sr_uuid");
    xs_err_t null_err;
    assert_null (xs_hostops_dispatch (f->ops, XS_OP_SR_STATS, nulls, &null_err));
    assert_string_equal (null_err.msg, "sr_stats: missing argument sr_uuid");
    json_decref (nulls);

    /* Well-typed arguments do reach xapi (here: nobody listens). */
    json_t *args = json_pack ("{s:s}", "sr_uuid", VOL_A);
    xs_err_t err;
    assert_null (xs_hostops_dispatch (f->ops, XS_OP_SR_STATS, args, &err));
    assert_int_equal (err.kind, XS_ETRANSPORT);
    json_decref (args);
}

/* ---------------------------------------------------------------------
   Each op reaches its handler: the whole life cycle against xapisim
   --------------------------------------------------------------------- */

static xs_test_xapisim_t *s_sim;

static int
s_setup_sim (void **state)
{
    static const char *const sim_args [] = { "--pool", "p1:xs01", "--user", "root:", NULL };
    s_sim = xs_test_xapisim_start (sim_args);
    fixture_t *f = calloc (1, sizeof *f);
    xs_err_t err;
    f->client = xs_xenapi_new (xs_test_xapisim_unix_url (s_sim, 0), &err);
    assert_non_null (f->client);
    assert_int_equal (xs_xenapi_login (f->client, "root", "", &err), 0);
    f->ops = xs_hostops_new (f->client);
    *state = f;
    return 0;
}

static int
s_teardown_sim (void **state)
{
    s_teardown (state);
    xs_test_xapisim_stop (&s_sim);
    xs_test_proc_stop_all ();
    return 0;
}

/* Runs op with args given as JSON text; its result (caller decrefs). */
static json_t * __attribute__ ((format (printf, 3, 4)))
s_run (fixture_t *f, xs_op_t op, const char *fmt, ...)
{
    char text [1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (text, sizeof text, fmt, ap);
    va_end (ap);
    json_t *args = json_loads (text, 0, NULL);
    assert_non_null (args);
    xs_err_t err;
    json_t *result = xs_hostops_dispatch (f->ops, op, args, &err);
    if (!result)
        fail_msg ("%s %s: %s", xs_op_name (op), text, err.msg);
    json_decref (args);
    return result;
}

static const char *
s_str (const json_t *json, const char *key)
{
    return json_string_value (json_object_get (json, key));
}

static void
test_each_op_reaches_its_handler (void **state)
{
    fixture_t *f = *state;
    json_t *r = s_run (f, XS_OP_HOST_INFO, "{}");
    assert_string_equal (s_str (r, "uuid"), xs_test_xapisim_host_uuid (s_sim, 0));
    json_decref (r);

    r = s_run (f, XS_OP_SR_ATTACH, "{\"type\": \"nfs\", \"name_label\": \"d1\", \"device_config\":"
                                   " {\"server\": \"f\", \"serverpath\": \"/d\"}}");
    assert_true (json_is_true (json_object_get (r, "created")));
    char sr [64];
    snprintf (sr, sizeof sr, "%s", s_str (r, "sr_uuid"));
    json_decref (r);
    r = s_run (f, XS_OP_SR_STATS, "{\"sr_uuid\": \"%s\"}", sr);
    assert_string_equal (s_str (r, "name_label"), "d1");
    json_decref (r);

    /* size as the plugin sends it (a string) and as the agent does (an
       integer); `name` is the VDI's description. */
    r = s_run (f, XS_OP_VDI_CREATE, "{\"sr_uuid\": \"%s\", \"volume_uuid\": \"" VOL_A "\", "
                                    "\"size\": \"1048576\", \"name\": \"web data\"}", sr);
    assert_int_equal (json_integer_value (json_object_get (r, "size")), 1048576);
    json_decref (r);
    r = s_run (f, XS_OP_VDI_CREATE, "{\"sr_uuid\": \"%s\", \"volume_uuid\": \"" VOL_B "\", "
                                    "\"size\": 2097152}", sr);
    assert_int_equal (json_integer_value (json_object_get (r, "size")), 2097152);
    json_decref (r);
    json_t *dump = xs_test_xapisim_dump (s_sim);
    assert_string_equal (s_str (xs_test_xapisim_vdi_of (dump, VOL_A), "name_description"),
                         "web data");
    assert_string_equal (s_str (xs_test_xapisim_vdi_of (dump, VOL_B), "name_description"),
                         "xensm volume " VOL_B);
    json_decref (dump);

    r = s_run (f, XS_OP_VDI_FIND, "{\"volume_uuid\": \"" VOL_A "\"}");
    assert_string_equal (s_str (r, "sr_uuid"), sr);
    json_decref (r);
    r = s_run (f, XS_OP_VDI_SNAPSHOT, "{\"volume_uuid\": \"" VOL_A "\", \"new_volume_uuid\": \""
                                      VOL_C "\"}");
    assert_true (json_is_true (json_object_get (r, "snapshot")));
    json_decref (r);
    r = s_run (f, XS_OP_VDI_DESTROY, "{\"volume_uuid\": \"" VOL_C "\"}");
    assert_int_equal (json_integer_value (json_object_get (r, "destroyed")), 1);
    json_decref (r);
    /* vdi_resize: size as a string (plugin) or an integer (agent). */
    r = s_run (f, XS_OP_VDI_RESIZE, "{\"volume_uuid\": \"" VOL_B "\", \"size\": \"4194304\"}");
    assert_int_equal (json_integer_value (json_object_get (r, "virtual_size")), 4194304);
    assert_true (json_is_true (json_object_get (r, "resized")));
    json_decref (r);
    r = s_run (f, XS_OP_VDI_RESIZE, "{\"volume_uuid\": \"" VOL_B "\", \"size\": 4194304, "
                                    "\"sr_uuid\": \"%s\"}", sr);
    assert_false (json_is_true (json_object_get (r, "resized")));
    json_decref (r);
    r = s_run (f, XS_OP_VDI_CLONE, "{\"volume_uuid\": \"" VOL_A "\", \"new_volume_uuid\": \""
                                   VOL_C "\", \"sr_uuid\": \"%s\"}", sr);
    assert_false (json_is_true (json_object_get (r, "snapshot")));
    assert_string_equal (s_str (r, "parent_volume_uuid"), VOL_A);
    json_decref (r);
    /* An optional sr_uuid may come as null (the agent protocol allows it). */
    const char *volumes [] = { VOL_A, VOL_B, VOL_C };
    for (int i = 0; i < 3; i++) {
        r = s_run (f, XS_OP_VDI_DESTROY, "{\"volume_uuid\": \"%s\", \"sr_uuid\": null}",
                   volumes [i]);
        assert_int_equal (json_integer_value (json_object_get (r, "destroyed")), 1);
        json_decref (r);
    }
    r = s_run (f, XS_OP_SR_DETACH, "{\"sr_uuid\": \"%s\", \"backend_id\": 3}", sr);
    assert_true (json_is_true (json_object_get (r, "forgotten")));
    json_decref (r);
}

int
main (void)
{
    xs_log_init ("test_hostops_dispatch", false,
                 getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_every_host_op_is_in_the_table),
        cmocka_unit_test_setup_teardown (test_unknown_op_is_refused, s_setup_offline, s_teardown),
        cmocka_unit_test_setup_teardown (test_missing_required_args_are_refused_by_name,
                                         s_setup_offline, s_teardown),
        cmocka_unit_test_setup_teardown (test_ill_typed_args_are_refused_before_xapi,
                                         s_setup_offline, s_teardown),
        cmocka_unit_test_setup_teardown (test_each_op_reaches_its_handler, s_setup_sim,
                                         s_teardown_sim),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
