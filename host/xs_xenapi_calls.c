/*  xs_xenapi_calls: the XenAPI client's typed helpers (see xs_xenapi.h),
    each a thin wrapper of one XenAPI message over xs_xenapi_call. */
#include "xs_xenapi_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_mem.h"

#define S_STR(s) ((s) ? (s) : "")

/* ---------------------------------------------------------------------
   Arguments and results
   --------------------------------------------------------------------- */

static xs_value_t *
s_expect (xs_value_t *result, xs_value_type_t type, const char *method, xs_err_t *err)
{
    if (result && xs_value_type (result) != type) {
        xs_err_set (err, XS_EINVAL, "%s: malformed reply: expected a %s, got a %s", method,
                    xs_value_type_name (type), xs_value_type_name (xs_value_type (result)));
        xs_value_destroy (&result);
    }
    return result;
}

/* A string result as a malloc'd copy. */
static char *
s_take_str (xs_value_t *result, const char *method, xs_err_t *err)
{
    result = s_expect (result, XS_VALUE_STRING, method, err);
    const char *result_text = result ? xs_value_str (result) : NULL;
    char *text = result ? xs_strdup (result_text ? result_text : "") : NULL;
    xs_value_destroy (&result);
    return text;
}

static char *
s_call_ref (xs_xenapi_t *self, const char *method, const char *arg, xs_err_t *err)
{
    return s_take_str (xs_xenapi_call_str (self, method, arg, err), method, err);
}

/* A call that changes something: as Async.<method> with its task followed
   when xs_xenapi_async_next asked for it, else synchronous. */
static xs_value_t *
s_call_change (xs_xenapi_t *self, const char *method, const xs_value_t *params, xs_err_t *err)
{
    xs_xenapi_task_t *task = xs_xenapi_take_next_task (self);
    if (task)
        return xs_xenapi_call_async (self, method, params, task, err);
    return xs_xenapi_call (self, method, params, err);
}

static int
s_call_void (xs_xenapi_t *self, const char *method, const char *arg, xs_err_t *err)
{
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, arg);
    xs_value_t *result = s_call_change (self, method, params, err);
    xs_value_destroy (&params);
    if (!result)
        return -1;
    xs_value_destroy (&result);
    return 0;
}

static xs_value_t *
s_call_typed (xs_xenapi_t *self, const char *method, const char *arg, xs_value_type_t type,
              xs_err_t *err)
{
    return s_expect (xs_xenapi_call_str (self, method, arg, err), type, method, err);
}

/* A copy of a string->string map argument; NULL gives {}. */
static xs_value_t *
s_map_arg (const xs_value_t *map, const char *method, const char *name, xs_err_t *err)
{
    if (!map)
        return xs_value_struct_new ();
    if (xs_value_type (map) != XS_VALUE_STRUCT) {
        xs_err_set (err, XS_EINVAL, "%s: %s must be a map of strings, not a %s", method, name,
                    xs_value_type_name (xs_value_type (map)));
        return NULL;
    }
    for (size_t i = 0; i < xs_value_size (map); i++)
        if (xs_value_type (xs_value_value_at (map, i)) != XS_VALUE_STRING) {
            xs_err_set (err, XS_EINVAL, "%s: %s key '%s' is not a string", method, name,
                        xs_value_key_at (map, i));
            return NULL;
        }
    return xs_value_dup (map);
}

/* Appends a map argument to params; -1 + err when it is not a string map. */
static int
s_append_map (xs_value_t *params, const xs_value_t *map, const char *method, const char *name,
              xs_err_t *err)
{
    xs_value_t *copy = s_map_arg (map, method, name, err);
    if (!copy)
        return -1;
    xs_value_append (params, &copy);
    return 0;
}

/* Sets a map member of a record; -1 + err when it is not a string map. */
static int
s_set_map (xs_value_t *record, const char *field, const xs_value_t *map, const char *method,
           xs_err_t *err)
{
    xs_value_t *copy = s_map_arg (map, method, field, err);
    if (!copy)
        return -1;
    xs_value_set (record, field, &copy);
    return 0;
}

