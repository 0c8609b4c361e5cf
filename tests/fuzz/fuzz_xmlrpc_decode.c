/*  libFuzzer target for the XML-RPC decoder (xs_xmlrpc_decode_call and
    xs_xmlrpc_decode_response).

    Any input must decode to a value or to a clear error, never crash, leak
    or trip a sanitizer. A value that decodes must re-encode (everything a
    parser accepted is text XML can carry) and decode again to an equal value
    and the same method name.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xs_xmlrpc.h"

/* The limits for decoding a re-encoded document: the same depth and string
   bounds, but the typed form we write may be longer than the input was. */
static xs_xmlrpc_limits_t
s_again_limits (const xs_xmlrpc_limits_t *limits)
{
    xs_xmlrpc_limits_t again = limits ? *limits : XS_XMLRPC_DEFAULT_LIMITS;
    again.max_bytes = XS_XMLRPC_DEFAULT_LIMITS.max_bytes;
    return again;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_die (const char *what, const char *detail)
{
    fprintf (stderr, "fuzz_xmlrpc_decode: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort ();
}

static void
s_check_error (const xs_err_t *err)
{
    if (err->kind != XS_EINVAL && err->kind != XS_EXAPI)
        s_die ("unexpected error kind", xs_errkind_name (err->kind));
    if (strncmp (err->msg, "XML-RPC", 7) != 0)
        s_die ("error message does not start with XML-RPC", err->msg);
}

static void
s_call (const char *doc, size_t len, const xs_xmlrpc_limits_t *limits)
{
    xs_err_t err;
    char *method = NULL, *method2 = NULL, *again = NULL;
    size_t again_len = 0;
    xs_err_clear (&err);
    xs_value_t *params = xs_xmlrpc_decode_call (doc, len, limits, &method, &err);
    if (!params) {
        if (method)
            s_die ("failed decode_call left a method name", method);
        s_check_error (&err);
        return;
    }
    if (!method || xs_value_type (params) != XS_VALUE_ARRAY)
        s_die ("decode_call gave no method or non-array params", NULL);
    again = xs_xmlrpc_encode_call (method, params, &again_len);
    if (!again) {
        xs_xmlrpc_encodable (params, &err);
        s_die ("a decoded call does not re-encode", err.msg);
    }
    xs_xmlrpc_limits_t again_limits = s_again_limits (limits);
    xs_value_t *params2 = xs_xmlrpc_decode_call (again, again_len, &again_limits, &method2, &err);
    if (!params2)
        s_die ("a re-encoded call does not decode", err.msg);
    if (strcmp (method, method2) != 0)
        s_die ("method name changed in a round trip", method2);
    if (!xs_value_equal (params, params2))
        s_die ("params changed in a round trip", again);
    xs_value_destroy (&params2);
    xs_value_destroy (&params);
    free (method2);
    free (method);
    free (again);
}

static void
s_response (const char *doc, size_t len, const xs_xmlrpc_limits_t *limits)
{
    xs_err_t err;
    char *again = NULL;
    size_t again_len = 0;
    xs_err_clear (&err);
    xs_value_t *value = xs_xmlrpc_decode_response (doc, len, limits, &err);
    if (!value) {
        s_check_error (&err);
        return;
    }
    again = xs_xmlrpc_encode_response (value, &again_len);
    if (!again) {
        xs_xmlrpc_encodable (value, &err);
        s_die ("a decoded response does not re-encode", err.msg);
    }
    xs_xmlrpc_limits_t again_limits = s_again_limits (limits);
    xs_value_t *value2 = xs_xmlrpc_decode_response (again, again_len, &again_limits, &err);
    if (!value2)
        s_die ("a re-encoded response does not decode", err.msg);
    if (!xs_value_equal (value, value2))
        s_die ("value changed in a round trip", again);
    xs_value_destroy (&value2);
    xs_value_destroy (&value);
    free (again);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    /* The defaults, and small limits so that their checks get exercised. */
    static const xs_xmlrpc_limits_t small = { .max_bytes = 2048, .max_depth = 4, .max_string = 64 };
    const char *doc = (const char *) data;
    s_call (doc, size, NULL);
    s_response (doc, size, NULL);
    s_call (doc, size, &small);
    s_response (doc, size, &small);
    return 0;
}
