/*  Unit tests for xs_http and xs_api over real sockets, with libcurl as the
    client: routing, Cinder's errors, microversions, oversized and malformed
    bodies, answers given later, a client that leaves before its answer,
    keep-alive, TLS with a certificate made by openssl, IPv6 ::1, absolute
    next links, and the noauth refusal off loopback.

    The server runs in a zactor (its own zloop); the test thread is the
    client. A route that is never answered reports its gone callback on a
    pipe, which the test reads with a time-out (no sleeping). */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "catalog/api/xs_api.h"

typedef struct {
    const char *listen;
    const char *cert, *key;
    const char *public_endpoint;
    int gone_pipe [2];
    int handled;                /* handler calls of POST /things */
} s_cfg_t;

/* The route handlers' arg. */
typedef struct {
    s_cfg_t cfg;
    zloop_t *loop;
} s_server_t;

/* ---------------------------------------------------------------------------
 *  Server routes
 * ------------------------------------------------------------------------- */

static void
s_echo (xs_api_req_t *req, void *arg)
{
    const xs_api_identity_t *id = xs_api_req_identity (req);
    char v [16];
    xs_api_reply_json (&req, 200, json_pack (
        "{s:s, s:s, s:s*, s:s*, s:s, s:s*, s:s*}", "project", id->project_id, "user", id->user_id,
        "url_project", xs_api_req_url_project (req), "q", xs_api_req_query (req, "q"),
        "version", xs_api_version_str (xs_api_req_version (req), v, sizeof v),
        "global", xs_api_req_global_id (req), "id", xs_api_req_param (req, "id")));
}

static void
s_things (xs_api_req_t *req, void *arg)
{
    s_cfg_t *cfg = (s_cfg_t *) arg;
    cfg->handled++;
    xs_api_reply_json (&req, 200, json_incref (xs_api_req_json (req)));
}

static int
s_on_later (zloop_t *loop, int timer_id, void *arg)
{
    xs_api_req_t *req = (xs_api_req_t *) arg;
    xs_api_reply_json (&req, 200, json_pack ("{s:b}", "later", 1));
    return 0;
}

static void
s_later (xs_api_req_t *req, void *arg)
{
    zloop_timer (((s_server_t *) arg)->loop, 20, 1, s_on_later, req);
}

static void
s_on_gone (void *arg)
{
    s_cfg_t *cfg = (s_cfg_t *) arg;
    if (write (cfg->gone_pipe [1], "g", 1) != 1)
        abort ();
}

static void
s_park (xs_api_req_t *req, void *arg)
{
    xs_api_req_on_gone (req, s_on_gone, arg);
}

static void
s_items (xs_api_req_t *req, void *arg)
{
    xs_api_page_t page;
    xs_err_t err;
    if (xs_api_req_page (req, &page, &err)) {
        xs_api_reply_err (&req, &err);
        return;
    }
    json_t *all = json_pack ("[{s:s},{s:s},{s:s}]", "id", "c", "id", "b", "id", "a");
    json_t *items = xs_api_page_array (all, &page, &err);
    json_decref (all);
    if (!items) {
        xs_api_reply_err (&req, &err);
        return;
    }
    json_t *reply = json_pack ("{s:O}", "items", items);
    size_t n = json_array_size (items);
    xs_api_req_next_link (req, reply, "items", "volumes/items", &page, n,
                          n ? json_string_value (json_object_get (json_array_get (items, n - 1),
                                                                  "id")) : NULL);
    json_decref (items);
    xs_api_reply_json (&req, 200, reply);
}

static void
s_quota (xs_api_req_t *req, void *arg)
{
    xs_api_reply_over_limit (&req, "Requested 5000G, quota is 1000G.");
}

static const xs_api_route_t s_routes [] = {
    XS_API_VERSION_ROUTES,
    {"GET", "/volumes/echo", s_echo, 0, "echo"},
    {"GET", "/volumes/{id}", s_echo, 0, "echo.id"},
    {"POST", "/volumes/things", s_things, XS_ROUTE_BODY, "things"},
    {"GET", "/volumes/later", s_later, 0, "later"},
    {"GET", "/volumes/park", s_park, 0, "park"},
    {"GET", "/volumes/items", s_items, 0, "items"},
    {"POST", "/volumes/quota", s_quota, 0, "quota"},
    {NULL, NULL, NULL, 0, NULL},
};


