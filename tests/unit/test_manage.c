/*  Unit tests for xs_manage (xensm-manage's command table, matching, help,
    global options and dispatch), run against a fake catalog
    (manage_fixture). The commands themselves: test_manage_sm.c,
    test_manage_volume.c, test_manage_host.c. */
#include "manage_fixture.h"
#include "xs_build_config.h"

#include <czmq.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* ---------------------------------------------------------------------
   Help
   --------------------------------------------------------------------- */

static void
test_help_lists_volume_and_host (void **state)
{
    manage_fixture_t *f = *state;
    static const char *const lines [] = {
        "  host enroll <public certificate file>\n",
        "  host list\n",
        "  host remove <host uuid or public key>\n",
        "  volume create --flavor F --size S [--name N] [--request-id R] [--project P]\n",
        "  volume delete <uuid>\n",
        "  volume snapshot <uuid> [--name N]\n",
        "  volume clone <uuid> [--name N]\n",
        "  volume list [--all] [--project P]\n",
        "  volume show <uuid>\n",
        "  volume connection <uuid> [--show-secrets]\n",
    };
    assert_int_equal (manage_run (f, NULL, "--help", NULL), 0);
    for (size_t i = 0; i < sizeof lines / sizeof lines [0]; i++)
        assert_contains (f->out, lines [i]);
    assert_contains (f->out, "--timeout S   seconds to wait for the catalog (default 10; "
                     "120 for volume\n");
    char *usage = strdup (f->out);
    assert_int_equal (manage_run (f, NULL, "help", NULL), 0);
    assert_string_equal (f->out, usage);
    free (usage);

    assert_int_equal (manage_run (f, NULL, "help", "vol", NULL), 0);
    assert_contains (f->out, "  volume connection <uuid> [--show-secrets]\n");
    assert_null (strstr (f->out, "  host list"));
    assert_int_equal (manage_run (f, NULL, "help", "volume", "create", NULL), 0);
    assert_contains (f->out, "usage: xensm-manage [options] volume create --flavor F --size S");
    assert_contains (f->out, "120 s unless --timeout");
    assert_int_equal (manage_run (f, NULL, "host", "remove", "--help", NULL), 0);
    assert_contains (f->out, "--yes skips it");
    /* `h` is still host (help is a word, not a category). */
    manage_reply_ok (f, "{\"hosts\": []}");
    assert_int_equal (manage_run (f, NULL, "h", "l", NULL), 0);
    manage_assert_sent (f, "host_list", "{}");
    assert_int_equal (manage_run (f, NULL, "help", "nosuch", NULL), 2);
    assert_contains (f->err, "unknown category 'nosuch'");
    assert_int_equal (manage_run (f, NULL, "help", "volume", "x", NULL), 2);
    assert_contains (f->err, "unknown action 'x' in category volume");
    assert_int_equal (manage_run (f, NULL, "help", "volume", "create", "x", NULL), 2);
    manage_assert_nothing_sent (f);
}

/* ---------------------------------------------------------------------
   Global options, command words and argument counts
   --------------------------------------------------------------------- */

/* Each refused before anything is sent, with exit code 2 and the reason. */
static void
test_usage_errors (void **state)
{
    manage_fixture_t *f = *state;
    static const struct { const char *argv [4]; const char *why; } bad [] = {
        { { NULL }, "usage: xensm-manage [--endpoint E] [--json]" },
        { { "--bogus", "sm", "flavor_list" }, "option '--bogus': unknown or missing its value" },
        { { "-x", "sm", "flavor_list" }, "option -x: unknown or missing its value" },
        { { "--zone", "", "sm", "flavor_list" }, "--zone: empty zone\n" },
        { { "--timeout", "abc", "sm", "flavor_list" }, "--timeout 'abc': expected seconds" },
        { { "--timeout", "3601", "sm", "flavor_list" }, "(0 < S <= 3600)" },
        { { "nosuch", "x" }, "unknown category 'nosuch' (known: sm host volume catalog)\n" },
        { { "volume" }, "xensm-manage: volume: missing action\n" },
        { { "v", "c" }, "ambiguous action 'c' in category volume (matches: create clone "
                        "connection)\n" },
        { { "sm", "flavor_create", "gold" }, "sm flavor_create: expected 2 argument(s), "
                                             "got 1\n" },
        { { "sm", "backend_add", "gold" }, "sm backend_add: expected at least 2 argument(s), "
                                           "got 1\n" },
        { { "volume", "connection" }, "volume connection: expected 1 to 2 argument(s), "
                                      "got 0\n" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        const char *const *a = bad [i].argv;
        assert_int_equal (manage_run (f, NULL, a [0], a [1], a [2], a [3], NULL), 2);
        assert_contains (f->err, bad [i].why);
        assert_string_equal (f->out, "");
    }
    manage_assert_nothing_sent (f);
}

static void
test_version_and_status (void **state)
{
    manage_fixture_t *f = *state;
    assert_int_equal (manage_run (f, NULL, "--version", "sm", "flavor_list", NULL), 0);
    assert_string_equal (f->out, "xensm-manage " XENSM_VERSION "\n");
    assert_int_equal (manage_run (f, NULL, "volume", "--help", NULL), 0);
    assert_contains (f->out, "  volume create --flavor F");
    assert_null (strstr (f->out, "  host "));
    manage_assert_nothing_sent (f);

    manage_reply_ok (f, "{\"version\": \"1.2.3\", \"protocol\": 1, \"schema\": 4, "
                     "\"agent_endpoint\": \"tcp://*:7601\", \"catalog_key\": \"K\", "
                     "\"role\": \"follower\", \"leader\": {\"instance\": \"cat-a\", "
                     "\"since\": 1765115400000, \"generation\": 3, \"lease_left_ms\": 4000}, "
                     "\"instances\": [{\"instance\": \"cat-a\", \"leads\": true, "
                     "\"admin_endpoint\": \"tcp://a:7600\", \"agent_endpoint\": \"tcp://a:7601\", "
                     "\"seen_ms_ago\": 200}, {\"instance\": \"cat-b\", \"leads\": false, "
                     "\"admin_endpoint\": \"tcp://b:7600\", \"seen_ms_ago\": 300}]}");
    assert_int_equal (manage_run (f, NULL, "cat", "st", NULL), 0);
    manage_assert_sent (f, "catalog_status", "{}");
    assert_contains (f->out, "role:           follower\n");
    assert_contains (f->out, "leader:         cat-a since 2025-12-07 13:50:00 UTC (generation 3, "
                     "lease 4000 ms left)\n");
    assert_contains (f->out, "  cat-a leader   admin tcp://a:7600, agents tcp://a:7601, seen 200 ms ago\n");
    assert_contains (f->out, "  cat-b -        admin tcp://b:7600, agents -, seen 300 ms ago\n");
    assert_contains (f->out, "xensm-catalogd 1.2.3 (admin protocol 1, schema 4)\n");
    assert_contains (f->out, "admin endpoint: inproc://xs-manage-test-");
    assert_contains (f->out, "agent endpoint: tcp://*:7601\n");
    assert_contains (f->out, "catalog key:    K\n");
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_help_lists_volume_and_host, manage_setup,
                                         manage_teardown),
        cmocka_unit_test_setup_teardown (test_usage_errors, manage_setup, manage_teardown),
        cmocka_unit_test_setup_teardown (test_version_and_status, manage_setup, manage_teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zsys_shutdown ();
    return rc;
}
