/*  itest_xenapi, group "faults" (the simulator's fault injection and
    session expiry): see test_xenapi.c. */
#include "test_xenapi.h"

#include <curl/curl.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------------
   Group "faults": the simulator's fault injection and session expiry
   --------------------------------------------------------------------- */

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
    assert_int_equal (curl_easy_setopt (curl, CURLOPT_URL, xt_env ("XT_SIM_URL")), CURLE_OK);
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
    xs_xenapi_t *client = xt_sim_client ();
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

/* The master changed after login: every call, not only the login, follows
   HOST_IS_SLAVE [master address] (issue 11, audit P7): to that master, a new
   login, the call sent once more. Here the simulator's master answers one
   call as a demoted master would, naming the master's address (its own). */
static void
test_host_is_slave_is_followed_on_any_call (void **state)
{
    if (strncmp (xt_env ("XT_URL"), "unix:", 5) == 0)
        skip ();            /* a local socket forwards: never HOST_IS_SLAVE */
    xs_err_t err;
    xs_xenapi_t *client = xt_sim_client ();
    int logins = s_sim_count ("session.login_with_password");
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, "127.0.0.1");
    s_sim_fault ("pool.get_all", "fail", 1, false, "HOST_IS_SLAVE", params, 0, NULL);
    xs_value_t *pools = xs_xenapi_pool_get_all (client, &err);
    if (!pools)
        fail_msg ("pool.get_all after HOST_IS_SLAVE: %s", err.msg);
    assert_int_equal (xs_value_size (pools), 1);
    assert_int_equal (s_sim_count ("session.login_with_password"), logins + 1);
    xs_value_destroy (&pools);

    /* Followed once per call: a master that keeps answering HOST_IS_SLAVE
       is an error, not a loop. */
    params = xs_value_array_new ();
    xs_value_append_str (params, "127.0.0.1");
    s_sim_fault ("pool.get_all", "fail", 1, true, "HOST_IS_SLAVE", params, 0, NULL);
    assert_null (xs_xenapi_pool_get_all (client, &err));
    assert_string_equal (xs_xenapi_error_code (client), "HOST_IS_SLAVE");
    xs_xenapi_destroy (&client);
}

/* Async.* and its task (issue 11, audit P6): the result of the task, its
   failure as if the call had failed, and on the deadline task.cancel with
   what xapi finally did. */
