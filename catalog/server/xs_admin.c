/*  xs_admin: the admin protocol's commands, from one table. */
#include "xs_admin_int.h"
#include "xs_build_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"
#include "xs_text.h"

#define S_NAME_MAX 255
#define S_ID_MAX 64

static xs_admin_fn s_ping, s_catalog_status, s_volume_create, s_volume_delete,
    s_volume_snapshot, s_volume_clone, s_volume_extend, s_volume_reset_state, s_volume_rename,
    s_volume_list, s_volume_show, s_volume_connection, s_volume_orphans, s_host_enroll,
    s_host_list, s_host_remove;

/* ---------------------------------------------------------------------
   The command table (docs/PROTOCOL.md "Commands"). `args` is the schema:
   "key:T" required, "key?T" optional; T is s (string), I (integer),
   b (boolean) or o (any JSON value). Other keys are ignored. Then the
   kind (when the reply leaves) and what the command needs (the store
   alone, or the volumes and the agent server too). A follower serves the
   READ commands that need the store alone, straight from the database
   (docs/PROTOCOL.md "Followers"); host_list needs the leader's live view
   of the agents, so it is not_leader there like every change.
   --------------------------------------------------------------------- */

static json_t *s_leader_json (const xs_store_leader_t *row);

static const xs_admin_cmd_t s_commands [] = {
    { "ping",              "",                                  "",
      XS_ADMIN_READ,  XS_ADMIN_STORE,  s_ping },
    { "catalog_status",    "",                                  "",
      XS_ADMIN_READ,  XS_ADMIN_STORE,  s_catalog_status },
    { "flavor_create",     "label:s description?s",             "label [description]",
      XS_ADMIN_WRITE, XS_ADMIN_STORE,  xs_admin_flavor_create },
    { "flavor_list",       "label?s",                           "[label]",
      XS_ADMIN_READ,  XS_ADMIN_STORE,  xs_admin_flavor_list },
    { "flavor_delete",     "label:s",                           "label",
      XS_ADMIN_WRITE, XS_ADMIN_STORE,  xs_admin_flavor_delete },
    { "backend_add",       "flavor:s sr_type:s params?o",       "flavor sr_type [params]",
      XS_ADMIN_WRITE, XS_ADMIN_STORE,  xs_admin_backend_add },
    { "backend_list",      "id?I",                              "[id]",
      XS_ADMIN_READ,  XS_ADMIN_STORE,  xs_admin_backend_list },
    { "backend_remove",    "id:I",                              "id",
      XS_ADMIN_WRITE, XS_ADMIN_STORE,  xs_admin_backend_remove },
    { "volume_create",     "flavor:s size:I name?s request_id?s project?s",
      "flavor size [name] [request_id] [project]",
      XS_ADMIN_WAITS, XS_ADMIN_AGENTS, s_volume_create },
    { "volume_delete",     "uuid:s",                            "uuid",
      XS_ADMIN_WAITS, XS_ADMIN_AGENTS, s_volume_delete },
    { "volume_snapshot",   "uuid:s name?s request_id?s",        "uuid [name] [request_id]",
      XS_ADMIN_WAITS, XS_ADMIN_AGENTS, s_volume_snapshot },
    { "volume_clone",      "uuid:s name?s request_id?s",        "uuid [name] [request_id]",
      XS_ADMIN_WAITS, XS_ADMIN_AGENTS, s_volume_clone },
    { "volume_extend",     "uuid:s size:I",                     "uuid size",
      XS_ADMIN_WAITS, XS_ADMIN_AGENTS, s_volume_extend },
    { "volume_reset_state", "uuid:s state:s",                   "uuid state",
      XS_ADMIN_WRITE, XS_ADMIN_AGENTS, s_volume_reset_state },
    { "volume_rename",     "uuid:s name:s",                     "uuid name",
      XS_ADMIN_WRITE, XS_ADMIN_AGENTS, s_volume_rename },
    { "volume_list",       "all?b project?s",                   "[all] [project]",
      XS_ADMIN_READ,  XS_ADMIN_STORE,  s_volume_list },
    { "volume_show",       "uuid:s",                            "uuid",
      XS_ADMIN_READ,  XS_ADMIN_STORE,  s_volume_show },
    { "volume_connection", "uuid:s show_secrets?b",             "uuid [show_secrets]",
      XS_ADMIN_READ,  XS_ADMIN_STORE,  s_volume_connection },
    { "volume_orphans",    "",                                  "",
      XS_ADMIN_READ,  XS_ADMIN_AGENTS, s_volume_orphans },
    { "host_enroll",       "public_key:s",                      "public_key",
      XS_ADMIN_WRITE, XS_ADMIN_AGENTS, s_host_enroll },
    { "host_list",         "",                                  "",
      XS_ADMIN_READ,  XS_ADMIN_AGENTS, s_host_list },
    { "host_remove",       "host:s",                            "host",
      XS_ADMIN_WRITE, XS_ADMIN_AGENTS, s_host_remove },
};

