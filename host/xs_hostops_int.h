/*  xs_hostops_int: private to xs_hostops' own files. Not for other callers:
    use xs_hostops.h.

    xs_hostops.c       the object, the XenAPI error it keeps, shared
                       helpers, host_info
    xs_hostops_sr.c    sr_attach, sr_detach, sr_stats
    xs_hostops_vdi.c   vdi_find, vdi_create, vdi_destroy, vdi_clone,
                       vdi_snapshot
    xs_hostops_task.c  the tasks a restart left behind (adopt, follow)

    Every operation starts with xs_hostops_reset, so that the XenAPI error
    of an earlier operation never shows after a later one.
*/
#ifndef XS_HOSTOPS_INT_H_INCLUDED
#define XS_HOSTOPS_INT_H_INCLUDED

#include <stdbool.h>

#include "xs_hostops.h"

#define XS_HOSTOPS_VOLUME_KEY   "xensm-volume"    /* VDI other_config: its volume  */
#define XS_HOSTOPS_PARENT_KEY   "xensm-parent"    /* VDI other_config: copied from */
#define XS_HOSTOPS_LABEL_PREFIX "xensm-"          /* VDI name_label: xensm-<uuid>  */
#define XS_HOSTOPS_SR_KEY       "xensm-sr"        /* SR other_config: created or
                                                     introduced by xensm          */
#define XS_HOSTOPS_PBD_KEY      "xensm-pbd"       /* PBD other_config: xensm made
                                                     it (on an SR not xensm's)    */

struct _xs_hostops_t {
    xs_xenapi_t *client;        /* borrowed */
    char *host_uuid;            /* "this host", or NULL: ask the session */
    char *error_code;
    xs_value_t *error_params;
    char *sr_ref, *sr_uuid;     /* the last SR resolved: a ref always names
                                   the same object, so ref -> uuid holds */
    json_t *sm_drivers;         /* cached SM.get_all_records, or NULL    */
    int64_t sm_drivers_ms;      /* when (CLOCK_MONOTONIC ms)             */
    long deadline_ms;           /* of a task (xs_hostops_set_deadline)   */
    xs_xenapi_task_t task;      /* the last long operation's task        */
    char task_tag [192];        /* its tag (see xs_hostops_async_next)   */
};

/* How long the cached SM drivers serve sr_stats (a driver is installed
   with a toolstack restart; host_info always reads them afresh). */
#define XS_HOSTOPS_SM_CACHE_MS  (10 * 60 * 1000)

/* Calls `method` (Class.add_to_other_config) on `ref` with key = value;
   MAP_DUPLICATE_KEY (already there) is success. 0, or -1 + err naming
   `object`. */
int xs_hostops_tag (xs_hostops_t *self, const char *method, const char *ref, const char *key,
                    const char *value, const char *object, xs_err_t *err);

/* The next long operation through the client (SR.create, PBD.plug,
   VDI.create/clone/snapshot/destroy) runs as Async.<method> with its task
   followed up to the deadline, the task tagged XS_XENAPI_TASK_TAG_KEY =
   "<method> <uuid> <this host's uuid or ->" (see xs_hostops_tasks_adopt);
   `uuid` is the volume's or the SR's. */
void xs_hostops_async_next (xs_hostops_t *self, const char *method, const char *uuid);

/* Tags the copy `vdi` (its record `record`, which carries its parent's
   tag as VDI.clone/snapshot left it) as the VDI of `new_volume_uuid`, child
   of that parent; nothing when tagged so already. 0 or -1 + err. */
int xs_hostops_vdi_tag_copy (xs_hostops_t *self, const char *vdi, const xs_value_t *record,
                             const char *new_volume_uuid, xs_err_t *err);

/* Forgets the XenAPI error of the last operation. */
void xs_hostops_reset (xs_hostops_t *self);

/* After the client call `method` on `object` failed: keeps the XenAPI code
   and params (when the failure came from xapi) and rewrites err as
   "<object>: <method> failed: <reason>". Returns -1. */
int xs_hostops_xapi_failed (xs_hostops_t *self, xs_err_t *err, const char *object,
                            const char *method);

/* Refuses what xapi itself would refuse with `code` [p1, p2] (NULL params
   left out): keeps that as the operation's XenAPI error and sets err to
   `kind` and the formatted message. Returns -1. */
int xs_hostops_refuse (xs_hostops_t *self, xs_err_t *err, xs_errkind_t kind, const char *code,
                       const char *p1, const char *p2, const char *fmt, ...)
    __attribute__ ((format (printf, 7, 8)));

/* The ref of the host these operations are for (see xs_hostops_set_host_uuid);
   caller frees. NULL + err naming `object`. */
char *xs_hostops_this_host (xs_hostops_t *self, const char *object, xs_err_t *err);

/* The ref of SR `sr_uuid` (caller frees); NULL + err (XS_ENOTFOUND when
   xapi does not know it). */
char *xs_hostops_sr_ref (xs_hostops_t *self, const char *sr_uuid, xs_err_t *err);

/* Same, but the ref remembered from the last lookup of that uuid is used
   without a call: for an operation that gets HANDLE_INVALID from a stale
   ref and then asks again with xs_hostops_sr_ref (a ref names one object
   only; a forgotten and re-introduced SR has a new ref). */
char *xs_hostops_sr_ref_cached (xs_hostops_t *self, const char *sr_uuid, xs_err_t *err);

/* The uuid of SR ref `sr` (caller frees): remembered from the last
   xs_hostops_sr_ref, else SR.get_record. NULL + err. */
char *xs_hostops_sr_uuid_of (xs_hostops_t *self, const char *sr, xs_err_t *err);

/* The capabilities of SR type `type` from SM.get_all_records: a new JSON
   array of strings (empty when the type has no SM record); NULL + err. */
json_t *xs_hostops_capabilities (xs_hostops_t *self, const char *type, const char *object,
                                 xs_err_t *err);

/* The pool's SM drivers from SM.get_all_records: a new reference to a JSON
   object {SR type: [capability, ...]}; NULL + err naming `object`. Served
   from the cache when younger than XS_HOSTOPS_SM_CACHE_MS unless `fresh`. */
json_t *xs_hostops_sm_drivers (xs_hostops_t *self, bool fresh, const char *object,
                               xs_err_t *err);

/* True when the array `list` holds the string `capability`. */
bool xs_hostops_has_capability (const json_t *list, const char *capability);

/* A JSON string of text from xapi ("" for NULL, "?" when not UTF-8). */
json_t *xs_hostops_json_string (const char *text);

/* Record fields as xapi sends them: an int64 (a decimal string; 0 or -1),
   a bool (<boolean>, or "true" / "1"). */
int xs_hostops_field_int64 (const xs_value_t *record, const char *field, int64_t *value_p);
bool xs_hostops_field_bool (const xs_value_t *record, const char *field);

#endif
