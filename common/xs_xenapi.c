/*  xs_xenapi: a XenAPI (xapi) client over XML-RPC, on libcurl. */
#include "xs_xenapi.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "xs_log.h"
#include "xs_mem.h"
#include "xs_xmlrpc.h"

#define S_UNIX_PREFIX "unix:"
#define S_UNIX_REQUEST_URL "http://localhost/"

struct _xs_xenapi_t {
    CURL *curl;
    CURLU *cu;                  /* parsed http(s) URL; NULL for unix:     */
    char *url;                  /* what the user sees in messages         */
    char *request_url;          /* what curl is pointed at                */
    char *socket_path;          /* unix socket, or NULL                   */
    long connect_ms;
    long total_ms;
    char *ca_file;
    bool insecure;
    char *user_agent;
    struct curl_slist *headers;
    char errbuf [CURL_ERROR_SIZE];

    char *session;              /* current session ref (secret)           */
    bool own_session;           /* made by login: log out on destroy      */
    char *uname;                /* credentials for re-login, or NULL      */
    char *pwd;

    char *err_code;             /* last XenAPI error code, or NULL        */
    xs_value_t *err_params;     /* its params (array of strings)          */

    char *reply;                /* response body being received           */
    size_t reply_len;
    size_t reply_cap;
    bool reply_too_big;
};

/* ------------------------------------------------------------------ */
/*  Small helpers                                                     */
/* ------------------------------------------------------------------ */

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;
static CURLcode s_curl_init_rc = CURLE_OK;

static void
s_curl_global_init (void)
{
    s_curl_init_rc = curl_global_init (CURL_GLOBAL_DEFAULT);
}

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

/* ------------------------------------------------------------------ */
/*  URLs                                                              */
/* ------------------------------------------------------------------ */

/* Reads one part of a parsed URL; NULL when absent. Caller frees with curl_free. */
static char *
s_url_part (CURLU *cu, CURLUPart part)
{
    char *value = NULL;
    if (curl_url_get (cu, part, &value, 0) != CURLUE_OK)
        return NULL;
    return value;
}

/* Parses an http(s) URL into *cu_p and checks it is one we accept. */
static int
s_parse_http_url (const char *url, CURLU **cu_p, xs_err_t *err)
{
    int rc = -1;
    CURLU *cu = curl_url ();
    char *scheme = NULL, *host = NULL, *user = NULL, *query = NULL, *fragment = NULL;
    if (!cu)
        abort ();
    CURLUcode uc = curl_url_set (cu, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        xs_err_set (err, XS_EINVAL, "xapi URL %s: %s (use http://host[:port]/, "
                    "https://host[:port]/ or unix:/path/to/socket)", url, curl_url_strerror (uc));
        goto out;
    }
    scheme = s_url_part (cu, CURLUPART_SCHEME);
    if (!scheme || (strcmp (scheme, "http") != 0 && strcmp (scheme, "https") != 0)) {
        xs_err_set (err, XS_EINVAL,
                    "xapi URL %s: scheme must be http, https or unix (unix:/path/to/socket)", url);
        goto out;
    }
    host = s_url_part (cu, CURLUPART_HOST);
    if (!host || !*host) {
        xs_err_set (err, XS_EINVAL, "xapi URL %s: no host", url);
        goto out;
    }
    user = s_url_part (cu, CURLUPART_USER);
    if (user) {
        /* Do not echo the URL: it holds credentials. */
        xs_err_set (err, XS_EINVAL,
                    "xapi URL %s://%s: credentials in the URL are refused (log in instead)",
                    scheme, host);
        goto out;
    }
    query = s_url_part (cu, CURLUPART_QUERY);
    fragment = s_url_part (cu, CURLUPART_FRAGMENT);
    if (query || fragment) {
        xs_err_set (err, XS_EINVAL, "xapi URL %s: a query or fragment is not allowed", url);
        goto out;
    }
    *cu_p = cu;
    cu = NULL;
    rc = 0;
out:
    curl_free (scheme);
    curl_free (host);
    curl_free (user);
    curl_free (query);
    curl_free (fragment);
    curl_url_cleanup (cu);
    return rc;
}

