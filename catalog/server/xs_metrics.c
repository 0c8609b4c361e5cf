/*  xs_metrics: counters kept as things happen, gauges read when scraped. */
#include "xs_metrics.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_mem.h"
#include "xs_prom.h"

static const char *const s_reasons [] = {
    "no_agent", "no_space", "not_attached", "unsupported", "agent_error", "other"
};
#define S_NREASONS (sizeof s_reasons / sizeof s_reasons [0])
#define S_NOUTCOMES 3           /* ok, failed, skipped */

/* Job latency buckets, seconds: a VDI.create is tens of ms, an SR.create
   on a slow array minutes. */
static const double s_bounds [] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
                                    30, 60, 120, 300 };

struct _xs_metrics_t {
    uint64_t creates [2];                           /* [ok] */
    uint64_t attempts [S_NOUTCOMES][S_NREASONS];
    xs_histo_t *latency [XS_OP_COUNT][2];           /* [op][ok], made on first use */
};

xs_metrics_t *
xs_metrics_new (void)
{
    return xs_zalloc (sizeof (xs_metrics_t));
}

void
xs_metrics_destroy (xs_metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_metrics_t *self = *self_p;
    for (int op = 0; op < XS_OP_COUNT; op++)
        for (int ok = 0; ok < 2; ok++)
            xs_histo_destroy (&self->latency [op][ok]);
    free (self);
    *self_p = NULL;
}

void
xs_metrics_create_done (xs_metrics_t *self, bool ok)
{
    if (self)
        self->creates [ok ? 1 : 0]++;
}

const char *
xs_metrics_reason_class (xs_attempt_outcome_t outcome, const char *reason)
{
    static const struct { const char *needle; const char *class; } rules [] = {
        { "no live agent", "no_agent" },   { "no space", "no_space" },
        { "not attached", "not_attached" }, { "lacks", "unsupported" },
        { "LUN per VDI", "unsupported" },  { "driver", "unsupported" },
        { "unusable", "unsupported" },
    };
    for (size_t i = 0; reason && i < sizeof rules / sizeof rules [0]; i++)
        if (strstr (reason, rules [i].needle))
            return rules [i].class;
    return outcome == XS_ATTEMPT_FAILED ? "agent_error" : "other";
}

void
xs_metrics_attempt (xs_metrics_t *self, xs_attempt_outcome_t outcome, const char *reason)
{
    if (!self || (int) outcome < 0 || (int) outcome >= S_NOUTCOMES)
        return;
    const char *class = xs_metrics_reason_class (outcome, reason);
    for (size_t r = 0; r < S_NREASONS; r++)
        if (strcmp (s_reasons [r], class) == 0)
            self->attempts [outcome][r]++;
}

void
xs_metrics_job_done (xs_metrics_t *self, xs_op_t op, bool ok, double seconds)
{
    if (!self || op <= XS_OP_NONE || op >= XS_OP_COUNT)
        return;
    xs_histo_t **h = &self->latency [op][ok ? 1 : 0];
    if (!*h)
        *h = xs_histo_new (s_bounds, sizeof s_bounds / sizeof s_bounds [0]);
    xs_histo_observe (*h, seconds);
}

/* ---------------------------------------------------------------------
   Rendering
   --------------------------------------------------------------------- */

static void
s_render_counters (xs_metrics_t *self, xs_prom_t *p)
{
    xs_prom_family (p, "xensm_volume_creates_total", XS_PROM_COUNTER,
                    "Volume creates that ended, by outcome.");
    xs_prom_sample (p, (double) self->creates [1], "outcome", "available", NULL);
    xs_prom_sample (p, (double) self->creates [0], "outcome", "error", NULL);
    xs_prom_family (p, "xensm_placement_attempts_total", XS_PROM_COUNTER,
                    "Placement attempts of volume creates, by outcome and reason class.");
    for (int o = 0; o < S_NOUTCOMES; o++)
        for (size_t r = 0; r < S_NREASONS; r++)
            if (self->attempts [o][r])
                xs_prom_sample (p, (double) self->attempts [o][r], "outcome",
                                xs_attempt_outcome_name ((xs_attempt_outcome_t) o),
                                "reason", s_reasons [r], NULL);
    xs_prom_family (p, "xensm_job_duration_seconds", XS_PROM_HISTOGRAM,
                    "Jobs from start to end (the agent's work included), by operation and "
                    "outcome.");
    for (int op = 1; op < XS_OP_COUNT; op++)
        for (int ok = 1; ok >= 0; ok--)
            if (self->latency [op][ok])
                xs_prom_histogram (p, self->latency [op][ok], "op", xs_op_name ((xs_op_t) op),
                                   "outcome", ok ? "ok" : "failed", NULL);
}

