/*  xs_xmlrpc_parse: the guarded libxml2 parse under xs_xmlrpc's decoders.

    The whole document is parsed with libxml2 into a tree (xmlParseDocument
    on a memory context) that xs_xmlrpc_dec walks. Three SAX hooks guard the
    parse itself, before any tree exists for the offending part: a DOCTYPE
    (internal or external subset) or entity declaration stops the parser at
    once, so no entity is ever declared, expanded or loaded, and the element
    start hook stops it as soon as arrays/structs nest deeper than
    limits.max_depth (or elements nest deeper than any valid document can),
    naming the path. XML_PARSE_NONET forbids network access; XML_PARSE_NOENT
    and DTD loading are never enabled. libxml2's own checks refuse invalid
    UTF-8, characters XML 1.0 cannot carry, undeclared entities and
    truncated documents.
*/
#include "xs_xmlrpc_parse.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>

const xs_xmlrpc_limits_t XS_XMLRPC_DEFAULT_LIMITS = {
    .max_bytes  = (size_t) 64 << 20,
    .max_depth  = 64,
    .max_string = (size_t) 16 << 20,
};

/* Longest path quoted in an error message. */
#define S_PATH_MAX 160

/* The path of node (plus "/extra" when given), cut in the middle when long. */
static void
s_node_path (xmlNodePtr node, const char *extra, char *path, size_t size)
{
    xmlChar *full = node ? xmlGetNodePath (node) : NULL;
    char joined [4096];
    snprintf (joined, sizeof joined, "%s%s%s",
              full && strcmp ((const char *) full, "/") ? (const char *) full : "",
              extra ? "/" : "", extra ? extra : "");
    xmlFree (full);
    size_t len = strlen (joined);
    if (len < size && len < S_PATH_MAX) {
        snprintf (path, size, "%s", joined);
        return;
    }
    /* Keep the start and the end: "/methodResponse/params/.../value/int". */
    size_t keep = (size < S_PATH_MAX ? size : S_PATH_MAX) - 8;
    size_t head = keep * 2 / 3, tail = keep - head;
    snprintf (path, size, "%.*s/.../%s", (int) head, joined, joined + len - tail);
}

int
xs_xmlrpc_parse_fail (xs_xmlrpc_parse_t *dec, xmlNodePtr node, const char *fmt, ...)
{
    if (dec->failed)
        return -1;
    dec->failed = true;
    char what [XS_ERR_MSG_MAX];
    char path [S_PATH_MAX + 8];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (what, sizeof what, fmt, ap);
    va_end (ap);
    s_node_path (node, NULL, path, sizeof path);
    return xs_err_set (dec->err, XS_EINVAL, "XML-RPC: %s at %s", what, path);
}

/* ---- SAX guards ---------------------------------------------------------- */

static void
s_sax_refuse_dtd (void *ctx, const xmlChar *name, const xmlChar *external_id,
                  const xmlChar *system_id)
{
    xmlParserCtxtPtr ctxt = ctx;
    xs_xmlrpc_parse_t *dec = ctxt->_private;
    if (!dec->failed) {
        dec->failed = true;
        xs_err_set (dec->err, XS_EINVAL,
                    "XML-RPC: document type declarations (DOCTYPE %s) are not accepted",
                    name ? (const char *) name : "");
    }
    xmlStopParser (ctxt);
}

static void
s_sax_refuse_entity (void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                     const xmlChar *system_id, xmlChar *content)
{
    xmlParserCtxtPtr ctxt = ctx;
    xs_xmlrpc_parse_t *dec = ctxt->_private;
    if (!dec->failed) {
        dec->failed = true;
        xs_err_set (dec->err, XS_EINVAL, "XML-RPC: entity declarations (%s) are not accepted",
                    name ? (const char *) name : "");
    }
    xmlStopParser (ctxt);
}

static bool
s_nests (const xmlChar *name)
{
    return strcmp ((const char *) name, "array") == 0 || strcmp ((const char *) name, "struct") == 0;
}

static void
s_sax_start (void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
             int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
             int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxtPtr ctxt = ctx;
    xs_xmlrpc_parse_t *dec = ctxt->_private;
    if (dec->failed)
        return;
    int nest = dec->nest + (s_nests (localname) ? 1 : 0);
    if (nest > dec->limits->max_depth || dec->elements + 1 > dec->max_elements) {
        char path [S_PATH_MAX + 8];
        s_node_path (ctxt->node, (const char *) localname, path, sizeof path);
        dec->failed = true;
        if (nest > dec->limits->max_depth)
            xs_err_set (dec->err, XS_EINVAL, "XML-RPC: nesting deeper than %d at %s",
                        dec->limits->max_depth, path);
        else
            xs_err_set (dec->err, XS_EINVAL, "XML-RPC: elements nested deeper than %d at %s",
                        dec->max_elements, path);
        xmlStopParser (ctxt);
        return;
    }
    dec->nest = nest;
    dec->elements++;
    xmlSAX2StartElementNs (ctx, localname, prefix, uri, nb_namespaces, namespaces,
                           nb_attributes, nb_defaulted, attributes);
}

