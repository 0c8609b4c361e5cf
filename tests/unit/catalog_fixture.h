/*  catalog_fixture: the catalog's server classes on a loop, with real
    agents. A real store in a temp dir, the real agent server (CURVE,
    zauth, enrolled keys), placement, jobs and volumes, and xs_agent actors
    whose executor is scripted here (SRs named "tiny" are 1 MiB, "fails"
    fail VDI.create, "nosnap" lack VDI_SNAPSHOT, "nocreate" lack VDI_CREATE,
    "noresize" refuse vdi_resize; agents named "nonfs*" report SM drivers
    without nfs). Shared by test_volumes,
    test_placement, test_jobs, test_agentsrv and test_hosts.
*/
#ifndef CATALOG_FIXTURE_H_INCLUDED
#define CATALOG_FIXTURE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <czmq.h>
#include <jansson.h>

#include "catalog/server/xs_agentsrv.h"
#include "catalog/server/xs_allowlist.h"
#include "catalog/server/xs_hosts.h"
#include "catalog/server/xs_batch.h"
#include "catalog/server/xs_jobs.h"
#include "catalog/server/xs_placement.h"
#include "catalog/server/xs_reply.h"
#include "catalog/server/xs_volumes.h"
#include "hostagent/xs_agent.h"

#define FX_MAX_AGENTS 16

typedef struct {
    char dir [128];
    char db [200];
    char cert [200];
    char keys [200];
    xs_store_t *store;
    zloop_t *loop;
    xs_batch_t *batch;
    xs_allowlist_t *allowlist;
    xs_hosts_t *hosts;
    xs_agentsrv_t *agents;
    xs_placement_t *placement;
    xs_jobs_t *jobs;
    xs_volumes_t *volumes;
    struct {
        char host [16];
        char cert [200];
        xs_agent_t *agent;
        zactor_t *actor;
    } peers [FX_MAX_AGENTS];
    int npeers;
    int heartbeat_ms;           /* the catalog's; 0 for 100 ms            */
    int placed_ttl_ms;          /* placement's; 0 for its default (60 s)  */
} fx_t;

/* What the scripted executor has done so far. */
typedef struct {
    int sr_creates;             /* sr_attach that made an SR */
    int vdi_creates;
    int vdi_destroys;
    int sr_detaches;
} fx_counts_t;

/* cmocka setup/teardown: a temp dir, a catalog certificate, the catalog. */
int fx_setup (void **state);
int fx_teardown (void **state);

void fx_start_catalog (fx_t *f);
void fx_stop_catalog (fx_t *f);

/* Starts agent `host` in `zone`, its key enrolled (kept across restarts). */
void fx_start_agent (fx_t *f, const char *host, const char *zone);

/* Makes agent `host`'s certificate (when missing) without enrolling it;
   its public certificate's path in *cert (size bytes). */
void fx_make_agent_cert (fx_t *f, const char *host, char *cert, size_t size);

/* Starts agent `host` in `zone` without enrolling its key. */
void fx_start_agent_as_is (fx_t *f, const char *host, const char *zone);
void fx_stop_agents (fx_t *f);

typedef bool (fx_pred_fn) (fx_t *f, void *arg);

/* Runs the loop until pred (f, arg) holds (true) or timeout_ms passed. */
bool fx_run_until (fx_t *f, fx_pred_fn *pred, void *arg, int timeout_ms);

/* A backend of `flavor` in `zone` whose SR will be named `name` (nfs, a
   password "s3cret" in its config). Returns its id. */
int64_t fx_backend (fx_t *f, const char *flavor, const char *zone, const char *name);

/* The same with SR type sr_type (the nfs keys: the store does not check). */
int64_t fx_backend_typed (fx_t *f, const char *flavor, const char *zone, const char *name,
                          const char *sr_type);

/* Reconciles and waits until backend `id` is attached on `hosts` hosts
   with stats reported. */
void fx_wait_ready (fx_t *f, int64_t id, int hosts);

/* An answer to a volume command: the volume, or the failure. */
typedef struct {
    bool done;
    json_t *reply;              /* the volume (caller decrefs)        */
    xs_err_t err;
    bool failed;
} fx_result_t;

/* A reply whose answer lands in *r. */
xs_reply_t *fx_reply (fx_result_t *r);

/* Whether r was answered (an fx_pred_fn). */
bool fx_is_done (fx_t *f, void *arg);

/* Creates a volume named "vol" and waits for the answer. */
fx_result_t fx_create (fx_t *f, const char *flavor, int64_t size, const char *request_id);

/* The executor's counters, and whether it holds a VDI for volume `uuid`. */
fx_counts_t fx_counts (void);
bool fx_vdi_exists (const char *uuid);

/* Whether a VDI call for volume `uuid` (create, or the new volume of a
   clone or snapshot) carried `resumed: true`. */
bool fx_vdi_resumed (const char *uuid);

/* obj [key] as a string, or NULL. */
const char *fx_jstr (json_t *obj, const char *key);

#endif
