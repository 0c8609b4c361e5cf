/*  xs_xmlrpc_parse: the guarded libxml2 parse under xs_xmlrpc's decoders
    (internal to common/; the API is xs_xmlrpc.h).

    A parse state carries the limits, the caller's xs_err_t and the first
    error: every failure, in the parse or in the decoders' walk of the tree,
    goes through it, so the first one wins and names where it happened.
*/
#ifndef XS_XMLRPC_PARSE_H_INCLUDED
#define XS_XMLRPC_PARSE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "xs_err.h"
#include "xs_xmlrpc.h"

typedef struct {
    const xs_xmlrpc_limits_t *limits;
    xs_err_t *err;
    bool failed;                /* set once; the first error wins */
    int nest;                   /* arrays and structs open during the parse */
    int elements;               /* elements open during the parse */
    int max_elements;
    char xml_error [400];       /* libxml2's first error, one line */
    int xml_line;
} xs_xmlrpc_parse_t;

/* A fresh state for one document; limits NULL means the defaults; err may
   be NULL. */
void xs_xmlrpc_parse_init (xs_xmlrpc_parse_t *dec, const xs_xmlrpc_limits_t *limits,
                           xs_err_t *err);

/* Records "XML-RPC: <what> at <node's path>" (XS_EINVAL) unless an error is
   already recorded. Returns -1. */
int xs_xmlrpc_parse_fail (xs_xmlrpc_parse_t *dec, xmlNodePtr node, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Parses doc [0..len) into a tree (caller frees with xmlFreeDoc), or NULL
   with the failure recorded in dec: empty or oversized documents, DTDs,
   entity declarations, nesting over the limits and malformed XML. */
xmlDocPtr xs_xmlrpc_parse_doc (xs_xmlrpc_parse_t *dec, const char *doc, size_t len);

#endif
