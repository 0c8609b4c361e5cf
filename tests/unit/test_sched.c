/*  Unit tests for xs_sched + xs_agentsrv + xs_batch: a real catalog store,
    the real agent server and real xs_agent actors (CURVE, zauth, enrolled
    keys) whose executor is scripted here. Drives placement, fall-through,
    the space check, idempotent request ids, snapshots, clones, deletes and
    the journal's resume. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include <czmq.h>

#include "common/xs_cert.h"
#include "common/xs_log.h"
#include "catalog/xs_sched.h"
#include "catalog/xs_voladmin.h"
#include "hostagent/xs_agent.h"

/* =========================================================================
    The scripted executor (shared by every agent; workers are threads)
   ========================================================================= */

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_sr_creates;            /* sr_attach with create: true */
static int s_vdi_creates;           /* vdi_create calls            */
static int s_vdi_destroys;
static int s_sr_detaches;
static zhashx_t *s_vdis;            /* volume uuid -> "1"          */

static json_t *
s_fake_run (void *ctx, xs_op_t op, const json_t *args, xs_err_t *err)
{
    const char *host = (const char *) ctx;
    json_t *out = NULL;
    pthread_mutex_lock (&s_lock);
    if (op == XS_OP_HOST_INFO)
        out = json_pack ("{s:s, s:s}", "uuid", host, "name_label", host);
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
        out = json_pack ("{s:I, s:I, s:I, s:[s, s, s, s]}",
                         "physical_size", (json_int_t) (tiny ? 1048576 : 1099511627776LL),
                         "physical_utilisation", (json_int_t) 0, "virtual_allocation",
                         (json_int_t) 0, "capabilities", "VDI_CREATE", "VDI_DELETE", "VDI_CLONE",
                         nosnap ? "VDI_RESIZE" : "VDI_SNAPSHOT");
    }
    else
    if (op == XS_OP_VDI_CREATE || op == XS_OP_VDI_SNAPSHOT || op == XS_OP_VDI_CLONE) {
        const char *sr = json_string_value (json_object_get (args, "sr_uuid"));
        const char *vol = json_string_value (json_object_get (
            args, op == XS_OP_VDI_CREATE ? "volume_uuid" : "new_volume_uuid"));
        if (op == XS_OP_VDI_CREATE)
            s_vdi_creates++;
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
        xs_err_set (err, XS_EINVAL, "%s: not scripted", xs_op_name (op));
    pthread_mutex_unlock (&s_lock);
    return out;
}

static void *s_fake_open (void *arg, xs_err_t *err) { return arg; }
static void s_fake_close (void **ctx_p) { *ctx_p = NULL; }
static const xs_executor_t s_fake = {"fake", s_fake_open, s_fake_close, s_fake_run};

/* =========================================================================
    Fixture: a catalog on a loop, agents in actors
   ========================================================================= */

#define S_MAX_AGENTS 16

typedef struct {
    char dir [128];
    char db [200];
    char cert [200];
    char keys [200];
    xs_store_t *store;
    zloop_t *loop;
    xs_batch_t *batch;
    xs_sched_t *sched;
    struct {
        char host [16];
        char cert [200];
        xs_agent_t *agent;
        zactor_t *actor;
    } agents [S_MAX_AGENTS];
    int nagents;
} fx_t;

static fx_t *F;

static void
s_start_catalog (fx_t *f)
{
    xs_err_t err;
    f->store = xs_store_new (f->db, &err);
    if (!f->store)
        fail_msg ("store: %s", err.msg);
    f->loop = zloop_new ();
    f->batch = xs_batch_new (f->store, f->loop);
    xs_sched_cfg_t cfg = {.wait_ms = 3000};
    xs_agentsrv_cfg_t acfg = {.endpoint = "tcp://127.0.0.1:*", .cert_file = f->cert,
                              .keys_dir = f->keys, .heartbeat_ms = 50,
                              .request_timeout_ms = 5000};
    f->sched = xs_sched_new (&cfg, &acfg, f->store, f->batch, f->loop, &err);
    if (!f->sched)
        fail_msg ("sched: %s", err.msg);
}

