/*  xmlrpc_fixture: fixture files and expected refusals for the XML-RPC
    codec's tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xmlrpc_fixture.h"

char *
xmlrpc_fixture_read (const char *name, size_t *len_p)
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

void
xmlrpc_expect_response_error (const char *doc, size_t len, const xs_xmlrpc_limits_t *limits,
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

void
xmlrpc_expect_value_error (const char *inner, const char *expect)
{
    char *doc = NULL;
    assert_true (asprintf (&doc, "<methodResponse><params><param><value>%s</value></param>"
                                 "</params></methodResponse>", inner) > 0);
    xmlrpc_expect_response_error (doc, strlen (doc), NULL, expect);
    free (doc);
}
