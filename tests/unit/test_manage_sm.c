/*  Unit tests for xensm-manage's nova-manage commands (xs_manage_sm), run
    against a fake catalog (manage_fixture): flavor_*, backend_add's order
    (its own checks, then the flavor, then the confirmation, then the add),
    backend_list and backend_remove. (The seed's examples run against the
    real catalogd in tests/integration/test_admin_cli.py.) */
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

#define S_SR_UUID "0c4b2f9e-5555-4666-8777-888899990000"

/* The commands of one run: their names, in order, as "cmd cmd ...". */
static void
s_assert_commands (manage_fixture_t *f, const char *want)
{
    json_t *list = manage_take (f);
    char got [256] = "";
    size_t i;
    json_t *request;
    json_array_foreach (list, i, request) {
        const char *cmd = json_string_value (json_object_get (request, "cmd"));
        snprintf (got + strlen (got), sizeof got - strlen (got), "%s%s", i ? " " : "",
                  cmd ? cmd : "?");
    }
    assert_string_equal (got, want);
    json_decref (list);
}

/* ---------------------------------------------------------------------
   sm flavor_*
   --------------------------------------------------------------------- */

static void
test_flavor_commands (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"flavor\": {\"id\": 4, \"label\": \"gold\"}}");
    assert_int_equal (manage_run (f, NULL, "sm", "flavor_create", "gold",
                                  "Not all that glitters", NULL), 0);
    manage_assert_sent (f, "flavor_create", "{\"label\": \"gold\", "
                        "\"description\": \"Not all that glitters\"}");
    assert_string_equal (f->out, "flavor gold created (id 4)\n");

    manage_reply_ok (f, "{\"flavors\": [{\"id\": 4, \"label\": \"gold\", "
                              "\"description\": \"Not all that glitters\"}]}");
    assert_int_equal (manage_run (f, NULL, "sm", "flavor_l", NULL), 0);
    manage_assert_sent (f, "flavor_list", "{}");
    assert_contains (f->out, "id");
    assert_contains (f->out, "Label");
    assert_contains (f->out, "Description\n");
    assert_contains (f->out, "4                 \tgold                \tNot all that glitters\n");
    assert_int_equal (manage_run (f, NULL, "SM", "FLAVOR_LIST", "gold", NULL), 0);
    manage_assert_sent (f, "flavor_list", "{\"label\": \"gold\"}");

    assert_int_equal (manage_run (f, NULL, "sm", "flavor_delete", "gold", NULL), 0);
    manage_assert_sent (f, "flavor_delete", "{\"label\": \"gold\"}");
    assert_string_equal (f->out, "flavor gold deleted\n");

    /* After `--` the arguments are literal: a flavor named --help. */
    assert_int_equal (manage_run (f, NULL, "sm", "flavor_create", "--", "--help", "odd",
                                  NULL), 0);
    manage_assert_sent (f, "flavor_create", "{\"label\": \"--help\", "
                        "\"description\": \"odd\"}");
    assert_int_equal (manage_run (f, NULL, "sm", "flavor_delete", "--", "--help", NULL), 0);
    manage_assert_sent (f, "flavor_delete", "{\"label\": \"--help\"}");
    /* Without it, --help is the command's help, and nothing is sent. */
    assert_int_equal (manage_run (f, NULL, "sm", "flavor_create", "--help", "odd", NULL), 0);
    assert_contains (f->out, "sm flavor_create <label> <description>");
    manage_assert_nothing_sent (f);

    /* Not UTF-8: refused before sending, naming what. */
    assert_int_equal (manage_run (f, NULL, "sm", "flavor_create", "\xff", "d", NULL), 2);
    assert_contains (f->err, "flavor_create: label and description must be UTF-8 text");
    /* An ambiguous action lists the matches. */
    assert_int_equal (manage_run (f, NULL, "sm", "flavor", NULL), 2);
    assert_contains (f->err, "ambiguous action 'flavor' in category sm (matches: "
                     "flavor_create flavor_list flavor_delete)");
    manage_assert_nothing_sent (f);
}

