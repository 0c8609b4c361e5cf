/*  Unit tests for xs_catalog_cfg (the catalog's settings, read by
    xensm-catalogd and, for admin_endpoint, by xensm-manage): the defaults,
    a file over them, and the checks on endpoints and zones. */
#include "catalog/xs_catalog_cfg.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static void
s_assert_contains (const char *text, const char *part)
{
    if (!strstr (text, part))
        fail_msg ("'%s' not in: %s", part, text);
}

/* ---------------------------------------------------------------------
   Defaults and a file
   --------------------------------------------------------------------- */

static void
test_defaults (void **state)
{
    xs_config_t *config = xs_catalog_cfg_new ();
    assert_non_null (config);
    assert_string_equal (xs_config_get (config, XS_CATALOG_SECTION, "admin_endpoint"),
                         XS_CATALOG_DEFAULT_ADMIN);
    assert_string_equal (xs_config_get (config, XS_CATALOG_SECTION, "db"),
                         XS_CATALOG_DEFAULT_DB);
    assert_string_equal (xs_config_get (config, XS_CATALOG_SECTION, "agent_endpoint"),
                         XS_CATALOG_DEFAULT_AGENT);
    assert_string_equal (xs_config_get (config, XS_CATALOG_SECTION, "default_zone"),
                         "default");
    assert_int_equal (xs_config_int (config, XS_CATALOG_SECTION, "admin_batch", 0), 64);
    assert_string_equal (xs_config_origin (config, XS_CATALOG_SECTION, "admin_endpoint"),
                         "default");
    /* Every option of the table has its default. */
    for (const xs_config_option_t *o = xs_catalog_cfg_options; o->key; o++)
        assert_non_null (xs_config_get (config, o->section, o->key));
    xs_config_destroy (&config);
    assert_null (config);
}

static void
test_file_over_defaults (void **state)
{
    xs_config_t *config = xs_catalog_cfg_new ();
    xs_err_t err;
    assert_int_equal (xs_config_load_string (config, "catalog.cfg",
                                             "[catalog]\n"
                                             "admin_endpoint = tcp://127.0.0.1:7600\n"
                                             "default_zone = za\n", &err), 0);
    assert_string_equal (xs_config_get (config, XS_CATALOG_SECTION, "admin_endpoint"),
                         "tcp://127.0.0.1:7600");
    assert_string_equal (xs_config_origin (config, XS_CATALOG_SECTION, "admin_endpoint"),
                         "catalog.cfg:2");
    assert_string_equal (xs_config_get (config, XS_CATALOG_SECTION, "default_zone"), "za");

    /* A bad value is refused whole: the file changes nothing. */
    assert_int_equal (xs_config_load_string (config, "bad.cfg",
                                             "[catalog]\n"
                                             "default_zone = zb\n"
                                             "admin_endpoint = ipc://relative.sock\n", &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    s_assert_contains (err.msg, "bad.cfg:3");
    s_assert_contains (err.msg, "an ipc:// endpoint needs an absolute path");
    assert_string_equal (xs_config_get (config, XS_CATALOG_SECTION, "default_zone"), "za");
    assert_int_equal (xs_config_set (config, XS_CATALOG_SECTION, "default_zone", "z\tb", &err),
                      -1);
    s_assert_contains (err.msg, "control character in zone name");
    xs_config_destroy (&config);
}

/* The Block Storage API's settings: on at 127.0.0.1:8776 and noauth by
   default; api_listen is numeric or empty; api_auth one of two. */
static void
test_api_settings (void **state)
{
    xs_config_t *config = xs_catalog_cfg_new ();
    xs_err_t err;
    assert_string_equal (xs_config_get (config, XS_CATALOG_SECTION, "api_listen"),
                         "127.0.0.1:8776");
    assert_string_equal (xs_config_get (config, XS_CATALOG_SECTION, "api_auth"), "noauth");
    assert_false (xs_config_bool (config, XS_CATALOG_SECTION, "api_allow_insecure", true));
    static const char *const good [] = {"", "0.0.0.0:0", "127.0.0.1:8776", "[::1]:8776",
                                        "[::]:65535"};
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++)
        assert_int_equal (xs_config_set (config, XS_CATALOG_SECTION, "api_listen", good [i],
                                         &err), 0);
    static const char *const bad [] = {"localhost:8776", "127.0.0.1", "127.0.0.1:", ":8776",
                                       "127.0.0.1:65536", "127.0.0.1:-1", "[::1:8776",
                                       "::1:8776x", "1.2.3.4:80 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (xs_config_set (config, XS_CATALOG_SECTION, "api_listen", bad [i],
                                         &err), -1);
        s_assert_contains (err.msg, "api_listen");
    }
    assert_int_equal (xs_config_set (config, XS_CATALOG_SECTION, "api_auth", "none", &err), -1);
    assert_int_equal (xs_config_set (config, XS_CATALOG_SECTION, "api_auth", "keystone", &err),
                      0);
    xs_config_destroy (&config);
}