static int
s_on_pipe (zloop_t *loop, zsock_t *pipe, void *arg)
{
    char *cmd = zstr_recv (pipe);
    int rc = cmd && streq (cmd, "$TERM") ? -1 : 0;
    zstr_free (&cmd);
    return rc;
}

static void
s_server_actor (zsock_t *pipe, void *args)
{
    s_server_t *srv = (s_server_t *) args;
    zsock_signal (pipe, 0);     /* zactor_new waits for this */
    srv->loop = zloop_new ();
    xs_api_opts_t opts = {
        .http = {.listen = srv->cfg.listen, .cert_file = srv->cfg.cert,
                 .key_file = srv->cfg.key, .max_body = 1024},
        .public_endpoint = srv->cfg.public_endpoint,
    };
    xs_err_t err;
    xs_api_t *api = xs_api_new (srv->loop, &opts, s_routes, srv, &err);
    if (!api) {
        fprintf (stderr, "server: %s\n", err.msg);
        zsock_send (pipe, "i", 0);
        zloop_destroy (&srv->loop);
        return;
    }
    zsock_send (pipe, "i", (int) xs_api_port (api));
    zloop_reader (srv->loop, pipe, s_on_pipe, NULL);
    zloop_start (srv->loop);
    xs_api_destroy (&api);
    zloop_destroy (&srv->loop);
}

static zactor_t *
s_start (s_server_t *srv, int *port)
{
    zactor_t *actor = zactor_new (s_server_actor, srv);
    zsock_recv (actor, "i", port);
    return actor;
}

/* ---------------------------------------------------------------------------
 *  Client
 * ------------------------------------------------------------------------- */

typedef struct {
    long status;
    char *body;
    size_t len;
    char headers [4096];
} s_reply_t;

static size_t
s_on_body (char *data, size_t size, size_t n, void *arg)
{
    s_reply_t *r = (s_reply_t *) arg;
    r->body = realloc (r->body, r->len + size * n + 1);
    memcpy (r->body + r->len, data, size * n);
    r->len += size * n;
    r->body [r->len] = '\0';
    return size * n;
}

static size_t
s_on_header (char *data, size_t size, size_t n, void *arg)
{
    s_reply_t *r = (s_reply_t *) arg;
    strncat (r->headers, data, sizeof r->headers - strlen (r->headers) - 1);
    return size * n;
}

/* One request on handle (keeps its connection for the next). */
static CURLcode
s_call (CURL *c, const char *method, const char *url, const char *body, const char **headers,
        s_reply_t *r)
{
    memset (r, 0, sizeof *r);
    struct curl_slist *list = NULL;
    for (size_t i = 0; headers && headers [i]; i++)
        list = curl_slist_append (list, headers [i]);
    curl_easy_setopt (c, CURLOPT_URL, url);
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
    if (!body)
        curl_easy_setopt (c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (c, CURLOPT_HEADERDATA, r);
    CURLcode rc = curl_easy_perform (c);
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all (list);
    return rc;
}

static s_server_t s_srv;
static zactor_t *s_actor;
static char s_root [64];

static int
s_setup (void **state)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    memset (&s_srv, 0, sizeof s_srv);
    s_srv.cfg.listen = "127.0.0.1:0";
    if (pipe (s_srv.cfg.gone_pipe))
        return -1;
    int port = 0;
    s_actor = s_start (&s_srv, &port);
    snprintf (s_root, sizeof s_root, "http://127.0.0.1:%d", port);
    return port > 0 ? 0 : -1;
}

static int
s_teardown (void **state)
{
    zactor_destroy (&s_actor);
    close (s_srv.cfg.gone_pipe [0]);
    close (s_srv.cfg.gone_pipe [1]);
    curl_global_cleanup ();
    return 0;
}

