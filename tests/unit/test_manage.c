/*  Unit tests for xensm-manage (xs_manage): the volume size parser, and
    every volume and host command run against a fake catalog: a ROUTER on
    an inproc endpoint in a thread of this process that records each request
    and answers with a canned reply. The tests check the request each command
    sends (or that none was sent after a usage error), how the canned results
    are printed, the exit codes and the error messages. (The same commands
    run against the real catalogd in tests/integration.)

    The CLI's private headers give the handlers' context (to see
    xs_manage_wait_long's effect on it) and the formatters. */
#include "catalog/cli/xs_manage_cmd.h"
#include "catalog/cli/xs_manage_print.h"

#include <czmq.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

/* =========================================================================
    Fake catalog
   ========================================================================= */

/* The actor: binds a ROUTER on `args` (an inproc endpoint), records every
   request body, and answers with the reply set by "REPLY" (a JSON object
   without v and id: those are added; an empty reply means stay silent).
   "TAKE" sends back "REQUESTS" and the bodies recorded since the last TAKE,
   one frame each. */
static void
s_fake_catalog (zsock_t *pipe, void *args)
{
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    if (!router || zsock_bind (router, "%s", (const char *) args) != 0) {
        zsock_signal (pipe, 1);
        zsock_destroy (&router);
        return;
    }
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, router, NULL);
    zlist_t *requests = zlist_new ();
    zlist_autofree (requests);
    char *reply = NULL;
    while (true) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, -1);
        if (!which)
            break;
        zmsg_t *msg = zmsg_recv (which);
        if (!msg)
            break;
        if (which == pipe) {
            char *cmd = zmsg_popstr (msg);
            bool term = !cmd || streq (cmd, "$TERM");
            if (cmd && streq (cmd, "REPLY")) {
                zstr_free (&reply);
                reply = zmsg_popstr (msg);
            }
            else
            if (cmd && streq (cmd, "TAKE")) {
                zmsg_t *out = zmsg_new ();
                zmsg_addstr (out, "REQUESTS");       /* an empty zmsg sends nothing */
                for (char *r = (char *) zlist_first (requests); r;
                     r = (char *) zlist_next (requests))
                    zmsg_addstr (out, r);
                zlist_purge (requests);
                zmsg_send (&out, pipe);
            }
            zstr_free (&cmd);
            zmsg_destroy (&msg);
            if (term)
                break;
            continue;
        }
        /* [routing id][""][body] */
        zframe_t *id = zmsg_pop (msg);
        zframe_t *delimiter = zmsg_pop (msg);
        char *body = zmsg_popstr (msg);
        if (body)
            zlist_append (requests, body);
        json_t *request = body ? json_loads (body, 0, NULL) : NULL;
        json_t *answer = reply && *reply ? json_loads (reply, 0, NULL) : NULL;
        if (answer) {
            json_object_set_new (answer, "v", json_integer (1));
            json_object_set (answer, "id", json_object_get (request, "id"));
            char *text = json_dumps (answer, JSON_COMPACT);
            zmsg_t *out = zmsg_new ();
            zmsg_append (out, &id);
            zmsg_addstr (out, "");
            zmsg_addstr (out, text);
            zmsg_send (&out, router);
            free (text);
        }
        json_decref (answer);
        json_decref (request);
        zstr_free (&body);
        zframe_destroy (&id);
        zframe_destroy (&delimiter);
        zmsg_destroy (&msg);
    }
    zstr_free (&reply);
    zlist_destroy (&requests);
    zpoller_destroy (&poller);
    zsock_destroy (&router);
}

typedef struct {
    char endpoint [64];
    zactor_t *catalog;
    char dir [64];              /* temp dir for certificate files */
    char *out, *err;            /* the last run's stdout and stderr */
} s_fixture_t;

static int
s_setup (void **state)
{
    static int counter;
    s_fixture_t *f = calloc (1, sizeof *f);
    snprintf (f->endpoint, sizeof f->endpoint, "inproc://xs-manage-test-%d", ++counter);
    f->catalog = zactor_new (s_fake_catalog, f->endpoint);
    assert_non_null (f->catalog);
    strcpy (f->dir, "/tmp/xs_manage_testXXXXXX");
    assert_non_null (mkdtemp (f->dir));
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *f = *state;
    zactor_destroy (&f->catalog);
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal (system (cmd), 0);
    free (f->out);
    free (f->err);
    free (f);
    return 0;
}

/* The catalog's next answer: `result` (JSON object text) as a success. */
static void
s_reply_ok (s_fixture_t *f, const char *result)
{
    char *text = zsys_sprintf ("{\"ok\": true, \"result\": %s}", result);
    zstr_sendx (f->catalog, "REPLY", text, NULL);
    zstr_free (&text);
}

static void
s_reply_error (s_fixture_t *f, const char *kind, const char *message)
{
    char *text = zsys_sprintf ("{\"ok\": false, \"error\": {\"code\": \"%s\", \"kind\": \"%s\", "
                               "\"message\": \"%s\"}}", kind, kind, message);
    zstr_sendx (f->catalog, "REPLY", text, NULL);
    zstr_free (&text);
}

/* Runs `xensm-manage --endpoint <fake> ARGS...` (NULL-terminated). `answer`
   is the terminal's input for a prompt, or NULL when stdin is not a
   terminal. Keeps stdout and stderr in f->out, f->err. Returns the exit code. */
