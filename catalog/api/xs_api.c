/*  xs_api: the OpenStack Block Storage API v3 front door. */
#include "xs_api.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"

#define S_VERSION_HEADER "OpenStack-API-Version"

struct _xs_api_t {
    xs_http_t *http;
    xs_api_router_t *router;
    xs_keystone_t *keystone;
    void *arg;
    xs_api_auth_t auth;
    char *public_endpoint;      /* no trailing slash, no /v3; or NULL   */
    char *noauth_project;
    char *fallback_host;        /* "127.0.0.1:8776" for a request with no Host */
    uint64_t answered [6];      /* by status class 1xx..5xx              */
    bool (*gate) (xs_api_req_t *req, void *arg);
};

struct _xs_api_req_t {
    xs_api_t *api;
    xs_http_req_t *http;
    xs_route_match_t match;
    char id [XS_API_REQ_ID_SIZE];
    char global_id [XS_API_REQ_ID_SIZE];
    xs_api_version_t version;
    xs_api_identity_t identity;
    json_t *json;
    xs_keystone_wait_t *ks_wait;
    xs_api_gone_fn *gone_fn;
    void *gone_arg;
};

static void s_after_auth (xs_api_req_t *req);

/* ---------------------------------------------------------------------------
 *  Replies
 * ------------------------------------------------------------------------- */

static void
s_req_free (xs_api_req_t *req)
{
    json_decref (req->json);
    free (req);
}

/* Sends status and body (taken, may be NULL) with the headers every reply
   carries, then frees the request. */
static void
s_send (xs_api_req_t **req_p, unsigned status, const char *content_type, char *body,
        size_t len)
{
    assert (req_p && *req_p);
    xs_api_req_t *req = *req_p;
    *req_p = NULL;
    char version [40];
    char number [16];
    snprintf (version, sizeof version, "volume %s",
              xs_api_version_str (req->version, number, sizeof number));
    xs_http_req_add_header (req->http, "x-openstack-request-id", req->id);
    xs_http_req_add_header (req->http, S_VERSION_HEADER, version);
    xs_http_req_add_header (req->http, "Vary", S_VERSION_HEADER);
    if (status / 100 < 6)
        req->api->answered [status / 100]++;
    if (xs_log_enabled (XS_LOG_DEBUG))
        xs_debug ("api: %s %s -> %u (%s, project %s)", xs_http_req_method (req->http),
                  xs_http_req_path (req->http), status, req->id,
                  req->identity.project_id [0] ? req->identity.project_id : "-");
    xs_http_req_t *http = req->http;
    xs_http_req_set_user (http, NULL);
    s_req_free (req);
    xs_http_answer (&http, status, content_type, body, len);
}

void
xs_api_reply_json (xs_api_req_t **req_p, unsigned status, json_t *body)
{
    char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;
    json_decref (body);
    s_send (req_p, status, "application/json", text, text ? strlen (text) : 0);
}

void
xs_api_reply_list (xs_api_req_t **req_p, unsigned status, xs_api_list_t **list_p,
                   const json_t *tail)
{
    size_t len = 0;
    char *text = xs_api_list_text (list_p, tail, &len);
    s_send (req_p, status, "application/json", text, len);
}

void
xs_api_reply_text (xs_api_req_t **req_p, unsigned status, const char *content_type, char *body,
                   size_t len)
{
    s_send (req_p, status, content_type, body, len);
}

void
xs_api_reply_empty (xs_api_req_t **req_p, unsigned status)
{
    s_send (req_p, status, "application/json", NULL, 0);
}

static void
s_reply_fault (xs_api_req_t **req_p, unsigned status, const char *message)
{
    xs_api_reply_json (req_p, status, xs_api_fault (status, message));
}

void
xs_api_reply_error (xs_api_req_t **req_p, unsigned status, const char *fmt, ...)
{
    char message [XS_ERR_MSG_MAX];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (message, sizeof message, fmt, ap);
    va_end (ap);
    s_reply_fault (req_p, status, message);
}

