/*  Unit tests for xs_admin_client against a real ROUTER socket (the fake
    catalog of tests/support, on tcp and ipc): the request it sends, the
    reply it returns, remote errors, the timeout, replies to other calls
    skipped, and malformed and oversized replies refused with an error that
    names the endpoint, well before the timeout. */
#include "catalog/cli/xs_admin_client.h"
#include "tests/support/xs_fake_catalog.h"

#include <czmq.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

/* Long enough never to be what ends a call that should end otherwise. */
#define S_LONG_MS 60000

typedef struct {
    xs_fake_catalog_t *catalog;
    xs_admin_client_t *client;      /* on the catalog, S_LONG_MS timeout */
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *f = calloc (1, sizeof *f);
    assert_non_null (f);
    f->catalog = xs_fake_catalog_new ("tcp://127.0.0.1:*");
    assert_non_null (f->catalog);
    xs_err_t err;
    f->client = xs_admin_client_new (xs_fake_catalog_endpoint (f->catalog), S_LONG_MS, &err);
    assert_non_null (f->client);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *f = *state;
    xs_admin_client_destroy (&f->client);
    xs_fake_catalog_destroy (&f->catalog);
    free (f);
    return 0;
}

static void
s_assert_contains (const char *text, const char *part)
{
    if (!strstr (text, part))
        fail_msg ("'%s' not in: %s", part, text);
}

/* Queues a reply body (text) for the next request. */
static void
s_script (s_fixture_t *f, const char *body)
{
    xs_fake_catalog_script (f->catalog, body, strlen (body));
}

/* Calls `cmd` with no args, expecting a failure of `kind` whose message
   holds `part`. Returns how long the call took, in ms. */
static int64_t
s_call_fails (s_fixture_t *f, const char *cmd, xs_errkind_t kind, const char *part)
{
    xs_err_t err;
    int64_t start = zclock_mono ();
    json_t *result = xs_admin_client_call (f->client, cmd, NULL, &err);
    int64_t took = zclock_mono () - start;
    if (result) {
        char *text = json_dumps (result, JSON_COMPACT);
        fail_msg ("%s: got a result: %s", cmd, text);
    }
    if (err.kind != kind)
        fail_msg ("%s: error kind %s (%s), wanted %s", cmd, xs_errkind_name (err.kind), err.msg,
                  xs_errkind_name (kind));
    s_assert_contains (err.msg, part);
    return took;
}

/* ---------------------------------------------------------------------
   Replies
   --------------------------------------------------------------------- */

static void
test_reply (void **state)
{
    s_fixture_t *f = *state;
    xs_fake_catalog_reply_ok (f->catalog, "{\"answer\": 42}");
    json_t *args = json_pack ("{s:s}", "label", "gold");
    xs_err_t err;
    json_t *result = xs_admin_client_call (f->client, "flavor_list", &args, &err);
    assert_null (args);                         /* taken */
    assert_non_null (result);
    assert_int_equal (json_integer_value (json_object_get (result, "answer")), 42);
    json_decref (result);
    /* No args: {} is sent. Each call has its own id. */
    result = xs_admin_client_call (f->client, "ping", NULL, &err);
    assert_non_null (result);
    json_decref (result);

    json_t *list = xs_fake_catalog_take (f->catalog);
    assert_non_null (list);
    assert_int_equal (json_array_size (list), 2);
    json_t *first = json_array_get (list, 0), *second = json_array_get (list, 1);
    json_t *want = json_pack ("{s:i, s:s, s:s, s:{s:s}}", "v", 1, "id",
                              json_string_value (json_object_get (first, "id")),
                              "cmd", "flavor_list", "args", "label", "gold");
    assert_true (json_equal (first, want));
    json_decref (want);
    assert_string_equal (json_string_value (json_object_get (second, "cmd")), "ping");
    assert_int_equal (json_object_size (json_object_get (second, "args")), 0);
    assert_string_not_equal (json_string_value (json_object_get (first, "id")),
                             json_string_value (json_object_get (second, "id")));
    json_decref (list);
}

static void
test_remote_errors (void **state)
{
    s_fixture_t *f = *state;
    xs_fake_catalog_reply_error (f->catalog, "not_found", "flavor silver: not found");
    s_call_fails (f, "flavor_delete", XS_ENOTFOUND, "flavor silver: not found");
    xs_fake_catalog_reply_error (f->catalog, "conflict", "flavor gold: in use");
    s_call_fails (f, "flavor_delete", XS_ECONFLICT, "flavor gold: in use");
    /* A protocol error carries no id: it is the answer to this call. */
    xs_fake_catalog_reply (f->catalog, "");
    s_script (f, "{\"v\": 1, \"ok\": false, \"error\": {\"code\": \"malformed\", "
              "\"kind\": \"invalid\", \"message\": \"request: not JSON\"}}");
    s_call_fails (f, "ping", XS_EINVAL, "request: not JSON");
    s_script (f, "{\"v\": 1, \"id\": \"" XS_FAKE_CATALOG_ID "\", \"ok\": false}");
    s_call_fails (f, "ping", XS_EINTERNAL, "the catalog refused the request");
    s_script (f, "{\"v\": 1, \"id\": \"" XS_FAKE_CATALOG_ID "\", \"ok\": true}");
    s_call_fails (f, "ping", XS_EINTERNAL, "reply without a result");
    s_script (f, "{\"v\": 1, \"id\": \"" XS_FAKE_CATALOG_ID "\", \"ok\": true, "
              "\"result\": [1]}");
    s_call_fails (f, "ping", XS_EINTERNAL, "reply without a result");
}

