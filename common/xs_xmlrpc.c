/*  xs_xmlrpc: XML-RPC documents <-> xs_value trees, on libxml2.

    Decoding parses the whole document with libxml2 into a tree
    (xmlParseDocument on a memory context) and walks it. Three SAX hooks
    guard the parse itself, before any tree exists for the offending part:
    a DOCTYPE (internal or external subset) or entity declaration stops the
    parser at once, so no entity is ever declared, expanded or loaded, and
    the element start hook stops it as soon as arrays/structs nest deeper than
    limits.max_depth (or elements nest deeper than any valid document can),
    naming the path. XML_PARSE_NONET forbids network access; XML_PARSE_NOENT
    and DTD loading are never enabled. libxml2's own checks refuse invalid
    UTF-8, characters XML 1.0 cannot carry, undeclared entities and
    truncated documents.

    Encoding writes into a growing buffer; every piece of text (method names,
    strings, member names, dateTimes, fault strings) first goes through
    s_check_text (valid UTF-8, only characters XML 1.0 can carry) and then,
    when it holds any of < > & " or CR, through libxml2's
    xmlEncodeSpecialChars. CR is written as &#13; so it survives a parser's
    line-end normalisation. Text XML cannot carry makes the encoder return
    NULL (xs_xmlrpc_encodable says why): silently replacing characters would
    lose data, and writing them raw would make a document no parser accepts.
*/
#include "xs_mem.h"
#include "xs_xmlrpc.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

const xs_xmlrpc_limits_t XS_XMLRPC_DEFAULT_LIMITS = {
    .max_bytes  = (size_t) 64 << 20,
    .max_depth  = 64,
    .max_string = (size_t) 16 << 20,
};

/* Longest path quoted in an error message. */
#define S_PATH_MAX 160

/* ===========================================================================
 *  Encoding
 * ========================================================================= */

typedef struct {
    char *data;
    size_t len, cap;
} s_buf_t;

static void
s_buf_reserve (s_buf_t *buf, size_t more)
{
    if (buf->len + more + 1 <= buf->cap)
        return;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < buf->len + more + 1)
        cap *= 2;
    char *data = xs_realloc (buf->data, cap);
    buf->data = data;
    buf->cap = cap;
}

static void
s_buf_add (s_buf_t *buf, const char *text, size_t len)
{
    s_buf_reserve (buf, len);
    memcpy (buf->data + buf->len, text, len);
    buf->len += len;
    buf->data [buf->len] = '\0';
}

static void
s_buf_adds (s_buf_t *buf, const char *text)
{
    s_buf_add (buf, text, strlen (text));
}

/* Checks that text [0..len) is valid UTF-8 holding only characters XML 1.0
   can carry (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF).
   Returns 0, or -1 with *bad_at and *bad_char describing the first offender
   (*bad_char is -1 for a malformed UTF-8 sequence). *special is set when the
   text holds a character that must be escaped (< > & " CR). */
