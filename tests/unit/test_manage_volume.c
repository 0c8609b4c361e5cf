/*  Unit tests for xensm-manage's volume commands (xs_manage_volume), run
    against a fake catalog (manage_fixture): the request each command sends
    (or that none was sent after a usage error), how the canned results are
    printed, the exit codes, the error messages and how long each waits.
    (The same commands run against the real catalogd in tests/integration.)

    The CLI's private header gives the handlers' context, to see
    xs_manage_wait_long's effect on it. */
#include "catalog/cli/xs_manage_cmd.h"
#include "manage_fixture.h"

#include <czmq.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* A volume as the catalog prints it (xs_volume_view). */
#define S_UUID "6f1c2a34-1111-4222-8333-444455556666"
#define S_VOLUME(state, backend) \
    "{\"uuid\": \"" S_UUID "\", \"name\": \"db\", \"size\": 10737418240, " \
    "\"flavor\": \"gold\", \"backend_id\": " backend ", \"vdi_uuid\": \"0b5e-vdi\", " \
    "\"host_uuid\": \"a1-host\", \"state\": \"" state "\", \"error\": null, " \
    "\"parent_uuid\": null, \"request_id\": \"r1\", \"created_at\": 1764028800000, " \
    "\"updated_at\": 1764028861000}"

/* ---------------------------------------------------------------------
   volume create
   --------------------------------------------------------------------- */

static void
test_volume_create_sends_and_prints (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"volume\": " S_VOLUME ("available", "2") "}");
    assert_int_equal (manage_run (f, NULL, "volume", "create", "--flavor", "gold", "--size",
                                  "10G", "--name", "db", "--request-id", "r1", NULL), 0);
    manage_assert_sent (f, "volume_create", "{\"flavor\": \"gold\", \"size\": 10737418240, "
                        "\"name\": \"db\", \"request_id\": \"r1\"}");
    assert_contains (f->out, "uuid:        " S_UUID "\n");
    assert_contains (f->out, "state:       available\n");
    assert_contains (f->out, "size:        10 GiB (10737418240 bytes)\n");
    assert_contains (f->out, "flavor:      gold\n");
    assert_contains (f->out, "backend:     2\n");
    assert_contains (f->out, "vdi_uuid:    0b5e-vdi\n");
    assert_contains (f->out, "request_id:  r1\n");
    assert_contains (f->out, "created:     2025-11-25 00:00:00 UTC\n");
    assert_string_equal (f->err, "");

    /* Optional fields absent; prefixes, abbreviated options and --opt=value. */
    assert_int_equal (manage_run (f, NULL, "vol", "cr", "--fl=gold", "--si=512", NULL), 0);
    manage_assert_sent (f, "volume_create", "{\"flavor\": \"gold\", \"size\": 512}");
    assert_int_equal (manage_run (f, NULL, "volume", "create", "--size", "1tib", "--flavor",
                                  "gold", NULL), 0);
    manage_assert_sent (f, "volume_create", "{\"flavor\": \"gold\", \"size\": 1099511627776}");
}

static void
test_volume_create_refusals (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"volume\": " S_VOLUME ("available", "2") "}");
    static const char *const sizes [] = {
        "0", "-1G", "1.5G", "10P", "1GB", "", "99999999999999999999", "8388608T", "ten",
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes [0]; i++) {
        assert_int_equal (manage_run (f, NULL, "volume", "create", "--flavor", "gold",
                                      "--size", sizes [i], NULL), 2);
        char want [64];
        snprintf (want, sizeof want, "--size '%s': expected a positive size", sizes [i]);
        assert_contains (f->err, want);
        manage_assert_nothing_sent (f);
    }
    assert_int_equal (manage_run (f, NULL, "volume", "create", "--size", "1G", NULL), 2);
    assert_contains (f->err, "volume create: --flavor and --size are required");
    assert_contains (f->err, "usage: xensm-manage [options] volume create --flavor F");
    assert_int_equal (manage_run (f, NULL, "volume", "create", "--flavor", "gold", NULL), 2);
    assert_contains (f->err, "--flavor and --size are required");
    assert_int_equal (manage_run (f, NULL, "volume", "create", NULL), 2);
    assert_int_equal (manage_run (f, NULL, "volume", "create", "--flavor", "gold", "--size",
                                  "1G", "--bogus", NULL), 2);
    assert_contains (f->err, "volume create: option '--bogus': unknown");
    assert_int_equal (manage_run (f, NULL, "volume", "create", "--flavor", "gold", "--size",
                                  NULL), 2);
    assert_contains (f->err, "option '--size': unknown or missing its value");
    assert_int_equal (manage_run (f, NULL, "volume", "create", "--flavor", "gold", "--size",
                                  "1G", "extra", NULL), 2);
    assert_contains (f->err, "unexpected argument 'extra'");
    /* Not UTF-8: refused before sending, naming what. */
    assert_int_equal (manage_run (f, NULL, "volume", "create", "--flavor", "gold", "--size",
                                  "1G", "--name", "\xff\xfe", NULL), 2);
    assert_contains (f->err, "volume_create: flavor, name and request id must be UTF-8 text");
    manage_assert_nothing_sent (f);
}

