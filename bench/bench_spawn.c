/*  xs-bench-spawn: wall time and peak RSS of short-lived programs, the way
    xapi runs a plugin (fork, exec, wait), measured interleaved.

    usage: xs-bench-spawn [--calls N] [--warmup N] NAME=PROGRAM [ARG...] -- NAME=PROGRAM [ARG...] ...

    Each NAME=PROGRAM ARG... group (groups separated by `--`) is one
    contestant. Round r runs every contestant once, in order, then round r+1:
    the calls are interleaved, so that a drift of the machine (another job,
    a frequency change) hits every contestant alike. stdout of the children
    goes to /dev/null, stderr is kept. Wall time is from fork to the return of
    wait4; CPU time is the child's user + system time and peak RSS its
    ru_maxrss (KiB), both from wait4. Any child that
    exits non-zero or on a signal fails the benchmark (exit 1).

    The harness is a small C program on purpose: Linux counts the anonymous
    memory a child inherits through fork in its ru_maxrss, so a big harness
    (a Python interpreter) would inflate every figure.

    Output, one line per contestant, tab-separated:
        NAME  calls  median_ms  p10_ms  p90_ms  median_cpu_ms  median_rss_kib  max_rss_kib
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char *name;
    char **argv;            /* borrowed from main's argv, NULL-terminated copy */
    double *ms;
    double *cpu_ms;
    long *rss;
} s_contestant_t;

static double
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int
s_compare_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static int
s_compare_long (const void *a, const void *b)
{
    long x = *(const long *) a, y = *(const long *) b;
    return (x > y) - (x < y);
}

/* Median of sorted samples. */
static double
s_median (const double *sorted, int n)
{
    return n % 2 ? sorted [n / 2] : (sorted [n / 2 - 1] + sorted [n / 2]) / 2;
}

/* Runs argv once. 0 with *ms and *rss set, or -1 with a message on stderr. */
static int
s_run_once (const s_contestant_t *c, int devnull, double *ms, double *cpu_ms, long *rss)
{
    double start = s_now_ms ();
    pid_t pid = fork ();
    if (pid < 0) {
        fprintf (stderr, "xs-bench-spawn: fork: %s\n", strerror (errno));
        return -1;
    }
    if (pid == 0) {
        dup2 (devnull, STDOUT_FILENO);
        execv (c->argv [0], c->argv);
        fprintf (stderr, "xs-bench-spawn: %s: cannot run %s: %s\n", c->name, c->argv [0],
                 strerror (errno));
        _exit (127);
    }
    int status = 0;
    struct rusage usage;
    memset (&usage, 0, sizeof usage);
    while (wait4 (pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            fprintf (stderr, "xs-bench-spawn: wait4: %s\n", strerror (errno));
            return -1;
        }
    }
    *ms = s_now_ms () - start;
    *rss = usage.ru_maxrss;
    *cpu_ms = (double) (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3
              + (double) (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        fprintf (stderr, "xs-bench-spawn: %s: exited with status %d%s\n", c->name,
                 WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status),
                 WIFEXITED (status) ? "" : " (signal)");
        return -1;
    }
    return 0;
}

static void
s_usage (void)
{
    fprintf (stderr, "usage: xs-bench-spawn [--calls N] [--warmup N] NAME=PROGRAM [ARG...] "
                     "[-- NAME=PROGRAM [ARG...]]...\n");
    exit (2);
}

int
main (int argc, char *argv [])
{
    int calls = 30, warmup = 3, i = 1;
    for (; i < argc && strncmp (argv [i], "--", 2) == 0 && argv [i][2]; i++) {
        if (strcmp (argv [i], "--calls") == 0 && i + 1 < argc)
            calls = atoi (argv [++i]);
        else if (strcmp (argv [i], "--warmup") == 0 && i + 1 < argc)
            warmup = atoi (argv [++i]);
        else
            s_usage ();
    }
    if (calls < 1 || warmup < 0 || i >= argc)
        s_usage ();

    s_contestant_t contestants [32];
    int n = 0;
    while (i < argc) {
        char *eq = strchr (argv [i], '=');
        if (!eq || eq == argv [i] || n == 32)
            s_usage ();
        s_contestant_t *c = &contestants [n++];
        *eq = '\0';
        c->name = argv [i];
        int first = i, count = 0;
        argv [i] = eq + 1;
        while (i < argc && strcmp (argv [i], "--") != 0) {
            i++;
            count++;
        }
        c->argv = calloc ((size_t) count + 1, sizeof (char *));
        memcpy (c->argv, &argv [first], (size_t) count * sizeof (char *));
        c->ms = calloc ((size_t) calls, sizeof (double));
        c->cpu_ms = calloc ((size_t) calls, sizeof (double));
        c->rss = calloc ((size_t) calls, sizeof (long));
        if (i < argc)
            i++;                                    /* the `--` */
    }

    int devnull = open ("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0) {
        fprintf (stderr, "xs-bench-spawn: /dev/null: %s\n", strerror (errno));
        return 1;
    }
    int rc = 0;
    for (int round = 0; round < warmup + calls && rc == 0; round++)
        for (int k = 0; k < n && rc == 0; k++) {
            double ms = 0, cpu_ms = 0;
            long rss = 0;
            if (s_run_once (&contestants [k], devnull, &ms, &cpu_ms, &rss) != 0)
                rc = 1;
            else if (round >= warmup) {
                contestants [k].ms [round - warmup] = ms;
                contestants [k].cpu_ms [round - warmup] = cpu_ms;
                contestants [k].rss [round - warmup] = rss;
            }
        }
    for (int k = 0; k < n && rc == 0; k++) {
        s_contestant_t *c = &contestants [k];
        qsort (c->ms, (size_t) calls, sizeof (double), s_compare_double);
        qsort (c->cpu_ms, (size_t) calls, sizeof (double), s_compare_double);
        qsort (c->rss, (size_t) calls, sizeof (long), s_compare_long);
        printf ("%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%ld\t%ld\n", c->name, calls, s_median (c->ms, calls),
                c->ms [calls / 10], c->ms [calls - 1 - calls / 10], s_median (c->cpu_ms, calls),
                c->rss [calls / 2], c->rss [calls - 1]);
    }
    for (int k = 0; k < n; k++) {
        free (contestants [k].argv);
        free (contestants [k].ms);
        free (contestants [k].cpu_ms);
        free (contestants [k].rss);
    }
    close (devnull);
    return rc;
}
