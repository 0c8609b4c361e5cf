/*  Unit tests for xs_metrics (GET /metrics): reason classes, and the text
    after real creates through placement and jobs against a real agent
    (catalog_fixture): counters, job latency, volumes by flavor and state,
    agents per zone, backend free space; no volume name in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "catalog_fixture.h"
#include "catalog/server/xs_metrics.h"
#include "common/xs_log.h"

static void
test_reason_classes (void **state)
{
    (void) state;
    assert_string_equal (xs_metrics_reason_class (XS_ATTEMPT_SKIPPED,
                                                  "no live agent in zone z1"), "no_agent");
    assert_string_equal (xs_metrics_reason_class (XS_ATTEMPT_SKIPPED,
                                                  "no space: 5 bytes allocated + 7 requested"),
                         "no_space");
    assert_string_equal (xs_metrics_reason_class (XS_ATTEMPT_SKIPPED,
                                                  "its SR (type x) lacks VDI_CREATE"),
                         "unsupported");
    assert_string_equal (xs_metrics_reason_class (XS_ATTEMPT_FAILED,
                                                  "SR_BACKEND_FAILURE_78: VDI creation failed"),
                         "agent_error");
    assert_string_equal (xs_metrics_reason_class (XS_ATTEMPT_SKIPPED, NULL), "other");
}

/* The sample line `line` (exact, up to the value) is in text. */
static void
s_has (const char *text, const char *line)
{
    if (!strstr (text, line))
        fail_msg ("not in /metrics: %s\n---\n%s", line, text);
}

static void
test_render_after_creates (void **state)
{
    fx_t *f = (fx_t *) *state;
    xs_metrics_t *m = xs_metrics_new ();
    xs_placement_set_metrics (f->placement, m);
    xs_jobs_set_metrics (f->jobs, m);
    xs_store_flavor_create (f->store, "gold", "", NULL);
    int64_t tiny = fx_backend (f, "gold", "z1", "tiny");
    int64_t fails = fx_backend (f, "gold", "z1", "fails");
    int64_t good = fx_backend (f, "gold", "z1", "good");
    fx_start_agent (f, "h1", "z1");
    fx_wait_ready (f, tiny, 1);
    fx_wait_ready (f, fails, 1);
    fx_wait_ready (f, good, 1);
    fx_result_t r = fx_create (f, "gold", 1073741824LL, NULL);
    assert_false (r.failed);
    json_decref (r.reply);

    size_t len = 0;
    xs_err_t err;
    char *text = xs_metrics_render (m, f->store, f->hosts, &len, &err);
    assert_non_null (text);
    assert_int_equal (strlen (text), len);
    s_has (text, "# TYPE xensm_volume_creates_total counter\n");
    s_has (text, "xensm_volume_creates_total{outcome=\"available\"} 1\n");
    s_has (text, "xensm_volume_creates_total{outcome=\"error\"} 0\n");
    s_has (text, "xensm_placement_attempts_total{outcome=\"ok\",reason=\"other\"} 1\n");
    s_has (text, "xensm_placement_attempts_total{outcome=\"failed\",reason=\"agent_error\"} 1\n");
    s_has (text, "xensm_placement_attempts_total{outcome=\"skipped\",reason=\"no_space\"} 1\n");
    s_has (text, "xensm_job_duration_seconds_count{op=\"vdi_create\",outcome=\"ok\"} 1\n");
    s_has (text, "xensm_job_duration_seconds_bucket{op=\"vdi_create\",outcome=\"ok\",le=\"+Inf\"} 1\n");
    s_has (text, "xensm_volumes{flavor=\"gold\",state=\"available\"} 1\n");
    s_has (text, "xensm_agents{zone=\"z1\",state=\"up\"} 1\n");
    s_has (text, "xensm_agents{zone=\"z1\",state=\"down\"} 0\n");
    char line [96];
    snprintf (line, sizeof line, "xensm_backend_free_bytes{backend=\"%lld\",zone=\"z1\"} ",
              (long long) good);
    s_has (text, line);
    /* fx_create names its volumes "vol": never a label value. */
    assert_null (strstr (text, "\"vol\""));
    free (text);
    xs_placement_set_metrics (f->placement, NULL);
    xs_jobs_set_metrics (f->jobs, NULL);
    xs_metrics_destroy (&m);
    assert_null (m);
}

int
main (void)
{
    xs_log_init ("test_metrics", false, getenv ("XS_TEST_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_reason_classes),
        cmocka_unit_test_setup_teardown (test_render_after_creates, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