static void
s_append_int64 (xs_value_t *params, int64_t number)
{
    char text [32];
    snprintf (text, sizeof text, "%" PRId64, number);
    xs_value_append_str (params, text);
}

static void
s_append_bool (xs_value_t *params, bool flag)
{
    xs_value_t *value = xs_value_bool_new (flag);
    xs_value_append (params, &value);
}

/* Calls method(params) (params owned and freed) and returns a string result. */
static char *
s_call_params_ref (xs_xenapi_t *self, const char *method, xs_value_t **params_p, xs_err_t *err)
{
    xs_value_t *result = s_call_change (self, method, *params_p, err);
    xs_value_destroy (params_p);
    return s_take_str (result, method, err);
}

/* ---------------------------------------------------------------------
   session, host, pool
   --------------------------------------------------------------------- */

char *
xs_xenapi_session_get_this_host (xs_xenapi_t *self, xs_err_t *err)
{
    const char *method = "session.get_this_host";
    return s_take_str (xs_xenapi_call_self (self, method, err), method, err);
}

xs_value_t *
xs_xenapi_host_get_all (xs_xenapi_t *self, xs_err_t *err)
{
    return s_call_typed (self, "host.get_all", NULL, XS_VALUE_ARRAY, err);
}

xs_value_t *
xs_xenapi_host_get_record (xs_xenapi_t *self, const char *host, xs_err_t *err)
{
    return s_call_typed (self, "host.get_record", host ? host : "", XS_VALUE_STRUCT, err);
}

char *
xs_xenapi_host_get_by_uuid (xs_xenapi_t *self, const char *uuid, xs_err_t *err)
{
    return s_call_ref (self, "host.get_by_uuid", uuid ? uuid : "", err);
}

xs_value_t *
xs_xenapi_pool_get_all (xs_xenapi_t *self, xs_err_t *err)
{
    return s_call_typed (self, "pool.get_all", NULL, XS_VALUE_ARRAY, err);
}

char *
xs_xenapi_pool_get_master (xs_xenapi_t *self, const char *pool, xs_err_t *err)
{
    return s_call_ref (self, "pool.get_master", pool ? pool : "", err);
}

/* ---------------------------------------------------------------------
   SR
   --------------------------------------------------------------------- */

char *
xs_xenapi_sr_create (xs_xenapi_t *self, const xs_xenapi_sr_args_t *args, xs_err_t *err)
{
    const char *method = "SR.create";
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, S_STR (args->host));
    if (s_append_map (params, args->device_config, method, "device_config", err))
        goto fail;
    s_append_int64 (params, args->physical_size);
    xs_value_append_str (params, S_STR (args->name_label));
    xs_value_append_str (params, S_STR (args->name_description));
    xs_value_append_str (params, S_STR (args->type));
    xs_value_append_str (params, S_STR (args->content_type));
    s_append_bool (params, args->shared);
    if (s_append_map (params, args->sm_config, method, "sm_config", err))
        goto fail;
    return s_call_params_ref (self, method, &params, err);
fail:
    xs_value_destroy (&params);
    return NULL;
}

char *
xs_xenapi_sr_introduce (xs_xenapi_t *self, const xs_xenapi_sr_args_t *args, xs_err_t *err)
{
    const char *method = "SR.introduce";
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, S_STR (args->uuid));
    xs_value_append_str (params, S_STR (args->name_label));
    xs_value_append_str (params, S_STR (args->name_description));
    xs_value_append_str (params, S_STR (args->type));
    xs_value_append_str (params, S_STR (args->content_type));
    s_append_bool (params, args->shared);
    if (s_append_map (params, args->sm_config, method, "sm_config", err)) {
        xs_value_destroy (&params);
        return NULL;
    }
    return s_call_params_ref (self, method, &params, err);
}

