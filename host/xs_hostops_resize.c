/*  xs_hostops_resize: vdi_resize, the growing of a volume's VDI (see
    xs_hostops.h). Built on vdi_find, so that only a VDI tagged as the
    volume's is ever resized. */
#include "xs_hostops_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"

/* Refuses the resize when SR `sr_uuid`'s type lacks VDI_RESIZE, as xapi
   does (xapi_vdi.ml check_operation_error: SR_OPERATION_NOT_SUPPORTED).
   0, or -1 + err naming `object`. */
static int
s_resize_allowed (xs_hostops_t *self, const char *sr_uuid, const char *object, xs_err_t *err)
{
    char *sr = xs_hostops_sr_ref (self, sr_uuid, err);
    if (!sr)
        return -1;
    xs_value_t *record = xs_xenapi_sr_get_record (self->client, sr, err);
    free (sr);
    if (!record)
        return xs_hostops_xapi_failed (self, err, object, "SR.get_record");
    const char *type = xs_value_get_str (record, "type");
    int rc = 0;
    json_t *caps = xs_hostops_capabilities (self, type ? type : "", object, err);
    if (!caps)
        rc = -1;
    else
    if (!xs_hostops_has_capability (caps, "VDI_RESIZE"))
        rc = xs_hostops_refuse (self, err, XS_ECONFLICT, "SR_OPERATION_NOT_SUPPORTED", sr_uuid,
                                "VDI_RESIZE", "%s: cannot extend: SR %s (type %s) does not "
                                "support VDI_RESIZE", object, sr_uuid, type ? type : "?");
    json_decref (caps);
    xs_value_destroy (&record);
    return rc;
}

/* VDI.resize (vdi_uuid's ref, size) of volume_uuid, as Async.VDI.resize
   with its task followed (tagged, cancelled on the deadline), like the
   other long operations. 0, or -1 + err naming `object`. */
static int
s_resize_call (xs_hostops_t *self, const char *volume_uuid, const char *vdi_uuid, int64_t size,
               const char *object, xs_err_t *err)
{
    char *vdi = xs_xenapi_vdi_get_by_uuid (self->client, vdi_uuid, err);
    if (!vdi)
        return xs_hostops_xapi_failed (self, err, object, "VDI.get_by_uuid");
    char bytes [32];
    snprintf (bytes, sizeof bytes, "%" PRId64, size);
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, vdi);
    xs_value_append_str (params, bytes);
    /* The task set up as for the typed helpers, but this call takes it
       itself (VDI.resize has no typed helper). */
    xs_hostops_async_next (self, "VDI.resize", volume_uuid);
    xs_xenapi_async_next (self->client, NULL);
    xs_value_t *reply = xs_xenapi_call_async (self->client, "VDI.resize", params, &self->task,
                                              err);
    xs_value_destroy (&params);
    free (vdi);
    if (!reply)
        return xs_hostops_xapi_failed (self, err, object, "VDI.resize");
    xs_value_destroy (&reply);
    return 0;
}

json_t *
xs_hostops_vdi_resize (xs_hostops_t *self, const char *volume_uuid, int64_t size,
                       const char *sr_uuid, xs_err_t *err)
{
    char object [64];
    snprintf (object, sizeof object, "volume %s", volume_uuid ? volume_uuid : "?");
    xs_hostops_reset (self);
    if (!volume_uuid || size <= 0) {
        xs_err_set (err, XS_EINVAL, "%s: size %" PRId64 " is not a positive number of bytes",
                    object, size);
        return NULL;
    }
    json_t *found = xs_hostops_vdi_find (self, volume_uuid, sr_uuid, err);
    if (!found)
        return NULL;
    int64_t previous = json_integer_value (json_object_get (found, "virtual_size"));
    if (previous >= size) {
        xs_info ("%s: VDI %s is already %" PRId64 " bytes (asked %" PRId64 "); left as it is",
                 object, json_string_value (json_object_get (found, "vdi_uuid")), previous,
                 size);
        json_object_set_new (found, "previous_size", json_integer (previous));
        json_object_set_new (found, "resized", json_false ());
        return found;
    }
    char *vdi_uuid = xs_strdup (json_string_value (json_object_get (found, "vdi_uuid")));
    char *vdi_sr = xs_strdup (json_string_value (json_object_get (found, "sr_uuid")));
    json_decref (found);
    json_t *result = NULL;
    if (s_resize_allowed (self, vdi_sr, object, err) == 0
    &&  s_resize_call (self, volume_uuid, vdi_uuid, size, object, err) == 0) {
        result = xs_hostops_vdi_find (self, volume_uuid, vdi_sr, err);
        if (result) {
            json_object_set_new (result, "previous_size", json_integer (previous));
            json_object_set_new (result, "resized", json_true ());
            xs_info ("%s: VDI %s grown from %" PRId64 " to %" PRId64 " bytes", object,
                     vdi_uuid, previous,
                     (int64_t) json_integer_value (json_object_get (result, "virtual_size")));
        }
    }
    free (vdi_uuid);
    free (vdi_sr);
    return result;
}
