/*  The plugin's functions that call xapi (see xs_plugin_module.h), linked
    into the helper program xensm-xapi. The plugin has already checked every argument
    against its function table; this side maps them onto xs_hostops.
*/
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_err.h"
#include "xs_hostops.h"
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_plugin_module.h"
#include "xs_xenapi.h"


typedef struct {
    const xs_plugin_arg_t *list;
    size_t count;
} s_args_t;

static const char *
s_arg (const s_args_t *args, const char *key)
{
    for (size_t i = 0; i < args->count; i++)
        if (strcmp (args->list [i].key, key) == 0)
            return args->list [i].value;
    return NULL;
}

/* Functions, in the order of the plugin's table. */
typedef json_t *(s_fn) (xs_hostops_t *ops, const s_args_t *args, xs_err_t *err);

static json_t *
s_host_info (xs_hostops_t *ops, const s_args_t *args, xs_err_t *err)
{
    return xs_hostops_host_info (ops, err);
}

static json_t *
s_sr_attach (xs_hostops_t *ops, const s_args_t *args, xs_err_t *err)
{
    static const char prefix [] = "device_config:";
    json_t *device_config = json_object ();
    for (size_t i = 0; i < args->count; i++)
        if (strncmp (args->list [i].key, prefix, sizeof prefix - 1) == 0)
            json_object_set_new (device_config, args->list [i].key + sizeof prefix - 1,
                                 json_string (args->list [i].value));
    xs_hostops_sr_spec_t spec = {
        .sr_uuid = s_arg (args, "sr_uuid"),
        .type = s_arg (args, "type"),
        .name_label = s_arg (args, "name_label"),
        .name_description = s_arg (args, "name_description"),
        .device_config = device_config,
    };
    json_t *result = xs_hostops_sr_attach (ops, &spec, err);
    json_decref (device_config);
    return result;
}

static json_t *
s_sr_detach (xs_hostops_t *ops, const s_args_t *args, xs_err_t *err)
{
    return xs_hostops_sr_detach (ops, s_arg (args, "sr_uuid"), err);
}

static json_t *
s_sr_stats (xs_hostops_t *ops, const s_args_t *args, xs_err_t *err)
{
    return xs_hostops_sr_stats (ops, s_arg (args, "sr_uuid"), err);
}

static json_t *
s_vdi_create (xs_hostops_t *ops, const s_args_t *args, xs_err_t *err)
{
    const char *size = s_arg (args, "size");
    char *end = NULL;
    long long bytes = size ? strtoll (size, &end, 10) : 0;
    if (!size || *end || bytes <= 0) {
        xs_err_set (err, XS_EINVAL, "vdi_create: size must be a positive number of bytes");
        return NULL;
    }
    return xs_hostops_vdi_create (ops, s_arg (args, "sr_uuid"), s_arg (args, "volume_uuid"),
                                  (int64_t) bytes, s_arg (args, "name_description"), err);
}

static json_t *
s_vdi_destroy (xs_hostops_t *ops, const s_args_t *args, xs_err_t *err)
{
    return xs_hostops_vdi_destroy (ops, s_arg (args, "volume_uuid"), s_arg (args, "sr_uuid"), err);
}

static json_t *
s_vdi_clone (xs_hostops_t *ops, const s_args_t *args, xs_err_t *err)
{
    return xs_hostops_vdi_clone (ops, s_arg (args, "volume_uuid"), s_arg (args, "new_volume_uuid"),
                                 s_arg (args, "sr_uuid"), err);
}

static json_t *
s_vdi_snapshot (xs_hostops_t *ops, const s_args_t *args, xs_err_t *err)
{
    return xs_hostops_vdi_snapshot (ops, s_arg (args, "volume_uuid"),
                                    s_arg (args, "new_volume_uuid"), s_arg (args, "sr_uuid"), err);
}

static json_t *
s_vdi_find (xs_hostops_t *ops, const s_args_t *args, xs_err_t *err)
{
    return xs_hostops_vdi_find (ops, s_arg (args, "volume_uuid"), s_arg (args, "sr_uuid"), err);
}

static const struct {
    const char *name;
    s_fn *fn;
    const char *const *required;
} s_table [] = {
    { "host_info", s_host_info, (const char *const []) { NULL } },
    { "sr_attach", s_sr_attach, (const char *const []) { "type", NULL } },
    { "sr_detach", s_sr_detach, (const char *const []) { "sr_uuid", NULL } },
    { "sr_stats", s_sr_stats, (const char *const []) { "sr_uuid", NULL } },
    { "vdi_create", s_vdi_create, (const char *const []) { "sr_uuid", "volume_uuid", "size", NULL } },
    { "vdi_destroy", s_vdi_destroy, (const char *const []) { "volume_uuid", NULL } },
    { "vdi_clone", s_vdi_clone, (const char *const []) { "volume_uuid", "new_volume_uuid", NULL } },
    { "vdi_snapshot", s_vdi_snapshot, (const char *const []) { "volume_uuid", "new_volume_uuid", NULL } },
    { "vdi_find", s_vdi_find, (const char *const []) { "volume_uuid", NULL } },
};

