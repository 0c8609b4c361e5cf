/*  xs_hostops: the local SR and VDI operations of a host, through XenAPI. */
#include "xs_hostops.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"
#include "xs_srtype.h"

#define S_VOLUME_KEY   "xensm-volume"
#define S_PARENT_KEY   "xensm-parent"
#define S_LABEL_PREFIX "xensm-"

struct _xs_hostops_t {
    xs_xenapi_t *client;        /* borrowed */
    char *host_uuid;            /* "this host", or NULL: ask the session */
    char *error_code;
    xs_value_t *error_params;
};

/* -------------------------------------------------------------------- */
/*  Life cycle and errors                                               */
/* -------------------------------------------------------------------- */

xs_hostops_t *
xs_hostops_new (xs_xenapi_t *client)
{
    xs_hostops_t *self = xs_zalloc (sizeof *self);
    self->client = client;
    return self;
}

static void
s_clear_error (xs_hostops_t *self)
{
    free (self->error_code);
    self->error_code = NULL;
    xs_value_destroy (&self->error_params);
}

void
xs_hostops_destroy (xs_hostops_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_hostops_t *self = *self_p;
    s_clear_error (self);
    free (self->host_uuid);
    free (self);
    *self_p = NULL;
}

void
xs_hostops_set_host_uuid (xs_hostops_t *self, const char *uuid)
{
    free (self->host_uuid);
    self->host_uuid = uuid && *uuid ? xs_strdup (uuid) : NULL;
    if (uuid && *uuid && !self->host_uuid)
        abort ();
}


const char *
xs_hostops_error_code (xs_hostops_t *self)
{
    return self->error_code;
}

const xs_value_t *
xs_hostops_error_params (xs_hostops_t *self)
{
    return self->error_params;
}

/* After a failed client call `method` on `object`: keeps the XenAPI code and
   params, and rewrites err as "<object>: <method> failed: <reason>". */
static int
s_fail (xs_hostops_t *self, xs_err_t *err, const char *object, const char *method)
{
    const char *code = xs_xenapi_error_code (self->client);
    if (code) {
        s_clear_error (self);
        self->error_code = xs_strdup (code);
        const xs_value_t *params = xs_xenapi_error_params (self->client);
        self->error_params = params ? xs_value_dup (params) : xs_value_array_new ();
    }
    if (!err)
        return -1;
    char reason [XS_ERR_MSG_MAX];
    size_t mlen = strlen (method);
    const char *text = err->msg;
    if (strncmp (text, method, mlen) == 0 && strncmp (text + mlen, ": ", 2) == 0)
        text += mlen + 2;
    snprintf (reason, sizeof reason, "%s", text);
    xs_errkind_t kind = err->kind == XS_OK ? XS_EINTERNAL : err->kind;
    return xs_err_set (err, kind, "%s: %s failed: %s", object, method, reason);
}

/* The host these operations are for: the configured uuid, else the
   session's host. On a pool member a session on the local socket belongs
   to the master (xapi forwards it), so the agent names its host. Fails
   the operation (naming `object`) when it cannot be found. */
static char *
s_this_host (xs_hostops_t *self, const char *object, xs_err_t *err)
{
    char *host = NULL;
    if (self->host_uuid) {
        host = xs_xenapi_host_get_by_uuid (self->client, self->host_uuid, err);
        if (!host)
            s_fail (self, err, object, "host.get_by_uuid");
    }
    else {
        host = xs_xenapi_session_get_this_host (self->client, err);
        if (!host)
            s_fail (self, err, object, "session.get_this_host");
    }
    return host;
}

/* A refusal that xapi itself would give with `code` [params...]. */
static int
s_refuse (xs_hostops_t *self, xs_err_t *err, const char *code, const char *p1, const char *p2)
{
    s_clear_error (self);
    self->error_code = xs_strdup (code);
    self->error_params = xs_value_array_new ();
    if (p1)
        xs_value_append_str (self->error_params, p1);
    if (p2)
        xs_value_append_str (self->error_params, p2);
    (void) err;
    return -1;
}

static json_t *
s_json_string (const char *text)
{
    json_t *json = json_string (text ? text : "");
    /* Text from xapi that is not UTF-8 would make json_string fail. */
    return json ? json : json_string ("?");
}

/* -------------------------------------------------------------------- */
/*  Small helpers                                                       */
/* -------------------------------------------------------------------- */

