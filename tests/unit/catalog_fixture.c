/*  catalog_fixture: the catalog's server classes on a loop, with real
    agents whose executor is scripted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "catalog_fixture.h"
#include "common/xs_cert.h"
#include "tests/support/xs_test_loop.h"

/* =========================================================================
    The scripted executor (shared by every agent; workers are threads)
   ========================================================================= */

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_sr_creates;            /* sr_attach with create: true */
static int s_vdi_creates;           /* vdi_create calls            */
static int s_vdi_destroys;
static int s_sr_detaches;
static zhashx_t *s_vdis;            /* volume uuid -> "1"          */
static zhashx_t *s_resumed;         /* volume uuids whose VDI call said resumed */

static json_t *
s_fake_run (void *ctx, xs_op_t op, const json_t *args, xs_err_t *err)
{
    const char *host = (const char *) ctx;
    json_t *out = NULL;
    pthread_mutex_lock (&s_lock);
    if (op == XS_OP_HOST_INFO) {
        /* The pool's SM drivers: a host named nonfs* has no nfs driver. */
        json_t *drivers = strncmp (host, "nonfs", 5) == 0
            ? json_pack ("{s:[s], s:[s]}", "ext", "VDI_CREATE", "lvm", "VDI_CREATE")
            : json_pack ("{s:[s, s, s, s], s:[s, s], s:[s]}",
                         "nfs", "VDI_CREATE", "VDI_DELETE", "VDI_CLONE", "VDI_SNAPSHOT",
                         "iscsi", "VDI_CREATE", "VDI_INTRODUCE", "ext", "VDI_CREATE");
        out = json_pack ("{s:s, s:s, s:o}", "uuid", host, "name_label", host,
                         "sm_drivers", drivers);
    }
    else
    if (op == XS_OP_SR_ATTACH) {
        json_t *b = json_object_get (args, "backend");
        const char *sr = json_string_value (json_object_get (b, "sr_uuid"));
        char made [128];
        if (!sr) {
            s_sr_creates++;
            snprintf (made, sizeof made, "sr-%s",
                      json_string_value (json_object_get (b, "name_label")));
            sr = made;
        }
        out = json_pack ("{s:s}", "sr_uuid", sr);
    }
    else
    if (op == XS_OP_SR_STATS) {
        const char *sr = json_string_value (json_object_get (args, "sr_uuid"));
        bool tiny = strstr (sr, "tiny") != NULL;
        bool nosnap = strstr (sr, "nosnap") != NULL;
        bool nocreate = strstr (sr, "nocreate") != NULL;
        out = json_pack ("{s:I, s:I, s:I, s:[s, s, s, s]}",
                         "physical_size", (json_int_t) (tiny ? 1048576 : 1099511627776LL),
                         "physical_utilisation", (json_int_t) 0, "virtual_allocation",
                         (json_int_t) 0, "capabilities", nocreate ? "VDI_ATTACH" : "VDI_CREATE",
                         "VDI_DELETE", "VDI_CLONE", nosnap ? "VDI_RESIZE" : "VDI_SNAPSHOT");
    }
    else
    if (op == XS_OP_VDI_CREATE || op == XS_OP_VDI_SNAPSHOT || op == XS_OP_VDI_CLONE) {
        const char *sr = json_string_value (json_object_get (args, "sr_uuid"));
        const char *vol = json_string_value (json_object_get (
            args, op == XS_OP_VDI_CREATE ? "volume_uuid" : "new_volume_uuid"));
        if (op == XS_OP_VDI_CREATE)
            s_vdi_creates++;
        if (vol && json_is_true (json_object_get (args, "resumed")))
            zhashx_update (s_resumed, vol, (void *) "1");
        if (strstr (sr, "fails"))
            xs_err_set (err, XS_EXAPI, "VDI.create: SR_BACKEND_FAILURE_78 [, VDI Creation failed, ]");
        else {
            zhashx_update (s_vdis, vol, (void *) "1");
            out = json_pack ("{s:s, s:s, s:s}", "vdi_uuid", vol, "sr_uuid", sr,
                             "volume_uuid", vol);
        }
    }
    else
    if (op == XS_OP_SR_DETACH) {
        s_sr_detaches++;
        out = json_pack ("{s:b}", "forgotten", 1);
    }
    else
    if (op == XS_OP_VDI_DESTROY) {
        s_vdi_destroys++;
        zhashx_delete (s_vdis, json_string_value (json_object_get (args, "volume_uuid")));
        out = json_pack ("{s:i}", "destroyed", 1);
    }
    else
    if (op == XS_OP_VDI_RESIZE) {
        /* "noresize" SRs lack VDI_RESIZE; the size comes back rounded up to
           4 KiB, as a driver may do. */
        const char *sr = json_string_value (json_object_get (args, "sr_uuid"));
        json_int_t size = json_integer_value (json_object_get (args, "size"));
        if (strstr (sr, "noresize"))
            xs_err_set (err, XS_ECONFLICT, "volume %s: cannot extend: SR %s (type nfs) does not "
                        "support VDI_RESIZE",
                        json_string_value (json_object_get (args, "volume_uuid")), sr);
        else
            out = json_pack ("{s:I, s:b}", "virtual_size", (size + 4095) / 4096 * 4096,
                             "resized", 1);
    }
    else
        xs_err_set (err, XS_EINVAL, "%s: not scripted", xs_op_name (op));
    pthread_mutex_unlock (&s_lock);
    return out;
}

