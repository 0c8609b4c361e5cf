/*  itest_xenapi, groups "fake" (a misbehaving XML-RPC server) and "https"
    (TLS with a self-signed certificate): see test_xenapi.c. */
#include "test_xenapi.h"

#include <curl/curl.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------------
   Group "fake": a misbehaving XML-RPC server (Python's xmlrpc)
   --------------------------------------------------------------------- */

static void
test_strings_and_maps_survive_another_codec (void **state)
{
    xs_xenapi_t *client = xt_fake_client ();
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
    xs_xenapi_t *client = xt_fake_client ();
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
    xs_xenapi_t *client = xt_fake_client ();
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
    xs_xenapi_t *client = xt_fake_client ();
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
    xs_xenapi_t *client = xt_fake_client ();
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
    xs_xenapi_t *client = xt_fake_client ();
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
    xs_xenapi_t *client = xt_fake_client ();
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
    xs_xenapi_t *client = xt_fake_client ();
    xs_err_t err;
    long timeout_ms = atol (xt_env ("XT_TIMEOUT_MS"));
    xs_xenapi_set_timeouts (client, 0, timeout_ms);
    double start = xt_now ();
    assert_null (xs_xenapi_call (client, "test.slow", NULL, &err));
    double took = xt_now () - start;
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
    xs_xenapi_t *client = xt_fake_client ();
    xs_err_t err;
    assert_null (xs_xenapi_call (client, "test.huge", NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_contains (err.msg, "test.huge: reply from");
    assert_contains (err.msg, "is larger than");
    xs_xenapi_destroy (&client);
}

/* ---------------------------------------------------------------------
   Group "https": TLS against a server with a self-signed cert
   --------------------------------------------------------------------- */

static void
test_https_verifies_certificates_by_default (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = xs_xenapi_new (xt_env ("XT_URL"), &err);
    assert_non_null (client);
    xs_xenapi_set_session (client, "OpaqueRef:fake-session");
    assert_null (xs_xenapi_call (client, "test.echo", NULL, &err));
    assert_int_equal (err.kind, XS_ETRANSPORT);
    assert_contains (err.msg, "test.echo: cannot talk to https://");
    assert_contains (err.msg, "certificate");

    /* With the CA file it verifies and works. */
    xs_xenapi_set_ca_file (client, xt_env ("XT_CA_FILE"));
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
    xs_xenapi_t *client = xs_xenapi_new (xt_env ("XT_URL"), &err);
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
    xs_xenapi_t *client = xs_xenapi_new (xt_env ("XT_PLAIN_AS_HTTPS_URL"), &err);
    assert_non_null (client);
    xs_xenapi_set_session (client, "OpaqueRef:fake-session");
    xs_xenapi_set_timeouts (client, 2000, 5000);
    assert_null (xs_xenapi_call (client, "test.echo", NULL, &err));
    assert_int_equal (err.kind, XS_ETRANSPORT);
    assert_contains (err.msg, "test.echo: cannot talk to https://");
    xs_xenapi_destroy (&client);
}

/* ---------------------------------------------------------------------
   The groups
   --------------------------------------------------------------------- */

static const struct CMUnitTest s_fake [] = {
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
const xt_group_t xt_fake_group = XT_GROUP ("fake", s_fake);

static const struct CMUnitTest s_https [] = {
    cmocka_unit_test (test_https_verifies_certificates_by_default),
    cmocka_unit_test (test_https_insecure_flag_skips_verification),
    cmocka_unit_test (test_https_to_a_plain_http_server_fails_clearly),
};
const xt_group_t xt_https_group = XT_GROUP ("https", s_https);
