/*  xs_test_pg: a real PostgreSQL server for a test; see xs_test_pg.h. */
#include "xs_test_pg.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_DEFAULT_BIN "/usr/lib/postgresql/15/bin"
#define S_SUPERUSER "xensm"
#define S_PORT "5432"

struct _xs_test_pg_t {
    char dir [64];                      /* the socket, the logs, data/      */
    char data [96];
    pid_t pid;                          /* postgres                         */
};

/* ---------------------------------------------------------------------
   Processes as the server's user
   --------------------------------------------------------------------- */

/* The user the server runs as; false when the caller is not root (then it
   runs as the caller). */
static bool
s_server_user (uid_t *uid, gid_t *gid)
{
    if (geteuid () != 0)
        return false;
    struct passwd *pw = getpwnam (XS_TEST_PG_USER);
    if (!pw)
        pw = getpwnam ("nobody");
    if (!pw)
        return false;
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return true;
}

/* Forks argv as the server's user, stdout and stderr appended to `log`.
   Returns the child, or -1. */
static pid_t
s_spawn (const char *const argv [], const char *log)
{
    uid_t uid = 0;
    gid_t gid = 0;
    bool drop = s_server_user (&uid, &gid);
    pid_t pid = fork ();
    if (pid != 0)
        return pid;
    int fd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (drop && fchown (fd, uid, gid) != 0)
            _exit (126);
        dup2 (fd, 1);
        dup2 (fd, 2);
    }
    int null = open ("/dev/null", O_RDONLY);
    if (null >= 0)
        dup2 (null, 0);
    if (drop && (setgroups (0, NULL) != 0 || setgid (gid) != 0 || setuid (uid) != 0))
        _exit (126);
    /* The server goes when the test does, even when it is killed. */
    prctl (PR_SET_PDEATHSIG, SIGINT);
    execv (argv [0], (char *const *) argv);
    _exit (127);
}

/* The last line of `log` into err. */
static void
s_log_tail (const char *log, char *err, size_t errlen, const char *what)
{
    char line [512] = "", last [512] = "";
    FILE *f = fopen (log, "r");
    while (f && fgets (line, sizeof line, f))
        if (line [0] != '\n')
            snprintf (last, sizeof last, "%s", line);
    if (f)
        fclose (f);
    last [strcspn (last, "\n")] = '\0';
    snprintf (err, errlen, "%s (see %s): %s", what, log, last);
}

static int
s_rm (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb; (void) flag; (void) ftw;
    return remove (path) == 0 || errno == ENOENT ? 0 : -1;
}

/* ---------------------------------------------------------------------
   Start and stop
   --------------------------------------------------------------------- */

static void
s_conninfo (const xs_test_pg_t *self, const char *dbname, char *out, size_t len)
{
    snprintf (out, len, "host=%s port=" S_PORT " user=" S_SUPERUSER " dbname=%s"
              " options='-c client_min_messages=warning'",
              self->dir, dbname);
}

xs_test_pg_t *
xs_test_pg_start (bool durable, char *err, size_t errlen)
{
    const char *bin = getenv ("XS_TEST_PG_BIN");
    if (!bin || !*bin)
        bin = S_DEFAULT_BIN;
    char initdb [256], postgres [256], log [128];
    snprintf (initdb, sizeof initdb, "%s/initdb", bin);
    snprintf (postgres, sizeof postgres, "%s/postgres", bin);
    if (access (initdb, X_OK) != 0 || access (postgres, X_OK) != 0) {
        snprintf (err, errlen, "%s: no PostgreSQL server programs (install Debian's "
                  "postgresql: bash scripts/deps)", bin);
        return NULL;
    }
    xs_test_pg_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->pid = -1;
    snprintf (self->dir, sizeof self->dir, "/tmp/xs-pg-XXXXXX");
    if (!mkdtemp (self->dir)) {
        snprintf (err, errlen, "mkdtemp: %s", strerror (errno));
        free (self);
        return NULL;
    }
    snprintf (self->data, sizeof self->data, "%s/data", self->dir);
    uid_t uid;
    gid_t gid;
    if (s_server_user (&uid, &gid) && chown (self->dir, uid, gid) != 0) {
        snprintf (err, errlen, "chown %s: %s", self->dir, strerror (errno));
        goto fail;
    }

    snprintf (log, sizeof log, "%s/initdb.log", self->dir);
    const char *init_argv [] = { initdb, "-D", self->data, "-U", S_SUPERUSER, "--auth=trust",
                           "-E", "UTF8", "--locale=C",
                           durable ? NULL : "--no-sync", NULL };   /* syncs by default */
    pid_t pid = s_spawn (init_argv, log);
    int status = 0;
    if (pid < 0 || waitpid (pid, &status, 0) != pid || !WIFEXITED (status)
    ||  WEXITSTATUS (status) != 0) {
        s_log_tail (log, err, errlen, "initdb failed");
        goto fail;
    }

    snprintf (log, sizeof log, "%s/postgres.log", self->dir);
    const char *pg_argv [] = { postgres, "-D", self->data, "-k", self->dir, "-p", S_PORT,
                         "-c", "listen_addresses=",
                         "-c", durable ? "fsync=on" : "fsync=off",
                         "-c", "max_connections=200", NULL };
    self->pid = s_spawn (pg_argv, log);
    if (self->pid < 0) {
        snprintf (err, errlen, "fork: %s", strerror (errno));
        goto fail;
    }
    char conninfo [256];
    s_conninfo (self, "postgres", conninfo, sizeof conninfo);
    for (int i = 0; i < 600; i++) {
        if (PQping (conninfo) == PQPING_OK)
            return self;
        if (waitpid (self->pid, &status, WNOHANG) == self->pid) {
            self->pid = -1;
            s_log_tail (log, err, errlen, "postgres exited");
            goto fail;
        }
        /* The server signals nothing when ready: ask it, as pg_ctl does. */
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep (&ts, NULL);
    }
    s_log_tail (log, err, errlen, "postgres did not accept connections within 30 s");
fail:
    xs_test_pg_stop (&self);
    return NULL;
}

