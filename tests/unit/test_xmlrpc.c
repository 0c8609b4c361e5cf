/*  Unit tests for xs_xmlrpc: round trips, xapi's and Python's forms, hostile input.

    Fixtures live in tests/unit/fixtures/xmlrpc/: xapi_*.xml are written by
    hand in xapi's compact form (untyped <value>x</value>, <value/>, no
    whitespace); python_*.xml come from Python's xmlrpc.client.dumps
    (make_python_fixtures.py there regenerates them).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <cmocka.h>

#include "common/xs_xmlrpc.h"

/* ---------------------------------------------------------------------------
 *  Helpers
 * ------------------------------------------------------------------------- */

static char *
s_read_fixture (const char *name, size_t *len_p)
{
    char path [1024];
    snprintf (path, sizeof path, "%s/%s", XS_FIXTURE_DIR, name);
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    assert_int_equal (fseek (file, 0, SEEK_END), 0);
    long size = ftell (file);
    assert_true (size > 0);
    rewind (file);
    char *text = malloc ((size_t) size + 1);
    assert_non_null (text);
    assert_int_equal (fread (text, 1, (size_t) size, file), (size_t) size);
    text [size] = '\0';
    fclose (file);
    *len_p = (size_t) size;
    return text;
}

/* Decodes <methodResponse><params><param><value>INNER</value>... */
static xs_value_t *
s_decode_value_text (const char *inner, xs_err_t *err)
{
    char *doc = NULL;
    assert_true (asprintf (&doc, "<methodResponse><params><param><value>%s</value></param>"
                                 "</params></methodResponse>", inner) > 0);
    xs_value_t *value = xs_xmlrpc_decode_response (doc, strlen (doc), NULL, err);
    free (doc);
    return value;
}

/* Expects decoding doc as a response to fail with a message holding expect. */
static void
s_expect_response_error (const char *doc, size_t len, const xs_xmlrpc_limits_t *limits,
                         const char *expect)
{
    xs_err_t err;
    xs_err_clear (&err);
    xs_value_t *value = xs_xmlrpc_decode_response (doc, len, limits, &err);
    if (value || !strstr (err.msg, expect))
        fail_msg ("decoding %.200s\nexpected an error with '%s', got '%s'", doc, expect,
                  value ? "(a value)" : err.msg);
    assert_int_equal (err.kind, XS_EINVAL);
}

static void
s_expect_value_error (const char *inner, const char *expect)
{
    char *doc = NULL;
    assert_true (asprintf (&doc, "<methodResponse><params><param><value>%s</value></param>"
                                 "</params></methodResponse>", inner) > 0);
    s_expect_response_error (doc, strlen (doc), NULL, expect);
    free (doc);
}

/* A value holding every type, nested. */
static xs_value_t *
s_every_type (void)
{
    xs_value_t *st = xs_value_struct_new ();
    xs_value_t *v = NULL;
    xs_value_set_str (st, "string", "gold");
    xs_value_set_str (st, "empty", "");
    xs_value_set_str (st, "spaces", "  two  ");
    xs_value_set_str (st, "lines", "a\nb\tc\r\nd\re");
    xs_value_set_str (st, "unicode", "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80");
    v = xs_value_int_new (INT64_MAX);             xs_value_set (st, "max", &v);
    v = xs_value_int_new (INT64_MIN);             xs_value_set (st, "min", &v);
    v = xs_value_int_new (0);                     xs_value_set (st, "zero", &v);
    v = xs_value_bool_new (true);                 xs_value_set (st, "true", &v);
    v = xs_value_bool_new (false);                xs_value_set (st, "false", &v);
    v = xs_value_double_new (0.1);                xs_value_set (st, "tenth", &v);
    v = xs_value_double_new (1.0 / 3.0);          xs_value_set (st, "third", &v);
    v = xs_value_double_new (-1e300);             xs_value_set (st, "big", &v);
    v = xs_value_double_new (DBL_MIN / 4);        xs_value_set (st, "denormal", &v);
    v = xs_value_double_new (-0.0);               xs_value_set (st, "negzero", &v);
    v = xs_value_double_new (INFINITY);           xs_value_set (st, "inf", &v);
    v = xs_value_double_new (NAN);                xs_value_set (st, "nan", &v);
    v = xs_value_datetime_new ("20120101T10:20:30Z"); xs_value_set (st, "when", &v);
    v = xs_value_base64_new ("", 0);              xs_value_set (st, "nobytes", &v);
    v = xs_value_base64_new ("\0\xff\x01", 3);    xs_value_set (st, "bytes", &v);
    v = xs_value_base64_new ("ab", 2);            xs_value_set (st, "bytes2", &v);
    v = xs_value_nil_new ();                      xs_value_set (st, "nil", &v);
    v = xs_value_array_new ();                    xs_value_set (st, "empty_array", &v);
    v = xs_value_struct_new ();                   xs_value_set (st, "empty_struct", &v);

    xs_value_t *array = xs_value_array_new ();
    xs_value_append_str (array, "x");
    xs_value_t *inner = xs_value_struct_new ();
    xs_value_set_str (inner, "<&>\"'", "<&>\"' ]]>");
    xs_value_append (array, &inner);
    xs_value_t *deeper = xs_value_array_new ();
    v = xs_value_nil_new ();
    xs_value_append (deeper, &v);
    xs_value_append (array, &deeper);
    xs_value_set (st, "array", &array);
    return st;
}

