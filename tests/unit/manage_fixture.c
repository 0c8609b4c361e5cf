/*  manage_fixture: xensm-manage against a fake catalog, for the CLI tests. */
#include "manage_fixture.h"
#include "catalog/cli/xs_manage.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

int
manage_setup (void **state)
{
    static int counter;
    manage_fixture_t *f = calloc (1, sizeof *f);
    assert_non_null (f);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://xs-manage-test-%d", ++counter);
    f->catalog = xs_fake_catalog_new (endpoint);
    assert_non_null (f->catalog);
    f->endpoint = xs_fake_catalog_endpoint (f->catalog);
    strcpy (f->dir, "/tmp/xs_manage_testXXXXXX");
    assert_non_null (mkdtemp (f->dir));
    *state = f;
    return 0;
}

int
manage_teardown (void **state)
{
    manage_fixture_t *f = *state;
    xs_fake_catalog_destroy (&f->catalog);
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal (system (cmd), 0);
    free (f->out);
    free (f->err);
    free (f);
    return 0;
}

void
manage_reply_ok (manage_fixture_t *f, const char *result)
{
    xs_fake_catalog_reply_ok (f->catalog, result);
}

void
manage_reply_error (manage_fixture_t *f, const char *kind, const char *message)
{
    xs_fake_catalog_reply_error (f->catalog, kind, message);
}

int
manage_run (manage_fixture_t *f, const char *answer, ...)
{
    char *argv [32];
    int argc = 0;
    argv [argc++] = (char *) "xensm-manage";
    argv [argc++] = (char *) "--endpoint";
    argv [argc++] = (char *) f->endpoint;
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

json_t *
manage_take (manage_fixture_t *f)
{
    json_t *list = xs_fake_catalog_take (f->catalog);
    assert_non_null (list);
    size_t i;
    json_t *request;
    json_array_foreach (list, i, request)
        assert_true (json_is_object (request));
    return list;
}

void
manage_assert_sent (manage_fixture_t *f, const char *cmd, const char *args)
{
    json_t *list = manage_take (f);
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

void
manage_assert_nothing_sent (manage_fixture_t *f)
{
    json_t *list = manage_take (f);
    if (json_array_size (list)) {
        char *got = json_dumps (list, JSON_COMPACT);
        fail_msg ("expected no request, got %s", got);
    }
    json_decref (list);
}

void
assert_contains (const char *text, const char *part)
{
    if (!text || !strstr (text, part))
        fail_msg ("'%s' not in:\n%s", part, text ? text : "(null)");
}
