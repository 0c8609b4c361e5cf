/*  xs_http: an HTTP/1.1 server (libmicrohttpd) driven by the caller's zloop. */
#include "xs_http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xs_log.h"
#include "xs_mem.h"

#define S_DEFAULT_MAX_BODY   (112 * 1024)      /* Cinder's osapi_max_request_body_size */
#define S_DEFAULT_MAX_CONN   1000
#define S_DEFAULT_IDLE_S     60
#define S_CONN_MEMORY        (64 * 1024)       /* headers of one request must fit */

typedef enum {
    S_RECEIVING,        /* headers in, body arriving                        */
    S_HANDLING,         /* inside the handler                               */
    S_PARKED,           /* suspended, waiting for its answer                */
    S_ANSWERED,         /* answer ready (queued or waiting to be queued)    */
    S_GONE              /* owner told it is gone: close without an answer   */
} s_state_t;

struct _xs_http_t {
    zloop_t *loop;
    struct MHD_Daemon *mhd;
    xs_http_handler_fn *handler;
    void *arg;
    int timer;                  /* zloop timer id, -1 when none armed        */
    int epoll_fd;
    int watch_epoll;            /* parked connections' fds (EOF watch), or -1 */
    size_t max_body;
    uint16_t port;
    bool tls;
    char *cert_pem;             /* MHD keeps pointers to these: freed last  */
    char *key_pem;
    zlistx_t *parked;           /* xs_http_req_t * waiting for an answer    */
};

struct _xs_http_req_t {
    xs_http_t *server;
    struct MHD_Connection *conn;
    const char *method;         /* MHD's, valid for the request             */
    const char *path;
    s_state_t state;
    char *body;
    size_t len, cap;
    bool too_large;
    char **headers;             /* name, value, name, value ...             */
    size_t nheaders;
    struct MHD_Response *response;
    unsigned status;
    xs_http_gone_fn *gone_fn;
    void *gone_arg;
    void *user;
    void *parked_handle;        /* our node in server->parked               */
    int watch_fd;               /* fd watched for EOF while parked, or -1   */
};

static void s_run (xs_http_t *self);
static void s_kick (xs_http_t *self);

/* ---------------------------------------------------------------------------
 *  Listen addresses
 * ------------------------------------------------------------------------- */

int
xs_http_parse_listen (const char *listen, void *addr, size_t *len, xs_err_t *err)
{
    if (!listen || !*listen)
        return xs_err_set (err, XS_EINVAL, "api_listen: empty (set host:port, or leave "
                           "the key out to turn the API off)");
    char host [INET6_ADDRSTRLEN + 1];
    const char *port_s = NULL;
    bool v6 = listen [0] == '[';
    if (v6) {
        const char *close = strchr (listen, ']');
        if (!close || close [1] != ':' || (size_t) (close - listen - 1) >= sizeof host)
            return xs_err_set (err, XS_EINVAL, "api_listen '%s': expected [ipv6]:port", listen);
        memcpy (host, listen + 1, (size_t) (close - listen - 1));
        host [close - listen - 1] = '\0';
        port_s = close + 2;
    }
    else {
        const char *colon = strrchr (listen, ':');
        if (!colon || (size_t) (colon - listen) >= sizeof host || strchr (listen, ':') != colon)
            return xs_err_set (err, XS_EINVAL, "api_listen '%s': expected a.b.c.d:port or "
                               "[ipv6]:port", listen);
        memcpy (host, listen, (size_t) (colon - listen));
        host [colon - listen] = '\0';
        port_s = colon + 1;
    }
    char *end = NULL;
    errno = 0;
    unsigned long port = strtoul (port_s, &end, 10);
    if (!*port_s || *end || errno || port > 65535 || *port_s == '-' || *port_s == '+')
        return xs_err_set (err, XS_EINVAL, "api_listen '%s': port must be 0-65535", listen);
    struct sockaddr_storage ss;
    memset (&ss, 0, sizeof ss);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons ((uint16_t) port);
        if (inet_pton (AF_INET6, host, &a->sin6_addr) != 1)
            return xs_err_set (err, XS_EINVAL, "api_listen '%s': '%s' is not a numeric IPv6 "
                               "address", listen, host);
        *len = sizeof *a;
    }
    else {
        struct sockaddr_in *a = (struct sockaddr_in *) &ss;
        a->sin_family = AF_INET;
        a->sin_port = htons ((uint16_t) port);
        if (inet_pton (AF_INET, host, &a->sin_addr) != 1)
            return xs_err_set (err, XS_EINVAL, "api_listen '%s': '%s' is not a numeric IPv4 "
                               "address", listen, host);
        *len = sizeof *a;
    }
    memcpy (addr, &ss, sizeof ss);
    return 0;
}

