/*  xs_hostops_vdi: the VDIs of volumes (see xs_hostops.h): find, create,
    destroy, clone and snapshot, each repeatable. */
#include "xs_hostops_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"

/* ---------------------------------------------------------------------
   What every VDI operation shares
   --------------------------------------------------------------------- */

/* One VDI operation under way. */
typedef struct {
    char object [64];           /* "volume <uuid>", for messages            */
    char *sr;                   /* the SR's ref, or NULL: any SR            */
    char *vdi;                  /* the volume's VDI, or NULL: none (yet)    */
    xs_value_t *record;         /* its record                               */
    bool sr_cached;             /* sr is the remembered ref (no call made)  */
} s_vdi_op_t;

/* Starts an operation on the VDI of `volume_uuid`: forgets the last
   XenAPI error and names the volume. */
static void
s_vdi_begin (xs_hostops_t *self, s_vdi_op_t *op, const char *volume_uuid)
{
    xs_hostops_reset (self);
    memset (op, 0, sizeof *op);
    snprintf (op->object, sizeof op->object, "volume %s", volume_uuid);
}

/* Frees what the operation holds. */
static void
s_vdi_end (s_vdi_op_t *op)
{
    free (op->sr);
    free (op->vdi);
    xs_value_destroy (&op->record);
}

/* Limits the operation to SR `sr_uuid` (op->sr its ref); nothing when
   sr_uuid is NULL. 0, or -1 + err (XS_ENOTFOUND when xapi does not know
   the SR). */
static int
s_vdi_in_sr (xs_hostops_t *self, s_vdi_op_t *op, const char *sr_uuid, xs_err_t *err)
{
    if (!sr_uuid)
        return 0;
    op->sr = xs_hostops_sr_ref (self, sr_uuid, err);
    return op->sr ? 0 : -1;
}

/* Finds the VDI of `volume_uuid` (in SR ref `sr` when not NULL): 0 with
   *vdi_p and *record_p (caller frees both) or with both NULL when there is
   none; -1 on error. A VDI is the volume's when its name_label is
   xensm-<uuid> and its other_config says so too (a copy carries its
   parent's until it is tagged). */
static int
s_vdi_lookup (xs_hostops_t *self, const char *volume_uuid, const char *sr, char **vdi_p,
              xs_value_t **record_p, xs_err_t *err)
{
    char label [80];
    char object [64];
    *vdi_p = NULL;
    *record_p = NULL;
    snprintf (label, sizeof label, XS_HOSTOPS_LABEL_PREFIX "%s", volume_uuid);
    snprintf (object, sizeof object, "volume %s", volume_uuid);
    xs_value_t *refs = xs_xenapi_vdi_get_by_name_label (self->client, label, err);
    if (!refs)
        return xs_hostops_xapi_failed (self, err, object, "VDI.get_by_name_label");
    int rc = 0;
    for (size_t i = 0; i < xs_value_size (refs) && !*vdi_p; i++) {
        const char *vdi = xs_value_str (xs_value_at (refs, i));
        if (!vdi)
            continue;
        xs_value_t *record = xs_xenapi_vdi_get_record (self->client, vdi, err);
        if (!record) {
            if (err && err->kind == XS_ENOTFOUND)
                continue;       /* destroyed meanwhile */
            rc = xs_hostops_xapi_failed (self, err, object, "VDI.get_record");
            break;
        }
        const char *tag = xs_value_get_str (xs_value_get (record, "other_config"),
                                            XS_HOSTOPS_VOLUME_KEY);
        const char *vdi_sr = xs_value_get_str (record, "SR");
        if (tag && strcmp (tag, volume_uuid) == 0
        &&  (!sr || (vdi_sr && strcmp (vdi_sr, sr) == 0))) {
            *vdi_p = xs_strdup (vdi);
            *record_p = record;
        }
        else
            xs_value_destroy (&record);
    }
    xs_value_destroy (&refs);
    if (rc == 0)
        xs_err_clear (err);
    return rc;
}

/* Looks up the VDI of `volume_uuid` in the operation's SR (any SR when
   none) into op->vdi and op->record. */
static int
s_vdi_find (xs_hostops_t *self, s_vdi_op_t *op, const char *volume_uuid, xs_err_t *err)
{
    free (op->vdi);
    xs_value_destroy (&op->record);
    return s_vdi_lookup (self, volume_uuid, op->sr, &op->vdi, &op->record, err);
}

