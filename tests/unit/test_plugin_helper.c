/*  Unit tests of xs_plugin_helper, the plugin's functions that call xapi
    (what the helper program xensm-xapi runs): against an xapi that is not
    there, and against the xapi simulator through the request handler with
    the caller's session, as xapi runs the plugin. `name` becomes the VDI's
    description here too (the plugin side of that choice). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "common/xs_log.h"
#include "common/xs_xmlrpc.h"
#include "host/xs_xenapi.h"
#include "tests/support/xs_test_proc.h"
#include "tests/support/xs_test_xapisim.h"
#include "xe-plugin/xs_plugin.h"

#define UUID_A "0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
#define VOL_A  "3a000000-0000-4000-8000-00000000000a"
#define VOL_B  "3b000000-0000-4000-8000-00000000000b"
#define FAKE_SESSION "OpaqueRef:2b1a4c5e-0000-4000-8000-000000000001"

/* An xapi that is not there, on a host whose uuid nobody knows. */
static const xs_plugin_where_t s_nowhere = { "unix:/nonexistent", NULL, NULL };

/* ---------------------------------------------------------------------
   Helpers
   --------------------------------------------------------------------- */

/* Runs `function` through a plugin whose xapi functions run in process
   (as in xensm-xapi) with args key, value, ..., NULL. The response struct
   (caller destroys). */
static xs_value_t *
s_vcall (const char *host_uuid, const char *host_error, const char *url, const char *session,
         const char *function, va_list ap)
{
    xs_plugin_t *plugin = xs_plugin_new ();
    xs_plugin_set_helper_call (plugin, xs_plugin_helper_call);
    xs_plugin_set_xapi_url (plugin, url);
    xs_plugin_set_host (plugin, host_uuid, host_error);
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, session);
    xs_value_t *args = xs_value_struct_new ();
    for (const char *key = va_arg (ap, const char *); key; key = va_arg (ap, const char *))
        xs_value_set_str (args, key, va_arg (ap, const char *));
    xs_value_append (params, &args);
    char *request = xs_xmlrpc_encode_call (function, params, NULL);
    xs_value_destroy (&params);
    size_t len = 0;
    char *response = xs_plugin_handle (plugin, request, strlen (request), &len);
    xs_err_t err;
    xs_value_t *value = xs_xmlrpc_decode_response (response, len, NULL, &err);
    assert_non_null (value);
    free (response);
    free (request);
    xs_plugin_destroy (&plugin);
    return value;
}

/* s_vcall on the session's host (no inventory: the in-process case). */
static xs_value_t *
s_call (const char *url, const char *session, const char *function, ...)
{
    va_list ap;
    va_start (ap, function);
    xs_value_t *value = s_vcall (NULL, NULL, url, session, function, ap);
    va_end (ap);
    return value;
}

/* s_vcall on the host the inventory names (uuid), or with none (error). */
static xs_value_t *
s_call_on (const char *host_uuid, const char *host_error, const char *url, const char *session,
           const char *function, ...)
{
    va_list ap;
    va_start (ap, function);
    xs_value_t *value = s_vcall (host_uuid, host_error, url, session, function, ap);
    va_end (ap);
    return value;
}

/* The Value of a Success, parsed (caller decrefs). */
static json_t *
s_success (xs_value_t **response_p)
{
    xs_value_t *response = *response_p;
    const char *status = xs_value_get_str (response, "Status");
    if (strcmp (status, "Success") != 0)
        fail_msg ("not a Success: %s",
                  xs_value_str (xs_value_at (xs_value_get (response, "ErrorDescription"), 0)));
    json_t *json = json_loads (xs_value_get_str (response, "Value"), 0, NULL);
    assert_non_null (json);
    xs_value_destroy (response_p);
    return json;
}

/* The ErrorDescription of a Failure with `code` (borrowed from response). */
static const xs_value_t *
s_failure (const xs_value_t *response, const char *code)
{
    assert_string_equal (xs_value_get_str (response, "Status"), "Failure");
    const xs_value_t *desc = xs_value_get (response, "ErrorDescription");
    assert_string_equal (xs_value_str (xs_value_at (desc, 0)), code);
    return desc;
}

static bool
s_mentions (const xs_value_t *desc, const char *text)
{
    for (size_t i = 0; i < xs_value_size (desc); i++)
        if (strstr (xs_value_str (xs_value_at (desc, i)), text))
            return true;
    return false;
}