static json_t *
s_json (const s_reply_t *r)
{
    json_t *j = json_loads (r->body ? r->body : "", 0, NULL);
    assert_non_null (j);
    return j;
}

static const char *
s_get (json_t *j, const char *a, const char *b)
{
    return json_string_value (json_object_get (b ? json_object_get (j, a) : j, b ? b : a));
}

static void
s_get_path (const char *path, const char **headers, s_reply_t *r)
{
    char url [256];
    snprintf (url, sizeof url, "%s%s", s_root, path);
    CURL *c = curl_easy_init ();
    assert_int_equal (s_call (c, "GET", url, NULL, headers, r), CURLE_OK);
    curl_easy_cleanup (c);
}

/* ---------------------------------------------------------------------------
 *  Tests
 * ------------------------------------------------------------------------- */

static void
test_version_documents (void **state)
{
    const char *h [] = {"OpenStack-API-Version: volume 3.99", NULL};
    s_reply_t r;
    s_get_path ("/", h, &r);
    assert_int_equal (r.status, 300);           /* lenient: cinderclient sends its max */
    assert_non_null (strstr (r.headers, "OpenStack-API-Version: volume 3.70"));
    assert_non_null (strstr (r.headers, "Vary: OpenStack-API-Version"));
    json_t *j = s_json (&r);
    json_t *v = json_array_get (json_object_get (j, "versions"), 0);
    assert_string_equal (s_get (v, "version", NULL), "3.70");
    assert_string_equal (s_get (v, "min_version", NULL), "3.0");
    char self [128];
    snprintf (self, sizeof self, "%s/v3/", s_root);
    assert_string_equal (s_get (json_array_get (json_object_get (v, "links"), 1), "href", NULL),
                         self);
    json_decref (j);
    free (r.body);
    s_get_path ("/v3", NULL, &r);
    assert_int_equal (r.status, 200);
    free (r.body);
    s_get_path ("/v3/", h, &r);
    assert_int_equal (r.status, 200);
    free (r.body);
}

static void
test_routes_and_identity (void **state)
{
    const char *h [] = {"X-Auth-Token: alice:proj9", "X-OpenStack-Request-ID: "
                        "req-6f4a2b3c-0000-4000-8000-00000000dead", NULL};
    s_reply_t r;
    s_get_path ("/v3/volumes/echo?q=a%20b", h, &r);
    assert_int_equal (r.status, 200);
    json_t *j = s_json (&r);
    assert_string_equal (s_get (j, "project", NULL), "proj9");
    assert_string_equal (s_get (j, "user", NULL), "alice");
    assert_null (s_get (j, "url_project", NULL));
    assert_string_equal (s_get (j, "q", NULL), "a b");
    assert_string_equal (s_get (j, "global", NULL), "req-6f4a2b3c-0000-4000-8000-00000000dead");
    /* our own id, never the caller's */
    assert_null (strstr (r.headers, "00000000dead"));
    assert_non_null (strstr (r.headers, "x-openstack-request-id: req-"));
    json_decref (j);
    free (r.body);
    s_get_path ("/v3/demo-project/volumes/a%20b", h, &r);
    j = s_json (&r);
    assert_string_equal (s_get (j, "project", NULL), "demo-project");
    assert_string_equal (s_get (j, "url_project", NULL), "demo-project");
    assert_string_equal (s_get (j, "id", NULL), "a b");        /* decoded by MHD */
    json_decref (j);
    free (r.body);
}

