/*  Unit tests for xensm-manage's host commands (xs_manage_host), run
    against a fake catalog (manage_fixture): the certificate checks of
    `host enroll` before anything is sent, the host table, and the
    confirmation `host remove` asks for. */
#include "catalog/cli/xs_manage_cmd.h"
#include "manage_fixture.h"

#include <czmq.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* ---------------------------------------------------------------------
   host enroll
   --------------------------------------------------------------------- */

static char *
s_write_file (manage_fixture_t *f, const char *name, const char *data, size_t size)
{
    char *path = zsys_sprintf ("%s/%s", f->dir, name);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    assert_int_equal (fwrite (data, 1, size, file), size);
    assert_int_equal (fclose (file), 0);
    return path;
}

static void
test_host_enroll (void **state)
{
    manage_fixture_t *f = *state;
    static const char cert [] =
        "#   ****  Generated on 2026-11-25 by CZMQ  ****\n"
        "#   ZeroMQ CURVE Public Certificate\n"
        "metadata\n"
        "curve\n"
        "    public-key = \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n";
    char *path = s_write_file (f, "a1.cert", cert, strlen (cert));
    manage_reply_ok (f, "{\"public_key\": \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"}");
    assert_int_equal (manage_run (f, NULL, "host", "enroll", path, NULL), 0);
    json_t *list = manage_take (f);
    assert_int_equal (json_array_size (list), 1);
    json_t *request = json_array_get (list, 0);
    assert_string_equal (json_string_value (json_object_get (request, "cmd")), "host_enroll");
    assert_string_equal (json_string_value (json_object_get (json_object_get (request, "args"),
                                                             "public_key")), cert);
    json_decref (list);
    assert_contains (f->out, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7 enrolled");
    zstr_free (&path);

    /* Exactly the limit is sent. */
    char big [XS_MANAGE_CERT_MAX + 1];
    memset (big, 'k', sizeof big);
    path = s_write_file (f, "limit.cert", big, XS_MANAGE_CERT_MAX);
    assert_int_equal (manage_run (f, NULL, "host", "enroll", path, NULL), 0);
    list = manage_take (f);
    assert_int_equal (json_array_size (list), 1);
    assert_int_equal (strlen (json_string_value (json_object_get (json_object_get (
        json_array_get (list, 0), "args"), "public_key"))), XS_MANAGE_CERT_MAX);
    json_decref (list);
    zstr_free (&path);

    /* Refused before anything is sent, naming the file and the reason. */
    static const struct { const char *name; const char *data; size_t size; int rc;
                          const char *why; } bad [] = {
        { "big.cert", NULL, XS_MANAGE_CERT_MAX + 1, 2, "larger than 4096 bytes" },
        { "empty.cert", "", 0, 2, "empty file" },
        { "nul.cert", "abc\0def", 7, 2, "holds NUL bytes" },
        { "a1.cert_secret", "secret", 6, 2, "is a SECRET certificate" },
        { "latin1.cert", "caf\xe9", 4, 2, "not UTF-8 text" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        path = s_write_file (f, bad [i].name, bad [i].data ? bad [i].data : big, bad [i].size);
        assert_int_equal (manage_run (f, NULL, "host", "enroll", path, NULL), bad [i].rc);
        assert_contains (f->err, path);
        assert_contains (f->err, bad [i].why);
        manage_assert_nothing_sent (f);
        zstr_free (&path);
    }
    path = zsys_sprintf ("%s/missing.cert", f->dir);
    assert_int_equal (manage_run (f, NULL, "host", "enroll", path, NULL), 2);
    assert_contains (f->err, path);
    assert_contains (f->err, "No such file or directory");
    zstr_free (&path);
    assert_int_equal (manage_run (f, NULL, "host", "enroll", f->dir, NULL), 2);
    assert_contains (f->err, f->dir);
    assert_contains (f->err, "cannot read it: Is a directory");
    if (geteuid () != 0) {          /* root reads anything */
        path = s_write_file (f, "private.cert", cert, strlen (cert));
        assert_int_equal (chmod (path, 0), 0);
        assert_int_equal (manage_run (f, NULL, "host", "enroll", path, NULL), 1);
        assert_contains (f->err, "Permission denied");
        zstr_free (&path);
    }
    assert_int_equal (manage_run (f, NULL, "host", "enroll", NULL), 2);
    manage_assert_nothing_sent (f);
}

/* ---------------------------------------------------------------------
   host list, remove
   --------------------------------------------------------------------- */

static void
test_host_list (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"hosts\": ["
        "{\"uuid\": \"a1-host\", \"name\": \"a1\", \"zone\": \"za\", \"state\": \"up\", "
        " \"last_seen\": 1764028861000, \"public_key\": \"K1\", \"srs\": ["
        "  {\"backend_id\": 1, \"sr_uuid\": \"sr-one\", \"physical_size\": 100},"
        "  {\"backend_id\": 4, \"sr_uuid\": \"sr-four\"}]},"
        "{\"uuid\": \"b1-host\", \"name\": \"\", \"zone\": \"zb\", \"state\": \"down\", "
        " \"last_seen\": 1764028800000, \"public_key\": \"K2\", \"srs\": []},"
        "{\"uuid\": \"\", \"name\": \"\", \"zone\": \"\", \"state\": \"enrolled\", "
        " \"last_seen\": 0, \"public_key\": \"K3-never-seen\", \"srs\": []}]}");
    assert_int_equal (manage_run (f, NULL, "host", "list", NULL), 0);
    manage_assert_sent (f, "host_list", "{}");
    char *header = strtok (f->out, "\n");
    char *up = strtok (NULL, "\n");
    char *down = strtok (NULL, "\n");
    char *enrolled = strtok (NULL, "\n");
    assert_non_null (enrolled);
    assert_null (strtok (NULL, "\n"));
    assert_contains (header, "Host UUID");
    assert_contains (header, "Zone");
    assert_contains (header, "State");
    assert_contains (header, "Last seen");
    assert_contains (header, "SRs");
    assert_memory_equal (up, "a1-host ", 8);
    assert_contains (up, " a1 ");
    assert_contains (up, " za ");
    assert_contains (up, " up ");
    assert_contains (up, "2025-11-25 00:01:01");
    assert_contains (up, " 1:sr-one 4:sr-four");
    assert_memory_equal (down, "b1-host ", 8);
    assert_contains (down, " zb ");
    assert_contains (down, " down ");
    assert_contains (down, "2025-11-25 00:00:00");
    assert_memory_equal (enrolled, "- ", 2);
    assert_contains (enrolled, " enrolled ");
    assert_contains (enrolled, "(key K3-never-seen, not registered yet)");

    /* The SR types a host's pool has SM drivers for, once reported. */
    manage_reply_ok (f, "{\"hosts\": ["
        "{\"uuid\": \"a1-host\", \"name\": \"a1\", \"zone\": \"za\", \"state\": \"up\", "
        " \"last_seen\": 1764028861000, \"public_key\": \"K1\", \"srs\": [], "
        " \"sm_drivers\": [\"ext\", \"lvm\"]},"
        "{\"uuid\": \"b1-host\", \"name\": \"b1\", \"zone\": \"za\", \"state\": \"up\", "
        " \"last_seen\": 1764028861000, \"public_key\": \"K2\", \"srs\": [], "
        " \"sm_drivers\": null}]}");
    assert_int_equal (manage_run (f, NULL, "host", "list", NULL), 0);
    manage_assert_sent (f, "host_list", "{}");
    assert_contains (f->out, " -\n                                      SM drivers: ext lvm\nb1-host");
    assert_null (strstr (strstr (f->out, "b1-host"), "SM drivers"));

    assert_int_equal (manage_run (f, NULL, "host", "list", "extra", NULL), 2);
    assert_contains (f->err, "host list: expected 0 argument(s), got 1");
    manage_assert_nothing_sent (f);
}

static void
test_host_remove_confirms (void **state)
{
    manage_fixture_t *f = *state;
    manage_reply_ok (f, "{\"removed\": \"a1-host\"}");
    /* Not on a terminal and no --yes: refused, nothing sent. */
    assert_int_equal (manage_run (f, NULL, "host", "remove", "a1-host", NULL), 2);
    assert_contains (f->err, "not on a terminal (pass --yes to confirm); nothing was removed");
    manage_assert_nothing_sent (f);
    /* On a terminal: "n" (or nothing) keeps it. */
    assert_int_equal (manage_run (f, "n\n", "host", "remove", "a1-host", NULL), 1);
    assert_contains (f->err, "Host a1-host will no longer be admitted");
    assert_contains (f->err, "not confirmed; nothing was removed");
    assert_int_equal (manage_run (f, "", "host", "remove", "a1-host", NULL), 1);
    manage_assert_nothing_sent (f);
    /* "y" removes it. */
    assert_int_equal (manage_run (f, "yes\n", "host", "remove", "a1-host", NULL), 0);
    manage_assert_sent (f, "host_remove", "{\"host\": \"a1-host\"}");
    assert_contains (f->out, "host a1-host removed");
    /* --yes skips the question, on a terminal or not; a key starting with '-'
       (Z85 allows it) is a key, not an option. */
    assert_int_equal (manage_run (f, NULL, "--yes", "host", "remove",
                                  "-q:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", NULL), 0);
    manage_assert_sent (f, "host_remove",
                        "{\"host\": \"-q:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"}");
    assert_int_equal (manage_run (f, "n\n", "-y", "host", "rem", "a1-host", NULL), 0);
    assert_null (strstr (f->err, "Proceed"));
    manage_assert_sent (f, "host_remove", "{\"host\": \"a1-host\"}");

    manage_reply_error (f, "not_found", "host nosuch: not enrolled");
    assert_int_equal (manage_run (f, NULL, "--yes", "host", "remove", "nosuch", NULL), 2);
    assert_contains (f->err, "host nosuch: not enrolled");
    manage_assert_sent (f, "host_remove", "{\"host\": \"nosuch\"}");
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_host_enroll, manage_setup, manage_teardown),
        cmocka_unit_test_setup_teardown (test_host_list, manage_setup, manage_teardown),
        cmocka_unit_test_setup_teardown (test_host_remove_confirms, manage_setup, manage_teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zsys_shutdown ();
    return rc;
}
