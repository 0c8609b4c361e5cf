/*  Unit tests of xs_plugin: the xapi plugin protocol, the function table's
    argument checks, and handing the functions that call xapi to the helper
    (a stub here; the real helper is tested in test_plugin_helper.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "xe-plugin/xs_plugin.h"
#include "common/xs_value.h"
#include "common/xs_xmlrpc.h"
#include "xs_build_config.h"

#define SESSION "OpaqueRef:2b1a4c5e-0000-4000-8000-000000000001"
#define UUID_A  "0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
#define UUID_B  "1a2b3c4d-5e6f-4708-9a0b-1c2d3e4f5a6b"

/* ---------------------------------------------------------------------
   What the stub helper saw
   --------------------------------------------------------------------- */
static char s_seen_function [64];
static char s_seen_url [256];
static char s_seen_session [128];
static json_t *s_seen_args;
static int s_stub_calls;
static const char *s_stub_fail_code;    /* NULL: succeed */
static const char *s_stub_fail_text;

static int
s_stub_call (const char *function, const xs_plugin_where_t *where, const char *session,
             const xs_plugin_arg_t *args, size_t nargs, xs_plugin_result_t *result)
{
    s_stub_calls++;
    snprintf (s_seen_function, sizeof s_seen_function, "%s", function);
    snprintf (s_seen_url, sizeof s_seen_url, "%s", where->xapi_url);
    snprintf (s_seen_session, sizeof s_seen_session, "%s", session);
    json_decref (s_seen_args);
    s_seen_args = json_object ();
    for (size_t i = 0; i < nargs; i++)
        json_object_set_new (s_seen_args, args [i].key, json_string (args [i].value));
    if (s_stub_fail_code) {
        result->description = calloc (4, sizeof (char *));
        result->description [0] = strdup (s_stub_fail_code);
        result->description [1] = strdup ("param one");
        result->description [2] = strdup (s_stub_fail_text ? s_stub_fail_text : "message");
        return -1;
    }
    char *text = json_dumps (s_seen_args, JSON_COMPACT | JSON_SORT_KEYS);
    result->value = text;
    return 0;
}

static int
s_setup (void **state)
{
    s_stub_calls = 0;
    s_stub_fail_code = NULL;
    s_stub_fail_text = NULL;
    s_seen_function [0] = '\0';
    xs_plugin_t *plugin = xs_plugin_new ();
    xs_plugin_set_helper_call (plugin, s_stub_call);
    xs_plugin_set_xapi_url (plugin, "http://127.0.0.1:1/");
    *state = plugin;
    return 0;
}

static int
s_teardown (void **state)
{
    xs_plugin_t *plugin = *state;
    xs_plugin_destroy (&plugin);
    xs_plugin_destroy (&plugin);         /* idempotent */
    json_decref (s_seen_args);
    s_seen_args = NULL;
    return 0;
}

/* Request with a session and args given as key, value, ..., NULL. */
static char *
s_request (const char *function, const char *session, ...)
{
    xs_value_t *params = xs_value_array_new ();
    if (session)
        xs_value_append_str (params, session);
    xs_value_t *args = xs_value_struct_new ();
    va_list ap;
    va_start (ap, session);
    const char *key;
    while ((key = va_arg (ap, const char *))) {
        const char *value = va_arg (ap, const char *);
        xs_value_set_str (args, key, value);
    }
    va_end (ap);
    xs_value_append (params, &args);
    char *doc = xs_xmlrpc_encode_call (function, params, NULL);
    xs_value_destroy (&params);
    assert_non_null (doc);
    return doc;
}

