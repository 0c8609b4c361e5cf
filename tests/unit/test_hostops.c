/*  Unit tests of xs_hostops against a real peer: the xapi simulator
    (tests/xapisim, started by the test), one pool of two hosts. Every
    operation, its idempotence, its refusals and the XenAPI error it keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/xs_log.h"
#include "host/xs_hostops.h"
#include "tests/support/xs_test_proc.h"
#include "tests/support/xs_test_xapisim.h"

#define GIB (INT64_C (1) << 30)
#define VOL_A "0a000000-0000-4000-8000-00000000000a"
#define VOL_B "0b000000-0000-4000-8000-00000000000b"
#define VOL_C "0c000000-0000-4000-8000-00000000000c"
#define VOL_D "0d000000-0000-4000-8000-00000000000d"
#define VOL_E "0e000000-0000-4000-8000-00000000000e"
#define VOL_F "0f000000-0000-4000-8000-00000000000f"
#define VOL_G "01000000-0000-4000-8000-000000000010"

static xs_test_xapisim_t *s_sim;

typedef struct {
    xs_xenapi_t *client;
    xs_hostops_t *ops;
} fixture_t;

static int
s_group_setup (void **state)
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
    s_sim = written ? xs_test_xapisim_start (args) : NULL;
    unlink (config);
    return s_sim ? 0 : -1;
}

static int
s_group_teardown (void **state)
{
    xs_test_xapisim_stop (&s_sim);
    xs_test_proc_stop_all ();
    return 0;
}

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    xs_err_t err;
    f->client = xs_xenapi_new (xs_test_xapisim_unix_url (s_sim, 0), &err);
    assert_non_null (f->client);
    if (xs_xenapi_login (f->client, "root", "", &err))
        fail_msg ("login: %s", err.msg);
    f->ops = xs_hostops_new (f->client);
    xs_test_xapisim_clear_faults (s_sim);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    xs_hostops_destroy (&f->ops);
    xs_hostops_destroy (&f->ops);       /* idempotent */
    xs_xenapi_destroy (&f->client);
    free (f);
    return 0;
}

static const char *
s_str (const json_t *json, const char *key)
{
    return json_string_value (json_object_get (json, key));
}

static bool
s_bool (const json_t *json, const char *key)
{
    return json_is_true (json_object_get (json, key));
}

/* A new SR of `type` made by sr_attach; its uuid in uuid (>= 64 bytes). */
static void
s_new_sr (fixture_t *f, const char *type, json_t *device_config, char *uuid)
{
    xs_hostops_sr_spec_t spec = { .type = type, .name_label = "test SR",
                                  .device_config = device_config };
    xs_err_t err;
    json_t *sr = xs_hostops_sr_attach (f->ops, &spec, &err);
    if (!sr)
        fail_msg ("sr_attach: %s", err.msg);
    assert_true (s_bool (sr, "created"));
    assert_string_equal (s_str (sr, "origin"), "created");
    assert_true (s_bool (sr, "xensm_owned"));
    snprintf (uuid, 64, "%s", s_str (sr, "sr_uuid"));
    json_decref (sr);
    json_decref (device_config);
}

static json_t *
s_nfs_config (const char *path)
{
    return json_pack ("{s:s, s:s}", "server", "filer", "serverpath", path);
}

