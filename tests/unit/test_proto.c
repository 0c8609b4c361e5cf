/*  Unit tests for xs_proto, the catalog <-> agent message codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/xs_proto.h"

/* Decodes `text`; returns the message or NULL, with the error reply in *reply. */
static xs_proto_t *
s_decode (const char *text, xs_proto_t **reply, xs_err_t *err)
{
    return xs_proto_decode (text, strlen (text), reply, err);
}

static xs_proto_t *
s_roundtrip (xs_proto_t **msg_p)
{
    xs_err_t err;
    size_t size = 0;
    char *text = xs_proto_encode (*msg_p, &size, &err);
    assert_non_null (text);
    assert_int_equal (strlen (text), size);
    xs_proto_destroy (msg_p);
    xs_proto_t *back = xs_proto_decode (text, size, NULL, &err);
    free (text);
    assert_non_null (back);
    return back;
}

static json_t *
s_backend_json (int id, const char *sr_uuid)
{
    return json_pack ("{s:i, s:s, s:s, s:o, s:b, s:b, s:{s:s, s:s, s:s}}",
                      "backend_id", id, "sr_type", "nfs", "name_label", "toybox",
                      "sr_uuid", sr_uuid ? json_string (sr_uuid) : json_null (),
                      "shared", 1, "create", sr_uuid == NULL,
                      "device_config", "server", "myserver", "serverpath", "/a=b c",
                      "password", "s3cret");
}

static void
test_register_roundtrip (void **state)
{
    xs_proto_t *msg = xs_proto_new (XS_PROTO_REGISTER, "r-1");
    xs_proto_set_str (msg, "host_uuid", "h-uuid");
    xs_proto_set_str (msg, "zone", "z1");
    xs_proto_set_str (msg, "name", "xs01");
    xs_proto_t *back = s_roundtrip (&msg);
    assert_null (msg);
    assert_int_equal (xs_proto_type (back), XS_PROTO_REGISTER);
    assert_string_equal (xs_proto_id (back), "r-1");
    assert_string_equal (xs_proto_str (back, "host_uuid"), "h-uuid");
    assert_string_equal (xs_proto_str (back, "zone"), "z1");
    assert_string_equal (xs_proto_str (back, "name"), "xs01");
    xs_proto_destroy (&back);
    assert_null (back);
    xs_proto_destroy (&back);       /* idempotent */
}

static void
test_welcome_carries_backends_and_device_config (void **state)
{
    xs_proto_t *msg = xs_proto_new (XS_PROTO_WELCOME, "r-1");
    xs_proto_set_str (msg, "host_uuid", "h");
    xs_proto_set_str (msg, "zone", "z1");
    xs_proto_set_int (msg, "heartbeat_ms", 1000);
    json_t *backends = json_pack ("[o, o]", s_backend_json (1, NULL),
                                  s_backend_json (2, "sr-2"));
    xs_proto_set (msg, "backends", &backends);
    assert_null (backends);
    xs_proto_t *back = s_roundtrip (&msg);
    json_t *list = xs_proto_get (back, "backends");
    assert_int_equal (json_array_size (list), 2);
    json_t *b1 = json_array_get (list, 0);
    assert_true (json_is_null (json_object_get (b1, "sr_uuid")));
    assert_true (json_is_true (json_object_get (b1, "create")));
    assert_string_equal (json_string_value (json_object_get (
        json_object_get (b1, "device_config"), "serverpath")), "/a=b c");
    assert_string_equal (json_string_value (json_object_get (json_array_get (list, 1),
                                                             "sr_uuid")), "sr-2");
    assert_int_equal (xs_proto_int (back, "heartbeat_ms", 0), 1000);
    xs_proto_destroy (&back);
}

