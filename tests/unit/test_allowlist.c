/*  Unit tests for xs_allowlist: one source of truth for the agent keys the
    catalog admits (the directory, read as zauth reads it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "catalog/server/xs_allowlist.h"

typedef struct {
    char dir [64];
    char keys [128];
    xs_allowlist_t *list;
} s_fx_t;

static int
s_setup (void **state)
{
    s_fx_t *f = calloc (1, sizeof *f);
    strcpy (f->dir, "/tmp/xs_allowlist_testXXXXXX");
    assert_non_null (mkdtemp (f->dir));
    snprintf (f->keys, sizeof f->keys, "%s/agents", f->dir);
    xs_err_t err;
    f->list = xs_allowlist_new (f->keys, &err);
    assert_non_null (f->list);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fx_t *f = *state;
    xs_allowlist_destroy (&f->list);
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal (system (cmd), 0);
    free (f);
    return 0;
}

static size_t
s_count_keys (xs_allowlist_t *list)
{
    zlist_t *keys = xs_allowlist_keys (list);
    size_t n = zlist_size (keys);
    zlist_destroy (&keys);
    return n;
}

static void
test_enroll_admit_remove (void **state)
{
    s_fx_t *f = *state;
    zcert_t *c = zcert_new ();
    const char *key = zcert_public_txt (c);
    assert_false (xs_allowlist_admits (f->list, key));
    xs_err_t err;
    char *got = xs_allowlist_enroll (f->list, key, &err);
    assert_non_null (got);
    assert_string_equal (got, key);
    free (got);
    assert_true (xs_allowlist_admits (f->list, key));
    assert_int_equal (s_count_keys (f->list), 1);
    assert_int_equal (xs_allowlist_remove (f->list, key, &err), 1);
    assert_false (xs_allowlist_admits (f->list, key));
    assert_int_equal (xs_allowlist_remove (f->list, key, &err), 0);
    /* Garbage is refused, clearly. */
    assert_null (xs_allowlist_enroll (f->list, "not a key", &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_false (xs_allowlist_admits (f->list, NULL));
    assert_false (xs_allowlist_admits (f->list, "short"));
    zcert_destroy (&c);
}

/* The same rule as zauth's: a certificate under any name counts; files
   that are not certificates do not. */
static void
test_any_certificate_file_counts (void **state)
{
    s_fx_t *f = *state;
    zcert_t *c = zcert_new ();
    char path [256];
    snprintf (path, sizeof path, "%s/copied-by-hand.txt", f->keys);
    assert_int_equal (zcert_save_public (c, path), 0);
    snprintf (path, sizeof path, "%s/README", f->keys);
    FILE *junk = fopen (path, "w");
    assert_non_null (junk);
    fputs ("not a certificate\n", junk);
    fclose (junk);
    assert_true (xs_allowlist_admits (f->list, zcert_public_txt (c)));
    assert_int_equal (s_count_keys (f->list), 1);
    /* Enrolled as well: listed once, and removing it removes both files. */
    xs_err_t err;
    char *got = xs_allowlist_enroll (f->list, zcert_public_txt (c), &err);
    free (got);
    assert_int_equal (s_count_keys (f->list), 1);
    assert_int_equal (xs_allowlist_remove (f->list, zcert_public_txt (c), &err), 1);
    assert_false (xs_allowlist_admits (f->list, zcert_public_txt (c)));
    assert_int_equal (s_count_keys (f->list), 0);
    zcert_destroy (&c);
}

/* Sets the keys directory's mtime to `at` (UTIME_NOW: now). */
static void
s_dir_mtime (s_fx_t *f, struct timespec at)
{
    struct timespec times [2] = {at, at};
    assert_int_equal (utimensat (AT_FDCWD, f->keys, times, 0), 0);
}

static struct timespec
s_dir_mtime_get (s_fx_t *f)
{
    struct stat st;
    assert_int_equal (stat (f->keys, &st), 0);
    return st.st_mtim;
}

/* Register asks for every agent's key: the directory is read again only
   when it changed, yet an enroll or a remove is seen at once, and so is a
   file added within the same mtime tick as the last read when that read
   was of a directory changed less than 2 s before. */
static void
test_admits_after_every_change (void **state)
{
    s_fx_t *f = *state;
    zcert_t *a = zcert_new (), *b = zcert_new (), *c = zcert_new ();
    xs_err_t err;
    free (xs_allowlist_enroll (f->list, zcert_public_txt (a), &err));
    s_dir_mtime (f, (struct timespec) {time (NULL) - 60, 0});
    assert_true (xs_allowlist_admits (f->list, zcert_public_txt (a)));
    assert_false (xs_allowlist_admits (f->list, zcert_public_txt (b)));
    free (xs_allowlist_enroll (f->list, zcert_public_txt (b), &err));
    assert_true (xs_allowlist_admits (f->list, zcert_public_txt (b)));
    assert_int_equal (xs_allowlist_remove (f->list, zcert_public_txt (a), &err), 1);
    assert_false (xs_allowlist_admits (f->list, zcert_public_txt (a)));
    /* Same tick: a file copied in by hand, the mtime put back as read. */
    s_dir_mtime (f, (struct timespec) {0, UTIME_NOW});
    struct timespec read_at = s_dir_mtime_get (f);
    assert_false (xs_allowlist_admits (f->list, zcert_public_txt (c)));
    char path [256];
    snprintf (path, sizeof path, "%s/by-hand", f->keys);
    assert_int_equal (zcert_save_public (c, path), 0);
    s_dir_mtime (f, read_at);
    assert_true (xs_allowlist_admits (f->list, zcert_public_txt (c)));
    /* And an old directory whose file goes away by hand. */
    s_dir_mtime (f, (struct timespec) {time (NULL) - 30, 0});
    assert_true (xs_allowlist_admits (f->list, zcert_public_txt (c)));
    assert_int_equal (unlink (path), 0);
    assert_false (xs_allowlist_admits (f->list, zcert_public_txt (c)));
    assert_true (xs_allowlist_admits (f->list, zcert_public_txt (b)));
    zcert_destroy (&a);
    zcert_destroy (&b);
    zcert_destroy (&c);
}

static void
test_parse_key (void **state)
{
    zcert_t *c = zcert_new ();
    char text [256];
    snprintf (text, sizeof text, "  %s\n", zcert_public_txt (c));
    char *key = xs_allowlist_parse_key (text);
    assert_string_equal (key, zcert_public_txt (c));
    free (key);
    snprintf (text, sizeof text, "curve\n    public-key = \"%s\"\n", zcert_public_txt (c));
    key = xs_allowlist_parse_key (text);
    assert_string_equal (key, zcert_public_txt (c));
    free (key);
    assert_null (xs_allowlist_parse_key (""));
    assert_null (xs_allowlist_parse_key ("~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"));
    zcert_destroy (&c);
}

static void
test_bad_directory (void **state)
{
    xs_err_t err;
    assert_null (xs_allowlist_new ("/proc/no/such/place", &err));
    assert_non_null (strstr (err.msg, "/proc/no/such/place"));
    assert_null (xs_allowlist_new (NULL, &err));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_enroll_admit_remove, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_any_certificate_file_counts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_admits_after_every_change, s_setup, s_teardown),
        cmocka_unit_test (test_parse_key),
        cmocka_unit_test (test_bad_directory),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
