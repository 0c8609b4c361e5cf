/*  xmlrpc_fixture: what the XML-RPC codec's tests (test_xmlrpc,
    test_xmlrpc_parse) share: the fixture files and the expected refusals. */
#ifndef XMLRPC_FIXTURE_H_INCLUDED
#define XMLRPC_FIXTURE_H_INCLUDED

#include <stddef.h>

#include "common/xs_xmlrpc.h"

/* The bytes of tests/unit/fixtures/xmlrpc/<name>, NUL-terminated (caller
   frees); *len_p gets their count. Fails the test when unreadable. */
char *xmlrpc_fixture_read (const char *name, size_t *len_p);

/* Expects decoding doc [0..len) as a response to fail (XS_EINVAL) with a
   message holding `expect`. */
void xmlrpc_expect_response_error (const char *doc, size_t len,
                                   const xs_xmlrpc_limits_t *limits, const char *expect);

/* The same for a response whose one value is <value>inner</value>. */
void xmlrpc_expect_value_error (const char *inner, const char *expect);

#endif