static void
test_async_call_follows_its_task (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = xt_sim_client ();
    xs_value_t *config = NULL;
    char *sr = xt_create_nfs_sr (client, "async", &config);
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, sr);

    xs_xenapi_task_t task = { .deadline_ms = 10000, .tag = "volume 1" };
    xs_value_t *value = xs_xenapi_call_async (client, "SR.scan", params, &task, &err);
    if (!value)
        fail_msg ("Async.SR.scan: %s", err.msg);
    assert_string_equal (task.status, "success");
    assert_false (task.cancelled);
    assert_string_equal (xs_value_str (value), "");
    xs_value_destroy (&value);

    /* A ref as the task's result: Async.VDI.create's new VDI. */
    xs_value_t *record = xs_value_struct_new ();
    xs_value_set_str (record, "name_label", "async vdi");
    xs_value_set_str (record, "name_description", "");
    xs_value_set_str (record, "SR", sr);
    xs_value_set_str (record, "virtual_size", "1048576");
    xs_value_set_str (record, "type", "user");
    xs_value_t *item = xs_value_bool_new (false);
    xs_value_set (record, "sharable", &item);
    item = xs_value_bool_new (false);
    xs_value_set (record, "read_only", &item);
    const char *maps [] = { "other_config", "xenstore_data", "sm_config" };
    for (size_t i = 0; i < 3; i++) {
        item = xs_value_struct_new ();
        xs_value_set (record, maps [i], &item);
    }
    item = xs_value_array_new ();
    xs_value_set (record, "tags", &item);
    xs_value_t *vdi_params = xs_value_array_new ();
    xs_value_append (vdi_params, &record);
    value = xs_xenapi_call_async (client, "VDI.create", vdi_params, &task, &err);
    if (!value)
        fail_msg ("Async.VDI.create: %s", err.msg);
    assert_contains (xs_value_str (value), "OpaqueRef:");
    assert_int_equal (xs_xenapi_vdi_destroy (client, xs_value_str (value), &err), 0);
    xs_value_destroy (&value);
    xs_value_destroy (&vdi_params);

    /* The task fails: its error as the call's. */
    xs_value_t *desc = xs_value_array_new ();
    xs_value_append_str (desc, "");
    xs_value_append_str (desc, "The SR scan failed");
    xs_value_append_str (desc, "");
    s_sim_fault ("SR.scan", "fail", 1, false, "SR_BACKEND_FAILURE_40", desc, 0, NULL);
    assert_null (xs_xenapi_call_async (client, "SR.scan", params, &task, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (xs_xenapi_error_code (client), "SR_BACKEND_FAILURE_40");
    assert_string_equal (task.status, "failure");
    assert_contains (err.msg, "SR.scan: SR_BACKEND_FAILURE_40 [, The SR scan failed, ]");

    /* Over the deadline: cancelled, and reported as such. */
    s_sim_fault ("SR.scan", "delay", 1, false, NULL, NULL, 10.0, "before");
    task.deadline_ms = 300;
    double start = xt_now ();
    assert_null (xs_xenapi_call_async (client, "SR.scan", params, &task, &err));
    assert_true (task.cancelled);
    assert_string_equal (task.status, "cancelled");
    assert_string_equal (xs_xenapi_error_code (client), "TASK_CANCELLED");
    assert_true (xt_now () - start < 5.0);

    /* Over the deadline but the cancel comes too late: xapi's result kept. */
    s_sim_fault ("SR.scan", "delay", 1, false, NULL, NULL, 1.0, "after");
    value = xs_xenapi_call_async (client, "SR.scan", params, &task, &err);
    if (!value)
        fail_msg ("Async.SR.scan, cancel too late: %s", err.msg);
    assert_true (task.cancelled);
    assert_string_equal (task.status, "success");
    xs_value_destroy (&value);

    xs_value_destroy (&params);
    xs_value_destroy (&config);
    free (sr);
    xs_xenapi_destroy (&client);
}

static void
test_session_invalid_twice_is_an_error (void **state)
{
    xs_err_t err;
    xs_xenapi_t *client = xt_sim_client ();
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
    xs_xenapi_t *client = xt_sim_client ();
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
    assert_null (strstr (err.msg, xt_env ("XT_PASS")));
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
    xs_xenapi_t *client = xt_sim_client ();
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
    xs_xenapi_t *client = xt_sim_client ();
    long timeout_ms = atol (xt_env ("XT_TIMEOUT_MS"));
    xs_xenapi_set_timeouts (client, 0, timeout_ms);
    s_sim_fault ("VDI.get_by_name_label", "delay", 1, false, NULL, NULL,
                 (double) timeout_ms / 1000.0 * 4, NULL);
    double start = xt_now ();
    assert_null (xs_xenapi_vdi_get_by_name_label (client, "x", &err));
    double took = xt_now () - start;
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
    xs_xenapi_t *client = xt_sim_client ();
    xs_value_t *config = NULL;
    char *sr = xt_create_nfs_sr (client, "drop-sr", &config);

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

/* ---------------------------------------------------------------------
   The group
   --------------------------------------------------------------------- */

static const struct CMUnitTest s_faults [] = {
    cmocka_unit_test_setup (test_expired_session_is_renewed_once, s_faults_setup),
    cmocka_unit_test_setup (test_session_invalid_twice_is_an_error, s_faults_setup),
    cmocka_unit_test_setup (test_host_is_slave_is_followed_on_any_call, s_faults_setup),
    cmocka_unit_test_setup (test_async_call_follows_its_task, s_faults_setup),
    cmocka_unit_test_setup (test_failed_relogin_is_reported, s_faults_setup),
    cmocka_unit_test_setup (test_injected_backend_failure_keeps_code_and_params, s_faults_setup),
    cmocka_unit_test_setup (test_delay_over_the_timeout_says_timeout, s_faults_setup),
    cmocka_unit_test_setup (test_dropped_connection_is_reported_and_never_resent, s_faults_setup),
};
const xt_group_t xt_faults_group = XT_GROUP ("faults", s_faults);
