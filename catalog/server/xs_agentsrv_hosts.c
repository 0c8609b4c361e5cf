/*  xs_agentsrv_hosts: the admin's host commands on the agent side:
    enroll a key, remove a host (its key, its row, its session), list the
    hosts; and the binding of a key to one host in one zone that a
    register must keep. */
#include "xs_agentsrv_int.h"

#include <stdlib.h>

#include "xs_log.h"
#include "xs_mem.h"
#include "xs_text.h"

#define S_HOST_ID_MAX 64            /* a host uuid is 36; room, not 5,000  */

/* Checks a register's host id and the key's binding: one key is one host
   in one zone, recorded at its first register (the host row's key). An
   enrolled key used to register any number of host uuids (5,000-character
   ones too) and move a host to another zone, whose welcome carries that
   zone's backend secrets (fault campaign D9). NULL when allowed, else the
   refusal's text in `text`. */
const char *
xs_agentsrv_binding_refusal (xs_agentsrv_t *self, const char *key, const char *uuid, const char *zone,
                   char *text, size_t size,
                             xs_err_t *err)
{
    if (xs_text_check_name ("host_uuid", uuid, S_HOST_ID_MAX, err))
        return snprintf (text, size, "%s", err->msg), text;
    zhashx_t *key_hosts = xs_agentsrv_key_hosts (self, err);
    if (!key_hosts)
        return snprintf (text, size, "%s", err->msg), text;
    const char *bound = (const char *) zhashx_lookup (key_hosts, key);
    if (bound && !streq (bound, uuid)) {
        snprintf (text, size, "this agent's key is bound to host %s: one key per host "
                  "(enroll a key of its own for host %s)", bound, uuid);
        return text;
    }
    xs_host_t *row = xs_store_host_get (self->store, uuid, err);
    if (!row && err->kind != XS_ENOTFOUND)
        return snprintf (text, size, "%s", err->msg), text;
    err->kind = XS_EINVAL;
    const char *why = NULL;
    if (row && row->public_key && *row->public_key && !streq (row->public_key, key))
        why = (snprintf (text, size, "host %s is bound to another key", uuid), text);
    else
    if (row && !streq (row->zone, zone))
        why = (snprintf (text, size, "host %s is registered in zone %s, not %s: remove it "
                         "(xensm-manage host remove) and enroll it again to move it",
                         uuid, row->zone, zone), text);
    xs_host_destroy (&row);
    return why;
}

/* The uuid and key of host `who` (a host uuid or a public key): from its
   row, or the key parsed and the host that registered with it. */
static int
s_who (xs_agentsrv_t *self, const char *who, char **uuid_p, char **key_p, xs_err_t *err)
{
    xs_host_t *row = xs_store_host_get (self->store, who, NULL);
    if (row) {
        *uuid_p = xs_strdup (row->uuid);
        *key_p = row->public_key ? xs_strdup (row->public_key) : NULL;
        xs_host_destroy (&row);
        return 0;
    }
    *key_p = xs_allowlist_parse_key (who);
    if (!*key_p)
        return xs_err_set (err, XS_ENOTFOUND,
                           "host %s: not found (give a host uuid or a public key)", who);
    xs_host_t **hosts = xs_store_host_list (self->store, NULL, err);
    if (!hosts)
        return -1;
    for (xs_host_t **h = hosts; *h && !*uuid_p; h++)
        if ((*h)->public_key && streq ((*h)->public_key, *key_p))
            *uuid_p = xs_strdup ((*h)->uuid);
    xs_host_list_destroy (&hosts);
    return 0;
}

zhashx_t *
xs_agentsrv_key_hosts (xs_agentsrv_t *self, xs_err_t *err)
{
    if (self->key_hosts)
        return self->key_hosts;
    xs_host_t **rows = xs_store_host_list (self->store, NULL, err);
    if (!rows)
        return NULL;
    self->key_hosts = xs_nn (zhashx_new ());
    zhashx_set_destructor (self->key_hosts, (zhashx_destructor_fn *) zstr_free);
    for (xs_host_t **h = rows; *h; h++)
        if ((*h)->public_key && *(*h)->public_key)
            zhashx_update (self->key_hosts, (*h)->public_key, xs_strdup ((*h)->uuid));
    xs_host_list_destroy (&rows);
    return self->key_hosts;
}

/* Host `uuid` and key `key` (either may be NULL) are bound no more. */
static void
s_unbind (xs_agentsrv_t *self, const char *uuid, const char *key)
{
    if (!self->key_hosts)
        return;
    if (key)
        zhashx_delete (self->key_hosts, key);
    zlistx_t *keys = uuid ? xs_nn (zhashx_keys (self->key_hosts)) : NULL;
    for (const char *k = keys ? (const char *) zlistx_first (keys) : NULL; k;
         k = (const char *) zlistx_next (keys))
        if (streq ((const char *) zhashx_lookup (self->key_hosts, k), uuid))
            zhashx_delete (self->key_hosts, k);
    zlistx_destroy (&keys);
}

