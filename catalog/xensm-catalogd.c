/*  xensm-catalogd: the catalog daemon. Parses argv, loads the config,
    builds an xs_catalog_server and runs it; the logic lives in the classes.

    xensm-catalogd [-c FILE] [--db PATH] [--admin ENDPOINT] [--agent ENDPOINT]
                   [--cert FILE] [--agent-keys DIR] [--api LISTEN] [--foreground] [-v]
*/
#include "xs_build_config.h"
#include "xs_catalog_cfg.h"
#include "xs_catalog_server.h"
#include "xs_daemon.h"
#include "xs_log.h"
#include "xs_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_PROGRAM "xensm-catalogd"

static void
s_usage (FILE *stream)
{
    fprintf (stream,
             "usage: %s [-c FILE] [--db PATH] [--admin ENDPOINT] [--agent ENDPOINT]\n"
             "          [--cert FILE] [--agent-keys DIR] [--api LISTEN] [--accept-lost-wal]\n"
             "          [--foreground] [-v]\n"
             "  -c, --config FILE   config file (default %s; a missing default is fine)\n"
             "  --db PATH           SQLite database (default %s); with --db alone, the\n"
             "                      certificate and agent_keys go beside it\n"
             "  --admin ENDPOINT    admin endpoint (default %s)\n"
             "  --agent ENDPOINT    endpoint host agents connect to, CURVE (default %s)\n"
             "  --cert FILE         catalog certificate, FILE + FILE_secret; made when both\n"
             "                      are missing (default %s)\n"
             "  --agent-keys DIR    allow-list of agent public certificates (default %s)\n"
             "  --api LISTEN        Block Storage API address, e.g. 127.0.0.1:8776 (\"\": off)\n"
             "  --accept-lost-wal   start although the SQLite catalog was not closed cleanly\n"
             "                      and its -wal file is missing (what it held is lost)\n"
             "  -f, --foreground    stay in the foreground, log to stderr\n"
             "  -v, --verbose       log debug messages\n"
             "Flags override the config file. With XENSM_READY_FD=<n> in the environment,\n"
             "\"READY\\n\" is written to fd n once the sockets are bound.\n",
             S_PROGRAM, XS_CATALOG_CFG_PATH, XS_CATALOG_DEFAULT_DB, XS_CATALOG_DEFAULT_ADMIN,
             XS_CATALOG_DEFAULT_AGENT, XS_CATALOG_DEFAULT_CERT, XS_CATALOG_DEFAULT_KEYS);
}

/* --db FILE given and `cert` / `agent_keys` left at their defaults (no flag, not
   in the config file): they go beside the database, under the default's
   file name, so a catalog in a directory of its own needs no /var/lib/xensm. */
static void
s_beside_db (xs_config_t *config, const char *db)
{
    static const char *const keys [] = { "cert", "agent_keys" };
    const char *slash = strrchr (db, '/');
    int dir_len = slash ? (int) (slash - db) : 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys [0]; i++) {
        const char *origin = xs_config_origin (config, XS_CATALOG_SECTION, keys [i]);
        if (!origin || strcmp (origin, "default") != 0)
            continue;
        const char *dflt = xs_config_get (config, XS_CATALOG_SECTION, keys [i]);
        const char *base = strrchr (dflt, '/') ? strrchr (dflt, '/') + 1 : dflt;
        /* "dir/base"; "/base" for a database in /; "base" beside a relative one */
        char *path = slash ? xs_sprintf ("%.*s/%s", dir_len, db, base) : xs_strdup (base);
        xs_err_t err;
        if (xs_config_set (config, XS_CATALOG_SECTION, keys [i], path, &err))
            fprintf (stderr, "%s: %s\n", S_PROGRAM, err.msg);   /* keeps the default */
        free (path);
    }
}

/* ---------------------------------------------------------------------
   Command line and settings
   --------------------------------------------------------------------- */

static const struct option s_options [] = {
    { "config",     required_argument, NULL, 'c' },
    { "db",         required_argument, NULL, 'd' },
    { "admin",      required_argument, NULL, 'a' },
    { "agent",      required_argument, NULL, 'A' },
    { "cert",       required_argument, NULL, 'k' },
    { "agent-keys", required_argument, NULL, 'K' },
    { "api",        required_argument, NULL, 'P' },
    { "accept-lost-wal", no_argument, NULL, 'W' },
    { "foreground", no_argument,       NULL, 'f' },
    { "verbose",    no_argument,       NULL, 'v' },
    { "help",       no_argument,       NULL, 'h' },
    { "version",    no_argument,       NULL, 'V' },
    { NULL, 0, NULL, 0 }
};

/* Flags that override a setting of [catalog]. */
static const struct { int opt; const char *key; } s_flag_keys [] = {
    { 'd', "db" }, { 'a', "admin_endpoint" }, { 'A', "agent_endpoint" },
    { 'k', "cert" }, { 'K', "agent_keys" }, { 'P', "api_listen" },
    { 'W', "accept_lost_wal" },
};

typedef struct {
    const char *flag_values [128];      /* by option letter, or NULL */
    const char *config_path;
    bool foreground, verbose;
} s_args_t;

/* Reads argv into *args. -1 to go on, else the exit status (help, version,
   a usage error). */