#define S_NCOMMANDS (sizeof s_commands / sizeof s_commands [0])

const xs_admin_cmd_t *
xs_admin_command (size_t index)
{
    return index < S_NCOMMANDS ? &s_commands [index] : NULL;
}

/* ---------------------------------------------------------------------
   Life cycle
   --------------------------------------------------------------------- */

xs_admin_t *
xs_admin_new (const xs_admin_deps_t *deps)
{
    xs_admin_t *self = xs_zalloc (sizeof *self);
    self->deps = *deps;
    self->info = xs_nn (json_object ());
    return self;
}

void
xs_admin_destroy (xs_admin_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    json_decref ((*self_p)->info);
    free (*self_p);
    *self_p = NULL;
}

void
xs_admin_set_agents (xs_admin_t *self, xs_volumes_t *volumes, xs_agentsrv_t *agents)
{
    self->deps.volumes = volumes;
    self->deps.agents = agents;
}

void
xs_admin_set_orphans (xs_admin_t *self, xs_orphans_t *orphans)
{
    self->orphans = orphans;
}

void
xs_admin_set_info (xs_admin_t *self, const char *key, const char *value)
{
    if (json_object_set_new (self->info, key, xs_nn (json_string (value))))
        abort ();
}

/* ---------------------------------------------------------------------
   Answers and argument checks
   --------------------------------------------------------------------- */

void
xs_admin_answer (const char *cmd, xs_reply_t **reply_p, json_t *result, const xs_err_t *err)
{
    if (result) {
        xs_reply_ok (reply_p, result);
        return;
    }
    xs_err_t failure = *err;
    if (failure.kind == XS_OK)
        xs_err_set (&failure, XS_EINTERNAL, "%s: failed", cmd);
    xs_info ("admin: %s refused: %s", cmd, failure.msg);
    xs_reply_err (reply_p, &failure);
}

/* Whether `value` has schema type `type`. */
static bool
s_type_ok (char type, const json_t *value)
{
    switch (type) {
        case 's': return json_is_string (value);
        case 'I': return json_is_integer (value);
        case 'b': return json_is_boolean (value);
        default:  return true;
    }
}

static const char *
s_type_name (char type)
{
    switch (type) {
        case 's': return "a string";
        case 'I': return "an integer";
        case 'b': return "true or false";
        default:  return "a value";
    }
}

/* Checks `args` (an object) against the command's schema. */
static int
s_check_args (const xs_admin_cmd_t *cmd, json_t *args, xs_err_t *err)
{
    const char *p = cmd->args;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t len = strcspn (p, ":?");
        if (!p [len] || !p [len + 1])
            break;
        char key [64];
        snprintf (key, sizeof key, "%.*s", (int) len, p);
        bool required = p [len] == ':';
        char type = p [len + 1];
        p += len + 2;
        json_t *value = json_object_get (args, key);
        if (!value && required)
            return xs_err_set (err, XS_EINVAL, "%s: bad arguments: \"%s\" is required (%s)",
                               cmd->name, key, cmd->usage);
        if (value && !s_type_ok (type, value))
            return xs_err_set (err, XS_EINVAL, "%s: bad arguments: \"%s\" must be %s",
                               cmd->name, key, s_type_name (type));
    }
    return 0;
}

/* A text argument: NULL (absent) or 1..max bytes of printable text. */
static int
s_check_text (const char *what, json_t *args, const char *key, size_t max, xs_err_t *err)
{
    const char *text = json_string_value (json_object_get (args, key));
    return text ? xs_text_check (what, text, max, 0, err) : 0;
}