/* Handles `request` and decodes the response struct (caller destroys). */
static xs_value_t *
s_handle (xs_plugin_t *plugin, const char *request, size_t len)
{
    size_t out_len = 0;
    char *response = xs_plugin_handle (plugin, request, len, &out_len);
    assert_non_null (response);
    assert_int_equal (out_len, strlen (response));
    /* Exactly one document, ending with one newline as Python's print(). */
    assert_true (out_len > 0 && response [out_len - 1] == '\n');
    assert_non_null (strstr (response, "<methodResponse>"));
    assert_null (strstr (strstr (response, "<methodResponse>") + 1, "<methodResponse>"));
    xs_err_t err;
    xs_value_t *value = xs_xmlrpc_decode_response (response, out_len, NULL, &err);
    free (response);
    assert_non_null (value);
    assert_int_equal (xs_value_type (value), XS_VALUE_STRUCT);
    return value;
}

static xs_value_t *
s_handle_doc (xs_plugin_t *plugin, char *request)
{
    xs_value_t *value = s_handle (plugin, request, strlen (request));
    free (request);
    return value;
}

/* Asserts a Success and returns its Value parsed as JSON. */
static json_t *
s_expect_success (xs_value_t **response_p)
{
    xs_value_t *response = *response_p;
    assert_string_equal (xs_value_get_str (response, "Status"), "Success");
    const char *text = xs_value_get_str (response, "Value");
    assert_non_null (text);
    json_t *json = json_loads (text, 0, NULL);
    assert_non_null (json);
    xs_value_destroy (response_p);
    return json;
}

/* Asserts a Failure with `code`; returns the ErrorDescription (borrowed). */
static const xs_value_t *
s_expect_failure (const xs_value_t *response, const char *code)
{
    assert_string_equal (xs_value_get_str (response, "Status"), "Failure");
    const xs_value_t *desc = xs_value_get (response, "ErrorDescription");
    assert_int_equal (xs_value_type (desc), XS_VALUE_ARRAY);
    assert_true (xs_value_size (desc) >= 1);
    assert_string_equal (xs_value_str (xs_value_at (desc, 0)), code);
    for (size_t i = 0; i < xs_value_size (desc); i++)
        assert_int_equal (xs_value_type (xs_value_at (desc, i)), XS_VALUE_STRING);
    return desc;
}

/* True when some item of the description contains `text`. */
static bool
s_desc_mentions (const xs_value_t *desc, const char *text)
{
    for (size_t i = 0; i < xs_value_size (desc); i++)
        if (strstr (xs_value_str (xs_value_at (desc, i)), text))
            return true;
    return false;
}

/* ---------------------------------------------------------------------
   Local functions
   --------------------------------------------------------------------- */

static void
test_ping (void **state)
{
    xs_value_t *response = s_handle_doc (*state, s_request ("ping", SESSION, NULL));
    json_t *json = s_expect_success (&response);
    assert_string_equal (json_string_value (json_object_get (json, "reply")), "pong");
    json_decref (json);
    assert_int_equal (s_stub_calls, 0);
}

static void
test_version (void **state)
{
    xs_value_t *response = s_handle_doc (*state, s_request ("version", SESSION, NULL));
    json_t *json = s_expect_success (&response);
    assert_string_equal (json_string_value (json_object_get (json, "version")), XENSM_VERSION);
    /* Only the version: the plugin and its helper are two builds of one
       program, installed together. */
    assert_int_equal (json_object_size (json), 1);
    json_decref (json);
}

/* xapi's own compact form: untyped values and an empty struct. */
static void
test_compact_request (void **state)
{
    const char *doc = "<?xml version=\"1.0\"?><methodCall><methodName>ping</methodName><params>"
                      "<param><value>" SESSION "</value></param>"
                      "<param><value><struct/></value></param></params></methodCall>";
    xs_value_t *response = s_handle (*state, doc, strlen (doc));
    json_t *json = s_expect_success (&response);
    json_decref (json);

    doc = "<methodCall><methodName>vdi_find</methodName><params>"
          "<param><value>" SESSION "</value></param><param><value><struct>"
          "<member><name>volume_uuid</name><value>" UUID_A "</value></member>"
          "</struct></value></param></params></methodCall>";
    response = s_handle (*state, doc, strlen (doc));
    json = s_expect_success (&response);
    assert_string_equal (json_string_value (json_object_get (json, "volume_uuid")), UUID_A);
    json_decref (json);
}