/* ---------------------------------------------------------------------
   Without an xapi
   --------------------------------------------------------------------- */

static void
test_unreachable_xapi_is_a_transport_error (void **state)
{
    for (int i = 0; i < 2; i++) {
        xs_value_t *response = s_call ("unix:/nonexistent/xapi.sock", FAKE_SESSION, "sr_stats",
                                       "sr_uuid", UUID_A, NULL);
        const xs_value_t *desc = s_failure (response, "XENSM_TRANSPORT");
        assert_true (s_mentions (desc, "SR " UUID_A));
        assert_false (s_mentions (desc, FAKE_SESSION));
        xs_value_destroy (&response);
    }
    /* An unusable URL is reported, not crashed on. */
    xs_value_t *response = s_call ("ftp://x/", FAKE_SESSION, "host_info", NULL);
    s_failure (response, "XENSM_INVALID");
    xs_value_destroy (&response);
}

static void
test_only_host_operations_run_here (void **state)
{
    static const xs_plugin_arg_t none [] = { { NULL, NULL } };
    const char *names [] = { "ping", "format_disk", "" };
    for (size_t i = 0; i < sizeof names / sizeof names [0]; i++) {
        xs_plugin_result_t result = { NULL, NULL };
        assert_int_equal (xs_plugin_helper_call (names [i], &s_nowhere, FAKE_SESSION,
                                                 none, 0, &result), -1);
        assert_null (result.value);
        assert_string_equal (result.description [0], "UNKNOWN_XENAPI_PLUGIN_FUNCTION");
        assert_string_equal (result.description [1], names [i]);
        xs_plugin_result_clear (&result);
        assert_null (result.description);
    }
    xs_plugin_result_clear (NULL);
    /* A missing argument (the plugin checks first; the op table again). */
    xs_plugin_result_t result = { NULL, NULL };
    const xs_plugin_arg_t args [] = { { "sr_uuid", UUID_A }, { "volume_uuid", VOL_A } };
    assert_int_equal (xs_plugin_helper_call ("vdi_create", &s_nowhere, FAKE_SESSION,
                                             args, 2, &result), -1);
    assert_string_equal (result.description [0], "XENSM_INVALID");
    assert_string_equal (result.description [1], "vdi_create: missing argument size");
    xs_plugin_result_clear (&result);
}

/* ---------------------------------------------------------------------
   Against the xapi simulator, with the caller's session
   --------------------------------------------------------------------- */

static void
test_functions_against_xapisim (void **state)
{
    static const char *const sim_args [] = { "--pool", "p1:xs01", "--user", "root:", NULL };
    xs_test_xapisim_t *sim = xs_test_xapisim_start (sim_args);
    const char *url = xs_test_xapisim_unix_url (sim, 0);
    xs_err_t err;
    xs_xenapi_t *caller = xs_xenapi_new (url, &err);
    assert_int_equal (xs_xenapi_login (caller, "root", "", &err), 0);
    const char *session = xs_xenapi_session (caller);

    xs_value_t *response = s_call (url, session, "sr_attach", "type", "nfs", "name_label", "h1",
                                   "device_config:server", "filer",
                                   "device_config:serverpath", "/h", NULL);
    json_t *sr = s_success (&response);
    char sr_uuid [64];
    snprintf (sr_uuid, sizeof sr_uuid, "%s", json_string_value (json_object_get (sr, "sr_uuid")));
    json_decref (sr);

    /* `name` is the VDI's description, as from the agent. */
    response = s_call (url, session, "vdi_create", "sr_uuid", sr_uuid, "volume_uuid", VOL_A,
                       "size", "1048576", "name", "web data", NULL);
    json_t *vdi = s_success (&response);
    assert_true (json_is_true (json_object_get (vdi, "created")));
    json_decref (vdi);
    json_t *dump = xs_test_xapisim_dump (sim);
    json_t *record = xs_test_xapisim_vdi_of (dump, VOL_A);
    assert_string_equal (json_string_value (json_object_get (record, "name_description")),
                         "web data");
    json_decref (dump);

    /* xapi's own error, passed through with exactly xapi's params (the
       message naming the volume goes to the log, not into the params). */
    static const char *const space [] = { "", "There is insufficient space", "stderr", NULL };
    xs_test_xapisim_fail (sim, "VDI.create", 1, false, "SR_BACKEND_FAILURE_44", space);
    response = s_call (url, session, "vdi_create", "sr_uuid", sr_uuid, "volume_uuid", VOL_B,
                       "size", "1048576", NULL);
    const xs_value_t *desc = s_failure (response, "SR_BACKEND_FAILURE_44");
    assert_int_equal (xs_value_size (desc), 4);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal (xs_value_str (xs_value_at (desc, i + 1)), space [i]);
    xs_value_destroy (&response);

    /* A session xapi does not know: xapi's SESSION_INVALID [ref], as xapi
       gives it to the caller, who holds that ref anyway. */
    response = s_call (url, FAKE_SESSION, "vdi_find", "volume_uuid", VOL_A, NULL);
    desc = s_failure (response, "SESSION_INVALID");
    assert_int_equal (xs_value_size (desc), 2);
    assert_string_equal (xs_value_str (xs_value_at (desc, 1)), FAKE_SESSION);
    xs_value_destroy (&response);

    xs_xenapi_destroy (&caller);
    xs_test_xapisim_stop (&sim);
    xs_test_proc_stop_all ();
}

