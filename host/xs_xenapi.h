/*  xs_xenapi: a XenAPI (xapi) client over XML-RPC, on libcurl.

    Part of libxensm-host (host/), the one library that talks to xapi: it
    links libcurl, which the catalog never links and the xapi plugin
    executable leaves to its helper program (xe-plugin/CMakeLists.txt).
    Files: xs_xenapi.c (envelope, sessions, generic calls), xs_xenapi_http.c
    (URLs, pool master, libcurl transport), xs_xenapi_calls.c (typed helpers).

    URLs:
      http://host[:port][/path]    plain HTTP (tests, or a local stunnel)
      https://host[:port][/path]   TLS; the server certificate is verified
                                   against the system store or the CA file
                                   set with xs_xenapi_set_ca_file
      unix:/var/lib/xcp/xapi       HTTP over xapi's local unix socket
    A URL that carries credentials (user:pass@), a query or a fragment, or
    has no host is refused.

    Sessions: either xs_xenapi_login (credentials kept in memory, wiped on
    destroy) or xs_xenapi_set_session (a session ref the caller got from
    elsewhere, e.g. the one xapi hands a plugin). With credentials the client
    follows HOST_IS_SLAVE [master] once at login (the master's address
    replaces host[:port] of the URL; without a port in the address the URL's
    port is kept; from a unix: URL the client goes to https://<master>/), and
    on SESSION_INVALID during a call it logs in again once and retries the
    call once. HOST_IS_SLAVE during a call (the master changed; xapi refuses
    before running the call) is followed the same way on every call: to the
    master it names, a new login there, the call sent once more. With a
    borrowed session both are ordinary errors.

    Errors: a XenAPI failure gives XS_EXAPI (XS_ENOTFOUND for UUID_INVALID
    and HANDLE_INVALID) with a message like
        SR.create: SR_BACKEND_FAILURE_73 [, NFS mount error, ]
    and its code and params stay readable through xs_xenapi_error_code /
    xs_xenapi_error_params until the next call. Transport failures give
    XS_ETRANSPORT naming the method, the URL and curl's reason ("timeout
    after N ms" for timeouts); a reply that is not a well-formed XenAPI
    response gives XS_EINVAL. Passwords and session refs never appear in
    messages or logs (method names are logged at debug level only).

    Values: every int64 the client sends (sizes) goes as a decimal string,
    as xapi expects; maps (device_config, sm_config, other_config) are
    xs_value structs whose members must all be strings. Records come back
    as xs_value structs exactly as xapi sent them (ints as decimal strings,
    unknown fields kept); see xs_xenapi_field_int64.

    One client is one CURL handle with keep-alive; use one client per
    thread. Only read-only calls (Class.get_*) reuse a kept-alive
    connection: libcurl re-sends a request silently when a reused
    connection closes before the reply, and a call that changes something
    must never run twice. A failed call is never retried, except once
    after SESSION_INVALID (see Sessions).
*/
#ifndef XS_XENAPI_H_INCLUDED
#define XS_XENAPI_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xs_err.h"
#include "xs_value.h"

typedef struct _xs_xenapi_t xs_xenapi_t;

/* Defaults for the timeouts (milliseconds). */
#define XS_XENAPI_CONNECT_TIMEOUT_MS  10000
#define XS_XENAPI_TIMEOUT_MS         300000

/* ---------------------------------------------------------------------
   Life cycle and options
   --------------------------------------------------------------------- */

/* New client for `url` (see above). NULL + err (XS_EINVAL) on a bad URL.
   No network traffic happens until the first call. */
xs_xenapi_t *xs_xenapi_new (const char *url, xs_err_t *err);

/* Frees the client; logs out first (best effort, at most ~5 s) when the
   session was made by xs_xenapi_login. NULLs *self_p; idempotent. */
void xs_xenapi_destroy (xs_xenapi_t **self_p);

/* Connect timeout and whole-call timeout in milliseconds; 0 keeps the
   default (XS_XENAPI_CONNECT_TIMEOUT_MS, XS_XENAPI_TIMEOUT_MS). */
void xs_xenapi_set_timeouts (xs_xenapi_t *self, long connect_ms, long total_ms);

