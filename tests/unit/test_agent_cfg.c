/*  Unit tests of xs_agent_cfg: the agent's settings table, the flags that
    override the file, the checks that name the flag or key to fix, this
    host's uuid from the configuration or the inventory, and the log level. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hostagent/xs_agent_cfg.h"

#define HOST_UUID "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

typedef struct {
    char dir [64];
    char path [128];
    xs_config_t *config;
    const char *values [128];
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    snprintf (f->dir, sizeof f->dir, "/tmp/xs_agent_cfg.XXXXXX");
    assert_non_null (mkdtemp (f->dir));
    snprintf (f->path, sizeof f->path, "%s/agent.cfg", f->dir);
    f->config = xs_agent_cfg_new ();
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    xs_config_destroy (&f->config);
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal (system (cmd), 0);
    free (f);
    return 0;
}

static void
s_write (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
}

/* Loads `text` as the config file, then the flags set in f->values. */
static int
s_load (fixture_t *f, const char *text, xs_err_t *err)
{
    s_write (f->path, text);
    return xs_agent_cfg_load (f->config, f->path, f->values, err);
}

static void
test_defaults_and_every_key (void **state)
{
    fixture_t *f = *state;
    static const struct { const char *key, *value; } defaults [] = {
        { "zone", "default" }, { "inventory", "/etc/xensource-inventory" },
        { "xapi_url", "unix:/var/lib/xcp/xapi" }, { "xapi_username", "root" },
        { "xapi_password", "" }, { "xapi_timeout_ms", "300000" }, { "workers", "4" },
        { "log_level", "notice" },
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults [0]; i++)
        assert_string_equal (xs_config_get (f->config, XS_AGENT_SECTION, defaults [i].key),
                             defaults [i].value);
    assert_non_null (strstr (xs_config_get (f->config, XS_AGENT_SECTION, "cert"),
                             "/keys/agent.cert"));
    assert_null (xs_config_get (f->config, XS_AGENT_SECTION, "catalog_endpoint"));
    assert_null (xs_config_get (f->config, XS_AGENT_SECTION, "host_uuid"));
    /* Every flag sets a key of the table. */
    for (const xs_agent_cfg_flag_t *flag = xs_agent_cfg_flags; flag->flag; flag++) {
        bool found = false;
        for (const xs_config_option_t *o = xs_agent_cfg_options; o->key; o++)
            found |= strcmp (o->key, flag->key) == 0;
        if (!found)
            fail_msg ("--%s sets %s, which is not a setting", flag->flag, flag->key);
    }
}

static void
test_flags_override_the_file (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    f->values ['z'] = "zone-b";
    f->values ['C'] = "tcp://cat:7601";
    assert_int_equal (s_load (f, "[agent]\nzone = zone-a\nname = xs01\nworkers = 8\n", &err), 0);
    assert_string_equal (xs_config_get (f->config, XS_AGENT_SECTION, "zone"), "zone-b");
    assert_string_equal (xs_config_get (f->config, XS_AGENT_SECTION, "catalog_endpoint"),
                         "tcp://cat:7601");
    assert_string_equal (xs_config_get (f->config, XS_AGENT_SECTION, "name"), "xs01");
    assert_int_equal (xs_config_int (f->config, XS_AGENT_SECTION, "workers", 0), 8);
}

