/*  Unit tests for xs_store: schema, constraints, migrations, file handling,
    locking, transactions and SQLite errors. Each test works in its own
    temporary directory. A second, raw SQLite connection checks what is
    really in the file and plays "another process" where needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog/store/xs_store.h"

/* =========================================================================
    Fixture: a temp dir and a database path inside it
   ========================================================================= */

typedef struct {
    char dir [64];
    char path [128];
} fixture_t;

static int
setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    snprintf (fx->dir, sizeof fx->dir, "/tmp/xs-store-XXXXXX");
    if (!mkdtemp (fx->dir))
        return -1;
    snprintf (fx->path, sizeof fx->path, "%s/catalog.db", fx->dir);
    *state = fx;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *fx = *state;
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
    free (fx);
    return 0;
}

static xs_store_t *
s_open (fixture_t *fx)
{
    xs_err_t err = { 0 };
    xs_store_t *store = xs_store_new (fx->path, &err);
    if (!store)
        fail_msg ("open %s: %s", fx->path, err.msg);
    return store;
}

/* One integer from a raw read-only connection (the store may be open). */
static int64_t
s_raw_int (const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t value = -1;
    assert_int_equal (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step (st) == SQLITE_ROW)
        value = sqlite3_column_int64 (st, 0);
    sqlite3_finalize (st);
    sqlite3_close (db);
    return value;
}

/* Runs `sql` on a raw read-write connection with foreign keys on; returns
   SQLite's (primary) result code. */
static int
s_raw_exec (const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                       NULL), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL), SQLITE_OK);
    int rc = sqlite3_exec (db, sql, NULL, NULL, NULL);
    sqlite3_close (db);
    return rc & 0xff;
}

static unsigned
s_mode (const char *path)
{
    struct stat sb;
    if (stat (path, &sb) != 0)
        fail_msg ("%s: missing", path);
    return (unsigned) (sb.st_mode & 07777);
}

static char *
s_slurp (const char *path, size_t *size_p)
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

static void
s_write_file (const char *path, const void *data, size_t size, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, data, size), (ssize_t) size);
    fchmod (fd, mode);
    close (fd);
}

static int64_t
s_add_flavor (xs_store_t *store, const char *label)
{
    xs_err_t err = { 0 };
    int64_t id = xs_store_flavor_create (store, label, "desc", &err);
    if (id <= 0)
        fail_msg ("flavor %s: %s", label, err.msg);
    return id;
}

static int64_t
s_add_backend (xs_store_t *store, const char *flavor, const char *zone)
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

static void
s_add_volume (xs_store_t *store, const char *uuid, int64_t flavor, int64_t backend,
              xs_volume_state_t state, const char *request_id)
{
    xs_volume_spec_t v = { .uuid = uuid, .size_bytes = 1 << 20, .flavor_id = flavor,
                      .backend_id = backend, .state = state, .request_id = request_id };
    xs_err_t err = { 0 };
    if (xs_store_volume_insert (store, &v, &err))
        fail_msg ("volume %s: %s", uuid, err.msg);
}

/* =========================================================================
    Files, modes, locks, migrations
   ========================================================================= */

static void
test_new_file_is_0600_with_sidecars (void **state)
{
    fixture_t *fx = *state;
    mode_t old = umask (0);             /* a lax umask must not matter */
    xs_store_t *store = s_open (fx);
    umask (old);
    assert_int_equal (xs_store_schema_version (store), XS_STORE_SCHEMA_VERSION);
    s_add_flavor (store, "gold");

    char p [256];
    assert_int_equal (s_mode (fx->path), 0600);
    snprintf (p, sizeof p, "%s-wal", fx->path);
    assert_int_equal (s_mode (p), 0600);
    snprintf (p, sizeof p, "%s-shm", fx->path);
    assert_int_equal (s_mode (p), 0600);
    snprintf (p, sizeof p, "%s.lock", fx->path);
    assert_int_equal (s_mode (p), 0600);

    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal (sqlite3_open_v2 (fx->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_step (st), SQLITE_ROW);
    assert_string_equal ((const char *) sqlite3_column_text (st, 0), "wal");
    sqlite3_finalize (st);
    sqlite3_close (db);
    xs_store_destroy (&store);
    assert_null (store);
    xs_store_destroy (&store);          /* idempotent */
}

static void
test_existing_lax_file_is_tightened (void **state)
{
    fixture_t *fx = *state;
    s_write_file (fx->path, "", 0, 0644);      /* version 0: an empty file */
    xs_store_t *store = s_open (fx);
    assert_int_equal (s_mode (fx->path), 0600);
    xs_store_destroy (&store);
}

static void
test_migrate_empty_file_to_current (void **state)
{
    fixture_t *fx = *state;
    s_write_file (fx->path, "", 0, 0600);
    xs_store_t *store = s_open (fx);
    xs_store_destroy (&store);
    assert_int_equal (s_raw_int (fx->path, "PRAGMA user_version"), XS_STORE_SCHEMA_VERSION);
    const char *tables [] = { "flavor", "backend", "backend_config", "host", "host_sr",
                              "volume", "job", "attempt" };
    for (size_t i = 0; i < sizeof tables / sizeof tables [0]; i++) {
        char sql [128];
        snprintf (sql, sizeof sql,
                  "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '%s'",
                  tables [i]);
        assert_int_equal (s_raw_int (fx->path, sql), 1);
    }
    /* The hot-path indexes exist. */
    const char *indexes [] = { "backend_by_flavor", "job_unfinished", "attempt_by_volume" };
    for (size_t i = 0; i < sizeof indexes / sizeof indexes [0]; i++) {
        char sql [128];
        snprintf (sql, sizeof sql,
                  "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = '%s'",
                  indexes [i]);
        assert_int_equal (s_raw_int (fx->path, sql), 1);
    }
    /* Opening a current database again migrates nothing and keeps the version. */
    store = s_open (fx);
    assert_int_equal (xs_store_schema_version (store), XS_STORE_SCHEMA_VERSION);
    xs_store_destroy (&store);
}

static void
test_newer_schema_is_refused_untouched (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    s_add_flavor (store, "gold");
    xs_store_destroy (&store);
    char sql [64];
    snprintf (sql, sizeof sql, "PRAGMA user_version = %d", XS_STORE_SCHEMA_VERSION + 5);
    assert_int_equal (s_raw_exec (fx->path, sql), SQLITE_OK);

    size_t n1, n2;
    char *before = s_slurp (fx->path, &n1);
    xs_err_t err = { 0 };
    store = xs_store_new (fx->path, &err);
    assert_null (store);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "newer"));
    char *after = s_slurp (fx->path, &n2);
    assert_int_equal (n1, n2);
    assert_memory_equal (before, after, n1);
    free (before);
    free (after);
}

static void
test_foreign_sqlite_database_is_refused (void **state)
{
    fixture_t *fx = *state;
    assert_int_equal (s_raw_exec (fx->path, "CREATE TABLE mine (x); INSERT INTO mine VALUES (42)"),
                      SQLITE_OK);
    chmod (fx->path, 0644);
    xs_err_t err = { 0 };
    xs_store_t *store = xs_store_new (fx->path, &err);
    assert_null (store);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "not an xensm catalog"));
    assert_int_equal (s_raw_int (fx->path, "SELECT x FROM mine"), 42);
    assert_int_equal (s_raw_int (fx->path, "SELECT count(*) FROM sqlite_schema"), 1);
    assert_int_equal (s_mode (fx->path), 0644);       /* not ours: not even chmod */
}

static void
test_garbage_file_is_refused_untouched (void **state)
{
    fixture_t *fx = *state;
    char garbage [8192];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage [i] = (char) ("not a database at all! " [i % 23]);
    s_write_file (fx->path, garbage, sizeof garbage, 0600);
    xs_err_t err = { 0 };
    xs_store_t *store = xs_store_new (fx->path, &err);
    assert_null (store);
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "not a database"));
    print_message ("garbage file: %s\n", err.msg);
    size_t n;
    char *after = s_slurp (fx->path, &n);
    assert_int_equal (n, sizeof garbage);
    assert_memory_equal (after, garbage, n);
    free (after);
    /* No WAL was made for it either. */
    char p [256];
    snprintf (p, sizeof p, "%s-wal", fx->path);
    assert_int_not_equal (access (p, F_OK), 0);
}