/* The catalog's refusal reaches the person whole, with the exit code of its
   kind; --json also prints it as an object. */
static void
test_volume_errors (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_error (f, "not_found", "flavor silver: not found");
    assert_int_equal (manage_run (f, NULL, "volume", "create", "--flavor", "silver",
                                  "--size", "1G", NULL), 2);
    assert_contains (f->err, "xensm-manage: flavor silver: not found\n");
    assert_string_equal (f->out, "");
    manage_assert_sent (f, "volume_create", "{\"flavor\": \"silver\", \"size\": 1073741824}");

    manage_reply_error (f, "conflict", "volume " S_UUID ": no backend could take it: backend 1 "
                        "(host a1): SR full; backend 2: no live host in zone za");
    assert_int_equal (manage_run (f, NULL, "--json", "volume", "create", "--flavor", "gold",
                                  "--size", "1G", NULL), 1);
    assert_contains (f->err, "backend 1 (host a1): SR full; backend 2: no live host");
    json_t *out = json_loads (f->out, 0, NULL);
    assert_non_null (out);
    assert_string_equal (json_string_value (json_object_get (json_object_get (out, "error"),
                                                             "kind")), "conflict");
    json_decref (out);
    manage_assert_sent (f, "volume_create", "{\"flavor\": \"gold\", \"size\": 1073741824}");
}

/* Volume changes wait for an agent: 120 s unless --timeout; reads keep 10 s. */
static void
test_volume_timeouts (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"volume\": " S_VOLUME ("deleted", "2") "}");
    static const struct { const char *category, *action; int argc; const char *argv [2];
                          int want_ms; } cases [] = {
        { "volume", "create", 2, { "--flavor=gold", "--size=1G" }, XS_MANAGE_VOLUME_TIMEOUT_MS },
        { "volume", "delete", 1, { S_UUID }, XS_MANAGE_VOLUME_TIMEOUT_MS },
        { "volume", "snapshot", 1, { S_UUID }, XS_MANAGE_VOLUME_TIMEOUT_MS },
        { "volume", "clone", 1, { S_UUID }, XS_MANAGE_VOLUME_TIMEOUT_MS },
        { "volume", "extend", 2, { S_UUID, "--size=2G" }, XS_MANAGE_VOLUME_TIMEOUT_MS },
        { "volume", "show", 1, { S_UUID }, XS_MANAGE_DEFAULT_TIMEOUT_MS },
        { "volume", "list", 0, { NULL }, XS_MANAGE_DEFAULT_TIMEOUT_MS },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++)
        for (int given = 0; given < 2; given++) {
            xs_manage_io_t io = { .in = stdin, .out = fopen ("/dev/null", "w"),
                                  .err = stderr };
            xs_manage_ctx_t ctx = { .io = &io, .endpoint = f->endpoint,
                            .timeout_ms = given ? 3000 : XS_MANAGE_DEFAULT_TIMEOUT_MS,
                            .timeout_given = given };
            ctx.command = xs_manage_command_lookup (cases [i].category, cases [i].action);
            assert_non_null (ctx.command);
            char *argv [3] = { (char *) cases [i].action, (char *) cases [i].argv [0],
                               (char *) cases [i].argv [1] };
            assert_int_equal (ctx.command->handler (&ctx, cases [i].argc, argv + 1), 0);
            if (ctx.timeout_ms != (given ? 3000 : cases [i].want_ms))
                fail_msg ("%s %s%s: waits %d ms", cases [i].category, cases [i].action,
                          given ? " --timeout 3" : "", ctx.timeout_ms);
            xs_manage_ctx_release (&ctx);
            fclose (io.out);
        }
    json_decref (manage_take (f));

    /* --timeout is honoured: a silent catalog gives up after it, exit 1. */
    xs_fake_catalog_reply (f->catalog, "");
    assert_int_equal (manage_run (f, NULL, "--timeout", "0.2", "volume", "delete", S_UUID,
                                  NULL), 1);
    assert_contains (f->err, "no reply within 1 s");
    manage_assert_sent (f, "volume_delete", "{\"uuid\": \"" S_UUID "\"}");
    assert_int_equal (manage_run (f, NULL, "--timeout", "0", "volume", "list", NULL), 2);
    assert_contains (f->err, "--timeout '0'");
    manage_assert_nothing_sent (f);
}