bool
xs_http_listen_is_loopback (const char *listen)
{
    struct sockaddr_storage ss;
    size_t len;
    if (xs_http_parse_listen (listen, &ss, &len, NULL))
        return false;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *) &ss;
        return (ntohl (a->sin_addr.s_addr) >> 24) == 127;
    }
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *) &ss;
    if (IN6_IS_ADDR_LOOPBACK (&a->sin6_addr))
        return true;
    return IN6_IS_ADDR_V4MAPPED (&a->sin6_addr) && a->sin6_addr.s6_addr [12] == 127;
}

/* ---------------------------------------------------------------------------
 *  Requests
 * ------------------------------------------------------------------------- */

static xs_http_req_t *
s_req_new (xs_http_t *self, struct MHD_Connection *conn, const char *url, const char *method)
{
    xs_http_req_t *req = xs_zalloc (sizeof *req);
    req->server = self;
    req->conn = conn;
    req->method = method;
    req->path = url;
    req->state = S_RECEIVING;
    req->watch_fd = -1;
    return req;
}

static void
s_unwatch (xs_http_req_t *req)
{
    if (req->watch_fd < 0)
        return;
    epoll_ctl (req->server->watch_epoll, EPOLL_CTL_DEL, req->watch_fd, NULL);
    req->watch_fd = -1;
}

static void
s_unpark (xs_http_req_t *req)
{
    s_unwatch (req);
    if (req->parked_handle) {
        zlistx_delete (req->server->parked, req->parked_handle);
        req->parked_handle = NULL;
    }
}

/* Plain HTTP only: a parked connection's socket is out of MHD's epoll set,
   so we look for the client's EOF ourselves. TLS records cannot be told
   from a close by peeking, so TLS clients are noticed when answering.
   The parked sockets share one epoll set, one poller of the loop: a zloop
   poller each made every park and answer rebuild the loop's poll set
   (with 32 parked creates, 15% of catalogd's CPU in the HTTP bench). */
static void
s_watch (xs_http_req_t *req)
{
    if (req->server->tls || !req->gone_fn || req->server->watch_epoll < 0)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info (req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = req};
    if (epoll_ctl (req->server->watch_epoll, EPOLL_CTL_ADD, ci->connect_fd, &ev) == 0)
        req->watch_fd = ci->connect_fd;
}

static void
s_tell_gone (xs_http_req_t *req, const char *why)
{
    s_unpark (req);
    req->state = S_GONE;
    if (req->gone_fn)
        req->gone_fn (req, req->gone_arg);
    else
        xs_error ("api: %s %s: %s, and its owner set no gone callback", req->method,
                  req->path, why);
}

/* Parked request req's socket is readable: EOF (or an error) means the
   client has gone. */
static void
s_check_gone (xs_http_req_t *req)
{
    char c;
    ssize_t n = recv (req->watch_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n > 0) {                /* a pipelined request: cannot tell, stop looking */
        s_unwatch (req);
        return;
    }
    xs_debug ("api: %s %s: client disconnected before the answer", req->method, req->path);
    s_tell_gone (req, "client disconnected before the answer");
    MHD_resume_connection (req->conn);     /* MHD closes it (we answer MHD_NO) */
    s_kick (req->server);
}

/* The parked sockets' epoll set is readable. Telling one request it is
   gone frees none (MHD closes it in its next run), so every event's
   request is alive while the batch is handled. */
