/*  xs_agentsrv: the catalog's side of the agent protocol
    (docs/PROTOCOL.md "Agent protocol").

    Binds the agent ROUTER socket (CURVE server; zauth admits the keys of
    the allow-list, xs_allowlist; failed handshakes are logged), answers
    register (welcome with the zone's backends), heartbeat and sr_state,
    keeps the requests in flight and their deadlines, marks hosts down
    after 3 missed heartbeats, and sends the jobs' requests, reporting
    their results through events (xs_jobs). The live hosts are xs_hosts;
    which host attaches which SR is xs_reconcile, which this class owns.

    It is also the agent side's face for the rest of the catalog: the
    admin's host commands (enroll, remove, list) and backend changes
    (reconcile, detach) come here.

    Runs on the caller's zloop; store writes join the caller's group commit
    (xs_batch). Borrowed: everything in xs_agentsrv_deps_t.
*/
#ifndef XS_AGENTSRV_H_INCLUDED
#define XS_AGENTSRV_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <czmq.h>
#include <jansson.h>

#include "xs_allowlist.h"
#include "xs_batch.h"
#include "xs_hosts.h"
#include "xs_err.h"
#include "xs_op.h"
#include "xs_reconcile.h"
#include "xs_store.h"

typedef struct {
    const char *endpoint;       /* e.g. tcp://0.0.0.0:7601                        */
    const char *cert_file;      /* catalog certificate: FILE + FILE_secret        */
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

/* What the agent server works with, all borrowed. */
typedef struct {
    xs_store_t *store;
    xs_batch_t *batch;
    zloop_t *loop;
    xs_hosts_t *hosts;
    xs_allowlist_t *allowlist;
} xs_agentsrv_deps_t;

typedef struct _xs_agentsrv_t xs_agentsrv_t;

/* Loads the certificate, starts zauth on the allow-list, binds the
   endpoint and joins the loop. Marks every stored host down (they come
   back by registering). No events until xs_agentsrv_set_events. NULL with
   *err on failure. */
xs_agentsrv_t *xs_agentsrv_new (const xs_agentsrv_cfg_t *cfg, const xs_agentsrv_deps_t *deps,
                                xs_err_t *err);

/* Sets (copies) where events go; NULL: nowhere. */
void xs_agentsrv_set_events (xs_agentsrv_t *self, const xs_agentsrv_events_t *events);

/* Leaves the loop, closes the socket, stops zauth. NULLs *self_p. */
void xs_agentsrv_destroy (xs_agentsrv_t **self_p);

/* The bound endpoint (ephemeral port resolved), borrowed. */
const char *xs_agentsrv_endpoint (const xs_agentsrv_t *self);

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

/* For xs_reconcile: sends internal request `op` (sr_attach, sr_detach)
   about backend_id to host h with *args_p (taken); a failed send is
   logged. */
void xs_agentsrv_send_internal (xs_agentsrv_t *self, xs_live_host_t *h, xs_op_t op,
                                int64_t backend_id, json_t **args_p);

/* For xs_reconcile: the sr_attach requests in flight, as "host/backend"
   keys. Caller destroys. */
zhashx_t *xs_agentsrv_attaches (xs_agentsrv_t *self);

/* For xs_reconcile: capacity came (an SR attached): the on_capacity event. */
void xs_agentsrv_capacity (xs_agentsrv_t *self);

/* Hosts for `host list`: stored hosts with live state, last seen, attached
   SRs, plus enrolled keys that never registered. New reference. */
json_t *xs_agentsrv_host_list (xs_agentsrv_t *self, xs_err_t *err);

/* Why backend b cannot hold new volumes whatever its state (its SR type,
   the SM drivers of its zone's live hosts), or NULL: see
   xs_hosts_backend_unusable. Caller frees. */
char *xs_agentsrv_backend_unusable (xs_agentsrv_t *self, const xs_backend_t *b);

#endif