/* device_config object of strings -> xs_value struct (caller destroys). */
static xs_value_t *
s_map_from_json (const json_t *object, const char *what, xs_err_t *err)
{
    xs_value_t *map = xs_value_struct_new ();
    if (!object)
        return map;
    if (!json_is_object (object)) {
        xs_value_destroy (&map);
        xs_err_set (err, XS_EINVAL, "%s is not an object of strings", what);
        return NULL;
    }
    const char *key = NULL;
    json_t *value = NULL;
    json_object_foreach ((json_t *) object, key, value) {
        if (!json_is_string (value)) {
            xs_value_destroy (&map);
            xs_err_set (err, XS_EINVAL, "%s: value of key '%s' is not a string", what, key);
            return NULL;
        }
        xs_value_set_str (map, key, json_string_value (value));
    }
    return map;
}

static int
s_field_int64 (const xs_value_t *record, const char *field, int64_t *value_p)
{
    return xs_xenapi_field_int64 (record, field, value_p, NULL);
}

static bool
s_field_bool (const xs_value_t *record, const char *field)
{
    const xs_value_t *value = xs_value_get (record, field);
    if (xs_value_type (value) == XS_VALUE_BOOL)
        return xs_value_bool (value);
    const char *text = xs_value_str (value);
    return text && (strcmp (text, "true") == 0 || strcmp (text, "1") == 0);
}

static void
s_label_of (char *buffer, size_t size, const char *volume_uuid)
{
    snprintf (buffer, size, S_LABEL_PREFIX "%s", volume_uuid);
}

/* SR ref of `sr_uuid`; NULL + err (XS_ENOTFOUND when xapi does not know it). */
static char *
s_sr_ref (xs_hostops_t *self, const char *sr_uuid, xs_err_t *err)
{
    char object [64];
    snprintf (object, sizeof object, "SR %s", sr_uuid);
    char *sr = xs_xenapi_sr_get_by_uuid (self->client, sr_uuid, err);
    if (!sr)
        s_fail (self, err, object, "SR.get_by_uuid");
    return sr;
}

/* The uuid field of a record fetched with `getter`; caller frees. */
static char *
s_sr_uuid_of (xs_hostops_t *self, const char *sr, xs_err_t *err)
{
    xs_value_t *record = xs_xenapi_sr_get_record (self->client, sr, err);
    if (!record) {
        s_fail (self, err, "SR of the VDI", "SR.get_record");
        return NULL;
    }
    const char *record_uuid = xs_value_get_str (record, "uuid");
    char *uuid = xs_strdup (record_uuid ? record_uuid : "");
    xs_value_destroy (&record);
    return uuid;
}

/* The capabilities of SR type `type`, from SM.get_all_records: the SM
   record's "capabilities" list, or the keys of its "features" map. A new
   JSON array (empty when the type has no SM record). */
static json_t *
s_capabilities (xs_hostops_t *self, const char *type, const char *object, xs_err_t *err)
{
    xs_value_t *records = xs_xenapi_sm_get_all_records (self->client, err);
    if (!records) {
        s_fail (self, err, object, "SM.get_all_records");
        return NULL;
    }
    json_t *list = json_array ();
    size_t count = xs_value_size (records);
    for (size_t i = 0; i < count; i++) {
        const xs_value_t *record = xs_value_value_at (records, i);
        const char *sm_type = xs_value_get_str (record, "type");
        if (!sm_type || strcmp (sm_type, type) != 0)
            continue;
        const xs_value_t *caps = xs_value_get (record, "capabilities");
        for (size_t k = 0; k < xs_value_size (caps); k++) {
            const char *cap = xs_value_str (xs_value_at (caps, k));
            if (cap)
                json_array_append_new (list, s_json_string (cap));
        }
        if (json_array_size (list) == 0) {
            const xs_value_t *features = xs_value_get (record, "features");
            for (size_t k = 0; k < xs_value_size (features); k++)
                json_array_append_new (list, s_json_string (xs_value_key_at (features, k)));
        }
        break;
    }
    xs_value_destroy (&records);
    return list;
}

static bool
s_has_capability (const json_t *list, const char *capability)
{
    size_t index;
    json_t *item;
    json_array_foreach (list, index, item)
        if (json_is_string (item) && strcmp (json_string_value (item), capability) == 0)
            return true;
    return false;
}

/* -------------------------------------------------------------------- */
/*  host_info                                                           */
/* -------------------------------------------------------------------- */

