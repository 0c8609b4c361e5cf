/*  Unit tests of the store's flavors (xs_store_flavor.c): create, get,
    list, delete and what holds a flavor. */
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
test_flavors (void **state)
{
    fixture_t *fx = *state;
    xs_store_t *store = fx->store;
    xs_err_t err = { 0 };
    int64_t gold = xs_store_flavor_create (store, "gold", "Not all that glitters", &err);
    assert_true (gold > 0);
    int64_t silver = xs_store_flavor_create (store, "silver", NULL, &err);
    assert_true (silver > gold);

    assert_int_equal (xs_store_flavor_create (store, "gold", "again", &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_string_equal (err.msg, "flavor gold: already exists");
    assert_int_equal (xs_store_flavor_create (store, "", "x", &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);

    xs_flavor_t *f = xs_store_flavor_get (store, "gold", &err);
    assert_non_null (f);
    assert_int_equal (f->id, gold);
    assert_string_equal (f->description, "Not all that glitters");
    assert_true (f->created_at > 1600000000000LL);
    xs_flavor_destroy (&f);
    assert_null (f);
    f = xs_store_flavor_get_by_id (store, silver, &err);
    assert_string_equal (f->label, "silver");
    assert_string_equal (f->description, "");
    xs_flavor_destroy (&f);
    assert_null (xs_store_flavor_get (store, "bronze", &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_string_equal (err.msg, "flavor bronze: not found");
    assert_null (xs_store_flavor_get_by_id (store, 999, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);

    xs_flavor_t **list = xs_store_flavor_list (store, &err);
    assert_int_equal (xs_rows_list_size (list), 2);
    assert_string_equal (list [0]->label, "gold");
    assert_string_equal (list [1]->label, "silver");
    xs_flavor_list_destroy (&list);
    assert_null (list);

    /* Refused while a backend uses it (the count is in the message). */
    int64_t b = fx_add_backend (store, "gold", "z1");
    assert_int_equal (xs_store_flavor_delete (store, "gold", &err), -1);
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_string_equal (err.msg, "flavor gold: 1 backend still uses it");
    fx_add_backend (store, "gold", "z1");
    assert_int_equal (xs_store_flavor_delete (store, "gold", &err), -1);
    assert_string_equal (err.msg, "flavor gold: 2 backends still use it");

    assert_int_equal (xs_store_flavor_delete (store, "bronze", &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_int_equal (xs_store_flavor_delete (store, "silver", &err), 0);
    assert_null (xs_store_flavor_get (store, "silver", &err));

    /* A live volume of a flavor with no backend left also holds it. */
    xs_backend_t **bl = xs_store_backend_list (store, &err);
    for (xs_backend_t **p = bl; *p; p++)
        assert_int_equal (xs_store_backend_remove (store, (*p)->id, &err), 0);
    xs_backend_list_destroy (&bl);
    (void) b;
    fx_add_volume (store, "v-1", gold, 0, XS_VOLUME_AVAILABLE, NULL);
    assert_int_equal (xs_store_flavor_delete (store, "gold", &err), -1);
    assert_string_equal (err.msg, "flavor gold: 1 live volume still uses it");
    /* D11: a create that failed everywhere (error, no VDI) holds nothing:
       it does not keep the flavor. One in error that has a VDI does. */
    fx_add_volume (store, "v-2", gold, 0, XS_VOLUME_ERROR, NULL);
    fx_add_volume (store, "v-3", gold, 0, XS_VOLUME_ERROR, NULL);
    xs_volume_spec_t with_vdi = {.uuid = "v-3", .vdi_uuid = "vdi-3",
                                 .state = XS_VOLUME_ERROR};
    assert_int_equal (xs_store_volume_update (store, &with_vdi, &err), 0);
    assert_int_equal (xs_store_volume_set_state (store, "v-1", XS_VOLUME_DELETED, NULL, &err), 0);
    assert_int_equal (xs_store_flavor_delete (store, "gold", &err), -1);
    assert_string_equal (err.msg, "flavor gold: 1 live volume still uses it");
    assert_int_equal (xs_store_volume_set_state (store, "v-3", XS_VOLUME_DELETED, NULL, &err), 0);
    assert_int_equal (xs_store_flavor_delete (store, "gold", &err), 0);
    xs_volume_t *v = xs_store_volume_get (store, "v-1", &err);
    assert_int_equal (v->flavor_id, 0);           /* history row survives */
    xs_volume_destroy (&v);
    v = xs_store_volume_get (store, "v-2", &err);
    assert_int_equal (v->state, XS_VOLUME_ERROR); /* and the failed one, for volume show */
    assert_int_equal (v->flavor_id, 0);
    xs_volume_destroy (&v);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        FX_TEST_OPEN (test_flavors),
    };
    return cmocka_run_group_tests (tests, FX_GROUP_SETUP, FX_GROUP_TEARDOWN);
}
