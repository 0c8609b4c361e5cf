/*  xs_plugin_helper: the plugin functions that call xapi, and the interface
    between them and the request handler (xs_plugin).

    The `xensm` plugin executable links only xensm-common (libxml2, jansson),
    statically where it can, so that functions which never call xapi (ping,
    version, and every refusal of a bad request) start fast. The functions
    that call xapi (libxensm-host: the XenAPI client, libcurl, the one
    operation table) are linked into the helper program xensm-xapi, which
    the plugin exec()s with the same request; the helper hands
    xs_plugin_helper_call to xs_plugin_set_helper_call and so answers it in
    process.

    Only plain C types cross the interface, so tests and the fuzz target can
    put a stub in its place.
*/
#ifndef XS_PLUGIN_HELPER_H_INCLUDED
#define XS_PLUGIN_HELPER_H_INCLUDED

#include <stddef.h>

/* One argument of the request (borrowed strings). */
typedef struct {
    const char *key;
    const char *value;
} xs_plugin_arg_t;

/* What a function produced. On success `value` is the JSON text of the
   result; on failure `description` is the ErrorDescription: a NULL-terminated
   array, code first, then its params. Both malloc'd by the callee (each
   string too); the caller frees them with xs_plugin_result_clear. */
typedef struct {
    char *value;
    char **description;
} xs_plugin_result_t;

/* Where a function runs: the xapi to call and the host it acts on. */
typedef struct {
    const char *xapi_url;       /* xapi (the local socket)                       */
    const char *host_uuid;      /* this host, from the inventory; NULL: unknown  */
    const char *host_error;     /* why host_uuid is NULL (then the functions that
                                   act on this host are refused); NULL with a
                                   NULL host_uuid: the session's host (tests)    */
} xs_plugin_where_t;

/* Runs `function` against xapi at where->xapi_url, on host where->host_uuid,
   with the caller's `session` ref and the already validated `args`. Returns
   0 with result->value set, or -1 with result->description set. */
typedef int (xs_plugin_call_fn) (const char *function, const xs_plugin_where_t *where,
                                 const char *session, const xs_plugin_arg_t *args,
                                 size_t nargs, xs_plugin_result_t *result);

/* The real functions (xs_plugin_helper.c, in the helper program): each
   through xs_hostops_dispatch, the table the agent runs too. */
xs_plugin_call_fn xs_plugin_helper_call;

/* Frees what a result holds and zeroes it; NULL is fine (xs_plugin.c, so
   that both sides use the same code). */
void xs_plugin_result_clear (xs_plugin_result_t *result);

#endif
