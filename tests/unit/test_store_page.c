/*  Unit tests of the store's list pages (xs_store_volume_page and its
    count): the Block Storage API's order (newest first, ties by uuid),
    marker, offset, limit + 1, the filters, projects kept apart, snapshots
    told from volumes as the API tells them (a copy whose first job was
    vdi_snapshot). Runs on SQLite and on PostgreSQL (unit.store_page.pg). */
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

/* The catalog of every test: project p1's volumes, a clone, snapshots, a
   deleted volume, and project p2's volume, each with the created_at the
   test chose (ties included). */
static void
s_fill (fixture_t *fx)
{
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (fx->store, "gold");
    struct { const char *uuid, *name, *parent, *project, *first_job; int64_t created_at;
             xs_volume_state_t state; } rows [] = {
        { "a-1", "one",   NULL,  "p1", "vdi_create",   1000, XS_VOLUME_ERROR },
        { "a-2", "web",   NULL,  "p1", "vdi_create",   2000, XS_VOLUME_AVAILABLE },
        { "a-3", "web",   NULL,  "p1", "vdi_create",   2000, XS_VOLUME_AVAILABLE },
        { "a-4", "four",  NULL,  "p1", "vdi_create",   3000, XS_VOLUME_AVAILABLE },
        { "a-5", NULL,    NULL,  "p1", "vdi_create",    500, XS_VOLUME_CREATING },
        { "b-1", "web",   NULL,  "p2", "vdi_create",   2500, XS_VOLUME_AVAILABLE },
        { "d-1", "gone",  NULL,  "p1", "vdi_create",   2600, XS_VOLUME_DELETED },
        { "s-1", "snap",  "a-1", "p1", "vdi_snapshot", 2700, XS_VOLUME_AVAILABLE },
        { "c-1", "clone", "a-1", "p1", "vdi_clone",    2800, XS_VOLUME_AVAILABLE },
        { "s-2", "snap",  "a-4", "p1", "vdi_snapshot", 1500, XS_VOLUME_ERROR },
        { "s-3", "old",   "a-4", "p1", "vdi_snapshot", 1600, XS_VOLUME_DELETED },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows [0]; i++) {
        xs_volume_spec_t v = { .uuid = rows [i].uuid, .name = rows [i].name, .size_bytes = 1,
                               .flavor_id = gold, .state = rows [i].state,
                               .parent_uuid = rows [i].parent, .project = rows [i].project };
        assert_int_equal (xs_store_volume_insert (fx->store, &v, &err), 0);
        xs_job_spec_t j = { .volume_uuid = rows [i].uuid, .op = rows [i].first_job,
                            .state = XS_JOB_DONE };
        assert_true (xs_store_job_insert (fx->store, &j, &err) > 0);
        j.op = "vdi_destroy";               /* a later job changes nothing */
        assert_true (xs_store_job_insert (fx->store, &j, &err) > 0);
    }
    /* The creation times, through a raw connection (the store stamps now). */
    xs_store_destroy (&fx->store);
    for (size_t i = 0; i < sizeof rows / sizeof rows [0]; i++) {
        char sql [200];
        snprintf (sql, sizeof sql, "UPDATE volume SET created_at = %lld WHERE uuid = '%s'",
                  (long long) rows [i].created_at, rows [i].uuid);
        assert_int_equal (fx_raw_exec (fx->path, sql), FX_OK);
    }
    fx->store = fx_open (fx);
}

/* The page spec selects, as "uuid uuid ...", or "ERR <kind>: <msg>". */
static char *
s_page (xs_store_t *store, xs_volume_page_spec_t spec)
{
    xs_err_t err = { 0 };
    xs_volume_t **rows = xs_store_volume_page (store, &spec, &err);
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&out, &size);
    if (!rows)
        fprintf (f, "ERR %s: %s", xs_errkind_name (err.kind), err.msg);
    for (xs_volume_t **v = rows; rows && *v; v++)
        fprintf (f, "%s%s", v == rows ? "" : " ", (*v)->uuid);
    fclose (f);
    xs_volume_list_destroy (&rows);
    return out;
}

