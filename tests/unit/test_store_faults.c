/*  Fault injection, SQLite's way (test/malloc_common.tcl): a VFS that
    passes everything to the real one but fails the Nth write, sync or
    truncate. For N = 1, 2, ... until the operation completes, each failure
    must come back as an error and leave the database all-or-nothing, with
    nothing older lost, in this session and after a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"

/* ---------------------------------------------------------------------
   The fault VFS
   --------------------------------------------------------------------- */

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
s_f_shm_unmap (sqlite3_file *f, int del)
{ return S_REAL (f)->pMethods->xShmUnmap (S_REAL (f), del); }

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

/* ---------------------------------------------------------------------
   The loops
   --------------------------------------------------------------------- */

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
test_io_faults_backend_add (void **state)
{
    fixture_t *fx = *state;
    s_fault_vfs_install ();
    xs_store_t *store = fx_open (fx);
    fx_add_flavor (store, "gold");
    xs_store_destroy (&store);

    xs_kv_spec_t config [] = { { "server", "s" }, { "serverpath", "/p" }, { "options", "a=b c" } };
    xs_backend_spec_t spec = { .flavor_label = "gold", .zone = "z", .sr_type = "nfs",
                               .config = config, .nconfig = 3 };
    int faults = 0, durable = 0;
    for (int n = 1; n < 200; n++) {
        store = fx_open (fx);
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
        store = fx_open (fx);
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
    print_message ("fault injection: backend_add failed cleanly at %d I/O points "
                   "(%d of them found complete after restart)\n", faults, durable);
    s_fault_vfs_remove ();
}

static void
test_io_faults_group_commit (void **state)
{
    fixture_t *fx = *state;
    s_fault_vfs_install ();
    xs_store_t *store = fx_open (fx);
    fx_add_flavor (store, "gold");
    xs_store_destroy (&store);

    /* A group commit of 100 volumes. */
    int64_t gold_id = 1;
    int group_faults = 0;
    for (int n = 1; n < 200; n++) {
        store = fx_open (fx);
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
        store = fx_open (fx);
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
    print_message ("fault injection: a 100-volume commit failed cleanly at %d I/O points\n",
                   group_faults);
    s_fault_vfs_remove ();
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        FX_TEST (test_io_faults_backend_add),
        FX_TEST (test_io_faults_group_commit),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
