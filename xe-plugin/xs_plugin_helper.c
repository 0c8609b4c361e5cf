/*  xs_plugin_helper: the plugin's functions that call xapi (see
    xs_plugin_helper.h), linked into the helper program xensm-xapi. The
    plugin has already checked every argument against its function table;
    this side runs the function through the one operation table,
    xs_hostops_dispatch.
*/
#include <ctype.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_err.h"
#include "xs_hostops.h"
#include "xs_hostops_dispatch.h"
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_plugin_helper.h"
#include "xs_xenapi.h"

/* ---------------------------------------------------------------------
   Arguments
   --------------------------------------------------------------------- */

/* The plugin's string arguments as the op table's (xs_hostops_dispatch.h):
   each "device_config:<key>" into the object device_config, every other
   one as it came. */
static json_t *
s_args_json (const xs_plugin_arg_t *list, size_t count)
{
    static const char prefix [] = "device_config:";
    json_t *args = xs_nn (json_object ());
    json_t *device_config = NULL;
    for (size_t i = 0; i < count; i++) {
        const char *key = list [i].key;
        json_t *value = json_string (list [i].value);
        if (!value)
            continue;           /* not UTF-8: the op refuses the missing argument */
        if (strncmp (key, prefix, sizeof prefix - 1) == 0) {
            if (!device_config)
                device_config = xs_nn (json_object ());
            json_object_set_new (device_config, key + sizeof prefix - 1, value);
        }
        else
            json_object_set_new (args, key, value);
    }
    if (device_config)
        json_object_set_new (args, "device_config", device_config);
    return args;
}

/* ---------------------------------------------------------------------
   Results
   --------------------------------------------------------------------- */

/* ErrorDescription [code, params...]: xapi's own errors pass through with
   exactly xapi's params (the message naming the object goes to syslog);
   xensm's own errors are [code, message]. */
static char **
s_description (const char *code, const xs_value_t *params, const char *message)
{
    size_t nparams = params ? xs_value_size (params) : 0;
    char **list = xs_zalloc ((nparams + 3) * sizeof *list);
    size_t n = 0;
    list [n++] = xs_strdup (code);
    for (size_t i = 0; i < nparams; i++) {
        const char *param = xs_value_str (xs_value_at (params, i));
        list [n++] = xs_strdup (param ? param : "");
    }
    if (message)
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
    return s_description (code, NULL, err->msg [0] ? err->msg : "unknown error");
}

/* The functions that act on "this host": its PBD, its SR, its record. */
static bool
s_needs_host (xs_op_t op)
{
    return op == XS_OP_HOST_INFO || op == XS_OP_SR_ATTACH || op == XS_OP_SR_DETACH;
}

int
xs_plugin_helper_call (const char *function, const xs_plugin_where_t *where,
                       const char *session, const xs_plugin_arg_t *arg_list, size_t nargs,
                       xs_plugin_result_t *result)
{
    xs_err_t err;
    xs_err_clear (&err);
    xs_xenapi_t *client = NULL;
    xs_hostops_t *ops = NULL;
    json_t *args = NULL;
    json_t *json = NULL;
    int rc = -1;

    result->value = NULL;
    result->description = NULL;

    xs_op_t op = xs_op_from_name (function);
    if (!xs_hostops_op (op)) {
        xs_err_set (&err, XS_EINTERNAL, "xapi helper: no function %s", function);
        result->description = s_description ("UNKNOWN_XENAPI_PLUGIN_FUNCTION", NULL, function);
        goto out;
    }
    if (s_needs_host (op) && !where->host_uuid && where->host_error) {
        /* Never the session's host: xapi hands a plugin the caller's
           session, which on a pool member belongs to the master. */
        xs_err_set (&err, XS_EINVAL, "%s: this host is unknown: %s", function, where->host_error);
        xs_error ("%s", err.msg);
        result->description = s_description ("XENSM_NO_HOST_UUID", NULL, err.msg);
        goto out;
    }
    client = xs_xenapi_new (where->xapi_url, &err);
    if (!client) {
        xs_err_prefix (&err, "%s: xapi URL %s", function, where->xapi_url);
        result->description = s_kind_description (&err);
        goto out;
    }
    xs_xenapi_set_session (client, session);
    ops = xs_hostops_new (client);
    xs_hostops_set_host_uuid (ops, where->host_uuid);
    args = s_args_json (arg_list, nargs);
    json = xs_hostops_dispatch (ops, op, args, &err);
    if (!json) {
        const char *code = xs_hostops_error_code (ops);
        if (err.kind == XS_OK)
            xs_err_set (&err, XS_EINTERNAL, "%s failed without a reason", function);
        xs_error ("%s: %s", function, err.msg);
        if (code)
            result->description = s_description (code, xs_hostops_error_params (ops), NULL);
        else
            result->description = s_kind_description (&err);
        goto out;
    }
    result->value = json_dumps (json, JSON_COMPACT | JSON_SORT_KEYS);
    if (!result->value) {
        result->description = s_description ("XENSM_INTERNAL_ERROR", NULL,
                                             "cannot encode the result as JSON");
        goto out;
    }
    rc = 0;
out:
    json_decref (args);
    json_decref (json);
    xs_hostops_destroy (&ops);
    xs_xenapi_destroy (&client);
    return rc;
}
