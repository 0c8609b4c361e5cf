/*  xs_hostops: the local SR and VDI operations of a host, through XenAPI.

    Shared by the agent daemon (which sends the results to the catalog over
    ZeroMQ) and the xapi plugin's helper (which returns them as JSON
    strings), both through the one operation table, xs_hostops_dispatch.
    Files: xs_hostops.c (the object, its XenAPI error, host_info),
    xs_hostops_sr.c, xs_hostops_vdi.c.

    Every operation takes the XenAPI client given to xs_hostops_new (logged
    in, or holding a borrowed session) and returns a new jansson object
    (caller json_decref()s it) or NULL with *err set.

    Errors name the object and the XenAPI call, e.g.
        SR 1f5b...: SR.create failed: SR_BACKEND_FAILURE_73 [, NFS mount error, ]
        volume 6a0c...: VDI.create failed: SR_FULL [...]
    After a failure that came from xapi (or a refusal xapi would have given,
    such as a missing SR capability), xs_hostops_error_code and
    xs_hostops_error_params give the XenAPI code and params.

    Volumes and VDIs: the VDI of volume <u> has name_label "xensm-<u>" and
    other_config "xensm-volume" = <u>. A VDI is found by its name_label and
    then checked by its other_config (VDI.clone and VDI.snapshot copy both
    from their source until the copy is tagged with its own volume uuid), so
    every operation can be repeated: vdi_create returns the VDI already made,
    vdi_destroy of a volume without a VDI succeeds, clone and snapshot return
    the copy already made.

    SRs are attached with SR.get_by_uuid, else SR.introduce (or SR.create when
    no sr_uuid is given, shared as the SR type table says); then this host's
    PBD is made when missing, plugged when unplugged, and the SR scanned.

    Ownership: an SR xensm created or introduced carries other_config
    "xensm-sr" = created | introduced; an SR found already there does not
    (the pool's), and a PBD xensm made for it carries "xensm-pbd". Detaching
    the pool's SR removes only those PBDs and never forgets it. Detaching
    xensm's SR unplugs its PBDs and forgets it (never SR.destroy), unless it
    holds a VDI xensm does not own (SR.forget deletes every VDI record of
    the SR) or a VDI with an attached VBD: then it is refused (XS_ECONFLICT,
    error code XENSM_SR_IN_USE [sr uuid, reason]).
*/
#ifndef XS_HOSTOPS_H_INCLUDED
#define XS_HOSTOPS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "xs_err.h"
#include "xs_value.h"
#include "xs_xenapi.h"

typedef struct _xs_hostops_t xs_hostops_t;

/* What to attach. sr_uuid NULL = create a new SR (formats the storage). */
typedef struct {
    const char *sr_uuid;
    const char *type;                   /* SR type: nfs, lvmoiscsi, ...      */
    const char *name_label;             /* NULL = "xensm <type>"             */
    const char *name_description;       /* NULL = ""                         */
    const json_t *device_config;        /* object of strings; NULL = {}      */
} xs_hostops_sr_spec_t;

/* Operations through `client` (borrowed: it must outlive the object). */
xs_hostops_t *xs_hostops_new (xs_xenapi_t *client);

/* Frees the object (not the client). NULLs *self_p; idempotent. */
void xs_hostops_destroy (xs_hostops_t **self_p);

/* Names "this host" (for host_info and the PBD of sr_attach) by uuid. Without
   it the session's host is used, which on a pool member is the master. */
void xs_hostops_set_host_uuid (xs_hostops_t *self, const char *uuid);

/* How long a long storage operation (SR.create, PBD.plug, VDI.create,
   VDI.clone, VDI.snapshot, VDI.destroy: all run as Async.* tasks) may run
   before its task is cancelled (task.cancel, then what xapi finally did is
   the outcome: a task that still succeeded counts; one cancelled gives
   TASK_CANCELLED). 0 = wait for the end. Default XS_XENAPI_TIMEOUT_MS. */
void xs_hostops_set_deadline (xs_hostops_t *self, long deadline_ms);

/* XenAPI error code of the last failed operation (e.g. "SR_BACKEND_FAILURE_73")
   or NULL when it did not come from xapi. Borrowed, valid until the next
   operation. */