/* ---------------------------------------------------------------------
   Endpoints
   --------------------------------------------------------------------- */

static void
test_endpoints (void **state)
{
    static const char *const good [] = {
        "ipc:///run/xensm/admin.sock", "tcp://127.0.0.1:7600", "tcp://*:7601",
        "tcp://[::1]:7600", "tcp://catalog.example.com:7600",
    };
    xs_err_t err;
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++)
        if (xs_catalog_cfg_check_endpoint (good [i], &err))
            fail_msg ("'%s' refused: %s", good [i], err.msg);

    char long_ipc [128] = "ipc:///";
    memset (long_ipc + 7, 'a', 100);            /* a 101-byte path */
    const struct { const char *endpoint; const char *why; } bad [] = {
        { "ipc://run/admin.sock", "needs an absolute path" },
        { "tcp://127.0.0.1", "expected tcp://<host>:<port>" },
        { "tcp://:7600", "expected tcp://<host>:<port>" },
        { "tcp://host:", "expected tcp://<host>:<port>" },
        { "udp://host:1", "expected ipc://<path> or tcp://<host>:<port>" },
        { "", "expected ipc://<path> or tcp://<host>:<port>" },
        { long_ipc, "socket path longer than 100 bytes" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (xs_catalog_cfg_check_endpoint (bad [i].endpoint, &err), -1);
        assert_int_equal (err.kind, XS_EINVAL);
        s_assert_contains (err.msg, bad [i].why);
        s_assert_contains (err.msg, bad [i].endpoint);
    }
    long_ipc [strlen (long_ipc) - 1] = '\0';    /* 100 bytes: the longest */
    assert_int_equal (xs_catalog_cfg_check_endpoint (long_ipc, &err), 0);
}

/* D15: the admin API has no authentication: tcp:// on loopback only,
   unless admin_allow_remote. */
static void
test_admin_endpoint_loopback (void **state)
{
    (void) state;
    xs_err_t err;
    const char *local [] = {
        "ipc:///run/xensm/admin.sock", "tcp://127.0.0.1:7600", "tcp://127.9.9.9:1",
        "tcp://localhost:7600", "tcp://[::1]:7600",
    };
    for (size_t i = 0; i < sizeof local / sizeof local [0]; i++)
        if (xs_catalog_cfg_check_admin_endpoint (local [i], false, &err))
            fail_msg ("'%s' refused: %s", local [i], err.msg);
    const char *remote [] = {
        "tcp://0.0.0.0:7600", "tcp://*:7600", "tcp://10.0.0.1:7600", "tcp://eth0:7600",
        "tcp://[::]:7600", "tcp://example.com:7600", "tcp://127.0.0.1.example.com:7600",
    };
    for (size_t i = 0; i < sizeof remote / sizeof remote [0]; i++) {
        assert_int_equal (xs_catalog_cfg_check_admin_endpoint (remote [i], false, &err), -1);
        assert_int_equal (err.kind, XS_EINVAL);
        s_assert_contains (err.msg, remote [i]);
        s_assert_contains (err.msg, "not a loopback address");
        s_assert_contains (err.msg, "admin_allow_remote");
        assert_int_equal (xs_catalog_cfg_check_admin_endpoint (remote [i], true, &err), 0);
    }
    /* Still a well-formed endpoint first. */
    assert_int_equal (xs_catalog_cfg_check_admin_endpoint ("tcp://:7600", true, &err), -1);
    s_assert_contains (err.msg, "expected tcp://<host>:<port>");
    xs_config_t *cfg = xs_catalog_cfg_new ();
    assert_false (xs_config_bool (cfg, XS_CATALOG_SECTION, "admin_allow_remote", true));
    xs_config_destroy (&cfg);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_defaults),
        cmocka_unit_test (test_file_over_defaults),
        cmocka_unit_test (test_api_settings),
        cmocka_unit_test (test_endpoints),
        cmocka_unit_test (test_admin_endpoint_loopback),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
