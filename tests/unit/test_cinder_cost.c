/*  test_cinder_cost: what one Block Storage API create costs in the store,
    against the real routes (xs_cinder on xs_admin, over HTTP) and the
    real catalog classes (store, group commit, agent server, placement,
    jobs, volumes) with no agent: every create ends in `error` (202, the
    volume unplaced), which runs the same reply code as a placed one. (The
    in-process agents of catalog_fixture cannot link beside the API: both
    have an xs_http.) The cost is counted in store statements
    (xs_store_statements): a create must not read every backend (the zone
    of its reply is its backend's) nor count the project's volumes when no
    quota limits them. Both did, and made an HTTP create cost 4x an admin
    one (bench/results.md, "3 api").

    The client runs in a thread of its own (libcurl, blocking) while this
    thread runs the catalog's loop until the answer is in. Each figure is
    the least of a few creates (timers may run statements meanwhile).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "catalog/server/xs_admin.h"
#include "catalog/server/xs_agentsrv.h"
#include "catalog/server/xs_allowlist.h"
#include "catalog/server/xs_batch.h"
#include "catalog/server/xs_cinder.h"
#include "catalog/server/xs_hosts.h"
#include "catalog/server/xs_jobs.h"
#include "catalog/server/xs_placement.h"
#include "catalog/server/xs_volumes.h"
#include "catalog/xs_catalog_cfg.h"
#include "xs_cert.h"

#define S_SAMPLES 4

typedef struct {
    char url [256];
    char body [256];
    char reply [8192];
    size_t len;
    long status;
    atomic_bool done;
} s_call_t;

/* The catalog's classes on one loop, as xs_catalog_server wires them,
   and the API over them. */
typedef struct {
    char dir [128];
    xs_store_t *store;
    zloop_t *loop;
    xs_batch_t *batch;
    xs_allowlist_t *allowlist;
    xs_hosts_t *hosts;
    xs_agentsrv_t *agents;
    xs_placement_t *placement;
    xs_jobs_t *jobs;
    xs_volumes_t *volumes;
    xs_config_t *config;
    xs_admin_t *admin;
    xs_cinder_t *api;
} s_cat_t;

static size_t
s_on_data (char *data, size_t size, size_t nmemb, void *arg)
{
    s_call_t *call = (s_call_t *) arg;
    size_t n = size * nmemb;
    size_t room = sizeof call->reply - 1 - call->len;
    memcpy (call->reply + call->len, data, n < room ? n : room);
    call->len += n < room ? n : room;
    call->reply [call->len] = 0;
    return n;
}

static void *
s_client (void *arg)
{
    s_call_t *call = (s_call_t *) arg;
    CURL *c = curl_easy_init ();
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    curl_easy_setopt (c, CURLOPT_URL, call->url);
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (c, CURLOPT_POSTFIELDS, call->body);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_on_data);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, call);
    curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform (c) == CURLE_OK)
        curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &call->status);
    curl_slist_free_all (headers);
    curl_easy_cleanup (c);
    atomic_store (&call->done, true);
    return NULL;
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    return atomic_load (&((s_call_t *) arg)->done) ? -1 : 0;    /* -1 ends the loop */
}

/* A backend of flavor in zone (an NFS SR with a config entry, never
   attached: no agent). */
static void
s_backend (s_cat_t *c, const char *flavor, const char *zone, int i)
{
    char path [64];
    snprintf (path, sizeof path, "/export/%s-%d", flavor, i);
    xs_kv_spec_t config [] = {{.key = "server", .value = "nfs.example"},
                              {.key = "serverpath", .value = path}};
    xs_backend_spec_t spec = {.flavor_label = flavor, .zone = zone, .sr_type = "nfs",
                              .nconfig = 2, .config = config};
    xs_err_t err;
    if (xs_store_backend_add (c->store, &spec, &err) < 0)
        fail_msg ("backend: %s", err.msg);
}

static void s_api_stop (s_cat_t *c);

static int
s_setup (void **state)
{
    s_cat_t *c = calloc (1, sizeof *c);
    snprintf (c->dir, sizeof c->dir, "/tmp/xs_cinder_cost.XXXXXX");
    assert_non_null (mkdtemp (c->dir));
    char cert [200], path [200], keys [200];
    xs_err_t err;
    snprintf (cert, sizeof cert, "%s/catalog.cert", c->dir);
    assert_int_equal (xs_cert_generate (cert, NULL), 0);
    snprintf (keys, sizeof keys, "%s/agents", c->dir);
    assert_int_equal (mkdir (keys, 0700), 0);
    xs_agentsrv_cfg_t acfg = {.endpoint = "tcp://127.0.0.1:*", .cert_file = cert,
                              .heartbeat_ms = 100, .request_timeout_ms = 5000};
    snprintf (path, sizeof path, "%s/catalog.db", c->dir);
    c->store = xs_store_new (path, &err);
    assert_non_null (c->store);
    c->loop = zloop_new ();
    c->batch = xs_batch_new (c->store, c->loop);
    c->allowlist = xs_allowlist_new (keys, &err);
    assert_non_null (c->allowlist);
    c->hosts = xs_hosts_new ();
    xs_agentsrv_deps_t deps = {.store = c->store, .batch = c->batch, .loop = c->loop,
                               .hosts = c->hosts, .allowlist = c->allowlist};
    c->agents = xs_agentsrv_new (&acfg, &deps, &err);
    if (!c->agents)
        fail_msg ("agent server: %s", err.msg);
    xs_placement_cfg_t pcfg = {.default_ratio = 1.0};
    c->placement = xs_placement_new (&pcfg, c->store, c->batch, c->hosts);
    xs_jobs_cfg_t jcfg = {.wait_ms = 1};
    c->jobs = xs_jobs_new (&jcfg, c->store, c->batch, c->loop, c->agents, c->hosts,
                           c->placement);
    c->volumes = xs_volumes_new (c->store, c->batch, c->hosts, c->jobs);
    assert_true (xs_store_flavor_create (c->store, "gold", "", NULL) > 0);
    s_backend (c, "gold", "z1", 0);
    *state = c;
    return 0;
}

