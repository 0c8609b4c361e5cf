/*  xs_hosts: the live host registry of the agent server.

    One entry per host that registered since the catalog started: its zone,
    name, CURVE key, ZeroMQ routing id, when it was last heard from, whether
    it is up, the requests it has in flight, and what it said about each
    backend's SR (attached, sizes, capabilities). Entries are plain value
    types, like the store's rows: xs_agentsrv and xs_reconcile read and set
    their fields; this class finds them (by uuid or routing id) and answers
    the questions placement and the jobs ask (who can run on a backend's SR,
    how many live hosts a zone has).

    Nothing here is stored: the store's host rows are xs_agentsrv's.
*/
#ifndef XS_HOSTS_H_INCLUDED
#define XS_HOSTS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <czmq.h>
#include <jansson.h>

#include "xs_err.h"
#include "xs_store.h"

/* What one host says about one backend's SR. */
typedef struct {
    int64_t backend_id;
    char *sr_uuid;
    bool attached;
    bool has_stats;
    int64_t physical_size, physical_utilisation, virtual_allocation;
    json_t *capabilities;
    int64_t at;                 /* when last reported (zclock_mono)       */
    int64_t pending_since;      /* an attach was asked for; 0 when none   */
    /* What the store's row holds since this session wrote it (a heartbeat
       writes the stats only when they differ from these). */
    bool stored;
    int64_t stored_size, stored_utilisation, stored_allocation;
    json_t *stored_capabilities;
} xs_live_sr_t;

/* One live (or lately live) host. */
typedef struct {
    char *uuid;
    char *zone;
    char *name;
    char *key;                  /* Z85 CURVE public key                   */
    zframe_t *routing_id;
    int64_t last_seen;          /* zclock_mono                            */
    bool up;
    int downs;                  /* times marked down since registered    */
    int inflight;               /* requests we sent, no result yet        */
    int busy;                   /* what the agent reported                */
    int beats;
    zhashx_t *srs;              /* "backend_id" -> xs_live_sr_t *         */
    void *heard;                /* its place in the registry's up hosts by
                                   last_seen (xs_hosts_seen); NULL: none */
    json_t *sm_drivers;         /* its pool's SM drivers, {type: [capability,
                                   ...]}; NULL until the agent reports them */
} xs_live_host_t;

/* What the live hosts last said about one backend's SR. */
typedef struct {
    bool has_stats;
    int64_t physical_size;
    int64_t physical_utilisation;
    int64_t virtual_allocation;
    json_t *capabilities;       /* borrowed array of strings, or NULL */
    int live_hosts;             /* live hosts with the SR attached    */
} xs_hosts_sr_t;

typedef struct _xs_hosts_t xs_hosts_t;

/* Never NULL. Caller destroys. */
xs_hosts_t *xs_hosts_new (void);

/* NULLs *self_p; idempotent. */
void xs_hosts_destroy (xs_hosts_t **self_p);

/* Number of hosts (up or down) registered since the catalog started. */
size_t xs_hosts_count (xs_hosts_t *self);

/* The host `uuid`, or NULL. Borrowed. */
xs_live_host_t *xs_hosts_get (xs_hosts_t *self, const char *uuid);

/* The host whose session has routing id `route`, or NULL. Borrowed. */
xs_live_host_t *xs_hosts_by_route (xs_hosts_t *self, zframe_t *route);

/* Host `uuid` registered (again) over `route` (copied): a new entry, or
   the old one with its SRs forgotten; up, seen now, nothing in flight.
   zone, name and key are copied. Borrowed. */
xs_live_host_t *xs_hosts_register (xs_hosts_t *self, const char *uuid, const char *zone,
                                   const char *name, const char *key, zframe_t *route);

/* Host h was heard from now (h->last_seen): when it is up, it becomes
   the last of the up hosts by last_seen (O(1)). Call it after setting
   h->up true, so that the silence check sees h; a host set down drops out
   at the next check by itself, or here when it is heard while down. */
void xs_hosts_seen (xs_hosts_t *self, xs_live_host_t *h);

/* The up hosts last heard from before `since`, oldest first: the silence
   check walks these only, never every host (10,000 hosts, one tick a
   second). Caller destroys the list (not the hosts). */
zlist_t *xs_hosts_silent (xs_hosts_t *self, int64_t since);

/* Every up host last heard from before `at` counts as heard at `at` (a late
   tick: the catalog, not the host, was silent). Walks those hosts only. */
void xs_hosts_forgive (xs_hosts_t *self, int64_t at);

/* Forgets host `uuid` (removed). */
void xs_hosts_forget (xs_hosts_t *self, const char *uuid);

/* The hosts, as a list to walk while the walk may look hosts up
   (zhashx_lookup moves the table's cursor). Caller destroys the list. */
zlist_t *xs_hosts_snapshot (xs_hosts_t *self);

/* Host h's report on backend_id's SR; with create, made when missing.
   NULL when missing (and not create). Borrowed. */
xs_live_sr_t *xs_live_sr (xs_live_host_t *h, int64_t backend_id, bool create);

/* Forgets host h's report on backend_id's SR (detached). */
void xs_live_sr_forget (xs_live_host_t *h, int64_t backend_id);

/* Least busy live host of `zone` that has backend_id's SR attached, or
   NULL. Borrowed uuid, valid until the host is forgotten. */
const char *xs_hosts_pick (xs_hosts_t *self, const char *zone, int64_t backend_id);

/* Whether host `uuid` is live with backend_id's SR attached. */
bool xs_hosts_can_run (xs_hosts_t *self, const char *uuid, int64_t backend_id);

/* Host h's pool has SM drivers `drivers` (register or heartbeat field
   sm_drivers: an object of arrays of strings, copied). Returns 1 when they
   changed, 0 when not, -1 (nothing kept, *err says why) when malformed. */
int xs_live_host_set_sm_drivers (xs_live_host_t *h, const json_t *drivers, xs_err_t *err);

/* Whether host h reported its SM drivers and `sr_type` is not among them
   (such a host cannot attach an SR of that type: SR_UNKNOWN_DRIVER). */
bool xs_live_host_lacks_driver (const xs_live_host_t *h, const char *sr_type);

/* Why backend b cannot hold new volumes whatever its state, or NULL:
   - its SR type is LUN per VDI (iscsi, hba: VDI.create only hands out an
     existing LUN);
   - the live hosts of its zone all reported their SM drivers and none has
     the SR type's driver;
   - the driver they report lacks VDI_CREATE.
   Hosts that have not reported their drivers give the benefit of the
   doubt. Caller frees. */
char *xs_hosts_backend_unusable (xs_hosts_t *self, const xs_backend_t *b);

/* Number of live hosts in `zone`. */
int xs_hosts_live_in_zone (xs_hosts_t *self, const char *zone);

/* Fills *sr with the freshest report about backend_id from the live hosts
   of `zone` (the backend's: only they attach its SR). */
void xs_hosts_sr_info (xs_hosts_t *self, const char *zone, int64_t backend_id,
                       xs_hosts_sr_t *sr);

/* The host list for `host list`: the stored hosts `rows` with live state,
   last seen and attached SRs, then one "enrolled" entry for each key of
   `keys` (Z85 strings) that no row has. New reference. */
json_t *xs_hosts_list (xs_hosts_t *self, xs_host_t **rows, zlist_t *keys);

#endif