static void
test_errors_in_cinder_shape (void **state)
{
    s_reply_t r;
    s_get_path ("/v3/nothing/here/at/all", NULL, &r);
    assert_int_equal (r.status, 404);
    json_t *j = s_json (&r);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (j, "itemNotFound"),
                                                           "code")), 404);
    json_decref (j);
    free (r.body);
    assert_non_null (strstr (r.headers, "x-openstack-request-id: req-"));

    CURL *c = curl_easy_init ();
    char url [256];
    snprintf (url, sizeof url, "%s/v3/p/volumes/echo", s_root);
    assert_int_equal (s_call (c, "DELETE", url, NULL, NULL, &r), CURLE_OK);
    assert_int_equal (r.status, 405);
    assert_non_null (strstr (r.headers, "Allow: GET"));
    assert_non_null (strstr (r.body, "\"badMethod\""));
    free (r.body);

    const char *bad [] = {"OpenStack-API-Version: volume 3.x", NULL};
    s_get_path ("/v3/volumes/echo", bad, &r);
    assert_int_equal (r.status, 400);
    assert_non_null (strstr (r.body, "\"badRequest\""));
    free (r.body);
    const char *high [] = {"OpenStack-API-Version: volume 3.71", NULL};
    s_get_path ("/v3/volumes/echo", high, &r);
    assert_int_equal (r.status, 406);
    assert_non_null (strstr (r.body, "{\"computeFault\":{\"message\":\"Version 3.71 is not "
                                     "supported by the API. Minimum is 3.0 and maximum is "
                                     "3.70.\",\"code\":406}}"));
    free (r.body);
    const char *latest [] = {"OpenStack-API-Version: compute 2.1, volume latest", NULL};
    s_get_path ("/v3/volumes/echo", latest, &r);
    assert_non_null (strstr (r.body, "\"version\":\"3.70\""));
    assert_non_null (strstr (r.headers, "OpenStack-API-Version: volume 3.70"));
    free (r.body);

    snprintf (url, sizeof url, "%s/v3/p/volumes/quota", s_root);
    assert_int_equal (s_call (c, "POST", url, "", NULL, &r), CURLE_OK);
    assert_int_equal (r.status, 413);
    assert_non_null (strstr (r.headers, "Retry-After: 0"));
    assert_non_null (strstr (r.body, "\"retryAfter\":\"0\""));
    free (r.body);
    curl_easy_cleanup (c);
}

static void
test_bodies (void **state)
{
    CURL *c = curl_easy_init ();
    char url [256];
    snprintf (url, sizeof url, "%s/v3/p/volumes/things", s_root);
    const char *json [] = {"Content-Type: application/json", NULL};
    s_reply_t r;
    int before = s_srv.cfg.handled;
    assert_int_equal (s_call (c, "POST", url, "{\"thing\":{\"a\":1,\"b\":null}}", json, &r),
                      CURLE_OK);
    assert_int_equal (r.status, 200);
    assert_string_equal (r.body, "{\"thing\":{\"a\":1}}");     /* null = absent */
    free (r.body);
    /* malformed, not an object, wrong type: 400/415 and the handler never runs */
    assert_int_equal (s_call (c, "POST", url, "{\"thing\":", json, &r), CURLE_OK);
    assert_int_equal (r.status, 400);
    assert_non_null (strstr (r.body, "Malformed request body"));
    free (r.body);
    assert_int_equal (s_call (c, "POST", url, "[]", json, &r), CURLE_OK);
    assert_int_equal (r.status, 400);
    free (r.body);
    const char *xml [] = {"Content-Type: application/xml", NULL};
    assert_int_equal (s_call (c, "POST", url, "<a/>", xml, &r), CURLE_OK);
    assert_int_equal (r.status, 415);
    assert_non_null (strstr (r.body, "\"badMediaType\""));
    free (r.body);
    /* over the cap (1024 here): with a Content-Length, and chunked */
    char big [4096];
    memset (big, ' ', sizeof big - 1);
    big [0] = '{';
    big [sizeof big - 2] = '}';
    big [sizeof big - 1] = '\0';
    assert_int_equal (s_call (c, "POST", url, big, json, &r), CURLE_OK);
    assert_int_equal (r.status, 413);
    assert_non_null (strstr (r.body, "{\"overLimit\":{\"message\":\"Request is too large.\""));
    free (r.body);
    CURL *c2 = curl_easy_init ();
    const char *chunked [] = {"Content-Type: application/json", "Transfer-Encoding: chunked",
                              NULL};
    assert_int_equal (s_call (c2, "POST", url, big, chunked, &r), CURLE_OK);
    assert_int_equal (r.status, 413);
    free (r.body);
    /* and the connection still serves */
    assert_int_equal (s_call (c2, "POST", url, "{}", json, &r), CURLE_OK);
    assert_int_equal (r.status, 200);
    free (r.body);
    assert_int_equal (s_srv.cfg.handled, before + 2);
    curl_easy_cleanup (c2);
    curl_easy_cleanup (c);
}

