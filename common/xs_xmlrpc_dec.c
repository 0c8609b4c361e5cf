/*  xs_xmlrpc_dec: the decoding half of xs_xmlrpc (xs_xmlrpc.h): walks the
    tree xs_xmlrpc_parse made and builds xs_value trees, refusing (with the
    path of the offending element) anything that is not XML-RPC.
*/
#include "xs_mem.h"
#include "xs_xmlrpc.h"
#include "xs_xmlrpc_parse.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

/* ---------------------------------------------------------------------
   Tree walk
   --------------------------------------------------------------------- */

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

/* Drops XML whitespace around text [0..*len_p). */
static void
s_trim (const char **text_p, size_t *len_p)
{
    while (*len_p && s_xml_space (**text_p))
        (*text_p)++, (*len_p)--;
    while (*len_p && s_xml_space ((*text_p) [*len_p - 1]))
        (*len_p)--;
}

/* Checks that node's children are elements, blank text, comments and PIs
   only. Returns 0, or -1 naming the offending text. */
static int
s_elements_only (xs_xmlrpc_parse_t *dec, xmlNodePtr node)
{
    for (xmlNodePtr child = node->children; child; child = child->next) {
        if (child->type == XML_ELEMENT_NODE || child->type == XML_COMMENT_NODE
        ||  child->type == XML_PI_NODE)
            continue;
        if ((child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE)
        &&  s_blank (child->content))
            continue;
        return xs_xmlrpc_parse_fail (dec, node, "unexpected text inside <%s>",
                                     (const char *) node->name);
    }
    return 0;
}

/* The children of node called name_a (into *a) and name_b (into *b), each
   at most once, NULL when absent; any other element is an error. 0, or -1
   with the error recorded. */
static int
s_named_children (xs_xmlrpc_parse_t *dec, xmlNodePtr node, const char *name_a, xmlNodePtr *a,
                  const char *name_b, xmlNodePtr *b)
{
    *a = *b = NULL;
    if (s_elements_only (dec, node))
        return -1;
    for (xmlNodePtr child = node->children; child; child = child->next) {
        if (child->type != XML_ELEMENT_NODE)
            continue;
        xmlNodePtr *slot = s_is (child, name_a) ? a : s_is (child, name_b) ? b : NULL;
        if (!slot)
            return xs_xmlrpc_parse_fail (dec, child, "unexpected <%s> inside <%s>",
                                         (const char *) child->name, (const char *) node->name);
        if (*slot)
            return xs_xmlrpc_parse_fail (dec, child, "more than one <%s> inside <%s>",
                                         (const char *) child->name, (const char *) node->name);
        *slot = child;
    }
    return 0;
}

/* The one child element of node called name (when name is not NULL, any
   other element is an error). Missing gives NULL + error when required. */
static xmlNodePtr
s_only_child (xs_xmlrpc_parse_t *dec, xmlNodePtr node, const char *name, bool required)
{
    xmlNodePtr found = NULL;
    if (s_elements_only (dec, node))
        return NULL;
    for (xmlNodePtr child = node->children; child; child = child->next) {
        if (child->type != XML_ELEMENT_NODE)
            continue;
        if (name && !s_is (child, name)) {
            xs_xmlrpc_parse_fail (dec, child, "unexpected <%s> inside <%s>",
                                  (const char *) child->name, (const char *) node->name);
            return NULL;
        }
        if (found) {
            xs_xmlrpc_parse_fail (dec, child, "more than one <%s> inside <%s>",
                                  (const char *) child->name, (const char *) node->name);
            return NULL;
        }
        found = child;
    }
    if (!found && required)
        xs_xmlrpc_parse_fail (dec, node, "<%s> lacks <%s>",
                              (const char *) node->name, name ? name : "value");
    return found;
}

/* The text of node: its text children joined. *owned is set when the result
   was allocated (caller frees). Elements inside are an error. */
