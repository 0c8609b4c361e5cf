/*  xs_plugin: one request of the xapi plugin protocol, in and out. */
#include "xs_plugin.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xs_build_config.h"
#include "xs_err.h"
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_op.h"
#include "xs_plugin_cfg.h"
#include "xs_srtype.h"
#include "xs_value.h"
#include "xs_xmlrpc.h"

/* ---------------------------------------------------------------------
   The function table
   --------------------------------------------------------------------- */

typedef enum {
    S_ARG_TEXT,         /* non-empty text of at most S_TEXT_MAX bytes          */
    S_ARG_UUID,         /* 8-4-4-4-12 hex digits                               */
    S_ARG_SIZE,         /* bytes, a decimal integer > 0                        */
    S_ARG_SRTYPE,       /* an SR type xensm knows                              */
    S_ARG_MAP           /* any number of "<name>:<key>" arguments (device_config) */
} s_argkind_t;

typedef struct {
    const char *name;
    s_argkind_t kind;
    bool required;
} s_argspec_t;

typedef struct _s_function_t s_function_t;

/* A function run inside the plugin: returns the JSON value text (caller
   frees) or NULL with *description_p set. */
typedef char *(s_local_fn) (const s_function_t *function, char ***description_p);

#define S_MAX_ARGS 8
#define S_TEXT_MAX 255

/* A function: one of the plugin's own (a name and a handler run in the
   plugin), or a host operation (op, run by the xapi helper; its name is
   xs_op_name (op)). */
struct _s_function_t {
    const char *name;           /* the plugin's own; NULL for an op           */
    s_local_fn *handler;        /* run in the plugin; NULL for an op          */
    xs_op_t op;                 /* XS_OP_NONE for the plugin's own            */
    s_argspec_t args [S_MAX_ARGS];  /* ends at the first NULL name            */
    const char *help;
};

/* Ends a function's argument list. */
#define S_END { NULL, S_ARG_TEXT, false }

static s_local_fn s_ping;
static s_local_fn s_version;

static const s_function_t s_functions [] = {
    { "ping", s_ping, XS_OP_NONE, { S_END },
      "Answers {\"reply\": \"pong\"} without calling xapi." },
    { "version", s_version, XS_OP_NONE, { S_END },
      "The plugin's version." },
    { NULL, NULL, XS_OP_HOST_INFO, { S_END },
      "This host: uuid, name, address, pool master or member." },
    { NULL, NULL, XS_OP_SR_ATTACH,
      { { "type", S_ARG_SRTYPE, true }, { "sr_uuid", S_ARG_UUID, false },
        { "name_label", S_ARG_TEXT, false }, { "name_description", S_ARG_TEXT, false },
        { "device_config", S_ARG_MAP, false }, S_END },
      "Attaches an SR to this host: introduces sr_uuid (or creates a new SR when no "
      "sr_uuid is given), makes and plugs this host's PBD, scans. device_config keys "
      "are passed as device_config:<key>=<value>." },
    { NULL, NULL, XS_OP_SR_DETACH,
      { { "sr_uuid", S_ARG_UUID, true }, S_END },
      "Unplugs the SR's PBDs and forgets the SR. Never destroys data." },
    { NULL, NULL, XS_OP_SR_STATS,
      { { "sr_uuid", S_ARG_UUID, true }, S_END },
      "The SR's sizes and its type's SM capabilities." },
    { NULL, NULL, XS_OP_VDI_CREATE,
      { { "sr_uuid", S_ARG_UUID, true }, { "volume_uuid", S_ARG_UUID, true },
        { "size", S_ARG_SIZE, true }, { "name", S_ARG_TEXT, false }, S_END },
      "Creates the VDI of a volume (name_label xensm-<volume_uuid>; name_description "
      "the volume's name, else \"xensm volume <volume_uuid>\"); returns the existing "
      "one when it is already there." },
    { NULL, NULL, XS_OP_VDI_DESTROY,
      { { "volume_uuid", S_ARG_UUID, true }, { "sr_uuid", S_ARG_UUID, false }, S_END },
      "Destroys the VDI of a volume; a volume without a VDI is already destroyed." },
    { NULL, NULL, XS_OP_VDI_CLONE,
      { { "volume_uuid", S_ARG_UUID, true }, { "new_volume_uuid", S_ARG_UUID, true },
        { "sr_uuid", S_ARG_UUID, false }, S_END },
      "Clones a volume's VDI into the VDI of new_volume_uuid (needs VDI_CLONE)." },
    { NULL, NULL, XS_OP_VDI_SNAPSHOT,
      { { "volume_uuid", S_ARG_UUID, true }, { "new_volume_uuid", S_ARG_UUID, true },
        { "sr_uuid", S_ARG_UUID, false }, S_END },
      "Snapshots a volume's VDI into the VDI of new_volume_uuid (needs VDI_SNAPSHOT)." },
    { NULL, NULL, XS_OP_VDI_FIND,
      { { "volume_uuid", S_ARG_UUID, true }, { "sr_uuid", S_ARG_UUID, false }, S_END },
      "The VDI of a volume (XENSM_NOT_FOUND when it has none)." },
    { NULL, NULL, XS_OP_VDI_RESIZE,
      { { "volume_uuid", S_ARG_UUID, true }, { "size", S_ARG_SIZE, true },
        { "sr_uuid", S_ARG_UUID, false }, S_END },
      "Grows the VDI of a volume to size bytes (VDI.resize; needs VDI_RESIZE). A VDI "
      "already that large is left as it is; xapi never shrinks one." },
};