static void
test_answer_later_and_keep_alive (void **state)
{
    CURL *c = curl_easy_init ();
    char url [256];
    snprintf (url, sizeof url, "%s/v3/p/volumes/later", s_root);
    s_reply_t r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal (s_call (c, "GET", url, NULL, NULL, &r), CURLE_OK);
        assert_int_equal (r.status, 200);
        assert_string_equal (r.body, "{\"later\":true}");
        free (r.body);
        long connects = -1;
        curl_easy_getinfo (c, CURLINFO_NUM_CONNECTS, &connects);
        assert_int_equal (connects, i == 0 ? 1 : 0);   /* one connection, reused */
    }
    curl_easy_cleanup (c);
}

static bool
s_wait_gone (int ms)
{
    struct pollfd p = {s_srv.cfg.gone_pipe [0], POLLIN, 0};
    if (poll (&p, 1, ms) != 1)
        return false;
    char g;
    return read (s_srv.cfg.gone_pipe [0], &g, 1) == 1;
}

static void
test_client_leaves_before_the_answer (void **state)
{
    CURL *c = curl_easy_init ();
    char url [256];
    snprintf (url, sizeof url, "%s/v3/p/volumes/park", s_root);
    curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, 300L);
    s_reply_t r;
    assert_int_equal (s_call (c, "GET", url, NULL, NULL, &r), CURLE_OPERATION_TIMEDOUT);
    free (r.body);
    curl_easy_cleanup (c);      /* closes the socket */
    assert_true (s_wait_gone (10000));
    s_get_path ("/v3/volumes/echo", NULL, &r);  /* still serving */
    assert_int_equal (r.status, 200);
    free (r.body);
}

static void
test_parked_requests_hear_of_shutdown (void **state)
{
    s_server_t srv;
    memset (&srv, 0, sizeof srv);
    srv.cfg.listen = "127.0.0.1:0";
    assert_int_equal (pipe (srv.cfg.gone_pipe), 0);
    int port = 0;
    zactor_t *actor = s_start (&srv, &port);
    CURLM *multi = curl_multi_init ();
    CURL *c = curl_easy_init ();
    char url [128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/v3/p/volumes/park", port);
    curl_easy_setopt (c, CURLOPT_URL, url);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_on_body);
    s_reply_t r = {0};
    curl_easy_setopt (c, CURLOPT_WRITEDATA, &r);
    curl_multi_add_handle (multi, c);
    /* drive the client until its request is in and parked: the server then
       has no more to read, and the client waits */
    int running = 1;
    for (int i = 0; i < 50 && running; i++) {
        curl_multi_perform (multi, &running);
        curl_multi_poll (multi, NULL, 0, 20, NULL);
    }
    zactor_destroy (&actor);    /* the server stops with the request parked */
    struct pollfd p = {srv.cfg.gone_pipe [0], POLLIN, 0};
    assert_int_equal (poll (&p, 1, 5000), 1);
    curl_multi_remove_handle (multi, c);
    curl_easy_cleanup (c);
    curl_multi_cleanup (multi);
    free (r.body);
    close (srv.cfg.gone_pipe [0]);
    close (srv.cfg.gone_pipe [1]);
}

