/*  xensm: the xapi plugin (/etc/xapi.d/plugins/xensm).

    xapi runs it with one argument, an XML-RPC methodCall, and reads one
    methodResponse from stdout. The exit status is 0 whether the function
    succeeded or failed: the outcome is in the response. xapi runs it with
    PATH alone in its environment and throws its stderr away when it exits
    0 (xapi_plugins.ml), so it reads its settings from a file
    (xs_plugin_cfg: /etc/xensm/plugin.cfg) and logs to syslog.

    Built twice: as `xensm`, the plugin itself, which exec()s the helper
    program for the functions that call xapi; and, with XS_PLUGIN_HELPER, as
    that helper, `xensm-xapi`, which has those functions linked in and
    reads this host's uuid from the inventory (never from the caller's
    session, which on a pool member is the master's). Both answer any
    request the same way.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xs_log.h"
#include "xs_plugin.h"
#include "xs_plugin_cfg.h"

#ifdef XS_PLUGIN_HELPER
#include "xs_inventory.h"
#define S_IDENT "xensm-xapi"
#else
#define S_IDENT "xensm-plugin"
#endif

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

#ifdef XS_PLUGIN_HELPER
/* This host, from the inventory the settings name. */
static void
s_set_host (xs_plugin_t *plugin, const xs_config_t *config)
{
    const char *inventory = xs_plugin_cfg_inventory (config);
    char uuid [37];
    xs_err_t err;
    int found = xs_inventory_host_uuid (inventory, uuid, sizeof uuid, &err);
    if (found > 0) {
        xs_plugin_set_host (plugin, uuid, NULL);
        return;
    }
    if (found == 0)
        xs_err_set (&err, XS_ENOTFOUND, "inventory %s: no such file", inventory);
    xs_error ("%s", err.msg);
    xs_plugin_set_host (plugin, NULL, err.msg);
}
#endif

int
main (int argc, char *argv [])
{
    xs_err_t cfg_err;
    xs_err_clear (&cfg_err);
    xs_config_t *config = xs_plugin_cfg_load (NULL, &cfg_err);
    xs_log_init (S_IDENT, true, xs_plugin_cfg_log_level (config));
    if (argc == 2 && (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0)) {
        xs_plugin_print_help (stdout);
        xs_config_destroy (&config);
        return 0;
    }
    xs_plugin_t *plugin = xs_plugin_new ();
    if (cfg_err.kind != XS_OK) {
        xs_error ("%s", cfg_err.msg);
        xs_plugin_set_config_error (plugin, cfg_err.msg);
    }
    xs_plugin_set_xapi_url (plugin, xs_plugin_cfg_xapi_url (config));
#ifdef XS_PLUGIN_HELPER
    xs_plugin_set_helper_call (plugin, xs_plugin_helper_call);
    s_set_host (plugin, config);
#else
    xs_plugin_set_helper_path (plugin, xs_plugin_cfg_helper (config));
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
    xs_config_destroy (&config);
    if (rc != 0) {
        xs_error ("cannot write the response to stdout");
        return 1;
    }
    return 0;
}