/* ---------------------------------------------------------------------
   sm backend_add
   --------------------------------------------------------------------- */

/* The key=value syntax, --zone and the SR type's keys are checked before
   anything is sent. */
static void
test_backend_add_checks_first (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"flavors\": []}");
    static const struct { const char *zone, *type, *kv1, *kv2, *why; } bad [] = {
        { NULL, "nfs", "server", "serverpath=/x", "sm backend_add: " },
        { NULL, "bogus", "server=s", "serverpath=/x", "sm backend_add: " },
        { NULL, "nfs", "server=s", "name_label=n", "serverpath" },
        { NULL, "nfs", "server=s", "colour=blue", "colour" },
        { "za", "nfs", "server=s", "zone=zb", "sm backend_add: --zone za and zone=zb disagree" },
        { NULL, "nfs", "server=s", "zone=a b", "zone 'a b': byte 1 not allowed" },
        { NULL, "nfs", "server=s", "sr_uuid=00000000-0000-0000-0000-000000000000",
          "the nil UUID names no SR" },
        { NULL, "nfs", "server=s", "reserve=-0", "reserve '-0': no sign allowed" },
        { NULL, "nfs", "server=s", "name_label=x\xe2\x80\xaey",
          "invisible or direction-changing character U+202E" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        int rc = bad [i].zone
               ? manage_run (f, NULL, "--yes", "--zone", bad [i].zone, "sm", "backend_add",
                             "gold", bad [i].type, bad [i].kv1, bad [i].kv2, NULL)
               : manage_run (f, NULL, "--yes", "sm", "backend_add", "gold", bad [i].type,
                             bad [i].kv1, bad [i].kv2, NULL);
        assert_int_equal (rc, 2);
        assert_contains (f->err, bad [i].why);
        manage_assert_nothing_sent (f);
    }
}

static void
test_backend_add_confirms_a_new_sr (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"flavors\": [], \"backend\": {\"id\": 3, "
                              "\"zone\": \"za\", \"sr_uuid\": null}}");
    const char *want = "{\"flavor\": \"gold\", \"sr_type\": \"nfs\", \"params\": {"
                       "\"name_label\": \"toybox\", \"server\": \"myserver\", "
                       "\"serverpath\": \"/local/scratch\", \"zone\": \"za\"}}";
    /* No terminal, no --yes: warned, refused after the flavor check. */
    assert_int_equal (manage_run (f, NULL, "--zone", "za", "sm", "backend_add", "gold", "nfs",
                                  "name_label=toybox", "server=myserver",
                                  "serverpath=/local/scratch", NULL), 2);
    assert_contains (f->err, "WARNING: no sr_uuid= given: a NEW nfs SR will be created for "
                     "flavor gold on server=myserver serverpath=/local/scratch");
    assert_contains (f->err, "sm backend_add: refusing to create a new SR without "
                     "confirmation: not on a terminal (pass --yes to confirm); nothing was "
                     "created\n");
    s_assert_commands (f, "flavor_list");
    /* On a terminal, "n" keeps it. */
    assert_int_equal (manage_run (f, "n\n", "--zone", "za", "sm", "backend_add", "gold", "nfs",
                                  "name_label=toybox", "server=myserver",
                                  "serverpath=/local/scratch", NULL), 1);
    assert_contains (f->err, "Proceed? (y/n) ");
    assert_contains (f->err, "sm backend_add: not confirmed; nothing was created\n");
    s_assert_commands (f, "flavor_list");
    /* "y" adds it, and so does --yes, without asking. */
    assert_int_equal (manage_run (f, "y\n", "--zone", "za", "sm", "backend_add", "gold", "nfs",
                                  "name_label=toybox", "server=myserver",
                                  "serverpath=/local/scratch", NULL), 0);
    assert_string_equal (f->out, "backend 3 added: flavor gold, SR type nfs, zone za, new SR "
                         "(created by one agent of the zone)\n");
    json_t *list = manage_take (f);
    assert_int_equal (json_array_size (list), 2);
    json_t *expected = json_loads (want, 0, NULL);
    assert_non_null (expected);
    assert_true (json_equal (json_object_get (json_array_get (list, 1), "args"), expected));
    json_decref (expected);
    json_decref (list);
    assert_int_equal (manage_run (f, "n\n", "--yes", "sm", "backend_add", "gold", "nfs",
                                  "name_label=toybox", "server=myserver",
                                  "serverpath=/local/scratch", "zone=za", NULL), 0);
    assert_null (strstr (f->err, "Proceed"));
    assert_contains (f->err, "WARNING");
    s_assert_commands (f, "flavor_list backend_add");
}