static void
s_stop_catalog (fx_t *f)
{
    xs_sched_destroy (&f->sched);
    xs_batch_destroy (&f->batch);
    zloop_destroy (&f->loop);
    xs_store_destroy (&f->store);
}

static void
s_start_agent (fx_t *f, const char *host, const char *zone)
{
    int i = f->nagents++;
    snprintf (f->agents [i].host, sizeof f->agents [i].host, "%s", host);
    char cert [200];
    snprintf (cert, sizeof cert, "%s/%s.cert", f->dir, host);
    memcpy (f->agents [i].cert, cert, sizeof cert);
    /* A host keeps its key across restarts: the catalog pins it. */
    if (!zsys_file_exists (f->agents [i].cert))
        assert_int_equal (xs_cert_generate (f->agents [i].cert, NULL), 0);
    /* Enrolled through the catalog, from the public certificate file. */
    char *text = NULL;
    zfile_t *file = zfile_new (NULL, f->agents [i].cert);
    assert_int_equal (zfile_input (file), 0);
    zchunk_t *chunk = zfile_read (file, zfile_cursize (file), 0);
    text = zchunk_strdup (chunk);
    zchunk_destroy (&chunk);
    zfile_destroy (&file);
    xs_err_t err;
    char *key = xs_agentsrv_enroll (xs_sched_agents (f->sched), text, &err);
    if (!key)
        fail_msg ("enroll: %s", err.msg);
    free (key);
    free (text);
    xs_agent_cfg_t cfg = {
        .catalog_endpoint = xs_agentsrv_endpoint (xs_sched_agents (f->sched)), .zone = zone,
        .cert_file = f->agents [i].cert, .catalog_key_file = f->cert, .workers = 2,
        .backoff_min_ms = 50, .backoff_max_ms = 200,
        .executor = &s_fake, .executor_arg = f->agents [i].host,
    };
    f->agents [i].agent = xs_agent_new (&cfg, &err);
    if (!f->agents [i].agent)
        fail_msg ("agent: %s", err.msg);
    f->agents [i].actor = zactor_new (xs_agent_actor, f->agents [i].agent);
}

static void
s_stop_agents (fx_t *f)
{
    for (int i = 0; i < f->nagents; i++) {
        zactor_destroy (&f->agents [i].actor);
        xs_agent_destroy (&f->agents [i].agent);
    }
    f->nagents = 0;
}

static int
setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    snprintf (f->dir, sizeof f->dir, "/tmp/xs_sched_test.XXXXXX");
    assert_non_null (mkdtemp (f->dir));
    snprintf (f->db, sizeof f->db, "%s/catalog.db", f->dir);
    snprintf (f->cert, sizeof f->cert, "%s/catalog.cert", f->dir);
    snprintf (f->keys, sizeof f->keys, "%s/agents", f->dir);
    assert_int_equal (xs_cert_generate (f->cert, NULL), 0);
    pthread_mutex_lock (&s_lock);
    s_sr_creates = s_vdi_creates = s_vdi_destroys = s_sr_detaches = 0;
    zhashx_destroy (&s_vdis);
    s_vdis = zhashx_new ();
    pthread_mutex_unlock (&s_lock);
    s_start_catalog (f);
    F = f;
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fx_t *f = (fx_t *) *state;
    s_stop_agents (f);
    s_stop_catalog (f);
    char cmd [300];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal (system (cmd), 0);
    free (f);
    return 0;
}

/* ---- running the loop until something happens ---- */

typedef bool (s_pred_fn) (fx_t *f, void *arg);

typedef struct {
    fx_t *f;
    s_pred_fn *pred;
    void *arg;
    int64_t deadline;
    bool met;
} s_until_t;

static int
s_until_tick (zloop_t *loop, int timer_id, void *arg)
{
    s_until_t *u = (s_until_t *) arg;
    if (u->pred (u->f, u->arg)) {
        u->met = true;
        return -1;
    }
    return zclock_mono () > u->deadline ? -1 : 0;
}

