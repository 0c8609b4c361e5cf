/*  Unit tests of xs_rows: state names both ways, destroying rows and lists
    (ASan checks nothing leaks), reading a backend's config, and the JSON
    views: the admin views redact secrets, the agent's backend view carries
    them and says truthfully whether the SR type is shared. No database:
    rows are built here the way any store fills them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/store/xs_rows.h"
#include "common/xs_mem.h"
#include "common/xs_proto.h"
#include "common/xs_redact.h"

/* ---------------------------------------------------------------------
   Helpers: rows as a store fills them (every string owned)
   --------------------------------------------------------------------- */

static xs_backend_t *
s_backend (const char *sr_type, const char *sr_uuid)
{
    static const char *const pairs [][2] = {
        { "server", "nfs.example" }, { "serverpath", "/export/a b=c" },
        { "password", "hunter2" }, { "chappassword", "chap-s3cret" },
        { "my_secret_token", "tok" }, { "options", "rw,sec=sys" },
    };
    xs_backend_t *b = xs_zalloc (sizeof *b);
    b->id = 7;
    b->flavor_id = 3;
    b->flavor_label = xs_strdup ("gold");
    b->zone = xs_strdup ("za");
    b->sr_type = xs_strdup (sr_type);
    b->sr_uuid = xs_strdup (sr_uuid);
    b->state = XS_BACKEND_ATTACHED;
    b->created_at = 1700000000000LL;
    b->nconfig = sizeof pairs / sizeof pairs [0];
    b->config = xs_zalloc (b->nconfig * sizeof *b->config);
    for (size_t i = 0; i < b->nconfig; i++) {
        b->config [i].key = xs_strdup (pairs [i][0]);
        b->config [i].value = xs_strdup (pairs [i][1]);
    }
    return b;
}

static xs_volume_t *
s_volume (const char *uuid)
{
    xs_volume_t *v = xs_zalloc (sizeof *v);
    v->uuid = xs_strdup (uuid);
    v->size_bytes = 1 << 20;
    v->flavor_id = 3;
    v->state = XS_VOLUME_CREATING;
    v->created_at = v->updated_at = 42;
    return v;
}

/* The string value of key `key` of object `obj` (borrowed), or NULL. */
static const char *
s_str (const json_t *obj, const char *key)
{
    return json_string_value (json_object_get (obj, key));
}

/* ---------------------------------------------------------------------
   State names
   --------------------------------------------------------------------- */