/* xapi hands a plugin the caller's session, which on a pool member is the
   master's: the plugin acts on the host of its inventory (audit P1). */
static void
test_this_host_is_the_inventorys (void **state)
{
    static const char *const sim_args [] = { "--pool", "p1:xs01,xs02", "--user", "root:", NULL };
    xs_test_xapisim_t *sim = xs_test_xapisim_start (sim_args);
    const char *url = xs_test_xapisim_unix_url (sim, 1);
    const char *member = xs_test_xapisim_host_uuid (sim, 1);
    xs_err_t err;
    xs_xenapi_t *caller = xs_xenapi_new (xs_test_xapisim_http_url (sim, 0), &err);
    assert_int_equal (xs_xenapi_login (caller, "root", "", &err), 0);
    const char *session = xs_xenapi_session (caller);     /* the master's */

    xs_value_t *response = s_call_on (member, NULL, url, session, "host_info", NULL);
    json_t *info = s_success (&response);
    assert_string_equal (json_string_value (json_object_get (info, "uuid")), member);
    assert_false (json_is_true (json_object_get (info, "is_pool_master")));
    json_decref (info);

    /* A local SR: made on this host's device, its one PBD this host's. */
    response = s_call_on (member, NULL, url, session, "sr_attach", "type", "ext",
                          "device_config:device", "/dev/sdb", NULL);
    json_t *sr = s_success (&response);
    const char *sr_uuid = json_string_value (json_object_get (sr, "sr_uuid"));
    json_t *dump = xs_test_xapisim_dump (sim);
    json_t *pool = json_array_get (json_object_get (dump, "pools"), 0);
    size_t i, pbds = 0;
    json_t *pbd, *one;
    json_array_foreach (json_object_get (pool, "SRs"), i, one)
        if (strcmp (json_string_value (json_object_get (one, "uuid")), sr_uuid) == 0)
            pbds = json_array_size (json_object_get (one, "PBDs"));
    assert_int_equal (pbds, 1);
    size_t on_member = 0;
    json_array_foreach (json_object_get (pool, "PBDs"), i, pbd)
        if (strcmp (json_string_value (json_object_get (pbd, "host_name")), "xs02") == 0)
            on_member++;
    assert_int_equal (on_member, 1);
    json_decref (dump);
    json_decref (sr);

    /* No inventory: refused, never the session's host. */
    response = s_call_on (NULL, "inventory /etc/xensource-inventory: no such file", url, session,
                          "host_info", NULL);
    const xs_value_t *desc = s_failure (response, "XENSM_NO_HOST_UUID");
    assert_true (s_mentions (desc, "no such file"));
    xs_value_destroy (&response);
    /* ... but what does not act on this host still works. */
    response = s_call_on (NULL, "no inventory", url, session, "vdi_find", "volume_uuid", VOL_A,
                          NULL);
    s_failure (response, "XENSM_NOT_FOUND");
    xs_value_destroy (&response);

    xs_xenapi_destroy (&caller);
    xs_test_xapisim_stop (&sim);
    xs_test_proc_stop_all ();
}

int
main (void)
{
    xs_log_init ("test_plugin_helper", false,
                 getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_unreachable_xapi_is_a_transport_error),
        cmocka_unit_test (test_only_host_operations_run_here),
        cmocka_unit_test (test_functions_against_xapisim),
        cmocka_unit_test (test_this_host_is_the_inventorys),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
