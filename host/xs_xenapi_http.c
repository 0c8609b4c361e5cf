/*  xs_xenapi_http: the XenAPI client's transport (see xs_xenapi_int.h):
    URLs, following a pool master, and one POST over libcurl per call. */
#include "xs_xenapi_int.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "xs_build_config.h"
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_xmlrpc.h"

#define S_UNIX_PREFIX "unix:"
#define S_UNIX_REQUEST_URL "http://localhost/"

struct _xs_http_t {
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

    char *reply;                /* response body being received           */
    size_t reply_len;
    size_t reply_cap;
    bool reply_too_big;
};

/* libcurl's global state, set up once per process. */
static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;
static CURLcode s_curl_init_rc = CURLE_OK;

static void
s_curl_global_init (void)
{
    s_curl_init_rc = curl_global_init (CURL_GLOBAL_DEFAULT);
}

/* ---------------------------------------------------------------------
   URLs
   --------------------------------------------------------------------- */

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
s_set_http_target (xs_http_t *self, CURLU **cu_p, xs_err_t *err)
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
s_set_target (xs_http_t *self, const char *url, xs_err_t *err)
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

int
xs_http_follow_master (xs_http_t *self, const char *master, xs_err_t *err)
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

/* ---------------------------------------------------------------------
   Life cycle and options
   --------------------------------------------------------------------- */

xs_http_t *
xs_http_new (const char *url, xs_err_t *err)
{
    xs_http_t *self = NULL;
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
    xs_http_destroy (&self);
    return NULL;
}

void
xs_http_destroy (xs_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_http_t *self = *self_p;
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
xs_http_set_timeouts (xs_http_t *self, long connect_ms, long total_ms)
{
    self->connect_ms = connect_ms > 0 ? connect_ms : XS_XENAPI_CONNECT_TIMEOUT_MS;
    self->total_ms = total_ms > 0 ? total_ms : XS_XENAPI_TIMEOUT_MS;
}

long
xs_http_total_timeout_ms (xs_http_t *self)
{
    return self->total_ms;
}

void
xs_http_cap_timeouts (xs_http_t *self, long connect_ms, long total_ms)
{
    xs_http_set_timeouts (self, self->connect_ms < connect_ms ? self->connect_ms : connect_ms,
                          self->total_ms < total_ms ? self->total_ms : total_ms);
}

void
xs_http_set_ca_file (xs_http_t *self, const char *path)
{
    free (self->ca_file);
    self->ca_file = path ? xs_strdup (path) : NULL;
}

void
xs_http_set_insecure (xs_http_t *self, bool insecure)
{
    if (insecure && !self->insecure)
        xs_warning ("xapi %s: TLS certificate verification is OFF (tests only)", self->url);
    self->insecure = insecure;
}

void
xs_http_set_user_agent (xs_http_t *self, const char *agent)
{
    free (self->user_agent);
    self->user_agent = agent ? xs_strdup (agent) : NULL;
}

const char *
xs_http_url (xs_http_t *self)
{
    return self->url;
}

/* ---------------------------------------------------------------------
   Transport: one POST, one XML-RPC value back
   --------------------------------------------------------------------- */

static size_t
s_on_data (char *data, size_t size, size_t nmemb, void *userp)
{
    xs_http_t *self = userp;
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

/* Set by xs_xenapi_interrupt_waits: event.from calls end at once. */
static int s_interrupt_waits;

void
xs_xenapi_interrupt_waits (bool on)
{
    __atomic_store_n (&s_interrupt_waits, on ? 1 : 0, __ATOMIC_SEQ_CST);
}

static int
s_on_progress (void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
               curl_off_t ulnow)
{
    return __atomic_load_n (&s_interrupt_waits, __ATOMIC_SEQ_CST) ? 1 : 0;
}

static CURLcode
s_setup_request (xs_http_t *self, const char *method, const char *body, size_t len)
{
    CURLcode rc = CURLE_OK;
    /* A long poll (event.from) can be ended by a stopping agent. */
    bool wait = strcmp (method, "event.from") == 0;
    S_SETOPT (CURLOPT_NOPROGRESS, wait ? 0L : 1L);
    S_SETOPT (CURLOPT_XFERINFOFUNCTION, wait ? s_on_progress : NULL);
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

xs_value_t *
xs_http_post (xs_http_t *self, const char *method, const char *body, size_t len, xs_err_t *err)
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
