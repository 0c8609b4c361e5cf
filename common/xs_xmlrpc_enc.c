/*  xs_xmlrpc_enc: the encoding half of xs_xmlrpc (xs_xmlrpc.h).

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

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

/* Longest value path quoted in an error message. */
#define S_PATH_MAX 160


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
