/*  xs_plugin_cfg: the settings of the xapi plugin and its helper program,
    from a file under /etc, never from the environment: xapi runs a plugin
    with PATH alone in its environment (forkhelpers.ml), so nothing else
    can reach it that way.

    File (INI, XS_PLUGIN_CFG_PATH = /etc/xensm/plugin.cfg, shipped
    %config(noreplace) by the host package; packaging/config/plugin.cfg.in
    lists every key). A missing file means the defaults:

        [plugin]
        helper = /usr/libexec/xensm/xensm-xapi   the program exec()ed for the
                                                  functions that call xapi
        log_level = notice                        syslog level (xapi discards
                                                  a plugin's stderr on success)
        xapi_url = unix:/var/lib/xcp/xapi         xapi's local socket (only odd
                                                  set-ups change it)
        inventory = /etc/xensource-inventory      where "this host" is read
                                                  (INSTALLATION_UUID)
*/
#ifndef XS_PLUGIN_CFG_H_INCLUDED
#define XS_PLUGIN_CFG_H_INCLUDED

#include "xs_config.h"
#include "xs_err.h"
#include "xs_log.h"

#include "xs_build_config.h"

#define XS_PLUGIN_CFG_PATH  XENSM_SYSCONF_DIR "/plugin.cfg"
#define XS_PLUGIN_SECTION   "plugin"

/* The option table (static, ends with a NULL key). */
extern const xs_config_option_t xs_plugin_cfg_options [];

/* A new config holding the defaults, then `path` (NULL = XS_PLUGIN_CFG_PATH)
   over them when it exists. Returns the config (caller destroys; never
   NULL); *err is set (and the defaults kept) when the file exists but
   cannot be used. */
xs_config_t *xs_plugin_cfg_load (const char *path, xs_err_t *err);

/* The settings, borrowed from config. */
const char *xs_plugin_cfg_helper (const xs_config_t *config);
const char *xs_plugin_cfg_xapi_url (const xs_config_t *config);
const char *xs_plugin_cfg_inventory (const xs_config_t *config);
xs_loglevel_t xs_plugin_cfg_log_level (const xs_config_t *config);

#endif
