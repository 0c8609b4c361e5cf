/*  xensm-catalogd: the catalog daemon. Parses argv, loads the config,
    builds an xs_catalog_server and runs it; the logic lives in the classes.

    xensm-catalogd [-c FILE] [--db PATH] [--admin ENDPOINT] [--agent ENDPOINT]
                   [--cert FILE] [--agent-keys DIR] [--foreground] [-v]
*/
#include "xs_catalog_cfg.h"
#include "xs_catalog_server.h"
#include "xs_log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
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
             "          [--cert FILE] [--agent-keys DIR] [--foreground] [-v]\n"
             "  -c, --config FILE   config file (default %s; a missing default is fine)\n"
             "  --db PATH           SQLite database (default %s)\n"
             "  --admin ENDPOINT    admin endpoint (default %s)\n"
             "  --agent ENDPOINT    endpoint host agents connect to, CURVE (default %s)\n"
             "  --cert FILE         catalog certificate, FILE + FILE_secret; made when both\n"
             "                      are missing (default %s)\n"
             "  --agent-keys DIR    allow-list of agent public certificates (default %s)\n"
             "  -f, --foreground    stay in the foreground, log to stderr\n"
             "  -v, --verbose       log debug messages\n"
             "Flags override the config file. With XENSM_READY_FD=<n> in the environment,\n"
             "\"READY\\n\" is written to fd n once the sockets are bound.\n",
             S_PROGRAM, XS_CATALOG_CFG_PATH, XS_CATALOG_DEFAULT_DB, XS_CATALOG_DEFAULT_ADMIN,
             XS_CATALOG_DEFAULT_AGENT, XS_CATALOG_DEFAULT_CERT, XS_CATALOG_DEFAULT_KEYS);
}

/* Writes READY to the fd named by $XENSM_READY_FD and closes it. */
static void
s_signal_ready (void)
{
    const char *env = getenv ("XENSM_READY_FD");
    if (!env || !*env)
        return;
    char *end = NULL;
    long fd = strtol (env, &end, 10);
    if (*end || fd < 0 || fd > 65535) {
        xs_warning ("XENSM_READY_FD '%s' is not a file descriptor; ignored", env);
        return;
    }
    if (write ((int) fd, "READY\n", 6) != 6)
        xs_warning ("XENSM_READY_FD %ld: write failed: %s", fd, strerror (errno));
    close ((int) fd);
}

/* Forks into the background. The parent waits until the child is serving
   (exit 0) or has failed (exit 1), so start-up errors reach the caller.
   Returns, in the child, the fd to write READY to; -1 on failure. */
static int
s_daemonize (void)
{
    int pipefd [2];
    if (pipe2 (pipefd, O_CLOEXEC)) {
        fprintf (stderr, "%s: pipe: %s\n", S_PROGRAM, strerror (errno));
        return -1;
    }
    pid_t pid = fork ();
    if (pid < 0) {
        fprintf (stderr, "%s: fork: %s\n", S_PROGRAM, strerror (errno));
        return -1;
    }
    if (pid > 0) {
        close (pipefd [1]);
        char buffer [8] = "";
        ssize_t n;
        do
            n = read (pipefd [0], buffer, sizeof buffer - 1);
        while (n < 0 && errno == EINTR);
        if (n > 0 && strncmp (buffer, "READY", 5) == 0)
            _exit (0);
        int status = 0;
        waitpid (pid, &status, 0);
        _exit (1);
    }
    close (pipefd [0]);
    setsid ();
    return pipefd [1];
}

