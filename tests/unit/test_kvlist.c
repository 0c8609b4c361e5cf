/*  Unit tests for xs_kvlist, key=value argument parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/xs_kvlist.h"
#include "common/xs_redact.h"

static void
test_split_at_first_equals (void **state)
{
    xs_kvlist_t *kv = xs_kvlist_new ();
    xs_err_t err;
    assert_int_equal (xs_kvlist_parse (kv, "options=rw,sec=sys", &err), 0);
    assert_int_equal (xs_kvlist_parse (kv, "serverpath=/local/scratch/my name", &err), 0);
    assert_int_equal (xs_kvlist_parse (kv, "password==a=b= ", &err), 0);
    assert_int_equal (xs_kvlist_parse (kv, "empty=", &err), 0);
    assert_int_equal (xs_kvlist_size (kv), 4);
    assert_string_equal (xs_kvlist_get (kv, "options"), "rw,sec=sys");
    assert_string_equal (xs_kvlist_get (kv, "serverpath"), "/local/scratch/my name");
    assert_string_equal (xs_kvlist_get (kv, "password"), "=a=b= ");
    assert_string_equal (xs_kvlist_get (kv, "empty"), "");
    /* Insertion order is kept. */
    assert_string_equal (xs_kvlist_key (kv, 0), "options");
    assert_string_equal (xs_kvlist_key (kv, 3), "empty");
    assert_string_equal (xs_kvlist_value (kv, 1), "/local/scratch/my name");
    assert_null (xs_kvlist_key (kv, 4));
    assert_null (xs_kvlist_get (kv, "missing"));
    xs_kvlist_destroy (&kv);
    assert_null (kv);
    xs_kvlist_destroy (&kv);
}

static void
test_refusals (void **state)
{
    xs_kvlist_t *kv = xs_kvlist_new ();
    xs_err_t err;
    assert_int_equal (xs_kvlist_parse (kv, "novalue", &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "novalue"));
    assert_non_null (strstr (err.msg, "key=value"));

    assert_int_equal (xs_kvlist_parse (kv, "=value", &err), -1);
    assert_non_null (strstr (err.msg, "empty key"));

    assert_int_equal (xs_kvlist_parse (kv, "bad key=v", &err), -1);
    assert_non_null (strstr (err.msg, "bad key"));

    assert_int_equal (xs_kvlist_parse (kv, "k=line\nbreak", &err), -1);
    assert_non_null (strstr (err.msg, "control character"));

    assert_int_equal (xs_kvlist_parse (kv, "k=\xff\xfe", &err), -1);
    assert_non_null (strstr (err.msg, "UTF-8"));

    char longkey [XS_KVLIST_KEY_MAX + 10];
    memset (longkey, 'k', sizeof longkey);
    longkey [XS_KVLIST_KEY_MAX + 1] = '=';
    longkey [XS_KVLIST_KEY_MAX + 2] = '\0';
    assert_int_equal (xs_kvlist_parse (kv, longkey, &err), -1);
    assert_non_null (strstr (err.msg, "longer than"));

    assert_int_equal (xs_kvlist_parse (kv, "server=a", &err), 0);
    assert_int_equal (xs_kvlist_parse (kv, "server=b", &err), -1);
    assert_non_null (strstr (err.msg, "server"));
    assert_non_null (strstr (err.msg, "twice"));
    /* The first value stays. */
    assert_string_equal (xs_kvlist_get (kv, "server"), "a");
    assert_int_equal (xs_kvlist_size (kv), 1);
    /* Keys are case-sensitive, as xapi's device_config keys are. */
    assert_int_equal (xs_kvlist_parse (kv, "Server=c", &err), 0);
    assert_int_equal (xs_kvlist_parse (kv, NULL, &err), -1);
    xs_kvlist_destroy (&kv);
}

