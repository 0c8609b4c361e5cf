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

/* The silence check walks the up hosts oldest first and stops at the first
   one heard lately (never every host); hosts set down or forgotten drop
   out; a late tick's forgiveness moves only the silent ones. */
static void
test_silent_oldest_first (void **state)
{
    xs_hosts_t *hosts = xs_hosts_new ();
    xs_live_host_t *a = s_register (hosts, "a", "z1", "ra");
    xs_live_host_t *b = s_register (hosts, "b", "z1", "rb");
    xs_live_host_t *c = s_register (hosts, "c", "z1", "rc");
    assert_int_equal (xs_hosts_count (hosts), 3);
    xs_hosts_seen (hosts, a);           /* heard order: b, c, a */
    b->last_seen = 10;
    c->last_seen = 20;
    a->last_seen = 30;
    zlist_t *silent = xs_hosts_silent (hosts, 25);
    assert_int_equal (zlist_size (silent), 2);
    assert_ptr_equal (zlist_first (silent), b);
    assert_ptr_equal (zlist_next (silent), c);
    zlist_destroy (&silent);
    c->up = false;                      /* marked down: not silent again */
    silent = xs_hosts_silent (hosts, 25);
    assert_int_equal (zlist_size (silent), 1);
    assert_ptr_equal (zlist_first (silent), b);
    zlist_destroy (&silent);
    xs_hosts_forgive (hosts, 15);
    assert_int_equal (b->last_seen, 15);
    assert_int_equal (a->last_seen, 30);
    /* Back up: heard now, the newest. */
    c->up = true;
    xs_hosts_seen (hosts, c);
    xs_hosts_forget (hosts, "b");
    assert_int_equal (xs_hosts_count (hosts), 2);
    silent = xs_hosts_silent (hosts, 31);
    assert_int_equal (zlist_size (silent), 1);
    assert_ptr_equal (zlist_first (silent), a);
    zlist_destroy (&silent);
    silent = xs_hosts_silent (hosts, zclock_mono () + 1);
    assert_int_equal (zlist_size (silent), 2);
    assert_ptr_equal (zlist_first (silent), a);
    assert_ptr_equal (zlist_next (silent), c);
    zlist_destroy (&silent);
    /* A message from a host set down (an sr_state) is heard, but a host
       behind it in the list that is silent is still found. */
    xs_live_host_t *d = s_register (hosts, "d", "z1", "rd");     /* order: a, c, d */
    c->up = false;
    xs_hosts_seen (hosts, c);
    a->last_seen = 10;
    d->last_seen = 20;
    silent = xs_hosts_silent (hosts, 25);
    assert_int_equal (zlist_size (silent), 2);
    assert_ptr_equal (zlist_first (silent), a);
    assert_ptr_equal (zlist_next (silent), d);
    zlist_destroy (&silent);
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
    /* The freshest report of a live host of the zone wins; another zone's
       hosts do not count. */
    b->up = true;
    xs_live_sr_t *sa = xs_live_sr (a, 7, false), *sb = xs_live_sr (b, 7, false),
                 *sc = xs_live_sr (c, 7, false);
    sa->has_stats = sb->has_stats = sc->has_stats = true;
    sa->physical_size = 100;
    sa->at = 10;
    sb->physical_size = 150;
    sb->at = 15;
    sc->physical_size = 200;
    sc->at = 20;
    xs_hosts_sr_t sr;
    xs_hosts_sr_info (hosts, "z1", 7, &sr);
    assert_int_equal (sr.live_hosts, 2);
    assert_true (sr.has_stats);
    assert_int_equal (sr.physical_size, 150);
    xs_live_sr_forget (b, 7);
    xs_hosts_sr_info (hosts, "z1", 7, &sr);
    assert_int_equal (sr.live_hosts, 1);
    assert_int_equal (sr.physical_size, 100);
    xs_hosts_sr_info (hosts, "z2", 7, &sr);
    assert_int_equal (sr.live_hosts, 1);
    assert_int_equal (sr.physical_size, 200);
    xs_hosts_sr_info (hosts, "z3", 7, &sr);
    assert_int_equal (sr.live_hosts, 0);
    assert_false (sr.has_stats);
    /* A host that registers again in another zone moves (index kept). */
    c = s_register (hosts, "c", "z1", "rc2");
    assert_int_equal (xs_hosts_live_in_zone (hosts, "z1"), 3);
    assert_int_equal (xs_hosts_live_in_zone (hosts, "z2"), 0);
    xs_hosts_forget (hosts, "a");
    assert_int_equal (xs_hosts_live_in_zone (hosts, "z1"), 2);
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

/* The pool's SM drivers: a backend whose type no live host of its zone
   has a driver for is unusable there, with the reason; hosts that did
   not report give the benefit of the doubt; LUN-per-VDI types and drivers
   without VDI_CREATE are unusable everywhere. */
static void
test_sm_drivers (void **state)
{
    xs_hosts_t *hosts = xs_hosts_new ();
    xs_err_t err;
    char nfs [] = "nfs", iscsi [] = "iscsi", netapp [] = "netapp", za [] = "za", zb [] = "zb";
    xs_backend_t b = {.id = 1, .zone = za, .sr_type = nfs};
    /* No live host: nothing known, not unusable for this reason. */
    assert_null (xs_hosts_backend_unusable (hosts, &b));
    xs_live_host_t *a1 = s_register (hosts, "a1", "za", "r1");
    xs_live_host_t *a2 = s_register (hosts, "a2", "za", "r2");
    json_t *narrow = json_pack ("{s:[s, s], s:[s]}", "lvm", "VDI_CREATE", "SR_PROBE",
                                "ext", "VDI_CREATE");
    assert_int_equal (xs_live_host_set_sm_drivers (a1, narrow, &err), 1);
    assert_int_equal (xs_live_host_set_sm_drivers (a1, narrow, &err), 0);   /* same */
    assert_true (xs_live_host_lacks_driver (a1, "nfs"));
    assert_false (xs_live_host_lacks_driver (a1, "lvm"));
    assert_false (xs_live_host_lacks_driver (a2, "nfs"));      /* not reported */
    /* a2 has not reported: benefit of the doubt. */
    assert_null (xs_hosts_backend_unusable (hosts, &b));
    assert_int_equal (xs_live_host_set_sm_drivers (a2, narrow, &err), 1);
    char *why = xs_hosts_backend_unusable (hosts, &b);
    assert_non_null (why);
    assert_string_equal (why, "no SM driver for SR type nfs on the live hosts of zone za "
                              "(their pool has: ext, lvm)");
    free (why);
    /* A host down does not count; one live host with the driver is enough. */
    a2->up = false;
    json_t *full = json_pack ("{s:[s, s], s:[s, s], s:[s]}", "nfs", "SR_PROBE", "VDI_CREATE",
                              "iscsi", "VDI_CREATE", "VDI_INTRODUCE", "weird", "VDI_ATTACH");
    xs_live_host_t *a3 = s_register (hosts, "a3", "za", "r3");
    assert_int_equal (xs_live_host_set_sm_drivers (a3, full, &err), 1);
    assert_null (xs_hosts_backend_unusable (hosts, &b));
    /* Another zone is judged by its own hosts. */
    b.zone = zb;
    assert_null (xs_hosts_backend_unusable (hosts, &b));
    /* LUN per VDI: unusable whatever the drivers say (iscsi declares
       VDI_CREATE, which only hands out an existing LUN). */
    b.zone = za;
    b.sr_type = iscsi;
    why = xs_hosts_backend_unusable (hosts, &b);
    assert_non_null (strstr (why, "SR type iscsi is LUN per VDI"));
    free (why);
    /* A driver without VDI_CREATE. */
    char weird [] = "weird";
    b.sr_type = weird;
    a1->up = false;
    why = xs_hosts_backend_unusable (hosts, &b);
    assert_string_equal (why, "the SM driver for SR type weird on the hosts of zone za "
                              "lacks VDI_CREATE");
    free (why);
    b.sr_type = netapp;
    why = xs_hosts_backend_unusable (hosts, &b);
    assert_non_null (strstr (why, "no SM driver for SR type netapp"));
    assert_non_null (strstr (why, "(their pool has: iscsi, nfs, weird)"));
    free (why);
    /* Malformed reports are refused and change nothing. */
    json_t *bad [] = {json_string ("nfs"), json_pack ("{s:s}", "nfs", "VDI_CREATE"),
                      json_pack ("{s:[i]}", "nfs", 1)};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal (xs_live_host_set_sm_drivers (a3, bad [i], &err), -1);
        assert_non_null (strstr (err.msg, "host a3: sm_drivers"));
        json_decref (bad [i]);
    }
    assert_false (xs_live_host_lacks_driver (a3, "nfs"));
    /* host list: the SR types, null until reported. */
    char a3_ [] = "a3", ka [] = "KA";
    xs_host_t row = {.uuid = a3_, .zone = za, .name = a3_, .public_key = ka};
    xs_host_t *rows [] = {&row, NULL};
    json_t *list = xs_hosts_list (hosts, rows, NULL);
    json_t *drivers = json_object_get (json_array_get (list, 0), "sm_drivers");
    assert_int_equal (json_array_size (drivers), 3);
    json_decref (list);
    json_decref (narrow);
    json_decref (full);
    xs_hosts_destroy (&hosts);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_register_find_forget),
        cmocka_unit_test (test_silent_oldest_first),
        cmocka_unit_test (test_pick_and_sr_info),
        cmocka_unit_test (test_list),
        cmocka_unit_test (test_sm_drivers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
