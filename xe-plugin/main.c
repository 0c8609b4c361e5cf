/*  xensm: the xapi plugin (/etc/xapi.d/plugins/xensm).

    xapi runs it with one argument, an XML-RPC methodCall, and reads one
    methodResponse from stdout. Everything else (logs) goes to stderr, which
    xapi keeps in its log. The exit status is 0 whether the function
    succeeded or failed: the outcome is in the response.

    Built twice: as `xensm`, the plugin itself, which exec()s the helper
    program for the functions that call xapi; and, with XS_PLUGIN_HELPER, as
    that helper, `xensm-xapi`, which has those functions linked in. Both
    answer any request the same way.

    Environment (tests): XENSM_XAPI_URL overrides xapi's local socket,
    XENSM_HELPER_PATH the path of the helper program, XENSM_LOG_LEVEL
    (error, warning, notice, info, debug) the logging level.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xs_log.h"
#include "xs_plugin.h"

/* $XENSM_LOG_LEVEL, warning when unset or unknown. */
static xs_loglevel_t
s_log_level (void)
{
    int level = xs_log_level_from_name (getenv ("XENSM_LOG_LEVEL"));
    return level < 0 ? XS_LOG_WARNING : (xs_loglevel_t) level;
}

/* Writes all of `data` to stdout. 0 or -1. */
static int
s_write_all (const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write (STDOUT_FILENO, data, len);
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t) n;
    }
    return 0;
}

int
main (int argc, char *argv [])
{
    xs_log_init ("xensm-plugin", false, s_log_level ());
    if (argc == 2 && (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0)) {
        xs_plugin_print_help (stdout);
        return 0;
    }
    xs_plugin_t *plugin = xs_plugin_new ();
    xs_plugin_set_xapi_url (plugin, getenv ("XENSM_XAPI_URL"));
#ifdef XS_PLUGIN_HELPER
    xs_plugin_set_helper_call (plugin, xs_plugin_helper_call);
#else
    xs_plugin_set_helper_path (plugin, getenv ("XENSM_HELPER_PATH"));
#endif

    /* xapi passes exactly one argument; anything else is answered with a
       Failure too, so that stdout always holds one methodResponse. */
    const char *request = argc == 2 ? argv [1] : "";
    if (argc != 2)
        xs_error ("expected one argument (an XML-RPC methodCall), got %d; try --help", argc - 1);
    size_t len = 0;
    char *response = xs_plugin_handle (plugin, request, strlen (request), &len);
    int rc = s_write_all (response, len);
    free (response);
    xs_plugin_destroy (&plugin);
    if (rc != 0) {
        xs_error ("cannot write the response to stdout");
        return 1;
    }
    return 0;
}