void
xs_api_reply_err (xs_api_req_t **req_p, const xs_err_t *err)
{
    s_reply_fault (req_p, xs_api_status_for (err->kind), err->msg);
}

void
xs_api_reply_over_limit (xs_api_req_t **req_p, const char *fmt, ...)
{
    char message [XS_ERR_MSG_MAX];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (message, sizeof message, fmt, ap);
    va_end (ap);
    json_t *body = xs_api_fault (413, message);
    json_object_set_new (json_object_get (body, "overLimit"), "retryAfter", json_string ("0"));
    xs_http_req_add_header ((*req_p)->http, "Retry-After", "0");
    xs_api_reply_json (req_p, 413, body);
}

/* ---------------------------------------------------------------------------
 *  Request accessors
 * ------------------------------------------------------------------------- */

const char *
xs_api_req_method (const xs_api_req_t *req)
{
    return xs_http_req_method (req->http);
}

const char *
xs_api_req_path (const xs_api_req_t *req)
{
    return xs_http_req_path (req->http);
}

void
xs_api_req_add_header (xs_api_req_t *req, const char *name, const char *value)
{
    xs_http_req_add_header (req->http, name, value);
}

const char *
xs_api_req_param (const xs_api_req_t *req, const char *name)
{
    return xs_route_param (&req->match, name);
}

const char *
xs_api_req_query (const xs_api_req_t *req, const char *name)
{
    return xs_http_req_query (req->http, name);
}

const char *
xs_api_req_header (const xs_api_req_t *req, const char *name)
{
    return xs_http_req_header (req->http, name);
}

json_t *xs_api_req_json (const xs_api_req_t *req) { return req->json; }

const char *
xs_api_req_body (const xs_api_req_t *req, size_t *len)
{
    return xs_http_req_body (req->http, len);
}
const char *xs_api_req_id (const xs_api_req_t *req) { return req->id; }
xs_api_version_t xs_api_req_version (const xs_api_req_t *req) { return req->version; }
const xs_api_identity_t *xs_api_req_identity (const xs_api_req_t *req) { return &req->identity; }
const char *xs_api_req_url_project (const xs_api_req_t *req) { return req->match.project; }
const char *xs_api_req_route (const xs_api_req_t *req) { return req->match.route->name; }

const char *
xs_api_req_global_id (const xs_api_req_t *req)
{
    return req->global_id [0] ? req->global_id : NULL;
}

bool
xs_api_req_at_least (const xs_api_req_t *req, int minor)
{
    return req->version.major > 3 || (req->version.major == 3 && req->version.minor >= minor);
}

void
xs_api_req_on_gone (xs_api_req_t *req, xs_api_gone_fn *fn, void *arg)
{
    req->gone_fn = fn;
    req->gone_arg = arg;
}

/* A Host header we are willing to put in a link: host[:port] characters. */
static bool
s_host_ok (const char *host)
{
    size_t n = host ? strlen (host) : 0;
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum ((unsigned char) host [i]) && !strchr (".-:[]_", host [i]))
            return false;
    return true;
}

/* "<scheme>://<host>" or the public endpoint: the root of every link. */
static char *
s_base (const xs_api_req_t *req)
{
    if (req->api->public_endpoint)
        return xs_strdup (req->api->public_endpoint);
    const char *host = xs_http_req_header (req->http, "Host");
    if (!s_host_ok (host))
        host = req->api->fallback_host;
    return xs_sprintf ("%s://%s", xs_http_req_is_tls (req->http) ? "https" : "http", host);
}

char *
xs_api_req_url (const xs_api_req_t *req, const char *path)
{
    char *base = s_base (req);
    char *url = req->match.project
              ? xs_sprintf ("%s/v3/%s/%s", base, req->match.project, path)
              : xs_sprintf ("%s/v3/%s", base, path);
    free (base);
    return url;
}

int
xs_api_req_page (const xs_api_req_t *req, xs_api_page_t *page, xs_err_t *err)
{
    return xs_api_page_parse (xs_api_req_query (req, "limit"), xs_api_req_query (req, "marker"),
                              xs_api_req_query (req, "offset"), page, err);
}

