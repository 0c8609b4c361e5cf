/*  xs-bench-agents: N bench host agents in one process, for the catalog
    benchmarks (bench/run, section 3).

    Each agent is the real xs_agent (CURVE DEALER, register, welcome, SR
    attach, heartbeats with SR stats, worker threads) with an executor that
    answers every operation at once, so that what a benchmark measures is the
    catalog (or the relay it is compared with), not xapi.

    xs-bench-agents --catalog ENDPOINT --catalog-key FILE --dir DIR
                    [--enroll KEYS_DIR] [--agents N] [--zone Z] [--workers W]
    xs-bench-agents --prepare --dir DIR --enroll KEYS_DIR [--agents N]

    Agent i uses the certificate DIR/agent<i>.cert (made when missing) and
    host uuid 00000000-0000-4000-8000-<i as 12 digits>. With --enroll, each
    public certificate is copied into KEYS_DIR (what `xensm-manage host
    enroll` does). With XENSM_READY_FD=n, "READY\n" goes to fd n once every
    agent has been welcomed. Runs until SIGTERM or SIGINT.
*/
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <czmq.h>

#include "xs_agent.h"
#include "xs_cert.h"
#include "xs_log.h"

#define S_MAX_AGENTS 256
#define S_PIB 1125899906842624LL

/* =========================================================================
    The executor: every operation answered at once
   ========================================================================= */

static void *
s_open (void *arg, xs_err_t *err)
{
    return arg;
}

static void
s_close (void **ctx_p)
{
    *ctx_p = NULL;
}

static json_t *
s_run (void *ctx, xs_op_t op, const json_t *args, xs_err_t *err)
{
    const char *host = (const char *) ctx;
    if (op == XS_OP_HOST_INFO)
        return json_pack ("{s:s, s:s}", "uuid", host, "name_label", host);
    if (op == XS_OP_SR_ATTACH) {
        json_t *b = json_object_get (args, "backend");
        const char *sr = json_string_value (json_object_get (b, "sr_uuid"));
        if (sr)
            return json_pack ("{s:s}", "sr_uuid", sr);
        /* create: true. A uuid made from the backend id. */
        char made [64];
        snprintf (made, sizeof made, "00000000-0000-4000-9000-%012lld",
                  (long long) json_integer_value (json_object_get (b, "backend_id")));
        return json_pack ("{s:s}", "sr_uuid", made);
    }
    if (op == XS_OP_SR_DETACH)
        return json_object ();
    if (op == XS_OP_SR_STATS)
        return json_pack ("{s:I, s:I, s:I, s:[s, s, s, s]}", "physical_size", (json_int_t) S_PIB,
                          "physical_utilisation", (json_int_t) 0, "virtual_allocation",
                          (json_int_t) 0, "capabilities", "VDI_CREATE", "VDI_DELETE",
                          "VDI_CLONE", "VDI_SNAPSHOT");
    if (op == XS_OP_VDI_CREATE || op == XS_OP_VDI_FIND) {
        const char *vol = json_string_value (json_object_get (args, "volume_uuid"));
        const char *sr = json_string_value (json_object_get (args, "sr_uuid"));
        return json_pack ("{s:s, s:s, s:I}", "vdi_uuid", vol ? vol : "", "sr_uuid",
                          sr ? sr : "", "size", json_integer_value (json_object_get (args, "size")));
    }
    if (op == XS_OP_VDI_SNAPSHOT || op == XS_OP_VDI_CLONE) {
        const char *vol = json_string_value (json_object_get (args, "new_volume_uuid"));
        const char *sr = json_string_value (json_object_get (args, "sr_uuid"));
        return json_pack ("{s:s, s:s, s:I}", "vdi_uuid", vol ? vol : "", "sr_uuid",
                          sr ? sr : "", "size", (json_int_t) 0);
    }
    if (op == XS_OP_VDI_DESTROY)
        return json_object ();
    xs_err_set (err, XS_EINVAL, "%s: not known to the bench executor", xs_op_name (op));
    return NULL;
}

static const xs_executor_t s_instant = {"bench", s_open, s_close, s_run};

/* =========================================================================
    Main
   ========================================================================= */

static int
s_copy_file (const char *from, const char *to)
{
    FILE *in = fopen (from, "r");
    if (!in)
        return -1;
    FILE *out = fopen (to, "w");
    if (!out) {
        fclose (in);
        return -1;
    }
    char buf [4096];
    size_t n;
    int rc = 0;
    while ((n = fread (buf, 1, sizeof buf, in)) > 0)
        if (fwrite (buf, 1, n, out) != n)
            rc = -1;
    fclose (in);
    if (fclose (out))
        rc = -1;
    return rc;
}

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: xs-bench-agents --catalog ENDPOINT --catalog-key FILE --dir DIR\n"
                  "                       [--enroll KEYS_DIR] [--agents N] [--zone Z] "
                  "[--workers W] [-v]\n"
                  "       xs-bench-agents --prepare --dir DIR --enroll KEYS_DIR [--agents N]\n");
}

