/*  xs_xenapi: a XenAPI (xapi) client over XML-RPC: life cycle, the XenAPI
    envelope, sessions and generic calls. The transport is xs_http
    (xs_xenapi_http.c), the typed helpers are in xs_xenapi_calls.c. */
#include "xs_xenapi_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"
#include "xs_redact.h"
#include "xs_xmlrpc.h"

struct _xs_xenapi_t {
    xs_http_t *http;            /* the target and its libcurl handle      */

    char *session;              /* current session ref (secret)           */
    bool own_session;           /* made by login: log out on destroy      */
    char *uname;                /* credentials for re-login, or NULL      */
    char *pwd;

    char *err_code;             /* last XenAPI error code, or NULL        */
    xs_value_t *err_params;     /* its params (array of strings)          */

    xs_xenapi_task_t *next_task; /* xs_xenapi_async_next: the next typed
                                    helper call runs as Async, or NULL    */
};

/* ---------------------------------------------------------------------
   Small helpers
   --------------------------------------------------------------------- */

static void
s_free_secret (char **text_p)
{
    if (*text_p) {
        explicit_bzero (*text_p, strlen (*text_p));
        free (*text_p);
        *text_p = NULL;
    }
}

static void
s_clear_xapi_error (xs_xenapi_t *self)
{
    free (self->err_code);
    self->err_code = NULL;
    xs_value_destroy (&self->err_params);
}

/* ---------------------------------------------------------------------
   Life cycle and options
   --------------------------------------------------------------------- */

xs_xenapi_t *
xs_xenapi_new (const char *url, xs_err_t *err)
{
    xs_http_t *http = xs_http_new (url, err);
    if (!http)
        return NULL;
    xs_xenapi_t *self = xs_zalloc (sizeof *self);
    self->http = http;
    return self;
}

void
xs_xenapi_destroy (xs_xenapi_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_xenapi_t *self = *self_p;
    if (self->own_session && self->session) {
        /* Best effort, and quick: a dead xapi must not stall a shutdown. */
        xs_http_cap_timeouts (self->http, 2000, 5000);
        xs_xenapi_logout (self, NULL);
    }
    s_free_secret (&self->session);
    s_free_secret (&self->uname);
    s_free_secret (&self->pwd);
    s_clear_xapi_error (self);
    xs_http_destroy (&self->http);
    free (self);
    *self_p = NULL;
}

void
xs_xenapi_set_timeouts (xs_xenapi_t *self, long connect_ms, long total_ms)
{
    xs_http_set_timeouts (self->http, connect_ms, total_ms);
}

void
xs_xenapi_set_ca_file (xs_xenapi_t *self, const char *path)
{
    xs_http_set_ca_file (self->http, path);
}

void
xs_xenapi_set_insecure (xs_xenapi_t *self, bool insecure)
{
    xs_http_set_insecure (self->http, insecure);
}

void
xs_xenapi_set_user_agent (xs_xenapi_t *self, const char *agent)
{
    xs_http_set_user_agent (self->http, agent);
}

const char *
xs_xenapi_url (xs_xenapi_t *self)
{
    return xs_http_url (self->http);
}

/* ---------------------------------------------------------------------
   XenAPI envelope: {Status, Value | ErrorDescription}
   --------------------------------------------------------------------- */

/* Appends text to buf (size cap) at *at, truncating. */
static void
s_append (char *buf, size_t cap, size_t *at, const char *text)
{
    if (*at >= cap - 1)
        return;
    int n = snprintf (buf + *at, cap - *at, "%s", text);
    if (n < 0)
        return;
    *at = (size_t) n >= cap - *at ? cap - 1 : *at + (size_t) n;
}