/* Points self at an http(s) URL held in *cu_p (ownership taken). */
static int
s_set_http_target (xs_xenapi_t *self, CURLU **cu_p, xs_err_t *err)
{
    char *text = s_url_part (*cu_p, CURLUPART_URL);
    if (!text) {
        curl_url_cleanup (*cu_p);
        *cu_p = NULL;
        return xs_err_set (err, XS_EINVAL, "xapi URL: cannot be rebuilt");
    }
    curl_url_cleanup (self->cu);
    self->cu = *cu_p;
    *cu_p = NULL;
    free (self->url);
    free (self->request_url);
    self->url = xs_strdup (text);
    self->request_url = xs_strdup (text);
    free (self->socket_path);
    self->socket_path = NULL;
    curl_free (text);
    return 0;
}

/* Sets self's target from a user URL (http, https or unix:). */
static int
s_set_target (xs_xenapi_t *self, const char *url, xs_err_t *err)
{
    if (!url || !*url)
        return xs_err_set (err, XS_EINVAL, "xapi URL: empty");
    if (strncmp (url, S_UNIX_PREFIX, strlen (S_UNIX_PREFIX)) == 0) {
        const char *path = url + strlen (S_UNIX_PREFIX);
        struct sockaddr_un sun;
        if (*path != '/')
            return xs_err_set (err, XS_EINVAL,
                               "xapi URL %s: a unix socket path must be absolute (unix:/var/lib/xcp/xapi)",
                               url);
        if (strlen (path) >= sizeof sun.sun_path)
            return xs_err_set (err, XS_EINVAL, "xapi URL %s: socket path longer than %zu bytes",
                               url, sizeof sun.sun_path - 1);
        curl_url_cleanup (self->cu);
        self->cu = NULL;
        free (self->url);
        free (self->request_url);
        free (self->socket_path);
        self->url = xs_strdup (url);
        self->request_url = xs_strdup (S_UNIX_REQUEST_URL);
        self->socket_path = xs_strdup (path);
        return 0;
    }
    CURLU *cu = NULL;
    if (s_parse_http_url (url, &cu, err))
        return -1;
    return s_set_http_target (self, &cu, err);
}

/* Moves self to the pool master named by HOST_IS_SLAVE's param: "addr" or
   "addr:port" (IPv6 addresses bare or in brackets). The scheme stays (https
   from a unix socket); without a port the current one is kept. */
static int
s_follow_master (xs_xenapi_t *self, const char *master, xs_err_t *err)
{
    int rc = -1;
    char *candidate = NULL;
    CURLU *parsed = NULL;
    CURLU *next = NULL;
    char *host = NULL, *port = NULL, *path = NULL, *user = NULL;

    if (!master || !*master)
        return xs_err_set (err, XS_EINVAL, "HOST_IS_SLAVE from %s names no master", self->url);
    if (strpbrk (master, "/?#@ \t\r\n\\"))
        return xs_err_set (err, XS_EINVAL, "HOST_IS_SLAVE from %s: bad master address '%.200s'",
                           self->url, master);
    char *scheme = self->cu ? s_url_part (self->cu, CURLUPART_SCHEME) : NULL;
    const char *colon = strchr (master, ':');
    bool bare_ipv6 = master [0] != '[' && colon && strchr (colon + 1, ':');
    candidate = xs_sprintf ("%s://%s%s%s/", scheme ? scheme : "https", bare_ipv6 ? "[" : "",
                  master, bare_ipv6 ? "]" : "");
    curl_free (scheme);

    parsed = curl_url ();
    if (!parsed)
        abort ();
    if (curl_url_set (parsed, CURLUPART_URL, candidate, 0) != CURLUE_OK
        || !(host = s_url_part (parsed, CURLUPART_HOST))
        || (path = s_url_part (parsed, CURLUPART_PATH), path && strcmp (path, "/") != 0)
        || (user = s_url_part (parsed, CURLUPART_USER))) {
        xs_err_set (err, XS_EINVAL, "HOST_IS_SLAVE from %s: bad master address '%s'", self->url,
                    master);
        goto out;
    }
    port = s_url_part (parsed, CURLUPART_PORT);
    if (self->cu) {
        next = curl_url_dup (self->cu);
        if (!next)
            abort ();
        if (curl_url_set (next, CURLUPART_HOST, host, 0) != CURLUE_OK
            || (port && curl_url_set (next, CURLUPART_PORT, port, 0) != CURLUE_OK)) {
            xs_err_set (err, XS_EINVAL, "HOST_IS_SLAVE from %s: bad master address '%s'",
                        self->url, master);
            goto out;
        }
    }
    else {
        next = parsed;
        parsed = NULL;
    }
    rc = s_set_http_target (self, &next, err);
out:
    free (candidate);
    curl_free (host);
    curl_free (port);
    curl_free (path);
    curl_free (user);
    curl_url_cleanup (parsed);
    curl_url_cleanup (next);
    return rc;
}

