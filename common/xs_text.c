/*  xs_text: the one check for text from outside (see xs_text.h). */
#include <string.h>

#include <jansson.h>

#include "xs_text.h"


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
    return 0;
}