#define S_NFUNCTIONS (sizeof s_functions / sizeof s_functions [0])

/* A function's name: the plugin's own, or its op's wire name. */
static const char *
s_name (const s_function_t *function)
{
    return function->name ? function->name : xs_op_name (function->op);
}

/* The request limits: xapi's requests are small and flat. */
static const xs_xmlrpc_limits_t s_limits = {
    .max_bytes = XS_PLUGIN_MAX_REQUEST,
    .max_depth = 8,
    .max_string = 64 * 1024,
};

struct _xs_plugin_t {
    char *xapi_url;
    char *helper_path;
    char *host_uuid;                    /* this host, or NULL               */
    char *host_error;                   /* why it is unknown, or NULL       */
    char *config_error;                 /* the settings file's error, or NULL */
    xs_plugin_call_fn *call;            /* in-process xapi functions, or NULL */
    char *request;                      /* the request being handled, for exec */
};

/* ---------------------------------------------------------------------
   Life cycle
   --------------------------------------------------------------------- */

xs_plugin_t *
xs_plugin_new (void)
{
    xs_plugin_t *self = xs_zalloc (sizeof *self);
    xs_plugin_set_xapi_url (self, NULL);
    xs_plugin_set_helper_path (self, NULL);
    return self;
}

void
xs_plugin_destroy (xs_plugin_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_plugin_t *self = *self_p;
    free (self->xapi_url);
    free (self->helper_path);
    free (self->host_uuid);
    free (self->host_error);
    free (self->config_error);
    free (self->request);
    free (self);
    *self_p = NULL;
}

void
xs_plugin_set_xapi_url (xs_plugin_t *self, const char *url)
{
    free (self->xapi_url);
    self->xapi_url = xs_strdup (url && *url ? url : XS_PLUGIN_DEFAULT_XAPI_URL);
}

void
xs_plugin_set_helper_path (xs_plugin_t *self, const char *path)
{
    free (self->helper_path);
    self->helper_path = xs_strdup (path && *path ? path : XENSM_HELPER_PATH);
}

void
xs_plugin_set_host (xs_plugin_t *self, const char *uuid, const char *error)
{
    free (self->host_uuid);
    free (self->host_error);
    self->host_uuid = uuid ? xs_strdup (uuid) : NULL;
    self->host_error = error ? xs_strdup (error) : NULL;
}

void
xs_plugin_set_config_error (xs_plugin_t *self, const char *message)
{
    free (self->config_error);
    self->config_error = message ? xs_strdup (message) : NULL;
}