/* ------------------------------------------------------------------ */
/*  Life cycle and options                                            */
/* ------------------------------------------------------------------ */

xs_xenapi_t *
xs_xenapi_new (const char *url, xs_err_t *err)
{
    xs_xenapi_t *self = NULL;
    pthread_once (&s_curl_once, s_curl_global_init);
    if (s_curl_init_rc != CURLE_OK) {
        xs_err_set (err, XS_EINTERNAL, "libcurl: cannot initialise: %s",
                    curl_easy_strerror (s_curl_init_rc));
        return NULL;
    }
    self = xs_zalloc (sizeof *self);
    if (s_set_target (self, url, err))
        goto fail;
    self->connect_ms = XS_XENAPI_CONNECT_TIMEOUT_MS;
    self->total_ms = XS_XENAPI_TIMEOUT_MS;
    self->curl = curl_easy_init ();
    if (!self->curl) {
        xs_err_set (err, XS_EINTERNAL, "libcurl: cannot create a handle");
        goto fail;
    }
    /* No "Expect: 100-continue" round trip before large bodies. */
    self->headers = curl_slist_append (NULL, "Content-Type: text/xml");
    struct curl_slist *more = self->headers ? curl_slist_append (self->headers, "Expect:") : NULL;
    if (!more) {
        xs_err_set (err, XS_EINTERNAL, "libcurl: cannot build the request headers");
        goto fail;
    }
    self->headers = more;
    return self;
fail:
    xs_xenapi_destroy (&self);
    return NULL;
}

void
xs_xenapi_destroy (xs_xenapi_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_xenapi_t *self = *self_p;
    if (self->own_session && self->session && self->curl) {
        /* Best effort, and quick: a dead xapi must not stall a shutdown. */
        xs_xenapi_set_timeouts (self, self->connect_ms < 2000 ? self->connect_ms : 2000,
                                self->total_ms < 5000 ? self->total_ms : 5000);
        xs_xenapi_logout (self, NULL);
    }
    s_free_secret (&self->session);
    s_free_secret (&self->uname);
    s_free_secret (&self->pwd);
    s_clear_xapi_error (self);
    if (self->curl)
        curl_easy_cleanup (self->curl);
    curl_slist_free_all (self->headers);
    curl_url_cleanup (self->cu);
    free (self->url);
    free (self->request_url);
    free (self->socket_path);
    free (self->ca_file);
    free (self->user_agent);
    free (self->reply);
    free (self);
    *self_p = NULL;
}

void
xs_xenapi_set_timeouts (xs_xenapi_t *self, long connect_ms, long total_ms)
{
    self->connect_ms = connect_ms > 0 ? connect_ms : XS_XENAPI_CONNECT_TIMEOUT_MS;
    self->total_ms = total_ms > 0 ? total_ms : XS_XENAPI_TIMEOUT_MS;
}

void
xs_xenapi_set_ca_file (xs_xenapi_t *self, const char *path)
{
    free (self->ca_file);
    self->ca_file = path ? xs_strdup (path) : NULL;
}

void
xs_xenapi_set_insecure (xs_xenapi_t *self, bool insecure)
{
    if (insecure && !self->insecure)
        xs_warning ("xapi %s: TLS certificate verification is OFF (tests only)", self->url);
    self->insecure = insecure;
}

void
xs_xenapi_set_user_agent (xs_xenapi_t *self, const char *agent)
{
    free (self->user_agent);
    self->user_agent = agent ? xs_strdup (agent) : NULL;
}

const char *
xs_xenapi_url (xs_xenapi_t *self)
{
    return self->url;
}

/* ------------------------------------------------------------------ */
/*  Transport: one POST, one XML-RPC value back                       */
/* ------------------------------------------------------------------ */