static int
s_on_watch (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    xs_http_t *self = (xs_http_t *) arg;
    struct epoll_event events [64];
    int n = epoll_wait (self->watch_epoll, events, 64, 0);
    for (int i = 0; i < n; i++) {
        xs_http_req_t *req = (xs_http_req_t *) events [i].data.ptr;
        if (req->watch_fd >= 0)
            s_check_gone (req);
    }
    return 0;
}

static void
s_req_free (xs_http_req_t *req)
{
    if (req->state == S_HANDLING || req->state == S_PARKED)
        s_tell_gone (req, "connection closed before the answer");
    s_unpark (req);
    if (req->response)
        MHD_destroy_response (req->response);
    for (size_t i = 0; i < req->nheaders; i++)
        free (req->headers [i]);
    free (req->headers);
    free (req->body);
    free (req);
}

const char *xs_http_req_method (const xs_http_req_t *req) { return req->method; }
const char *xs_http_req_path (const xs_http_req_t *req) { return req->path; }
bool xs_http_req_too_large (const xs_http_req_t *req) { return req->too_large; }
bool xs_http_req_is_tls (const xs_http_req_t *req) { return req->server->tls; }
void xs_http_req_set_user (xs_http_req_t *req, void *user) { req->user = user; }
void *xs_http_req_user (const xs_http_req_t *req) { return req->user; }

const char *
xs_http_req_header (const xs_http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, name);
}

const char *
xs_http_req_query (const xs_http_req_t *req, const char *name)
{
    const char *value = NULL;
    if (MHD_lookup_connection_value_n (req->conn, MHD_GET_ARGUMENT_KIND, name, strlen (name),
                                       &value, NULL) != MHD_YES)
        return NULL;
    return value ? value : "";
}

typedef struct {
    xs_http_query_fn *fn;
    void *arg;
} s_each_t;

static enum MHD_Result
s_each_arg (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    s_each_t *each = (s_each_t *) cls;
    return each->fn (key, value, each->arg) ? MHD_NO : MHD_YES;
}

void
xs_http_req_query_each (const xs_http_req_t *req, xs_http_query_fn *fn, void *arg)
{
    s_each_t each = {fn, arg};
    MHD_get_connection_values (req->conn, MHD_GET_ARGUMENT_KIND, s_each_arg, &each);
}

const char *
xs_http_req_body (const xs_http_req_t *req, size_t *len)
{
    *len = req->len;
    return req->len ? req->body : NULL;
}

void
xs_http_req_on_gone (xs_http_req_t *req, xs_http_gone_fn *fn, void *arg)
{
    req->gone_fn = fn;
    req->gone_arg = arg;
    if (req->state == S_PARKED && req->watch_fd < 0)
        s_watch (req);
}

void
xs_http_req_add_header (xs_http_req_t *req, const char *name, const char *value)
{
    assert (req->state == S_HANDLING || req->state == S_PARKED);
    req->headers = xs_realloc (req->headers, (req->nheaders + 2) * sizeof *req->headers);
    req->headers [req->nheaders++] = xs_strdup (name);
    req->headers [req->nheaders++] = xs_strdup (value);
}

