/*  Unit tests for xs_srtype, SR-type validation of backend_add arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/xs_srtype.h"

static xs_kvlist_t *
s_args (const char *first, ...)
{
    xs_kvlist_t *kv = xs_kvlist_new ();
    va_list ap;
    va_start (ap, first);
    for (const char *arg = first; arg; arg = va_arg (ap, const char *))
        assert_int_equal (xs_kvlist_parse (kv, arg, NULL), 0);
    va_end (ap);
    return kv;
}

static void
test_table_matches_design (void **state)
{
    const xs_srtype_t *nfs = xs_srtype_find ("nfs");
    assert_non_null (nfs);
    assert_string_equal (nfs->required [0], "server");
    assert_string_equal (nfs->required [1], "serverpath");
    assert_null (nfs->required [2]);
    assert_true (nfs->shared);
    assert_true (nfs->clone_snapshot);

    const xs_srtype_t *iscsi = xs_srtype_find ("iscsi");
    assert_non_null (iscsi);
    assert_false (iscsi->clone_snapshot);
    assert_false (xs_srtype_find ("hba")->clone_snapshot);
    assert_null (xs_srtype_find ("hba")->required [0]);
    assert_false (xs_srtype_find ("ext")->shared);
    assert_false (xs_srtype_find ("lvm")->shared);
    assert_false (xs_srtype_find ("file")->shared);
    assert_true (xs_srtype_find ("smb")->shared);
    /* LUN-per-VDI drivers (RawISCSISR, RawHBASR) cannot create VDIs. */
    assert_true (iscsi->lun_per_vdi);
    assert_true (xs_srtype_find ("hba")->lun_per_vdi);
    assert_false (nfs->lun_per_vdi);
    assert_false (xs_srtype_find ("lvmoiscsi")->lun_per_vdi);
    assert_null (xs_srtype_find ("NFS"));
    assert_null (xs_srtype_find ("zfs"));
    assert_null (xs_srtype_find (NULL));

    const char *names [] = { "nfs", "lvmoiscsi", "lvmohba", "iscsi", "hba", "netapp",
                             "equal", "smb", "ext", "lvm", "file" };
    assert_int_equal (xs_srtype_count (), sizeof names / sizeof names [0]);
    for (size_t i = 0; i < xs_srtype_count (); i++)
        assert_string_equal (xs_srtype_at (i)->name, names [i]);
    assert_null (xs_srtype_at (xs_srtype_count ()));
}

/* SMBSR requires only server and mounts as guest without credentials
   (xapi-project/sm drivers/SMBSR.py load, getMountOptions). */
static void
test_smb_needs_only_server (void **state)
{
    xs_kvlist_t *args = s_args ("server=//filer/share", NULL);
    xs_kvlist_t *dc = NULL;
    xs_err_t err;
    if (xs_srtype_split ("smb", args, &dc, NULL, &err) != 0)
        fail_msg ("smb with only server: %s", err.msg);
    xs_kvlist_destroy (&dc);
    xs_kvlist_destroy (&args);
    args = s_args ("server=//filer/share", "username=u", "password=p", NULL);
    assert_int_equal (xs_srtype_split ("smb", args, &dc, NULL, &err), 0);
    xs_kvlist_destroy (&dc);
    xs_kvlist_destroy (&args);
}

static void
test_seed_example_splits_settings (void **state)
{
    xs_kvlist_t *args = s_args ("name_label=toybox-renuka", "server=myserver",
                            "serverpath=/local/scratch/myname", "zone=z1",
                            "ratio=1.5", "reserve=10", NULL);
    xs_kvlist_t *config = NULL, *settings = NULL;
    xs_err_t err;
    assert_int_equal (xs_srtype_split ("nfs", args, &config, &settings, &err), 0);
    assert_int_equal (xs_kvlist_size (config), 2);
    assert_string_equal (xs_kvlist_get (config, "server"), "myserver");
    assert_string_equal (xs_kvlist_get (config, "serverpath"), "/local/scratch/myname");
    assert_null (xs_kvlist_get (config, "name_label"));
    assert_int_equal (xs_kvlist_size (settings), 4);
    assert_string_equal (xs_kvlist_get (settings, "name_label"), "toybox-renuka");
    assert_string_equal (xs_kvlist_get (settings, "zone"), "z1");
    assert_string_equal (xs_kvlist_get (settings, "ratio"), "1.5");
    xs_kvlist_destroy (&config);
    xs_kvlist_destroy (&settings);
    xs_kvlist_destroy (&args);
}