static size_t
s_on_data (char *data, size_t size, size_t nmemb, void *userp)
{
    xs_xenapi_t *self = userp;
    size_t n = size * nmemb;
    if (self->reply_len + n > XS_XMLRPC_DEFAULT_LIMITS.max_bytes) {
        self->reply_too_big = true;
        return 0;                       /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (self->reply_len + n + 1 > self->reply_cap) {
        size_t cap = self->reply_cap ? self->reply_cap : 16384;
        while (cap < self->reply_len + n + 1)
            cap *= 2;
        char *bigger = xs_realloc (self->reply, cap);
        self->reply = bigger;
        self->reply_cap = cap;
    }
    memcpy (self->reply + self->reply_len, data, n);
    self->reply_len += n;
    self->reply [self->reply_len] = '\0';
    return n;
}

#define S_SETOPT(opt, val) \
    do { if (rc == CURLE_OK) rc = curl_easy_setopt (self->curl, opt, val); } while (0)

/* True for read-only messages (Class.get_*), which may be sent twice. */
static bool
s_is_read_only (const char *method)
{
    const char *dot = strchr (method, '.');
    return dot && strncmp (dot + 1, "get_", 4) == 0;
}

static CURLcode
s_setup_request (xs_xenapi_t *self, const char *method, const char *body, size_t len)
{
    CURLcode rc = CURLE_OK;
    /* libcurl silently re-sends a request when a kept-alive connection
       closes before any reply byte, which would run a call twice if xapi
       ran it and then lost the connection. So only read-only calls reuse a
       connection; every other call gets a fresh one. */
    S_SETOPT (CURLOPT_FRESH_CONNECT, s_is_read_only (method) ? 0L : 1L);
    S_SETOPT (CURLOPT_URL, self->request_url);
    S_SETOPT (CURLOPT_UNIX_SOCKET_PATH, self->socket_path);
    S_SETOPT (CURLOPT_PROTOCOLS_STR, "http,https");
    S_SETOPT (CURLOPT_FOLLOWLOCATION, 0L);
    S_SETOPT (CURLOPT_PROXY, "");                   /* never an environment proxy */
    S_SETOPT (CURLOPT_NOSIGNAL, 1L);
    S_SETOPT (CURLOPT_POST, 1L);
    S_SETOPT (CURLOPT_POSTFIELDS, body);
    S_SETOPT (CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
    S_SETOPT (CURLOPT_HTTPHEADER, self->headers);
    S_SETOPT (CURLOPT_USERAGENT, self->user_agent ? self->user_agent : "xensm/" XENSM_VERSION);
    S_SETOPT (CURLOPT_CONNECTTIMEOUT_MS, self->connect_ms);
    S_SETOPT (CURLOPT_TIMEOUT_MS, self->total_ms);
    S_SETOPT (CURLOPT_SSL_VERIFYPEER, self->insecure ? 0L : 1L);
    S_SETOPT (CURLOPT_SSL_VERIFYHOST, self->insecure ? 0L : 2L);
    if (self->ca_file)
        S_SETOPT (CURLOPT_CAINFO, self->ca_file);
    S_SETOPT (CURLOPT_WRITEFUNCTION, s_on_data);
    S_SETOPT (CURLOPT_WRITEDATA, self);
    S_SETOPT (CURLOPT_ERRORBUFFER, self->errbuf);
    return rc;
}

/* POSTs body and decodes the XML-RPC response. Returns the response value
   (caller owns) or NULL + err naming `method` and the URL. */
static xs_value_t *
s_post (xs_xenapi_t *self, const char *method, const char *body, size_t len, xs_err_t *err)
{
    self->reply_len = 0;
    self->reply_too_big = false;
    self->errbuf [0] = '\0';
    if (self->reply)
        self->reply [0] = '\0';

    CURLcode rc = s_setup_request (self, method, body, len);
    if (rc != CURLE_OK) {
        xs_err_set (err, XS_EINTERNAL, "%s: libcurl refused an option: %s", method,
                    curl_easy_strerror (rc));
        return NULL;
    }
    rc = curl_easy_perform (self->curl);
    if (rc == CURLE_WRITE_ERROR && self->reply_too_big) {
        xs_err_set (err, XS_EINVAL, "%s: reply from %s is larger than %zu bytes", method,
                    self->url, XS_XMLRPC_DEFAULT_LIMITS.max_bytes);
        return NULL;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        xs_err_set (err, XS_ETRANSPORT, "%s: timeout after %ld ms talking to %s (%s)", method,
                    self->total_ms, self->url,
                    self->errbuf [0] ? self->errbuf : curl_easy_strerror (rc));
        return NULL;
    }
    if (rc != CURLE_OK) {
        xs_err_set (err, XS_ETRANSPORT, "%s: cannot talk to %s: %s (%s)", method, self->url,
                    curl_easy_strerror (rc), self->errbuf [0] ? self->errbuf : "no detail");
        return NULL;
    }
    long status = 0;
    rc = curl_easy_getinfo (self->curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        xs_err_set (err, XS_EINTERNAL, "%s: libcurl: %s", method, curl_easy_strerror (rc));
        return NULL;
    }
    if (status != 200) {
        xs_err_set (err, XS_ETRANSPORT, "%s: %s answered HTTP %ld", method, self->url, status);
        return NULL;
    }
    xs_value_t *value = xs_xmlrpc_decode_response (self->reply ? self->reply : "",
                                                   self->reply_len, NULL, err);
    if (!value) {
        if (err && err->kind != XS_EXAPI)
            err->kind = XS_EINVAL;
        xs_err_prefix (err, "%s: bad reply from %s", method, self->url);
    }
    return value;
}

/* ------------------------------------------------------------------ */
/*  XenAPI envelope: {Status, Value | ErrorDescription}               */
/* ------------------------------------------------------------------ */

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
                    self->url);
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
        s_append (text, sizeof text, &at, param);
    }
    s_append (text, sizeof text, &at, "]");
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
        xs_debug ("xapi %s: %s", self->url, method);
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
    reply = s_post (self, method, body, len, err);
    if (!reply)
        goto out;
    const char *status = xs_value_get_str (reply, "Status");
    if (xs_value_type (reply) != XS_VALUE_STRUCT || !status) {
        xs_err_set (err, XS_EINVAL, "%s: malformed reply from %s: not a XenAPI response (%s)",
                    method, self->url, xs_value_type_name (xs_value_type (reply)));
        goto out;
    }
    if (strcmp (status, "Success") == 0) {
        const xs_value_t *value = xs_value_get (reply, "Value");
        if (!value) {
            xs_err_set (err, XS_EINVAL, "%s: malformed reply from %s: Success without a Value",
                        method, self->url);
            goto out;
        }
        result = xs_value_dup (value);
    }
    else
    if (strcmp (status, "Failure") == 0)
        s_failure (self, method, xs_value_get (reply, "ErrorDescription"), session, err);
    else
        xs_err_set (err, XS_EINVAL, "%s: malformed reply from %s: unknown Status", method,
                    self->url);
