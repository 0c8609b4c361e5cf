/*  Unit tests for xs_admin: the command table and the envelope driven
    without sockets, over a real store in a temp directory and a group
    commit (xs_batch) flushed by the test; then the volume and host commands
    with real agents (catalog_fixture). */
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

#include "catalog/server/xs_admin.h"
#include "catalog/server/xs_reply.h"
#include "catalog/xs_catalog_cfg.h"
#include "catalog_fixture.h"
#include "xs_build_config.h"

typedef struct {
    char dir [64];
    char db [128];
    xs_store_t *store;
    xs_config_t *config;
    xs_batch_t *batch;
    xs_admin_t *admin;
} s_fixture_t;

static void
s_admin_new (s_fixture_t *f)
{
    f->batch = xs_batch_new (f->store, NULL);
    xs_admin_deps_t deps = {.store = f->store, .config = f->config, .batch = f->batch};
    f->admin = xs_admin_new (&deps);
}

static void
s_admin_destroy (s_fixture_t *f)
{
    xs_admin_destroy (&f->admin);
    xs_batch_destroy (&f->batch);
}

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
    s_admin_new (f);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *f = *state;
    s_admin_destroy (f);
    xs_store_destroy (&f->store);
    xs_config_destroy (&f->config);
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal (system (cmd), 0);
    free (f);
    return 0;
}

/* What a test's reply sink saw: the answer as the admin socket's
   envelope would carry it. */
typedef struct {
    int answers;
    json_t *envelope;
} s_seen_t;

static void
s_sink (void *arg, xs_reply_answer_t *answer)
{
    s_seen_t *seen = arg;
    seen->answers++;
    json_decref (seen->envelope);
    if (answer->err)
        seen->envelope = json_pack ("{s:i, s:s, s:b, s:{s:s, s:s, s:s}}", "v", 1, "id",
                                    answer->id, "ok", 0, "error", "code", answer->code,
                                    "kind", xs_errkind_name (answer->err->kind),
                                    "message", answer->err->msg);
    else
        seen->envelope = json_pack ("{s:i, s:s, s:b, s:o}", "v", 1, "id", answer->id,
                                    "ok", 1, "result", answer->result);
    assert_non_null (seen->envelope);
}

/* Hands `size` bytes to the admin with a reply that records into *seen. */
static void
s_handle (s_fixture_t *f, const void *data, size_t size, s_seen_t *seen)
{
    xs_reply_t *reply = xs_reply_new (s_sink, seen);
    xs_admin_handle (f->admin, data, size, &reply);
    assert_null (reply);
}

/* Sends `text`, flushes the group commit, returns the reply envelope
   (caller decrefs). */
static json_t *
s_call_size (s_fixture_t *f, const void *data, size_t size)
{
    s_seen_t seen = { 0 };
    s_handle (f, data, size, &seen);
    assert_int_equal (xs_batch_flush (f->batch), 0);
    assert_int_equal (seen.answers, 1);
    assert_int_equal (json_integer_value (json_object_get (seen.envelope, "v")), 1);
    return seen.envelope;
}

static json_t *
s_call (s_fixture_t *f, const char *text)
{
    return s_call_size (f, text, strlen (text));
}

