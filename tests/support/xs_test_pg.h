/*  xs_test_pg: a real PostgreSQL 15 server for a test (Debian's
    postgresql package, no mock): initdb in a fresh temporary directory,
    `postgres` listening only on a unix socket in that directory, run as a
    dedicated non-root user (XS_TEST_PG_USER, made by scripts/deps; `nobody`
    when it is missing; the caller itself when not root), stopped and
    removed by xs_test_pg_stop.

    The cluster trusts local connections of its superuser `xensm`; tests
    make one database each (xs_test_pg_createdb) and reach it with the URI
    of xs_test_pg_uri.

    XS_TEST_PG_BIN (environment) overrides /usr/lib/postgresql/15/bin.
*/
#ifndef XS_TEST_PG_H_INCLUDED
#define XS_TEST_PG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define XS_TEST_PG_USER "xensm-pg"

typedef struct _xs_test_pg_t xs_test_pg_t;

/* Starts a server (fsync on when `durable`, off otherwise: faster, and a
   crash of the test machine loses nothing the test needs). Returns it, or
   NULL with a message in err [errlen]. */
xs_test_pg_t *xs_test_pg_start (bool durable, char *err, size_t errlen);

/* Stops the server (fast shutdown), removes its directory. NULLs *self_p. */
void xs_test_pg_stop (xs_test_pg_t **self_p);

/* The directory of the server's unix socket. */
const char *xs_test_pg_socket_dir (const xs_test_pg_t *self);

/* Writes the URI of database `dbname` on this server into uri [len]. */
void xs_test_pg_uri (const xs_test_pg_t *self, const char *dbname, char *uri, size_t len);

/* Creates (dropping first when it exists) database `dbname`. 0 or -1. */
int xs_test_pg_createdb (xs_test_pg_t *self, const char *dbname);

/* Drops database `dbname`. 0 or -1. */
int xs_test_pg_dropdb (xs_test_pg_t *self, const char *dbname);

/* Runs `sql` on the database `uri` (a second connection: what a test
   sees from outside the store). Returns 0 and, when value_p, the first
   column of the first row (-1 when no row); -2 when a constraint refused
   it, -1 on any other failure. */
int xs_test_pg_query (const char *uri, const char *sql, long long *value_p);

/* Forcibly disconnects every session of database `dbname` but this one
   (pg_terminate_backend): what a restart of the server looks like to a
   client. Returns the number ended, or -1. */
int xs_test_pg_kick (xs_test_pg_t *self, const char *dbname);

#endif