int
xs_agentsrv_remove (xs_agentsrv_t *self, const char *who, xs_err_t *err)
{
    char *key = NULL, *uuid = NULL;
    int rc = -1;
    bool removed_something = false;
    if (s_who (self, who, &uuid, &key, err))
        goto out;
    int removed = key ? xs_allowlist_remove (self->allowlist, key, err) : 0;
    if (removed < 0)
        goto out;
    removed_something = removed > 0;
    if (uuid) {
        xs_live_host_t *h = xs_hosts_get (self->hosts, uuid);
        if (h) {
            xs_agentsrv_host_down (self, h, "removed by the admin");
            xs_hosts_forget (self->hosts, uuid);
        }
        if (xs_agentsrv_open_batch (self)) {
            xs_err_set (err, XS_EIO, "host %s: catalog store unavailable", uuid);
            goto out;
        }
        if (xs_store_host_remove (self->store, uuid, err))
            goto out;
        removed_something = true;
    }
    if (!removed_something) {
        xs_err_set (err, XS_ENOTFOUND, "host %s: neither enrolled nor registered", who);
        goto out;
    }
    s_unbind (self, uuid, key);
    xs_notice ("host %s removed (key %s)", uuid ? uuid : "-", key ? key : "-");
    rc = 0;
out:
    free (key);
    free (uuid);
    return rc;
}

char *
xs_agentsrv_enroll (xs_agentsrv_t *self, const char *cert_text, xs_err_t *err)
{
    return xs_allowlist_enroll (self->allowlist, cert_text, err);
}

json_t *
xs_agentsrv_host_list (xs_agentsrv_t *self, xs_err_t *err)
{
    xs_host_t **rows = xs_store_host_list (self->store, NULL, err);
    if (!rows)
        return NULL;
    zlist_t *keys = xs_allowlist_keys (self->allowlist);
    json_t *list = xs_hosts_list (self->hosts, rows, keys);
    zlist_destroy (&keys);
    xs_host_list_destroy (&rows);
    return list;
}

bool
xs_agentsrv_sm_drivers (xs_agentsrv_t *self, xs_live_host_t *h, const json_t *drivers)
{
    (void) self;
    if (!drivers)
        return false;
    xs_err_t err;
    int changed = xs_live_host_set_sm_drivers (h, drivers, &err);
    if (changed < 0)
        xs_warning ("%s; ignored", err.msg);
    else
    if (changed)
        xs_info ("host %s: its pool has SM drivers for %zu SR types", h->uuid,
                 json_object_size (drivers));
    return changed > 0;
}

char *
xs_agentsrv_backend_unusable (xs_agentsrv_t *self, const xs_backend_t *b)
{
    return xs_hosts_backend_unusable (self->hosts, b);
}

/* =========================================================================
    SR stats in the store
   ========================================================================= */

/* Whether hsr's stats differ from what its store row holds (written by
   this session): a heartbeat writes only what changed, so that 10,000
   hosts whose SRs are quiet cost the store nothing per heartbeat. */
static bool
s_stats_changed (const xs_live_sr_t *hsr)
{
    return !hsr->stored || hsr->stored_size != hsr->physical_size
        || hsr->stored_utilisation != hsr->physical_utilisation
        || hsr->stored_allocation != hsr->virtual_allocation
        || !json_equal (hsr->stored_capabilities, hsr->capabilities);
}

/* Writes host h's stats of hsr into the open batch. */
static void
s_store_stats (xs_agentsrv_t *self, xs_live_host_t *h, xs_live_sr_t *hsr)
{
    size_t ncap = json_array_size (hsr->capabilities);
    const char **caps = xs_zalloc ((ncap + 1) * sizeof *caps);
    for (size_t k = 0; k < ncap; k++)
        caps [k] = json_string_value (json_array_get (hsr->capabilities, k));
    xs_sr_stats_spec_t st = {
        .host_uuid = h->uuid, .backend_id = hsr->backend_id, .attached = true,
        .has_stats = true, .physical_size = hsr->physical_size,
        .physical_utilisation = hsr->physical_utilisation,
        .virtual_allocation = hsr->virtual_allocation,
        .ncapabilities = ncap, .capabilities = caps,
    };
    xs_err_t err;
    if (xs_store_sr_stats_upsert (self->store, &st, &err))
        xs_debug ("%s", err.msg);
    else {
        hsr->stored = true;
        hsr->stored_size = hsr->physical_size;
        hsr->stored_utilisation = hsr->physical_utilisation;
        hsr->stored_allocation = hsr->virtual_allocation;
        json_decref (hsr->stored_capabilities);
        hsr->stored_capabilities = json_incref (hsr->capabilities);
    }
    free (caps);
}

void
xs_agentsrv_store_stats (xs_agentsrv_t *self, xs_live_host_t *h)
{
    for (xs_live_sr_t *hsr = (xs_live_sr_t *) zhashx_first (h->srs); hsr;
         hsr = (xs_live_sr_t *) zhashx_next (h->srs))
        if (hsr->attached && hsr->has_stats && s_stats_changed (hsr))
            s_store_stats (self, h, hsr);
    xs_store_host_touch (self->store, h->uuid, 0, NULL);
}