/* The reply envelope as text (caller frees). */
static char *
s_call_text (s_fixture_t *f, const void *data, size_t size)
{
    json_t *reply = s_call_size (f, data, size);
    char *text = json_dumps (reply, JSON_COMPACT);
    json_decref (reply);
    return text;
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
    char *reply = s_call_text (f, nul, sizeof nul - 1);
    assert_non_null (strstr (reply, "malformed"));
    free (reply);
    char *big = malloc (XS_ADMIN_MAX_SIZE + 1);
    memset (big, ' ', XS_ADMIN_MAX_SIZE + 1);
    reply = s_call_text (f, big, XS_ADMIN_MAX_SIZE + 1);
    assert_non_null (strstr (reply, "too_large"));
    free (reply);
    free (big);
    /* The id is echoed. */
    json_t *r = s_call (f, "{\"v\":1,\"id\":\"xyz\",\"cmd\":\"ping\"}");
    assert_string_equal (json_string_value (json_object_get (r, "id")), "xyz");
    json_decref (r);
    /* Every command of the one table has a handler, a schema and a kind. */
    size_t n = 0;
    for (const xs_admin_cmd_t *cmd; (cmd = xs_admin_command (n)); n++) {
        assert_non_null (cmd->handler);
        assert_non_null (cmd->args);
        assert_non_null (cmd->usage);
        assert_true (cmd->kind == XS_ADMIN_READ || cmd->kind == XS_ADMIN_WRITE
                     || cmd->kind == XS_ADMIN_WAITS);
    }
    assert_int_equal (n, 22);
    /* Argument types come from the table's schema. */
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_remove\",\"args\":{\"id\":\"1\"}}",
                    "invalid", "\"id\" must be an integer");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"volume_list\",\"args\":{\"all\":1}}",
                    "invalid", "\"all\" must be true or false");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"volume_extend\",\"args\":{\"uuid\":\"u\","
                    "\"size\":\"2G\"}}", "invalid", "\"size\" must be an integer");
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
    const char *list = "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_list\"}";
    char *reply = s_call_text (f, list, strlen (list));
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
    s_seen_t seen [5] = { { 0 } };
    for (size_t i = 0; i < n; i++)
        s_handle (f, requests [i], strlen (requests [i]), &seen [i]);
    /* Refused before it ran: answered at once. The rest wait for the
       commit: nothing is acknowledged that is not on disk. */
    assert_int_equal (seen [2].answers, 1);
    for (size_t i = 0; i < n; i++)
        if (i != 2)
            assert_int_equal (seen [i].answers, 0);
    assert_true (xs_store_in_transaction (f->store));
    assert_int_equal (xs_batch_flush (f->batch), 0);
    assert_false (xs_store_in_transaction (f->store));
    const char *expect [] = { "\"ok\":true", "conflict", "malformed", "\"ok\":true", "\"b\"" };
    for (size_t i = 0; i < n; i++) {
        assert_int_equal (seen [i].answers, 1);
        char *reply = json_dumps (seen [i].envelope, JSON_COMPACT);
        if (!strstr (reply, expect [i]))
            fail_msg ("reply %zu: %s", i, reply);
        free (reply);
        json_decref (seen [i].envelope);
    }
    /* Both flavors are stored, on disk: a second store sees them after
       this one is closed. */
    s_admin_destroy (f);
    xs_store_destroy (&f->store);
    xs_err_t err;
    f->store = xs_store_new (f->db, &err);
    assert_non_null (f->store);
    xs_flavor_t **list = xs_store_flavor_list (f->store, &err);
    assert_int_equal (xs_rows_list_size (list), 2);
    xs_flavor_list_destroy (&list);
    s_admin_new (f);
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