static void
test_backend_add_existing_sr (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"flavors\": [], \"backend\": {\"id\": 5, "
                              "\"zone\": \"default\", \"sr_uuid\": \"" S_SR_UUID "\"}}");
    /* sr_uuid= introduces an SR: no warning, no question, even with no terminal. */
    assert_int_equal (manage_run (f, NULL, "sm", "backend_add", "gold", "nfs",
                                  "sr_uuid=" S_SR_UUID, "server=s", "serverpath=/p=q", NULL),
                      0);
    assert_string_equal (f->err, "");
    assert_string_equal (f->out, "backend 5 added: flavor gold, SR type nfs, zone default, "
                         "existing SR " S_SR_UUID " (introduced by the zone's agents)\n");
    json_t *list = manage_take (f);
    assert_int_equal (json_array_size (list), 2);
    json_t *params = json_object_get (json_object_get (json_array_get (list, 1), "args"),
                                      "params");
    assert_string_equal (json_string_value (json_object_get (params, "serverpath")), "/p=q");
    json_decref (list);
    /* --json prints the catalog's result. */
    assert_int_equal (manage_run (f, NULL, "--json", "sm", "backend_add", "gold", "nfs",
                                  "sr_uuid=" S_SR_UUID, "server=s", "serverpath=/p", NULL), 0);
    json_t *out = json_loads (f->out, 0, NULL);
    assert_non_null (out);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (out, "backend"),
                                                           "id")), 5);
    json_decref (out);
    s_assert_commands (f, "flavor_list backend_add");
    /* A backend the pool cannot use is added, with a warning naming why. */
    manage_reply_ok (f, "{\"flavors\": [], \"backend\": {\"id\": 6, \"zone\": \"zb\", "
                     "\"sr_uuid\": \"" S_SR_UUID "\", \"unusable\": \"no SM driver for SR "
                     "type netapp on the live hosts of zone zb (their pool has: nfs)\"}}");
    assert_int_equal (manage_run (f, NULL, "sm", "backend_add", "gold", "nfs",
                                  "sr_uuid=" S_SR_UUID, "server=s", "serverpath=/p", NULL), 0);
    assert_contains (f->out, "backend 6 added");
    assert_string_equal (f->err, "sm backend_add: warning: backend 6 cannot hold volumes: no "
                         "SM driver for SR type netapp on the live hosts of zone zb (their "
                         "pool has: nfs)\n");
    s_assert_commands (f, "flavor_list backend_add");

    /* A flavor the catalog does not know: nothing is added. */
    manage_reply_error (f, "not_found", "flavor silver: not found");
    assert_int_equal (manage_run (f, NULL, "sm", "backend_add", "silver", "nfs",
                                  "sr_uuid=" S_SR_UUID, "server=s", "serverpath=/p", NULL), 2);
    assert_contains (f->err, "xensm-manage: flavor silver: not found\n");
    s_assert_commands (f, "flavor_list");
}

/* The sent backend_add's params.<key>, or NULL; asserts two requests. */
static char *
s_sent_param (manage_fixture_t *f, const char *key)
{
    json_t *list = manage_take (f);
    assert_int_equal (json_array_size (list), 2);
    json_t *params = json_object_get (json_object_get (json_array_get (list, 1), "args"),
                                      "params");
    const char *value = json_string_value (json_object_get (params, key));
    char *copy = value ? strdup (value) : NULL;
    json_decref (list);
    return copy;
}

