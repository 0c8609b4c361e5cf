/*  xs_hostops_sweep: what the catalog's orphan sweep needs of a host (see
    xs_hostops.h): the VDIs xensm tagged in one SR, and the removal of one
    such VDI, checked again just before. */
#include "xs_hostops_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"

/* One tagged VDI of a VDI.get_all_records answer, or NULL when `record`
   is not tagged by xensm, not in SR ref `sr`, not managed, or busy (an
   operation in progress: it is looked at again at the next sweep). */
static json_t *
s_tagged_entry (const xs_value_t *record, const char *sr)
{
    const char *vdi_sr = xs_value_get_str (record, "SR");
    const xs_value_t *other_config = xs_value_get (record, "other_config");
    const char *volume = xs_value_get_str (other_config, XS_HOSTOPS_VOLUME_KEY);
    const xs_value_t *ops = xs_value_get (record, "current_operations");
    if (!vdi_sr || strcmp (vdi_sr, sr) != 0 || !volume || !*volume
    ||  !xs_hostops_field_bool (record, "managed") || xs_value_size (ops) > 0)
        return NULL;
    /* Only what the sweep needs: the listing must fit one message
       (XS_PROTO_MAX_SIZE, about 10,000 VDIs). */
    json_t *entry = xs_nn (json_object ());
    json_object_set_new (entry, "vdi_uuid",
                         xs_hostops_json_string (xs_value_get_str (record, "uuid")));
    json_object_set_new (entry, "volume_uuid", xs_hostops_json_string (volume));
    const char *parent = xs_value_get_str (other_config, XS_HOSTOPS_PARENT_KEY);
    if (parent && *parent)
        json_object_set_new (entry, "parent_uuid", xs_hostops_json_string (parent));
    return entry;
}

json_t *
xs_hostops_vdi_list (xs_hostops_t *self, const char *sr_uuid, xs_err_t *err)
{
    xs_hostops_reset (self);
    char object [64];
    snprintf (object, sizeof object, "SR %s", sr_uuid);
    char *sr = xs_hostops_sr_ref (self, sr_uuid, err);
    if (!sr)
        return NULL;
    /* One call for the pool's VDIs (the SR's records alone would be one
       call per VDI); only this SR's tagged ones are kept. */
    xs_value_t *records = xs_xenapi_call (self->client, "VDI.get_all_records", NULL, err);
    if (!records) {
        xs_hostops_xapi_failed (self, err, object, "VDI.get_all_records");
        free (sr);
        return NULL;
    }
    json_t *vdis = xs_nn (json_array ());
    for (size_t i = 0; i < xs_value_size (records); i++) {
        json_t *entry = s_tagged_entry (xs_value_value_at (records, i), sr);
        if (entry)
            json_array_append_new (vdis, entry);
    }
    xs_value_destroy (&records);
    free (sr);
    return xs_nn (json_pack ("{s:s, s:o}", "sr_uuid", sr_uuid, "vdis", vdis));
}

json_t *
xs_hostops_vdi_reap (xs_hostops_t *self, const char *volume_uuid, const char *sr_uuid,
                     const char *vdi_uuid, xs_err_t *err)
{
    xs_hostops_reset (self);
    json_t *result = NULL;
    char *sr = NULL;
    char *vdi = NULL;
    xs_value_t *record = NULL;
    char object [128];
    snprintf (object, sizeof object, "VDI %s (tagged volume %s)", vdi_uuid, volume_uuid);
    if (!sr_uuid) {
        xs_err_set (err, XS_EINVAL, "%s: removing one VDI needs its SR", object);
        return NULL;
    }
    vdi = xs_xenapi_vdi_get_by_uuid (self->client, vdi_uuid, err);
    if (!vdi && err && err->kind == XS_ENOTFOUND)
        goto gone;
    if (!vdi) {
        xs_hostops_xapi_failed (self, err, object, "VDI.get_by_uuid");
        goto out;
    }
    record = xs_xenapi_vdi_get_record (self->client, vdi, err);
    if (!record && err && err->kind == XS_ENOTFOUND)
        goto gone;
    if (!record) {
        xs_hostops_xapi_failed (self, err, object, "VDI.get_record");
        goto out;
    }
    sr = xs_hostops_sr_ref (self, sr_uuid, err);
    if (!sr)
        goto out;
    /* Never a VDI that is not (or no longer) xensm's for that volume, nor
       one of another SR: the catalog decided on what it saw before. */
    const char *tag = xs_value_get_str (xs_value_get (record, "other_config"),
                                        XS_HOSTOPS_VOLUME_KEY);
    const char *vdi_sr = xs_value_get_str (record, "SR");
    if (!tag || strcmp (tag, volume_uuid) != 0 || !vdi_sr || strcmp (vdi_sr, sr) != 0) {
        xs_err_set (err, XS_ECONFLICT, "%s: now tagged %s in %s SR: left alone", object,
                    tag ? tag : "by nobody", vdi_sr && strcmp (vdi_sr, sr) == 0 ? "the same"
                                                                              : "another");
        goto out;
    }
    xs_hostops_async_next (self, "VDI.destroy", volume_uuid);
    if (xs_xenapi_vdi_destroy (self->client, vdi, err) != 0) {
        if (err && err->kind == XS_ENOTFOUND)
            goto gone;
        xs_hostops_xapi_failed (self, err, object, "VDI.destroy");
        goto out;
    }
    result = xs_nn (json_pack ("{s:s, s:s, s:i}", "volume_uuid", volume_uuid, "vdi_uuid",
                               vdi_uuid, "destroyed", 1));
    goto out;
gone:
    xs_err_clear (err);
    xs_hostops_reset (self);
    result = xs_nn (json_pack ("{s:s, s:s, s:i}", "volume_uuid", volume_uuid, "vdi_uuid",
                               vdi_uuid, "destroyed", 0));
out:
    free (sr);
    free (vdi);
    xs_value_destroy (&record);
    return result;
}