static void
test_one_table_without_agents (void **state)
{
    s_fixture_t *f = *state;
    /* Unknown commands list the whole table: the volume and host commands
       are in it too. */
    const char *nope = "{\"v\":1,\"id\":\"u\",\"cmd\":\"nope\"}";
    char *reply = s_call_text (f, nope, strlen (nope));
    assert_non_null (strstr (reply, "flavor_create"));
    assert_non_null (strstr (reply, "volume_create"));
    assert_non_null (strstr (reply, "host_list"));
    free (reply);

    /* The envelope and the schema are checked before a handler runs. */
    s_expect_error (f, "{\"v\":2,\"id\":\"c9\",\"cmd\":\"volume_create\"}", "unsupported_version", "2");
    s_expect_error (f, "{\"v\":1,\"cmd\":\"volume_create\"}", "malformed", "id");
    s_expect_error (f, "{\"v\":1,\"id\":\"c9\",\"cmd\":\"volume_create\",\"args\":[1]}",
                    "malformed", "args");
    s_expect_error (f, "{\"v\":1,\"id\":\"c9\",\"cmd\":\"volume_create\",\"args\":{\"flavor\":\"g\"}}",
                    "invalid", "size");
    /* Without agents the commands that need them say so. */
    s_expect_error (f, "{\"v\":1,\"id\":\"c8\",\"cmd\":\"host_list\"}", "internal", "agents");
    s_expect_error (f, "{\"v\":1,\"id\":\"c8\",\"cmd\":\"volume_create\",\"args\":"
                       "{\"flavor\":\"g\",\"size\":5}}", "internal", "agents");
    /* Which ones need them is the table's `needs`: the volume and host
       commands, whatever their kind (a read, a write, one that waits),
       except the volume reads, which need the store alone (a follower
       serves them from the database). */
    for (size_t i = 0; xs_admin_command (i); i++) {
        const xs_admin_cmd_t *cmd = xs_admin_command (i);
        bool agents = strncmp (cmd->name, "volume_", 7) == 0 || strncmp (cmd->name, "host_", 5) == 0;
        bool volume_read = streq (cmd->name, "volume_list") || streq (cmd->name, "volume_show")
                        || streq (cmd->name, "volume_connection");
        assert_int_equal (cmd->needs, agents && !volume_read ? XS_ADMIN_AGENTS : XS_ADMIN_STORE);
    }
    json_t *result = s_expect_ok (f, "{\"v\":1,\"id\":\"c7\",\"cmd\":\"volume_list\"}");
    assert_int_equal (json_array_size (json_object_get (result, "volumes")), 0);
    json_decref (result);
    s_expect_error (f, "{\"v\":1,\"id\":\"c7\",\"cmd\":\"volume_show\",\"args\":"
                       "{\"uuid\":\"u\"}}", "not_found", "u");
    s_expect_error (f, "{\"v\":1,\"id\":\"c7\",\"cmd\":\"volume_rename\",\"args\":"
                       "{\"uuid\":\"u\",\"name\":\"n\"}}", "internal",
                    "volume_rename: this catalog runs without agents");
    s_expect_error (f, "{\"v\":1,\"id\":\"c7\",\"cmd\":\"host_enroll\",\"args\":"
                       "{\"public_key\":\"k\"}}", "internal",
                    "host_enroll: this catalog runs without agents");
    json_decref (s_expect_ok (f, "{\"v\":1,\"id\":\"c7\",\"cmd\":\"flavor_list\"}"));

    /* backend_remove of a backend whose SR exists (no agents to tell). */
    json_decref (s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_create\",\"args\":{\"label\":\"gold\"}}"));
    json_decref (s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_add\",\"args\":{\"flavor\":\"gold\","
                                 "\"sr_type\":\"hba\",\"params\":{\"sr_uuid\":\"5f4c1a9e-0000-4000-8000-00000000abcd\"}}}"));
    json_decref (s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_remove\",\"args\":{\"id\":1}}"));
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"backend_remove\",\"args\":{\"id\":1}}",
                    "not_found", "1");
}

