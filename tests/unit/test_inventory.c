/*  Unit tests for xs_inventory: INSTALLATION_UUID from the XenServer
    inventory file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "host/xs_inventory.h"

static char s_dir [64];
static char s_path [128];

static int
s_setup (void **state)
{
    strcpy (s_dir, "/tmp/xs_inventory_testXXXXXX");
    assert_non_null (mkdtemp (s_dir));
    snprintf (s_path, sizeof s_path, "%s/xensource-inventory", s_dir);
    return 0;
}

static int
s_teardown (void **state)
{
    unlink (s_path);
    rmdir (s_dir);
    return 0;
}

static void
s_write (const char *text)
{
    FILE *f = fopen (s_path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static void
test_reads_installation_uuid (void **state)
{
    /* The shape of a real dom0 inventory: quoted shell assignments. */
    s_write ("PRIMARY_DISK='/dev/disk/by-id/scsi-0'\n"
             "PRODUCT_VERSION='8.2.1'\n"
             "CONTROL_DOMAIN_UUID='c1a0f1e2-0000-4000-8000-000000000001'\n"
             "INSTALLATION_UUID='5b8bb5d0-8811-4f67-9b68-d74c13f4a00e'\n"
             "MANAGEMENT_INTERFACE='xenbr0'\n");
    char uuid [37];
    xs_err_t err;
    assert_int_equal (xs_inventory_host_uuid (s_path, uuid, sizeof uuid, &err), 1);
    assert_string_equal (uuid, "5b8bb5d0-8811-4f67-9b68-d74c13f4a00e");
    s_write ("INSTALLATION_UUID=5b8bb5d0-8811-4f67-9b68-d74c13f4a00f\n");
    assert_int_equal (xs_inventory_host_uuid (s_path, uuid, sizeof uuid, &err), 1);
    assert_string_equal (uuid, "5b8bb5d0-8811-4f67-9b68-d74c13f4a00f");
}

static void
test_missing_file_is_not_an_error (void **state)
{
    char uuid [37] = "";
    xs_err_t err;
    assert_int_equal (xs_inventory_host_uuid (s_path, uuid, sizeof uuid, &err), 0);
    assert_string_equal (uuid, "");
}

static void
test_bad_inventories_name_the_file (void **state)
{
    static const char *const bad [] = {
        "PRODUCT_VERSION='8.2.1'\n",                                       /* no key   */
        "INSTALLATION_UUID='not-a-uuid'\n",                                /* garbage  */
        "INSTALLATION_UUID='5b8bb5d0-8811-4f67-9b68-d74c13f4a00'\n",       /* short    */
        "INSTALLATION_UUID='5b8bb5d0x8811-4f67-9b68-d74c13f4a00e'\n",      /* no dash  */
        "INSTALLATION_UUID='5b8bb5d0-8811-4f67-9b68-d74c13f4a00e\n",       /* unclosed */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        s_write (bad [i]);
        char uuid [37];
        xs_err_t err;
        assert_int_equal (xs_inventory_host_uuid (s_path, uuid, sizeof uuid, &err), -1);
        assert_non_null (strstr (err.msg, s_path));
        assert_int_equal (err.kind, XS_EINVAL);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_reads_installation_uuid, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_missing_file_is_not_an_error, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_inventories_name_the_file, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