out:
    if (body) {
        /* Login bodies hold the password. */
        explicit_bzero (body, len);
        free (body);
    }
    xs_value_destroy (&reply);
    return result;
}

/* ------------------------------------------------------------------ */
/*  Sessions                                                          */
/* ------------------------------------------------------------------ */

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
                                 self->url);
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
        char *from = xs_strdup (self->url);
        int rc = s_follow_master (self, master, err);
        if (rc == 0)
            xs_info ("xapi %s is a pool member; following HOST_IS_SLAVE to %s", from, self->url);
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

/* ------------------------------------------------------------------ */
/*  Generic calls                                                     */
/* ------------------------------------------------------------------ */

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
        xs_err_set (err, XS_EINVAL, "%s: not logged in to %s", method, self->url);
        return NULL;
    }
    xs_value_t *all = s_session_params (self, params, self_arg);
    xs_value_t *result = s_invoke (self, method, all, self->session, err);
    xs_value_destroy (&all);
    if (result || !self->err_code || strcmp (self->err_code, "SESSION_INVALID") != 0
        || !self->uname || !self->pwd)
        return result;

    xs_info ("xapi %s: session expired during %s; logging in again", self->url, method);
    s_free_secret (&self->session);
    if (s_login (self, err)) {
        xs_err_prefix (err, "%s: session expired and logging in again failed", method);
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

/* ------------------------------------------------------------------ */
/*  Typed helpers                                                     */
/* ------------------------------------------------------------------ */

/* Checks the type of a result; frees it and sets err on a mismatch. */
static xs_value_t *
s_expect (xs_value_t *result, xs_value_type_t type, const char *method, xs_err_t *err)
{
    if (result && xs_value_type (result) != type) {
        xs_err_set (err, XS_EINVAL, "%s: malformed reply: expected a %s, got a %s", method,
                    xs_value_type_name (type), xs_value_type_name (xs_value_type (result)));
        xs_value_destroy (&result);
    }
    return result;
}

/* A string result as a malloc'd copy. */
static char *
s_take_str (xs_value_t *result, const char *method, xs_err_t *err)
{
    result = s_expect (result, XS_VALUE_STRING, method, err);
    const char *result_text = result ? xs_value_str (result) : NULL;
    char *text = result ? xs_strdup (result_text ? result_text : "") : NULL;
    xs_value_destroy (&result);
    return text;
}

static char *
s_call_ref (xs_xenapi_t *self, const char *method, const char *arg, xs_err_t *err)
{
    return s_take_str (xs_xenapi_call_str (self, method, arg, err), method, err);
}

static int
s_call_void (xs_xenapi_t *self, const char *method, const char *arg, xs_err_t *err)
{
    xs_value_t *result = xs_xenapi_call_str (self, method, arg, err);
    if (!result)
        return -1;
    xs_value_destroy (&result);
    return 0;
}

static xs_value_t *
s_call_typed (xs_xenapi_t *self, const char *method, const char *arg, xs_value_type_t type,
              xs_err_t *err)
{
    return s_expect (xs_xenapi_call_str (self, method, arg, err), type, method, err);
}

/* A copy of a string->string map argument; NULL gives {}. */
static xs_value_t *
s_map_arg (const xs_value_t *map, const char *method, const char *name, xs_err_t *err)
{
    if (!map)
        return xs_value_struct_new ();
    if (xs_value_type (map) != XS_VALUE_STRUCT) {
        xs_err_set (err, XS_EINVAL, "%s: %s must be a map of strings, not a %s", method, name,
                    xs_value_type_name (xs_value_type (map)));
        return NULL;
    }
    for (size_t i = 0; i < xs_value_size (map); i++)
        if (xs_value_type (xs_value_value_at (map, i)) != XS_VALUE_STRING) {
            xs_err_set (err, XS_EINVAL, "%s: %s key '%s' is not a string", method, name,
                        xs_value_key_at (map, i));
            return NULL;
        }
    return xs_value_dup (map);
}

/* Appends a map argument to params; -1 + err when it is not a string map. */
static int
s_append_map (xs_value_t *params, const xs_value_t *map, const char *method, const char *name,
              xs_err_t *err)
{
    xs_value_t *copy = s_map_arg (map, method, name, err);
    if (!copy)
        return -1;
    xs_value_append (params, &copy);
    return 0;
}

/* Sets a map member of a record; -1 + err when it is not a string map. */
static int
s_set_map (xs_value_t *record, const char *field, const xs_value_t *map, const char *method,
           xs_err_t *err)
{
    xs_value_t *copy = s_map_arg (map, method, field, err);
    if (!copy)
        return -1;
    xs_value_set (record, field, &copy);
    return 0;
}

static void
s_append_int64 (xs_value_t *params, int64_t number)
{
    char text [32];
    snprintf (text, sizeof text, "%" PRId64, number);
    xs_value_append_str (params, text);
}

static void
s_append_bool (xs_value_t *params, bool flag)
{
    xs_value_t *value = xs_value_bool_new (flag);
    xs_value_append (params, &value);
}

/* Calls method(params) (params owned and freed) and returns a string result. */
static char *
s_call_params_ref (xs_xenapi_t *self, const char *method, xs_value_t **params_p, xs_err_t *err)
{
    xs_value_t *result = xs_xenapi_call (self, method, *params_p, err);
    xs_value_destroy (params_p);
    return s_take_str (result, method, err);
}

char *
xs_xenapi_session_get_this_host (xs_xenapi_t *self, xs_err_t *err)
{
    const char *method = "session.get_this_host";
    return s_take_str (s_call (self, method, NULL, true, err), method, err);
}

xs_value_t *
xs_xenapi_host_get_all (xs_xenapi_t *self, xs_err_t *err)
{
    return s_call_typed (self, "host.get_all", NULL, XS_VALUE_ARRAY, err);
}

xs_value_t *
xs_xenapi_host_get_record (xs_xenapi_t *self, const char *host, xs_err_t *err)
{
    return s_call_typed (self, "host.get_record", host ? host : "", XS_VALUE_STRUCT, err);
}

char *
xs_xenapi_host_get_by_uuid (xs_xenapi_t *self, const char *uuid, xs_err_t *err)
{
    return s_call_ref (self, "host.get_by_uuid", uuid ? uuid : "", err);
}

xs_value_t *
xs_xenapi_pool_get_all (xs_xenapi_t *self, xs_err_t *err)
{
    return s_call_typed (self, "pool.get_all", NULL, XS_VALUE_ARRAY, err);
}

char *
xs_xenapi_pool_get_master (xs_xenapi_t *self, const char *pool, xs_err_t *err)
{
    return s_call_ref (self, "pool.get_master", pool ? pool : "", err);
}

#define S_STR(s) ((s) ? (s) : "")

char *
xs_xenapi_sr_create (xs_xenapi_t *self, const xs_xenapi_sr_args_t *args, xs_err_t *err)
{
    const char *method = "SR.create";
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, S_STR (args->host));
    if (s_append_map (params, args->device_config, method, "device_config", err))
        goto fail;
    s_append_int64 (params, args->physical_size);
    xs_value_append_str (params, S_STR (args->name_label));
    xs_value_append_str (params, S_STR (args->name_description));
    xs_value_append_str (params, S_STR (args->type));
    xs_value_append_str (params, S_STR (args->content_type));
    s_append_bool (params, args->shared);
    if (s_append_map (params, args->sm_config, method, "sm_config", err))
        goto fail;
    return s_call_params_ref (self, method, &params, err);
fail:
    xs_value_destroy (&params);
    return NULL;
}

