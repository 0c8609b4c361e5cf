/*  xs_admin_sm: the flavor and backend commands of the admin protocol
    (`xensm-manage sm ...`). Their arguments were checked against the
    command table's schema before they run, so fields are read by name. */
#include "xs_admin_int.h"

#include <inttypes.h>
#include <stdlib.h>

#include "xs_catalog_cfg.h"
#include "xs_kvlist.h"
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_srtype.h"
#include "xs_text.h"

#define S_LABEL_MAX 255
#define S_DESCRIPTION_MAX 1024

/* The string field `key` of args, or NULL when absent. */
static const char *
s_str (json_t *args, const char *key)
{
    return json_string_value (json_object_get (args, key));
}

/* ---------------------------------------------------------------------
   Flavors
   --------------------------------------------------------------------- */

void
xs_admin_flavor_create (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    const char *label = s_str (args, "label");
    const char *description = s_str (args, "description");
    xs_store_t *store = self->deps.store;
    xs_flavor_t *flavor = NULL;
    json_t *result = NULL;
    xs_err_t err;
    xs_err_clear (&err);
    if (xs_text_check ("flavor label", label, S_LABEL_MAX, 0, &err)
    ||  xs_text_check ("flavor description", description ? description : "",
                       S_DESCRIPTION_MAX, XS_TEXT_MAY_BE_EMPTY, &err))
        goto out;
    int64_t id = xs_store_flavor_create (store, label, description ? description : "", &err);
    if (id < 0)
        goto out;
    flavor = xs_store_flavor_get_by_id (store, id, &err);
    if (!flavor)
        goto out;
    xs_notice ("flavor %s created (id %" PRId64 ")", flavor->label, flavor->id);
    result = xs_nn (json_pack ("{s:o}", "flavor", xs_nn (xs_flavor_json (flavor))));
out:
    xs_flavor_destroy (&flavor);
    xs_admin_answer ("flavor_create", reply_p, result, &err);
}

void
xs_admin_flavor_list (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    const char *label = s_str (args, "label");
    xs_store_t *store = self->deps.store;
    xs_flavor_t *flavor = NULL;
    xs_flavor_t **list = NULL;
    json_t *result = NULL;
    json_t *array = xs_nn (json_array ());
    xs_err_t err;
    xs_err_clear (&err);
    if (label) {
        flavor = xs_store_flavor_get (store, label, &err);
        if (!flavor)
            goto out;
        json_array_append_new (array, xs_nn (xs_flavor_json (flavor)));
    }
    else {
        list = xs_store_flavor_list (store, &err);
        if (!list)
            goto out;
        for (xs_flavor_t **f = list; *f; f++)
            json_array_append_new (array, xs_nn (xs_flavor_json (*f)));
    }
    result = xs_nn (json_pack ("{s:O}", "flavors", array));
out:
    json_decref (array);
    xs_flavor_destroy (&flavor);
    xs_flavor_list_destroy (&list);
    xs_admin_answer ("flavor_list", reply_p, result, &err);
}

void
xs_admin_flavor_delete (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    const char *label = s_str (args, "label");
    json_t *result = NULL;
    xs_err_t err;
    xs_err_clear (&err);
    if (xs_store_flavor_delete (self->deps.store, label, &err) == 0) {
        xs_notice ("flavor %s deleted", label);
        result = xs_nn (json_pack ("{s:s}", "label", label));
    }
    xs_admin_answer ("flavor_delete", reply_p, result, &err);
}

/* ---------------------------------------------------------------------
   Backends
   --------------------------------------------------------------------- */

/* The store's spec of a new backend of `flavor`: the SR type's
   device-config (borrowed from `config`, in *pairs_p, caller frees) and
   the catalog settings (borrowed from `settings`; no zone: default_zone). */
static xs_backend_spec_t
s_backend_spec (xs_admin_t *self, const char *flavor, const char *sr_type,
                const xs_kvlist_t *config, const xs_kvlist_t *settings, xs_kv_spec_t **pairs_p)
{
    size_t nconfig = xs_kvlist_size (config);
    xs_kv_spec_t *pairs = xs_zalloc ((nconfig ? nconfig : 1) * sizeof *pairs);
    for (size_t i = 0; i < nconfig; i++) {
        /* Borrowed: the store copies what it keeps. */
        pairs [i].key = xs_kvlist_key (config, i);
        pairs [i].value = xs_kvlist_value (config, i);
    }
    *pairs_p = pairs;
    const char *zone = xs_kvlist_get (settings, "zone");
    if (!zone)
        zone = xs_config_get (self->deps.config, XS_CATALOG_SECTION, "default_zone");
    const char *ratio = xs_kvlist_get (settings, "ratio");
    const char *reserve = xs_kvlist_get (settings, "reserve");
    return (xs_backend_spec_t) {
        .flavor_label = flavor,
        .zone = zone,
        .sr_type = sr_type,
        .name_label = xs_kvlist_get (settings, "name_label"),
        .sr_uuid = xs_kvlist_get (settings, "sr_uuid"),
        .has_ratio = ratio != NULL,
        .ratio = ratio ? strtod (ratio, NULL) : 0,
        .has_reserve = reserve != NULL,
        .reserve = reserve ? strtod (reserve, NULL) : 0,
        .nconfig = nconfig,
        .config = pairs,
    };
}