static int
s_parse_args (int argc, char **argv, s_args_t *args)
{
    memset (args, 0, sizeof *args);
    int opt;
    while ((opt = getopt_long (argc, argv, "c:fvh", s_options, NULL)) != -1) {
        switch (opt) {
        case 'c': args->config_path = optarg; break;
        case 'd': case 'a': case 'A': case 'k': case 'K': case 'P':
            args->flag_values [opt] = optarg;
            break;
        case 'W': args->flag_values ['W'] = "true"; break;
        case 'f': args->foreground = true; break;
        case 'v': args->verbose = true; break;
        case 'h': s_usage (stdout); return 0;
        case 'V': printf ("%s %s\n", S_PROGRAM, XENSM_VERSION); return 0;
        default:  s_usage (stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "%s: unexpected argument '%s'\n", S_PROGRAM, argv [optind]);
        s_usage (stderr);
        return 2;
    }
    return -1;
}

/* The settings: defaults, the config file (a missing default file is fine),
   then the flags. NULL after telling stderr what is wrong. */
static xs_config_t *
s_config_new (const s_args_t *args)
{
    xs_config_t *config = xs_catalog_cfg_new ();
    xs_err_t err;
    const char *path = args->config_path ? args->config_path : XS_CATALOG_CFG_PATH;
    if (xs_config_load (config, path, &err) && (args->config_path || err.kind != XS_ENOTFOUND)) {
        fprintf (stderr, "%s: invalid configuration: %s\n", S_PROGRAM, err.msg);
        goto fail;
    }
    for (size_t i = 0; i < sizeof s_flag_keys / sizeof s_flag_keys [0]; i++) {
        const char *value = args->flag_values [s_flag_keys [i].opt];
        if (value && xs_config_set (config, XS_CATALOG_SECTION, s_flag_keys [i].key, value, &err)) {
            fprintf (stderr, "%s: invalid option: %s\n", S_PROGRAM, err.msg);
            goto fail;
        }
    }
    const char *db = args->flag_values ['d'];
    if (db && !strstr (db, "://"))      /* a file, not a URI */
        s_beside_db (config, db);
    return config;
fail:
    xs_config_destroy (&config);
    return NULL;
}

/* ---------------------------------------------------------------------
   main
   --------------------------------------------------------------------- */

int
main (int argc, char **argv)
{
    s_args_t args;
    int rc = s_parse_args (argc, argv, &args);
    if (rc >= 0)
        return rc;

    rc = 1;
    int signal_fd = -1;
    xs_catalog_server_t *server = NULL;
    xs_config_t *config = s_config_new (&args);
    xs_err_t err;
    if (!config)
        goto out;
    xs_daemon_ready_t ready;
    if (xs_daemon_ready_init (&ready, &err)) {
        fprintf (stderr, "%s: %s\n", S_PROGRAM, err.msg);
        rc = 2;
        goto out;
    }
    if (!args.foreground && xs_daemon_detach (&ready, &err)) {
        fprintf (stderr, "%s: %s\n", S_PROGRAM, err.msg);
        goto out;
    }
    /* SIGTERM/SIGINT arrive on a signalfd the loop watches: blocked here,
       before ZeroMQ starts any thread, so no thread takes them instead. */
    zsys_handler_set (NULL);
    signal_fd = xs_daemon_stop_fd (&err);
    if (signal_fd < 0) {
        fprintf (stderr, "%s: %s\n", S_PROGRAM, err.msg);
        goto out;
    }
    int named = xs_log_level_from_name (xs_config_get (config, XS_CATALOG_SECTION, "log_level"));
    xs_loglevel_t level = args.verbose ? XS_LOG_DEBUG
                        : named < 0 ? XS_LOG_NOTICE : (xs_loglevel_t) named;
    xs_log_init (S_PROGRAM, !args.foreground, level);
    /* Descriptors: as many as the system allows (agents, floods of them). */
    xs_daemon_raise_nofile ();
    /* Replies of a megabyte or more (a 1,000-volume page): from the heap,
       kept there once freed. glibc's default maps each one afresh (its
       moving threshold equals the size of the last one freed, and maps
       what is not below it) and unmaps it when MHD frees it: 8% of a
       page's CPU in page faults and munmap. */
    mallopt (M_MMAP_THRESHOLD, 16 << 20);
    mallopt (M_TRIM_THRESHOLD, 64 << 20);

    server = xs_catalog_server_new (config, &err);
    if (!server) {
        xs_error ("cannot start: %s", err.msg);
        if (!args.foreground)
            fprintf (stderr, "%s: cannot start: %s\n", S_PROGRAM, err.msg);
        goto out;
    }
    if (xs_catalog_server_stop_on (server, signal_fd)) {
        xs_error ("cannot watch for SIGTERM/SIGINT");
        goto out;
    }
    xs_notice ("serving the admin API on %s, agents on %s (database %s, %s, %d job(s) "
               "resumed)", xs_catalog_server_admin_endpoint (server),
               xs_catalog_server_agent_endpoint (server),
               xs_config_get (config, XS_CATALOG_SECTION, "db"),
               xs_catalog_server_leading (server) ? "leader" : "follower",
               xs_catalog_server_resumed (server));
    xs_daemon_ready (&ready);
    rc = xs_catalog_server_run (server) == 0 ? 0 : 1;
    xs_notice ("shutting down (%" PRIu64 " admin requests served)",
               xs_catalog_server_requests (server));
out:
    xs_catalog_server_destroy (&server);
    xs_config_destroy (&config);
    if (signal_fd >= 0)
        close (signal_fd);
    return rc;
}
