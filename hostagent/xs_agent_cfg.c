/*  xs_agent_cfg: the settings of xensm-agentd (see xs_agent_cfg.h). */
#include "xs_agent_cfg.h"
#include "xs_text.h"

#include <string.h>

#include "xs_inventory.h"

const xs_config_option_t xs_agent_cfg_options [] = {
    { XS_AGENT_SECTION, "catalog_endpoint", XS_CONFIG_STRING, NULL, 0, 0, NULL, false, NULL,
      "the catalog's agent endpoint, tcp://host:port; several catalogd: a list A,B" },
    { XS_AGENT_SECTION, "zone", XS_CONFIG_STRING, "default", 0, 0, NULL, false, NULL,
      "the zone this host serves" },
    { XS_AGENT_SECTION, "host_uuid", XS_CONFIG_STRING, NULL, 0, 0, NULL, false, NULL,
      "this host's xapi uuid (default: INSTALLATION_UUID of the inventory, else xapi's)" },
    { XS_AGENT_SECTION, "inventory", XS_CONFIG_STRING, XS_INVENTORY_PATH, 0, 0, NULL, false, NULL,
      "the XenServer inventory file holding INSTALLATION_UUID" },
    { XS_AGENT_SECTION, "name", XS_CONFIG_STRING, NULL, 0, 0, NULL, false, NULL,
      "name shown in host list (default: the host's name_label)" },
    { XS_AGENT_SECTION, "xapi_url", XS_CONFIG_STRING, "unix:/var/lib/xcp/xapi", 0, 0, NULL, false,
      NULL, "how to reach xapi" },
    { XS_AGENT_SECTION, "xapi_username", XS_CONFIG_STRING, "root", 0, 0, NULL, true, NULL,
      "XenAPI user" },
    { XS_AGENT_SECTION, "xapi_password", XS_CONFIG_STRING, "", 0, 0, NULL, true, NULL,
      "XenAPI password (a secret)" },
    { XS_AGENT_SECTION, "xapi_ca_file", XS_CONFIG_STRING, NULL, 0, 0, NULL, false, NULL,
      "CA bundle for an https xapi_url" },
    { XS_AGENT_SECTION, "xapi_timeout_ms", XS_CONFIG_INT, "300000", 1000, 86400000, NULL, false,
      NULL, "longest xapi call" },
    { XS_AGENT_SECTION, "cert", XS_CONFIG_STRING, XENSM_SYSCONF_DIR "/keys/agent.cert", 0, 0, NULL,
      false, NULL, "own CURVE certificate (FILE and FILE_secret)" },
    { XS_AGENT_SECTION, "catalog_key", XS_CONFIG_STRING, XENSM_SYSCONF_DIR "/keys/catalog.cert",
      0, 0, NULL, false, NULL, "the catalog's public certificate" },
    { XS_AGENT_SECTION, "workers", XS_CONFIG_INT, "4", 1, 64, NULL, false, NULL,
      "xapi calls run at once" },
    { XS_AGENT_SECTION, "silence_ms", XS_CONFIG_INT, "10000", 100, 600000, NULL, false, NULL,
      "the catalog is gone (reconnect, next of a list) after 3 heartbeats and this long "
      "without an answer" },
    { XS_AGENT_SECTION, "log_level", XS_CONFIG_ENUM, "notice", 0, 0, xs_log_level_names, false,
      NULL, "error, warning, notice, info or debug (-v sets debug)" },
    { .key = NULL }
};

const xs_agent_cfg_flag_t xs_agent_cfg_flags [] = {
    { "catalog",     'C', "catalog_endpoint" },
    { "zone",        'z', "zone" },
    { "xapi",        'x', "xapi_url" },
    { "cert",        'k', "cert" },
    { "catalog-key", 'K', "catalog_key" },
    { "host-uuid",   'u', "host_uuid" },
    { "name",        'n', "name" },
    { NULL, 0, NULL }
};

xs_config_t *
xs_agent_cfg_new (void)
{
    return xs_config_new (xs_agent_cfg_options);
}

int
xs_agent_cfg_load (xs_config_t *config, const char *path, const char *const values [128],
                   xs_err_t *err)
{
    /* The default file may be absent; a named one must exist. */
    if (xs_config_load (config, path ? path : XS_AGENT_CFG_PATH, err)
    &&  (path || err->kind != XS_ENOTFOUND))
        return -1;
    for (const xs_agent_cfg_flag_t *f = xs_agent_cfg_flags; f->flag; f++)
        if (values [f->opt]
        &&  xs_config_set (config, XS_AGENT_SECTION, f->key, values [f->opt], err))
            return -1;
    return 0;
}