static void
test_request_and_results (void **state)
{
    json_t *args = json_pack ("{s:s, s:s, s:I}", "sr_uuid", "sr-1",
                              "volume_uuid", "vol-1", "size", (json_int_t) 10737418240LL);
    xs_proto_t *req = xs_proto_request_new ("op-7", XS_OP_VDI_CREATE, &args);
    assert_null (args);
    xs_proto_t *back = s_roundtrip (&req);
    assert_int_equal (xs_proto_op (back), XS_OP_VDI_CREATE);
    assert_string_equal (xs_proto_str (back, "op"), "vdi_create");
    assert_int_equal (json_integer_value (json_object_get (xs_proto_args (back), "size")),
                      10737418240LL);
    xs_proto_destroy (&back);

    json_t *value = json_pack ("{s:s}", "vdi_uuid", "vdi-1");
    xs_proto_t *ok = xs_proto_result_ok_new ("op-7", &value);
    back = s_roundtrip (&ok);
    assert_true (xs_proto_bool (back, "ok", false));
    assert_string_equal (json_string_value (json_object_get (xs_proto_get (back, "value"),
                                                             "vdi_uuid")), "vdi-1");
    xs_proto_destroy (&back);

    xs_err_t err;
    xs_err_set (&err, XS_EXAPI, "SR_FULL [sr-1]");
    xs_proto_t *fail = xs_proto_result_fail_new ("op-7", &err);
    back = s_roundtrip (&fail);
    assert_false (xs_proto_bool (back, "ok", true));
    xs_err_t remote;
    xs_proto_result_err (back, &remote);
    assert_int_equal (remote.kind, XS_EXAPI);
    assert_string_equal (remote.msg, "SR_FULL [sr-1]");
    xs_proto_destroy (&back);
}

static void
test_heartbeat_stats_validated (void **state)
{
    xs_proto_t *msg = xs_proto_new (XS_PROTO_HEARTBEAT, NULL);
    assert_true (strlen (xs_proto_id (msg)) > 0);
    xs_proto_set_str (msg, "host_uuid", "h");
    xs_proto_set_int (msg, "busy", 2);
    json_t *srs = json_pack ("[{s:i, s:s, s:I, s:I, s:I, s:[s, s]}]", "backend_id", 1,
                             "sr_uuid", "sr-1", "physical_size", (json_int_t) 100,
                             "physical_utilisation", (json_int_t) 10,
                             "virtual_allocation", (json_int_t) 20,
                             "capabilities", "VDI_CREATE", "VDI_CLONE");
    xs_proto_set (msg, "srs", &srs);
    xs_proto_t *back = s_roundtrip (&msg);
    xs_proto_destroy (&back);

    /* A stats entry with a string size is refused with a message naming it. */
    xs_err_t err;
    xs_proto_t *reply = NULL;
    back = s_decode ("{\"v\":1,\"type\":\"heartbeat\",\"id\":\"h1\",\"host_uuid\":\"h\","
                     "\"srs\":[{\"backend_id\":1,\"sr_uuid\":\"s\",\"physical_size\":\"100\","
                     "\"physical_utilisation\":0,\"virtual_allocation\":0,\"capabilities\":[]}]}",
                     &reply, &err);
    assert_null (back);
    assert_non_null (strstr (err.msg, "physical_size"));
    assert_non_null (reply);
    assert_int_equal (xs_proto_type (reply), XS_PROTO_ERROR);
    assert_string_equal (xs_proto_id (reply), "h1");
    assert_string_equal (xs_proto_str (reply, "code"), XS_PROTO_E_MALFORMED);
    xs_proto_destroy (&reply);
}

