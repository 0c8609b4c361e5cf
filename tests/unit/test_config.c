/*  Unit tests for xs_config, INI settings with defaults and overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/xs_config.h"

static int
s_check_endpoint (const char *value, xs_err_t *err)
{
    if (strncmp (value, "ipc://", 6) && strncmp (value, "tcp://", 6))
        return xs_err_set (err, XS_EINVAL, "'%s' is not an ipc:// or tcp:// endpoint", value);
    return 0;
}

static const char *const s_levels [] = { "error", "notice", "debug", NULL };

static const xs_config_option_t s_options [] = {
    { "catalog", "db", XS_CONFIG_STRING, "/var/lib/x.db", 0, 0, NULL, false, NULL, "database" },
    { "catalog", "endpoint", XS_CONFIG_STRING, "ipc:///run/a.sock", 0, 0, NULL, false,
      s_check_endpoint, "endpoint" },
    { "catalog", "ratio", XS_CONFIG_DOUBLE, "1.0", 0.01, 100, NULL, false, NULL, "ratio" },
    { "catalog", "workers", XS_CONFIG_INT, "4", 1, 64, NULL, false, NULL, "workers" },
    { "catalog", "log_level", XS_CONFIG_ENUM, "notice", 0, 0, s_levels, false, NULL, "level" },
    { "catalog", "syslog", XS_CONFIG_BOOL, "no", 0, 0, NULL, false, NULL, "syslog" },
    { "catalog", "zone", XS_CONFIG_STRING, NULL, 0, 0, NULL, false, NULL, "zone" },
    { "agent", "note", XS_CONFIG_STRING, "", 0, 0, NULL, true, NULL, "note" },
    { .key = NULL }
};

static void
test_defaults (void **state)
{
    xs_config_t *config = xs_config_new (s_options);
    assert_string_equal (xs_config_get (config, "catalog", "db"), "/var/lib/x.db");
    assert_int_equal (xs_config_int (config, "catalog", "workers", 0), 4);
    assert_true (xs_config_double (config, "catalog", "ratio", 0) == 1.0);
    assert_false (xs_config_bool (config, "catalog", "syslog", true));
    assert_null (xs_config_get (config, "catalog", "zone"));
    assert_int_equal (xs_config_int (config, "catalog", "zone", 7), 7);
    assert_null (xs_config_get (config, "catalog", "nope"));
    assert_string_equal (xs_config_origin (config, "catalog", "db"), "default");
    xs_config_destroy (&config);
    assert_null (config);
    xs_config_destroy (&config);
}

static void
test_load_string (void **state)
{
    xs_config_t *config = xs_config_new (s_options);
    xs_err_t err;
    const char *text =
        "; a comment\n"
        "# another\n"
        "[catalog]\n"
        "db = /tmp/c.db\n"
        "ratio=2.5\n"
        "workers = 8 ; inline comment\n"
        "log_level = debug\n"
        "syslog = Yes\n"
        "zone = zone a\n"
        "\n"
        "[agent]\n"
        "note =\n";
    assert_int_equal (xs_config_load_string (config, "t.cfg", text, &err), 0);
    assert_string_equal (xs_config_get (config, "catalog", "db"), "/tmp/c.db");
    assert_true (xs_config_double (config, "catalog", "ratio", 0) == 2.5);
    assert_int_equal (xs_config_int (config, "catalog", "workers", 0), 8);
    assert_string_equal (xs_config_get (config, "catalog", "log_level"), "debug");
    assert_true (xs_config_bool (config, "catalog", "syslog", false));
    assert_string_equal (xs_config_get (config, "catalog", "zone"), "zone a");
    assert_string_equal (xs_config_get (config, "agent", "note"), "");
    assert_string_equal (xs_config_origin (config, "catalog", "db"), "t.cfg:4");
    assert_string_equal (xs_config_origin (config, "catalog", "workers"), "t.cfg:6");
    /* Untouched keys keep their defaults. */
    assert_string_equal (xs_config_get (config, "catalog", "endpoint"), "ipc:///run/a.sock");
    xs_config_destroy (&config);
}

/* Loads `text` and expects an error message containing `expect`; the values
   must stay as they were. */
static void
s_expect_error (const char *text, const char *expect)
{
    xs_config_t *config = xs_config_new (s_options);
    xs_err_t err;
    assert_int_equal (xs_config_load_string (config, "bad.cfg", text, &err), -1);
    if (!strstr (err.msg, expect))
        fail_msg ("expected '%s' in '%s'", expect, err.msg);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_string_equal (xs_config_get (config, "catalog", "db"), "/var/lib/x.db");
    assert_int_equal (xs_config_int (config, "catalog", "workers", 0), 4);
    xs_config_destroy (&config);
}