static void
test_errors_never_show_secret_values (void **state)
{
    xs_kvlist_t *kv = xs_kvlist_new ();
    xs_err_t err;
    assert_int_equal (xs_kvlist_parse (kv, "password=hunter2", &err), 0);
    assert_int_equal (xs_kvlist_parse (kv, "password=hunter3", &err), -1);
    assert_null (strstr (err.msg, "hunter"));
    assert_int_equal (xs_kvlist_parse (kv, "chappassword=hunter2\x01", &err), -1);
    assert_null (strstr (err.msg, "hunter"));
    xs_kvlist_destroy (&kv);
}

static void
test_argv_stops_at_first_bad (void **state)
{
    xs_kvlist_t *kv = xs_kvlist_new ();
    xs_err_t err;
    char a1 [] = "a=1", a2 [] = "b", a3 [] = "c=3";
    char *argv [] = { a1, a2, a3 };
    assert_int_equal (xs_kvlist_parse_argv (kv, 3, argv, &err), -1);
    assert_non_null (strstr (err.msg, "'b'"));
    assert_int_equal (xs_kvlist_size (kv), 1);
    xs_kvlist_destroy (&kv);

    kv = xs_kvlist_new ();
    char g1 [] = "name_label=toybox-renuka", g2 [] = "server=myserver",
         g3 [] = "serverpath=/local/scratch/myname";
    char *good [] = { g1, g2, g3 };
    assert_int_equal (xs_kvlist_parse_argv (kv, 3, good, &err), 0);
    assert_int_equal (xs_kvlist_size (kv), 3);
    assert_int_equal (xs_kvlist_remove (kv, "server"), 0);
    assert_int_equal (xs_kvlist_remove (kv, "server"), -1);
    assert_int_equal (xs_kvlist_size (kv), 2);
    assert_string_equal (xs_kvlist_key (kv, 1), "serverpath");
    xs_kvlist_destroy (&kv);
}

static void
test_json_and_format (void **state)
{
    xs_kvlist_t *kv = xs_kvlist_new ();
    xs_err_t err;
    assert_int_equal (xs_kvlist_parse (kv, "server=myserver", &err), 0);
    assert_int_equal (xs_kvlist_parse (kv, "chappassword=s3cret", &err), 0);
    assert_int_equal (xs_kvlist_parse (kv, "options=a=b c", &err), 0);

    char *text = xs_kvlist_format (kv, true);
    assert_string_equal (text, "server=myserver chappassword=" XS_REDACTED " options=a=b c");
    free (text);
    text = xs_kvlist_format (kv, false);
    assert_string_equal (text, "server=myserver chappassword=s3cret options=a=b c");
    free (text);

    json_t *redacted = xs_kvlist_to_json (kv, true);
    assert_string_equal (json_string_value (json_object_get (redacted, "chappassword")),
                         XS_REDACTED);
    json_decref (redacted);

    json_t *plain = xs_kvlist_to_json (kv, false);
    assert_string_equal (json_string_value (json_object_get (plain, "options")), "a=b c");
    xs_kvlist_t *back = xs_kvlist_from_json (plain, &err);
    assert_non_null (back);
    assert_int_equal (xs_kvlist_size (back), 3);
    assert_string_equal (xs_kvlist_get (back, "chappassword"), "s3cret");
    assert_string_equal (xs_kvlist_key (back, 2), "options");
    xs_kvlist_destroy (&back);
    json_decref (plain);

    json_t *bad = json_pack ("{s:i}", "port", 3260);
    assert_null (xs_kvlist_from_json (bad, &err));
    assert_non_null (strstr (err.msg, "port"));
    json_decref (bad);
    bad = json_pack ("{s:s}", "", "x");
    assert_null (xs_kvlist_from_json (bad, &err));
    json_decref (bad);
    bad = json_array ();
    assert_null (xs_kvlist_from_json (bad, &err));
    json_decref (bad);

    text = xs_kvlist_format (NULL, true);
    assert_string_equal (text, "");
    free (text);
    xs_kvlist_destroy (&kv);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_split_at_first_equals),
        cmocka_unit_test (test_refusals),
        cmocka_unit_test (test_errors_never_show_secret_values),
        cmocka_unit_test (test_argv_stops_at_first_bad),
        cmocka_unit_test (test_json_and_format),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
