/*  xs_catalog_server: the running catalog, wired together. */
#include "xs_catalog_server.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xs_admin.h"
#include "xs_admin_socket.h"
#include "xs_batch.h"
#include "xs_catalog_cfg.h"
#include "xs_cinder.h"
#include "xs_cert.h"
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_agentsrv.h"
#include "xs_jobs.h"
#include "xs_metrics.h"
#include "xs_orphans.h"
#include "xs_placement.h"
#include "xs_volumes.h"

struct _xs_catalog_server_t {
    const xs_config_t *config;      /* borrowed                               */
    xs_store_t *store;
    zloop_t *loop;
    xs_batch_t *batch;              /* the loop's group commit                */
    xs_allowlist_t *allowlist;      /* the agent keys admitted                */
    xs_hosts_t *hosts;              /* the live host registry                 */
    xs_agentsrv_t *agents;          /* the agent socket                       */
    xs_placement_t *placement;      /* first fit                              */
    xs_jobs_t *jobs;                /* the job journal in memory              */
    xs_volumes_t *volumes;          /* the volume commands                    */
    xs_orphans_t *orphans;          /* the orphan sweep                       */
    xs_admin_t *admin;              /* the command table                      */
    xs_admin_socket_t *socket;      /* the admin endpoint                     */
    xs_cinder_t *api;               /* the Block Storage API (NULL: off)      */
    xs_metrics_t *metrics;          /* what GET /metrics tells                */
    int resumed;                    /* jobs resumed at start                  */
    /* Leadership (xs_store_lead): several catalogd on one PostgreSQL. */
    bool shared;                    /* PostgreSQL: others may share the db    */
    bool leading;
    bool failed;                    /* could not start leading                */
    bool step_down;                 /* fenced: follow, outside the loop pass  */
    int64_t generation;             /* the one it leads with                  */
    char *instance;                 /* this catalogd's name                   */
    xs_store_instance_t me;         /* its name, addresses and lease          */
};

/* Starts the agent side: the catalog certificate (made on first start),
   the agent socket, placement, jobs and volumes, and resumes the journal. */
static int
s_start_agents (xs_catalog_server_t *self, xs_err_t *err)
{
    const xs_config_t *config = self->config;
    const char *cert = xs_config_get (config, XS_CATALOG_SECTION, "cert");
    bool created = false;
    if (!cert || !*cert)
        return xs_err_set (err, XS_EINVAL, "no catalog certificate path (set cert in [catalog])");
    if (xs_cert_ensure (cert, &created, err))
        return -1;
    if (created)
        xs_notice ("made the catalog certificate %s (copy it to every host as the agent's "
                   "catalog_key)", cert);
    xs_placement_cfg_t placement_cfg = {
        .default_ratio = xs_config_double (config, XS_CATALOG_SECTION, "default_ratio", 1.0),
        .default_reserve = xs_config_double (config, XS_CATALOG_SECTION, "default_reserve", 0),
    };
    xs_jobs_cfg_t jobs_cfg = {
        .wait_ms = (int) xs_config_int (config, XS_CATALOG_SECTION, "job_wait_ms", 30000),
    };
    xs_agentsrv_cfg_t agents_cfg = {
        .endpoint = xs_config_get (config, XS_CATALOG_SECTION, "agent_endpoint"),
        .cert_file = cert,
        .heartbeat_ms = (int) xs_config_int (config, XS_CATALOG_SECTION, "heartbeat_ms", 1000),
        .request_timeout_ms = (int) xs_config_int (config, XS_CATALOG_SECTION,
                                                   "agent_timeout_ms", 360000),
    };
    self->allowlist = xs_allowlist_new (xs_config_get (config, XS_CATALOG_SECTION, "agent_keys"),
                                        err);
    if (!self->allowlist)
        return -1;
    self->hosts = xs_hosts_new ();
    xs_agentsrv_deps_t deps = {.store = self->store, .batch = self->batch, .loop = self->loop,
                               .hosts = self->hosts, .allowlist = self->allowlist};
    self->agents = xs_agentsrv_new (&agents_cfg, &deps, err);
    if (!self->agents)
        return -1;
    self->placement = xs_placement_new (&placement_cfg, self->store, self->batch, self->hosts);
    self->jobs = xs_jobs_new (&jobs_cfg, self->store, self->batch, self->loop, self->agents,
                              self->hosts, self->placement);
    self->volumes = xs_volumes_new (self->store, self->batch, self->hosts, self->jobs);
    xs_orphans_cfg_t orphans_cfg = {
        .interval_ms = (int) xs_config_int (config, XS_CATALOG_SECTION, "orphan_sweep_ms", 600000),
        .grace_ms = (int) xs_config_int (config, XS_CATALOG_SECTION, "orphan_grace_ms", 3600000),
    };
    self->orphans = xs_orphans_new (&orphans_cfg, self->store, self->loop, self->agents,
                                    self->hosts, self->jobs);
    xs_admin_set_orphans (self->admin, self->orphans);
    /* Counts survive a step down: /metrics is the process's. */
    if (!self->metrics)
        self->metrics = xs_metrics_new ();
    xs_placement_set_metrics (self->placement, self->metrics);
    xs_jobs_set_metrics (self->jobs, self->metrics);
    xs_admin_set_agents (self->admin, self->volumes, self->agents);
    xs_admin_set_info (self->admin, "agent_endpoint", xs_agentsrv_endpoint (self->agents));
    zcert_t *public = zcert_load (cert);
    if (public) {
        xs_admin_set_info (self->admin, "catalog_key", zcert_public_txt (public));
        zcert_destroy (&public);
    }
    self->resumed = xs_jobs_resume (self->jobs, err);
    if (self->resumed < 0)
        return xs_err_prefix (err, "resuming the job journal");
    if (xs_batch_flush (self->batch))
        return xs_err_set (err, XS_EIO, "resuming the job journal: commit failed");
    return 0;
}