static bool
s_run_until (fx_t *f, s_pred_fn *pred, void *arg, int timeout_ms)
{
    s_until_t u = {f, pred, arg, zclock_mono () + timeout_ms, false};
    if (pred (f, arg))
        return true;
    int t = zloop_timer (f->loop, 5, 0, s_until_tick, &u);
    zloop_start (f->loop);
    zloop_timer_end (f->loop, t);
    return u.met;
}

typedef struct {
    bool done;
    json_t *reply;
    xs_err_t err;
    bool failed;
} s_result_t;

static void
s_done (void *arg, json_t *reply, const xs_err_t *err)
{
    s_result_t *r = (s_result_t *) arg;
    r->done = true;
    r->reply = reply;
    if (err) {
        r->failed = true;
        r->err = *err;
    }
}

static bool
s_is_done (fx_t *f, void *arg)
{
    return ((s_result_t *) arg)->done;
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
    xs_agentsrv_sr_t sr;
    xs_agentsrv_sr_info (xs_sched_agents (f->sched), a->id, &sr);
    xs_backend_t *b = xs_store_backend_get (f->store, a->id, NULL);
    bool ok = b && b->state == XS_BACKEND_ATTACHED && sr.live_hosts >= a->hosts && sr.has_stats;
    xs_backend_destroy (&b);
    return ok;
}

static int64_t
s_backend (fx_t *f, const char *flavor, const char *zone, const char *name)
{
    xs_err_t err;
    xs_kv_spec_t config [] = {{.key = "server", .value = "nfs.example"},
                              {.key = "serverpath", .value = "/export"},
                              {.key = "password", .value = "s3cret"}};
    xs_backend_spec_t spec = {.flavor_label = flavor, .zone = zone, .sr_type = "nfs",
                              .name_label = name, .nconfig = 3, .config = config};
    int64_t id = xs_store_backend_add (f->store, &spec, &err);
    if (id < 0)
        fail_msg ("backend_add: %s", err.msg);
    return id;
}

static void
s_wait_ready (fx_t *f, int64_t id, int hosts)
{
    xs_agentsrv_reconcile (xs_sched_agents (f->sched));
    s_attached_t a = {id, hosts};
    if (!s_run_until (f, s_backend_ready, &a, 5000))
        fail_msg ("backend %lld never attached on %d hosts", (long long) id, hosts);
}

static s_result_t
s_create (fx_t *f, const char *flavor, int64_t size, const char *request_id)
{
    s_result_t r = {0};
    xs_sched_create_t req = {.flavor = flavor, .size = size, .name = "vol",
                             .request_id = request_id};
    xs_sched_volume_create (f->sched, &req, s_done, &r);
    assert_true (s_run_until (f, s_is_done, &r, 10000));
    return r;
}

static const char *
s_jstr (json_t *obj, const char *key)
{
    return json_string_value (json_object_get (obj, key));
}

/* =========================================================================
    Tests
   ========================================================================= */

static bool
s_two_detached (fx_t *f, void *arg)
{
    pthread_mutex_lock (&s_lock);
    bool ok = s_sr_detaches == 2;
    pthread_mutex_unlock (&s_lock);
    return ok;
}

static void
test_sr_created_once_then_attached_everywhere (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "gold", "", NULL);
    int64_t b = s_backend (f, "gold", "z1", "one");
    s_start_agent (f, "h1", "z1");
    s_start_agent (f, "h2", "z1");
    s_start_agent (f, "h3", "z2");
    s_wait_ready (f, b, 2);
    xs_backend_t *row = xs_store_backend_get (f->store, b, NULL);
    assert_string_equal (row->sr_uuid, "sr-one");
    xs_backend_destroy (&row);
    pthread_mutex_lock (&s_lock);
    int creates = s_sr_creates;
    pthread_mutex_unlock (&s_lock);
    assert_int_equal (creates, 1);           /* exactly one agent made the SR */
    /* host list: three live hosts, the z1 ones with the SR. */
    json_t *hosts = xs_agentsrv_host_list (xs_sched_agents (f->sched), NULL);
    assert_int_equal (json_array_size (hosts), 3);
    size_t i;
    json_t *h;
    json_array_foreach (hosts, i, h) {
        assert_string_equal (s_jstr (h, "state"), "up");
        size_t nsrs = json_array_size (json_object_get (h, "srs"));
        assert_int_equal (nsrs, streq (s_jstr (h, "zone"), "z1") ? 1 : 0);
    }
    json_decref (hosts);

    /* backend_remove: both z1 hosts detach the SR (never destroy it). */
    assert_int_equal (xs_store_backend_remove (f->store, b, NULL), 0);
    xs_agentsrv_reconcile (xs_sched_agents (f->sched));
    assert_true (s_run_until (f, s_two_detached, NULL, 5000));
}

