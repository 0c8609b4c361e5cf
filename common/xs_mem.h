/*  xs_mem: allocation that never returns NULL.

    Out of memory is not an error a caller can handle usefully here (the
    daemons would only fail the request and try again, with no memory to
    format the error in), so, as czmq's zmalloc does, these print one line
    on stderr and abort. Every other failure (SQLite, libcurl, libxml2,
    ZeroMQ, input) is an xs_err_t, never an abort.

    Everything returned is the caller's to free ().
*/
#ifndef XS_MEM_H_INCLUDED
#define XS_MEM_H_INCLUDED

#include <stddef.h>

/* size bytes, zeroed (at least 1 byte, so never NULL). */
void *xs_zalloc (size_t size);

/* Resizes p (may be NULL) to size bytes (at least 1). */
void *xs_realloc (void *p, size_t size);

/* A copy of text; NULL when text is NULL. */
char *xs_strdup (const char *text);

/* A copy of the first n bytes of text (NUL-terminated); NULL when text is NULL. */
char *xs_strndup (const char *text, size_t n);

/* A new printf-formatted string. */
char *xs_sprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Aborts with "out of memory" when p is NULL; returns p. For results of
   libraries that fail only when out of memory (json_object (), zlist_new (),
   open_memstream (), ...). */
#define xs_nn(p) ((__typeof__ (p)) xs_mem_check ((p), __FILE__, __LINE__))
void *xs_mem_check (void *p, const char *file, int line);

#endif
