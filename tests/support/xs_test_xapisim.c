/*  xs_test_xapisim: the xapi simulator as a test peer (see xs_test_xapisim.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "common/xs_xmlrpc.h"
#include "tests/support/xs_test_proc.h"
#include "tests/support/xs_test_xapisim.h"

#if !defined (XS_TEST_XAPISIM_DIR) || !defined (XS_TEST_PYTHON)
#   error "XS_TEST_XAPISIM_DIR (tests/xapisim) and XS_TEST_PYTHON must be defined"
#endif

/* Run as a module, so that Python keeps its compiled form (__pycache__)
   instead of compiling 3,000 lines at every start. */
#define XS_TEST_XAPISIM_RUN \
    "import sys; sys.path.insert(0, '" XS_TEST_XAPISIM_DIR "'); import xapisim; " \
    "sys.exit(xapisim.main())"

#define S_MAX_HOSTS 8
#define S_MAX_ARGS 32

typedef struct {
    char name [64];
    char uuid [64];
    char unix_url [300];
    char http_url [128];
} s_host_t;

struct _xs_test_xapisim_t {
    char dir [128];
    pid_t pid;
    s_host_t hosts [S_MAX_HOSTS];
    size_t nhosts;
};

/* The start-up line: {"pools": [{"hosts": [{name, uuid, url, unix}]}]}. */
static void
s_read_hosts (xs_test_xapisim_t *self, const char *line)
{
    json_error_t error;
    json_t *info = json_loads (line, 0, &error);
    if (!info)
        fail_msg ("xapisim start-up line: %s: %s", error.text, line);
    size_t p, h;
    json_t *pool, *host;
    json_array_foreach (json_object_get (info, "pools"), p, pool)
        json_array_foreach (json_object_get (pool, "hosts"), h, host) {
            assert_true (self->nhosts < S_MAX_HOSTS);
            s_host_t *out = &self->hosts [self->nhosts++];
            snprintf (out->name, sizeof out->name, "%s",
                      json_string_value (json_object_get (host, "name")));
            snprintf (out->uuid, sizeof out->uuid, "%s",
                      json_string_value (json_object_get (host, "uuid")));
            snprintf (out->unix_url, sizeof out->unix_url, "unix:%s",
                      json_string_value (json_object_get (host, "unix")));
            snprintf (out->http_url, sizeof out->http_url, "%s",
                      json_string_value (json_object_get (host, "url")));
        }
    json_decref (info);
    assert_true (self->nhosts > 0);
}