/* {volume_uuid, vdi_uuid, sr_uuid, virtual_size, size, physical_utilisation,
   is_a_snapshot} of a VDI record. */
static json_t *
s_vdi_json (xs_hostops_t *self, const char *volume_uuid, const xs_value_t *record, xs_err_t *err)
{
    char *sr_uuid = xs_hostops_sr_uuid_of (self, xs_value_get_str (record, "SR"), err);
    if (!sr_uuid)
        return NULL;
    int64_t size = 0, used = 0;
    xs_hostops_field_int64 (record, "virtual_size", &size);
    xs_hostops_field_int64 (record, "physical_utilisation", &used);
    json_t *json = xs_nn (json_object ());
    json_object_set_new (json, "volume_uuid", xs_hostops_json_string (volume_uuid));
    json_object_set_new (json, "vdi_uuid",
                         xs_hostops_json_string (xs_value_get_str (record, "uuid")));
    json_object_set_new (json, "sr_uuid", xs_hostops_json_string (sr_uuid));
    json_object_set_new (json, "virtual_size", json_integer (size));
    json_object_set_new (json, "size", json_integer (size));
    json_object_set_new (json, "physical_utilisation", json_integer (used));
    json_object_set_new (json, "is_a_snapshot",
                         json_boolean (xs_hostops_field_bool (record, "is_a_snapshot")));
    free (sr_uuid);
    return json;
}

/* ---------------------------------------------------------------------
   vdi_find, vdi_create, vdi_destroy
   --------------------------------------------------------------------- */

json_t *
xs_hostops_vdi_find (xs_hostops_t *self, const char *volume_uuid, const char *sr_uuid,
                     xs_err_t *err)
{
    json_t *result = NULL;
    s_vdi_op_t op;
    s_vdi_begin (self, &op, volume_uuid);
    if (s_vdi_in_sr (self, &op, sr_uuid, err) != 0
    ||  s_vdi_find (self, &op, volume_uuid, err) != 0)
        goto out;
    if (!op.vdi) {
        xs_err_set (err, XS_ENOTFOUND, "volume %s: no VDI found%s%s", volume_uuid,
                    sr_uuid ? " in SR " : "", sr_uuid ? sr_uuid : "");
        goto out;
    }
    result = s_vdi_json (self, volume_uuid, op.record, err);
out:
    s_vdi_end (&op);
    return result;
}

/* VDI.create of the volume's VDI in op->sr, tagged as the volume's. */
static json_t *
s_vdi_make (xs_hostops_t *self, s_vdi_op_t *op, const char *sr_uuid, const char *volume_uuid,
            int64_t size, const char *description, xs_err_t *err)
{
    char label [80];
    char default_description [96];
    snprintf (label, sizeof label, XS_HOSTOPS_LABEL_PREFIX "%s", volume_uuid);
    snprintf (default_description, sizeof default_description, "xensm volume %s", volume_uuid);
    xs_value_t *other_config = xs_value_struct_new ();
    xs_value_set_str (other_config, XS_HOSTOPS_VOLUME_KEY, volume_uuid);
    xs_xenapi_vdi_args_t args = {
        .sr = op->sr,
        .name_label = label,
        .name_description = description ? description : default_description,
        .virtual_size = size,
        .type = "user",
        .other_config = other_config,
    };
    json_t *result = NULL;
    xs_hostops_async_next (self, "VDI.create", volume_uuid);
    op->vdi = xs_xenapi_vdi_create (self->client, &args, err);
    const char *code = xs_xenapi_error_code (self->client);
    if (!op->vdi && code && strcmp (code, "HANDLE_INVALID") == 0 && op->sr_cached) {
        /* The remembered SR ref is stale (the SR was forgotten and came
           back): ask xapi for it and try once more. */
        free (op->sr);
        op->sr_cached = false;
        op->sr = xs_hostops_sr_ref (self, sr_uuid, err);
        args.sr = op->sr;
        if (op->sr) {
            xs_hostops_async_next (self, "VDI.create", volume_uuid);
            op->vdi = xs_xenapi_vdi_create (self->client, &args, err);
        }
        else {
            xs_value_destroy (&other_config);
            return NULL;
        }
    }
    xs_value_destroy (&other_config);
    if (!op->vdi) {
        xs_hostops_xapi_failed (self, err, op->object, "VDI.create");
        return NULL;
    }
    op->record = xs_xenapi_vdi_get_record (self->client, op->vdi, err);
    if (!op->record) {
        xs_hostops_xapi_failed (self, err, op->object, "VDI.get_record");
        return NULL;
    }
    result = s_vdi_json (self, volume_uuid, op->record, err);
    if (result)
        json_object_set_new (result, "created", json_true ());
    return result;
}