xs_loglevel_t
xs_agent_cfg_log_level (xs_config_t *config, bool verbose)
{
    int named = xs_log_level_from_name (xs_config_get (config, XS_AGENT_SECTION, "log_level"));
    return verbose ? XS_LOG_DEBUG : named < 0 ? XS_LOG_NOTICE : (xs_loglevel_t) named;
}

/* Which host this is: configured, else the inventory's INSTALLATION_UUID
   (on a pool member xapi's session.get_this_host names the master), else
   NULL: asked from xapi once connected. */
static int
s_host_uuid (xs_config_t *config, const char *path, xs_agent_settings_t *settings,
             const char **uuid_p, xs_err_t *err)
{
    *uuid_p = xs_config_get (config, XS_AGENT_SECTION, "host_uuid");
    if (*uuid_p)
        return 0;
    const char *inventory = xs_config_get (config, XS_AGENT_SECTION, "inventory");
    int found = xs_inventory_host_uuid (inventory, settings->inventory_uuid,
                                        sizeof settings->inventory_uuid, err);
    if (found < 0) {
        char reason [XS_ERR_MSG_MAX];
        snprintf (reason, sizeof reason, "%s", err->msg);
        return xs_err_set (err, err->kind, "%s (set host_uuid in %s to override)", reason, path);
    }
    if (found)
        *uuid_p = settings->inventory_uuid;
    return 0;
}

int
xs_agent_cfg_settings (xs_config_t *config, const char *path, xs_agent_settings_t *settings,
                       xs_err_t *err)
{
    memset (settings, 0, sizeof *settings);
    if (!path)
        path = XS_AGENT_CFG_PATH;
    const char *endpoint = xs_config_get (config, XS_AGENT_SECTION, "catalog_endpoint");
    if (!endpoint || !*endpoint)
        return xs_err_set (err, XS_EINVAL,
                           "no catalog endpoint: give --catalog or catalog_endpoint= in %s", path);
    const char *zone = xs_config_get (config, XS_AGENT_SECTION, "zone");   /* never empty */
    if (xs_text_check_name ("zone", zone, XS_ZONE_MAX, err))
        return xs_err_prefix (err, "%s", path);
    const char *host_uuid = NULL;
    if (s_host_uuid (config, path, settings, &host_uuid, err))
        return -1;
    settings->xapi = (xs_xapi_exec_cfg_t) {
        .url = xs_config_get (config, XS_AGENT_SECTION, "xapi_url"),
        .username = xs_config_get (config, XS_AGENT_SECTION, "xapi_username"),
        .password = xs_config_get (config, XS_AGENT_SECTION, "xapi_password"),
        .ca_file = xs_config_get (config, XS_AGENT_SECTION, "xapi_ca_file"),
        .timeout_ms = (long) xs_config_int (config, XS_AGENT_SECTION, "xapi_timeout_ms", 300000),
        .host_uuid = host_uuid,
    };
    settings->agent = (xs_agent_cfg_t) {
        .catalog_endpoint = endpoint,
        .zone = zone,
        .host_uuid = host_uuid,
        .name = xs_config_get (config, XS_AGENT_SECTION, "name"),
        .cert_file = xs_config_get (config, XS_AGENT_SECTION, "cert"),
        .catalog_key_file = xs_config_get (config, XS_AGENT_SECTION, "catalog_key"),
        .workers = (int) xs_config_int (config, XS_AGENT_SECTION, "workers", 4),
        .silence_ms = (int) xs_config_int (config, XS_AGENT_SECTION, "silence_ms", 10000),
        .executor = &xs_xapi_executor,
        .executor_arg = &settings->xapi,
    };
    return 0;
}

/* Checks what the agent cannot run without. Plain words: the program
   (xs_agent_cfg) says which flag or setting gives each. */
int
xs_agent_cfg_check (const xs_agent_cfg_t *cfg, xs_err_t *err)
{
    if (!cfg || !cfg->executor)
        return xs_err_set (err, XS_EINVAL, "agent: no executor");
    if (!cfg->zone || !*cfg->zone)
        return xs_err_set (err, XS_EINVAL, "agent: no zone set");
    if (!cfg->catalog_endpoint || !*cfg->catalog_endpoint)
        return xs_err_set (err, XS_EINVAL, "agent: no catalog endpoint set");
    if (!cfg->cert_file || !*cfg->cert_file)
        return xs_err_set (err, XS_EINVAL, "agent: no certificate set");
    if (!cfg->catalog_key_file || !*cfg->catalog_key_file)
        return xs_err_set (err, XS_EINVAL, "agent: no catalog key set");
    return 0;
}
