/*  xs_keystone: Keystone token validation on libcurl multi inside a zloop. */
#include "xs_keystone.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "xs_log.h"
#include "xs_mem.h"

#define S_CACHE_MAX   10000
#define S_BODY_MAX    (1024 * 1024)
#define S_HASH_HEX    (crypto_hash_sha256_BYTES * 2 + 1)

typedef struct _s_pending_t s_pending_t;

struct _xs_keystone_wait_t {
    s_pending_t *pending;
    xs_keystone_fn *fn;
    void *arg;
};

/* One token being validated, with everyone waiting for it. */
struct _s_pending_t {
    char hash [S_HASH_HEX];
    char *token;
    zlistx_t *waiters;          /* xs_keystone_wait_t *                    */
    bool retried;               /* already re-logged in once for it        */
    bool in_call;
};

typedef enum { S_CALL_VALIDATE, S_CALL_LOGIN } s_call_kind_t;

/* One HTTP call in flight. */
typedef struct {
    s_call_kind_t kind;
    s_pending_t *pending;       /* validate: the token's entry              */
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    size_t len;
    char *subject;              /* login: X-Subject-Token of the answer     */
    char *request;
} s_call_t;

typedef struct {
    xs_keystone_token_t token;
    int64_t until_ms;           /* zclock_mono deadline                     */
} s_cached_t;

struct _xs_keystone_t {
    zloop_t *loop;
    CURLM *multi;
    int timer;
    char *base;                 /* ".../v3" without a trailing slash        */
    char *www_auth;
    char *login_body;
    char *cafile;
    unsigned cache_s, timeout_ms;
    char *service_token;
    bool login_in_call;
    zhashx_t *pending;          /* hash -> s_pending_t *                    */
    zlistx_t *after_login;      /* s_pending_t * waiting for a login        */
    zhashx_t *cache;            /* hash -> s_cached_t *                     */
    zlistx_t *calls;            /* s_call_t *                               */
    uint64_t validations, logins, hits;
};

static void s_validate_start (xs_keystone_t *self, s_pending_t *p);
static int s_on_curl_socket (CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp);
static int s_on_curl_timer (CURLM *multi, long timeout_ms, void *userp);
static void s_login_start (xs_keystone_t *self);

/* ---------------------------------------------------------------------------
 *  Construction
 * ------------------------------------------------------------------------- */

static void
s_pending_free (void **item)
{
    s_pending_t *p = (s_pending_t *) *item;
    if (!p)
        return;
    xs_keystone_wait_t *w;
    while ((w = (xs_keystone_wait_t *) zlistx_detach (p->waiters, NULL)))
        free (w);
    zlistx_destroy (&p->waiters);
    if (p->token)
        sodium_memzero (p->token, strlen (p->token));
    free (p->token);
    free (p);
    *item = NULL;
}

static void
s_cached_free (void **item)
{
    free (*item);
    *item = NULL;
}

static char *
s_login_body (const xs_keystone_opts_t *opts)
{
    json_t *auth = xs_nn (json_pack (
        "{s:{s:{s:[s], s:{s:{s:s, s:{s:s}, s:s}}}, s:{s:{s:s, s:{s:s}}}}}",
        "auth", "identity", "methods", "password", "password", "user",
        "name", opts->user, "domain", "name", opts->user_domain ? opts->user_domain : "Default",
        "password", opts->password, "scope", "project", "name", opts->project,
        "domain", "name", opts->project_domain ? opts->project_domain : "Default"));
    char *text = xs_nn (json_dumps (auth, JSON_COMPACT));
    json_decref (auth);
    return text;
}

