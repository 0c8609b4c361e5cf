/*  xs_rows: state names, destroying rows, reading them, their JSON views. */
#include "xs_mem.h"
#include "xs_redact.h"
#include "xs_rows.h"
#include "xs_srtype.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------
   State names
   --------------------------------------------------------------------- */

static const char *const s_backend_states [] =
    { "new", "attaching", "attached", "error", "draining" };
static const char *const s_host_states [] = { "up", "down" };
static const char *const s_volume_states [] =
    { "creating", "available", "deleting", "deleted", "error", "error_deleting",
      "extending", "error_extending" };
static const char *const s_job_states [] = { "pending", "dispatched", "done", "failed" };
static const char *const s_outcomes [] = { "ok", "failed", "skipped" };

#define S_N(a) (sizeof (a) / sizeof (a) [0])

static const char *
s_name (const char *const *names, size_t n, int value)
{
    return value >= 0 && (size_t) value < n ? names [value] : "?";
}

static int
s_from_name (const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp (names [i], name) == 0)
            return (int) i;
    return -1;
}

const char *
xs_backend_state_name (xs_backend_state_t s)
{
    return s_name (s_backend_states, S_N (s_backend_states), (int) s);
}

const char *
xs_host_state_name (xs_host_state_t s)
{
    return s_name (s_host_states, S_N (s_host_states), (int) s);
}

const char *
xs_volume_state_name (xs_volume_state_t s)
{
    return s_name (s_volume_states, S_N (s_volume_states), (int) s);
}

const char *
xs_job_state_name (xs_job_state_t s)
{
    return s_name (s_job_states, S_N (s_job_states), (int) s);
}

const char *
xs_attempt_outcome_name (xs_attempt_outcome_t o)
{
    return s_name (s_outcomes, S_N (s_outcomes), (int) o);
}

#define S_FROM_NAME(fn, type, names, what) \
int \
fn (const char *name, type *state_p, xs_err_t *err) \
{ \
    int v = s_from_name (names, S_N (names), name); \
    if (v < 0) \
        return xs_err_set (err, XS_EINVAL, "unknown " what " '%s'", name ? name : "(null)"); \
    *state_p = (type) v; \
    return 0; \
}

S_FROM_NAME (xs_backend_state_from_name, xs_backend_state_t, s_backend_states, "backend state")
S_FROM_NAME (xs_host_state_from_name, xs_host_state_t, s_host_states, "host state")
S_FROM_NAME (xs_volume_state_from_name, xs_volume_state_t, s_volume_states, "volume state")
S_FROM_NAME (xs_job_state_from_name, xs_job_state_t, s_job_states, "job state")
S_FROM_NAME (xs_attempt_outcome_from_name, xs_attempt_outcome_t, s_outcomes, "attempt outcome")

bool
xs_volume_state_is_live (xs_volume_state_t state)
{
    return state != XS_VOLUME_DELETED;
}

size_t
xs_rows_list_size (const void *list)
{
    size_t n = 0;
    const void *const *items = list;
    while (items && items [n])
        n++;
    return n;
}

/* ---------------------------------------------------------------------
   Destroying rows
   --------------------------------------------------------------------- */

