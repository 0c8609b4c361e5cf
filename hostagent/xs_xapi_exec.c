/*  xs_xapi_exec: the agent's real executor, over xs_hostops_dispatch. */
#include "xs_xapi_exec.h"

#include <stdlib.h>

#include "xs_hostops.h"
#include "xs_hostops_dispatch.h"
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_xenapi.h"

typedef struct {
    xs_xenapi_t *client;
    xs_hostops_t *ops;
} s_ctx_t;

static void
s_close (void **ctx_p)
{
    if (ctx_p && *ctx_p) {
        s_ctx_t *ctx = (s_ctx_t *) *ctx_p;
        xs_hostops_destroy (&ctx->ops);
        xs_xenapi_destroy (&ctx->client);
        free (ctx);
        *ctx_p = NULL;
    }
}

/* The tasks an earlier run left: settled once, by the first context. */
static void
s_settle_tasks (xs_xapi_exec_cfg_t *cfg, xs_hostops_t *ops)
{
    if (__atomic_exchange_n (&cfg->tasks_settled, true, __ATOMIC_SEQ_CST))
        return;
    xs_err_t err;
    json_t *tasks = xs_hostops_tasks_adopt (ops, true, &err);
    if (!tasks)
        xs_warning ("xapi %s: cannot look for tasks left by an earlier run: %s", cfg->url,
                    err.msg);
    else
    if (json_array_size (json_object_get (tasks, "ended")) > 0)
        xs_notice ("xapi %s: settled %zu task(s) left by an earlier run", cfg->url,
                   json_array_size (json_object_get (tasks, "ended")));
    json_decref (tasks);
}

static void *
s_open (void *arg, xs_err_t *err)
{
    xs_xapi_exec_cfg_t *cfg = (xs_xapi_exec_cfg_t *) arg;
    s_ctx_t *ctx = xs_zalloc (sizeof *ctx);
    ctx->client = xs_xenapi_new (cfg->url, err);
    if (!ctx->client)
        goto fail;
    if (cfg->ca_file)
        xs_xenapi_set_ca_file (ctx->client, cfg->ca_file);
    if (cfg->timeout_ms > 0)
        xs_xenapi_set_timeouts (ctx->client, 0, cfg->timeout_ms);
    if (xs_xenapi_login (ctx->client, cfg->username ? cfg->username : "root",
                         cfg->password ? cfg->password : "", err)) {
        xs_err_prefix (err, "xapi %s: login", cfg->url);
        goto fail;
    }
    ctx->ops = xs_hostops_new (ctx->client);
    xs_hostops_set_host_uuid (ctx->ops, cfg->host_uuid);
    if (cfg->timeout_ms > 0)
        xs_hostops_set_deadline (ctx->ops, cfg->timeout_ms);
    s_settle_tasks (cfg, ctx->ops);
    return ctx;
fail:
    s_close ((void **) &ctx);
    return NULL;
}

/* sr_attach's args on the wire are the catalog's backend record,
   {backend: {backend_id, sr_type, name_label, sr_uuid, create,
   device_config}}; the op table's are flat (xs_hostops_dispatch.h). A
   backend without an SR is made only when the catalog chose this agent to
   create it. NULL + err when there is nothing to attach. */
static json_t *
s_attach_args (const json_t *args, xs_err_t *err)
{
    const json_t *backend = json_object_get (args, "backend");
    const json_t *sr_uuid = json_object_get (backend, "sr_uuid");
    if (!json_is_string (sr_uuid) && !json_is_true (json_object_get (backend, "create"))) {
        xs_err_set (err, XS_EINVAL, "backend %lld: no SR uuid and not asked to create one",
                    (long long) json_integer_value (json_object_get (backend, "backend_id")));
        return NULL;
    }
    json_t *flat = xs_nn (json_object ());
    json_t *type = json_object_get (backend, "sr_type");
    json_t *label = json_object_get (backend, "name_label");
    json_t *device_config = json_object_get (backend, "device_config");
    if (type)
        json_object_set (flat, "type", type);
    if (json_is_string (sr_uuid))
        json_object_set (flat, "sr_uuid", (json_t *) sr_uuid);
    if (json_string_length (label) > 0)
        json_object_set (flat, "name_label", label);
    json_object_set_new (flat, "name_description", xs_nn (json_string ("xensm backend")));
    if (device_config)
        json_object_set (flat, "device_config", device_config);
    return flat;
}

static json_t *
s_run (void *ctx_arg, xs_op_t op, const json_t *args, xs_err_t *err)
{
    s_ctx_t *ctx = (s_ctx_t *) ctx_arg;
    if (op != XS_OP_SR_ATTACH)
        return xs_hostops_dispatch (ctx->ops, op, args, err);
    json_t *attach = s_attach_args (args, err);
    if (!attach)
        return NULL;
    json_t *result = xs_hostops_dispatch (ctx->ops, op, attach, err);
    json_decref (attach);
    return result;
}

const xs_executor_t xs_xapi_executor = { "xapi", s_open, s_close, s_run };