static void
test_state_names (void **state)
{
    (void) state;
    xs_err_t err = { 0 };
    for (int s = XS_VOLUME_CREATING; s <= XS_VOLUME_ERROR_EXTENDING; s++) {
        xs_volume_state_t back;
        assert_int_equal (xs_volume_state_from_name (xs_volume_state_name (s), &back, &err), 0);
        assert_int_equal (back, s);
    }
    assert_string_equal (xs_volume_state_name (XS_VOLUME_ERROR_DELETING), "error_deleting");
    assert_string_equal (xs_volume_state_name (XS_VOLUME_EXTENDING), "extending");
    assert_string_equal (xs_volume_state_name (XS_VOLUME_ERROR_EXTENDING), "error_extending");
    assert_true (xs_volume_state_is_live (XS_VOLUME_ERROR_EXTENDING));
    assert_string_equal (xs_backend_state_name (XS_BACKEND_DRAINING), "draining");
    assert_string_equal (xs_host_state_name (XS_HOST_DOWN), "down");
    assert_string_equal (xs_job_state_name (XS_JOB_DISPATCHED), "dispatched");
    assert_string_equal (xs_attempt_outcome_name (XS_ATTEMPT_SKIPPED), "skipped");
    assert_string_equal (xs_backend_state_name ((xs_backend_state_t) 9), "?");
    xs_backend_state_t b;
    assert_int_equal (xs_backend_state_from_name ("attached", &b, &err), 0);
    assert_int_equal (b, XS_BACKEND_ATTACHED);
    assert_int_equal (xs_backend_state_from_name ("Attached", &b, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    xs_host_state_t h;
    assert_int_equal (xs_host_state_from_name (NULL, &h, &err), -1);
    xs_job_state_t j;
    assert_int_equal (xs_job_state_from_name ("failed", &j, &err), 0);
    assert_int_equal (j, XS_JOB_FAILED);
    assert_true (xs_volume_state_is_live (XS_VOLUME_ERROR));
    assert_false (xs_volume_state_is_live (XS_VOLUME_DELETED));
    assert_int_equal (xs_rows_list_size (NULL), 0);
}

/* Every name of every enum parses back to its value; the rest are refused
   with a message naming the kind of state. */
static void
test_every_name_round_trips (void **state)
{
    (void) state;
    xs_err_t err = { 0 };
    for (int s = XS_BACKEND_NEW; s <= XS_BACKEND_DRAINING; s++) {
        xs_backend_state_t back;
        assert_int_equal (xs_backend_state_from_name (xs_backend_state_name (s), &back, &err), 0);
        assert_int_equal (back, s);
    }
    for (int s = XS_HOST_UP; s <= XS_HOST_DOWN; s++) {
        xs_host_state_t back;
        assert_int_equal (xs_host_state_from_name (xs_host_state_name (s), &back, &err), 0);
        assert_int_equal (back, s);
    }
    for (int s = XS_JOB_PENDING; s <= XS_JOB_FAILED; s++) {
        xs_job_state_t back;
        assert_int_equal (xs_job_state_from_name (xs_job_state_name (s), &back, &err), 0);
        assert_int_equal (back, s);
    }
    for (int s = XS_ATTEMPT_OK; s <= XS_ATTEMPT_SKIPPED; s++) {
        xs_attempt_outcome_t back;
        assert_int_equal (xs_attempt_outcome_from_name (xs_attempt_outcome_name (s), &back,
                                                        &err), 0);
        assert_int_equal (back, s);
    }
    assert_string_equal (xs_host_state_name ((xs_host_state_t) -1), "?");
    assert_string_equal (xs_volume_state_name ((xs_volume_state_t) 8), "?");
    assert_string_equal (xs_job_state_name ((xs_job_state_t) 4), "?");
    assert_string_equal (xs_attempt_outcome_name ((xs_attempt_outcome_t) 3), "?");
    xs_attempt_outcome_t o = XS_ATTEMPT_OK;
    assert_int_equal (xs_attempt_outcome_from_name ("meh", &o, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_string_equal (err.msg, "unknown attempt outcome 'meh'");
    assert_int_equal (o, XS_ATTEMPT_OK);            /* untouched on failure */
    xs_volume_state_t v;
    assert_int_equal (xs_volume_state_from_name ("?", &v, &err), -1);
    assert_string_equal (err.msg, "unknown volume state '?'");
}

/* ---------------------------------------------------------------------
   Destroying and reading rows
   --------------------------------------------------------------------- */

static void
test_destroy (void **state)
{
    (void) state;
    xs_backend_t *b = s_backend ("nfs", "sr-1");
    xs_backend_destroy (&b);
    assert_null (b);
    xs_backend_destroy (&b);                        /* idempotent */
    xs_backend_destroy (NULL);

    xs_sr_stats_t *s = xs_zalloc (sizeof *s);
    s->host_uuid = xs_strdup ("h-1");
    s->ncapabilities = 2;
    s->capabilities = xs_zalloc (3 * sizeof *s->capabilities);
    s->capabilities [0] = xs_strdup ("VDI_CREATE");
    s->capabilities [1] = xs_strdup ("VDI_CLONE");
    xs_sr_stats_destroy (&s);
    assert_null (s);

    xs_volume_t **list = xs_zalloc (4 * sizeof *list);
    list [0] = s_volume ("v-1");
    list [1] = s_volume ("v-2");
    list [2] = s_volume ("v-3");
    list [2]->name = xs_strdup ("web");
    list [2]->error = xs_strdup ("boom");
    assert_int_equal (xs_rows_list_size (list), 3);
    xs_volume_list_destroy (&list);
    assert_null (list);
    xs_volume_list_destroy (&list);
    xs_volume_list_destroy (NULL);

    xs_flavor_t **empty = xs_zalloc (sizeof *empty);
    assert_int_equal (xs_rows_list_size (empty), 0);
    xs_flavor_list_destroy (&empty);
    assert_null (empty);

    xs_job_t *j = xs_zalloc (sizeof *j);
    j->op = xs_strdup ("vdi_create");
    j->args = xs_strdup ("{}");
    j->result = xs_strdup ("{}");
    xs_job_destroy (&j);
    xs_attempt_t *a = xs_zalloc (sizeof *a);
    a->volume_uuid = xs_strdup ("v-1");
    a->reason = xs_strdup ("no space");
    xs_attempt_destroy (&a);
    xs_host_t *h = xs_zalloc (sizeof *h);
    h->uuid = xs_strdup ("h-1");
    h->public_key = xs_strdup ("key");
    xs_host_destroy (&h);
    assert_null (j);
    assert_null (a);
    assert_null (h);
}

static void
test_backend_config_get (void **state)
{
    (void) state;
    xs_backend_t *b = s_backend ("nfs", NULL);
    assert_string_equal (xs_backend_config_get (b, "serverpath"), "/export/a b=c");
    assert_string_equal (xs_backend_config_get (b, "password"), "hunter2");
    assert_null (xs_backend_config_get (b, "Server"));
    assert_null (xs_backend_config_get (b, NULL));
    assert_null (xs_backend_config_get (NULL, "server"));
    xs_backend_destroy (&b);
}

/* ---------------------------------------------------------------------
   JSON views
   --------------------------------------------------------------------- */

static void
test_backend_admin_json_redacts (void **state)
{
    (void) state;
    xs_backend_t *b = s_backend ("lvmoiscsi", NULL);
    b->has_ratio = true;
    b->ratio = 1.5;
    json_t *j = xs_backend_admin_json (b);
    assert_non_null (j);
    assert_int_equal (json_integer_value (json_object_get (j, "id")), 7);
    assert_int_equal (json_integer_value (json_object_get (j, "flavor_id")), 3);
    assert_string_equal (s_str (j, "flavor"), "gold");
    assert_string_equal (s_str (j, "state"), "attached");
    assert_true (json_is_null (json_object_get (j, "sr_uuid")));
    assert_true (json_is_null (json_object_get (j, "name_label")));
    assert_true (json_is_null (json_object_get (j, "error")));
    assert_true (json_real_value (json_object_get (j, "ratio")) == 1.5);
    assert_true (json_is_null (json_object_get (j, "reserve")));
    assert_true (json_is_true (json_object_get (j, "shared")));
    assert_true (json_is_true (json_object_get (j, "clone_snapshot")));
    json_t *config = json_object_get (j, "config");
    assert_int_equal (json_object_size (config), 6);
    assert_string_equal (s_str (config, "server"), "nfs.example");
    assert_string_equal (s_str (config, "serverpath"), "/export/a b=c");
    assert_string_equal (s_str (config, "password"), XS_REDACTED);
    assert_string_equal (s_str (config, "chappassword"), XS_REDACTED);
    assert_string_equal (s_str (config, "my_secret_token"), XS_REDACTED);
    /* No secret anywhere in the text the admin gets. */
    char *text = json_dumps (j, JSON_COMPACT);
    assert_null (strstr (text, "hunter2"));
    assert_null (strstr (text, "chap-s3cret"));
    assert_null (strstr (text, "tok\""));
    free (text);
    json_decref (j);
    xs_backend_destroy (&b);

    /* An SR type that is neither shared nor snapshot-capable, and one xensm
       does not know. */
    b = s_backend ("iscsi", "sr-1");
    j = xs_backend_admin_json (b);
    assert_true (json_is_true (json_object_get (j, "shared")));
    assert_true (json_is_false (json_object_get (j, "clone_snapshot")));
    assert_string_equal (s_str (j, "sr_uuid"), "sr-1");
    json_decref (j);
    xs_backend_destroy (&b);
    b = s_backend ("bogus", NULL);
    j = xs_backend_admin_json (b);
    assert_true (json_is_false (json_object_get (j, "shared")));
    assert_true (json_is_false (json_object_get (j, "clone_snapshot")));
    json_decref (j);
    xs_backend_destroy (&b);
}

static void
test_backend_config_json (void **state)
{
    (void) state;
    xs_backend_t *b = s_backend ("nfs", NULL);
    json_t *redacted = xs_backend_config_json (b, false);
    json_t *clear = xs_backend_config_json (b, true);
    for (size_t i = 0; i < b->nconfig; i++) {
        const char *key = b->config [i].key;
        assert_string_equal (s_str (clear, key), b->config [i].value);
        assert_string_equal (s_str (redacted, key), xs_redact_is_secret (key)
                             ? XS_REDACTED : b->config [i].value);
    }
    /* In the order it was given. */
    const char *first = json_object_iter_key (json_object_iter (clear));
    assert_string_equal (first, "server");
    json_decref (redacted);
    json_decref (clear);
    xs_backend_destroy (&b);
}

/* The agent's view carries the secrets it needs to attach the SR, and its
   `shared` is the SR type's: it said 1 for every type once. */
static void
test_backend_agent_json (void **state)
{
    (void) state;
    xs_backend_t *b = s_backend ("nfs", NULL);
    json_t *j = xs_backend_agent_json (b, true);
    assert_int_equal (json_object_size (j), 7);
    assert_int_equal (json_integer_value (json_object_get (j, "backend_id")), 7);
    assert_string_equal (s_str (j, "sr_type"), "nfs");
    assert_string_equal (s_str (j, "name_label"), "");
    assert_true (json_is_null (json_object_get (j, "sr_uuid")));
    assert_true (json_is_true (json_object_get (j, "shared")));
    assert_true (json_is_true (json_object_get (j, "create")));
    json_t *dc = json_object_get (j, "device_config");
    assert_string_equal (s_str (dc, "password"), "hunter2");
    assert_string_equal (s_str (dc, "chappassword"), "chap-s3cret");
    assert_null (json_object_get (j, "zone"));      /* catalog settings stay home */
    assert_null (json_object_get (j, "flavor"));
    json_decref (j);
    xs_backend_destroy (&b);

    const char *local [] = { "ext", "lvm", "file", "no-such-type" };
    for (size_t i = 0; i < sizeof local / sizeof local [0]; i++) {
        b = s_backend (local [i], "sr-2");
        b->name_label = xs_strdup ("local disk");
        j = xs_backend_agent_json (b, false);
        assert_true (json_is_false (json_object_get (j, "shared")));
        assert_true (json_is_false (json_object_get (j, "create")));
        assert_string_equal (s_str (j, "sr_uuid"), "sr-2");
        assert_string_equal (s_str (j, "name_label"), "local disk");
        json_decref (j);
        xs_backend_destroy (&b);
    }
}

/* What the catalog sends in a welcome passes the protocol's own schema. */
static void
test_backend_agent_json_is_a_protocol_backend (void **state)
{
    (void) state;
    json_t *backends = json_array ();
    xs_backend_t *b = s_backend ("nfs", NULL);
    json_array_append_new (backends, xs_backend_agent_json (b, true));
    xs_backend_destroy (&b);
    b = s_backend ("ext", "sr-3");
    json_array_append_new (backends, xs_backend_agent_json (b, false));
    xs_backend_destroy (&b);
    xs_proto_t *w = xs_proto_new (XS_PROTO_WELCOME, "r1");
    xs_proto_set_str (w, "host_uuid", "h-1");
    xs_proto_set_str (w, "zone", "za");
    xs_proto_set_int (w, "heartbeat_ms", 1000);
    xs_proto_set (w, "backends", &backends);
    xs_err_t err = { 0 };
    if (xs_proto_validate (w, &err))
        fail_msg ("welcome refused: %s", err.msg);
    xs_proto_destroy (&w);
}

static void
test_flavor_json (void **state)
{
    (void) state;
    char label [] = "gold", description [] = "Not all that glitters";
    xs_flavor_t f = { .id = 2, .label = label, .description = description, .created_at = 5 };
    json_t *j = xs_flavor_json (&f);
    assert_int_equal (json_object_size (j), 4);
    assert_int_equal (json_integer_value (json_object_get (j, "id")), 2);
    assert_string_equal (s_str (j, "label"), "gold");
    assert_string_equal (s_str (j, "description"), "Not all that glitters");
    assert_int_equal (json_integer_value (json_object_get (j, "created_at")), 5);
    json_decref (j);
    f.description = NULL;
    j = xs_flavor_json (&f);
    assert_string_equal (s_str (j, "description"), "");
    json_decref (j);
}

static void
test_volume_json (void **state)
{
    (void) state;
    xs_volume_t *v = s_volume ("v-1");
    json_t *j = xs_volume_json (v, NULL);
    assert_int_equal (json_object_size (j), 14);
    assert_string_equal (s_str (j, "uuid"), "v-1");
    assert_string_equal (s_str (j, "project"), "");
    assert_int_equal (json_integer_value (json_object_get (j, "size")), 1 << 20);
    assert_string_equal (s_str (j, "state"), "creating");
    const char *nulls [] = { "name", "flavor", "backend_id", "vdi_uuid", "host_uuid",
                             "error", "parent_uuid", "request_id" };
    for (size_t i = 0; i < sizeof nulls / sizeof nulls [0]; i++)
        assert_true (json_is_null (json_object_get (j, nulls [i])));
    json_decref (j);

    v->backend_id = 4;
    v->vdi_uuid = xs_strdup ("vdi-1");
    v->parent_uuid = xs_strdup ("v-0");
    v->request_id = xs_strdup ("req-1");
    v->state = XS_VOLUME_ERROR_DELETING;
    j = xs_volume_json (v, "gold");
    assert_string_equal (s_str (j, "flavor"), "gold");
    assert_int_equal (json_integer_value (json_object_get (j, "backend_id")), 4);
    assert_string_equal (s_str (j, "vdi_uuid"), "vdi-1");
    assert_string_equal (s_str (j, "parent_uuid"), "v-0");
    assert_string_equal (s_str (j, "request_id"), "req-1");
    assert_string_equal (s_str (j, "state"), "error_deleting");
    json_decref (j);

    /* Text that is not UTF-8 (a database written by something else) makes
       no view rather than a broken one. */
    v->name = xs_strdup ("bad \xff name");
    assert_null (xs_volume_json (v, "gold"));
    xs_volume_destroy (&v);
}

static void
test_attempt_and_job_json (void **state)
{
    (void) state;
    char reason [] = "not enough space";
    xs_attempt_t a = { .backend_id = 3, .outcome = XS_ATTEMPT_SKIPPED, .reason = reason,
                       .at = 9 };
    json_t *j = xs_attempt_json (&a);
    assert_int_equal (json_object_size (j), 5);
    assert_int_equal (json_integer_value (json_object_get (j, "backend_id")), 3);
    assert_true (json_is_null (json_object_get (j, "host_uuid")));
    assert_string_equal (s_str (j, "outcome"), "skipped");
    assert_string_equal (s_str (j, "reason"), "not enough space");
    assert_int_equal (json_integer_value (json_object_get (j, "at")), 9);
    json_decref (j);

    char op [] = "vdi_create", args [] = "{\"size\":1}", host [] = "h-1";
    char result [] = "{}", error [] = "SR_FULL";
    xs_job_t job = { .id = 11, .op = op, .args = args, .state = XS_JOB_FAILED,
                     .backend_id = 3, .host_uuid = host, .result = result, .error = error };
    j = xs_job_json (&job);
    assert_int_equal (json_object_size (j), 6);
    assert_int_equal (json_integer_value (json_object_get (j, "id")), 11);
    assert_string_equal (s_str (j, "op"), "vdi_create");
    assert_string_equal (s_str (j, "state"), "failed");
    assert_string_equal (s_str (j, "host_uuid"), "h-1");
    assert_string_equal (s_str (j, "error"), "SR_FULL");
    assert_null (json_object_get (j, "args"));
    assert_null (json_object_get (j, "result"));
    json_decref (j);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_state_names),
        cmocka_unit_test (test_every_name_round_trips),
        cmocka_unit_test (test_destroy),
        cmocka_unit_test (test_backend_config_get),
        cmocka_unit_test (test_backend_admin_json_redacts),
        cmocka_unit_test (test_backend_config_json),
        cmocka_unit_test (test_backend_agent_json),
        cmocka_unit_test (test_backend_agent_json_is_a_protocol_backend),
        cmocka_unit_test (test_flavor_json),
        cmocka_unit_test (test_volume_json),
        cmocka_unit_test (test_attempt_and_job_json),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
