/*  xs_hostops_dispatch: the host operations by xs_op_t, from ONE table
    {op, required arguments, handler}.

    The agent's xapi executor (hostagent/xs_xapi_exec.c) and the xapi
    plugin's helper program (xe-plugin/xs_plugin_helper.c) both run every
    operation through xs_hostops_dispatch, so the same arguments mean the
    same thing whether the catalog or `xe host-call-plugin` asks.

    Arguments are one JSON object (before ";" required):

      host_info     -
      sr_attach     type; sr_uuid, name_label, name_description,
                    device_config (an object of strings)
      sr_detach     sr_uuid
      sr_stats      sr_uuid
      vdi_create    sr_uuid, volume_uuid, size; name
      vdi_destroy   volume_uuid; sr_uuid
      vdi_clone     volume_uuid, new_volume_uuid; sr_uuid
      vdi_snapshot  volume_uuid, new_volume_uuid; sr_uuid
      vdi_find      volume_uuid; sr_uuid
      sr_watch      -; token, timeout (seconds, a number; 60 by default)
                    (the agent's own: not a catalog request nor a plugin
                    function)

    Every argument is a string, except device_config and size: bytes > 0,
    a JSON integer or a decimal string (plugin arguments are all strings).
    JSON null is an absent argument (the agent protocol sends an unknown
    optional sr_uuid as null). Other arguments are ignored (the callers
    check their own protocol).

    The VDI's description: `name`, the volume's name (docs/PROTOCOL.md
    vdi_create, the catalog's `volume create --name`), becomes the VDI's
    name_description; without it the description is "xensm volume <uuid>".
    The VDI's name_label is always xensm-<volume uuid> (xs_hostops.h).
*/
#ifndef XS_HOSTOPS_DISPATCH_H_INCLUDED
#define XS_HOSTOPS_DISPATCH_H_INCLUDED

#include <jansson.h>

#include "xs_err.h"
#include "xs_hostops.h"
#include "xs_op.h"

/* Runs one operation with its (already checked) arguments. */
typedef json_t *(xs_hostops_handler_fn) (xs_hostops_t *ops, const json_t *args, xs_err_t *err);

typedef struct {
    xs_op_t op;
    const char *const *required;        /* argument names, NULL-terminated */
    xs_hostops_handler_fn *handler;
} xs_hostops_op_t;

/* The table entry of `op`, or NULL when `op` is not a host operation.
   Static: never freed. */
const xs_hostops_op_t *xs_hostops_op (xs_op_t op);

/* Runs `op` with `args` (a JSON object, borrowed; NULL = {}) through `ops`.
   Returns the operation's result (caller json_decrefs) or NULL with *err:
   XS_EINVAL naming the op for an unknown op or a missing or ill-typed
   argument (nothing reaches xapi then), else the operation's own error
   (xs_hostops_error_code gives xapi's code when it came from xapi). */
json_t *xs_hostops_dispatch (xs_hostops_t *ops, xs_op_t op, const json_t *args, xs_err_t *err);

#endif
