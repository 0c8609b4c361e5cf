/*  xs_catalog_cfg: the settings of xensm-catalogd (and the defaults
    xensm-manage reads), as one static xs_config option table.

    File (INI, default XS_CATALOG_CFG_PATH), every key optional:

        [catalog]
        db = /var/lib/xensm/catalog.db
        admin_endpoint = ipc:///run/xensm/admin.sock
        admin_allow_remote = false          (tcp:// admin off loopback)
        default_zone = default
        default_ratio = 1.0
        default_reserve = 0
        log_level = notice
        admin_batch = 64
        agent_endpoint = XS_CATALOG_DEFAULT_AGENT (port 7601, every address)
        cert = /var/lib/xensm/catalog.cert
        agent_keys = /var/lib/xensm/agents
        heartbeat_ms = 1000
        agent_timeout_ms = 360000
        job_wait_ms = 30000
        orphan_sweep_ms = 600000            (0: no sweep)
        orphan_grace_ms = 3600000
        api_listen = 127.0.0.1:8776         (empty: no API)
        api_public_endpoint =               (e.g. https://vol.example:8776)
        api_cert = / api_key =              (https when set)
        api_auth = noauth | keystone
        api_allow_insecure = false          (noauth off loopback)
        api_noauth_project = admin
        api_quota_volumes = 1000 / api_quota_gigabytes = 100000
        keystone_url, keystone_user, keystone_password_file,
        keystone_project = service, keystone_cafile

    Command-line flags override the file (xs_config_set).
*/
#ifndef XS_CATALOG_CFG_H_INCLUDED
#define XS_CATALOG_CFG_H_INCLUDED

#include "xs_build_config.h"
#include "xs_config.h"

#define XS_CATALOG_CFG_PATH     XENSM_SYSCONF_DIR "/catalog.cfg"
#define XS_CATALOG_SECTION      "catalog"
#define XS_CATALOG_DEFAULT_DB   "/var/lib/xensm/catalog.db"
#define XS_CATALOG_DEFAULT_ADMIN "ipc:///run/xensm/admin.sock"
#define XS_CATALOG_DEFAULT_AGENT "tcp://*:7601"
#define XS_CATALOG_DEFAULT_CERT "/var/lib/xensm/catalog.cert"
#define XS_CATALOG_DEFAULT_KEYS "/var/lib/xensm/agents"
#define XS_CATALOG_DEFAULT_API  "127.0.0.1:8776"

/* The option table (static, ends with a NULL key). */
extern const xs_config_option_t xs_catalog_cfg_options [];

/* A new config holding the catalog defaults. Caller destroys. */
xs_config_t *xs_catalog_cfg_new (void);

/* Checks a ZeroMQ endpoint for the admin socket: ipc://<absolute path of at
   most 100 bytes> or tcp://<host>:<port>. 0 or -1 with *err. */
int xs_catalog_cfg_check_endpoint (const char *endpoint, xs_err_t *err);

/* Checks the admin endpoint: as xs_catalog_cfg_check_endpoint, and a tcp://
   one must be on a loopback address (127.0.0.0/8, [::1], localhost) unless
   allow_remote (admin_allow_remote): the admin API has no authentication.
   0 or -1 with *err naming the endpoint and the setting. */
int xs_catalog_cfg_check_admin_endpoint (const char *endpoint, bool allow_remote,
                                         xs_err_t *err);


#endif
