/*  Unit tests of the store's backends (xs_store_backend.c): config kept
    whole and in order, refusals, atomic add, lists, placement order,
    state, the SR uuid set once, removal. */
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

static void
test_backend_config_round_trip (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    fx_add_flavor (store, "gold");
    xs_err_t err = { 0 };
    xs_kv_spec_t config [] = {
        { "server", "myserver" },
        { "serverpath", "/local/scratch/my name" },
        { "options", "a=b,c=d e=f" },
        { "password", "p@ss w=rd;'\"--" },
        { "weird", "~!#$%^&*()_+{}|:<>?`" },
        { "empty", "" },
    };
    const size_t n = sizeof config / sizeof config [0];
    xs_backend_spec_t spec = { .flavor_label = "gold", .zone = "zone-a", .sr_type = "nfs",
                          .name_label = "toybox-renuka", .has_ratio = true, .ratio = 1.5,
                          .has_reserve = true, .reserve = 10, .config = config, .nconfig = n };
    int64_t id = xs_store_backend_add (store, &spec, &err);
    assert_true (id > 0);
    store = fx_reopen (fx);                 /* and across a restart */
    xs_backend_t *b = xs_store_backend_get (store, id, &err);
    assert_non_null (b);
    assert_string_equal (b->flavor_label, "gold");
    assert_string_equal (b->zone, "zone-a");
    assert_string_equal (b->sr_type, "nfs");
    assert_string_equal (b->name_label, "toybox-renuka");
    assert_null (b->sr_uuid);
    assert_null (b->error);
    assert_int_equal (b->state, XS_BACKEND_NEW);
    assert_true (b->has_ratio);
    assert_true (b->ratio == 1.5);
    assert_true (b->has_reserve);
    assert_true (b->reserve == 10);
    assert_int_equal (b->nconfig, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal (b->config [i].key, config [i].key);
        assert_string_equal (b->config [i].value, config [i].value);
    }
    assert_string_equal (xs_backend_config_get (b, "options"), "a=b,c=d e=f");
    assert_null (xs_backend_config_get (b, "nope"));
    xs_backend_destroy (&b);
    assert_null (b);
}

