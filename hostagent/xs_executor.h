/*  xs_executor: what carries out the agent's operations.

    The agent (xs_agent) runs every operation in worker threads through this
    small table of functions, so the same agent serves real hosts (the xapi
    executor, over xs_hostops), tests (a scripted fake) and benchmarks (one that
    answers at once).

    Each worker thread opens its own context with `open` and closes it with
    `close`; a context is used by one thread only. `run` receives a request op
    of docs/PROTOCOL.md "Agent protocol" with its args (already validated by
    xs_proto) or the agent-internal op XS_OP_HOST_INFO (args {}; value
    {uuid, name_label}).
    It returns the result value (a JSON object, caller owns) or NULL with *err
    filled: the message names the object and the reason.
*/
#ifndef XS_EXECUTOR_H_INCLUDED
#define XS_EXECUTOR_H_INCLUDED

#include <jansson.h>

#include "xs_err.h"
#include "xs_op.h"

typedef struct {
    const char *name;                               /* for logs: "xapi", "fake" */
    void *(*open) (void *arg, xs_err_t *err);       /* NULL on failure          */
    void (*close) (void **ctx_p);                   /* NULLs *ctx_p             */
    json_t *(*run) (void *ctx, xs_op_t op, const json_t *args, xs_err_t *err);
} xs_executor_t;

#endif
