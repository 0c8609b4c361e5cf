/*  xs_text: the one check for a text a person gave us (a label, a name, a
    description, a config value): at most `max` bytes, valid UTF-8, no
    control characters, nothing invisible or direction-changing that would
    make it print as something else, and not only spaces. Every class that takes such text from outside calls
    this, so the rule and its wording are the same everywhere.
*/
#ifndef XS_TEXT_H_INCLUDED
#define XS_TEXT_H_INCLUDED

#include <stddef.h>

#include "xs_err.h"

/* The longest zone name. */
#define XS_ZONE_MAX 64

/* Flags for xs_text_check. */
#define XS_TEXT_MAY_BE_EMPTY 0x1    /* "" is fine (else: must not be empty) */

/* 0 when `text` (NUL-terminated, not NULL) is acceptable; else -1 with
   XS_EINVAL and a message that starts with `what`, e.g.
   "flavor label: control character 0x01 at byte 3 not allowed". */
int xs_text_check (const char *what, const char *text, size_t max, unsigned flags,
                   xs_err_t *err);

/* 0 when `text` is a name (a zone): 1..max bytes of ASCII letters and
   digits, and after the first byte also '.', '_' and '-'; else -1 with
   XS_EINVAL and a message that starts with `what`. */
int xs_text_check_name (const char *what, const char *text, size_t max, xs_err_t *err);

#endif
