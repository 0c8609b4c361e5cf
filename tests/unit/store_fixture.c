/*  store_fixture: the store tests' temporary directory, store and helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sqlite3.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_fixture.h"

static xs_test_pg_t *s_pg;
static int s_ndb;

bool
fx_is_pg (void)
{
    const char *db = getenv ("XENSM_TEST_DB");
    return db && strcmp (db, "pg") == 0;
}

xs_test_pg_t *
fx_pg (void)
{
    return s_pg;
}

int
fx_group_setup (void **state)
{
    (void) state;
    if (!fx_is_pg ())
        return 0;
    char err [512];
    s_pg = xs_test_pg_start (false, err, sizeof err);
    if (!s_pg) {
        print_error ("PostgreSQL: %s\n", err);
        return -1;
    }
    return 0;
}

int
fx_group_teardown (void **state)
{
    (void) state;
    xs_test_pg_stop (&s_pg);
    return 0;
}

static bool
s_is_uri (const char *path)
{
    return strncmp (path, "postgresql://", 13) == 0;
}

int
fx_setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    if (!fx)
        return -1;
    snprintf (fx->dir, sizeof fx->dir, "/tmp/xs-store-XXXXXX");
    if (!mkdtemp (fx->dir)) {
        free (fx);
        return -1;
    }
    snprintf (fx->path, sizeof fx->path, "%s/catalog.db", fx->dir);
    if (s_pg) {
        snprintf (fx->dbname, sizeof fx->dbname, "xs_%d_%d", (int) getpid (), ++s_ndb);
        if (xs_test_pg_createdb (s_pg, fx->dbname)) {
            print_error ("cannot create database %s\n", fx->dbname);
            rmdir (fx->dir);
            free (fx);
            return -1;
        }
        xs_test_pg_uri (s_pg, fx->dbname, fx->path, sizeof fx->path);
    }
    *state = fx;
    return 0;
}

int
fx_setup_open (void **state)
{
    if (fx_setup (state))
        return -1;
    fixture_t *fx = *state;
    xs_err_t err = { 0 };
    fx->store = xs_store_new (fx->path, &err);
    if (!fx->store) {
        print_error ("open %s: %s\n", fx->path, err.msg);
        return -1;
    }
    return 0;
}

int
fx_teardown (void **state)
{
    fixture_t *fx = *state;
    xs_store_destroy (&fx->store);
    DIR *d = opendir (fx->dir);
    struct dirent *e;
    while (d && (e = readdir (d))) {
        if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..")) {
            char p [512];
            snprintf (p, sizeof p, "%s/%s", fx->dir, e->d_name);
            unlink (p);
        }
    }
    if (d)
        closedir (d);
    rmdir (fx->dir);
    if (s_pg && *fx->dbname)
        xs_test_pg_dropdb (s_pg, fx->dbname);
    free (fx);
    return 0;
}

xs_store_t *
fx_open (fixture_t *fx)
{
    xs_err_t err = { 0 };
    xs_store_t *store = xs_store_new (fx->path, &err);
    if (!store)
        fail_msg ("open %s: %s", fx->path, err.msg);
    return store;
}

xs_store_t *
fx_reopen (fixture_t *fx)
{
    xs_store_destroy (&fx->store);
    fx->store = fx_open (fx);
    return fx->store;
}

void
fx_copy_file (const char *path, const char *suffix, const char *to)
{
    char from [600], dest [620];
    snprintf (from, sizeof from, "%s%s", path, suffix);
    snprintf (dest, sizeof dest, "%s%s", to, suffix);
    unlink (dest);
    FILE *in = fopen (from, "rb");
    if (!in)
        return;
    FILE *out = fopen (dest, "wb");
    assert_non_null (out);
    char buf [65536];
    size_t n;
    while ((n = fread (buf, 1, sizeof buf, in)) > 0)
        assert_int_equal (fwrite (buf, 1, n, out), n);
    fclose (in);
    assert_int_equal (fclose (out), 0);
}

static void
s_remove_copy (const char *copy)
{
    const char *suffixes [] = { "", "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes [0]; i++) {
        char p [640];
        snprintf (p, sizeof p, "%s%s", copy, suffixes [i]);
        unlink (p);
    }
}

int64_t
fx_raw_int (const char *path, const char *sql)
{
    if (s_is_uri (path)) {
        long long v = -1;
        if (xs_test_pg_query (path, sql, &v))
            fail_msg ("%s: %s failed", path, sql);
        return v;
    }
    /* A running store holds its file exclusively (no other connection may
       read it): look at a copy of the database and its log, what another
       process would find after a crash at this moment. */
    char copy [600];
    snprintf (copy, sizeof copy, "%s.peek", path);
    fx_copy_file (path, "", copy);
    fx_copy_file (path, "-wal", copy);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t value = -1;
    assert_int_equal (sqlite3_open_v2 (copy, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step (st) == SQLITE_ROW)
        value = sqlite3_column_int64 (st, 0);
    sqlite3_finalize (st);
    sqlite3_close (db);
    s_remove_copy (copy);
    return value;
}

int
fx_raw_exec (const char *path, const char *sql)
{
    if (s_is_uri (path)) {
        int rc = xs_test_pg_query (path, sql, NULL);
        return rc == 0 ? FX_OK : rc == -2 ? FX_CONSTRAINT : FX_ERROR;
    }
    sqlite3 *db = NULL;
    assert_int_equal (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                       NULL), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL), SQLITE_OK);
    int rc = sqlite3_exec (db, sql, NULL, NULL, NULL);
    sqlite3_close (db);
    return rc & 0xff;
}

int64_t
fx_add_flavor (xs_store_t *store, const char *label)
{
    xs_err_t err = { 0 };
    int64_t id = xs_store_flavor_create (store, label, "desc", &err);
    if (id <= 0)
        fail_msg ("flavor %s: %s", label, err.msg);
    return id;
}

int64_t
fx_add_backend (xs_store_t *store, const char *flavor, const char *zone)
{
    xs_kv_spec_t config [] = { { "server", "myserver" }, { "serverpath", "/local/scratch" } };
    xs_backend_spec_t spec = { .flavor_label = flavor, .zone = zone,
                               .sr_type = "nfs", .config = config, .nconfig = 2 };
    xs_err_t err = { 0 };
    int64_t id = xs_store_backend_add (store, &spec, &err);
    if (id <= 0)
        fail_msg ("backend: %s", err.msg);
    return id;
}

void
fx_add_volume (xs_store_t *store, const char *uuid, int64_t flavor, int64_t backend,
               xs_volume_state_t state, const char *request_id)
{
    xs_volume_spec_t v = { .uuid = uuid, .size_bytes = 1 << 20, .flavor_id = flavor,
                           .backend_id = backend, .state = state, .request_id = request_id };
    xs_err_t err = { 0 };
    if (xs_store_volume_insert (store, &v, &err))
        fail_msg ("volume %s: %s", uuid, err.msg);
}

unsigned
fx_file_mode (const char *path)
{
    struct stat sb;
    if (stat (path, &sb) != 0)
        fail_msg ("%s: missing", path);
    return (unsigned) (sb.st_mode & 07777);
}

char *
fx_slurp (const char *path, size_t *size_p)
{
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = malloc ((size_t) n + 1);
    assert_int_equal (fread (buf, 1, (size_t) n, f), (size_t) n);
    fclose (f);
    *size_p = (size_t) n;
    return buf;
}

void
fx_write_file (const char *path, const void *data, size_t size, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, data, size), (ssize_t) size);
    fchmod (fd, mode);
    close (fd);
}