void
xs_http_answer (xs_http_req_t **req_p, unsigned status, const char *content_type,
                char *body, size_t len)
{
    assert (req_p && *req_p);
    xs_http_req_t *req = *req_p;
    *req_p = NULL;
    assert (req->state == S_HANDLING || req->state == S_PARKED);
    req->response = body
        ? xs_nn (MHD_create_response_from_buffer (len, body, MHD_RESPMEM_MUST_FREE))
        : xs_nn (MHD_create_response_from_buffer (0, (void *) "", MHD_RESPMEM_PERSISTENT));
    req->status = status;
    if (content_type)
        MHD_add_response_header (req->response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (size_t i = 0; i + 1 < req->nheaders; i += 2)
        if (MHD_add_response_header (req->response, req->headers [i], req->headers [i + 1])
            != MHD_YES)
            xs_warning ("api: header %s refused by libmicrohttpd", req->headers [i]);
    bool was_parked = req->state == S_PARKED;
    req->state = S_ANSWERED;
    if (was_parked) {
        s_unpark (req);
        MHD_resume_connection (req->conn);
        s_kick (req->server);   /* MHD runs next time round the loop */
    }
}

/* ---------------------------------------------------------------------------
 *  MHD callbacks
 * ------------------------------------------------------------------------- */

static void
s_collect (xs_http_req_t *req, const char *data, size_t size)
{
    if (req->too_large)
        return;                 /* discarded: the answer will be 413 */
    if (size > req->server->max_body - req->len) {
        req->too_large = true;
        free (req->body);
        req->body = NULL;
        req->len = req->cap = 0;
        return;
    }
    if (req->len + size > req->cap) {
        req->cap = req->cap ? req->cap : 4096;
        while (req->cap < req->len + size)
            req->cap *= 2;
        req->body = xs_realloc (req->body, req->cap);
    }
    memcpy (req->body + req->len, data, size);
    req->len += size;
}

/* After the handler or a resume: queue the answer, park, or close. */
static enum MHD_Result
s_settle (xs_http_req_t *req)
{
    if (req->state == S_GONE)
        return MHD_NO;          /* close the connection, no answer */
    if (req->state == S_ANSWERED && req->response) {
        struct MHD_Response *response = req->response;
        req->response = NULL;
        enum MHD_Result rc = MHD_queue_response (req->conn, req->status, response);
        MHD_destroy_response (response);
        return rc;
    }
    if (req->state == S_HANDLING) {
        req->state = S_PARKED;
        req->parked_handle = zlistx_add_end (req->server->parked, req);
        MHD_suspend_connection (req->conn);
        s_watch (req);
    }
    return MHD_YES;
}

static bool
s_declared_too_large (xs_http_t *self, struct MHD_Connection *conn)
{
    const char *cl = MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull (cl, &end, 10);
    return errno == ERANGE || (end != cl && n > self->max_body);
}

static enum MHD_Result
s_on_access (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
             const char *version, const char *upload_data, size_t *upload_data_size,
             void **con_cls)
{
    xs_http_t *self = (xs_http_t *) cls;
    xs_http_req_t *req = (xs_http_req_t *) *con_cls;
    if (!req) {
        req = s_req_new (self, conn, url, method);
        *con_cls = req;
        if (!s_declared_too_large (self, conn))
            return MHD_YES;     /* the body (if any) comes in the next calls */
        req->too_large = true;  /* answer now: MHD never reads the body      */
    }
    else if (req->state == S_RECEIVING && *upload_data_size) {
        s_collect (req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->state == S_RECEIVING) {
        req->state = S_HANDLING;
        self->handler (req, self->arg);
    }
    return s_settle (req);
}

static void
s_on_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
                enum MHD_RequestTerminationCode toe)
{
    xs_http_req_t *req = (xs_http_req_t *) *con_cls;
    *con_cls = NULL;
    if (!req)
        return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        xs_debug ("api: %s %s: connection ended before the answer was sent (%d)",
                  req->method, req->path, (int) toe);
    s_req_free (req);
}

/* libmicrohttpd's own log lines: its format, its arguments. */
__attribute__ ((format (printf, 2, 0)))
static void
s_on_mhd_log (void *cls, const char *fmt, va_list ap)
{
    if (!xs_log_enabled (XS_LOG_WARNING))
        return;
    char line [512];
    vsnprintf (line, sizeof line, fmt, ap);
    size_t n = strlen (line);
    while (n && (line [n - 1] == '\n' || line [n - 1] == '\r'))
        line [--n] = '\0';
    xs_warning ("api: libmicrohttpd: %s", line);
}

/* ---------------------------------------------------------------------------
 *  The loop: MHD's epoll fd as a poller, its time-out as a one-shot timer
 * ------------------------------------------------------------------------- */

static int s_on_timer (zloop_t *loop, int timer_id, void *arg);

static void
s_rearm (xs_http_t *self)
{
    if (self->timer >= 0) {
        zloop_timer_end (self->loop, self->timer);
        self->timer = -1;
    }
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (MHD_get_timeout (self->mhd, &ms) != MHD_YES)
        return;                 /* nothing timed: the epoll fd will wake us */
    if (ms > 3600 * 1000ULL)
        ms = 3600 * 1000ULL;
    self->timer = zloop_timer (self->loop, (size_t) ms, 1, s_on_timer, self);
}

/* Runs MHD at the next turn of the loop (after a resume: MHD's own wake-up
   through its epoll set is not relied on). Never from inside MHD_run. */
static void
s_kick (xs_http_t *self)
{
    if (self->timer >= 0)
        zloop_timer_end (self->loop, self->timer);
    self->timer = zloop_timer (self->loop, 0, 1, s_on_timer, self);
}

static void
s_run (xs_http_t *self)
{
    if (MHD_run (self->mhd) != MHD_YES)
        xs_warning ("api: libmicrohttpd run failed");
    s_rearm (self);
}

static int
s_on_timer (zloop_t *loop, int timer_id, void *arg)
{
    xs_http_t *self = (xs_http_t *) arg;
    self->timer = -1;           /* one-shot: zloop has dropped it */
    s_run (self);
    return 0;
}

static int
s_on_epoll (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    s_run ((xs_http_t *) arg);
    return 0;
}

/* ---------------------------------------------------------------------------
 *  Server
 * ------------------------------------------------------------------------- */

static char *
s_read_pem (const char *what, const char *path, xs_err_t *err)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        xs_err_set (err, XS_EINVAL, "%s '%s': %s", what, path, strerror (errno));
        return NULL;
    }
    char *text = NULL;
    size_t size = 0;
    FILE *mem = xs_nn (open_memstream (&text, &size));
    char buf [4096];
    size_t n;
    while ((n = fread (buf, 1, sizeof buf, f)) > 0 && size < 1024 * 1024)
        fwrite (buf, 1, n, mem);
    bool bad = ferror (f) != 0;
    fclose (f);
    fclose (mem);
    if (bad || size == 0 || !strstr (text, "-----BEGIN ")) {
        xs_err_set (err, XS_EINVAL, "%s '%s': %s", what, path,
                    bad ? "read error" : "not a PEM file");
        free (text);
        return NULL;
    }
    return text;
}

