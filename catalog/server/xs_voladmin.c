/*  xs_voladmin: the volume_* and host_* admin commands. */
#include "xs_voladmin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"
#include "xs_text.h"

#define S_VERSION 1
#define S_NAME_MAX 255
#define S_ID_MAX 64

struct _xs_voladmin_t {
    xs_sched_t *sched;
};

/* One request waiting for its outcome. */
typedef struct {
    char *id;
    const char *result_key;     /* "volume" */
    xs_voladmin_reply_fn *reply;
    void *arg;
} s_pending_t;

typedef void (s_command_fn) (xs_voladmin_t *self, s_pending_t *p, json_t *args);

static s_command_fn s_volume_create, s_volume_delete, s_volume_snapshot, s_volume_clone,
    s_volume_list, s_volume_show, s_volume_connection, s_host_enroll, s_host_list,
    s_host_remove;

static const struct {
    const char *name;
    s_command_fn *handler;
} s_commands [] = {
    {"volume_create",     s_volume_create},
    {"volume_delete",     s_volume_delete},
    {"volume_snapshot",   s_volume_snapshot},
    {"volume_clone",      s_volume_clone},
    {"volume_list",       s_volume_list},
    {"volume_show",       s_volume_show},
    {"volume_connection", s_volume_connection},
    {"host_enroll",       s_host_enroll},
    {"host_list",         s_host_list},
    {"host_remove",       s_host_remove},
};

#define S_NCOMMANDS (sizeof s_commands / sizeof s_commands [0])

/* =========================================================================
    Replies
   ========================================================================= */

static void
s_send (s_pending_t *p, json_t *reply)
{
    char *text = json_dumps (reply, JSON_COMPACT);
    json_decref (reply);
    if (!text)
        abort ();
    p->reply (p->arg, text, strlen (text));
    free (p->id);
    free (p);
}

/* Takes *result_p (NULL with err set = failure). */
static void
s_finish (s_pending_t *p, json_t *result, const xs_err_t *err)
{
    json_t *reply = NULL;
    if (err) {
        const char *kind = xs_errkind_name (err->kind);
        reply = json_pack ("{s:i, s:s, s:b, s:{s:s, s:s, s:s}}", "v", S_VERSION, "id", p->id,
                           "ok", 0, "error", "code", kind, "kind", kind, "message", err->msg);
        if (!reply)
            reply = json_pack ("{s:i, s:s, s:b, s:{s:s, s:s, s:s}}", "v", S_VERSION, "id",
                               p->id, "ok", 0, "error", "code", kind, "kind", kind,
                               "message", "(unprintable error message)");
        json_decref (result);
    }
    else
        reply = json_pack ("{s:i, s:s, s:b, s:o}", "v", S_VERSION, "id", p->id, "ok", 1,
                           "result", result ? result : json_object ());
    if (!reply)
        abort ();
    s_send (p, reply);
}