typedef struct {
    char *query;
    const char *marker;
} s_link_t;

static int
s_keep_arg (const char *key, const char *value, void *arg)
{
    s_link_t *link = (s_link_t *) arg;
    if (strcmp (key, "marker") != 0)
        xs_api_query_append (&link->query, key, value);
    return 0;
}

void
xs_api_req_next_link (const xs_api_req_t *req, json_t *reply, const char *collection,
                      const char *path, const xs_api_page_t *page, size_t nitems,
                      const char *last_id)
{
    if (!xs_api_page_full (page, nitems) || !last_id)
        return;
    s_link_t link = {NULL, last_id};
    xs_http_req_query_each (req->http, s_keep_arg, &link);
    xs_api_query_append (&link.query, "marker", last_id);
    char *url = xs_api_req_url (req, path);
    char *href = xs_sprintf ("%s?%s", url, link.query);
    char *key = xs_sprintf ("%s_links", collection);
    json_object_set_new (reply, key, xs_nn (json_pack ("[{s:s, s:s}]", "rel", "next",
                                                       "href", href)));
    free (key);
    free (href);
    free (url);
    free (link.query);
}

/* ---------------------------------------------------------------------------
 *  The version documents (lenient to any requested version)
 * ------------------------------------------------------------------------- */

static json_t *
s_versions (const xs_api_req_t *req)
{
    char *base = s_base (req);
    char *self_href = xs_sprintf ("%s/v3/", base);
    char max [16];
    json_t *doc = xs_nn (json_pack (
        "{s:[{s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s}, {s:s, s:s}],"
        " s:[{s:s, s:s}]}]}",
        "versions", "id", "v3.0", "status", "CURRENT",
        "version", xs_api_version_str ((xs_api_version_t) {3, XS_API_MAX_MINOR}, max, sizeof max),
        "min_version", "3.0", "updated", XS_API_UPDATED,
        "links", "rel", "describedby", "type", "text/html", "href", "https://docs.openstack.org/",
        "rel", "self", "href", self_href,
        "media-types", "base", "application/json",
        "type", "application/vnd.openstack.volume+json;version=3"));
    free (self_href);
    free (base);
    return doc;
}

void
xs_api_versions_root (xs_api_req_t *req, void *arg)
{
    xs_api_reply_json (&req, 300, s_versions (req));     /* Multiple Choices, as Cinder */
}

void
xs_api_versions_v3 (xs_api_req_t *req, void *arg)
{
    xs_api_reply_json (&req, 200, s_versions (req));
}

/* ---------------------------------------------------------------------------
 *  Dispatch: route, authenticate, version, body, handler
 * ------------------------------------------------------------------------- */

static void
s_on_http_gone (xs_http_req_t *http, void *arg)
{
    xs_api_req_t *req = (xs_api_req_t *) arg;
    if (req->ks_wait)
        xs_keystone_cancel (req->api->keystone, &req->ks_wait);
    xs_api_gone_fn *fn = req->gone_fn;
    void *gone_arg = req->gone_arg;
    s_req_free (req);
    if (fn)
        fn (gone_arg);
}

static void
s_on_token (void *arg, xs_ks_result_t result, const xs_keystone_token_t *token, const char *why)
{
    xs_api_req_t *req = (xs_api_req_t *) arg;
    req->ks_wait = NULL;
    if (result == XS_KS_INVALID) {
        xs_http_req_add_header (req->http, "WWW-Authenticate",
                                xs_keystone_www_authenticate (req->api->keystone));
        s_reply_fault (&req, 401, "The request you have made requires authentication.");
        return;
    }
    if (result != XS_KS_VALID) {
        xs_warning ("api: %s: %s", req->id, why);
        s_reply_fault (&req, 503, "The identity service is unavailable; try again later.");
        return;
    }
    if (req->match.project && strcmp (req->match.project, token->project_id) != 0) {
        s_reply_fault (&req, 400, "Malformed request url");     /* Cinder's answer */
        return;
    }
    snprintf (req->identity.project_id, sizeof req->identity.project_id, "%s", token->project_id);
    snprintf (req->identity.user_id, sizeof req->identity.user_id, "%s", token->user_id);
    req->identity.is_admin = token->is_admin;
    s_after_auth (req);
}