/* Each bad input gets the expected error code in the reply. */
static void
test_bad_input_gets_error_reply (void **state)
{
    static const struct { const char *text; const char *code; const char *id; } cases [] = {
        {"garbage",                                        XS_PROTO_E_MALFORMED, ""},
        {"[1,2]",                                          XS_PROTO_E_MALFORMED, ""},
        {"{\"v\":1,\"type\":\"register\"}",                XS_PROTO_E_MALFORMED, ""},
        {"{\"v\":1,\"type\":\"register\",\"id\":7}",       XS_PROTO_E_MALFORMED, ""},
        {"{\"type\":\"register\",\"id\":\"x\"}",           XS_PROTO_E_MALFORMED, "x"},
        {"{\"v\":2,\"type\":\"register\",\"id\":\"x\"}",   XS_PROTO_E_VERSION, "x"},
        {"{\"v\":1,\"type\":\"dance\",\"id\":\"x\"}",      XS_PROTO_E_UNKNOWN_TYPE, "x"},
        {"{\"v\":1,\"id\":\"x\"}",                         XS_PROTO_E_MALFORMED, "x"},
        {"{\"v\":1,\"type\":\"register\",\"id\":\"x\",\"zone\":\"z\",\"name\":\"n\"}",
                                                           XS_PROTO_E_MALFORMED, "x"},
        {"{\"v\":1,\"type\":\"register\",\"id\":\"x\",\"host_uuid\":\"\",\"zone\":\"z\",\"name\":\"n\"}",
                                                           XS_PROTO_E_MALFORMED, "x"},
        {"{\"v\":1,\"type\":\"request\",\"id\":\"x\",\"op\":\"rm_rf\",\"args\":{}}",
                                                           XS_PROTO_E_UNKNOWN_OP, "x"},
        {"{\"v\":1,\"type\":\"request\",\"id\":\"x\",\"op\":\"vdi_create\",\"args\":{\"sr_uuid\":\"s\"}}",
                                                           XS_PROTO_E_MALFORMED, "x"},
        {"{\"v\":1,\"type\":\"request\",\"id\":\"x\",\"op\":\"vdi_create\",\"args\":"
         "{\"sr_uuid\":\"s\",\"volume_uuid\":\"u\",\"size\":-1}}", XS_PROTO_E_MALFORMED, "x"},
        {"{\"v\":1,\"type\":\"result\",\"id\":\"x\",\"ok\":false}", XS_PROTO_E_MALFORMED, "x"},
        {"{\"v\":1,\"type\":\"result\",\"id\":\"x\",\"ok\":true}",  XS_PROTO_E_MALFORMED, "x"},
        {"{\"v\":1,\"type\":\"register\",\"id\":\"x\",\"id\":\"y\"}", XS_PROTO_E_MALFORMED, ""},
        {"{\"v\":1,\"type\":\"welcome\",\"id\":\"x\",\"host_uuid\":\"h\",\"zone\":\"z\","
         "\"heartbeat_ms\":5,\"backends\":[{\"backend_id\":1,\"sr_type\":\"nfs\",\"sr_uuid\":null,"
         "\"device_config\":{\"server\":5}}]}",            XS_PROTO_E_MALFORMED, "x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        xs_err_t err;
        xs_err_clear (&err);
        xs_proto_t *reply = NULL;
        xs_proto_t *msg = s_decode (cases [i].text, &reply, &err);
        if (msg)
            fail_msg ("case %zu accepted: %s", i, cases [i].text);
        assert_int_equal (err.kind, XS_EINVAL);
        assert_true (strlen (err.msg) > 0);
        assert_non_null (reply);
        assert_string_equal (xs_proto_str (reply, "code"), cases [i].code);
        if (cases [i].id [0])
            assert_string_equal (xs_proto_id (reply), cases [i].id);
        /* The reply itself is a valid message. */
        size_t size;
        char *text = xs_proto_encode (reply, &size, &err);
        assert_non_null (text);
        free (text);
        xs_proto_destroy (&reply);
    }
}

static void
test_error_is_never_answered (void **state)
{
    xs_err_t err;
    xs_proto_t *reply = NULL;
    xs_proto_t *msg = s_decode ("{\"v\":1,\"type\":\"error\",\"id\":\"e\",\"code\":5}", &reply, &err);
    assert_null (msg);
    assert_null (reply);
    msg = s_decode ("{\"v\":1,\"type\":\"error\",\"id\":\"e\",\"code\":\"malformed\","
                    "\"message\":\"boom\"}", &reply, &err);
    assert_non_null (msg);
    assert_null (reply);
    assert_string_equal (xs_proto_str (msg, "message"), "boom");
    xs_proto_destroy (&msg);
}

static void
test_oversized_and_empty (void **state)
{
    size_t size = XS_PROTO_MAX_SIZE + 1;
    char *big = malloc (size);
    memset (big, ' ', size);
    xs_err_t err;
    xs_proto_t *reply = NULL;
    assert_null (xs_proto_decode (big, size, &reply, &err));
    assert_string_equal (xs_proto_str (reply, "code"), XS_PROTO_E_TOO_LARGE);
    xs_proto_destroy (&reply);
    free (big);

    assert_null (xs_proto_decode (NULL, 0, &reply, &err));
    assert_string_equal (xs_proto_str (reply, "code"), XS_PROTO_E_MALFORMED);
    xs_proto_destroy (&reply);
    /* Embedded NUL and invalid UTF-8 are not JSON. */
    assert_null (xs_proto_decode ("{\"v\":1\0}", 8, NULL, &err));
    assert_null (s_decode ("{\"v\":1,\"type\":\"register\",\"id\":\"\xff\"}", NULL, &err));
}

static void
test_encode_refuses_invalid_message (void **state)
{
    xs_proto_t *msg = xs_proto_new (XS_PROTO_REGISTER, "r");
    xs_proto_set_str (msg, "zone", "z");
    xs_err_t err;
    size_t size;
    assert_null (xs_proto_encode (msg, &size, &err));
    assert_non_null (strstr (err.msg, "host_uuid"));
    /* The envelope cannot be overwritten. */
    assert_int_equal (xs_proto_set_str (msg, "type", "welcome"), -1);
    assert_int_equal (xs_proto_set_int (msg, "v", 9), -1);
    assert_int_equal (xs_proto_type (msg), XS_PROTO_REGISTER);
    xs_proto_destroy (&msg);
}

static void
test_unknown_fields_ignored_and_ops_known (void **state)
{
    xs_err_t err;
    xs_proto_t *msg = s_decode ("{\"v\":1,\"type\":\"heartbeat_ack\",\"id\":\"a\",\"later\":[1]}",
                                NULL, &err);
    assert_non_null (msg);
    assert_int_equal (xs_proto_type (msg), XS_PROTO_HEARTBEAT_ACK);
    xs_proto_destroy (&msg);
    assert_true (xs_proto_op_known ("vdi_snapshot"));
    assert_true (xs_proto_op_known ("sr_attach"));
    assert_false (xs_proto_op_known ("shell"));
    assert_false (xs_proto_op_known (NULL));
    /* host_info is the agent's own op, never a request. */
    assert_false (xs_proto_op_known ("host_info"));
    json_t *none = json_object ();
    xs_proto_t *req = xs_proto_request_new ("r-1", XS_OP_HOST_INFO, &none);
    assert_null (xs_proto_encode (req, NULL, &err));
    assert_non_null (strstr (err.msg, "unknown op host_info"));
    xs_proto_destroy (&req);
    assert_string_equal (xs_proto_type_name (XS_PROTO_SR_STATE), "sr_state");
    assert_string_equal (xs_proto_type_name ((xs_proto_type_t) 99), "?");
}

static void
test_fresh_ids_differ (void **state)
{
    xs_proto_t *a = xs_proto_new (XS_PROTO_HEARTBEAT_ACK, NULL);
    xs_proto_t *b = xs_proto_new (XS_PROTO_HEARTBEAT_ACK, "");
    assert_string_not_equal (xs_proto_id (a), xs_proto_id (b));
    xs_proto_destroy (&a);
    xs_proto_destroy (&b);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_register_roundtrip),
        cmocka_unit_test (test_welcome_carries_backends_and_device_config),
        cmocka_unit_test (test_request_and_results),
        cmocka_unit_test (test_heartbeat_stats_validated),
        cmocka_unit_test (test_bad_input_gets_error_reply),
        cmocka_unit_test (test_error_is_never_answered),
        cmocka_unit_test (test_oversized_and_empty),
        cmocka_unit_test (test_encode_refuses_invalid_message),
        cmocka_unit_test (test_unknown_fields_ignored_and_ops_known),
        cmocka_unit_test (test_fresh_ids_differ),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
