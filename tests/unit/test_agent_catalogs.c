/*  test_agent_catalogs: the agent's list of catalogd (catalog_endpoint). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hostagent/xs_agent_catalogs.h"

/* One endpoint: it stays; next never moves. */
static void
test_one_endpoint (void **state)
{
    xs_agent_catalogs_t *c = xs_agent_catalogs_new ("tcp://cat:7601");
    assert_int_equal (xs_agent_catalogs_size (c), 1);
    assert_string_equal (xs_agent_catalogs_current (c), "tcp://cat:7601");
    assert_false (xs_agent_catalogs_next (c));
    assert_string_equal (xs_agent_catalogs_current (c), "tcp://cat:7601");
    xs_agent_catalogs_destroy (&c);
    xs_agent_catalogs_destroy (&c);
    assert_null (c);
}

/* A list, with spaces and empty items: in order, then round again. */
static void
test_list_in_order_and_round (void **state)
{
    xs_agent_catalogs_t *c = xs_agent_catalogs_new (" tcp://a:7601, ,tcp://b:7601,tcp://c:7601,");
    assert_int_equal (xs_agent_catalogs_size (c), 3);
    assert_string_equal (xs_agent_catalogs_current (c), "tcp://a:7601");
    assert_true (xs_agent_catalogs_next (c));
    assert_string_equal (xs_agent_catalogs_current (c), "tcp://b:7601");
    assert_true (xs_agent_catalogs_next (c));
    assert_true (xs_agent_catalogs_next (c));
    assert_string_equal (xs_agent_catalogs_current (c), "tcp://a:7601");
    xs_agent_catalogs_destroy (&c);
}

/* Nothing given: size 0, current "". */
static void
test_empty (void **state)
{
    xs_agent_catalogs_t *c = xs_agent_catalogs_new (" , ");
    assert_int_equal (xs_agent_catalogs_size (c), 0);
    assert_string_equal (xs_agent_catalogs_current (c), "");
    assert_false (xs_agent_catalogs_next (c));
    xs_agent_catalogs_destroy (&c);
    c = xs_agent_catalogs_new (NULL);
    assert_int_equal (xs_agent_catalogs_size (c), 0);
    xs_agent_catalogs_destroy (&c);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_one_endpoint),
        cmocka_unit_test (test_list_in_order_and_round),
        cmocka_unit_test (test_empty),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
