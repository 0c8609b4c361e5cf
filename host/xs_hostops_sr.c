/*  xs_hostops_sr: attaching, detaching and measuring SRs (see xs_hostops.h). */
#include "xs_hostops_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"
#include "xs_redact.h"
#include "xs_srtype.h"

/* ---------------------------------------------------------------------
   sr_attach
   --------------------------------------------------------------------- */

/* One sr_attach under way. */
typedef struct {
    const xs_srtype_t *type;
    char object [160];          /* "SR <uuid>" or "new <type> SR", for messages */
    char label [128];           /* the SR's name_label                          */
    xs_value_t *device_config;
    char *host;                 /* this host's ref                              */
    char *sr;                   /* the SR's ref                                 */
    char *sr_uuid;
    char *pbd;                  /* this host's PBD of the SR                    */
    bool attached;              /* that PBD is plugged                          */
    bool created, introduced, pbd_created, plugged;
    bool owned;                 /* xensm created or introduced the SR (now or
                                   before: its other_config tag)                */
} s_attach_t;

static void
s_attach_free (s_attach_t *a)
{
    xs_value_destroy (&a->device_config);
    free (a->host);
    free (a->sr);
    free (a->sr_uuid);
    free (a->pbd);
}

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

/* Checks the spec: a known SR type, a device_config of strings; names the
   SR and its label. */
static int
s_attach_check (const xs_hostops_sr_spec_t *spec, s_attach_t *a, xs_err_t *err)
{
    if (!spec || !spec->type)
        return xs_err_set (err, XS_EINVAL, "SR attach: no SR type given");
    if (spec->sr_uuid)
        snprintf (a->object, sizeof a->object, "SR %s", spec->sr_uuid);
    else
        snprintf (a->object, sizeof a->object, "new %s SR", spec->type);
    a->type = xs_srtype_find (spec->type);
    if (!a->type) {
        char *known = xs_srtype_known_list ();
        xs_err_set (err, XS_EINVAL, "%s: SR type '%s' unknown (known types: %s)", a->object,
                    spec->type, known ? known : "?");
        free (known);
        return -1;
    }
    a->device_config = s_map_from_json (spec->device_config, "device_config", err);
    if (!a->device_config) {
        xs_err_prefix (err, "%s", a->object);
        return -1;
    }
    snprintf (a->label, sizeof a->label, "%s", spec->name_label ? spec->name_label : "");
    if (!*a->label)
        snprintf (a->label, sizeof a->label, "xensm %s", a->type->name);
    return 0;
}

/* The SR as xapi knows it: SR.get_by_uuid, else SR.introduce; SR.create
   when the spec has no uuid. Then its uuid from its record. */