json_t *
xs_hostops_host_info (xs_hostops_t *self, xs_err_t *err)
{
    json_t *result = NULL;
    char *host = NULL;
    char *master = NULL;
    xs_value_t *record = NULL;
    xs_value_t *pools = NULL;
    xs_value_t *master_record = NULL;

    s_clear_error (self);
    host = s_this_host (self, "this host", err);
    if (!host) {
        goto out;
    }
    record = xs_xenapi_host_get_record (self->client, host, err);
    if (!record) {
        s_fail (self, err, "this host", "host.get_record");
        goto out;
    }
    pools = xs_xenapi_pool_get_all (self->client, err);
    if (!pools) {
        s_fail (self, err, "this host", "pool.get_all");
        goto out;
    }
    const char *pool = xs_value_str (xs_value_at (pools, 0));
    if (pool) {
        master = xs_xenapi_pool_get_master (self->client, pool, err);
        if (!master) {
            s_fail (self, err, "this host's pool", "pool.get_master");
            goto out;
        }
    }
    const char *master_uuid = xs_value_get_str (record, "uuid");
    if (master && strcmp (master, host) != 0) {
        master_record = xs_xenapi_host_get_record (self->client, master, err);
        if (!master_record) {
            s_fail (self, err, "the pool master", "host.get_record");
            goto out;
        }
        master_uuid = xs_value_get_str (master_record, "uuid");
    }
    result = json_object ();
    json_object_set_new (result, "uuid", s_json_string (xs_value_get_str (record, "uuid")));
    json_object_set_new (result, "name_label", s_json_string (xs_value_get_str (record, "name_label")));
    json_object_set_new (result, "hostname", s_json_string (xs_value_get_str (record, "hostname")));
    json_object_set_new (result, "address", s_json_string (xs_value_get_str (record, "address")));
    json_object_set_new (result, "is_pool_master", json_boolean (!master || strcmp (master, host) == 0));
    json_object_set_new (result, "pool_master_uuid", s_json_string (master_uuid));
out:
    free (host);
    free (master);
    xs_value_destroy (&record);
    xs_value_destroy (&pools);
    xs_value_destroy (&master_record);
    return result;
}

/* -------------------------------------------------------------------- */
/*  SRs                                                                 */
/* -------------------------------------------------------------------- */

/* This host's PBD of `sr` (caller frees) with its plugged state, or NULL
   with *found false when there is none; -1 on error. */
static int
s_find_pbd (xs_hostops_t *self, const char *sr, const char *host, const char *object,
            char **pbd_p, bool *attached_p, xs_err_t *err)
{
    *pbd_p = NULL;
    *attached_p = false;
    xs_value_t *pbds = xs_xenapi_sr_get_PBDs (self->client, sr, err);
    if (!pbds)
        return s_fail (self, err, object, "SR.get_PBDs");
    int rc = 0;
    for (size_t i = 0; i < xs_value_size (pbds) && !*pbd_p; i++) {
        const char *pbd = xs_value_str (xs_value_at (pbds, i));
        if (!pbd)
            continue;
        xs_value_t *record = xs_xenapi_pbd_get_record (self->client, pbd, err);
        if (!record) {
            rc = s_fail (self, err, object, "PBD.get_record");
            break;
        }
        const char *pbd_host = xs_value_get_str (record, "host");
        if (pbd_host && strcmp (pbd_host, host) == 0) {
            *pbd_p = xs_strdup (pbd);
            *attached_p = s_field_bool (record, "currently_attached");
        }
        xs_value_destroy (&record);
    }
    xs_value_destroy (&pbds);
    return rc;
}

