/*  xs_plugin_module: the interface between the `xensm` plugin executable and
    its xapi module (xensm-xapi.so).

    The plugin executable links only xensm-common (libxml2, jansson) so that
    functions which never call xapi (ping, version, and every refusal of a bad
    request) start fast. Functions that call xapi live in a shared module the
    plugin dlopen()s on demand; the module links libxensm-host, the XenAPI
    client and libcurl.

    Only plain C types cross the boundary (the module carries its own copy of
    the xensm-common code). The module exports one symbol, XS_PLUGIN_MODULE_SYMBOL,
    of type xs_plugin_module_call_fn, and an int XS_PLUGIN_MODULE_ABI_SYMBOL
    holding XS_PLUGIN_MODULE_ABI.
*/
#ifndef XS_PLUGIN_MODULE_H_INCLUDED
#define XS_PLUGIN_MODULE_H_INCLUDED

#include <stddef.h>

#define XS_PLUGIN_MODULE_ABI          1
#define XS_PLUGIN_MODULE_NAME         "xensm-xapi.so"
#define XS_PLUGIN_MODULE_SYMBOL       "xs_plugin_module_call"
#define XS_PLUGIN_MODULE_ABI_SYMBOL   "xs_plugin_module_abi"

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

/* Runs `function` against xapi at `xapi_url` with the caller's `session`
   ref and the already validated `args`. Returns 0 with result->value set,
   or -1 with result->description set. */
typedef int (xs_plugin_module_call_fn) (const char *function, const char *xapi_url,
                                        const char *session, const xs_plugin_arg_t *args,
                                        size_t nargs, xs_plugin_result_t *result);

/* Frees what a result holds and zeroes it. Header-only so that both sides
   use the same code. */
#include <stdlib.h>
static inline void
xs_plugin_result_clear (xs_plugin_result_t *result)
{
    if (!result)
        return;
    free (result->value);
    if (result->description) {
        for (char **item = result->description; *item; item++)
            free (*item);
        free (result->description);
    }
    result->value = NULL;
    result->description = NULL;
}

#endif