static int
s_render_volumes (xs_prom_t *p, xs_store_t *store, xs_err_t *err)
{
    json_t *counts = xs_store_volume_counts (store, err);
    if (!counts)
        return -1;
    xs_prom_family (p, "xensm_volumes", XS_PROM_GAUGE,
                    "Volumes not deleted, by flavor and state.");
    size_t i;
    json_t *c;
    json_array_foreach (counts, i, c) {
        const char *flavor = json_string_value (json_object_get (c, "flavor"));
        xs_prom_sample (p, (double) json_integer_value (json_object_get (c, "count")),
                        "flavor", flavor ? flavor : "", "state",
                        json_string_value (json_object_get (c, "state")), NULL);
    }
    json_decref (counts);
    return 0;
}

static int
s_render_hosts (xs_prom_t *p, xs_store_t *store, xs_hosts_t *hosts, xs_err_t *err)
{
    xs_host_t **rows = xs_store_host_list (store, NULL, err);
    if (!rows)
        return -1;
    xs_prom_family (p, "xensm_agents", XS_PROM_GAUGE,
                    "Registered host agents, by zone and state (up: heartbeating now).");
    /* Rows come ordered by zone: one up and one down sample per zone. */
    for (xs_host_t **h = rows; *h; ) {
        const char *zone = (*h)->zone;
        int up = 0, down = 0;
        for (; *h && strcmp ((*h)->zone, zone) == 0; h++) {
            xs_live_host_t *live = xs_hosts_get (hosts, (*h)->uuid);
            if (live && live->up)
                up++;
            else
                down++;
        }
        xs_prom_sample (p, up, "zone", zone, "state", "up", NULL);
        xs_prom_sample (p, down, "zone", zone, "state", "down", NULL);
    }
    xs_host_list_destroy (&rows);
    return 0;
}

static int
s_render_backends (xs_prom_t *p, xs_store_t *store, xs_hosts_t *hosts, xs_err_t *err)
{
    xs_backend_t **rows = xs_store_backend_list (store, err);
    if (!rows)
        return -1;
    xs_prom_family (p, "xensm_backend_free_bytes", XS_PROM_GAUGE,
                    "Free space of each backend's SR (physical size less utilisation), as "
                    "its hosts last reported it; absent before the first report.");
    for (xs_backend_t **b = rows; *b; b++) {
        xs_hosts_sr_t sr = { 0 };
        xs_hosts_sr_info (hosts, (*b)->zone, (*b)->id, &sr);
        if (!sr.has_stats)
            continue;
        char id [24];
        snprintf (id, sizeof id, "%lld", (long long) (*b)->id);
        xs_prom_sample (p, (double) (sr.physical_size - sr.physical_utilisation),
                        "backend", id, "zone", (*b)->zone, NULL);
    }
    xs_backend_list_destroy (&rows);
    return 0;
}

char *
xs_metrics_render (xs_metrics_t *self, xs_store_t *store, xs_hosts_t *hosts, size_t *len,
                   xs_err_t *err)
{
    xs_prom_t *p = xs_prom_new ();
    char *text = NULL;
    s_render_counters (self, p);
    if (s_render_volumes (p, store, err) == 0 && s_render_hosts (p, store, hosts, err) == 0
    &&  s_render_backends (p, store, hosts, err) == 0)
        text = xs_prom_take (p, len);
    xs_prom_destroy (&p);
    return text;
}