json_t *
xs_hostops_sr_attach (xs_hostops_t *self, const xs_hostops_sr_spec_t *spec, xs_err_t *err)
{
    json_t *result = NULL;
    xs_value_t *device_config = NULL;
    xs_value_t *record = NULL;
    char *host = NULL;
    char *sr = NULL;
    char *pbd = NULL;
    char *sr_uuid = NULL;
    bool created = false, introduced = false, pbd_created = false, plugged = false;
    char object [160];
    char label [128];

    s_clear_error (self);
    if (!spec || !spec->type) {
        xs_err_set (err, XS_EINVAL, "SR attach: no SR type given");
        goto out;
    }
    if (spec->sr_uuid)
        snprintf (object, sizeof object, "SR %s", spec->sr_uuid);
    else
        snprintf (object, sizeof object, "new %s SR", spec->type);
    const xs_srtype_t *type = xs_srtype_find (spec->type);
    if (!type) {
        char *known = xs_srtype_known_list ();
        xs_err_set (err, XS_EINVAL, "%s: SR type '%s' unknown (known types: %s)", object,
                    spec->type, known ? known : "?");
        free (known);
        goto out;
    }
    device_config = s_map_from_json (spec->device_config, "device_config", err);
    if (!device_config) {
        xs_err_prefix (err, "%s", object);
        goto out;
    }
    snprintf (label, sizeof label, "%s", spec->name_label ? spec->name_label : "");
    if (!*label)
        snprintf (label, sizeof label, "xensm %s", type->name);

    host = s_this_host (self, object, err);
    if (!host) {
        goto out;
    }
    xs_xenapi_sr_args_t args = {
        .host = host,
        .uuid = spec->sr_uuid,
        .device_config = device_config,
        .physical_size = 0,
        .name_label = label,
        .name_description = spec->name_description,
        .type = type->name,
        .content_type = "user",
        .shared = type->shared,
        .sm_config = NULL,
    };
    if (spec->sr_uuid) {
        sr = xs_xenapi_sr_get_by_uuid (self->client, spec->sr_uuid, err);
        if (!sr && err && err->kind != XS_ENOTFOUND) {
            s_fail (self, err, object, "SR.get_by_uuid");
            goto out;
        }
        if (!sr) {
            xs_info ("%s: not known to xapi, introducing it", object);
            sr = xs_xenapi_sr_introduce (self->client, &args, err);
            if (!sr) {
                s_fail (self, err, object, "SR.introduce");
                goto out;
            }
            introduced = true;
        }
    }
    else {
        xs_notice ("%s: creating a new SR (this formats the storage)", object);
        sr = xs_xenapi_sr_create (self->client, &args, err);
        if (!sr) {
            s_fail (self, err, object, "SR.create");
            goto out;
        }
        created = true;
    }
    record = xs_xenapi_sr_get_record (self->client, sr, err);
    if (!record) {
        s_fail (self, err, object, "SR.get_record");
        goto out;
    }
    const char *record_uuid = xs_value_get_str (record, "uuid");
    sr_uuid = xs_strdup (record_uuid ? record_uuid : "");
    snprintf (object, sizeof object, "SR %s", sr_uuid);

    bool attached = false;
    if (s_find_pbd (self, sr, host, object, &pbd, &attached, err) != 0)
        goto out;
    if (!pbd) {
        pbd = xs_xenapi_pbd_create (self->client, host, sr, device_config, NULL, err);
        if (pbd)
            pbd_created = true;
        else
        if (xs_xenapi_error_code (self->client)
        &&  strcmp (xs_xenapi_error_code (self->client), "PBD_EXISTS") == 0) {
            /* Made meanwhile by someone else: fine, use it. */
            if (s_find_pbd (self, sr, host, object, &pbd, &attached, err) != 0)
                goto out;
            if (!pbd) {
                xs_err_set (err, XS_EXAPI, "%s: PBD.create said PBD_EXISTS but this host has no PBD", object);
                goto out;
            }
        }
        else {
            s_fail (self, err, object, "PBD.create");
            goto out;
        }
    }
    if (!attached) {
        if (xs_xenapi_pbd_plug (self->client, pbd, err) != 0) {
            s_fail (self, err, object, "PBD.plug");
            goto out;
        }
        plugged = true;
    }
    if (xs_xenapi_sr_scan (self->client, sr, err) != 0) {
        s_fail (self, err, object, "SR.scan");
        goto out;
    }
    result = json_object ();
    json_object_set_new (result, "sr_uuid", s_json_string (sr_uuid));
    json_object_set_new (result, "type", s_json_string (type->name));
    json_object_set_new (result, "shared", json_boolean (type->shared));
    json_object_set_new (result, "created", json_boolean (created));
    json_object_set_new (result, "introduced", json_boolean (introduced));
    json_object_set_new (result, "pbd_created", json_boolean (pbd_created));
    json_object_set_new (result, "plugged", json_boolean (plugged));
out:
    xs_value_destroy (&device_config);
    xs_value_destroy (&record);
    free (host);
    free (sr);
    free (pbd);
    free (sr_uuid);
    return result;
}

