/*  xs_admin: the catalog's admin API (one JSON request -> one JSON reply). */
#include "xs_admin.h"
#include "xs_build_config.h"
#include "xs_catalog_cfg.h"
#include "xs_kvlist.h"
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_srtype.h"
#include "xs_text.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_LABEL_MAX 255
#define S_DESCRIPTION_MAX 1024

struct _xs_admin_t {
    xs_store_t *store;              /* borrowed */
    const xs_config_t *config;      /* borrowed */
    xs_admin_delegate_t delegate;   /* handles == NULL: none */
    json_t *info;                   /* extra `ping` fields   */
};

typedef json_t *(s_command_fn) (xs_admin_t *self, json_t *args, xs_err_t *err);

static s_command_fn s_cmd_ping, s_cmd_flavor_create, s_cmd_flavor_list,
    s_cmd_flavor_delete, s_cmd_backend_add, s_cmd_backend_list, s_cmd_backend_remove;

/* The command table: every admin command, its handler and whether it
   changes the store (read-only ones are still answered inside a batch). */
static const struct {
    const char *name;
    s_command_fn *handler;
} s_commands [] = {
    { "ping",           s_cmd_ping },
    { "flavor_create",  s_cmd_flavor_create },
    { "flavor_list",    s_cmd_flavor_list },
    { "flavor_delete",  s_cmd_flavor_delete },
    { "backend_add",    s_cmd_backend_add },
    { "backend_list",   s_cmd_backend_list },
    { "backend_remove", s_cmd_backend_remove },
};

#define S_NCOMMANDS (sizeof s_commands / sizeof s_commands [0])

xs_admin_t *
xs_admin_new (xs_store_t *store, const xs_config_t *config)
{
    xs_admin_t *self = xs_zalloc (sizeof *self);
    self->store = store;
    self->config = config;
    self->info = json_object ();
    if (!self->info)
        abort ();
    return self;
}

void
xs_admin_set_delegate (xs_admin_t *self, const xs_admin_delegate_t *delegate)
{
    if (delegate)
        self->delegate = *delegate;
    else
        memset (&self->delegate, 0, sizeof self->delegate);
}