void
xs_plugin_set_helper_call (xs_plugin_t *self, xs_plugin_call_fn *call)
{
    self->call = call;
}

/* ---------------------------------------------------------------------
   ErrorDescription lists
   --------------------------------------------------------------------- */

/* A NULL-terminated ErrorDescription from `code` and up to three params
   (NULL ones are left out). Caller frees with s_description_free. */
static char **
s_description_new (const char *code, const char *p1, const char *p2, const char *p3)
{
    char **list = xs_zalloc ((5) * sizeof *list);
    size_t n = 0;
    list [n++] = xs_strdup (code);
    const char *params [] = { p1, p2, p3 };
    for (size_t i = 0; i < 3; i++)
        if (params [i])
            list [n++] = xs_strdup (params [i]);
    return list;
}

/* A one-message ErrorDescription [code, message]. Caller frees with
   s_description_free. */
static char ** __attribute__ ((format (printf, 2, 3)))
s_description_printf (const char *code, const char *fmt, ...)
{
    char message [XS_ERR_MSG_MAX];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (message, sizeof message, fmt, ap);
    va_end (ap);
    return s_description_new (code, message, NULL, NULL);
}

void
xs_plugin_result_clear (xs_plugin_result_t *result)
{
    if (!result)
        return;
    free (result->value);
    if (result->description) {
        for (char **item = result->description; *item; item++)
            free (*item);
        free (result->description);
    }
    result->value = NULL;
    result->description = NULL;
}

static void
s_description_free (char ***list_p)
{
    xs_plugin_result_t result = { NULL, *list_p };
    xs_plugin_result_clear (&result);
    *list_p = NULL;
}

/* ---------------------------------------------------------------------
   Responses
   --------------------------------------------------------------------- */

/* Copy of `text` that is valid UTF-8 and valid XML 1.0 character data:
   invalid sequences (a message cut in the middle of a character) and
   control characters other than tab and newline become '?'. */
static char *
s_clean_text (const char *text)
{
    size_t len = strlen (text);
    char *out = xs_zalloc (len + 1);
    const unsigned char *in = (const unsigned char *) text;
    size_t i = 0, o = 0;
    while (i < len) {
        unsigned char c = in [i];
        size_t need = 0;
        uint32_t cp = 0;
        if (c < 0x80) {
            out [o++] = (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f ? '?' : (char) c;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        }
        else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        }
        else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        }
        bool ok = need > 0;
        for (size_t k = 1; ok && k <= need; k++) {
            if (i + k >= len || (in [i + k] & 0xc0) != 0x80)
                ok = false;
            else
                cp = (cp << 6) | (in [i + k] & 0x3f);
        }
        if (ok) {
            uint32_t min = need == 1 ? 0x80 : need == 2 ? 0x800 : 0x10000;
            if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)
                || cp == 0xfffe || cp == 0xffff)
                ok = false;
        }
        if (ok) {
            memcpy (out + o, in + i, need + 1);
            o += need + 1;
            i += need + 1;
        }
        else {
            out [o++] = '?';
            i++;
        }
    }
    out [o] = '\0';
    return out;
}

/* A last-resort response for when encoding itself fails. */
static const char s_fallback_response [] =
    "<?xml version=\"1.0\"?>\n<methodResponse><params><param><value><struct>"
    "<member><name>Status</name><value><string>Failure</string></value></member>"
    "<member><name>ErrorDescription</name><value><array><data>"
    "<value><string>XENSM_INTERNAL_ERROR</string></value>"
    "<value><string>the response could not be encoded</string></value>"
    "</data></array></value></member></struct></value></param></params></methodResponse>\n";

/* Encodes the response struct and adds the newline Python's print() adds. */
static char *
s_encode (xs_value_t **response_p, size_t *len_p)
{
    size_t len = 0;
    char *doc = xs_xmlrpc_encode_response (*response_p, &len);
    xs_value_destroy (response_p);
    if (!doc) {
        xs_error ("cannot encode the response");
        doc = xs_strdup (s_fallback_response);
        len = strlen (doc);
    }
    else if (len == 0 || doc [len - 1] != '\n') {
        char *grown = xs_realloc (doc, len + 2);
        doc = grown;
        doc [len++] = '\n';
        doc [len] = '\0';
    }
    if (len_p)
        *len_p = len;
    return doc;
}

