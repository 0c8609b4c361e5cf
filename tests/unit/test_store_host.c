/*  Unit tests of the store's hosts and SR reports (xs_store_host.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"

/* ---------------------------------------------------------------------
   Hosts
   --------------------------------------------------------------------- */

static void
test_hosts (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };

    xs_host_spec_t h = { .uuid = "h-2", .zone = "z1", .name = "xs02", .public_key = "key2",
                    .last_seen = 1000 };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), 0);
    h = (xs_host_spec_t) { .uuid = "h-1", .zone = "z1", .name = "xs01" };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), 0);
    h = (xs_host_spec_t) { .uuid = "h-3", .zone = "z2", .state = XS_HOST_DOWN, .last_seen = 5 };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), 0);
    h = (xs_host_spec_t) { .uuid = "h-4" };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);

    xs_host_t *got = xs_store_host_get (store, "h-2", &err);
    assert_string_equal (got->zone, "z1");
    assert_string_equal (got->name, "xs02");
    assert_string_equal (got->public_key, "key2");
    assert_int_equal (got->state, XS_HOST_UP);
    assert_int_equal (got->last_seen, 1000);
    int64_t created = got->created_at;
    xs_host_destroy (&got);

    /* Upsert updates in place and keeps created_at. */
    h = (xs_host_spec_t) { .uuid = "h-2", .zone = "z1", .name = "xs02-renamed",
                           .last_seen = 2000 };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), 0);
    got = xs_store_host_get (store, "h-2", &err);
    assert_string_equal (got->name, "xs02-renamed");
    assert_null (got->public_key);
    assert_int_equal (got->created_at, created);
    xs_host_destroy (&got);

    xs_host_t **hosts = xs_store_host_list (store, NULL, &err);
    assert_int_equal (xs_rows_list_size (hosts), 3);
    assert_string_equal (hosts [0]->uuid, "h-1");
    assert_string_equal (hosts [1]->uuid, "h-2");
    assert_string_equal (hosts [2]->uuid, "h-3");
    xs_host_list_destroy (&hosts);
    hosts = xs_store_host_list (store, "z2", &err);
    assert_int_equal (xs_rows_list_size (hosts), 1);
    assert_int_equal (hosts [0]->state, XS_HOST_DOWN);
    xs_host_list_destroy (&hosts);

    assert_int_equal (xs_store_host_set_state (store, "h-3", XS_HOST_UP, &err), 0);
    assert_int_equal (xs_store_host_touch (store, "h-3", 777, &err), 0);
    got = xs_store_host_get (store, "h-3", &err);
    assert_int_equal (got->state, XS_HOST_UP);
    assert_int_equal (got->last_seen, 777);
    xs_host_destroy (&got);
    int64_t before = xs_store_now_ms ();
    assert_int_equal (xs_store_host_touch (store, "h-3", 0, &err), 0);
    got = xs_store_host_get (store, "h-3", &err);
    assert_true (got->last_seen >= before);
    xs_host_destroy (&got);
    assert_int_equal (xs_store_host_touch (store, "nope", 0, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "host nope: not found");
    assert_int_equal (xs_store_host_set_state (store, "nope", XS_HOST_DOWN, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
}

/* ---------------------------------------------------------------------
   SR reports
   --------------------------------------------------------------------- */

static void
test_sr_reports (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    fx_add_flavor (store, "gold");
    int64_t b1 = fx_add_backend (store, "gold", "z1");
    int64_t b2 = fx_add_backend (store, "gold", "z1");
    xs_host_spec_t h = { .uuid = "h-2", .zone = "z1" };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), 0);
    h = (xs_host_spec_t) { .uuid = "h-1", .zone = "z1" };
    assert_int_equal (xs_store_host_upsert (store, &h, &err), 0);
    /* SR reports. */
    const char *caps [] = { "VDI_CREATE", "VDI_DELETE", "VDI_SNAPSHOT" };
    xs_sr_stats_spec_t s = { .host_uuid = "h-1", .backend_id = b1, .attached = true,
                        .has_stats = true, .physical_size = 100LL << 30,
                        .physical_utilisation = 10LL << 30, .virtual_allocation = 20LL << 30,
                        .capabilities = caps, .ncapabilities = 3 };
    assert_int_equal (xs_store_sr_stats_upsert (store, &s, &err), 0);
    s.host_uuid = "h-2";
    s.virtual_allocation = 1;
    assert_int_equal (xs_store_sr_stats_upsert (store, &s, &err), 0);
    s.virtual_allocation = 21LL << 30;          /* replace */
    assert_int_equal (xs_store_sr_stats_upsert (store, &s, &err), 0);
    assert_int_equal (xs_store_sr_set_attached (store, "h-1", b2, false, &err), 0);

    xs_sr_stats_t **stats = xs_store_sr_stats_list (store, b1, NULL, &err);
    assert_int_equal (xs_rows_list_size (stats), 2);
    assert_string_equal (stats [0]->host_uuid, "h-1");
    assert_true (stats [0]->attached);
    assert_true (stats [0]->has_stats);
    assert_int_equal (stats [0]->physical_size, 100LL << 30);
    assert_int_equal (stats [0]->physical_utilisation, 10LL << 30);
    assert_int_equal (stats [0]->ncapabilities, 3);
    assert_string_equal (stats [0]->capabilities [2], "VDI_SNAPSHOT");
    assert_int_equal (stats [1]->virtual_allocation, 21LL << 30);
    assert_true (stats [1]->updated_at > 0);
    xs_sr_stats_list_destroy (&stats);

    stats = xs_store_sr_stats_list (store, 0, "h-1", &err);
    assert_int_equal (xs_rows_list_size (stats), 2);
    assert_int_equal (stats [1]->backend_id, b2);
    assert_false (stats [1]->attached);
    assert_false (stats [1]->has_stats);
    assert_int_equal (stats [1]->ncapabilities, 0);
    xs_sr_stats_list_destroy (&stats);

    /* set_attached keeps the stats already reported. */
    assert_int_equal (xs_store_sr_set_attached (store, "h-1", b1, false, &err), 0);
    stats = xs_store_sr_stats_list (store, b1, "h-1", &err);
    assert_int_equal (xs_rows_list_size (stats), 1);
    assert_false (stats [0]->attached);
    assert_true (stats [0]->has_stats);
    assert_int_equal (stats [0]->physical_size, 100LL << 30);
    xs_sr_stats_list_destroy (&stats);

    /* Unknown host or backend. */
    s.host_uuid = "ghost";
    assert_int_equal (xs_store_sr_stats_upsert (store, &s, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "host ghost: not found");
    s.host_uuid = "h-1";
    s.backend_id = 99;
    assert_int_equal (xs_store_sr_stats_upsert (store, &s, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "backend 99: not found");

    /* Removing a host drops its reports. */
    assert_int_equal (xs_store_host_remove (store, "h-1", &err), 0);
    assert_null (xs_store_host_get (store, "h-1", &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    stats = xs_store_sr_stats_list (store, 0, NULL, &err);
    assert_int_equal (xs_rows_list_size (stats), 1);
    assert_string_equal (stats [0]->host_uuid, "h-2");
    xs_sr_stats_list_destroy (&stats);
    assert_int_equal (xs_store_host_remove (store, "h-1", &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        FX_TEST_OPEN (test_hosts),
        FX_TEST_OPEN (test_sr_reports),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