/* ---------------------------------------------------------------------
   volume delete, snapshot, clone, list, show, connection
   --------------------------------------------------------------------- */

static void
test_volume_delete_snapshot_clone (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"volume\": " S_VOLUME ("deleted", "2") "}");
    assert_int_equal (manage_run (f, NULL, "volume", "delete", S_UUID, NULL), 0);
    manage_assert_sent (f, "volume_delete", "{\"uuid\": \"" S_UUID "\"}");
    assert_contains (f->out, "state:       deleted\n");

    manage_reply_ok (f, "{\"volume\": " S_VOLUME ("available", "2") "}");
    assert_int_equal (manage_run (f, NULL, "volume", "snapshot", S_UUID, "--name", "snap",
                                  NULL), 0);
    manage_assert_sent (f, "volume_snapshot", "{\"uuid\": \"" S_UUID "\", \"name\": \"snap\"}");
    assert_contains (f->out, "uuid:        " S_UUID);
    assert_int_equal (manage_run (f, NULL, "volume", "snap", "--name=s2", S_UUID, NULL), 0);
    manage_assert_sent (f, "volume_snapshot", "{\"uuid\": \"" S_UUID "\", \"name\": \"s2\"}");
    assert_int_equal (manage_run (f, NULL, "volume", "clone", S_UUID, NULL), 0);
    manage_assert_sent (f, "volume_clone", "{\"uuid\": \"" S_UUID "\"}");

    /* Usage errors send nothing. */
    assert_int_equal (manage_run (f, NULL, "volume", "delete", NULL), 2);
    assert_contains (f->err, "volume delete: expected 1 argument(s), got 0");
    assert_int_equal (manage_run (f, NULL, "volume", "delete", "--force", NULL), 2);
    assert_contains (f->err, "volume delete: option '--force': unknown");
    assert_int_equal (manage_run (f, NULL, "volume", "delete", S_UUID, S_UUID, NULL), 2);
    assert_int_equal (manage_run (f, NULL, "volume", "clone", "--name", "x", NULL), 2);
    assert_contains (f->err, "volume clone: expected one volume uuid, got 0");
    assert_int_equal (manage_run (f, NULL, "volume", "clone", S_UUID, "other", NULL), 2);
    assert_contains (f->err, "expected one volume uuid, got 2");
    assert_int_equal (manage_run (f, NULL, "volume", "snapshot", S_UUID, "--nme", "x",
                                  NULL), 2);
    assert_contains (f->err, "volume snapshot: option '--nme': unknown");
    assert_int_equal (manage_run (f, NULL, "volume", "snapshot", S_UUID, "--name", NULL), 2);
    assert_int_equal (manage_run (f, NULL, "volume", "show", "--attempts", NULL), 2);
    assert_contains (f->err, "volume show: option '--attempts': unknown");
    manage_assert_nothing_sent (f);
}

/* volume extend UUID --size S: the size as create takes it, in bytes on
   the wire; usage errors send nothing. */
static void
test_volume_extend (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"volume\": " S_VOLUME ("available", "2") "}");
    assert_int_equal (manage_run (f, NULL, "volume", "extend", S_UUID, "--size", "2G", NULL), 0);
    manage_assert_sent (f, "volume_extend", "{\"uuid\": \"" S_UUID "\", \"size\": 2147483648}");
    assert_contains (f->out, "state:       available\n");
    assert_int_equal (manage_run (f, NULL, "volume", "ext", "--size=4096", S_UUID, NULL), 0);
    manage_assert_sent (f, "volume_extend", "{\"uuid\": \"" S_UUID "\", \"size\": 4096}");
    /* The catalog's refusal reaches the user. */
    manage_reply_error (f, "invalid", "volume " S_UUID ": new size 4096 bytes is not larger "
                        "than its size, 8192 bytes (a volume can only grow)");
    assert_int_equal (manage_run (f, NULL, "volume", "extend", S_UUID, "--size", "4K", NULL), 2);
    assert_contains (f->err, "is not larger than its size");
    json_decref (manage_take (f));

    assert_int_equal (manage_run (f, NULL, "volume", "extend", S_UUID, NULL), 2);
    assert_contains (f->err, "volume extend: --size is required");
    assert_int_equal (manage_run (f, NULL, "volume", "extend", S_UUID, "--size", "lots", NULL), 2);
    assert_contains (f->err, "--size 'lots': expected a positive size");
    assert_int_equal (manage_run (f, NULL, "volume", "extend", "--size", "1G", NULL), 2);
    assert_contains (f->err, "expected one volume uuid, got 0");
    assert_int_equal (manage_run (f, NULL, "volume", "extend", S_UUID, "--name", "x", NULL), 2);
    assert_contains (f->err, "volume extend: option '--name': unknown");
    manage_assert_nothing_sent (f);
}

