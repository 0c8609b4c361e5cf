/*  itest_xenapi, groups "sim" (every helper against the xapi simulator) and
    "member" (logging in to a pool member): see test_xenapi.c. */
#include "test_xenapi.h"

#include <curl/curl.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------------
   Group "sim": every helper against the xapi simulator
   --------------------------------------------------------------------- */


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
    xs_xenapi_t *client = xt_sim_client ();
    char *session = strdup (xs_xenapi_session (client));
    assert_contains (session, "OpaqueRef:");
    assert_string_equal (xs_xenapi_url (client), xt_env ("XT_URL"));
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

    if (strncmp (xt_env ("XT_URL"), "unix:", 5) == 0) {
        /* xapi's local socket: a login there is pre-authenticated as root
           (xapi_session.ml, Context.preauth): no password is checked. */
        if (xs_xenapi_login (client, xt_env ("XT_USER"), "not-the-password", &err))
            fail_msg ("a local login failed: %s", err.msg);
        assert_contains (xs_xenapi_session (client), "OpaqueRef:");
        xs_xenapi_destroy (&client);
        return;
    }
    assert_int_equal (xs_xenapi_login (client, xt_env ("XT_USER"), "not-the-password", &err), -1);
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
    xs_xenapi_t *client = xt_sim_client ();
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
    /* The session's host: the master over TCP; over a host's unix socket
       that host, member or master (a local login is not forwarded). */
    char *this_host = xs_xenapi_session_get_this_host (client, &err);
    if (!this_host)
        fail_msg ("session.get_this_host: %s", err.msg);
    xs_value_t *this_rec = xs_xenapi_host_get_record (client, this_host, &err);
    assert_non_null (this_rec);
    assert_string_equal (xs_value_get_str (this_rec, "uuid"), xt_env ("XT_HOST_UUID"));
    xs_value_destroy (&this_rec);
    if (strncmp (xt_env ("XT_URL"), "unix:", 5) != 0)
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
    xs_xenapi_t *client = xt_sim_client ();
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
    xs_xenapi_t *client = xt_sim_client ();
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

/* A shared SR has one PBD per host, each with our device_config. Returns
   the PBDs (caller destroys). */
static xs_value_t *
s_check_shared_pbds (xs_xenapi_t *client, const char *sr, const xs_value_t *config)
{
    xs_err_t err;
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
    xs_value_destroy (&hosts);
    return pbds;
}

/* Detach: unplug and destroy every PBD, then forget. */
static void
s_detach (xs_xenapi_t *client, const char *sr, const char *uuid, const xs_value_t *pbds)
{
    xs_err_t err;
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
}

/* Attach again: introduce by uuid, PBD for this host, plug; then probe. */
static void
s_attach_again (xs_xenapi_t *client, const char *uuid, const xs_value_t *config)
{
    xs_err_t err;
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
}

static void
test_sr_and_pbd_helpers (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = xt_sim_client ();
    xs_value_t *config = NULL;
    char *sr = xt_create_nfs_sr (client, "xensm-sr-<1>", &config);

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

    xs_value_t *pbds = s_check_shared_pbds (client, sr, config);
    s_detach (client, sr, uuid, pbds);
    s_attach_again (client, uuid, config);

    free (uuid);
    xs_value_destroy (&pbds);
    xs_value_destroy (&config);
    free (sr);
    xs_xenapi_destroy (&client);
}

static void
test_sr_create_reports_backend_checks (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = xt_sim_client ();
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
    xs_xenapi_t *client = xt_sim_client ();
    xs_value_t *config = NULL;
    char *sr = xt_create_nfs_sr (client, "xensm-vdi-sr", &config);
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
    xs_xenapi_t *owner = xt_sim_client ();
    xs_xenapi_t *borrower = xs_xenapi_new (xt_env ("XT_URL"), &err);
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
    borrower = xs_xenapi_new (xt_env ("XT_URL"), &err);
    xs_xenapi_set_session (borrower, session);
    assert_null (xs_xenapi_host_get_all (borrower, &err));
    assert_string_equal (xs_xenapi_error_code (borrower), "SESSION_INVALID");
    xs_xenapi_destroy (&borrower);
    free (session);
}

/* ---------------------------------------------------------------------
   Group "member": logging in to a pool member
   --------------------------------------------------------------------- */

static void
test_login_to_member_follows_host_is_slave (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = xs_xenapi_new (xt_env ("XT_MEMBER_URL"), &err);
    assert_non_null (client);
    if (xs_xenapi_login (client, xt_env ("XT_USER"), xt_env ("XT_PASS"), &err))
        fail_msg ("login via member %s: %s", xt_env ("XT_MEMBER_URL"), err.msg);
    /* Now talking to the master. */
    assert_string_equal (xs_xenapi_url (client), xt_env ("XT_URL"));
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
    xs_xenapi_t *client = xs_xenapi_new (xt_env ("XT_MEMBER_URL"), &err);
    xs_xenapi_set_session (client, "OpaqueRef:not-a-session");
    assert_null (xs_xenapi_host_get_all (client, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (xs_xenapi_error_code (client), "SESSION_INVALID");
    assert_string_equal (xs_xenapi_url (client), xt_env ("XT_MEMBER_URL"));
    xs_xenapi_destroy (&client);
}

/* ---------------------------------------------------------------------
   The groups
   --------------------------------------------------------------------- */

static const struct CMUnitTest s_sim [] = {
    cmocka_unit_test (test_login_logout_and_bad_password),
    cmocka_unit_test (test_host_pool_and_session_helpers),
    cmocka_unit_test (test_generic_call_reaches_any_method),
    cmocka_unit_test (test_sm_records_list_capabilities),
    cmocka_unit_test (test_sr_and_pbd_helpers),
    cmocka_unit_test (test_sr_create_reports_backend_checks),
    cmocka_unit_test (test_vdi_helpers),
    cmocka_unit_test (test_borrowed_session_works_without_credentials),
};
const xt_group_t xt_sim_group = XT_GROUP ("sim", s_sim);

static const struct CMUnitTest s_member [] = {
    cmocka_unit_test (test_login_to_member_follows_host_is_slave),
    cmocka_unit_test (test_borrowed_session_on_member_does_not_follow),
};
const xt_group_t xt_member_group = XT_GROUP ("member", s_member);