/* Replies to other calls (another id, or no id on a success) are skipped. */
static void
test_other_ids_skipped (void **state)
{
    s_fixture_t *f = *state;
    s_script (f, "{\"v\": 1, \"id\": \"other\", \"ok\": true, \"result\": {\"n\": 1}}");
    s_script (f, "{\"v\": 1, \"ok\": true, \"result\": {\"n\": 2}}");
    s_script (f, "{\"v\": 1, \"id\": \"other\", \"ok\": false, \"error\": {\"kind\": "
              "\"io\", \"message\": \"not yours\"}}");
    s_script (f, "{\"v\": 1, \"id\": \"" XS_FAKE_CATALOG_ID "\", \"ok\": true, "
              "\"result\": {\"n\": 4}}");
    xs_err_t err;
    json_t *result = xs_admin_client_call (f->client, "ping", NULL, &err);
    assert_non_null (result);
    assert_int_equal (json_integer_value (json_object_get (result, "n")), 4);
    json_decref (result);
}

/* ---------------------------------------------------------------------
   Failures
   --------------------------------------------------------------------- */

static void
test_timeout (void **state)
{
    s_fixture_t *f = *state;
    xs_err_t err;
    xs_admin_client_t *client = xs_admin_client_new (xs_fake_catalog_endpoint (f->catalog),
                                                     300, &err);
    assert_non_null (client);
    int64_t start = zclock_mono ();
    assert_null (xs_admin_client_call (client, "ping", NULL, &err));
    assert_true (zclock_mono () - start >= 300);
    assert_int_equal (err.kind, XS_ETRANSPORT);
    s_assert_contains (err.msg, xs_fake_catalog_endpoint (f->catalog));
    s_assert_contains (err.msg, "no reply within 1 s (is xensm-catalogd running?)");
    xs_admin_client_destroy (&client);
    json_t *list = xs_fake_catalog_take (f->catalog);
    assert_int_equal (json_array_size (list), 1);      /* it was sent */
    json_decref (list);
}

/* A killed catalogd leaves its ipc file behind: connecting is refused, and
   the call says so at once instead of waiting for its timeout. */