/* True when the JSON array `list` holds the string `item`. */
static bool
s_has (const json_t *list, const char *item)
{
    size_t i;
    json_t *v;
    json_array_foreach (list, i, v)
        if (json_is_string (v) && strcmp (json_string_value (v), item) == 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------------
   host_info
   --------------------------------------------------------------------- */

static void
test_host_info_names_this_host_and_its_master (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    /* No host uuid: the session's host, here the master. */
    json_t *info = xs_hostops_host_info (f->ops, &err);
    assert_non_null (info);
    assert_string_equal (s_str (info, "uuid"), xs_test_xapisim_host_uuid (s_sim, 0));
    assert_string_equal (s_str (info, "name_label"), xs_test_xapisim_host_name (s_sim, 0));
    assert_true (s_bool (info, "is_pool_master"));
    assert_string_equal (s_str (info, "pool_master_uuid"), xs_test_xapisim_host_uuid (s_sim, 0));
    /* The pool's SM drivers and what each can do (issue 11: SR types the
       pool really has): no netapp driver; hba (LUN per VDI: its "VDI_CREATE"
       hands out an existing LUN, hence lun_per_vdi in sr_stats) cannot clone. */
    json_t *drivers = json_object_get (info, "sm_drivers");
    assert_true (json_is_object (drivers));
    assert_true (s_has (json_object_get (drivers, "nfs"), "VDI_CREATE"));
    assert_true (json_is_array (json_object_get (drivers, "hba")));
    assert_true (s_has (json_object_get (drivers, "hba"), "VDI_DELETE"));
    assert_false (s_has (json_object_get (drivers, "hba"), "VDI_CLONE"));
    assert_null (json_object_get (drivers, "netapp"));
    json_decref (info);

    /* A member named by uuid (what the agent does from the inventory). */
    xs_hostops_set_host_uuid (f->ops, xs_test_xapisim_host_uuid (s_sim, 1));
    info = xs_hostops_host_info (f->ops, &err);
    assert_non_null (info);
    assert_string_equal (s_str (info, "uuid"), xs_test_xapisim_host_uuid (s_sim, 1));
    assert_false (s_bool (info, "is_pool_master"));
    assert_string_equal (s_str (info, "pool_master_uuid"), xs_test_xapisim_host_uuid (s_sim, 0));
    json_decref (info);

    /* An unknown host uuid is xapi's UUID_INVALID, kept. */
    xs_hostops_set_host_uuid (f->ops, VOL_F);
    assert_null (xs_hostops_host_info (f->ops, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_non_null (strstr (err.msg, "this host: host.get_by_uuid failed: UUID_INVALID"));
    assert_string_equal (xs_hostops_error_code (f->ops), "UUID_INVALID");
}

/* ---------------------------------------------------------------------
   SRs
   --------------------------------------------------------------------- */

static void
test_sr_create_attach_stats_detach (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char uuid [64];
    s_new_sr (f, "nfs", s_nfs_config ("/sr/one"), uuid);

    /* The member attaches it: the shared SR already has its plugged PBD. */
    xs_hostops_set_host_uuid (f->ops, xs_test_xapisim_host_uuid (s_sim, 1));
    xs_hostops_sr_spec_t spec = { .sr_uuid = uuid, .type = "nfs",
                                  .device_config = NULL };
    json_t *sr = xs_hostops_sr_attach (f->ops, &spec, &err);
    if (!sr)
        fail_msg ("sr_attach: %s", err.msg);
    assert_string_equal (s_str (sr, "sr_uuid"), uuid);
    assert_true (s_bool (sr, "shared"));
    assert_false (s_bool (sr, "created") || s_bool (sr, "introduced")
                  || s_bool (sr, "pbd_created") || s_bool (sr, "plugged"));
    json_decref (sr);

    json_t *stats = xs_hostops_sr_stats (f->ops, uuid, &err);
    assert_non_null (stats);
    assert_string_equal (s_str (stats, "type"), "nfs");
    assert_string_equal (s_str (stats, "name_label"), "test SR");
    assert_true (json_integer_value (json_object_get (stats, "physical_size")) > 0);
    assert_int_equal (json_integer_value (json_object_get (stats, "virtual_allocation")), 0);
    json_t *caps = json_object_get (stats, "capabilities");
    bool has_create = false;
    size_t i;
    json_t *cap;
    json_array_foreach (caps, i, cap)
        has_create |= strcmp (json_string_value (cap), "VDI_CREATE") == 0;
    assert_true (has_create);
    assert_false (s_bool (stats, "lun_per_vdi"));
    assert_true (json_is_false (json_object_get (stats, "lun_per_vdi")));
    json_decref (stats);

    /* Detach unplugs both hosts' PBDs and forgets; a second time is a no-op. */
    json_t *gone = xs_hostops_sr_detach (f->ops, uuid, &err);
    assert_non_null (gone);
    assert_true (s_bool (gone, "forgotten"));
    assert_int_equal (json_integer_value (json_object_get (gone, "unplugged")), 2);
    json_decref (gone);
    gone = xs_hostops_sr_detach (f->ops, uuid, &err);
    assert_non_null (gone);
    assert_false (s_bool (gone, "forgotten"));
    json_decref (gone);
    assert_null (xs_hostops_sr_stats (f->ops, uuid, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
}

static void
test_sr_introduce_makes_and_plugs_the_pbd (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    /* Storage xapi has no record of (an SR forgotten elsewhere). */
    xs_value_t *storage = xs_value_struct_new ();
    xs_value_set_str (storage, "type", "nfs");
    xs_value_t *config = xs_value_struct_new ();
    xs_value_set_str (config, "server", "filer");
    xs_value_set_str (config, "serverpath", "/sr/old");
    xs_value_set (storage, "device_config", &config);
    xs_value_t *params = xs_value_array_new ();
    xs_value_append (params, &storage);
    xs_value_t *made = xs_test_xapisim_control (s_sim, "add_storage", params);
    char uuid [64];
    snprintf (uuid, sizeof uuid, "%s", xs_value_str (made));
    xs_value_destroy (&made);

    json_t *device_config = s_nfs_config ("/sr/old");
    xs_hostops_sr_spec_t spec = { .sr_uuid = uuid, .type = "nfs", .name_label = "old",
                                  .device_config = device_config };
    json_t *sr = xs_hostops_sr_attach (f->ops, &spec, &err);
    if (!sr)
        fail_msg ("sr_attach: %s", err.msg);
    assert_true (s_bool (sr, "introduced"));
    assert_string_equal (s_str (sr, "origin"), "introduced");
    assert_true (s_bool (sr, "xensm_owned"));
    assert_true (s_bool (sr, "pbd_created"));
    assert_true (s_bool (sr, "plugged"));
    assert_false (s_bool (sr, "created"));
    json_decref (sr);
    /* Again: everything is there already. */
    sr = xs_hostops_sr_attach (f->ops, &spec, &err);
    assert_non_null (sr);
    assert_false (s_bool (sr, "introduced") || s_bool (sr, "pbd_created")
                  || s_bool (sr, "plugged"));
    json_decref (sr);
    json_decref (device_config);
}

static void
test_sr_attach_refusals (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    xs_hostops_sr_spec_t spec = { .type = "floppy" };
    assert_null (xs_hostops_sr_attach (f->ops, &spec, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "new floppy SR: SR type 'floppy' unknown (known types: "));
    assert_null (xs_hostops_sr_attach (f->ops, NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);

    json_t *bad = json_pack ("{s:s, s:i}", "server", "filer", "serverpath", 7);
    spec = (xs_hostops_sr_spec_t) { .type = "nfs", .device_config = bad };
    assert_null (xs_hostops_sr_attach (f->ops, &spec, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_non_null (strstr (err.msg, "new nfs SR: device_config: value of key 'serverpath'"));
    json_decref (bad);

    /* xapi's own refusal (the NFS driver wants serverpath), kept. */
    json_t *partial = json_pack ("{s:s}", "server", "filer");
    spec.device_config = partial;
    assert_null (xs_hostops_sr_attach (f->ops, &spec, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_non_null (strstr (err.msg, "new nfs SR: SR.create failed: SR_BACKEND_FAILURE_101"));
    assert_string_equal (xs_hostops_error_code (f->ops), "SR_BACKEND_FAILURE_101");
    assert_int_equal (xs_value_size (xs_hostops_error_params (f->ops)), 3);
    json_decref (partial);
}

/* ---------------------------------------------------------------------
   SR ownership (issue 11: never destroy records the pool had before xensm)
   --------------------------------------------------------------------- */

/* Calls `method` (ref[, a]) through the fixture's client; the reply. */
static xs_value_t *
s_xapi (fixture_t *f, const char *method, const char *ref, const char *a)
{
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, ref);
    if (a)
        xs_value_append_str (params, a);
    xs_err_t err;
    xs_value_t *reply = xs_xenapi_call (f->client, method, params, &err);
    xs_value_destroy (&params);
    if (!reply)
        fail_msg ("%s: %s", method, err.msg);
    return reply;
}

/* The number of plugged PBDs of SR `uuid` (-1: xapi does not know it). */
static int
s_plugged_pbds (fixture_t *f, const char *uuid)
{
    xs_err_t err;
    char *sr = xs_xenapi_sr_get_by_uuid (f->client, uuid, &err);
    if (!sr)
        return -1;
    xs_value_t *pbds = xs_xenapi_sr_get_PBDs (f->client, sr, &err);
    assert_non_null (pbds);
    int plugged = 0;
    for (size_t i = 0; i < xs_value_size (pbds); i++) {
        xs_value_t *on = s_xapi (f, "PBD.get_currently_attached",
                                 xs_value_str (xs_value_at (pbds, i)), NULL);
        plugged += xs_value_bool (on);
        xs_value_destroy (&on);
    }
    xs_value_destroy (&pbds);
    free (sr);
    return plugged;
}

static void
test_sr_the_pool_had_is_never_forgotten (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    /* The pool's own shared SR, made before xensm (both PBDs plugged), with
       a VM's disk on it. */
    char *host = xs_xenapi_session_get_this_host (f->client, &err);
    xs_value_t *config = xs_value_struct_new ();
    xs_value_set_str (config, "server", "filer");
    xs_value_set_str (config, "serverpath", "/sr/pools");
    xs_xenapi_sr_args_t args = { .host = host, .device_config = config, .name_label = "VMs",
                                 .type = "nfs", .content_type = "user", .shared = true };
    char *sr = xs_xenapi_sr_create (f->client, &args, &err);
    if (!sr)
        fail_msg ("SR.create: %s", err.msg);
    xs_value_t *uuid_v = s_xapi (f, "SR.get_uuid", sr, NULL);
    char uuid [64];
    snprintf (uuid, sizeof uuid, "%s", xs_value_str (uuid_v));
    xs_value_destroy (&uuid_v);
    xs_xenapi_vdi_args_t vdi_args = { .sr = sr, .name_label = "vm disk", .virtual_size = GIB };
    char *vdi = xs_xenapi_vdi_create (f->client, &vdi_args, &err);
    assert_non_null (vdi);

    /* xensm attaches it: found, not xensm's. */
    xs_hostops_sr_spec_t spec = { .sr_uuid = uuid, .type = "nfs" };
    json_t *got = xs_hostops_sr_attach (f->ops, &spec, &err);
    if (!got)
        fail_msg ("sr_attach: %s", err.msg);
    assert_string_equal (s_str (got, "origin"), "found");
    assert_false (s_bool (got, "xensm_owned"));
    json_decref (got);

    /* Detach keeps it: not forgotten, no PBD unplugged, the VDI's record
       still there. */
    got = xs_hostops_sr_detach (f->ops, uuid, &err);
    if (!got)
        fail_msg ("sr_detach: %s", err.msg);
    assert_false (s_bool (got, "forgotten"));
    assert_false (s_bool (got, "xensm_owned"));
    assert_int_equal (json_integer_value (json_object_get (got, "unplugged")), 0);
    assert_non_null (strstr (s_str (got, "kept"), "before xensm"));
    json_decref (got);
    assert_int_equal (s_plugged_pbds (f, uuid), 2);
    xs_value_t *label = s_xapi (f, "VDI.get_name_label", vdi, NULL);
    assert_string_equal (xs_value_str (label), "vm disk");
    xs_value_destroy (&label);

    free (vdi);
    free (sr);
    free (host);
    xs_value_destroy (&config);
}

static void
test_sr_detach_refuses_foreign_vdis_and_disks_in_use (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char uuid [64];
    s_new_sr (f, "nfs", s_nfs_config ("/sr/owned"), uuid);

    /* Someone else's VDI on xensm's SR: SR.forget would delete its record. */
    char *sr = xs_xenapi_sr_get_by_uuid (f->client, uuid, &err);
    xs_xenapi_vdi_args_t vdi_args = { .sr = sr, .name_label = "not ours", .virtual_size = GIB };
    char *foreign = xs_xenapi_vdi_create (f->client, &vdi_args, &err);
    assert_non_null (foreign);
    assert_null (xs_hostops_sr_detach (f->ops, uuid, &err));
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_non_null (strstr (err.msg, "does not own"));
    assert_string_equal (xs_hostops_error_code (f->ops), "XENSM_SR_IN_USE");
    const xs_value_t *params = xs_hostops_error_params (f->ops);
    assert_string_equal (xs_value_str (xs_value_at (params, 0)), uuid);
    assert_non_null (strstr (xs_value_str (xs_value_at (params, 1)), "not ours"));
    assert_int_equal (s_plugged_pbds (f, uuid), 2);
    assert_int_equal (xs_xenapi_vdi_destroy (f->client, foreign, &err), 0);

    /* A volume's VDI in use (an attached VBD): refused as well. */
    json_t *vdi = xs_hostops_vdi_create (f->ops, uuid, VOL_F, GIB, NULL, &err);
    assert_non_null (vdi);
    xs_value_t *cparams = xs_value_array_new ();
    xs_value_append_str (cparams, s_str (vdi, "vdi_uuid"));
    xs_value_t *vbd = xs_test_xapisim_control (s_sim, "attach_vdi", cparams);
    assert_null (xs_hostops_sr_detach (f->ops, uuid, &err));
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_non_null (strstr (err.msg, "in use"));
    assert_int_equal (s_plugged_pbds (f, uuid), 2);

    /* Released: detached and forgotten. */
    xs_value_t *r = s_xapi (f, "VBD.unplug", xs_value_str (vbd), NULL);
    xs_value_destroy (&r);
    r = s_xapi (f, "VBD.destroy", xs_value_str (vbd), NULL);
    xs_value_destroy (&r);
    json_t *gone = xs_hostops_sr_detach (f->ops, uuid, &err);
    if (!gone)
        fail_msg ("sr_detach: %s", err.msg);
    assert_true (s_bool (gone, "forgotten"));
    assert_true (s_bool (gone, "xensm_owned"));
    json_decref (gone);
    assert_int_equal (s_plugged_pbds (f, uuid), -1);

    xs_value_destroy (&vbd);
    json_decref (vdi);
    free (foreign);
    free (sr);
}

/* Agents of one pool racing on one backend (issue 11, audit P11): the
   other agent's SR.introduce between our SR.get_by_uuid and ours gives
   SR_UUID_EXISTS; its SR.forget before ours gives HANDLE_INVALID. Both are
   the expected outcome, not errors. */
static void
test_sr_races_with_another_agent (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char uuid [64];
    s_new_sr (f, "nfs", s_nfs_config ("/sr/race"), uuid);

    /* Our look-up ran before the other agent's introduce. */
    const char *const missing [] = { "SR", uuid, NULL };
    xs_test_xapisim_fail (s_sim, "SR.get_by_uuid", 1, false, "UUID_INVALID", missing);
    xs_hostops_sr_spec_t spec = { .sr_uuid = uuid, .type = "nfs" };
    json_t *got = xs_hostops_sr_attach (f->ops, &spec, &err);
    if (!got)
        fail_msg ("sr_attach after SR_UUID_EXISTS: %s", err.msg);
    assert_string_equal (s_str (got, "sr_uuid"), uuid);
    assert_string_equal (s_str (got, "origin"), "found");
    assert_true (s_bool (got, "xensm_owned"));
    json_decref (got);
    xs_test_xapisim_clear_faults (s_sim);

    /* The other agent forgot it first. */
    const char *const gone [] = { "SR", "OpaqueRef:gone", NULL };
    xs_test_xapisim_fail (s_sim, "SR.forget", 1, false, "HANDLE_INVALID", gone);
    got = xs_hostops_sr_detach (f->ops, uuid, &err);
    if (!got)
        fail_msg ("sr_detach after HANDLE_INVALID: %s", err.msg);
    assert_false (s_bool (got, "forgotten"));
    assert_null (xs_hostops_error_code (f->ops));
    json_decref (got);
    xs_test_xapisim_clear_faults (s_sim);
    got = xs_hostops_sr_detach (f->ops, uuid, &err);
    assert_non_null (got);
    json_decref (got);
}

/* A secret inside a xapi error text (the SM driver's stderr, third param
   of SR_BACKEND_FAILURE_*) never reaches the message that is logged and
   sent to the catalog (issue 11, D7); the params stay as xapi sent them. */
static void
test_secret_in_xapi_error_is_redacted (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, "iscsiadm --chappassword=hunter2 failed; secret: s3cr3t");
    xs_value_append_str (params, "lvmoiscsi");
    xs_value_t *r = xs_test_xapisim_control (s_sim, "set_driver_stderr", params);
    xs_value_destroy (&r);
    json_t *config = json_pack ("{s:s, s:s, s:s, s:s}", "target", "t", "targetIQN", "iqn",
                                "chapuser", "u", "chappassword", "hunter2");
    xs_hostops_sr_spec_t spec = { .type = "lvmoiscsi", .device_config = config };
    assert_null (xs_hostops_sr_attach (f->ops, &spec, &err));
    params = xs_value_array_new ();
    xs_value_append_str (params, "");
    xs_value_append_str (params, "lvmoiscsi");
    r = xs_test_xapisim_control (s_sim, "set_driver_stderr", params);
    xs_value_destroy (&r);
    assert_int_equal (err.kind, XS_EXAPI);
    assert_non_null (strstr (err.msg, "SR_BACKEND_FAILURE_"));
    assert_null (strstr (err.msg, "hunter2"));
    assert_null (strstr (err.msg, "s3cr3t"));
    assert_non_null (strstr (err.msg, "--chappassword=******"));
    json_decref (config);
}

/* sim.counts: {method: calls} (new JSON object). */
static json_t *
s_counts (void)
{
    xs_value_t *text = xs_test_xapisim_control (s_sim, "counts", NULL);
    json_t *counts = json_loads (xs_value_str (text), 0, NULL);
    xs_value_destroy (&text);
    assert_non_null (counts);
    return counts;
}

/* Calls made between two sim.counts: of `method`, or of all when NULL. */
static int
s_calls (const json_t *before, const json_t *after, const char *method)
{
    int n = 0;
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) after, key, value)
        if (!method || strcmp (key, method) == 0)
            n += (int) (json_integer_value (value)
                        - json_integer_value (json_object_get (before, key)));
    return n;
}

/* Every agent's calls land on the pool master (issue 11, audit P12): SR
   stats do not read SM.get_all_records on every refresh, and a volume
   create costs a bounded number of calls (bench/results.md keeps the row). */
static void
test_calls_per_create_and_per_refresh (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char sr [64];
    s_new_sr (f, "nfs", s_nfs_config ("/sr/calls"), sr);
    json_t *before = s_counts ();
    for (int i = 0; i < 5; i++) {
        json_t *stats = xs_hostops_sr_stats (f->ops, sr, &err);
        assert_non_null (stats);
        json_decref (stats);
    }
    json_t *after = s_counts ();
    /* One call per refresh (SR.get_record): the SR's ref is looked up by
       the first only, then remembered. */
    assert_int_equal (s_calls (before, after, "SM.get_all_records"), 1);
    assert_int_equal (s_calls (before, after, "SR.get_by_uuid"), 1);
    assert_int_equal (s_calls (before, after, NULL), 5 * 1 + 1 + 1);
    json_decref (before);
    json_decref (after);

    before = s_counts ();
    json_t *vdi = xs_hostops_vdi_create (f->ops, sr, VOL_G, GIB, NULL, &err);
    assert_non_null (vdi);
    after = s_counts ();
    const char *key;
    json_t *value;
    json_object_foreach (after, key, value)
        if (s_calls (before, after, key))
            print_message ("  %s %d\n", key, s_calls (before, after, key));
    /* Issue 11: at most 3 calls besides the task's follow-up (task.*,
       event.from); the VDI.create itself runs as a task. */
    int follow = s_calls (before, after, "event.from");
    json_object_foreach (after, key, value)
        if (strncmp (key, "task.", 5) == 0)
            follow += s_calls (before, after, key);
    int per_create = s_calls (before, after, NULL) - follow;
    print_message ("xapi calls per volume create: %d (+ %d following the task)\n", per_create,
                   follow);
    assert_int_equal (s_calls (before, after, "Async.VDI.create"), 1);
    assert_true (per_create <= 3);
    json_decref (before);
    json_decref (after);
    json_decref (vdi);
    json_t *gone = xs_hostops_vdi_destroy (f->ops, VOL_G, sr, &err);
    json_decref (gone);
}

/* ---------------------------------------------------------------------
   VDIs
   --------------------------------------------------------------------- */

static void
test_vdi_life_cycle_is_repeatable (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char sr [64];
    s_new_sr (f, "nfs", s_nfs_config ("/sr/vdis"), sr);

    json_t *vdi = xs_hostops_vdi_create (f->ops, sr, VOL_A, GIB, "data", &err);
    if (!vdi)
        fail_msg ("vdi_create: %s", err.msg);
    assert_true (s_bool (vdi, "created"));
    assert_string_equal (s_str (vdi, "volume_uuid"), VOL_A);
    assert_string_equal (s_str (vdi, "sr_uuid"), sr);
    assert_int_equal (json_integer_value (json_object_get (vdi, "size")), GIB);
    char vdi_uuid [64];
    snprintf (vdi_uuid, sizeof vdi_uuid, "%s", s_str (vdi, "vdi_uuid"));
    json_decref (vdi);
    /* As xapi holds it: named for the volume, tagged, described. */
    json_t *dump = xs_test_xapisim_dump (s_sim);
    json_t *record = xs_test_xapisim_vdi_of (dump, VOL_A);
    assert_non_null (record);
    assert_string_equal (s_str (record, "name_label"), "xensm-" VOL_A);
    assert_string_equal (s_str (record, "name_description"), "data");
    json_decref (dump);

    /* Repeated: the same VDI, not a second one. */
    vdi = xs_hostops_vdi_create (f->ops, sr, VOL_A, GIB, "data", &err);
    assert_non_null (vdi);
    assert_false (s_bool (vdi, "created"));
    assert_string_equal (s_str (vdi, "vdi_uuid"), vdi_uuid);
    json_decref (vdi);
    vdi = xs_hostops_vdi_find (f->ops, VOL_A, sr, &err);
    assert_non_null (vdi);
    assert_string_equal (s_str (vdi, "vdi_uuid"), vdi_uuid);
    assert_false (s_bool (vdi, "is_a_snapshot"));
    json_decref (vdi);

    /* Snapshot and clone, each repeatable. */
    for (int round = 0; round < 2; round++) {
        json_t *snap = xs_hostops_vdi_snapshot (f->ops, VOL_A, VOL_B, sr, &err);
        if (!snap)
            fail_msg ("vdi_snapshot: %s", err.msg);
        assert_true (s_bool (snap, "created") == (round == 0));
        assert_true (s_bool (snap, "snapshot"));
        assert_true (s_bool (snap, "is_a_snapshot"));
        assert_string_equal (s_str (snap, "parent_volume_uuid"), VOL_A);
        assert_string_equal (s_str (snap, "volume_uuid"), VOL_B);
        json_decref (snap);
        json_t *clone = xs_hostops_vdi_clone (f->ops, VOL_B, VOL_C, NULL, &err);
        if (!clone)
            fail_msg ("vdi_clone: %s", err.msg);
        assert_true (s_bool (clone, "created") == (round == 0));
        assert_false (s_bool (clone, "snapshot"));
        json_decref (clone);
    }
    /* The snapshot is its own volume's VDI now, not its parent's. */
    vdi = xs_hostops_vdi_find (f->ops, VOL_A, NULL, &err);
    assert_string_equal (s_str (vdi, "vdi_uuid"), vdi_uuid);
    json_decref (vdi);

    /* Destroyed once; destroying again finds nothing to do. */
    const char *volumes [] = { VOL_C, VOL_B, VOL_A };
    for (int i = 0; i < 3; i++) {
        json_t *gone = xs_hostops_vdi_destroy (f->ops, volumes [i], sr, &err);
        assert_non_null (gone);
        assert_int_equal (json_integer_value (json_object_get (gone, "destroyed")), 1);
        json_decref (gone);
        gone = xs_hostops_vdi_destroy (f->ops, volumes [i], NULL, &err);
        assert_non_null (gone);
        assert_int_equal (json_integer_value (json_object_get (gone, "destroyed")), 0);
        json_decref (gone);
    }
    assert_null (xs_hostops_vdi_find (f->ops, VOL_A, sr, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    char expect [200];
    snprintf (expect, sizeof expect, "volume " VOL_A ": no VDI found in SR %s", sr);
    assert_string_equal (err.msg, expect);
}

static void
test_vdi_refusals (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char sr [64], other [64];
    s_new_sr (f, "nfs", s_nfs_config ("/sr/r1"), sr);
    s_new_sr (f, "nfs", s_nfs_config ("/sr/r2"), other);

    assert_null (xs_hostops_vdi_create (f->ops, sr, VOL_D, 0, NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_string_equal (err.msg, "volume " VOL_D ": size 0 is not a positive number of bytes");
    /* Default description. */
    json_t *vdi = xs_hostops_vdi_create (f->ops, sr, VOL_D, GIB, NULL, &err);
    assert_non_null (vdi);
    json_decref (vdi);
    json_t *dump = xs_test_xapisim_dump (s_sim);
    assert_string_equal (s_str (xs_test_xapisim_vdi_of (dump, VOL_D), "name_description"),
                         "xensm volume " VOL_D);
    json_decref (dump);
    /* The volume has its VDI in another SR. */
    assert_null (xs_hostops_vdi_create (f->ops, other, VOL_D, GIB, NULL, &err));
    assert_int_equal (err.kind, XS_ECONFLICT);
    assert_non_null (strstr (err.msg, "in another SR than"));
    /* A copy needs a new uuid; a missing parent is not found. */
    assert_null (xs_hostops_vdi_clone (f->ops, VOL_D, VOL_D, NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_null (xs_hostops_vdi_snapshot (f->ops, VOL_F, VOL_E, NULL, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    assert_non_null (strstr (err.msg, "(cannot snapshot it)"));
    /* An unknown SR: not found for find, nothing to destroy for destroy. */
    assert_null (xs_hostops_vdi_find (f->ops, VOL_D, VOL_F, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    json_t *gone = xs_hostops_vdi_destroy (f->ops, VOL_D, VOL_F, &err);
    assert_non_null (gone);
    assert_int_equal (json_integer_value (json_object_get (gone, "destroyed")), 0);
    json_decref (gone);
    gone = xs_hostops_vdi_destroy (f->ops, VOL_D, sr, &err);
    json_decref (gone);
}

/* An SR type without VDI_CLONE: refused as xapi would, with its code. */
static void
test_copy_without_capability_is_refused_with_xapis_code (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char sr [64];
    s_new_sr (f, "iscsi", json_pack ("{s:s, s:s}", "target", "t", "targetIQN", "iqn"), sr);
    json_t *stats = xs_hostops_sr_stats (f->ops, sr, &err);
    assert_non_null (stats);
    assert_true (s_bool (stats, "lun_per_vdi"));        /* RawISCSISR */
    json_decref (stats);
    json_t *vdi = xs_hostops_vdi_create (f->ops, sr, VOL_E, GIB, NULL, &err);
    if (!vdi)
        fail_msg ("vdi_create: %s", err.msg);
    json_decref (vdi);
    assert_null (xs_hostops_vdi_clone (f->ops, VOL_E, VOL_F, sr, &err));
    assert_int_equal (err.kind, XS_ECONFLICT);
    char expect [300];
    snprintf (expect, sizeof expect,
              "volume " VOL_F ": cannot clone volume " VOL_E ": SR %s (type iscsi) does not "
              "support VDI_CLONE", sr);
    assert_string_equal (err.msg, expect);
    assert_string_equal (xs_hostops_error_code (f->ops), "SR_OPERATION_NOT_SUPPORTED");
    const xs_value_t *params = xs_hostops_error_params (f->ops);
    assert_int_equal (xs_value_size (params), 2);
    assert_string_equal (xs_value_str (xs_value_at (params, 0)), sr);
    assert_string_equal (xs_value_str (xs_value_at (params, 1)), "VDI_CLONE");
    json_t *gone = xs_hostops_vdi_destroy (f->ops, VOL_E, sr, &err);
    json_decref (gone);
}

/* vdi_resize grows the volume's VDI, repeats as a no-op, refuses on an SR
   type without VDI_RESIZE with xapi's code, and never touches a VDI that
   is not tagged as the volume's. */
static void
test_vdi_resize (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char sr [64], lun_sr [64];
    s_new_sr (f, "nfs", s_nfs_config ("/sr/resize"), sr);
    json_t *vdi = xs_hostops_vdi_create (f->ops, sr, VOL_A, GIB, NULL, &err);
    assert_non_null (vdi);
    json_decref (vdi);
    json_t *r = xs_hostops_vdi_resize (f->ops, VOL_A, 3 * GIB, NULL, &err);
    if (!r)
        fail_msg ("vdi_resize: %s", err.msg);
    assert_int_equal (json_integer_value (json_object_get (r, "virtual_size")), 3 * GIB);
    assert_int_equal (json_integer_value (json_object_get (r, "previous_size")), GIB);
    assert_true (json_is_true (json_object_get (r, "resized")));
    assert_string_equal (json_string_value (json_object_get (r, "sr_uuid")), sr);
    json_decref (r);
    /* Repeated, or asked smaller: left as it is (xapi never shrinks). */
    r = xs_hostops_vdi_resize (f->ops, VOL_A, 2 * GIB, sr, &err);
    assert_non_null (r);
    assert_false (json_is_true (json_object_get (r, "resized")));
    assert_int_equal (json_integer_value (json_object_get (r, "virtual_size")), 3 * GIB);
    json_decref (r);
    /* Bad size; a volume without a VDI. */
    assert_null (xs_hostops_vdi_resize (f->ops, VOL_A, 0, NULL, &err));
    assert_int_equal (err.kind, XS_EINVAL);
    assert_null (xs_hostops_vdi_resize (f->ops, VOL_B, GIB, NULL, &err));
    assert_int_equal (err.kind, XS_ENOTFOUND);
    /* xapi's failure is kept (no space left). */
    static const char *const params [] = { "", "There is insufficient space", "", NULL };
    xs_test_xapisim_fail (s_sim, "VDI.resize", 1, false, "SR_BACKEND_FAILURE_44", params);
    assert_null (xs_hostops_vdi_resize (f->ops, VOL_A, 4 * GIB, NULL, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (err.msg, "volume " VOL_A ": VDI.resize failed: SR_BACKEND_FAILURE_44 "
                                  "[, There is insufficient space, ]");
    assert_string_equal (xs_hostops_error_code (f->ops), "SR_BACKEND_FAILURE_44");
    /* A LUN-per-VDI SR has no VDI_RESIZE: refused before xapi is asked. */
    s_new_sr (f, "iscsi", json_pack ("{s:s, s:s}", "target", "t", "targetIQN", "iqn.rs"), lun_sr);
    vdi = xs_hostops_vdi_create (f->ops, lun_sr, VOL_C, GIB, NULL, &err);
    if (!vdi)
        fail_msg ("vdi_create: %s", err.msg);
    json_decref (vdi);
    assert_null (xs_hostops_vdi_resize (f->ops, VOL_C, 2 * GIB, NULL, &err));
    assert_int_equal (err.kind, XS_ECONFLICT);
    char expect [300];
    snprintf (expect, sizeof expect, "volume " VOL_C ": cannot extend: SR %s (type iscsi) does "
              "not support VDI_RESIZE", lun_sr);
    assert_string_equal (err.msg, expect);
    assert_string_equal (xs_hostops_error_code (f->ops), "SR_OPERATION_NOT_SUPPORTED");
    const xs_value_t *p = xs_hostops_error_params (f->ops);
    assert_string_equal (xs_value_str (xs_value_at (p, 0)), lun_sr);
    assert_string_equal (xs_value_str (xs_value_at (p, 1)), "VDI_RESIZE");
    json_decref (xs_hostops_vdi_destroy (f->ops, VOL_C, NULL, &err));
    json_decref (xs_hostops_vdi_destroy (f->ops, VOL_A, NULL, &err));
}

/* A XenAPI failure keeps its code and params until the next operation. */
static void
test_xapi_failure_is_kept_until_the_next_operation (void **state)
{
    fixture_t *f = *state;
    xs_err_t err;
    char sr [64];
    s_new_sr (f, "nfs", s_nfs_config ("/sr/full"), sr);
    static const char *const params [] = { "", "There is insufficient space", "", NULL };
    xs_test_xapisim_fail (s_sim, "VDI.create", 1, false, "SR_BACKEND_FAILURE_44", params);
    assert_null (xs_hostops_vdi_create (f->ops, sr, VOL_F, GIB, NULL, &err));
    assert_int_equal (err.kind, XS_EXAPI);
    assert_string_equal (err.msg, "volume " VOL_F ": VDI.create failed: SR_BACKEND_FAILURE_44 "
                                  "[, There is insufficient space, ]");
    assert_string_equal (xs_hostops_error_code (f->ops), "SR_BACKEND_FAILURE_44");
    assert_string_equal (xs_value_str (xs_value_at (xs_hostops_error_params (f->ops), 1)),
                         "There is insufficient space");
    /* The next operation succeeds and forgets it. */
    json_t *vdi = xs_hostops_vdi_create (f->ops, sr, VOL_F, GIB, NULL, &err);
    assert_non_null (vdi);
    json_decref (vdi);
    assert_null (xs_hostops_error_code (f->ops));
    assert_null (xs_hostops_error_params (f->ops));
    json_t *gone = xs_hostops_vdi_destroy (f->ops, VOL_F, NULL, &err);
    json_decref (gone);
}

int
main (void)
{
    xs_log_init ("test_hostops", false, getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_host_info_names_this_host_and_its_master,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_sr_create_attach_stats_detach, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_sr_introduce_makes_and_plugs_the_pbd,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_sr_attach_refusals, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_sr_the_pool_had_is_never_forgotten, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_sr_detach_refuses_foreign_vdis_and_disks_in_use,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_sr_races_with_another_agent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_secret_in_xapi_error_is_redacted, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_calls_per_create_and_per_refresh, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_vdi_life_cycle_is_repeatable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_vdi_refusals, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_copy_without_capability_is_refused_with_xapis_code,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_vdi_resize, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_xapi_failure_is_kept_until_the_next_operation,
                                         s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
