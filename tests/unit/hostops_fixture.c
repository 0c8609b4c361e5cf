/*  hostops_fixture: see hostops_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hostops_fixture.h"
#include "tests/support/xs_test_proc.h"

xs_test_xapisim_t *hx_sim;


int
hx_group_setup (void **state)
{
    /* Real iscsi SRs hand out LUNs, not VDIs named after the volume (see
       tests/xapisim/README.md): the refused-clone test declares an iscsi
       whose VDIs are files, as tests/integration/test_plugin.py does. */
    static char config [] = "/tmp/xs-test-hostops-XXXXXX.json";
    int fd = mkstemps (config, 5);
    if (fd < 0)
        return -1;
    static const char text [] = "{\"drivers\": {\"iscsi\": {\"vdis\": \"file\"}}}";
    bool written = write (fd, text, sizeof text - 1) == (ssize_t) sizeof text - 1;
    close (fd);
    const char *const args [] = { "--pool", "p1:xs01,xs02", "--user", "root:",
                                  "--config", config, NULL };
    hx_sim = written ? xs_test_xapisim_start (args) : NULL;
    unlink (config);
    return hx_sim ? 0 : -1;
}

int
hx_group_teardown (void **state)
{
    xs_test_xapisim_stop (&hx_sim);
    xs_test_proc_stop_all ();
    return 0;
}

int
hx_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    xs_err_t err;
    f->client = xs_xenapi_new (xs_test_xapisim_unix_url (hx_sim, 0), &err);
    assert_non_null (f->client);
    if (xs_xenapi_login (f->client, "root", "", &err))
        fail_msg ("login: %s", err.msg);
    f->ops = xs_hostops_new (f->client);
    xs_test_xapisim_clear_faults (hx_sim);
    *state = f;
    return 0;
}

int
hx_teardown (void **state)
{
    fixture_t *f = *state;
    xs_hostops_destroy (&f->ops);
    xs_hostops_destroy (&f->ops);       /* idempotent */
    xs_xenapi_destroy (&f->client);
    free (f);
    return 0;
}

const char *
hx_str (const json_t *json, const char *key)
{
    return json_string_value (json_object_get (json, key));
}

bool
hx_bool (const json_t *json, const char *key)
{
    return json_is_true (json_object_get (json, key));
}

/* A new SR of `type` made by sr_attach; its uuid in uuid (>= 64 bytes). */
void
hx_new_sr (fixture_t *f, const char *type, json_t *device_config, char *uuid)
{
    xs_hostops_sr_spec_t spec = { .type = type, .name_label = "test SR",
                                  .device_config = device_config };
    xs_err_t err;
    json_t *sr = xs_hostops_sr_attach (f->ops, &spec, &err);
    if (!sr)
        fail_msg ("sr_attach: %s", err.msg);
    assert_true (hx_bool (sr, "created"));
    assert_string_equal (hx_str (sr, "origin"), "created");
    assert_true (hx_bool (sr, "xensm_owned"));
    snprintf (uuid, 64, "%s", hx_str (sr, "sr_uuid"));
    json_decref (sr);
    json_decref (device_config);
}

json_t *
hx_nfs_config (const char *path)
{
    return json_pack ("{s:s, s:s}", "server", "filer", "serverpath", path);
}

/* True when the JSON array `list` holds the string `item`. */
bool
hx_has (const json_t *list, const char *item)
{
    size_t i;
    json_t *v;
    json_array_foreach (list, i, v)
        if (json_is_string (v) && strcmp (json_string_value (v), item) == 0)
            return true;
    return false;
}
