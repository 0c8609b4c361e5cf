/*  xs_agentsrv: the catalog's side of the agent protocol.

    Binds the agent ROUTER socket (CURVE server, zauth admitting the public
    certificates in the allow-list directory, refusals logged), keeps the
    live host registry (host uuid <-> routing id, zone, last seen, per-SR
    stats and capabilities, requests in flight), answers register/heartbeat,
    has each backend's SR created by exactly one agent and introduced by the
    others, marks hosts down after 3 missed heartbeats and sends requests
    for the job journal (xs_jobs), reporting their results through callbacks.
    Protocol: docs/PROTOCOL.md "Agent protocol".

    Runs on the caller's zloop; store writes join the caller's group commit
    (xs_batch). Borrowed: store, batch, loop (all outlive the server).
*/
#ifndef XS_AGENTSRV_H_INCLUDED
#define XS_AGENTSRV_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <czmq.h>
#include <jansson.h>

#include "xs_batch.h"
#include "xs_err.h"
#include "xs_op.h"
#include "xs_store.h"

typedef struct {
    const char *endpoint;       /* e.g. tcp://0.0.0.0:7601                        */
    const char *cert_file;      /* catalog certificate: FILE + FILE_secret        */
    const char *keys_dir;       /* allow-list: one public certificate per agent   */
    int heartbeat_ms;           /* 0 -> 1000                                      */
    int request_timeout_ms;     /* a request without result fails after; 0 -> 60000 */
} xs_agentsrv_cfg_t;

/* Callbacks to the job journal (xs_jobs). `arg` is xs_agentsrv_events_t.arg. */
typedef struct {
    /* The result of a request sent with xs_agentsrv_request: value (borrowed)
       on success, else err (the agent's reason, or a timeout). */
    void (*on_result) (void *arg, const char *request_id, const char *host_uuid,
                       const json_t *value, const xs_err_t *err);
    /* The host running request_id was lost (down, gone, replaced): the
       request may or may not have run; send it elsewhere. */
    void (*on_lost) (void *arg, const char *request_id, const char *host_uuid);
    /* An agent came up or attached an SR: waiting work may now run. */
    void (*on_capacity) (void *arg);
    void *arg;
} xs_agentsrv_events_t;

/* What the live hosts last said about one backend's SR. */
typedef struct {
    bool has_stats;
    int64_t physical_size;
    int64_t physical_utilisation;
    int64_t virtual_allocation;
    json_t *capabilities;       /* borrowed array of strings, or NULL */
    int live_hosts;             /* live hosts with the SR attached    */
} xs_agentsrv_sr_t;

typedef struct _xs_agentsrv_t xs_agentsrv_t;

/* Loads the certificate, starts zauth on keys_dir (created when missing,
   mode 0700), binds the endpoint and joins `loop`. Marks every stored host
   down (they come back by registering). `events` may be NULL (see
   xs_agentsrv_set_events). NULL with *err on failure. */
xs_agentsrv_t *xs_agentsrv_new (const xs_agentsrv_cfg_t *cfg, xs_store_t *store,
                                xs_batch_t *batch, zloop_t *loop,
                                const xs_agentsrv_events_t *events, xs_err_t *err);

/* Sets (copies) where events go; NULL: nowhere. */
void xs_agentsrv_set_events (xs_agentsrv_t *self, const xs_agentsrv_events_t *events);

/* Leaves the loop, closes the socket, stops zauth. NULLs *self_p. */
void xs_agentsrv_destroy (xs_agentsrv_t **self_p);

/* The bound endpoint (ephemeral port resolved), borrowed. */
const char *xs_agentsrv_endpoint (const xs_agentsrv_t *self);

/* Least busy live host of `zone` that has backend_id's SR attached, or NULL.
   Borrowed host uuid, valid until the next loop pass. */
const char *xs_agentsrv_pick (xs_agentsrv_t *self, const char *zone, int64_t backend_id);

/* Whether host `host_uuid` is live with backend_id's SR attached. */
bool xs_agentsrv_can_run (xs_agentsrv_t *self, const char *host_uuid, int64_t backend_id);

/* Number of live hosts in `zone`. */
int xs_agentsrv_live_in_zone (xs_agentsrv_t *self, const char *zone);

/* Fills *sr with the freshest report about backend_id from live hosts. */
void xs_agentsrv_sr_info (xs_agentsrv_t *self, int64_t backend_id, xs_agentsrv_sr_t *sr);

/* Sends request `op` with *args_p (taken) to host_uuid under request_id.
   0, or -1 with *err when the host is not live or the send fails. */
int xs_agentsrv_request (xs_agentsrv_t *self, const char *host_uuid, const char *request_id,
                         xs_op_t op, json_t **args_p, xs_err_t *err);

/* Forgets request_id (its late result will be ignored). */
void xs_agentsrv_cancel (xs_agentsrv_t *self, const char *request_id);

/* Backends may have changed (added, removed): attach what live hosts lack.
   Also runs by itself every few heartbeats. */
void xs_agentsrv_reconcile (xs_agentsrv_t *self);

/* Asks every live host holding backend_id's SR to detach it (PBD.unplug,
   SR.forget; never destroy). Fire and forget. */
void xs_agentsrv_detach_backend (xs_agentsrv_t *self, int64_t backend_id, const char *sr_uuid);

/* Admits the public key in `cert_text` (a czmq public certificate or a bare
   40-character Z85 key): writes it to the allow-list directory. Returns a
   new string with the Z85 key (caller frees), or NULL with *err. */
char *xs_agentsrv_enroll (xs_agentsrv_t *self, const char *cert_text, xs_err_t *err);

/* Removes host `who` (a host uuid or a Z85 public key): its key leaves the
   allow-list, its row the store, its session is dropped. 0 or -1. */
int xs_agentsrv_remove (xs_agentsrv_t *self, const char *who, xs_err_t *err);

/* Hosts for `host list`: stored hosts with live state, last seen, attached
   SRs, plus enrolled keys that never registered. New reference. */
json_t *xs_agentsrv_host_list (xs_agentsrv_t *self, xs_err_t *err);

#endif