int
main (int argc, char **argv)
{
    static const struct option options [] = {
        { "config",     required_argument, NULL, 'c' },
        { "db",         required_argument, NULL, 'd' },
        { "admin",      required_argument, NULL, 'a' },
        { "agent",      required_argument, NULL, 'A' },
        { "cert",       required_argument, NULL, 'k' },
        { "agent-keys", required_argument, NULL, 'K' },
        { "foreground", no_argument,       NULL, 'f' },
        { "verbose",    no_argument,       NULL, 'v' },
        { "help",       no_argument,       NULL, 'h' },
        { "version",    no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    /* Flags that override a setting of [catalog]. */
    static const struct { int opt; const char *key; } flag_keys [] = {
        { 'd', "db" }, { 'a', "admin_endpoint" }, { 'A', "agent_endpoint" },
        { 'k', "cert" }, { 'K', "agent_keys" },
    };
    const char *flag_values [128] = { NULL };
    const char *config_path = NULL;
    bool foreground = false, verbose = false;
    int opt;
    while ((opt = getopt_long (argc, argv, "c:fvh", options, NULL)) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'd': case 'a': case 'A': case 'k': case 'K':
            flag_values [opt] = optarg;
            break;
        case 'f': foreground = true; break;
        case 'v': verbose = true; break;
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

    int rc = 1;
    int signal_fd = -1;
    xs_catalog_server_t *server = NULL;
    xs_config_t *config = xs_catalog_cfg_new ();
    xs_err_t err;
    if (xs_config_load (config, config_path ? config_path : XS_CATALOG_CFG_PATH, &err)
    &&  (config_path || err.kind != XS_ENOTFOUND)) {
        fprintf (stderr, "%s: invalid configuration: %s\n", S_PROGRAM, err.msg);
        goto out;
    }
    for (size_t i = 0; i < sizeof flag_keys / sizeof flag_keys [0]; i++) {
        const char *value = flag_values [flag_keys [i].opt];
        if (value && xs_config_set (config, XS_CATALOG_SECTION, flag_keys [i].key, value, &err)) {
            fprintf (stderr, "%s: invalid option: %s\n", S_PROGRAM, err.msg);
            goto out;
        }
    }
    int ready_fd = -1;
    if (!foreground) {
        ready_fd = s_daemonize ();
        if (ready_fd < 0)
            goto out;
    }
    /* SIGTERM/SIGINT arrive on a signalfd the loop watches: blocked here,
       before ZeroMQ starts any thread, so no thread takes them instead. */
    sigset_t stop_signals;
    sigemptyset (&stop_signals);
    sigaddset (&stop_signals, SIGTERM);
    sigaddset (&stop_signals, SIGINT);
    pthread_sigmask (SIG_BLOCK, &stop_signals, NULL);
    zsys_handler_set (NULL);
    signal_fd = signalfd (-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd < 0) {
        fprintf (stderr, "%s: signalfd: %s\n", S_PROGRAM, strerror (errno));
        goto out;
    }
    xs_loglevel_t level = verbose ? XS_LOG_DEBUG
        : (xs_loglevel_t) xs_catalog_cfg_log_level (xs_config_get (config, XS_CATALOG_SECTION,
                                                                   "log_level"));
    xs_log_init (S_PROGRAM, !foreground, level);

    server = xs_catalog_server_new (config, &err);
    if (!server) {
        xs_error ("cannot start: %s", err.msg);
        if (!foreground)
            fprintf (stderr, "%s: cannot start: %s\n", S_PROGRAM, err.msg);
        goto out;
    }
    if (xs_catalog_server_stop_on (server, signal_fd)) {
        xs_error ("cannot watch for SIGTERM/SIGINT");
        goto out;
    }
    xs_notice ("serving the admin API on %s, agents on %s (database %s, %d job(s) resumed)",
               xs_catalog_server_admin_endpoint (server),
               xs_catalog_server_agent_endpoint (server),
               xs_config_get (config, XS_CATALOG_SECTION, "db"),
               xs_catalog_server_resumed (server));
    s_signal_ready ();
    if (ready_fd >= 0) {
        int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd >= 0) {
            dup2 (null_fd, STDIN_FILENO);
            dup2 (null_fd, STDOUT_FILENO);
            dup2 (null_fd, STDERR_FILENO);
            close (null_fd);
        }
        if (write (ready_fd, "READY", 5) != 5)
            xs_warning ("cannot tell the parent process we are ready: %s", strerror (errno));
        close (ready_fd);
    }
    xs_catalog_server_run (server);
    xs_notice ("shutting down (%" PRIu64 " admin requests served)",
               xs_catalog_server_requests (server));
    rc = 0;
out:
    xs_catalog_server_destroy (&server);
    xs_config_destroy (&config);
    if (signal_fd >= 0)
        close (signal_fd);
    return rc;
}
