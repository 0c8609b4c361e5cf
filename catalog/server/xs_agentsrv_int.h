/*  xs_agentsrv_int: what xs_agentsrv.c (the socket and the protocol) and
    xs_agentsrv_hosts.c (the admin's host commands) share. Private to those
    two files.
*/
#ifndef XS_AGENTSRV_INT_H_INCLUDED
#define XS_AGENTSRV_INT_H_INCLUDED

#include "xs_agentsrv.h"
#include "xs_connguard.h"

/* A request in flight on a host. */
typedef struct {
    char *id;
    char *host_uuid;
    xs_op_t op;
    bool internal;              /* sr_attach/sr_detach of reconciling */
    int64_t backend_id;         /* internal ones                      */
    int64_t deadline;
} s_req_t;

struct _xs_agentsrv_t {
    xs_agentsrv_cfg_t cfg;
    char *endpoint;
    xs_store_t *store;
    xs_batch_t *batch;
    zloop_t *loop;
    xs_agentsrv_events_t events;
    xs_allowlist_t *allowlist;  /* borrowed                          */
    xs_hosts_t *hosts;          /* borrowed                          */
    xs_reconcile_t *reconcile;
    zactor_t *auth;
    zsock_t *router;
    xs_connguard_t *guard;      /* its connections; NULL: unguarded  */
    zcert_t *cert;
    zhashx_t *reqs;             /* request id -> s_req_t *           */
    int timer;
    int ticks;
    int64_t last_tick;          /* zclock_mono of the last tick      */
    zhashx_t *key_hosts;        /* agent key -> the host uuid it is bound
                                   to (its first register); NULL until
                                   loaded from the store            */
    uint64_t seq;
};

/* Opens the group commit; logs when the store cannot. 0 or -1. */
int xs_agentsrv_open_batch (xs_agentsrv_t *self);

/* The key -> host uuid bindings, loaded from the store's host rows on
   first use; NULL (and *err) when the store cannot be read. */
zhashx_t *xs_agentsrv_key_hosts (xs_agentsrv_t *self, xs_err_t *err);

/* NULL when key may register host uuid in zone (a host id of 1..64 name
   characters; the key bound to no other host, the host to no other key and
   zone); else the refusal's text, written into text. *err is set, its kind
   XS_EIO/XS_EINTERNAL when the store failed (not a refusal of the agent). */
const char *xs_agentsrv_binding_refusal (xs_agentsrv_t *self, const char *key,
                                         const char *uuid, const char *zone, char *text,
                                         size_t size, xs_err_t *err);

/* Host h is down (why: for the log): its row says so, its requests in
   flight are lost (on_lost). */
void xs_agentsrv_host_down (xs_agentsrv_t *self, xs_live_host_t *h, const char *why);

/* Host h reported its pool's SM drivers (register or heartbeat field
   sm_drivers; NULL: not in this message). A malformed one is logged and
   ignored. True when what the catalog knows changed. */
bool xs_agentsrv_sm_drivers (xs_agentsrv_t *self, xs_live_host_t *h, const json_t *drivers);

/* Host h's SR stats that differ from what its store rows hold (every SR
   it reported, in this heartbeat or an earlier one), and its last_seen,
   into the open batch. */
void xs_agentsrv_store_stats (xs_agentsrv_t *self, xs_live_host_t *h);

#endif