/* xs_admin_run: the entry point without an envelope (the HTTP API). */
static void
test_run_without_envelope (void **state)
{
    s_fixture_t *f = *state;
    s_seen_t seen = { 0 };
    xs_reply_t *reply = xs_reply_new (s_sink, &seen);
    json_t *args = json_pack ("{s:s}", "label", "gold");
    xs_admin_run (f->admin, "flavor_create", args, &reply);
    json_decref (args);
    assert_null (reply);
    assert_int_equal (xs_batch_flush (f->batch), 0);
    assert_int_equal (seen.answers, 1);
    assert_true (json_is_true (json_object_get (seen.envelope, "ok")));
    assert_string_equal (json_string_value (json_object_get (seen.envelope, "id")), "");
    json_decref (seen.envelope);
    seen.envelope = NULL;
    reply = xs_reply_new (s_sink, &seen);
    xs_admin_run (f->admin, "nope", NULL, &reply);
    assert_int_equal (seen.answers, 2);
    assert_string_equal (json_string_value (json_object_get (json_object_get (seen.envelope, "error"),
                                                             "code")), "unknown_command");
    json_decref (seen.envelope);
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

/* A follower serves the reads that need the store alone (from the
   database, afresh: a row written after set_leader is seen) and refuses the
   rest (changes, host_list) with not_leader, naming the leader's
   addresses; leading again serves. */
static void
test_follower_refuses_naming_the_leader (void **state)
{
    s_fixture_t *f = *state;
    xs_store_instance_t me = { .instance = "cat-a", .admin_endpoint = "tcp://10.0.0.1:7001",
                               .agent_endpoint = "tcp://10.0.0.1:7002", .lease_ms = 60000 };
    xs_store_leader_t leader;
    xs_err_t err;
    assert_int_equal (xs_store_lead (f->store, &me, &leader, &err), 1);
    xs_admin_set_leader (f->admin, false, &leader);
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_create\","
                    "\"args\":{\"label\":\"gold\"}}", "not_leader",
                    "the leader is cat-a: admin_endpoint=tcp://10.0.0.1:7001 "
                    "agent_endpoint=tcp://10.0.0.1:7002");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"host_list\"}", "not_leader",
                    "admin_endpoint=tcp://10.0.0.1:7001");
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"volume_rename\",\"args\":"
                       "{\"uuid\":\"u\",\"name\":\"n\"}}", "not_leader", "cat-a");
    /* The table says which: READ and the store alone (host_list and
       volume_orphans are the leader's: live hosts, the agents' listings). */
    const char *served = " ping catalog_status flavor_list backend_list volume_list"
                         " volume_show volume_connection ";
    for (size_t i = 0; xs_admin_command (i); i++) {
        const xs_admin_cmd_t *cmd = xs_admin_command (i);
        char word [64];
        snprintf (word, sizeof word, " %s ", cmd->name);
        if (xs_admin_follower_serves (cmd) != (strstr (served, word) != NULL))
            fail_msg ("follower serves %s: %d", cmd->name, xs_admin_follower_serves (cmd));
    }
    /* Reads come from the database, as it is now (another catalogd wrote). */
    assert_int_equal (xs_store_flavor_create (f->store, "silver", "", &err), 1);
    json_t *result = s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_list\"}");
    json_t *flavors = json_object_get (result, "flavors");
    assert_int_equal (json_array_size (flavors), 1);
    assert_string_equal (json_string_value (json_object_get (json_array_get (flavors, 0),
                                                             "label")), "silver");
    json_decref (result);
    result = s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"volume_list\"}");
    assert_int_equal (json_array_size (json_object_get (result, "volumes")), 0);
    json_decref (result);
    result = s_expect_ok (f, "{\"v\":1,\"id\":\"p\",\"cmd\":\"ping\"}");
    assert_string_equal (json_string_value (json_object_get (result, "role")), "follower");
    json_decref (result);
    result = s_expect_ok (f, "{\"v\":1,\"id\":\"p\",\"cmd\":\"catalog_status\"}");
    json_t *l = json_object_get (result, "leader");
    assert_string_equal (json_string_value (json_object_get (l, "instance")), "cat-a");
    assert_int_equal (json_integer_value (json_object_get (l, "generation")), 1);
    json_t *rows = json_object_get (result, "instances");
    assert_int_equal (json_array_size (rows), 1);
    assert_true (json_is_true (json_object_get (json_array_get (rows, 0), "leads")));
    json_decref (result);
    /* No leader known: the refusal says to retry. */
    xs_admin_set_leader (f->admin, false, NULL);
    s_expect_error (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_delete\","
                    "\"args\":{\"label\":\"silver\"}}", "not_leader",
                    "no other does at the moment");
    xs_admin_set_leader (f->admin, true, &leader);
    result = s_expect_ok (f, "{\"v\":1,\"id\":\"a\",\"cmd\":\"flavor_create\","
                          "\"args\":{\"label\":\"gold\"}}");
    json_decref (result);
}

/* ---- with agents: the volume and host commands (catalog_fixture) ---- */

typedef struct {
    bool done;
    json_t *reply;
} s_text_t;

/* xs_reply sink: the answer as an envelope, as the admin socket sends it. */
static void
s_on_answer (void *arg, xs_reply_answer_t *answer)
{
    s_text_t *t = (s_text_t *) arg;
    if (answer->err)
        t->reply = json_pack ("{s:s, s:b, s:{s:s, s:s}}", "id", answer->id, "ok", 0, "error",
                              "code", answer->code, "message", answer->err->msg);
    else
        t->reply = json_pack ("{s:s, s:b, s:o}", "id", answer->id, "ok", 1, "result",
                              answer->result);
    assert_non_null (t->reply);
    t->done = true;
}

static bool
s_text_done (fx_t *f, void *arg)
{
    return ((s_text_t *) arg)->done;
}