static int
s_sr_ensure (xs_hostops_t *self, const xs_hostops_sr_spec_t *spec, s_attach_t *a, xs_err_t *err)
{
    xs_xenapi_sr_args_t args = {
        .host = a->host,
        .uuid = spec->sr_uuid,
        .device_config = a->device_config,
        .physical_size = 0,
        .name_label = a->label,
        .name_description = spec->name_description,
        .type = a->type->name,
        .content_type = "user",
        .shared = a->type->shared,
        .sm_config = NULL,
    };
    if (spec->sr_uuid) {
        a->sr = xs_xenapi_sr_get_by_uuid (self->client, spec->sr_uuid, err);
        if (!a->sr && err && err->kind != XS_ENOTFOUND)
            return xs_hostops_xapi_failed (self, err, a->object, "SR.get_by_uuid");
        if (!a->sr) {
            xs_info ("%s: not known to xapi, introducing it", a->object);
            a->sr = xs_xenapi_sr_introduce (self->client, &args, err);
            const char *code = xs_xenapi_error_code (self->client);
            if (!a->sr && code && strcmp (code, "SR_UUID_EXISTS") == 0) {
                /* Another agent of the pool introduced it meanwhile: the
                   expected outcome of the race, not an error. */
                xs_info ("%s: introduced meanwhile by another agent", a->object);
                a->sr = xs_xenapi_sr_get_by_uuid (self->client, spec->sr_uuid, err);
                if (!a->sr)
                    return xs_hostops_xapi_failed (self, err, a->object, "SR.get_by_uuid");
            }
            else
            if (!a->sr)
                return xs_hostops_xapi_failed (self, err, a->object, "SR.introduce");
            else
                a->introduced = true;
        }
    }
    else {
        xs_notice ("%s: creating a new SR (this formats the storage)", a->object);
        /* No uuid yet: the task is tagged with the label (blanks as '_'). */
        char label [sizeof a->label];
        snprintf (label, sizeof label, "%s", a->label);
        for (char *c = label; *c; c++)
            if (*c == ' ' || *c == '\t' || *c == '\n')
                *c = '_';
        xs_hostops_async_next (self, "SR.create", label);
        a->sr = xs_xenapi_sr_create (self->client, &args, err);
        if (!a->sr)
            return xs_hostops_xapi_failed (self, err, a->object, "SR.create");
        a->created = true;
    }
    xs_value_t *record = xs_xenapi_sr_get_record (self->client, a->sr, err);
    if (!record)
        return xs_hostops_xapi_failed (self, err, a->object, "SR.get_record");
    const char *record_uuid = xs_value_get_str (record, "uuid");
    a->sr_uuid = xs_strdup (record_uuid ? record_uuid : "");
    snprintf (a->object, sizeof a->object, "SR %s", a->sr_uuid);
    const char *owner = xs_value_get_str (xs_value_get (record, "other_config"),
                                          XS_HOSTOPS_SR_KEY);
    a->owned = owner && *owner;
    xs_value_destroy (&record);
    if (a->created || a->introduced) {
        /* What xensm attached, it may detach (SR.forget) later; an SR the
           pool already had, never. A tag that cannot be set leaves the SR
           the pool's: kept on detach, which is the safe side. */
        if (xs_hostops_tag (self, "SR.add_to_other_config", a->sr, XS_HOSTOPS_SR_KEY,
                            a->created ? "created" : "introduced", a->object, err) == 0)
            a->owned = true;
        else {
            xs_warning ("%s: %s; the SR counts as the pool's (never forgotten by xensm)",
                        a->object, err->msg);
            xs_hostops_reset (self);
            xs_err_clear (err);
        }
    }
    return 0;
}

/* This host's PBD of the SR into a->pbd (NULL when there is none) with its
   plugged state. 0, or -1 + err. */
static int
s_pbd_find (xs_hostops_t *self, s_attach_t *a, xs_err_t *err)
{
    a->pbd = NULL;
    a->attached = false;
    xs_value_t *pbds = xs_xenapi_sr_get_PBDs (self->client, a->sr, err);
    if (!pbds)
        return xs_hostops_xapi_failed (self, err, a->object, "SR.get_PBDs");
    int rc = 0;
    for (size_t i = 0; i < xs_value_size (pbds) && !a->pbd; i++) {
        const char *pbd = xs_value_str (xs_value_at (pbds, i));
        if (!pbd)
            continue;
        xs_value_t *record = xs_xenapi_pbd_get_record (self->client, pbd, err);
        if (!record) {
            rc = xs_hostops_xapi_failed (self, err, a->object, "PBD.get_record");
            break;
        }
        const char *pbd_host = xs_value_get_str (record, "host");
        if (pbd_host && strcmp (pbd_host, a->host) == 0) {
            a->pbd = xs_strdup (pbd);
            a->attached = xs_hostops_field_bool (record, "currently_attached");
        }
        xs_value_destroy (&record);
    }
    xs_value_destroy (&pbds);
    return rc;
}

/* This host's PBD of the SR made when missing (PBD_EXISTS: made meanwhile
   by someone else, fine) and plugged when unplugged. */