static char *
s_success_response (const char *value, size_t *len_p)
{
    xs_value_t *response = xs_value_struct_new ();
    char *clean = s_clean_text (value);
    xs_value_set_str (response, "Status", "Success");
    xs_value_set_str (response, "Value", clean);
    free (clean);
    return s_encode (&response, len_p);
}

static char *
s_failure_response (char *const *description, size_t *len_p)
{
    xs_value_t *response = xs_value_struct_new ();
    xs_value_t *list = xs_value_array_new ();
    for (char *const *item = description; item && *item; item++) {
        char *clean = s_clean_text (*item);
        xs_value_append_str (list, clean);
        free (clean);
    }
    if (xs_value_size (list) == 0)
        xs_value_append_str (list, "XENSM_INTERNAL_ERROR");
    xs_value_set_str (response, "Status", "Failure");
    xs_value_set (response, "ErrorDescription", &list);
    if (xs_log_enabled (XS_LOG_INFO) && description && *description)
        xs_info ("failure: %s", description [0]);
    return s_encode (&response, len_p);
}

/* ---------------------------------------------------------------------
   Functions run inside the plugin
   --------------------------------------------------------------------- */

static char *
s_json_text (json_t **json_p, char ***description_p)
{
    char *text = json_dumps (*json_p, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (*json_p);
    *json_p = NULL;
    if (!text)
        *description_p = s_description_printf ("XENSM_INTERNAL_ERROR", "cannot encode the result as JSON");
    return text;
}

static char *
s_ping (const s_function_t *function, char ***description_p)
{
    json_t *json = xs_nn (json_pack ("{s:s}", "reply", "pong"));
    return s_json_text (&json, description_p);
}

static char *
s_version (const s_function_t *function, char ***description_p)
{
    json_t *json = xs_nn (json_pack ("{s:s}", "version", XENSM_VERSION));
    return s_json_text (&json, description_p);
}

/* ---------------------------------------------------------------------
   Argument checks
   --------------------------------------------------------------------- */

static bool
s_is_uuid (const char *text)
{
    if (strlen (text) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text [i] != '-')
                return false;
        }
        else if (!isxdigit ((unsigned char) text [i]))
            return false;
    }
    return true;
}

static bool
s_is_size (const char *text)
{
    if (!*text || strlen (text) > 19)
        return false;
    for (const char *c = text; *c; c++)
        if (*c < '0' || *c > '9')
            return false;
    errno = 0;
    char *end = NULL;
    long long number = strtoll (text, &end, 10);
    return errno == 0 && *end == '\0' && number > 0;
}

static const s_argspec_t *
s_argspec_find (const s_function_t *function, const char *key, bool *is_map_key)
{
    *is_map_key = false;
    for (const s_argspec_t *spec = function->args; spec->name; spec++) {
        size_t len = strlen (spec->name);
        if (spec->kind == S_ARG_MAP) {
            if (strncmp (key, spec->name, len) == 0 && key [len] == ':' && key [len + 1]) {
                *is_map_key = true;
                return spec;
            }
        }
        else if (strcmp (key, spec->name) == 0)
            return spec;
    }
    return NULL;
}

/* Names of `function`'s arguments, for messages: "sr_uuid, volume_uuid, size
   [, name_description]". Caller frees. */
static char *
s_arg_list (const s_function_t *function)
{
    char buffer [512] = "";
    size_t used = 0;
    for (const s_argspec_t *spec = function->args; spec->name; spec++) {
        int n = snprintf (buffer + used, sizeof buffer - used, "%s%s%s%s%s",
                          used ? " " : "", spec->required ? "" : "[",
                          spec->name, spec->kind == S_ARG_MAP ? ":<key>" : "",
                          spec->required ? "" : "]");
        if (n < 0 || (size_t) n >= sizeof buffer - used)
            break;
        used += (size_t) n;
    }
    return xs_strdup (used ? buffer : "(none)");
}