/* Looks up the VDI of `volume_uuid` in any SR into op->vdi / op->record,
   destroying each one found in another SR than op->sr: the VDI of an
   earlier attempt on another backend whose outcome was lost (the reply to
   VDI.create never came, D5), which the catalog has given up. A destroy
   that fails is left to the catalog's cleanup and orphan sweep. 0, or -1
   + err when a lookup fails. */
static int
s_vdi_drop_elsewhere (xs_hostops_t *self, s_vdi_op_t *op, const char *volume_uuid,
                      const char *sr_uuid, xs_err_t *err)
{
    for (int round = 0; round < 16; round++) {
        free (op->vdi);
        xs_value_destroy (&op->record);
        if (s_vdi_lookup (self, volume_uuid, NULL, &op->vdi, &op->record, err) != 0)
            return -1;
        const char *vdi_sr = op->vdi ? xs_value_get_str (op->record, "SR") : NULL;
        if (!op->vdi || (vdi_sr && strcmp (vdi_sr, op->sr) == 0))
            return 0;
        xs_notice ("%s: VDI %s in another SR than %s is an earlier attempt's: destroying it",
                   op->object, xs_value_get_str (op->record, "uuid"), sr_uuid);
        xs_err_t failed;
        xs_hostops_async_next (self, "VDI.destroy", volume_uuid);
        if (xs_xenapi_vdi_destroy (self->client, op->vdi, &failed) != 0
        &&  failed.kind != XS_ENOTFOUND) {
            xs_warning ("%s: cannot destroy VDI %s of an earlier attempt (left to the orphan "
                        "sweep): %s", op->object, xs_value_get_str (op->record, "uuid"),
                        failed.msg);
            break;
        }
    }
    /* Still there (or a 17th): create beside it rather than fail. */
    free (op->vdi);
    op->vdi = NULL;
    xs_value_destroy (&op->record);
    xs_hostops_reset (self);
    return 0;
}

json_t *
xs_hostops_vdi_create (xs_hostops_t *self, const char *sr_uuid, const char *volume_uuid,
                       int64_t size, const char *description, xs_err_t *err)
{
    json_t *result = NULL;
    s_vdi_op_t op;
    s_vdi_begin (self, &op, volume_uuid);
    if (size <= 0) {
        xs_err_set (err, XS_EINVAL, "%s: size %lld is not a positive number of bytes", op.object,
                    (long long) size);
        goto out;
    }
    /* The SR ref remembered from an earlier operation saves a call per
       create (issue 11: at most 3 calls besides the task's). */
    op.sr_cached = self->sr_uuid && strcmp (self->sr_uuid, sr_uuid) == 0;
    op.sr = xs_hostops_sr_ref_cached (self, sr_uuid, err);
    if (!op.sr)
        goto out;
    /* Made already, in this SR? One in another SR is an earlier attempt's
       (the catalog creates a volume on one backend at a time): removed. */
    if (s_vdi_drop_elsewhere (self, &op, volume_uuid, sr_uuid, err) != 0)
        goto out;
    if (!op.vdi) {
        result = s_vdi_make (self, &op, sr_uuid, volume_uuid, size, description, err);
        goto out;
    }
    xs_info ("%s: VDI %s already exists", op.object, xs_value_get_str (op.record, "uuid"));
    result = s_vdi_json (self, volume_uuid, op.record, err);
    if (result)
        json_object_set_new (result, "created", json_false ());
out:
    s_vdi_end (&op);
    return result;
}