char *
xs_xenapi_sr_probe (xs_xenapi_t *self, const xs_xenapi_sr_args_t *args, xs_err_t *err)
{
    const char *method = "SR.probe";
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, S_STR (args->host));
    if (s_append_map (params, args->device_config, method, "device_config", err))
        goto fail;
    xs_value_append_str (params, S_STR (args->type));
    if (s_append_map (params, args->sm_config, method, "sm_config", err))
        goto fail;
    return s_call_params_ref (self, method, &params, err);
fail:
    xs_value_destroy (&params);
    return NULL;
}

int
xs_xenapi_sr_forget (xs_xenapi_t *self, const char *sr, xs_err_t *err)
{
    return s_call_void (self, "SR.forget", S_STR (sr), err);
}

int
xs_xenapi_sr_scan (xs_xenapi_t *self, const char *sr, xs_err_t *err)
{
    return s_call_void (self, "SR.scan", S_STR (sr), err);
}

char *
xs_xenapi_sr_get_by_uuid (xs_xenapi_t *self, const char *uuid, xs_err_t *err)
{
    return s_call_ref (self, "SR.get_by_uuid", S_STR (uuid), err);
}

xs_value_t *
xs_xenapi_sr_get_record (xs_xenapi_t *self, const char *sr, xs_err_t *err)
{
    return s_call_typed (self, "SR.get_record", S_STR (sr), XS_VALUE_STRUCT, err);
}

xs_value_t *
xs_xenapi_sr_get_PBDs (xs_xenapi_t *self, const char *sr, xs_err_t *err)
{
    return s_call_typed (self, "SR.get_PBDs", S_STR (sr), XS_VALUE_ARRAY, err);
}

/* ---------------------------------------------------------------------
   PBD
   --------------------------------------------------------------------- */

char *
xs_xenapi_pbd_create (xs_xenapi_t *self, const char *host, const char *sr,
                      const xs_value_t *device_config, const xs_value_t *other_config,
                      xs_err_t *err)
{
    const char *method = "PBD.create";
    xs_value_t *record = xs_value_struct_new ();
    xs_value_t *params = NULL;
    xs_value_set_str (record, "host", S_STR (host));
    xs_value_set_str (record, "SR", S_STR (sr));
    if (s_set_map (record, "device_config", device_config, method, err)
        || s_set_map (record, "other_config", other_config, method, err)) {
        xs_value_destroy (&record);
        return NULL;
    }
    params = xs_value_array_new ();
    xs_value_append (params, &record);
    return s_call_params_ref (self, method, &params, err);
}

int
xs_xenapi_pbd_plug (xs_xenapi_t *self, const char *pbd, xs_err_t *err)
{
    return s_call_void (self, "PBD.plug", S_STR (pbd), err);
}

int
xs_xenapi_pbd_unplug (xs_xenapi_t *self, const char *pbd, xs_err_t *err)
{
    return s_call_void (self, "PBD.unplug", S_STR (pbd), err);
}

int
xs_xenapi_pbd_destroy (xs_xenapi_t *self, const char *pbd, xs_err_t *err)
{
    return s_call_void (self, "PBD.destroy", S_STR (pbd), err);
}

xs_value_t *
xs_xenapi_pbd_get_record (xs_xenapi_t *self, const char *pbd, xs_err_t *err)
{
    return s_call_typed (self, "PBD.get_record", S_STR (pbd), XS_VALUE_STRUCT, err);
}

/* ---------------------------------------------------------------------
   VDI, SM
   --------------------------------------------------------------------- */

