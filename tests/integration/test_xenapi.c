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

#include <time.h>

#include "common/xs_log.h"
#include "common/xs_xenapi.h"

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
    xs_value_t *first = xs_xenapi_call (client, "test.headers", NULL, &err);
    if (!first)
        fail_msg ("test.headers: %s", err.msg);
    assert_contains (xs_value_get_str (first, "content_type"), "text/xml");
    assert_contains (xs_value_get_str (first, "user_agent"), "xensm/");
    assert_string_equal (xs_value_get_str (first, "path"), "/");
    xs_value_t *second = xs_xenapi_call (client, "test.headers", NULL, &err);
    assert_non_null (second);
    /* Keep-alive: both requests came on the same TCP connection. */
    assert_string_equal (xs_value_get_str (first, "peer"), xs_value_get_str (second, "peer"));
    xs_value_destroy (&first);
    xs_value_destroy (&second);

    xs_xenapi_set_user_agent (client, "probe/9");
    xs_value_t *third = xs_xenapi_call (client, "test.headers", NULL, &err);
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
    assert_true (xs_value_equal (xs_value_get (prec, "other_config"), other));
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
    xs_value_t *other = xs_value_struct_new ();
    xs_value_set_str (other, "xensm-volume", "6f1c0a8e-5d0b-4b9e-9f00-0123456789ab");
    xs_xenapi_vdi_args_t args = {
        .sr = sr, .name_label = "xensm-6f1c0a8e <&>", .name_description = "volume",
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
    assert_string_equal (xs_value_get_str (rec, "name_label"), "xensm-6f1c0a8e <&>");
    assert_string_equal (xs_value_get_str (rec, "type"), "user");
    assert_string_equal (xs_value_get_str (rec, "SR"), sr);
    assert_false (xs_value_bool (xs_value_get (rec, "read_only")));
    assert_true (xs_value_equal (xs_value_get (rec, "other_config"), other));
    char *uuid = strdup (xs_value_get_str (rec, "uuid"));
    char *again = xs_xenapi_vdi_get_by_uuid (client, uuid, &err);
    assert_non_null (again);
    assert_string_equal (again, vdi);
    xs_value_t *named = xs_xenapi_vdi_get_by_name_label (client, "xensm-6f1c0a8e <&>", &err);
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
    static const s_group_t groups [] = {
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