static int
s_pbd_ensure_plugged (xs_hostops_t *self, s_attach_t *a, xs_err_t *err)
{
    if (s_pbd_find (self, a, err) != 0)
        return -1;
    if (!a->pbd) {
        a->pbd = xs_xenapi_pbd_create (self->client, a->host, a->sr, a->device_config, NULL, err);
        const char *code = xs_xenapi_error_code (self->client);
        if (a->pbd) {
            a->pbd_created = true;
            /* On the pool's SR, xensm removes on detach only the PBDs it
               made (PBD.create drops other_config: tag it afterwards). */
            if (!a->owned
            &&  xs_hostops_tag (self, "PBD.add_to_other_config", a->pbd, XS_HOSTOPS_PBD_KEY,
                                "created", a->object, err) != 0) {
                xs_warning ("%s: %s; this PBD stays on detach", a->object, err->msg);
                xs_hostops_reset (self);
                xs_err_clear (err);
            }
        }
        else
        if (code && strcmp (code, "PBD_EXISTS") == 0) {
            if (s_pbd_find (self, a, err) != 0)
                return -1;
            if (!a->pbd)
                return xs_err_set (err, XS_EXAPI,
                                   "%s: PBD.create said PBD_EXISTS but this host has no PBD",
                                   a->object);
        }
        else
            return xs_hostops_xapi_failed (self, err, a->object, "PBD.create");
    }
    if (!a->attached) {
        xs_hostops_async_next (self, "PBD.plug", a->sr_uuid);
        if (xs_xenapi_pbd_plug (self->client, a->pbd, err) != 0)
            return xs_hostops_xapi_failed (self, err, a->object, "PBD.plug");
        a->plugged = true;
    }
    return 0;
}

/* A failure's text may quote a secret of the device config itself (a
   driver's stderr echoing it, or xapi's SR_BACKEND_FAILURE text): every
   secret value of `config` (keys xs_redact_is_secret) becomes XS_REDACTED
   in err's message, which is logged and sent to the catalog. */
static void
s_redact_config (xs_err_t *err, const json_t *config)
{
    size_t n = json_object_size (config), i = 0;
    const char **values = xs_zalloc ((n + 1) * sizeof *values);
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) config, key, value)
        if (xs_redact_is_secret (key) && json_is_string (value))
            values [i++] = json_string_value (value);
    xs_redact_values (err->msg, sizeof err->msg, values);
    free (values);
}

/* The config's secret values are redacted from every later error and log
   line of this process (a VDI operation's driver text may quote them). */
static void
s_remember_secrets (const json_t *config)
{
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) config, key, value)
        if (xs_redact_is_secret (key) && json_is_string (value))
            xs_redact_remember (json_string_value (value));
}

json_t *
xs_hostops_sr_attach (xs_hostops_t *self, const xs_hostops_sr_spec_t *spec, xs_err_t *err)
{
    if (spec && spec->device_config)
        s_remember_secrets (spec->device_config);
    json_t *result = NULL;
    s_attach_t a = { .type = NULL };
    xs_err_t local;
    if (!err)
        err = &local;

    xs_hostops_reset (self);
    if (s_attach_check (spec, &a, err) != 0)
        goto out;
    a.host = xs_hostops_this_host (self, a.object, err);
    if (!a.host
    ||  s_sr_ensure (self, spec, &a, err) != 0
    ||  s_pbd_ensure_plugged (self, &a, err) != 0)
        goto out;
    if (xs_xenapi_sr_scan (self->client, a.sr, err) != 0) {
        xs_hostops_xapi_failed (self, err, a.object, "SR.scan");
        goto out;
    }
    result = xs_nn (json_object ());
    json_object_set_new (result, "sr_uuid", xs_hostops_json_string (a.sr_uuid));
    json_object_set_new (result, "type", xs_hostops_json_string (a.type->name));
    json_object_set_new (result, "shared", json_boolean (a.type->shared));
    json_object_set_new (result, "created", json_boolean (a.created));
    json_object_set_new (result, "introduced", json_boolean (a.introduced));
    json_object_set_new (result, "pbd_created", json_boolean (a.pbd_created));
    json_object_set_new (result, "plugged", json_boolean (a.plugged));
    json_object_set_new (result, "origin", xs_nn (json_string (
        a.created ? "created" : a.introduced ? "introduced" : "found")));
    json_object_set_new (result, "xensm_owned", json_boolean (a.owned));
out:
    if (!result)
        s_redact_config (err, spec ? spec->device_config : NULL);
    s_attach_free (&a);
    return result;
}

