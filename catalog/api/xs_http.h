/*  xs_http: an HTTP/1.1 server (libmicrohttpd) driven by the caller's zloop.

    MHD runs without a thread of its own, in epoll mode: its epoll fd is a
    zloop poller and a zloop timer, re-armed from MHD_get_timeout after every
    MHD_run, wakes it for time-outs. Nothing here blocks the loop.

    A request reaches the handler once, when its body is complete (bodies are
    capped: over the cap the handler is called at once with
    xs_http_req_too_large () true and no body). The handler answers it now or
    later, exactly once, with xs_http_answer (&req, ...). A request not
    answered when the handler returns is parked (MHD_suspend_connection) and
    costs nothing until it is answered.

    Ownership: the server owns every request; the handler borrows it. Whoever
    keeps a request past the handler's return must answer it or be told it
    is gone: xs_http_req_on_gone (req, fn, arg) names the function called,
    instead of an answer, when the client disconnects (plain HTTP: noticed
    while parked; TLS: only when answering) or the server is destroyed.
    After that call the request pointer is dead. An answer to a client that
    has left is dropped quietly.

    The server borrows the loop; it must be destroyed before the loop.
*/
#ifndef XS_HTTP_H_INCLUDED
#define XS_HTTP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <czmq.h>

#include "xs_err.h"

typedef struct _xs_http_t xs_http_t;
typedef struct _xs_http_req_t xs_http_req_t;

/* Called once per complete request (or at once for one over the body cap). */
typedef void (xs_http_handler_fn) (xs_http_req_t *req, void *arg);

/* Called instead of an answer: the client left or the server is going. */
typedef void (xs_http_gone_fn) (xs_http_req_t *req, void *arg);

typedef struct {
    const char *listen;         /* "127.0.0.1:8776", "[::1]:0"; numeric only  */
    const char *cert_file;      /* PEM certificate (chain): TLS when set      */
    const char *key_file;       /* PEM private key, with cert_file            */
    size_t max_body;            /* bytes; 0 = 112 KiB (Cinder's default)      */
    unsigned max_connections;   /* 0 = 1000                                   */
    unsigned idle_timeout_s;    /* idle keep-alive connection closed; 0 = 60  */
} xs_http_opts_t;

/* ---------------------------------------------------------------------------
 *  Server
 * ------------------------------------------------------------------------- */

/* Parses a listen address: "a.b.c.d:port" or "[v6]:port" (numeric, port
   0-65535) into *addr (a struct sockaddr_storage) and *len. 0, or -1 with
   XS_EINVAL naming the problem. */
int xs_http_parse_listen (const char *listen, void *addr, size_t *len, xs_err_t *err);

/* True when `listen` parses and names a loopback address (127/8, ::1,
   ::ffff:127/104). */
bool xs_http_listen_is_loopback (const char *listen);

/* Binds and starts serving on loop. handler (req, arg) is called for every
   request. NULL with *err on a bad option, an unreadable certificate or a
   failed bind (the message names the address). */
xs_http_t *xs_http_new (zloop_t *loop, const xs_http_opts_t *opts,
                        xs_http_handler_fn *handler, void *arg, xs_err_t *err);

/* Tells every request still parked that it is gone (its gone callback; an
   owner that set none is a bug and is logged), closes every connection and
   frees; NULLs *self_p; idempotent. */
void xs_http_destroy (xs_http_t **self_p);

/* The bound port (the kernel's choice for port 0). */
uint16_t xs_http_port (const xs_http_t *self);

/* True when serving TLS. */
bool xs_http_is_tls (const xs_http_t *self);

/* Requests currently parked (answered later), for tests and metrics. */
size_t xs_http_parked (const xs_http_t *self);

/* ---------------------------------------------------------------------------
 *  Request (borrowed from the server; valid until answered or gone)
 * ------------------------------------------------------------------------- */

/* "GET", "POST", ... */
const char *xs_http_req_method (const xs_http_req_t *req);

/* The path, percent-decoded by MHD, without the query string. */
const char *xs_http_req_path (const xs_http_req_t *req);

/* First header named `name` (case-insensitive), or NULL. */
const char *xs_http_req_header (const xs_http_req_t *req, const char *name);

/* First query argument named `name` (decoded), or NULL; "" for "?name" or
   "?name=". */
const char *xs_http_req_query (const xs_http_req_t *req, const char *name);

/* Calls fn (key, value, arg) for every query argument in order (value NULL
   for "?key"); stops early when fn returns non-zero. */
typedef int (xs_http_query_fn) (const char *key, const char *value, void *arg);
void xs_http_req_query_each (const xs_http_req_t *req, xs_http_query_fn *fn, void *arg);

/* The body (not NUL-terminated; *len bytes; NULL when empty). Borrowed. */
const char *xs_http_req_body (const xs_http_req_t *req, size_t *len);

/* True when the body was over the cap (then the body is empty). */
bool xs_http_req_too_large (const xs_http_req_t *req);

/* True when the request came over TLS. */
bool xs_http_req_is_tls (const xs_http_req_t *req);

/* Who to call instead of answering (see above). Replaces any earlier one. */
void xs_http_req_on_gone (xs_http_req_t *req, xs_http_gone_fn *fn, void *arg);

/* Opaque slot for the layer above (never touched by the server). */
void xs_http_req_set_user (xs_http_req_t *req, void *user);
void *xs_http_req_user (const xs_http_req_t *req);

/* Adds a header to the answer (copied); before xs_http_answer. */
void xs_http_req_add_header (xs_http_req_t *req, const char *name, const char *value);

/* Answers: status, content type (NULL: none) and body (taken: freed by the
   server; NULL for an empty body). NULLs *req_p: the request is the
   server's again. Called from the handler or any time later, exactly once. */
void xs_http_answer (xs_http_req_t **req_p, unsigned status, const char *content_type,
                     char *body, size_t len);

#endif