/* Starts what only the leader runs: the agent side (the journal resumes)
   and /metrics; then advertises the bound addresses. */
static int
s_become_leader (xs_catalog_server_t *self, xs_err_t *err)
{
    if (s_start_agents (self, err))
        return -1;
    if (self->api)
        xs_cinder_set_metrics (self->api, self->metrics, self->hosts);
    self->me.agent_endpoint = xs_agentsrv_endpoint (self->agents);
    self->leading = true;
    xs_store_leader_t leader;
    if (xs_store_lead (self->store, &self->me, &leader, err) != 1)
        return xs_err_prefix (err, "advertising the leader's addresses");
    self->generation = leader.generation;
    xs_admin_set_leader (self->admin, true, &leader);
    return 0;
}

/* A fenced leader becomes a follower: what only the leader runs goes (the
   pending commit fails: nothing of it is acknowledged; clients waiting for
   a job are answered, the job resumes on the new leader). */
static void
s_step_down (xs_catalog_server_t *self)
{
    xs_batch_flush (self->batch);
    if (self->api)                          /* it stays, for reads       */
        xs_cinder_set_metrics (self->api, NULL, NULL);
    xs_admin_set_agents (self->admin, NULL, NULL);
    xs_admin_set_orphans (self->admin, NULL);
    xs_orphans_destroy (&self->orphans);
    xs_volumes_destroy (&self->volumes);
    xs_jobs_destroy (&self->jobs);
    xs_placement_destroy (&self->placement);
    xs_agentsrv_destroy (&self->agents);
    xs_hosts_destroy (&self->hosts);
    xs_allowlist_destroy (&self->allowlist);
    xs_batch_flush (self->batch);
    self->leading = false;
    self->me.agent_endpoint = xs_config_get (self->config, XS_CATALOG_SECTION,
                                             "agent_endpoint");
    xs_store_leader_t leader;
    if (xs_store_leader_get (self->store, &leader, NULL) == 0)
        xs_admin_set_leader (self->admin, false, &leader);
    else
        xs_admin_set_leader (self->admin, false, NULL);
}

/* Every leader_retry_ms: the leader renews its lease (or, fenced, steps
   down to follower); a follower tries to lead and keeps who leads for its
   refusals. */
