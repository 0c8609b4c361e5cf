/*  The XenAPI client against real servers: driven by test_xenapi.py, which
    starts the xapi simulator and a misbehaving XML-RPC server, sets faults
    and runs one group of this program per scenario:

        itest_xenapi <group>

    Environment (set by test_xenapi.py):
        XT_URL         the server under test (http://127.0.0.1:<port>/,
                       https://... or unix:/path)
        XT_MEMBER_URL  a pool member of the simulator (HOST_IS_SLAVE)
        XT_USER, XT_PASS
        XT_CA_FILE     CA bundle for the https group
        XT_TIMEOUT_MS  a short total timeout for the timeout cases
        XT_SIM_URL     where the simulator's control methods (sim.*) are
    Each group prints cmocka's report; the exit status is the number of
    failed tests.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <time.h>
#include <unistd.h>

#include "common/xs_log.h"
#include "host/xs_xenapi.h"
#include "common/xs_xmlrpc.h"

static const char *
s_env (const char *name)
{
    const char *value = getenv (name);
    if (!value || !*value)
        fail_msg ("environment variable %s is not set", name);
    return value;
}

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

#define assert_contains(haystack, needle) \
    do { \
        const char *h_ = (haystack), *n_ = (needle); \
        if (!h_ || !strstr (h_, n_)) \
            fail_msg ("'%s' does not contain '%s'", h_ ? h_ : "(null)", n_); \
    } while (0)

/* A client on XT_URL with a borrowed session (the fake server takes any). */
static xs_xenapi_t *
s_fake_client (void)
{
    xs_err_t err;
    xs_xenapi_t *client = xs_xenapi_new (s_env ("XT_URL"), &err);
    if (!client)
        fail_msg ("xs_xenapi_new: %s", err.msg);
    const char *ca = getenv ("XT_CA_FILE");
    if (ca && *ca)
        xs_xenapi_set_ca_file (client, ca);
    xs_xenapi_set_timeouts (client, 2000, 10000);
    xs_xenapi_set_session (client, "OpaqueRef:fake-session");
    return client;
}

/* ================================================================== */
/*  Group "fake": a misbehaving XML-RPC server (Python's xmlrpc)      */
/* ================================================================== */

static void
test_strings_and_maps_survive_another_codec (void **state)
{
    xs_xenapi_t *client = s_fake_client ();
    xs_err_t err;
    const char *nasty = "<a href=\"x\">&amp; 'q' ]]> \t\xc3\xa9\xe2\x82\xac</a>";
    xs_value_t *map = xs_value_struct_new ();
    xs_value_set_str (map, nasty, nasty);
    xs_value_set_str (map, "password", "p&<>");
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, nasty);
    xs_value_t *copy = xs_value_dup (map);
    xs_value_append (params, &copy);
    xs_value_t *result = xs_xenapi_call (client, "test.echo", params, &err);
    if (!result)
        fail_msg ("test.echo: %s", err.msg);
    /* The server echoes every param it got, session first. */
    assert_int_equal (xs_value_type (result), XS_VALUE_ARRAY);
    assert_int_equal (xs_value_size (result), 3);
    assert_string_equal (xs_value_str (xs_value_at (result, 0)), "OpaqueRef:fake-session");
    assert_string_equal (xs_value_str (xs_value_at (result, 1)), nasty);
    assert_true (xs_value_equal (xs_value_at (result, 2), map));
    assert_null (xs_xenapi_error_code (client));
    xs_value_destroy (&result);
    xs_value_destroy (&params);
    xs_value_destroy (&map);
    xs_xenapi_destroy (&client);
}

static void
test_requests_carry_headers_and_reuse_the_connection (void **state)
{
    xs_xenapi_t *client = s_fake_client ();
    xs_err_t err;
    xs_value_t *first = xs_xenapi_call (client, "test.get_headers", NULL, &err);
    if (!first)
        fail_msg ("test.headers: %s", err.msg);
    assert_contains (xs_value_get_str (first, "content_type"), "text/xml");
    assert_contains (xs_value_get_str (first, "user_agent"), "xensm/");
    assert_string_equal (xs_value_get_str (first, "path"), "/");
    xs_value_t *second = xs_xenapi_call (client, "test.get_headers", NULL, &err);
    assert_non_null (second);
    /* Keep-alive: both requests came on the same TCP connection. */
    assert_string_equal (xs_value_get_str (first, "peer"), xs_value_get_str (second, "peer"));
    /* A call that changes something never rides a kept-alive connection
       (libcurl would silently re-send it if that connection died). */
    xs_value_t *fresh = xs_xenapi_call (client, "test.peer", NULL, &err);
    assert_non_null (fresh);
    assert_string_not_equal (xs_value_str (fresh), xs_value_get_str (second, "peer"));
    xs_value_destroy (&fresh);
    xs_value_destroy (&first);
    xs_value_destroy (&second);

    xs_xenapi_set_user_agent (client, "probe/9");
    xs_value_t *third = xs_xenapi_call (client, "test.get_headers", NULL, &err);
    assert_non_null (third);
    assert_string_equal (xs_value_get_str (third, "user_agent"), "probe/9");
    xs_value_destroy (&third);
    xs_xenapi_destroy (&client);
}

