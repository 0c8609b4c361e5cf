/*  xs_hostops: the local SR and VDI operations of a host, through XenAPI:
    the object, the XenAPI error it keeps, the helpers its operations share,
    and host_info. SRs are in xs_hostops_sr.c, VDIs in xs_hostops_vdi.c. */
#include "xs_hostops_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xs_log.h"
#include "xs_mem.h"

/* ---------------------------------------------------------------------
   Life cycle
   --------------------------------------------------------------------- */

xs_hostops_t *
xs_hostops_new (xs_xenapi_t *client)
{
    xs_hostops_t *self = xs_zalloc (sizeof *self);
    self->client = client;
    self->deadline_ms = XS_XENAPI_TIMEOUT_MS;
    return self;
}

void
xs_hostops_destroy (xs_hostops_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_hostops_t *self = *self_p;
    xs_hostops_reset (self);
    free (self->host_uuid);
    free (self->sr_ref);
    free (self->sr_uuid);
    json_decref (self->sm_drivers);
    free (self);
    *self_p = NULL;
}

void
xs_hostops_set_host_uuid (xs_hostops_t *self, const char *uuid)
{
    free (self->host_uuid);
    self->host_uuid = uuid && *uuid ? xs_strdup (uuid) : NULL;
}

void
xs_hostops_set_deadline (xs_hostops_t *self, long deadline_ms)
{
    self->deadline_ms = deadline_ms > 0 ? deadline_ms : 0;
}

void
xs_hostops_async_next (xs_hostops_t *self, const char *method, const char *uuid)
{
    snprintf (self->task_tag, sizeof self->task_tag, "%s %s %s", method, uuid,
              self->host_uuid ? self->host_uuid : "-");
    memset (&self->task, 0, sizeof self->task);
    self->task.deadline_ms = self->deadline_ms;
    self->task.tag = self->task_tag;
    xs_xenapi_async_next (self->client, &self->task);
}

/* ---------------------------------------------------------------------
   The XenAPI error of the last operation
   --------------------------------------------------------------------- */

const char *
xs_hostops_error_code (xs_hostops_t *self)
{
    return self->error_code;
}

const xs_value_t *
xs_hostops_error_params (xs_hostops_t *self)
{
    return self->error_params;
}

void
xs_hostops_reset (xs_hostops_t *self)
{
    free (self->error_code);
    self->error_code = NULL;
    xs_value_destroy (&self->error_params);
}

int
xs_hostops_xapi_failed (xs_hostops_t *self, xs_err_t *err, const char *object, const char *method)
{
    const char *code = xs_xenapi_error_code (self->client);
    if (code) {
        xs_hostops_reset (self);
        self->error_code = xs_strdup (code);
        const xs_value_t *params = xs_xenapi_error_params (self->client);
        self->error_params = params ? xs_value_dup (params) : xs_value_array_new ();
    }
    if (!err)
        return -1;
    char reason [XS_ERR_MSG_MAX];
    size_t mlen = strlen (method);
    const char *text = err->msg;
    if (strncmp (text, method, mlen) == 0 && strncmp (text + mlen, ": ", 2) == 0)
        text += mlen + 2;
    snprintf (reason, sizeof reason, "%s", text);
    xs_errkind_t kind = err->kind == XS_OK ? XS_EINTERNAL : err->kind;
    return xs_err_set (err, kind, "%s: %s failed: %s", object, method, reason);
}

int
xs_hostops_refuse (xs_hostops_t *self, xs_err_t *err, xs_errkind_t kind, const char *code,
                   const char *p1, const char *p2, const char *fmt, ...)
{
    xs_hostops_reset (self);
    self->error_code = xs_strdup (code);
    self->error_params = xs_value_array_new ();
    if (p1)
        xs_value_append_str (self->error_params, p1);
    if (p2)
        xs_value_append_str (self->error_params, p2);
    if (!err)
        return -1;
    char message [XS_ERR_MSG_MAX];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (message, sizeof message, fmt, ap);
    va_end (ap);
    return xs_err_set (err, kind, "%s", message);
}

/* ---------------------------------------------------------------------
   Helpers the operations share
   --------------------------------------------------------------------- */

int
xs_hostops_tag (xs_hostops_t *self, const char *method, const char *ref, const char *key,
                const char *value, const char *object, xs_err_t *err)
{
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, ref);
    xs_value_append_str (params, key);
    xs_value_append_str (params, value);
    xs_value_t *reply = xs_xenapi_call (self->client, method, params, err);
    xs_value_destroy (&params);
    if (reply) {
        xs_value_destroy (&reply);
        return 0;
    }
    const char *code = xs_xenapi_error_code (self->client);
    if (code && strcmp (code, "MAP_DUPLICATE_KEY") == 0) {
        xs_err_clear (err);
        return 0;
    }
    return xs_hostops_xapi_failed (self, err, object, method);
}