static int
s_run_manage (s_fixture_t *f, const char *answer, ...)
{
    char *argv [32];
    int argc = 0;
    argv [argc++] = (char *) "xensm-manage";
    argv [argc++] = (char *) "--endpoint";
    argv [argc++] = f->endpoint;
    va_list ap;
    va_start (ap, answer);
    const char *arg;
    while ((arg = va_arg (ap, const char *)))
        argv [argc++] = (char *) arg;
    va_end (ap);
    argv [argc] = NULL;

    free (f->out);
    free (f->err);
    size_t out_size = 0, err_size = 0;
    xs_manage_io_t io = {
        .in = fmemopen ((void *) (answer ? answer : ""), answer ? strlen (answer) + 1 : 1, "r"),
        .out = open_memstream (&f->out, &out_size),
        .err = open_memstream (&f->err, &err_size),
        .interactive = answer != NULL,
    };
    assert_non_null (io.in);
    assert_non_null (io.out);
    assert_non_null (io.err);
    int rc = xs_manage_run (argc, argv, &io);
    fclose (io.in);
    fclose (io.out);
    fclose (io.err);
    return rc;
}

/* The requests the fake catalog received since the last call, as a JSON
   array (caller decrefs). */
static json_t *
s_take (s_fixture_t *f)
{
    zstr_send (f->catalog, "TAKE");
    zmsg_t *msg = zmsg_recv (f->catalog);
    assert_non_null (msg);
    char *header = zmsg_popstr (msg);
    assert_string_equal (header, "REQUESTS");
    zstr_free (&header);
    json_t *list = json_array ();
    char *body;
    while ((body = zmsg_popstr (msg))) {
        json_t *request = json_loads (body, 0, NULL);
        assert_non_null (request);
        json_array_append_new (list, request);
        zstr_free (&body);
    }
    zmsg_destroy (&msg);
    return list;
}

/* Asserts that exactly one request was sent: command `cmd` with exactly the
   arguments `args` (JSON text), in a version 1 envelope. */
