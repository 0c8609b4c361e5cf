/*  xs_xmlrpc_tool: decodes an XML-RPC document from stdin with xs_xmlrpc and
    writes it back out re-encoded, so tests can check our codec against
    another implementation (Python's xmlrpc.client).

    Usage: xs_xmlrpc_tool call|response < document
    Exit status: 0 re-encoded on stdout; 1 refused (message on stderr);
    3 the document was a fault (message on stderr); 2 usage.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xs_xmlrpc.h"

static char *
s_read_all (FILE *file, size_t *len_p)
{
    size_t len = 0, cap = 65536;
    char *data = malloc (cap);
    if (!data)
        return NULL;
    size_t got;
    while ((got = fread (data + len, 1, cap - len, file)) > 0) {
        len += got;
        if (len == cap) {
            char *bigger = realloc (data, cap * 2);
            if (!bigger) {
                free (data);
                return NULL;
            }
            data = bigger;
            cap *= 2;
        }
    }
    *len_p = len;
    return data;
}

int
main (int argc, char **argv)
{
    if (argc != 2 || (strcmp (argv [1], "call") && strcmp (argv [1], "response"))) {
        fprintf (stderr, "usage: xs_xmlrpc_tool call|response < document\n");
        return 2;
    }
    size_t len = 0;
    char *doc = s_read_all (stdin, &len);
    if (!doc) {
        fprintf (stderr, "xs_xmlrpc_tool: cannot read stdin\n");
        return 1;
    }
    xs_err_t err;
    xs_err_clear (&err);
    xs_value_t *value = NULL;
    char *method = NULL;
    char *out = NULL;
    size_t out_len = 0;
    int rc = 1;
    if (strcmp (argv [1], "call") == 0) {
        value = xs_xmlrpc_decode_call (doc, len, NULL, &method, &err);
        if (value)
            out = xs_xmlrpc_encode_call (method, value, &out_len);
    }
    else {
        value = xs_xmlrpc_decode_response (doc, len, NULL, &err);
        if (value)
            out = xs_xmlrpc_encode_response (value, &out_len);
    }
    if (!value) {
        fprintf (stderr, "%s\n", err.msg);
        rc = err.kind == XS_EXAPI ? 3 : 1;
    }
    else
    if (!out) {
        xs_xmlrpc_encodable (value, &err);
        fprintf (stderr, "%s\n", err.msg);
    }
    else
    if (fwrite (out, 1, out_len, stdout) == out_len && fflush (stdout) == 0)
        rc = 0;
    free (out);
    free (method);
    free (doc);
    xs_value_destroy (&value);
    return rc;
}