int
main (int argc, char **argv)
{
    static const struct option longopts [] = {
        {"catalog", required_argument, NULL, 'C'},
        {"catalog-key", required_argument, NULL, 'K'},
        {"dir", required_argument, NULL, 'd'},
        {"enroll", required_argument, NULL, 'e'},
        {"agents", required_argument, NULL, 'n'},
        {"zone", required_argument, NULL, 'z'},
        {"workers", required_argument, NULL, 'w'},
        {"prepare", no_argument, NULL, 'p'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    const char *catalog = NULL, *catalog_key = NULL, *dir = NULL, *enroll = NULL;
    const char *zone = "default";
    int nagents = 10, workers = 2;
    bool verbose = false, prepare = false;
    int c;
    while ((c = getopt_long (argc, argv, "vh", longopts, NULL)) != -1) {
        switch (c) {
            case 'C': catalog = optarg; break;
            case 'K': catalog_key = optarg; break;
            case 'd': dir = optarg; break;
            case 'e': enroll = optarg; break;
            case 'n': nagents = atoi (optarg); break;
            case 'z': zone = optarg; break;
            case 'w': workers = atoi (optarg); break;
            case 'p': prepare = true; break;
            case 'v': verbose = true; break;
            case 'h': s_usage (stdout); return 0;
            default: s_usage (stderr); return 2;
        }
    }
    if ((!prepare && (!catalog || !catalog_key)) || (prepare && !enroll) || !dir
    ||  nagents < 1 || nagents > S_MAX_AGENTS
    ||  workers < 1 || optind < argc) {
        s_usage (stderr);
        return 2;
    }
    xs_log_init ("xs-bench-agents", false, verbose ? XS_LOG_DEBUG : XS_LOG_WARNING);

    /* SIGTERM/SIGINT on a signalfd, blocked before any thread starts. */
    sigset_t stop;
    sigemptyset (&stop);
    sigaddset (&stop, SIGTERM);
    sigaddset (&stop, SIGINT);
    pthread_sigmask (SIG_BLOCK, &stop, NULL);
    zsys_handler_set (NULL);
    int sigfd = signalfd (-1, &stop, SFD_CLOEXEC);
    if (sigfd < 0) {
        fprintf (stderr, "xs-bench-agents: signalfd: %s\n", strerror (errno));
        return 1;
    }

    static char hosts [S_MAX_AGENTS][64];
    static char certs [S_MAX_AGENTS][1024];
    xs_agent_t *agents [S_MAX_AGENTS] = {NULL};
    zactor_t *actors [S_MAX_AGENTS] = {NULL};
    int ready [S_MAX_AGENTS][2];
    xs_daemon_ready_t told [S_MAX_AGENTS];
    int rc = 1;
    int started = 0;
    xs_err_t err;
    for (int i = 0; i < nagents; i++) {
        snprintf (hosts [i], sizeof hosts [i], "00000000-0000-4000-8000-%012d", i);
        snprintf (certs [i], sizeof certs [i], "%s/agent%d.cert", dir, i);
        if (!zsys_file_exists (certs [i]) && xs_cert_generate (certs [i], &err)) {
            fprintf (stderr, "xs-bench-agents: %s\n", err.msg);
            goto out;
        }
        if (enroll) {
            char to [1100];
            snprintf (to, sizeof to, "%s/bench-agent%d.cert", enroll, i);
            if (s_copy_file (certs [i], to)) {
                fprintf (stderr, "xs-bench-agents: cannot copy %s to %s: %s\n", certs [i], to,
                         strerror (errno));
                goto out;
            }
        }
    }
    if (prepare) {
        rc = 0;
        goto out;
    }
    for (int i = 0; i < nagents; i++) {
        if (pipe (ready [i])) {
            fprintf (stderr, "xs-bench-agents: pipe: %s\n", strerror (errno));
            goto out;
        }
        told [i] = (xs_daemon_ready_t) { .env_fd = ready [i][1], .parent_fd = -1 };
        xs_agent_cfg_t cfg = {
            .catalog_endpoint = catalog, .zone = zone, .host_uuid = hosts [i],
            .name = hosts [i], .cert_file = certs [i], .catalog_key_file = catalog_key,
            .workers = workers, .backoff_min_ms = 100, .backoff_max_ms = 1000,
            .ready = &told [i], .executor = &s_instant, .executor_arg = hosts [i],
        };
        agents [i] = xs_agent_new (&cfg, &err);
        if (!agents [i]) {
            fprintf (stderr, "xs-bench-agents: agent %d: %s\n", i, err.msg);
            goto out;
        }
        actors [i] = zactor_new (xs_agent_actor, agents [i]);
        started++;
    }
    /* Every agent welcomed: tell whoever started us. */
    for (int i = 0; i < nagents; i++) {
        struct pollfd fds [2] = {{ready [i][0], POLLIN, 0}, {sigfd, POLLIN, 0}};
        if (poll (fds, 2, -1) < 0 || (fds [1].revents & POLLIN)) {
            rc = 0;
            goto out;
        }
        char buf [8];
        if (read (ready [i][0], buf, sizeof buf) <= 0) {
            fprintf (stderr, "xs-bench-agents: agent %d ended before its welcome\n", i);
            goto out;
        }
    }
    const char *env = getenv ("XENSM_READY_FD");
    if (env && *env) {
        int fd = atoi (env);
        if (write (fd, "READY\n", 6) != 6)
            fprintf (stderr, "xs-bench-agents: READY: %s\n", strerror (errno));
        close (fd);
    }
    struct signalfd_siginfo info;
    if (read (sigfd, &info, sizeof info) < 0)
        fprintf (stderr, "xs-bench-agents: signalfd: %s\n", strerror (errno));
    rc = 0;
out:
    for (int i = 0; i < started; i++) {
        zactor_destroy (&actors [i]);
        xs_agent_destroy (&agents [i]);
    }
    close (sigfd);
    return rc;
}
