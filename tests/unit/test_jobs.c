/*  Unit tests for xs_jobs: the journal resumed after a restart goes back
    to the host that had the job, which completes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "catalog_fixture.h"
#include "common/xs_log.h"

static bool
s_volume_available (fx_t *f, void *arg)
{
    xs_volume_t *v = xs_store_volume_get (f->store, (const char *) arg, NULL);
    bool ok = v && v->state == XS_VOLUME_AVAILABLE && v->vdi_uuid;
    xs_volume_destroy (&v);
    return ok;
}

/* Flavor gold with backend "one" in z1, made ready by agent h1, which is
   then stopped. Returns the backend's id. */
static int64_t
s_gold_ready (fx_t *f)
{
    xs_store_flavor_create (f->store, "gold", "", NULL);
    int64_t b = fx_backend (f, "gold", "z1", "one");
    fx_start_agent (f, "h1", "z1");
    fx_wait_ready (f, b, 1);
    fx_stop_agents (f);
    return b;
}

/* What a crash after a create's commit and before the send leaves: a
   creating volume `uuid` (request id `request_id` or none) and, with
   `dispatched`, its vdi_create job on backend b, host h1. */
static void
s_creating (fx_t *f, int64_t b, const char *uuid, const char *request_id, bool dispatched)
{
    xs_flavor_t *gold = xs_store_flavor_get (f->store, "gold", NULL);
    xs_volume_spec_t vol = {.uuid = uuid, .size_bytes = 4096, .flavor_id = gold->id,
                            .state = XS_VOLUME_CREATING, .request_id = request_id};
    assert_int_equal (xs_store_volume_insert (f->store, &vol, NULL), 0);
    xs_flavor_destroy (&gold);
    if (!dispatched)
        return;
    char args [200];
    snprintf (args, sizeof args, "{\"sr_uuid\":\"sr-one\",\"volume_uuid\":\"%s\","
              "\"size\":4096}", uuid);
    xs_job_spec_t job = {.volume_uuid = uuid, .op = "vdi_create", .args = args,
                         .state = XS_JOB_DISPATCHED, .backend_id = b, .host_uuid = "h1"};
    assert_true (xs_store_job_insert (f->store, &job, NULL) > 0);
}

/* A job resumed after a restart goes back to its host, which completes
   it; the resumed call says so (`resumed: true`: the agent then waits for
   any call of the old catalog still running), a new create does not. */
static void
test_restart_resumes_committed_jobs (void **state)
{
    fx_t *f = (fx_t *) *state;
    const char *uuid = "11111111-2222-3333-4444-555555555555";
    s_creating (f, s_gold_ready (f), uuid, NULL, true);

    fx_stop_catalog (f);
    fx_start_catalog (f);
    xs_err_t err;
    assert_int_equal (xs_jobs_resume (f->jobs, &err), 1);
    assert_int_equal (xs_jobs_active (f->jobs), 1);
    /* The agent comes back (a new process, same key): the job completes. */
    f->npeers = 0;
    fx_start_agent (f, "h1", "z1");
    assert_true (fx_run_until (f, s_volume_available, (void *) uuid, 5000));
    assert_int_equal (xs_jobs_active (f->jobs), 0);
    xs_job_t **unfinished = xs_store_job_list_unfinished (f->store, NULL);
    assert_int_equal (xs_rows_list_size (unfinished), 0);
    xs_job_list_destroy (&unfinished);
    assert_true (fx_vdi_resumed (uuid));

    fx_result_t fresh = fx_create (f, "gold", 4096, NULL);
    assert_false (fresh.failed);
    assert_false (fx_vdi_resumed (fx_jstr (fresh.reply, "uuid")));
    json_decref (fresh.reply);
}

/* A create still waiting for its zone's agents when the catalog stopped
   left a `creating` volume and no job: at the next start it goes to error
   (its request id may be asked again); one with a job is resumed. */