static void
s_authenticate (xs_api_req_t *req)
{
    xs_api_t *api = req->api;
    const char *token = xs_http_req_header (req->http, "X-Auth-Token");
    if (req->match.route->flags & XS_ROUTE_PUBLIC) {
        s_after_auth (req);
        return;
    }
    if (api->auth == XS_API_NOAUTH) {
        xs_err_t err;
        if (xs_api_noauth_identity (req->match.project,
                                    xs_http_req_header (req->http, "X-Project-Id"),
                                    xs_http_req_header (req->http, "X-User-Id"), token,
                                    api->noauth_project, &req->identity, &err))
            xs_api_reply_err (&req, &err);
        else
            s_after_auth (req);
        return;
    }
    if (!token || !*token) {
        xs_http_req_add_header (req->http, "WWW-Authenticate",
                                xs_keystone_www_authenticate (api->keystone));
        s_reply_fault (&req, 401, "The request you have made requires authentication.");
        return;
    }
    /* A cached token answers at once: s_on_token has run (and may have
       answered and freed req) when no waiter comes back. */
    xs_keystone_wait_t *wait = xs_keystone_validate (api->keystone, token, s_on_token, req);
    if (wait)
        req->ks_wait = wait;
}

static bool
s_json_content_type (const char *ct)
{
    if (!ct)
        return true;            /* clients always send one; be lenient */
    size_t n = strcspn (ct, ";");
    while (n && ct [n - 1] == ' ')
        n--;
    return (n == 16 && strncasecmp (ct, "application/json", 16) == 0)
        || (n == 37 && strncasecmp (ct, "application/vnd.openstack.volume+json", 37) == 0);
}

static void
s_after_auth (xs_api_req_t *req)
{
    const xs_api_route_t *route = req->match.route;
    xs_err_t err;
    unsigned status = xs_api_version_parse (xs_http_req_header (req->http, S_VERSION_HEADER),
                                            &req->version, &err);
    if (status && (route->flags & XS_ROUTE_ANY_VERSION)) {
        /* The version documents never refuse a version (cinderclient sends
           its own maximum): clamp into range. */
        req->version = (xs_api_version_t) {3, status == 406 ? XS_API_MAX_MINOR : 0};
        status = 0;
    }
    if (status) {
        s_reply_fault (&req, status, err.msg);
        return;
    }
    if (req->api->gate && req->api->gate (req, req->api->arg))
        return;
    if (route->flags & XS_ROUTE_BODY) {
        if (!s_json_content_type (xs_http_req_header (req->http, "Content-Type"))) {
            s_reply_fault (&req, 415, "Unsupported Content-Type");
            return;
        }
        size_t len = 0;
        const char *body = xs_http_req_body (req->http, &len);
        req->json = xs_api_json_parse (body, len, &err);
        if (!req->json) {
            s_reply_fault (&req, 400, err.msg);
            return;
        }
    }
    route->handler (req, req->api->arg);
}

static void
s_on_request (xs_http_req_t *http, void *arg)
{
    xs_api_t *api = (xs_api_t *) arg;
    xs_api_req_t *req = xs_zalloc (sizeof *req);
    req->api = api;
    req->http = http;
    req->version = (xs_api_version_t) {3, 0};
    xs_api_request_id (req->id);
    const char *global = xs_http_req_header (http, "X-OpenStack-Request-ID");
    if (xs_api_request_id_valid (global))
        snprintf (req->global_id, sizeof req->global_id, "%s", global);
    xs_http_req_set_user (http, req);
    xs_http_req_on_gone (http, s_on_http_gone, req);
    if (xs_http_req_too_large (http)) {
        s_reply_fault (&req, 413, "Request is too large.");
        return;
    }
    switch (xs_api_router_match (api->router, xs_http_req_method (http), xs_http_req_path (http),
                                 &req->match)) {
        case XS_ROUTE_FOUND:
            s_authenticate (req);
            return;
        case XS_ROUTE_BAD_METHOD:
            xs_http_req_add_header (http, "Allow", req->match.allow);
            s_reply_fault (&req, 405, "The method is not allowed for this resource.");
            return;
        default:
            s_reply_fault (&req, 404, "The resource could not be found.");
            return;
    }
}

