/*  xs_agent_cfg: the settings of xensm-agentd, as one static xs_config
    option table, the command-line flags that override them, and how they
    become the agent's and its xapi executor's configuration (the agent's
    mirror of catalog/xs_catalog_cfg).

    File (INI, default XS_AGENT_CFG_PATH; packaging/config/agent.cfg.in
    lists every key):

        [agent]
        catalog_endpoint = tcp://catalog:7601      (required: here or --catalog)
        zone = default
        host_uuid =        (default: the inventory's INSTALLATION_UUID, else xapi's)
        inventory = /etc/xensource-inventory
        name, xapi_url, xapi_username, xapi_password, xapi_ca_file,
        xapi_timeout_ms, cert, catalog_key, workers, log_level

    Errors that reach a person name the flag or the key that fixes them.
*/
#ifndef XS_AGENT_CFG_H_INCLUDED
#define XS_AGENT_CFG_H_INCLUDED

#include <stdbool.h>

#include "xs_agent.h"
#include "xs_build_config.h"
#include "xs_config.h"
#include "xs_log.h"
#include "xs_xapi_exec.h"

#define XS_AGENT_CFG_PATH   XENSM_SYSCONF_DIR "/agent.cfg"
#define XS_AGENT_SECTION    "agent"

/* The option table (static, ends with a NULL key). */
extern const xs_config_option_t xs_agent_cfg_options [];

/* A command-line flag that sets a key: --<flag> <value> (getopt's `opt`). */
typedef struct {
    const char *flag;
    int opt;
    const char *key;
} xs_agent_cfg_flag_t;

/* The flags (static, ends with a NULL flag). */
extern const xs_agent_cfg_flag_t xs_agent_cfg_flags [];

/* A new config holding the agent defaults. Caller destroys. */
xs_config_t *xs_agent_cfg_new (void);

/* Loads `path` into config; NULL = XS_AGENT_CFG_PATH, which may be absent
   (a named file must exist). Then sets the flags given in `values`
   (indexed by opt; NULL = not given). 0 or -1 with *err. */
int xs_agent_cfg_load (xs_config_t *config, const char *path, const char *const values [128],
                       xs_err_t *err);

/* The level to log at: debug when verbose, else log_level. */
xs_loglevel_t xs_agent_cfg_log_level (xs_config_t *config, bool verbose);

/* What the agent runs with. Strings are borrowed from the config (and from
   inventory_uuid): keep both while the agent lives. */
typedef struct {
    xs_agent_cfg_t agent;       /* executor: the xapi executor over `xapi` */
    xs_xapi_exec_cfg_t xapi;
    char inventory_uuid [37];
} xs_agent_settings_t;

/* Fills *settings from config (`path` names the file in messages). This
   host is host_uuid, else the INSTALLATION_UUID of the inventory file,
   else unknown (the agent asks xapi once connected). 0, or -1 with *err
   (no catalog endpoint, a bad inventory). */
int xs_agent_cfg_settings (xs_config_t *config, const char *path, xs_agent_settings_t *settings,
                           xs_err_t *err);

/* 0 when cfg has what an agent cannot run without (an executor, a zone,
   a catalog endpoint, its certificate and the catalog's key), else -1 with
   *err saying which is missing. */
int xs_agent_cfg_check (const xs_agent_cfg_t *cfg, xs_err_t *err);

#endif
