/*  xs_admin_int: what xs_admin.c (the table, the envelope, the volume and
    host commands) and xs_admin_sm.c (the flavor and backend commands)
    share. Private to those two files.
*/
#ifndef XS_ADMIN_INT_H_INCLUDED
#define XS_ADMIN_INT_H_INCLUDED

#include "xs_admin.h"

struct _xs_admin_t {
    xs_admin_deps_t deps;           /* borrowed objects                       */
    json_t *info;                   /* extra `ping` fields                    */
    bool follower;                  /* another catalogd leads                 */
    xs_store_leader_t leader;       /* the leader as last seen                */
    xs_orphans_t *orphans;          /* volume_orphans; NULL: none (borrowed)  */
};

/* Answers *reply_p with result (taken) or, when it is NULL, with *err (an
   unset err becomes "<cmd>: failed"). */
void xs_admin_answer (const char *cmd, xs_reply_t **reply_p, json_t *result,
                      const xs_err_t *err);

/* The flavor and backend commands (xs_admin_sm.c): `xensm-manage sm`. */
xs_admin_fn xs_admin_flavor_create, xs_admin_flavor_list, xs_admin_flavor_delete,
    xs_admin_backend_add, xs_admin_backend_list, xs_admin_backend_remove;

#endif