const char *xs_hostops_error_code (xs_hostops_t *self);

/* Params of that error: an array of strings (borrowed), or NULL. */
const xs_value_t *xs_hostops_error_params (xs_hostops_t *self);

/* {uuid, name_label, hostname, address, is_pool_master, pool_master_uuid,
    sm_drivers: {SR type: [capability, ...]}} (the pool's SM records: the
   SR types its hosts can really attach, and what each can do). */
json_t *xs_hostops_host_info (xs_hostops_t *self, xs_err_t *err);

/* {sr_uuid, type, shared, created, introduced, pbd_created, plugged,
    origin: "created" | "introduced" | "found", xensm_owned} */
json_t *xs_hostops_sr_attach (xs_hostops_t *self, const xs_hostops_sr_spec_t *spec, xs_err_t *err);

/* {sr_uuid, forgotten, unplugged, xensm_owned[, kept]}; forgotten is false
   when xapi did not know the SR (already detached) or when it is the
   pool's (kept: why). Refusals: see Ownership above. */
json_t *xs_hostops_sr_detach (xs_hostops_t *self, const char *sr_uuid, xs_err_t *err);

/* {sr_uuid, type, name_label, shared, physical_size, physical_utilisation,
    virtual_allocation, capabilities: [...], lun_per_vdi}; capabilities
   from SM.get_all_records for the SR's type; lun_per_vdi from the SR type
   table (iscsi, hba: no volume can be created there). */
json_t *xs_hostops_sr_stats (xs_hostops_t *self, const char *sr_uuid, xs_err_t *err);

/* Waits (event.from on class SR, from `token`: "" = every SR now) at most
   timeout_s seconds (less than half the client's call timeout) for SRs to
   change: {token (for the next call), srs: [stats as sr_stats gives them,
   one per SR of the pool that changed]}. One call, whether or not
   something changed: what the agent uses instead of polling sr_stats. */
json_t *xs_hostops_sr_watch (xs_hostops_t *self, const char *token, double timeout_s,
                             xs_err_t *err);

/* Creates the VDI of `volume_uuid` (size bytes) in SR `sr_uuid`, or returns
   the one already there. {volume_uuid, vdi_uuid, sr_uuid, virtual_size,
   size, created}. description NULL = "xensm volume <uuid>". */
json_t *xs_hostops_vdi_create (xs_hostops_t *self, const char *sr_uuid, const char *volume_uuid,
                               int64_t size, const char *description, xs_err_t *err);

/* Destroys the VDI(s) of `volume_uuid` (only in SR sr_uuid when not NULL).
   {volume_uuid, destroyed: n}; n = 0 when there was none. */
json_t *xs_hostops_vdi_destroy (xs_hostops_t *self, const char *volume_uuid, const char *sr_uuid,
                                xs_err_t *err);

/* The orphan sweep's view of SR `sr_uuid`: every managed VDI there that
   xensm tagged (other_config xensm-volume), no operation in progress on
   it: {sr_uuid, vdis: [{vdi_uuid, volume_uuid, parent_uuid (a copy's)}]}.
   Untagged VDIs are never listed. One VDI.get_all_records. NULL + err
   (XS_ENOTFOUND: no such SR). */
json_t *xs_hostops_vdi_list (xs_hostops_t *self, const char *sr_uuid, xs_err_t *err);

/* Destroys VDI `vdi_uuid` only, and only while it is still in SR sr_uuid
   tagged as the VDI of `volume_uuid` (else XS_ECONFLICT, nothing done):
   how the orphan sweep removes an orphan. {volume_uuid, vdi_uuid,
   destroyed: 1, or 0 when it was gone already}. */
json_t *xs_hostops_vdi_reap (xs_hostops_t *self, const char *volume_uuid, const char *sr_uuid,
                             const char *vdi_uuid, xs_err_t *err);

/* VDI.clone / VDI.snapshot of the VDI of `volume_uuid` (in SR sr_uuid when
   not NULL), tagged as the VDI of `new_volume_uuid`; returns the copy
   already made when there is one. Refused (XS_ECONFLICT, error code
   SR_OPERATION_NOT_SUPPORTED) when the SR's type lacks VDI_CLONE /
   VDI_SNAPSHOT. {volume_uuid, parent_volume_uuid, vdi_uuid, sr_uuid,
   virtual_size, created, snapshot} */