#define assert_page(store, expect, ...) do { \
        char *got_ = s_page ((store), (xs_volume_page_spec_t) { __VA_ARGS__ }); \
        assert_string_equal (got_, (expect)); \
        free (got_); \
    } while (0)

/* Newest first, ties by uuid (descending); limit + 1 rows; after the
   marker (a tie too); the offset after it; the end. */
static void
test_page_order_marker_limit (void **state)
{
    fixture_t *fx = *state;
    s_fill (fx);
    xs_store_t *store = fx->store;
    assert_page (store, "a-4 c-1 a-3 a-2 a-1 a-5", .project = "p1", .limit = 1000);
    assert_page (store, "a-4 c-1 a-3", .project = "p1", .limit = 2);
    assert_page (store, "a-3 a-2 a-1", .project = "p1", .marker = "c-1", .limit = 2);
    assert_page (store, "a-2 a-1 a-5", .project = "p1", .marker = "a-3", .limit = 10);
    assert_page (store, "a-5", .project = "p1", .marker = "a-1", .limit = 1);
    assert_page (store, "", .project = "p1", .marker = "a-5", .limit = 1);
    assert_page (store, "a-2 a-1", .project = "p1", .marker = "c-1", .offset = 1, .limit = 1);
    assert_page (store, "", .project = "p1", .offset = 6, .limit = 5);
    /* Every project (an admin's all_tenants): the same order across them. */
    assert_page (store, "a-4 c-1 b-1 a-3 a-2 a-1 a-5", .limit = 1000);
    assert_page (store, "a-3 a-2", .marker = "b-1", .limit = 1);
    /* Snapshots: their own list, the same order. */
    assert_page (store, "s-1 s-2", .project = "p1", .snapshots = true, .limit = 1000);
    assert_page (store, "s-2", .project = "p1", .snapshots = true, .marker = "s-1", .limit = 1);
    assert_page (store, "", .project = "p2", .snapshots = true, .limit = 1000);
    /* A bad limit or offset is the caller's error. */
    assert_page (store, "ERR invalid: volume page: the limit must be 1 or more, the offset 0 "
                 "or more", .project = "p1", .limit = 0);
    assert_page (store, "ERR invalid: volume page: the limit must be 1 or more, the offset 0 "
                 "or more", .project = "p1", .limit = 1, .offset = -1);
}

/* A marker must be a row of the same selection: unknown, deleted, another
   project's, the other kind, or filtered out is "not found". */
static void
test_page_marker_not_found (void **state)
{
    fixture_t *fx = *state;
    s_fill (fx);
    xs_store_t *store = fx->store;
    assert_page (store, "ERR not_found: marker nope: not found", .project = "p1",
                 .marker = "nope", .limit = 5);
    assert_page (store, "ERR not_found: marker d-1: not found", .project = "p1",
                 .marker = "d-1", .limit = 5);
    assert_page (store, "ERR not_found: marker b-1: not found", .project = "p1",
                 .marker = "b-1", .limit = 5);
    assert_page (store, "ERR not_found: marker s-1: not found", .project = "p1",
                 .marker = "s-1", .limit = 5);
    assert_page (store, "ERR not_found: marker a-1: not found", .project = "p1",
                 .snapshots = true, .marker = "a-1", .limit = 5);
    assert_page (store, "ERR not_found: marker a-4: not found", .project = "p1",
                 .name = "web", .marker = "a-4", .limit = 5);
    assert_page (store, "ERR not_found: marker s-1: not found", .project = "p2",
                 .snapshots = true, .marker = "s-1", .limit = 5);
}

/* Name (exact; "" is the unnamed), state, parent; with the marker; the
   counts of the same selections. */