void
xs_admin_set_info (xs_admin_t *self, const char *key, const char *value)
{
    json_t *text = json_string (value);
    if (!text || json_object_set_new (self->info, key, text))
        abort ();
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

const char *
xs_admin_command_name (size_t index)
{
    return index < S_NCOMMANDS ? s_commands [index].name : NULL;
}

/* ---------------------------------------------------------------------
   Replies
   --------------------------------------------------------------------- */

static char *
s_dump (json_t **reply_p, size_t *reply_size)
{
    char *text = json_dumps (*reply_p, JSON_COMPACT);
    if (!text)
        abort ();
    json_decref (*reply_p);
    *reply_p = NULL;
    if (reply_size)
        *reply_size = strlen (text);
    return text;
}

static json_t *
s_error_json (const char *id, const char *code, xs_errkind_t kind, const char *message)
{
    json_t *reply = json_pack ("{s:i, s:s, s:b, s:{s:s, s:s, s:s}}",
                               "v", XS_ADMIN_VERSION, "id", id ? id : "", "ok", 0,
                               "error", "code", code, "kind", xs_errkind_name (kind),
                               "message", message ? message : "");
    if (!reply) {
        /* Only a message that is not UTF-8 gets here; never send it. */
        reply = json_pack ("{s:i, s:s, s:b, s:{s:s, s:s, s:s}}",
                           "v", XS_ADMIN_VERSION, "id", "", "ok", 0,
                           "error", "code", code, "kind", xs_errkind_name (kind),
                           "message", "(unprintable error message)");
        if (!reply)
            abort ();
    }
    return reply;
}

char *
xs_admin_error_reply (const char *id, const char *code, xs_errkind_t kind,
                      const char *message, size_t *reply_size)
{
    json_t *reply = s_error_json (id, code, kind, message);
    return s_dump (&reply, reply_size);
}

/* ---------------------------------------------------------------------
   Argument helpers
   --------------------------------------------------------------------- */

/* Unpacks `args` with a jansson format; a mismatch is XS_EINVAL naming the
   command. */
static int
s_unpack (const char *cmd, json_t *args, xs_err_t *err, const char *fmt, ...)
{
    json_error_t jerr;
    va_list ap;
    va_start (ap, fmt);
    int rc = json_vunpack_ex (args, &jerr, 0, fmt, ap);
    va_end (ap);
    if (rc)
        return xs_err_set (err, XS_EINVAL, "%s: bad arguments: %s", cmd, jerr.text);
    return 0;
}

/* ---------------------------------------------------------------------
   JSON views of store rows (secrets redacted)
   --------------------------------------------------------------------- */

/* ---------------------------------------------------------------------
   Commands
   --------------------------------------------------------------------- */

static json_t *
s_cmd_ping (xs_admin_t *self, json_t *args, xs_err_t *err)
{
    json_t *result = json_pack ("{s:s, s:i, s:i}", "version", XENSM_VERSION,
                                "protocol", XS_ADMIN_VERSION,
                                "schema", xs_store_schema_version (self->store));
    if (!result || json_object_update (result, self->info))
        abort ();
    return result;
}

static json_t *
s_cmd_flavor_create (xs_admin_t *self, json_t *args, xs_err_t *err)
{
    const char *label = NULL, *description = "";
    xs_flavor_t *flavor = NULL;
    json_t *result = NULL;
    if (s_unpack ("flavor_create", args, err, "{s:s, s?s}",
                  "label", &label, "description", &description)
    ||  xs_text_check ("flavor label", label, S_LABEL_MAX, 0, err)
    ||  xs_text_check ("flavor description", description, S_DESCRIPTION_MAX,
                         XS_TEXT_MAY_BE_EMPTY, err))
        goto out;
    int64_t id = xs_store_flavor_create (self->store, label, description, err);
    if (id < 0)
        goto out;
    flavor = xs_store_flavor_get_by_id (self->store, id, err);
    if (!flavor)
        goto out;
    xs_notice ("flavor %s created (id %" PRId64 ")", flavor->label, flavor->id);
    result = json_pack ("{s:o}", "flavor", xs_nn (xs_flavor_json (flavor)));
out:
    xs_flavor_destroy (&flavor);
    return result;
}

static json_t *
s_cmd_flavor_list (xs_admin_t *self, json_t *args, xs_err_t *err)
{
    const char *label = NULL;
    xs_flavor_t *flavor = NULL;
    xs_flavor_t **list = NULL;
    json_t *result = NULL;
    json_t *array = json_array ();
    if (!array)
        abort ();
    if (s_unpack ("flavor_list", args, err, "{s?s}", "label", &label))
        goto out;
    if (label) {
        flavor = xs_store_flavor_get (self->store, label, err);
        if (!flavor)
            goto out;
        json_array_append_new (array, xs_nn (xs_flavor_json (flavor)));
    }
    else {
        list = xs_store_flavor_list (self->store, err);
        if (!list)
            goto out;
        for (xs_flavor_t **f = list; *f; f++)
            json_array_append_new (array, xs_nn (xs_flavor_json (*f)));
    }
    result = json_pack ("{s:O}", "flavors", array);
out:
    json_decref (array);
    xs_flavor_destroy (&flavor);
    xs_flavor_list_destroy (&list);
    return result;
}

static json_t *
s_cmd_flavor_delete (xs_admin_t *self, json_t *args, xs_err_t *err)
{
    const char *label = NULL;
    if (s_unpack ("flavor_delete", args, err, "{s:s}", "label", &label)
    ||  xs_store_flavor_delete (self->store, label, err))
        return NULL;
    xs_notice ("flavor %s deleted", label);
    return json_pack ("{s:s}", "label", label);
}

static json_t *
s_cmd_backend_add (xs_admin_t *self, json_t *args, xs_err_t *err)
{
    const char *flavor = NULL, *sr_type = NULL;
    json_t *jparams = NULL;
    xs_kvlist_t *params = NULL, *config = NULL, *settings = NULL;
    xs_kv_spec_t *pairs = NULL;
    xs_backend_t *backend = NULL;
    json_t *result = NULL;

    if (s_unpack ("backend_add", args, err, "{s:s, s:s, s?o}", "flavor", &flavor,
                  "sr_type", &sr_type, "params", &jparams))
        goto out;
    if (jparams)
        params = xs_kvlist_from_json (jparams, err);
    else
        params = xs_kvlist_new ();
    if (!params) {
        xs_err_prefix (err, "backend_add");
        goto out;
    }
    /* SR type and its keys first, as the CLI does. */
    if (xs_srtype_split (sr_type, params, &config, &settings, err))
        goto out;

    size_t nconfig = xs_kvlist_size (config);
    pairs = xs_zalloc ((nconfig ? nconfig : 1) * sizeof *pairs);
    for (size_t i = 0; i < nconfig; i++) {
        /* Borrowed: the store copies what it keeps. */
        pairs [i].key = xs_kvlist_key (config, i);
        pairs [i].value = xs_kvlist_value (config, i);
    }
    const char *zone = xs_kvlist_get (settings, "zone");
    if (!zone)
        zone = xs_config_get (self->config, XS_CATALOG_SECTION, "default_zone");
    const char *ratio = xs_kvlist_get (settings, "ratio");
    const char *reserve = xs_kvlist_get (settings, "reserve");
    xs_backend_spec_t spec = {
        .flavor_label = flavor,
        .zone = zone,
        .sr_type = sr_type,
        .name_label = xs_kvlist_get (settings, "name_label"),
        .sr_uuid = xs_kvlist_get (settings, "sr_uuid"),
        .has_ratio = ratio != NULL,
        .ratio = ratio ? strtod (ratio, NULL) : 0,
        .has_reserve = reserve != NULL,
        .reserve = reserve ? strtod (reserve, NULL) : 0,
        .nconfig = nconfig,
        .config = pairs,
    };
    int64_t id = xs_store_backend_add (self->store, &spec, err);
    if (id < 0)
        goto out;
    backend = xs_store_backend_get (self->store, id, err);
    if (!backend)
        goto out;
    xs_notice ("backend %" PRId64 " added: flavor %s, SR type %s, zone %s, %s",
               backend->id, flavor, sr_type, backend->zone,
               backend->sr_uuid ? "existing SR to introduce" : "new SR to create");
    result = json_pack ("{s:o, s:b}", "backend", xs_nn (xs_backend_admin_json (backend)),
                        "creates_sr", backend->sr_uuid == NULL);
out:
    free (pairs);
    xs_backend_destroy (&backend);
    xs_kvlist_destroy (&params);
    xs_kvlist_destroy (&config);
    xs_kvlist_destroy (&settings);
    return result;
}

static json_t *
s_cmd_backend_list (xs_admin_t *self, json_t *args, xs_err_t *err)
{
    json_int_t id = 0;
    xs_backend_t *backend = NULL;
    xs_backend_t **list = NULL;
    json_t *result = NULL;
    json_t *array = json_array ();
    if (!array)
        abort ();
    if (s_unpack ("backend_list", args, err, "{s?I}", "id", &id))
        goto out;
    if (json_object_get (args, "id")) {
        backend = xs_store_backend_get (self->store, id, err);
        if (!backend)
            goto out;
        json_array_append_new (array, xs_nn (xs_backend_admin_json (backend)));
    }
    else {
        list = xs_store_backend_list (self->store, err);
        if (!list)
            goto out;
        for (xs_backend_t **b = list; *b; b++)
            json_array_append_new (array, xs_nn (xs_backend_admin_json (*b)));
    }
    result = json_pack ("{s:O}", "backends", array);
out:
    json_decref (array);
    xs_backend_destroy (&backend);
    xs_backend_list_destroy (&list);
    return result;
}

static json_t *
s_cmd_backend_remove (xs_admin_t *self, json_t *args, xs_err_t *err)
{
    json_int_t id = 0;
    if (s_unpack ("backend_remove", args, err, "{s:I}", "id", &id))
        return NULL;
    /* Detaching the SR from the hosts (PBD.unplug, SR.forget; never
       SR.destroy) is the agents' work; the store refuses while volumes live
       on the backend. */
    xs_backend_t *backend = xs_store_backend_get (self->store, id, err);
    if (!backend)
        return NULL;
    if (xs_store_backend_remove (self->store, id, err)) {
        xs_backend_destroy (&backend);
        return NULL;
    }
    if (self->delegate.backend_removed)
        self->delegate.backend_removed (self->delegate.arg, id, backend->sr_uuid);
    xs_backend_destroy (&backend);
    xs_notice ("backend %" PRId64 " removed", (int64_t) id);
    return json_pack ("{s:I}", "id", id);
}

/* ---------------------------------------------------------------------
   Dispatch
   --------------------------------------------------------------------- */

/* Parses and runs one request. Returns the reply object, or NULL when the
   request went to the delegate (only when `delegate` is true). */
static json_t *
s_handle (xs_admin_t *self, const void *data, size_t size, bool delegate, void *ctx)
{
    json_t *request = NULL;
    json_t *reply = NULL;
    const char *id = "";
    char message [XS_ERR_MSG_MAX];
    xs_err_t err;
    xs_err_clear (&err);

    if (size > XS_ADMIN_MAX_SIZE) {
        snprintf (message, sizeof message, "request of %zu bytes is larger than %d bytes",
                  size, XS_ADMIN_MAX_SIZE);
        return s_error_json ("", XS_ADMIN_E_TOO_LARGE, XS_EINVAL, message);
    }
    json_error_t jerr;
    request = json_loadb (data ? data : "", size, JSON_REJECT_DUPLICATES, &jerr);
    if (!request) {
        snprintf (message, sizeof message, "request is not JSON: %s (at byte %d)",
                  jerr.text, jerr.position);
        return s_error_json ("", XS_ADMIN_E_MALFORMED, XS_EINVAL, message);
    }
    if (!json_is_object (request)) {
        reply = s_error_json ("", XS_ADMIN_E_MALFORMED, XS_EINVAL, "request is not a JSON object");
        goto out;
    }
    json_t *jid = json_object_get (request, "id");
    if (!json_is_string (jid) || json_string_length (jid) == 0
    ||  json_string_length (jid) > XS_ADMIN_MAX_ID
    ||  strlen (json_string_value (jid)) != json_string_length (jid)) {
        reply = s_error_json ("", XS_ADMIN_E_MALFORMED, XS_EINVAL,
                              "request has no \"id\" (a string of 1 to 64 bytes)");
        goto out;
    }
    id = json_string_value (jid);
    json_t *jv = json_object_get (request, "v");
    if (!json_is_integer (jv)) {
        reply = s_error_json (id, XS_ADMIN_E_MALFORMED, XS_EINVAL,
                              "request has no protocol version \"v\" (an integer)");
        goto out;
    }
    if (json_integer_value (jv) != XS_ADMIN_VERSION) {
        snprintf (message, sizeof message,
                  "protocol version %" JSON_INTEGER_FORMAT " not supported (this catalog speaks %d)",
                  json_integer_value (jv), XS_ADMIN_VERSION);
        reply = s_error_json (id, XS_ADMIN_E_VERSION, XS_EINVAL, message);
        goto out;
    }
    const char *cmd = json_string_value (json_object_get (request, "cmd"));
    if (!cmd) {
        reply = s_error_json (id, XS_ADMIN_E_MALFORMED, XS_EINVAL,
                              "request has no \"cmd\" (a string)");
        goto out;
    }
    json_t *args = json_object_get (request, "args");
    if (args && !json_is_object (args)) {
        reply = s_error_json (id, XS_ADMIN_E_MALFORMED, XS_EINVAL,
                              "\"args\" must be an object");
        goto out;
    }
    size_t i = 0;
    while (i < S_NCOMMANDS && strcmp (s_commands [i].name, cmd) != 0)
        i++;
    bool delegated = delegate && self->delegate.handles && self->delegate.handles (cmd);
    if (i == S_NCOMMANDS && delegated) {
        json_t *empty = NULL;
        if (!args)
            args = empty = json_object ();
        if (xs_log_enabled (XS_LOG_DEBUG))
            xs_debug ("admin: request %s (id %s, %zu bytes)", cmd, id, size);
        self->delegate.handle (self->delegate.arg, id, cmd, args, ctx);
        json_decref (empty);
        goto out;
    }
    if (i == S_NCOMMANDS) {
        size_t used = (size_t) snprintf (message, sizeof message,
                                         "unknown command '%.64s' (known:", cmd);
        for (size_t c = 0; c < S_NCOMMANDS && used < sizeof message; c++)
            used += (size_t) snprintf (message + used, sizeof message - used, " %s",
                                       s_commands [c].name);
        const char *name;
        for (size_t c = 0; delegate && self->delegate.command_name
                           && (name = self->delegate.command_name (c))
                           && used < sizeof message; c++)
            used += (size_t) snprintf (message + used, sizeof message - used, " %s", name);
        if (used < sizeof message)
            snprintf (message + used, sizeof message - used, ")");
        reply = s_error_json (id, XS_ADMIN_E_UNKNOWN_CMD, XS_EINVAL, message);
        goto out;
    }
    json_t *empty = NULL;
    if (!args)
        args = empty = json_object ();
    if (xs_log_enabled (XS_LOG_DEBUG))
        xs_debug ("admin: request %s (id %s, %zu bytes)", cmd, id, size);
    json_t *result = s_commands [i].handler (self, args, &err);
    json_decref (empty);
    if (result) {
        reply = json_pack ("{s:i, s:s, s:b, s:o}", "v", XS_ADMIN_VERSION, "id", id,
                           "ok", 1, "result", result);
        if (!reply)
            abort ();
    }
    else {
        if (err.kind == XS_OK)
            xs_err_set (&err, XS_EINTERNAL, "%s: failed", cmd);
        xs_info ("admin: %s refused: %s", cmd, err.msg);
        reply = s_error_json (id, xs_errkind_name (err.kind), err.kind, err.msg);
    }
out:
    json_decref (request);
    return reply;
}

char *
xs_admin_handle (xs_admin_t *self, const void *data, size_t size, size_t *reply_size)
{
    char *reply = NULL;
    const void *const one [] = { data };
    xs_admin_handle_batch (self, 1, one, &size, &reply, reply_size);
    return reply;
}

char *
xs_admin_handle_one (xs_admin_t *self, const void *data, size_t size, size_t *reply_size,
                     void *ctx)
{
    json_t *reply = s_handle (self, data, size, true, ctx);
    return reply ? s_dump (&reply, reply_size) : NULL;
}

/* The request's id when it can be read cheaply, for error replies. */
static char *
s_request_id (const void *data, size_t size)
{
    char *id = NULL;
    if (size > XS_ADMIN_MAX_SIZE)
        return NULL;
    json_t *request = json_loadb (data ? data : "", size, 0, NULL);
    const char *text = json_string_value (json_object_get (request, "id"));
    if (text && strlen (text) <= XS_ADMIN_MAX_ID)
        id = xs_strdup (text);
    json_decref (request);
    return id;
}

void
xs_admin_handle_batch (xs_admin_t *self, size_t count,
                       const void *const *data, const size_t *sizes,
                       char **replies, size_t *reply_sizes)
{
    xs_err_t err;
    xs_err_clear (&err);
    bool in_tx = xs_store_begin (self->store, &err) == 0;
    if (!in_tx) {
        xs_error ("admin: cannot start a transaction: %s", err.msg);
        for (size_t i = 0; i < count; i++) {
            char *id = s_request_id (data [i], sizes [i]);
            replies [i] = xs_admin_error_reply (id, xs_errkind_name (XS_EIO), XS_EIO,
                                                err.msg, reply_sizes ? &reply_sizes [i] : NULL);
            free (id);
        }
        return;
    }
    for (size_t i = 0; i < count; i++) {
        json_t *reply = s_handle (self, data [i], sizes [i], false, NULL);
        replies [i] = s_dump (&reply, reply_sizes ? &reply_sizes [i] : NULL);
    }
    if (xs_store_commit (self->store, &err)) {
        xs_error ("admin: commit of %zu request(s) failed: %s", count, err.msg);
        for (size_t i = 0; i < count; i++) {
            char *id = s_request_id (data [i], sizes [i]);
            free (replies [i]);
            char message [XS_ERR_MSG_MAX];
            snprintf (message, sizeof message, "not stored: commit failed: %.900s", err.msg);
            replies [i] = xs_admin_error_reply (id, xs_errkind_name (XS_EIO), XS_EIO, message,
                                                reply_sizes ? &reply_sizes [i] : NULL);
            free (id);
        }
    }
}