xs_keystone_t *
xs_keystone_new (zloop_t *loop, const xs_keystone_opts_t *opts, xs_err_t *err)
{
    if (!opts->url || !opts->user || !opts->password || !opts->project) {
        xs_err_set (err, XS_EINVAL, "keystone: set keystone_url, keystone_user, "
                    "keystone_password and keystone_project for api_auth = keystone");
        return NULL;
    }
    if (strncmp (opts->url, "http://", 7) && strncmp (opts->url, "https://", 8)) {
        xs_err_set (err, XS_EINVAL, "keystone_url '%s': must start with http:// or https://",
                    opts->url);
        return NULL;
    }
    if (sodium_init () < 0 || curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        xs_err_set (err, XS_EINTERNAL, "keystone: cannot initialise libsodium or libcurl");
        return NULL;
    }
    xs_keystone_t *self = xs_zalloc (sizeof *self);
    self->loop = loop;
    self->timer = -1;
    size_t n = strlen (opts->url);
    while (n && opts->url [n - 1] == '/')
        n--;
    bool has_v3 = n >= 3 && strncmp (opts->url + n - 3, "/v3", 3) == 0;
    self->base = has_v3 ? xs_strndup (opts->url, n) : xs_sprintf ("%.*s/v3", (int) n, opts->url);
    self->www_auth = xs_sprintf ("Keystone uri=\"%s\"",
                                 opts->public_url ? opts->public_url : opts->url);
    self->login_body = s_login_body (opts);
    self->cafile = xs_strdup (opts->cafile);
    self->cache_s = opts->cache_s && opts->cache_s <= 300 ? opts->cache_s : 300;
    self->timeout_ms = opts->timeout_ms ? opts->timeout_ms : 10000;
    self->multi = xs_nn (curl_multi_init ());
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETFUNCTION, s_on_curl_socket);
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERFUNCTION, s_on_curl_timer);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERDATA, self);
    self->pending = xs_nn (zhashx_new ());     /* values freed by us: s_pending_free */
    self->after_login = xs_nn (zlistx_new ());
    self->cache = xs_nn (zhashx_new ());
    zhashx_set_destructor (self->cache, s_cached_free);
    self->calls = xs_nn (zlistx_new ());
    return self;
}

static void
s_call_free (xs_keystone_t *self, s_call_t *call)
{
    curl_multi_remove_handle (self->multi, call->easy);
    curl_easy_cleanup (call->easy);
    curl_slist_free_all (call->headers);
    free (call->body);
    free (call->subject);
    free (call->request);
    free (call);
}

void
xs_keystone_destroy (xs_keystone_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_keystone_t *self = *self_p;
    s_call_t *call;
    while ((call = (s_call_t *) zlistx_detach (self->calls, NULL)))
        s_call_free (self, call);
    if (self->timer >= 0)
        zloop_timer_end (self->loop, self->timer);
    curl_multi_cleanup (self->multi);   /* its socket callback ends our pollers */
    zlistx_destroy (&self->after_login);
    for (void *p = zhashx_first (self->pending); p; p = zhashx_next (self->pending))
        s_pending_free (&p);
    zhashx_destroy (&self->pending);
    zhashx_destroy (&self->cache);
    zlistx_destroy (&self->calls);
    if (self->service_token)
        sodium_memzero (self->service_token, strlen (self->service_token));
    free (self->service_token);
    sodium_memzero (self->login_body, strlen (self->login_body));
    free (self->login_body);
    free (self->base);
    free (self->www_auth);
    free (self->cafile);
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------------
 *  libcurl in the zloop: its sockets as pollers, its timer as a zloop timer
 * ------------------------------------------------------------------------- */

static void s_check_done (xs_keystone_t *self);

static int
s_on_socket_ready (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    xs_keystone_t *self = (xs_keystone_t *) arg;
    int mask = ((item->revents & ZMQ_POLLIN) ? CURL_CSELECT_IN : 0)
             | ((item->revents & ZMQ_POLLOUT) ? CURL_CSELECT_OUT : 0)
             | ((item->revents & ZMQ_POLLERR) ? CURL_CSELECT_ERR : 0);
    int running = 0;
    curl_multi_socket_action (self->multi, item->fd, mask, &running);
    s_check_done (self);
    return 0;
}

static int
s_on_curl_socket (CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    xs_keystone_t *self = (xs_keystone_t *) userp;
    zmq_pollitem_t item = {NULL, fd, 0, 0};
    zloop_poller_end (self->loop, &item);
    if (what == CURL_POLL_REMOVE)
        return 0;
    item.events = (short) (((what & CURL_POLL_IN) ? ZMQ_POLLIN : 0)
                         | ((what & CURL_POLL_OUT) ? ZMQ_POLLOUT : 0));
    if (zloop_poller (self->loop, &item, s_on_socket_ready, self))
        return -1;
    zloop_poller_set_tolerant (self->loop, &item);
    return 0;
}

static int
s_on_timer (zloop_t *loop, int timer_id, void *arg)
{
    xs_keystone_t *self = (xs_keystone_t *) arg;
    self->timer = -1;
    int running = 0;
    curl_multi_socket_action (self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    s_check_done (self);
    return 0;
}

static int
s_on_curl_timer (CURLM *multi, long timeout_ms, void *userp)
{
    xs_keystone_t *self = (xs_keystone_t *) userp;
    if (self->timer >= 0) {
        zloop_timer_end (self->loop, self->timer);
        self->timer = -1;
    }
    if (timeout_ms >= 0)
        self->timer = zloop_timer (self->loop, (size_t) timeout_ms, 1, s_on_timer, self);
    return 0;
}

static size_t
s_on_body (char *data, size_t size, size_t nmemb, void *userp)
{
    s_call_t *call = (s_call_t *) userp;
    size_t n = size * nmemb;
    if (call->len + n > S_BODY_MAX)
        return 0;               /* libcurl fails the transfer */
    call->body = xs_realloc (call->body, call->len + n + 1);
    memcpy (call->body + call->len, data, n);
    call->len += n;
    call->body [call->len] = '\0';
    return n;
}

static size_t
s_on_header (char *data, size_t size, size_t nmemb, void *userp)
{
    s_call_t *call = (s_call_t *) userp;
    size_t n = size * nmemb;
    static const char name [] = "x-subject-token:";
    if (n > sizeof name && strncasecmp (data, name, sizeof name - 1) == 0) {
        const char *v = data + sizeof name - 1;
        size_t vlen = n - (sizeof name - 1);
        while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen && (v [vlen - 1] == '\r' || v [vlen - 1] == '\n' || v [vlen - 1] == ' '))
            vlen--;
        free (call->subject);
        call->subject = xs_strndup (v, vlen);
    }
    return n;
}

static s_call_t *
s_call_new (xs_keystone_t *self, s_call_kind_t kind, const char *url)
{
    s_call_t *call = xs_zalloc (sizeof *call);
    call->kind = kind;
    call->easy = xs_nn (curl_easy_init ());
    CURL *e = call->easy;
    curl_easy_setopt (e, CURLOPT_URL, url);
    curl_easy_setopt (e, CURLOPT_PRIVATE, call);
    curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (e, CURLOPT_WRITEDATA, call);
    curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (e, CURLOPT_HEADERDATA, call);
    curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, (long) self->timeout_ms);
    curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (self->cafile)
        curl_easy_setopt (e, CURLOPT_CAINFO, self->cafile);
    call->headers = curl_slist_append (NULL, "Accept: application/json");
    return call;
}