static void
test_corrupt_file_gives_clear_error (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    char label [32];
    for (int i = 0; i < 200; i++) {
        snprintf (label, sizeof label, "flavor-%03d", i);
        s_add_flavor (store, label);
    }
    xs_store_destroy (&store);
    size_t n;
    char *data = s_slurp (fx->path, &n);
    assert_true (n > 8 * 4096);

    /* The flavor rows were written last: scribble over the last pages. The
       store still opens; reading flavors fails cleanly. */
    char *copy = malloc (n);
    memcpy (copy, data, n);
    memset (copy + n - 2 * 4096, 0xA5, 2 * 4096);
    s_write_file (fx->path, copy, n, 0600);
    xs_err_t err = { 0 };
    store = s_open (fx);
    assert_null (xs_store_flavor_list (store, &err));
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "malformed"));
    print_message ("corrupt data pages: %s\n", err.msg);
    xs_store_destroy (&store);

    /* Scribble over everything after page 1: the open itself fails cleanly. */
    memcpy (copy, data, n);
    memset (copy + 4096, 0xA5, n - 4096);
    s_write_file (fx->path, copy, n, 0600);
    store = xs_store_new (fx->path, &err);
    assert_null (store);
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "malformed"));
    print_message ("corrupt schema: %s\n", err.msg);
    free (copy);
    free (data);
}

static void
test_second_open_is_refused (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *first = s_open (fx);
    xs_err_t err = { 0 };
    xs_store_t *second = xs_store_new (fx->path, &err);
    assert_null (second);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "already open"));
    print_message ("second open: %s\n", err.msg);
    /* The first one still works. */
    s_add_flavor (first, "gold");
    xs_store_destroy (&first);
    second = s_open (fx);
    xs_flavor_t *f = xs_store_flavor_get (second, "gold", &err);
    assert_non_null (f);
    xs_flavor_destroy (&f);
    xs_store_destroy (&second);
}

static void
test_unusable_paths (void **state)
{
    fixture_t *fx = *state;
    xs_err_t err = { 0 };
    assert_null (xs_store_new (NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_null (xs_store_new ("", &err));
    char p [256];
    snprintf (p, sizeof p, "%s/no/such/dir/catalog.db", fx->dir);
    assert_null (xs_store_new (p, &err));
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, p));
    /* A directory is not a database, and nothing is made beside it. */
    assert_null (xs_store_new (fx->dir, &err));
    assert_non_null (strstr (err.msg, fx->dir));
    assert_non_null (strstr (err.msg, "directory"));
    snprintf (p, sizeof p, "%s.lock", fx->dir);
    assert_int_equal (access (p, F_OK), -1);
}

/* =========================================================================
    Flavors and backends
   ========================================================================= */