#define S_MANY 12

static bool
s_many_live (fx_t *f, void *arg)
{
    return xs_agentsrv_live_in_zone (xs_sched_agents (f->sched), "z1") == S_MANY;
}

/* Regression: reconcile walked the host table while s_claim_creator looked
   the creator up in that same table; zhashx_lookup moves the walk's cursor,
   so a backend added after the agents registered made reconcile loop for
   ever when the creator and a later host shared a hash bucket (the whole
   catalog hung; the end-to-end tests caught it about one run in eight).
   Whether two hosts share a bucket depends on their uuids' hashes, so this
   test cannot force it; many hosts and backends make it likelier, and the
   test checks the rest of the path: one SR create per late backend and
   every host attached. */
static void
test_backend_added_after_agents_registered (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "gold", "", NULL);
    for (int i = 0; i < S_MANY; i++) {
        char name [16];
        snprintf (name, sizeof name, "m%d", i);
        s_start_agent (f, name, "z1");
    }
    assert_true (s_run_until (f, s_many_live, NULL, 10000));
    int64_t b [3];
    for (int i = 0; i < 3; i++) {
        char name [16];
        snprintf (name, sizeof name, "late%d", i);
        b [i] = s_backend (f, "gold", "z1", name);
    }
    for (int i = 0; i < 3; i++)
        s_wait_ready (f, b [i], S_MANY);    /* reconcile returns, then all attach */
    pthread_mutex_lock (&s_lock);
    int creates = s_sr_creates;
    pthread_mutex_unlock (&s_lock);
    assert_int_equal (creates, 3);
}

static void
test_first_fit_falls_through_and_skips_full (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "gold", "", NULL);
    xs_store_flavor_create (f->store, "silver", "", NULL);
    int64_t tiny = s_backend (f, "gold", "z1", "tiny");
    int64_t fails = s_backend (f, "gold", "z1", "fails");
    int64_t good = s_backend (f, "gold", "z1", "good");
    int64_t silver = s_backend (f, "silver", "z1", "silverone");
    s_start_agent (f, "h1", "z1");
    s_wait_ready (f, tiny, 1);
    s_wait_ready (f, fails, 1);
    s_wait_ready (f, good, 1);
    s_wait_ready (f, silver, 1);

    s_result_t r = s_create (f, "gold", 1073741824LL, NULL);
    if (r.failed)
        fail_msg ("create failed: %s", r.err.msg);
    assert_string_equal (s_jstr (r.reply, "state"), "available");
    assert_int_equal (json_integer_value (json_object_get (r.reply, "backend_id")), good);
    xs_err_t err;
    json_t *show = xs_sched_volume_show (f->sched, s_jstr (r.reply, "uuid"), &err);
    json_t *attempts = json_object_get (show, "attempts");
    assert_int_equal (json_array_size (attempts), 3);
    json_t *a0 = json_array_get (attempts, 0), *a1 = json_array_get (attempts, 1),
           *a2 = json_array_get (attempts, 2);
    assert_int_equal (json_integer_value (json_object_get (a0, "backend_id")), tiny);
    assert_string_equal (s_jstr (a0, "outcome"), "skipped");
    assert_non_null (strstr (s_jstr (a0, "reason"), "no space"));
    assert_int_equal (json_integer_value (json_object_get (a1, "backend_id")), fails);
    assert_string_equal (s_jstr (a1, "outcome"), "failed");
    assert_non_null (strstr (s_jstr (a1, "reason"), "SR_BACKEND_FAILURE_78"));
    assert_int_equal (json_integer_value (json_object_get (a2, "backend_id")), good);
    assert_string_equal (s_jstr (a2, "outcome"), "ok");
    json_decref (show);
    json_decref (r.reply);

    /* The flavor drives placement: silver goes to silver's backend. */
    r = s_create (f, "silver", 1024, NULL);
    assert_false (r.failed);
    assert_int_equal (json_integer_value (json_object_get (r.reply, "backend_id")), silver);
    json_decref (r.reply);
}