/* Checks the value of one argument. NULL or the ErrorDescription. */
static char **
s_check_value (const s_function_t *function, const s_argspec_t *spec, const char *key,
               const char *value)
{
    char message [XS_ERR_MSG_MAX];
    message [0] = '\0';
    switch (spec->kind) {
        case S_ARG_TEXT:
            if (!*value)
                snprintf (message, sizeof message, "%s: argument %s is empty", s_name (function), key);
            else if (strlen (value) > S_TEXT_MAX)
                snprintf (message, sizeof message, "%s: argument %s is longer than %d bytes",
                          s_name (function), key, S_TEXT_MAX);
            break;
        case S_ARG_UUID:
            if (!s_is_uuid (value))
                snprintf (message, sizeof message,
                          "%s: argument %s is not a UUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                          s_name (function), key);
            break;
        case S_ARG_SIZE:
            if (!s_is_size (value))
                snprintf (message, sizeof message,
                          "%s: argument %s must be a size in bytes, a decimal integer between 1 and %lld",
                          s_name (function), key, (long long) INT64_MAX);
            break;
        case S_ARG_SRTYPE:
            if (!xs_srtype_find (value)) {
                char *known = xs_srtype_known_list ();
                snprintf (message, sizeof message, "%s: SR type '%.64s' unknown (known types: %s)",
                          s_name (function), value, known ? known : "?");
                free (known);
            }
            break;
        case S_ARG_MAP:
            break;
    }
    if (message [0])
        return s_description_new ("XENSM_INVALID_ARGUMENT", s_name (function), key, message);
    return NULL;
}

/* For sr_attach: every device_config key the SR type requires is given. */
static char **
s_check_srtype_keys (const s_function_t *function, const xs_value_t *args)
{
    const char *type_name = xs_value_get_str (args, "type");
    const xs_srtype_t *type = type_name ? xs_srtype_find (type_name) : NULL;
    if (!type)
        return NULL;
    char missing [512] = "";
    size_t used = 0;
    for (const char *const *key = type->required; key && *key; key++) {
        char name [256];
        snprintf (name, sizeof name, "device_config:%s", *key);
        if (!xs_value_get (args, name)) {
            int n = snprintf (missing + used, sizeof missing - used, "%s%s",
                              used ? ", " : "", name);
            if (n > 0 && (size_t) n < sizeof missing - used)
                used += (size_t) n;
        }
    }
    if (!used)
        return NULL;
    char message [XS_ERR_MSG_MAX];
    snprintf (message, sizeof message, "%s: SR type %s needs argument(s) %s",
              s_name (function), type->name, missing);
    return s_description_new ("XENSM_MISSING_ARGUMENT", s_name (function), missing, message);
}

/* Checks `args` (a struct of strings) against the function's table entry. */
static char **
s_check_args (const s_function_t *function, const xs_value_t *args)
{
    size_t count = xs_value_size (args);
    for (size_t i = 0; i < count; i++) {
        const char *key = xs_value_key_at (args, i);
        const char *value = xs_value_str (xs_value_value_at (args, i));
        bool is_map_key = false;
        const s_argspec_t *spec = s_argspec_find (function, key, &is_map_key);
        if (!spec) {
            char *allowed = s_arg_list (function);
            char message [XS_ERR_MSG_MAX];
            snprintf (message, sizeof message, "%s: unknown argument '%.64s' (arguments: %s)",
                      s_name (function), key, allowed);
            free (allowed);
            return s_description_new ("XENSM_INVALID_ARGUMENT", s_name (function), key, message);
        }
        char **description = s_check_value (function, spec, key, value);
        if (description)
            return description;
    }
    for (const s_argspec_t *spec = function->args; spec->name; spec++) {
        if (spec->required && !xs_value_get (args, spec->name)) {
            char *allowed = s_arg_list (function);
            char message [XS_ERR_MSG_MAX];
            snprintf (message, sizeof message, "%s: missing argument %s (arguments: %s)",
                      s_name (function), spec->name, allowed);
            free (allowed);
            return s_description_new ("XENSM_MISSING_ARGUMENT", s_name (function), spec->name, message);
        }
    }
    if (xs_value_get (args, "type"))
        return s_check_srtype_keys (function, args);
    return NULL;
}

/* ---------------------------------------------------------------------
   The xapi helper
   --------------------------------------------------------------------- */

/* Replaces this process with the helper program, which answers the same
   request (argv [1]) itself: stdout, exit status and xapi's view stay
   exactly the plugin protocol's. Returns only when the exec failed, with
   *description_p naming the helper and the reason. */
static void
s_exec_helper (xs_plugin_t *self, char ***description_p)
{
    if (!self->request) {
        *description_p = s_description_printf ("XENSM_INTERNAL_ERROR", "no request to hand to %s",
                                    self->helper_path);
        return;
    }
    char *argv [] = { self->helper_path, self->request, NULL };
    fflush (stdout);
    execv (self->helper_path, argv);
    *description_p = s_description_printf ("XENSM_HELPER_ERROR",
                                "cannot run the xapi helper %s: %s (is xensm installed completely?)",
                                self->helper_path, strerror (errno));
}

static char *
s_helper_run (xs_plugin_t *self, const s_function_t *function, const char *session,
              const xs_value_t *args, char ***description_p)
{
    if (self->config_error) {
        *description_p = s_description_new ("XENSM_CONFIG_ERROR", self->config_error, NULL, NULL);
        return NULL;
    }
    if (!self->call) {
        s_exec_helper (self, description_p);
        return NULL;
    }
    size_t nargs = xs_value_size (args);
    xs_plugin_arg_t *list = xs_zalloc ((nargs + 1) * sizeof *list);
    for (size_t i = 0; i < nargs; i++) {
        list [i].key = xs_value_key_at (args, i);
        list [i].value = xs_value_str (xs_value_value_at (args, i));
    }
    xs_plugin_result_t result = { NULL, NULL };
    xs_plugin_where_t where = { self->xapi_url, self->host_uuid, self->host_error };
    int rc = self->call (s_name (function), &where, session, list, nargs, &result);
    free (list);
    char *value = NULL;
    if (rc == 0 && result.value) {
        value = result.value;
        result.value = NULL;
    }
    else if (rc != 0 && result.description && result.description [0]) {
        *description_p = result.description;
        result.description = NULL;
    }
    else
        *description_p = s_description_printf ("XENSM_INTERNAL_ERROR", "%s: the xapi helper gave no %s",
                                    s_name (function), rc == 0 ? "value" : "error description");
    xs_plugin_result_clear (&result);
    return value;
}

/* ---------------------------------------------------------------------
   Requests
   --------------------------------------------------------------------- */

static const s_function_t *
s_function_find (const char *name)
{
    for (size_t i = 0; i < S_NFUNCTIONS; i++)
        if (strcmp (s_name (&s_functions [i]), name) == 0)
            return &s_functions [i];
    return NULL;
}

/* Checks the params: [session ref (string), args (struct of strings)]. */
static char **
s_check_params (const xs_value_t *params)
{
    size_t count = xs_value_size (params);
    if (count < 2)
        return s_description_printf ("XENSM_BAD_REQUEST",
                          "the request has %zu param(s); the xapi plugin protocol sends two "
                          "(the session ref and a struct of arguments)", count);
    if (count > 2)
        return s_description_printf ("XENSM_BAD_REQUEST",
                          "the request has %zu params; the xapi plugin protocol sends two "
                          "(the session ref and a struct of arguments)", count);
    const xs_value_t *session = xs_value_at (params, 0);
    if (xs_value_type (session) != XS_VALUE_STRING)
        return s_description_printf ("XENSM_BAD_REQUEST", "the first param (the session ref) is a %s, not a string",
                          xs_value_type_name (xs_value_type (session)));
    if (!*xs_value_str (session))
        return s_description_printf ("XENSM_BAD_REQUEST", "the first param (the session ref) is empty");
    const xs_value_t *args = xs_value_at (params, 1);
    if (xs_value_type (args) != XS_VALUE_STRUCT)
        return s_description_printf ("XENSM_BAD_REQUEST", "the second param (the arguments) is a %s, not a struct",
                          xs_value_type_name (xs_value_type (args)));
    size_t nargs = xs_value_size (args);
    for (size_t i = 0; i < nargs; i++) {
        const xs_value_t *value = xs_value_value_at (args, i);
        if (xs_value_type (value) != XS_VALUE_STRING)
            return s_description_printf ("XENSM_BAD_REQUEST", "argument '%.64s' is a %s; every argument must be a string",
                              xs_value_key_at (args, i), xs_value_type_name (xs_value_type (value)));
    }
    return NULL;
}

char *
xs_plugin_handle (xs_plugin_t *self, const char *request, size_t len, size_t *len_p)
{
    xs_err_t err;
    xs_err_clear (&err);
    char *method = NULL;
    xs_value_t *params = NULL;
    char **description = NULL;
    char *value = NULL;
    char *response = NULL;

    if (!request || len == 0) {
        description = s_description_printf ("XENSM_BAD_REQUEST", "empty request: expected an XML-RPC methodCall");
        goto out;
    }
    if (len > XS_PLUGIN_MAX_REQUEST) {
        description = s_description_printf ("XENSM_BAD_REQUEST", "request of %zu bytes is over the limit of %d bytes",
                                 len, XS_PLUGIN_MAX_REQUEST);
        goto out;
    }
    /* Kept for the helper program (a NUL-terminated argv [1]). */
    free (self->request);
    self->request = xs_strndup (request, len);
    params = xs_xmlrpc_decode_call (request, len, &s_limits, &method, &err);
    if (!params) {
        description = s_description_printf ("XENSM_BAD_REQUEST", "malformed request: %s", err.msg);
        goto out;
    }
    const s_function_t *function = s_function_find (method);
    if (!function) {
        description = s_description_new ("UNKNOWN_XENAPI_PLUGIN_FUNCTION", method, NULL, NULL);
        goto out;
    }
    description = s_check_params (params);
    if (description)
        goto out;
    const xs_value_t *args = xs_value_at (params, 1);
    description = s_check_args (function, args);
    if (description)
        goto out;
    xs_debug ("function %s", s_name (function));
    if (function->op != XS_OP_NONE)
        value = s_helper_run (self, function, xs_value_str (xs_value_at (params, 0)), args,
                              &description);
    else
        value = function->handler (function, &description);
    if (!value && !description)
        description = s_description_printf ("XENSM_INTERNAL_ERROR", "%s gave no result", s_name (function));

out:
    if (value)
        response = s_success_response (value, len_p);
    else
        response = s_failure_response (description, len_p);
    free (value);
    if (description)
        s_description_free (&description);
    free (method);
    xs_value_destroy (&params);
    return response;
}

void
xs_plugin_print_help (FILE *out)
{
    fprintf (out, "xensm %s: the xensm xapi plugin (/etc/xapi.d/plugins/xensm)\n"
                  "Called by xapi: xe host-call-plugin host-uuid=<uuid> plugin=xensm fn=<function> "
                  "args:<name>=<value>...\n\nFunctions:\n", XENSM_VERSION);
    for (size_t i = 0; i < S_NFUNCTIONS; i++) {
        char *args = s_arg_list (&s_functions [i]);
        fprintf (out, "  %-13s %s\n      %s\n", s_name (&s_functions [i]), args,
                 s_functions [i].help);
        free (args);
    }
    fprintf (out, "\nSettings: %s\n", XS_PLUGIN_CFG_PATH);
    for (const xs_config_option_t *o = xs_plugin_cfg_options; o->key; o++)
        fprintf (out, "  [%s] %s = %s\n      %s\n", o->section, o->key, o->dflt ? o->dflt : "",
                 o->help);
}