/* ---------------------------------------------------------------------------
 *  Server
 * ------------------------------------------------------------------------- */

static char *
s_public_endpoint (const char *text)
{
    if (!text || !*text)
        return NULL;
    size_t n = strlen (text);
    while (n && text [n - 1] == '/')
        n--;
    if (n >= 3 && strncmp (text + n - 3, "/v3", 3) == 0)
        n -= 3;
    while (n && text [n - 1] == '/')
        n--;
    return xs_strndup (text, n);
}

static int
s_check_opts (const xs_api_opts_t *opts, xs_err_t *err)
{
    const char *listen = opts->http.listen;
    if (opts->public_endpoint && *opts->public_endpoint
        && strncmp (opts->public_endpoint, "http://", 7)
        && strncmp (opts->public_endpoint, "https://", 8))
        return xs_err_set (err, XS_EINVAL, "api_public_endpoint '%s': must start with http:// "
                           "or https://", opts->public_endpoint);
    if (opts->auth == XS_API_NOAUTH && !opts->allow_insecure
        && !xs_http_listen_is_loopback (listen))
        return xs_err_set (err, XS_EINVAL, "api_listen %s with api_auth = noauth: anyone who "
                           "can reach that address would act as admin; listen on 127.0.0.1 or "
                           "[::1], use api_auth = keystone, or set api_allow_insecure = true",
                           listen ? listen : "(none)");
    if (opts->noauth_project && !xs_api_project_id_valid (opts->noauth_project))
        return xs_err_set (err, XS_EINVAL, "api_noauth_project '%s': letters, digits, '_' and "
                           "'-' only, at most 64", opts->noauth_project);
    return 0;
}

xs_api_t *
xs_api_new (zloop_t *loop, const xs_api_opts_t *opts, const xs_api_route_t *routes, void *arg,
            xs_err_t *err)
{
    if (s_check_opts (opts, err))
        return NULL;
    xs_api_t *self = xs_zalloc (sizeof *self);
    self->arg = arg;
    self->gate = opts->gate;
    self->auth = opts->auth;
    self->public_endpoint = s_public_endpoint (opts->public_endpoint);
    self->noauth_project = xs_strdup (opts->noauth_project ? opts->noauth_project : "admin");
    self->router = xs_api_router_new (routes);
    if (opts->auth == XS_API_KEYSTONE) {
        self->keystone = xs_keystone_new (loop, &opts->keystone, err);
        if (!self->keystone) {
            xs_api_destroy (&self);
            return NULL;
        }
    }
    self->http = xs_http_new (loop, &opts->http, s_on_request, self, err);
    if (!self->http) {
        xs_api_destroy (&self);
        return NULL;
    }
    const char *listen = opts->http.listen;
    const char *colon = strrchr (listen, ':');
    self->fallback_host = xs_sprintf ("%.*s:%u", (int) (colon - listen), listen,
                                      (unsigned) xs_http_port (self->http));
    return self;
}

void
xs_api_destroy (xs_api_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_api_t *self = *self_p;
    xs_http_destroy (&self->http);      /* parked requests hear they are gone */
    xs_keystone_destroy (&self->keystone);
    xs_api_router_destroy (&self->router);
    free (self->public_endpoint);
    free (self->noauth_project);
    free (self->fallback_host);
    free (self);
    *self_p = NULL;
}

uint16_t xs_api_port (const xs_api_t *self) { return xs_http_port (self->http); }

uint64_t
xs_api_answered (const xs_api_t *self, unsigned status_class)
{
    return status_class < 6 ? self->answered [status_class] : 0;
}