void
xs_test_pg_stop (xs_test_pg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_test_pg_t *self = *self_p;
    if (self->pid > 0) {
        kill (self->pid, SIGINT);       /* fast shutdown */
        int status;
        bool gone = false;
        for (int i = 0; i < 200 && !gone; i++) {
            if (waitpid (self->pid, &status, WNOHANG) == self->pid)
                gone = true;
            else {
                struct timespec ts = { 0, 50 * 1000 * 1000 };
                nanosleep (&ts, NULL);
            }
        }
        if (!gone) {
            kill (self->pid, SIGKILL);
            waitpid (self->pid, &status, 0);
        }
    }
    if (!getenv ("XS_TEST_PG_KEEP"))
        nftw (self->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free (self);
    *self_p = NULL;
}

const char *
xs_test_pg_socket_dir (const xs_test_pg_t *self)
{
    return self->dir;
}

void
xs_test_pg_uri (const xs_test_pg_t *self, const char *dbname, char *uri, size_t len)
{
    /* The socket directory goes in the query: a path has no place in the host part. */
    snprintf (uri, len, "postgresql:///%s?host=%s&port=" S_PORT "&user=" S_SUPERUSER,
              dbname, self->dir);
}

/* ---------------------------------------------------------------------
   Databases
   --------------------------------------------------------------------- */

static int
s_admin (xs_test_pg_t *self, const char *sql)
{
    char conninfo [256];
    s_conninfo (self, "postgres", conninfo, sizeof conninfo);
    PGconn *conn = PQconnectdb (conninfo);
    int rc = -1;
    if (PQstatus (conn) == CONNECTION_OK) {
        PGresult *res = PQexec (conn, sql);
        ExecStatusType st = PQresultStatus (res);
        if (st == PGRES_COMMAND_OK)
            rc = 0;
        else
        if (st == PGRES_TUPLES_OK)
            rc = PQntuples (res);
        else
            fprintf (stderr, "xs_test_pg: %s: %s", sql, PQerrorMessage (conn));
        PQclear (res);
    }
    else
        fprintf (stderr, "xs_test_pg: %s", PQerrorMessage (conn));
    PQfinish (conn);
    return rc;
}

int
xs_test_pg_createdb (xs_test_pg_t *self, const char *dbname)
{
    char sql [256];
    snprintf (sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", dbname);
    if (s_admin (self, sql))
        return -1;
    snprintf (sql, sizeof sql, "CREATE DATABASE \"%s\" TEMPLATE template0", dbname);
    return s_admin (self, sql);
}

int
xs_test_pg_dropdb (xs_test_pg_t *self, const char *dbname)
{
    char sql [256];
    snprintf (sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", dbname);
    return s_admin (self, sql);
}

int
xs_test_pg_kick (xs_test_pg_t *self, const char *dbname)
{
    char sql [256];
    snprintf (sql, sizeof sql, "SELECT pg_terminate_backend (pid) FROM pg_stat_activity"
              " WHERE datname = '%s' AND pid <> pg_backend_pid ()", dbname);
    return s_admin (self, sql);
}

int
xs_test_pg_query (const char *uri, const char *sql, long long *value_p)
{
    PGconn *conn = PQconnectdb (uri);
    int rc = -1;
    if (PQstatus (conn) == CONNECTION_OK) {
        PGresult *res = PQexec (conn, sql);
        ExecStatusType st = PQresultStatus (res);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            rc = 0;
            if (value_p)
                *value_p = st == PGRES_TUPLES_OK && PQntuples (res) > 0
                         ? strtoll (PQgetvalue (res, 0, 0), NULL, 10) : -1;
        }
        else {
            const char *state = PQresultErrorField (res, PG_DIAG_SQLSTATE);
            rc = state && strncmp (state, "23", 2) == 0 ? -2 : -1;
        }
        PQclear (res);
    }
    PQfinish (conn);
    return rc;
}