/* The whole-call timeout in milliseconds (an event.from must wait less). */
long xs_xenapi_total_timeout_ms (xs_xenapi_t *self);

/* Makes every event.from waiting now or later in this process (on any
   client) end at once with a transport error while `on` (a stopping agent
   does not wait out a long poll); off again with false. */
void xs_xenapi_interrupt_waits (bool on);

/* CA bundle (PEM file) for https; NULL means the system store. Copied. */
void xs_xenapi_set_ca_file (xs_xenapi_t *self, const char *path);

/* Tests only: turn TLS certificate and host name verification off. */
void xs_xenapi_set_insecure (xs_xenapi_t *self, bool insecure);

/* User-Agent header; NULL restores the default "xensm/<version>". Copied. */
void xs_xenapi_set_user_agent (xs_xenapi_t *self, const char *agent);

/* The URL calls go to now (changes after HOST_IS_SLAVE). Borrowed. */
const char *xs_xenapi_url (xs_xenapi_t *self);

/* ---------------------------------------------------------------------
   Sessions
   --------------------------------------------------------------------- */

/* session.login_with_password (uname, pwd, "2.0", "xensm"), following
   HOST_IS_SLAVE once. Keeps the credentials for re-login on
   SESSION_INVALID. Any previous own session is logged out first. */
int xs_xenapi_login (xs_xenapi_t *self, const char *uname, const char *pwd, xs_err_t *err);

/* Uses an existing session ref (copied); no credentials, no re-login, and
   destroy does not log it out. Forgets any stored credentials. */
void xs_xenapi_set_session (xs_xenapi_t *self, const char *session_ref);

/* The current session ref or NULL. Borrowed. A secret: never log it. */
const char *xs_xenapi_session (xs_xenapi_t *self);

/* session.logout of the current session, then forgets session and
   credentials. 0 when there was no session. The session is forgotten even
   when the call fails. */
int xs_xenapi_logout (xs_xenapi_t *self, xs_err_t *err);

/* ---------------------------------------------------------------------
   Generic calls
   --------------------------------------------------------------------- */

/* Calls `method` (e.g. "VDI.get_uuid") with the session ref followed by
   the items of `params` (an array, borrowed; NULL = none). Returns the
   Value (caller owns; "" for void methods) or NULL + err. */
xs_value_t *xs_xenapi_call (xs_xenapi_t *self, const char *method, const xs_value_t *params,
                            xs_err_t *err);

/* Same with at most one string argument after the session (arg NULL = none). */
xs_value_t *xs_xenapi_call_str (xs_xenapi_t *self, const char *method, const char *arg,
                                xs_err_t *err);

/* After a failed call: the XenAPI error code (e.g. "SR_BACKEND_FAILURE_73"),
   or NULL when the last call succeeded or failed without a XenAPI error
   (transport, malformed reply). Borrowed, valid until the next call. */
const char *xs_xenapi_error_code (xs_xenapi_t *self);

/* The params after the code, as an array of strings (borrowed, valid until
   the next call); NULL when error_code is NULL. */
const xs_value_t *xs_xenapi_error_params (xs_xenapi_t *self);

/* Param `index` of the last XenAPI error, or NULL. Borrowed. */
const char *xs_xenapi_error_param (xs_xenapi_t *self, size_t index);

/* ---------------------------------------------------------------------
   Tasks: long storage operations (SR.create, PBD.plug, VDI.create, ...)
   run as Async.<method>, whose task the client follows (task.get_record,
   then event.from on that task until it changes: no polling sleeps). On
   the deadline the client sends task.cancel and waits a little for what
   xapi finally did: a task that still succeeded gives its result (nothing
   is orphaned), a cancelled one TASK_CANCELLED. The task is tagged
   (other_config XS_XENAPI_TASK_TAG_KEY = tag) so that a restarted caller
   can find it again, and destroyed once it has ended. Following only
   reads (task.get_record, event.from): a failed read is asked again (twice
   in a row at most) before the task is given up, still tagged.
   --------------------------------------------------------------------- */

#define XS_XENAPI_TASK_TAG_KEY "xensm-op"