static const char *
s_text (xs_xmlrpc_parse_t *dec, xmlNodePtr node, size_t *len_p, char **owned)
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
            xs_xmlrpc_parse_fail (dec, node, "text of %zu bytes exceeds the limit of %zu",
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
            xs_xmlrpc_parse_fail (dec, child, "unexpected <%s> inside <%s>",
                                  (const char *) child->name, (const char *) node->name);
            return NULL;
        }
        else
        if (child->type != XML_COMMENT_NODE && child->type != XML_PI_NODE) {
            xs_xmlrpc_parse_fail (dec, child, "unexpected XML node inside <%s>",
                                  (const char *) node->name);
            return NULL;
        }
        if (len > dec->limits->max_string) {
            xs_xmlrpc_parse_fail (dec, node, "text of over %zu bytes exceeds the limit of %zu",
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
s_short_text (xs_xmlrpc_parse_t *dec, xmlNodePtr node, char *buf, size_t size)
{
    char *owned = NULL;
    size_t len = 0;
    const char *text = s_text (dec, node, &len, &owned);
    if (!text)
        return -1;
    s_trim (&text, &len);
    int rc = 0;
    if (len >= size)
        rc = xs_xmlrpc_parse_fail (dec, node, "<%s> value '%.20s...' is too long",
                                   (const char *) node->name, text);
    else {
        memcpy (buf, text, len);
        buf [len] = '\0';
    }
    free (owned);
    return rc;
}

static xs_value_t *
s_dec_int (xs_xmlrpc_parse_t *dec, xmlNodePtr node)
{
    char text [64];
    if (s_short_text (dec, node, text, sizeof text))
        return NULL;
    const char *p = text;
    if (*p == '+' || *p == '-')
        p++;
    if (!*p || strspn (p, "0123456789") != strlen (p)) {
        xs_xmlrpc_parse_fail (dec, node, "<%s> value '%s' is not an integer",
                              (const char *) node->name, text);
        return NULL;
    }
    errno = 0;
    long long number = strtoll (text, NULL, 10);
    if (errno == ERANGE) {
        xs_xmlrpc_parse_fail (dec, node, "<%s> value '%s' is out of the 64-bit range",
                              (const char *) node->name, text);
        return NULL;
    }
    return xs_value_int_new ((int64_t) number);
}

static xs_value_t *
s_dec_bool (xs_xmlrpc_parse_t *dec, xmlNodePtr node)
{
    char text [64];
    if (s_short_text (dec, node, text, sizeof text))
        return NULL;
    if (strcmp (text, "0") && strcmp (text, "1")) {
        xs_xmlrpc_parse_fail (dec, node, "<boolean> value '%s' is neither 0 nor 1", text);
        return NULL;
    }
    return xs_value_bool_new (text [0] == '1');
}

static xs_value_t *
s_dec_double (xs_xmlrpc_parse_t *dec, xmlNodePtr node)
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
        xs_xmlrpc_parse_fail (dec, node, "<double> value '%s' is not a number", text);
        return NULL;
    }
    if (errno == ERANGE && isinf (number)) {
        xs_xmlrpc_parse_fail (dec, node, "<double> value '%s' is out of range", text);
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
s_dec_base64 (xs_xmlrpc_parse_t *dec, xmlNodePtr node)
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
            xs_xmlrpc_parse_fail (dec, node, "<base64> holds '%c' at byte %zu, which is not base64",
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
        xs_xmlrpc_parse_fail (dec, node,
                              "<base64> text is truncated (its length is not a multiple of 4)");
        goto out;
    }
    value = xs_value_base64_new (data, out_len);
out:
    free (data);
    free (owned);
    return value;
}

static xs_value_t *s_dec_value (xs_xmlrpc_parse_t *dec, xmlNodePtr node, int depth);

static xs_value_t *
s_dec_array (xs_xmlrpc_parse_t *dec, xmlNodePtr node, int depth)
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
                xs_xmlrpc_parse_fail (dec, child, "unexpected <%s> inside <data>",
                                      (const char *) child->name);
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
s_dec_struct (xs_xmlrpc_parse_t *dec, xmlNodePtr node, int depth)
{
    xs_value_t *st = xs_value_struct_new ();
    if (s_elements_only (dec, node))
        goto fail;
    for (xmlNodePtr member = node->children; member; member = member->next) {
        if (member->type != XML_ELEMENT_NODE)
            continue;
        if (!s_is (member, "member")) {
            xs_xmlrpc_parse_fail (dec, member, "unexpected <%s> inside <struct>",
                                  (const char *) member->name);
            goto fail;
        }
        xmlNodePtr name = NULL, value = NULL;
        if (s_named_children (dec, member, "name", &name, "value", &value))
            goto fail;
        if (!name || !value) {
            xs_xmlrpc_parse_fail (dec, member, "<member> lacks <%s>", name ? "value" : "name");
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
s_dec_value (xs_xmlrpc_parse_t *dec, xmlNodePtr node, int depth)
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
            xs_xmlrpc_parse_fail (dec, typed, "<nil> must be empty");
            return NULL;
        }
        return dec->failed ? NULL : xs_value_nil_new ();
    }
    if (strcmp (type, "array") == 0 || strcmp (type, "struct") == 0) {
        if (depth + 1 > dec->limits->max_depth) {
            xs_xmlrpc_parse_fail (dec, typed, "nesting deeper than %d", dec->limits->max_depth);
            return NULL;
        }
        return type [0] == 'a' ? s_dec_array (dec, typed, depth + 1)
                               : s_dec_struct (dec, typed, depth + 1);
    }
    xs_xmlrpc_parse_fail (dec, typed, "unknown value type <%s>", type);
    return NULL;
}

/* Checks the root and returns it, or NULL + error. */
static xmlNodePtr
s_root (xs_xmlrpc_parse_t *dec, xmlDocPtr tree, const char *name)
{
    xmlNodePtr root = xmlDocGetRootElement (tree);
    if (!root) {
        xs_xmlrpc_parse_fail (dec, NULL, "document has no root element");
        return NULL;
    }
    if (!s_is (root, name)) {
        xs_xmlrpc_parse_fail (dec, root, "root element is <%s>, expected <%s>",
                              (const char *) root->name, name);
        return NULL;
    }
    return root;
}

/* The method name in <methodName> (XML whitespace around it dropped;
   caller frees), or NULL with the error recorded. */
static char *
s_dec_method_name (xs_xmlrpc_parse_t *dec, xmlNodePtr root, xmlNodePtr name)
{
    if (!name) {
        xs_xmlrpc_parse_fail (dec, root, "<methodCall> lacks <methodName>");
        return NULL;
    }
    char *owned = NULL;
    size_t len = 0;
    const char *text = s_text (dec, name, &len, &owned);
    if (!text)
        return NULL;
    s_trim (&text, &len);
    char *method = NULL;
    if (len == 0)
        xs_xmlrpc_parse_fail (dec, name, "<methodName> is empty");
    else
        method = xs_strndup (text, len);
    free (owned);
    return method;
}

/* The values of the <param>s in list (NULL: none) as an array value, or
   NULL with the error recorded. */
static xs_value_t *
s_dec_params (xs_xmlrpc_parse_t *dec, xmlNodePtr list)
{
    xs_value_t *params = xs_value_array_new ();
    if (!list)
        return params;
    if (s_elements_only (dec, list))
        goto fail;
    for (xmlNodePtr param = list->children; param; param = param->next) {
        if (param->type != XML_ELEMENT_NODE)
            continue;
        if (!s_is (param, "param")) {
            xs_xmlrpc_parse_fail (dec, param, "unexpected <%s> inside <params>",
                                  (const char *) param->name);
            goto fail;
        }
        xmlNodePtr value = s_only_child (dec, param, "value", true);
        if (!value)
            goto fail;
        xs_value_t *item = s_dec_value (dec, value, 0);
        if (!item)
            goto fail;
        xs_value_append (params, &item);
    }
    return params;
fail:
    xs_value_destroy (&params);
    return NULL;
}

xs_value_t *
xs_xmlrpc_decode_call (const char *doc, size_t len, const xs_xmlrpc_limits_t *limits,
                       char **method_p, xs_err_t *err)
{
    xs_xmlrpc_parse_t dec;
    xs_value_t *params = NULL;
    char *method = NULL;
    xs_xmlrpc_parse_init (&dec, limits, err);
    if (method_p)
        *method_p = NULL;

    xmlDocPtr tree = xs_xmlrpc_parse_doc (&dec, doc, len);
    if (!tree)
        goto out;
    xmlNodePtr root = s_root (&dec, tree, "methodCall");
    xmlNodePtr name = NULL, list = NULL;
    if (!root || s_named_children (&dec, root, "methodName", &name, "params", &list))
        goto out;
    method = s_dec_method_name (&dec, root, name);
    if (method)
        params = s_dec_params (&dec, list);
out:
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
s_dec_fault (xs_xmlrpc_parse_t *dec, xmlNodePtr fault)
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
        xs_xmlrpc_parse_fail (dec, node, "<fault> needs a struct with an int faultCode and a "
                              "string faultString");
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
    xs_xmlrpc_parse_t dec;
    xs_value_t *result = NULL;
    xs_xmlrpc_parse_init (&dec, limits, err);

    xmlDocPtr tree = xs_xmlrpc_parse_doc (&dec, doc, len);
    if (!tree)
        goto out;
    xmlNodePtr root = s_root (&dec, tree, "methodResponse");
    if (!root)
        goto out;
    xmlNodePtr body = s_only_child (&dec, root, NULL, false);
    if (dec.failed)
        goto out;
    if (!body) {
        xs_xmlrpc_parse_fail (&dec, root, "<methodResponse> lacks <params> or <fault>");
        goto out;
    }
    if (s_is (body, "fault")) {
        s_dec_fault (&dec, body);
        goto out;
    }
    if (!s_is (body, "params")) {
        xs_xmlrpc_parse_fail (&dec, body, "unexpected <%s> inside <methodResponse>",
                              (const char *) body->name);
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