json_t *
xs_hostops_sr_detach (xs_hostops_t *self, const char *sr_uuid, xs_err_t *err)
{
    json_t *result = NULL;
    xs_value_t *pbds = NULL;
    char *sr = NULL;
    int unplugged = 0;
    char object [64];

    s_clear_error (self);
    snprintf (object, sizeof object, "SR %s", sr_uuid);
    sr = xs_xenapi_sr_get_by_uuid (self->client, sr_uuid, err);
    if (!sr) {
        if (err && err->kind == XS_ENOTFOUND) {
            xs_info ("%s: not known to xapi, already detached", object);
            result = json_pack ("{s:s, s:b, s:i}", "sr_uuid", sr_uuid, "forgotten", 0,
                                "unplugged", 0);
            xs_err_clear (err);
        }
        else
            s_fail (self, err, object, "SR.get_by_uuid");
        goto out;
    }
    pbds = xs_xenapi_sr_get_PBDs (self->client, sr, err);
    if (!pbds) {
        s_fail (self, err, object, "SR.get_PBDs");
        goto out;
    }
    for (size_t i = 0; i < xs_value_size (pbds); i++) {
        const char *pbd = xs_value_str (xs_value_at (pbds, i));
        if (!pbd)
            continue;
        xs_value_t *record = xs_xenapi_pbd_get_record (self->client, pbd, err);
        if (!record) {
            s_fail (self, err, object, "PBD.get_record");
            goto out;
        }
        bool attached = s_field_bool (record, "currently_attached");
        xs_value_destroy (&record);
        if (!attached)
            continue;
        if (xs_xenapi_pbd_unplug (self->client, pbd, err) != 0) {
            s_fail (self, err, object, "PBD.unplug");
            goto out;
        }
        unplugged++;
    }
    /* SR.forget drops xapi's record of the SR and its PBDs; the data on
       the storage stays. Never SR.destroy. */
    if (xs_xenapi_sr_forget (self->client, sr, err) != 0) {
        s_fail (self, err, object, "SR.forget");
        goto out;
    }
    result = json_pack ("{s:s, s:b, s:i}", "sr_uuid", sr_uuid, "forgotten", 1,
                        "unplugged", unplugged);
out:
    xs_value_destroy (&pbds);
    free (sr);
    return result;
}

json_t *
xs_hostops_sr_stats (xs_hostops_t *self, const char *sr_uuid, xs_err_t *err)
{
    json_t *result = NULL;
    json_t *caps = NULL;
    xs_value_t *record = NULL;
    char *sr = NULL;
    char object [64];

    s_clear_error (self);
    snprintf (object, sizeof object, "SR %s", sr_uuid);
    sr = s_sr_ref (self, sr_uuid, err);
    if (!sr)
        goto out;
    record = xs_xenapi_sr_get_record (self->client, sr, err);
    if (!record) {
        s_fail (self, err, object, "SR.get_record");
        goto out;
    }
    int64_t sizes [3] = { 0, 0, 0 };
    const char *fields [3] = { "physical_size", "physical_utilisation", "virtual_allocation" };
    for (int i = 0; i < 3; i++)
        if (s_field_int64 (record, fields [i], &sizes [i]) != 0) {
            xs_err_set (err, XS_EINVAL, "%s: SR.get_record gave no usable %s", object, fields [i]);
            goto out;
        }
    const char *type = xs_value_get_str (record, "type");
    caps = s_capabilities (self, type ? type : "", object, err);
    if (!caps)
        goto out;
    result = json_object ();
    json_object_set_new (result, "sr_uuid", s_json_string (sr_uuid));
    json_object_set_new (result, "type", s_json_string (type));
    json_object_set_new (result, "name_label", s_json_string (xs_value_get_str (record, "name_label")));
    json_object_set_new (result, "shared", json_boolean (s_field_bool (record, "shared")));
    for (int i = 0; i < 3; i++)
        json_object_set_new (result, fields [i], json_integer (sizes [i]));
    json_object_set_new (result, "capabilities", caps);
    caps = NULL;
out:
    json_decref (caps);
    xs_value_destroy (&record);
    free (sr);
    return result;
}

/* -------------------------------------------------------------------- */
/*  VDIs                                                                */
/* -------------------------------------------------------------------- */

/* Finds the VDI of `volume_uuid` (in SR ref `sr` when not NULL): 0 with
   *vdi_p and *record_p (caller frees both) or with both NULL when there is
   none; -1 on error. */