static void *s_fake_open (void *arg, xs_err_t *err) { return arg; }
static void s_fake_close (void **ctx_p) { *ctx_p = NULL; }
static const xs_executor_t s_fake = {"fake", s_fake_open, s_fake_close, s_fake_run};

fx_counts_t
fx_counts (void)
{
    pthread_mutex_lock (&s_lock);
    fx_counts_t c = {s_sr_creates, s_vdi_creates, s_vdi_destroys, s_sr_detaches};
    pthread_mutex_unlock (&s_lock);
    return c;
}

bool
fx_vdi_exists (const char *uuid)
{
    pthread_mutex_lock (&s_lock);
    bool exists = zhashx_lookup (s_vdis, uuid) != NULL;
    pthread_mutex_unlock (&s_lock);
    return exists;
}

bool
fx_vdi_resumed (const char *uuid)
{
    pthread_mutex_lock (&s_lock);
    bool resumed = zhashx_lookup (s_resumed, uuid) != NULL;
    pthread_mutex_unlock (&s_lock);
    return resumed;
}

/* =========================================================================
    The catalog on a loop, agents in actors
   ========================================================================= */

void
fx_start_catalog (fx_t *f)
{
    xs_err_t err;
    f->store = xs_store_new (f->db, &err);
    if (!f->store)
        fail_msg ("store: %s", err.msg);
    f->loop = zloop_new ();
    f->batch = xs_batch_new (f->store, f->loop);
    f->allowlist = xs_allowlist_new (f->keys, &err);
    if (!f->allowlist)
        fail_msg ("allow-list: %s", err.msg);
    f->hosts = xs_hosts_new ();
    /* Heartbeats every 100 ms: agents give up on a catalog after 3 without
       an answer, and this loop runs only while a test waits on it. */
    xs_agentsrv_cfg_t acfg = {.endpoint = "tcp://127.0.0.1:*", .cert_file = f->cert,
                              .heartbeat_ms = f->heartbeat_ms ? f->heartbeat_ms : 100,
                              .request_timeout_ms = 5000};
    xs_agentsrv_deps_t deps = {.store = f->store, .batch = f->batch, .loop = f->loop,
                               .hosts = f->hosts, .allowlist = f->allowlist};
    f->agents = xs_agentsrv_new (&acfg, &deps, &err);
    if (!f->agents)
        fail_msg ("agents: %s", err.msg);
    xs_placement_cfg_t pcfg = {.default_ratio = 1.0, .placed_ttl_ms = f->placed_ttl_ms};
    f->placement = xs_placement_new (&pcfg, f->store, f->batch, f->hosts);
    xs_jobs_cfg_t jcfg = {.wait_ms = 3000};
    f->jobs = xs_jobs_new (&jcfg, f->store, f->batch, f->loop, f->agents, f->hosts,
                           f->placement);
    f->volumes = xs_volumes_new (f->store, f->batch, f->hosts, f->jobs);
}