static const char *
s_str (json_t *args, const char *key)
{
    return json_string_value (json_object_get (args, key));
}

/* A project argument: absent, or [A-Za-z0-9_-]{1,64} (the API's rule). */
static int
s_check_project (json_t *args, xs_err_t *err)
{
    const char *project = s_str (args, "project");
    if (!project)
        return 0;
    size_t len = strlen (project);
    bool ok = len > 0 && len <= S_ID_MAX && strspn (project, "abcdefghijklmnopqrstuvwxyz"
                                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
                                            == len;
    return ok ? 0 : xs_err_set (err, XS_EINVAL, "project '%.64s': use 1 to 64 letters, digits, "
                                "'_' or '-'", project);
}

/* ---------------------------------------------------------------------
   Dispatch
   --------------------------------------------------------------------- */

/* Refuses an unknown command, naming every known one. */
static void
s_unknown (const char *name, xs_reply_t **reply_p)
{
    char message [XS_ERR_MSG_MAX];
    size_t used = (size_t) snprintf (message, sizeof message, "unknown command '%.64s' (known:",
                                     name);
    for (size_t c = 0; c < S_NCOMMANDS && used < sizeof message; c++)
        used += (size_t) snprintf (message + used, sizeof message - used, " %s",
                                   s_commands [c].name);
    if (used < sizeof message)
        snprintf (message + used, sizeof message - used, ")");
    xs_reply_refuse (reply_p, XS_ADMIN_E_UNKNOWN_CMD, "%s", message);
}

void
xs_admin_set_leader (xs_admin_t *self, bool leading, const xs_store_leader_t *leader)
{
    self->follower = !leading;
    if (leader)
        self->leader = *leader;
    else
        memset (&self->leader, 0, sizeof self->leader);
}

bool
xs_admin_follower_serves (const xs_admin_cmd_t *cmd)
{
    return cmd->kind == XS_ADMIN_READ && cmd->needs == XS_ADMIN_STORE;
}

const xs_store_leader_t *
xs_admin_leader (const xs_admin_t *self)
{
    return self->follower ? &self->leader : NULL;
}

/* A follower's answer to a command it does not serve. */
static void
s_not_leader (xs_admin_t *self, const char *cmd, xs_reply_t **reply_p)
{
    const xs_store_leader_t *l = &self->leader;
    if (l->generation == 0 || l->until < l->now || !*l->admin_endpoint)
        xs_reply_fail (reply_p, XS_ENOTLEADER, "%s: this catalogd does not lead and no other "
                       "does at the moment (a takeover takes a few seconds): retry", cmd);
    else
        xs_reply_fail (reply_p, XS_ENOTLEADER, "%s: this catalogd does not lead; the leader "
                       "is %s: admin_endpoint=%s agent_endpoint=%s", cmd, l->instance,
                       l->admin_endpoint, *l->agent_endpoint ? l->agent_endpoint : "-");
}

void
xs_admin_run (xs_admin_t *self, const char *name, json_t *args, xs_reply_t **reply_p)
{
    const xs_admin_cmd_t *cmd = NULL;
    for (size_t i = 0; name && i < S_NCOMMANDS && !cmd; i++)
        if (strcmp (s_commands [i].name, name) == 0)
            cmd = &s_commands [i];
    if (!cmd) {
        s_unknown (name ? name : "", reply_p);
        return;
    }
    if (self->follower && !xs_admin_follower_serves (cmd)) {
        s_not_leader (self, cmd->name, reply_p);
        return;
    }
    json_t *empty = NULL;
    if (!args)
        args = empty = xs_nn (json_object ());
    xs_err_t err;
    xs_err_clear (&err);
    if (cmd->kind != XS_ADMIN_WAITS && self->deps.batch && !self->follower) {
        /* Reads and changes answer after the loop's group commit. */
        if (xs_batch_open (self->deps.batch, &err))
            xs_error ("admin: cannot start a group transaction: %s", err.msg);
        xs_reply_after_commit (*reply_p, self->deps.batch);
    }
    if (s_check_args (cmd, args, &err))
        xs_admin_answer (cmd->name, reply_p, NULL, &err);
    else
    if (cmd->needs == XS_ADMIN_AGENTS && !self->deps.volumes) {
        xs_err_set (&err, XS_EINTERNAL, "%s: this catalog runs without agents", cmd->name);
        xs_admin_answer (cmd->name, reply_p, NULL, &err);
    }
    else
        cmd->handler (self, args, reply_p);
    json_decref (empty);
}

/* The request's "id" when it is one (1..XS_ADMIN_MAX_ID bytes, no NUL). */
static const char *
s_envelope_id (json_t *request)
{
    json_t *jid = json_object_get (request, "id");
    if (!json_is_string (jid) || json_string_length (jid) == 0
    ||  json_string_length (jid) > XS_ADMIN_MAX_ID
    ||  strlen (json_string_value (jid)) != json_string_length (jid))
        return NULL;
    return json_string_value (jid);
}

/* Checks the envelope of `request`; refuses it (answering *reply_p) when
   it is wrong. Returns 0 when it may run. */
static int
s_check_envelope (json_t *request, xs_reply_t **reply_p)
{
    if (!json_is_object (request)) {
        xs_reply_refuse (reply_p, XS_ADMIN_E_MALFORMED, "request is not a JSON object");
        return -1;
    }
    const char *id = s_envelope_id (request);
    if (!id) {
        xs_reply_refuse (reply_p, XS_ADMIN_E_MALFORMED,
                         "request has no \"id\" (a string of 1 to 64 bytes)");
        return -1;
    }
    xs_reply_set_id (*reply_p, id);
    json_t *jv = json_object_get (request, "v");
    if (!json_is_integer (jv)) {
        xs_reply_refuse (reply_p, XS_ADMIN_E_MALFORMED,
                         "request has no protocol version \"v\" (an integer)");
        return -1;
    }
    if (json_integer_value (jv) != XS_ADMIN_VERSION) {
        xs_reply_refuse (reply_p, XS_ADMIN_E_VERSION,
                         "protocol version %" JSON_INTEGER_FORMAT
                         " not supported (this catalog speaks %d)",
                         json_integer_value (jv), XS_ADMIN_VERSION);
        return -1;
    }
    if (!json_is_string (json_object_get (request, "cmd"))) {
        xs_reply_refuse (reply_p, XS_ADMIN_E_MALFORMED, "request has no \"cmd\" (a string)");
        return -1;
    }
    json_t *args = json_object_get (request, "args");
    if (args && !json_is_object (args)) {
        xs_reply_refuse (reply_p, XS_ADMIN_E_MALFORMED, "\"args\" must be an object");
        return -1;
    }
    return 0;
}

void
xs_admin_handle (xs_admin_t *self, const void *data, size_t size, xs_reply_t **reply_p)
{
    if (size > XS_ADMIN_MAX_SIZE) {
        xs_reply_refuse (reply_p, XS_ADMIN_E_TOO_LARGE,
                         "request of %zu bytes is larger than %d bytes", size,
                         XS_ADMIN_MAX_SIZE);
        return;
    }
    json_error_t jerr;
    json_t *request = json_loadb (data ? data : "", size, JSON_REJECT_DUPLICATES, &jerr);
    if (!request) {
        xs_reply_refuse (reply_p, XS_ADMIN_E_MALFORMED, "request is not JSON: %s (at byte %d)",
                         jerr.text, jerr.position);
        return;
    }
    if (s_check_envelope (request, reply_p) == 0) {
        const char *cmd = json_string_value (json_object_get (request, "cmd"));
        if (xs_log_enabled (XS_LOG_DEBUG))
            xs_debug ("admin: request %s (id %s, %zu bytes)", cmd, xs_reply_id (*reply_p),
                      size);
        xs_admin_run (self, cmd, json_object_get (request, "args"), reply_p);
    }
    json_decref (request);
}

/* ---------------------------------------------------------------------
   ping
   --------------------------------------------------------------------- */

static void
s_ping (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    json_t *result = xs_nn (json_pack ("{s:s, s:i, s:i}", "version", XENSM_VERSION,
                                       "protocol", XS_ADMIN_VERSION,
                                       "schema", xs_store_schema_version (self->deps.store)));
    if (json_object_update (result, self->info))
        abort ();
    json_object_set_new (result, "role", xs_nn (json_string (self->follower ? "follower"
                                                                           : "leader")));
    if (self->leader.generation > 0)
        json_object_set_new (result, "leader", s_leader_json (&self->leader));
    xs_reply_ok (reply_p, result);
}

/* One leader row (with its generation and the lease left) or instance row
   (when it was last seen) as JSON; times from the database's clock. */
static json_t *
s_leader_json (const xs_store_leader_t *row)
{
    json_t *j = xs_nn (json_pack ("{s:s, s:s, s:s, s:s, s:I}", "instance", row->instance,
                                  "admin_endpoint", row->admin_endpoint,
                                  "agent_endpoint", row->agent_endpoint,
                                  "api_endpoint", row->api_endpoint,
                                  "since", (json_int_t) row->since));
    if (row->generation > 0) {
        json_object_set_new (j, "generation", json_integer (row->generation));
        json_object_set_new (j, "lease_left_ms", json_integer (row->until - row->now));
    }
    else
        json_object_set_new (j, "seen_ms_ago", json_integer (row->now - row->until));
    return j;
}

/* ---------------------------------------------------------------------
   catalog_status: ping, and every catalogd of the database from the store
   --------------------------------------------------------------------- */

static void
s_catalog_status (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    xs_err_t err = { 0 };
    xs_store_leader_t leader;
    int n = 0;
    xs_store_leader_t *rows = NULL;
    if (xs_store_leader_get (self->deps.store, &leader, &err)
    ||  (!(rows = xs_store_instance_list (self->deps.store, &n, &err)) && n < 0)) {
        xs_admin_answer ("catalog_status", reply_p, NULL, &err);
        return;
    }
    json_t *result = xs_nn (json_pack ("{s:s, s:i, s:i, s:s}", "version", XENSM_VERSION,
                                       "protocol", XS_ADMIN_VERSION,
                                       "schema", xs_store_schema_version (self->deps.store),
                                       "role", self->follower ? "follower" : "leader"));
    if (json_object_update (result, self->info))
        abort ();
    json_t *list = xs_nn (json_array ());
    for (int i = 0; i < n; i++) {
        json_t *row = s_leader_json (&rows [i]);
        json_object_set_new (row, "leads", json_boolean (
            leader.generation > 0 && leader.until >= leader.now
            && strcmp (rows [i].instance, leader.instance) == 0));
        json_array_append_new (list, row);
    }
    free (rows);
    if (leader.generation > 0) {
        json_object_set_new (result, "leader", s_leader_json (&leader));
    }
    json_object_set_new (result, "instances", list);
    xs_reply_ok (reply_p, result);
}

/* ---------------------------------------------------------------------
   Volumes (xs_volumes answers the reply once the outcome is committed)
   --------------------------------------------------------------------- */

static void
s_volume_create (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    xs_err_t err;
    if (s_check_text ("volume name", args, "name", S_NAME_MAX, &err)
    ||  s_check_text ("request id", args, "request_id", S_ID_MAX, &err)
    ||  s_check_project (args, &err)) {
        xs_admin_answer ("volume_create", reply_p, NULL, &err);
        return;
    }
    xs_volume_request_t req = {
        .flavor = s_str (args, "flavor"),
        .size = json_integer_value (json_object_get (args, "size")),
        .name = s_str (args, "name"),
        .request_id = s_str (args, "request_id"),
        .project = s_str (args, "project"),
    };
    xs_volumes_create (self->deps.volumes, &req, reply_p);
}

static void
s_volume_delete (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    xs_volumes_delete (self->deps.volumes, s_str (args, "uuid"), reply_p);
}

static void
s_copy (xs_admin_t *self, json_t *args, xs_op_t op, xs_reply_t **reply_p)
{
    xs_err_t err;
    if (s_check_text ("volume name", args, "name", S_NAME_MAX, &err)
    ||  s_check_text ("request id", args, "request_id", S_ID_MAX, &err))
        xs_admin_answer (xs_op_name (op), reply_p, NULL, &err);
    else
        xs_volumes_copy (self->deps.volumes, op, s_str (args, "uuid"), s_str (args, "name"),
                         s_str (args, "request_id"), reply_p);
}

static void
s_volume_snapshot (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    s_copy (self, args, XS_OP_VDI_SNAPSHOT, reply_p);
}

static void
s_volume_clone (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    s_copy (self, args, XS_OP_VDI_CLONE, reply_p);
}

static void
s_volume_extend (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    xs_volumes_extend (self->deps.volumes, s_str (args, "uuid"),
                       json_integer_value (json_object_get (args, "size")), reply_p);
}

static void
s_volume_reset_state (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    xs_volumes_reset_state (self->deps.volumes, s_str (args, "uuid"), s_str (args, "state"),
                            reply_p);
}

static void
s_volume_rename (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    xs_err_t err;
    if (s_check_text ("volume name", args, "name", S_NAME_MAX, &err))
        xs_admin_answer ("volume_rename", reply_p, NULL, &err);
    else
        xs_volumes_rename (self->deps.volumes, s_str (args, "uuid"), s_str (args, "name"),
                           reply_p);
}

/* Answers {key: value} or the failure in *err. */
static void
s_answer_under (const char *cmd, const char *key, json_t *value, const xs_err_t *err,
                xs_reply_t **reply_p)
{
    json_t *result = value ? xs_nn (json_pack ("{s:o}", key, value)) : NULL;
    xs_admin_answer (cmd, reply_p, result, err);
}

static void
s_volume_list (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    xs_err_t err;
    xs_err_clear (&err);
    bool all = json_is_true (json_object_get (args, "all"));
    const char *project = s_str (args, "project");
    json_t *list = s_check_project (args, &err) ? NULL
                 : xs_volumes_list (self->deps.store, all, &err);
    size_t i = 0;
    while (list && project && i < json_array_size (list))
        if (streq (json_string_value (json_object_get (json_array_get (list, i), "project")),
                   project))
            i++;
        else
            json_array_remove (list, i);
    s_answer_under ("volume_list", "volumes", list, &err, reply_p);
}

static void
s_volume_show (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    xs_err_t err;
    xs_err_clear (&err);
    json_t *volume = xs_volumes_show (self->deps.store, s_str (args, "uuid"), &err);
    s_answer_under ("volume_show", "volume", volume, &err, reply_p);
}

static void
s_volume_connection (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    xs_err_t err;
    xs_err_clear (&err);
    const char *uuid = s_str (args, "uuid");
    bool secrets = json_is_true (json_object_get (args, "show_secrets"));
    json_t *connection = xs_volumes_connection (self->deps.store, uuid, secrets, &err);
    if (connection && secrets)
        xs_notice ("volume %s: connection info with secrets handed out", uuid);
    s_answer_under ("volume_connection", "connection", connection, &err, reply_p);
}

/* ---------------------------------------------------------------------
   Hosts
   --------------------------------------------------------------------- */

static void
s_host_enroll (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    xs_err_t err;
    xs_err_clear (&err);
    char *z85 = xs_agentsrv_enroll (self->deps.agents, s_str (args, "public_key"), &err);
    json_t *result = z85 ? xs_nn (json_pack ("{s:s}", "public_key", z85)) : NULL;
    free (z85);
    xs_admin_answer ("host_enroll", reply_p, result, &err);
}

/* The orphan sweep's findings (xs_orphans_list). */
static void
s_volume_orphans (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    xs_err_t err;
    xs_err_clear (&err);
    json_t *result = NULL;
    if (self->orphans)
        result = xs_orphans_list (self->orphans);
    else
        xs_err_set (&err, XS_EINTERNAL, "volume_orphans: this catalog runs no orphan sweep");
    xs_admin_answer ("volume_orphans", reply_p, result, &err);
}

static void
s_host_list (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    xs_err_t err;
    xs_err_clear (&err);
    json_t *hosts = xs_agentsrv_host_list (self->deps.agents, &err);
    s_answer_under ("host_list", "hosts", hosts, &err, reply_p);
}

static void
s_host_remove (xs_admin_t *self, json_t *args, xs_reply_t **reply_p)
{
    xs_err_t err;
    xs_err_clear (&err);
    const char *who = s_str (args, "host");
    json_t *result = NULL;
    if (xs_agentsrv_remove (self->deps.agents, who, &err) == 0)
        result = xs_nn (json_pack ("{s:s}", "removed", who));
    xs_admin_answer ("host_remove", reply_p, result, &err);
}