static int
s_on_lead_tick (zloop_t *loop, int timer_id, void *arg)
{
    xs_catalog_server_t *self = (xs_catalog_server_t *) arg;
    if (xs_store_in_transaction (self->store))
        xs_batch_flush (self->batch);
    xs_err_t err = { 0 };
    xs_store_leader_t leader;
    if (self->leading && xs_store_fenced (self->store))
        xs_err_set (&err, XS_ENOTLEADER, "fenced by a transaction");
    int rc = err.kind ? -1 : xs_store_lead (self->store, &self->me, &leader, &err);
    if (self->leading) {
        if (rc == 1 && leader.generation == self->generation) {
            xs_admin_set_leader (self->admin, true, &leader);   /* the lease, for ping */
            return 0;
        }
        if (rc >= 0 || err.kind == XS_ENOTLEADER || xs_store_fenced (self->store)) {
            /* Never go on with the old leadership's state, even when the
               lock was free again: step down, then lead afresh. The agent
               side goes outside the loop's pass (its sockets are polled
               in it): the loop ends, xs_catalog_server_run restarts it. */
            xs_warning ("%s: stepping down to follower: %s", self->me.instance,
                        err.kind ? err.msg : "another catalogd took over");
            self->step_down = true;
            return -1;
        }
        xs_warning ("%s: cannot renew the leader's lease: %s", self->me.instance, err.msg);
        return 0;
    }
    if (rc < 0) {
        xs_warning ("%s: cannot try to lead: %s", self->me.instance, err.msg);
        return 0;
    }
    if (rc == 0) {
        xs_admin_set_leader (self->admin, false, &leader);
        return 0;
    }
    xs_notice ("%s: leading the catalog now (generation %lld)", self->me.instance,
               (long long) leader.generation);
    if (s_become_leader (self, &err)) {
        xs_error ("%s: cannot start leading: %s", self->me.instance, err.msg);
        xs_store_resign (self->store, NULL);
        self->failed = true;
        return -1;
    }
    xs_notice ("%s: serving agents on %s, %d unfinished job(s) of the journal resumed",
               self->me.instance, xs_agentsrv_endpoint (self->agents), self->resumed);
    return 0;
}

/* Names this catalogd and tries to lead once: 1 leads, 0 follows, -1. */
static int
s_start_leadership (xs_catalog_server_t *self, xs_err_t *err)
{
    const xs_config_t *config = self->config;
    const char *name = xs_config_get (config, XS_CATALOG_SECTION, "instance");
    char host [256] = "localhost";
    gethostname (host, sizeof host - 1);
    self->instance = name && *name ? xs_strdup (name)
                   : xs_sprintf ("%s/%s", host, xs_admin_socket_endpoint (self->socket));
    self->me.instance = self->instance;
    self->me.admin_endpoint = xs_admin_socket_endpoint (self->socket);
    self->me.agent_endpoint = xs_config_get (config, XS_CATALOG_SECTION, "agent_endpoint");
    /* SQLite: the one catalogd of its file leads until it stops (no timer
       renews it): a lease of a century. */
    self->me.lease_ms = self->shared ? xs_config_int (config, XS_CATALOG_SECTION,
                                                      "leader_lease_ms", 5000)
                                     : (int64_t) 100 * 365 * 24 * 3600 * 1000;
    xs_store_leader_t leader;
    int leads = xs_store_lead (self->store, &self->me, &leader, err);
    if (leads < 0)
        return xs_err_prefix (err, "taking the catalog's leadership");
    xs_admin_set_leader (self->admin, leads == 1, &leader);
    if (leads == 0)
        xs_notice ("%s: following: %s leads (admin %s, agents %s); trying every %lld ms",
                   self->me.instance, leader.instance, leader.admin_endpoint,
                   leader.agent_endpoint,
                   (long long) xs_config_int (config, XS_CATALOG_SECTION, "leader_retry_ms",
                                              1000));
    if (self->shared
    &&  zloop_timer (self->loop, (size_t) xs_config_int (config, XS_CATALOG_SECTION,
                                                         "leader_retry_ms", 1000),
                     0, s_on_lead_tick, self) < 0)
        return xs_err_set (err, XS_EINTERNAL, "cannot start the leadership timer");
    return leads;
}