/* Records a Failure and fills err with "method: CODE [p1, p2]". */
static xs_value_t *
s_failure (xs_xenapi_t *self, const char *method, const xs_value_t *desc, const char *session,
           xs_err_t *err)
{
    const char *code = xs_value_str (xs_value_at (desc, 0));
    if (xs_value_type (desc) != XS_VALUE_ARRAY || !code || !*code) {
        xs_err_set (err, XS_EINVAL,
                    "%s: malformed reply from %s: a Failure without an error code", method,
                    xs_http_url (self->http));
        return NULL;
    }
    self->err_code = xs_strdup (code);
    self->err_params = xs_value_array_new ();
    char text [XS_ERR_MSG_MAX];
    size_t at = 0;
    s_append (text, sizeof text, &at, "[");
    for (size_t i = 1; i < xs_value_size (desc); i++) {
        xs_value_t *item = xs_value_at (desc, i);
        const char *param = xs_value_str (item);
        xs_value_t *copy = param ? xs_value_string_new (param) : xs_value_dup (item);
        xs_value_append (self->err_params, &copy);
        if (i > 1)
            s_append (text, sizeof text, &at, ", ");
        if (!param)
            param = xs_value_type_name (xs_value_type (item));
        else
        if (session && strcmp (param, session) == 0)
            param = "(session ref)";        /* a secret: never in messages */
        /* A driver's stderr (SR_BACKEND_FAILURE_*) may quote a secret: the
           message is logged and sent on; the params stay as xapi sent them. */
        char *redacted = xs_redact_text (param);
        s_append (text, sizeof text, &at, redacted);
        free (redacted);
    }
    s_append (text, sizeof text, &at, "]");
    /* And any secret the agent was handed, quoted bare (issue 11, D7). */
    xs_redact_known (text, sizeof text);
    xs_errkind_t kind = XS_EXAPI;
    if (strcmp (code, "UUID_INVALID") == 0 || strcmp (code, "HANDLE_INVALID") == 0)
        kind = XS_ENOTFOUND;
    xs_err_set (err, kind, "%s: %s %s", method, code, text);
    return NULL;
}

/* One round trip: encodes method(params), posts it and unwraps the XenAPI
   envelope. `session` is the ref inside params (or NULL), kept out of
   messages. Returns the Value (caller owns) or NULL + err. */
static xs_value_t *
s_invoke (xs_xenapi_t *self, const char *method, const xs_value_t *params, const char *session,
          xs_err_t *err)
{
    xs_value_t *result = NULL;
    xs_value_t *reply = NULL;
    size_t len = 0;

    s_clear_xapi_error (self);
    if (xs_log_enabled (XS_LOG_DEBUG))
        xs_debug ("xapi %s: %s", xs_http_url (self->http), method);
    char *body = xs_xmlrpc_encode_call (method, params, &len);
    if (!body) {
        /* Text XML cannot carry (a control character, invalid UTF-8). */
        if (xs_xmlrpc_encodable (params, err) == 0)
            xs_err_set (err, XS_EINTERNAL, "cannot encode the call");
        else
        if (err)
            err->kind = XS_EINVAL;
        xs_err_prefix (err, "%s", method);
        goto out;
    }
    reply = xs_http_post (self->http, method, body, len, err);
    if (!reply)
        goto out;
    const char *status = xs_value_get_str (reply, "Status");
    if (xs_value_type (reply) != XS_VALUE_STRUCT || !status) {
        xs_err_set (err, XS_EINVAL, "%s: malformed reply from %s: not a XenAPI response (%s)",
                    method, xs_http_url (self->http),
                    xs_value_type_name (xs_value_type (reply)));
        goto out;
    }
    if (strcmp (status, "Success") == 0) {
        const xs_value_t *value = xs_value_get (reply, "Value");
        if (!value) {
            xs_err_set (err, XS_EINVAL, "%s: malformed reply from %s: Success without a Value",
                        method, xs_http_url (self->http));
            goto out;
        }
        result = xs_value_dup (value);
    }
    else
    if (strcmp (status, "Failure") == 0)
        s_failure (self, method, xs_value_get (reply, "ErrorDescription"), session, err);
    else
        xs_err_set (err, XS_EINVAL, "%s: malformed reply from %s: unknown Status", method,
                    xs_http_url (self->http));
out:
    if (body) {
        /* Login bodies hold the password. */
        explicit_bzero (body, len);
        free (body);
    }
    xs_value_destroy (&reply);
    return result;
}

void
xs_xenapi_async_next (xs_xenapi_t *self, xs_xenapi_task_t *task)
{
    self->next_task = task;
}

xs_xenapi_task_t *
xs_xenapi_take_next_task (xs_xenapi_t *self)
{
    xs_xenapi_task_t *task = self->next_task;
    self->next_task = NULL;
    return task;
}