json_t *
xs_hostops_vdi_destroy (xs_hostops_t *self, const char *volume_uuid, const char *sr_uuid,
                        xs_err_t *err)
{
    json_t *result = NULL;
    int destroyed = 0;
    s_vdi_op_t op;
    s_vdi_begin (self, &op, volume_uuid);
    if (s_vdi_in_sr (self, &op, sr_uuid, err) != 0) {
        if (err && err->kind == XS_ENOTFOUND) {
            /* No such SR: nothing of the volume can be in it. */
            xs_err_clear (err);
            result = xs_nn (json_pack ("{s:s, s:i}", "volume_uuid", volume_uuid, "destroyed", 0));
        }
        goto out;
    }
    /* A volume has one VDI; a second (left by a crash) goes too. */
    for (int round = 0; round < 16; round++) {
        if (s_vdi_find (self, &op, volume_uuid, err) != 0)
            goto out;
        if (!op.vdi)
            break;
        xs_hostops_async_next (self, "VDI.destroy", volume_uuid);
        if (xs_xenapi_vdi_destroy (self->client, op.vdi, err) != 0) {
            if (err && err->kind == XS_ENOTFOUND)
                continue;       /* gone meanwhile */
            xs_hostops_xapi_failed (self, err, op.object, "VDI.destroy");
            goto out;
        }
        destroyed++;
    }
    xs_err_clear (err);
    result = xs_nn (json_pack ("{s:s, s:i}", "volume_uuid", volume_uuid, "destroyed", destroyed));
out:
    s_vdi_end (&op);
    return result;
}

/* ---------------------------------------------------------------------
   vdi_clone, vdi_snapshot
   --------------------------------------------------------------------- */

/* What a copy produced: the VDI fields plus its parent and kind. */
static json_t *
s_copy_json (xs_hostops_t *self, const char *new_volume_uuid, const char *volume_uuid,
             const xs_value_t *record, bool created, bool snapshot, xs_err_t *err)
{
    json_t *result = s_vdi_json (self, new_volume_uuid, record, err);
    if (result) {
        json_object_set_new (result, "parent_volume_uuid", xs_hostops_json_string (volume_uuid));
        json_object_set_new (result, "created", json_boolean (created));
        json_object_set_new (result, "snapshot", json_boolean (snapshot));
    }
    return result;
}

/* Tags VDI `vdi` (record `record`) as the VDI of `volume_uuid`, child of
   `parent_uuid`: other_config first (the lookup checks it), then the
   name_label. */
static int
s_vdi_tag (xs_hostops_t *self, const char *vdi, const xs_value_t *record, const char *volume_uuid,
           const char *parent_uuid, const char *object, xs_err_t *err)
{
    int rc = -1;
    xs_value_t *params = NULL;
    xs_value_t *reply = NULL;
    const xs_value_t *old = xs_value_get (record, "other_config");
    xs_value_t *map = old && xs_value_type (old) == XS_VALUE_STRUCT ? xs_value_dup (old)
                                                                    : xs_value_struct_new ();
    xs_value_set_str (map, XS_HOSTOPS_VOLUME_KEY, volume_uuid);
    xs_value_set_str (map, XS_HOSTOPS_PARENT_KEY, parent_uuid);
    params = xs_value_array_new ();
    xs_value_append_str (params, vdi);
    xs_value_append (params, &map);
    reply = xs_xenapi_call (self->client, "VDI.set_other_config", params, err);
    if (!reply) {
        xs_hostops_xapi_failed (self, err, object, "VDI.set_other_config");
        goto out;
    }
    xs_value_destroy (&reply);
    xs_value_destroy (&params);
    char label [80];
    snprintf (label, sizeof label, XS_HOSTOPS_LABEL_PREFIX "%s", volume_uuid);
    params = xs_value_array_new ();
    xs_value_append_str (params, vdi);
    xs_value_append_str (params, label);
    reply = xs_xenapi_call (self->client, "VDI.set_name_label", params, err);
    if (!reply) {
        xs_hostops_xapi_failed (self, err, object, "VDI.set_name_label");
        goto out;
    }
    rc = 0;
out:
    xs_value_destroy (&map);
    xs_value_destroy (&params);
    xs_value_destroy (&reply);
    return rc;
}

int
xs_hostops_vdi_tag_copy (xs_hostops_t *self, const char *vdi, const xs_value_t *record,
                         const char *new_volume_uuid, xs_err_t *err)
{
    const char *parent = xs_value_get_str (xs_value_get (record, "other_config"),
                                           XS_HOSTOPS_VOLUME_KEY);
    if (parent && strcmp (parent, new_volume_uuid) == 0)
        return 0;               /* tagged already */
    char object [64];
    snprintf (object, sizeof object, "volume %s", new_volume_uuid);
    char *from = xs_strdup (parent ? parent : "");
    int rc = s_vdi_tag (self, vdi, record, new_volume_uuid, from, object, err);
    free (from);
    return rc;
}

