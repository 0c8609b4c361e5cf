/*  Unit tests for xs_value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "common/xs_value.h"

static void
test_scalars_keep_type_and_contents (void **state)
{
    xs_value_t *s = xs_value_string_new ("gold");
    xs_value_t *i = xs_value_int_new (INT64_MIN);
    xs_value_t *b = xs_value_bool_new (true);
    xs_value_t *d = xs_value_double_new (-2.5);
    xs_value_t *t = xs_value_datetime_new ("20120101T00:00:00Z");
    xs_value_t *n = xs_value_nil_new ();
    xs_value_t *x = xs_value_base64_new ("\0\1\2", 3);

    assert_int_equal (xs_value_type (s), XS_VALUE_STRING);
    assert_string_equal (xs_value_str (s), "gold");
    assert_int_equal (xs_value_len (s), 4);
    assert_int_equal (xs_value_type (i), XS_VALUE_INT);
    assert_true (xs_value_int (i) == INT64_MIN);
    assert_true (xs_value_bool (b));
    assert_true (xs_value_double (d) == -2.5);
    assert_int_equal (xs_value_type (t), XS_VALUE_DATETIME);
    assert_string_equal (xs_value_str (t), "20120101T00:00:00Z");
    assert_int_equal (xs_value_type (n), XS_VALUE_NIL);
    size_t len = 99;
    const unsigned char *bytes = xs_value_base64 (x, &len);
    assert_int_equal (len, 3);
    assert_memory_equal (bytes, "\0\1\2", 3);

    /* Getters of the wrong type give the neutral answer, never garbage. */
    assert_null (xs_value_str (i));
    assert_int_equal (xs_value_int (s), 0);
    assert_false (xs_value_bool (s));
    assert_true (xs_value_double (s) == 0.0);
    assert_null (xs_value_base64 (s, &len));
    assert_int_equal (len, 0);
    assert_int_equal (xs_value_size (s), 0);
    assert_null (xs_value_at (s, 0));
    assert_null (xs_value_get (s, "x"));
    assert_int_equal (xs_value_len (i), 0);

    xs_value_destroy (&s);
    xs_value_destroy (&i);
    xs_value_destroy (&b);
    xs_value_destroy (&d);
    xs_value_destroy (&t);
    xs_value_destroy (&n);
    xs_value_destroy (&x);
    assert_null (s);
    xs_value_destroy (&s);          /* idempotent */
    xs_value_destroy (NULL);
}

static void
test_strings_copy_and_null_means_empty (void **state)
{
    char text [] = "abc";
    xs_value_t *s = xs_value_string_new (text);
    text [0] = 'z';
    assert_string_equal (xs_value_str (s), "abc");
    xs_value_destroy (&s);

    s = xs_value_string_new (NULL);
    assert_string_equal (xs_value_str (s), "");
    xs_value_destroy (&s);

    s = xs_value_string_newn ("a\0b", 3);
    assert_int_equal (xs_value_len (s), 3);
    assert_memory_equal (xs_value_str (s), "a\0b", 4);
    xs_value_destroy (&s);
}

static void
test_type_names (void **state)
{
    assert_string_equal (xs_value_type_name (XS_VALUE_STRING), "string");
    assert_string_equal (xs_value_type_name (XS_VALUE_STRUCT), "struct");
    assert_string_equal (xs_value_type_name (XS_VALUE_BOOL), "boolean");
    assert_string_equal (xs_value_type_name (XS_VALUE_DATETIME), "dateTime.iso8601");
    assert_string_equal (xs_value_type_name ((xs_value_type_t) 77), "unknown");
}

static void
test_array_append_and_ownership (void **state)
{
    xs_value_t *array = xs_value_array_new ();
    for (int i = 0; i < 100; i++) {
        xs_value_t *item = xs_value_int_new (i);
        assert_int_equal (xs_value_append (array, &item), 0);
        assert_null (item);
    }
    assert_int_equal (xs_value_append_str (array, "last"), 0);
    assert_int_equal (xs_value_size (array), 101);
    assert_int_equal (xs_value_int (xs_value_at (array, 42)), 42);
    assert_string_equal (xs_value_str (xs_value_at (array, 100)), "last");
    assert_null (xs_value_at (array, 101));

    /* Appending to a non-array fails and still takes (frees) the item. */
    xs_value_t *not_array = xs_value_struct_new ();
    xs_value_t *item = xs_value_string_new ("x");
    assert_int_equal (xs_value_append (not_array, &item), -1);
    assert_null (item);
    assert_int_equal (xs_value_append_str (not_array, "y"), -1);
    assert_int_equal (xs_value_append (array, NULL), -1);
    xs_value_t *none = NULL;
    assert_int_equal (xs_value_append (array, &none), -1);
    xs_value_destroy (&not_array);
    xs_value_destroy (&array);
}

static void
test_struct_set_get_replace_order (void **state)
{
    xs_value_t *st = xs_value_struct_new ();
    assert_int_equal (xs_value_set_str (st, "b", "1"), 0);
    assert_int_equal (xs_value_set_str (st, "a", "2"), 0);
    xs_value_t *num = xs_value_int_new (7);
    assert_int_equal (xs_value_set (st, "c", &num), 0);
    assert_null (num);
    assert_int_equal (xs_value_size (st), 3);
    assert_string_equal (xs_value_get_str (st, "a"), "2");
    assert_null (xs_value_get_str (st, "c"));        /* not a string */
    assert_int_equal (xs_value_int (xs_value_get (st, "c")), 7);
    assert_null (xs_value_get (st, "missing"));
    assert_null (xs_value_get (st, NULL));

    /* set replaces in place: same size, same position. */
    assert_int_equal (xs_value_set_str (st, "b", "3"), 0);
    assert_int_equal (xs_value_size (st), 3);
    assert_string_equal (xs_value_key_at (st, 0), "b");
    assert_string_equal (xs_value_str (xs_value_value_at (st, 0)), "3");
    assert_string_equal (xs_value_key_at (st, 1), "a");
    assert_string_equal (xs_value_key_at (st, 2), "c");
    assert_null (xs_value_key_at (st, 3));
    assert_null (xs_value_value_at (st, 3));

    xs_value_t *array = xs_value_array_new ();
    xs_value_t *v = xs_value_nil_new ();
    assert_int_equal (xs_value_set (array, "x", &v), -1);
    assert_null (v);
    v = xs_value_nil_new ();
    assert_int_equal (xs_value_set (st, NULL, &v), -1);
    assert_null (v);
    xs_value_destroy (&array);
    xs_value_destroy (&st);
}