/* ---------------------------------------------------------------------
   sr_detach
   --------------------------------------------------------------------- */

/* {sr_uuid, forgotten, unplugged, xensm_owned[, kept]}. */
static json_t *
s_detach_json (const char *sr_uuid, bool forgotten, int unplugged, bool owned, const char *kept)
{
    json_t *result = xs_nn (json_pack ("{s:s, s:b, s:i, s:b}", "sr_uuid", sr_uuid,
                                       "forgotten", forgotten, "unplugged", unplugged,
                                       "xensm_owned", owned));
    if (kept)
        json_object_set_new (result, "kept", xs_nn (json_string (kept)));
    return result;
}

/* Unplugs the plugged PBDs of `sr`: every one, or (ours_only) only those
   xensm made, which it then destroys too. Their number or -1 + err. */
static int
s_unplug_pbds (xs_hostops_t *self, const char *sr, bool ours_only, const char *object,
               xs_err_t *err)
{
    xs_value_t *pbds = xs_xenapi_sr_get_PBDs (self->client, sr, err);
    if (!pbds)
        return xs_hostops_xapi_failed (self, err, object, "SR.get_PBDs");
    int unplugged = 0;
    for (size_t i = 0; i < xs_value_size (pbds) && unplugged >= 0; i++) {
        const char *pbd = xs_value_str (xs_value_at (pbds, i));
        if (!pbd)
            continue;
        xs_value_t *record = xs_xenapi_pbd_get_record (self->client, pbd, err);
        if (!record && err->kind == XS_ENOTFOUND)
            continue;                   /* gone meanwhile (another agent) */
        if (!record) {
            unplugged = xs_hostops_xapi_failed (self, err, object, "PBD.get_record");
            break;
        }
        bool attached = xs_hostops_field_bool (record, "currently_attached");
        const char *made = xs_value_get_str (xs_value_get (record, "other_config"),
                                             XS_HOSTOPS_PBD_KEY);
        bool ours = made && *made;
        xs_value_destroy (&record);
        if (ours_only && !ours)
            continue;
        if (attached) {
            if (xs_xenapi_pbd_unplug (self->client, pbd, err) == 0)
                unplugged++;
            else
            if (err->kind == XS_ENOTFOUND)
                continue;               /* gone meanwhile (another agent) */
            else {
                unplugged = xs_hostops_xapi_failed (self, err, object, "PBD.unplug");
                break;
            }
        }
        if (ours_only && xs_xenapi_pbd_destroy (self->client, pbd, err) != 0)
            unplugged = xs_hostops_xapi_failed (self, err, object, "PBD.destroy");
    }
    xs_value_destroy (&pbds);
    return unplugged;
}

/* Whether VDI record `vdi` is a volume's VDI: tagged, or (its tag lost to
   an SR.forget + SR.introduce) named xensm-<uuid>. */
static bool
s_vdi_is_ours (const xs_value_t *vdi)
{
    const char *volume = xs_value_get_str (xs_value_get (vdi, "other_config"),
                                           XS_HOSTOPS_VOLUME_KEY);
    if (volume && *volume)
        return true;
    const char *label = xs_value_get_str (vdi, "name_label");
    size_t plen = strlen (XS_HOSTOPS_LABEL_PREFIX);
    return label && strncmp (label, XS_HOSTOPS_LABEL_PREFIX, plen) == 0
        && strlen (label + plen) == 36;
}