static void
test_bad_files_are_refused (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char missing [200];
    snprintf (missing, sizeof missing, "%s/none.cfg", f->dir);
    assert_int_equal (xs_agent_cfg_load (f->config, missing, f->values, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_int_equal (s_load (f, "[agent]\nworkers = 100\n", &err), -1);
    assert_non_null (strstr (err.msg, "workers"));
    assert_int_equal (s_load (f, "[agent]\nlog_level = loud\n", &err), -1);
    assert_non_null (strstr (err.msg, "log_level"));
}

static void
test_settings_name_the_flag_to_fix (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    xs_agent_settings_t settings;
    assert_int_equal (s_load (f, "[agent]\nhost_uuid = " HOST_UUID "\n", &err), 0);
    assert_int_equal (xs_agent_cfg_settings (f->config, f->path, &settings, &err), -1);
    char expect [300];
    snprintf (expect, sizeof expect,
              "no catalog endpoint: give --catalog or catalog_endpoint= in %s", f->path);
    assert_string_equal (err.msg, expect);

    /* A zone is never empty: the file (or --zone "") cannot clear it. */
    assert_int_equal (s_load (f, "[agent]\ncatalog_endpoint = tcp://c:1\nzone =\n", &err), -1);
    assert_non_null (strstr (err.msg, "zone"));
    f->values ['z'] = "";
    assert_int_equal (s_load (f, "[agent]\ncatalog_endpoint = tcp://c:1\n", &err), -1);
    assert_non_null (strstr (err.msg, "zone"));
}

static void
test_settings_feed_the_agent_and_its_executor (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    xs_agent_settings_t settings;
    assert_int_equal (s_load (f, "[agent]\ncatalog_endpoint = tcp://c:1\nzone = z9\n"
                                 "host_uuid = " HOST_UUID "\nxapi_url = http://x:80/\n"
                                 "xapi_password = s3cret\nxapi_timeout_ms = 5000\n"
                                 "workers = 2\n", &err), 0);
    assert_int_equal (xs_agent_cfg_settings (f->config, f->path, &settings, &err), 0);
    assert_string_equal (settings.agent.catalog_endpoint, "tcp://c:1");
    assert_string_equal (settings.agent.zone, "z9");
    assert_string_equal (settings.agent.host_uuid, HOST_UUID);
    assert_int_equal (settings.agent.workers, 2);
    assert_ptr_equal (settings.agent.executor, &xs_xapi_executor);
    assert_ptr_equal (settings.agent.executor_arg, &settings.xapi);
    assert_null (settings.agent.ready);
    assert_string_equal (settings.xapi.url, "http://x:80/");
    assert_string_equal (settings.xapi.username, "root");
    assert_string_equal (settings.xapi.password, "s3cret");
    assert_int_equal (settings.xapi.timeout_ms, 5000);
    assert_string_equal (settings.xapi.host_uuid, HOST_UUID);
}

static void
test_host_uuid_from_the_inventory (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    xs_agent_settings_t settings;
    char inventory [200], text [400];
    snprintf (inventory, sizeof inventory, "%s/xensource-inventory", f->dir);
    snprintf (text, sizeof text, "[agent]\ncatalog_endpoint = tcp://c:1\ninventory = %s\n",
              inventory);

    /* No inventory file: xapi will be asked. */
    assert_int_equal (s_load (f, text, &err), 0);
    assert_int_equal (xs_agent_cfg_settings (f->config, f->path, &settings, &err), 0);
    assert_null (settings.agent.host_uuid);
    assert_null (settings.xapi.host_uuid);

    s_write (inventory, "PRODUCT_VERSION='8.2.1'\nINSTALLATION_UUID='" HOST_UUID "'\n");
    assert_int_equal (xs_agent_cfg_settings (f->config, f->path, &settings, &err), 0);
    assert_string_equal (settings.agent.host_uuid, HOST_UUID);
    assert_string_equal (settings.xapi.host_uuid, HOST_UUID);

    /* A bad one stops the agent, naming the file and the way out. */
    s_write (inventory, "INSTALLATION_UUID='not-a-uuid'\n");
    assert_int_equal (xs_agent_cfg_settings (f->config, f->path, &settings, &err), -1);
    assert_non_null (strstr (err.msg, inventory));
    char way_out [300];
    snprintf (way_out, sizeof way_out, "(set host_uuid in %s to override)", f->path);
    assert_non_null (strstr (err.msg, way_out));
}

static void
test_log_level (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    assert_int_equal (xs_agent_cfg_log_level (f->config, false), XS_LOG_NOTICE);
    assert_int_equal (xs_agent_cfg_log_level (f->config, true), XS_LOG_DEBUG);
    assert_int_equal (s_load (f, "[agent]\nlog_level = warning\n", &err), 0);
    assert_int_equal (xs_agent_cfg_log_level (f->config, false), XS_LOG_WARNING);
    assert_int_equal (xs_agent_cfg_log_level (f->config, true), XS_LOG_DEBUG);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_defaults_and_every_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_flags_override_the_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_files_are_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_settings_name_the_flag_to_fix, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_settings_feed_the_agent_and_its_executor,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_host_uuid_from_the_inventory, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_log_level, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
