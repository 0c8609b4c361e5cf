/*  Unit tests for xs_admin: the admin API driven without sockets, over a
    real store in a temp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "catalog/xs_admin.h"
#include "catalog/xs_catalog_cfg.h"
#include "xs_build_config.h"

typedef struct {
    char dir [64];
    char db [128];
    xs_store_t *store;
    xs_config_t *config;
    xs_admin_t *admin;
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *f = calloc (1, sizeof *f);
    strcpy (f->dir, "/tmp/xs_admin_testXXXXXX");
    assert_non_null (mkdtemp (f->dir));
    snprintf (f->db, sizeof f->db, "%s/catalog.db", f->dir);
    xs_err_t err;
    f->store = xs_store_new (f->db, &err);
    assert_non_null (f->store);
    f->config = xs_catalog_cfg_new ();
    assert_int_equal (xs_config_set (f->config, XS_CATALOG_SECTION, "default_zone", "zd", &err), 0);
    f->admin = xs_admin_new (f->store, f->config);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *f = *state;
    xs_admin_destroy (&f->admin);
    xs_store_destroy (&f->store);
    xs_config_destroy (&f->config);
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal (system (cmd), 0);
    free (f);
    return 0;
}

/* Sends `text`, returns the parsed reply (caller decrefs). */
static json_t *
s_call (s_fixture_t *f, const char *text)
{
    size_t size = 0;
    char *reply = xs_admin_handle (f->admin, text, strlen (text), &size);
    assert_non_null (reply);
    assert_int_equal (strlen (reply), size);
    json_t *json = json_loads (reply, 0, NULL);
    assert_non_null (json);
    free (reply);
    assert_int_equal (json_integer_value (json_object_get (json, "v")), 1);
    return json;
}

static void
s_expect_error (s_fixture_t *f, const char *text, const char *code, const char *needle)
{
    json_t *reply = s_call (f, text);
    assert_true (json_is_false (json_object_get (reply, "ok")));
    json_t *error = json_object_get (reply, "error");
    const char *got = json_string_value (json_object_get (error, "code"));
    const char *message = json_string_value (json_object_get (error, "message"));
    if (strcmp (got, code) || (needle && !strstr (message, needle)))
        fail_msg ("for %s: got %s '%s', wanted %s '%s'", text, got, message, code,
                  needle ? needle : "");
    json_decref (reply);
}

static json_t *
s_expect_ok (s_fixture_t *f, const char *text)
{
    json_t *reply = s_call (f, text);
    if (!json_is_true (json_object_get (reply, "ok")))
        fail_msg ("for %s: %s", text,
                  json_string_value (json_object_get (json_object_get (reply, "error"), "message")));
    json_t *result = json_incref (json_object_get (reply, "result"));
    json_decref (reply);
    return result;
}

static void
test_protocol_errors (void **state)
{
    s_fixture_t *f = *state;
    s_expect_error (f, "not json", "malformed", "not JSON");
    s_expect_error (f, "[]", "malformed", "object");
    s_expect_error (f, "{\"v\":1,\"cmd\":\"ping\"}", "malformed", "id");
    s_expect_error (f, "{\"v\":1,\"id\":\"\",\"cmd\":\"ping\"}", "malformed", "id");
    s_expect_error (f, "{\"id\":\"a\",\"cmd\":\"ping\"}", "malformed", "\"v\"");
    s_expect_error (f, "{\"v\":3,\"id\":\"a\",\"cmd\":\"ping\"}", "unsupported_version", "3");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\"}", "malformed", "cmd");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"nope\"}", "unknown_command", "backend_add");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"ping\",\"args\":3}", "malformed", "args");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"id\":\"b\",\"cmd\":\"ping\"}", "malformed", NULL);
    /* Embedded NUL bytes, and a body over the limit. */
    char nul [] = "{\"v\":1,\"id\":\"a\",\"cmd\":\"ping\"}";
    nul [5] = '\0';
    size_t size = 0;
    char *reply = xs_admin_handle (f->admin, nul, sizeof nul - 1, &size);
    assert_non_null (strstr (reply, "malformed"));
    free (reply);
    char *big = malloc (XS_ADMIN_MAX_SIZE + 1);
    memset (big, ' ', XS_ADMIN_MAX_SIZE + 1);
    reply = xs_admin_handle (f->admin, big, XS_ADMIN_MAX_SIZE + 1, &size);
    assert_non_null (strstr (reply, "too_large"));
    free (reply);
    free (big);
    /* The id is echoed. */
    json_t *r = s_call (f, "{\"v\":1,\"id\":\"xyz\",\"cmd\":\"ping\"}");
    assert_string_equal (json_string_value (json_object_get (r, "id")), "xyz");
    json_decref (r);
    for (size_t i = 0; xs_admin_command_name (i); i++)
        assert_non_null (xs_admin_command_name (i));
}