/* -------------------------------------------------------------------- */
/*  Results                                                             */
/* -------------------------------------------------------------------- */

/* ErrorDescription [code, params..., message] (params from `params`, an
   array of strings, may be NULL). */
static char **
s_description (const char *code, const xs_value_t *params, const char *session,
               const char *message)
{
    size_t nparams = params ? xs_value_size (params) : 0;
    char **list = xs_zalloc ((nparams + 3) * sizeof *list);
    size_t n = 0;
    list [n++] = xs_strdup (code);
    for (size_t i = 0; i < nparams; i++) {
        const char *param = xs_value_str (xs_value_at (params, i));
        if (param && session && strcmp (param, session) == 0)
            param = "(session ref)";        /* a secret: never echoed */
        list [n++] = xs_strdup (param ? param : "");
    }
    list [n++] = xs_strdup (message);
    return list;
}

/* XENSM_<KIND> for errors that did not come from xapi. */
static char **
s_kind_description (const xs_err_t *err)
{
    char code [64];
    snprintf (code, sizeof code, "XENSM_%s", xs_errkind_name (err->kind));
    for (char *c = code; *c; c++)
        *c = (char) toupper ((unsigned char) *c);
    return s_description (code, NULL, NULL, err->msg [0] ? err->msg : "unknown error");
}

/* $XENSM_LOG_LEVEL, warning when unset or unknown. */
static xs_loglevel_t
s_log_level (void)
{
    int level = xs_log_level_from_name (getenv ("XENSM_LOG_LEVEL"));
    return level < 0 ? XS_LOG_WARNING : (xs_loglevel_t) level;
}

int
xs_plugin_module_call (const char *function, const char *xapi_url, const char *session,
                       const xs_plugin_arg_t *arg_list, size_t nargs, xs_plugin_result_t *result)
{
    xs_err_t err;
    xs_err_clear (&err);
    xs_xenapi_t *client = NULL;
    xs_hostops_t *ops = NULL;
    json_t *json = NULL;
    int rc = -1;
    s_args_t args = { arg_list, nargs };

    result->value = NULL;
    result->description = NULL;
    /* This module carries its own copy of the logging state. */
    xs_log_init ("xensm-plugin", false, s_log_level ());

    size_t index = 0;
    while (index < sizeof s_table / sizeof s_table [0] && strcmp (s_table [index].name, function) != 0)
        index++;
    if (index == sizeof s_table / sizeof s_table [0]) {
        xs_err_set (&err, XS_EINTERNAL, "xapi module: no function %s", function);
        result->description = s_description ("UNKNOWN_XENAPI_PLUGIN_FUNCTION", NULL, NULL, function);
        goto out;
    }
    for (const char *const *key = s_table [index].required; *key; key++)
        if (!s_arg (&args, *key)) {
            xs_err_set (&err, XS_EINVAL, "%s: missing argument %s", function, *key);
            result->description = s_kind_description (&err);
            goto out;
        }
    client = xs_xenapi_new (xapi_url, &err);
    if (!client) {
        xs_err_prefix (&err, "%s: xapi URL %s", function, xapi_url);
        result->description = s_kind_description (&err);
        goto out;
    }
    xs_xenapi_set_session (client, session);
    ops = xs_hostops_new (client);
    json = s_table [index].fn (ops, &args, &err);
    if (!json) {
        const char *code = xs_hostops_error_code (ops);
        if (err.kind == XS_OK)
            xs_err_set (&err, XS_EINTERNAL, "%s failed without a reason", function);
        xs_error ("%s: %s", function, err.msg);
        if (code)
            result->description = s_description (code, xs_hostops_error_params (ops), session, err.msg);
        else
            result->description = s_kind_description (&err);
        goto out;
    }
    result->value = json_dumps (json, JSON_COMPACT | JSON_SORT_KEYS);
    if (!result->value) {
        result->description = s_description ("XENSM_INTERNAL_ERROR", NULL, NULL,
                                             "cannot encode the result as JSON");
        goto out;
    }
    rc = 0;
out:
    json_decref (json);
    xs_hostops_destroy (&ops);
    xs_xenapi_destroy (&client);
    return rc;
}