#define S_LIST_DESTROY(type) \
void \
type##_list_destroy (type##_t ***list_p) \
{ \
    if (list_p && *list_p) { \
        for (type##_t **item = *list_p; *item; item++) \
            type##_destroy (item); \
        free (*list_p); \
        *list_p = NULL; \
    } \
}

void
xs_flavor_destroy (xs_flavor_t **self_p)
{
    if (self_p && *self_p) {
        xs_flavor_t *self = *self_p;
        free (self->label);
        free (self->description);
        free (self);
        *self_p = NULL;
    }
}
S_LIST_DESTROY (xs_flavor)

void
xs_backend_destroy (xs_backend_t **self_p)
{
    if (self_p && *self_p) {
        xs_backend_t *self = *self_p;
        free (self->flavor_label);
        free (self->zone);
        free (self->sr_type);
        free (self->name_label);
        free (self->sr_uuid);
        free (self->error);
        for (size_t i = 0; i < self->nconfig; i++) {
            free (self->config [i].key);
            free (self->config [i].value);
        }
        free (self->config);
        free (self);
        *self_p = NULL;
    }
}
S_LIST_DESTROY (xs_backend)

void
xs_host_destroy (xs_host_t **self_p)
{
    if (self_p && *self_p) {
        xs_host_t *self = *self_p;
        free (self->uuid);
        free (self->zone);
        free (self->name);
        free (self->public_key);
        free (self);
        *self_p = NULL;
    }
}
S_LIST_DESTROY (xs_host)

void
xs_sr_stats_destroy (xs_sr_stats_t **self_p)
{
    if (self_p && *self_p) {
        xs_sr_stats_t *self = *self_p;
        free (self->host_uuid);
        for (size_t i = 0; i < self->ncapabilities; i++)
            free (self->capabilities [i]);
        free (self->capabilities);
        free (self);
        *self_p = NULL;
    }
}
S_LIST_DESTROY (xs_sr_stats)

void
xs_volume_destroy (xs_volume_t **self_p)
{
    if (self_p && *self_p) {
        xs_volume_t *self = *self_p;
        free (self->uuid);
        free (self->name);
        free (self->vdi_uuid);
        free (self->host_uuid);
        free (self->error);
        free (self->parent_uuid);
        free (self->request_id);
        free (self->project);
        free (self);
        *self_p = NULL;
    }
}
S_LIST_DESTROY (xs_volume)

void
xs_job_destroy (xs_job_t **self_p)
{
    if (self_p && *self_p) {
        xs_job_t *self = *self_p;
        free (self->volume_uuid);
        free (self->op);
        free (self->args);
        free (self->host_uuid);
        free (self->result);
        free (self->error);
        free (self);
        *self_p = NULL;
    }
}
S_LIST_DESTROY (xs_job)

void
xs_attempt_destroy (xs_attempt_t **self_p)
{
    if (self_p && *self_p) {
        xs_attempt_t *self = *self_p;
        free (self->volume_uuid);
        free (self->host_uuid);
        free (self->reason);
        free (self);
        *self_p = NULL;
    }
}
S_LIST_DESTROY (xs_attempt)

const char *
xs_backend_config_get (const xs_backend_t *backend, const char *key)
{
    for (size_t i = 0; backend && key && i < backend->nconfig; i++)
        if (strcmp (backend->config [i].key, key) == 0)
            return backend->config [i].value;
    return NULL;
}

/* ---------------------------------------------------------------------
   JSON views
   --------------------------------------------------------------------- */

/* text as a JSON string, null for NULL (NULL when text is not UTF-8). */
static json_t *
s_string_or_null (const char *text)
{
    return text ? json_string (text) : json_null ();
}

json_t *
xs_flavor_json (const xs_flavor_t *flavor)
{
    return json_pack ("{s:I, s:s, s:s, s:I}",
                      "id", (json_int_t) flavor->id, "label", flavor->label,
                      "description", flavor->description ? flavor->description : "",
                      "created_at", (json_int_t) flavor->created_at);
}

json_t *
xs_backend_config_json (const xs_backend_t *backend, bool show_secrets)
{
    json_t *config = xs_nn (json_object ());
    for (size_t i = 0; i < backend->nconfig; i++) {
        const char *key = backend->config [i].key;
        const char *value = backend->config [i].value;
        json_object_set_new (config, key, s_string_or_null (
            show_secrets ? value : xs_redact_value (key, value)));
    }
    return config;
}

json_t *
xs_backend_admin_json (const xs_backend_t *backend)
{
    const xs_srtype_t *type = xs_srtype_find (backend->sr_type);
    return json_pack (
        "{s:I, s:I, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:b, s:b, s:o, s:I}",
        "id", (json_int_t) backend->id,
        "flavor_id", (json_int_t) backend->flavor_id,
        "flavor", backend->flavor_label ? backend->flavor_label : "",
        "zone", backend->zone ? backend->zone : "",
        "sr_type", backend->sr_type ? backend->sr_type : "",
        "name_label", s_string_or_null (backend->name_label),
        "sr_uuid", s_string_or_null (backend->sr_uuid),
        "state", xs_backend_state_name (backend->state),
        "error", s_string_or_null (backend->error),
        "ratio", backend->has_ratio ? json_real (backend->ratio) : json_null (),
        "reserve", backend->has_reserve ? json_real (backend->reserve) : json_null (),
        "shared", type ? type->shared : 0,
        "clone_snapshot", type ? type->clone_snapshot : 0,
        "config", xs_backend_config_json (backend, false),
        "created_at", (json_int_t) backend->created_at);
}

json_t *
xs_backend_agent_json (const xs_backend_t *backend, bool create)
{
    const xs_srtype_t *type = xs_srtype_find (backend->sr_type);
    return json_pack ("{s:I, s:s, s:s, s:o, s:b, s:b, s:o}",
                      "backend_id", (json_int_t) backend->id, "sr_type", backend->sr_type,
                      "name_label", backend->name_label ? backend->name_label : "",
                      "sr_uuid", s_string_or_null (backend->sr_uuid),
                      "shared", type ? type->shared : 0, "create", create,
                      "device_config", xs_backend_config_json (backend, true));
}

json_t *
xs_volume_json (const xs_volume_t *volume, const char *flavor_label)
{
    return json_pack ("{s:s, s:o, s:I, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:I, s:I, s:s}",
        "uuid", volume->uuid,
        "name", s_string_or_null (volume->name),
        "size", (json_int_t) volume->size_bytes,
        "flavor", s_string_or_null (flavor_label),
        "backend_id", volume->backend_id ? json_integer (volume->backend_id) : json_null (),
        "vdi_uuid", s_string_or_null (volume->vdi_uuid),
        "host_uuid", s_string_or_null (volume->host_uuid),
        "state", xs_volume_state_name (volume->state),
        "error", s_string_or_null (volume->error),
        "parent_uuid", s_string_or_null (volume->parent_uuid),
        "request_id", s_string_or_null (volume->request_id),
        "created_at", (json_int_t) volume->created_at,
        "updated_at", (json_int_t) volume->updated_at,
        "project", volume->project ? volume->project : "");
}

json_t *
xs_attempt_json (const xs_attempt_t *attempt)
{
    return json_pack ("{s:I, s:o, s:s, s:o, s:I}",
                      "backend_id", (json_int_t) attempt->backend_id,
                      "host_uuid", s_string_or_null (attempt->host_uuid),
                      "outcome", xs_attempt_outcome_name (attempt->outcome),
                      "reason", s_string_or_null (attempt->reason),
                      "at", (json_int_t) attempt->at);
}

json_t *
xs_job_json (const xs_job_t *job)
{
    return json_pack ("{s:I, s:s, s:s, s:I, s:o, s:o}",
                      "id", (json_int_t) job->id, "op", job->op,
                      "state", xs_job_state_name (job->state),
                      "backend_id", (json_int_t) job->backend_id,
                      "host_uuid", s_string_or_null (job->host_uuid),
                      "error", s_string_or_null (job->error));
}