static void
test_next_links (void **state)
{
    s_reply_t r;
    s_get_path ("/v3/proj1/volumes/items?limit=2&name=a%20b&marker=zz0", NULL, &r);
    assert_int_equal (r.status, 400);           /* unknown marker */
    free (r.body);
    s_get_path ("/v3/proj1/volumes/items?limit=2&name=a%20b", NULL, &r);
    json_t *j = s_json (&r);
    char want [256];
    snprintf (want, sizeof want, "%s/v3/proj1/volumes/items?limit=2&name=a%%20b&marker=b",
              s_root);
    json_t *link = json_array_get (json_object_get (j, "items_links"), 0);
    assert_string_equal (s_get (link, "rel", NULL), "next");
    assert_string_equal (s_get (link, "href", NULL), want);
    json_decref (j);
    free (r.body);
    s_get_path ("/v3/volumes/items?marker=b&limit=2", NULL, &r);
    assert_null (strstr (r.body, "items_links"));       /* a short page: the last */
    free (r.body);
    s_get_path ("/v3/volumes/items?limit=x", NULL, &r);
    assert_int_equal (r.status, 400);
    free (r.body);
}

static void
test_public_endpoint_in_links (void **state)
{
    s_server_t srv;
    memset (&srv, 0, sizeof srv);
    srv.cfg.listen = "127.0.0.1:0";
    srv.cfg.public_endpoint = "https://volumes.example.com:8776/v3/";
    int port = 0;
    zactor_t *actor = s_start (&srv, &port);
    char url [128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/v3/volumes/items?limit=1", port);
    CURL *c = curl_easy_init ();
    s_reply_t r;
    assert_int_equal (s_call (c, "GET", url, NULL, NULL, &r), CURLE_OK);
    assert_non_null (strstr (r.body, "\"https://volumes.example.com:8776/v3/volumes/items?"
                                     "limit=1&marker=c\""));
    free (r.body);
    snprintf (url, sizeof url, "http://127.0.0.1:%d/", port);
    assert_int_equal (s_call (c, "GET", url, NULL, NULL, &r), CURLE_OK);
    assert_non_null (strstr (r.body, "\"https://volumes.example.com:8776/v3/\""));
    free (r.body);
    curl_easy_cleanup (c);
    zactor_destroy (&actor);
}

static void
test_tls (void **state)
{
    char dir [] = "/tmp/xs-test-http-XXXXXX";
    assert_non_null (mkdtemp (dir));
    char cmd [1024], cert [128], key [128];
    snprintf (cert, sizeof cert, "%s/cert.pem", dir);
    snprintf (key, sizeof key, "%s/key.pem", dir);
    snprintf (cmd, sizeof cmd, "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s "
              "-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null",
              key, cert);
    assert_int_equal (system (cmd), 0);
    s_server_t srv;
    memset (&srv, 0, sizeof srv);
    srv.cfg.listen = "127.0.0.1:0";
    srv.cfg.cert = cert;
    srv.cfg.key = key;
    int port = 0;
    zactor_t *actor = s_start (&srv, &port);
    assert_true (port > 0);
    char url [128];
    snprintf (url, sizeof url, "https://127.0.0.1:%d/v3/", port);
    CURL *c = curl_easy_init ();
    curl_easy_setopt (c, CURLOPT_CAINFO, cert);
    s_reply_t r;
    assert_int_equal (s_call (c, "GET", url, NULL, NULL, &r), CURLE_OK);
    assert_int_equal (r.status, 200);
    char self [128];
    snprintf (self, sizeof self, "\"https://127.0.0.1:%d/v3/\"", port);
    assert_non_null (strstr (r.body, self));
    free (r.body);
    curl_easy_cleanup (c);
    c = curl_easy_init ();      /* no CA: the certificate is refused */
    assert_int_not_equal (s_call (c, "GET", url, NULL, NULL, &r), CURLE_OK);
    free (r.body);
    curl_easy_cleanup (c);
    zactor_destroy (&actor);
    /* a missing key, a non-PEM file: clear errors, no server */
    xs_err_t err;
    zloop_t *loop = zloop_new ();
    xs_api_opts_t opts = {.http = {.listen = "127.0.0.1:0", .cert_file = cert}};
    assert_null (xs_api_new (loop, &opts, s_routes, NULL, &err));
    assert_non_null (strstr (err.msg, "set both"));
    opts.http.key_file = "/etc/hostname";
    assert_null (xs_api_new (loop, &opts, s_routes, NULL, &err));
    assert_non_null (strstr (err.msg, "not a PEM file"));
    zloop_destroy (&loop);
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal (system (cmd), 0);
}

static void
test_ipv6_loopback (void **state)
{
    s_server_t srv;
    memset (&srv, 0, sizeof srv);
    srv.cfg.listen = "[::1]:0";
    int port = 0;
    zactor_t *actor = s_start (&srv, &port);
    assert_true (port > 0);
    char url [128];
    snprintf (url, sizeof url, "http://[::1]:%d/v3/p/volumes/echo", port);
    CURL *c = curl_easy_init ();
    s_reply_t r;
    assert_int_equal (s_call (c, "GET", url, NULL, NULL, &r), CURLE_OK);
    assert_int_equal (r.status, 200);
    free (r.body);
    curl_easy_cleanup (c);
    zactor_destroy (&actor);
}

static void
test_listen_addresses (void **state)
{
    struct sockaddr_storage ss;
    size_t len;
    xs_err_t err;
    assert_int_equal (xs_http_parse_listen ("127.0.0.1:8776", &ss, &len, &err), 0);
    assert_int_equal (xs_http_parse_listen ("[::1]:0", &ss, &len, &err), 0);
    assert_int_equal (xs_http_parse_listen ("localhost:8776", &ss, &len, &err), -1);
    assert_non_null (strstr (err.msg, "not a numeric IPv4 address"));
    assert_int_equal (xs_http_parse_listen ("127.0.0.1:65536", &ss, &len, &err), -1);
    assert_int_equal (xs_http_parse_listen ("127.0.0.1", &ss, &len, &err), -1);
    assert_int_equal (xs_http_parse_listen ("::1:80", &ss, &len, &err), -1);
    assert_int_equal (xs_http_parse_listen ("[::1]80", &ss, &len, &err), -1);
    assert_int_equal (xs_http_parse_listen ("", &ss, &len, &err), -1);
    assert_true (xs_http_listen_is_loopback ("127.0.0.1:1"));
    assert_true (xs_http_listen_is_loopback ("127.9.9.9:1"));
    assert_true (xs_http_listen_is_loopback ("[::1]:1"));
    assert_true (xs_http_listen_is_loopback ("[::ffff:127.0.0.1]:1"));
    assert_false (xs_http_listen_is_loopback ("0.0.0.0:1"));
    assert_false (xs_http_listen_is_loopback ("[::]:1"));
    assert_false (xs_http_listen_is_loopback ("10.0.0.1:1"));
    /* noauth off loopback: refused unless allowed */
    zloop_t *loop = zloop_new ();
    xs_api_opts_t opts = {.http = {.listen = "0.0.0.0:0"}};
    assert_null (xs_api_new (loop, &opts, s_routes, NULL, &err));
    assert_non_null (strstr (err.msg, "api_allow_insecure = true"));
    opts.allow_insecure = true;
    xs_api_t *api = xs_api_new (loop, &opts, s_routes, NULL, &err);
    assert_non_null (api);
    xs_api_destroy (&api);
    /* a port in use: named */
    opts.http.listen = "127.0.0.1:0";
    api = xs_api_new (loop, &opts, s_routes, NULL, &err);
    char busy [64];
    snprintf (busy, sizeof busy, "127.0.0.1:%u", (unsigned) xs_api_port (api));
    opts.http.listen = busy;
    assert_null (xs_api_new (loop, &opts, s_routes, NULL, &err));
    assert_non_null (strstr (err.msg, busy));
    xs_api_destroy (&api);
    zloop_destroy (&loop);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_version_documents),
        cmocka_unit_test (test_routes_and_identity),
        cmocka_unit_test (test_errors_in_cinder_shape),
        cmocka_unit_test (test_bodies),
        cmocka_unit_test (test_answer_later_and_keep_alive),
        cmocka_unit_test (test_client_leaves_before_the_answer),
        cmocka_unit_test (test_parked_requests_hear_of_shutdown),
        cmocka_unit_test (test_next_links),
        cmocka_unit_test (test_public_endpoint_in_links),
        cmocka_unit_test (test_tls),
        cmocka_unit_test (test_ipv6_loopback),
        cmocka_unit_test (test_listen_addresses),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