static int
s_check_text (const char *text, size_t len, bool *special, size_t *bad_at, long *bad_char)
{
    const unsigned char *s = (const unsigned char *) text;
    bool spec = false;
    size_t i = 0;
    while (i < len) {
        unsigned c = s [i];
        if (c < 0x80) {
            if (c < 0x20 && c != 0x9 && c != 0xA && c != 0xD) {
                *bad_at = i, *bad_char = (long) c;
                return -1;
            }
            if (c == '<' || c == '>' || c == '&' || c == '"' || c == '\r')
                spec = true;
            i++;
            continue;
        }
        size_t n;
        unsigned long cp, min;
        if ((c & 0xE0) == 0xC0)      n = 2, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07, min = 0x10000;
        else {
            *bad_at = i, *bad_char = -1;
            return -1;
        }
        if (len - i < n) {
            *bad_at = i, *bad_char = -1;
            return -1;
        }
        for (size_t k = 1; k < n; k++) {
            if ((s [i + k] & 0xC0) != 0x80) {
                *bad_at = i, *bad_char = -1;
                return -1;
            }
            cp = (cp << 6) | (s [i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            *bad_at = i, *bad_char = -1;
            return -1;
        }
        if (cp == 0xFFFE || cp == 0xFFFF) {
            *bad_at = i, *bad_char = (long) cp;
            return -1;
        }
        i += n;
    }
    *special = spec;
    return 0;
}

typedef struct {
    s_buf_t buf;
    xs_err_t *err;              /* may be NULL */
    bool failed;
    char path [S_PATH_MAX];     /* where we are, for error messages */
} s_enc_t;

static void
s_enc_fail_text (s_enc_t *enc, const char *what, size_t bad_at, long bad_char)
{
    if (enc->failed)
        return;
    enc->failed = true;
    if (bad_char < 0)
        xs_err_set (enc->err, XS_EINVAL,
                    "XML-RPC: %s at %s is not valid UTF-8 (byte %zu)", what, enc->path, bad_at);
    else
        xs_err_set (enc->err, XS_EINVAL,
                    "XML-RPC: %s at %s holds U+%04lX (byte %zu), which XML 1.0 cannot carry",
                    what, enc->path, (unsigned long) bad_char, bad_at);
}

/* Appends text escaped for element content. */
static void
s_enc_text (s_enc_t *enc, const char *what, const char *text, size_t len)
{
    bool special = false;
    size_t bad_at = 0;
    long bad_char = 0;
    if (s_check_text (text, len, &special, &bad_at, &bad_char)) {
        s_enc_fail_text (enc, what, bad_at, bad_char);
        return;
    }
    if (!special) {
        s_buf_add (&enc->buf, text, len);
        return;
    }
    /* No NUL inside (checked above), so the C string is the whole text. */
    xmlChar *escaped = xmlEncodeSpecialChars (NULL, (const xmlChar *) text);
    if (!escaped) {
        fprintf (stderr, "xensm: out of memory escaping %zu bytes\n", len);
        abort ();
    }
    s_buf_adds (&enc->buf, (const char *) escaped);
    xmlFree (escaped);
}

static void
s_enc_base64 (s_enc_t *enc, const unsigned char *data, size_t len)
{
    static const char alphabet [] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    s_buf_reserve (&enc->buf, (len + 2) / 3 * 4);
    char *out = enc->buf.data + enc->buf.len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t) data [i] << 16 | (uint32_t) data [i + 1] << 8 | data [i + 2];
        *out++ = alphabet [v >> 18];
        *out++ = alphabet [(v >> 12) & 63];
        *out++ = alphabet [(v >> 6) & 63];
        *out++ = alphabet [v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t) data [i] << 16;
        *out++ = alphabet [v >> 18];
        *out++ = alphabet [(v >> 12) & 63];
        *out++ = '=';
        *out++ = '=';
    }
    else
    if (len - i == 2) {
        uint32_t v = (uint32_t) data [i] << 16 | (uint32_t) data [i + 1] << 8;
        *out++ = alphabet [v >> 18];
        *out++ = alphabet [(v >> 12) & 63];
        *out++ = alphabet [(v >> 6) & 63];
        *out++ = '=';
    }
    enc->buf.len = (size_t) (out - enc->buf.data);
    enc->buf.data [enc->buf.len] = '\0';
}

/* Shortest of %.15g, %.16g, %.17g that reads back as the same double. */
static void
s_enc_double (s_enc_t *enc, double d)
{
    char text [40];
    if (isnan (d))
        snprintf (text, sizeof text, "nan");
    else
    if (isinf (d))
        snprintf (text, sizeof text, d < 0 ? "-inf" : "inf");
    else
        for (int precision = 15; precision <= 17; precision++) {
            snprintf (text, sizeof text, "%.*g", precision, d);
            if (strtod (text, NULL) == d)
                break;
        }
    s_buf_adds (&enc->buf, text);
}

/* Appends ".name" (name given) or "[index]" to the path, cut when too
   long; returns the old length so the caller can restore it. */
static size_t
s_path_push (s_enc_t *enc, const char *name, size_t index)
{
    size_t old = strlen (enc->path);
    if (old < sizeof enc->path - 1) {
        if (name)
            snprintf (enc->path + old, sizeof enc->path - old, ".%s", name);
        else
            snprintf (enc->path + old, sizeof enc->path - old, "[%zu]", index);
    }
    return old;
}

