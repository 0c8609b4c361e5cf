/*  xs_api: the OpenStack Block Storage API v3 (Cinder's API) front door.

    xs_api_t serves a route table (xs_api_router.h) over xs_http in the
    caller's zloop. For every request it: makes the request id
    (x-openstack-request-id: req-<uuid4> on every reply; a valid incoming
    X-OpenStack-Request-ID is kept as the global id, as oslo.middleware
    does, never echoed), routes (404 itemNotFound / 405 badMethod),
    authenticates (noauth: the rule of xs_api_noauth_identity; keystone:
    xs_keystone, the request parked meanwhile), reads OpenStack-API-Version
    (400 / 406 unless the route takes any version), parses a JSON body for
    XS_ROUTE_BODY routes (400 when malformed; JSON nulls dropped from
    objects, so null means absent) and then calls the route's handler.

    A handler answers with one xs_api_reply_* call, now or later (the
    request is then parked at no cost). Every reply carries the request id,
    Content-Type, OpenStack-API-Version (the version in force) and
    Vary: OpenStack-API-Version. A handler that keeps a request past its
    return sets xs_api_req_on_gone: when the client leaves or the server
    stops, that function is called instead and the request is dead.

    Ownership: xs_api_t owns every xs_api_req_t; handlers borrow them until
    their reply (which NULLs the caller's pointer). JSON given to a reply is
    taken. The routes table is borrowed and must outlive the server.
*/
#ifndef XS_API_H_INCLUDED
#define XS_API_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <czmq.h>
#include <jansson.h>

#include "xs_api_proto.h"
#include "xs_api_router.h"
#include "xs_err.h"
#include "xs_http.h"
#include "xs_keystone.h"

typedef struct _xs_api_t xs_api_t;

typedef enum {
    XS_API_NOAUTH = 0,
    XS_API_KEYSTONE
} xs_api_auth_t;

typedef struct {
    xs_http_opts_t http;                /* listen, TLS, body cap, limits      */
    const char *public_endpoint;        /* "https://vol.example:8776"; NULL:
                                           from the Host header               */
    xs_api_auth_t auth;
    bool allow_insecure;                /* noauth on a non-loopback address   */
    const char *noauth_project;         /* last resort project; NULL: "admin" */
    xs_keystone_opts_t keystone;        /* with XS_API_KEYSTONE               */
    /* Called for every authenticated request with a known route and a
       good version, before its body is read and its handler runs: true
       when it answered the request itself (a follower catalogd sending a
       change to the leader). NULL: none. */
    bool (*gate) (xs_api_req_t *req, void *arg);
} xs_api_opts_t;

/* The version documents: put this first in every route table. */
void xs_api_versions_root (xs_api_req_t *req, void *arg);
void xs_api_versions_v3 (xs_api_req_t *req, void *arg);
#define XS_API_VERSION_ROUTES \
    {"GET", "/", xs_api_versions_root, XS_ROUTE_ROOT | XS_ROUTE_PUBLIC | XS_ROUTE_ANY_VERSION, \
     "versions"}, \
    {"GET", "/v3", xs_api_versions_v3, XS_ROUTE_ROOT | XS_ROUTE_PUBLIC | XS_ROUTE_ANY_VERSION, \
     "versions"}, \
    {"GET", "/v3/", xs_api_versions_v3, XS_ROUTE_ROOT | XS_ROUTE_PUBLIC | XS_ROUTE_ANY_VERSION, \
     "versions"}

/* ---------------------------------------------------------------------------
 *  Server
 * ------------------------------------------------------------------------- */

/* Starts serving routes (arg is passed to every handler). NULL with *err on
   a bad option: noauth on a non-loopback address without allow_insecure,
   a bad listen address, certificate or Keystone setting, a failed bind. */
xs_api_t *xs_api_new (zloop_t *loop, const xs_api_opts_t *opts, const xs_api_route_t *routes,
                      void *arg, xs_err_t *err);

/* Tells parked requests they are gone, stops serving, frees; NULLs *self_p. */
void xs_api_destroy (xs_api_t **self_p);

/* The bound port. */
uint16_t xs_api_port (const xs_api_t *self);

/* Requests answered so far, by status class (for tests and /metrics). */
uint64_t xs_api_answered (const xs_api_t *self, unsigned status_class);

/* ---------------------------------------------------------------------------
 *  The request, as a handler sees it (borrowed until the reply)
 * ------------------------------------------------------------------------- */

/* A {capture} of the route ("id"), or NULL. */
const char *xs_api_req_param (const xs_api_req_t *req, const char *name);