static void
test_unknown_type_lists_known (void **state)
{
    xs_kvlist_t *args = s_args ("server=x", NULL);
    xs_kvlist_t *config = NULL;
    xs_err_t err;
    assert_int_equal (xs_srtype_split ("zfs", args, &config, NULL, &err), -1);
    assert_null (config);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "'zfs'"));
    for (size_t i = 0; i < xs_srtype_count (); i++)
        assert_non_null (strstr (err.msg, xs_srtype_at (i)->name));
    char *known = xs_srtype_known_list ();
    assert_non_null (strstr (err.msg, known));
    assert_string_equal (known, "nfs, lvmoiscsi, lvmohba, iscsi, hba, netapp, equal, smb, ext, lvm, file");
    free (known);
    xs_kvlist_destroy (&args);
}

static void
test_missing_keys_named (void **state)
{
    xs_kvlist_t *args = s_args ("name_label=x", "target=10.0.0.1", NULL);
    xs_err_t err;
    assert_int_equal (xs_srtype_split ("lvmoiscsi", args, NULL, NULL, &err), -1);
    assert_non_null (strstr (err.msg, "lvmoiscsi"));
    assert_non_null (strstr (err.msg, "missing required key(s) targetIQN, SCSIid"));
    xs_kvlist_destroy (&args);

    args = s_args ("server=myserver", NULL);
    assert_int_equal (xs_srtype_split ("nfs", args, NULL, NULL, &err), -1);
    assert_non_null (strstr (err.msg, "serverpath"));
    xs_kvlist_destroy (&args);

    /* hba needs nothing. */
    args = s_args ("name_label=h", NULL);
    xs_kvlist_t *config = NULL;
    assert_int_equal (xs_srtype_split ("hba", args, &config, NULL, &err), 0);
    assert_int_equal (xs_kvlist_size (config), 0);
    xs_kvlist_destroy (&config);
    xs_kvlist_destroy (&args);
}

static void
test_unknown_keys_refused (void **state)
{
    xs_kvlist_t *args = s_args ("server=a", "serverpath=/b", "nfsvers=4", NULL);
    xs_err_t err;
    assert_int_equal (xs_srtype_split ("nfs", args, NULL, NULL, &err), -1);
    assert_non_null (strstr (err.msg, "unknown key(s) nfsvers"));
    assert_non_null (strstr (err.msg, "nfsversion"));
    assert_non_null (strstr (err.msg, "name_label"));
    xs_kvlist_destroy (&args);

    /* Optional keys pass. */
    args = s_args ("target=t", "targetIQN=iqn.x", "SCSIid=36", "chappassword=pw",
                   "port=3260", NULL);
    xs_kvlist_t *config = NULL;
    assert_int_equal (xs_srtype_split ("lvmoiscsi", args, &config, NULL, &err), 0);
    assert_string_equal (xs_kvlist_get (config, "chappassword"), "pw");
    xs_kvlist_destroy (&config);
    xs_kvlist_destroy (&args);
}

static void
test_settings_checked (void **state)
{
    xs_err_t err;
    const char *bad [] = { "sr_uuid=not-a-uuid", "sr_uuid=0123456789abcdef", "ratio=0",
                           "ratio=-1", "ratio=abc", "ratio=1e999", "reserve=100",
                           "reserve=-5", "reserve=ten", "zone=", "name_label=" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        xs_kvlist_t *args = s_args ("server=a", "serverpath=/b", bad [i], NULL);
        assert_int_equal (xs_srtype_split ("nfs", args, NULL, NULL, &err), -1);
        char key [32];
        size_t len = strcspn (bad [i], "=");
        memcpy (key, bad [i], len);
        key [len] = '\0';
        assert_non_null (strstr (err.msg, key));
        xs_kvlist_destroy (&args);
    }
    xs_kvlist_t *args = s_args ("server=a", "serverpath=/b",
                            "sr_uuid=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
                            "ratio=2", "reserve=0", NULL);
    xs_kvlist_t *settings = NULL;
    assert_int_equal (xs_srtype_split ("nfs", args, NULL, &settings, &err), 0);
    assert_string_equal (xs_kvlist_get (settings, "sr_uuid"), "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
    xs_kvlist_destroy (&settings);
    xs_kvlist_destroy (&args);

    assert_int_equal (xs_srtype_check_setting ("server", "x", &err), -1);
    assert_true (xs_srtype_is_setting ("reserve"));
    assert_false (xs_srtype_is_setting ("server"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_table_matches_design),
        cmocka_unit_test (test_smb_needs_only_server),
        cmocka_unit_test (test_seed_example_splits_settings),
        cmocka_unit_test (test_unknown_type_lists_known),
        cmocka_unit_test (test_missing_keys_named),
        cmocka_unit_test (test_unknown_keys_refused),
        cmocka_unit_test (test_settings_checked),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