/* Why SR.forget must not run on `record`'s SR, in why (NUL-terminated;
   "" when it may): a VDI xensm does not own (SR.forget deletes every VDI
   record of the SR: a VM would lose its disk's record) or an attached VBD
   (a disk in use). 0, or -1 + err. */
static int
s_forget_blocker (xs_hostops_t *self, const xs_value_t *record, const char *object, char *why,
                  size_t size, xs_err_t *err)
{
    *why = '\0';
    const xs_value_t *vdis = xs_value_get (record, "VDIs");
    for (size_t i = 0; i < xs_value_size (vdis) && !*why; i++) {
        const char *vdi = xs_value_str (xs_value_at (vdis, i));
        if (!vdi)
            continue;
        xs_value_t *rec = xs_xenapi_vdi_get_record (self->client, vdi, err);
        if (!rec) {
            if (err->kind == XS_ENOTFOUND)      /* destroyed meanwhile */
                continue;
            return xs_hostops_xapi_failed (self, err, object, "VDI.get_record");
        }
        const char *uuid = xs_value_get_str (rec, "uuid");
        const char *label = xs_value_get_str (rec, "name_label");
        const xs_value_t *managed = xs_value_get (rec, "managed");
        bool hidden = managed && !xs_hostops_field_bool (rec, "managed");
        if (!hidden && !s_vdi_is_ours (rec))
            snprintf (why, size, "it holds VDI %s ('%s') that xensm does not own, whose "
                      "record SR.forget would delete", uuid ? uuid : "?", label ? label : "");
        const xs_value_t *vbds = xs_value_get (rec, "VBDs");
        for (size_t j = 0; j < xs_value_size (vbds) && !*why; j++) {
            xs_value_t *params = xs_value_array_new ();
            xs_value_append_str (params, xs_value_str (xs_value_at (vbds, j)));
            xs_value_t *attached = xs_xenapi_call (self->client, "VBD.get_currently_attached",
                                                   params, err);
            xs_value_destroy (&params);
            if (!attached) {
                if (err->kind == XS_ENOTFOUND)
                    continue;
                xs_value_destroy (&rec);
                return xs_hostops_xapi_failed (self, err, object, "VBD.get_currently_attached");
            }
            bool on = xs_value_type (attached) == XS_VALUE_BOOL ? xs_value_bool (attached)
                    : xs_value_str (attached) && strcmp (xs_value_str (attached), "true") == 0;
            xs_value_destroy (&attached);
            if (on)
                snprintf (why, size, "VDI %s ('%s') is in use (attached VBD)",
                          uuid ? uuid : "?", label ? label : "");
        }
        xs_value_destroy (&rec);
    }
    return 0;
}

