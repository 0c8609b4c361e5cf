/*  Unit tests for xs_hosts: the live host registry, without sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "catalog/server/xs_hosts.h"

static zframe_t *
s_route (const char *text)
{
    return zframe_new (text, strlen (text));
}

static xs_live_host_t *
s_register (xs_hosts_t *hosts, const char *uuid, const char *zone, const char *route)
{
    zframe_t *r = s_route (route);
    xs_live_host_t *h = xs_hosts_register (hosts, uuid, zone, uuid, "KEY", r);
    zframe_destroy (&r);
    return h;
}

static void
test_register_find_forget (void **state)
{
    xs_hosts_t *hosts = xs_hosts_new ();
    xs_live_host_t *h = s_register (hosts, "h1", "z1", "r1");
    assert_true (h->up);
    assert_ptr_equal (xs_hosts_get (hosts, "h1"), h);
    zframe_t *r = s_route ("r1");
    assert_ptr_equal (xs_hosts_by_route (hosts, r), h);
    zframe_destroy (&r);
    xs_live_sr (h, 3, true)->attached = true;
    /* Again, on another session: the old route is gone, the SRs forgotten. */
    xs_live_host_t *again = s_register (hosts, "h1", "z2", "r2");
    assert_ptr_equal (again, h);
    assert_string_equal (h->zone, "z2");
    r = s_route ("r1");
    assert_null (xs_hosts_by_route (hosts, r));
    zframe_destroy (&r);
    assert_null (xs_live_sr (h, 3, false));
    xs_hosts_forget (hosts, "h1");
    assert_null (xs_hosts_get (hosts, "h1"));
    r = s_route ("r2");
    assert_null (xs_hosts_by_route (hosts, r));
    zframe_destroy (&r);
    assert_null (xs_hosts_get (hosts, NULL));
    xs_hosts_destroy (&hosts);
    xs_hosts_destroy (&hosts);
}

static void
test_pick_and_sr_info (void **state)
{
    xs_hosts_t *hosts = xs_hosts_new ();
    xs_live_host_t *a = s_register (hosts, "a", "z1", "ra");
    xs_live_host_t *b = s_register (hosts, "b", "z1", "rb");
    xs_live_host_t *c = s_register (hosts, "c", "z2", "rc");
    assert_int_equal (xs_hosts_live_in_zone (hosts, "z1"), 2);
    assert_null (xs_hosts_pick (hosts, "z1", 7));
    xs_live_sr (a, 7, true)->attached = true;
    xs_live_sr (b, 7, true)->attached = true;
    xs_live_sr (c, 7, true)->attached = true;
    a->inflight = 3;
    b->inflight = 1;
    assert_string_equal (xs_hosts_pick (hosts, "z1", 7), "b");
    b->up = false;
    assert_string_equal (xs_hosts_pick (hosts, "z1", 7), "a");
    assert_false (xs_hosts_can_run (hosts, "b", 7));
    assert_true (xs_hosts_can_run (hosts, "a", 7));
    assert_false (xs_hosts_can_run (hosts, "a", 8));
    /* The freshest report of a live host wins. */
    xs_live_sr_t *sa = xs_live_sr (a, 7, false), *sc = xs_live_sr (c, 7, false);
    sa->has_stats = sc->has_stats = true;
    sa->physical_size = 100;
    sa->at = 10;
    sc->physical_size = 200;
    sc->at = 20;
    xs_hosts_sr_t sr;
    xs_hosts_sr_info (hosts, 7, &sr);
    assert_int_equal (sr.live_hosts, 2);
    assert_true (sr.has_stats);
    assert_int_equal (sr.physical_size, 200);
    xs_live_sr_forget (c, 7);
    xs_hosts_sr_info (hosts, 7, &sr);
    assert_int_equal (sr.live_hosts, 1);
    assert_int_equal (sr.physical_size, 100);
    xs_hosts_destroy (&hosts);
}

static void
test_list (void **state)
{
    xs_hosts_t *hosts = xs_hosts_new ();
    xs_live_host_t *a = s_register (hosts, "a", "z1", "ra");
    xs_live_sr_t *sr = xs_live_sr (a, 7, true);
    sr->attached = true;
    sr->sr_uuid = strdup ("sr-7");
    char a_ [] = "a", b_ [] = "b", z1 [] = "z1", ka [] = "KA", kb [] = "KB";
    xs_host_t row_a = {.uuid = a_, .zone = z1, .name = a_, .public_key = ka};
    xs_host_t row_b = {.uuid = b_, .zone = z1, .name = b_, .public_key = kb, .last_seen = 42};
    xs_host_t *rows [] = {&row_a, &row_b, NULL};
    zlist_t *keys = zlist_new ();
    zlist_append (keys, (void *) "KA");
    zlist_append (keys, (void *) "KNEW");
    json_t *list = xs_hosts_list (hosts, rows, keys);
    assert_int_equal (json_array_size (list), 3);
    json_t *ja = json_array_get (list, 0), *jb = json_array_get (list, 1),
           *jn = json_array_get (list, 2);
    assert_string_equal (json_string_value (json_object_get (ja, "state")), "up");
    assert_int_equal (json_array_size (json_object_get (ja, "srs")), 1);
    assert_string_equal (json_string_value (json_object_get (jb, "state")), "down");
    assert_int_equal (json_integer_value (json_object_get (jb, "last_seen")), 42);
    assert_string_equal (json_string_value (json_object_get (jn, "state")), "enrolled");
    assert_string_equal (json_string_value (json_object_get (jn, "public_key")), "KNEW");
    json_decref (list);
    zlist_destroy (&keys);
    xs_hosts_destroy (&hosts);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_register_find_forget),
        cmocka_unit_test (test_pick_and_sr_info),
        cmocka_unit_test (test_list),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