static void
test_volume_list (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"volumes\": [" S_VOLUME ("available", "2") ", "
                     "{\"uuid\": \"77aa\", \"name\": null, \"size\": 1536, \"flavor\": \"gold\", "
                     "\"backend_id\": null, \"vdi_uuid\": null, \"host_uuid\": null, "
                     "\"state\": \"error\", \"error\": \"no backend\", \"parent_uuid\": null, "
                     "\"request_id\": null, \"created_at\": 1, \"updated_at\": 1}]}");
    assert_int_equal (manage_run (f, NULL, "volume", "list", NULL), 0);
    manage_assert_sent (f, "volume_list", "{\"all\": false}");
    char *header = strtok (f->out, "\n");
    char *row1 = strtok (NULL, "\n");
    char *row2 = strtok (NULL, "\n");
    assert_non_null (row2);
    assert_null (strtok (NULL, "\n"));
    assert_contains (header, "UUID");
    assert_contains (header, "Size");
    assert_contains (header, "State");
    assert_contains (header, "Backend");
    assert_memory_equal (row1, S_UUID, strlen (S_UUID));
    assert_contains (row1, " db ");
    assert_contains (row1, "10 GiB");
    assert_contains (row1, " available ");
    assert_contains (row1, " 2 ");
    assert_contains (row1, "0b5e-vdi");
    assert_memory_equal (row2, "77aa ", 5);
    assert_contains (row2, "1.5 KiB");
    assert_contains (row2, " error ");
    assert_contains (row2, " - ");

    assert_int_equal (manage_run (f, NULL, "volume", "list", "--all", NULL), 0);
    manage_assert_sent (f, "volume_list", "{\"all\": true}");

    /* --json prints the result as the catalog gave it. */
    manage_reply_ok (f, "{\"volumes\": []}");
    assert_int_equal (manage_run (f, NULL, "--json", "vol", "l", NULL), 0);
    json_t *out = json_loads (f->out, 0, NULL);
    json_t *want = json_pack ("{s:[]}", "volumes");
    assert_true (json_equal (out, want));
    json_decref (out);
    json_decref (want);
    manage_assert_sent (f, "volume_list", "{\"all\": false}");

    assert_int_equal (manage_run (f, NULL, "volume", "list", "--deleted", NULL), 2);
    assert_contains (f->err, "unexpected argument '--deleted'");
    assert_int_equal (manage_run (f, NULL, "volume", "list", "--all", "x", NULL), 2);
    manage_assert_nothing_sent (f);
}

