/*  xs_mem: allocation that never returns NULL (see xs_mem.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_mem.h"


static void __attribute__ ((noreturn))
s_out_of_memory (const char *file, int line, size_t size)
{
    fprintf (stderr, "xensm: out of memory (%zu bytes) at %s:%d\n", size, file, line);
    abort ();
}

void *
xs_mem_check (void *p, const char *file, int line)
{
    if (!p)
        s_out_of_memory (file, line, 0);
    return p;
}

void *
xs_zalloc (size_t size)
{
    void *p = calloc (1, size ? size : 1);
    if (!p)
        s_out_of_memory (__FILE__, __LINE__, size);
    return p;
}

void *
xs_realloc (void *p, size_t size)
{
    void *q = realloc (p, size ? size : 1);
    if (!q)
        s_out_of_memory (__FILE__, __LINE__, size);
    return q;
}

char *
xs_strdup (const char *text)
{
    if (!text)
        return NULL;
    char *copy = strdup (text);
    if (!copy)
        s_out_of_memory (__FILE__, __LINE__, strlen (text) + 1);
    return copy;
}

char *
xs_strndup (const char *text, size_t n)
{
    if (!text)
        return NULL;
    char *copy = strndup (text, n);
    if (!copy)
        s_out_of_memory (__FILE__, __LINE__, n + 1);
    return copy;
}

char *
xs_sprintf (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *text = NULL;
    int rc = vasprintf (&text, fmt, ap);
    va_end (ap);
    if (rc < 0)
        s_out_of_memory (__FILE__, __LINE__, 0);
    return text;
}
