/*  xs_keystone: validates Keystone tokens without blocking the zloop.

    Validation is keystonemiddleware's: GET <keystone>/v3/auth/tokens?nocatalog
    with X-Auth-Token = the service's own token and X-Subject-Token = the
    caller's. 200 = valid (user, project, roles, expiry read from the body);
    404 = invalid; 401 = our service token expired: get a new one (POST
    /v3/auth/tokens, password, project scope; the token comes back in
    X-Subject-Token) and retry once; anything else = unavailable (503).

    Why libcurl multi and not a zactor: the multi interface hands its
    sockets and its timer to the caller, so the calls run inside the zloop
    the API already has, with no thread, no copies across a pipe and no
    locks around the cache; a validation that is no longer wanted is simply
    forgotten. libcurl's threaded resolver keeps name lookups off the loop.

    Results are cached for at most cache_s seconds (never past the token's
    expiry), keyed by the SHA-256 of the token (the token itself is never
    stored or logged). Concurrent validations of one token share one call.

    Ownership: the validator borrows the loop (destroy it first). A waiter
    handle belongs to the validator; the caller may cancel it until its
    callback has run. Destroying the validator drops waiters silently.
*/
#ifndef XS_KEYSTONE_H_INCLUDED
#define XS_KEYSTONE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <czmq.h>

#include "xs_err.h"

typedef struct _xs_keystone_t xs_keystone_t;
typedef struct _xs_keystone_wait_t xs_keystone_wait_t;

typedef struct {
    const char *url;            /* Keystone, "http://127.0.0.1:5000[/v3]"      */
    const char *public_url;     /* for WWW-Authenticate; NULL: url             */
    const char *user;           /* the service user (e.g. "xensm")             */
    const char *password;
    const char *project;        /* its project (e.g. "service")                */
    const char *user_domain;    /* NULL: "Default"                             */
    const char *project_domain; /* NULL: "Default"                             */
    const char *cafile;         /* CA bundle for https, NULL: system's         */
    unsigned cache_s;           /* 0 or more than 300: 300                     */
    unsigned timeout_ms;        /* per HTTP call; 0: 10000                     */
} xs_keystone_opts_t;

typedef enum {
    XS_KS_VALID = 0,
    XS_KS_INVALID,              /* answer 401 */
    XS_KS_UNAVAILABLE           /* answer 503 */
} xs_ks_result_t;

typedef struct {
    char user_id [65];
    char project_id [65];
    char user_name [256];
    char project_name [256];
    bool is_admin;              /* has the "admin" role                        */
    int64_t expires_at;         /* Unix time                                   */
} xs_keystone_token_t;

/* The outcome: token is set for XS_KS_VALID (borrowed for the call), why
   says what failed otherwise (never contains a token). */
typedef void (xs_keystone_fn) (void *arg, xs_ks_result_t result,
                               const xs_keystone_token_t *token, const char *why);

/* A validator. NULL with XS_EINVAL when url, user, password or project is
   missing or url is not http(s). No call is made until the first token. */
xs_keystone_t *xs_keystone_new (zloop_t *loop, const xs_keystone_opts_t *opts, xs_err_t *err);

/* Stops every call, drops waiters without calling them, frees; NULLs *self_p. */
void xs_keystone_destroy (xs_keystone_t **self_p);

/* Validates token. A cached answer calls fn before returning and returns
   NULL; otherwise returns a waiter and calls fn later, from the loop. */
xs_keystone_wait_t *xs_keystone_validate (xs_keystone_t *self, const char *token,
                                          xs_keystone_fn *fn, void *arg);

/* Forgets a waiter whose callback has not run; NULLs *wait_p. */
void xs_keystone_cancel (xs_keystone_t *self, xs_keystone_wait_t **wait_p);

/* The WWW-Authenticate value for a 401: Keystone uri="<public url>". */
const char *xs_keystone_www_authenticate (const xs_keystone_t *self);

/* Counters for tests: HTTP validations made, service logins made, answers
   served from the cache. */
uint64_t xs_keystone_validations (const xs_keystone_t *self);
uint64_t xs_keystone_logins (const xs_keystone_t *self);
uint64_t xs_keystone_cache_hits (const xs_keystone_t *self);

/* Empties the cache (tests; a revoked token stays valid until it expires
   from the cache otherwise, as with keystonemiddleware). */
void xs_keystone_flush (xs_keystone_t *self);

#endif