static void
s_enc_value (s_enc_t *enc, const xs_value_t *value)
{
    char number [32];
    size_t len = 0;
    if (enc->failed)
        return;
    s_buf_adds (&enc->buf, "<value>");
    switch (xs_value_type (value)) {
    case XS_VALUE_NIL:
        s_buf_adds (&enc->buf, "<nil/>");
        break;
    case XS_VALUE_STRING: {
        /* The stored length, so that an embedded NUL is refused, not cut. */
        s_buf_adds (&enc->buf, "<string>");
        s_enc_text (enc, "string", xs_value_str (value), xs_value_len (value));
        s_buf_adds (&enc->buf, "</string>");
        break;
    }
    case XS_VALUE_INT:
        snprintf (number, sizeof number, "%" PRId64, xs_value_int (value));
        s_buf_adds (&enc->buf, "<int>");
        s_buf_adds (&enc->buf, number);
        s_buf_adds (&enc->buf, "</int>");
        break;
    case XS_VALUE_BOOL:
        s_buf_adds (&enc->buf, xs_value_bool (value) ? "<boolean>1</boolean>" : "<boolean>0</boolean>");
        break;
    case XS_VALUE_DOUBLE:
        s_buf_adds (&enc->buf, "<double>");
        s_enc_double (enc, xs_value_double (value));
        s_buf_adds (&enc->buf, "</double>");
        break;
    case XS_VALUE_DATETIME: {
        s_buf_adds (&enc->buf, "<dateTime.iso8601>");
        s_enc_text (enc, "dateTime", xs_value_str (value), xs_value_len (value));
        s_buf_adds (&enc->buf, "</dateTime.iso8601>");
        break;
    }
    case XS_VALUE_BASE64: {
        const void *data = xs_value_base64 (value, &len);
        s_buf_adds (&enc->buf, "<base64>");
        s_enc_base64 (enc, data, len);
        s_buf_adds (&enc->buf, "</base64>");
        break;
    }
    case XS_VALUE_ARRAY:
        s_buf_adds (&enc->buf, "<array><data>");
        for (size_t i = 0; i < xs_value_size (value) && !enc->failed; i++) {
            size_t old = s_path_push (enc, NULL, i);
            s_enc_value (enc, xs_value_at (value, i));
            enc->path [old] = '\0';
        }
        s_buf_adds (&enc->buf, "</data></array>");
        break;
    case XS_VALUE_STRUCT:
        s_buf_adds (&enc->buf, "<struct>");
        for (size_t i = 0; i < xs_value_size (value) && !enc->failed; i++) {
            const char *name = xs_value_key_at (value, i);
            size_t old = s_path_push (enc, name, 0);
            s_buf_adds (&enc->buf, "<member><name>");
            s_enc_text (enc, "member name", name, strlen (name));
            s_buf_adds (&enc->buf, "</name>");
            s_enc_value (enc, xs_value_value_at (value, i));
            s_buf_adds (&enc->buf, "</member>");
            enc->path [old] = '\0';
        }
        s_buf_adds (&enc->buf, "</struct>");
        break;
    }
    s_buf_adds (&enc->buf, "</value>");
}

/* Hands the buffer to the caller, or frees it when encoding failed. */
static char *
s_enc_finish (s_enc_t *enc, size_t *len_p)
{
    if (enc->failed) {
        free (enc->buf.data);
        if (len_p)
            *len_p = 0;
        return NULL;
    }
    if (len_p)
        *len_p = enc->buf.len;
    return enc->buf.data;
}

static void
s_enc_call (s_enc_t *enc, const char *method, const xs_value_t *params)
{
    if (!method) {
        enc->failed = true;
        xs_err_set (enc->err, XS_EINVAL, "XML-RPC: a call needs a method name");
        return;
    }
    if (params && xs_value_type (params) != XS_VALUE_ARRAY) {
        enc->failed = true;
        xs_err_set (enc->err, XS_EINVAL, "XML-RPC: call %s: params must be an array, not a %s",
                    method, xs_value_type_name (xs_value_type (params)));
        return;
    }
    s_buf_adds (&enc->buf, "<?xml version=\"1.0\"?>\n<methodCall><methodName>");
    snprintf (enc->path, sizeof enc->path, "methodName");
    s_enc_text (enc, "method name", method, strlen (method));
    s_buf_adds (&enc->buf, "</methodName><params>");
    for (size_t i = 0; i < xs_value_size (params) && !enc->failed; i++) {
        snprintf (enc->path, sizeof enc->path, "params[%zu]", i);
        s_buf_adds (&enc->buf, "<param>");
        s_enc_value (enc, xs_value_at (params, i));
        s_buf_adds (&enc->buf, "</param>");
    }
    s_buf_adds (&enc->buf, "</params></methodCall>\n");
}

static void
s_enc_response (s_enc_t *enc, const xs_value_t *value)
{
    snprintf (enc->path, sizeof enc->path, "result");
    s_buf_adds (&enc->buf, "<?xml version=\"1.0\"?>\n<methodResponse><params><param>");
    s_enc_value (enc, value);
    s_buf_adds (&enc->buf, "</param></params></methodResponse>\n");
}

char *
xs_xmlrpc_encode_call (const char *method, const xs_value_t *params, size_t *len_p)
{
    s_enc_t enc = { .err = NULL };
    s_enc_call (&enc, method, params);
    return s_enc_finish (&enc, len_p);
}

char *
xs_xmlrpc_encode_response (const xs_value_t *value, size_t *len_p)
{
    s_enc_t enc = { .err = NULL };
    s_enc_response (&enc, value);
    return s_enc_finish (&enc, len_p);
}