static void
test_page_filters_and_count (void **state)
{
    fixture_t *fx = *state;
    s_fill (fx);
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    assert_page (store, "a-3 a-2", .project = "p1", .name = "web", .limit = 10);
    assert_page (store, "a-2", .project = "p1", .name = "web", .marker = "a-3", .limit = 10);
    assert_page (store, "b-1 a-3 a-2", .name = "web", .limit = 10);
    assert_page (store, "a-5", .project = "p1", .name = "", .limit = 10);
    assert_page (store, "", .project = "p1", .name = "WEB", .limit = 10);
    assert_page (store, "a-1", .project = "p1", .state = "error", .limit = 10);
    assert_page (store, "", .project = "p1", .state = "deleted", .limit = 10);
    assert_page (store, "a-4 c-1 a-3 a-2", .project = "p1", .state = "available", .limit = 10);
    assert_page (store, "c-1", .project = "p1", .parent_uuid = "a-1", .limit = 10);
    assert_page (store, "s-2", .project = "p1", .snapshots = true, .parent_uuid = "a-4",
                 .limit = 10);
    assert_page (store, "s-2", .project = "p1", .snapshots = true, .state = "error",
                 .limit = 10);
    assert_page (store, "s-1 s-2", .project = "p1", .snapshots = true, .name = "snap",
                 .limit = 10);

    xs_volume_page_spec_t spec = { .project = "p1", .marker = "ignored", .limit = 1 };
    assert_int_equal (xs_store_volume_page_count (store, &spec, &err), 6);
    spec.project = NULL;
    assert_int_equal (xs_store_volume_page_count (store, &spec, &err), 7);
    spec.name = "web";
    assert_int_equal (xs_store_volume_page_count (store, &spec, &err), 3);
    spec = (xs_volume_page_spec_t) { .project = "p1", .snapshots = true };
    assert_int_equal (xs_store_volume_page_count (store, &spec, &err), 2);
    spec.state = "available";
    assert_int_equal (xs_store_volume_page_count (store, &spec, &err), 1);
    spec = (xs_volume_page_spec_t) { .project = "p3" };
    assert_int_equal (xs_store_volume_page_count (store, &spec, &err), 0);
}

/* Pages followed marker to marker cover the selection once, in order,
   with many ties (rows created in the same millisecond). */
static void
test_page_walk_with_ties (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (store, "gold");
    char uuid [40];
    for (int i = 0; i < 25; i++) {
        snprintf (uuid, sizeof uuid, "v-%02d", i);
        xs_volume_spec_t v = { .uuid = uuid, .size_bytes = 1, .flavor_id = gold,
                               .state = XS_VOLUME_AVAILABLE, .project = "p1" };
        assert_int_equal (xs_store_volume_insert (store, &v, &err), 0);
    }
    xs_store_destroy (&fx->store);
    assert_int_equal (fx_raw_exec (fx->path, "UPDATE volume SET created_at = 7 WHERE "
                                   "uuid < 'v-10'"), FX_OK);
    assert_int_equal (fx_raw_exec (fx->path, "UPDATE volume SET created_at = 9 WHERE "
                                   "uuid >= 'v-10'"), FX_OK);
    store = fx->store = fx_open (fx);
    char marker [40] = "";
    int seen = 0, expect = 24, pages = 0;
    for (;;) {
        xs_volume_page_spec_t spec = { .project = "p1", .marker = *marker ? marker : NULL,
                                       .limit = 4 };
        xs_volume_t **rows = xs_store_volume_page (store, &spec, &err);
        assert_non_null (rows);
        size_t n = 0;
        for (; rows [n] && n < 4; n++, seen++, expect--) {
            snprintf (uuid, sizeof uuid, "v-%02d", expect);
            assert_string_equal (rows [n]->uuid, uuid);
        }
        bool more = rows [n] != NULL;
        if (n)
            snprintf (marker, sizeof marker, "%s", rows [n - 1]->uuid);
        xs_volume_list_destroy (&rows);
        pages++;
        if (!more)
            break;
    }
    assert_int_equal (seen, 25);
    assert_int_equal (pages, 7);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        FX_TEST_OPEN (test_page_order_marker_limit),
        FX_TEST_OPEN (test_page_marker_not_found),
        FX_TEST_OPEN (test_page_filters_and_count),
        FX_TEST_OPEN (test_page_walk_with_ties),
    };
    return cmocka_run_group_tests (tests, FX_GROUP_SETUP, FX_GROUP_TEARDOWN);
}