static void
test_flavors (void **state)
{
    s_fixture_t *f = *state;
    json_t *result = s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_create\","
                                     "\"args\":{\"label\":\"gold\",\"description\":\"Not all that glitters\"}}");
    json_t *flavor = json_object_get (result, "flavor");
    assert_string_equal (json_string_value (json_object_get (flavor, "label")), "gold");
    assert_int_equal (json_integer_value (json_object_get (flavor, "id")), 1);
    json_decref (result);
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_create\",\"args\":{\"label\":\"gold\"}}",
                    "conflict", "gold");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_create\",\"args\":{\"label\":\"\"}}",
                    "invalid", "empty");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_create\",\"args\":{}}", "invalid",
                    "flavor_create");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_list\",\"args\":{\"label\":\"x\"}}",
                    "not_found", "flavor x");
    result = s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_list\"}");
    assert_int_equal (json_array_size (json_object_get (result, "flavors")), 1);
    json_decref (result);
    json_decref (s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_delete\",\"args\":{\"label\":\"gold\"}}"));
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_delete\",\"args\":{\"label\":\"gold\"}}",
                    "not_found", "gold");
}

static void
test_backends_redacted_and_defaults (void **state)
{
    s_fixture_t *f = *state;
    json_decref (s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_create\",\"args\":{\"label\":\"gold\"}}"));
    json_t *result = s_expect_ok (f,
        "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_add\",\"args\":{\"flavor\":\"gold\",\"sr_type\":\"smb\","
        "\"params\":{\"server\":\"s\",\"username\":\"u\",\"password\":\"hunter2\",\"name_label\":\"n\"}}}");
    json_t *backend = json_object_get (result, "backend");
    assert_true (json_is_true (json_object_get (result, "creates_sr")));
    assert_string_equal (json_string_value (json_object_get (backend, "zone")), "zd");
    assert_true (json_is_null (json_object_get (backend, "ratio")));
    json_t *config = json_object_get (backend, "config");
    assert_string_equal (json_string_value (json_object_get (config, "password")), "******");
    assert_null (json_object_get (config, "name_label"));
    assert_string_equal (json_string_value (json_object_get (backend, "name_label")), "n");
    json_decref (result);

    /* The secret is stored whole (agents need it), never listed. */
    xs_err_t err;
    xs_backend_t *stored = xs_store_backend_get (f->store, 1, &err);
    assert_non_null (stored);
    assert_string_equal (xs_backend_config_get (stored, "password"), "hunter2");
    xs_backend_destroy (&stored);
    size_t size;
    const char *list = "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_list\"}";
    char *reply = xs_admin_handle (f->admin, list, strlen (list), &size);
    assert_null (strstr (reply, "hunter2"));
    assert_non_null (strstr (reply, "******"));
    free (reply);

    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_add\",\"args\":{\"flavor\":\"gold\","
                       "\"sr_type\":\"zfs\"}}", "invalid", "known types: nfs");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_add\",\"args\":{\"flavor\":\"silver\","
                       "\"sr_type\":\"hba\"}}", "not_found", "silver");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_add\",\"args\":{\"flavor\":\"gold\","
                       "\"sr_type\":\"nfs\",\"params\":{\"server\":\"x\"}}}", "invalid", "serverpath");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_list\",\"args\":{\"id\":9}}",
                    "not_found", "backend 9");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_delete\",\"args\":{\"label\":\"gold\"}}",
                    "conflict", "gold");
    json_decref (s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_remove\",\"args\":{\"id\":1}}"));
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_remove\",\"args\":{\"id\":1}}",
                    "not_found", "backend 1");
}

static void
test_batch_is_one_commit (void **state)
{
    s_fixture_t *f = *state;
    const char *requests [] = {
        "{\"v\":1,\"id\":\"1\",\"cmd\":\"flavor_create\",\"args\":{\"label\":\"a\"}}",
        "{\"v\":1,\"id\":\"2\",\"cmd\":\"flavor_create\",\"args\":{\"label\":\"a\"}}",
        "garbage",
        "{\"v\":1,\"id\":\"4\",\"cmd\":\"flavor_create\",\"args\":{\"label\":\"b\"}}",
        "{\"v\":1,\"id\":\"5\",\"cmd\":\"flavor_list\"}",
    };
    const size_t n = sizeof requests / sizeof requests [0];
    const void *data [5];
    size_t sizes [5];
    char *replies [5];
    size_t reply_sizes [5];
    for (size_t i = 0; i < n; i++) {
        data [i] = requests [i];
        sizes [i] = strlen (requests [i]);
    }
    xs_admin_handle_batch (f->admin, n, data, sizes, replies, reply_sizes);
    assert_false (xs_store_in_transaction (f->store));
    const char *expect [] = { "\"ok\":true", "conflict", "malformed", "\"ok\":true", "\"b\"" };
    for (size_t i = 0; i < n; i++) {
        if (!strstr (replies [i], expect [i]))
            fail_msg ("reply %zu: %s", i, replies [i]);
        assert_int_equal (strlen (replies [i]), reply_sizes [i]);
        free (replies [i]);
    }
    /* Both flavors are stored, on disk: a second store sees them after
       this one is closed. */
    xs_admin_destroy (&f->admin);
    xs_store_destroy (&f->store);
    xs_err_t err;
    f->store = xs_store_new (f->db, &err);
    assert_non_null (f->store);
    xs_flavor_t **list = xs_store_flavor_list (f->store, &err);
    assert_int_equal (xs_rows_list_size (list), 2);
    xs_flavor_list_destroy (&list);
    f->admin = xs_admin_new (f->store, f->config);
}

