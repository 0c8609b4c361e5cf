/*  xs_manage_print: how xensm-manage turns the catalog's values into text
    for people (sizes, times, absent members) and prints JSON for scripts.
    Private to catalog/cli/. No state; nothing here allocates for the caller:
    the formatters write into the caller's buffer, and xs_manage_str returns
    a string borrowed from the JSON object. (Parsing a size, the inverse of
    xs_manage_format_size, is public: xs_manage_parse_size in xs_manage.h.)
*/
#ifndef XS_MANAGE_PRINT_H_INCLUDED
#define XS_MANAGE_PRINT_H_INCLUDED

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "10 GiB", "1.5 MiB", "512 B" (powers of 1024, one decimal when not whole)
   into buffer (at most size bytes, NUL-terminated). */
void xs_manage_format_size (int64_t bytes, char *buffer, size_t size);

/* "2026-11-24 23:05:01" (UTC) from milliseconds since the epoch, "-" for 0
   or less, into buffer (at most size bytes, NUL-terminated). */
void xs_manage_format_time (json_int_t ms, char *buffer, size_t size);

/* The string member `key` of `object`, or `dash` when it is absent, null or
   not a string. Borrowed from object (or dash). */
const char *xs_manage_str (json_t *object, const char *key, const char *dash);

/* Prints `value` as indented JSON and a newline on `out`. */
void xs_manage_print_json (FILE *out, json_t *value);

#endif