xs_catalog_server_t *
xs_catalog_server_new (const xs_config_t *config, xs_err_t *err)
{
    xs_catalog_server_t *self = xs_zalloc (sizeof *self);
    self->config = config;
    long batch_max = xs_config_int (config, XS_CATALOG_SECTION, "admin_batch", 64);
    const char *db = xs_config_get (config, XS_CATALOG_SECTION, "db");
    const char *endpoint = xs_config_get (config, XS_CATALOG_SECTION, "admin_endpoint");
    if (!db || !*db) {
        xs_err_set (err, XS_EINVAL, "no database path (set db in [catalog] or --db)");
        goto fail;
    }
    /* Before touching the database: the admin API has no authentication. */
    if (xs_catalog_cfg_check_admin_endpoint (
            endpoint ? endpoint : "",
            xs_config_bool (config, XS_CATALOG_SECTION, "admin_allow_remote", false), err))
        goto fail;
    const char *password_file = xs_config_get (config, XS_CATALOG_SECTION, "db_password_file");
    /* PostgreSQL: any number of catalogd share the database, one leads. */
    self->shared = strncmp (db, "postgres", 8) == 0 && strstr (db, "://");
    xs_store_options_t db_options = {
        .password_file = password_file && *password_file ? password_file : NULL,
        .accept_lost_wal = xs_config_bool (config, XS_CATALOG_SECTION, "accept_lost_wal",
                                           false),
        .shared = self->shared };
    self->store = xs_store_open (db, &db_options, err);
    if (!self->store) {
        xs_err_prefix (err, "database");
        goto fail;
    }
    self->loop = zloop_new ();
    if (!self->loop) {
        xs_err_set (err, XS_EINTERNAL, "cannot create the event loop");
        goto fail;
    }
    self->batch = xs_batch_new (self->store, self->loop);
    xs_admin_deps_t deps = {.store = self->store, .config = config, .batch = self->batch};
    self->admin = xs_admin_new (&deps);
    /* The admin endpoint first: a second catalog on the same files is
       refused for it before it touches the agent side. */
    self->socket = xs_admin_socket_new (endpoint, batch_max < 1 ? 1 : (size_t) batch_max,
                                        self->admin, self->loop, err);
    if (!self->socket)
        goto fail;
    /* The Block Storage API on every catalogd: a follower serves its reads
       from the database and sends changes to the leader's (xs_cinder). */
    if (xs_cinder_new (self->loop, config, self->admin, self->store, &self->api, err))
        goto fail;
    if (self->api) {
        xs_admin_set_info (self->admin, "api_endpoint", xs_cinder_endpoint (self->api));
        self->me.api_endpoint = xs_cinder_endpoint (self->api);
    }
    int leads = s_start_leadership (self, err);
    if (leads < 0 || (leads == 1 && s_become_leader (self, err)))
        goto fail;
    return self;
fail:
    xs_catalog_server_destroy (&self);
    return NULL;
}

void
xs_catalog_server_destroy (xs_catalog_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_catalog_server_t *self = *self_p;
    /* Commit what is pending and send its replies, then answer the clients
       still waiting for a job (it resumes at the next start); all of that
       needs the admin socket, which goes last. */
    if (self->batch)
        xs_batch_flush (self->batch);
    xs_cinder_destroy (&self->api);         /* parked HTTP requests are gone */
    xs_orphans_destroy (&self->orphans);
    xs_volumes_destroy (&self->volumes);
    xs_jobs_destroy (&self->jobs);
    xs_placement_destroy (&self->placement);
    xs_metrics_destroy (&self->metrics);
    xs_agentsrv_destroy (&self->agents);
    xs_hosts_destroy (&self->hosts);
    xs_allowlist_destroy (&self->allowlist);
    xs_batch_destroy (&self->batch);
    xs_admin_socket_destroy (&self->socket);
    zloop_destroy (&self->loop);
    xs_admin_destroy (&self->admin);
    xs_store_destroy (&self->store);
    free (self->instance);
    free (self);
    *self_p = NULL;
}

static int
s_on_stop (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    xs_notice ("stop requested");
    return -1;          /* ends zloop_start */
}

int
xs_catalog_server_stop_on (xs_catalog_server_t *self, int fd)
{
    zmq_pollitem_t item = { NULL, fd, ZMQ_POLLIN, 0 };
    return zloop_poller (self->loop, &item, s_on_stop, self);
}

int
xs_catalog_server_run (xs_catalog_server_t *self)
{
    for (;;) {
        zloop_start (self->loop);
        if (!self->step_down)
            break;
        self->step_down = false;
        s_step_down (self);
    }
    return self->failed ? -1 : 0;
}

bool
xs_catalog_server_leading (const xs_catalog_server_t *self)
{
    return self->leading;
}

const char *
xs_catalog_server_admin_endpoint (const xs_catalog_server_t *self)
{
    return xs_admin_socket_endpoint (self->socket);
}

uint64_t
xs_catalog_server_requests (const xs_catalog_server_t *self)
{
    return xs_admin_socket_replies (self->socket);
}

const char *
xs_catalog_server_agent_endpoint (const xs_catalog_server_t *self)
{
    return self->agents ? xs_agentsrv_endpoint (self->agents) : "(none: following)";
}

int
xs_catalog_server_resumed (const xs_catalog_server_t *self)
{
    return self->resumed;
}