static void
test_no_candidate_lists_every_attempt (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "bronze", "", NULL);
    int64_t fails = s_backend (f, "bronze", "z1", "fails");
    int64_t lonely = s_backend (f, "bronze", "z9", "lonely");
    s_start_agent (f, "h1", "z1");
    s_wait_ready (f, fails, 1);
    s_result_t r = s_create (f, "bronze", 4096, NULL);
    assert_true (r.failed);
    assert_int_equal (r.err.kind, XS_ECONFLICT);
    char b1 [64], b2 [64];
    snprintf (b1, sizeof b1, "backend %lld failed", (long long) fails);
    snprintf (b2, sizeof b2, "backend %lld skipped", (long long) lonely);
    assert_non_null (strstr (r.err.msg, b1));
    assert_non_null (strstr (r.err.msg, b2));
    assert_non_null (strstr (r.err.msg, "SR_BACKEND_FAILURE_78"));
    /* The volume row says error, with the same reasons. */
    xs_volume_t **vols = xs_store_volume_list (f->store, false, NULL);
    assert_int_equal (xs_rows_list_size (vols), 1);
    assert_int_equal (vols [0]->state, XS_VOLUME_ERROR);
    assert_non_null (strstr (vols [0]->error, b1));
    xs_volume_list_destroy (&vols);
    /* Unknown flavor and bad size: clear errors, no row. */
    r = s_create (f, "platinum", 4096, NULL);
    assert_true (r.failed);
    assert_int_equal (r.err.kind, XS_ENOTFOUND);
    r = s_create (f, "bronze", 0, NULL);
    assert_true (r.failed);
    assert_int_equal (r.err.kind, XS_EINVAL);
}

static void
test_request_id_is_idempotent (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "gold", "", NULL);
    int64_t b = s_backend (f, "gold", "z1", "one");
    s_start_agent (f, "h1", "z1");
    s_wait_ready (f, b, 1);
    /* Two creates with the same id in the same loop pass: one volume. */
    s_result_t r1 = {0}, r2 = {0};
    xs_sched_create_t req = {.flavor = "gold", .size = 1024, .request_id = "req-42"};
    xs_sched_volume_create (f->sched, &req, s_done, &r1);
    xs_sched_volume_create (f->sched, &req, s_done, &r2);
    assert_true (s_run_until (f, s_is_done, &r1, 5000));
    assert_true (s_run_until (f, s_is_done, &r2, 5000));
    assert_false (r1.failed);
    assert_false (r2.failed);
    assert_string_equal (s_jstr (r1.reply, "uuid"), s_jstr (r2.reply, "uuid"));
    assert_string_equal (s_jstr (r2.reply, "state"), "available");
    s_result_t r3 = s_create (f, "gold", 1024, "req-42");
    assert_string_equal (s_jstr (r1.reply, "uuid"), s_jstr (r3.reply, "uuid"));
    xs_volume_t **vols = xs_store_volume_list (f->store, true, NULL);
    assert_int_equal (xs_rows_list_size (vols), 1);
    xs_volume_list_destroy (&vols);
    pthread_mutex_lock (&s_lock);
    int vdi_creates = s_vdi_creates;
    pthread_mutex_unlock (&s_lock);
    assert_int_equal (vdi_creates, 1);
    json_decref (r1.reply);
    json_decref (r2.reply);
    json_decref (r3.reply);
}