char *
xs_xenapi_sr_introduce (xs_xenapi_t *self, const xs_xenapi_sr_args_t *args, xs_err_t *err)
{
    const char *method = "SR.introduce";
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, S_STR (args->uuid));
    xs_value_append_str (params, S_STR (args->name_label));
    xs_value_append_str (params, S_STR (args->name_description));
    xs_value_append_str (params, S_STR (args->type));
    xs_value_append_str (params, S_STR (args->content_type));
    s_append_bool (params, args->shared);
    if (s_append_map (params, args->sm_config, method, "sm_config", err)) {
        xs_value_destroy (&params);
        return NULL;
    }
    return s_call_params_ref (self, method, &params, err);
}

char *
xs_xenapi_sr_probe (xs_xenapi_t *self, const xs_xenapi_sr_args_t *args, xs_err_t *err)
{
    const char *method = "SR.probe";
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, S_STR (args->host));
    if (s_append_map (params, args->device_config, method, "device_config", err))
        goto fail;
    xs_value_append_str (params, S_STR (args->type));
    if (s_append_map (params, args->sm_config, method, "sm_config", err))
        goto fail;
    return s_call_params_ref (self, method, &params, err);
fail:
    xs_value_destroy (&params);
    return NULL;
}

int
xs_xenapi_sr_forget (xs_xenapi_t *self, const char *sr, xs_err_t *err)
{
    return s_call_void (self, "SR.forget", S_STR (sr), err);
}

