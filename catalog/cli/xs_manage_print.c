/*  xs_manage_print: sizes, times and JSON for xensm-manage's output. */
#include "xs_manage.h"
#include "xs_manage_print.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

/* ---------------------------------------------------------------------
   Sizes
   --------------------------------------------------------------------- */

int
xs_manage_parse_size (const char *text, int64_t *bytes)
{
    static const struct { const char *suffix; int shift; } units [] = {
        { "", 0 }, { "b", 0 },
        { "k", 10 }, { "kib", 10 }, { "m", 20 }, { "mib", 20 },
        { "g", 30 }, { "gib", 30 }, { "t", 40 }, { "tib", 40 },
    };
    if (!text || !isdigit ((unsigned char) text [0]))
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (errno)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units [0]; i++)
        if (strcasecmp (end, units [i].suffix) == 0) {
            if (value == 0 || value > ((unsigned long long) INT64_MAX >> units [i].shift))
                return -1;
            *bytes = (int64_t) (value << units [i].shift);
            return 0;
        }
    return -1;
}

void
xs_manage_format_size (int64_t bytes, char *buffer, size_t size)
{
    static const char *const units [] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double value = (double) bytes;
    size_t u = 0;
    while (value >= 1024 && u + 1 < sizeof units / sizeof units [0]) {
        value /= 1024;
        u++;
    }
    if (u == 0 || value == (double) (int64_t) value)
        snprintf (buffer, size, "%.0f %s", value, units [u]);
    else
        snprintf (buffer, size, "%.1f %s", value, units [u]);
}

/* ---------------------------------------------------------------------
   Times
   --------------------------------------------------------------------- */

void
xs_manage_format_time (json_int_t ms, char *buffer, size_t size)
{
    if (ms <= 0) {
        snprintf (buffer, size, "-");
        return;
    }
    time_t seconds = (time_t) (ms / 1000);
    struct tm tm;
    if (!gmtime_r (&seconds, &tm) || !strftime (buffer, size, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf (buffer, size, "%" JSON_INTEGER_FORMAT, ms);
}

/* ---------------------------------------------------------------------
   JSON
   --------------------------------------------------------------------- */

const char *
xs_manage_str (json_t *object, const char *key, const char *dash)
{
    const char *value = json_string_value (json_object_get (object, key));
    return value ? value : dash;
}

void
xs_manage_print_json (FILE *out, json_t *value)
{
    json_dumpf (value, out, JSON_INDENT (2));
    fputc ('\n', out);
}