static void
test_snapshot_clone_delete_connection (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "gold", "", NULL);
    xs_store_flavor_create (f->store, "plain", "", NULL);
    int64_t b = s_backend (f, "gold", "z1", "one");
    int64_t nosnap = s_backend (f, "plain", "z1", "nosnap");
    s_start_agent (f, "h1", "z1");
    s_wait_ready (f, b, 1);
    s_wait_ready (f, nosnap, 1);
    s_result_t r = s_create (f, "gold", 8192, NULL);
    assert_false (r.failed);
    char parent [64];
    snprintf (parent, sizeof parent, "%s", s_jstr (r.reply, "uuid"));
    json_decref (r.reply);

    s_result_t snap = {0};
    xs_sched_volume_copy (f->sched, "snapshot", parent, "snap1", s_done, &snap);
    assert_true (s_run_until (f, s_is_done, &snap, 5000));
    if (snap.failed)
        fail_msg ("snapshot: %s", snap.err.msg);
    assert_string_equal (s_jstr (snap.reply, "parent_uuid"), parent);
    assert_string_equal (s_jstr (snap.reply, "state"), "available");
    assert_int_equal (json_integer_value (json_object_get (snap.reply, "backend_id")), b);
    json_decref (snap.reply);

    s_result_t clone = {0};
    xs_sched_volume_copy (f->sched, "clone", parent, NULL, s_done, &clone);
    assert_true (s_run_until (f, s_is_done, &clone, 5000));
    assert_false (clone.failed);
    json_decref (clone.reply);

    /* The SR without VDI_SNAPSHOT refuses, clearly. */
    r = s_create (f, "plain", 8192, NULL);
    assert_false (r.failed);
    s_result_t no = {0};
    xs_sched_volume_copy (f->sched, "snapshot", s_jstr (r.reply, "uuid"), NULL, s_done, &no);
    assert_true (no.done);
    assert_true (no.failed);
    assert_non_null (strstr (no.err.msg, "VDI_SNAPSHOT"));
    json_decref (r.reply);

    /* Connection info: secrets only on request. */
    xs_err_t err;
    json_t *conn = xs_sched_volume_connection (f->sched, parent, false, &err);
    assert_non_null (conn);
    assert_string_equal (s_jstr (conn, "sr_uuid"), "sr-one");
    assert_string_equal (s_jstr (conn, "vdi_uuid"), parent);
    assert_string_equal (s_jstr (json_object_get (conn, "device_config"), "password"), "******");
    json_decref (conn);
    conn = xs_sched_volume_connection (f->sched, parent, true, &err);
    assert_string_equal (s_jstr (json_object_get (conn, "device_config"), "password"), "s3cret");
    json_decref (conn);

    s_result_t del = {0};
    xs_sched_volume_delete (f->sched, parent, s_done, &del);
    assert_true (s_run_until (f, s_is_done, &del, 5000));
    assert_false (del.failed);
    assert_string_equal (s_jstr (del.reply, "state"), "deleted");
    json_decref (del.reply);
    pthread_mutex_lock (&s_lock);
    bool vdi_left = zhashx_lookup (s_vdis, parent) != NULL;
    int destroys = s_vdi_destroys;
    pthread_mutex_unlock (&s_lock);
    assert_false (vdi_left);
    assert_int_equal (destroys, 1);
    /* Deleting again is harmless; unknown volumes are not found. */
    s_result_t again = {0};
    xs_sched_volume_delete (f->sched, parent, s_done, &again);
    assert_true (again.done && !again.failed);
    json_decref (again.reply);
    s_result_t unknown = {0};
    xs_sched_volume_delete (f->sched, "no-such-volume", s_done, &unknown);
    assert_true (unknown.failed);
    assert_int_equal (unknown.err.kind, XS_ENOTFOUND);
}

static bool
s_volume_available (fx_t *f, void *arg)
{
    xs_volume_t *v = xs_store_volume_get (f->store, (const char *) arg, NULL);
    bool ok = v && v->state == XS_VOLUME_AVAILABLE && v->vdi_uuid;
    xs_volume_destroy (&v);
    return ok;
}