/* ---------------------------------------------------------------------
   Protocol errors
   --------------------------------------------------------------------- */

static void
test_unknown_function (void **state)
{
    xs_value_t *response = s_handle_doc (*state, s_request ("format_disk", SESSION, NULL));
    const xs_value_t *desc = s_expect_failure (response, "UNKNOWN_XENAPI_PLUGIN_FUNCTION");
    assert_int_equal (xs_value_size (desc), 2);
    assert_string_equal (xs_value_str (xs_value_at (desc, 1)), "format_disk");
    xs_value_destroy (&response);
}

static void
test_malformed (void **state)
{
    const char *docs [] = {
        "<methodCall><methodName>ping</methodName>",
        "not xml at all",
        "<methodResponse><params/></methodResponse>",
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"boom\">]><methodCall><methodName>&e;</methodName></methodCall>",
        ("<methodCall><methodName>ping</methodName><params><param><value><struct><member><name>a</name>"
         "<value><int>zz</int></value></member></struct></value></param></params></methodCall>"),
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs [0]; i++) {
        xs_value_t *response = s_handle (*state, docs [i], strlen (docs [i]));
        const xs_value_t *desc = s_expect_failure (response, "XENSM_BAD_REQUEST");
        assert_int_equal (xs_value_size (desc), 2);
        xs_value_destroy (&response);
    }
    /* Empty and NULL requests. */
    xs_value_t *response = s_handle (*state, "", 0);
    s_expect_failure (response, "XENSM_BAD_REQUEST");
    xs_value_destroy (&response);
    response = s_handle (*state, NULL, 0);
    s_expect_failure (response, "XENSM_BAD_REQUEST");
    xs_value_destroy (&response);
}

static void
test_bad_params (void **state)
{
    /* No session: only the args struct. */
    xs_value_t *response = s_handle_doc (*state, s_request ("ping", NULL, NULL));
    const xs_value_t *desc = s_expect_failure (response, "XENSM_BAD_REQUEST");
    assert_true (s_desc_mentions (desc, "1 param"));
    xs_value_destroy (&response);

    /* Empty session. */
    response = s_handle_doc (*state, s_request ("ping", "", NULL));
    desc = s_expect_failure (response, "XENSM_BAD_REQUEST");
    assert_true (s_desc_mentions (desc, "session"));
    xs_value_destroy (&response);

    /* Session not a string, args not a struct, an arg not a string, three params. */
    const char *docs [] = {
        "<methodCall><methodName>ping</methodName><params><param><value><int>4</int></value></param>"
        "<param><value><struct/></value></param></params></methodCall>",
        "<methodCall><methodName>ping</methodName><params><param><value>s</value></param>"
        "<param><value><array><data/></array></value></param></params></methodCall>",
        "<methodCall><methodName>ping</methodName><params><param><value>s</value></param>"
        "<param><value><struct><member><name>n</name><value><boolean>1</boolean></value></member>"
        "</struct></value></param></params></methodCall>",
        "<methodCall><methodName>ping</methodName><params><param><value>s</value></param>"
        "<param><value><struct/></value></param><param><value>x</value></param></params></methodCall>",
        "<methodCall><methodName>ping</methodName><params/></methodCall>",
    };
    const char *mentions [] = { "session", "struct", "'n'", "3 params", "0 param" };
    for (size_t i = 0; i < sizeof docs / sizeof docs [0]; i++) {
        response = s_handle (*state, docs [i], strlen (docs [i]));
        desc = s_expect_failure (response, "XENSM_BAD_REQUEST");
        assert_true (s_desc_mentions (desc, mentions [i]));
        xs_value_destroy (&response);
    }
    assert_int_equal (s_stub_calls, 0);
}

/* ---------------------------------------------------------------------
   Argument checks from the table
   --------------------------------------------------------------------- */

