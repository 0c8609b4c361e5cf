/*  xs_hostops_dispatch: the host operations from one table (see
    xs_hostops_dispatch.h). */
#include "xs_hostops_dispatch.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs_mem.h"

/* ---------------------------------------------------------------------
   Reading arguments (already checked by s_check_args)
   --------------------------------------------------------------------- */

/* Argument `key`, or NULL when absent or JSON null (the agent protocol
   sends an unknown optional sr_uuid as null). */
static const json_t *
s_arg (const json_t *args, const char *key)
{
    const json_t *value = json_object_get (args, key);
    return json_is_null (value) ? NULL : value;
}

/* String argument `key`, or NULL when absent. */
static const char *
s_str (const json_t *args, const char *key)
{
    return json_string_value (s_arg (args, key));
}

/* size: a JSON integer or a string of decimal digits; -1 when it is
   neither (xs_hostops refuses sizes that are not positive). */
static int64_t
s_size (const json_t *args)
{
    const json_t *size = s_arg (args, "size");
    if (json_is_integer (size))
        return (int64_t) json_integer_value (size);
    const char *text = json_string_value (size);
    if (!text || *text < '0' || *text > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    long long bytes = strtoll (text, &end, 10);
    return errno || *end ? -1 : (int64_t) bytes;
}

/* ---------------------------------------------------------------------
   Handlers
   --------------------------------------------------------------------- */

static json_t *
s_host_info (xs_hostops_t *ops, const json_t *args, xs_err_t *err)
{
    return xs_hostops_host_info (ops, err);
}

static json_t *
s_sr_attach (xs_hostops_t *ops, const json_t *args, xs_err_t *err)
{
    xs_hostops_sr_spec_t spec = {
        .sr_uuid = s_str (args, "sr_uuid"),
        .type = s_str (args, "type"),
        .name_label = s_str (args, "name_label"),
        .name_description = s_str (args, "name_description"),
        .device_config = s_arg (args, "device_config"),
    };
    return xs_hostops_sr_attach (ops, &spec, err);
}

static json_t *
s_sr_detach (xs_hostops_t *ops, const json_t *args, xs_err_t *err)
{
    return xs_hostops_sr_detach (ops, s_str (args, "sr_uuid"), err);
}

static json_t *
s_sr_stats (xs_hostops_t *ops, const json_t *args, xs_err_t *err)
{
    return xs_hostops_sr_stats (ops, s_str (args, "sr_uuid"), err);
}

/* A resumed operation (resumed: true, from the catalog after a restart or
   a takeover) first follows any call for `uuid` still running on a host
   that had it (xs_hostops_tasks_await). 0 or -1 + err. */
static int
s_await_if_resumed (xs_hostops_t *ops, const json_t *args, const char *uuid, xs_err_t *err)
{
    if (!json_is_true (s_arg (args, "resumed")) || !uuid)
        return 0;
    return xs_hostops_tasks_await (ops, uuid, err) < 0 ? -1 : 0;
}

static json_t *
s_vdi_create (xs_hostops_t *ops, const json_t *args, xs_err_t *err)
{
    if (s_await_if_resumed (ops, args, s_str (args, "volume_uuid"), err) != 0)
        return NULL;
    return xs_hostops_vdi_create (ops, s_str (args, "sr_uuid"), s_str (args, "volume_uuid"),
                                  s_size (args), s_str (args, "name"), err);
}

/* With vdi_uuid: that VDI only (the orphan sweep's removal). */
static json_t *
s_vdi_destroy (xs_hostops_t *ops, const json_t *args, xs_err_t *err)
{
    if (s_str (args, "vdi_uuid"))
        return xs_hostops_vdi_reap (ops, s_str (args, "volume_uuid"), s_str (args, "sr_uuid"),
                                    s_str (args, "vdi_uuid"), err);
    return xs_hostops_vdi_destroy (ops, s_str (args, "volume_uuid"), s_str (args, "sr_uuid"), err);
}

static json_t *
s_vdi_list (xs_hostops_t *ops, const json_t *args, xs_err_t *err)
{
    return xs_hostops_vdi_list (ops, s_str (args, "sr_uuid"), err);
}

static json_t *
s_vdi_clone (xs_hostops_t *ops, const json_t *args, xs_err_t *err)
{
    if (s_await_if_resumed (ops, args, s_str (args, "new_volume_uuid"), err) != 0)
        return NULL;
    return xs_hostops_vdi_copy_from (ops, false, s_str (args, "volume_uuid"),
                                     s_str (args, "source_vdi_uuid"),
                                     s_str (args, "new_volume_uuid"), s_str (args, "sr_uuid"), err);
}

static json_t *
s_vdi_snapshot (xs_hostops_t *ops, const json_t *args, xs_err_t *err)
{
    if (s_await_if_resumed (ops, args, s_str (args, "new_volume_uuid"), err) != 0)
        return NULL;
    return xs_hostops_vdi_copy_from (ops, true, s_str (args, "volume_uuid"),
                                     s_str (args, "source_vdi_uuid"),
                                     s_str (args, "new_volume_uuid"), s_str (args, "sr_uuid"), err);
}

static json_t *
s_vdi_find (xs_hostops_t *ops, const json_t *args, xs_err_t *err)
{
    return xs_hostops_vdi_find (ops, s_str (args, "volume_uuid"), s_str (args, "sr_uuid"), err);
}

static json_t *
s_vdi_resize (xs_hostops_t *ops, const json_t *args, xs_err_t *err)
{
    return xs_hostops_vdi_resize (ops, s_str (args, "volume_uuid"), s_size (args),
                                  s_str (args, "sr_uuid"), err);
}

static json_t *
s_sr_watch (xs_hostops_t *ops, const json_t *args, xs_err_t *err)
{
    const json_t *timeout = s_arg (args, "timeout");
    return xs_hostops_sr_watch (ops, s_str (args, "token"),
                                json_is_number (timeout) ? json_number_value (timeout) : 60.0,
                                err);
}

/* ---------------------------------------------------------------------
   The table
   --------------------------------------------------------------------- */

#define S_ARGS(...) ((const char *const []) { __VA_ARGS__, NULL })

static const xs_hostops_op_t s_table [] = {
    { XS_OP_HOST_INFO,    S_ARGS (NULL),                                    s_host_info },
    { XS_OP_SR_ATTACH,    S_ARGS ("type"),                                  s_sr_attach },
    { XS_OP_SR_DETACH,    S_ARGS ("sr_uuid"),                               s_sr_detach },
    { XS_OP_SR_STATS,     S_ARGS ("sr_uuid"),                               s_sr_stats },
    { XS_OP_VDI_CREATE,   S_ARGS ("sr_uuid", "volume_uuid", "size"),        s_vdi_create },
    { XS_OP_VDI_DESTROY,  S_ARGS ("volume_uuid"),                           s_vdi_destroy },
    { XS_OP_VDI_CLONE,    S_ARGS ("volume_uuid", "new_volume_uuid"),        s_vdi_clone },
    { XS_OP_VDI_SNAPSHOT, S_ARGS ("volume_uuid", "new_volume_uuid"),        s_vdi_snapshot },
    { XS_OP_VDI_FIND,     S_ARGS ("volume_uuid"),                           s_vdi_find },
    { XS_OP_VDI_RESIZE,   S_ARGS ("volume_uuid", "size"),                   s_vdi_resize },
    { XS_OP_SR_WATCH,     S_ARGS (NULL),                                    s_sr_watch },
    { XS_OP_VDI_LIST,     S_ARGS ("sr_uuid"),                               s_vdi_list },
};

const xs_hostops_op_t *
xs_hostops_op (xs_op_t op)
{
    for (size_t i = 0; i < sizeof s_table / sizeof s_table [0]; i++)
        if (s_table [i].op == op)
            return &s_table [i];
    return NULL;
}

/* ---------------------------------------------------------------------
   Dispatch
   --------------------------------------------------------------------- */

/* Every required argument present, and every argument the handlers read of
   its type. 0 or -1 + err (XS_EINVAL) naming the op and the argument. */
static int
s_check_args (const xs_hostops_op_t *entry, const json_t *args, xs_err_t *err)
{
    const char *op = xs_op_name (entry->op);
    if (!json_is_object (args))
        return xs_err_set (err, XS_EINVAL, "%s: the arguments are not an object", op);
    for (const char *const *key = entry->required; *key; key++)
        if (!s_arg (args, *key))
            return xs_err_set (err, XS_EINVAL, "%s: missing argument %s", op, *key);
    static const char *const strings [] = {
        "type", "sr_uuid", "name_label", "name_description", "volume_uuid", "new_volume_uuid",
        "name", "token", "vdi_uuid", "source_vdi_uuid", NULL
    };
    for (const char *const *key = strings; *key; key++) {
        const json_t *value = s_arg (args, *key);
        if (value && !json_is_string (value))
            return xs_err_set (err, XS_EINVAL, "%s: argument %s must be a string", op, *key);
    }
    const json_t *device_config = s_arg (args, "device_config");
    if (device_config && !json_is_object (device_config))
        return xs_err_set (err, XS_EINVAL, "%s: argument device_config must be an object", op);
    if (s_arg (args, "size") && s_size (args) < 0)
        return xs_err_set (err, XS_EINVAL, "%s: argument size must be a number of bytes", op);
    return 0;
}

json_t *
xs_hostops_dispatch (xs_hostops_t *ops, xs_op_t op, const json_t *args, xs_err_t *err)
{
    const xs_hostops_op_t *entry = xs_hostops_op (op);
    if (!entry) {
        xs_err_set (err, XS_EINVAL, "op %s: not a host operation", xs_op_name (op));
        return NULL;
    }
    json_t *none = NULL;
    if (!args)
        args = none = xs_nn (json_object ());
    json_t *result = NULL;
    if (s_check_args (entry, args, err) == 0)
        result = entry->handler (ops, args, err);
    json_decref (none);
    return result;
}