json_t *
xs_hostops_sr_detach (xs_hostops_t *self, const char *sr_uuid, xs_err_t *err)
{
    json_t *result = NULL;
    char *sr = NULL;
    xs_value_t *record = NULL;
    char object [64];
    char why [XS_ERR_MSG_MAX / 2];
    xs_err_t local;
    if (!err)
        err = &local;

    xs_hostops_reset (self);
    snprintf (object, sizeof object, "SR %s", sr_uuid);
    sr = xs_xenapi_sr_get_by_uuid (self->client, sr_uuid, err);
    if (!sr) {
        if (err && err->kind == XS_ENOTFOUND) {
            xs_info ("%s: not known to xapi, already detached", object);
            result = s_detach_json (sr_uuid, false, 0, false, NULL);
            xs_err_clear (err);
        }
        else
            xs_hostops_xapi_failed (self, err, object, "SR.get_by_uuid");
        goto out;
    }
    record = xs_xenapi_sr_get_record (self->client, sr, err);
    if (!record) {
        if (err->kind == XS_ENOTFOUND)
            goto gone;
        xs_hostops_xapi_failed (self, err, object, "SR.get_record");
        goto out;
    }
    const char *owner = xs_value_get_str (xs_value_get (record, "other_config"),
                                          XS_HOSTOPS_SR_KEY);
    if (!owner || !*owner) {
        /* The pool had this SR before xensm: never SR.forget it nor unplug
           other hosts' PBDs; remove only the PBDs xensm made. */
        int removed = s_unplug_pbds (self, sr, true, object, err);
        if (removed < 0)
            goto out;
        xs_notice ("%s: the pool's SR, not xensm's: kept (%d PBD(s) xensm made unplugged)",
                   object, removed);
        result = s_detach_json (sr_uuid, false, removed, false,
                                "the pool had this SR before xensm: not forgotten");
        goto out;
    }
    if (s_forget_blocker (self, record, object, why, sizeof why, err) != 0)
        goto out;
    if (*why) {
        xs_hostops_refuse (self, err, XS_ECONFLICT, "XENSM_SR_IN_USE", sr_uuid, why,
                           "%s: not detached: %s", object, why);
        goto out;
    }
    int unplugged = s_unplug_pbds (self, sr, false, object, err);
    if (unplugged < 0) {
        if (err->kind == XS_ENOTFOUND)
            goto gone;
        goto out;
    }
    /* SR.forget drops xapi's record of the SR, its PBDs and its VDIs; the
       data on the storage stays. Never SR.destroy. */
    if (xs_xenapi_sr_forget (self->client, sr, err) != 0) {
        if (err->kind == XS_ENOTFOUND)
            goto gone;
        xs_hostops_xapi_failed (self, err, object, "SR.forget");
        goto out;
    }
    result = s_detach_json (sr_uuid, true, unplugged, true, NULL);
    goto out;
gone:
    /* HANDLE_INVALID: another agent of the pool detached it meanwhile, the
       expected outcome of the race (as when xapi never knew it). */
    xs_info ("%s: detached meanwhile by another agent", object);
    xs_hostops_reset (self);
    xs_err_clear (err);
    result = s_detach_json (sr_uuid, false, 0, true, NULL);
out:
    xs_value_destroy (&record);
    free (sr);
    return result;
}

/* ---------------------------------------------------------------------
   sr_stats
   --------------------------------------------------------------------- */

/* The stats of SR `sr_uuid` from its record (see xs_hostops_sr_stats). */
static json_t *
s_stats_json (xs_hostops_t *self, const char *sr_uuid, const xs_value_t *record,
              const char *object, xs_err_t *err)
{
    int64_t sizes [3] = { 0, 0, 0 };
    const char *fields [3] = { "physical_size", "physical_utilisation", "virtual_allocation" };
    for (int i = 0; i < 3; i++)
        if (xs_hostops_field_int64 (record, fields [i], &sizes [i]) != 0) {
            xs_err_set (err, XS_EINVAL, "%s: the SR record gave no usable %s", object, fields [i]);
            return NULL;
        }
    const char *type = xs_value_get_str (record, "type");
    json_t *caps = xs_hostops_capabilities (self, type ? type : "", object, err);
    if (!caps)
        return NULL;
    json_t *result = xs_nn (json_object ());
    json_object_set_new (result, "sr_uuid", xs_hostops_json_string (sr_uuid));
    json_object_set_new (result, "type", xs_hostops_json_string (type));
    json_object_set_new (result, "name_label",
                         xs_hostops_json_string (xs_value_get_str (record, "name_label")));
    json_object_set_new (result, "shared", json_boolean (xs_hostops_field_bool (record, "shared")));
    for (int i = 0; i < 3; i++)
        json_object_set_new (result, fields [i], json_integer (sizes [i]));
    json_object_set_new (result, "capabilities", caps);
    const xs_srtype_t *srtype = xs_srtype_find (type);
    json_object_set_new (result, "lun_per_vdi", json_boolean (srtype && srtype->lun_per_vdi));
    return result;
}