void
fx_stop_catalog (fx_t *f)
{
    xs_volumes_destroy (&f->volumes);
    xs_jobs_destroy (&f->jobs);
    xs_placement_destroy (&f->placement);
    xs_agentsrv_destroy (&f->agents);
    xs_hosts_destroy (&f->hosts);
    xs_allowlist_destroy (&f->allowlist);
    xs_batch_destroy (&f->batch);
    zloop_destroy (&f->loop);
    xs_store_destroy (&f->store);
}

/* The public certificate file at `path`, as text (caller frees). */
static char *
s_read_cert (const char *path)
{
    zfile_t *file = zfile_new (NULL, path);
    assert_int_equal (zfile_input (file), 0);
    zchunk_t *chunk = zfile_read (file, zfile_cursize (file), 0);
    char *text = zchunk_strdup (chunk);
    zchunk_destroy (&chunk);
    zfile_destroy (&file);
    return text;
}

void
fx_make_agent_cert (fx_t *f, const char *host, char *cert, size_t size)
{
    snprintf (cert, size, "%s/%s.cert", f->dir, host);
    /* A host keeps its key across restarts: the catalog pins it. */
    if (!zsys_file_exists (cert))
        assert_int_equal (xs_cert_generate (cert, NULL), 0);
}

void
fx_start_agent_as_is (fx_t *f, const char *host, const char *zone)
{
    int i = f->npeers++;
    assert_true (i < FX_MAX_AGENTS);
    snprintf (f->peers [i].host, sizeof f->peers [i].host, "%s", host);
    fx_make_agent_cert (f, host, f->peers [i].cert, sizeof f->peers [i].cert);
    xs_err_t err;
    xs_agent_cfg_t cfg = {
        .catalog_endpoint = xs_agentsrv_endpoint (f->agents), .zone = zone,
        .cert_file = f->peers [i].cert, .catalog_key_file = f->cert, .workers = 2,
        .backoff_min_ms = 50, .backoff_max_ms = 200,
        .executor = &s_fake, .executor_arg = f->peers [i].host,
    };
    f->peers [i].agent = xs_agent_new (&cfg, &err);
    if (!f->peers [i].agent)
        fail_msg ("agent: %s", err.msg);
    f->peers [i].actor = zactor_new (xs_agent_actor, f->peers [i].agent);
}

void
fx_start_agent (fx_t *f, const char *host, const char *zone)
{
    /* Enrolled through the catalog, from the public certificate file. */
    char cert [200];
    fx_make_agent_cert (f, host, cert, sizeof cert);
    char *text = s_read_cert (cert);
    xs_err_t err;
    char *key = xs_agentsrv_enroll (f->agents, text, &err);
    if (!key)
        fail_msg ("enroll: %s", err.msg);
    free (key);
    free (text);
    fx_start_agent_as_is (f, host, zone);
}

void
fx_stop_agents (fx_t *f)
{
    for (int i = 0; i < f->npeers; i++) {
        zactor_destroy (&f->peers [i].actor);
        xs_agent_destroy (&f->peers [i].agent);
    }
    f->npeers = 0;
}

int
fx_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    snprintf (f->dir, sizeof f->dir, "/tmp/xs_catalog_test.XXXXXX");
    assert_non_null (mkdtemp (f->dir));
    snprintf (f->db, sizeof f->db, "%s/catalog.db", f->dir);
    snprintf (f->cert, sizeof f->cert, "%s/catalog.cert", f->dir);
    snprintf (f->keys, sizeof f->keys, "%s/agents", f->dir);
    assert_int_equal (xs_cert_generate (f->cert, NULL), 0);
    pthread_mutex_lock (&s_lock);
    s_sr_creates = s_vdi_creates = s_vdi_destroys = s_sr_detaches = 0;
    zhashx_destroy (&s_vdis);
    s_vdis = zhashx_new ();
    zhashx_destroy (&s_resumed);
    s_resumed = zhashx_new ();
    pthread_mutex_unlock (&s_lock);
    fx_start_catalog (f);
    *state = f;
    return 0;
}