json_t *xs_hostops_vdi_clone (xs_hostops_t *self, const char *volume_uuid,
                              const char *new_volume_uuid, const char *sr_uuid, xs_err_t *err);
json_t *xs_hostops_vdi_snapshot (xs_hostops_t *self, const char *volume_uuid,
                                 const char *new_volume_uuid, const char *sr_uuid, xs_err_t *err);

/* The same (snapshot or clone), from VDI source_vdi_uuid when not NULL:
   the one the catalog records for volume_uuid, which must still carry
   its tag (and be in sr_uuid when given), else XS_ENOTFOUND. Without it
   the first VDI tagged as volume_uuid's is the source. */
json_t *xs_hostops_vdi_copy_from (xs_hostops_t *self, bool snapshot, const char *volume_uuid,
                                  const char *source_vdi_uuid, const char *new_volume_uuid,
                                  const char *sr_uuid, xs_err_t *err);

/* The VDI of `volume_uuid` (in SR sr_uuid when not NULL): {volume_uuid,
   vdi_uuid, sr_uuid, size, virtual_size, physical_utilisation,
   is_a_snapshot}, or NULL with XS_ENOTFOUND when it has none. VDI results
   of the other operations have the same fields. */
json_t *xs_hostops_vdi_find (xs_hostops_t *self, const char *volume_uuid, const char *sr_uuid,
                             xs_err_t *err);

/* Grows the VDI of `volume_uuid` (in SR sr_uuid when not NULL) to `size`
   bytes with VDI.resize. Refused (XS_ECONFLICT, error code
   SR_OPERATION_NOT_SUPPORTED [sr uuid, VDI_RESIZE]) when the SR's type
   lacks VDI_RESIZE; XS_ENOTFOUND when the volume has no VDI (only VDIs
   tagged as xensm's are ever found). A VDI already at least `size` bytes
   is left as it is (a repeated request: xapi's SM drivers never shrink).
   {volume_uuid, vdi_uuid, sr_uuid, virtual_size (the new size, which the
   driver may have rounded up), previous_size, resized, ...} */
json_t *xs_hostops_vdi_resize (xs_hostops_t *self, const char *volume_uuid, int64_t size,
                               const char *sr_uuid, xs_err_t *err);

/* The tasks of long operations that an earlier run of this host's xensm
   started and did not see end (a kill -9, a crash, a deadline whose
   task.cancel came too late): every task whose other_config
   XS_XENAPI_TASK_TAG_KEY is "<method> <uuid> <this host's uuid>" (set with
   xs_hostops_set_host_uuid; "-" without). Each task that has ended, and
   with `follow` each one still pending too (followed up to the deadline,
   then task.cancel), is settled: its outcome recorded (logged, and in the
   result), what it made tagged as the live path does (a clone's or
   snapshot's copy as its new volume's), the task destroyed. Without
   `follow` the pending ones are only listed (settle each with
   xs_hostops_task_follow). {ended: [{task, method, uuid, status,
   cancelled, vdi_uuid | sr_uuid | error, error_code}], pending: [{task,
   method, uuid, status}]}; NULL + err when the tasks cannot be listed. */
json_t *xs_hostops_tasks_adopt (xs_hostops_t *self, bool follow, xs_err_t *err);

/* Before an operation the catalog resumed after a restart or a takeover:
   the host that had it may still be running its call. Every pending task
   tagged for `uuid` (the volume a create makes, or a copy's new volume),
   of ANY host, is followed to its end and settled as above, so that the
   operation then finds what that call made instead of making a second.
   Returns how many were followed, or -1 + err when the tasks cannot be
   listed. One task.get_all_records; only resumed operations pay it. */
int xs_hostops_tasks_await (xs_hostops_t *self, const char *uuid, xs_err_t *err);

/* Settles one such task (see above): an entry of "ended", or NULL + err
   when it is not a task of xensm or xapi does not know it. */
json_t *xs_hostops_task_follow (xs_hostops_t *self, const char *task_ref, xs_err_t *err);

#endif