int
xs_xenapi_sr_scan (xs_xenapi_t *self, const char *sr, xs_err_t *err)
{
    return s_call_void (self, "SR.scan", S_STR (sr), err);
}

char *
xs_xenapi_sr_get_by_uuid (xs_xenapi_t *self, const char *uuid, xs_err_t *err)
{
    return s_call_ref (self, "SR.get_by_uuid", S_STR (uuid), err);
}

xs_value_t *
xs_xenapi_sr_get_record (xs_xenapi_t *self, const char *sr, xs_err_t *err)
{
    return s_call_typed (self, "SR.get_record", S_STR (sr), XS_VALUE_STRUCT, err);
}

xs_value_t *
xs_xenapi_sr_get_PBDs (xs_xenapi_t *self, const char *sr, xs_err_t *err)
{
    return s_call_typed (self, "SR.get_PBDs", S_STR (sr), XS_VALUE_ARRAY, err);
}

char *
xs_xenapi_pbd_create (xs_xenapi_t *self, const char *host, const char *sr,
                      const xs_value_t *device_config, const xs_value_t *other_config,
                      xs_err_t *err)
{
    const char *method = "PBD.create";
    xs_value_t *record = xs_value_struct_new ();
    xs_value_t *params = NULL;
    xs_value_set_str (record, "host", S_STR (host));
    xs_value_set_str (record, "SR", S_STR (sr));
    if (s_set_map (record, "device_config", device_config, method, err)
        || s_set_map (record, "other_config", other_config, method, err)) {
        xs_value_destroy (&record);
        return NULL;
    }
    params = xs_value_array_new ();
    xs_value_append (params, &record);
    return s_call_params_ref (self, method, &params, err);
}

int
xs_xenapi_pbd_plug (xs_xenapi_t *self, const char *pbd, xs_err_t *err)
{
    return s_call_void (self, "PBD.plug", S_STR (pbd), err);
}

int
xs_xenapi_pbd_unplug (xs_xenapi_t *self, const char *pbd, xs_err_t *err)
{
    return s_call_void (self, "PBD.unplug", S_STR (pbd), err);
}

int
xs_xenapi_pbd_destroy (xs_xenapi_t *self, const char *pbd, xs_err_t *err)
{
    return s_call_void (self, "PBD.destroy", S_STR (pbd), err);
}

xs_value_t *
xs_xenapi_pbd_get_record (xs_xenapi_t *self, const char *pbd, xs_err_t *err)
{
    return s_call_typed (self, "PBD.get_record", S_STR (pbd), XS_VALUE_STRUCT, err);
}

