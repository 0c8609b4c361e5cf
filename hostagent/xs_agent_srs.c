/*  xs_agent_srs: the SRs the agent attached, their stats and what the
    heartbeats carry of them. */
#include "xs_agent_srs.h"

#include <stdbool.h>
#include <stdio.h>
#include <czmq.h>

#include "xs_mem.h"

typedef struct {
    int64_t backend_id;
    char *sr_uuid;
    json_t *stats;          /* last sr_stats value, or NULL            */
    json_t *sent;           /* stats last sent in a heartbeat, or NULL */
    bool refreshing;
} s_sr_t;

struct _xs_agent_srs_t {
    zhashx_t *srs;          /* "backend_id" -> s_sr_t *                */
    unsigned heartbeats;    /* built since the last send_all           */
};

static void
s_sr_free (void **item_p)
{
    if (item_p && *item_p) {
        s_sr_t *sr = (s_sr_t *) *item_p;
        free (sr->sr_uuid);
        json_decref (sr->stats);
        json_decref (sr->sent);
        free (sr);
        *item_p = NULL;
    }
}

static void
s_key (char *key, size_t size, int64_t backend_id)
{
    snprintf (key, size, "%lld", (long long) backend_id);
}

xs_agent_srs_t *
xs_agent_srs_new (void)
{
    xs_agent_srs_t *self = xs_zalloc (sizeof *self);
    self->srs = xs_nn (zhashx_new ());
    zhashx_set_destructor (self->srs, s_sr_free);
    return self;
}

void
xs_agent_srs_destroy (xs_agent_srs_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_agent_srs_t *self = *self_p;
    zhashx_destroy (&self->srs);
    free (self);
    *self_p = NULL;
}

void
xs_agent_srs_put (xs_agent_srs_t *self, int64_t backend_id, const char *sr_uuid)
{
    char key [32];
    s_key (key, sizeof key, backend_id);
    s_sr_t *sr = (s_sr_t *) zhashx_lookup (self->srs, key);
    if (sr && streq (sr->sr_uuid, sr_uuid))
        return;
    sr = xs_zalloc (sizeof *sr);
    sr->backend_id = backend_id;
    sr->sr_uuid = xs_strdup (sr_uuid);
    zhashx_update (self->srs, key, sr);     /* frees any old entry */
}

void
xs_agent_srs_remove (xs_agent_srs_t *self, int64_t backend_id)
{
    char key [32];
    s_key (key, sizeof key, backend_id);
    zhashx_delete (self->srs, key);
}

size_t
xs_agent_srs_size (xs_agent_srs_t *self)
{
    return zhashx_size (self->srs);
}

void
xs_agent_srs_refresh (xs_agent_srs_t *self, xs_agent_srs_refresh_fn *fn, void *arg)
{
    for (s_sr_t *sr = (s_sr_t *) zhashx_first (self->srs); sr;
         sr = (s_sr_t *) zhashx_next (self->srs)) {
        if (sr->refreshing)
            continue;
        sr->refreshing = true;
        fn (arg, sr->backend_id, sr->sr_uuid);
    }
}

int
xs_agent_srs_stats_done (xs_agent_srs_t *self, int64_t backend_id, json_t **stats_p)
{
    char key [32];
    s_key (key, sizeof key, backend_id);
    s_sr_t *sr = (s_sr_t *) zhashx_lookup (self->srs, key);
    if (!sr)
        return -1;
    sr->refreshing = false;
    if (stats_p) {
        json_decref (sr->stats);
        sr->stats = *stats_p;
        *stats_p = NULL;
    }
    return 0;
}

void
xs_agent_srs_set_stats (xs_agent_srs_t *self, json_t *stats)
{
    const char *uuid = json_string_value (json_object_get (stats, "sr_uuid"));
    for (s_sr_t *sr = (s_sr_t *) zhashx_first (self->srs); sr && uuid;
         sr = (s_sr_t *) zhashx_next (self->srs))
        if (streq (sr->sr_uuid, uuid)) {
            json_decref (sr->stats);
            sr->stats = json_incref (stats);
        }
}

json_t *
xs_agent_srs_heartbeat (xs_agent_srs_t *self)
{
    json_t *srs = xs_nn (json_array ());
    bool full = self->heartbeats++ % XS_AGENT_SRS_FULL_EVERY == 0;
    for (s_sr_t *sr = (s_sr_t *) zhashx_first (self->srs); sr;
         sr = (s_sr_t *) zhashx_next (self->srs)) {
        if (!sr->stats)
            continue;
        if (!full && sr->sent && json_equal (sr->sent, sr->stats))
            continue;
        json_decref (sr->sent);
        sr->sent = json_incref (sr->stats);
        json_t *entry = xs_nn (json_deep_copy (sr->stats));
        json_object_set_new (entry, "backend_id", json_integer (sr->backend_id));
        json_object_set_new (entry, "sr_uuid", json_string (sr->sr_uuid));
        if (!json_is_array (json_object_get (entry, "capabilities")))
            json_object_set_new (entry, "capabilities", xs_nn (json_array ()));
        json_array_append_new (srs, entry);
    }
    return srs;
}

void
xs_agent_srs_send_all (xs_agent_srs_t *self)
{
    self->heartbeats = 0;
}

void
xs_agent_srs_on_changes (void *arg, const json_t *srs)
{
    size_t i;
    json_t *stats;
    json_array_foreach (srs, i, stats)
        xs_agent_srs_set_stats ((xs_agent_srs_t *) arg, stats);
}