static int
s_load_tls (xs_http_t *self, const xs_http_opts_t *opts, xs_err_t *err)
{
    if (!opts->cert_file && !opts->key_file)
        return 0;
    if (!opts->cert_file || !opts->key_file)
        return xs_err_set (err, XS_EINVAL, "api_cert and api_key: set both for TLS, or neither");
    if (MHD_is_feature_supported (MHD_FEATURE_TLS) != MHD_YES)
        return xs_err_set (err, XS_EINVAL, "api_cert: this libmicrohttpd has no TLS support");
    self->cert_pem = s_read_pem ("api_cert", opts->cert_file, err);
    if (!self->cert_pem)
        return -1;
    self->key_pem = s_read_pem ("api_key", opts->key_file, err);
    if (!self->key_pem)
        return -1;
    self->tls = true;
    return 0;
}

static int
s_start (xs_http_t *self, const xs_http_opts_t *opts, xs_err_t *err)
{
    struct sockaddr_storage ss;
    size_t sslen;
    if (xs_http_parse_listen (opts->listen, &ss, &sslen, err))
        return -1;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (self->tls)
        flags |= MHD_USE_TLS;
    unsigned max_conn = opts->max_connections ? opts->max_connections : S_DEFAULT_MAX_CONN;
    unsigned idle = opts->idle_timeout_s ? opts->idle_timeout_s : S_DEFAULT_IDLE_S;
    struct MHD_OptionItem tls_opts [] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, self->cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, self->key_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    errno = 0;
    self->mhd = MHD_start_daemon (
        flags, 0, NULL, NULL, s_on_access, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_on_mhd_log, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss,
        MHD_OPTION_CONNECTION_LIMIT, max_conn,
        MHD_OPTION_CONNECTION_TIMEOUT, idle,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) S_CONN_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, s_on_completed, self,
        MHD_OPTION_ARRAY, self->tls ? tls_opts : tls_opts + 2,
        MHD_OPTION_END);
    if (!self->mhd)
        return xs_err_set (err, XS_ETRANSPORT, "api_listen %s: cannot serve HTTP%s there%s%s "
                           "(is the address local and the port free?)", opts->listen,
                           self->tls ? "S" : "", errno ? ": " : "", errno ? strerror (errno) : "");
    const union MHD_DaemonInfo *di = MHD_get_daemon_info (self->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *pi = MHD_get_daemon_info (self->mhd, MHD_DAEMON_INFO_BIND_PORT);
    if (!di || !pi)
        return xs_err_set (err, XS_EINTERNAL, "api: libmicrohttpd gave no epoll fd or port");
    self->epoll_fd = di->epoll_fd;
    self->port = pi->port;
    zmq_pollitem_t item = {NULL, self->epoll_fd, ZMQ_POLLIN, 0};
    if (zloop_poller (self->loop, &item, s_on_epoll, self))
        return xs_err_set (err, XS_EINTERNAL, "api: cannot watch libmicrohttpd's epoll fd");
    zloop_poller_set_tolerant (self->loop, &item);
    if (!self->tls) {
        self->watch_epoll = epoll_create1 (EPOLL_CLOEXEC);
        zmq_pollitem_t watch = {NULL, self->watch_epoll, ZMQ_POLLIN, 0};
        if (self->watch_epoll < 0 || zloop_poller (self->loop, &watch, s_on_watch, self))
            return xs_err_set (err, XS_EINTERNAL, "api: cannot watch parked connections: %s",
                               strerror (errno));
        zloop_poller_set_tolerant (self->loop, &watch);
    }
    s_rearm (self);
    return 0;
}

