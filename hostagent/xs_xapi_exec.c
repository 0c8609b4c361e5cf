/*  xs_xapi_exec: the agent's real executor, over xs_hostops. */
#include "xs_xapi_exec.h"

#include <stdlib.h>
#include <string.h>

#include "xs_hostops.h"
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

static void *
s_open (void *arg, xs_err_t *err)
{
    const xs_xapi_exec_cfg_t *cfg = (const xs_xapi_exec_cfg_t *) arg;
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
    return ctx;
fail:
    s_close ((void **) &ctx);
    return NULL;
}

static const char *
s_str (const json_t *obj, const char *key)
{
    return json_string_value (json_object_get (obj, key));
}

static json_t *
s_run (void *ctx_arg, const char *op, const json_t *args, xs_err_t *err)
{
    s_ctx_t *ctx = (s_ctx_t *) ctx_arg;
    xs_hostops_t *ops = ctx->ops;

    if (!strcmp (op, "host_info"))
        return xs_hostops_host_info (ops, err);
    if (!strcmp (op, "sr_attach")) {
        const json_t *b = json_object_get (args, "backend");
        const char *sr_uuid = s_str (b, "sr_uuid");
        if (!sr_uuid && !json_is_true (json_object_get (b, "create")))
            return xs_err_set (err, XS_EINVAL, "backend %lld: no SR uuid and not asked to create one",
                               (long long) json_integer_value (json_object_get (b, "backend_id"))),
                   NULL;
        const char *label = s_str (b, "name_label");
        xs_hostops_sr_spec_t spec = {
            .sr_uuid = sr_uuid, .type = s_str (b, "sr_type"),
            .name_label = label && *label ? label : NULL,
            .name_description = "xensm backend",
            .device_config = json_object_get (b, "device_config"),
        };
        return xs_hostops_sr_attach (ops, &spec, err);
    }
    if (!strcmp (op, "sr_detach"))
        return xs_hostops_sr_detach (ops, s_str (args, "sr_uuid"), err);
    if (!strcmp (op, "sr_stats"))
        return xs_hostops_sr_stats (ops, s_str (args, "sr_uuid"), err);
    if (!strcmp (op, "vdi_create"))
        return xs_hostops_vdi_create (ops, s_str (args, "sr_uuid"), s_str (args, "volume_uuid"),
                                      (int64_t) json_integer_value (json_object_get (args, "size")),
                                      s_str (args, "name"), err);
    if (!strcmp (op, "vdi_destroy"))
        return xs_hostops_vdi_destroy (ops, s_str (args, "volume_uuid"), s_str (args, "sr_uuid"), err);
    if (!strcmp (op, "vdi_clone"))
        return xs_hostops_vdi_clone (ops, s_str (args, "volume_uuid"), s_str (args, "new_volume_uuid"),
                                     s_str (args, "sr_uuid"), err);
    if (!strcmp (op, "vdi_snapshot"))
        return xs_hostops_vdi_snapshot (ops, s_str (args, "volume_uuid"),
                                        s_str (args, "new_volume_uuid"), s_str (args, "sr_uuid"), err);
    if (!strcmp (op, "vdi_find"))
        return xs_hostops_vdi_find (ops, s_str (args, "volume_uuid"), s_str (args, "sr_uuid"), err);
    return xs_err_set (err, XS_EINVAL, "op %s: not supported by the xapi executor", op), NULL;
}

const xs_executor_t xs_xapi_executor = {"xapi", s_open, s_close, s_run};
