/*  xs_err: an error a caller can report. */
#include "xs_err.h"

#include <stdio.h>
#include <string.h>

static const char *s_kind_names [] = {
    [XS_OK]         = "ok",
    [XS_EINVAL]     = "invalid",
    [XS_ENOTFOUND]  = "not_found",
    [XS_ECONFLICT]  = "conflict",
    [XS_EIO]        = "io",
    [XS_EXAPI]      = "xapi",
    [XS_ETRANSPORT] = "transport",
    [XS_EINTERNAL]  = "internal",
    [XS_ENOTLEADER] = "not_leader",
};

#define S_NKINDS (sizeof s_kind_names / sizeof s_kind_names [0])

int
xs_err_vset (xs_err_t *err, xs_errkind_t kind, const char *fmt, va_list ap)
{
    if (err) {
        err->kind = kind;
        vsnprintf (err->msg, sizeof err->msg, fmt, ap);
    }
    return -1;
}

int
xs_err_set (xs_err_t *err, xs_errkind_t kind, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    xs_err_vset (err, kind, fmt, ap);
    va_end (ap);
    return -1;
}

int
xs_err_prefix (xs_err_t *err, const char *fmt, ...)
{
    if (err) {
        char prefix [XS_ERR_MSG_MAX];
        char old [XS_ERR_MSG_MAX];
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (prefix, sizeof prefix, fmt, ap);
        va_end (ap);
        memcpy (old, err->msg, sizeof old);
        /* A message longer than the buffer is cut, never overflowed. */
        if (snprintf (err->msg, sizeof err->msg, "%s: %s", prefix, old) < 0)
            err->msg [0] = '\0';
    }
    return -1;
}

void
xs_err_clear (xs_err_t *err)
{
    if (err) {
        err->kind = XS_OK;
        err->msg [0] = '\0';
    }
}

const char *
xs_errkind_name (xs_errkind_t kind)
{
    if ((unsigned) kind < S_NKINDS)
        return s_kind_names [kind];
    return "internal";
}

xs_errkind_t
xs_errkind_from_name (const char *name)
{
    for (size_t i = 0; name && i < S_NKINDS; i++)
        if (strcmp (name, s_kind_names [i]) == 0)
            return (xs_errkind_t) i;
    return XS_EINTERNAL;
}

int
xs_errkind_exit_code (xs_errkind_t kind)
{
    switch (kind) {
    case XS_OK:        return 0;
    case XS_EINVAL:
    case XS_ENOTFOUND: return 2;
    default:           return 1;
    }
}
