/*  xs_op: the host operations, by name (see xs_op.h). */
#include <string.h>

#include "xs_op.h"

static const char *const s_names [XS_OP_COUNT] = {
    [XS_OP_NONE]         = "?",
    [XS_OP_HOST_INFO]    = "host_info",
    [XS_OP_SR_ATTACH]    = "sr_attach",
    [XS_OP_SR_DETACH]    = "sr_detach",
    [XS_OP_SR_STATS]     = "sr_stats",
    [XS_OP_VDI_CREATE]   = "vdi_create",
    [XS_OP_VDI_DESTROY]  = "vdi_destroy",
    [XS_OP_VDI_CLONE]    = "vdi_clone",
    [XS_OP_VDI_SNAPSHOT] = "vdi_snapshot",
    [XS_OP_VDI_FIND]     = "vdi_find",
    [XS_OP_VDI_RESIZE]   = "vdi_resize",
    [XS_OP_SR_WATCH]     = "sr_watch",
    [XS_OP_VDI_LIST]     = "vdi_list",
};

const char *
xs_op_name (xs_op_t op)
{
    return op > XS_OP_NONE && op < XS_OP_COUNT ? s_names [op] : "?";
}

xs_op_t
xs_op_from_name (const char *name)
{
    for (int op = XS_OP_NONE + 1; name && op < XS_OP_COUNT; op++)
        if (strcmp (name, s_names [op]) == 0)
            return (xs_op_t) op;
    return XS_OP_NONE;
}