char *
xs_xmlrpc_encode_fault (int code, const char *text, size_t *len_p)
{
    s_enc_t enc = { .err = NULL };
    char number [16];
    snprintf (number, sizeof number, "%d", code);
    snprintf (enc.path, sizeof enc.path, "faultString");
    s_buf_adds (&enc.buf, "<?xml version=\"1.0\"?>\n<methodResponse><fault><value><struct>"
                          "<member><name>faultCode</name><value><int>");
    s_buf_adds (&enc.buf, number);
    s_buf_adds (&enc.buf, "</int></value></member>"
                          "<member><name>faultString</name><value><string>");
    if (text)
        s_enc_text (&enc, "fault string", text, strlen (text));
    s_buf_adds (&enc.buf, "</string></value></member></struct></value></fault></methodResponse>\n");
    return s_enc_finish (&enc, len_p);
}

int
xs_xmlrpc_encodable (const xs_value_t *value, xs_err_t *err)
{
    s_enc_t enc = { .err = err };
    snprintf (enc.path, sizeof enc.path, "value");
    s_enc_value (&enc, value);
    free (enc.buf.data);
    return enc.failed ? -1 : 0;
}

/* ===========================================================================
 *  Decoding
 * ========================================================================= */

typedef struct {
    const xs_xmlrpc_limits_t *limits;
    xs_err_t *err;
    bool failed;                /* set once; the first error wins */
    int nest;                   /* arrays and structs open during the parse */
    int elements;               /* elements open during the parse */
    int max_elements;
    char xml_error [400];       /* libxml2's first error, one line */
    int xml_line;
} s_dec_t;

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

static int
s_dec_fail (s_dec_t *dec, xmlNodePtr node, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_dec_fail (s_dec_t *dec, xmlNodePtr node, const char *fmt, ...)
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
    s_dec_t *dec = ctxt->_private;
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
    s_dec_t *dec = ctxt->_private;
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
    s_dec_t *dec = ctxt->_private;
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
    s_dec_t *dec = ctxt->_private;
    if (s_nests (localname))
        dec->nest--;
    dec->elements--;
    xmlSAX2EndElementNs (ctx, localname, prefix, uri);
}

static void
s_sax_error (void *data, xmlErrorPtr error)
{
    xmlParserCtxtPtr ctxt = data;
    s_dec_t *dec = ctxt ? ctxt->_private : NULL;
    if (!dec || !error || error->level < XML_ERR_ERROR || dec->xml_error [0])
        return;
    snprintf (dec->xml_error, sizeof dec->xml_error, "%s",
              error->message ? error->message : "unknown error");
    dec->xml_error [strcspn (dec->xml_error, "\n")] = '\0';
    dec->xml_line = error->line;
}

static pthread_once_t s_xml_init_once = PTHREAD_ONCE_INIT;

/* Parses doc into a tree, or NULL with the failure recorded in dec. */
static xmlDocPtr
s_parse (s_dec_t *dec, const char *doc, size_t len)
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

/* ---- tree walk ----------------------------------------------------------- */

static bool
s_is (xmlNodePtr node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && strcmp ((const char *) node->name, name) == 0;
}

static bool
s_xml_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
s_blank (const xmlChar *text)
{
    for (; text && *text; text++)
        if (!s_xml_space ((char) *text))
            return false;
    return true;
}

/* Checks that node's children are elements, blank text, comments and PIs
   only. Returns 0, or -1 naming the offending text. */
static int
s_elements_only (s_dec_t *dec, xmlNodePtr node)
{
    for (xmlNodePtr child = node->children; child; child = child->next) {
        if (child->type == XML_ELEMENT_NODE || child->type == XML_COMMENT_NODE
        ||  child->type == XML_PI_NODE)
            continue;
        if ((child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE)
        &&  s_blank (child->content))
            continue;
        return s_dec_fail (dec, node, "unexpected text inside <%s>", (const char *) node->name);
    }
    return 0;
}

/* The one child element of node called name (when name is not NULL, any
   other element is an error). Missing gives NULL + error when required. */
static xmlNodePtr
s_only_child (s_dec_t *dec, xmlNodePtr node, const char *name, bool required)
{
    xmlNodePtr found = NULL;
    if (s_elements_only (dec, node))
        return NULL;
    for (xmlNodePtr child = node->children; child; child = child->next) {
        if (child->type != XML_ELEMENT_NODE)
            continue;
        if (name && !s_is (child, name)) {
            s_dec_fail (dec, child, "unexpected <%s> inside <%s>",
                        (const char *) child->name, (const char *) node->name);
            return NULL;
        }
        if (found) {
            s_dec_fail (dec, child, "more than one <%s> inside <%s>",
                        (const char *) child->name, (const char *) node->name);
            return NULL;
        }
        found = child;
    }
    if (!found && required)
        s_dec_fail (dec, node, "<%s> lacks <%s>", (const char *) node->name, name ? name : "value");
    return found;
}