char *
xs_xenapi_vdi_create (xs_xenapi_t *self, const xs_xenapi_vdi_args_t *args, xs_err_t *err)
{
    const char *method = "VDI.create";
    char size [32];
    xs_value_t *record = xs_value_struct_new ();
    xs_value_t *params = NULL;
    xs_value_t *item = NULL;

    snprintf (size, sizeof size, "%" PRId64, args->virtual_size);
    xs_value_set_str (record, "name_label", S_STR (args->name_label));
    xs_value_set_str (record, "name_description", S_STR (args->name_description));
    xs_value_set_str (record, "SR", S_STR (args->sr));
    xs_value_set_str (record, "virtual_size", size);
    xs_value_set_str (record, "type", args->type ? args->type : "user");
    item = xs_value_bool_new (args->sharable);
    xs_value_set (record, "sharable", &item);
    item = xs_value_bool_new (args->read_only);
    xs_value_set (record, "read_only", &item);
    if (s_set_map (record, "other_config", args->other_config, method, err)
        || s_set_map (record, "xenstore_data", args->xenstore_data, method, err)
        || s_set_map (record, "sm_config", args->sm_config, method, err)) {
        xs_value_destroy (&record);
        return NULL;
    }
    item = xs_value_array_new ();
    xs_value_set (record, "tags", &item);
    params = xs_value_array_new ();
    xs_value_append (params, &record);
    return s_call_params_ref (self, method, &params, err);
}

int
xs_xenapi_vdi_destroy (xs_xenapi_t *self, const char *vdi, xs_err_t *err)
{
    return s_call_void (self, "VDI.destroy", S_STR (vdi), err);
}

/* VDI.clone / VDI.snapshot (vdi, driver_params). */
static char *
s_vdi_copy (xs_xenapi_t *self, const char *method, const char *vdi,
            const xs_value_t *driver_params, xs_err_t *err)
{
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, S_STR (vdi));
    if (s_append_map (params, driver_params, method, "driver_params", err)) {
        xs_value_destroy (&params);
        return NULL;
    }
    return s_call_params_ref (self, method, &params, err);
}

char *
xs_xenapi_vdi_clone (xs_xenapi_t *self, const char *vdi, const xs_value_t *driver_params,
                     xs_err_t *err)
{
    return s_vdi_copy (self, "VDI.clone", vdi, driver_params, err);
}

char *
xs_xenapi_vdi_snapshot (xs_xenapi_t *self, const char *vdi, const xs_value_t *driver_params,
                        xs_err_t *err)
{
    return s_vdi_copy (self, "VDI.snapshot", vdi, driver_params, err);
}

char *
xs_xenapi_vdi_get_by_uuid (xs_xenapi_t *self, const char *uuid, xs_err_t *err)
{
    return s_call_ref (self, "VDI.get_by_uuid", S_STR (uuid), err);
}

xs_value_t *
xs_xenapi_vdi_get_by_name_label (xs_xenapi_t *self, const char *label, xs_err_t *err)
{
    return s_call_typed (self, "VDI.get_by_name_label", S_STR (label), XS_VALUE_ARRAY, err);
}

xs_value_t *
xs_xenapi_vdi_get_record (xs_xenapi_t *self, const char *vdi, xs_err_t *err)
{
    return s_call_typed (self, "VDI.get_record", S_STR (vdi), XS_VALUE_STRUCT, err);
}

xs_value_t *
xs_xenapi_sm_get_all_records (xs_xenapi_t *self, xs_err_t *err)
{
    return s_call_typed (self, "SM.get_all_records", NULL, XS_VALUE_STRUCT, err);
}

/* ---------------------------------------------------------------------
   Reading records
   --------------------------------------------------------------------- */

int
xs_xenapi_field_int64 (const xs_value_t *record, const char *field, int64_t *value_p,
                       xs_err_t *err)
{
    const xs_value_t *value = xs_value_get (record, field);
    if (!value)
        return xs_err_set (err, XS_EINVAL, "record has no field %s", field);
    if (xs_value_type (value) == XS_VALUE_INT) {
        *value_p = xs_value_int (value);
        return 0;
    }
    const char *text = xs_value_str (value);
    if (xs_value_type (value) != XS_VALUE_STRING || !*text)
        return xs_err_set (err, XS_EINVAL, "field %s is not a number", field);
    char *end = NULL;
    errno = 0;
    long long number = strtoll (text, &end, 10);
    if (errno || *end || end == text)
        return xs_err_set (err, XS_EINVAL, "field %s: '%.64s' is not a 64-bit number", field, text);
    *value_p = (int64_t) number;
    return 0;
}