static void
s_fail (s_pending_t *p, xs_errkind_t kind, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_fail (s_pending_t *p, xs_errkind_t kind, const char *fmt, ...)
{
    xs_err_t err;
    va_list ap;
    va_start (ap, fmt);
    err.kind = kind;
    vsnprintf (err.msg, sizeof err.msg, fmt, ap);
    va_end (ap);
    s_finish (p, NULL, &err);
}

/* The scheduler's completion: wraps the volume under result_key. */
static void
s_on_done (void *arg, json_t *reply, const xs_err_t *err)
{
    s_pending_t *p = (s_pending_t *) arg;
    if (err)
        s_finish (p, NULL, err);
    else
        s_finish (p, json_pack ("{s:o}", p->result_key, reply ? reply : json_null ()), NULL);
}

/* =========================================================================
    Argument checks
   ========================================================================= */

static int
s_unpack (s_pending_t *p, const char *cmd, json_t *args, const char *fmt, ...)
{
    json_error_t jerr;
    va_list ap;
    va_start (ap, fmt);
    json_t *empty = NULL;
    if (!args)
        args = empty = json_object ();
    int rc = json_vunpack_ex (args, &jerr, 0, fmt, ap);
    va_end (ap);
    json_decref (empty);
    if (rc)
        s_fail (p, XS_EINVAL, "%s: bad arguments: %s", cmd, jerr.text);
    return rc;
}

/* NULL (not given) or a text of 1..max bytes (xs_text_check); false after
   failing p when not. */
static bool
s_text_ok (s_pending_t *p, const char *what, const char *text, size_t max)
{
    xs_err_t err;
    if (!text || xs_text_check (what, text, max, 0, &err) == 0)
        return true;
    s_fail (p, err.kind, "%s", err.msg);
    return false;
}

/* =========================================================================
    Commands
   ========================================================================= */

static void
s_volume_create (xs_voladmin_t *self, s_pending_t *p, json_t *args)
{
    const char *flavor = NULL, *name = NULL, *request_id = NULL;
    json_int_t size = 0;
    if (s_unpack (p, "volume_create", args, "{s:s, s:I, s?s, s?s}", "flavor", &flavor,
                  "size", &size, "name", &name, "request_id", &request_id))
        return;
    if (!s_text_ok (p, "volume name", name, S_NAME_MAX)
    ||  !s_text_ok (p, "request id", request_id, S_ID_MAX))
        return;
    p->result_key = "volume";
    xs_sched_create_t req = {.flavor = flavor, .size = size, .name = name,
                             .request_id = request_id};
    xs_sched_volume_create (self->sched, &req, s_on_done, p);
}

static void
s_volume_delete (xs_voladmin_t *self, s_pending_t *p, json_t *args)
{
    const char *uuid = NULL;
    if (s_unpack (p, "volume_delete", args, "{s:s}", "uuid", &uuid))
        return;
    p->result_key = "volume";
    xs_sched_volume_delete (self->sched, uuid, s_on_done, p);
}

static void
s_copy (xs_voladmin_t *self, s_pending_t *p, json_t *args, const char *op)
{
    const char *uuid = NULL, *name = NULL;
    char cmd [32];
    snprintf (cmd, sizeof cmd, "volume_%s", op);
    if (s_unpack (p, cmd, args, "{s:s, s?s}", "uuid", &uuid, "name", &name)
    ||  !s_text_ok (p, "volume name", name, S_NAME_MAX))
        return;
    p->result_key = "volume";
    xs_sched_volume_copy (self->sched, op, uuid, name, s_on_done, p);
}

static void
s_volume_snapshot (xs_voladmin_t *self, s_pending_t *p, json_t *args)
{
    s_copy (self, p, args, "snapshot");
}

static void
s_volume_clone (xs_voladmin_t *self, s_pending_t *p, json_t *args)
{
    s_copy (self, p, args, "clone");
}

static void
s_volume_list (xs_voladmin_t *self, s_pending_t *p, json_t *args)
{
    int all = 0;
    if (s_unpack (p, "volume_list", args, "{s?b}", "all", &all))
        return;
    xs_err_t err;
    json_t *list = xs_sched_volume_list (self->sched, all, &err);
    if (!list)
        s_finish (p, NULL, &err);
    else
        s_finish (p, json_pack ("{s:o}", "volumes", list), NULL);
}

static void
s_volume_show (xs_voladmin_t *self, s_pending_t *p, json_t *args)
{
    const char *uuid = NULL;
    if (s_unpack (p, "volume_show", args, "{s:s}", "uuid", &uuid))
        return;
    xs_err_t err;
    json_t *v = xs_sched_volume_show (self->sched, uuid, &err);
    if (!v)
        s_finish (p, NULL, &err);
    else
        s_finish (p, json_pack ("{s:o}", "volume", v), NULL);
}

static void
s_volume_connection (xs_voladmin_t *self, s_pending_t *p, json_t *args)
{
    const char *uuid = NULL;
    int secrets = 0;
    if (s_unpack (p, "volume_connection", args, "{s:s, s?b}", "uuid", &uuid,
                  "show_secrets", &secrets))
        return;
    xs_err_t err;
    json_t *c = xs_sched_volume_connection (self->sched, uuid, secrets, &err);
    if (!c)
        s_finish (p, NULL, &err);
    else {
        if (secrets)
            xs_notice ("volume %s: connection info with secrets handed out", uuid);
        s_finish (p, json_pack ("{s:o}", "connection", c), NULL);
    }
}

static void
s_host_enroll (xs_voladmin_t *self, s_pending_t *p, json_t *args)
{
    const char *key = NULL;
    if (s_unpack (p, "host_enroll", args, "{s:s}", "public_key", &key))
        return;
    xs_err_t err;
    char *z85 = xs_agentsrv_enroll (xs_sched_agents (self->sched), key, &err);
    if (!z85)
        s_finish (p, NULL, &err);
    else {
        s_finish (p, json_pack ("{s:s}", "public_key", z85), NULL);
        free (z85);
    }
}

static void
s_host_list (xs_voladmin_t *self, s_pending_t *p, json_t *args)
{
    xs_err_t err;
    json_t *hosts = xs_agentsrv_host_list (xs_sched_agents (self->sched), &err);
    if (!hosts)
        s_finish (p, NULL, &err);
    else
        s_finish (p, json_pack ("{s:o}", "hosts", hosts), NULL);
}

static void
s_host_remove (xs_voladmin_t *self, s_pending_t *p, json_t *args)
{
    const char *who = NULL;
    if (s_unpack (p, "host_remove", args, "{s:s}", "host", &who))
        return;
    xs_err_t err;
    if (xs_agentsrv_remove (xs_sched_agents (self->sched), who, &err))
        s_finish (p, NULL, &err);
    else
        s_finish (p, json_pack ("{s:s}", "removed", who), NULL);
}

/* =========================================================================
    The class
   ========================================================================= */

xs_voladmin_t *
xs_voladmin_new (xs_sched_t *sched)
{
    xs_voladmin_t *self = xs_zalloc (sizeof *self);
    self->sched = sched;
    return self;
}

void
xs_voladmin_destroy (xs_voladmin_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

bool
xs_voladmin_handles (const char *cmd)
{
    for (size_t i = 0; cmd && i < S_NCOMMANDS; i++)
        if (strcmp (s_commands [i].name, cmd) == 0)
            return true;
    return false;
}

const char *
xs_voladmin_command_name (size_t index)
{
    return index < S_NCOMMANDS ? s_commands [index].name : NULL;
}

void
xs_voladmin_handle (xs_voladmin_t *self, const char *id, const char *cmd, json_t *args,
                    xs_voladmin_reply_fn *reply, void *arg)
{
    s_pending_t *p = xs_zalloc (sizeof *p);
    p->id = xs_strdup (id ? id : "");
    p->reply = reply;
    p->arg = arg;
    if (!p->id)
        abort ();
    if (args && !json_is_object (args)) {
        s_fail (p, XS_EINVAL, "%s: args must be an object", cmd ? cmd : "?");
        return;
    }
    for (size_t i = 0; cmd && i < S_NCOMMANDS; i++)
        if (strcmp (s_commands [i].name, cmd) == 0) {
            s_commands [i].handler (self, p, args);
            return;
        }
    s_fail (p, XS_EINVAL, "unknown command %s", cmd ? cmd : "(none)");
}