static void
test_handle_one_in_callers_transaction (void **state)
{
    s_fixture_t *f = *state;
    xs_err_t err;
    const char *create = "{\"v\":1,\"id\":\"1\",\"cmd\":\"flavor_create\",\"args\":{\"label\":\"a\"}}";
    assert_int_equal (xs_store_begin (f->store, &err), 0);
    size_t size;
    char *reply = xs_admin_handle_one (f->admin, create, strlen (create), &size, NULL);
    assert_non_null (strstr (reply, "\"ok\":true"));
    free (reply);
    /* The caller's transaction is still open: a batch cannot start one. */
    reply = xs_admin_handle (f->admin, create, strlen (create), &size);
    assert_non_null (strstr (reply, "\"io\""));
    free (reply);
    assert_true (xs_store_in_transaction (f->store));
    assert_int_equal (xs_store_rollback (f->store, &err), 0);
    xs_flavor_t **list = xs_store_flavor_list (f->store, &err);
    assert_int_equal (xs_rows_list_size (list), 0);
    xs_flavor_list_destroy (&list);
}

static void
test_backend_remove_refused_while_volumes_live (void **state)
{
    s_fixture_t *f = *state;
    json_decref (s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_create\",\"args\":{\"label\":\"gold\"}}"));
    json_decref (s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_add\",\"args\":{\"flavor\":\"gold\","
                                 "\"sr_type\":\"hba\"}}"));
    xs_err_t err;
    xs_volume_spec_t vol = { .uuid = "8a5c2a34-1111-2222-3333-444455556666", .size_bytes = 1024,
                             .flavor_id = 1, .backend_id = 1, .state = XS_VOLUME_AVAILABLE };
    assert_int_equal (xs_store_volume_insert (f->store, &vol, &err), 0);
    const char *remove = "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_remove\",\"args\":{\"id\":1}}";
    s_expect_error (f, remove, "conflict", "backend 1");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_delete\",\"args\":{\"label\":\"gold\"}}",
                    "conflict", "gold");
    /* Once the volume is deleted the backend can go. */
    assert_int_equal (xs_store_volume_set_state (f->store, vol.uuid, XS_VOLUME_DELETED, NULL, &err), 0);
    json_decref (s_expect_ok (f, remove));
}

/* ---- the delegate: commands served elsewhere (xs_voladmin in catalogd) ---- */

static const char *const s_delegated [] = { "volume_create", "host_list", NULL };

typedef struct {
    int calls;
    char id [80];
    char cmd [80];
    char args [256];
    void *ctx;
    int removed_calls;
    int64_t removed_id;
    char removed_sr [80];
} s_delegate_log_t;

static bool
s_delegate_handles (const char *cmd)
{
    for (size_t i = 0; s_delegated [i]; i++)
        if (strcmp (s_delegated [i], cmd) == 0)
            return true;
    return false;
}

static const char *
s_delegate_name (size_t index)
{
    return index < 2 ? s_delegated [index] : NULL;
}

static void
s_delegate_handle (void *arg, const char *id, const char *cmd, json_t *args, void *ctx)
{
    s_delegate_log_t *log = arg;
    log->calls++;
    snprintf (log->id, sizeof log->id, "%s", id);
    snprintf (log->cmd, sizeof log->cmd, "%s", cmd);
    char *text = json_dumps (args, JSON_COMPACT | JSON_SORT_KEYS);
    snprintf (log->args, sizeof log->args, "%s", text);
    free (text);
    log->ctx = ctx;
}

static void
s_delegate_removed (void *arg, int64_t id, const char *sr_uuid)
{
    s_delegate_log_t *log = arg;
    log->removed_calls++;
    log->removed_id = id;
    snprintf (log->removed_sr, sizeof log->removed_sr, "%s", sr_uuid ? sr_uuid : "(null)");
}