static void
test_backend_add_refusals (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    xs_backend_spec_t spec = { .flavor_label = "gold", .zone = "z", .sr_type = "nfs" };
    assert_int_equal (xs_store_backend_add (store, &spec, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "flavor gold: not found");
    fx_add_flavor (store, "gold");

    xs_backend_spec_t bad = spec;
    bad.sr_type = NULL;
    assert_int_equal (xs_store_backend_add (store, &bad, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    bad = spec;
    bad.zone = "";
    assert_int_equal (xs_store_backend_add (store, &bad, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    bad = spec;
    bad.has_ratio = true;
    bad.ratio = 0;
    assert_int_equal (xs_store_backend_add (store, &bad, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    bad = spec;
    bad.has_reserve = true;
    bad.reserve = 101;
    assert_int_equal (xs_store_backend_add (store, &bad, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    xs_kv_spec_t empty_key [] = { { "", "x" } };
    bad = spec;
    bad.config = empty_key;
    bad.nconfig = 1;
    assert_int_equal (xs_store_backend_add (store, &bad, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);

    /* The same SR cannot back two backends. */
    bad = spec;
    bad.sr_uuid = "sr-1";
    int64_t first = xs_store_backend_add (store, &bad, &err);
    assert_true (first > 0);
    assert_int_equal (xs_store_backend_add (store, &bad, &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_non_null (strstr (err.msg, "sr-1"));
}

static void
test_backend_add_failure_leaves_nothing (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    fx_add_flavor (store, "gold");
    xs_err_t err = { 0 };
    /* The third config row fails (duplicate key) after the backend row and
       two config rows were written: all of it must go. */
    xs_kv_spec_t config [] = { { "server", "a" }, { "password", "hunter2" }, { "server", "b" } };
    xs_backend_spec_t spec = { .flavor_label = "gold", .zone = "z", .sr_type = "nfs",
                          .config = config, .nconfig = 3 };
    assert_int_equal (xs_store_backend_add (store, &spec, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "server given twice"));
    assert_null (strstr (err.msg, "hunter2"));
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM backend"), 0);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM backend_config"), 0);

    /* Inside an explicit transaction the failed operation undoes only itself. */
    assert_int_equal (xs_store_begin (store, &err), 0);
    fx_add_flavor (store, "silver");
    assert_int_equal (xs_store_backend_add (store, &spec, &err), -1);
    assert_true (xs_store_in_transaction (store));
    int64_t ok = fx_add_backend (store, "silver", "z");
    assert_int_equal (xs_store_commit (store, &err), 0);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM backend"), 1);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM backend_config"), 2);
    xs_backend_t *b = xs_store_backend_get (store, ok, &err);
    assert_string_equal (b->flavor_label, "silver");
    xs_backend_destroy (&b);
}

static void
test_backend_lists (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (store, "gold");
    int64_t silver = fx_add_flavor (store, "silver");
    int64_t b1 = fx_add_backend (store, "gold", "z1");
    int64_t b2 = fx_add_backend (store, "silver", "z2");
    int64_t b3 = fx_add_backend (store, "gold", "z2");
    int64_t b4 = fx_add_backend (store, "gold", "z1");

    xs_backend_t **list = xs_store_backend_list (store, &err);
    assert_int_equal (xs_rows_list_size (list), 4);
    assert_int_equal (list [0]->id, b1);
    assert_int_equal (list [3]->id, b4);
    assert_int_equal (list [2]->nconfig, 2);
    xs_backend_list_destroy (&list);
    /* The rows alone: the same backends, zones and states, no config. */
    list = xs_store_backend_list_rows (store, &err);
    assert_int_equal (xs_rows_list_size (list), 4);
    assert_int_equal (list [1]->id, b2);
    assert_string_equal (list [1]->zone, "z2");
    assert_string_equal (list [3]->zone, "z1");
    assert_int_equal (list [2]->nconfig, 0);
    assert_null (list [2]->config);
    xs_backend_list_destroy (&list);

    list = xs_store_backend_list_by_flavor (store, gold, &err);
    assert_int_equal (xs_rows_list_size (list), 3);
    assert_int_equal (list [0]->id, b1);
    assert_int_equal (list [1]->id, b3);
    assert_int_equal (list [2]->id, b4);
    xs_backend_list_destroy (&list);
    list = xs_store_backend_list_by_flavor (store, silver, &err);
    assert_int_equal (xs_rows_list_size (list), 1);
    assert_int_equal (list [0]->id, b2);
    xs_backend_list_destroy (&list);

    /* Placement's walk: the flavor's next backend id, one at a time. */
    assert_int_equal (xs_store_backend_next_of_flavor (store, gold, 0, &err), b1);
    assert_int_equal (xs_store_backend_next_of_flavor (store, gold, b1, &err), b3);
    assert_int_equal (xs_store_backend_next_of_flavor (store, gold, b3, &err), b4);
    assert_int_equal (xs_store_backend_next_of_flavor (store, gold, b4, &err), 0);
    assert_int_equal (xs_store_backend_next_of_flavor (store, silver, 0, &err), b2);
    assert_int_equal (xs_store_backend_next_of_flavor (store, silver, b2, &err), 0);
    assert_int_equal (xs_store_backend_next_of_flavor (store, 999, 0, &err), 0);

    list = xs_store_backend_list_by_zone (store, "z2", &err);
    assert_int_equal (xs_rows_list_size (list), 2);
    assert_int_equal (list [0]->id, b2);
    assert_int_equal (list [1]->id, b3);
    xs_backend_list_destroy (&list);
    list = xs_store_backend_list_by_zone (store, "nowhere", &err);
    assert_non_null (list);
    assert_int_equal (xs_rows_list_size (list), 0);
    xs_backend_list_destroy (&list);
}

static void
test_backend_state_and_sr_uuid (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    fx_add_flavor (store, "gold");
    fx_add_flavor (store, "silver");
    int64_t b1 = fx_add_backend (store, "gold", "z1");
    int64_t b2 = fx_add_backend (store, "silver", "z2");
    int64_t b3 = fx_add_backend (store, "gold", "z2");
    /* State and error text. */
    assert_int_equal (xs_store_backend_set_state (store, b1, XS_BACKEND_ATTACHED, NULL, &err), 0);
    assert_int_equal (xs_store_backend_set_error (store, b3, "SR_BACKEND_FAILURE_73", &err), 0);
    xs_backend_t *b = xs_store_backend_get (store, b1, &err);
    assert_int_equal (b->state, XS_BACKEND_ATTACHED);
    assert_null (b->error);
    assert_false (b->has_ratio);
    assert_false (b->has_reserve);
    xs_backend_destroy (&b);
    b = xs_store_backend_get (store, b3, &err);
    assert_int_equal (b->state, XS_BACKEND_ERROR);
    assert_string_equal (b->error, "SR_BACKEND_FAILURE_73");
    xs_backend_destroy (&b);
    assert_int_equal (xs_store_backend_set_state (store, 99, XS_BACKEND_NEW, NULL, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "backend 99: not found");
    assert_int_equal (xs_store_backend_set_state (store, b1, (xs_backend_state_t) 42, NULL,
                                                  &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_null (xs_store_backend_get (store, 99, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);

    /* sr_uuid: set once; the same again is fine; another is refused. */
    assert_int_equal (xs_store_backend_set_sr_uuid (store, b1, "sr-a", &err), 0);
    assert_int_equal (xs_store_backend_set_sr_uuid (store, b1, "sr-a", &err), 0);
    assert_int_equal (xs_store_backend_set_sr_uuid (store, b1, "sr-b", &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_non_null (strstr (err.msg, "only one agent"));
    assert_int_equal (xs_store_backend_set_sr_uuid (store, b2, "sr-a", &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    char expect [128];
    snprintf (expect, sizeof expect, "backend %lld: SR sr-a already belongs to backend %lld",
              (long long) b2, (long long) b1);
    assert_string_equal (err.msg, expect);
    assert_int_equal (xs_store_backend_set_sr_uuid (store, 99, "sr-z", &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    b = xs_store_backend_get (store, b1, &err);
    assert_string_equal (b->sr_uuid, "sr-a");
    xs_backend_destroy (&b);
}

static void
test_backend_remove (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (store, "gold");
    int64_t b1 = fx_add_backend (store, "gold", "z1");
    int64_t b2 = fx_add_backend (store, "gold", "z1");
    xs_host_spec_t host = { .uuid = "h1", .zone = "z1" };
    assert_int_equal (xs_store_host_upsert (store, &host, &err), 0);
    assert_int_equal (xs_store_sr_set_attached (store, "h1", b1, true, &err), 0);
    fx_add_volume (store, "v1", gold, b1, XS_VOLUME_AVAILABLE, NULL);
    fx_add_volume (store, "v2", gold, b1, XS_VOLUME_ERROR_DELETING, NULL);
    fx_add_volume (store, "v3", gold, b1, XS_VOLUME_DELETED, NULL);

    assert_int_equal (xs_store_backend_live_volumes (store, b1, &err), 2);
    assert_int_equal (xs_store_backend_remove (store, b1, &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    char expect [128];
    snprintf (expect, sizeof expect, "backend %lld: 2 volumes still live on it", (long long) b1);
    assert_string_equal (err.msg, expect);
    assert_int_equal (xs_store_volume_set_state (store, "v1", XS_VOLUME_DELETED, NULL, &err), 0);
    assert_int_equal (xs_store_backend_remove (store, b1, &err), -1);
    snprintf (expect, sizeof expect, "backend %lld: 1 volume still live on it", (long long) b1);
    assert_string_equal (err.msg, expect);
    assert_int_equal (xs_store_volume_set_state (store, "v2", XS_VOLUME_DELETED, NULL, &err), 0);
    assert_int_equal (xs_store_backend_remove (store, b1, &err), 0);

    assert_null (xs_store_backend_get (store, b1, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_int_equal (xs_store_backend_remove (store, b1, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    /* Config and SR reports went with it; the history rows stay. */
    char sql [128];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM backend_config WHERE backend_id = %lld",
              (long long) b1);
    assert_int_equal (fx_raw_int (fx->path, sql), 0);
    assert_int_equal (fx_raw_int (fx->path, "SELECT count(*) FROM host_sr"), 0);
    xs_volume_t *v = xs_store_volume_get (store, "v3", &err);
    assert_non_null (v);
    assert_int_equal (v->backend_id, 0);
    xs_volume_destroy (&v);

    /* D11: a create in flight on a backend (its journal row pending or
       dispatched there) keeps the backend; a finished one does not. */
    int64_t b4 = fx_add_backend (store, "gold", "z1");
    fx_add_volume (store, "v4", gold, 0, XS_VOLUME_CREATING, NULL);
    xs_job_spec_t job = {.volume_uuid = "v4", .op = "vdi_create", .state = XS_JOB_DISPATCHED,
                         .backend_id = b4, .host_uuid = "h1"};
    int64_t job_id = xs_store_job_insert (store, &job, &err);
    assert_true (job_id > 0);
    assert_int_equal (xs_store_backend_remove (store, b4, &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    snprintf (expect, sizeof expect,
              "backend %lld: 1 volume operation in progress on it (volume v4: vdi_create); "
              "wait for it to finish", (long long) b4);
    assert_string_equal (err.msg, expect);
    xs_backend_t *kept = xs_store_backend_get (store, b4, &err);
    assert_non_null (kept);
    xs_backend_destroy (&kept);
    job.state = XS_JOB_FAILED;
    job.error = "boom";
    assert_int_equal (xs_store_job_update (store, job_id, &job, &err), 0);
    assert_int_equal (xs_store_backend_remove (store, b4, &err), 0);

    /* Ids are never reused. */
    assert_int_equal (xs_store_backend_remove (store, b2, &err), 0);
    int64_t b3 = fx_add_backend (store, "gold", "z1");
    assert_true (b3 > b2);
}

/* Flavor and backend rows are read once per transaction
   (xs_store_cache.c), never across a change: a backend's state set, a
   backend added or removed, a flavor removed, in the same transaction,
   is seen by the very next read; a rolled-back change too; and nothing is
   kept past the commit. */
static void
test_rows_read_once_per_transaction (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (store, "gold");
    fx_add_flavor (store, "spare");
    int64_t b1 = fx_add_backend (store, "gold", "z1");
    assert_int_equal (xs_store_begin (store, &err), 0);
    xs_backend_t *b = xs_store_backend_get (store, b1, &err);
    assert_non_null (b);
    xs_backend_destroy (&b);
    uint64_t trips = xs_store_round_trips (store);
    b = xs_store_backend_get (store, b1, &err);             /* from the cache */
    assert_int_equal (xs_store_round_trips (store), trips);
    assert_int_equal (b->nconfig, 2);
    assert_string_equal (b->flavor_label, "gold");
    xs_backend_destroy (&b);
    assert_int_equal (xs_store_backend_next_of_flavor (store, gold, 0, &err), b1);
    assert_int_equal (xs_store_backend_next_of_flavor (store, gold, b1, &err), 0);
    xs_flavor_t *f = xs_store_flavor_get (store, "gold", &err);
    xs_flavor_destroy (&f);
    trips = xs_store_round_trips (store);
    f = xs_store_flavor_get_by_id (store, gold, &err);
    assert_int_equal (xs_store_round_trips (store), trips);
    assert_string_equal (f->label, "gold");
    xs_flavor_destroy (&f);

    assert_int_equal (xs_store_backend_set_state (store, b1, XS_BACKEND_ERROR, "gone", &err), 0);
    b = xs_store_backend_get (store, b1, &err);
    assert_int_equal (b->state, XS_BACKEND_ERROR);
    xs_backend_destroy (&b);
    int64_t b2 = fx_add_backend (store, "gold", "z1");
    assert_int_equal (xs_store_backend_next_of_flavor (store, gold, b1, &err), b2);
    assert_int_equal (xs_store_backend_remove (store, b2, &err), 0);
    assert_null (xs_store_backend_get (store, b2, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_int_equal (xs_store_backend_next_of_flavor (store, gold, b1, &err), 0);
    f = xs_store_flavor_get (store, "spare", &err);
    xs_flavor_destroy (&f);
    assert_int_equal (xs_store_flavor_delete (store, "spare", &err), 0);
    assert_null (xs_store_flavor_get (store, "spare", &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_int_equal (xs_store_commit (store, &err), 0);

    /* A change rolled back: the row read after it is not kept. */
    assert_int_equal (xs_store_begin (store, &err), 0);
    assert_int_equal (xs_store_backend_set_state (store, b1, XS_BACKEND_ATTACHED, NULL, &err), 0);
    b = xs_store_backend_get (store, b1, &err);
    assert_int_equal (b->state, XS_BACKEND_ATTACHED);
    xs_backend_destroy (&b);
    assert_int_equal (xs_store_rollback (store, &err), 0);
    assert_int_equal (xs_store_begin (store, &err), 0);
    b = xs_store_backend_get (store, b1, &err);
    assert_int_equal (b->state, XS_BACKEND_ERROR);
    xs_backend_destroy (&b);
    assert_int_equal (xs_store_commit (store, &err), 0);
    /* Outside a transaction every read goes to the database. */
    trips = xs_store_round_trips (store);
    b = xs_store_backend_get (store, b1, &err);
    xs_backend_destroy (&b);
    assert_true (xs_store_round_trips (store) > trips);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        FX_TEST_OPEN (test_backend_config_round_trip),
        FX_TEST_OPEN (test_rows_read_once_per_transaction),
        FX_TEST_OPEN (test_backend_add_refusals),
        FX_TEST_OPEN (test_backend_add_failure_leaves_nothing),
        FX_TEST_OPEN (test_backend_lists),
        FX_TEST_OPEN (test_backend_state_and_sr_uuid),
        FX_TEST_OPEN (test_backend_remove),
    };
    return cmocka_run_group_tests (tests, FX_GROUP_SETUP, FX_GROUP_TEARDOWN);
}
