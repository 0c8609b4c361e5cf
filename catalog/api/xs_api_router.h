/*  xs_api_router: the table of the Block Storage API's routes and the one
    function that matches a request against it.

    A route is {method, pattern, handler, flags}. Patterns under /v3 are
    written without the version and project ("/volumes/{id}/action") and
    match both URL forms Cinder serves: /v3/{project_id}/volumes/... and,
    since 3.67, /v3/volumes/... The rule between them: when the first
    segment after /v3/ is a known collection (the first segment of a route
    pattern, or one of Cinder's other top-level collections) the URL has no
    project; otherwise that segment is the project id ([A-Za-z0-9_-]+, at
    most 64 bytes). Routes flagged XS_ROUTE_ROOT match the path exactly
    ("/", "/v3", "/v3/", "/metrics") and never take a project.

    Segments in {braces} match any one non-empty segment and are captured by
    name; a literal segment beats a capture ("/volumes/detail" before
    "/volumes/{id}"), otherwise the first route in table order wins. HEAD
    matches GET routes. A path that matches a pattern under another method
    is 405 (with the methods allowed), anything else 404.

    The router borrows the table (static, NULL-terminated by a route whose
    method is NULL) and owns nothing else. Matching allocates nothing:
    captures point into the match's own buffer.
*/
#ifndef XS_API_ROUTER_H_INCLUDED
#define XS_API_ROUTER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define XS_ROUTE_ROOT      0x01    /* absolute path, no /v3, no project       */
#define XS_ROUTE_PUBLIC    0x02    /* no authentication (version documents)   */
#define XS_ROUTE_BODY      0x04    /* takes a JSON object body                */
#define XS_ROUTE_ANY_VERSION 0x08  /* lenient: any OpenStack-API-Version      */

#define XS_ROUTE_MAX_PARAMS 4
#define XS_ROUTE_PATH_MAX   2048

/* The request a route handler gets (xs_api.h). */
typedef struct _xs_api_req_t xs_api_req_t;
typedef void (xs_api_handler_fn) (xs_api_req_t *req, void *arg);

typedef struct {
    const char *method;         /* "GET", "POST", "PUT", "DELETE"; NULL ends */
    const char *pattern;
    xs_api_handler_fn *handler;
    unsigned flags;
    const char *name;           /* for logs and metrics: "volume.create"     */
} xs_api_route_t;

typedef enum {
    XS_ROUTE_FOUND = 0,
    XS_ROUTE_NOT_FOUND,         /* 404 itemNotFound */
    XS_ROUTE_BAD_METHOD         /* 405 badMethod, match->allow lists methods */
} xs_route_result_t;

typedef struct {
    const xs_api_route_t *route;        /* when FOUND                         */
    const char *project;                /* project from the URL, or NULL      */
    size_t nparams;
    const char *names [XS_ROUTE_MAX_PARAMS];
    const char *values [XS_ROUTE_MAX_PARAMS];
    char allow [64];                    /* "GET, DELETE" for a 405            */
    char buf [XS_ROUTE_PATH_MAX + XS_ROUTE_MAX_PARAMS + 8];
} xs_route_match_t;

typedef struct _xs_api_router_t xs_api_router_t;

/* A router over `table` (borrowed; must outlive the router). */
xs_api_router_t *xs_api_router_new (const xs_api_route_t *table);

/* Frees; NULLs *self_p; idempotent. */
void xs_api_router_destroy (xs_api_router_t **self_p);

/* Matches method and path (decoded, no query string) into *match. */
xs_route_result_t xs_api_router_match (const xs_api_router_t *self, const char *method,
                                       const char *path, xs_route_match_t *match);

/* The capture named `name` of a FOUND match, or NULL. */
const char *xs_route_param (const xs_route_match_t *match, const char *name);

/* True when `id` is a valid project id ([A-Za-z0-9_-]{1,64}). */
bool xs_api_project_id_valid (const char *id);

/* True when `segment` names a collection (so it is never a project). */
bool xs_api_router_is_collection (const xs_api_router_t *self, const char *segment);

#endif