xs_http_t *
xs_http_new (zloop_t *loop, const xs_http_opts_t *opts, xs_http_handler_fn *handler,
             void *arg, xs_err_t *err)
{
    xs_http_t *self = xs_zalloc (sizeof *self);
    self->loop = loop;
    self->handler = handler;
    self->arg = arg;
    self->timer = -1;
    self->epoll_fd = -1;
    self->watch_epoll = -1;
    self->max_body = opts->max_body ? opts->max_body : S_DEFAULT_MAX_BODY;
    self->parked = xs_nn (zlistx_new ());
    if (s_load_tls (self, opts, err) || s_start (self, opts, err))
        xs_http_destroy (&self);
    return self;
}

void
xs_http_destroy (xs_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_http_t *self = *self_p;
    if (self->mhd) {
        /* MHD must not be stopped with suspended connections: tell their
           owners, then resume them so MHD closes them. */
        xs_http_req_t *req;
        while ((req = (xs_http_req_t *) zlistx_first (self->parked))) {
            s_tell_gone (req, "server shutting down before the answer");
            MHD_resume_connection (req->conn);
        }
        MHD_run (self->mhd);
        if (self->epoll_fd >= 0) {
            zmq_pollitem_t item = {NULL, self->epoll_fd, ZMQ_POLLIN, 0};
            zloop_poller_end (self->loop, &item);
        }
        MHD_stop_daemon (self->mhd);
    }
    if (self->watch_epoll >= 0) {
        zmq_pollitem_t item = {NULL, self->watch_epoll, ZMQ_POLLIN, 0};
        zloop_poller_end (self->loop, &item);
        close (self->watch_epoll);
    }
    if (self->timer >= 0)
        zloop_timer_end (self->loop, self->timer);
    zlistx_destroy (&self->parked);
    free (self->cert_pem);
    free (self->key_pem);
    free (self);
    *self_p = NULL;
}

uint16_t xs_http_port (const xs_http_t *self) { return self->port; }
bool xs_http_is_tls (const xs_http_t *self) { return self->tls; }
size_t xs_http_parked (const xs_http_t *self) { return zlistx_size (self->parked); }