int
fx_teardown (void **state)
{
    fx_t *f = (fx_t *) *state;
    fx_stop_agents (f);
    fx_stop_catalog (f);
    char cmd [300];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal (system (cmd), 0);
    free (f);
    pthread_mutex_lock (&s_lock);
    zhashx_destroy (&s_vdis);
    zhashx_destroy (&s_resumed);
    pthread_mutex_unlock (&s_lock);
    return 0;
}

/* =========================================================================
    Waiting and helpers
   ========================================================================= */

typedef struct {
    fx_t *f;
    fx_pred_fn *pred;
    void *arg;
} s_until_t;

static bool
s_until (void *arg)
{
    s_until_t *u = (s_until_t *) arg;
    return u->pred (u->f, u->arg);
}

bool
fx_run_until (fx_t *f, fx_pred_fn *pred, void *arg, int timeout_ms)
{
    s_until_t u = {f, pred, arg};
    return xs_test_run_until (f->loop, s_until, &u, timeout_ms);
}

/* xs_reply sink: keeps the volume of the result, or the failure. */
static void
s_done (void *arg, xs_reply_answer_t *answer)
{
    fx_result_t *r = (fx_result_t *) arg;
    r->done = true;
    r->reply = json_incref (json_object_get (answer->result, "volume"));
    json_decref (answer->result);
    if (answer->err) {
        r->failed = true;
        r->err = *answer->err;
    }
}

xs_reply_t *
fx_reply (fx_result_t *r)
{
    return xs_reply_new (s_done, r);
}

bool
fx_is_done (fx_t *f, void *arg)
{
    return ((fx_result_t *) arg)->done;
}

/* Backend `id` attached on `hosts` hosts, with stats reported. */
typedef struct {
    int64_t id;
    int hosts;
} s_attached_t;

static bool
s_backend_ready (fx_t *f, void *arg)
{
    s_attached_t *a = (s_attached_t *) arg;
    xs_hosts_sr_t sr = { 0 };
    xs_backend_t *b = xs_store_backend_get (f->store, a->id, NULL);
    if (b)
        xs_hosts_sr_info (f->hosts, b->zone, a->id, &sr);
    bool ok = b && b->state == XS_BACKEND_ATTACHED && sr.live_hosts >= a->hosts && sr.has_stats;
    xs_backend_destroy (&b);
    return ok;
}

int64_t
fx_backend (fx_t *f, const char *flavor, const char *zone, const char *name)
{
    return fx_backend_typed (f, flavor, zone, name, "nfs");
}

int64_t
fx_backend_typed (fx_t *f, const char *flavor, const char *zone, const char *name,
                  const char *sr_type)
{
    xs_err_t err;
    xs_kv_spec_t config [] = {{.key = "server", .value = "nfs.example"},
                              {.key = "serverpath", .value = "/export"},
                              {.key = "password", .value = "s3cret"}};
    xs_backend_spec_t spec = {.flavor_label = flavor, .zone = zone, .sr_type = sr_type,
                              .name_label = name, .nconfig = 3, .config = config};
    int64_t id = xs_store_backend_add (f->store, &spec, &err);
    if (id < 0)
        fail_msg ("backend_add: %s", err.msg);
    return id;
}

void
fx_wait_ready (fx_t *f, int64_t id, int hosts)
{
    xs_agentsrv_reconcile (f->agents);
    s_attached_t a = {id, hosts};
    /* The deadline is a failsafe for a loaded machine, not what is waited for. */
    if (!fx_run_until (f, s_backend_ready, &a, 15000))
        fail_msg ("backend %lld never attached on %d hosts", (long long) id, hosts);
}

fx_result_t
fx_create (fx_t *f, const char *flavor, int64_t size, const char *request_id)
{
    fx_result_t r = {0};
    xs_volume_request_t req = {.flavor = flavor, .size = size, .name = "vol",
                               .request_id = request_id};
    xs_reply_t *reply = fx_reply (&r);
    xs_volumes_create (f->volumes, &req, &reply);
    assert_null (reply);
    assert_true (fx_run_until (f, fx_is_done, &r, 10000));
    return r;
}

const char *
fx_jstr (json_t *obj, const char *key)
{
    return json_string_value (json_object_get (obj, key));
}
