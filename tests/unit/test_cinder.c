/*  test_cinder: the pure parts of xs_cinder (the routes themselves are
    driven by the real clients in tests/integration/test_api_catalog.py):
    type and message ids, uuid shapes, Cinder's times, truthy query values,
    a row's flavor.
    Drives the shared helpers through xs_cinder_int.h.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xs_cinder_int.h"

static void
test_type_ids_are_stable_uuids (void **state)
{
    char a [37], b [37], c [37];
    xs_cinder_type_id ("gold", a);
    xs_cinder_type_id ("gold", b);
    xs_cinder_type_id ("silver", c);
    assert_string_equal (a, b);
    assert_string_not_equal (a, c);
    assert_true (xs_cinder_is_uuid (a));
    assert_int_equal (a [14], '5');                 /* version 5 layout */
    assert_true (strchr ("89ab", a [19]) != NULL);  /* RFC 4122 variant */
    /* A message id never collides with the type id of the same text. */
    xs_cinder_name_uuid ("xensm-message:", "gold", c);
    assert_string_not_equal (a, c);
}

static void
test_uuid_shape (void **state)
{
    assert_true (xs_cinder_is_uuid ("00000000-0000-4000-8000-000000000000"));
    assert_true (xs_cinder_is_uuid ("ABCDEF00-0000-4000-8000-00000000000f"));
    assert_false (xs_cinder_is_uuid (NULL));
    assert_false (xs_cinder_is_uuid ("web"));
    assert_false (xs_cinder_is_uuid ("00000000-0000-4000-8000-00000000000"));
    assert_false (xs_cinder_is_uuid ("00000000-0000-4000-8000-0000000000000"));
    assert_false (xs_cinder_is_uuid ("00000000x0000-4000-8000-000000000000"));
    assert_false (xs_cinder_is_uuid ("0000000g-0000-4000-8000-000000000000"));
}

static void
test_cinder_times (void **state)
{
    char buf [40];
    xs_cinder_iso_time (0, buf, sizeof buf);
    assert_string_equal (buf, "1970-01-01T00:00:00.000000");
    xs_cinder_iso_time (1796622730541LL, buf, sizeof buf);
    assert_string_equal (buf, "2026-12-07T05:52:10.541000");
}

static void
test_truthy (void **state)
{
    assert_true (xs_cinder_truthy ("1"));
    assert_true (xs_cinder_truthy ("True"));
    assert_true (xs_cinder_truthy ("yes"));
    assert_false (xs_cinder_truthy (NULL));
    assert_false (xs_cinder_truthy (""));
    assert_false (xs_cinder_truthy ("0"));
    assert_false (xs_cinder_truthy ("False"));
}

static void
test_flavor_of (void **state)
{
    char gold_label [] = "gold", silver_label [] = "silver";
    xs_flavor_t gold = {.id = 3, .label = gold_label}, silver = {.id = 9, .label = silver_label};
    xs_flavor_t *flavors [] = {&gold, &silver, NULL};
    assert_ptr_equal (xs_cinder_flavor_of (flavors, 9), &silver);
    assert_ptr_equal (xs_cinder_flavor_of (flavors, 3), &gold);
    assert_null (xs_cinder_flavor_of (flavors, 4));         /* gone */
    assert_null (xs_cinder_flavor_of (NULL, 3));            /* no list (store failed) */
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_type_ids_are_stable_uuids),
        cmocka_unit_test (test_uuid_shape),
        cmocka_unit_test (test_cinder_times),
        cmocka_unit_test (test_truthy),
        cmocka_unit_test (test_flavor_of),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
