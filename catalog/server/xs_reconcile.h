/*  xs_reconcile: which live host must attach which backend's SR.

    A backend's SR is created by exactly one live agent of its zone (the
    creator, claimed here; the backend goes `attaching`) and introduced by
    every other one once its uuid is committed; a failed create puts the
    backend in `error` for an admin to look at. A host whose pool lacks the
    SM driver of a backend's SR type (its reported sm_drivers) is never
    asked to attach or create that SR. An SR whose backend was
    removed is detached (PBD.unplug, SR.forget; never SR.destroy). The
    agent server calls this on register (the welcome's backends), on every
    sr_state and sr_attach result, and every few heartbeats; admin changes
    call xs_agentsrv_reconcile / xs_agentsrv_detach_backend.

    Owned by the agent server, whose requests it sends
    (xs_agentsrv_send_internal). Borrowed: store, batch, hosts, agents.
*/
#ifndef XS_RECONCILE_H_INCLUDED
#define XS_RECONCILE_H_INCLUDED

#include <stdint.h>
#include <jansson.h>

#include "xs_batch.h"
#include "xs_hosts.h"
#include "xs_store.h"

typedef struct _xs_agentsrv_t xs_agentsrv_t;
typedef struct _xs_reconcile_t xs_reconcile_t;

/* Never NULL. heartbeat_ms paces retries of a failed attach;
   request_timeout_ms bounds how long an asked attach is waited for. */
xs_reconcile_t *xs_reconcile_new (xs_store_t *store, xs_batch_t *batch, xs_hosts_t *hosts,
                                  xs_agentsrv_t *agents, int heartbeat_ms,
                                  int request_timeout_ms);

/* Flushes the batch (an action deferred here points at it). NULLs
   *self_p; idempotent. */
void xs_reconcile_destroy (xs_reconcile_t **self_p);

/* The backends of host h's zone for its welcome (the agent view; one live
   agent gets create: true). New reference. */
json_t *xs_reconcile_welcome (xs_reconcile_t *self, xs_live_host_t *h);

/* Attaches what live hosts lack, detaches what was removed. */
void xs_reconcile_run (xs_reconcile_t *self);

/* Host h attached backend_id's SR `sr_uuid`, or failed to (error). */
void xs_reconcile_sr_attached (xs_reconcile_t *self, xs_live_host_t *h, int64_t backend_id,
                               const char *sr_uuid, const char *error);

/* Every live host holding backend_id's SR detaches it. Fire and forget. */
void xs_reconcile_detach_backend (xs_reconcile_t *self, int64_t backend_id,
                                  const char *sr_uuid);

#endif