static void
test_flavors (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    xs_err_t err = { 0 };
    int64_t gold = xs_store_flavor_create (store, "gold", "Not all that glitters", &err);
    assert_true (gold > 0);
    int64_t silver = xs_store_flavor_create (store, "silver", NULL, &err);
    assert_true (silver > gold);

    assert_int_equal (xs_store_flavor_create (store, "gold", "again", &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_string_equal (err.msg, "flavor gold: already exists");
    assert_int_equal (xs_store_flavor_create (store, "", "x", &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);

    xs_flavor_t *f = xs_store_flavor_get (store, "gold", &err);
    assert_non_null (f);
    assert_int_equal (f->id, gold);
    assert_string_equal (f->description, "Not all that glitters");
    assert_true (f->created_at > 1600000000000LL);
    xs_flavor_destroy (&f);
    assert_null (f);
    f = xs_store_flavor_get_by_id (store, silver, &err);
    assert_string_equal (f->label, "silver");
    assert_string_equal (f->description, "");
    xs_flavor_destroy (&f);
    assert_null (xs_store_flavor_get (store, "bronze", &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "flavor bronze: not found");
    assert_null (xs_store_flavor_get_by_id (store, 999, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);

    xs_flavor_t **list = xs_store_flavor_list (store, &err);
    assert_int_equal (xs_rows_list_size (list), 2);
    assert_string_equal (list [0]->label, "gold");
    assert_string_equal (list [1]->label, "silver");
    xs_flavor_list_destroy (&list);
    assert_null (list);

    /* Refused while a backend uses it (the count is in the message). */
    int64_t b = s_add_backend (store, "gold", "z1");
    assert_int_equal (xs_store_flavor_delete (store, "gold", &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_string_equal (err.msg, "flavor gold: 1 backend still uses it");
    s_add_backend (store, "gold", "z1");
    assert_int_equal (xs_store_flavor_delete (store, "gold", &err), -1);
    assert_string_equal (err.msg, "flavor gold: 2 backends still use it");

    assert_int_equal (xs_store_flavor_delete (store, "bronze", &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_int_equal (xs_store_flavor_delete (store, "silver", &err), 0);
    assert_null (xs_store_flavor_get (store, "silver", &err));

    /* A live volume of a flavor with no backend left also holds it. */
    xs_backend_t **bl = xs_store_backend_list (store, &err);
    for (xs_backend_t **p = bl; *p; p++)
        assert_int_equal (xs_store_backend_remove (store, (*p)->id, &err), 0);
    xs_backend_list_destroy (&bl);
    (void) b;
    s_add_volume (store, "v-1", gold, 0, XS_VOLUME_ERROR, NULL);
    assert_int_equal (xs_store_flavor_delete (store, "gold", &err), -1);
    assert_string_equal (err.msg, "flavor gold: 1 live volume still uses it");
    assert_int_equal (xs_store_volume_set_state (store, "v-1", XS_VOLUME_DELETED, NULL, &err), 0);
    assert_int_equal (xs_store_flavor_delete (store, "gold", &err), 0);
    xs_volume_t *v = xs_store_volume_get (store, "v-1", &err);
    assert_int_equal (v->flavor_id, 0);           /* history row survives */
    xs_volume_destroy (&v);
    xs_store_destroy (&store);
}

static void
test_backend_config_round_trip (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    s_add_flavor (store, "gold");
    xs_err_t err = { 0 };
    xs_kv_spec_t config [] = {
        { "server", "myserver" },
        { "serverpath", "/local/scratch/my name" },
        { "options", "a=b,c=d e=f" },
        { "password", "p@ss w=rd;'\"--" },
        { "weird", "~!#$%^&*()_+{}|:<>?`" },
        { "empty", "" },
    };
    const size_t n = sizeof config / sizeof config [0];
    xs_backend_spec_t spec = { .flavor_label = "gold", .zone = "zone-a", .sr_type = "nfs",
                          .name_label = "toybox-renuka", .has_ratio = true, .ratio = 1.5,
                          .has_reserve = true, .reserve = 10, .config = config, .nconfig = n };
    int64_t id = xs_store_backend_add (store, &spec, &err);
    assert_true (id > 0);
    xs_store_destroy (&store);

    store = s_open (fx);                 /* and across a restart */
    xs_backend_t *b = xs_store_backend_get (store, id, &err);
    assert_non_null (b);
    assert_string_equal (b->flavor_label, "gold");
    assert_string_equal (b->zone, "zone-a");
    assert_string_equal (b->sr_type, "nfs");
    assert_string_equal (b->name_label, "toybox-renuka");
    assert_null (b->sr_uuid);
    assert_null (b->error);
    assert_int_equal (b->state, XS_BACKEND_NEW);
    assert_true (b->has_ratio);
    assert_true (b->ratio == 1.5);
    assert_true (b->has_reserve);
    assert_true (b->reserve == 10);
    assert_int_equal (b->nconfig, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal (b->config [i].key, config [i].key);
        assert_string_equal (b->config [i].value, config [i].value);
    }
    assert_string_equal (xs_backend_config_get (b, "options"), "a=b,c=d e=f");
    assert_null (xs_backend_config_get (b, "nope"));
    xs_backend_destroy (&b);
    assert_null (b);
    xs_store_destroy (&store);
}

static void
test_backend_add_refusals (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    xs_err_t err = { 0 };
    xs_backend_spec_t spec = { .flavor_label = "gold", .zone = "z", .sr_type = "nfs" };
    assert_int_equal (xs_store_backend_add (store, &spec, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "flavor gold: not found");
    s_add_flavor (store, "gold");

    xs_backend_spec_t bad = spec;
    bad.sr_type = NULL;
    assert_int_equal (xs_store_backend_add (store, &bad, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    bad = spec;
    bad.zone = "";
    assert_int_equal (xs_store_backend_add (store, &bad, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    bad = spec;
    bad.has_ratio = true;
    bad.ratio = 0;
    assert_int_equal (xs_store_backend_add (store, &bad, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    bad = spec;
    bad.has_reserve = true;
    bad.reserve = 101;
    assert_int_equal (xs_store_backend_add (store, &bad, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    xs_kv_spec_t empty_key [] = { { "", "x" } };
    bad = spec;
    bad.config = empty_key;
    bad.nconfig = 1;
    assert_int_equal (xs_store_backend_add (store, &bad, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);

    /* The same SR cannot back two backends. */
    bad = spec;
    bad.sr_uuid = "sr-1";
    int64_t first = xs_store_backend_add (store, &bad, &err);
    assert_true (first > 0);
    assert_int_equal (xs_store_backend_add (store, &bad, &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_non_null (strstr (err.msg, "sr-1"));
    xs_store_destroy (&store);
}

static void
test_backend_add_failure_leaves_nothing (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    s_add_flavor (store, "gold");
    xs_err_t err = { 0 };
    /* The third config row fails (duplicate key) after the backend row and
       two config rows were written: all of it must go. */
    xs_kv_spec_t config [] = { { "server", "a" }, { "password", "hunter2" }, { "server", "b" } };
    xs_backend_spec_t spec = { .flavor_label = "gold", .zone = "z", .sr_type = "nfs",
                          .config = config, .nconfig = 3 };
    assert_int_equal (xs_store_backend_add (store, &spec, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "server given twice"));
    assert_null (strstr (err.msg, "hunter2"));
    assert_int_equal (s_raw_int (fx->path, "SELECT count(*) FROM backend"), 0);
    assert_int_equal (s_raw_int (fx->path, "SELECT count(*) FROM backend_config"), 0);

    /* Inside an explicit transaction the failed operation undoes only itself. */
    assert_int_equal (xs_store_begin (store, &err), 0);
    s_add_flavor (store, "silver");
    assert_int_equal (xs_store_backend_add (store, &spec, &err), -1);
    assert_true (xs_store_in_transaction (store));
    int64_t ok = s_add_backend (store, "silver", "z");
    assert_int_equal (xs_store_commit (store, &err), 0);
    assert_int_equal (s_raw_int (fx->path, "SELECT count(*) FROM backend"), 1);
    assert_int_equal (s_raw_int (fx->path, "SELECT count(*) FROM backend_config"), 2);
    xs_backend_t *b = xs_store_backend_get (store, ok, &err);
    assert_string_equal (b->flavor_label, "silver");
    xs_backend_destroy (&b);
    xs_store_destroy (&store);
}

static void
test_backend_lists_and_state (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    xs_err_t err = { 0 };
    int64_t gold = s_add_flavor (store, "gold");
    int64_t silver = s_add_flavor (store, "silver");
    int64_t b1 = s_add_backend (store, "gold", "z1");
    int64_t b2 = s_add_backend (store, "silver", "z2");
    int64_t b3 = s_add_backend (store, "gold", "z2");
    int64_t b4 = s_add_backend (store, "gold", "z1");

    xs_backend_t **list = xs_store_backend_list (store, &err);
    assert_int_equal (xs_rows_list_size (list), 4);
    assert_int_equal (list [0]->id, b1);
    assert_int_equal (list [3]->id, b4);
    assert_int_equal (list [2]->nconfig, 2);
    xs_backend_list_destroy (&list);

    list = xs_store_backend_list_by_flavor (store, gold, &err);
    assert_int_equal (xs_rows_list_size (list), 3);
    assert_int_equal (list [0]->id, b1);
    assert_int_equal (list [1]->id, b3);
    assert_int_equal (list [2]->id, b4);
    xs_backend_list_destroy (&list);
    list = xs_store_backend_list_by_flavor (store, silver, &err);
    assert_int_equal (xs_rows_list_size (list), 1);
    assert_int_equal (list [0]->id, b2);
    xs_backend_list_destroy (&list);

    /* Placement's walk: the flavor's next backend id, one at a time. */
    assert_int_equal (xs_store_backend_next_of_flavor (store, gold, 0, &err), b1);
    assert_int_equal (xs_store_backend_next_of_flavor (store, gold, b1, &err), b3);
    assert_int_equal (xs_store_backend_next_of_flavor (store, gold, b3, &err), b4);
    assert_int_equal (xs_store_backend_next_of_flavor (store, gold, b4, &err), 0);
    assert_int_equal (xs_store_backend_next_of_flavor (store, silver, 0, &err), b2);
    assert_int_equal (xs_store_backend_next_of_flavor (store, silver, b2, &err), 0);
    assert_int_equal (xs_store_backend_next_of_flavor (store, 999, 0, &err), 0);

    list = xs_store_backend_list_by_zone (store, "z2", &err);
    assert_int_equal (xs_rows_list_size (list), 2);
    assert_int_equal (list [0]->id, b2);
    assert_int_equal (list [1]->id, b3);
    xs_backend_list_destroy (&list);
    list = xs_store_backend_list_by_zone (store, "nowhere", &err);
    assert_non_null (list);
    assert_int_equal (xs_rows_list_size (list), 0);
    xs_backend_list_destroy (&list);

    /* State and error text. */
    assert_int_equal (xs_store_backend_set_state (store, b1, XS_BACKEND_ATTACHED, NULL, &err), 0);
    assert_int_equal (xs_store_backend_set_error (store, b3, "SR_BACKEND_FAILURE_73", &err), 0);
    xs_backend_t *b = xs_store_backend_get (store, b1, &err);
    assert_int_equal (b->state, XS_BACKEND_ATTACHED);
    assert_null (b->error);
    assert_false (b->has_ratio);
    assert_false (b->has_reserve);
    xs_backend_destroy (&b);
    b = xs_store_backend_get (store, b3, &err);
    assert_int_equal (b->state, XS_BACKEND_ERROR);
    assert_string_equal (b->error, "SR_BACKEND_FAILURE_73");
    xs_backend_destroy (&b);
    assert_int_equal (xs_store_backend_set_state (store, 99, XS_BACKEND_NEW, NULL, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "backend 99: not found");
    assert_int_equal (xs_store_backend_set_state (store, b1, (xs_backend_state_t) 42, NULL, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_null (xs_store_backend_get (store, 99, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);

    /* sr_uuid: set once; the same again is fine; another is refused. */
    assert_int_equal (xs_store_backend_set_sr_uuid (store, b1, "sr-a", &err), 0);
    assert_int_equal (xs_store_backend_set_sr_uuid (store, b1, "sr-a", &err), 0);
    assert_int_equal (xs_store_backend_set_sr_uuid (store, b1, "sr-b", &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_non_null (strstr (err.msg, "only one agent"));
    assert_int_equal (xs_store_backend_set_sr_uuid (store, b2, "sr-a", &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    char expect [128];
    snprintf (expect, sizeof expect, "backend %lld: SR sr-a already belongs to backend %lld",
              (long long) b2, (long long) b1);
    assert_string_equal (err.msg, expect);
    assert_int_equal (xs_store_backend_set_sr_uuid (store, 99, "sr-z", &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    b = xs_store_backend_get (store, b1, &err);
    assert_string_equal (b->sr_uuid, "sr-a");
    xs_backend_destroy (&b);
    xs_store_destroy (&store);
}

static void
test_backend_remove (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    xs_err_t err = { 0 };
    int64_t gold = s_add_flavor (store, "gold");
    int64_t b1 = s_add_backend (store, "gold", "z1");
    int64_t b2 = s_add_backend (store, "gold", "z1");
    xs_host_spec_t host = { .uuid = "h1", .zone = "z1" };
    assert_int_equal (xs_store_host_upsert (store, &host, &err), 0);
    assert_int_equal (xs_store_sr_set_attached (store, "h1", b1, true, &err), 0);
    s_add_volume (store, "v1", gold, b1, XS_VOLUME_AVAILABLE, NULL);
    s_add_volume (store, "v2", gold, b1, XS_VOLUME_ERROR_DELETING, NULL);
    s_add_volume (store, "v3", gold, b1, XS_VOLUME_DELETED, NULL);

    assert_int_equal (xs_store_backend_live_volumes (store, b1, &err), 2);
    assert_int_equal (xs_store_backend_remove (store, b1, &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    char expect [128];
    snprintf (expect, sizeof expect, "backend %lld: 2 volumes still live on it", (long long) b1);
    assert_string_equal (err.msg, expect);
    assert_int_equal (xs_store_volume_set_state (store, "v1", XS_VOLUME_DELETED, NULL, &err), 0);
    assert_int_equal (xs_store_backend_remove (store, b1, &err), -1);
    snprintf (expect, sizeof expect, "backend %lld: 1 volume still live on it", (long long) b1);
    assert_string_equal (err.msg, expect);
    assert_int_equal (xs_store_volume_set_state (store, "v2", XS_VOLUME_DELETED, NULL, &err), 0);
    assert_int_equal (xs_store_backend_remove (store, b1, &err), 0);

    assert_null (xs_store_backend_get (store, b1, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_int_equal (xs_store_backend_remove (store, b1, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    /* Config and SR reports went with it; the history rows stay. */
    char sql [128];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM backend_config WHERE backend_id = %lld",
              (long long) b1);
    assert_int_equal (s_raw_int (fx->path, sql), 0);
    assert_int_equal (s_raw_int (fx->path, "SELECT count(*) FROM host_sr"), 0);
    xs_volume_t *v = xs_store_volume_get (store, "v3", &err);
    assert_non_null (v);
    assert_int_equal (v->backend_id, 0);
    xs_volume_destroy (&v);

    /* Ids are never reused. */
    assert_int_equal (xs_store_backend_remove (store, b2, &err), 0);
    int64_t b3 = s_add_backend (store, "gold", "z1");
    assert_true (b3 > b2);
    xs_store_destroy (&store);
}

/* =========================================================================
    Hosts and SR reports
   ========================================================================= */

static void
test_hosts_and_sr_stats (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    xs_err_t err = { 0 };
    s_add_flavor (store, "gold");
    int64_t b1 = s_add_backend (store, "gold", "z1");
    int64_t b2 = s_add_backend (store, "gold", "z1");

    xs_host_spec_t h = { .uuid = "h-2", .zone = "z1", .name = "xs02", .public_key = "key2",
                    .last_seen = 1000 };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), 0);
    h = (xs_host_spec_t) { .uuid = "h-1", .zone = "z1", .name = "xs01" };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), 0);
    h = (xs_host_spec_t) { .uuid = "h-3", .zone = "z2", .state = XS_HOST_DOWN, .last_seen = 5 };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), 0);
    h = (xs_host_spec_t) { .uuid = "h-4" };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);

    xs_host_t *got = xs_store_host_get (store, "h-2", &err);
    assert_string_equal (got->zone, "z1");
    assert_string_equal (got->name, "xs02");
    assert_string_equal (got->public_key, "key2");
    assert_int_equal (got->state, XS_HOST_UP);
    assert_int_equal (got->last_seen, 1000);
    int64_t created = got->created_at;
    xs_host_destroy (&got);

    /* Upsert updates in place and keeps created_at. */
    h = (xs_host_spec_t) { .uuid = "h-2", .zone = "z1", .name = "xs02-renamed", .last_seen = 2000 };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), 0);
    got = xs_store_host_get (store, "h-2", &err);
    assert_string_equal (got->name, "xs02-renamed");
    assert_null (got->public_key);
    assert_int_equal (got->created_at, created);
    xs_host_destroy (&got);

    xs_host_t **hosts = xs_store_host_list (store, NULL, &err);
    assert_int_equal (xs_rows_list_size (hosts), 3);
    assert_string_equal (hosts [0]->uuid, "h-1");
    assert_string_equal (hosts [1]->uuid, "h-2");
    assert_string_equal (hosts [2]->uuid, "h-3");
    xs_host_list_destroy (&hosts);
    hosts = xs_store_host_list (store, "z2", &err);
    assert_int_equal (xs_rows_list_size (hosts), 1);
    assert_int_equal (hosts [0]->state, XS_HOST_DOWN);
    xs_host_list_destroy (&hosts);

    assert_int_equal (xs_store_host_set_state (store, "h-3", XS_HOST_UP, &err), 0);
    assert_int_equal (xs_store_host_touch (store, "h-3", 777, &err), 0);
    got = xs_store_host_get (store, "h-3", &err);
    assert_int_equal (got->state, XS_HOST_UP);
    assert_int_equal (got->last_seen, 777);
    xs_host_destroy (&got);
    int64_t before = xs_store_now_ms ();
    assert_int_equal (xs_store_host_touch (store, "h-3", 0, &err), 0);
    got = xs_store_host_get (store, "h-3", &err);
    assert_true (got->last_seen >= before);
    xs_host_destroy (&got);
    assert_int_equal (xs_store_host_touch (store, "nope", 0, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "host nope: not found");
    assert_int_equal (xs_store_host_set_state (store, "nope", XS_HOST_DOWN, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);

    /* SR reports. */
    const char *caps [] = { "VDI_CREATE", "VDI_DELETE", "VDI_SNAPSHOT" };
    xs_sr_stats_spec_t s = { .host_uuid = "h-1", .backend_id = b1, .attached = true,
                        .has_stats = true, .physical_size = 100LL << 30,
                        .physical_utilisation = 10LL << 30, .virtual_allocation = 20LL << 30,
                        .capabilities = caps, .ncapabilities = 3 };
    assert_int_equal (xs_store_sr_stats_upsert (store, &s, &err), 0);
    s.host_uuid = "h-2";
    s.virtual_allocation = 1;
    assert_int_equal (xs_store_sr_stats_upsert (store, &s, &err), 0);
    s.virtual_allocation = 21LL << 30;          /* replace */
    assert_int_equal (xs_store_sr_stats_upsert (store, &s, &err), 0);
    assert_int_equal (xs_store_sr_set_attached (store, "h-1", b2, false, &err), 0);

    xs_sr_stats_t **stats = xs_store_sr_stats_list (store, b1, NULL, &err);
    assert_int_equal (xs_rows_list_size (stats), 2);
    assert_string_equal (stats [0]->host_uuid, "h-1");
    assert_true (stats [0]->attached);
    assert_true (stats [0]->has_stats);
    assert_int_equal (stats [0]->physical_size, 100LL << 30);
    assert_int_equal (stats [0]->physical_utilisation, 10LL << 30);
    assert_int_equal (stats [0]->ncapabilities, 3);
    assert_string_equal (stats [0]->capabilities [2], "VDI_SNAPSHOT");
    assert_int_equal (stats [1]->virtual_allocation, 21LL << 30);
    assert_true (stats [1]->updated_at > 0);
    xs_sr_stats_list_destroy (&stats);

    stats = xs_store_sr_stats_list (store, 0, "h-1", &err);
    assert_int_equal (xs_rows_list_size (stats), 2);
    assert_int_equal (stats [1]->backend_id, b2);
    assert_false (stats [1]->attached);
    assert_false (stats [1]->has_stats);
    assert_int_equal (stats [1]->ncapabilities, 0);
    xs_sr_stats_list_destroy (&stats);

    /* set_attached keeps the stats already reported. */
    assert_int_equal (xs_store_sr_set_attached (store, "h-1", b1, false, &err), 0);
    stats = xs_store_sr_stats_list (store, b1, "h-1", &err);
    assert_int_equal (xs_rows_list_size (stats), 1);
    assert_false (stats [0]->attached);
    assert_true (stats [0]->has_stats);
    assert_int_equal (stats [0]->physical_size, 100LL << 30);
    xs_sr_stats_list_destroy (&stats);

    /* Unknown host or backend. */
    s.host_uuid = "ghost";
    assert_int_equal (xs_store_sr_stats_upsert (store, &s, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "host ghost: not found");
    s.host_uuid = "h-1";
    s.backend_id = 99;
    assert_int_equal (xs_store_sr_stats_upsert (store, &s, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "backend 99: not found");

    /* Removing a host drops its reports. */
    assert_int_equal (xs_store_host_remove (store, "h-1", &err), 0);
    assert_null (xs_store_host_get (store, "h-1", &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    stats = xs_store_sr_stats_list (store, 0, NULL, &err);
    assert_int_equal (xs_rows_list_size (stats), 1);
    assert_string_equal (stats [0]->host_uuid, "h-2");
    xs_sr_stats_list_destroy (&stats);
    assert_int_equal (xs_store_host_remove (store, "h-1", &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    xs_store_destroy (&store);
}

/* =========================================================================
    Volumes, jobs, attempts
   ========================================================================= */

static void
test_volumes (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    xs_err_t err = { 0 };
    int64_t gold = s_add_flavor (store, "gold");
    int64_t b1 = s_add_backend (store, "gold", "z1");

    xs_volume_spec_t v = { .uuid = "vol-1", .name = "data", .size_bytes = 10LL << 30,
                      .flavor_id = gold, .state = XS_VOLUME_CREATING, .request_id = "req-1" };
    assert_int_equal (xs_store_volume_insert (store, &v, &err), 0);
    xs_volume_t *got = xs_store_volume_get (store, "vol-1", &err);
    assert_non_null (got);
    assert_string_equal (got->name, "data");
    assert_int_equal (got->size_bytes, 10LL << 30);
    assert_int_equal (got->flavor_id, gold);
    assert_int_equal (got->backend_id, 0);
    assert_null (got->vdi_uuid);
    assert_null (got->host_uuid);
    assert_int_equal (got->state, XS_VOLUME_CREATING);
    assert_string_equal (got->request_id, "req-1");
    assert_true (got->created_at > 0);
    assert_int_equal (got->created_at, got->updated_at);
    xs_volume_destroy (&got);

    /* Idempotency key and uuid are unique; NULL request ids are not. */
    got = xs_store_volume_get_by_request_id (store, "req-1", &err);
    assert_string_equal (got->uuid, "vol-1");
    xs_volume_destroy (&got);
    assert_null (xs_store_volume_get_by_request_id (store, "req-2", &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    xs_volume_spec_t dup = v;
    dup.uuid = "vol-2";
    assert_int_equal (xs_store_volume_insert (store, &dup, &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_string_equal (err.msg, "volume request req-1: already used by volume vol-1");
    dup = v;
    dup.request_id = NULL;
    assert_int_equal (xs_store_volume_insert (store, &dup, &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_string_equal (err.msg, "volume vol-1: already exists");
    s_add_volume (store, "vol-2", gold, b1, XS_VOLUME_AVAILABLE, NULL);
    s_add_volume (store, "vol-3", gold, b1, XS_VOLUME_DELETED, NULL);

    /* References must exist. */
    dup = (xs_volume_spec_t) { .uuid = "vol-x", .flavor_id = 77, .state = XS_VOLUME_CREATING };
    assert_int_equal (xs_store_volume_insert (store, &dup, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "volume vol-x: flavor 77 not found");
    dup.flavor_id = gold;
    dup.backend_id = 88;
    assert_int_equal (xs_store_volume_insert (store, &dup, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "volume vol-x: backend 88 not found");
    dup.backend_id = 0;
    dup.size_bytes = -1;
    assert_int_equal (xs_store_volume_insert (store, &dup, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    dup.size_bytes = 1;
    dup.state = (xs_volume_state_t) 17;
    assert_int_equal (xs_store_volume_insert (store, &dup, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);

    /* Update writes the mutable fields. */
    xs_volume_spec_t upd = { .uuid = "vol-1", .name = "data", .state = XS_VOLUME_AVAILABLE,
                             .backend_id = b1, .vdi_uuid = "vdi-1", .host_uuid = "h-1" };
    assert_int_equal (xs_store_volume_update (store, &upd, &err), 0);
    got = xs_store_volume_get (store, "vol-1", &err);
    assert_int_equal (got->state, XS_VOLUME_AVAILABLE);
    assert_int_equal (got->backend_id, b1);
    assert_string_equal (got->vdi_uuid, "vdi-1");
    assert_string_equal (got->host_uuid, "h-1");
    assert_true (got->updated_at >= got->created_at);
    xs_volume_destroy (&got);
    upd.backend_id = 4242;
    assert_int_equal (xs_store_volume_update (store, &upd, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_int_equal (xs_store_volume_set_state (store, "vol-2", XS_VOLUME_ERROR, "boom", &err), 0);
    got = xs_store_volume_get (store, "vol-2", &err);
    assert_int_equal (got->state, XS_VOLUME_ERROR);
    assert_string_equal (got->error, "boom");
    xs_volume_destroy (&got);
    assert_int_equal (xs_store_volume_set_state (store, "nope", XS_VOLUME_ERROR, NULL, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    xs_volume_spec_t ghost = { .uuid = "nope", .state = XS_VOLUME_ERROR };
    assert_int_equal (xs_store_volume_update (store, &ghost, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);

    xs_volume_t **list = xs_store_volume_list (store, false, &err);
    assert_int_equal (xs_rows_list_size (list), 2);
    assert_string_equal (list [0]->uuid, "vol-1");
    assert_string_equal (list [1]->uuid, "vol-2");
    xs_volume_list_destroy (&list);
    list = xs_store_volume_list (store, true, &err);
    assert_int_equal (xs_rows_list_size (list), 3);
    assert_string_equal (list [2]->uuid, "vol-3");
    xs_volume_list_destroy (&list);

    /* A snapshot records its parent. */
    xs_volume_spec_t snap = { .uuid = "vol-4", .size_bytes = 1, .flavor_id = gold,
                         .backend_id = b1, .parent_uuid = "vol-1", .state = XS_VOLUME_CREATING };
    assert_int_equal (xs_store_volume_insert (store, &snap, &err), 0);
    got = xs_store_volume_get (store, "vol-4", &err);
    assert_string_equal (got->parent_uuid, "vol-1");
    xs_volume_destroy (&got);
    xs_store_destroy (&store);
}

static void
test_jobs_and_attempts (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    xs_err_t err = { 0 };
    int64_t gold = s_add_flavor (store, "gold");
    int64_t b1 = s_add_backend (store, "gold", "z1");
    int64_t b2 = s_add_backend (store, "gold", "z1");
    s_add_volume (store, "vol-1", gold, 0, XS_VOLUME_CREATING, NULL);
    s_add_volume (store, "vol-2", gold, 0, XS_VOLUME_CREATING, NULL);

    xs_job_spec_t j = { .volume_uuid = "vol-1", .op = "vdi_create",
                   .args = "{\"size\":1048576}", .state = XS_JOB_PENDING };
    int64_t j1 = xs_store_job_insert (store, &j, &err);
    assert_true (j1 > 0);
    j.volume_uuid = "vol-2";
    int64_t j2 = xs_store_job_insert (store, &j, &err);
    j = (xs_job_spec_t) { .op = "sr_attach", .state = XS_JOB_DISPATCHED, .backend_id = b1,
                     .host_uuid = "h-1" };
    int64_t j3 = xs_store_job_insert (store, &j, &err);
    assert_true (j1 < j2 && j2 < j3);
    j.volume_uuid = "ghost";
    assert_int_equal (xs_store_job_insert (store, &j, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    j = (xs_job_spec_t) { .op = "" };
    assert_int_equal (xs_store_job_insert (store, &j, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);

    xs_job_t **jobs = xs_store_job_list_unfinished (store, &err);
    assert_int_equal (xs_rows_list_size (jobs), 3);
    assert_int_equal (jobs [0]->id, j1);
    assert_string_equal (jobs [0]->args, "{\"size\":1048576}");
    assert_int_equal (jobs [2]->backend_id, b1);
    assert_null (jobs [2]->volume_uuid);
    xs_job_list_destroy (&jobs);

    xs_job_spec_t upd = { .state = XS_JOB_DONE, .backend_id = b2, .host_uuid = "h-2",
                          .result = "{\"vdi_uuid\":\"vdi-1\"}" };
    assert_int_equal (xs_store_job_update (store, j1, &upd, &err), 0);
    xs_job_t *got = xs_store_job_get (store, j1, &err);
    assert_int_equal (got->state, XS_JOB_DONE);
    assert_int_equal (got->backend_id, b2);
    assert_string_equal (got->host_uuid, "h-2");
    assert_string_equal (got->result, "{\"vdi_uuid\":\"vdi-1\"}");
    assert_null (got->error);
    xs_job_destroy (&got);
    upd = (xs_job_spec_t) { .state = XS_JOB_FAILED, .backend_id = b1, .host_uuid = "h-1",
                            .error = "agent lost" };
    assert_int_equal (xs_store_job_update (store, j3, &upd, &err), 0);
    assert_int_equal (xs_store_job_update (store, 999, &upd, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_null (xs_store_job_get (store, 999, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);

    jobs = xs_store_job_list_unfinished (store, &err);
    assert_int_equal (xs_rows_list_size (jobs), 1);
    assert_int_equal (jobs [0]->id, j2);
    xs_job_list_destroy (&jobs);
    jobs = xs_store_job_list_by_volume (store, "vol-1", &err);
    assert_int_equal (xs_rows_list_size (jobs), 1);
    assert_int_equal (jobs [0]->state, XS_JOB_DONE);
    xs_job_list_destroy (&jobs);

    /* Attempts, in the order they were made. */
    xs_attempt_spec_t a = { .volume_uuid = "vol-1", .backend_id = b1,
                       .outcome = XS_ATTEMPT_SKIPPED, .reason = "not enough space" };
    assert_true (xs_store_attempt_insert (store, &a, &err) > 0);
    a = (xs_attempt_spec_t) { .volume_uuid = "vol-1", .backend_id = b2, .host_uuid = "h-2",
                         .outcome = XS_ATTEMPT_FAILED, .reason = "SR_BACKEND_FAILURE_44", .at = 5 };
    assert_true (xs_store_attempt_insert (store, &a, &err) > 0);
    a = (xs_attempt_spec_t) { .volume_uuid = "vol-1", .backend_id = b2, .outcome = XS_ATTEMPT_OK };
    assert_true (xs_store_attempt_insert (store, &a, &err) > 0);
    a.volume_uuid = "ghost";
    assert_int_equal (xs_store_attempt_insert (store, &a, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);

    xs_attempt_t **attempts = xs_store_attempt_list_by_volume (store, "vol-1", &err);
    assert_int_equal (xs_rows_list_size (attempts), 3);
    assert_int_equal (attempts [0]->outcome, XS_ATTEMPT_SKIPPED);
    assert_string_equal (attempts [0]->reason, "not enough space");
    assert_null (attempts [0]->host_uuid);
    assert_int_equal (attempts [1]->outcome, XS_ATTEMPT_FAILED);
    assert_string_equal (attempts [1]->host_uuid, "h-2");
    assert_int_equal (attempts [1]->at, 5);
    assert_int_equal (attempts [2]->outcome, XS_ATTEMPT_OK);
    assert_null (attempts [2]->reason);
    xs_attempt_list_destroy (&attempts);
    attempts = xs_store_attempt_list_by_volume (store, "vol-2", &err);
    assert_int_equal (xs_rows_list_size (attempts), 0);
    xs_attempt_list_destroy (&attempts);

    xs_store_counts_t counts = { 0 };
    assert_int_equal (xs_store_counts (store, &counts, &err), 0);
    assert_int_equal (counts.flavors, 1);
    assert_int_equal (counts.backends, 2);
    assert_int_equal (counts.hosts, 0);
    assert_int_equal (counts.volumes, 2);
    assert_int_equal (counts.volumes_live, 2);
    assert_int_equal (counts.jobs_unfinished, 1);
    xs_store_destroy (&store);
}

/* =========================================================================
    The schema's own constraints (what a raw writer to the file hits)
   ========================================================================= */

static void
test_schema_constraints (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    int64_t gold = s_add_flavor (store, "gold");
    s_add_backend (store, "gold", "z1");
    s_add_volume (store, "v1", gold, 0, XS_VOLUME_AVAILABLE, "r1");
    xs_store_destroy (&store);

    const char *bad [] = {
        "INSERT INTO flavor (label, created_at) VALUES ('gold', 0)",          /* unique   */
        "INSERT INTO flavor (label, created_at) VALUES ('', 0)",
        "DELETE FROM flavor WHERE label = 'gold'",                            /* restrict */
        "INSERT INTO backend (flavor_id, zone, sr_type, created_at) VALUES (99, 'z', 'nfs', 0)",
        "UPDATE backend SET state = 'bogus'",
        "UPDATE backend SET ratio = 0",
        "UPDATE backend SET reserve = 150",
        "INSERT INTO backend_config (backend_id, position, key, value)"
        " VALUES (1, 9, 'server', 'dup')",
        "INSERT INTO host (uuid, zone, state, last_seen, created_at)"
        " VALUES ('h', 'z', 'sideways', 0, 0)",
        "INSERT INTO volume (uuid, size_bytes, flavor_id, state, request_id, created_at,"
        " updated_at) VALUES ('v2', 1, 1, 'available', 'r1', 0, 0)",            /* request  */
        "UPDATE volume SET state = 'melted'",
        "UPDATE volume SET size_bytes = -5",
        "INSERT INTO job (op, state, created_at, updated_at) VALUES ('x', 'lost', 0, 0)",
        "INSERT INTO job (volume_uuid, op, state, created_at, updated_at)"
        " VALUES ('nope', 'x', 'pending', 0, 0)",
        "INSERT INTO attempt (volume_uuid, backend_id, outcome, at) VALUES ('v1', 1, 'meh', 0)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        if (s_raw_exec (fx->path, bad [i]) != SQLITE_CONSTRAINT)
            fail_msg ("the schema accepted: %s", bad [i]);
    /* Several volumes without a request id are fine. */
    assert_int_equal (s_raw_exec (fx->path,
        "INSERT INTO volume (uuid, size_bytes, flavor_id, state, created_at, updated_at)"
        " VALUES ('v3', 1, 1, 'available', 0, 0), ('v4', 1, 1, 'available', 0, 0)"), SQLITE_OK);
    /* Deleting a backend cascades its config. */
    assert_int_equal (s_raw_exec (fx->path, "DELETE FROM backend"), SQLITE_OK);
    assert_int_equal (s_raw_int (fx->path, "SELECT count(*) FROM backend_config"), 0);
}

/* =========================================================================
    Transactions, restart, SQLite errors
   ========================================================================= */

static void
test_transactions (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    xs_err_t err = { 0 };
    assert_false (xs_store_in_transaction (store));
    assert_int_equal (xs_store_commit (store, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_int_equal (xs_store_rollback (store, &err), 0);

    assert_int_equal (xs_store_begin (store, &err), 0);
    assert_int_equal (xs_store_begin (store, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    s_add_flavor (store, "gold");
    s_add_backend (store, "gold", "z1");
    assert_int_equal (xs_store_rollback (store, &err), 0);
    assert_false (xs_store_in_transaction (store));
    assert_null (xs_store_flavor_get (store, "gold", &err));
    assert_int_equal (s_raw_int (fx->path, "SELECT count(*) FROM backend_config"), 0);

    /* A group commit of many creates. */
    int64_t gold = s_add_flavor (store, "gold");
    assert_int_equal (xs_store_begin (store, &err), 0);
    char uuid [64];
    for (int i = 0; i < 500; i++) {
        snprintf (uuid, sizeof uuid, "vol-%04d", i);
        s_add_volume (store, uuid, gold, 0, XS_VOLUME_CREATING, uuid);
    }
    /* Not visible to another connection before the commit. */
    assert_int_equal (s_raw_int (fx->path, "SELECT count(*) FROM volume"), 0);
    assert_int_equal (xs_store_commit (store, &err), 0);
    assert_int_equal (s_raw_int (fx->path, "SELECT count(*) FROM volume"), 500);

    /* Closing with a transaction open rolls it back. */
    assert_int_equal (xs_store_begin (store, &err), 0);
    s_add_flavor (store, "ghost");
    xs_store_destroy (&store);
    store = s_open (fx);
    assert_null (xs_store_flavor_get (store, "ghost", &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    xs_store_destroy (&store);
}

static void
test_restart_keeps_everything (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    xs_err_t err = { 0 };
    int64_t gold = s_add_flavor (store, "gold");
    int64_t b1 = s_add_backend (store, "gold", "z1");
    xs_host_spec_t h = { .uuid = "h-1", .zone = "z1" };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), 0);
    assert_int_equal (xs_store_sr_set_attached (store, "h-1", b1, true, &err), 0);
    s_add_volume (store, "vol-1", gold, b1, XS_VOLUME_AVAILABLE, "r-1");
    xs_job_spec_t j = { .volume_uuid = "vol-1", .op = "vdi_create", .state = XS_JOB_DISPATCHED };
    assert_true (xs_store_job_insert (store, &j, &err) > 0);
    xs_attempt_spec_t a = { .volume_uuid = "vol-1", .backend_id = b1, .outcome = XS_ATTEMPT_OK };
    assert_true (xs_store_attempt_insert (store, &a, &err) > 0);
    xs_store_destroy (&store);

    store = s_open (fx);
    xs_store_counts_t c = { 0 };
    assert_int_equal (xs_store_counts (store, &c, &err), 0);
    assert_int_equal (c.flavors, 1);
    assert_int_equal (c.backends, 1);
    assert_int_equal (c.hosts, 1);
    assert_int_equal (c.hosts_up, 1);
    assert_int_equal (c.volumes, 1);
    assert_int_equal (c.volumes_live, 1);
    assert_int_equal (c.jobs_unfinished, 1);
    xs_volume_t *v = xs_store_volume_get_by_request_id (store, "r-1", &err);
    assert_string_equal (v->uuid, "vol-1");
    xs_volume_destroy (&v);
    xs_sr_stats_t **s = xs_store_sr_stats_list (store, b1, "h-1", &err);
    assert_int_equal (xs_rows_list_size (s), 1);
    assert_true (s [0]->attached);
    xs_sr_stats_list_destroy (&s);
    xs_attempt_t **al = xs_store_attempt_list_by_volume (store, "vol-1", &err);
    assert_int_equal (xs_rows_list_size (al), 1);
    xs_attempt_list_destroy (&al);
    xs_store_destroy (&store);
}

static void
test_locked_database_error_loses_nothing (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    xs_err_t err = { 0 };
    s_add_flavor (store, "gold");
    xs_store_set_busy_timeout (store, 50);

    /* Another writer (say, an admin's sqlite3 shell) holds the write lock. */
    sqlite3 *other = NULL;
    assert_int_equal (sqlite3_open_v2 (fx->path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_exec (other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    assert_int_equal (xs_store_flavor_create (store, "silver", NULL, &err), -1);
    assert_int_equal (err.kind, XS_EIO);
    assert_non_null (strstr (err.msg, fx->path));
    assert_non_null (strstr (err.msg, "database is locked"));
    assert_non_null (strstr (err.msg, "flavor silver"));
    print_message ("locked: %s\n", err.msg);
    assert_int_equal (xs_store_begin (store, &err), -1);
    assert_int_equal (err.kind, XS_EIO);
    assert_false (xs_store_in_transaction (store));
    xs_backend_spec_t spec = { .flavor_label = "gold", .zone = "z", .sr_type = "nfs" };
    assert_int_equal (xs_store_backend_add (store, &spec, &err), -1);
    assert_int_equal (err.kind, XS_EIO);
    /* Reads still work under WAL. */
    xs_flavor_t *f = xs_store_flavor_get (store, "gold", &err);
    assert_non_null (f);
    xs_flavor_destroy (&f);

    assert_int_equal (sqlite3_exec (other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (other);
    assert_true (xs_store_flavor_create (store, "silver", NULL, &err) > 0);
    assert_true (xs_store_backend_add (store, &spec, &err) > 0);
    xs_flavor_t **list = xs_store_flavor_list (store, &err);
    assert_int_equal (xs_rows_list_size (list), 2);
    xs_flavor_list_destroy (&list);
    xs_store_destroy (&store);
}

static void
test_state_names (void **state)
{
    xs_err_t err = { 0 };
    for (int s = XS_VOLUME_CREATING; s <= XS_VOLUME_ERROR_DELETING; s++) {
        xs_volume_state_t back;
        assert_int_equal (xs_volume_state_from_name (xs_volume_state_name (s), &back, &err), 0);
        assert_int_equal (back, s);
    }
    assert_string_equal (xs_volume_state_name (XS_VOLUME_ERROR_DELETING), "error_deleting");
    assert_string_equal (xs_backend_state_name (XS_BACKEND_DRAINING), "draining");
    assert_string_equal (xs_host_state_name (XS_HOST_DOWN), "down");
    assert_string_equal (xs_job_state_name (XS_JOB_DISPATCHED), "dispatched");
    assert_string_equal (xs_attempt_outcome_name (XS_ATTEMPT_SKIPPED), "skipped");
    assert_string_equal (xs_backend_state_name ((xs_backend_state_t) 9), "?");
    xs_backend_state_t b;
    assert_int_equal (xs_backend_state_from_name ("attached", &b, &err), 0);
    assert_int_equal (b, XS_BACKEND_ATTACHED);
    assert_int_equal (xs_backend_state_from_name ("Attached", &b, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    xs_host_state_t h;
    assert_int_equal (xs_host_state_from_name (NULL, &h, &err), -1);
    xs_job_state_t j;
    assert_int_equal (xs_job_state_from_name ("failed", &j, &err), 0);
    assert_int_equal (j, XS_JOB_FAILED);
    assert_true (xs_volume_state_is_live (XS_VOLUME_ERROR));
    assert_false (xs_volume_state_is_live (XS_VOLUME_DELETED));
    assert_int_equal (xs_rows_list_size (NULL), 0);
}

/* =========================================================================
    Fault injection (SQLite's way): a VFS that passes everything to the
    real one but fails the Nth write, sync or truncate. For N = 1, 2, ...
    until the operation completes, each failure must come back as an error
    and leave the database all-or-nothing, with nothing older lost.
   ========================================================================= */

typedef struct {
    sqlite3_file base;
    sqlite3_file *real;
} s_ffile_t;

static sqlite3_vfs *s_real_vfs;
static sqlite3_vfs s_fault_vfs;
static int s_fail_at;                   /* 0 = never                      */
static int s_io_count;

static bool
s_fault (void)
{
    return s_fail_at > 0 && ++s_io_count == s_fail_at;
}

#define S_REAL(f) (((s_ffile_t *) (f))->real)

static int
s_f_close (sqlite3_file *f)
{
    sqlite3_file *real = S_REAL (f);
    int rc = real->pMethods ? real->pMethods->xClose (real) : SQLITE_OK;
    free (real);
    return rc;
}
static int
s_f_read (sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{ return S_REAL (f)->pMethods->xRead (S_REAL (f), buf, n, off); }
static int
s_f_write (sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{ return s_fault () ? SQLITE_IOERR_WRITE : S_REAL (f)->pMethods->xWrite (S_REAL (f), buf, n, off); }
static int
s_f_truncate (sqlite3_file *f, sqlite3_int64 size)
{ return s_fault () ? SQLITE_IOERR_TRUNCATE : S_REAL (f)->pMethods->xTruncate (S_REAL (f), size); }
static int
s_f_sync (sqlite3_file *f, int flags)
{ return s_fault () ? SQLITE_IOERR_FSYNC : S_REAL (f)->pMethods->xSync (S_REAL (f), flags); }
static int
s_f_size (sqlite3_file *f, sqlite3_int64 *size)
{ return S_REAL (f)->pMethods->xFileSize (S_REAL (f), size); }
static int
s_f_lock (sqlite3_file *f, int l) { return S_REAL (f)->pMethods->xLock (S_REAL (f), l); }
static int
s_f_unlock (sqlite3_file *f, int l) { return S_REAL (f)->pMethods->xUnlock (S_REAL (f), l); }
static int
s_f_reserved (sqlite3_file *f, int *out)
{ return S_REAL (f)->pMethods->xCheckReservedLock (S_REAL (f), out); }
static int
s_f_control (sqlite3_file *f, int op, void *arg)
{ return S_REAL (f)->pMethods->xFileControl (S_REAL (f), op, arg); }
static int
s_f_sector (sqlite3_file *f) { return S_REAL (f)->pMethods->xSectorSize (S_REAL (f)); }
static int
s_f_device (sqlite3_file *f) { return S_REAL (f)->pMethods->xDeviceCharacteristics (S_REAL (f)); }
static int
s_f_shm_map (sqlite3_file *f, int i, int size, int extend, void volatile **p)
{ return S_REAL (f)->pMethods->xShmMap (S_REAL (f), i, size, extend, p); }
static int
s_f_shm_lock (sqlite3_file *f, int off, int n, int flags)
{ return S_REAL (f)->pMethods->xShmLock (S_REAL (f), off, n, flags); }
static void
s_f_shm_barrier (sqlite3_file *f) { S_REAL (f)->pMethods->xShmBarrier (S_REAL (f)); }
static int
s_f_shm_unmap (sqlite3_file *f, int del) { return S_REAL (f)->pMethods->xShmUnmap (S_REAL (f), del); }

static const sqlite3_io_methods s_fault_io = {
    .iVersion = 2, .xClose = s_f_close, .xRead = s_f_read, .xWrite = s_f_write,
    .xTruncate = s_f_truncate, .xSync = s_f_sync, .xFileSize = s_f_size, .xLock = s_f_lock,
    .xUnlock = s_f_unlock, .xCheckReservedLock = s_f_reserved, .xFileControl = s_f_control,
    .xSectorSize = s_f_sector, .xDeviceCharacteristics = s_f_device, .xShmMap = s_f_shm_map,
    .xShmLock = s_f_shm_lock, .xShmBarrier = s_f_shm_barrier, .xShmUnmap = s_f_shm_unmap,
};

static int
s_fault_open (sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    s_ffile_t *ff = (s_ffile_t *) f;
    ff->base.pMethods = NULL;
    ff->real = calloc (1, (size_t) s_real_vfs->szOsFile);
    int rc = s_real_vfs->xOpen (s_real_vfs, name, ff->real, flags, out_flags);
    if (rc != SQLITE_OK || !ff->real->pMethods) {
        free (ff->real);
        ff->real = NULL;
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    ff->base.pMethods = &s_fault_io;
    return SQLITE_OK;
}

/* Makes the fault VFS the default (xs_store opens with the default). */
static void
s_fault_vfs_install (void)
{
    s_real_vfs = sqlite3_vfs_find (NULL);
    assert_non_null (s_real_vfs);
    s_fault_vfs = *s_real_vfs;
    s_fault_vfs.iVersion = 3;
    s_fault_vfs.zName = "xs-fault";
    s_fault_vfs.szOsFile = (int) sizeof (s_ffile_t);
    s_fault_vfs.xOpen = s_fault_open;
    s_fault_vfs.pNext = NULL;
    assert_int_equal (sqlite3_vfs_register (&s_fault_vfs, 1), SQLITE_OK);
    s_fail_at = 0;
}

static void
s_fault_vfs_remove (void)
{
    sqlite3_vfs_unregister (&s_fault_vfs);
    sqlite3_vfs_register (s_real_vfs, 1);
}

/* Checks the database holds flavor gold and either no backend or backend
   `b` with all three config keys; returns how many backends there are. */
static int64_t
s_check_all_or_nothing (xs_store_t *store)
{
    xs_err_t err = { 0 };
    xs_flavor_t *gold = xs_store_flavor_get (store, "gold", &err);
    if (!gold)
        fail_msg ("older data lost: %s", err.msg);
    xs_flavor_destroy (&gold);
    xs_backend_t **list = xs_store_backend_list (store, &err);
    if (!list)
        fail_msg ("backend list: %s", err.msg);
    size_t n = xs_rows_list_size (list);
    assert_true (n <= 1);
    if (n == 1) {
        assert_int_equal (list [0]->nconfig, 3);
        assert_string_equal (xs_backend_config_get (list [0], "options"), "a=b c");
    }
    xs_backend_list_destroy (&list);
    return (int64_t) n;
}

static void
test_io_faults_are_all_or_nothing (void **state)
{
    fixture_t *fx = *state;
    s_fault_vfs_install ();
    xs_store_t *store = s_open (fx);
    s_add_flavor (store, "gold");
    xs_store_destroy (&store);

    xs_kv_spec_t config [] = { { "server", "s" }, { "serverpath", "/p" }, { "options", "a=b c" } };
    xs_backend_spec_t spec = { .flavor_label = "gold", .zone = "z", .sr_type = "nfs",
                          .config = config, .nconfig = 3 };
    int faults = 0, durable = 0;
    for (int n = 1; n < 200; n++) {
        store = s_open (fx);
        xs_err_t err = { 0 };
        s_io_count = 0;
        s_fail_at = n;
        int64_t id = xs_store_backend_add (store, &spec, &err);
        s_fail_at = 0;
        if (id > 0) {
            assert_int_equal (s_check_all_or_nothing (store), 1);
            xs_store_destroy (&store);
            break;
        }
        faults++;
        assert_int_equal (err.kind, XS_EIO);
        assert_non_null (strstr (err.msg, fx->path));
        /* In this session and after a restart (WAL recovery): never half. */
        int64_t now = s_check_all_or_nothing (store);
        xs_store_destroy (&store);
        store = s_open (fx);
        int64_t after = s_check_all_or_nothing (store);
        assert_true (after >= now);
        if (after == 1) {
            /* The commit reached the disk though its sync "failed": fine,
               and complete. Start from no backend again. */
            durable++;
            xs_backend_t **list = xs_store_backend_list (store, &err);
            assert_int_equal (xs_store_backend_remove (store, list [0]->id, &err), 0);
            xs_backend_list_destroy (&list);
        }
        xs_store_destroy (&store);
    }
    assert_true (faults > 0);

    /* The same for a group commit of 100 volumes. */
    int64_t gold_id = 1;
    int group_faults = 0;
    for (int n = 1; n < 200; n++) {
        store = s_open (fx);
        xs_err_t err = { 0 };
        char uuid [32];
        int rc = xs_store_begin (store, &err);
        for (int i = 0; rc == 0 && i < 100; i++) {
            snprintf (uuid, sizeof uuid, "g%d-v%d", n, i);
            xs_volume_spec_t v = { .uuid = uuid, .size_bytes = 1, .flavor_id = gold_id,
                              .state = XS_VOLUME_CREATING };
            rc = xs_store_volume_insert (store, &v, &err);
        }
        s_io_count = 0;
        s_fail_at = n;
        if (rc == 0)
            rc = xs_store_commit (store, &err);
        s_fail_at = 0;
        xs_store_rollback (store, NULL);
        xs_store_destroy (&store);
        store = s_open (fx);
        xs_store_counts_t c = { 0 };
        assert_int_equal (xs_store_counts (store, &c, &err), 0);
        assert_true (c.volumes % 100 == 0);        /* whole batches only */
        s_check_all_or_nothing (store);
        xs_store_destroy (&store);
        if (rc == 0)
            break;
        group_faults++;
        assert_int_equal (err.kind, XS_EIO);
    }
    assert_true (group_faults > 0);
    print_message ("fault injection: backend_add failed cleanly at %d I/O points "
                   "(%d of them found complete after restart), a 100-volume commit "
                   "at %d\n", faults, durable, group_faults);
    s_fault_vfs_remove ();
}

/* Group-committed creates: the rate is printed for the record. */
static void
test_create_rate (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = s_open (fx);
    xs_err_t err = { 0 };
    int64_t gold = s_add_flavor (store, "gold");
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    const int batches = 20, per_batch = 250;
    char uuid [64];
    for (int b = 0; b < batches; b++) {
        assert_int_equal (xs_store_begin (store, &err), 0);
        for (int i = 0; i < per_batch; i++) {
            snprintf (uuid, sizeof uuid, "v-%d-%d", b, i);
            s_add_volume (store, uuid, gold, 0, XS_VOLUME_CREATING, uuid);
            xs_job_spec_t j = { .volume_uuid = uuid, .op = "vdi_create", .state = XS_JOB_PENDING };
            assert_true (xs_store_job_insert (store, &j, &err) > 0);
        }
        assert_int_equal (xs_store_commit (store, &err), 0);
    }
    clock_gettime (CLOCK_MONOTONIC, &t1);
    double secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    int total = batches * per_batch;
    print_message ("store: %d volume+job creates in %d commits: %.3f s (%.0f/s)\n",
                   total, batches, secs, total / secs);
    xs_store_counts_t c = { 0 };
    assert_int_equal (xs_store_counts (store, &c, &err), 0);
    assert_int_equal (c.volumes, total);
    assert_int_equal (c.jobs_unfinished, total);
    xs_store_destroy (&store);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_new_file_is_0600_with_sidecars, setup, teardown),
        cmocka_unit_test_setup_teardown (test_existing_lax_file_is_tightened, setup, teardown),
        cmocka_unit_test_setup_teardown (test_migrate_empty_file_to_current, setup, teardown),
        cmocka_unit_test_setup_teardown (test_newer_schema_is_refused_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown (test_foreign_sqlite_database_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown (test_garbage_file_is_refused_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown (test_corrupt_file_gives_clear_error, setup, teardown),
        cmocka_unit_test_setup_teardown (test_second_open_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown (test_unusable_paths, setup, teardown),
        cmocka_unit_test_setup_teardown (test_flavors, setup, teardown),
        cmocka_unit_test_setup_teardown (test_backend_config_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown (test_backend_add_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown (test_backend_add_failure_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown (test_backend_lists_and_state, setup, teardown),
        cmocka_unit_test_setup_teardown (test_backend_remove, setup, teardown),
        cmocka_unit_test_setup_teardown (test_hosts_and_sr_stats, setup, teardown),
        cmocka_unit_test_setup_teardown (test_volumes, setup, teardown),
        cmocka_unit_test_setup_teardown (test_jobs_and_attempts, setup, teardown),
        cmocka_unit_test_setup_teardown (test_schema_constraints, setup, teardown),
        cmocka_unit_test_setup_teardown (test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown (test_restart_keeps_everything, setup, teardown),
        cmocka_unit_test_setup_teardown (test_locked_database_error_loses_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown (test_io_faults_are_all_or_nothing, setup, teardown),
        cmocka_unit_test (test_state_names),
        cmocka_unit_test_setup_teardown (test_create_rate, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