/* The text of node: its text children joined. *owned is set when the result
   was allocated (caller frees). Elements inside are an error. */
static const char *
s_text (s_dec_t *dec, xmlNodePtr node, size_t *len_p, char **owned)
{
    *owned = NULL;
    xmlNodePtr first = node->children;
    if (!first) {
        *len_p = 0;
        return "";
    }
    if (!first->next && first->type == XML_TEXT_NODE) {
        const char *text = (const char *) first->content;
        *len_p = text ? strlen (text) : 0;
        if (*len_p > dec->limits->max_string) {
            s_dec_fail (dec, node, "text of %zu bytes exceeds the limit of %zu",
                        *len_p, dec->limits->max_string);
            return NULL;
        }
        return text ? text : "";
    }
    size_t len = 0;
    for (xmlNodePtr child = first; child; child = child->next) {
        if (child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE)
            len += child->content ? strlen ((const char *) child->content) : 0;
        else
        if (child->type == XML_ELEMENT_NODE) {
            s_dec_fail (dec, child, "unexpected <%s> inside <%s>",
                        (const char *) child->name, (const char *) node->name);
            return NULL;
        }
        else
        if (child->type != XML_COMMENT_NODE && child->type != XML_PI_NODE) {
            s_dec_fail (dec, child, "unexpected XML node inside <%s>", (const char *) node->name);
            return NULL;
        }
        if (len > dec->limits->max_string) {
            s_dec_fail (dec, node, "text of over %zu bytes exceeds the limit of %zu",
                        len, dec->limits->max_string);
            return NULL;
        }
    }
    char *joined = xs_zalloc (len + 1);
    size_t at = 0;
    for (xmlNodePtr child = first; child; child = child->next)
        if ((child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) && child->content) {
            size_t n = strlen ((const char *) child->content);
            memcpy (joined + at, child->content, n);
            at += n;
        }
    joined [at] = '\0';
    *owned = joined;
    *len_p = at;
    return joined;
}

/* The text of node without surrounding XML whitespace, copied into buf
   (numbers and booleans are short). Returns -1 when it does not fit. */
static int
s_short_text (s_dec_t *dec, xmlNodePtr node, char *buf, size_t size)
{
    char *owned = NULL;
    size_t len = 0;
    const char *text = s_text (dec, node, &len, &owned);
    if (!text)
        return -1;
    while (len && s_xml_space (*text))
        text++, len--;
    while (len && s_xml_space (text [len - 1]))
        len--;
    int rc = 0;
    if (len >= size)
        rc = s_dec_fail (dec, node, "<%s> value '%.20s...' is too long",
                         (const char *) node->name, text);
    else {
        memcpy (buf, text, len);
        buf [len] = '\0';
    }
    free (owned);
    return rc;
}

static xs_value_t *
s_dec_int (s_dec_t *dec, xmlNodePtr node)
{
    char text [64];
    if (s_short_text (dec, node, text, sizeof text))
        return NULL;
    const char *p = text;
    if (*p == '+' || *p == '-')
        p++;
    if (!*p || strspn (p, "0123456789") != strlen (p)) {
        s_dec_fail (dec, node, "<%s> value '%s' is not an integer", (const char *) node->name, text);
        return NULL;
    }
    errno = 0;
    long long number = strtoll (text, NULL, 10);
    if (errno == ERANGE) {
        s_dec_fail (dec, node, "<%s> value '%s' is out of the 64-bit range",
                    (const char *) node->name, text);
        return NULL;
    }
    return xs_value_int_new ((int64_t) number);
}

static xs_value_t *
s_dec_bool (s_dec_t *dec, xmlNodePtr node)
{
    char text [64];
    if (s_short_text (dec, node, text, sizeof text))
        return NULL;
    if (strcmp (text, "0") && strcmp (text, "1")) {
        s_dec_fail (dec, node, "<boolean> value '%s' is neither 0 nor 1", text);
        return NULL;
    }
    return xs_value_bool_new (text [0] == '1');
}