/* A backend as backend_add and backend_list show it: with `unusable`, why its pool cannot
   hold volumes there whatever its state (null when it can, or when no
   agent side is known). */
static json_t *
s_backend_json (xs_admin_t *self, const xs_backend_t *b)
{
    json_t *json = xs_nn (xs_backend_admin_json (b));
    char *why = self->deps.agents ? xs_agentsrv_backend_unusable (self->deps.agents, b) : NULL;
    json_object_set_new (json, "unusable", why ? json_string (why) : json_null ());
    free (why);
    return json;
}

void
xs_admin_backend_add (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    const char *flavor = s_str (args, "flavor");
    const char *sr_type = s_str (args, "sr_type");
    json_t *jparams = json_object_get (args, "params");
    xs_kvlist_t *params = NULL, *config = NULL, *settings = NULL;
    xs_kv_spec_t *pairs = NULL;
    xs_backend_t *backend = NULL;
    json_t *result = NULL;
    xs_err_t err;
    xs_err_clear (&err);

    params = jparams ? xs_kvlist_from_json (jparams, &err) : xs_kvlist_new ();
    if (!params) {
        xs_err_prefix (&err, "backend_add");
        goto out;
    }
    /* SR type and its keys first, as the CLI does. */
    if (xs_srtype_split (sr_type, params, &config, &settings, &err))
        goto out;
    xs_backend_spec_t spec = s_backend_spec (self, flavor, sr_type, config, settings, &pairs);
    int64_t id = xs_store_backend_add (self->deps.store, &spec, &err);
    if (id < 0)
        goto out;
    backend = xs_store_backend_get (self->deps.store, id, &err);
    if (!backend)
        goto out;
    xs_notice ("backend %" PRId64 " added: flavor %s, SR type %s, zone %s, %s",
               backend->id, flavor, sr_type, backend->zone,
               backend->sr_uuid ? "existing SR to introduce" : "new SR to create");
    result = xs_nn (json_pack ("{s:o, s:b}", "backend", s_backend_json (self, backend),
                               "creates_sr", backend->sr_uuid == NULL));
out:
    free (pairs);
    xs_backend_destroy (&backend);
    xs_kvlist_destroy (&params);
    xs_kvlist_destroy (&config);
    xs_kvlist_destroy (&settings);
    xs_admin_answer ("backend_add", reply_p, result, &err);
}

void
xs_admin_backend_list (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    json_t *jid = json_object_get (args, "id");
    xs_store_t *store = self->deps.store;
    xs_backend_t *backend = NULL;
    xs_backend_t **list = NULL;
    json_t *result = NULL;
    json_t *array = xs_nn (json_array ());
    xs_err_t err;
    xs_err_clear (&err);
    if (jid) {
        backend = xs_store_backend_get (store, json_integer_value (jid), &err);
        if (!backend)
            goto out;
        json_array_append_new (array, s_backend_json (self, backend));
    }
    else {
        list = xs_store_backend_list (store, &err);
        if (!list)
            goto out;
        for (xs_backend_t **b = list; *b; b++)
            json_array_append_new (array, s_backend_json (self, *b));
    }
    result = xs_nn (json_pack ("{s:O}", "backends", array));
out:
    json_decref (array);
    xs_backend_destroy (&backend);
    xs_backend_list_destroy (&list);
    xs_admin_answer ("backend_list", reply_p, result, &err);
}

/* A removed backend's SR, to detach once the removal is committed. */
typedef struct {
    xs_agentsrv_t *agents;
    int64_t id;
    char *sr_uuid;
} s_detach_t;

/* xs_batch action: the removal is on disk, so the hosts detach the SR
   (PBD.unplug, SR.forget; never SR.destroy). */
static void
s_detach_after_commit (void *arg, bool committed)
{
    s_detach_t *detach = (s_detach_t *) arg;
    if (committed)
        xs_agentsrv_detach_backend (detach->agents, detach->id, detach->sr_uuid);
    free (detach->sr_uuid);
    free (detach);
}

void
xs_admin_backend_remove (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    int64_t id = json_integer_value (json_object_get (args, "id"));
    json_t *result = NULL;
    xs_err_t err;
    xs_err_clear (&err);
    /* The store refuses while volumes live on the backend. */
    xs_backend_t *backend = xs_store_backend_get (self->deps.store, id, &err);
    if (backend && xs_store_backend_remove (self->deps.store, id, &err) == 0) {
        if (backend->sr_uuid && self->deps.agents) {
            s_detach_t *detach = xs_zalloc (sizeof *detach);
            detach->agents = self->deps.agents;
            detach->id = id;
            detach->sr_uuid = xs_strdup (backend->sr_uuid);
            xs_batch_defer (self->deps.batch, s_detach_after_commit, detach);
        }
        xs_notice ("backend %" PRId64 " removed", id);
        result = xs_nn (json_pack ("{s:I}", "id", (json_int_t) id));
    }
    xs_backend_destroy (&backend);
    xs_admin_answer ("backend_remove", reply_p, result, &err);
}
