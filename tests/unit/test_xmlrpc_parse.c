/*  Unit tests of the guarded parse under xs_xmlrpc's decoders
    (common/xs_xmlrpc_parse.c), through the public decoders: DTDs and
    entities, nesting, size limits, text XML cannot carry and truncated
    documents are refused with an error that says which. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/xs_xmlrpc.h"
#include "xmlrpc_fixture.h"

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
        xmlrpc_expect_response_error (docs [i], strlen (docs [i]), NULL,
                                 "XML-RPC: document type declarations (DOCTYPE");

    /* Without a DTD, only the five predefined entities exist. */
    xmlrpc_expect_value_error ("&lol;", "malformed XML");
    xmlrpc_expect_value_error ("&nbsp;", "malformed XML");

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
    xmlrpc_expect_response_error (doc, strlen (doc), NULL,
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
    xmlrpc_expect_response_error (doc, strlen (doc), NULL, "XML-RPC: elements nested deeper than");
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
        xmlrpc_expect_response_error (doc, strlen (doc), &limits, "exceeds the limit of 1000");
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
    xmlrpc_expect_response_error (doc, strlen (doc), &limits, "exceeds the limit of 100");
    free (big);
    free (doc);

    /* A 17 MiB string breaks the default 16 MiB limit. */
    size_t huge = (size_t) 17 << 20;
    doc = malloc (huge + 200);
    int at = sprintf (doc, "<methodResponse><params><param><value>");
    memset (doc + at, 'x', huge);
    strcpy (doc + at + huge, "</value></param></params></methodResponse>");
    xmlrpc_expect_response_error (doc, strlen (doc), NULL, "exceeds the limit of 16777216");
    free (doc);
}

static void
test_refuses_bad_text (void **state)
{
    /* Invalid UTF-8 (a lone continuation byte, an overlong form, a truncated sequence). */
    const char *bad [] = { "\x80", "\xc0\xaf", "caf\xc3", "\xed\xa0\x80" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        xmlrpc_expect_value_error (bad [i], "malformed XML");
    /* Characters XML 1.0 cannot carry, raw or as references. */
    xmlrpc_expect_value_error ("a\x01" "b", "malformed XML");
    xmlrpc_expect_value_error ("&#1;", "malformed XML");
    xmlrpc_expect_value_error ("&#0;", "malformed XML");
    xmlrpc_expect_value_error ("&#xFFFE;", "malformed XML");
}

static void
test_refuses_truncated_documents (void **state)
{
    size_t len = 0;
    char *doc = xmlrpc_fixture_read ("xapi_sr_get_record.xml", &len);
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
    xmlrpc_expect_response_error ("<methodResponse><params>", 24, NULL, "malformed XML at line 1");
}
int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_refuses_dtds_and_entities),
        cmocka_unit_test (test_refuses_deep_nesting),
        cmocka_unit_test (test_refuses_oversize),
        cmocka_unit_test (test_refuses_bad_text),
        cmocka_unit_test (test_refuses_truncated_documents),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
