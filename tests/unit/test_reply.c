/*  Unit tests for xs_reply: a reply owed to one client, answered exactly
    once, at once or after the group commit (and then as `io` when that
    commit failed). Includes the .c to reach the batch action. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "catalog/server/xs_reply.c"

typedef struct {
    int answers;
    char id [80];
    char code [80];
    char msg [XS_ERR_MSG_MAX];
    xs_errkind_t kind;
    json_t *result;
} s_seen_t;

static void
s_sink (void *arg, xs_reply_answer_t *answer)
{
    s_seen_t *seen = arg;
    seen->answers++;
    snprintf (seen->id, sizeof seen->id, "%s", answer->id);
    snprintf (seen->code, sizeof seen->code, "%s", answer->code ? answer->code : "");
    snprintf (seen->msg, sizeof seen->msg, "%s", answer->err ? answer->err->msg : "");
    seen->kind = answer->err ? answer->err->kind : XS_OK;
    json_decref (seen->result);
    seen->result = answer->result;
}

static void
test_answered_once_at_once (void **state)
{
    s_seen_t seen = { 0 };
    xs_reply_t *reply = xs_reply_new (s_sink, &seen);
    assert_string_equal (xs_reply_id (reply), "");
    xs_reply_set_id (reply, "c1");
    assert_string_equal (xs_reply_id (reply), "c1");
    xs_reply_ok (&reply, NULL);
    assert_null (reply);
    assert_int_equal (seen.answers, 1);
    assert_string_equal (seen.id, "c1");
    assert_true (json_is_object (seen.result));
    assert_string_equal (seen.code, "");

    reply = xs_reply_new (s_sink, &seen);
    xs_reply_fail (&reply, XS_ENOTFOUND, "volume %s: not found", "v1");
    assert_null (reply);
    assert_int_equal (seen.answers, 2);
    assert_null (seen.result);
    assert_string_equal (seen.code, "not_found");
    assert_string_equal (seen.msg, "volume v1: not found");

    reply = xs_reply_new (s_sink, &seen);
    xs_reply_refuse (&reply, "malformed", "expected %d frames", 2);
    assert_string_equal (seen.code, "malformed");
    assert_int_equal (seen.kind, XS_EINVAL);

    /* An error with no kind is still a failure (internal), never ok. */
    xs_err_t err = { .kind = XS_OK, .msg = "odd" };
    reply = xs_reply_new (s_sink, &seen);
    xs_reply_err (&reply, &err);
    assert_string_equal (seen.code, "internal");
    assert_int_equal (seen.answers, 4);
}

static void
test_after_commit (void **state)
{
    char dir [] = "/tmp/xs_reply_testXXXXXX";
    assert_non_null (mkdtemp (dir));
    char db [128];
    snprintf (db, sizeof db, "%s/catalog.db", dir);
    xs_err_t err;
    xs_store_t *store = xs_store_new (db, &err);
    assert_non_null (store);
    xs_batch_t *batch = xs_batch_new (store, NULL);
    s_seen_t seen = { 0 };

    /* Bound to the batch: delivered by the flush, not before. */
    xs_reply_t *reply = xs_reply_new (s_sink, &seen);
    xs_reply_after_commit (reply, batch);
    xs_reply_ok (&reply, json_pack ("{s:i}", "n", 1));
    assert_null (reply);
    assert_int_equal (seen.answers, 0);
    assert_int_equal (xs_batch_flush (batch), 0);
    assert_int_equal (seen.answers, 1);
    assert_int_equal (json_integer_value (json_object_get (seen.result, "n")), 1);

    /* When the commit failed, a success becomes `io` (its result dropped). */
    reply = xs_reply_new (s_sink, &seen);
    xs_reply_set_id (reply, "c2");
    reply->result = json_pack ("{s:i}", "n", 2);
    s_after_commit (reply, false);
    assert_int_equal (seen.answers, 2);
    assert_null (seen.result);
    assert_string_equal (seen.id, "c2");
    assert_string_equal (seen.code, "io");
    assert_non_null (strstr (seen.msg, "not stored"));

    xs_batch_destroy (&batch);
    xs_store_destroy (&store);
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal (system (cmd), 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_answered_once_at_once),
        cmocka_unit_test (test_after_commit),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