static void
test_errors_name_file_and_line (void **state)
{
    s_expect_error ("[catalog]\ndb = /x\nworkers = 99\n", "bad.cfg:3: [catalog] workers: 99 is out of range");
    s_expect_error ("[catalog]\nworkers = many\n", "bad.cfg:2: [catalog] workers: 'many' is not an integer");
    s_expect_error ("[catalog]\nratio = 0\n", "bad.cfg:2: [catalog] ratio");
    s_expect_error ("[catalog]\nratio = 1x\n", "is not a number");
    s_expect_error ("[catalog]\nsyslog = maybe\n", "bad.cfg:2: [catalog] syslog: 'maybe' is not a boolean");
    s_expect_error ("[catalog]\nlog_level = loud\n", "'loud' is not one of: error, notice, debug");
    s_expect_error ("[catalog]\nendpoint = udp://x\n", "bad.cfg:2: [catalog] endpoint: 'udp://x' is not an ipc://");
    s_expect_error ("[catalog]\n\ndbx = /x\n", "bad.cfg:3: [catalog] dbx: unknown setting");
    s_expect_error ("[catalog]\n[nosuch]\nk = v\n", "bad.cfg:3: unknown section [nosuch]");
    s_expect_error ("db = /x\n", "bad.cfg:1: 'db' outside a section");
    s_expect_error ("[catalog]\ndb = /x\ndb = /y\n", "bad.cfg:3: [catalog] db: given twice");
    s_expect_error ("[catalog]\nthis line has no equals\n", "bad.cfg:2: syntax error");
    s_expect_error ("[catalog\n", "bad.cfg:1: syntax error");
    s_expect_error ("[catalog]\ndb =\n", "bad.cfg:2: [catalog] db: empty value");
    /* The FIRST error is reported, whatever its kind. */
    s_expect_error ("[catalog]\nno equals here\nworkers = 0\n", "bad.cfg:2: syntax error");
    s_expect_error ("[catalog]\nworkers = 0\nno equals here\n", "bad.cfg:2: [catalog] workers");
    /* A line longer than inih's buffer is refused, not split in two. */
    char text [600];
    snprintf (text, sizeof text, "[catalog]\ndb = /%0400d\n", 0);
    s_expect_error (text, "bad.cfg:2: line longer than");
}

static void
test_set_overrides (void **state)
{
    xs_config_t *config = xs_config_new (s_options);
    xs_err_t err;
    assert_int_equal (xs_config_load_string (config, "t.cfg", "[catalog]\ndb = /file.db\n", &err), 0);
    assert_int_equal (xs_config_set (config, "catalog", "db", "/flag.db", &err), 0);
    assert_string_equal (xs_config_get (config, "catalog", "db"), "/flag.db");
    assert_string_equal (xs_config_origin (config, "catalog", "db"), "set");
    assert_int_equal (xs_config_set (config, "catalog", "endpoint", "bogus", &err), -1);
    assert_non_null (strstr (err.msg, "[catalog] endpoint: 'bogus'"));
    assert_string_equal (xs_config_get (config, "catalog", "endpoint"), "ipc:///run/a.sock");
    assert_int_equal (xs_config_set (config, "catalog", "nope", "x", &err), -1);
    assert_non_null (strstr (err.msg, "unknown setting"));
    assert_int_equal (xs_config_set (config, "catalog", "workers", "0", &err), -1);
    xs_config_destroy (&config);
}

static void
test_load_file (void **state)
{
    char path [] = "/tmp/xs_config_testXXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    const char *text = "[catalog]\nworkers = 3\nbroken\n";
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    close (fd);

    xs_config_t *config = xs_config_new (s_options);
    xs_err_t err;
    assert_int_equal (xs_config_load (config, path, &err), -1);
    char expect [128];
    snprintf (expect, sizeof expect, "%s:3: syntax error", path);
    assert_non_null (strstr (err.msg, expect));
    assert_int_equal (xs_config_int (config, "catalog", "workers", 0), 4);

    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs ("[catalog]\r\nworkers = 3\r\n", file);
    fclose (file);
    assert_int_equal (xs_config_load (config, path, &err), 0);
    assert_int_equal (xs_config_int (config, "catalog", "workers", 0), 3);
    unlink (path);

    assert_int_equal (xs_config_load (config, path, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_non_null (strstr (err.msg, "cannot open"));
    assert_int_equal (xs_config_load (config, "/", &err), -1);
    xs_config_destroy (&config);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_defaults),
        cmocka_unit_test (test_load_string),
        cmocka_unit_test (test_errors_name_file_and_line),
        cmocka_unit_test (test_set_overrides),
        cmocka_unit_test (test_load_file),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
