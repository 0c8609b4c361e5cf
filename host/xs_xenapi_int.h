/*  xs_xenapi_int: private to the XenAPI client's own files. Not for other
    callers: use xs_xenapi.h.

    xs_xenapi.c        the client: life cycle, XenAPI envelope, sessions,
                       generic calls, the last XenAPI error
    xs_xenapi_http.c   xs_http: the target URL (http, https, unix:), moving
                       to a pool master, and one POST per call over libcurl
    xs_xenapi_calls.c  the typed helpers (host, pool, SR, PBD, VDI, SM)
    xs_xenapi_task.c   Async.* calls and following their task
*/
#ifndef XS_XENAPI_INT_H_INCLUDED
#define XS_XENAPI_INT_H_INCLUDED

#include "xs_xenapi.h"

/* ---------------------------------------------------------------------
   xs_http: one libcurl handle aimed at one xapi
   --------------------------------------------------------------------- */

typedef struct _xs_http_t xs_http_t;

/* A transport for `url` (see xs_xenapi.h for the URLs accepted). NULL + err
   (XS_EINVAL naming the URL, XS_EINTERNAL when libcurl fails). */
xs_http_t *xs_http_new (const char *url, xs_err_t *err);

/* Frees the transport; NULLs *self_p; idempotent. */
void xs_http_destroy (xs_http_t **self_p);

/* Timeouts in milliseconds; 0 or less keeps the default. */
void xs_http_set_timeouts (xs_http_t *self, long connect_ms, long total_ms);

/* The whole-call timeout in milliseconds. */
long xs_http_total_timeout_ms (xs_http_t *self);

/* Lowers the timeouts to at most these values (for a last, quick call). */
void xs_http_cap_timeouts (xs_http_t *self, long connect_ms, long total_ms);

/* CA bundle (copied; NULL = system store), TLS checks off (tests), and
   the User-Agent (copied; NULL = "xensm/<version>"). */
void xs_http_set_ca_file (xs_http_t *self, const char *path);
void xs_http_set_insecure (xs_http_t *self, bool insecure);
void xs_http_set_user_agent (xs_http_t *self, const char *agent);

/* The URL requests go to now, as the user sees it. Borrowed. */
const char *xs_http_url (xs_http_t *self);

/* Aims self at the pool master named by HOST_IS_SLAVE's param: "addr" or
   "addr:port" (IPv6 addresses bare or in brackets). The scheme stays (https
   from a unix socket); without a port the current one is kept. 0, or -1
   + err (XS_EINVAL) leaving the target as it was. */
int xs_http_follow_master (xs_http_t *self, const char *master, xs_err_t *err);

/* POSTs `body` (len bytes) for XenAPI `method` and decodes the XML-RPC
   response. Returns its value (caller owns) or NULL + err naming `method`
   and the URL: XS_ETRANSPORT (connection, timeout, HTTP status), XS_EINVAL
   (not an XML-RPC response, too large), XS_EINTERNAL (libcurl). */
xs_value_t *xs_http_post (xs_http_t *self, const char *method, const char *body, size_t len,
                          xs_err_t *err);

/* Makes a task's error_info (an ErrorDescription: [code, params...]) the
   client's last XenAPI error, as if `method` had failed with it; fills err
   ("method: CODE [params]"). */
void xs_xenapi_task_failed (xs_xenapi_t *self, const char *method, const xs_value_t *desc,
                            xs_err_t *err);

/* The task set by xs_xenapi_async_next, or NULL; forgets it (one call). */
xs_xenapi_task_t *xs_xenapi_take_next_task (xs_xenapi_t *self);

/* ---------------------------------------------------------------------
   For the typed helpers
   --------------------------------------------------------------------- */

/* Calls `method` with the session ref as its only (self) argument, as
   session.get_this_host wants (session, session). Value or NULL + err. */
xs_value_t *xs_xenapi_call_self (xs_xenapi_t *self, const char *method, xs_err_t *err);

#endif
