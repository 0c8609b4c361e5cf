/*  xs_agent_srs: the SRs the agent attached for the catalog, by backend id,
    with their last stats and what the heartbeats carry of them.

    Heartbeats carry the SRs whose stats changed since they were last sent,
    and every SR on every XS_AGENT_SRS_FULL_EVERY-th one (and on the first
    after xs_agent_srs_send_all): a catalog with a thousand backends does
    not decode a thousand unchanged entries per host and second.

    Used by the agent's message loop only (one thread). */
#ifndef XS_AGENT_SRS_H_INCLUDED
#define XS_AGENT_SRS_H_INCLUDED

#include <stdint.h>
#include <jansson.h>

#define XS_AGENT_SRS_FULL_EVERY 10

typedef struct _xs_agent_srs_t xs_agent_srs_t;

/* An empty table. */
xs_agent_srs_t *xs_agent_srs_new (void);

/* Frees the table; NULLs *self_p; idempotent. */
void xs_agent_srs_destroy (xs_agent_srs_t **self_p);

/* Tracks backend_id's SR sr_uuid. The same SR again keeps its stats; another
   SR replaces the entry (and its stats). */
void xs_agent_srs_put (xs_agent_srs_t *self, int64_t backend_id, const char *sr_uuid);

/* Stops tracking backend_id's SR (nothing if it is not tracked). */
void xs_agent_srs_remove (xs_agent_srs_t *self, int64_t backend_id);

/* Number of SRs tracked. */
size_t xs_agent_srs_size (xs_agent_srs_t *self);

/* Called by xs_agent_srs_refresh for an SR whose stats are due. */
typedef void (xs_agent_srs_refresh_fn) (void *arg, int64_t backend_id, const char *sr_uuid);

/* Calls `fn` (with arg) for every SR without a refresh under way, and marks
   each as under way until xs_agent_srs_stats_done. */
void xs_agent_srs_refresh (xs_agent_srs_t *self, xs_agent_srs_refresh_fn *fn, void *arg);

/* Ends backend_id's refresh: with fresh stats (*stats_p taken and NULLed),
   or a failed one (stats_p NULL; the last stats stay). 0, or -1 when the
   SR is no longer tracked (nothing is taken). */
int xs_agent_srs_stats_done (xs_agent_srs_t *self, int64_t backend_id, json_t **stats_p);

/* Fresh stats (an sr_stats object, its sr_uuid naming the SR) from
   xapi's events: they replace the stats of every tracked SR of that uuid
   (a reference is kept); an SR not tracked is ignored. */
void xs_agent_srs_set_stats (xs_agent_srs_t *self, json_t *stats);

/* SRs that changed, from xapi's events (an xs_agent_watch_fn, arg: the
   xs_agent_srs_t): xs_agent_srs_set_stats of each. */
void xs_agent_srs_on_changes (void *arg, const json_t *srs);

/* The next heartbeat's "srs" array (the caller owns it): each entry is the
   SR's stats with backend_id, sr_uuid and capabilities (an array, [] when
   the stats have none). SRs without stats yet are left out. */
json_t *xs_agent_srs_heartbeat (xs_agent_srs_t *self);

/* The next heartbeat carries every SR (a catalog that welcomed the agent
   again may have restarted and know none). */
void xs_agent_srs_send_all (xs_agent_srs_t *self);

#endif