/* Refuses a copy of `source_record`'s VDI when its SR's type lacks
   `capability` (SR_OPERATION_NOT_SUPPORTED [sr uuid, capability]). */
static int
s_copy_allowed (xs_hostops_t *self, const xs_value_t *source_record, const char *volume_uuid,
                const char *capability, const char *object, bool snapshot, xs_err_t *err)
{
    const char *source_sr = xs_value_get_str (source_record, "SR");
    xs_value_t *sr_record = xs_xenapi_sr_get_record (self->client, source_sr ? source_sr : "", err);
    if (!sr_record)
        return xs_hostops_xapi_failed (self, err, object, "SR.get_record");
    const char *type = xs_value_get_str (sr_record, "type");
    const char *sr_uuid = xs_value_get_str (sr_record, "uuid");
    int rc = 0;
    json_t *caps = xs_hostops_capabilities (self, type ? type : "", object, err);
    if (!caps)
        rc = -1;
    else
    if (!xs_hostops_has_capability (caps, capability))
        rc = xs_hostops_refuse (self, err, XS_ECONFLICT, "SR_OPERATION_NOT_SUPPORTED",
                                sr_uuid ? sr_uuid : "", capability,
                                "%s: cannot %s volume %s: SR %s (type %s) does not support %s",
                                object, snapshot ? "snapshot" : "clone", volume_uuid,
                                sr_uuid ? sr_uuid : "", type ? type : "?", capability);
    json_decref (caps);
    xs_value_destroy (&sr_record);
    return rc;
}

/* VDI.clone / VDI.snapshot of `source`, tagged as the VDI of
   `new_volume_uuid`, into op->vdi and op->record. An untagged copy carries
   the parent's name and tag, so it would be found as the parent's VDI: it
   is removed (best effort) when tagging fails. */
static int
s_copy_make (xs_hostops_t *self, s_vdi_op_t *op, const char *source, const char *volume_uuid,
             const char *new_volume_uuid, bool snapshot, xs_err_t *err)
{
    const char *method = snapshot ? "VDI.snapshot" : "VDI.clone";
    xs_hostops_async_next (self, method, new_volume_uuid);
    op->vdi = snapshot ? xs_xenapi_vdi_snapshot (self->client, source, NULL, err)
                       : xs_xenapi_vdi_clone (self->client, source, NULL, err);
    if (!op->vdi)
        return xs_hostops_xapi_failed (self, err, op->object, method);
    op->record = xs_xenapi_vdi_get_record (self->client, op->vdi, err);
    if (!op->record)
        xs_hostops_xapi_failed (self, err, op->object, "VDI.get_record");
    if (!op->record
    ||  s_vdi_tag (self, op->vdi, op->record, new_volume_uuid, volume_uuid, op->object, err) != 0) {
        xs_err_t ignored;
        if (xs_xenapi_vdi_destroy (self->client, op->vdi, &ignored) != 0)
            xs_warning ("%s: cannot remove the untagged %s copy: %s", op->object, method,
                        ignored.msg);
        return -1;
    }
    xs_value_destroy (&op->record);
    op->record = xs_xenapi_vdi_get_record (self->client, op->vdi, err);
    if (!op->record)
        return xs_hostops_xapi_failed (self, err, op->object, "VDI.get_record");
    return 0;
}

/* VDI `vdi_uuid` as the VDI of `volume_uuid` (in SR ref `sr` when not
   NULL): 0 with *vdi_p and *record_p (caller frees) or both NULL when it is
   not there or not tagged so; -1 on error. */
static int
s_vdi_by_uuid (xs_hostops_t *self, const char *volume_uuid, const char *vdi_uuid, const char *sr,
               char **vdi_p, xs_value_t **record_p, xs_err_t *err)
{
    char object [64];
    snprintf (object, sizeof object, "volume %s", volume_uuid);
    *vdi_p = NULL;
    *record_p = NULL;
    char *vdi = xs_xenapi_vdi_get_by_uuid (self->client, vdi_uuid, err);
    xs_value_t *record = vdi ? xs_xenapi_vdi_get_record (self->client, vdi, err) : NULL;
    if (!record) {
        free (vdi);
        if (err && err->kind == XS_ENOTFOUND) {
            xs_err_clear (err);
            xs_hostops_reset (self);
            return 0;
        }
        return xs_hostops_xapi_failed (self, err, object, "VDI.get_record");
    }
    const char *tag = xs_value_get_str (xs_value_get (record, "other_config"),
                                        XS_HOSTOPS_VOLUME_KEY);
    const char *vdi_sr = xs_value_get_str (record, "SR");
    if (tag && strcmp (tag, volume_uuid) == 0 && (!sr || (vdi_sr && strcmp (vdi_sr, sr) == 0))) {
        *vdi_p = vdi;
        *record_p = record;
        return 0;
    }
    free (vdi);
    xs_value_destroy (&record);
    return 0;
}