static json_t *
s_admin_agents (fx_t *f, xs_admin_t *admin, const char *cmd, json_t *args)
{
    s_text_t t = {0};
    xs_reply_t *reply = xs_reply_new (s_on_answer, &t);
    xs_reply_set_id (reply, "c1");
    xs_admin_run (admin, cmd, args, &reply);
    json_decref (args);
    assert_true (fx_run_until (f, s_text_done, &t, 5000));
    assert_string_equal (fx_jstr (t.reply, "id"), "c1");
    return t.reply;
}

static void
test_volume_and_host_commands (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_admin_deps_t deps = {.store = f->store, .batch = f->batch, .volumes = f->volumes,
                            .agents = f->agents};
    xs_admin_t *va = xs_admin_new (&deps);
    xs_store_flavor_create (f->store, "gold", "", NULL);
    int64_t b = fx_backend (f, "gold", "z1", "one");
    fx_start_agent (f, "h1", "z1");
    fx_wait_ready (f, b, 1);

    json_t *r = s_admin_agents (f, va, "volume_create",
                         json_pack ("{s:s, s:I, s:s}", "flavor", "gold", "size",
                                    (json_int_t) 10737418240LL, "name", "data"));
    assert_true (json_is_true (json_object_get (r, "ok")));
    json_t *vol = json_object_get (json_object_get (r, "result"), "volume");
    assert_string_equal (fx_jstr (vol, "state"), "available");
    assert_string_equal (fx_jstr (vol, "flavor"), "gold");
    char uuid [64];
    snprintf (uuid, sizeof uuid, "%s", fx_jstr (vol, "uuid"));
    json_decref (r);

    r = s_admin_agents (f, va, "volume_show", json_pack ("{s:s}", "uuid", uuid));
    vol = json_object_get (json_object_get (r, "result"), "volume");
    assert_int_equal (json_array_size (json_object_get (vol, "attempts")), 1);
    json_decref (r);

    r = s_admin_agents (f, va, "volume_list", NULL);
    assert_int_equal (json_array_size (json_object_get (json_object_get (r, "result"),
                                                        "volumes")), 1);
    json_decref (r);

    r = s_admin_agents (f, va, "volume_connection", json_pack ("{s:s}", "uuid", uuid));
    json_t *conn = json_object_get (json_object_get (r, "result"), "connection");
    assert_string_equal (fx_jstr (json_object_get (conn, "device_config"), "password"), "******");
    json_decref (r);

    /* Refusals carry the kind as code and a message naming the problem. */
    r = s_admin_agents (f, va, "volume_create", json_pack ("{s:s}", "flavor", "gold"));
    assert_false (json_is_true (json_object_get (r, "ok")));
    json_t *e = json_object_get (r, "error");
    assert_string_equal (fx_jstr (e, "code"), "invalid");
    assert_non_null (strstr (fx_jstr (e, "message"), "size"));
    json_decref (r);
    r = s_admin_agents (f, va, "volume_delete", json_pack ("{s:s}", "uuid", "nope"));
    assert_string_equal (fx_jstr (json_object_get (r, "error"), "code"), "not_found");
    json_decref (r);
    r = s_admin_agents (f, va, "volume_create", json_pack ("{s:s, s:i, s:s}", "flavor", "gold",
                                                    "size", 1, "name", "a\nb"));
    assert_string_equal (fx_jstr (json_object_get (r, "error"), "code"), "invalid");
    json_decref (r);

    r = s_admin_agents (f, va, "host_list", NULL);
    json_t *hosts = json_object_get (json_object_get (r, "result"), "hosts");
    assert_int_equal (json_array_size (hosts), 1);
    assert_string_equal (fx_jstr (json_array_get (hosts, 0), "uuid"), "h1");
    assert_string_equal (fx_jstr (json_array_get (hosts, 0), "state"), "up");
    json_decref (r);

    r = s_admin_agents (f, va, "volume_delete", json_pack ("{s:s}", "uuid", uuid));
    assert_string_equal (fx_jstr (json_object_get (json_object_get (r, "result"), "volume"),
                                 "state"), "deleted");
    json_decref (r);
    xs_admin_destroy (&va);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_protocol_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_flavors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_backends_redacted_and_defaults, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_batch_is_one_commit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_backend_remove_refused_while_volumes_live, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_one_table_without_agents, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_run_without_envelope, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ping_info, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_follower_refuses_naming_the_leader, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_volume_and_host_commands, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