static void
test_backend_add_reads_secrets_from_a_file_or_stdin (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"flavors\": [], \"backend\": {\"id\": 5, "
                              "\"zone\": \"default\", \"sr_uuid\": \"" S_SR_UUID "\"}}");
    /* In the clear: it works, with a warning that names the key, never the value. */
    assert_int_equal (manage_run (f, NULL, "sm", "backend_add", "gold", "lvmoiscsi",
                                  "sr_uuid=" S_SR_UUID, "target=t", "targetIQN=iqn", "SCSIid=1",
                                  "chappassword=clear-one", NULL), 0);
    assert_contains (f->err, "WARNING: chappassword= given on the command line");
    assert_null (strstr (f->err, "clear-one"));
    char *sent = s_sent_param (f, "chappassword");
    assert_string_equal (sent, "clear-one");
    free (sent);

    /* key=- reads one line of standard input; no warning. */
    assert_int_equal (manage_run (f, "from stdin\nnot this\n", "sm", "backend_add", "gold",
                                  "lvmoiscsi", "sr_uuid=" S_SR_UUID, "target=t",
                                  "targetIQN=iqn", "SCSIid=1", "chappassword=-", NULL), 0);
    assert_string_equal (f->err, "");
    sent = s_sent_param (f, "chappassword");
    assert_string_equal (sent, "from stdin");
    free (sent);

    /* key=@FILE reads the file's first line. */
    char path [128];
    snprintf (path, sizeof path, "%s/chap", f->dir);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs ("from a file\nsecond line\n", file);
    fclose (file);
    char arg [160];
    snprintf (arg, sizeof arg, "incoming_chappassword=@%s", path);
    assert_int_equal (manage_run (f, NULL, "sm", "backend_add", "gold", "lvmoiscsi",
                                  "sr_uuid=" S_SR_UUID, "target=t", "targetIQN=iqn", "SCSIid=1",
                                  arg, NULL), 0);
    assert_string_equal (f->err, "");
    sent = s_sent_param (f, "incoming_chappassword");
    assert_string_equal (sent, "from a file");
    free (sent);

    /* A file that cannot be read, or no input: the key and the reason; nothing sent. */
    snprintf (arg, sizeof arg, "chappassword=@%s/missing", f->dir);
    assert_int_equal (manage_run (f, NULL, "sm", "backend_add", "gold", "lvmoiscsi",
                                  "sr_uuid=" S_SR_UUID, "target=t", "targetIQN=iqn", "SCSIid=1",
                                  arg, NULL), 2);
    assert_contains (f->err, "chappassword=: cannot read ");
    assert_contains (f->err, "/missing: No such file or directory");
    manage_assert_nothing_sent (f);
    assert_int_equal (manage_run (f, NULL, "sm", "backend_add", "gold", "lvmoiscsi",
                                  "sr_uuid=" S_SR_UUID, "target=t", "targetIQN=iqn", "SCSIid=1",
                                  "chappassword=-", NULL), 2);
    assert_contains (f->err, "chappassword=: nothing to read (an empty secret)");
    manage_assert_nothing_sent (f);
    /* Only secrets are read: a path in another key is sent as given. */
    assert_int_equal (manage_run (f, NULL, "sm", "backend_add", "gold", "nfs",
                                  "sr_uuid=" S_SR_UUID, "server=s", "serverpath=@/p", NULL), 0);
    sent = s_sent_param (f, "serverpath");
    assert_string_equal (sent, "@/p");
    free (sent);
}

/* ---------------------------------------------------------------------
   sm backend_list, backend_remove
   --------------------------------------------------------------------- */