static void
test_delegate (void **state)
{
    s_fixture_t *f = *state;
    s_delegate_log_t log = { 0 };
    xs_admin_delegate_t delegate = {
        .handles = s_delegate_handles, .command_name = s_delegate_name,
        .handle = s_delegate_handle, .backend_removed = s_delegate_removed, .arg = &log,
    };
    xs_admin_set_delegate (f->admin, &delegate);
    int ctx;

    /* A delegated command is handed over with its id, args and ctx; no reply. */
    const char *create = "{\"v\":1,\"id\":\"c7\",\"cmd\":\"volume_create\","
                         "\"args\":{\"flavor\":\"gold\",\"size\":5}}";
    size_t size = 0;
    assert_null (xs_admin_handle_one (f->admin, create, strlen (create), &size, &ctx));
    assert_int_equal (log.calls, 1);
    assert_string_equal (log.id, "c7");
    assert_string_equal (log.cmd, "volume_create");
    assert_string_equal (log.args, "{\"flavor\":\"gold\",\"size\":5}");
    assert_ptr_equal (log.ctx, &ctx);

    /* Missing args arrive as an empty object, never NULL. */
    const char *list = "{\"v\":1,\"id\":\"c8\",\"cmd\":\"host_list\"}";
    assert_null (xs_admin_handle_one (f->admin, list, strlen (list), &size, NULL));
    assert_int_equal (log.calls, 2);
    assert_string_equal (log.args, "{}");

    /* The envelope is still checked here: bad ones never reach the delegate. */
    const char *bad [] = {
        "{\"v\":2,\"id\":\"c9\",\"cmd\":\"volume_create\"}",
        "{\"v\":1,\"cmd\":\"volume_create\"}",
        "{\"v\":1,\"id\":\"c9\",\"cmd\":\"volume_create\",\"args\":[1]}",
        "not json",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        char *reply = xs_admin_handle_one (f->admin, bad [i], strlen (bad [i]), &size, NULL);
        assert_non_null (reply);
        assert_non_null (strstr (reply, "\"ok\":false"));
        free (reply);
    }
    assert_int_equal (log.calls, 2);

    /* Unknown commands list the delegate's too. */
    s_expect_error (f, "{\"v\":1,\"id\":\"u\",\"cmd\":\"nope\"}", "unknown_command",
                    "flavor_create");
    const char *nope = "{\"v\":1,\"id\":\"u\",\"cmd\":\"nope\"}";
    char *reply = xs_admin_handle_one (f->admin, nope, strlen (nope), &size, NULL);
    assert_non_null (strstr (reply, "volume_create"));
    assert_non_null (strstr (reply, "host_list"));
    free (reply);

    /* xs_admin_handle (a batch of its own) never delegates. */
    s_expect_error (f, create, "unknown_command", "volume_create");
    assert_int_equal (log.calls, 2);

    /* backend_remove tells the delegate which SR the hosts should detach. */
    json_decref (s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_create\",\"args\":{\"label\":\"gold\"}}"));
    json_decref (s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_add\",\"args\":{\"flavor\":\"gold\","
                                 "\"sr_type\":\"hba\",\"params\":{\"sr_uuid\":\"5f4c1a9e-0000-4000-8000-00000000abcd\"}}}"));
    json_decref (s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_remove\",\"args\":{\"id\":1}}"));
    assert_int_equal (log.removed_calls, 1);
    assert_int_equal (log.removed_id, 1);
    assert_string_equal (log.removed_sr, "5f4c1a9e-0000-4000-8000-00000000abcd");
    /* A refused removal (no such backend) tells nobody. */
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_remove\",\"args\":{\"id\":1}}",
                    "not_found", "1");
    assert_int_equal (log.removed_calls, 1);
}

static void
test_ping_info (void **state)
{
    s_fixture_t *f = *state;
    json_t *result = s_expect_ok (f, "{\"v\":1,\"id\":\"p\",\"cmd\":\"ping\"}");
    assert_null (json_object_get (result, "agent_endpoint"));
    json_decref (result);
    xs_admin_set_info (f->admin, "agent_endpoint", "tcp://127.0.0.1:7601");
    xs_admin_set_info (f->admin, "catalog_key", "abc");
    result = s_expect_ok (f, "{\"v\":1,\"id\":\"p\",\"cmd\":\"ping\"}");
    assert_string_equal (json_string_value (json_object_get (result, "agent_endpoint")),
                         "tcp://127.0.0.1:7601");
    assert_string_equal (json_string_value (json_object_get (result, "catalog_key")), "abc");
    assert_string_equal (json_string_value (json_object_get (result, "version")), XENSM_VERSION);
    json_decref (result);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_protocol_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_flavors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_backends_redacted_and_defaults, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_batch_is_one_commit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_handle_one_in_callers_transaction, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_backend_remove_refused_while_volumes_live, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_delegate, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ping_info, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