long
xs_xenapi_total_timeout_ms (xs_xenapi_t *self)
{
    return xs_http_total_timeout_ms (self->http);
}

void
xs_xenapi_task_failed (xs_xenapi_t *self, const char *method, const xs_value_t *desc,
                       xs_err_t *err)
{
    s_clear_xapi_error (self);
    s_failure (self, method, desc, self->session, err);
}

/* ---------------------------------------------------------------------
   Sessions
   --------------------------------------------------------------------- */

/* Logs in with the stored credentials, following HOST_IS_SLAVE once. */
static int
s_login (xs_xenapi_t *self, xs_err_t *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        xs_value_t *params = xs_value_array_new ();
        xs_value_append_str (params, self->uname);
        xs_value_append_str (params, self->pwd);
        xs_value_append_str (params, "2.0");
        xs_value_append_str (params, "xensm");
        xs_value_t *ref = s_invoke (self, "session.login_with_password", params, NULL, err);
        /* Wipe the password copy inside the params. */
        char *pwd_copy = (char *) xs_value_str (xs_value_at (params, 1));
        if (pwd_copy)
            explicit_bzero (pwd_copy, strlen (pwd_copy));
        xs_value_destroy (&params);
        if (ref) {
            int rc = 0;
            if (xs_value_type (ref) != XS_VALUE_STRING || !*xs_value_str (ref))
                rc = xs_err_set (err, XS_EINVAL,
                                 "session.login_with_password: malformed reply from %s: no session ref",
                                 xs_http_url (self->http));
            else {
                s_free_secret (&self->session);
                self->session = xs_strdup (xs_value_str (ref));
                self->own_session = true;
            }
            xs_value_destroy (&ref);
            return rc;
        }
        if (attempt > 0 || !self->err_code || strcmp (self->err_code, "HOST_IS_SLAVE") != 0)
            return -1;
        /* A pool member: log in to the master instead, once. */
        const char *master_param = xs_xenapi_error_param (self, 0);
        char *master = xs_strdup (master_param ? master_param : "");
        char *from = xs_strdup (xs_http_url (self->http));
        int rc = xs_http_follow_master (self->http, master, err);
        if (rc == 0)
            xs_info ("xapi %s is a pool member; following HOST_IS_SLAVE to %s", from,
                     xs_http_url (self->http));
        free (master);
        free (from);
        if (rc)
            return -1;
    }
    return -1;
}

int
xs_xenapi_login (xs_xenapi_t *self, const char *uname, const char *pwd, xs_err_t *err)
{
    if (!uname || !pwd)
        return xs_err_set (err, XS_EINVAL, "session.login_with_password: no user name or password");
    if (self->own_session && self->session)
        xs_xenapi_logout (self, NULL);
    s_free_secret (&self->session);
    self->own_session = false;
    s_free_secret (&self->uname);
    s_free_secret (&self->pwd);
    self->uname = xs_strdup (uname ? uname : "");
    self->pwd = xs_strdup (pwd ? pwd : "");
    if (s_login (self, err)) {
        s_free_secret (&self->uname);
        s_free_secret (&self->pwd);
        return -1;
    }
    return 0;
}

void
xs_xenapi_set_session (xs_xenapi_t *self, const char *session_ref)
{
    s_free_secret (&self->session);
    s_free_secret (&self->uname);
    s_free_secret (&self->pwd);
    self->session = session_ref ? xs_strdup (session_ref) : NULL;
    self->own_session = false;
}

const char *
xs_xenapi_session (xs_xenapi_t *self)
{
    return self->session;
}

int
xs_xenapi_logout (xs_xenapi_t *self, xs_err_t *err)
{
    int rc = 0;
    if (self->session) {
        xs_value_t *params = xs_value_array_new ();
        xs_value_append_str (params, self->session);
        xs_value_t *result = s_invoke (self, "session.logout", params, self->session, err);
        if (!result)
            rc = -1;
        xs_value_destroy (&result);
        xs_value_destroy (&params);
    }
    s_free_secret (&self->session);
    s_free_secret (&self->uname);
    s_free_secret (&self->pwd);
    self->own_session = false;
    return rc;
}