static int
s_vdi_lookup (xs_hostops_t *self, const char *volume_uuid, const char *sr, char **vdi_p,
              xs_value_t **record_p, xs_err_t *err)
{
    char label [80];
    char object [64];
    *vdi_p = NULL;
    *record_p = NULL;
    s_label_of (label, sizeof label, volume_uuid);
    snprintf (object, sizeof object, "volume %s", volume_uuid);
    xs_value_t *refs = xs_xenapi_vdi_get_by_name_label (self->client, label, err);
    if (!refs)
        return s_fail (self, err, object, "VDI.get_by_name_label");
    int rc = 0;
    for (size_t i = 0; i < xs_value_size (refs) && !*vdi_p; i++) {
        const char *vdi = xs_value_str (xs_value_at (refs, i));
        if (!vdi)
            continue;
        xs_value_t *record = xs_xenapi_vdi_get_record (self->client, vdi, err);
        if (!record) {
            if (err && err->kind == XS_ENOTFOUND)
                continue;       /* destroyed meanwhile */
            rc = s_fail (self, err, object, "VDI.get_record");
            break;
        }
        const char *tag = xs_value_get_str (xs_value_get (record, "other_config"), S_VOLUME_KEY);
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

/* The SR ref of sr_uuid, or NULL when sr_uuid is NULL. -1 on error. */
static int
s_optional_sr (xs_hostops_t *self, const char *sr_uuid, char **sr_p, xs_err_t *err)
{
    *sr_p = NULL;
    if (!sr_uuid)
        return 0;
    *sr_p = s_sr_ref (self, sr_uuid, err);
    return *sr_p ? 0 : -1;
}

/* {volume_uuid, vdi_uuid, sr_uuid, virtual_size} of a VDI record. */
static json_t *
s_vdi_json (xs_hostops_t *self, const char *volume_uuid, const xs_value_t *record, xs_err_t *err)
{
    char *sr_uuid = s_sr_uuid_of (self, xs_value_get_str (record, "SR"), err);
    if (!sr_uuid)
        return NULL;
    int64_t size = 0, used = 0;
    s_field_int64 (record, "virtual_size", &size);
    s_field_int64 (record, "physical_utilisation", &used);
    json_t *json = json_object ();
    json_object_set_new (json, "volume_uuid", s_json_string (volume_uuid));
    json_object_set_new (json, "vdi_uuid", s_json_string (xs_value_get_str (record, "uuid")));
    json_object_set_new (json, "sr_uuid", s_json_string (sr_uuid));
    json_object_set_new (json, "virtual_size", json_integer (size));
    json_object_set_new (json, "size", json_integer (size));
    json_object_set_new (json, "physical_utilisation", json_integer (used));
    json_object_set_new (json, "is_a_snapshot", json_boolean (s_field_bool (record, "is_a_snapshot")));
    free (sr_uuid);
    return json;
}

json_t *
xs_hostops_vdi_find (xs_hostops_t *self, const char *volume_uuid, const char *sr_uuid,
                     xs_err_t *err)
{
    json_t *result = NULL;
    char *sr = NULL;
    char *vdi = NULL;
    xs_value_t *record = NULL;

    s_clear_error (self);
    if (s_optional_sr (self, sr_uuid, &sr, err) != 0)
        goto out;
    if (s_vdi_lookup (self, volume_uuid, sr, &vdi, &record, err) != 0)
        goto out;
    if (!vdi) {
        xs_err_set (err, XS_ENOTFOUND, "volume %s: no VDI found%s%s", volume_uuid,
                    sr_uuid ? " in SR " : "", sr_uuid ? sr_uuid : "");
        goto out;
    }
    result = s_vdi_json (self, volume_uuid, record, err);
out:
    free (sr);
    free (vdi);
    xs_value_destroy (&record);
    return result;
}

json_t *
xs_hostops_vdi_create (xs_hostops_t *self, const char *sr_uuid, const char *volume_uuid,
                       int64_t size, const char *description, xs_err_t *err)
{
    json_t *result = NULL;
    char *sr = NULL;
    char *vdi = NULL;
    xs_value_t *record = NULL;
    xs_value_t *other_config = NULL;
    char object [64];
    char label [80];
    char default_description [96];

    s_clear_error (self);
    snprintf (object, sizeof object, "volume %s", volume_uuid);
    if (size <= 0) {
        xs_err_set (err, XS_EINVAL, "%s: size %lld is not a positive number of bytes", object,
                    (long long) size);
        goto out;
    }
    sr = s_sr_ref (self, sr_uuid, err);
    if (!sr)
        goto out;
    if (s_vdi_lookup (self, volume_uuid, NULL, &vdi, &record, err) != 0)
        goto out;
    if (vdi) {
        const char *vdi_sr = xs_value_get_str (record, "SR");
        if (!vdi_sr || strcmp (vdi_sr, sr) != 0) {
            xs_err_set (err, XS_ECONFLICT, "%s: already has VDI %s in another SR than %s", object,
                        xs_value_get_str (record, "uuid"), sr_uuid);
            goto out;
        }
        xs_info ("%s: VDI %s already exists", object, xs_value_get_str (record, "uuid"));
        result = s_vdi_json (self, volume_uuid, record, err);
        if (result)
            json_object_set_new (result, "created", json_false ());
        goto out;
    }
    s_label_of (label, sizeof label, volume_uuid);
    snprintf (default_description, sizeof default_description, "xensm volume %s", volume_uuid);
    other_config = xs_value_struct_new ();
    xs_value_set_str (other_config, S_VOLUME_KEY, volume_uuid);
    xs_xenapi_vdi_args_t args = {
        .sr = sr,
        .name_label = label,
        .name_description = description ? description : default_description,
        .virtual_size = size,
        .type = "user",
        .other_config = other_config,
    };
    vdi = xs_xenapi_vdi_create (self->client, &args, err);
    if (!vdi) {
        s_fail (self, err, object, "VDI.create");
        goto out;
    }
    record = xs_xenapi_vdi_get_record (self->client, vdi, err);
    if (!record) {
        s_fail (self, err, object, "VDI.get_record");
        goto out;
    }
    result = s_vdi_json (self, volume_uuid, record, err);
    if (result)
        json_object_set_new (result, "created", json_true ());
out:
    free (sr);
    free (vdi);
    xs_value_destroy (&record);
    xs_value_destroy (&other_config);
    return result;
}

json_t *
xs_hostops_vdi_destroy (xs_hostops_t *self, const char *volume_uuid, const char *sr_uuid,
                        xs_err_t *err)
{
    json_t *result = NULL;
    char *sr = NULL;
    char *vdi = NULL;
    xs_value_t *record = NULL;
    char object [64];
    int destroyed = 0;

    s_clear_error (self);
    snprintf (object, sizeof object, "volume %s", volume_uuid);
    if (s_optional_sr (self, sr_uuid, &sr, err) != 0) {
        if (err && err->kind == XS_ENOTFOUND) {
            /* No such SR: nothing of the volume can be in it. */
            xs_err_clear (err);
            result = json_pack ("{s:s, s:i}", "volume_uuid", volume_uuid, "destroyed", 0);
        }
        goto out;
    }
    /* A volume has one VDI; a second (left by a crash) goes too. */
    for (int round = 0; round < 16; round++) {
        free (vdi);
        xs_value_destroy (&record);
        if (s_vdi_lookup (self, volume_uuid, sr, &vdi, &record, err) != 0)
            goto out;
        if (!vdi)
            break;
        if (xs_xenapi_vdi_destroy (self->client, vdi, err) != 0) {
            if (err && err->kind == XS_ENOTFOUND)
                continue;       /* gone meanwhile */
            s_fail (self, err, object, "VDI.destroy");
            goto out;
        }
        destroyed++;
    }
    xs_err_clear (err);
    result = json_pack ("{s:s, s:i}", "volume_uuid", volume_uuid, "destroyed", destroyed);
out:
    free (sr);
    free (vdi);
    xs_value_destroy (&record);
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
    xs_value_set_str (map, S_VOLUME_KEY, volume_uuid);
    xs_value_set_str (map, S_PARENT_KEY, parent_uuid);
    params = xs_value_array_new ();
    xs_value_append_str (params, vdi);
    xs_value_append (params, &map);
    reply = xs_xenapi_call (self->client, "VDI.set_other_config", params, err);
    if (!reply) {
        s_fail (self, err, object, "VDI.set_other_config");
        goto out;
    }
    xs_value_destroy (&reply);
    xs_value_destroy (&params);
    char label [80];
    s_label_of (label, sizeof label, volume_uuid);
    params = xs_value_array_new ();
    xs_value_append_str (params, vdi);
    xs_value_append_str (params, label);
    reply = xs_xenapi_call (self->client, "VDI.set_name_label", params, err);
    if (!reply) {
        s_fail (self, err, object, "VDI.set_name_label");
        goto out;
    }
    rc = 0;
out:
    xs_value_destroy (&map);
    xs_value_destroy (&params);
    xs_value_destroy (&reply);
    return rc;
}

static json_t *
s_vdi_copy (xs_hostops_t *self, bool snapshot, const char *volume_uuid,
            const char *new_volume_uuid, const char *sr_uuid, xs_err_t *err)
{
    const char *method = snapshot ? "VDI.snapshot" : "VDI.clone";
    const char *capability = snapshot ? "VDI_SNAPSHOT" : "VDI_CLONE";
    json_t *result = NULL;
    json_t *caps = NULL;
    char *sr = NULL;
    char *source = NULL;
    char *copy = NULL;
    char *source_sr_uuid = NULL;
    xs_value_t *source_record = NULL;
    xs_value_t *record = NULL;
    xs_value_t *sr_record = NULL;
    char object [64];

    s_clear_error (self);
    snprintf (object, sizeof object, "volume %s", new_volume_uuid);
    if (strcmp (volume_uuid, new_volume_uuid) == 0) {
        xs_err_set (err, XS_EINVAL, "%s: a %s needs a new volume uuid, not its parent's", object,
                    snapshot ? "snapshot" : "clone");
        goto out;
    }
    if (s_optional_sr (self, sr_uuid, &sr, err) != 0)
        goto out;
    /* Made already (a repeated request)? */
    if (s_vdi_lookup (self, new_volume_uuid, sr, &copy, &record, err) != 0)
        goto out;
    if (copy) {
        const char *parent = xs_value_get_str (xs_value_get (record, "other_config"), S_PARENT_KEY);
        if (!parent || strcmp (parent, volume_uuid) != 0) {
            xs_err_set (err, XS_ECONFLICT, "%s: already has VDI %s, which is not a copy of volume %s",
                        object, xs_value_get_str (record, "uuid"), volume_uuid);
            goto out;
        }
        result = s_vdi_json (self, new_volume_uuid, record, err);
        if (result) {
            json_object_set_new (result, "parent_volume_uuid", s_json_string (volume_uuid));
            json_object_set_new (result, "created", json_false ());
            json_object_set_new (result, "snapshot", json_boolean (snapshot));
        }
        goto out;
    }
    if (s_vdi_lookup (self, volume_uuid, sr, &source, &source_record, err) != 0)
        goto out;
    if (!source) {
        xs_err_set (err, XS_ENOTFOUND, "volume %s: no VDI found%s%s (cannot %s it)", volume_uuid,
                    sr_uuid ? " in SR " : "", sr_uuid ? sr_uuid : "", snapshot ? "snapshot" : "clone");
        goto out;
    }
    const char *source_sr = xs_value_get_str (source_record, "SR");
    sr_record = xs_xenapi_sr_get_record (self->client, source_sr ? source_sr : "", err);
    if (!sr_record) {
        s_fail (self, err, object, "SR.get_record");
        goto out;
    }
    const char *type = xs_value_get_str (sr_record, "type");
    const char *source_uuid = xs_value_get_str (sr_record, "uuid");
    source_sr_uuid = xs_strdup (source_uuid ? source_uuid : "");
    caps = s_capabilities (self, type ? type : "", object, err);
    if (!caps)
        goto out;
    if (!s_has_capability (caps, capability)) {
        s_refuse (self, err, "SR_OPERATION_NOT_SUPPORTED", source_sr_uuid, capability);
        xs_err_set (err, XS_ECONFLICT, "%s: cannot %s volume %s: SR %s (type %s) does not support %s",
                    object, snapshot ? "snapshot" : "clone", volume_uuid, source_sr_uuid,
                    type ? type : "?", capability);
        goto out;
    }
    copy = snapshot ? xs_xenapi_vdi_snapshot (self->client, source, NULL, err)
                    : xs_xenapi_vdi_clone (self->client, source, NULL, err);
    if (!copy) {
        s_fail (self, err, object, method);
        goto out;
    }
    record = xs_xenapi_vdi_get_record (self->client, copy, err);
    if (!record)
        s_fail (self, err, object, "VDI.get_record");
    if (!record
    ||  s_vdi_tag (self, copy, record, new_volume_uuid, volume_uuid, object, err) != 0) {
        /* An untagged copy carries the parent's name and tag, so it would
           be found as the parent's VDI: remove it (best effort). */
        xs_err_t ignored;
        if (xs_xenapi_vdi_destroy (self->client, copy, &ignored) != 0)
            xs_warning ("%s: cannot remove the untagged %s copy: %s", object, method, ignored.msg);
        goto out;
    }
    xs_value_destroy (&record);
    record = xs_xenapi_vdi_get_record (self->client, copy, err);
    if (!record) {
        s_fail (self, err, object, "VDI.get_record");
        goto out;
    }
    result = s_vdi_json (self, new_volume_uuid, record, err);
    if (result) {
        json_object_set_new (result, "parent_volume_uuid", s_json_string (volume_uuid));
        json_object_set_new (result, "created", json_true ());
        json_object_set_new (result, "snapshot", json_boolean (snapshot));
    }
out:
    json_decref (caps);
    free (sr);
    free (source);
    free (copy);
    free (source_sr_uuid);
    xs_value_destroy (&source_record);
    xs_value_destroy (&record);
    xs_value_destroy (&sr_record);
    return result;
}

json_t *
xs_hostops_vdi_clone (xs_hostops_t *self, const char *volume_uuid, const char *new_volume_uuid,
                      const char *sr_uuid, xs_err_t *err)
{
    return s_vdi_copy (self, false, volume_uuid, new_volume_uuid, sr_uuid, err);
}

json_t *
xs_hostops_vdi_snapshot (xs_hostops_t *self, const char *volume_uuid, const char *new_volume_uuid,
                         const char *sr_uuid, xs_err_t *err)
{
    return s_vdi_copy (self, true, volume_uuid, new_volume_uuid, sr_uuid, err);
}