static void
test_restart_resumes_committed_jobs (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_store_flavor_create (f->store, "gold", "", NULL);
    int64_t b = s_backend (f, "gold", "z1", "one");
    s_start_agent (f, "h1", "z1");
    s_wait_ready (f, b, 1);
    s_stop_agents (f);

    /* What a crash right after the commit and before the send leaves: a
       creating volume and its dispatched job. */
    xs_flavor_t *gold = xs_store_flavor_get (f->store, "gold", NULL);
    xs_volume_spec_t vol = {.uuid = "11111111-2222-3333-4444-555555555555",
                            .size_bytes = 4096, .flavor_id = gold->id,
                            .state = XS_VOLUME_CREATING};
    assert_int_equal (xs_store_volume_insert (f->store, &vol, NULL), 0);
    xs_job_spec_t job = {.volume_uuid = vol.uuid, .op = "vdi_create",
                         .args = "{\"sr_uuid\":\"sr-one\",\"volume_uuid\":"
                                 "\"11111111-2222-3333-4444-555555555555\",\"size\":4096}",
                         .state = XS_JOB_DISPATCHED, .backend_id = b, .host_uuid = "h1"};
    assert_true (xs_store_job_insert (f->store, &job, NULL) > 0);
    xs_flavor_destroy (&gold);

    s_stop_catalog (f);
    s_start_catalog (f);
    xs_err_t err;
    assert_int_equal (xs_sched_resume (f->sched, &err), 1);
    assert_int_equal (xs_sched_jobs_active (f->sched), 1);
    /* The agent comes back (a new process, same key): the job completes. */
    f->nagents = 0;
    s_start_agent (f, "h1", "z1");
    assert_true (s_run_until (f, s_volume_available, (void *) vol.uuid, 5000));
    assert_int_equal (xs_sched_jobs_active (f->sched), 0);
    xs_job_t **unfinished = xs_store_job_list_unfinished (f->store, NULL);
    assert_int_equal (xs_rows_list_size (unfinished), 0);
    xs_job_list_destroy (&unfinished);
}

static void
test_enroll_and_remove (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_agentsrv_t *a = xs_sched_agents (f->sched);
    xs_err_t err;
    assert_null (xs_agentsrv_enroll (a, "not a key", &err));
    assert_int_equal (err.kind, XS_EINVAL);
    zcert_t *c = zcert_new ();
    char *key = xs_agentsrv_enroll (a, zcert_public_txt (c), &err);
    assert_non_null (key);
    assert_string_equal (key, zcert_public_txt (c));
    json_t *list = xs_agentsrv_host_list (a, &err);
    assert_int_equal (json_array_size (list), 1);
    assert_string_equal (s_jstr (json_array_get (list, 0), "state"), "enrolled");
    json_decref (list);
    assert_int_equal (xs_agentsrv_remove (a, key, &err), 0);
    list = xs_agentsrv_host_list (a, &err);
    assert_int_equal (json_array_size (list), 0);
    json_decref (list);
    assert_int_equal (xs_agentsrv_remove (a, key, &err), -1);
    assert_int_equal (err.kind, XS_ENOTFOUND);
    free (key);
    zcert_destroy (&c);
}

/* ---- xs_voladmin: the admin envelope around all this ---- */

typedef struct {
    bool done;
    json_t *reply;
} s_text_t;

static void
s_on_text (void *arg, char *text, size_t size)
{
    s_text_t *t = (s_text_t *) arg;
    assert_int_equal (strlen (text), size);
    t->reply = json_loads (text, 0, NULL);
    assert_non_null (t->reply);
    t->done = true;
    free (text);
}

static bool
s_text_done (fx_t *f, void *arg)
{
    return ((s_text_t *) arg)->done;
}

static json_t *
s_admin (fx_t *f, xs_voladmin_t *va, const char *cmd, json_t *args)
{
    s_text_t t = {0};
    xs_voladmin_handle (va, "c1", cmd, args, s_on_text, &t);
    json_decref (args);
    assert_true (s_run_until (f, s_text_done, &t, 5000));
    assert_string_equal (s_jstr (t.reply, "id"), "c1");
    return t.reply;
}