static void
test_volume_show_lists_attempts (void **state)
{
    manage_fixture_t *f = *state;
    char *volume = strdup (S_VOLUME ("available", "3"));
    volume [strlen (volume) - 1] = '\0';        /* drop the closing brace */
    char *result = zsys_sprintf (
        "{\"volume\": %s, \"attempts\": ["
        "{\"backend_id\": 1, \"host_uuid\": \"a1-host\", \"outcome\": \"failed\", "
        " \"reason\": \"SR_BACKEND_FAILURE_44: insufficient space\", \"at\": 1764028800000},"
        "{\"backend_id\": 2, \"host_uuid\": null, \"outcome\": \"skipped\", "
        " \"reason\": \"not enough free space (needs 10 GiB)\", \"at\": 1764028800000},"
        "{\"backend_id\": 3, \"host_uuid\": \"a2-host\", \"outcome\": \"ok\", "
        " \"reason\": null, \"at\": 1764028801000}], "
        "\"jobs\": [{\"id\": 7, \"op\": \"vdi_create\", \"state\": \"done\", "
        " \"backend_id\": 3, \"host_uuid\": \"a2-host\", \"error\": null}]}}", volume);
    manage_reply_ok (f, result);
    assert_int_equal (manage_run (f, NULL, "volume", "show", S_UUID, NULL), 0);
    manage_assert_sent (f, "volume_show", "{\"uuid\": \"" S_UUID "\"}");
    assert_contains (f->out, "uuid:        " S_UUID "\n");
    assert_contains (f->out, "backend:     3\n");
    assert_contains (f->out, "attempts:\n");
    assert_contains (f->out, "2025-11-25 00:00:00  backend 1  failed   host a1-host: "
                     "SR_BACKEND_FAILURE_44: insufficient space\n");
    assert_contains (f->out, "backend 2  skipped  host -: not enough free space (needs 10 GiB)");
    assert_contains (f->out, "2025-11-25 00:00:01  backend 3  ok       host a2-host");
    assert_contains (f->out, "jobs:\n  7  vdi_create    done      backend 3  host a2-host\n");
    zstr_free (&result);
    free (volume);

    manage_reply_ok (f, "{\"volume\": " S_VOLUME ("creating", "null") "}");
    assert_int_equal (manage_run (f, NULL, "volume", "show", S_UUID, NULL), 0);
    assert_contains (f->out, "backend:     -\n");
    assert_contains (f->out, "attempts:    none\n");
    json_decref (manage_take (f));

    manage_reply_error (f, "not_found", "volume 0000: not found");
    assert_int_equal (manage_run (f, NULL, "volume", "show", "0000", NULL), 2);
    assert_contains (f->err, "volume 0000: not found");
    manage_assert_sent (f, "volume_show", "{\"uuid\": \"0000\"}");
}

static void
test_volume_connection (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"connection\": {\"volume_uuid\": \"" S_UUID "\", \"vdi_uuid\": "
                     "\"0b5e-vdi\", \"sr_uuid\": \"5r-uuid\", \"sr_type\": \"lvmoiscsi\", "
                     "\"backend_id\": 2, \"zone\": \"za\", \"name_label\": \"iscsi-a\", "
                     "\"device_config\": {\"target\": \"10.0.0.5\", \"targetIQN\": \"iqn.x\", "
                     "\"chappassword\": \"******\"}}}");
    assert_int_equal (manage_run (f, NULL, "volume", "connection", S_UUID, NULL), 0);
    manage_assert_sent (f, "volume_connection",
                        "{\"uuid\": \"" S_UUID "\", \"show_secrets\": false}");
    assert_contains (f->out, "vdi_uuid:      0b5e-vdi\n");
    assert_contains (f->out, "sr_uuid:       5r-uuid\n");
    assert_contains (f->out, "sr_type:       lvmoiscsi\n");
    assert_contains (f->out, "zone:          za\n");
    assert_contains (f->out, "device_config: target=10.0.0.5 targetIQN=iqn.x "
                     "chappassword=******\n");

    assert_int_equal (manage_run (f, NULL, "volume", "conn", "--show-secrets", S_UUID, NULL),
                      0);
    manage_assert_sent (f, "volume_connection",
                        "{\"uuid\": \"" S_UUID "\", \"show_secrets\": true}");

    assert_int_equal (manage_run (f, NULL, "volume", "connection", "--show", S_UUID, NULL), 2);
    assert_contains (f->err, "unexpected argument '--show'");
    assert_int_equal (manage_run (f, NULL, "volume", "connection", S_UUID, "x", NULL), 2);
    assert_int_equal (manage_run (f, NULL, "volume", "connection", "--show-secrets", NULL), 2);
    assert_contains (f->err, "missing the volume uuid");
    manage_assert_nothing_sent (f);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_volume_create_sends_and_prints, manage_setup,
                                         manage_teardown),
        cmocka_unit_test_setup_teardown (test_volume_create_refusals, manage_setup,
                                         manage_teardown),
        cmocka_unit_test_setup_teardown (test_volume_errors, manage_setup, manage_teardown),
        cmocka_unit_test_setup_teardown (test_volume_timeouts, manage_setup, manage_teardown),
        cmocka_unit_test_setup_teardown (test_volume_extend, manage_setup, manage_teardown),
        cmocka_unit_test_setup_teardown (test_volume_delete_snapshot_clone, manage_setup,
                                         manage_teardown),
        cmocka_unit_test_setup_teardown (test_volume_list, manage_setup, manage_teardown),
        cmocka_unit_test_setup_teardown (test_volume_show_lists_attempts, manage_setup,
                                         manage_teardown),
        cmocka_unit_test_setup_teardown (test_volume_connection, manage_setup, manage_teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zsys_shutdown ();
    return rc;
}
