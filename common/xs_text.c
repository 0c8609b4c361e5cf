/*  xs_text: the one check for text from outside (see xs_text.h). */
#include <string.h>

#include <jansson.h>

#include "xs_text.h"

#include <stdbool.h>
#include <stdint.h>

/* The code point at text [*i] (valid UTF-8, checked before); advances *i. */
static uint32_t
s_next_code_point (const char *text, size_t *i)
{
    const unsigned char *p = (const unsigned char *) text + *i;
    if (p [0] < 0x80) {
        *i += 1;
        return p [0];
    }
    if (p [0] < 0xe0) {
        *i += 2;
        return ((uint32_t) (p [0] & 0x1f) << 6) | (p [1] & 0x3f);
    }
    if (p [0] < 0xf0) {
        *i += 3;
        return ((uint32_t) (p [0] & 0x0f) << 12) | ((uint32_t) (p [1] & 0x3f) << 6)
             | (p [2] & 0x3f);
    }
    *i += 4;
    return ((uint32_t) (p [0] & 0x07) << 18) | ((uint32_t) (p [1] & 0x3f) << 12)
         | ((uint32_t) (p [2] & 0x3f) << 6) | (p [3] & 0x3f);
}

/* Characters that make a printed text say something else than it holds:
   C1 controls (U+0085 is a line break), zero-width characters, the
   direction marks, embeddings, overrides and isolates, line and paragraph
   separators, the byte order mark. */
static bool
s_misleads (uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || (cp >= 0x200b && cp <= 0x200f)
        || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069)
        || cp == 0xfeff;
}


int
xs_text_check (const char *what, const char *text, size_t max, unsigned flags,
               xs_err_t *err)
{
    size_t len = strlen (text);
    if (!len && !(flags & XS_TEXT_MAY_BE_EMPTY))
        return xs_err_set (err, XS_EINVAL, "%s: must not be empty", what);
    if (len > max)
        return xs_err_set (err, XS_EINVAL, "%s: longer than %zu bytes", what, max);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text [i];
        if (c < 0x20 || c == 0x7f)
            return xs_err_set (err, XS_EINVAL,
                               "%s: control character 0x%02x at byte %zu not allowed",
                               what, c, i);
    }
    /* Texts travel in JSON, and jansson takes only valid UTF-8. */
    json_t *probe = json_stringn (text, len);
    if (!probe)
        return xs_err_set (err, XS_EINVAL, "%s: not valid UTF-8", what);
    json_decref (probe);
    for (size_t i = 0; i < len; ) {
        size_t at = i;
        uint32_t cp = s_next_code_point (text, &i);
        if (s_misleads (cp))
            return xs_err_set (err, XS_EINVAL,
                               "%s: invisible or direction-changing character U+%04X at byte "
                               "%zu not allowed", what, (unsigned) cp, at);
    }
    if (len && !(flags & XS_TEXT_MAY_BE_EMPTY) && strspn (text, " ") == len)
        return xs_err_set (err, XS_EINVAL, "%s: must not be blank", what);
    return 0;
}

int
xs_text_check_name (const char *what, const char *text, size_t max, xs_err_t *err)
{
    size_t len = strlen (text);
    if (!len)
        return xs_err_set (err, XS_EINVAL, "%s: must not be empty", what);
    if (len > max)
        return xs_err_set (err, XS_EINVAL, "%s: longer than %zu bytes", what, max);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text [i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
               || (i > 0 && (c == '.' || c == '_' || c == '-'));
        if (!ok)
            return xs_err_set (err, XS_EINVAL,
                               "%s '%.*s': byte %zu not allowed (letters, digits, and after "
                               "the first . _ -)", what, (int) (len < 64 ? len : 64), text, i);
    }
    return 0;
}
