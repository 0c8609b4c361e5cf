/*  Unit tests for xs_xenapi that need no xapi: URL handling, following a
    master, error formatting, argument checks and transport failures against
    closed ports and missing sockets. The client against the simulator is
    tested in tests/integration/test_xenapi.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* The client's three files, to reach their internals. */
#include "host/xs_xenapi_http.c"
#include "host/xs_xenapi.c"
#include "host/xs_xenapi_calls.c"
#include "host/xs_xenapi_task.c"

/* A 127.0.0.1 port nobody listens on (bound, then closed). */
static int
s_closed_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (fd >= 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = 0 };
    sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    assert_int_equal (bind (fd, (struct sockaddr *) &sin, sizeof sin), 0);
    socklen_t len = sizeof sin;
    assert_int_equal (getsockname (fd, (struct sockaddr *) &sin, &len), 0);
    close (fd);
    return ntohs (sin.sin_port);
}

/* ---------------------------------------------------------------------
   URLs
   --------------------------------------------------------------------- */

static void
test_good_urls_are_accepted (void **state)
{
    static const struct { const char *in, *url, *request, *socket; } cases [] = {
        { "http://127.0.0.1:8080/", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/", NULL },
        { "https://xs01.example.com", "https://xs01.example.com/", "https://xs01.example.com/", NULL },
        { "http://[fd00::1]:80/", "http://[fd00::1]:80/", "http://[fd00::1]:80/", NULL },
        { "unix:/var/lib/xcp/xapi", "unix:/var/lib/xcp/xapi", "http://localhost/", "/var/lib/xcp/xapi" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        xs_err_t err;
        xs_err_clear (&err);
        xs_xenapi_t *self = xs_xenapi_new (cases [i].in, &err);
        assert_non_null (self);
        assert_string_equal (xs_xenapi_url (self), cases [i].url);
        assert_string_equal (self->http->request_url, cases [i].request);
        if (cases [i].socket)
            assert_string_equal (self->http->socket_path, cases [i].socket);
        else
            assert_null (self->http->socket_path);
        assert_null (xs_xenapi_session (self));
        assert_int_equal (self->http->connect_ms, XS_XENAPI_CONNECT_TIMEOUT_MS);
        assert_int_equal (self->http->total_ms, XS_XENAPI_TIMEOUT_MS);
        xs_xenapi_destroy (&self);
        assert_null (self);
        xs_xenapi_destroy (&self);          /* idempotent */
    }
}

static void
test_bad_urls_are_refused_clearly (void **state)
{
    static const struct { const char *url, *says; } cases [] = {
        { "", "empty" },
        { "ftp://host/", "scheme must be http, https or unix" },
        { "xs01:443", "use http://host[:port]/" },
        { "http://", "xapi URL http://" },
        { "http://host/?a=b", "query or fragment" },
        { "http://host/#frag", "query or fragment" },
        { "unix:var/lib/xcp/xapi", "must be absolute" },
        { "unix:", "must be absolute" },
        { "http://host:99999/", "xapi URL http://host:99999/" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        xs_err_t err;
        xs_err_clear (&err);
        assert_null (xs_xenapi_new (cases [i].url, &err));
        assert_int_equal (err.kind, XS_EINVAL);
        if (!strstr (err.msg, cases [i].says))
            fail_msg ("URL '%s': message '%s' lacks '%s'", cases [i].url, err.msg, cases [i].says);
    }
    xs_err_t err;
    assert_null (xs_xenapi_new (NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
}

static void
test_url_with_credentials_is_refused_without_echoing_them (void **state)
{
    xs_err_t err;
    assert_null (xs_xenapi_new ("https://root:s3cr3t@xs01/", &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "credentials"));
    assert_non_null (strstr (err.msg, "xs01"));
    assert_null (strstr (err.msg, "s3cr3t"));
    assert_null (strstr (err.msg, "root"));
}

static void
test_long_unix_socket_path_is_refused (void **state)
{
    char url [300] = "unix:/";
    memset (url + 6, 'a', 200);
    url [206] = '\0';
    xs_err_t err;
    assert_null (xs_xenapi_new (url, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "socket path longer than"));
}

/* ---------------------------------------------------------------------
   Following a pool master
   --------------------------------------------------------------------- */

static void
s_check_follow (const char *from, const char *master, const char *expect)
{
    xs_err_t err;
    xs_err_clear (&err);
    xs_xenapi_t *self = xs_xenapi_new (from, &err);
    assert_non_null (self);
    if (xs_http_follow_master (self->http, master, &err))
        fail_msg ("follow %s from %s: %s", master, from, err.msg);
    assert_string_equal (xs_xenapi_url (self), expect);
    assert_string_equal (self->http->request_url, expect);
    assert_null (self->http->socket_path);
    xs_xenapi_destroy (&self);
}

static void
test_follow_master_replaces_host_and_port (void **state)
{
    s_check_follow ("http://127.0.0.1:4001/", "127.0.0.1:4002", "http://127.0.0.1:4002/");
    s_check_follow ("https://10.0.0.1/", "10.0.0.2", "https://10.0.0.2/");
    /* No port in the address: the URL's port stays. */
    s_check_follow ("http://10.0.0.1:8080/", "10.0.0.2", "http://10.0.0.2:8080/");
    s_check_follow ("https://member.example/xapi", "master.example:8443",
                    "https://master.example:8443/xapi");
    /* IPv6, bare or bracketed. */
    s_check_follow ("https://10.0.0.1/", "fd00::2", "https://[fd00::2]/");
    s_check_follow ("http://[fd00::1]:80/", "[fd00::2]:81", "http://[fd00::2]:81/");
    /* From the local socket the master is reached over https. */
    s_check_follow ("unix:/var/lib/xcp/xapi", "10.0.0.9", "https://10.0.0.9/");
}

static void
test_follow_master_refuses_bad_addresses (void **state)
{
    static const char *bad [] = { "", "10.0.0.2/evil", "user@10.0.0.2", "10.0.0.2:notaport",
                                  "10.0.0.2?x",
                                  "10.0.0.2#x", "10.0.0.2 x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        xs_err_t err;
        xs_xenapi_t *self = xs_xenapi_new ("http://10.0.0.1:80/", &err);
        assert_non_null (self);
        if (xs_http_follow_master (self->http, bad [i], &err) == 0)
            fail_msg ("master address '%s' accepted as %s", bad [i], xs_xenapi_url (self));
        assert_int_equal (err.kind, XS_EINVAL);
        assert_non_null (strstr (err.msg, "HOST_IS_SLAVE"));
        assert_string_equal (xs_xenapi_url (self), "http://10.0.0.1:80/");
        xs_xenapi_destroy (&self);
    }
    xs_err_t err;
    xs_xenapi_t *self = xs_xenapi_new ("http://10.0.0.1:80/", &err);
    assert_int_equal (xs_http_follow_master (self->http, NULL, &err), -1);
    xs_xenapi_destroy (&self);
}

/* ---------------------------------------------------------------------
   XenAPI failures
   --------------------------------------------------------------------- */

static xs_value_t *
s_desc (const char *first, ...)
{
    xs_value_t *desc = xs_value_array_new ();
    va_list ap;
    va_start (ap, first);
    for (const char *item = first; item; item = va_arg (ap, const char *))
        xs_value_append_str (desc, item);
    va_end (ap);
    return desc;
}

static void
test_failure_keeps_code_params_and_reads_well (void **state)
{
    xs_err_t err;
    xs_xenapi_t *self = xs_xenapi_new ("http://127.0.0.1:1/", &err);
    xs_value_t *desc = s_desc ("SR_BACKEND_FAILURE_73", "", "NFS mount error", "", NULL);
    assert_null (s_failure (self, "SR.create", desc, NULL, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (err.msg, "SR.create: SR_BACKEND_FAILURE_73 [, NFS mount error, ]");
    assert_string_equal (xs_xenapi_error_code (self), "SR_BACKEND_FAILURE_73");
    assert_int_equal (xs_value_size (xs_xenapi_error_params (self)), 3);
    assert_string_equal (xs_xenapi_error_param (self, 1), "NFS mount error");
    assert_null (xs_xenapi_error_param (self, 3));
    xs_value_destroy (&desc);

    /* Not-found codes get their own kind. */
    s_clear_xapi_error (self);
    desc = s_desc ("UUID_INVALID", "SR", "0000", NULL);
    s_failure (self, "SR.get_by_uuid", desc, NULL, &err);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "SR.get_by_uuid: UUID_INVALID [SR, 0000]");
    xs_value_destroy (&desc);

    /* No params. */
    s_clear_xapi_error (self);
    desc = s_desc ("SR_FULL", NULL);
    s_failure (self, "VDI.create", desc, NULL, &err);
    assert_string_equal (err.msg, "VDI.create: SR_FULL []");
    assert_non_null (xs_xenapi_error_params (self));
    assert_int_equal (xs_value_size (xs_xenapi_error_params (self)), 0);
    xs_value_destroy (&desc);
    xs_xenapi_destroy (&self);
}

static void
test_failure_never_shows_the_session_ref (void **state)
{
    xs_err_t err;
    xs_xenapi_t *self = xs_xenapi_new ("http://127.0.0.1:1/", &err);
    const char *ref = "OpaqueRef:3f1b7a3e-0f7c-4f43-9a41-6c6b6a1f0e11";
    xs_value_t *desc = s_desc ("SESSION_INVALID", ref, NULL);
    s_failure (self, "VDI.get_record", desc, ref, &err);
    assert_null (strstr (err.msg, ref));
    assert_null (strstr (err.msg, "3f1b7a3e"));
    assert_string_equal (err.msg, "VDI.get_record: SESSION_INVALID [(session ref)]");
    /* ... but the caller can still read the param. */
    assert_string_equal (xs_xenapi_error_param (self, 0), ref);
    xs_value_destroy (&desc);
    xs_xenapi_destroy (&self);
}

static void
test_malformed_failure_is_invalid (void **state)
{
    xs_err_t err;
    xs_xenapi_t *self = xs_xenapi_new ("http://127.0.0.1:1/", &err);
    xs_value_t *desc = xs_value_array_new ();
    s_failure (self, "SR.scan", desc, NULL, &err);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "SR.scan: malformed reply"));
    assert_null (xs_xenapi_error_code (self));
    xs_value_destroy (&desc);
    desc = xs_value_string_new ("SR_FULL");
    s_failure (self, "SR.scan", desc, NULL, &err);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_null (xs_xenapi_error_code (self));
    xs_value_destroy (&desc);
    s_failure (self, "SR.scan", NULL, NULL, &err);
    assert_int_equal (err.kind, XS_EINVAL);
    xs_xenapi_destroy (&self);
}

static void
test_long_failure_message_is_truncated_safely (void **state)
{
    xs_err_t err;
    xs_xenapi_t *self = xs_xenapi_new ("http://127.0.0.1:1/", &err);
    char big [3000];
    memset (big, 'x', sizeof big - 1);
    big [sizeof big - 1] = '\0';
    xs_value_t *desc = s_desc ("SR_BACKEND_FAILURE_1", big, big, NULL);
    s_failure (self, "SR.create", desc, NULL, &err);
    assert_int_equal (err.kind, XS_EXAPI);
    assert_true (strlen (err.msg) < XS_ERR_MSG_MAX);
    assert_non_null (strstr (err.msg, "SR.create: SR_BACKEND_FAILURE_1 [xxx"));
    assert_string_equal (xs_xenapi_error_param (self, 1), big);
    xs_value_destroy (&desc);
    xs_xenapi_destroy (&self);
}

/* ---------------------------------------------------------------------
   Reading records
   --------------------------------------------------------------------- */

static void
test_field_int64_reads_strings_and_ints (void **state)
{
    xs_value_t *rec = xs_value_struct_new ();
    xs_value_set_str (rec, "physical_size", "107374182400");
    xs_value_set_str (rec, "negative", "-1");
    xs_value_t *n = xs_value_int_new (42);
    xs_value_set (rec, "as_int", &n);
    xs_value_set_str (rec, "junk", "12abc");
    xs_value_set_str (rec, "empty", "");
    xs_value_set_str (rec, "huge", "99999999999999999999999");
    n = xs_value_bool_new (true);
    xs_value_set (rec, "flag", &n);

    int64_t v = 0;
    xs_err_t err;
    assert_int_equal (xs_xenapi_field_int64 (rec, "physical_size", &v, &err), 0);
    assert_true (v == INT64_C (107374182400));
    assert_int_equal (xs_xenapi_field_int64 (rec, "negative", &v, &err), 0);
    assert_true (v == -1);
    assert_int_equal (xs_xenapi_field_int64 (rec, "as_int", &v, &err), 0);
    assert_true (v == 42);
    static const char *bad [] = { "junk", "empty", "huge", "flag", "missing" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        v = 7;
        assert_int_equal (xs_xenapi_field_int64 (rec, bad [i], &v, &err), -1);
        assert_int_equal (err.kind, XS_EINVAL);
        assert_non_null (strstr (err.msg, bad [i]));
        assert_true (v == 7);
    }
    assert_int_equal (xs_xenapi_field_int64 (NULL, "x", &v, &err), -1);
    xs_value_destroy (&rec);
}

/* ---------------------------------------------------------------------
   Calls that fail before or at the network
   --------------------------------------------------------------------- */

static void
test_call_without_session_is_refused (void **state)
{
    xs_err_t err;
    xs_xenapi_t *self = xs_xenapi_new ("http://127.0.0.1:1/", &err);
    assert_null (xs_xenapi_host_get_all (self, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_string_equal (err.msg, "host.get_all: not logged in to http://127.0.0.1:1/");
    assert_null (xs_xenapi_call (self, NULL, NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    /* logout without a session is a no-op */
    assert_int_equal (xs_xenapi_logout (self, &err), 0);
    xs_xenapi_destroy (&self);
}

static void
test_bad_arguments_fail_before_the_network (void **state)
{
    xs_err_t err;
    /* A closed port: reaching the network would be a transport error. */
    char url [64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/", s_closed_port ());
    xs_xenapi_t *self = xs_xenapi_new (url, &err);
    xs_xenapi_set_session (self, "OpaqueRef:borrowed");
    assert_string_equal (xs_xenapi_session (self), "OpaqueRef:borrowed");

    xs_value_t *config = xs_value_struct_new ();
    xs_value_set_str (config, "server", "nfs01");
    xs_value_t *n = xs_value_int_new (3);
    xs_value_set (config, "nfsversion", &n);
    xs_xenapi_sr_args_t sr = { .host = "OpaqueRef:h", .device_config = config, .type = "nfs" };
    assert_null (xs_xenapi_sr_create (self, &sr, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_string_equal (err.msg, "SR.create: device_config key 'nfsversion' is not a string");
    assert_null (xs_xenapi_sr_probe (self, &sr, &err));
    assert_int_equal (err.kind, XS_EINVAL);

    xs_xenapi_vdi_args_t vdi = { .sr = "OpaqueRef:sr", .virtual_size = 1, .sm_config = config };
    assert_null (xs_xenapi_vdi_create (self, &vdi, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "VDI.create: sm_config"));
    xs_value_t *list = xs_value_array_new ();
    assert_null (xs_xenapi_pbd_create (self, "h", "s", list, NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_null (xs_xenapi_vdi_clone (self, "v", list, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    sr.device_config = NULL;
    sr.sm_config = list;
    assert_null (xs_xenapi_sr_introduce (self, &sr, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    /* params must be an array */
    assert_null (xs_xenapi_call (self, "VDI.get_record", config, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    /* Text XML cannot carry is refused with a clear error, not sent. */
    xs_xenapi_sr_args_t ctl = { .host = "OpaqueRef:h", .name_label = "bad\001label", .type = "nfs" };
    assert_null (xs_xenapi_sr_create (self, &ctl, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "SR.create: "));
    assert_non_null (strstr (err.msg, "U+0001"));
    /* ... and never echoes a password. */
    assert_int_equal (xs_xenapi_login (self, "root", "sec\002ret", &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "session.login_with_password: "));
    assert_null (strstr (err.msg, "ret"));
    xs_value_destroy (&list);
    xs_value_destroy (&config);
    xs_xenapi_destroy (&self);
}

static void
test_closed_port_is_a_transport_error_naming_the_url (void **state)
{
    char url [64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/", s_closed_port ());
    xs_err_t err;
    xs_xenapi_t *self = xs_xenapi_new (url, &err);
    assert_int_equal (xs_xenapi_login (self, "root", "pw-never-shown", &err), -1);
    assert_int_equal (err.kind, XS_ETRANSPORT);
    assert_non_null (strstr (err.msg, "session.login_with_password"));
    assert_non_null (strstr (err.msg, url));
    assert_null (strstr (err.msg, "pw-never-shown"));
    assert_null (xs_xenapi_error_code (self));
    /* A failed login keeps no credentials and no session. */
    assert_null (self->uname);
    assert_null (self->pwd);
    assert_null (xs_xenapi_session (self));

    /* Borrowed session: the call fails the same way. */
    xs_xenapi_set_session (self, "OpaqueRef:abc");
    assert_null (xs_xenapi_sm_get_all_records (self, &err));
    assert_int_equal (err.kind, XS_ETRANSPORT);
    assert_non_null (strstr (err.msg, "SM.get_all_records: cannot talk to"));
    assert_null (strstr (err.msg, "OpaqueRef:abc"));
    xs_xenapi_destroy (&self);
}

static void
test_missing_unix_socket_is_a_transport_error (void **state)
{
    xs_err_t err;
    xs_xenapi_t *self = xs_xenapi_new ("unix:/nonexistent/xensm/xapi", &err);
    assert_non_null (self);
    xs_xenapi_set_timeouts (self, 2000, 5000);
    assert_int_equal (self->http->connect_ms, 2000);
    assert_int_equal (self->http->total_ms, 5000);
    xs_xenapi_set_session (self, "OpaqueRef:abc");
    assert_null (xs_xenapi_host_get_all (self, &err));
    assert_int_equal (err.kind, XS_ETRANSPORT);
    assert_non_null (strstr (err.msg, "unix:/nonexistent/xensm/xapi"));
    xs_xenapi_set_timeouts (self, 0, -1);
    assert_int_equal (self->http->connect_ms, XS_XENAPI_CONNECT_TIMEOUT_MS);
    assert_int_equal (self->http->total_ms, XS_XENAPI_TIMEOUT_MS);
    xs_xenapi_destroy (&self);
}

static void
test_options_are_kept (void **state)
{
    xs_err_t err;
    xs_xenapi_t *self = xs_xenapi_new ("https://xs01/", &err);
    xs_xenapi_set_ca_file (self, "/etc/xensm/ca.pem");
    assert_string_equal (self->http->ca_file, "/etc/xensm/ca.pem");
    xs_xenapi_set_ca_file (self, NULL);
    assert_null (self->http->ca_file);
    xs_xenapi_set_user_agent (self, "probe/1");
    assert_string_equal (self->http->user_agent, "probe/1");
    xs_xenapi_set_user_agent (self, NULL);
    assert_null (self->http->user_agent);
    assert_false (self->http->insecure);
    xs_xenapi_set_insecure (self, true);
    assert_true (self->http->insecure);
    /* set_session forgets credentials */
    self->uname = xs_strdup ("root");
    self->pwd = xs_strdup ("pw");
    xs_xenapi_set_session (self, "OpaqueRef:x");
    assert_null (self->uname);
    assert_null (self->pwd);
    assert_false (self->own_session);
    xs_xenapi_set_session (self, NULL);
    assert_null (xs_xenapi_session (self));
    xs_xenapi_destroy (&self);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_good_urls_are_accepted),
        cmocka_unit_test (test_bad_urls_are_refused_clearly),
        cmocka_unit_test (test_url_with_credentials_is_refused_without_echoing_them),
        cmocka_unit_test (test_long_unix_socket_path_is_refused),
        cmocka_unit_test (test_follow_master_replaces_host_and_port),
        cmocka_unit_test (test_follow_master_refuses_bad_addresses),
        cmocka_unit_test (test_failure_keeps_code_params_and_reads_well),
        cmocka_unit_test (test_failure_never_shows_the_session_ref),
        cmocka_unit_test (test_malformed_failure_is_invalid),
        cmocka_unit_test (test_long_failure_message_is_truncated_safely),
        cmocka_unit_test (test_field_int64_reads_strings_and_ints),
        cmocka_unit_test (test_call_without_session_is_refused),
        cmocka_unit_test (test_bad_arguments_fail_before_the_network),
        cmocka_unit_test (test_closed_port_is_a_transport_error_naming_the_url),
        cmocka_unit_test (test_missing_unix_socket_is_a_transport_error),
        cmocka_unit_test (test_options_are_kept),
    };
    xs_log_init ("test_xenapi", false, XS_LOG_ERROR);
    return cmocka_run_group_tests (tests, NULL, NULL);
}