static void
test_backend_list_and_remove (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"backends\": [{\"id\": 3, \"flavor_id\": 4, "
        "\"sr_uuid\": null, \"sr_type\": \"lvmoiscsi\", \"name_label\": \"iscsi-a\", "
        "\"config\": {\"target\": \"10.0.0.5\", \"chappassword\": \"******\"}, "
        "\"zone\": \"za\", \"ratio\": 1.5, \"reserve\": 10}]}");
    assert_int_equal (manage_run (f, NULL, "sm", "backend_list", NULL), 0);
    manage_assert_sent (f, "backend_list", "{}");
    assert_contains (f->out, "Flavor id");
    assert_contains (f->out, "Config Parameters\n");
    assert_contains (f->out, "3     4          -                                        "
                     "lvmoiscsi  name_label=iscsi-a target=10.0.0.5 chappassword=****** "
                     "zone=za ratio=1.5 reserve=10\n");
    assert_int_equal (manage_run (f, NULL, "sm", "backend_list", "3", NULL), 0);
    manage_assert_sent (f, "backend_list", "{\"id\": 3}");
    /* Why the pool cannot hold volumes there, under the backend's line. */
    manage_reply_ok (f, "{\"backends\": [{\"id\": 5, \"flavor_id\": 4, "
        "\"sr_uuid\": null, \"sr_type\": \"nfs\", \"name_label\": null, "
        "\"config\": {\"server\": \"s\"}, \"zone\": \"zb\", \"ratio\": null, "
        "\"reserve\": null, \"unusable\": \"no SM driver for SR type nfs on the live "
        "hosts of zone zb (their pool has: ext, lvm)\"}]}");
    assert_int_equal (manage_run (f, NULL, "sm", "backend_list", NULL), 0);
    manage_assert_sent (f, "backend_list", "{}");
    assert_contains (f->out, "server=s zone=zb\n      unusable: no SM driver for SR type nfs "
                     "on the live hosts of zone zb (their pool has: ext, lvm)\n");

    assert_int_equal (manage_run (f, NULL, "sm", "backend_remove", "3", NULL), 0);
    manage_assert_sent (f, "backend_remove", "{\"id\": 3}");
    assert_string_equal (f->out, "backend 3 removed\n");
    /* nova-manage sm's usage names it backend_delete: the same command. */
    assert_int_equal (manage_run (f, NULL, "sm", "backend_delete", "3", NULL), 0);
    manage_assert_sent (f, "backend_remove", "{\"id\": 3}");
    assert_string_equal (f->out, "backend 3 removed\n");
    assert_int_equal (manage_run (f, NULL, "sm", "backend_delete", "x", NULL), 2);
    assert_contains (f->err, "usage: xensm-manage [options] sm backend_delete <id>\n");

    static const char *const ids [] = { "x", "0", "-1", "3x", "", " 3", "+3" };
    for (size_t i = 0; i < sizeof ids / sizeof ids [0]; i++) {
        assert_int_equal (manage_run (f, NULL, "sm", "backend_remove", ids [i], NULL), 2);
        char want [64];
        snprintf (want, sizeof want, "sm backend_remove: backend id '%s': not a positive "
                  "integer\n", ids [i]);
        assert_contains (f->err, want);
        assert_contains (f->err, "usage: xensm-manage [options] sm backend_remove <id>\n");
        assert_int_equal (manage_run (f, NULL, "sm", "backend_list", ids [i], NULL), 2);
        assert_contains (f->err, "not a positive integer");
    }
    manage_assert_nothing_sent (f);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_flavor_commands, manage_setup, manage_teardown),
        cmocka_unit_test_setup_teardown (test_backend_add_checks_first, manage_setup,
                                         manage_teardown),
        cmocka_unit_test_setup_teardown (test_backend_add_reads_secrets_from_a_file_or_stdin,
                                         manage_setup, manage_teardown),
        cmocka_unit_test_setup_teardown (test_backend_add_confirms_a_new_sr, manage_setup,
                                         manage_teardown),
        cmocka_unit_test_setup_teardown (test_backend_add_existing_sr, manage_setup,
                                         manage_teardown),
        cmocka_unit_test_setup_teardown (test_backend_list_and_remove, manage_setup,
                                         manage_teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zsys_shutdown ();
    return rc;
}
