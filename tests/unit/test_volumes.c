/*  Unit tests for xs_volumes: idempotent request ids, snapshot, clone,
    delete and connection info, with real agents and a scripted executor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "catalog_fixture.h"
#include "common/xs_log.h"

static void
test_request_id_is_idempotent (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "gold", "", NULL);
    int64_t b = fx_backend (f, "gold", "z1", "one");
    fx_start_agent (f, "h1", "z1");
    fx_wait_ready (f, b, 1);
    /* Two creates with the same id in the same loop pass: one volume. */
    fx_result_t r1 = {0}, r2 = {0};
    xs_volume_request_t req = {.flavor = "gold", .size = 1024, .request_id = "req-42"};
    xs_reply_t *reply1 = fx_reply (&r1), *reply2 = fx_reply (&r2);
    xs_volumes_create (f->volumes, &req, &reply1);
    xs_volumes_create (f->volumes, &req, &reply2);
    assert_true (fx_run_until (f, fx_is_done, &r1, 5000));
    assert_true (fx_run_until (f, fx_is_done, &r2, 5000));
    assert_false (r1.failed);
    assert_false (r2.failed);
    assert_string_equal (fx_jstr (r1.reply, "uuid"), fx_jstr (r2.reply, "uuid"));
    assert_string_equal (fx_jstr (r2.reply, "state"), "available");
    fx_result_t r3 = fx_create (f, "gold", 1024, "req-42");
    assert_string_equal (fx_jstr (r1.reply, "uuid"), fx_jstr (r3.reply, "uuid"));
    xs_volume_t **vols = xs_store_volume_list (f->store, true, NULL);
    assert_int_equal (xs_rows_list_size (vols), 1);
    xs_volume_list_destroy (&vols);
    int vdi_creates = fx_counts ().vdi_creates;
    assert_int_equal (vdi_creates, 1);
    json_decref (r1.reply);
    json_decref (r2.reply);
    json_decref (r3.reply);
}

static void
test_snapshot_clone_delete_connection (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "gold", "", NULL);
    xs_store_flavor_create (f->store, "plain", "", NULL);
    int64_t b = fx_backend (f, "gold", "z1", "one");
    int64_t nosnap = fx_backend (f, "plain", "z1", "nosnap");
    fx_start_agent (f, "h1", "z1");
    fx_wait_ready (f, b, 1);
    fx_wait_ready (f, nosnap, 1);
    fx_result_t r = fx_create (f, "gold", 8192, NULL);
    assert_false (r.failed);
    char parent [64];
    snprintf (parent, sizeof parent, "%s", fx_jstr (r.reply, "uuid"));
    json_decref (r.reply);

    fx_result_t snap = {0};
    xs_reply_t *reply_snap = fx_reply (&snap);
    xs_volumes_copy (f->volumes, XS_OP_VDI_SNAPSHOT, parent, "snap1", NULL, &reply_snap);
    assert_true (fx_run_until (f, fx_is_done, &snap, 5000));
    if (snap.failed)
        fail_msg ("snapshot: %s", snap.err.msg);
    assert_string_equal (fx_jstr (snap.reply, "parent_uuid"), parent);
    assert_string_equal (fx_jstr (snap.reply, "state"), "available");
    assert_int_equal (json_integer_value (json_object_get (snap.reply, "backend_id")), b);
    json_decref (snap.reply);

    fx_result_t clone = {0};
    xs_reply_t *reply_clone = fx_reply (&clone);
    xs_volumes_copy (f->volumes, XS_OP_VDI_CLONE, parent, NULL, NULL, &reply_clone);
    assert_true (fx_run_until (f, fx_is_done, &clone, 5000));
    assert_false (clone.failed);
    json_decref (clone.reply);

    /* The SR without VDI_SNAPSHOT refuses, clearly. */
    r = fx_create (f, "plain", 8192, NULL);
    assert_false (r.failed);
    fx_result_t no = {0};
    xs_reply_t *reply_no = fx_reply (&no);
    xs_volumes_copy (f->volumes, XS_OP_VDI_SNAPSHOT, fx_jstr (r.reply, "uuid"), NULL, NULL,
                     &reply_no);
    assert_true (no.done);
    assert_true (no.failed);
    assert_non_null (strstr (no.err.msg, "VDI_SNAPSHOT"));
    json_decref (r.reply);

    /* Connection info: secrets only on request. */
    xs_err_t err;
    json_t *conn = xs_volumes_connection (f->store, parent, false, &err);
    assert_non_null (conn);
    assert_string_equal (fx_jstr (conn, "sr_uuid"), "sr-one");
    assert_string_equal (fx_jstr (conn, "vdi_uuid"), parent);
    assert_string_equal (fx_jstr (json_object_get (conn, "device_config"), "password"), "******");
    json_decref (conn);
    conn = xs_volumes_connection (f->store, parent, true, &err);
    assert_string_equal (fx_jstr (json_object_get (conn, "device_config"), "password"), "s3cret");
    json_decref (conn);

    fx_result_t del = {0};
    xs_reply_t *reply_del = fx_reply (&del);
    xs_volumes_delete (f->volumes, parent, &reply_del);
    assert_true (fx_run_until (f, fx_is_done, &del, 5000));
    assert_false (del.failed);
    assert_string_equal (fx_jstr (del.reply, "state"), "deleted");
    json_decref (del.reply);
    bool vdi_left = fx_vdi_exists (parent);
    int destroys = fx_counts ().vdi_destroys;
    assert_false (vdi_left);
    assert_int_equal (destroys, 1);
    /* Deleting again is harmless; unknown volumes are not found. */
    fx_result_t again = {0};
    xs_reply_t *reply_again = fx_reply (&again);
    xs_volumes_delete (f->volumes, parent, &reply_again);
    assert_true (again.done && !again.failed);
    json_decref (again.reply);
    fx_result_t unknown = {0};
    xs_reply_t *reply_unknown = fx_reply (&unknown);
    xs_volumes_delete (f->volumes, "no-such-volume", &reply_unknown);
    assert_true (unknown.failed);
    assert_int_equal (unknown.err.kind, XS_ENOTFOUND);
}

