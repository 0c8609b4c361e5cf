/*  xensm-agentd: the host agent. Thin main: options and config, then the
    xs_agent message loop with the xapi executor. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "xs_agent.h"
#include "xs_cert.h"
#include "xs_config.h"
#include "xs_daemon.h"
#include "xs_inventory.h"
#include "xs_log.h"
#include "xs_xapi_exec.h"

#define S_SECTION "agent"
#define S_DEFAULT_CFG XENSM_SYSCONF_DIR "/agent.cfg"


static const xs_config_option_t s_options [] = {
    {S_SECTION, "catalog_endpoint", XS_CONFIG_STRING, NULL, 0, 0, NULL, false, NULL,
     "the catalog's agent endpoint, tcp://host:port"},
    {S_SECTION, "zone", XS_CONFIG_STRING, "default", 0, 0, NULL, false, NULL,
     "the zone this host serves"},
    {S_SECTION, "host_uuid", XS_CONFIG_STRING, NULL, 0, 0, NULL, false, NULL,
     "this host's xapi uuid (default: INSTALLATION_UUID of the inventory, else xapi's)"},
    {S_SECTION, "inventory", XS_CONFIG_STRING, XS_INVENTORY_PATH, 0, 0, NULL, false, NULL,
     "the XenServer inventory file holding INSTALLATION_UUID"},
    {S_SECTION, "name", XS_CONFIG_STRING, NULL, 0, 0, NULL, false, NULL,
     "name shown in host list (default: the host's name_label)"},
    {S_SECTION, "xapi_url", XS_CONFIG_STRING, "unix:/var/lib/xcp/xapi", 0, 0, NULL, false, NULL,
     "how to reach xapi"},
    {S_SECTION, "xapi_username", XS_CONFIG_STRING, "root", 0, 0, NULL, true, NULL,
     "XenAPI user"},
    {S_SECTION, "xapi_password", XS_CONFIG_STRING, "", 0, 0, NULL, true, NULL,
     "XenAPI password (a secret)"},
    {S_SECTION, "xapi_ca_file", XS_CONFIG_STRING, NULL, 0, 0, NULL, false, NULL,
     "CA bundle for an https xapi_url"},
    {S_SECTION, "xapi_timeout_ms", XS_CONFIG_INT, "300000", 1000, 86400000, NULL, false, NULL,
     "longest xapi call"},
    {S_SECTION, "cert", XS_CONFIG_STRING, XENSM_SYSCONF_DIR "/keys/agent.cert", 0, 0, NULL,
     false, NULL, "own CURVE certificate (FILE and FILE_secret)"},
    {S_SECTION, "catalog_key", XS_CONFIG_STRING, XENSM_SYSCONF_DIR "/keys/catalog.cert", 0, 0,
     NULL, false, NULL, "the catalog's public certificate"},
    {S_SECTION, "workers", XS_CONFIG_INT, "4", 1, 64, NULL, false, NULL,
     "xapi calls run at once"},
    {S_SECTION, "log_level", XS_CONFIG_ENUM, "notice", 0, 0, xs_log_level_names, false, NULL,
     "error, warning, notice, info or debug (-v sets debug)"},
    {.key = NULL}
};

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: xensm-agentd [-c FILE] [--catalog ENDPOINT] [--zone Z] [--xapi URL]\n"
        "                    [--cert FILE] [--catalog-key FILE] [--host-uuid U] [--name N]\n"
        "                    [--foreground] [-v]\n"
        "       xensm-agentd --gen-cert FILE\n"
        "\n"
        "  -c, --config FILE      settings (INI, default " S_DEFAULT_CFG ")\n"
        "      --catalog E        the catalog's agent endpoint (tcp://host:port)\n"
        "      --zone Z           the zone this host serves\n"
        "      --xapi URL         xapi: unix:/var/lib/xcp/xapi, https://host, http://host:port\n"
        "      --cert FILE        own CURVE certificate (FILE + FILE_secret)\n"
        "      --catalog-key FILE the catalog's public certificate\n"
        "      --host-uuid U      this host's uuid (default: asked from xapi)\n"
        "      --name N           name shown by `xensm-manage host list`\n"
        "      --foreground       stay in the foreground, log to stderr\n"
        "  -v, --verbose          debug logging\n"
        "      --gen-cert FILE    write a new certificate (FILE public, FILE_secret 0600)\n"
        "\n"
        "Readiness: with XENSM_READY_FD=n set, writes READY to fd n once registered.\n");
}

int
main (int argc, char **argv)
{
    static const struct option longopts [] = {
        {"config", required_argument, NULL, 'c'},
        {"catalog", required_argument, NULL, 'C'},
        {"zone", required_argument, NULL, 'z'},
        {"xapi", required_argument, NULL, 'x'},
        {"cert", required_argument, NULL, 'k'},
        {"catalog-key", required_argument, NULL, 'K'},
        {"host-uuid", required_argument, NULL, 'u'},
        {"name", required_argument, NULL, 'n'},
        {"foreground", no_argument, NULL, 'f'},
        {"verbose", no_argument, NULL, 'v'},
        {"gen-cert", required_argument, NULL, 'G'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}
    };
    static const struct { int opt; const char *key; } flag_keys [] = {
        {'C', "catalog_endpoint"}, {'z', "zone"}, {'x', "xapi_url"}, {'k', "cert"},
        {'K', "catalog_key"}, {'u', "host_uuid"}, {'n', "name"},
    };
    const char *config_file = NULL;
    const char *flag_values [128] = {NULL};
    bool foreground = false, verbose = false;
    int rc = 1;
    xs_err_t err;
    xs_config_t *config = NULL;
    xs_agent_t *agent = NULL;

    int c;
    while ((c = getopt_long (argc, argv, "c:vh", longopts, NULL)) != -1) {
        switch (c) {
            case 'c': config_file = optarg; break;
            case 'f': foreground = true; break;
            case 'v': verbose = true; break;
            case 'G':
                xs_log_init ("xensm-agentd", false, XS_LOG_NOTICE);
                if (xs_cert_generate (optarg, &err)) {
                    fprintf (stderr, "xensm-agentd: %s\n", err.msg);
                    return 1;
                }
                printf ("wrote %s (public: enroll it with `xensm-manage host enroll %s`) and "
                        "%s_secret\n", optarg, optarg, optarg);
                return 0;
            case 'h': s_usage (stdout); return 0;
            case 'V': printf ("xensm-agentd %s\n", XENSM_VERSION); return 0;
            case 'C': case 'z': case 'x': case 'k': case 'K': case 'u': case 'n':
                flag_values [c] = optarg;
                break;
            default:
                s_usage (stderr);
                return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "xensm-agentd: unexpected argument '%s'\n", argv [optind]);
        s_usage (stderr);
        return 2;
    }

    config = xs_config_new (s_options);
    const char *path = config_file ? config_file : S_DEFAULT_CFG;
    if (xs_config_load (config, path, &err)) {
        /* The default file may be absent; a named one must exist. */
        if (config_file || err.kind != XS_ENOTFOUND) {
            fprintf (stderr, "xensm-agentd: %s\n", err.msg);
            rc = 2;
            goto out;
        }
    }
    for (size_t i = 0; i < sizeof flag_keys / sizeof flag_keys [0]; i++)
        if (flag_values [flag_keys [i].opt]
        &&  xs_config_set (config, S_SECTION, flag_keys [i].key,
                           flag_values [flag_keys [i].opt], &err)) {
            fprintf (stderr, "xensm-agentd: %s\n", err.msg);
            rc = 2;
            goto out;
        }
    if (!xs_config_get (config, S_SECTION, "catalog_endpoint")) {
        fprintf (stderr, "xensm-agentd: no catalog endpoint: give --catalog or "
                         "catalog_endpoint= in %s\n", path);
        rc = 2;
        goto out;
    }

    xs_loglevel_t level = verbose ? XS_LOG_DEBUG : XS_LOG_NOTICE;
    const char *lname = xs_config_get (config, S_SECTION, "log_level");
    if (!verbose && xs_log_level_from_name (lname) >= 0)
        level = (xs_loglevel_t) xs_log_level_from_name (lname);
    xs_log_init ("xensm-agentd", !foreground, level);

    xs_daemon_ready_t ready;
    if (xs_daemon_ready_init (&ready, &err)) {
        fprintf (stderr, "xensm-agentd: %s\n", err.msg);
        rc = 2;
        goto out;
    }

    /* Which host this is: configured, else the inventory's INSTALLATION_UUID
       (on a pool member xapi's session.get_this_host names the master),
       else asked from xapi once connected. */
    const char *host_uuid = xs_config_get (config, S_SECTION, "host_uuid");
    char inventory_uuid [37];
    if (!host_uuid) {
        const char *inventory = xs_config_get (config, S_SECTION, "inventory");
        int found = xs_inventory_host_uuid (inventory, inventory_uuid, sizeof inventory_uuid,
                                            &err);
        if (found < 0) {
            xs_error ("%s (set host_uuid in %s to override)", err.msg, path);
            rc = 2;
            goto out;
        }
        if (found)
            host_uuid = inventory_uuid;
    }
    xs_xapi_exec_cfg_t xapi = {
        .url = xs_config_get (config, S_SECTION, "xapi_url"),
        .username = xs_config_get (config, S_SECTION, "xapi_username"),
        .password = xs_config_get (config, S_SECTION, "xapi_password"),
        .ca_file = xs_config_get (config, S_SECTION, "xapi_ca_file"),
        .timeout_ms = (long) xs_config_int (config, S_SECTION, "xapi_timeout_ms", 300000),
        .host_uuid = host_uuid,
    };
    xs_agent_cfg_t cfg = {
        .catalog_endpoint = xs_config_get (config, S_SECTION, "catalog_endpoint"),
        .zone = xs_config_get (config, S_SECTION, "zone"),
        .host_uuid = host_uuid,
        .name = xs_config_get (config, S_SECTION, "name"),
        .cert_file = xs_config_get (config, S_SECTION, "cert"),
        .catalog_key_file = xs_config_get (config, S_SECTION, "catalog_key"),
        .workers = (int) xs_config_int (config, S_SECTION, "workers", 4),
        .ready_fd = ready.env_fd,
        .executor = &xs_xapi_executor,
        .executor_arg = &xapi,
    };
    /* Fork before any thread exists; czmq then installs its SIGINT/SIGTERM
       handler, and the loop ends on either. */
    if (!foreground && daemon (0, 0) == -1) {
        fprintf (stderr, "xensm-agentd: cannot become a daemon: %s\n", strerror (errno));
        goto out;
    }
    zsys_init ();
    agent = xs_agent_new (&cfg, &err);
    if (!agent) {
        xs_error ("%s", err.msg);
        goto out;
    }
    xs_notice ("xensm-agentd %s: zone %s, catalog %s, xapi %s", XENSM_VERSION, cfg.zone,
               cfg.catalog_endpoint, xapi.url);
    if (xs_agent_run (agent, &err)) {
        xs_error ("%s", err.msg);
        goto out;
    }
    xs_notice ("stopped");
    rc = 0;
out:
    xs_agent_destroy (&agent);
    xs_config_destroy (&config);
    return rc;
}