static void
test_non_xml_reply_is_invalid (void **state)
{
    xs_xenapi_t *client = s_fake_client ();
    xs_err_t err;
    assert_null (xs_xenapi_call (client, "test.not_xml", NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_contains (err.msg, "test.not_xml: bad reply from ");
    assert_contains (err.msg, xs_xenapi_url (client));
    assert_null (xs_xenapi_error_code (client));
    /* The client still works afterwards. */
    xs_value_t *ok = xs_xenapi_call (client, "test.echo", NULL, &err);
    assert_non_null (ok);
    xs_value_destroy (&ok);
    xs_xenapi_destroy (&client);
}

static void
test_replies_that_are_not_xenapi_are_invalid (void **state)
{
    static const struct { const char *method, *says; } cases [] = {
        { "test.not_struct", "not a XenAPI response" },
        { "test.bad_status", "unknown Status" },
        { "test.no_value", "Success without a Value" },
        { "test.empty_failure", "a Failure without an error code" },
        { "test.truncated", "bad reply from" },
    };
    xs_xenapi_t *client = s_fake_client ();
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        xs_err_t err;
        xs_err_clear (&err);
        assert_null (xs_xenapi_call (client, cases [i].method, NULL, &err));
        assert_int_equal (err.kind, XS_EINVAL);
        assert_contains (err.msg, cases [i].method);
        assert_contains (err.msg, cases [i].says);
        assert_null (xs_xenapi_error_code (client));
    }
    xs_xenapi_destroy (&client);
}

static void
test_xmlrpc_fault_and_http_error_are_reported (void **state)
{
    xs_xenapi_t *client = s_fake_client ();
    xs_err_t err;
    assert_null (xs_xenapi_call (client, "test.fault", NULL, &err));
    assert_contains (err.msg, "test.fault: bad reply from");
    assert_contains (err.msg, "XML-RPC fault 7: boom");
    assert_null (xs_xenapi_error_code (client));

    assert_null (xs_xenapi_call (client, "test.http500", NULL, &err));
    assert_int_equal (err.kind, XS_ETRANSPORT);
    assert_contains (err.msg, "test.http500: ");
    assert_contains (err.msg, "answered HTTP 500");
    xs_xenapi_destroy (&client);
}

static void
test_failure_from_server_keeps_code_and_params (void **state)
{
    xs_xenapi_t *client = s_fake_client ();
    xs_err_t err;
    assert_null (xs_xenapi_call (client, "test.failure", NULL, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (err.msg, "test.failure: SR_BACKEND_FAILURE_73 [, NFS mount error, ]");
    assert_string_equal (xs_xenapi_error_code (client), "SR_BACKEND_FAILURE_73");
    assert_string_equal (xs_xenapi_error_param (client, 1), "NFS mount error");
    /* A later success clears the error. */
    xs_value_t *ok = xs_xenapi_call (client, "test.echo", NULL, &err);
    assert_non_null (ok);
    assert_null (xs_xenapi_error_code (client));
    assert_null (xs_xenapi_error_params (client));
    xs_value_destroy (&ok);
    xs_xenapi_destroy (&client);
}

static void
test_dropped_connection_is_a_transport_error (void **state)
{
    xs_xenapi_t *client = s_fake_client ();
    xs_err_t err;
    assert_null (xs_xenapi_call (client, "test.drop", NULL, &err));
    assert_int_equal (err.kind, XS_ETRANSPORT);
    assert_contains (err.msg, "test.drop: cannot talk to ");
    assert_contains (err.msg, xs_xenapi_url (client));
    assert_null (strstr (err.msg, "fake-session"));
    /* A new connection works. */
    xs_value_t *ok = xs_xenapi_call (client, "test.echo", NULL, &err);
    if (!ok)
        fail_msg ("after drop: %s", err.msg);
    xs_value_destroy (&ok);
    xs_xenapi_destroy (&client);
}

static void
test_slow_server_times_out (void **state)
{
    xs_xenapi_t *client = s_fake_client ();
    xs_err_t err;
    long timeout_ms = atol (s_env ("XT_TIMEOUT_MS"));
    xs_xenapi_set_timeouts (client, 0, timeout_ms);
    double start = s_now ();
    assert_null (xs_xenapi_call (client, "test.slow", NULL, &err));
    double took = s_now () - start;
    assert_int_equal (err.kind, XS_ETRANSPORT);
    assert_contains (err.msg, "test.slow: timeout after");
    assert_contains (err.msg, xs_xenapi_url (client));
    assert_true (took >= timeout_ms / 1000.0 * 0.9);
    assert_true (took < timeout_ms / 1000.0 + 2.0);
    xs_xenapi_destroy (&client);
}

static void
test_huge_reply_is_refused (void **state)
{
    xs_xenapi_t *client = s_fake_client ();
    xs_err_t err;
    assert_null (xs_xenapi_call (client, "test.huge", NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_contains (err.msg, "test.huge: reply from");
    assert_contains (err.msg, "is larger than");
    xs_xenapi_destroy (&client);
}

/* ================================================================== */
/*  Group "https": TLS against a server with a self-signed cert        */
/* ================================================================== */

static void
test_https_verifies_certificates_by_default (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = xs_xenapi_new (s_env ("XT_URL"), &err);
    assert_non_null (client);
    xs_xenapi_set_session (client, "OpaqueRef:fake-session");
    assert_null (xs_xenapi_call (client, "test.echo", NULL, &err));
    assert_int_equal (err.kind, XS_ETRANSPORT);
    assert_contains (err.msg, "test.echo: cannot talk to https://");
    assert_contains (err.msg, "certificate");

    /* With the CA file it verifies and works. */
    xs_xenapi_set_ca_file (client, s_env ("XT_CA_FILE"));
    xs_value_t *ok = xs_xenapi_call (client, "test.echo", NULL, &err);
    if (!ok)
        fail_msg ("https with CA file: %s", err.msg);
    xs_value_destroy (&ok);
    xs_xenapi_destroy (&client);
}

static void
test_https_insecure_flag_skips_verification (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = xs_xenapi_new (s_env ("XT_URL"), &err);
    xs_xenapi_set_session (client, "OpaqueRef:fake-session");
    xs_xenapi_set_insecure (client, true);
    xs_value_t *ok = xs_xenapi_call (client, "test.echo", NULL, &err);
    if (!ok)
        fail_msg ("insecure https: %s", err.msg);
    xs_value_destroy (&ok);
    xs_xenapi_destroy (&client);
}

static void
test_https_to_a_plain_http_server_fails_clearly (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = xs_xenapi_new (s_env ("XT_PLAIN_AS_HTTPS_URL"), &err);
    assert_non_null (client);
    xs_xenapi_set_session (client, "OpaqueRef:fake-session");
    xs_xenapi_set_timeouts (client, 2000, 5000);
    assert_null (xs_xenapi_call (client, "test.echo", NULL, &err));
    assert_int_equal (err.kind, XS_ETRANSPORT);
    assert_contains (err.msg, "test.echo: cannot talk to https://");
    xs_xenapi_destroy (&client);
}

/* ================================================================== */
/*  Group "sim": every helper against the xapi simulator               */
/* ================================================================== */

/* A client logged in to XT_URL as XT_USER. */
static xs_xenapi_t *
s_sim_client (void)
{
    xs_err_t err;
    xs_xenapi_t *client = xs_xenapi_new (s_env ("XT_URL"), &err);
    if (!client)
        fail_msg ("xs_xenapi_new: %s", err.msg);
    xs_xenapi_set_timeouts (client, 2000, 20000);
    if (xs_xenapi_login (client, s_env ("XT_USER"), s_env ("XT_PASS"), &err))
        fail_msg ("login to %s: %s", s_env ("XT_URL"), err.msg);
    return client;
}

static bool
s_array_has (const xs_value_t *array, const char *text)
{
    for (size_t i = 0; i < xs_value_size (array); i++)
        if (xs_value_str (xs_value_at (array, i))
            && strcmp (xs_value_str (xs_value_at (array, i)), text) == 0)
            return true;
    return false;
}

static void
test_login_logout_and_bad_password (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = s_sim_client ();
    char *session = strdup (xs_xenapi_session (client));
    assert_contains (session, "OpaqueRef:");
    assert_string_equal (xs_xenapi_url (client), s_env ("XT_URL"));
    assert_int_equal (xs_xenapi_logout (client, &err), 0);
    assert_null (xs_xenapi_session (client));
    assert_null (xs_xenapi_host_get_all (client, &err));
    assert_contains (err.msg, "not logged in");

    /* The old session is dead on the server: borrowing it fails, no re-login. */
    xs_xenapi_set_session (client, session);
    assert_null (xs_xenapi_host_get_all (client, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (xs_xenapi_error_code (client), "SESSION_INVALID");
    assert_contains (err.msg, "host.get_all: SESSION_INVALID");
    assert_null (strstr (err.msg, session));
    assert_string_equal (xs_xenapi_session (client), session);
    free (session);

    assert_int_equal (xs_xenapi_login (client, s_env ("XT_USER"), "not-the-password", &err), -1);
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (xs_xenapi_error_code (client), "SESSION_AUTHENTICATION_FAILED");
    assert_contains (err.msg, "session.login_with_password: SESSION_AUTHENTICATION_FAILED");
    assert_null (strstr (err.msg, "not-the-password"));
    assert_null (xs_xenapi_session (client));
    xs_xenapi_destroy (&client);
}

static void
test_host_pool_and_session_helpers (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = s_sim_client ();
    xs_value_t *hosts = xs_xenapi_host_get_all (client, &err);
    if (!hosts)
        fail_msg ("host.get_all: %s", err.msg);
    assert_true (xs_value_size (hosts) >= 1);
    for (size_t i = 0; i < xs_value_size (hosts); i++) {
        const char *ref = xs_value_str (xs_value_at (hosts, i));
        assert_contains (ref, "OpaqueRef:");
        xs_value_t *rec = xs_xenapi_host_get_record (client, ref, &err);
        if (!rec)
            fail_msg ("host.get_record: %s", err.msg);
        const char *uuid = xs_value_get_str (rec, "uuid");
        assert_non_null (uuid);
        assert_non_null (xs_value_get_str (rec, "name_label"));
        char *again = xs_xenapi_host_get_by_uuid (client, uuid, &err);
        if (!again)
            fail_msg ("host.get_by_uuid: %s", err.msg);
        assert_string_equal (again, ref);
        free (again);
        xs_value_destroy (&rec);
    }
    xs_value_t *pools = xs_xenapi_pool_get_all (client, &err);
    if (!pools)
        fail_msg ("pool.get_all: %s", err.msg);
    assert_int_equal (xs_value_size (pools), 1);
    char *master = xs_xenapi_pool_get_master (client, xs_value_str (xs_value_at (pools, 0)), &err);
    if (!master)
        fail_msg ("pool.get_master: %s", err.msg);
    assert_true (s_array_has (hosts, master));
    /* Logged in to the master, so this host is the master. */
    char *this_host = xs_xenapi_session_get_this_host (client, &err);
    if (!this_host)
        fail_msg ("session.get_this_host: %s", err.msg);
    assert_string_equal (this_host, master);

    /* Unknown uuid and ref: not found, with the code kept. */
    assert_null (xs_xenapi_host_get_by_uuid (client, "00000000-0000-0000-0000-000000000000", &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (xs_xenapi_error_code (client), "UUID_INVALID");
    assert_null (xs_xenapi_host_get_record (client, "OpaqueRef:nope", &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (xs_xenapi_error_code (client), "HANDLE_INVALID");
    free (this_host);
    free (master);
    xs_value_destroy (&pools);
    xs_value_destroy (&hosts);
    xs_xenapi_destroy (&client);
}

static void
test_generic_call_reaches_any_method (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = s_sim_client ();
    xs_value_t *hosts = xs_xenapi_call (client, "host.get_all", NULL, &err);
    assert_non_null (hosts);
    xs_value_t *uuid = xs_xenapi_call_str (client, "host.get_uuid",
                                           xs_value_str (xs_value_at (hosts, 0)), &err);
    if (!uuid)
        fail_msg ("host.get_uuid: %s", err.msg);
    assert_int_equal (xs_value_type (uuid), XS_VALUE_STRING);
    assert_int_equal (strlen (xs_value_str (uuid)), 36);
    assert_null (xs_xenapi_call (client, "host.no_such_message", NULL, &err));
    assert_string_equal (xs_xenapi_error_code (client), "MESSAGE_METHOD_UNKNOWN");
    assert_null (xs_xenapi_call_str (client, "host.get_all", "extra", &err));
    assert_string_equal (xs_xenapi_error_code (client), "MESSAGE_PARAMETER_COUNT_MISMATCH");
    xs_value_destroy (&uuid);
    xs_value_destroy (&hosts);
    xs_xenapi_destroy (&client);
}

static void
test_sm_records_list_capabilities (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = s_sim_client ();
    xs_value_t *sms = xs_xenapi_sm_get_all_records (client, &err);
    if (!sms)
        fail_msg ("SM.get_all_records: %s", err.msg);
    bool found = false;
    for (size_t i = 0; i < xs_value_size (sms); i++) {
        assert_contains (xs_value_key_at (sms, i), "OpaqueRef:");
        const xs_value_t *rec = xs_value_value_at (sms, i);
        const char *type = xs_value_get_str (rec, "type");
        assert_non_null (type);
        if (strcmp (type, "nfs") == 0) {
            found = true;
            const xs_value_t *caps = xs_value_get (rec, "capabilities");
            assert_true (s_array_has (caps, "VDI_CREATE"));
            assert_true (s_array_has (caps, "VDI_CLONE"));
        }
    }
    assert_true (found);
    xs_value_destroy (&sms);
    xs_xenapi_destroy (&client);
}

/* Creates a shared nfs SR on the master. */
static char *
s_create_nfs_sr (xs_xenapi_t *client, const char *label, xs_value_t **config_p)
{
    xs_err_t err;
    char *master = xs_xenapi_session_get_this_host (client, &err);
    assert_non_null (master);
    xs_value_t *config = xs_value_struct_new ();
    xs_value_set_str (config, "server", "nfs01.example.com");
    xs_value_set_str (config, "serverpath", "/export/xensm <&> \"test\"");
    xs_xenapi_sr_args_t args = {
        .host = master, .device_config = config, .physical_size = 0,
        .name_label = label, .name_description = "made by itest_xenapi",
        .type = "nfs", .content_type = "user", .shared = true,
    };
    char *sr = xs_xenapi_sr_create (client, &args, &err);
    if (!sr)
        fail_msg ("SR.create: %s", err.msg);
    free (master);
    *config_p = config;
    return sr;
}

static void
test_sr_and_pbd_helpers (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = s_sim_client ();
    xs_value_t *config = NULL;
    char *sr = s_create_nfs_sr (client, "xensm-sr-<1>", &config);

    xs_value_t *rec = xs_xenapi_sr_get_record (client, sr, &err);
    if (!rec)
        fail_msg ("SR.get_record: %s", err.msg);
    assert_string_equal (xs_value_get_str (rec, "type"), "nfs");
    assert_string_equal (xs_value_get_str (rec, "name_label"), "xensm-sr-<1>");
    assert_true (xs_value_bool (xs_value_get (rec, "shared")));
    int64_t size = -1;
    assert_int_equal (xs_xenapi_field_int64 (rec, "physical_size", &size, &err), 0);
    assert_true (size >= 0);
    char *uuid = strdup (xs_value_get_str (rec, "uuid"));
    char *again = xs_xenapi_sr_get_by_uuid (client, uuid, &err);
    assert_non_null (again);
    assert_string_equal (again, sr);
    free (again);
    xs_value_destroy (&rec);
    assert_int_equal (xs_xenapi_sr_scan (client, sr, &err), 0);

    /* shared: one PBD per host, each with our device_config. */
    xs_value_t *hosts = xs_xenapi_host_get_all (client, &err);
    xs_value_t *pbds = xs_xenapi_sr_get_PBDs (client, sr, &err);
    if (!pbds)
        fail_msg ("SR.get_PBDs: %s", err.msg);
    assert_int_equal (xs_value_size (pbds), xs_value_size (hosts));
    for (size_t i = 0; i < xs_value_size (pbds); i++) {
        xs_value_t *pbd = xs_xenapi_pbd_get_record (client, xs_value_str (xs_value_at (pbds, i)), &err);
        if (!pbd)
            fail_msg ("PBD.get_record: %s", err.msg);
        assert_string_equal (xs_value_get_str (pbd, "SR"), sr);
        assert_true (s_array_has (hosts, xs_value_get_str (pbd, "host")));
        assert_true (xs_value_equal (xs_value_get (pbd, "device_config"), config));
        xs_value_destroy (&pbd);
    }

    /* Detach: unplug and destroy every PBD, then forget. */
    assert_int_equal (xs_xenapi_sr_forget (client, sr, &err), -1);
    assert_string_equal (xs_xenapi_error_code (client), "SR_HAS_PBD");
    for (size_t i = 0; i < xs_value_size (pbds); i++) {
        const char *pbd = xs_value_str (xs_value_at (pbds, i));
        if (xs_xenapi_pbd_unplug (client, pbd, &err))
            fail_msg ("PBD.unplug: %s", err.msg);
        if (xs_xenapi_pbd_destroy (client, pbd, &err))
            fail_msg ("PBD.destroy: %s", err.msg);
        assert_null (xs_xenapi_pbd_get_record (client, pbd, &err));
        assert_int_equal (err.kind, XS_ENOTFOUND);
    }
    if (xs_xenapi_sr_forget (client, sr, &err))
        fail_msg ("SR.forget: %s", err.msg);
    assert_null (xs_xenapi_sr_get_by_uuid (client, uuid, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);

    /* Attach again: introduce by uuid, PBD for this host, plug. */
    xs_xenapi_sr_args_t intro = {
        .uuid = uuid, .name_label = "xensm-sr-<1>", .type = "nfs", .content_type = "user",
        .shared = true,
    };
    char *sr2 = xs_xenapi_sr_introduce (client, &intro, &err);
    if (!sr2)
        fail_msg ("SR.introduce: %s", err.msg);
    char *me = xs_xenapi_session_get_this_host (client, &err);
    xs_value_t *other = xs_value_struct_new ();
    xs_value_set_str (other, "xensm", "yes & <no>");
    char *pbd = xs_xenapi_pbd_create (client, me, sr2, config, other, &err);
    if (!pbd)
        fail_msg ("PBD.create: %s", err.msg);
    if (xs_xenapi_pbd_plug (client, pbd, &err))
        fail_msg ("PBD.plug: %s", err.msg);
    xs_value_t *prec = xs_xenapi_pbd_get_record (client, pbd, &err);
    assert_non_null (prec);
    assert_true (xs_value_bool (xs_value_get (prec, "currently_attached")));
    assert_string_equal (xs_value_get_str (prec, "host"), me);
    /* A second PBD for the same host and SR is refused. */
    assert_null (xs_xenapi_pbd_create (client, me, sr2, config, NULL, &err));
    assert_string_equal (xs_xenapi_error_code (client), "PBD_EXISTS");

    /* SR.probe answers with XML text. */
    xs_xenapi_sr_args_t probe = { .host = me, .device_config = config, .type = "nfs" };
    char *xml = xs_xenapi_sr_probe (client, &probe, &err);
    if (!xml)
        fail_msg ("SR.probe: %s", err.msg);
    free (xml);

    xs_value_destroy (&prec);
    xs_value_destroy (&other);
    free (pbd);
    free (me);
    free (sr2);
    free (uuid);
    xs_value_destroy (&pbds);
    xs_value_destroy (&hosts);
    xs_value_destroy (&config);
    free (sr);
    xs_xenapi_destroy (&client);
}

static void
test_sr_create_reports_backend_checks (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = s_sim_client ();
    char *master = xs_xenapi_session_get_this_host (client, &err);
    xs_value_t *config = xs_value_struct_new ();
    xs_value_set_str (config, "server", "nfs01");          /* no serverpath */
    xs_xenapi_sr_args_t args = { .host = master, .device_config = config, .type = "nfs",
                                 .shared = true, .name_label = "broken" };
    assert_null (xs_xenapi_sr_create (client, &args, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_contains (xs_xenapi_error_code (client), "SR_BACKEND_FAILURE_");
    assert_contains (err.msg, "SR.create: SR_BACKEND_FAILURE_");
    xs_value_destroy (&config);
    free (master);
    xs_xenapi_destroy (&client);
}

static void
test_vdi_helpers (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = s_sim_client ();
    xs_value_t *config = NULL;
    char *sr = s_create_nfs_sr (client, "xensm-vdi-sr", &config);
    char label [64];
    snprintf (label, sizeof label, "xensm-%ld <&>", (long) getpid ());
    xs_value_t *other = xs_value_struct_new ();
    xs_value_set_str (other, "xensm-volume", "6f1c0a8e-5d0b-4b9e-9f00-0123456789ab");
    xs_xenapi_vdi_args_t args = {
        .sr = sr, .name_label = label, .name_description = "volume",
        .virtual_size = INT64_C (10737418240), .other_config = other,
    };
    char *vdi = xs_xenapi_vdi_create (client, &args, &err);
    if (!vdi)
        fail_msg ("VDI.create: %s", err.msg);
    xs_value_t *rec = xs_xenapi_vdi_get_record (client, vdi, &err);
    if (!rec)
        fail_msg ("VDI.get_record: %s", err.msg);
    int64_t size = 0;
    assert_int_equal (xs_xenapi_field_int64 (rec, "virtual_size", &size, &err), 0);
    assert_true (size == INT64_C (10737418240));           /* over 32 bits */
    assert_string_equal (xs_value_get_str (rec, "name_label"), label);
    assert_string_equal (xs_value_get_str (rec, "type"), "user");
    assert_string_equal (xs_value_get_str (rec, "SR"), sr);
    assert_false (xs_value_bool (xs_value_get (rec, "read_only")));
    assert_true (xs_value_equal (xs_value_get (rec, "other_config"), other));
    char *uuid = strdup (xs_value_get_str (rec, "uuid"));
    char *again = xs_xenapi_vdi_get_by_uuid (client, uuid, &err);
    assert_non_null (again);
    assert_string_equal (again, vdi);
    xs_value_t *named = xs_xenapi_vdi_get_by_name_label (client, label, &err);
    assert_non_null (named);
    assert_int_equal (xs_value_size (named), 1);
    assert_true (s_array_has (named, vdi));
    xs_value_t *none = xs_xenapi_vdi_get_by_name_label (client, "no-such-label", &err);
    assert_non_null (none);
    assert_int_equal (xs_value_size (none), 0);

    char *clone = xs_xenapi_vdi_clone (client, vdi, NULL, &err);
    if (!clone)
        fail_msg ("VDI.clone: %s", err.msg);
    assert_string_not_equal (clone, vdi);
    char *snap = xs_xenapi_vdi_snapshot (client, vdi, NULL, &err);
    if (!snap)
        fail_msg ("VDI.snapshot: %s", err.msg);
    xs_value_t *srec = xs_xenapi_vdi_get_record (client, snap, &err);
    assert_non_null (srec);
    assert_true (xs_value_bool (xs_value_get (srec, "is_a_snapshot")));
    assert_int_equal (xs_xenapi_field_int64 (srec, "virtual_size", &size, &err), 0);
    assert_true (size == INT64_C (10737418240));

    assert_int_equal (xs_xenapi_vdi_destroy (client, snap, &err), 0);
    assert_int_equal (xs_xenapi_vdi_destroy (client, clone, &err), 0);
    assert_int_equal (xs_xenapi_vdi_destroy (client, vdi, &err), 0);
    assert_null (xs_xenapi_vdi_get_record (client, vdi, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (xs_xenapi_error_code (client), "HANDLE_INVALID");
    assert_null (xs_xenapi_vdi_get_by_uuid (client, uuid, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);

    xs_value_destroy (&srec);
    free (snap);
    free (clone);
    xs_value_destroy (&none);
    xs_value_destroy (&named);
    free (again);
    free (uuid);
    xs_value_destroy (&rec);
    free (vdi);
    xs_value_destroy (&other);
    xs_value_destroy (&config);
    free (sr);
    xs_xenapi_destroy (&client);
}

static void
test_borrowed_session_works_without_credentials (void **state)
{
    xs_err_t err;
    xs_xenapi_t *owner = s_sim_client ();
    xs_xenapi_t *borrower = xs_xenapi_new (s_env ("XT_URL"), &err);
    xs_xenapi_set_session (borrower, xs_xenapi_session (owner));
    xs_value_t *hosts = xs_xenapi_host_get_all (borrower, &err);
    if (!hosts)
        fail_msg ("host.get_all with a borrowed session: %s", err.msg);
    xs_value_destroy (&hosts);
    /* Destroying the borrower does not log the owner's session out. */
    xs_xenapi_destroy (&borrower);
    hosts = xs_xenapi_host_get_all (owner, &err);
    assert_non_null (hosts);
    xs_value_destroy (&hosts);
    /* Destroying the owner logs its session out. */
    char *session = strdup (xs_xenapi_session (owner));
    xs_xenapi_destroy (&owner);
    borrower = xs_xenapi_new (s_env ("XT_URL"), &err);
    xs_xenapi_set_session (borrower, session);
    assert_null (xs_xenapi_host_get_all (borrower, &err));
    assert_string_equal (xs_xenapi_error_code (borrower), "SESSION_INVALID");
    xs_xenapi_destroy (&borrower);
    free (session);
}

/* ================================================================== */
/*  Group "member": logging in to a pool member                        */
/* ================================================================== */

static void
test_login_to_member_follows_host_is_slave (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = xs_xenapi_new (s_env ("XT_MEMBER_URL"), &err);
    assert_non_null (client);
    if (xs_xenapi_login (client, s_env ("XT_USER"), s_env ("XT_PASS"), &err))
        fail_msg ("login via member %s: %s", s_env ("XT_MEMBER_URL"), err.msg);
    /* Now talking to the master. */
    assert_string_equal (xs_xenapi_url (client), s_env ("XT_URL"));
    char *me = xs_xenapi_session_get_this_host (client, &err);
    assert_non_null (me);
    xs_value_t *pools = xs_xenapi_pool_get_all (client, &err);
    char *master = xs_xenapi_pool_get_master (client, xs_value_str (xs_value_at (pools, 0)), &err);
    assert_non_null (master);
    assert_string_equal (me, master);
    free (master);
    free (me);
    xs_value_destroy (&pools);
    xs_xenapi_destroy (&client);
}

static void
test_borrowed_session_on_member_does_not_follow (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = xs_xenapi_new (s_env ("XT_MEMBER_URL"), &err);
    xs_xenapi_set_session (client, "OpaqueRef:not-a-session");
    assert_null (xs_xenapi_host_get_all (client, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (xs_xenapi_error_code (client), "SESSION_INVALID");
    assert_string_equal (xs_xenapi_url (client), s_env ("XT_MEMBER_URL"));
    xs_xenapi_destroy (&client);
}

/* ================================================================== */
/*  Group "faults": the simulator's fault injection and session expiry */
/* ================================================================== */

static size_t
s_on_control_data (char *data, size_t size, size_t nmemb, void *userp)
{
    char **buf = userp;
    size_t old = *buf ? strlen (*buf) : 0;
    char *bigger = realloc (*buf, old + size * nmemb + 1);
    assert_non_null (bigger);
    memcpy (bigger + old, data, size * nmemb);
    bigger [old + size * nmemb] = '\0';
    *buf = bigger;
    return size * nmemb;
}

/* Calls the simulator's control method sim.<method> (no session) with
   params (taken), independently of the client under test. Returns the
   Value (caller owns). */
static xs_value_t *
s_sim_control (const char *method, xs_value_t *params)
{
    char full [64];
    snprintf (full, sizeof full, "sim.%s", method);
    size_t len = 0;
    char *body = xs_xmlrpc_encode_call (full, params, &len);
    assert_non_null (body);
    char *reply = NULL;
    CURL *curl = curl_easy_init ();
    assert_non_null (curl);
    assert_int_equal (curl_easy_setopt (curl, CURLOPT_URL, s_env ("XT_SIM_URL")), CURLE_OK);
    assert_int_equal (curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body), CURLE_OK);
    assert_int_equal (curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long) len), CURLE_OK);
    assert_int_equal (curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_control_data), CURLE_OK);
    assert_int_equal (curl_easy_setopt (curl, CURLOPT_WRITEDATA, &reply), CURLE_OK);
    assert_int_equal (curl_easy_setopt (curl, CURLOPT_TIMEOUT, 20L), CURLE_OK);
    CURLcode rc = curl_easy_perform (curl);
    if (rc != CURLE_OK)
        fail_msg ("%s: %s", full, curl_easy_strerror (rc));
    curl_easy_cleanup (curl);
    xs_err_t err;
    xs_value_t *response = xs_xmlrpc_decode_response (reply, strlen (reply), NULL, &err);
    if (!response)
        fail_msg ("%s: %s", full, err.msg);
    if (strcmp (xs_value_get_str (response, "Status"), "Success") != 0)
        fail_msg ("%s failed", full);
    xs_value_t *value = xs_value_dup (xs_value_get (response, "Value"));
    xs_value_destroy (&response);
    xs_value_destroy (&params);
    free (reply);
    free (body);
    return value;
}

/* sim.add_fault {method, action, nth, repeat, code, params, seconds, when}. */
static void
s_sim_fault (const char *method, const char *action, int nth, bool repeat, const char *code,
             xs_value_t *desc_params, double seconds, const char *when)
{
    xs_value_t *rule = xs_value_struct_new ();
    xs_value_set_str (rule, "method", method);
    xs_value_set_str (rule, "action", action);
    xs_value_t *item = xs_value_int_new (nth);
    xs_value_set (rule, "nth", &item);
    item = xs_value_bool_new (repeat);
    xs_value_set (rule, "repeat", &item);
    if (code)
        xs_value_set_str (rule, "code", code);
    if (desc_params)
        xs_value_set (rule, "params", &desc_params);
    item = xs_value_double_new (seconds);
    xs_value_set (rule, "seconds", &item);
    xs_value_set_str (rule, "when", when ? when : "before");
    xs_value_t *params = xs_value_array_new ();
    xs_value_append (params, &rule);
    xs_value_t *id = s_sim_control ("add_fault", params);
    xs_value_destroy (&id);
}

static void
s_sim_simple (const char *method)
{
    xs_value_t *result = s_sim_control (method, xs_value_array_new ());
    xs_value_destroy (&result);
}

/* How many times the simulator has run `method` (sim.counts). */
static int
s_sim_count (const char *method)
{
    xs_value_t *counts = s_sim_control ("counts", xs_value_array_new ());
    /* counts is a JSON object text: {"method": n, ...} */
    const char *text = xs_value_str (counts);
    assert_non_null (text);
    char key [128];
    snprintf (key, sizeof key, "\"%s\": ", method);
    const char *at = strstr (text, key);
    int n = at ? atoi (at + strlen (key)) : 0;
    xs_value_destroy (&counts);
    return n;
}

static int
s_faults_setup (void **state)
{
    s_sim_simple ("clear_faults");
    return 0;
}

static void
test_expired_session_is_renewed_once (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = s_sim_client ();
    char *before = strdup (xs_xenapi_session (client));
    int logins = s_sim_count ("session.login_with_password");
    s_sim_simple ("expire_sessions");

    xs_value_t *hosts = xs_xenapi_host_get_all (client, &err);
    if (!hosts)
        fail_msg ("host.get_all after expiry: %s", err.msg);
    assert_true (xs_value_size (hosts) >= 1);
    assert_string_not_equal (xs_xenapi_session (client), before);
    assert_int_equal (s_sim_count ("session.login_with_password"), logins + 1);
    xs_value_destroy (&hosts);

    /* session.get_this_host passes the session twice: both are the new one. */
    s_sim_simple ("expire_sessions");
    char *me = xs_xenapi_session_get_this_host (client, &err);
    if (!me)
        fail_msg ("session.get_this_host after expiry: %s", err.msg);
    free (me);
    free (before);
    xs_xenapi_destroy (&client);
}

static void
test_session_invalid_twice_is_an_error (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = s_sim_client ();
    int logins = s_sim_count ("session.login_with_password");
    int calls = s_sim_count ("SR.get_by_uuid");
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, "OpaqueRef:gone");
    s_sim_fault ("SR.get_by_uuid", "fail", 1, true, "SESSION_INVALID", params, 0, NULL);
    assert_null (xs_xenapi_sr_get_by_uuid (client, "whatever", &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (xs_xenapi_error_code (client), "SESSION_INVALID");
    assert_contains (err.msg, "SR.get_by_uuid: SESSION_INVALID [OpaqueRef:gone]");
    /* One re-login, one retry, no loop. */
    assert_int_equal (s_sim_count ("session.login_with_password"), logins + 1);
    assert_int_equal (s_sim_count ("SR.get_by_uuid"), calls + 2);
    xs_xenapi_destroy (&client);
}

static void
test_failed_relogin_is_reported (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = s_sim_client ();
    s_sim_simple ("expire_sessions");
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, "root");
    xs_value_append_str (params, "Authentication failure");
    s_sim_fault ("session.login_with_password", "fail", 1, false,
                 "SESSION_AUTHENTICATION_FAILED", params, 0, NULL);
    assert_null (xs_xenapi_pool_get_all (client, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (xs_xenapi_error_code (client), "SESSION_AUTHENTICATION_FAILED");
    assert_contains (err.msg, "pool.get_all: session expired and logging in again failed: "
                              "session.login_with_password: SESSION_AUTHENTICATION_FAILED");
    assert_null (strstr (err.msg, s_env ("XT_PASS")));
    assert_null (xs_xenapi_session (client));
    /* Next call: still no session, still the credentials: a clear error. */
    assert_null (xs_xenapi_pool_get_all (client, &err));
    assert_contains (err.msg, "not logged in");
    xs_xenapi_destroy (&client);
}

static void
test_injected_backend_failure_keeps_code_and_params (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = s_sim_client ();
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, "");
    xs_value_append_str (params, "NFS mount error");
    xs_value_append_str (params, "");
    s_sim_fault ("SR.create", "fail", 1, false, "SR_BACKEND_FAILURE_73", params, 0, NULL);
    xs_value_t *config = NULL;
    char *master = xs_xenapi_session_get_this_host (client, &err);
    config = xs_value_struct_new ();
    xs_value_set_str (config, "server", "nfs01");
    xs_value_set_str (config, "serverpath", "/x");
    xs_value_set_str (config, "password", "nfs-secret-never-shown");
    xs_xenapi_sr_args_t args = { .host = master, .device_config = config, .type = "nfs",
                                 .shared = true, .name_label = "fails" };
    assert_null (xs_xenapi_sr_create (client, &args, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (err.msg, "SR.create: SR_BACKEND_FAILURE_73 [, NFS mount error, ]");
    assert_string_equal (xs_xenapi_error_code (client), "SR_BACKEND_FAILURE_73");
    const xs_value_t *desc = xs_xenapi_error_params (client);
    assert_int_equal (xs_value_size (desc), 3);
    assert_string_equal (xs_xenapi_error_param (client, 0), "");
    assert_string_equal (xs_xenapi_error_param (client, 1), "NFS mount error");
    assert_string_equal (xs_xenapi_error_param (client, 2), "");
    /* The fault fired once: the same call now works. */
    char *sr = xs_xenapi_sr_create (client, &args, &err);
    if (!sr)
        fail_msg ("SR.create after the fault: %s", err.msg);
    assert_null (xs_xenapi_error_code (client));
    free (sr);
    free (master);
    xs_value_destroy (&config);
    xs_xenapi_destroy (&client);
}

static void
test_delay_over_the_timeout_says_timeout (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = s_sim_client ();
    long timeout_ms = atol (s_env ("XT_TIMEOUT_MS"));
    xs_xenapi_set_timeouts (client, 0, timeout_ms);
    s_sim_fault ("VDI.get_by_name_label", "delay", 1, false, NULL, NULL,
                 (double) timeout_ms / 1000.0 * 4, NULL);
    double start = s_now ();
    assert_null (xs_xenapi_vdi_get_by_name_label (client, "x", &err));
    double took = s_now () - start;
    assert_int_equal (err.kind, XS_ETRANSPORT);
    assert_contains (err.msg, "VDI.get_by_name_label: timeout after ");
    assert_contains (err.msg, xs_xenapi_url (client));
    assert_true (took < timeout_ms / 1000.0 * 3);
    /* The next call (no delay) works. */
    xs_value_t *none = xs_xenapi_vdi_get_by_name_label (client, "x", &err);
    if (!none)
        fail_msg ("after the timeout: %s", err.msg);
    xs_value_destroy (&none);
    xs_xenapi_destroy (&client);
}

static void
test_dropped_connection_is_reported_and_never_resent (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = s_sim_client ();
    xs_value_t *config = NULL;
    char *sr = s_create_nfs_sr (client, "drop-sr", &config);

    /* Dropped before the call ran. */
    s_sim_fault ("SR.scan", "drop", 1, false, NULL, NULL, 0, "before");
    assert_int_equal (xs_xenapi_sr_scan (client, sr, &err), -1);
    assert_int_equal (err.kind, XS_ETRANSPORT);
    assert_contains (err.msg, "SR.scan: cannot talk to ");
    assert_null (xs_xenapi_error_code (client));

    /* Dropped after VDI.create ran, on a kept-alive connection: the client
       reports the failure and never sends the create a second time. */
    int creates = s_sim_count ("VDI.create");
    xs_value_t *warm = xs_xenapi_host_get_all (client, &err);     /* connection reused next */
    assert_non_null (warm);
    xs_value_destroy (&warm);
    s_sim_fault ("VDI.create", "drop", 1, false, NULL, NULL, 0, "after");
    char label [64];
    snprintf (label, sizeof label, "dropped-reply-%ld", (long) getpid ());
    xs_xenapi_vdi_args_t args = { .sr = sr, .name_label = label, .virtual_size = 1 << 20 };
    assert_null (xs_xenapi_vdi_create (client, &args, &err));
    assert_int_equal (err.kind, XS_ETRANSPORT);
    assert_contains (err.msg, "VDI.create: cannot talk to ");
    assert_int_equal (s_sim_count ("VDI.create"), creates + 1);
    xs_value_t *made = xs_xenapi_vdi_get_by_name_label (client, label, &err);
    assert_non_null (made);
    assert_int_equal (xs_value_size (made), 1);
    xs_value_destroy (&made);
    xs_value_destroy (&config);
    free (sr);
    xs_xenapi_destroy (&client);
}

/* ================================================================== */

typedef struct {
    const char *name;
    const struct CMUnitTest *tests;
    size_t count;
} s_group_t;

#define S_GROUP(name, array) { name, array, sizeof array / sizeof array [0] }

int
main (int argc, char *argv [])
{
    static const struct CMUnitTest fake [] = {
        cmocka_unit_test (test_strings_and_maps_survive_another_codec),
        cmocka_unit_test (test_requests_carry_headers_and_reuse_the_connection),
        cmocka_unit_test (test_non_xml_reply_is_invalid),
        cmocka_unit_test (test_replies_that_are_not_xenapi_are_invalid),
        cmocka_unit_test (test_xmlrpc_fault_and_http_error_are_reported),
        cmocka_unit_test (test_failure_from_server_keeps_code_and_params),
        cmocka_unit_test (test_dropped_connection_is_a_transport_error),
        cmocka_unit_test (test_slow_server_times_out),
        cmocka_unit_test (test_huge_reply_is_refused),
    };
    static const struct CMUnitTest https [] = {
        cmocka_unit_test (test_https_verifies_certificates_by_default),
        cmocka_unit_test (test_https_insecure_flag_skips_verification),
        cmocka_unit_test (test_https_to_a_plain_http_server_fails_clearly),
    };
    static const struct CMUnitTest sim [] = {
        cmocka_unit_test (test_login_logout_and_bad_password),
        cmocka_unit_test (test_host_pool_and_session_helpers),
        cmocka_unit_test (test_generic_call_reaches_any_method),
        cmocka_unit_test (test_sm_records_list_capabilities),
        cmocka_unit_test (test_sr_and_pbd_helpers),
        cmocka_unit_test (test_sr_create_reports_backend_checks),
        cmocka_unit_test (test_vdi_helpers),
        cmocka_unit_test (test_borrowed_session_works_without_credentials),
    };
    static const struct CMUnitTest member [] = {
        cmocka_unit_test (test_login_to_member_follows_host_is_slave),
        cmocka_unit_test (test_borrowed_session_on_member_does_not_follow),
    };
    static const struct CMUnitTest faults [] = {
        cmocka_unit_test_setup (test_expired_session_is_renewed_once, s_faults_setup),
        cmocka_unit_test_setup (test_session_invalid_twice_is_an_error, s_faults_setup),
        cmocka_unit_test_setup (test_failed_relogin_is_reported, s_faults_setup),
        cmocka_unit_test_setup (test_injected_backend_failure_keeps_code_and_params, s_faults_setup),
        cmocka_unit_test_setup (test_delay_over_the_timeout_says_timeout, s_faults_setup),
        cmocka_unit_test_setup (test_dropped_connection_is_reported_and_never_resent, s_faults_setup),
    };
    static const s_group_t groups [] = {
        S_GROUP ("faults", faults),
        S_GROUP ("sim", sim),
        S_GROUP ("member", member),
        S_GROUP ("fake", fake),
        S_GROUP ("https", https),
    };
    xs_log_init ("itest_xenapi", false, getenv ("XT_DEBUG") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    for (size_t i = 0; argc == 2 && i < sizeof groups / sizeof groups [0]; i++)
        if (strcmp (argv [1], groups [i].name) == 0)
            return _cmocka_run_group_tests (groups [i].name, groups [i].tests, groups [i].count,
                                            NULL, NULL);
    fprintf (stderr, "usage: itest_xenapi <group>; groups:");
    for (size_t i = 0; i < sizeof groups / sizeof groups [0]; i++)
        fprintf (stderr, " %s", groups [i].name);
    fprintf (stderr, "\n");
    return 2;
}
