/*  xensm-agentd: the host agent. Thin main: argv, the settings
    (xs_agent_cfg), then the xs_agent loop with the xapi executor, run in
    the background and stopped the way xensm-catalogd is (xs_daemon).

    xensm-agentd [-c FILE] [--catalog ENDPOINT] [--zone Z] [--xapi URL] ...
    xensm-agentd --gen-cert FILE
*/
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "xs_agent.h"
#include "xs_agent_cfg.h"
#include "xs_build_config.h"
#include "xs_cert.h"
#include "xs_daemon.h"
#include "xs_log.h"

#define S_PROGRAM "xensm-agentd"

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: xensm-agentd [-c FILE] [--catalog ENDPOINT] [--zone Z] [--xapi URL]\n"
        "                    [--cert FILE] [--catalog-key FILE] [--host-uuid U] [--name N]\n"
        "                    [--foreground] [-v]\n"
        "       xensm-agentd --gen-cert FILE\n"
        "\n"
        "  -c, --config FILE      settings (INI, default " XS_AGENT_CFG_PATH ")\n"
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

/* What argv says. */
typedef struct {
    const char *config;                 /* -c, or NULL: the default file    */
    const char *values [128];           /* flag values by option letter     */
    bool foreground, verbose;
} s_args_t;

/* --gen-cert FILE: a new key pair, then exit. */
static int
s_gen_cert (const char *path)
{
    xs_err_t err;
    xs_log_init (S_PROGRAM, false, XS_LOG_NOTICE);
    if (xs_cert_generate (path, &err)) {
        fprintf (stderr, "%s: %s\n", S_PROGRAM, err.msg);
        return 1;
    }
    printf ("wrote %s (public: enroll it with `xensm-manage host enroll %s`) and %s_secret\n",
            path, path, path);
    return 0;
}

/* Parses argv into *args. Returns -1 to go on, or the exit status when
   argv is done with (help, version, a certificate made, a usage error). */
static int
s_parse_args (int argc, char **argv, s_args_t *args)
{
    static const struct option longopts [] = {
        { "config",      required_argument, NULL, 'c' },
        { "catalog",     required_argument, NULL, 'C' },
        { "zone",        required_argument, NULL, 'z' },
        { "xapi",        required_argument, NULL, 'x' },
        { "cert",        required_argument, NULL, 'k' },
        { "catalog-key", required_argument, NULL, 'K' },
        { "host-uuid",   required_argument, NULL, 'u' },
        { "name",        required_argument, NULL, 'n' },
        { "foreground",  no_argument,       NULL, 'f' },
        { "verbose",     no_argument,       NULL, 'v' },
        { "gen-cert",    required_argument, NULL, 'G' },
        { "help",        no_argument,       NULL, 'h' },
        { "version",     no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "c:vh", longopts, NULL)) != -1) {
        switch (opt) {
            case 'c': args->config = optarg; break;
            case 'f': args->foreground = true; break;
            case 'v': args->verbose = true; break;
            case 'G': return s_gen_cert (optarg);
            case 'h': s_usage (stdout); return 0;
            case 'V': printf ("%s %s\n", S_PROGRAM, XENSM_VERSION); return 0;
            case 'C': case 'z': case 'x': case 'k': case 'K': case 'u': case 'n':
                args->values [opt] = optarg;        /* see xs_agent_cfg_flags */
                break;
            default:
                s_usage (stderr);
                return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "%s: unexpected argument '%s'\n", S_PROGRAM, argv [optind]);
        s_usage (stderr);
        return 2;
    }
    return -1;
}

/* Runs the agent until SIGTERM/SIGINT: in the background unless
   foreground (the parent waits for the start-up, see xs_agent.h), with the
   stop signals on a signalfd the loop watches. The exit status. */
static int
s_serve (xs_agent_settings_t *settings, xs_daemon_ready_t *ready, bool foreground)
{
    int rc = 1;
    int stop_fd = -1;
    xs_agent_t *agent = NULL;
    xs_err_t err;
    if (!foreground && xs_daemon_detach (ready, &err)) {
        fprintf (stderr, "%s: %s\n", S_PROGRAM, err.msg);
        return 1;
    }
    /* Blocked here, before ZeroMQ starts any thread, so no thread takes
       them instead; czmq's own handler stays out of the way. */
    zsys_handler_set (NULL);
    stop_fd = xs_daemon_stop_fd (&err);
    if (stop_fd < 0) {
        fprintf (stderr, "%s: %s\n", S_PROGRAM, err.msg);
        goto out;
    }
    xs_daemon_raise_nofile ();
    settings->agent.ready = ready;
    agent = xs_agent_new (&settings->agent, &err);
    if (!agent || xs_agent_stop_on (agent, stop_fd)) {
        xs_error ("cannot start: %s", err.msg);
        if (!foreground)
            fprintf (stderr, "%s: cannot start: %s\n", S_PROGRAM, err.msg);
        goto out;
    }
    xs_notice ("%s %s: zone %s, catalog %s, xapi %s", S_PROGRAM, XENSM_VERSION,
               settings->agent.zone, settings->agent.catalog_endpoint, settings->xapi.url);
    if (xs_agent_run (agent, &err)) {
        xs_error ("%s", err.msg);
        goto out;
    }
    xs_notice ("stopped");
    rc = 0;
out:
    xs_agent_destroy (&agent);
    if (stop_fd >= 0)
        close (stop_fd);
    return rc;
}

int
main (int argc, char **argv)
{
    s_args_t args = { .config = NULL };
    int rc = s_parse_args (argc, argv, &args);
    if (rc >= 0)
        return rc;
    rc = 2;
    xs_err_t err;
    xs_config_t *config = xs_agent_cfg_new ();
    xs_agent_settings_t settings;
    xs_daemon_ready_t ready;
    if (xs_agent_cfg_load (config, args.config, args.values, &err)
    ||  xs_daemon_ready_init (&ready, &err)
    ||  xs_agent_cfg_settings (config, args.config, &settings, &err)) {
        fprintf (stderr, "%s: %s\n", S_PROGRAM, err.msg);
        goto out;
    }
    xs_log_init (S_PROGRAM, !args.foreground, xs_agent_cfg_log_level (config, args.verbose));
    rc = s_serve (&settings, &ready, args.foreground);
out:
    xs_config_destroy (&config);
    return rc;
}