static void
s_assert_sent (s_fixture_t *f, const char *cmd, const char *args)
{
    json_t *list = s_take (f);
    if (json_array_size (list) != 1)
        fail_msg ("expected one %s request, got %zu", cmd, json_array_size (list));
    json_t *request = json_array_get (list, 0);
    assert_int_equal (json_integer_value (json_object_get (request, "v")), 1);
    assert_true (json_is_string (json_object_get (request, "id")));
    assert_string_equal (json_string_value (json_object_get (request, "cmd")), cmd);
    json_t *want = json_loads (args, 0, NULL);
    assert_non_null (want);
    if (!json_equal (json_object_get (request, "args"), want)) {
        char *got = json_dumps (json_object_get (request, "args"), JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg ("%s: sent args %s, wanted %s", cmd, got, args);
    }
    json_decref (want);
    json_decref (list);
}

static void
s_assert_nothing_sent (s_fixture_t *f)
{
    json_t *list = s_take (f);
    if (json_array_size (list)) {
        char *got = json_dumps (list, JSON_COMPACT);
        fail_msg ("expected no request, got %s", got);
    }
    json_decref (list);
}

static void
s_assert_contains (const char *text, const char *part)
{
    if (!text || !strstr (text, part))
        fail_msg ("'%s' not in:\n%s", part, text ? text : "(null)");
}

/* A volume as the catalog prints it (xs_sched's s_volume_json). */
#define S_UUID "6f1c2a34-1111-4222-8333-444455556666"
#define S_VOLUME(state, backend) \
    "{\"uuid\": \"" S_UUID "\", \"name\": \"db\", \"size\": 10737418240, " \
    "\"flavor\": \"gold\", \"backend_id\": " backend ", \"vdi_uuid\": \"0b5e-vdi\", " \
    "\"host_uuid\": \"a1-host\", \"state\": \"" state "\", \"error\": null, " \
    "\"parent_uuid\": null, \"request_id\": \"r1\", \"created_at\": 1764028800000, " \
    "\"updated_at\": 1764028861000}"

/* =========================================================================
    Size parser
   ========================================================================= */

static void
test_sizes_accepted (void **state)
{
    static const struct { const char *text; int64_t bytes; } ok [] = {
        { "1", 1 },
        { "512", 512 },
        { "512B", 512 },
        { "1K", 1024 },
        { "1k", 1024 },
        { "1KiB", 1024 },
        { "10M", 10LL << 20 },
        { "10mib", 10LL << 20 },
        { "10G", 10LL << 30 },
        { "10GiB", 10LL << 30 },
        { "3T", 3LL << 40 },
        { "3TiB", 3LL << 40 },
        { "007G", 7LL << 30 },
        { "8388607T", 8388607LL << 40 },        /* the largest whole TiB count */
        { "9223372036854775807", INT64_MAX },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok [0]; i++) {
        int64_t bytes = 0;
        if (xs_manage_parse_size (ok [i].text, &bytes) != 0)
            fail_msg ("'%s' refused", ok [i].text);
        if (bytes != ok [i].bytes)
            fail_msg ("'%s' gave %lld, wanted %lld", ok [i].text, (long long) bytes,
                      (long long) ok [i].bytes);
    }
}

static void
test_sizes_refused (void **state)
{
    static const char *const bad [] = {
        "", "0", "0G", "-1", "-1G", "+1G", " 1G", "1G ", "1 G", "1.5G", "1e3", "G", "1GB",
        "1Gi", "1X", "0x10", "10P", "8388608T", "9223372036854775808", "99999999999999999999",
        "18446744073709551616K", "1KK", "1iB",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        int64_t bytes = 42;
        if (xs_manage_parse_size (bad [i], &bytes) == 0)
            fail_msg ("'%s' accepted as %lld", bad [i], (long long) bytes);
        assert_int_equal (bytes, 42);       /* untouched on refusal */
    }
    int64_t bytes;
    assert_int_equal (xs_manage_parse_size (NULL, &bytes), -1);
}

static void
test_size_and_time_formats (void **state)
{
    char text [32];
    xs_manage_format_size (512, text, sizeof text);
    assert_string_equal (text, "512 B");
    xs_manage_format_size (10LL << 30, text, sizeof text);
    assert_string_equal (text, "10 GiB");
    xs_manage_format_size (3LL << 19, text, sizeof text);
    assert_string_equal (text, "1.5 MiB");
    xs_manage_format_size (INT64_MAX, text, sizeof text);
    assert_string_equal (text, "8 EiB");
    xs_manage_format_time (1764028861000, text, sizeof text);
    assert_string_equal (text, "2025-11-25 00:01:01");
    xs_manage_format_time (0, text, sizeof text);
    assert_string_equal (text, "-");
}

/* =========================================================================
    volume create
   ========================================================================= */

static void
test_volume_create_sends_and_prints (void **state)
{
    s_fixture_t *f = *state;
    s_reply_ok (f, "{\"volume\": " S_VOLUME ("available", "2") "}");
    assert_int_equal (s_run_manage (f, NULL, "volume", "create", "--flavor", "gold", "--size",
                                    "10G", "--name", "db", "--request-id", "r1", NULL), 0);
    s_assert_sent (f, "volume_create", "{\"flavor\": \"gold\", \"size\": 10737418240, "
                   "\"name\": \"db\", \"request_id\": \"r1\"}");
    s_assert_contains (f->out, "uuid:        " S_UUID "\n");
    s_assert_contains (f->out, "state:       available\n");
    s_assert_contains (f->out, "size:        10 GiB (10737418240 bytes)\n");
    s_assert_contains (f->out, "flavor:      gold\n");
    s_assert_contains (f->out, "backend:     2\n");
    s_assert_contains (f->out, "vdi_uuid:    0b5e-vdi\n");
    s_assert_contains (f->out, "request_id:  r1\n");
    s_assert_contains (f->out, "created:     2025-11-25 00:00:00 UTC\n");
    assert_string_equal (f->err, "");

    /* Optional fields absent; prefixes, abbreviated options and --opt=value. */
    assert_int_equal (s_run_manage (f, NULL, "vol", "cr", "--fl=gold", "--si=512", NULL), 0);
    s_assert_sent (f, "volume_create", "{\"flavor\": \"gold\", \"size\": 512}");
    assert_int_equal (s_run_manage (f, NULL, "volume", "create", "--size", "1tib", "--flavor",
                                    "gold", NULL), 0);
    s_assert_sent (f, "volume_create", "{\"flavor\": \"gold\", \"size\": 1099511627776}");
}

static void
test_volume_create_refusals (void **state)
{
    s_fixture_t *f = *state;
    s_reply_ok (f, "{\"volume\": " S_VOLUME ("available", "2") "}");
    static const char *const sizes [] = {
        "0", "-1G", "1.5G", "10P", "1GB", "", "99999999999999999999", "8388608T", "ten",
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes [0]; i++) {
        assert_int_equal (s_run_manage (f, NULL, "volume", "create", "--flavor", "gold",
                                        "--size", sizes [i], NULL), 2);
        char want [64];
        snprintf (want, sizeof want, "--size '%s': expected a positive size", sizes [i]);
        s_assert_contains (f->err, want);
        s_assert_nothing_sent (f);
    }
    assert_int_equal (s_run_manage (f, NULL, "volume", "create", "--size", "1G", NULL), 2);
    s_assert_contains (f->err, "volume create: --flavor and --size are required");
    s_assert_contains (f->err, "usage: xensm-manage [options] volume create --flavor F");
    assert_int_equal (s_run_manage (f, NULL, "volume", "create", "--flavor", "gold", NULL), 2);
    s_assert_contains (f->err, "--flavor and --size are required");
    assert_int_equal (s_run_manage (f, NULL, "volume", "create", NULL), 2);
    assert_int_equal (s_run_manage (f, NULL, "volume", "create", "--flavor", "gold", "--size",
                                    "1G", "--bogus", NULL), 2);
    s_assert_contains (f->err, "volume create: option '--bogus': unknown");
    assert_int_equal (s_run_manage (f, NULL, "volume", "create", "--flavor", "gold", "--size",
                                    NULL), 2);
    s_assert_contains (f->err, "option '--size': unknown or missing its value");
    assert_int_equal (s_run_manage (f, NULL, "volume", "create", "--flavor", "gold", "--size",
                                    "1G", "extra", NULL), 2);
    s_assert_contains (f->err, "unexpected argument 'extra'");
    /* Not UTF-8: refused before sending, naming what. */
    assert_int_equal (s_run_manage (f, NULL, "volume", "create", "--flavor", "gold", "--size",
                                    "1G", "--name", "\xff\xfe", NULL), 2);
    s_assert_contains (f->err, "volume_create: flavor, name and request id must be UTF-8 text");
    s_assert_nothing_sent (f);
}

/* The catalog's refusal reaches the person whole, with the exit code of its
   kind; --json also prints it as an object. */
static void
test_volume_errors (void **state)
{
    s_fixture_t *f = *state;
    s_reply_error (f, "not_found", "flavor silver: not found");
    assert_int_equal (s_run_manage (f, NULL, "volume", "create", "--flavor", "silver",
                                    "--size", "1G", NULL), 2);
    s_assert_contains (f->err, "xensm-manage: flavor silver: not found\n");
    assert_string_equal (f->out, "");
    s_assert_sent (f, "volume_create", "{\"flavor\": \"silver\", \"size\": 1073741824}");

    s_reply_error (f, "conflict", "volume " S_UUID ": no backend could take it: backend 1 "
                   "(host a1): SR full; backend 2: no live host in zone za");
    assert_int_equal (s_run_manage (f, NULL, "--json", "volume", "create", "--flavor", "gold",
                                    "--size", "1G", NULL), 1);
    s_assert_contains (f->err, "backend 1 (host a1): SR full; backend 2: no live host");
    json_t *out = json_loads (f->out, 0, NULL);
    assert_non_null (out);
    assert_string_equal (json_string_value (json_object_get (json_object_get (out, "error"),
                                                             "kind")), "conflict");
    json_decref (out);
    s_assert_sent (f, "volume_create", "{\"flavor\": \"gold\", \"size\": 1073741824}");
}

/* Volume changes wait for an agent: 120 s unless --timeout; reads keep 10 s. */
static void
test_volume_timeouts (void **state)
{
    s_fixture_t *f = *state;
    s_reply_ok (f, "{\"volume\": " S_VOLUME ("deleted", "2") "}");
    static const struct { const char *category, *action; int argc; const char *argv [2];
                          int want_ms; } cases [] = {
        { "volume", "create", 2, { "--flavor=gold", "--size=1G" }, XS_MANAGE_VOLUME_TIMEOUT_MS },
        { "volume", "delete", 1, { S_UUID }, XS_MANAGE_VOLUME_TIMEOUT_MS },
        { "volume", "snapshot", 1, { S_UUID }, XS_MANAGE_VOLUME_TIMEOUT_MS },
        { "volume", "clone", 1, { S_UUID }, XS_MANAGE_VOLUME_TIMEOUT_MS },
        { "volume", "show", 1, { S_UUID }, XS_MANAGE_DEFAULT_TIMEOUT_MS },
        { "volume", "list", 0, { NULL }, XS_MANAGE_DEFAULT_TIMEOUT_MS },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++)
        for (int given = 0; given < 2; given++) {
            xs_manage_io_t io = { .in = stdin, .out = fopen ("/dev/null", "w"),
                                  .err = stderr };
            xs_manage_ctx_t ctx = { .io = &io, .endpoint = f->endpoint,
                            .timeout_ms = given ? 3000 : XS_MANAGE_DEFAULT_TIMEOUT_MS,
                            .timeout_given = given };
            ctx.command = xs_manage_command_lookup (cases [i].category, cases [i].action);
            assert_non_null (ctx.command);
            char *argv [3] = { (char *) cases [i].action, (char *) cases [i].argv [0],
                               (char *) cases [i].argv [1] };
            assert_int_equal (ctx.command->handler (&ctx, cases [i].argc, argv + 1), 0);
            if (ctx.timeout_ms != (given ? 3000 : cases [i].want_ms))
                fail_msg ("%s %s%s: waits %d ms", cases [i].category, cases [i].action,
                          given ? " --timeout 3" : "", ctx.timeout_ms);
            xs_admin_client_destroy (&ctx.client);
            fclose (io.out);
        }
    json_decref (s_take (f));

    /* --timeout is honoured: a silent catalog gives up after it, exit 1. */
    zstr_sendx (f->catalog, "REPLY", "", NULL);
    assert_int_equal (s_run_manage (f, NULL, "--timeout", "0.2", "volume", "delete", S_UUID,
                                    NULL), 1);
    s_assert_contains (f->err, "no reply within 1 s");
    s_assert_sent (f, "volume_delete", "{\"uuid\": \"" S_UUID "\"}");
    assert_int_equal (s_run_manage (f, NULL, "--timeout", "0", "volume", "list", NULL), 2);
    s_assert_contains (f->err, "--timeout '0'");
    s_assert_nothing_sent (f);
}

/* =========================================================================
    volume delete, snapshot, clone, list, show, connection
   ========================================================================= */

static void
test_volume_delete_snapshot_clone (void **state)
{
    s_fixture_t *f = *state;
    s_reply_ok (f, "{\"volume\": " S_VOLUME ("deleted", "2") "}");
    assert_int_equal (s_run_manage (f, NULL, "volume", "delete", S_UUID, NULL), 0);
    s_assert_sent (f, "volume_delete", "{\"uuid\": \"" S_UUID "\"}");
    s_assert_contains (f->out, "state:       deleted\n");

    s_reply_ok (f, "{\"volume\": " S_VOLUME ("available", "2") "}");
    assert_int_equal (s_run_manage (f, NULL, "volume", "snapshot", S_UUID, "--name", "snap",
                                    NULL), 0);
    s_assert_sent (f, "volume_snapshot", "{\"uuid\": \"" S_UUID "\", \"name\": \"snap\"}");
    s_assert_contains (f->out, "uuid:        " S_UUID);
    assert_int_equal (s_run_manage (f, NULL, "volume", "snap", "--name=s2", S_UUID, NULL), 0);
    s_assert_sent (f, "volume_snapshot", "{\"uuid\": \"" S_UUID "\", \"name\": \"s2\"}");
    assert_int_equal (s_run_manage (f, NULL, "volume", "clone", S_UUID, NULL), 0);
    s_assert_sent (f, "volume_clone", "{\"uuid\": \"" S_UUID "\"}");

    /* Usage errors send nothing. */
    assert_int_equal (s_run_manage (f, NULL, "volume", "delete", NULL), 2);
    s_assert_contains (f->err, "volume delete: expected 1 argument(s), got 0");
    assert_int_equal (s_run_manage (f, NULL, "volume", "delete", "--force", NULL), 2);
    s_assert_contains (f->err, "volume delete: option '--force': unknown");
    assert_int_equal (s_run_manage (f, NULL, "volume", "delete", S_UUID, S_UUID, NULL), 2);
    assert_int_equal (s_run_manage (f, NULL, "volume", "clone", "--name", "x", NULL), 2);
    s_assert_contains (f->err, "volume clone: expected one volume uuid, got 0");
    assert_int_equal (s_run_manage (f, NULL, "volume", "clone", S_UUID, "other", NULL), 2);
    s_assert_contains (f->err, "expected one volume uuid, got 2");
    assert_int_equal (s_run_manage (f, NULL, "volume", "snapshot", S_UUID, "--nme", "x",
                                    NULL), 2);
    s_assert_contains (f->err, "volume snapshot: option '--nme': unknown");
    assert_int_equal (s_run_manage (f, NULL, "volume", "snapshot", S_UUID, "--name", NULL), 2);
    assert_int_equal (s_run_manage (f, NULL, "volume", "show", "--attempts", NULL), 2);
    s_assert_contains (f->err, "volume show: option '--attempts': unknown");
    s_assert_nothing_sent (f);
}

static void
test_volume_list (void **state)
{
    s_fixture_t *f = *state;
    s_reply_ok (f, "{\"volumes\": [" S_VOLUME ("available", "2") ", "
                "{\"uuid\": \"77aa\", \"name\": null, \"size\": 1536, \"flavor\": \"gold\", "
                "\"backend_id\": null, \"vdi_uuid\": null, \"host_uuid\": null, "
                "\"state\": \"error\", \"error\": \"no backend\", \"parent_uuid\": null, "
                "\"request_id\": null, \"created_at\": 1, \"updated_at\": 1}]}");
    assert_int_equal (s_run_manage (f, NULL, "volume", "list", NULL), 0);
    s_assert_sent (f, "volume_list", "{\"all\": false}");
    char *header = strtok (f->out, "\n");
    char *row1 = strtok (NULL, "\n");
    char *row2 = strtok (NULL, "\n");
    assert_non_null (row2);
    assert_null (strtok (NULL, "\n"));
    s_assert_contains (header, "UUID");
    s_assert_contains (header, "Size");
    s_assert_contains (header, "State");
    s_assert_contains (header, "Backend");
    assert_memory_equal (row1, S_UUID, strlen (S_UUID));
    s_assert_contains (row1, " db ");
    s_assert_contains (row1, "10 GiB");
    s_assert_contains (row1, " available ");
    s_assert_contains (row1, " 2 ");
    s_assert_contains (row1, "0b5e-vdi");
    assert_memory_equal (row2, "77aa ", 5);
    s_assert_contains (row2, "1.5 KiB");
    s_assert_contains (row2, " error ");
    s_assert_contains (row2, " - ");

    assert_int_equal (s_run_manage (f, NULL, "volume", "list", "--all", NULL), 0);
    s_assert_sent (f, "volume_list", "{\"all\": true}");

    /* --json prints the result as the catalog gave it. */
    s_reply_ok (f, "{\"volumes\": []}");
    assert_int_equal (s_run_manage (f, NULL, "--json", "vol", "l", NULL), 0);
    json_t *out = json_loads (f->out, 0, NULL);
    json_t *want = json_pack ("{s:[]}", "volumes");
    assert_true (json_equal (out, want));
    json_decref (out);
    json_decref (want);
    s_assert_sent (f, "volume_list", "{\"all\": false}");

    assert_int_equal (s_run_manage (f, NULL, "volume", "list", "--deleted", NULL), 2);
    s_assert_contains (f->err, "unexpected argument '--deleted'");
    assert_int_equal (s_run_manage (f, NULL, "volume", "list", "--all", "x", NULL), 2);
    s_assert_nothing_sent (f);
}

static void
test_volume_show_lists_attempts (void **state)
{
    s_fixture_t *f = *state;
    char *volume = strdup (S_VOLUME ("available", "3"));
    volume [strlen (volume) - 1] = '\0';        /* drop the closing brace */
    char *result = zsys_sprintf (
        "{\"volume\": %s, \"attempts\": ["
        "{\"backend_id\": 1, \"host_uuid\": \"a1-host\", \"outcome\": \"failed\", "
        " \"reason\": \"SR_BACKEND_FAILURE_44: insufficient space\", \"at\": 1764028800000},"
        "{\"backend_id\": 2, \"host_uuid\": null, \"outcome\": \"skipped\", "
        " \"reason\": \"not enough free space (needs 10 GiB)\", \"at\": 1764028800000},"
        "{\"backend_id\": 3, \"host_uuid\": \"a2-host\", \"outcome\": \"ok\", "
        " \"reason\": null, \"at\": 1764028801000}], "
        "\"jobs\": [{\"id\": 7, \"op\": \"vdi_create\", \"state\": \"done\", "
        " \"backend_id\": 3, \"host_uuid\": \"a2-host\", \"error\": null}]}}", volume);
    s_reply_ok (f, result);
    assert_int_equal (s_run_manage (f, NULL, "volume", "show", S_UUID, NULL), 0);
    s_assert_sent (f, "volume_show", "{\"uuid\": \"" S_UUID "\"}");
    s_assert_contains (f->out, "uuid:        " S_UUID "\n");
    s_assert_contains (f->out, "backend:     3\n");
    s_assert_contains (f->out, "attempts:\n");
    s_assert_contains (f->out, "2025-11-25 00:00:00  backend 1  failed   host a1-host: "
                       "SR_BACKEND_FAILURE_44: insufficient space\n");
    s_assert_contains (f->out, "backend 2  skipped  host -: not enough free space (needs 10 GiB)");
    s_assert_contains (f->out, "2025-11-25 00:00:01  backend 3  ok       host a2-host");
    s_assert_contains (f->out, "jobs:\n  7  vdi_create    done      backend 3  host a2-host\n");
    zstr_free (&result);
    free (volume);

    s_reply_ok (f, "{\"volume\": " S_VOLUME ("creating", "null") "}");
    assert_int_equal (s_run_manage (f, NULL, "volume", "show", S_UUID, NULL), 0);
    s_assert_contains (f->out, "backend:     -\n");
    s_assert_contains (f->out, "attempts:    none\n");
    json_decref (s_take (f));

    s_reply_error (f, "not_found", "volume 0000: not found");
    assert_int_equal (s_run_manage (f, NULL, "volume", "show", "0000", NULL), 2);
    s_assert_contains (f->err, "volume 0000: not found");
    s_assert_sent (f, "volume_show", "{\"uuid\": \"0000\"}");
}

static void
test_volume_connection (void **state)
{
    s_fixture_t *f = *state;
    s_reply_ok (f, "{\"connection\": {\"volume_uuid\": \"" S_UUID "\", \"vdi_uuid\": "
                "\"0b5e-vdi\", \"sr_uuid\": \"5r-uuid\", \"sr_type\": \"lvmoiscsi\", "
                "\"backend_id\": 2, \"zone\": \"za\", \"name_label\": \"iscsi-a\", "
                "\"device_config\": {\"target\": \"10.0.0.5\", \"targetIQN\": \"iqn.x\", "
                "\"chappassword\": \"******\"}}}");
    assert_int_equal (s_run_manage (f, NULL, "volume", "connection", S_UUID, NULL), 0);
    s_assert_sent (f, "volume_connection", "{\"uuid\": \"" S_UUID "\", \"show_secrets\": false}");
    s_assert_contains (f->out, "vdi_uuid:      0b5e-vdi\n");
    s_assert_contains (f->out, "sr_uuid:       5r-uuid\n");
    s_assert_contains (f->out, "sr_type:       lvmoiscsi\n");
    s_assert_contains (f->out, "zone:          za\n");
    s_assert_contains (f->out, "device_config: target=10.0.0.5 targetIQN=iqn.x "
                       "chappassword=******\n");

    assert_int_equal (s_run_manage (f, NULL, "volume", "conn", "--show-secrets", S_UUID, NULL),
                      0);
    s_assert_sent (f, "volume_connection", "{\"uuid\": \"" S_UUID "\", \"show_secrets\": true}");

    assert_int_equal (s_run_manage (f, NULL, "volume", "connection", "--show", S_UUID, NULL), 2);
    s_assert_contains (f->err, "unexpected argument '--show'");
    assert_int_equal (s_run_manage (f, NULL, "volume", "connection", S_UUID, "x", NULL), 2);
    assert_int_equal (s_run_manage (f, NULL, "volume", "connection", "--show-secrets", NULL), 2);
    s_assert_contains (f->err, "missing the volume uuid");
    s_assert_nothing_sent (f);
}

/* =========================================================================
    host enroll, list, remove
   ========================================================================= */

static char *
s_write_file (s_fixture_t *f, const char *name, const char *data, size_t size)
{
    char *path = zsys_sprintf ("%s/%s", f->dir, name);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    assert_int_equal (fwrite (data, 1, size, file), size);
    assert_int_equal (fclose (file), 0);
    return path;
}

static void
test_host_enroll (void **state)
{
    s_fixture_t *f = *state;
    static const char cert [] =
        "#   ****  Generated on 2026-11-25 by CZMQ  ****\n"
        "#   ZeroMQ CURVE Public Certificate\n"
        "metadata\n"
        "curve\n"
        "    public-key = \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n";
    char *path = s_write_file (f, "a1.cert", cert, strlen (cert));
    s_reply_ok (f, "{\"public_key\": \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"}");
    assert_int_equal (s_run_manage (f, NULL, "host", "enroll", path, NULL), 0);
    json_t *list = s_take (f);
    assert_int_equal (json_array_size (list), 1);
    json_t *request = json_array_get (list, 0);
    assert_string_equal (json_string_value (json_object_get (request, "cmd")), "host_enroll");
    assert_string_equal (json_string_value (json_object_get (json_object_get (request, "args"),
                                                             "public_key")), cert);
    json_decref (list);
    s_assert_contains (f->out, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7 enrolled");
    zstr_free (&path);

    /* Exactly the limit is sent. */
    char big [XS_MANAGE_CERT_MAX + 1];
    memset (big, 'k', sizeof big);
    path = s_write_file (f, "limit.cert", big, XS_MANAGE_CERT_MAX);
    assert_int_equal (s_run_manage (f, NULL, "host", "enroll", path, NULL), 0);
    list = s_take (f);
    assert_int_equal (json_array_size (list), 1);
    assert_int_equal (strlen (json_string_value (json_object_get (json_object_get (
        json_array_get (list, 0), "args"), "public_key"))), XS_MANAGE_CERT_MAX);
    json_decref (list);
    zstr_free (&path);

    /* Refused before anything is sent, naming the file and the reason. */
    static const struct { const char *name; const char *data; size_t size; int rc;
                          const char *why; } bad [] = {
        { "big.cert", NULL, XS_MANAGE_CERT_MAX + 1, 2, "larger than 4096 bytes" },
        { "empty.cert", "", 0, 2, "empty file" },
        { "nul.cert", "abc\0def", 7, 2, "holds NUL bytes" },
        { "a1.cert_secret", "secret", 6, 2, "is a SECRET certificate" },
        { "latin1.cert", "caf\xe9", 4, 2, "not UTF-8 text" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        path = s_write_file (f, bad [i].name, bad [i].data ? bad [i].data : big, bad [i].size);
        assert_int_equal (s_run_manage (f, NULL, "host", "enroll", path, NULL), bad [i].rc);
        s_assert_contains (f->err, path);
        s_assert_contains (f->err, bad [i].why);
        s_assert_nothing_sent (f);
        zstr_free (&path);
    }
    path = zsys_sprintf ("%s/missing.cert", f->dir);
    assert_int_equal (s_run_manage (f, NULL, "host", "enroll", path, NULL), 2);
    s_assert_contains (f->err, path);
    s_assert_contains (f->err, "No such file or directory");
    zstr_free (&path);
    assert_int_equal (s_run_manage (f, NULL, "host", "enroll", f->dir, NULL), 2);
    s_assert_contains (f->err, f->dir);
    s_assert_contains (f->err, "cannot read it: Is a directory");
    if (geteuid () != 0) {          /* root reads anything */
        path = s_write_file (f, "private.cert", cert, strlen (cert));
        assert_int_equal (chmod (path, 0), 0);
        assert_int_equal (s_run_manage (f, NULL, "host", "enroll", path, NULL), 1);
        s_assert_contains (f->err, "Permission denied");
        zstr_free (&path);
    }
    assert_int_equal (s_run_manage (f, NULL, "host", "enroll", NULL), 2);
    s_assert_nothing_sent (f);
}

static void
test_host_list (void **state)
{
    s_fixture_t *f = *state;
    s_reply_ok (f, "{\"hosts\": ["
        "{\"uuid\": \"a1-host\", \"name\": \"a1\", \"zone\": \"za\", \"state\": \"up\", "
        " \"last_seen\": 1764028861000, \"public_key\": \"K1\", \"srs\": ["
        "  {\"backend_id\": 1, \"sr_uuid\": \"sr-one\", \"physical_size\": 100},"
        "  {\"backend_id\": 4, \"sr_uuid\": \"sr-four\"}]},"
        "{\"uuid\": \"b1-host\", \"name\": \"\", \"zone\": \"zb\", \"state\": \"down\", "
        " \"last_seen\": 1764028800000, \"public_key\": \"K2\", \"srs\": []},"
        "{\"uuid\": \"\", \"name\": \"\", \"zone\": \"\", \"state\": \"enrolled\", "
        " \"last_seen\": 0, \"public_key\": \"K3-never-seen\", \"srs\": []}]}");
    assert_int_equal (s_run_manage (f, NULL, "host", "list", NULL), 0);
    s_assert_sent (f, "host_list", "{}");
    char *header = strtok (f->out, "\n");
    char *up = strtok (NULL, "\n");
    char *down = strtok (NULL, "\n");
    char *enrolled = strtok (NULL, "\n");
    assert_non_null (enrolled);
    assert_null (strtok (NULL, "\n"));
    s_assert_contains (header, "Host UUID");
    s_assert_contains (header, "Zone");
    s_assert_contains (header, "State");
    s_assert_contains (header, "Last seen");
    s_assert_contains (header, "SRs");
    assert_memory_equal (up, "a1-host ", 8);
    s_assert_contains (up, " a1 ");
    s_assert_contains (up, " za ");
    s_assert_contains (up, " up ");
    s_assert_contains (up, "2025-11-25 00:01:01");
    s_assert_contains (up, " 1:sr-one 4:sr-four");
    assert_memory_equal (down, "b1-host ", 8);
    s_assert_contains (down, " zb ");
    s_assert_contains (down, " down ");
    s_assert_contains (down, "2025-11-25 00:00:00");
    assert_memory_equal (enrolled, "- ", 2);
    s_assert_contains (enrolled, " enrolled ");
    s_assert_contains (enrolled, "(key K3-never-seen, not registered yet)");

    assert_int_equal (s_run_manage (f, NULL, "host", "list", "extra", NULL), 2);
    s_assert_contains (f->err, "host list: expected 0 argument(s), got 1");
    s_assert_nothing_sent (f);
}

static void
test_host_remove_confirms (void **state)
{
    s_fixture_t *f = *state;
    s_reply_ok (f, "{\"removed\": \"a1-host\"}");
    /* Not on a terminal and no --yes: refused, nothing sent. */
    assert_int_equal (s_run_manage (f, NULL, "host", "remove", "a1-host", NULL), 2);
    s_assert_contains (f->err, "not on a terminal (pass --yes to confirm); nothing was removed");
    s_assert_nothing_sent (f);
    /* On a terminal: "n" (or nothing) keeps it. */
    assert_int_equal (s_run_manage (f, "n\n", "host", "remove", "a1-host", NULL), 1);
    s_assert_contains (f->err, "Host a1-host will no longer be admitted");
    s_assert_contains (f->err, "not confirmed; nothing was removed");
    assert_int_equal (s_run_manage (f, "", "host", "remove", "a1-host", NULL), 1);
    s_assert_nothing_sent (f);
    /* "y" removes it. */
    assert_int_equal (s_run_manage (f, "yes\n", "host", "remove", "a1-host", NULL), 0);
    s_assert_sent (f, "host_remove", "{\"host\": \"a1-host\"}");
    s_assert_contains (f->out, "host a1-host removed");
    /* --yes skips the question, on a terminal or not; a key starting with '-'
       (Z85 allows it) is a key, not an option. */
    assert_int_equal (s_run_manage (f, NULL, "--yes", "host", "remove",
                                    "-q:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", NULL), 0);
    s_assert_sent (f, "host_remove", "{\"host\": \"-q:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"}");
    assert_int_equal (s_run_manage (f, "n\n", "-y", "host", "rem", "a1-host", NULL), 0);
    assert_null (strstr (f->err, "Proceed"));
    s_assert_sent (f, "host_remove", "{\"host\": \"a1-host\"}");

    s_reply_error (f, "not_found", "host nosuch: not enrolled");
    assert_int_equal (s_run_manage (f, NULL, "--yes", "host", "remove", "nosuch", NULL), 2);
    s_assert_contains (f->err, "host nosuch: not enrolled");
    s_assert_sent (f, "host_remove", "{\"host\": \"nosuch\"}");
}

/* =========================================================================
    Help
   ========================================================================= */

static void
test_help_lists_volume_and_host (void **state)
{
    s_fixture_t *f = *state;
    static const char *const lines [] = {
        "  host enroll <public certificate file>\n",
        "  host list\n",
        "  host remove <host uuid or public key>\n",
        "  volume create --flavor F --size S [--name N] [--request-id R]\n",
        "  volume delete <uuid>\n",
        "  volume snapshot <uuid> [--name N]\n",
        "  volume clone <uuid> [--name N]\n",
        "  volume list [--all]\n",
        "  volume show <uuid>\n",
        "  volume connection <uuid> [--show-secrets]\n",
    };
    assert_int_equal (s_run_manage (f, NULL, "--help", NULL), 0);
    for (size_t i = 0; i < sizeof lines / sizeof lines [0]; i++)
        s_assert_contains (f->out, lines [i]);
    s_assert_contains (f->out, "--timeout S   seconds to wait for the catalog (default 10; "
                       "120 for volume\n");
    char *usage = strdup (f->out);
    assert_int_equal (s_run_manage (f, NULL, "help", NULL), 0);
    assert_string_equal (f->out, usage);
    free (usage);

    assert_int_equal (s_run_manage (f, NULL, "help", "vol", NULL), 0);
    s_assert_contains (f->out, "  volume connection <uuid> [--show-secrets]\n");
    assert_null (strstr (f->out, "  host list"));
    assert_int_equal (s_run_manage (f, NULL, "help", "volume", "create", NULL), 0);
    s_assert_contains (f->out, "usage: xensm-manage [options] volume create --flavor F --size S");
    s_assert_contains (f->out, "120 s unless --timeout");
    assert_int_equal (s_run_manage (f, NULL, "host", "remove", "--help", NULL), 0);
    s_assert_contains (f->out, "--yes skips it");
    /* `h` is still host (help is a word, not a category). */
    s_reply_ok (f, "{\"hosts\": []}");
    assert_int_equal (s_run_manage (f, NULL, "h", "l", NULL), 0);
    s_assert_sent (f, "host_list", "{}");
    assert_int_equal (s_run_manage (f, NULL, "help", "nosuch", NULL), 2);
    s_assert_contains (f->err, "unknown category 'nosuch'");
    assert_int_equal (s_run_manage (f, NULL, "help", "volume", "x", NULL), 2);
    s_assert_contains (f->err, "unknown action 'x' in category volume");
    assert_int_equal (s_run_manage (f, NULL, "help", "volume", "create", "x", NULL), 2);
    s_assert_nothing_sent (f);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_sizes_accepted),
        cmocka_unit_test (test_sizes_refused),
        cmocka_unit_test (test_size_and_time_formats),
        cmocka_unit_test_setup_teardown (test_volume_create_sends_and_prints, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_volume_create_refusals, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_volume_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_volume_timeouts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_volume_delete_snapshot_clone, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_volume_list, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_volume_show_lists_attempts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_volume_connection, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_host_enroll, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_host_list, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_host_remove_confirms, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_help_lists_volume_and_host, s_setup, s_teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zsys_shutdown ();
    return rc;
}
