/*  xs_xmlrpc: XML-RPC documents <-> xs_value trees, on libxml2. Encoding is
    xs_xmlrpc_enc.c; decoding is xs_xmlrpc_dec.c over the guarded parse of
    xs_xmlrpc_parse.c (internal header xs_xmlrpc_parse.h).

    Decoding accepts untyped `<value>x</value>` and `<value/>` (xapi's compact
    form, both meaning a string) as well as typed values (Python's form),
    tolerates whitespace between elements, refuses DTDs and entity
    declarations, never touches the network, and is bounded: a document over
    limits.max_bytes, nested deeper than limits.max_depth or holding a string
    longer than limits.max_string is refused with a clear error. Invalid UTF-8
    is refused.

    Encoding escapes every string, struct member names included, and always
    writes typed values (<string>, <int> or <i8>-free decimal <int>, <boolean>,
    <double>, <dateTime.iso8601>, <base64>, <nil/>, <array>, <struct>).
    Encoded documents are malloc'd NUL-terminated text; *len_p (when not NULL)
    gets the length without the NUL. Caller frees with free().
    Integers are always written as <int> with their full 64-bit decimal value
    (never <i4>/<i8>; xapi and Python read any width); a caller that needs
    xapi's int64-as-string convention makes a string value.
    Text that XML 1.0 cannot carry (invalid UTF-8, NUL and the other C0
    controls except tab, LF and CR, U+FFFE, U+FFFF) is never replaced or
    written raw: the encoders return NULL, and xs_xmlrpc_encodable names the
    offending string. CR is written as &#13; so it survives a round trip.
*/
#ifndef XS_XMLRPC_H_INCLUDED
#define XS_XMLRPC_H_INCLUDED

#include <stddef.h>

#include "xs_err.h"
#include "xs_value.h"

typedef struct {
    size_t max_bytes;       /* whole document                        */
    int    max_depth;       /* nesting of arrays and structs         */
    size_t max_string;      /* one string, member name or base64 text */
} xs_xmlrpc_limits_t;

/* 64 MiB document, depth 64, 16 MiB string. */
extern const xs_xmlrpc_limits_t XS_XMLRPC_DEFAULT_LIMITS;

/* <methodCall> with methodName `method` and `params` (an array value whose
   items become the <param>s; NULL means none). NULL when method is NULL,
   params is not an array, or any text cannot be carried by XML. */
char *xs_xmlrpc_encode_call (const char *method, const xs_value_t *params, size_t *len_p);

/* <methodResponse><params><param>value</param></params></methodResponse>.
   NULL when a string in value cannot be carried by XML. */
char *xs_xmlrpc_encode_response (const xs_value_t *value, size_t *len_p);

/* <methodResponse><fault> with faultCode and faultString (NULL text = "").
   NULL when text cannot be carried by XML. */
char *xs_xmlrpc_encode_fault (int code, const char *text, size_t *len_p);

/* 0 when every string, member name and dateTime in value can be encoded;
   else -1 and err names the first one that cannot and why, e.g.
   "XML-RPC: string at value.name_label holds U+0001 (byte 3), which XML 1.0
   cannot carry". */
int xs_xmlrpc_encodable (const xs_value_t *value, xs_err_t *err);

/* Parses a <methodCall>. Returns its params as an array value (caller owns)
   and stores the method name in *method_p (caller frees). NULL + err on any
   error; limits NULL means the defaults. */
xs_value_t *xs_xmlrpc_decode_call (const char *doc, size_t len, const xs_xmlrpc_limits_t *limits,
                                   char **method_p, xs_err_t *err);

/* Parses a <methodResponse>. Returns the one param's value (caller owns).
   A <fault> gives NULL with err kind XS_EXAPI and message
   "XML-RPC fault <code>: <string>"; anything malformed gives XS_EINVAL. */
xs_value_t *xs_xmlrpc_decode_response (const char *doc, size_t len, const xs_xmlrpc_limits_t *limits,
                                       xs_err_t *err);

#endif