static void
s_expect_arg_failure (xs_plugin_t *plugin, char *request, const char *code, const char *fn,
                      const char *arg)
{
    xs_value_t *response = s_handle_doc (plugin, request);
    const xs_value_t *desc = s_expect_failure (response, code);
    assert_int_equal (xs_value_size (desc), 4);
    assert_string_equal (xs_value_str (xs_value_at (desc, 1)), fn);
    assert_non_null (strstr (xs_value_str (xs_value_at (desc, 2)), arg));
    assert_non_null (strstr (xs_value_str (xs_value_at (desc, 3)), arg));
    xs_value_destroy (&response);
}

static void
test_missing_args (void **state)
{
    s_expect_arg_failure (*state, s_request ("vdi_create", SESSION, "sr_uuid", UUID_A, "size", "1024", NULL),
                          "XENSM_MISSING_ARGUMENT", "vdi_create", "volume_uuid");
    s_expect_arg_failure (*state, s_request ("sr_stats", SESSION, NULL),
                          "XENSM_MISSING_ARGUMENT", "sr_stats", "sr_uuid");
    s_expect_arg_failure (*state, s_request ("vdi_clone", SESSION, "volume_uuid", UUID_A, NULL),
                          "XENSM_MISSING_ARGUMENT", "vdi_clone", "new_volume_uuid");
    /* The SR type table's required device_config keys. */
    s_expect_arg_failure (*state, s_request ("sr_attach", SESSION, "type", "nfs",
                                             "device_config:server", "filer", NULL),
                          "XENSM_MISSING_ARGUMENT", "sr_attach", "device_config:serverpath");
    assert_int_equal (s_stub_calls, 0);
}

static void
test_invalid_args (void **state)
{
    s_expect_arg_failure (*state, s_request ("sr_stats", SESSION, "sr_uuid", "not-a-uuid", NULL),
                          "XENSM_INVALID_ARGUMENT", "sr_stats", "sr_uuid");
    s_expect_arg_failure (*state, s_request ("sr_stats", SESSION, "sr_uuid", UUID_A "0", NULL),
                          "XENSM_INVALID_ARGUMENT", "sr_stats", "sr_uuid");
    const char *sizes [] = { "0", "-1", "1G", "", "12.5", "99999999999999999999", " 12" };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes [0]; i++)
        s_expect_arg_failure (*state, s_request ("vdi_create", SESSION, "sr_uuid", UUID_A,
                                                 "volume_uuid", UUID_B, "size", sizes [i], NULL),
                              "XENSM_INVALID_ARGUMENT", "vdi_create", "size");
    s_expect_arg_failure (*state, s_request ("vdi_find", SESSION, "volume_uuid", UUID_A,
                                             "sr-uuid", UUID_B, NULL),
                          "XENSM_INVALID_ARGUMENT", "vdi_find", "sr-uuid");
    s_expect_arg_failure (*state, s_request ("ping", SESSION, "verbose", "1", NULL),
                          "XENSM_INVALID_ARGUMENT", "ping", "verbose");
    s_expect_arg_failure (*state, s_request ("sr_attach", SESSION, "type", "floppy", NULL),
                          "XENSM_INVALID_ARGUMENT", "sr_attach", "type");
    s_expect_arg_failure (*state, s_request ("sr_attach", SESSION, "type", "file",
                                             "device_config:location", "/srv", "name_label", "", NULL),
                          "XENSM_INVALID_ARGUMENT", "sr_attach", "name_label");
    /* "device_config:" alone names no key. */
    s_expect_arg_failure (*state, s_request ("sr_attach", SESSION, "type", "file",
                                             "device_config:location", "/srv", "device_config:", "x", NULL),
                          "XENSM_INVALID_ARGUMENT", "sr_attach", "device_config:");
    assert_int_equal (s_stub_calls, 0);
}

/* ---------------------------------------------------------------------
   Functions run by the helper
   --------------------------------------------------------------------- */