/* Nested arrays `levels` deep around a string. */
static xs_value_t *
s_nested (int levels)
{
    xs_value_t *value = xs_value_string_new ("core");
    for (int i = 0; i < levels; i++) {
        xs_value_t *array = xs_value_array_new ();
        xs_value_append (array, &value);
        value = array;
    }
    return value;
}

/* ---------------------------------------------------------------------------
 *  Round trips
 * ------------------------------------------------------------------------- */

static void
test_response_round_trip_every_type (void **state)
{
    xs_value_t *value = s_every_type ();
    size_t len = 0;
    char *doc = xs_xmlrpc_encode_response (value, &len);
    assert_non_null (doc);
    assert_int_equal (strlen (doc), len);
    xs_err_t err;
    xs_value_t *back = xs_xmlrpc_decode_response (doc, len, NULL, &err);
    if (!back)
        fail_msg ("%s", err.msg);
    assert_true (xs_value_equal (value, back));
    /* Spot checks, in case equal were too lenient. */
    assert_string_equal (xs_value_get_str (back, "lines"), "a\nb\tc\r\nd\re");
    assert_true (xs_value_int (xs_value_get (back, "min")) == INT64_MIN);
    assert_true (xs_value_double (xs_value_get (back, "tenth")) == 0.1);
    assert_true (signbit (xs_value_double (xs_value_get (back, "negzero"))));
    assert_string_equal (xs_value_get_str (xs_value_at (xs_value_get (back, "array"), 1), "<&>\"'"),
                         "<&>\"' ]]>");
    /* Ints are <int>, the full 64-bit decimal; doubles are shortest. */
    assert_non_null (strstr (doc, "<int>-9223372036854775808</int>"));
    assert_non_null (strstr (doc, "<double>0.1</double>"));
    assert_non_null (strstr (doc, "<base64>AP8B</base64>"));
    assert_non_null (strstr (doc, "<base64>YWI=</base64>"));
    free (doc);

    /* Nested one level deeper, as the only param of a call. */
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, "OpaqueRef:x");
    xs_value_append (params, &value);
    doc = xs_xmlrpc_encode_call ("VDI.create", params, &len);
    assert_non_null (doc);
    char *method = NULL;
    xs_value_destroy (&back);
    back = xs_xmlrpc_decode_call (doc, len, NULL, &method, &err);
    if (!back)
        fail_msg ("%s", err.msg);
    assert_string_equal (method, "VDI.create");
    assert_true (xs_value_equal (params, back));
    free (method);
    free (doc);
    xs_value_destroy (&back);
    xs_value_destroy (&params);
}

static void
test_call_without_params (void **state)
{
    size_t len = 0;
    char *doc = xs_xmlrpc_encode_call ("a&b", NULL, &len);
    assert_non_null (doc);
    assert_non_null (strstr (doc, "<methodName>a&amp;b</methodName><params></params>"));
    char *method = NULL;
    xs_err_t err;
    xs_value_t *params = xs_xmlrpc_decode_call (doc, len, NULL, &method, &err);
    assert_non_null (params);
    assert_int_equal (xs_value_type (params), XS_VALUE_ARRAY);
    assert_int_equal (xs_value_size (params), 0);
    assert_string_equal (method, "a&b");
    free (method);
    free (doc);
    xs_value_destroy (&params);

    /* No <params> at all is fine too; method_p may be NULL. */
    const char *bare = "<methodCall><methodName> ping </methodName></methodCall>";
    params = xs_xmlrpc_decode_call (bare, strlen (bare), NULL, NULL, &err);
    assert_non_null (params);
    assert_int_equal (xs_value_size (params), 0);
    xs_value_destroy (&params);

    /* params that are not an array cannot be encoded. */
    xs_value_t *not_array = xs_value_string_new ("x");
    assert_null (xs_xmlrpc_encode_call ("m", not_array, &len));
    assert_null (xs_xmlrpc_encode_call (NULL, NULL, &len));
    xs_value_destroy (&not_array);
}

static void
test_depth_limit_is_exact (void **state)
{
    xs_err_t err;
    xs_value_t *ok = s_nested (64);
    size_t len = 0;
    char *doc = xs_xmlrpc_encode_response (ok, &len);
    xs_value_t *back = xs_xmlrpc_decode_response (doc, len, NULL, &err);
    if (!back)
        fail_msg ("%s", err.msg);
    assert_true (xs_value_equal (ok, back));
    free (doc);
    xs_value_destroy (&back);
    xs_value_destroy (&ok);

    xs_value_t *deep = s_nested (65);
    doc = xs_xmlrpc_encode_response (deep, &len);
    s_expect_response_error (doc, len, NULL,
                             "XML-RPC: nesting deeper than 64 at /methodResponse/params/param/value/array/");
    /* A smaller limit applies. */
    xs_xmlrpc_limits_t limits = XS_XMLRPC_DEFAULT_LIMITS;
    limits.max_depth = 3;
    s_expect_response_error (doc, len, &limits, "nesting deeper than 3 at ");
    free (doc);
    xs_value_destroy (&deep);
}

/* ---------------------------------------------------------------------------
 *  Decoding forms
 * ------------------------------------------------------------------------- */

