/*  Unit tests of the store's volumes (xs_store_volume.c): insert with its
    unique keys and references, update, state, lists, parents. */
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
test_volume_insert (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (store, "gold");
    int64_t b1 = fx_add_backend (store, "gold", "z1");

    xs_volume_spec_t v = { .uuid = "vol-1", .name = "data", .size_bytes = 10LL << 30,
                      .flavor_id = gold, .state = XS_VOLUME_CREATING, .request_id = "req-1" };
    assert_int_equal (xs_store_volume_insert (store, &v, &err), 0);
    xs_volume_t *got = xs_store_volume_get (store, "vol-1", &err);
    assert_non_null (got);
    assert_string_equal (got->name, "data");
    assert_int_equal (got->size_bytes, 10LL << 30);
    assert_int_equal (got->flavor_id, gold);
    assert_int_equal (got->backend_id, 0);
    assert_null (got->vdi_uuid);
    assert_null (got->host_uuid);
    assert_int_equal (got->state, XS_VOLUME_CREATING);
    assert_string_equal (got->request_id, "req-1");
    assert_string_equal (got->project, "");
    assert_true (got->created_at > 0);
    assert_int_equal (got->created_at, got->updated_at);
    xs_volume_destroy (&got);

    /* Idempotency key and uuid are unique; NULL request ids are not. */
    got = xs_store_volume_get_by_request_id (store, "req-1", &err);
    assert_string_equal (got->uuid, "vol-1");
    xs_volume_destroy (&got);
    assert_null (xs_store_volume_get_by_request_id (store, "req-2", &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    xs_volume_spec_t dup = v;
    dup.uuid = "vol-2";
    assert_int_equal (xs_store_volume_insert (store, &dup, &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_string_equal (err.msg, "volume request req-1: already used by volume vol-1");
    dup = v;
    dup.request_id = NULL;
    assert_int_equal (xs_store_volume_insert (store, &dup, &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_string_equal (err.msg, "volume vol-1: already exists");
    /* The owning project round-trips. */
    xs_volume_spec_t owned = { .uuid = "vol-p", .size_bytes = 1, .flavor_id = gold,
                               .state = XS_VOLUME_CREATING, .project = "proj1" };
    assert_int_equal (xs_store_volume_insert (store, &owned, &err), 0);
    got = xs_store_volume_get (store, "vol-p", &err);
    assert_string_equal (got->project, "proj1");
    xs_volume_destroy (&got);
    fx_add_volume (store, "vol-2", gold, b1, XS_VOLUME_AVAILABLE, NULL);
    fx_add_volume (store, "vol-3", gold, b1, XS_VOLUME_DELETED, NULL);

    /* References must exist. */
    dup = (xs_volume_spec_t) { .uuid = "vol-x", .flavor_id = 77, .state = XS_VOLUME_CREATING };
    assert_int_equal (xs_store_volume_insert (store, &dup, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "volume vol-x: flavor 77 not found");
    dup.flavor_id = gold;
    dup.backend_id = 88;
    assert_int_equal (xs_store_volume_insert (store, &dup, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "volume vol-x: backend 88 not found");
    dup.backend_id = 0;
    dup.size_bytes = -1;
    assert_int_equal (xs_store_volume_insert (store, &dup, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    dup.size_bytes = 1;
    dup.state = (xs_volume_state_t) 17;
    assert_int_equal (xs_store_volume_insert (store, &dup, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
}

static void
test_volume_update_and_list (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (store, "gold");
    int64_t b1 = fx_add_backend (store, "gold", "z1");
    xs_volume_spec_t v = { .uuid = "vol-1", .name = "data", .size_bytes = 10LL << 30,
                           .flavor_id = gold, .state = XS_VOLUME_CREATING,
                           .request_id = "req-1" };
    assert_int_equal (xs_store_volume_insert (store, &v, &err), 0);
    fx_add_volume (store, "vol-2", gold, b1, XS_VOLUME_AVAILABLE, NULL);
    fx_add_volume (store, "vol-3", gold, b1, XS_VOLUME_DELETED, NULL);
    xs_volume_t *got = NULL;
    /* Update writes the mutable fields. */
    xs_volume_spec_t upd = { .uuid = "vol-1", .name = "data", .state = XS_VOLUME_AVAILABLE,
                             .backend_id = b1, .vdi_uuid = "vdi-1", .host_uuid = "h-1" };
    assert_int_equal (xs_store_volume_update (store, &upd, &err), 0);
    got = xs_store_volume_get (store, "vol-1", &err);
    assert_int_equal (got->state, XS_VOLUME_AVAILABLE);
    assert_int_equal (got->backend_id, b1);
    assert_string_equal (got->vdi_uuid, "vdi-1");
    assert_string_equal (got->host_uuid, "h-1");
    assert_true (got->updated_at >= got->created_at);
    xs_volume_destroy (&got);
    upd.backend_id = 4242;
    assert_int_equal (xs_store_volume_update (store, &upd, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_int_equal (xs_store_volume_set_state (store, "vol-2", XS_VOLUME_ERROR, "boom", &err), 0);
    got = xs_store_volume_get (store, "vol-2", &err);
    assert_int_equal (got->state, XS_VOLUME_ERROR);
    assert_string_equal (got->error, "boom");
    xs_volume_destroy (&got);
    assert_int_equal (xs_store_volume_set_state (store, "nope", XS_VOLUME_ERROR, NULL, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    xs_volume_spec_t ghost = { .uuid = "nope", .state = XS_VOLUME_ERROR };
    assert_int_equal (xs_store_volume_update (store, &ghost, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);

    xs_volume_t **list = xs_store_volume_list (store, false, &err);
    assert_int_equal (xs_rows_list_size (list), 2);
    assert_string_equal (list [0]->uuid, "vol-1");
    assert_string_equal (list [1]->uuid, "vol-2");
    xs_volume_list_destroy (&list);
    list = xs_store_volume_list (store, true, &err);
    assert_int_equal (xs_rows_list_size (list), 3);
    assert_string_equal (list [2]->uuid, "vol-3");
    xs_volume_list_destroy (&list);

    /* A snapshot records its parent. */
    xs_volume_spec_t snap = { .uuid = "vol-4", .size_bytes = 1, .flavor_id = gold,
                         .backend_id = b1, .parent_uuid = "vol-1", .state = XS_VOLUME_CREATING };
    assert_int_equal (xs_store_volume_insert (store, &snap, &err), 0);
    got = xs_store_volume_get (store, "vol-4", &err);
    assert_string_equal (got->parent_uuid, "vol-1");
    xs_volume_destroy (&got);
}

/* A project's usage and a volume's snapshots in one query each (they
   walked every volume at every API create and delete): a snapshot is a
   copy whose first job was vdi_snapshot, a clone is a volume; deleted
   rows and other projects do not count; sizes round up to a GiB. */
static void
test_volume_usage_and_snapshots (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (store, "gold");
    struct { const char *uuid, *parent, *project, *first_job; int64_t size;
             xs_volume_state_t state; } rows [] = {
        { "v-1", NULL, "p1", "vdi_create", (INT64_C (1) << 30) + 1, XS_VOLUME_AVAILABLE },
        { "s-1", "v-1", "p1", "vdi_snapshot", 1 << 20, XS_VOLUME_AVAILABLE },
        { "c-1", "v-1", "p1", "vdi_clone", 1 << 20, XS_VOLUME_AVAILABLE },
        { "s-2", "v-1", "p1", "vdi_snapshot", 1 << 20, XS_VOLUME_DELETED },
        { "v-2", NULL, "p2", "vdi_create", 1 << 20, XS_VOLUME_ERROR },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows [0]; i++) {
        xs_volume_spec_t v = { .uuid = rows [i].uuid, .size_bytes = rows [i].size,
                               .flavor_id = gold, .state = rows [i].state,
                               .parent_uuid = rows [i].parent, .project = rows [i].project };
        assert_int_equal (xs_store_volume_insert (store, &v, &err), 0);
        xs_job_spec_t j = { .volume_uuid = rows [i].uuid, .op = rows [i].first_job,
                            .state = XS_JOB_DONE };
        assert_true (xs_store_job_insert (store, &j, &err) > 0);
        j.op = "vdi_destroy";               /* a later job changes nothing */
        assert_true (xs_store_job_insert (store, &j, &err) > 0);
    }
    xs_volume_usage_t u;
    assert_int_equal (xs_store_volume_usage (store, "p1", &u, &err), 0);
    assert_int_equal (u.volumes, 2);        /* v-1 and its clone */
    assert_int_equal (u.snapshots, 1);
    assert_int_equal (u.gigabytes, 2 + 1 + 1);
    assert_int_equal (xs_store_volume_usage (store, "p2", &u, &err), 0);
    assert_int_equal (u.volumes, 1);
    assert_int_equal (u.snapshots, 0);
    assert_int_equal (xs_store_volume_usage (store, "nobody", &u, &err), 0);
    assert_int_equal (u.volumes + u.snapshots + u.gigabytes, 0);
    assert_int_equal (xs_store_volume_snapshots_of (store, "v-1", &err), 1);
    assert_int_equal (xs_store_volume_snapshots_of (store, "c-1", &err), 0);
}

/* set_size writes size, state and error (set_state's checks and
   not-found, shared); a project's usage counts a volume in every state but
   deleted (the usage query names the live states for its index). */
static void
test_volume_set_size_and_live_states (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (store, "gold");
    xs_volume_state_t states [] = {
        XS_VOLUME_CREATING, XS_VOLUME_AVAILABLE, XS_VOLUME_DELETING, XS_VOLUME_DELETED,
        XS_VOLUME_ERROR, XS_VOLUME_ERROR_DELETING, XS_VOLUME_EXTENDING,
        XS_VOLUME_ERROR_EXTENDING };
    for (size_t i = 0; i < sizeof states / sizeof states [0]; i++) {
        char uuid [16];
        snprintf (uuid, sizeof uuid, "v-%zu", i);
        xs_volume_spec_t v = { .uuid = uuid, .size_bytes = INT64_C (1) << 30,
                               .flavor_id = gold, .state = states [i], .project = "p1" };
        assert_int_equal (xs_store_volume_insert (store, &v, &err), 0);
    }
    xs_volume_usage_t u;
    assert_int_equal (xs_store_volume_usage (store, "p1", &u, &err), 0);
    assert_int_equal (u.volumes, 7);
    assert_int_equal (u.gigabytes, 7);

    assert_int_equal (xs_store_volume_set_size (store, "v-1", INT64_C (3) << 30,
                                                XS_VOLUME_ERROR_EXTENDING, "slow", &err), 0);
    xs_volume_t *got = xs_store_volume_get (store, "v-1", &err);
    assert_int_equal (got->size_bytes, INT64_C (3) << 30);
    assert_int_equal (got->state, XS_VOLUME_ERROR_EXTENDING);
    assert_string_equal (got->error, "slow");
    xs_volume_destroy (&got);
    assert_int_equal (xs_store_volume_set_size (store, "v-1", INT64_C (4) << 30,
                                                XS_VOLUME_AVAILABLE, NULL, &err), 0);
    got = xs_store_volume_get (store, "v-1", &err);
    assert_int_equal (got->state, XS_VOLUME_AVAILABLE);
    assert_null (got->error);
    xs_volume_destroy (&got);
    assert_int_equal (xs_store_volume_set_size (store, "v-1", -1, XS_VOLUME_AVAILABLE, NULL,
                                                &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "v-1"));
    assert_int_equal (xs_store_volume_set_size (store, "v-1", 1, (xs_volume_state_t) 99, NULL,
                                                &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_int_equal (xs_store_volume_set_size (store, "nope", 1, XS_VOLUME_AVAILABLE, NULL,
                                                &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_int_equal (xs_store_volume_set_size (store, "", 1, XS_VOLUME_AVAILABLE, NULL, &err),
                      -1);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_int_equal (xs_store_volume_usage (store, "p1", &u, &err), 0);
    assert_int_equal (u.gigabytes, 7 + 3);
}

/* A made VDI (xs_store_vdi_made) is written all or none, inside the
   caller's transaction (one pipeline on PostgreSQL): one that fails
   (its attempt names no volume) leaves its job as it was and the rest of
   the transaction intact; the row it returns is the row as stored. */
static void
test_vdi_made_all_or_none (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    int64_t gold = fx_add_flavor (store, "gold");
    int64_t b1 = fx_add_backend (store, "gold", "z1");
    xs_volume_spec_t va = { .uuid = "vol-a", .name = "a", .size_bytes = 1 << 20,
                            .flavor_id = gold, .state = XS_VOLUME_CREATING };
    assert_int_equal (xs_store_volume_insert (store, &va, &err), 0);
    xs_job_spec_t job = { .volume_uuid = "vol-a", .op = "vdi_create",
                          .state = XS_JOB_DISPATCHED, .backend_id = b1, .host_uuid = "h1" };
    int64_t ja = xs_store_job_insert (store, &job, &err);
    job.volume_uuid = NULL;
    int64_t jb = xs_store_job_insert (store, &job, &err);
    assert_true (ja > 0 && jb > 0);

    assert_int_equal (xs_store_begin (store, &err), 0);
    xs_vdi_made_spec_t bad = { .job_id = jb, .job_host = "h1", .result = "{}",
                               .volume_uuid = "vol-missing", .backend_id = b1,
                               .vdi_uuid = "vdi-x", .host_uuid = "h1", .attempt = true };
    assert_null (xs_store_vdi_made (store, &bad, &err));
    xs_vdi_made_spec_t good = { .job_id = ja, .job_host = "h1", .result = "{\"vdi_uuid\":1}",
                                .volume_uuid = "vol-a", .backend_id = b1,
                                .vdi_uuid = "vdi-a", .host_uuid = "h2", .attempt = true,
                                .at = 1234567 };
    xs_volume_t *v = xs_store_vdi_made (store, &good, &err);
    if (!v)
        fail_msg ("%s", err.msg);
    assert_int_equal (xs_store_commit (store, &err), 0);

    assert_int_equal (v->state, XS_VOLUME_AVAILABLE);
    assert_string_equal (v->vdi_uuid, "vdi-a");
    assert_string_equal (v->host_uuid, "h2");
    assert_int_equal (v->backend_id, b1);
    assert_int_equal (v->updated_at, 1234567);
    xs_volume_t *stored = xs_store_volume_get (store, "vol-a", &err);
    assert_non_null (stored);
    assert_string_equal (stored->vdi_uuid, "vdi-a");
    assert_int_equal (stored->state, XS_VOLUME_AVAILABLE);
    assert_int_equal (stored->updated_at, v->updated_at);
    xs_volume_destroy (&stored);
    xs_volume_destroy (&v);
    xs_job_t *a = xs_store_job_get (store, ja, &err), *b = xs_store_job_get (store, jb, &err);
    assert_non_null (a);
    assert_non_null (b);
    assert_int_equal (a->state, XS_JOB_DONE);
    assert_string_equal (a->result, "{\"vdi_uuid\":1}");
    assert_int_equal (b->state, XS_JOB_DISPATCHED);         /* undone with the rest */
    assert_null (b->result);
    xs_job_destroy (&a);
    xs_job_destroy (&b);
    xs_attempt_t **at = xs_store_attempt_list_by_volume (store, "vol-a", &err);
    assert_int_equal (xs_rows_list_size (at), 1);
    assert_int_equal (at [0]->outcome, XS_ATTEMPT_OK);
    assert_string_equal (at [0]->host_uuid, "h2");
    xs_attempt_list_destroy (&at);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        FX_TEST_OPEN (test_volume_insert),
        FX_TEST_OPEN (test_volume_update_and_list),
        FX_TEST_OPEN (test_volume_usage_and_snapshots),
        FX_TEST_OPEN (test_volume_set_size_and_live_states),
        FX_TEST_OPEN (test_vdi_made_all_or_none),
    };
    return cmocka_run_group_tests (tests, FX_GROUP_SETUP, FX_GROUP_TEARDOWN);
}