/* Runs volume_extend of uuid to size and waits for the answer. */
static fx_result_t
s_extend (fx_t *f, const char *uuid, int64_t size)
{
    fx_result_t r = {0};
    xs_reply_t *reply = fx_reply (&r);
    xs_volumes_extend (f->volumes, uuid, size, &reply);
    assert_true (fx_run_until (f, fx_is_done, &r, 5000));
    return r;
}

static void
test_extend (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "gold", "", NULL);
    xs_store_flavor_create (f->store, "fixed", "", NULL);
    int64_t b = fx_backend (f, "gold", "z1", "one");
    int64_t fixed = fx_backend (f, "fixed", "z1", "noresize");
    fx_start_agent (f, "h1", "z1");
    fx_wait_ready (f, b, 1);
    fx_wait_ready (f, fixed, 1);
    fx_result_t r = fx_create (f, "gold", 8192, NULL);
    assert_false (r.failed);
    char uuid [64];
    snprintf (uuid, sizeof uuid, "%s", fx_jstr (r.reply, "uuid"));
    json_decref (r.reply);

    /* Not larger: refused at once, nothing changed. */
    fx_result_t no = {0};
    xs_reply_t *reply_no = fx_reply (&no);
    xs_volumes_extend (f->volumes, uuid, 8192, &reply_no);
    assert_true (no.done && no.failed);
    assert_int_equal (no.err.kind, XS_EINVAL);
    assert_non_null (strstr (no.err.msg, "not larger than its size, 8192 bytes"));

    /* Extending while in flight, then available with the size the agent
       reports (rounded up). */
    fx_result_t ok = {0};
    xs_reply_t *reply_ok = fx_reply (&ok);
    xs_volumes_extend (f->volumes, uuid, 10000, &reply_ok);
    xs_volume_t *v = xs_store_volume_get (f->store, uuid, NULL);
    assert_int_equal (v->state, XS_VOLUME_EXTENDING);
    xs_volume_destroy (&v);
    assert_int_equal (xs_jobs_running (f->jobs, uuid), XS_OP_VDI_RESIZE);
    /* A second extend meanwhile is refused. */
    fx_result_t busy = {0};
    xs_reply_t *reply_busy = fx_reply (&busy);
    xs_volumes_extend (f->volumes, uuid, 20000, &reply_busy);
    assert_true (busy.failed);
    assert_int_equal (busy.err.kind, XS_ECONFLICT);
    assert_true (fx_run_until (f, fx_is_done, &ok, 5000));
    if (ok.failed)
        fail_msg ("extend: %s", ok.err.msg);
    assert_string_equal (fx_jstr (ok.reply, "state"), "available");
    assert_int_equal (json_integer_value (json_object_get (ok.reply, "size")), 12288);
    json_decref (ok.reply);

    /* An SR that cannot resize: error_extending with the reason. */
    r = fx_create (f, "fixed", 8192, NULL);
    assert_false (r.failed);
    snprintf (uuid, sizeof uuid, "%s", fx_jstr (r.reply, "uuid"));
    json_decref (r.reply);
    fx_result_t bad = s_extend (f, uuid, 1 << 20);
    assert_true (bad.failed);
    assert_non_null (strstr (bad.err.msg, "does not support VDI_RESIZE"));
    v = xs_store_volume_get (f->store, uuid, NULL);
    assert_int_equal (v->state, XS_VOLUME_ERROR_EXTENDING);
    assert_int_equal (v->size_bytes, 8192);
    assert_non_null (strstr (v->error, "does not support VDI_RESIZE"));
    xs_volume_destroy (&v);
    /* Not available any more: refused, as Cinder does. */
    bad = s_extend (f, uuid, 1 << 21);
    assert_true (bad.failed);
    assert_int_equal (bad.err.kind, XS_ECONFLICT);
    assert_non_null (strstr (bad.err.msg, "is error_extending"));
    bad = s_extend (f, "no-such-volume", 1 << 21);
    assert_int_equal (bad.err.kind, XS_ENOTFOUND);
}

int
main (void)
{
    xs_log_init ("test_volumes", false, getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_request_id_is_idempotent, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_snapshot_clone_delete_connection, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_extend, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