/* The host these operations are for: the configured uuid, else the
   session's host. On a pool member a session on the local socket belongs
   to the master (xapi forwards it), so the agent names its host. */
char *
xs_hostops_this_host (xs_hostops_t *self, const char *object, xs_err_t *err)
{
    char *host = NULL;
    if (self->host_uuid) {
        host = xs_xenapi_host_get_by_uuid (self->client, self->host_uuid, err);
        if (!host)
            xs_hostops_xapi_failed (self, err, object, "host.get_by_uuid");
    }
    else {
        host = xs_xenapi_session_get_this_host (self->client, err);
        if (!host)
            xs_hostops_xapi_failed (self, err, object, "session.get_this_host");
    }
    return host;
}

static void
s_remember_sr (xs_hostops_t *self, const char *ref, const char *uuid)
{
    char *r = xs_strdup (ref);
    char *u = xs_strdup (uuid);
    free (self->sr_ref);
    free (self->sr_uuid);
    self->sr_ref = r;
    self->sr_uuid = u;
}

char *
xs_hostops_sr_ref (xs_hostops_t *self, const char *sr_uuid, xs_err_t *err)
{
    char object [64];
    snprintf (object, sizeof object, "SR %s", sr_uuid);
    char *sr = xs_xenapi_sr_get_by_uuid (self->client, sr_uuid, err);
    if (!sr)
        xs_hostops_xapi_failed (self, err, object, "SR.get_by_uuid");
    else
        s_remember_sr (self, sr, sr_uuid);
    return sr;
}

char *
xs_hostops_sr_ref_cached (xs_hostops_t *self, const char *sr_uuid, xs_err_t *err)
{
    if (self->sr_uuid && self->sr_ref && strcmp (self->sr_uuid, sr_uuid) == 0)
        return xs_strdup (self->sr_ref);
    return xs_hostops_sr_ref (self, sr_uuid, err);
}

char *
xs_hostops_sr_uuid_of (xs_hostops_t *self, const char *sr, xs_err_t *err)
{
    if (sr && self->sr_ref && strcmp (sr, self->sr_ref) == 0)
        return xs_strdup (self->sr_uuid);
    xs_value_t *record = xs_xenapi_sr_get_record (self->client, sr ? sr : "", err);
    if (!record) {
        xs_hostops_xapi_failed (self, err, "SR of the VDI", "SR.get_record");
        return NULL;
    }
    const char *record_uuid = xs_value_get_str (record, "uuid");
    char *uuid = xs_strdup (record_uuid ? record_uuid : "");
    xs_value_destroy (&record);
    if (*uuid)
        s_remember_sr (self, sr, uuid);
    return uuid;
}

/* The SM record's "capabilities" list, or the keys of its "features" map
   (capabilities is deprecated; xapi still fills it). A new array. */