static void
test_restart_settles_creates_never_placed (void **state)
{
    fx_t *f = (fx_t *) *state;
    const char *waiting = "41111111-2222-3333-4444-555555555555";
    const char *placed = "51111111-2222-3333-4444-555555555555";
    int64_t b = s_gold_ready (f);
    s_creating (f, b, waiting, "r-waiting", false);
    s_creating (f, b, placed, NULL, true);

    fx_stop_catalog (f);
    fx_start_catalog (f);
    xs_err_t err;
    assert_int_equal (xs_jobs_resume (f->jobs, &err), 1);
    xs_volume_t *v = xs_store_volume_get (f->store, waiting, NULL);
    assert_non_null (v);
    assert_int_equal (v->state, XS_VOLUME_ERROR);
    assert_non_null (strstr (v->error, "stopped before it was placed"));
    xs_volume_destroy (&v);
    v = xs_store_volume_get (f->store, placed, NULL);
    assert_int_equal (v->state, XS_VOLUME_CREATING);
    xs_volume_destroy (&v);
}

#define S_EXT_OK  "21111111-2222-3333-4444-555555555555"
#define S_EXT_BAD "31111111-2222-3333-4444-555555555555"

static bool
s_extended (fx_t *f, void *arg)
{
    xs_volume_t *v = xs_store_volume_get (f->store, S_EXT_OK, NULL);
    bool ok = v && v->state == XS_VOLUME_AVAILABLE && v->size_bytes == 8192;
    xs_volume_destroy (&v);
    return ok;
}

/* A restart while two extends were in flight: the one whose journal row
   can run again is resumed and completes (available, the new size); the
   one that cannot (its args lost) settles as error_extending, never stays
   extending. */
static void
test_restart_resumes_or_settles_extends (void **state)
{
    fx_t *f = (fx_t *) *state;
    int64_t b = s_gold_ready (f);
    xs_flavor_t *gold = xs_store_flavor_get (f->store, "gold", NULL);
    const char *const uuids [] = { S_EXT_OK, S_EXT_BAD };
    for (int i = 0; i < 2; i++) {
        xs_volume_spec_t vol = {.uuid = uuids [i], .size_bytes = 4096, .flavor_id = gold->id,
                                .backend_id = b, .vdi_uuid = uuids [i], .host_uuid = "h1",
                                .state = XS_VOLUME_EXTENDING};
        assert_int_equal (xs_store_volume_insert (f->store, &vol, NULL), 0);
        xs_job_spec_t job = {.volume_uuid = vol.uuid, .op = "vdi_resize",
                             .args = i == 0 ? "{\"sr_uuid\":\"sr-one\",\"volume_uuid\":\""
                                              S_EXT_OK "\",\"size\":8192}" : "lost",
                             .state = XS_JOB_DISPATCHED, .backend_id = b, .host_uuid = "h1"};
        assert_true (xs_store_job_insert (f->store, &job, NULL) > 0);
    }
    xs_flavor_destroy (&gold);

    fx_stop_catalog (f);
    fx_start_catalog (f);
    xs_err_t err;
    assert_int_equal (xs_jobs_resume (f->jobs, &err), 1);
    assert_int_equal (xs_jobs_running (f->jobs, S_EXT_OK), XS_OP_VDI_RESIZE);
    xs_volume_t *v = xs_store_volume_get (f->store, S_EXT_BAD, NULL);
    assert_int_equal (v->state, XS_VOLUME_ERROR_EXTENDING);
    assert_int_equal (v->size_bytes, 4096);
    assert_non_null (strstr (v->error, "could not be resumed"));
    xs_volume_destroy (&v);
    f->npeers = 0;
    fx_start_agent (f, "h1", "z1");
    assert_true (fx_run_until (f, s_extended, NULL, 5000));
    assert_int_equal (xs_jobs_active (f->jobs), 0);
}

int
main (void)
{
    xs_log_init ("test_jobs", false, getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_restart_resumes_committed_jobs, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_restart_settles_creates_never_placed, fx_setup,
                                         fx_teardown),
        cmocka_unit_test_setup_teardown (test_restart_resumes_or_settles_extends, fx_setup,
                                         fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