static void
s_sax_end (void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    xmlParserCtxtPtr ctxt = ctx;
    xs_xmlrpc_parse_t *dec = ctxt->_private;
    if (s_nests (localname))
        dec->nest--;
    dec->elements--;
    xmlSAX2EndElementNs (ctx, localname, prefix, uri);
}

static void
s_sax_error (void *data, xmlErrorPtr error)
{
    xmlParserCtxtPtr ctxt = data;
    xs_xmlrpc_parse_t *dec = ctxt ? ctxt->_private : NULL;
    if (!dec || !error || error->level < XML_ERR_ERROR || dec->xml_error [0])
        return;
    snprintf (dec->xml_error, sizeof dec->xml_error, "%s",
              error->message ? error->message : "unknown error");
    dec->xml_error [strcspn (dec->xml_error, "\n")] = '\0';
    dec->xml_line = error->line;
}

static pthread_once_t s_xml_init_once = PTHREAD_ONCE_INIT;

xmlDocPtr
xs_xmlrpc_parse_doc (xs_xmlrpc_parse_t *dec, const char *doc, size_t len)
{
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr tree = NULL;
    if (!doc || len == 0) {
        dec->failed = true;
        xs_err_set (dec->err, XS_EINVAL, "XML-RPC: empty document");
        goto out;
    }
    if (len > dec->limits->max_bytes || len > INT_MAX) {
        dec->failed = true;
        xs_err_set (dec->err, XS_EINVAL, "XML-RPC: document of %zu bytes exceeds the limit of %zu",
                    len, dec->limits->max_bytes < INT_MAX ? dec->limits->max_bytes : (size_t) INT_MAX);
        goto out;
    }
    /* libxml2's first-time initialisation is not thread-safe; the agent
       decodes on several worker threads. */
    pthread_once (&s_xml_init_once, xmlInitParser);
    ctxt = xmlCreateMemoryParserCtxt (doc, (int) len);
    if (!ctxt) {
        dec->failed = true;
        xs_err_set (dec->err, XS_EINTERNAL, "XML-RPC: cannot create a libxml2 parser");
        goto out;
    }
    /* No NOENT (entities stay unexpanded), no DTDLOAD/DTDATTR/DTDVALID, no
       XInclude. HUGE lifts libxml2's 10 MB text node cap: our own limits
       bound the document, strings and depth. NOCDATA merges CDATA into text. */
    if (xmlCtxtUseOptions (ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_HUGE
                               | XML_PARSE_COMPACT | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)) {
        dec->failed = true;
        xs_err_set (dec->err, XS_EINTERNAL, "XML-RPC: libxml2 refused the parser options");
        goto out;
    }
    ctxt->_private = dec;
    ctxt->sax->internalSubset = s_sax_refuse_dtd;
    ctxt->sax->externalSubset = s_sax_refuse_dtd;
    ctxt->sax->entityDecl = s_sax_refuse_entity;
    ctxt->sax->startElementNs = s_sax_start;
    ctxt->sax->endElementNs = s_sax_end;
    ctxt->sax->serror = s_sax_error;
    ctxt->vctxt.error = NULL;
    ctxt->vctxt.warning = NULL;

    int rc = xmlParseDocument (ctxt);
    tree = ctxt->myDoc;
    ctxt->myDoc = NULL;
    if (dec->failed)
        goto out;
    if (rc != 0 || !ctxt->wellFormed || !tree) {
        dec->failed = true;
        if (dec->xml_error [0])
            xs_err_set (dec->err, XS_EINVAL, "XML-RPC: malformed XML at line %d: %s",
                        dec->xml_line, dec->xml_error);
        else
            xs_err_set (dec->err, XS_EINVAL, "XML-RPC: malformed XML");
        goto out;
    }
    if (tree->intSubset || tree->extSubset) {
        dec->failed = true;
        xs_err_set (dec->err, XS_EINVAL, "XML-RPC: document type declarations are not accepted");
    }
out:
    if (dec->failed && tree) {
        xmlFreeDoc (tree);
        tree = NULL;
    }
    if (ctxt)
        xmlFreeParserCtxt (ctxt);
    return tree;
}

void
xs_xmlrpc_parse_init (xs_xmlrpc_parse_t *dec, const xs_xmlrpc_limits_t *limits, xs_err_t *err)
{
    memset (dec, 0, sizeof *dec);
    dec->limits = limits ? limits : &XS_XMLRPC_DEFAULT_LIMITS;
    dec->err = err;
    /* The deepest valid document: methodResponse/params/param/value, then
       value/array/data/value or value/struct/member/value per level, then a
       typed element. Anything deeper is refused while parsing. */
    int depth = dec->limits->max_depth > 0 ? dec->limits->max_depth : 0;
    dec->max_elements = depth > (INT_MAX - 16) / 3 ? INT_MAX : 3 * depth + 6;
}
