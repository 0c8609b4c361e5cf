/*  xs_xapi_exec: the agent's real executor. Each worker thread opens its own
    XenAPI client (xs_xenapi) logged in to the configured xapi and runs the
    agent protocol's ops (docs/PROTOCOL.md "Request ops") through the one
    operation table, xs_hostops_dispatch: the wire's args are the table's,
    except sr_attach's backend record, which it flattens.

    Long operations run as xapi tasks that end by the whole-call timeout
    (timeout_ms: then task.cancel; see xs_hostops_set_deadline). The first
    context to open settles, before any job runs, the tasks an earlier run
    of this host's agent left (killed while a task ran): it follows each to
    its end and logs what xapi did (xs_hostops_tasks_adopt). Workers open
    their contexts one by one while the agent starts, so no request runs
    before that is done.

    Use: xs_agent_cfg_t.executor = &xs_xapi_executor and .executor_arg =
    a xs_xapi_exec_cfg_t that outlives the agent (its strings borrowed).
*/
#ifndef XS_XAPI_EXEC_H_INCLUDED
#define XS_XAPI_EXEC_H_INCLUDED

#include <stdbool.h>

#include "xs_executor.h"

typedef struct {
    const char *url;            /* unix:/var/lib/xcp/xapi, https://host, http://...  */
    const char *username;       /* "root" when NULL (local superuser on the socket)  */
    const char *password;       /* "" when NULL; a secret, never logged             */
    const char *ca_file;        /* https: CA bundle; NULL = system store             */
    long timeout_ms;            /* whole-call timeout; 0 = xs_xenapi default         */
    const char *host_uuid;      /* this host; NULL = the session's (see xs_hostops)  */
    bool tasks_settled;         /* set by the first context that opened: it settled
                                   the tasks an earlier run left (start false)       */
} xs_xapi_exec_cfg_t;

extern const xs_executor_t xs_xapi_executor;

#endif