/* A query argument (decoded), "" when given without a value, or NULL. */
const char *xs_api_req_query (const xs_api_req_t *req, const char *name);

/* A request header, or NULL. */
const char *xs_api_req_header (const xs_api_req_t *req, const char *name);

/* The JSON body of an XS_ROUTE_BODY route (an object, nulls dropped), or
   NULL for other routes. Borrowed. */
json_t *xs_api_req_json (const xs_api_req_t *req);

/* The raw request body (not NUL-terminated, *len bytes; NULL when empty),
   borrowed: for the rare route that must see what xs_api_req_json dropped
   (an action sent as {"os-force_delete": null}). */
const char *xs_api_req_body (const xs_api_req_t *req, size_t *len);

/* "req-<uuid4>", the id on the reply. */
const char *xs_api_req_id (const xs_api_req_t *req);

/* The caller's X-OpenStack-Request-ID when it was valid, or NULL. */
const char *xs_api_req_global_id (const xs_api_req_t *req);

/* The microversion in force (3.0 when not asked for). */
xs_api_version_t xs_api_req_version (const xs_api_req_t *req);

/* True when the microversion in force is at least 3.minor. */
bool xs_api_req_at_least (const xs_api_req_t *req, int minor);

/* Who is asking: project, user, admin. */
const xs_api_identity_t *xs_api_req_identity (const xs_api_req_t *req);

/* The project the URL names, or NULL for the project-less form. */
const char *xs_api_req_url_project (const xs_api_req_t *req);

/* The request's method ("POST") and path ("/v3/p1/volumes", no query). */
const char *xs_api_req_method (const xs_api_req_t *req);
const char *xs_api_req_path (const xs_api_req_t *req);
/* Adds a header (both copied) to the reply to come. */
void xs_api_req_add_header (xs_api_req_t *req, const char *name, const char *value);
/* The route's name ("volume.create"). */
const char *xs_api_req_route (const xs_api_req_t *req);

/* An absolute URL for `path` ("volumes/<id>") in the form the request used:
   <base>/v3[/<project>]/<path>. Caller frees. */
char *xs_api_req_url (const xs_api_req_t *req, const char *path);

/* Who to call instead of replying (client gone, server stopping): fn (arg),
   after which the request is dead. Replaces any earlier one. */
typedef void (xs_api_gone_fn) (void *arg);
void xs_api_req_on_gone (xs_api_req_t *req, xs_api_gone_fn *fn, void *arg);

/* Pagination: marker, limit (capped at 1000), offset from the query; 0, or
   -1 with XS_EINVAL (400) for a bad limit or offset. */
int xs_api_req_page (const xs_api_req_t *req, xs_api_page_t *page, xs_err_t *err);

/* Adds "<collection>_links": [{"rel":"next","href":...}] to reply when the
   page is full (nitems == page->limit, nitems > 0): the href is absolute,
   path `path` ("volumes/detail"), with every query argument of the request
   kept and marker=<last_id>. */
void xs_api_req_next_link (const xs_api_req_t *req, json_t *reply, const char *collection,
                           const char *path, const xs_api_page_t *page, size_t nitems,
                           const char *last_id);

/* ---------------------------------------------------------------------------
 *  Replies: exactly one per request; each NULLs *req_p
 * ------------------------------------------------------------------------- */

/* status with a JSON body (taken). */
void xs_api_reply_json (xs_api_req_t **req_p, unsigned status, json_t *body);

/* status with the list's reply (taken: xs_api_list_text with tail, which
   stays the caller's; NULL for none). */
void xs_api_reply_list (xs_api_req_t **req_p, unsigned status, xs_api_list_t **list_p,
                        const json_t *tail);

/* status with an empty body (202 for accepted work). */
void xs_api_reply_empty (xs_api_req_t **req_p, unsigned status);

/* status with another body (taken; e.g. Prometheus text for /metrics). */
void xs_api_reply_text (xs_api_req_t **req_p, unsigned status, const char *content_type,
                        char *body, size_t len);

/* An error in Cinder's shape {"<fault>":{"message","code"}}. */
void xs_api_reply_error (xs_api_req_t **req_p, unsigned status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* An xs_err_t as an error (status from its kind: xs_api_status_for). */
void xs_api_reply_err (xs_api_req_t **req_p, const xs_err_t *err);

/* 413 overLimit with Retry-After: 0 (quota exceeded). */
void xs_api_reply_over_limit (xs_api_req_t **req_p, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#endif
