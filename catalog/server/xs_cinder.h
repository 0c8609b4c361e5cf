/*  xs_cinder: the catalog's OpenStack Block Storage API v3 (docs/API.md):
    the Cinder routes of xs_api (catalog/api) over the ONE admin command
    table (xs_admin).

    Every change and every volume read runs an admin command through
    xs_admin_run with an xs_reply_t whose sink answers the HTTP request:
    the same handlers, checks and rules as `xensm-manage`. A command that
    waits for the agents (volume create, delete) parks the HTTP request
    until its reply is complete, after the group commit of its outcome;
    reads and writes answer after the commit of their loop pass. Only the
    views (zones, quota usage, messages) read the store directly.

    Cinder's words: types are flavors (ids: name-based uuids of their
    labels), availability zones are the zones of the backends, a volume's
    project is its owner (noauth: the caller is admin when its project is
    api_noauth_project), user messages are the placement attempts of a
    create that ended in error, keyed by the create's request id.

    Ownership: admin and store are borrowed and outlive the API. The config
    is read at start only.
*/
#ifndef XS_CINDER_H_INCLUDED
#define XS_CINDER_H_INCLUDED

#include <stdint.h>
#include <czmq.h>

#include "xs_admin.h"
#include "xs_config.h"
#include "xs_err.h"
#include "xs_hosts.h"
#include "xs_metrics.h"
#include "xs_store.h"

typedef struct _xs_cinder_t xs_cinder_t;

/* Starts the API on loop from [catalog] api_* and keystone_* (the
   keystone password is read from keystone_password_file, never logged).
   0 with *self_p NULL when api_listen is empty (no API); 0 with the API
   serving; -1 with *err (a bad setting, noauth on a non-loopback address
   without api_allow_insecure, a failed bind). */
int xs_cinder_new (zloop_t *loop, const xs_config_t *config, xs_admin_t *admin,
                   xs_store_t *store, xs_cinder_t **self_p, xs_err_t *err);

/* Serves GET /metrics (no authentication: counts, flavor labels and zone
   names only) from `metrics` and the live `hosts` (both borrowed). */
void xs_cinder_set_metrics (xs_cinder_t *self, xs_metrics_t *metrics, xs_hosts_t *hosts);

/* Tells parked requests they are gone, stops serving; NULLs *self_p. */
void xs_cinder_destroy (xs_cinder_t **self_p);

/* The bound port. */
uint16_t xs_cinder_port (const xs_cinder_t *self);

/* "http(s)://<listen address>:<port>" as bound, borrowed. */
const char *xs_cinder_endpoint (const xs_cinder_t *self);

#endif
