/*  xs_plugin_cfg: the plugin's settings (see xs_plugin_cfg.h). */
#include "xs_plugin_cfg.h"
#include "xs_build_config.h"

#include "xs_plugin.h"


const xs_config_option_t xs_plugin_cfg_options [] = {
    { XS_PLUGIN_SECTION, "helper", XS_CONFIG_STRING, XENSM_HELPER_PATH, 0, 0, NULL, false, NULL,
      "the xapi helper program the plugin exec()s" },
    { XS_PLUGIN_SECTION, "log_level", XS_CONFIG_ENUM, "notice", 0, 0, xs_log_level_names, false,
      NULL, "syslog level: error, warning, notice, info or debug" },
    { XS_PLUGIN_SECTION, "xapi_url", XS_CONFIG_STRING, XS_PLUGIN_DEFAULT_XAPI_URL, 0, 0, NULL,
      false, NULL, "xapi for the functions that call it (its local socket)" },
    { XS_PLUGIN_SECTION, "inventory", XS_CONFIG_STRING, "/etc/xensource-inventory", 0, 0, NULL,
      false, NULL, "the XenServer inventory file holding this host's INSTALLATION_UUID" },
    { .key = NULL }
};

xs_config_t *
xs_plugin_cfg_load (const char *path, xs_err_t *err)
{
    xs_config_t *config = xs_config_new (xs_plugin_cfg_options);
    xs_err_t load_err;
    if (xs_config_load (config, path ? path : XS_PLUGIN_CFG_PATH, &load_err)
    &&  load_err.kind != XS_ENOTFOUND) {
        /* xs_config_load keeps the values as they were: the defaults. */
        if (err)
            *err = load_err;
    }
    return config;
}

const char *
xs_plugin_cfg_helper (const xs_config_t *config)
{
    return xs_config_get (config, XS_PLUGIN_SECTION, "helper");
}

const char *
xs_plugin_cfg_xapi_url (const xs_config_t *config)
{
    return xs_config_get (config, XS_PLUGIN_SECTION, "xapi_url");
}

const char *
xs_plugin_cfg_inventory (const xs_config_t *config)
{
    return xs_config_get (config, XS_PLUGIN_SECTION, "inventory");
}

xs_loglevel_t
xs_plugin_cfg_log_level (const xs_config_t *config)
{
    int level = xs_log_level_from_name (xs_config_get (config, XS_PLUGIN_SECTION, "log_level"));
    return level < 0 ? XS_LOG_NOTICE : (xs_loglevel_t) level;
}