json_t *
xs_hostops_sr_stats (xs_hostops_t *self, const char *sr_uuid, xs_err_t *err)
{
    json_t *result = NULL;
    xs_value_t *record = NULL;
    char *sr = NULL;
    char object [64];

    xs_hostops_reset (self);
    snprintf (object, sizeof object, "SR %s", sr_uuid);
    /* The remembered ref saves a call per refresh; a stale one (the SR
       forgotten and back) gives HANDLE_INVALID: ask for it again. */
    bool cached = self->sr_uuid && strcmp (self->sr_uuid, sr_uuid) == 0;
    sr = xs_hostops_sr_ref_cached (self, sr_uuid, err);
    if (!sr)
        goto out;
    record = xs_xenapi_sr_get_record (self->client, sr, err);
    if (!record && cached && err && err->kind == XS_ENOTFOUND) {
        free (sr);
        sr = xs_hostops_sr_ref (self, sr_uuid, err);
        if (!sr)
            goto out;
        record = xs_xenapi_sr_get_record (self->client, sr, err);
    }
    if (!record) {
        xs_hostops_xapi_failed (self, err, object, "SR.get_record");
        goto out;
    }
    result = s_stats_json (self, sr_uuid, record, object, err);
out:
    xs_value_destroy (&record);
    free (sr);
    return result;
}

/* ---------------------------------------------------------------------
   sr_watch
   --------------------------------------------------------------------- */

json_t *
xs_hostops_sr_watch (xs_hostops_t *self, const char *token, double timeout_s, xs_err_t *err)
{
    xs_hostops_reset (self);
    /* The call must end, with or without events, before curl gives up. */
    double call_s = (double) xs_xenapi_total_timeout_ms (self->client) / 2000.0;
    if (timeout_s > call_s)
        timeout_s = call_s;
    if (timeout_s < 0)
        timeout_s = 0;
    xs_value_t *params = xs_value_array_new ();
    xs_value_t *classes = xs_value_array_new ();
    xs_value_append_str (classes, "SR");
    xs_value_append (params, &classes);
    xs_value_append_str (params, token ? token : "");
    xs_value_t *timeout = xs_value_double_new (timeout_s);
    xs_value_append (params, &timeout);
    xs_value_t *reply = xs_xenapi_call (self->client, "event.from", params, err);
    xs_value_destroy (&params);
    if (!reply) {
        xs_hostops_xapi_failed (self, err, "SRs", "event.from");
        return NULL;
    }
    const char *next = xs_value_get_str (reply, "token");
    if (!next) {
        xs_err_set (err, XS_EINVAL, "SRs: event.from gave no token");
        xs_value_destroy (&reply);
        return NULL;
    }
    json_t *srs = xs_nn (json_array ());
    const xs_value_t *events = xs_value_get (reply, "events");
    for (size_t i = 0; i < xs_value_size (events); i++) {
        const xs_value_t *event = xs_value_at (events, i);
        const xs_value_t *snapshot = xs_value_get (event, "snapshot");
        const char *uuid = xs_value_get_str (snapshot, "uuid");
        const char *op = xs_value_get_str (event, "operation");
        if (!uuid || !op || strcmp (op, "del") == 0)
            continue;           /* a forgotten SR's stats stay until detach */
        char object [64];
        snprintf (object, sizeof object, "SR %s", uuid);
        json_t *stats = s_stats_json (self, uuid, snapshot, object, err);
        if (stats)
            json_array_append_new (srs, stats);
        else
            xs_debug ("%s: no stats from its event: %s", object, err->msg);
    }
    xs_err_clear (err);
    json_t *result = xs_nn (json_pack ("{s:s, s:o}", "token", next, "srs", srs));
    xs_value_destroy (&reply);
    return result;
}