static void
s_call_go (xs_keystone_t *self, s_call_t *call)
{
    curl_easy_setopt (call->easy, CURLOPT_HTTPHEADER, call->headers);
    zlistx_add_end (self->calls, call);
    if (curl_multi_add_handle (self->multi, call->easy) != CURLM_OK)
        xs_error ("keystone: libcurl refused a call to %s", self->base);
}

/* ---------------------------------------------------------------------------
 *  Answers
 * ------------------------------------------------------------------------- */

static void
s_finish (xs_keystone_t *self, s_pending_t *p, xs_ks_result_t result,
          const xs_keystone_token_t *token, const char *why)
{
    zhashx_delete (self->pending, p->hash);
    void *handle = zlistx_find (self->after_login, p);
    if (handle)
        zlistx_delete (self->after_login, handle);
    xs_keystone_wait_t *w;
    while ((w = (xs_keystone_wait_t *) zlistx_detach (p->waiters, NULL))) {
        xs_keystone_fn *fn = w->fn;
        void *arg = w->arg;
        free (w);
        fn (arg, result, token, why);
    }
    void *item = p;
    s_pending_free (&item);
}

static int64_t
s_parse_time (const char *iso)
{
    struct tm tm;
    memset (&tm, 0, sizeof tm);
    if (!iso || !strptime (iso, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return (int64_t) timegm (&tm);
}

static void
s_copy (char *dst, size_t size, const char *src)
{
    snprintf (dst, size, "%s", src ? src : "");
}

/* Reads Keystone's token document; -1 when it lacks a user or project. */
static int
s_read_token (const char *body, xs_keystone_token_t *t)
{
    memset (t, 0, sizeof *t);
    json_t *root = body ? json_loads (body, 0, NULL) : NULL;
    json_t *tok = json_object_get (root, "token");
    json_t *user = json_object_get (tok, "user");
    json_t *project = json_object_get (tok, "project");
    const char *uid = json_string_value (json_object_get (user, "id"));
    const char *pid = json_string_value (json_object_get (project, "id"));
    int rc = -1;
    if (uid && pid && strlen (uid) < sizeof t->user_id && strlen (pid) < sizeof t->project_id) {
        s_copy (t->user_id, sizeof t->user_id, uid);
        s_copy (t->project_id, sizeof t->project_id, pid);
        s_copy (t->user_name, sizeof t->user_name,
                json_string_value (json_object_get (user, "name")));
        s_copy (t->project_name, sizeof t->project_name,
                json_string_value (json_object_get (project, "name")));
        t->expires_at = s_parse_time (json_string_value (json_object_get (tok, "expires_at")));
        size_t i;
        json_t *role;
        json_array_foreach (json_object_get (tok, "roles"), i, role) {
            const char *name = json_string_value (json_object_get (role, "name"));
            if (name && strcmp (name, "admin") == 0)
                t->is_admin = true;
        }
        rc = 0;
    }
    json_decref (root);
    return rc;
}

static void
s_cache_put (xs_keystone_t *self, const char *hash, const xs_keystone_token_t *t)
{
    int64_t now_ms = zclock_mono ();
    int64_t ttl_ms = (int64_t) self->cache_s * 1000;
    if (t->expires_at) {
        int64_t left_ms = (t->expires_at - (int64_t) time (NULL)) * 1000;
        if (left_ms < ttl_ms)
            ttl_ms = left_ms;
    }
    if (ttl_ms <= 0)
        return;
    if (zhashx_size (self->cache) >= S_CACHE_MAX)
        zhashx_purge (self->cache);     /* crude but bounded: refill from Keystone */
    s_cached_t *c = xs_zalloc (sizeof *c);
    c->token = *t;
    c->until_ms = now_ms + ttl_ms;
    zhashx_update (self->cache, hash, c);
}

static void
s_validated (xs_keystone_t *self, s_call_t *call, long status, CURLcode rc)
{
    s_pending_t *p = call->pending;
    p->in_call = false;
    self->validations++;
    if (rc != CURLE_OK) {
        char why [256];
        snprintf (why, sizeof why, "Keystone at %s unreachable: %s", self->base,
                  curl_easy_strerror (rc));
        s_finish (self, p, XS_KS_UNAVAILABLE, NULL, why);
    }
    else if (status == 200) {
        xs_keystone_token_t t;
        if (s_read_token (call->body, &t))
            s_finish (self, p, XS_KS_UNAVAILABLE, NULL, "Keystone's token document has no "
                      "user or project id");
        else {
            s_cache_put (self, p->hash, &t);
            s_finish (self, p, XS_KS_VALID, &t, NULL);
        }
    }
    else if (status == 404)
        s_finish (self, p, XS_KS_INVALID, NULL, "The token is not valid (unknown, expired or "
                  "revoked)");
    else if (status == 401 && !p->retried) {
        p->retried = true;      /* our service token expired: log in again, once */
        free (self->service_token);
        self->service_token = NULL;
        s_validate_start (self, p);
    }
    else {
        char why [128];
        snprintf (why, sizeof why, "Keystone answered HTTP %ld to a token validation", status);
        s_finish (self, p, XS_KS_UNAVAILABLE, NULL, why);
    }
}

static void
s_logged_in (xs_keystone_t *self, s_call_t *call, long status, CURLcode rc)
{
    self->login_in_call = false;
    self->logins++;
    char why [256] = "";
    if (rc != CURLE_OK)
        snprintf (why, sizeof why, "Keystone at %s unreachable: %s", self->base,
                  curl_easy_strerror (rc));
    else if (status != 201 || !call->subject || !*call->subject)
        snprintf (why, sizeof why, "the service user cannot log in to Keystone (HTTP %ld): "
                  "check keystone_user, keystone_password and keystone_project", status);
    else {
        free (self->service_token);
        self->service_token = call->subject;
        call->subject = NULL;
    }
    s_pending_t *p;
    while ((p = (s_pending_t *) zlistx_detach (self->after_login, NULL))) {
        if (*why)
            s_finish (self, p, XS_KS_UNAVAILABLE, NULL, why);
        else
            s_validate_start (self, p);
    }
    if (*why)
        xs_error ("keystone: %s", why);
}

static void
s_check_done (xs_keystone_t *self)
{
    CURLMsg *msg;
    int left = 0;
    while ((msg = curl_multi_info_read (self->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        s_call_t *call = NULL;
        curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &call);
        CURLcode rc = msg->data.result;
        long status = 0;
        curl_easy_getinfo (msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        void *handle = zlistx_find (self->calls, call);
        if (handle)
            zlistx_detach (self->calls, handle);
        if (call->kind == S_CALL_VALIDATE)
            s_validated (self, call, status, rc);
        else
            s_logged_in (self, call, status, rc);
        s_call_free (self, call);
    }
}

/* ---------------------------------------------------------------------------
 *  Calls
 * ------------------------------------------------------------------------- */

static void
s_login_start (xs_keystone_t *self)
{
    if (self->login_in_call)
        return;
    self->login_in_call = true;
    char *url = xs_sprintf ("%s/auth/tokens?nocatalog", self->base);
    s_call_t *call = s_call_new (self, S_CALL_LOGIN, url);
    free (url);
    call->headers = curl_slist_append (call->headers, "Content-Type: application/json");
    curl_easy_setopt (call->easy, CURLOPT_POSTFIELDS, self->login_body);
    s_call_go (self, call);
}

static void
s_validate_start (xs_keystone_t *self, s_pending_t *p)
{
    if (!self->service_token) {
        if (!zlistx_find (self->after_login, p))
            zlistx_add_end (self->after_login, p);
        s_login_start (self);
        return;
    }
    char *url = xs_sprintf ("%s/auth/tokens?nocatalog", self->base);
    s_call_t *call = s_call_new (self, S_CALL_VALIDATE, url);
    free (url);
    call->pending = p;
    char *h = xs_sprintf ("X-Auth-Token: %s", self->service_token);
    call->headers = curl_slist_append (call->headers, h);
    sodium_memzero (h, strlen (h));
    free (h);
    h = xs_sprintf ("X-Subject-Token: %s", p->token);
    call->headers = curl_slist_append (call->headers, h);
    sodium_memzero (h, strlen (h));
    free (h);
    p->in_call = true;
    s_call_go (self, call);
}

static void
s_hash (const char *token, char hex [S_HASH_HEX])
{
    unsigned char digest [crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (digest, (const unsigned char *) token, strlen (token));
    sodium_bin2hex (hex, S_HASH_HEX, digest, sizeof digest);
}

xs_keystone_wait_t *
xs_keystone_validate (xs_keystone_t *self, const char *token, xs_keystone_fn *fn, void *arg)
{
    char hash [S_HASH_HEX];
    s_hash (token, hash);
    s_cached_t *c = (s_cached_t *) zhashx_lookup (self->cache, hash);
    if (c && c->until_ms > zclock_mono ()) {
        self->hits++;
        xs_keystone_token_t t = c->token;
        fn (arg, XS_KS_VALID, &t, NULL);
        return NULL;
    }
    if (c)
        zhashx_delete (self->cache, hash);
    s_pending_t *p = (s_pending_t *) zhashx_lookup (self->pending, hash);
    bool fresh = !p;
    if (fresh) {
        p = xs_zalloc (sizeof *p);
        memcpy (p->hash, hash, sizeof hash);
        p->token = xs_strdup (token);
        p->waiters = xs_nn (zlistx_new ());
        zhashx_insert (self->pending, hash, p);
    }
    xs_keystone_wait_t *w = xs_zalloc (sizeof *w);
    w->pending = p;
    w->fn = fn;
    w->arg = arg;
    zlistx_add_end (p->waiters, w);
    if (fresh)
        s_validate_start (self, p);
    return w;
}

void
xs_keystone_cancel (xs_keystone_t *self, xs_keystone_wait_t **wait_p)
{
    if (!wait_p || !*wait_p)
        return;
    xs_keystone_wait_t *w = *wait_p;
    void *handle = zlistx_find (w->pending->waiters, w);
    if (handle)
        zlistx_delete (w->pending->waiters, handle);
    free (w);                   /* the call goes on: its answer is cached */
    *wait_p = NULL;
}

const char *xs_keystone_www_authenticate (const xs_keystone_t *self) { return self->www_auth; }
uint64_t xs_keystone_validations (const xs_keystone_t *self) { return self->validations; }
uint64_t xs_keystone_logins (const xs_keystone_t *self) { return self->logins; }
uint64_t xs_keystone_cache_hits (const xs_keystone_t *self) { return self->hits; }
void xs_keystone_flush (xs_keystone_t *self) { zhashx_purge (self->cache); }