static int
s_teardown (void **state)
{
    s_cat_t *c = (s_cat_t *) *state;
    s_api_stop (c);
    xs_volumes_destroy (&c->volumes);
    xs_jobs_destroy (&c->jobs);
    xs_placement_destroy (&c->placement);
    xs_agentsrv_destroy (&c->agents);
    xs_hosts_destroy (&c->hosts);
    xs_allowlist_destroy (&c->allowlist);
    xs_batch_destroy (&c->batch);
    zloop_destroy (&c->loop);
    xs_store_destroy (&c->store);
    char cmd [300];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", c->dir);
    assert_int_equal (system (cmd), 0);
    free (c);
    return 0;
}

/* The API on c's loop; a volume quota of quota_volumes (and 100,000 GiB),
   or none when -1. */
static void
s_api_start (s_cat_t *c, int quota_volumes)
{
    c->config = xs_catalog_cfg_new ();
    char text [256];
    snprintf (text, sizeof text, "[catalog]\napi_listen = 127.0.0.1:0\napi_auth = noauth\n"
              "api_quota_volumes = %d\napi_quota_gigabytes = %d\n", quota_volumes,
              quota_volumes < 0 ? -1 : 100000);
    xs_err_t err;
    assert_int_equal (xs_config_load_string (c->config, "test.cfg", text, &err), 0);
    xs_admin_deps_t deps = {.store = c->store, .config = c->config, .batch = c->batch};
    c->admin = xs_admin_new (&deps);
    xs_admin_set_agents (c->admin, c->volumes, c->agents);
    if (xs_cinder_new (c->loop, c->config, c->admin, c->store, &c->api, &err))
        fail_msg ("api: %s", err.msg);
    assert_non_null (c->api);
}

static void
s_api_stop (s_cat_t *c)
{
    xs_cinder_destroy (&c->api);
    xs_admin_destroy (&c->admin);
    xs_config_destroy (&c->config);
}

/* POST /v3/p1/volumes of a 1 GiB `gold` volume; its HTTP status, and the
   store statements it cost in *statements. */
static long
s_create (s_cat_t *c, uint64_t *statements)
{
    s_call_t call = {.status = 0};
    atomic_init (&call.done, false);
    snprintf (call.url, sizeof call.url, "%s/v3/p1/volumes", xs_cinder_endpoint (c->api));
    snprintf (call.body, sizeof call.body,
              "{\"volume\": {\"size\": 1, \"volume_type\": \"gold\"}}");
    uint64_t before = xs_store_statements (c->store);
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_client, &call), 0);
    int tick = zloop_timer (c->loop, 1, 0, s_on_tick, &call);
    zloop_start (c->loop);          /* until the client has its answer */
    zloop_timer_end (c->loop, tick);
    *statements = xs_store_statements (c->store) - before;
    pthread_join (thread, NULL);
    if (call.status == 202)         /* no agent: placed nowhere */
        assert_non_null (strstr (call.reply, "\"status\":\"error\""));
    return call.status;
}

/* The least cost of S_SAMPLES creates (all must be 202). */
static uint64_t
s_create_cost (s_cat_t *c)
{
    uint64_t least = UINT64_MAX;
    for (int i = 0; i < S_SAMPLES; i++) {
        uint64_t n = 0;
        assert_int_equal (s_create (c, &n), 202);
        if (n < least)
            least = n;
    }
    return least;
}

/* The reply's zone is its backend's: a create costs the same with 40 more
   backends in the catalog (it read all of them, and their config, per
   reply). */
static void
test_create_cost_ignores_other_backends (void **state)
{
    s_cat_t *c = (s_cat_t *) *state;
    s_api_start (c, -1);
    uint64_t few = s_create_cost (c);
    assert_true (xs_store_flavor_create (c->store, "other", "", NULL) > 0);
    for (int i = 0; i < 40; i++)
        s_backend (c, "other", "z2", i);
    uint64_t many = s_create_cost (c);
    print_message ("API create: %llu statements with 1 backend, %llu with 41\n",
                   (unsigned long long) few, (unsigned long long) many);
    assert_int_equal (many, few);
}

/* With no quota, a create counts nothing (one statement less than with a
   quota: the usage query); with a quota the count still refuses (413). */
static void
test_create_counts_usage_only_under_a_quota (void **state)
{
    s_cat_t *c = (s_cat_t *) *state;
    s_api_start (c, -1);
    uint64_t unlimited = s_create_cost (c);
    s_api_stop (c);
    s_api_start (c, 100);
    uint64_t limited = s_create_cost (c);
    s_api_stop (c);
    print_message ("API create: %llu statements without a quota, %llu with one\n",
                   (unsigned long long) unlimited, (unsigned long long) limited);
    assert_int_equal (limited, unlimited + 1);
    /* 2 * S_SAMPLES volumes live: a quota of that many refuses the next. */
    s_api_start (c, 2 * S_SAMPLES);
    uint64_t n = 0;
    assert_int_equal (s_create (c, &n), 413);
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_create_cost_ignores_other_backends, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_create_counts_usage_only_under_a_quota,
                                         s_setup, s_teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    curl_global_cleanup ();
    return rc;
}