static json_t *
s_vdi_copy (xs_hostops_t *self, bool snapshot, const char *volume_uuid,
            const char *source_vdi_uuid, const char *new_volume_uuid, const char *sr_uuid,
            xs_err_t *err)
{
    json_t *result = NULL;
    char *source = NULL;
    xs_value_t *source_record = NULL;
    s_vdi_op_t op;
    s_vdi_begin (self, &op, new_volume_uuid);
    if (strcmp (volume_uuid, new_volume_uuid) == 0) {
        xs_err_set (err, XS_EINVAL, "%s: a %s needs a new volume uuid, not its parent's", op.object,
                    snapshot ? "snapshot" : "clone");
        goto out;
    }
    if (s_vdi_in_sr (self, &op, sr_uuid, err) != 0
    ||  s_vdi_find (self, &op, new_volume_uuid, err) != 0)
        goto out;
    if (op.vdi) {               /* made already (a repeated request) */
        const char *parent = xs_value_get_str (xs_value_get (op.record, "other_config"),
                                               XS_HOSTOPS_PARENT_KEY);
        if (!parent || strcmp (parent, volume_uuid) != 0)
            xs_err_set (err, XS_ECONFLICT, "%s: already has VDI %s, which is not a copy of volume %s",
                        op.object, xs_value_get_str (op.record, "uuid"), volume_uuid);
        else
            result = s_copy_json (self, new_volume_uuid, volume_uuid, op.record, false, snapshot,
                                  err);
        goto out;
    }
    if ((source_vdi_uuid ? s_vdi_by_uuid (self, volume_uuid, source_vdi_uuid, op.sr, &source,
                                          &source_record, err)
                         : s_vdi_lookup (self, volume_uuid, op.sr, &source, &source_record,
                                         err)) != 0)
        goto out;
    if (!source) {
        xs_err_set (err, XS_ENOTFOUND, "volume %s: no VDI %s%s%s (cannot %s it)", volume_uuid,
                    source_vdi_uuid ? source_vdi_uuid : "found",
                    sr_uuid ? " in SR " : "", sr_uuid ? sr_uuid : "", snapshot ? "snapshot" : "clone");
        goto out;
    }
    const char *capability = snapshot ? "VDI_SNAPSHOT" : "VDI_CLONE";
    if (s_copy_allowed (self, source_record, volume_uuid, capability, op.object, snapshot, err) != 0
    ||  s_copy_make (self, &op, source, volume_uuid, new_volume_uuid, snapshot, err) != 0)
        goto out;
    result = s_copy_json (self, new_volume_uuid, volume_uuid, op.record, true, snapshot, err);
out:
    free (source);
    xs_value_destroy (&source_record);
    s_vdi_end (&op);
    return result;
}

json_t *
xs_hostops_vdi_clone (xs_hostops_t *self, const char *volume_uuid, const char *new_volume_uuid,
                      const char *sr_uuid, xs_err_t *err)
{
    return s_vdi_copy (self, false, volume_uuid, NULL, new_volume_uuid, sr_uuid, err);
}

json_t *
xs_hostops_vdi_snapshot (xs_hostops_t *self, const char *volume_uuid, const char *new_volume_uuid,
                         const char *sr_uuid, xs_err_t *err)
{
    return s_vdi_copy (self, true, volume_uuid, NULL, new_volume_uuid, sr_uuid, err);
}

json_t *
xs_hostops_vdi_copy_from (xs_hostops_t *self, bool snapshot, const char *volume_uuid,
                          const char *source_vdi_uuid, const char *new_volume_uuid,
                          const char *sr_uuid, xs_err_t *err)
{
    return s_vdi_copy (self, snapshot, volume_uuid, source_vdi_uuid, new_volume_uuid, sr_uuid,
                       err);
}