static xs_value_t *
s_dec_double (s_dec_t *dec, xmlNodePtr node)
{
    char text [400];
    if (s_short_text (dec, node, text, sizeof text))
        return NULL;
    const char *p = text + (text [0] == '+' || text [0] == '-');
    bool word = strcasecmp (p, "inf") == 0 || strcasecmp (p, "infinity") == 0
             || strcasecmp (p, "nan") == 0;
    char *end = NULL;
    errno = 0;
    double number = text [0] && (word || strspn (p, "0123456789.eE+-") == strlen (p))
                  ? strtod (text, &end) : 0.0;
    if (!end || end == text || *end) {
        s_dec_fail (dec, node, "<double> value '%s' is not a number", text);
        return NULL;
    }
    if (errno == ERANGE && isinf (number)) {
        s_dec_fail (dec, node, "<double> value '%s' is out of range", text);
        return NULL;
    }
    return xs_value_double_new (number);
}

static int
s_base64_digit (unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Strict base64 (RFC 4648 alphabet, padding required), XML whitespace
   anywhere ignored (Python's encodebytes breaks lines every 76 chars). */
static xs_value_t *
s_dec_base64 (s_dec_t *dec, xmlNodePtr node)
{
    char *owned = NULL;
    size_t len = 0;
    unsigned char *data = NULL;
    xs_value_t *value = NULL;
    const char *text = s_text (dec, node, &len, &owned);
    if (!text)
        goto out;
    data = xs_zalloc (len / 4 * 3 + 3);
    size_t out_len = 0, quad = 0, pad = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text [i];
        if (s_xml_space ((char) c))
            continue;
        int digit = c == '=' ? 0 : s_base64_digit (c);
        if (digit < 0 || (c != '=' && pad) || (c == '=' && quad < 2)) {
            s_dec_fail (dec, node, "<base64> holds '%c' at byte %zu, which is not base64",
                        c >= 0x20 && c < 0x7F ? c : '?', i);
            goto out;
        }
        if (c == '=')
            pad++;
        acc = acc << 6 | (uint32_t) digit;
        if (++quad == 4) {
            data [out_len++] = (unsigned char) (acc >> 16);
            if (pad < 2)
                data [out_len++] = (unsigned char) (acc >> 8);
            if (pad < 1)
                data [out_len++] = (unsigned char) acc;
            quad = 0;
            acc = 0;
            if (pad)
                pad = 3;    /* nothing but whitespace may follow padding */
        }
    }
    if (quad != 0) {
        s_dec_fail (dec, node, "<base64> text is truncated (its length is not a multiple of 4)");
        goto out;
    }
    value = xs_value_base64_new (data, out_len);
out:
    free (data);
    free (owned);
    return value;
}

static xs_value_t *s_dec_value (s_dec_t *dec, xmlNodePtr node, int depth);

static xs_value_t *
s_dec_array (s_dec_t *dec, xmlNodePtr node, int depth)
{
    xs_value_t *array = xs_value_array_new ();
    xmlNodePtr data = s_only_child (dec, node, "data", false);
    if (dec->failed)
        goto fail;
    if (data) {
        if (s_elements_only (dec, data))
            goto fail;
        for (xmlNodePtr child = data->children; child; child = child->next) {
            if (child->type != XML_ELEMENT_NODE)
                continue;
            if (!s_is (child, "value")) {
                s_dec_fail (dec, child, "unexpected <%s> inside <data>", (const char *) child->name);
                goto fail;
            }
            xs_value_t *item = s_dec_value (dec, child, depth);
            if (!item)
                goto fail;
            xs_value_append (array, &item);
        }
    }
    return array;
fail:
    xs_value_destroy (&array);
    return NULL;
}

static xs_value_t *
s_dec_struct (s_dec_t *dec, xmlNodePtr node, int depth)
{
    xs_value_t *st = xs_value_struct_new ();
    if (s_elements_only (dec, node))
        goto fail;
    for (xmlNodePtr member = node->children; member; member = member->next) {
        if (member->type != XML_ELEMENT_NODE)
            continue;
        if (!s_is (member, "member")) {
            s_dec_fail (dec, member, "unexpected <%s> inside <struct>", (const char *) member->name);
            goto fail;
        }
        if (s_elements_only (dec, member))
            goto fail;
        xmlNodePtr name = NULL, value = NULL;
        for (xmlNodePtr child = member->children; child; child = child->next) {
            if (child->type != XML_ELEMENT_NODE)
                continue;
            xmlNodePtr *slot = s_is (child, "name") ? &name : s_is (child, "value") ? &value : NULL;
            if (!slot) {
                s_dec_fail (dec, child, "unexpected <%s> inside <member>", (const char *) child->name);
                goto fail;
            }
            if (*slot) {
                s_dec_fail (dec, child, "more than one <%s> inside <member>", (const char *) child->name);
                goto fail;
            }
            *slot = child;
        }
        if (!name || !value) {
            s_dec_fail (dec, member, "<member> lacks <%s>", name ? "value" : "name");
            goto fail;
        }
        char *owned = NULL;
        size_t len = 0;
        const char *text = s_text (dec, name, &len, &owned);
        if (!text)
            goto fail;
        xs_value_t *item = s_dec_value (dec, value, depth);
        if (!item) {
            free (owned);
            goto fail;
        }
        /* A repeated name replaces the earlier member (as Python's dict does). */
        xs_value_set (st, text, &item);
        free (owned);
    }
    return st;
fail:
    xs_value_destroy (&st);
    return NULL;
}

/* Decodes a <value> element. depth counts the arrays and structs around it. */
static xs_value_t *
s_dec_value (s_dec_t *dec, xmlNodePtr node, int depth)
{
    xmlNodePtr typed = NULL;
    for (xmlNodePtr child = node->children; child; child = child->next)
        if (child->type == XML_ELEMENT_NODE) {
            typed = child;
            break;
        }
    if (!typed) {
        /* Untyped: <value>x</value> or <value/>, a string. */
        char *owned = NULL;
        size_t len = 0;
        const char *text = s_text (dec, node, &len, &owned);
        if (!text)
            return NULL;
        xs_value_t *value = xs_value_string_newn (text, len);
        free (owned);
        return value;
    }
    if (s_only_child (dec, node, NULL, true) != typed)
        return NULL;

    const char *type = (const char *) typed->name;
    if (strcmp (type, "string") == 0) {
        char *owned = NULL;
        size_t len = 0;
        const char *text = s_text (dec, typed, &len, &owned);
        if (!text)
            return NULL;
        xs_value_t *value = xs_value_string_newn (text, len);
        free (owned);
        return value;
    }
    if (strcmp (type, "int") == 0 || strcmp (type, "i4") == 0 || strcmp (type, "i8") == 0)
        return s_dec_int (dec, typed);
    if (strcmp (type, "boolean") == 0)
        return s_dec_bool (dec, typed);
    if (strcmp (type, "double") == 0)
        return s_dec_double (dec, typed);
    if (strcmp (type, "dateTime.iso8601") == 0) {
        char text [128];
        if (s_short_text (dec, typed, text, sizeof text))
            return NULL;
        return xs_value_datetime_new (text);
    }
    if (strcmp (type, "base64") == 0)
        return s_dec_base64 (dec, typed);
    if (strcmp (type, "nil") == 0) {
        if (s_elements_only (dec, typed))
            return NULL;
        if (typed->children && s_only_child (dec, typed, NULL, false)) {
            s_dec_fail (dec, typed, "<nil> must be empty");
            return NULL;
        }
        return dec->failed ? NULL : xs_value_nil_new ();
    }
    if (strcmp (type, "array") == 0 || strcmp (type, "struct") == 0) {
        if (depth + 1 > dec->limits->max_depth) {
            s_dec_fail (dec, typed, "nesting deeper than %d", dec->limits->max_depth);
            return NULL;
        }
        return type [0] == 'a' ? s_dec_array (dec, typed, depth + 1)
                               : s_dec_struct (dec, typed, depth + 1);
    }
    s_dec_fail (dec, typed, "unknown value type <%s>", type);
    return NULL;
}

/* Checks the root and returns it, or NULL + error. */
static xmlNodePtr
s_root (s_dec_t *dec, xmlDocPtr tree, const char *name)
{
    xmlNodePtr root = xmlDocGetRootElement (tree);
    if (!root) {
        s_dec_fail (dec, NULL, "document has no root element");
        return NULL;
    }
    if (!s_is (root, name)) {
        s_dec_fail (dec, root, "root element is <%s>, expected <%s>", (const char *) root->name, name);
        return NULL;
    }
    return root;
}

static void
s_dec_init (s_dec_t *dec, const xs_xmlrpc_limits_t *limits, xs_err_t *err)
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

xs_value_t *
xs_xmlrpc_decode_call (const char *doc, size_t len, const xs_xmlrpc_limits_t *limits,
                       char **method_p, xs_err_t *err)
{
    s_dec_t dec;
    xs_value_t *params = NULL;
    char *method = NULL;
    char *owned = NULL;
    s_dec_init (&dec, limits, err);
    if (method_p)
        *method_p = NULL;

    xmlDocPtr tree = s_parse (&dec, doc, len);
    if (!tree)
        goto out;
    xmlNodePtr root = s_root (&dec, tree, "methodCall");
    if (!root || s_elements_only (&dec, root))
        goto out;
    xmlNodePtr name = NULL, list = NULL;
    for (xmlNodePtr child = root->children; child; child = child->next) {
        if (child->type != XML_ELEMENT_NODE)
            continue;
        xmlNodePtr *slot = s_is (child, "methodName") ? &name : s_is (child, "params") ? &list : NULL;
        if (!slot) {
            s_dec_fail (&dec, child, "unexpected <%s> inside <methodCall>", (const char *) child->name);
            goto out;
        }
        if (*slot) {
            s_dec_fail (&dec, child, "more than one <%s> inside <methodCall>", (const char *) child->name);
            goto out;
        }
        *slot = child;
    }
    if (!name) {
        s_dec_fail (&dec, root, "<methodCall> lacks <methodName>");
        goto out;
    }
    size_t name_len = 0;
    const char *text = s_text (&dec, name, &name_len, &owned);
    if (!text)
        goto out;
    while (name_len && s_xml_space (*text))
        text++, name_len--;
    while (name_len && s_xml_space (text [name_len - 1]))
        name_len--;
    if (name_len == 0) {
        s_dec_fail (&dec, name, "<methodName> is empty");
        goto out;
    }
    method = xs_strndup (text, name_len);

    params = xs_value_array_new ();
    if (list) {
        if (s_elements_only (&dec, list))
            goto out;
        for (xmlNodePtr param = list->children; param; param = param->next) {
            if (param->type != XML_ELEMENT_NODE)
                continue;
            if (!s_is (param, "param")) {
                s_dec_fail (&dec, param, "unexpected <%s> inside <params>", (const char *) param->name);
                goto out;
            }
            xmlNodePtr value = s_only_child (&dec, param, "value", true);
            if (!value)
                goto out;
            xs_value_t *item = s_dec_value (&dec, value, 0);
            if (!item)
                goto out;
            xs_value_append (params, &item);
        }
    }
out:
    free (owned);
    if (tree)
        xmlFreeDoc (tree);
    if (dec.failed) {
        xs_value_destroy (&params);
        free (method);
        return NULL;
    }
    if (method_p)
        *method_p = method;
    else
        free (method);
    return params;
}

/* Turns a decoded <fault> value into err. */
static void
s_dec_fault (s_dec_t *dec, xmlNodePtr fault)
{
    xmlNodePtr node = s_only_child (dec, fault, "value", true);
    xs_value_t *value = node ? s_dec_value (dec, node, 0) : NULL;
    if (!value)
        return;
    xs_value_t *code = xs_value_get (value, "faultCode");
    const char *text = xs_value_get_str (value, "faultString");
    long long number = 0;
    char *end = NULL;
    if (xs_value_type (code) == XS_VALUE_INT)
        number = xs_value_int (code);
    else
    if (xs_value_type (code) == XS_VALUE_STRING && xs_value_str (code) [0])
        number = strtoll (xs_value_str (code), &end, 10);
    if (xs_value_type (value) != XS_VALUE_STRUCT || !text
    ||  (xs_value_type (code) != XS_VALUE_INT && (!end || *end)))
        s_dec_fail (dec, node, "<fault> needs a struct with an int faultCode and a string faultString");
    else {
        dec->failed = true;
        xs_err_set (dec->err, XS_EXAPI, "XML-RPC fault %lld: %s", number, text);
    }
    xs_value_destroy (&value);
}

xs_value_t *
xs_xmlrpc_decode_response (const char *doc, size_t len, const xs_xmlrpc_limits_t *limits,
                           xs_err_t *err)
{
    s_dec_t dec;
    xs_value_t *result = NULL;
    s_dec_init (&dec, limits, err);

    xmlDocPtr tree = s_parse (&dec, doc, len);
    if (!tree)
        goto out;
    xmlNodePtr root = s_root (&dec, tree, "methodResponse");
    if (!root)
        goto out;
    xmlNodePtr body = s_only_child (&dec, root, NULL, false);
    if (dec.failed)
        goto out;
    if (!body) {
        s_dec_fail (&dec, root, "<methodResponse> lacks <params> or <fault>");
        goto out;
    }
    if (s_is (body, "fault")) {
        s_dec_fault (&dec, body);
        goto out;
    }
    if (!s_is (body, "params")) {
        s_dec_fail (&dec, body, "unexpected <%s> inside <methodResponse>", (const char *) body->name);
        goto out;
    }
    xmlNodePtr param = s_only_child (&dec, body, "param", true);
    if (!param)
        goto out;
    xmlNodePtr value = s_only_child (&dec, param, "value", true);
    if (!value)
        goto out;
    result = s_dec_value (&dec, value, 0);
out:
    if (tree)
        xmlFreeDoc (tree);
    if (dec.failed)
        xs_value_destroy (&result);
    return result;
}
