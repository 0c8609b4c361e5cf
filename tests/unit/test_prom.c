/*  Unit tests for xs_prom: the Prometheus text format. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "catalog/api/xs_prom.h"

static void
test_counters_and_gauges (void **state)
{
    xs_prom_t *p = xs_prom_new ();
    xs_prom_family (p, "xensm_volumes", XS_PROM_GAUGE, "Volumes by state\nand flavor \\ all.");
    xs_prom_sample (p, 12, "state", "available", "flavor", "gold", NULL);
    xs_prom_sample (p, 0.25, "state", "error", "flavor", "a\"b\\c\nd", NULL);
    xs_prom_family (p, "xensm_creates_total", XS_PROM_COUNTER, "Creates.");
    xs_prom_sample (p, 9007199254740993.0, NULL);
    xs_prom_sample (p, INFINITY, "x", "1", NULL);
    xs_prom_sample (p, NAN, "x", "2", NULL);
    xs_prom_sample (p, 0.1, "x", "3", NULL);
    size_t len;
    char *text = xs_prom_take (p, &len);
    assert_int_equal (strlen (text), len);
    assert_string_equal (text,
        "# HELP xensm_volumes Volumes by state\\nand flavor \\\\ all.\n"
        "# TYPE xensm_volumes gauge\n"
        "xensm_volumes{state=\"available\",flavor=\"gold\"} 12\n"
        "xensm_volumes{state=\"error\",flavor=\"a\\\"b\\\\c\\nd\"} 0.25\n"
        "# HELP xensm_creates_total Creates.\n"
        "# TYPE xensm_creates_total counter\n"
        "xensm_creates_total 9007199254740992\n"
        "xensm_creates_total{x=\"1\"} +Inf\n"
        "xensm_creates_total{x=\"2\"} NaN\n"
        "xensm_creates_total{x=\"3\"} 0.1\n");
    free (text);
    text = xs_prom_take (p, &len);      /* a fresh start */
    assert_int_equal (len, 0);
    free (text);
    xs_prom_destroy (&p);
    xs_prom_destroy (&p);
}

static void
test_histograms (void **state)
{
    static const double bounds [] = {0.005, 0.1, 2.5};
    xs_histo_t *h = xs_histo_new (bounds, 3);
    xs_histo_observe (h, 0.001);
    xs_histo_observe (h, 0.005);        /* le is inclusive */
    xs_histo_observe (h, 0.05);
    xs_histo_observe (h, 7);
    assert_int_equal (xs_histo_count (h), 4);
    xs_prom_t *p = xs_prom_new ();
    xs_prom_family (p, "xensm_job_seconds", XS_PROM_HISTOGRAM, "Job latency.");
    xs_prom_histogram (p, h, "op", "create", NULL);
    char *text = xs_prom_take (p, NULL);
    assert_string_equal (text,
        "# HELP xensm_job_seconds Job latency.\n"
        "# TYPE xensm_job_seconds histogram\n"
        "xensm_job_seconds_bucket{op=\"create\",le=\"0.005\"} 2\n"
        "xensm_job_seconds_bucket{op=\"create\",le=\"0.1\"} 3\n"
        "xensm_job_seconds_bucket{op=\"create\",le=\"2.5\"} 3\n"
        "xensm_job_seconds_bucket{op=\"create\",le=\"+Inf\"} 4\n"
        "xensm_job_seconds_sum{op=\"create\"} 7.056\n"
        "xensm_job_seconds_count{op=\"create\"} 4\n");
    free (text);
    xs_prom_destroy (&p);
    xs_histo_destroy (&h);
    xs_histo_destroy (&h);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_counters_and_gauges),
        cmocka_unit_test (test_histograms),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