typedef struct {
    long deadline_ms;           /* in: 0 = wait until the task ends         */
    const char *tag;            /* in: the task's tag, or NULL              */
    bool watch;                 /* in: another's task: wait for its end (up
                                   to the deadline), never cancel, destroy
                                   or read its result                        */
    bool cancelled;             /* out: task.cancel was sent (deadline)     */
    char status [16];           /* out: success, failure, cancelled, pending */
    char ref [80];              /* out: the task's ref                      */
} xs_xenapi_task_t;

/* Async.<method>(session, params...) and its task followed to the end (see
   above). Returns the task's result value (caller owns; "" for a method
   without one) or NULL + err: the task's XenAPI error (error code and
   params readable as after a synchronous call; TASK_CANCELLED after a
   cancel), or XS_ETRANSPORT when the task did not end even after
   task.cancel (left to xapi, still tagged). */
xs_value_t *xs_xenapi_call_async (xs_xenapi_t *self, const char *method,
                                  const xs_value_t *params, xs_xenapi_task_t *task,
                                  xs_err_t *err);

/* Follows an existing task `ref` (one found again by its tag) exactly as
   xs_xenapi_call_async follows its own: up to task->deadline_ms, then
   task.cancel; the task destroyed once ended. `method` names it in
   messages (e.g. "VDI.create"). Returns its result or NULL + err. */
xs_value_t *xs_xenapi_task_follow (xs_xenapi_t *self, const char *method, const char *ref,
                                   xs_xenapi_task_t *task, xs_err_t *err);

/* The next call of a typed helper that changes something (SR.create,
   PBD.plug, VDI.create, VDI.clone, VDI.snapshot, VDI.destroy, and any other
   helper built on a ref or void result) runs as xs_xenapi_call_async with
   `task` (borrowed: it must live until that call returns; its out fields
   are filled). One call only: the helper forgets it. Read-only helpers
   (get_*) never run async and leave it set. NULL cancels it. */
void xs_xenapi_async_next (xs_xenapi_t *self, xs_xenapi_task_t *task);

/* ---------------------------------------------------------------------
   Typed helpers. Refs returned as char * are the caller's to free();
   xs_value_t * results (ref arrays, records, maps) are the caller's
   to xs_value_destroy(). All return NULL / -1 + err on failure.
   --------------------------------------------------------------------- */

/* session.get_this_host: the host this session is logged in to. */
char *xs_xenapi_session_get_this_host (xs_xenapi_t *self, xs_err_t *err);

/* host */
xs_value_t *xs_xenapi_host_get_all (xs_xenapi_t *self, xs_err_t *err);
xs_value_t *xs_xenapi_host_get_record (xs_xenapi_t *self, const char *host, xs_err_t *err);
char *xs_xenapi_host_get_by_uuid (xs_xenapi_t *self, const char *uuid, xs_err_t *err);

/* pool */
xs_value_t *xs_xenapi_pool_get_all (xs_xenapi_t *self, xs_err_t *err);
char *xs_xenapi_pool_get_master (xs_xenapi_t *self, const char *pool, xs_err_t *err);

/* Arguments of SR.create, SR.introduce and SR.probe. Strings NULL = "",
   maps NULL = {}. Which fields each call uses:
     create:    host device_config physical_size name_label name_description
                type content_type shared sm_config
     introduce: uuid name_label name_description type content_type shared
                sm_config
     probe:     host device_config type sm_config                          */
typedef struct {
    const char *host;                   /* host ref                          */
    const char *uuid;                   /* introduce: the existing SR's uuid */
    const xs_value_t *device_config;    /* struct of strings (secrets inside) */
    int64_t physical_size;              /* sent as a decimal string          */
    const char *name_label;
    const char *name_description;
    const char *type;                   /* SR type: nfs, lvmoiscsi, ...      */
    const char *content_type;           /* "" or "user"                      */
    bool shared;
    const xs_value_t *sm_config;        /* struct of strings                 */
} xs_xenapi_sr_args_t;