static void
test_decode_untyped_and_typed_forms (void **state)
{
    static const struct {
        const char *inner;
        xs_value_type_t type;
        const char *text;       /* for strings and dateTimes */
        int64_t number;         /* for ints and booleans */
    } cases [] = {
        { "x", XS_VALUE_STRING, "x", 0 },
        { "", XS_VALUE_STRING, "", 0 },
        { "  padded  ", XS_VALUE_STRING, "  padded  ", 0 },
        { "a&amp;b&lt;&gt;&quot;&apos;&#x263A;&#13;", XS_VALUE_STRING, "a&b<>\"'\xe2\x98\xba\r", 0 },
        { "a<!-- note -->b", XS_VALUE_STRING, "ab", 0 },
        { "<![CDATA[<raw> & ]]>", XS_VALUE_STRING, "<raw> & ", 0 },
        { "<string/>", XS_VALUE_STRING, "", 0 },
        { " <string> s </string> ", XS_VALUE_STRING, " s ", 0 },
        { "<!-- c --><string>s</string><?pi x?>", XS_VALUE_STRING, "s", 0 },
        { "<int>42</int>", XS_VALUE_INT, NULL, 42 },
        { "<i4>-7</i4>", XS_VALUE_INT, NULL, -7 },
        { "<i8>9223372036854775807</i8>", XS_VALUE_INT, NULL, INT64_MAX },
        { "<int> +5 </int>", XS_VALUE_INT, NULL, 5 },
        { "<boolean>1</boolean>", XS_VALUE_BOOL, NULL, 1 },
        { "<boolean> 0 </boolean>", XS_VALUE_BOOL, NULL, 0 },
        { "<dateTime.iso8601>20120101T00:00:00Z</dateTime.iso8601>", XS_VALUE_DATETIME,
          "20120101T00:00:00Z", 0 },
        { "<nil/>", XS_VALUE_NIL, NULL, 0 },
        { "<nil></nil>", XS_VALUE_NIL, NULL, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        xs_err_t err;
        xs_value_t *value = s_decode_value_text (cases [i].inner, &err);
        if (!value)
            fail_msg ("case %zu (%s): %s", i, cases [i].inner, err.msg);
        if (xs_value_type (value) != cases [i].type)
            fail_msg ("case %zu (%s): type %s", i, cases [i].inner,
                      xs_value_type_name (xs_value_type (value)));
        if (cases [i].text)
            assert_string_equal (xs_value_str (value), cases [i].text);
        if (cases [i].type == XS_VALUE_INT)
            assert_true (xs_value_int (value) == cases [i].number);
        if (cases [i].type == XS_VALUE_BOOL)
            assert_int_equal (xs_value_bool (value), cases [i].number);
        xs_value_destroy (&value);
    }
}

static void
test_decode_double_base64_containers (void **state)
{
    xs_err_t err;
    xs_value_t *v = s_decode_value_text ("<double>-1.5e3</double>", &err);
    assert_true (xs_value_double (v) == -1500.0);
    xs_value_destroy (&v);
    v = s_decode_value_text ("<double>nan</double>", &err);
    assert_true (isnan (xs_value_double (v)));
    xs_value_destroy (&v);
    v = s_decode_value_text ("<double>-inf</double>", &err);
    assert_true (isinf (xs_value_double (v)) && xs_value_double (v) < 0);
    xs_value_destroy (&v);

    v = s_decode_value_text ("<base64>\n  aGVs\nbG8=\n</base64>", &err);
    size_t len = 0;
    const char *bytes = xs_value_base64 (v, &len);
    assert_int_equal (len, 5);
    assert_memory_equal (bytes, "hello", 5);
    xs_value_destroy (&v);
    v = s_decode_value_text ("<base64/>", &err);
    assert_int_equal (xs_value_type (v), XS_VALUE_BASE64);
    xs_value_base64 (v, &len);
    assert_int_equal (len, 0);
    xs_value_destroy (&v);

    const char *empties [] = { "<array/>", "<array><data/></array>", "<array>\n<data>\n</data>\n</array>",
                               "<struct/>", "<struct>\n <!-- none -->\n</struct>" };
    for (size_t i = 0; i < sizeof empties / sizeof empties [0]; i++) {
        v = s_decode_value_text (empties [i], &err);
        if (!v)
            fail_msg ("%s: %s", empties [i], err.msg);
        assert_int_equal (xs_value_size (v), 0);
        assert_int_equal (xs_value_type (v), empties [i][1] == 'a' ? XS_VALUE_ARRAY : XS_VALUE_STRUCT);
        xs_value_destroy (&v);
    }

    /* Members in either order, comments and blanks between, a repeated name
       replaces the earlier one. */
    v = s_decode_value_text ("<struct>\n <member><value>1</value><!--x--><name>a</name></member>\n"
                             " <member>\n<name>b</name>\n<value><i4>2</i4></value>\n</member>"
                             " <member><name>a</name><value>3</value></member></struct>", &err);
    if (!v)
        fail_msg ("%s", err.msg);
    assert_int_equal (xs_value_size (v), 2);
    assert_string_equal (xs_value_get_str (v, "a"), "3");
    assert_int_equal (xs_value_int (xs_value_get (v, "b")), 2);
    xs_value_destroy (&v);
}

/* ---------------------------------------------------------------------------
 *  Fixtures
 * ------------------------------------------------------------------------- */

static void
test_xapi_compact_fixtures (void **state)
{
    size_t len = 0;
    xs_err_t err;
    char *doc = s_read_fixture ("xapi_session_login.xml", &len);
    xs_value_t *v = xs_xmlrpc_decode_response (doc, len, NULL, &err);
    assert_non_null (v);
    assert_string_equal (xs_value_get_str (v, "Status"), "Success");
    assert_string_equal (xs_value_get_str (v, "Value"), "OpaqueRef:8c6a5b2e-0d7f-4a51-9f1e-2b3c4d5e6f70");
    xs_value_destroy (&v);
    free (doc);

    doc = s_read_fixture ("xapi_host_is_slave.xml", &len);
    v = xs_xmlrpc_decode_response (doc, len, NULL, &err);
    assert_non_null (v);
    assert_string_equal (xs_value_get_str (v, "Status"), "Failure");
    xs_value_t *desc = xs_value_get (v, "ErrorDescription");
    assert_int_equal (xs_value_size (desc), 2);
    assert_string_equal (xs_value_str (xs_value_at (desc, 0)), "HOST_IS_SLAVE");
    assert_string_equal (xs_value_str (xs_value_at (desc, 1)), "192.168.0.2");
    xs_value_destroy (&v);
    free (doc);

    doc = s_read_fixture ("xapi_sr_get_record.xml", &len);
    v = xs_xmlrpc_decode_response (doc, len, NULL, &err);
    assert_non_null (v);
    xs_value_t *rec = xs_value_get (v, "Value");
    assert_string_equal (xs_value_get_str (rec, "name_label"), "NFS <gold> & co");
    assert_string_equal (xs_value_get_str (rec, "name_description"), "");
    assert_string_equal (xs_value_get_str (rec, "physical_size"), "107374182400");
    assert_true (xs_value_bool (xs_value_get (rec, "shared")));
    assert_int_equal (xs_value_type (xs_value_get (rec, "VDIs")), XS_VALUE_ARRAY);
    assert_int_equal (xs_value_size (xs_value_get (rec, "VDIs")), 0);
    assert_int_equal (xs_value_size (xs_value_get (rec, "allowed_operations")), 2);
    assert_string_equal (xs_value_get_str (xs_value_get (rec, "other_config"), "auto-scan"), "true");
    assert_int_equal (xs_value_type (xs_value_get (rec, "sm_config")), XS_VALUE_STRUCT);
    /* An unknown field is kept, not refused. */
    assert_true (xs_value_double (xs_value_get (rec, "a_future_field")) == 1.5);
    xs_value_destroy (&v);
    free (doc);

    doc = s_read_fixture ("xapi_call_plugin.xml", &len);
    char *method = NULL;
    v = xs_xmlrpc_decode_call (doc, len, NULL, &method, &err);
    assert_non_null (v);
    assert_string_equal (method, "vdi_create");
    assert_int_equal (xs_value_size (v), 2);
    assert_string_equal (xs_value_str (xs_value_at (v, 0)), "OpaqueRef:4d1b0e5c-7f3a-4bb2-9d7c-0123456789ab");
    xs_value_t *args = xs_value_at (v, 1);
    assert_string_equal (xs_value_get_str (args, "size"), "10737418240");
    assert_string_equal (xs_value_get_str (args, "empty"), "");
    assert_string_equal (xs_value_get_str (args, "name"), "a <b> & 'c' \"d\"");
    free (method);

    /* The same call in Python's typed, indented form decodes to the same values. */
    char *pdoc = s_read_fixture ("python_call_plugin.xml", &len);
    xs_value_t *pv = xs_xmlrpc_decode_call (pdoc, len, NULL, &method, &err);
    assert_non_null (pv);
    assert_string_equal (method, "vdi_create");
    assert_string_equal (xs_value_get_str (xs_value_at (pv, 1), "name"), "a <b> & 'c' \"d\"");
    assert_string_equal (xs_value_get_str (xs_value_at (pv, 1), "volume_uuid"),
                         xs_value_get_str (args, "volume_uuid"));
    free (method);
    free (pdoc);
    xs_value_destroy (&pv);
    xs_value_destroy (&v);
    free (doc);
}

static void
test_python_fixtures (void **state)
{
    size_t len = 0;
    xs_err_t err;
    char *doc = s_read_fixture ("python_response_all_types.xml", &len);
    xs_value_t *v = xs_xmlrpc_decode_response (doc, len, NULL, &err);
    if (!v)
        fail_msg ("%s", err.msg);
    assert_string_equal (xs_value_get_str (v, "string"), "gold <&> \"'");
    assert_string_equal (xs_value_get_str (v, "empty"), "");
    assert_int_equal (xs_value_int (xs_value_get (v, "int")), 42);
    assert_int_equal (xs_value_int (xs_value_get (v, "negative")), -2147483648LL);
    assert_true (xs_value_bool (xs_value_get (v, "true")));
    assert_int_equal (xs_value_type (xs_value_get (v, "false")), XS_VALUE_BOOL);
    assert_false (xs_value_bool (xs_value_get (v, "false")));
    assert_true (xs_value_double (xs_value_get (v, "double")) == 0.1);
    assert_string_equal (xs_value_str (xs_value_get (v, "datetime")), "20120101T10:20:30");
    assert_int_equal (xs_value_type (xs_value_get (v, "datetime")), XS_VALUE_DATETIME);
    size_t blen = 0;
    const unsigned char *bytes = xs_value_base64 (xs_value_get (v, "base64"), &blen);
    assert_int_equal (blen, 90);
    assert_memory_equal (bytes, "\x00\x01" "binary\xff", 9);
    assert_memory_equal (bytes + 81, "\x00\x01" "binary\xff", 9);
    assert_int_equal (xs_value_type (xs_value_get (v, "nil")), XS_VALUE_NIL);
    xs_value_t *array = xs_value_get (v, "array");
    assert_int_equal (xs_value_size (array), 4);
    assert_int_equal (xs_value_int (xs_value_at (array, 1)), 1);
    assert_int_equal (xs_value_type (xs_value_at (xs_value_at (array, 2), 1)), XS_VALUE_STRUCT);
    assert_int_equal (xs_value_size (xs_value_at (array, 3)), 0);
    xs_value_t *deep = xs_value_get (xs_value_get (xs_value_get (v, "struct"), "name <&>"), "deep");
    assert_string_equal (xs_value_str (xs_value_at (deep, 0)), "x");
    assert_string_equal (xs_value_get_str (v, "unicode"), "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80");
    xs_value_destroy (&v);
    free (doc);

    doc = s_read_fixture ("python_call_no_params.xml", &len);
    char *method = NULL;
    v = xs_xmlrpc_decode_call (doc, len, NULL, &method, &err);
    assert_non_null (v);
    assert_string_equal (method, "ping");
    assert_int_equal (xs_value_size (v), 0);
    free (method);
    xs_value_destroy (&v);
    free (doc);
}

static void
test_faults (void **state)
{
    size_t len = 0;
    xs_err_t err;
    char *doc = s_read_fixture ("python_fault.xml", &len);
    assert_null (xs_xmlrpc_decode_response (doc, len, NULL, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (err.msg, "XML-RPC fault 42: boom <&> failed");
    free (doc);

    doc = xs_xmlrpc_encode_fault (-3, "no <such> & method", &len);
    assert_non_null (doc);
    assert_null (xs_xmlrpc_decode_response (doc, len, NULL, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (err.msg, "XML-RPC fault -3: no <such> & method");
    free (doc);

    /* A fault that is not {faultCode, faultString} is malformed. */
    const char *bad = "<methodResponse><fault><value><struct><member><name>faultCode</name>"
                      "<value>x</value></member></struct></value></fault></methodResponse>";
    s_expect_response_error (bad, strlen (bad), NULL, "<fault> needs a struct");
    assert_null (xs_xmlrpc_encode_fault (1, "bell\a", &len));
}

/* ---------------------------------------------------------------------------
 *  Hostile input
 * ------------------------------------------------------------------------- */

static void
test_refuses_dtds_and_entities (void **state)
{
    static const char *docs [] = {
        /* billion laughs */
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
        "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
        "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
        "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
        "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
        "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
        "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
        "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">]>"
        "<methodResponse><params><param><value>&lol9;</value></param></params></methodResponse>",
        /* external entities */
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
        "<methodResponse><params><param><value>&xxe;</value></param></params></methodResponse>",
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY xxe SYSTEM \"http://127.0.0.1:1/x\">]>"
        "<methodResponse><params><param><value>&xxe;</value></param></params></methodResponse>",
        /* parameter entity pulling an external DTD */
        "<!DOCTYPE r [<!ENTITY % ext SYSTEM \"http://127.0.0.1:1/x.dtd\"> %ext;]>"
        "<methodResponse><params><param><value>x</value></param></params></methodResponse>",
        /* external DTD */
        "<!DOCTYPE methodResponse SYSTEM \"http://127.0.0.1:1/evil.dtd\">"
        "<methodResponse><params><param><value>x</value></param></params></methodResponse>",
        "<!DOCTYPE methodResponse SYSTEM \"file:///etc/passwd\">"
        "<methodResponse><params><param><value>x</value></param></params></methodResponse>",
        /* a harmless-looking DTD is still a DTD */
        "<!DOCTYPE methodResponse>"
        "<methodResponse><params><param><value>x</value></param></params></methodResponse>",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs [0]; i++)
        s_expect_response_error (docs [i], strlen (docs [i]), NULL,
                                 "XML-RPC: document type declarations (DOCTYPE");

    /* Without a DTD, only the five predefined entities exist. */
    s_expect_value_error ("&lol;", "malformed XML");
    s_expect_value_error ("&nbsp;", "malformed XML");

    /* The same attacks against a call. */
    xs_err_t err;
    char *method = (char *) "untouched";
    assert_null (xs_xmlrpc_decode_call (docs [1], strlen (docs [1]), NULL, &method, &err));
    assert_null (method);
    assert_non_null (strstr (err.msg, "DOCTYPE"));
}

static void
test_refuses_deep_nesting (void **state)
{
    /* 10000 nested arrays, and 10000 nested non-container elements. */
    const int levels = 10000;
    const char *open = "<value><array><data>", *close = "</data></array></value>";
    size_t size = 200 + (size_t) levels * (strlen (open) + strlen (close));
    char *doc = malloc (size);
    assert_non_null (doc);
    strcpy (doc, "<methodResponse><params><param>");
    char *p = doc + strlen (doc);
    for (int i = 0; i < levels; i++)
        p = stpcpy (p, open);
    for (int i = 0; i < levels; i++)
        p = stpcpy (p, close);
    strcpy (p, "</param></params></methodResponse>");
    s_expect_response_error (doc, strlen (doc), NULL,
                             "XML-RPC: nesting deeper than 64 at /methodResponse/params/param/value/array/");
    xs_err_t err;
    xs_xmlrpc_decode_response (doc, strlen (doc), NULL, &err);
    /* The path is shortened to fit, not dropped. */
    assert_true (strlen (err.msg) < 300);
    assert_non_null (strstr (err.msg, "/.../"));

    strcpy (doc, "<methodResponse><params><param>");
    p = doc + strlen (doc);
    for (int i = 0; i < levels; i++)
        p = stpcpy (p, "<value>");
    for (int i = 0; i < levels; i++)
        p = stpcpy (p, "</value>");
    strcpy (p, "</param></params></methodResponse>");
    s_expect_response_error (doc, strlen (doc), NULL, "XML-RPC: elements nested deeper than");
    free (doc);
}

static void
test_refuses_oversize (void **state)
{
    xs_xmlrpc_limits_t limits = XS_XMLRPC_DEFAULT_LIMITS;
    limits.max_string = 1000;
    size_t n = 1001;
    char *doc = malloc (n + 200);
    char *big = malloc (n + 1);
    memset (big, 'a', n);
    big [n] = '\0';
    static const char *forms [][2] = {
        { "<value>", "</value>" },
        { "<value><string>", "</string></value>" },
        { "<value><struct><member><name>", "</name><value/></member></struct></value>" },
        { "<value><base64>", "</base64></value>" },
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms [0]; i++) {
        snprintf (doc, n + 200, "<methodResponse><params><param>%s%s%s</param></params></methodResponse>",
                  forms [i][0], big, forms [i][1]);
        s_expect_response_error (doc, strlen (doc), &limits, "exceeds the limit of 1000");
        /* One byte less is fine. */
        big [n - 1] = '\0';
        if (i == 3)
            big [n - 5] = '\0';       /* base64 needs a multiple of 4 */
        snprintf (doc, n + 200, "<methodResponse><params><param>%s%s%s</param></params></methodResponse>",
                  forms [i][0], big, forms [i][1]);
        xs_err_t err;
        xs_value_t *v = xs_xmlrpc_decode_response (doc, strlen (doc), &limits, &err);
        if (!v)
            fail_msg ("%s", err.msg);
        xs_value_destroy (&v);
        memset (big, 'a', n);
    }

    /* Whole document. */
    limits = XS_XMLRPC_DEFAULT_LIMITS;
    limits.max_bytes = 100;
    snprintf (doc, n + 200, "<methodResponse><params><param><value>%.100s</value></param>"
                            "</params></methodResponse>", big);
    s_expect_response_error (doc, strlen (doc), &limits, "exceeds the limit of 100");
    free (big);
    free (doc);

    /* A 17 MiB string breaks the default 16 MiB limit. */
    size_t huge = (size_t) 17 << 20;
    doc = malloc (huge + 200);
    int at = sprintf (doc, "<methodResponse><params><param><value>");
    memset (doc + at, 'x', huge);
    strcpy (doc + at + huge, "</value></param></params></methodResponse>");
    s_expect_response_error (doc, strlen (doc), NULL, "exceeds the limit of 16777216");
    free (doc);
}

static void
test_refuses_bad_text (void **state)
{
    /* Invalid UTF-8 (a lone continuation byte, an overlong form, a truncated sequence). */
    const char *bad [] = { "\x80", "\xc0\xaf", "caf\xc3", "\xed\xa0\x80" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        s_expect_value_error (bad [i], "malformed XML");
    /* Characters XML 1.0 cannot carry, raw or as references. */
    s_expect_value_error ("a\x01" "b", "malformed XML");
    s_expect_value_error ("&#1;", "malformed XML");
    s_expect_value_error ("&#0;", "malformed XML");
    s_expect_value_error ("&#xFFFE;", "malformed XML");
}

static void
test_refuses_truncated_documents (void **state)
{
    size_t len = 0;
    char *doc = s_read_fixture ("xapi_sr_get_record.xml", &len);
    /* Every proper prefix is refused, none crashes or yields a value. */
    for (size_t cut = 0; cut < len; cut++) {
        xs_err_t err;
        xs_value_t *v = xs_xmlrpc_decode_response (doc, cut, NULL, &err);
        if (v)
            fail_msg ("a prefix of %zu bytes decoded", cut);
        assert_int_equal (err.kind, XS_EINVAL);
    }
    xs_err_t err;
    assert_null (xs_xmlrpc_decode_response (doc, 0, NULL, &err));
    assert_string_equal (err.msg, "XML-RPC: empty document");
    assert_null (xs_xmlrpc_decode_response (NULL, 5, NULL, &err));
    free (doc);
    s_expect_response_error ("<methodResponse><params>", 24, NULL, "malformed XML at line 1");
}

static void
test_refuses_bad_structure (void **state)
{
    static const struct { const char *doc; const char *expect; } cases [] = {
        { "<methodCall><methodName>x</methodName></methodCall>", "root element is <methodCall>, expected <methodResponse>" },
        { "<html/>", "root element is <html>" },
        { "<methodResponse/>", "<methodResponse> lacks <params> or <fault>" },
        { "<methodResponse><params/></methodResponse>", "<params> lacks <param>" },
        { "<methodResponse><params><param/></params></methodResponse>", "<param> lacks <value>" },
        { "<methodResponse><params><param><value>a</value></param><param><value>b</value></param>"
          "</params></methodResponse>", "more than one <param> inside <params>" },
        { "<methodResponse><params><param><value>a</value><value>b</value></param></params>"
          "</methodResponse>", "more than one <value> inside <param>" },
        { "<methodResponse><params><param><value>a</value></param></params><params/></methodResponse>",
          "more than one <params> inside <methodResponse>" },
        { "<methodResponse><result/></methodResponse>", "unexpected <result> inside <methodResponse>" },
        { "<methodResponse>text<params><param><value>a</value></param></params></methodResponse>",
          "unexpected text inside <methodResponse>" },
        { "<methodResponse><params><param><value>a</value></param></params></methodResponse><x/>",
          "malformed XML" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++)
        s_expect_response_error (cases [i].doc, strlen (cases [i].doc), NULL, cases [i].expect);

    s_expect_value_error ("<int>12a</int>", "<int> value '12a' is not an integer");
    s_expect_value_error ("<int></int>", "is not an integer");
    s_expect_value_error ("<int>0x10</int>", "is not an integer");
    s_expect_value_error ("<i4>1 2</i4>", "is not an integer");
    s_expect_value_error ("<i8>9223372036854775808</i8>", "out of the 64-bit range");
    s_expect_value_error ("<int>-9223372036854775809</int>", "out of the 64-bit range");
    s_expect_value_error ("<int>99999999999999999999999999999999999999999999999999999999999999999999</int>",
                          "too long");
    s_expect_value_error ("<boolean>2</boolean>", "neither 0 nor 1");
    s_expect_value_error ("<boolean>true</boolean>", "neither 0 nor 1");
    s_expect_value_error ("<boolean/>", "neither 0 nor 1");
    s_expect_value_error ("<double>abc</double>", "is not a number");
    s_expect_value_error ("<double>0x1p3</double>", "is not a number");
    s_expect_value_error ("<double>1.5.5</double>", "is not a number");
    s_expect_value_error ("<double></double>", "is not a number");
    s_expect_value_error ("<double>1e999</double>", "out of range");
    s_expect_value_error ("<base64>abc</base64>", "truncated");
    s_expect_value_error ("<base64>ab*d</base64>", "not base64");
    s_expect_value_error ("<base64>a===</base64>", "not base64");
    s_expect_value_error ("<base64>YQ==YQ==</base64>", "not base64");
    s_expect_value_error ("<nil>x</nil>", "unexpected text inside <nil>");
    s_expect_value_error ("<float>1</float>", "unknown value type <float>");
    s_expect_value_error ("x<string>y</string>", "unexpected text inside <value>");
    s_expect_value_error ("<string>a</string><string>b</string>", "more than one <string> inside <value>");
    s_expect_value_error ("<string><b>x</b></string>", "unexpected <b> inside <string>");
    s_expect_value_error ("<array><value>x</value></array>", "unexpected <value> inside <array>");
    s_expect_value_error ("<array><data><string>x</string></data></array>", "unexpected <string> inside <data>");
    s_expect_value_error ("<array><data/><data/></array>", "more than one <data> inside <array>");
    s_expect_value_error ("<struct><value>x</value></struct>", "unexpected <value> inside <struct>");
    s_expect_value_error ("<struct><member><name>a</name></member></struct>", "<member> lacks <value>");
    s_expect_value_error ("<struct><member><value>a</value></member></struct>", "<member> lacks <name>");
    s_expect_value_error ("<struct><member><name>a</name><name>b</name><value/></member></struct>",
                          "more than one <name> inside <member>");
    s_expect_value_error ("<struct><member><name>a</name><x/></member></struct>",
                          "unexpected <x> inside <member>");
    s_expect_value_error ("<struct><member><name>a<b/></name><value/></member></struct>",
                          "unexpected <b> inside <name>");

    /* The error names where it happened. */
    s_expect_value_error ("<struct><member><name>n</name><value><int>x</int></value></member></struct>",
                          "at /methodResponse/params/param/value/struct/member/value/int");

    static const struct { const char *doc; const char *expect; } calls [] = {
        { "<methodCall><params/></methodCall>", "<methodCall> lacks <methodName>" },
        { "<methodCall><methodName> </methodName></methodCall>", "<methodName> is empty" },
        { "<methodCall><methodName>a</methodName><methodName>b</methodName></methodCall>",
          "more than one <methodName>" },
        { "<methodCall><methodName>a</methodName><foo/></methodCall>",
          "unexpected <foo> inside <methodCall>" },
        { "<methodCall><methodName>a</methodName><params><value>x</value></params></methodCall>",
          "unexpected <value> inside <params>" },
        { "<methodCall><methodName>a</methodName><params><param/></params></methodCall>",
          "<param> lacks <value>" },
        { "<methodResponse/>", "root element is <methodResponse>, expected <methodCall>" },
        { "<methodCall><methodName>a</methodName><params><param><value><int>z</int></value></param>"
          "</params></methodCall>", "not an integer" },
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls [0]; i++) {
        xs_err_t err;
        char *method = NULL;
        xs_value_t *v = xs_xmlrpc_decode_call (calls [i].doc, strlen (calls [i].doc), NULL, &method, &err);
        if (v || !strstr (err.msg, calls [i].expect))
            fail_msg ("%s: expected '%s', got '%s'", calls [i].doc, calls [i].expect, v ? "(value)" : err.msg);
        assert_null (method);
    }
}

/* ---------------------------------------------------------------------------
 *  Encoding
 * ------------------------------------------------------------------------- */

static void
test_escapes_names_and_values (void **state)
{
    const char *nasty = "<&>\"' ]]> &amp; \r\n\t end";
    xs_value_t *st = xs_value_struct_new ();
    xs_value_set_str (st, nasty, nasty);
    xs_value_set_str (st, "</name><value>injected</value>", "</string></value><value>x");
    size_t len = 0;
    char *doc = xs_xmlrpc_encode_response (st, &len);
    assert_non_null (doc);
    /* Every markup character in names and values is escaped. */
    assert_null (strstr (doc, "<&>"));
    assert_null (strstr (doc, "injected</value>"));
    assert_non_null (strstr (doc, "<name>&lt;&amp;&gt;&quot;' ]]&gt; &amp;amp; &#13;\n\t end</name>"));
    assert_non_null (strstr (doc, "<string>&lt;/string&gt;&lt;/value&gt;&lt;value&gt;x</string>"));

    xs_err_t err;
    xs_value_t *back = xs_xmlrpc_decode_response (doc, len, NULL, &err);
    assert_non_null (back);
    assert_int_equal (xs_value_size (back), 2);
    assert_string_equal (xs_value_get_str (back, nasty), nasty);
    assert_string_equal (xs_value_get_str (back, "</name><value>injected</value>"),
                         "</string></value><value>x");
    xs_value_destroy (&back);
    free (doc);
    xs_value_destroy (&st);
}

static void
test_refuses_text_xml_cannot_carry (void **state)
{
    static const struct { const char *text; size_t len; const char *expect; } cases [] = {
        { "bell\a", 5, "holds U+0007 (byte 4), which XML 1.0 cannot carry" },
        { "nul\0x", 5, "holds U+0000 (byte 3)" },
        { "esc\x1b", 4, "holds U+001B" },
        { "\xef\xbf\xbe", 3, "holds U+FFFE" },
        { "bad\xff", 4, "is not valid UTF-8 (byte 3)" },
        { "\xc0\x80", 2, "is not valid UTF-8" },          /* overlong NUL */
        { "\xed\xa0\x80", 3, "is not valid UTF-8" },      /* surrogate */
        { "\xf4\x90\x80\x80", 4, "is not valid UTF-8" },  /* above U+10FFFF */
        { "trunc\xe2\x98", 7, "is not valid UTF-8" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        xs_value_t *st = xs_value_struct_new ();
        xs_value_t *list = xs_value_array_new ();
        xs_value_append_str (list, "fine");
        xs_value_t *s = xs_value_string_newn (cases [i].text, cases [i].len);
        xs_value_append (list, &s);
        xs_value_set (st, "name_label", &list);
        size_t len = 7;
        assert_null (xs_xmlrpc_encode_response (st, &len));
        assert_int_equal (len, 0);
        xs_err_t err;
        assert_int_equal (xs_xmlrpc_encodable (st, &err), -1);
        assert_int_equal (err.kind, XS_EINVAL);
        if (!strstr (err.msg, cases [i].expect) || !strstr (err.msg, "string at value.name_label[1]"))
            fail_msg ("case %zu: %s", i, err.msg);
        xs_value_destroy (&st);
    }
    /* Member names, method names and dateTimes are checked too. */
    xs_value_t *st = xs_value_struct_new ();
    xs_value_set_str (st, "key\x02", "v");
    xs_err_t err;
    assert_int_equal (xs_xmlrpc_encodable (st, &err), -1);
    assert_non_null (strstr (err.msg, "member name at value.key"));
    xs_value_destroy (&st);
    assert_null (xs_xmlrpc_encode_call ("m\x01", NULL, NULL));
    xs_value_t *when = xs_value_datetime_new ("2012\x03");
    assert_null (xs_xmlrpc_encode_response (when, NULL));
    xs_value_destroy (&when);

    /* Tab, LF, CR and the whole Unicode range are fine. */
    xs_value_t *ok = xs_value_string_new ("\t\n\r \xe2\x82\xac \xf4\x8f\xbf\xbf \xef\xbf\xbd");
    assert_int_equal (xs_xmlrpc_encodable (ok, &err), 0);
    size_t len = 0;
    char *doc = xs_xmlrpc_encode_response (ok, &len);
    xs_value_t *back = xs_xmlrpc_decode_response (doc, len, NULL, &err);
    assert_true (xs_value_equal (ok, back));
    free (doc);
    xs_value_destroy (&back);
    xs_value_destroy (&ok);
}

/* ---------------------------------------------------------------------------
 *  Threads
 * ------------------------------------------------------------------------- */

static void *
s_decode_many (void *arg)
{
    const char *doc = arg;
    for (int i = 0; i < 200; i++) {
        xs_err_t err;
        xs_value_t *v = xs_xmlrpc_decode_response (doc, strlen (doc), NULL, &err);
        if (!v || strcmp (xs_value_get_str (xs_value_get (v, "Value"), "name_label"), "NFS <gold> & co"))
            return (void *) "bad decode";
        xs_value_destroy (&v);
        /* A refused document on every thread too. */
        if (xs_xmlrpc_decode_response ("<!DOCTYPE x><x/>", 16, NULL, &err) || !strstr (err.msg, "DOCTYPE"))
            return (void *) "DTD not refused";
    }
    return NULL;
}

/* The agent decodes on several worker threads at once. */
static void
test_concurrent_decoding (void **state)
{
    size_t len = 0;
    char *doc = s_read_fixture ("xapi_sr_get_record.xml", &len);
    pthread_t threads [4];
    for (int i = 0; i < 4; i++)
        assert_int_equal (pthread_create (&threads [i], NULL, s_decode_many, doc), 0);
    for (int i = 0; i < 4; i++) {
        void *result = NULL;
        assert_int_equal (pthread_join (threads [i], &result), 0);
        if (result)
            fail_msg ("thread %d: %s", i, (const char *) result);
    }
    free (doc);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_response_round_trip_every_type),
        cmocka_unit_test (test_call_without_params),
        cmocka_unit_test (test_depth_limit_is_exact),
        cmocka_unit_test (test_decode_untyped_and_typed_forms),
        cmocka_unit_test (test_decode_double_base64_containers),
        cmocka_unit_test (test_xapi_compact_fixtures),
        cmocka_unit_test (test_python_fixtures),
        cmocka_unit_test (test_faults),
        cmocka_unit_test (test_refuses_dtds_and_entities),
        cmocka_unit_test (test_refuses_deep_nesting),
        cmocka_unit_test (test_refuses_oversize),
        cmocka_unit_test (test_refuses_bad_text),
        cmocka_unit_test (test_refuses_truncated_documents),
        cmocka_unit_test (test_refuses_bad_structure),
        cmocka_unit_test (test_escapes_names_and_values),
        cmocka_unit_test (test_refuses_text_xml_cannot_carry),
        cmocka_unit_test (test_concurrent_decoding),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