/* ---------------------------------------------------------------------
   Generic calls
   --------------------------------------------------------------------- */

/* [session, (session again when self_arg), params...]. */
static xs_value_t *
s_session_params (xs_xenapi_t *self, const xs_value_t *params, bool self_arg)
{
    xs_value_t *all = xs_value_array_new ();
    xs_value_append_str (all, self->session);
    if (self_arg)
        xs_value_append_str (all, self->session);
    for (size_t i = 0; i < xs_value_size (params); i++) {
        xs_value_t *copy = xs_value_dup (xs_value_at (params, i));
        xs_value_append (all, &copy);
    }
    return all;
}

/* Calls with the session, re-logging in once on SESSION_INVALID when the
   client holds credentials. */
static xs_value_t *
s_call (xs_xenapi_t *self, const char *method, const xs_value_t *params, bool self_arg,
        xs_err_t *err)
{
    s_clear_xapi_error (self);
    if (!method || !*method) {
        xs_err_set (err, XS_EINVAL, "xapi call: no method name");
        return NULL;
    }
    if (params && xs_value_type (params) != XS_VALUE_ARRAY) {
        xs_err_set (err, XS_EINVAL, "%s: params must be an array, not a %s", method,
                    xs_value_type_name (xs_value_type (params)));
        return NULL;
    }
    if (!self->session) {
        xs_err_set (err, XS_EINVAL, "%s: not logged in to %s", method,
                    xs_http_url (self->http));
        return NULL;
    }
    xs_value_t *all = s_session_params (self, params, self_arg);
    xs_value_t *result = s_invoke (self, method, all, self->session, err);
    xs_value_destroy (&all);
    if (result || !self->err_code || !self->uname || !self->pwd)
        return result;
    const char *why = "session expired";
    if (strcmp (self->err_code, "HOST_IS_SLAVE") == 0) {
        why = "the host became a pool member";
        /* The host we talk to is no longer the master (a new master was
           designated): xapi refused before running the call, so it is safe
           to send it again, to the master it names, after a login there. */
        const char *master_param = xs_xenapi_error_param (self, 0);
        char *master = xs_strdup (master_param ? master_param : "");
        char *from = xs_strdup (xs_http_url (self->http));
        int rc = xs_http_follow_master (self->http, master, err);
        if (rc == 0)
            xs_notice ("xapi %s is now a pool member (during %s); following HOST_IS_SLAVE to %s",
                       from, method, xs_http_url (self->http));
        free (master);
        free (from);
        if (rc) {
            xs_err_prefix (err, "%s", method);
            return NULL;
        }
    }
    else
    if (strcmp (self->err_code, "SESSION_INVALID") == 0)
        xs_info ("xapi %s: session expired during %s; logging in again",
                 xs_http_url (self->http), method);
    else
        return result;
    s_free_secret (&self->session);
    if (s_login (self, err)) {
        xs_err_prefix (err, "%s: %s and logging in again failed", method, why);
        return NULL;
    }
    all = s_session_params (self, params, self_arg);
    result = s_invoke (self, method, all, self->session, err);
    xs_value_destroy (&all);
    return result;
}

xs_value_t *
xs_xenapi_call (xs_xenapi_t *self, const char *method, const xs_value_t *params, xs_err_t *err)
{
    return s_call (self, method, params, false, err);
}

xs_value_t *
xs_xenapi_call_str (xs_xenapi_t *self, const char *method, const char *arg, xs_err_t *err)
{
    xs_value_t *params = xs_value_array_new ();
    if (arg)
        xs_value_append_str (params, arg);
    xs_value_t *result = s_call (self, method, params, false, err);
    xs_value_destroy (&params);
    return result;
}

const char *
xs_xenapi_error_code (xs_xenapi_t *self)
{
    return self->err_code;
}

const xs_value_t *
xs_xenapi_error_params (xs_xenapi_t *self)
{
    return self->err_params;
}

const char *
xs_xenapi_error_param (xs_xenapi_t *self, size_t index)
{
    return xs_value_str (xs_value_at (self->err_params, index));
}

xs_value_t *
xs_xenapi_call_self (xs_xenapi_t *self, const char *method, xs_err_t *err)
{
    return s_call (self, method, NULL, true, err);
}