/* SR */
char *xs_xenapi_sr_create (xs_xenapi_t *self, const xs_xenapi_sr_args_t *args, xs_err_t *err);
char *xs_xenapi_sr_introduce (xs_xenapi_t *self, const xs_xenapi_sr_args_t *args, xs_err_t *err);
/* Returns the probe's XML text (caller frees). */
char *xs_xenapi_sr_probe (xs_xenapi_t *self, const xs_xenapi_sr_args_t *args, xs_err_t *err);
int xs_xenapi_sr_forget (xs_xenapi_t *self, const char *sr, xs_err_t *err);
int xs_xenapi_sr_scan (xs_xenapi_t *self, const char *sr, xs_err_t *err);
char *xs_xenapi_sr_get_by_uuid (xs_xenapi_t *self, const char *uuid, xs_err_t *err);
xs_value_t *xs_xenapi_sr_get_record (xs_xenapi_t *self, const char *sr, xs_err_t *err);
xs_value_t *xs_xenapi_sr_get_PBDs (xs_xenapi_t *self, const char *sr, xs_err_t *err);

/* PBD. PBD.create sends {host, SR, device_config, other_config};
   device_config / other_config NULL = {}. */
char *xs_xenapi_pbd_create (xs_xenapi_t *self, const char *host, const char *sr,
                            const xs_value_t *device_config, const xs_value_t *other_config,
                            xs_err_t *err);
int xs_xenapi_pbd_plug (xs_xenapi_t *self, const char *pbd, xs_err_t *err);
int xs_xenapi_pbd_unplug (xs_xenapi_t *self, const char *pbd, xs_err_t *err);
int xs_xenapi_pbd_destroy (xs_xenapi_t *self, const char *pbd, xs_err_t *err);
xs_value_t *xs_xenapi_pbd_get_record (xs_xenapi_t *self, const char *pbd, xs_err_t *err);

/* Arguments of VDI.create. The client sends the whole record xapi's
   constructor wants: name_label, name_description, SR, virtual_size (a
   decimal string), type, sharable, read_only, other_config, xenstore_data,
   sm_config, tags ([]). Strings NULL = "" (type NULL = "user"), maps
   NULL = {}. */
typedef struct {
    const char *sr;                     /* SR ref                            */
    const char *name_label;
    const char *name_description;
    int64_t virtual_size;               /* bytes                             */
    const char *type;                   /* vdi_type: user, system, ...       */
    bool sharable;
    bool read_only;
    const xs_value_t *other_config;     /* struct of strings                 */
    const xs_value_t *sm_config;        /* struct of strings                 */
    const xs_value_t *xenstore_data;    /* struct of strings                 */
} xs_xenapi_vdi_args_t;

/* VDI. driver_params NULL = {}. get_by_name_label returns an array of refs. */
char *xs_xenapi_vdi_create (xs_xenapi_t *self, const xs_xenapi_vdi_args_t *args, xs_err_t *err);
int xs_xenapi_vdi_destroy (xs_xenapi_t *self, const char *vdi, xs_err_t *err);
char *xs_xenapi_vdi_clone (xs_xenapi_t *self, const char *vdi, const xs_value_t *driver_params,
                           xs_err_t *err);
char *xs_xenapi_vdi_snapshot (xs_xenapi_t *self, const char *vdi, const xs_value_t *driver_params,
                              xs_err_t *err);
char *xs_xenapi_vdi_get_by_uuid (xs_xenapi_t *self, const char *uuid, xs_err_t *err);
xs_value_t *xs_xenapi_vdi_get_by_name_label (xs_xenapi_t *self, const char *label, xs_err_t *err);
xs_value_t *xs_xenapi_vdi_get_record (xs_xenapi_t *self, const char *vdi, xs_err_t *err);

/* SM.get_all_records: a struct {SM ref: SM record}. */
xs_value_t *xs_xenapi_sm_get_all_records (xs_xenapi_t *self, xs_err_t *err);

/* ---------------------------------------------------------------------
   Reading records
   --------------------------------------------------------------------- */

/* Reads int field `field` of `record`, sent by xapi as a decimal string
   (or an XML-RPC int). -1 + err (XS_EINVAL) when absent or not a number. */
int xs_xenapi_field_int64 (const xs_value_t *record, const char *field, int64_t *value_p,
                           xs_err_t *err);

#endif