xs_test_xapisim_t *
xs_test_xapisim_start (const char *const *args)
{
    xs_test_xapisim_t *self = calloc (1, sizeof *self);
    assert_non_null (self);
    snprintf (self->dir, sizeof self->dir, "/tmp/xs_test_xapisim.XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    char *argv [S_MAX_ARGS];
    int argc = 0;
    argv [argc++] = (char *) XS_TEST_PYTHON;
    argv [argc++] = (char *) "-c";
    argv [argc++] = (char *) XS_TEST_XAPISIM_RUN;
    argv [argc++] = (char *) "--unix-dir";
    argv [argc++] = self->dir;
    for (size_t i = 0; args && args [i]; i++) {
        assert_true (argc < S_MAX_ARGS - 1);
        argv [argc++] = (char *) args [i];
    }
    argv [argc] = NULL;
    int out = -1;
    self->pid = xs_test_proc_spawn (argv, &out, NULL);
    char line [16384];
    if (!xs_test_proc_read_line (out, line, sizeof line, 20000))
        fail_msg ("xapisim did not start (no start-up line within 20 s)");
    close (out);
    s_read_hosts (self, line);
    return self;
}

void
xs_test_xapisim_stop (xs_test_xapisim_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_test_xapisim_t *self = *self_p;
    xs_test_proc_stop (self->pid);
    char cmd [200];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", self->dir);
    if (system (cmd) != 0)
        fprintf (stderr, "cannot remove %s\n", self->dir);
    free (self);
    *self_p = NULL;
}

static const s_host_t *
s_host (xs_test_xapisim_t *self, size_t index)
{
    if (index >= self->nhosts)
        fail_msg ("xapisim has %zu host(s), not %zu", self->nhosts, index + 1);
    return &self->hosts [index];
}

const char *
xs_test_xapisim_unix_url (xs_test_xapisim_t *self, size_t index)
{
    return s_host (self, index)->unix_url;
}

const char *
xs_test_xapisim_http_url (xs_test_xapisim_t *self, size_t index)
{
    return s_host (self, index)->http_url;
}

const char *
xs_test_xapisim_host_uuid (xs_test_xapisim_t *self, size_t index)
{
    return s_host (self, index)->uuid;
}

const char *
xs_test_xapisim_host_name (xs_test_xapisim_t *self, size_t index)
{
    return s_host (self, index)->name;
}

/* ---------------------------------------------------------------------
   Control calls (sim.*): plain XML-RPC without a session
   --------------------------------------------------------------------- */

static size_t
s_on_data (char *data, size_t size, size_t nmemb, void *arg)
{
    char **buf = (char **) arg;
    size_t old = *buf ? strlen (*buf) : 0;
    char *bigger = realloc (*buf, old + size * nmemb + 1);
    assert_non_null (bigger);
    memcpy (bigger + old, data, size * nmemb);
    bigger [old + size * nmemb] = '\0';
    *buf = bigger;
    return size * nmemb;
}

xs_value_t *
xs_test_xapisim_control (xs_test_xapisim_t *self, const char *method, xs_value_t *params)
{
    char full [64];
    snprintf (full, sizeof full, "sim.%s", method);
    if (!params)
        params = xs_value_array_new ();
    size_t len = 0;
    char *body = xs_xmlrpc_encode_call (full, params, &len);
    assert_non_null (body);
    char *reply = NULL;
    CURL *curl = curl_easy_init ();
    assert_non_null (curl);
    assert_int_equal (curl_easy_setopt (curl, CURLOPT_URL, s_host (self, 0)->http_url), CURLE_OK);
    assert_int_equal (curl_easy_setopt (curl, CURLOPT_PROXY, ""), CURLE_OK);
    assert_int_equal (curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body), CURLE_OK);
    assert_int_equal (curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long) len), CURLE_OK);
    assert_int_equal (curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_data), CURLE_OK);
    assert_int_equal (curl_easy_setopt (curl, CURLOPT_WRITEDATA, &reply), CURLE_OK);
    assert_int_equal (curl_easy_setopt (curl, CURLOPT_TIMEOUT, 20L), CURLE_OK);
    CURLcode rc = curl_easy_perform (curl);
    curl_easy_cleanup (curl);
    if (rc != CURLE_OK)
        fail_msg ("%s: %s", full, curl_easy_strerror (rc));
    xs_err_t err;
    xs_value_t *response = xs_xmlrpc_decode_response (reply, strlen (reply), NULL, &err);
    if (!response)
        fail_msg ("%s: %s", full, err.msg);
    const char *status = xs_value_get_str (response, "Status");
    if (!status || strcmp (status, "Success") != 0)
        fail_msg ("%s failed: %s", full, reply);
    xs_value_t *value = xs_value_dup (xs_value_get (response, "Value"));
    xs_value_destroy (&response);
    xs_value_destroy (&params);
    free (reply);
    free (body);
    return value;
}

void
xs_test_xapisim_fail (xs_test_xapisim_t *self, const char *method, int nth, bool repeat,
                      const char *code, const char *const *params)
{
    xs_value_t *rule = xs_value_struct_new ();
    xs_value_set_str (rule, "method", method);
    xs_value_set_str (rule, "action", "fail");
    xs_value_set_str (rule, "code", code);
    xs_value_t *item = xs_value_int_new (nth);
    xs_value_set (rule, "nth", &item);
    item = xs_value_bool_new (repeat);
    xs_value_set (rule, "repeat", &item);
    xs_value_t *list = xs_value_array_new ();
    for (size_t i = 0; params && params [i]; i++)
        xs_value_append_str (list, params [i]);
    xs_value_set (rule, "params", &list);
    xs_value_t *call = xs_value_array_new ();
    xs_value_append (call, &rule);
    xs_value_t *id = xs_test_xapisim_control (self, "add_fault", call);
    xs_value_destroy (&id);
}

void
xs_test_xapisim_clear_faults (xs_test_xapisim_t *self)
{
    xs_value_t *none = xs_test_xapisim_control (self, "clear_faults", NULL);
    xs_value_destroy (&none);
}

json_t *
xs_test_xapisim_dump (xs_test_xapisim_t *self)
{
    xs_value_t *text = xs_test_xapisim_control (self, "dump", NULL);
    assert_non_null (xs_value_str (text));
    json_t *dump = json_loads (xs_value_str (text), 0, NULL);
    assert_non_null (dump);
    xs_value_destroy (&text);
    return dump;
}

json_t *
xs_test_xapisim_vdi_of (json_t *dump, const char *volume_uuid)
{
    size_t p, v;
    json_t *pool, *vdi;
    json_array_foreach (json_object_get (dump, "pools"), p, pool)
        json_array_foreach (json_object_get (pool, "VDIs"), v, vdi) {
            const char *tag = json_string_value (json_object_get (
                json_object_get (vdi, "other_config"), "xensm-volume"));
            if (tag && strcmp (tag, volume_uuid) == 0)
                return vdi;
        }
    return NULL;
}