static void
test_refused_fails_fast (void **state)
{
    char dir [] = "/tmp/xs_admin_client_XXXXXX";
    assert_non_null (mkdtemp (dir));
    char path [96], endpoint [110];
    snprintf (path, sizeof path, "%s/dead.sock", dir);
    snprintf (endpoint, sizeof endpoint, "ipc://%s", path);
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf (addr.sun_path, sizeof addr.sun_path, "%s", path);
    assert_int_equal (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
    close (fd);                                 /* the file stays, nobody listens */
    xs_err_t err;
    xs_admin_client_t *client = xs_admin_client_new (endpoint, 20000, &err);
    assert_non_null (client);
    int64_t start = zclock_mono ();
    assert_null (xs_admin_client_call (client, "ping", NULL, &err));
    assert_true (zclock_mono () - start < 5000);
    assert_int_equal (err.kind, XS_ETRANSPORT);
    s_assert_contains (err.msg, endpoint);
    s_assert_contains (err.msg, "nothing listens there");
    xs_admin_client_destroy (&client);
    unlink (path);
    rmdir (dir);
}

static void
test_malformed_refused (void **state)
{
    s_fixture_t *f = *state;
    static const struct { const char *body; const char *why; } bad [] = {
        { "not json", "malformed reply (" },
        { "", "malformed reply (" },
        { "[1, 2]", "malformed reply (not a JSON object)" },
        { "\"" XS_FAKE_CATALOG_ID "\"", "malformed reply ('[' or '{' expected" },
        { "{\"v\": 1, \"id\": \"" XS_FAKE_CATALOG_ID "\"", "malformed reply (" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        s_script (f, bad [i].body);
        int64_t took = s_call_fails (f, "ping", XS_ETRANSPORT, bad [i].why);
        assert_true (took < S_LONG_MS / 2);
    }
    /* The client still works. */
    xs_fake_catalog_reply_ok (f->catalog, "{}");
    xs_err_t err;
    json_t *result = xs_admin_client_call (f->client, "ping", NULL, &err);
    assert_non_null (result);
    json_decref (result);
}

/* A reply body of `size` bytes: a success whose result pads it out. */
static char *
s_padded_reply (size_t size)
{
    static const char head [] = "{\"v\": 1, \"id\": \"" XS_FAKE_CATALOG_ID "\", \"ok\": true, "
                                "\"result\": {\"pad\": \"";
    static const char tail [] = "\"}}";
    assert_true (size > sizeof head + sizeof tail);
    char *body = malloc (size);
    assert_non_null (body);
    memcpy (body, head, sizeof head - 1);
    memset (body + sizeof head - 1, 'x', size - (sizeof head - 1) - (sizeof tail - 1));
    memcpy (body + size - (sizeof tail - 1), tail, sizeof tail - 1);
    return body;
}

static void
test_oversized_refused (void **state)
{
    s_fixture_t *f = *state;
    /* Over the limit: never read; the wait ends when ZeroMQ drops it. */
    char *body = s_padded_reply (XS_ADMIN_CLIENT_MAX_REPLY + 1);
    xs_fake_catalog_script (f->catalog, body, XS_ADMIN_CLIENT_MAX_REPLY + 1);
    int64_t took = s_call_fails (f, "volume_list", XS_ETRANSPORT,
                                 "the connection closed before the reply (the catalog stopped, "
                                 "or its reply was over the 64 MiB limit)");
    assert_true (took < S_LONG_MS / 2);
    free (body);

    /* A large reply under it is read whole, on a new connection. (Not
       just under the limit: parsing 64 MiB of JSON takes seconds.) */
    xs_err_t err;
    xs_admin_client_t *client = xs_admin_client_new (xs_fake_catalog_endpoint (f->catalog),
                                                     S_LONG_MS, &err);
    assert_non_null (client);
    size_t size = 4 * 1024 * 1024;
    body = s_padded_reply (size);
    xs_fake_catalog_script (f->catalog, body, size);
    json_t *result = xs_admin_client_call (client, "volume_list", NULL, &err);
    assert_non_null (result);
    assert_true (json_string_length (json_object_get (result, "pad")) > size - 128);
    json_decref (result);
    free (body);
    xs_admin_client_destroy (&client);
}

/* ---------------------------------------------------------------------
   Endpoints and requests refused before sending
   --------------------------------------------------------------------- */

static void
test_endpoints (void **state)
{
    xs_err_t err;
    char dir [] = "/tmp/xs_admin_client_testXXXXXX";
    assert_non_null (mkdtemp (dir));
    /* An ipc socket that does not exist: at once, saying what to do. */
    char *missing = zsys_sprintf ("ipc://%s/missing.sock", dir);
    assert_null (xs_admin_client_new (missing, S_LONG_MS, &err));
    assert_int_equal (err.kind, XS_ETRANSPORT);
    s_assert_contains (err.msg, missing);
    s_assert_contains (err.msg, "No such file or directory (is xensm-catalogd running?");
    zstr_free (&missing);
    /* A real one. */
    char *endpoint = zsys_sprintf ("ipc://%s/admin.sock", dir);
    xs_fake_catalog_t *catalog = xs_fake_catalog_new (endpoint);
    assert_non_null (catalog);
    xs_fake_catalog_reply_ok (catalog, "{\"over\": \"ipc\"}");
    xs_admin_client_t *client = xs_admin_client_new (endpoint, S_LONG_MS, &err);
    assert_non_null (client);
    json_t *result = xs_admin_client_call (client, "ping", NULL, &err);
    assert_non_null (result);
    assert_string_equal (json_string_value (json_object_get (result, "over")), "ipc");
    json_decref (result);
    xs_admin_client_destroy (&client);
    if (geteuid () != 0) {          /* root may use anything */
        assert_int_equal (chmod (endpoint + 6, 0), 0);
        assert_null (xs_admin_client_new (endpoint, S_LONG_MS, &err));
        s_assert_contains (err.msg, "the admin socket is for root only");
    }
    xs_fake_catalog_destroy (&catalog);
    unlink (endpoint + 6);
    zstr_free (&endpoint);
    assert_int_equal (rmdir (dir), 0);
    /* Not an endpoint at all. */
    assert_null (xs_admin_client_new ("bogus://x", S_LONG_MS, &err));
    assert_int_equal (err.kind, XS_ETRANSPORT);
    s_assert_contains (err.msg, "catalog at bogus://x: cannot connect");
    /* Destroy is idempotent. */
    xs_admin_client_destroy (&client);
    xs_admin_client_destroy (NULL);
}

static void
test_not_encodable (void **state)
{
    s_fixture_t *f = *state;
    json_t *args = json_object ();
    xs_err_t err;
    assert_null (xs_admin_client_call (f->client, "\xff", &args, &err));
    assert_null (args);                         /* taken, even so */
    assert_int_equal (err.kind, XS_EINVAL);
    s_assert_contains (err.msg, "cannot encode the request (text must be UTF-8)");
    json_t *list = xs_fake_catalog_take (f->catalog);
    assert_int_equal (json_array_size (list), 0);
    json_decref (list);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_reply, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_remote_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_other_ids_skipped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_timeout, s_setup, s_teardown),
        cmocka_unit_test (test_refused_fails_fast),
        cmocka_unit_test_setup_teardown (test_malformed_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_oversized_refused, s_setup, s_teardown),
        cmocka_unit_test (test_endpoints),
        cmocka_unit_test_setup_teardown (test_not_encodable, s_setup, s_teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zsys_shutdown ();
    return rc;
}