/* Past the index threshold lookups and replaces must stay exact. */
static void
test_large_struct_lookup (void **state)
{
    xs_value_t *st = xs_value_struct_new ();
    char name [32], text [32];
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        snprintf (name, sizeof name, "OpaqueRef:%d", i);
        snprintf (text, sizeof text, "v%d", i);
        assert_int_equal (xs_value_set_str (st, name, text), 0);
    }
    assert_int_equal (xs_value_size (st), n);
    for (int i = 0; i < n; i += 7) {
        snprintf (name, sizeof name, "OpaqueRef:%d", i);
        snprintf (text, sizeof text, "v%d", i);
        assert_string_equal (xs_value_get_str (st, name), text);
    }
    assert_int_equal (xs_value_set_str (st, "OpaqueRef:123", "new"), 0);
    assert_int_equal (xs_value_size (st), n);
    assert_string_equal (xs_value_get_str (st, "OpaqueRef:123"), "new");
    assert_string_equal (xs_value_key_at (st, 123), "OpaqueRef:123");
    assert_null (xs_value_get (st, "OpaqueRef:20000"));

    xs_value_t *copy = xs_value_dup (st);
    assert_true (xs_value_equal (st, copy));
    assert_string_equal (xs_value_get_str (copy, "OpaqueRef:19999"), "v19999");
    assert_int_equal (xs_value_set_str (copy, "OpaqueRef:5", "changed"), 0);
    assert_false (xs_value_equal (st, copy));
    xs_value_destroy (&copy);
    xs_value_destroy (&st);
}

static xs_value_t *
s_sample (bool reversed)
{
    xs_value_t *st = xs_value_struct_new ();
    xs_value_t *list = xs_value_array_new ();
    xs_value_append_str (list, "one");
    xs_value_t *inner = xs_value_struct_new ();
    xs_value_set_str (inner, "k", "v");
    xs_value_append (list, &inner);
    xs_value_t *items [] = {
        xs_value_int_new (-5), xs_value_bool_new (false), xs_value_double_new (0.25),
        xs_value_datetime_new ("20260101T10:00:00Z"), xs_value_base64_new ("xy", 2),
        xs_value_nil_new (), list,
    };
    const char *names [] = { "i", "b", "d", "t", "x", "n", "list" };
    size_t count = sizeof items / sizeof items [0];
    for (size_t k = 0; k < count; k++) {
        size_t at = reversed ? count - 1 - k : k;
        xs_value_set (st, names [at], &items [at]);
    }
    return st;
}

static void
test_dup_and_equal (void **state)
{
    xs_value_t *a = s_sample (false);
    xs_value_t *b = s_sample (true);
    /* Member order does not matter; contents do. */
    assert_true (xs_value_equal (a, b));
    xs_value_t *c = xs_value_dup (a);
    assert_true (xs_value_equal (a, c));
    assert_string_equal (xs_value_key_at (c, 0), "i");

    xs_value_set_str (xs_value_at (xs_value_get (c, "list"), 1), "k", "w");
    assert_false (xs_value_equal (a, c));
    assert_string_equal (xs_value_get_str (xs_value_at (xs_value_get (a, "list"), 1), "k"), "v");

    /* Different types never compare equal; NaN equals NaN; -0 differs from 0. */
    xs_value_t *s1 = xs_value_string_new ("1");
    xs_value_t *i1 = xs_value_int_new (1);
    xs_value_t *nan1 = xs_value_double_new (NAN), *nan2 = xs_value_double_new (NAN);
    xs_value_t *z = xs_value_double_new (0.0), *mz = xs_value_double_new (-0.0);
    assert_false (xs_value_equal (s1, i1));
    assert_true (xs_value_equal (nan1, nan2));
    assert_false (xs_value_equal (z, mz));
    assert_true (xs_value_equal (NULL, NULL));
    assert_false (xs_value_equal (s1, NULL));
    xs_value_t *n1 = xs_value_string_newn ("a\0b", 3), *n2 = xs_value_string_newn ("a\0c", 3);
    assert_false (xs_value_equal (n1, n2));
    assert_null (xs_value_dup (NULL));

    xs_value_destroy (&n1);
    xs_value_destroy (&n2);
    xs_value_destroy (&s1);
    xs_value_destroy (&i1);
    xs_value_destroy (&nan1);
    xs_value_destroy (&nan2);
    xs_value_destroy (&z);
    xs_value_destroy (&mz);
    xs_value_destroy (&a);
    xs_value_destroy (&b);
    xs_value_destroy (&c);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_scalars_keep_type_and_contents),
        cmocka_unit_test (test_strings_copy_and_null_means_empty),
        cmocka_unit_test (test_type_names),
        cmocka_unit_test (test_array_append_and_ownership),
        cmocka_unit_test (test_struct_set_get_replace_order),
        cmocka_unit_test (test_large_struct_lookup),
        cmocka_unit_test (test_dup_and_equal),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