static json_t *
s_sm_capabilities (const xs_value_t *record)
{
    json_t *list = xs_nn (json_array ());
    const xs_value_t *caps = xs_value_get (record, "capabilities");
    for (size_t k = 0; k < xs_value_size (caps); k++) {
        const char *cap = xs_value_str (xs_value_at (caps, k));
        if (cap)
            json_array_append_new (list, xs_hostops_json_string (cap));
    }
    if (json_array_size (list) == 0) {
        const xs_value_t *features = xs_value_get (record, "features");
        for (size_t k = 0; k < xs_value_size (features); k++)
            json_array_append_new (list, xs_hostops_json_string (xs_value_key_at (features, k)));
    }
    return list;
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

json_t *
xs_hostops_sm_drivers (xs_hostops_t *self, bool fresh, const char *object, xs_err_t *err)
{
    if (!fresh && self->sm_drivers && s_now_ms () - self->sm_drivers_ms < XS_HOSTOPS_SM_CACHE_MS)
        return json_incref (self->sm_drivers);
    xs_value_t *records = xs_xenapi_sm_get_all_records (self->client, err);
    if (!records) {
        xs_hostops_xapi_failed (self, err, object, "SM.get_all_records");
        return NULL;
    }
    json_t *drivers = xs_nn (json_object ());
    for (size_t i = 0; i < xs_value_size (records); i++) {
        const xs_value_t *record = xs_value_value_at (records, i);
        const char *sm_type = xs_value_get_str (record, "type");
        if (sm_type && *sm_type)
            json_object_set_new (drivers, sm_type, s_sm_capabilities (record));
    }
    xs_value_destroy (&records);
    json_decref (self->sm_drivers);
    self->sm_drivers = json_incref (drivers);
    self->sm_drivers_ms = s_now_ms ();
    return drivers;
}

json_t *
xs_hostops_capabilities (xs_hostops_t *self, const char *type, const char *object, xs_err_t *err)
{
    json_t *drivers = xs_hostops_sm_drivers (self, false, object, err);
    if (!drivers)
        return NULL;
    json_t *list = json_object_get (drivers, type);
    list = list ? json_incref (list) : xs_nn (json_array ());
    json_decref (drivers);
    return list;
}

bool
xs_hostops_has_capability (const json_t *list, const char *capability)
{
    size_t index;
    json_t *item;
    json_array_foreach (list, index, item)
        if (json_is_string (item) && strcmp (json_string_value (item), capability) == 0)
            return true;
    return false;
}

json_t *
xs_hostops_json_string (const char *text)
{
    json_t *json = json_string (text ? text : "");
    /* Text from xapi that is not UTF-8 would make json_string fail. */
    return json ? json : xs_nn (json_string ("?"));
}

int
xs_hostops_field_int64 (const xs_value_t *record, const char *field, int64_t *value_p)
{
    return xs_xenapi_field_int64 (record, field, value_p, NULL);
}

bool
xs_hostops_field_bool (const xs_value_t *record, const char *field)
{
    const xs_value_t *value = xs_value_get (record, field);
    if (xs_value_type (value) == XS_VALUE_BOOL)
        return xs_value_bool (value);
    const char *text = xs_value_str (value);
    return text && (strcmp (text, "true") == 0 || strcmp (text, "1") == 0);
}

/* ---------------------------------------------------------------------
   host_info
   --------------------------------------------------------------------- */

/* {uuid, name_label, hostname, address, is_pool_master, pool_master_uuid}
   of the host record `record`, whose pool master is `master` (NULL: no
   pool) with record `master_record` (NULL: the host itself). */
static json_t *
s_host_json (const char *host, const xs_value_t *record, const char *master,
             const xs_value_t *master_record)
{
    const char *master_uuid = xs_value_get_str (master_record ? master_record : record, "uuid");
    json_t *result = xs_nn (json_object ());
    json_object_set_new (result, "uuid", xs_hostops_json_string (xs_value_get_str (record, "uuid")));
    json_object_set_new (result, "name_label",
                         xs_hostops_json_string (xs_value_get_str (record, "name_label")));
    json_object_set_new (result, "hostname",
                         xs_hostops_json_string (xs_value_get_str (record, "hostname")));
    json_object_set_new (result, "address",
                         xs_hostops_json_string (xs_value_get_str (record, "address")));
    json_object_set_new (result, "is_pool_master",
                         json_boolean (!master || strcmp (master, host) == 0));
    json_object_set_new (result, "pool_master_uuid", xs_hostops_json_string (master_uuid));
    return result;
}

json_t *
xs_hostops_host_info (xs_hostops_t *self, xs_err_t *err)
{
    json_t *result = NULL;
    char *host = NULL;
    char *master = NULL;
    xs_value_t *record = NULL;
    xs_value_t *pools = NULL;
    xs_value_t *master_record = NULL;

    xs_hostops_reset (self);
    host = xs_hostops_this_host (self, "this host", err);
    if (!host)
        goto out;
    record = xs_xenapi_host_get_record (self->client, host, err);
    if (!record) {
        xs_hostops_xapi_failed (self, err, "this host", "host.get_record");
        goto out;
    }
    pools = xs_xenapi_pool_get_all (self->client, err);
    if (!pools) {
        xs_hostops_xapi_failed (self, err, "this host", "pool.get_all");
        goto out;
    }
    const char *pool = xs_value_str (xs_value_at (pools, 0));
    if (pool) {
        master = xs_xenapi_pool_get_master (self->client, pool, err);
        if (!master) {
            xs_hostops_xapi_failed (self, err, "this host's pool", "pool.get_master");
            goto out;
        }
    }
    if (master && strcmp (master, host) != 0) {
        master_record = xs_xenapi_host_get_record (self->client, master, err);
        if (!master_record) {
            xs_hostops_xapi_failed (self, err, "the pool master", "host.get_record");
            goto out;
        }
    }
    json_t *drivers = xs_hostops_sm_drivers (self, true, "this host's pool", err);
    if (!drivers)
        goto out;
    result = s_host_json (host, record, master, master_record);
    json_object_set_new (result, "sm_drivers", drivers);
out:
    free (host);
    free (master);
    xs_value_destroy (&record);
    xs_value_destroy (&pools);
    xs_value_destroy (&master_record);
    return result;
}
