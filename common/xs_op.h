/*  xs_op: the host operations, by name.

    The catalog sends them to agents (docs/PROTOCOL.md "Agent protocol"),
    the agent runs them through xapi, and the xapi plugin exposes the same
    ones to `xe host-call-plugin`. Their names are the wire and plugin
    function names; code compares the enum, never the strings.
*/
#ifndef XS_OP_H_INCLUDED
#define XS_OP_H_INCLUDED

typedef enum {
    XS_OP_NONE = 0,             /* not an operation                          */
    XS_OP_HOST_INFO,            /* host_info:    this host's uuid, name, pool */
    XS_OP_SR_ATTACH,            /* sr_attach:    create/introduce, PBD, plug  */
    XS_OP_SR_DETACH,            /* sr_detach:    unplug, forget (never destroy) */
    XS_OP_SR_STATS,             /* sr_stats:     sizes and capabilities       */
    XS_OP_VDI_CREATE,           /* vdi_create                                */
    XS_OP_VDI_DESTROY,          /* vdi_destroy                               */
    XS_OP_VDI_CLONE,            /* vdi_clone                                 */
    XS_OP_VDI_SNAPSHOT,         /* vdi_snapshot                              */
    XS_OP_VDI_FIND,             /* vdi_find                                  */
    XS_OP_VDI_RESIZE,           /* vdi_resize:   grow (extend) a volume's VDI */
    XS_OP_SR_WATCH,             /* sr_watch:     the agent's own: SR changes (event.from) */
    XS_OP_VDI_LIST,             /* vdi_list:     the VDIs xensm tagged in an SR (orphan sweep) */
    XS_OP_COUNT
} xs_op_t;

/* The operation's wire name ("vdi_create"); "?" for XS_OP_NONE or out of range. */
const char *xs_op_name (xs_op_t op);

/* The operation named `name`; XS_OP_NONE when name is NULL or unknown. */
xs_op_t xs_op_from_name (const char *name);

#endif