static void
test_helper_call (void **state)
{
    xs_value_t *response = s_handle_doc (*state, s_request ("vdi_create", SESSION, "sr_uuid", UUID_A,
                                                            "volume_uuid", UUID_B, "size", "1048576",
                                                            NULL));
    json_t *json = s_expect_success (&response);
    assert_int_equal (s_stub_calls, 1);
    assert_string_equal (s_seen_function, "vdi_create");
    assert_string_equal (s_seen_session, SESSION);
    assert_string_equal (s_seen_url, "http://127.0.0.1:1/");
    assert_true (json_equal (json, s_seen_args));
    assert_string_equal (json_string_value (json_object_get (json, "size")), "1048576");
    json_decref (json);

    /* device_config keys reach the helper as they came. */
    response = s_handle_doc (*state, s_request ("sr_attach", SESSION, "type", "nfs",
                                                "device_config:server", "filer",
                                                "device_config:serverpath", "/export a=b",
                                                NULL));
    json = s_expect_success (&response);
    assert_string_equal (json_string_value (json_object_get (s_seen_args, "device_config:serverpath")),
                         "/export a=b");
    json_decref (json);
}

static void
test_helper_failure_passthrough (void **state)
{
    s_stub_fail_code = "SR_BACKEND_FAILURE_73";
    s_stub_fail_text = "SR " UUID_A ": SR.create failed: NFS mount error";
    xs_value_t *response = s_handle_doc (*state, s_request ("sr_stats", SESSION, "sr_uuid", UUID_A, NULL));
    const xs_value_t *desc = s_expect_failure (response, "SR_BACKEND_FAILURE_73");
    assert_int_equal (xs_value_size (desc), 3);
    assert_string_equal (xs_value_str (xs_value_at (desc, 1)), "param one");
    assert_string_equal (xs_value_str (xs_value_at (desc, 2)), s_stub_fail_text);
    xs_value_destroy (&response);

    /* Text XML cannot carry (cut UTF-8, control characters) is cleaned. */
    s_stub_fail_code = "XENSM_NOT_FOUND";
    s_stub_fail_text = "cut \xc3 here \x01 and \xe2\x82";
    response = s_handle_doc (*state, s_request ("sr_stats", SESSION, "sr_uuid", UUID_A, NULL));
    desc = s_expect_failure (response, "XENSM_NOT_FOUND");
    assert_string_equal (xs_value_str (xs_value_at (desc, 2)), "cut ? here ? and ??");
    xs_value_destroy (&response);
}

static void
test_helper_missing (void **state)
{
    xs_plugin_t *plugin = *state;
    xs_plugin_set_helper_call (plugin, NULL);
    xs_plugin_set_helper_path (plugin, "/nonexistent/xensm-xapi");
    xs_value_t *response = s_handle_doc (plugin, s_request ("host_info", SESSION, NULL));
    const xs_value_t *desc = s_expect_failure (response, "XENSM_HELPER_ERROR");
    assert_true (s_desc_mentions (desc, "/nonexistent/xensm-xapi"));
    assert_true (s_desc_mentions (desc, "No such file"));
    xs_value_destroy (&response);

    /* A file that is not executable. */
    char path [] = "/tmp/xs_plugin_helperXXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    close (fd);
    xs_plugin_set_helper_path (plugin, path);
    response = s_handle_doc (plugin, s_request ("host_info", SESSION, NULL));
    desc = s_expect_failure (response, "XENSM_HELPER_ERROR");
    assert_true (s_desc_mentions (desc, "Permission denied"));
    xs_value_destroy (&response);
    unlink (path);

    /* Functions that do not call xapi never need it. */
    response = s_handle_doc (plugin, s_request ("ping", SESSION, NULL));
    json_t *json = s_expect_success (&response);
    json_decref (json);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_ping, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_version, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_compact_request, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_unknown_function, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_malformed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_params, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_missing_args, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_invalid_args, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_helper_call, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_helper_failure_passthrough, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_helper_missing, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