static void
test_voladmin_commands (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_voladmin_t *va = xs_voladmin_new (f->sched);
    assert_true (xs_voladmin_handles ("volume_create"));
    assert_true (xs_voladmin_handles ("host_list"));
    assert_false (xs_voladmin_handles ("flavor_create"));
    xs_store_flavor_create (f->store, "gold", "", NULL);
    int64_t b = s_backend (f, "gold", "z1", "one");
    s_start_agent (f, "h1", "z1");
    s_wait_ready (f, b, 1);

    json_t *r = s_admin (f, va, "volume_create",
                         json_pack ("{s:s, s:I, s:s}", "flavor", "gold", "size",
                                    (json_int_t) 10737418240LL, "name", "data"));
    assert_true (json_is_true (json_object_get (r, "ok")));
    json_t *vol = json_object_get (json_object_get (r, "result"), "volume");
    assert_string_equal (s_jstr (vol, "state"), "available");
    assert_string_equal (s_jstr (vol, "flavor"), "gold");
    char uuid [64];
    snprintf (uuid, sizeof uuid, "%s", s_jstr (vol, "uuid"));
    json_decref (r);

    r = s_admin (f, va, "volume_show", json_pack ("{s:s}", "uuid", uuid));
    vol = json_object_get (json_object_get (r, "result"), "volume");
    assert_int_equal (json_array_size (json_object_get (vol, "attempts")), 1);
    json_decref (r);

    r = s_admin (f, va, "volume_list", NULL);
    assert_int_equal (json_array_size (json_object_get (json_object_get (r, "result"),
                                                        "volumes")), 1);
    json_decref (r);

    r = s_admin (f, va, "volume_connection", json_pack ("{s:s}", "uuid", uuid));
    json_t *conn = json_object_get (json_object_get (r, "result"), "connection");
    assert_string_equal (s_jstr (json_object_get (conn, "device_config"), "password"), "******");
    json_decref (r);

    /* Refusals carry the kind as code and a message naming the problem. */
    r = s_admin (f, va, "volume_create", json_pack ("{s:s}", "flavor", "gold"));
    assert_false (json_is_true (json_object_get (r, "ok")));
    json_t *e = json_object_get (r, "error");
    assert_string_equal (s_jstr (e, "code"), "invalid");
    assert_non_null (strstr (s_jstr (e, "message"), "size"));
    json_decref (r);
    r = s_admin (f, va, "volume_delete", json_pack ("{s:s}", "uuid", "nope"));
    assert_string_equal (s_jstr (json_object_get (r, "error"), "code"), "not_found");
    json_decref (r);
    r = s_admin (f, va, "volume_create", json_pack ("{s:s, s:i, s:s}", "flavor", "gold",
                                                    "size", 1, "name", "a\nb"));
    assert_string_equal (s_jstr (json_object_get (r, "error"), "code"), "invalid");
    json_decref (r);

    r = s_admin (f, va, "host_list", NULL);
    json_t *hosts = json_object_get (json_object_get (r, "result"), "hosts");
    assert_int_equal (json_array_size (hosts), 1);
    assert_string_equal (s_jstr (json_array_get (hosts, 0), "uuid"), "h1");
    assert_string_equal (s_jstr (json_array_get (hosts, 0), "state"), "up");
    json_decref (r);

    r = s_admin (f, va, "volume_delete", json_pack ("{s:s}", "uuid", uuid));
    assert_string_equal (s_jstr (json_object_get (json_object_get (r, "result"), "volume"),
                                 "state"), "deleted");
    json_decref (r);
    xs_voladmin_destroy (&va);
}

int
main (void)
{
    xs_log_init ("test_sched", false, getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_backend_added_after_agents_registered, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_sr_created_once_then_attached_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown (test_first_fit_falls_through_and_skips_full, setup, teardown),
        cmocka_unit_test_setup_teardown (test_no_candidate_lists_every_attempt, setup, teardown),
        cmocka_unit_test_setup_teardown (test_request_id_is_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown (test_snapshot_clone_delete_connection, setup, teardown),
        cmocka_unit_test_setup_teardown (test_restart_resumes_committed_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown (test_enroll_and_remove, setup, teardown),
        cmocka_unit_test_setup_teardown (test_voladmin_commands, setup, teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zhashx_destroy (&s_vdis);
    return rc;
}