char *
xs_xenapi_vdi_create (xs_xenapi_t *self, const xs_xenapi_vdi_args_t *args, xs_err_t *err)
{
    const char *method = "VDI.create";
    char size [32];
    xs_value_t *record = xs_value_struct_new ();
    xs_value_t *params = NULL;
    xs_value_t *item = NULL;

    snprintf (size, sizeof size, "%" PRId64, args->virtual_size);
    xs_value_set_str (record, "name_label", S_STR (args->name_label));
    xs_value_set_str (record, "name_description", S_STR (args->name_description));
    xs_value_set_str (record, "SR", S_STR (args->sr));
    xs_value_set_str (record, "virtual_size", size);
    xs_value_set_str (record, "type", args->type ? args->type : "user");
    item = xs_value_bool_new (args->sharable);
    xs_value_set (record, "sharable", &item);
    item = xs_value_bool_new (args->read_only);
    xs_value_set (record, "read_only", &item);
    if (s_set_map (record, "other_config", args->other_config, method, err)
        || s_set_map (record, "xenstore_data", args->xenstore_data, method, err)
        || s_set_map (record, "sm_config", args->sm_config, method, err)) {
        xs_value_destroy (&record);
        return NULL;
    }
    item = xs_value_array_new ();
    xs_value_set (record, "tags", &item);
    params = xs_value_array_new ();
    xs_value_append (params, &record);
    return s_call_params_ref (self, method, &params, err);
}

int
xs_xenapi_vdi_destroy (xs_xenapi_t *self, const char *vdi, xs_err_t *err)
{
    return s_call_void (self, "VDI.destroy", S_STR (vdi), err);
}

/* VDI.clone / VDI.snapshot (vdi, driver_params). */
static char *
s_vdi_copy (xs_xenapi_t *self, const char *method, const char *vdi,
            const xs_value_t *driver_params, xs_err_t *err)
{
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, S_STR (vdi));
    if (s_append_map (params, driver_params, method, "driver_params", err)) {
        xs_value_destroy (&params);
        return NULL;
    }
    return s_call_params_ref (self, method, &params, err);
}

char *
xs_xenapi_vdi_clone (xs_xenapi_t *self, const char *vdi, const xs_value_t *driver_params,
                     xs_err_t *err)
{
    return s_vdi_copy (self, "VDI.clone", vdi, driver_params, err);
}

char *
xs_xenapi_vdi_snapshot (xs_xenapi_t *self, const char *vdi, const xs_value_t *driver_params,
                        xs_err_t *err)
{
    return s_vdi_copy (self, "VDI.snapshot", vdi, driver_params, err);
}

char *
xs_xenapi_vdi_get_by_uuid (xs_xenapi_t *self, const char *uuid, xs_err_t *err)
{
    return s_call_ref (self, "VDI.get_by_uuid", S_STR (uuid), err);
}

xs_value_t *
xs_xenapi_vdi_get_by_name_label (xs_xenapi_t *self, const char *label, xs_err_t *err)
{
    return s_call_typed (self, "VDI.get_by_name_label", S_STR (label), XS_VALUE_ARRAY, err);
}

xs_value_t *
xs_xenapi_vdi_get_record (xs_xenapi_t *self, const char *vdi, xs_err_t *err)
{
    return s_call_typed (self, "VDI.get_record", S_STR (vdi), XS_VALUE_STRUCT, err);
}

xs_value_t *
xs_xenapi_sm_get_all_records (xs_xenapi_t *self, xs_err_t *err)
{
    return s_call_typed (self, "SM.get_all_records", NULL, XS_VALUE_STRUCT, err);
}

/* ------------------------------------------------------------------ */
/*  Reading records                                                   */
/* ------------------------------------------------------------------ */

int
xs_xenapi_field_int64 (const xs_value_t *record, const char *field, int64_t *value_p,
                       xs_err_t *err)
{
    const xs_value_t *value = xs_value_get (record, field);
    if (!value)
        return xs_err_set (err, XS_EINVAL, "record has no field %s", field);
    if (xs_value_type (value) == XS_VALUE_INT) {
        *value_p = xs_value_int (value);
        return 0;
    }
    const char *text = xs_value_str (value);
    if (xs_value_type (value) != XS_VALUE_STRING || !*text)
        return xs_err_set (err, XS_EINVAL, "field %s is not a number", field);
    char *end = NULL;
    errno = 0;
    long long number = strtoll (text, &end, 10);
    if (errno || *end || end == text)
        return xs_err_set (err, XS_EINVAL, "field %s: '%.64s' is not a 64-bit number", field, text);
    *value_p = (int64_t) number;
    return 0;
}
