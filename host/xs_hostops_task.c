/*  xs_hostops_task: the tasks of long operations that a restart left
    behind (see xs_hostops.h, xs_hostops_tasks_adopt). */
#include "xs_hostops_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"

/* Splits a tag "<method> <uuid> <host uuid>" into its words (buffers of
   S_WORD bytes). 0, or -1 when it is not one of ours. */
#define S_WORD 80
static int
s_parse_tag (const char *tag, char *method, char *uuid, char *host)
{
    return tag && sscanf (tag, "%79s %79s %79s", method, uuid, host) == 3 ? 0 : -1;
}

/* What a successful task made, by uuid: the VDI of VDI.create, clone or
   snapshot (a copy tagged as its new volume's, as the live path does), the
   SR of SR.create. Adds vdi_uuid / sr_uuid to `entry`. */
static void
s_record_made (xs_hostops_t *self, const char *method, const char *uuid, const char *ref,
               json_t *entry)
{
    xs_err_t err;
    bool vdi = strncmp (method, "VDI.", 4) == 0 && strcmp (method, "VDI.destroy") != 0;
    bool sr = strcmp (method, "SR.create") == 0;
    if (!ref || strncmp (ref, "OpaqueRef:", 10) != 0 || !(vdi || sr))
        return;
    xs_value_t *record = vdi ? xs_xenapi_vdi_get_record (self->client, ref, &err)
                             : xs_xenapi_sr_get_record (self->client, ref, &err);
    if (!record) {
        xs_warning ("task of %s %s: the %s it made: %s", method, uuid, vdi ? "VDI" : "SR", err.msg);
        return;
    }
    json_object_set_new (entry, vdi ? "vdi_uuid" : "sr_uuid",
                         xs_hostops_json_string (xs_value_get_str (record, "uuid")));
    bool copy = strcmp (method, "VDI.clone") == 0 || strcmp (method, "VDI.snapshot") == 0;
    if (copy && xs_hostops_vdi_tag_copy (self, ref, record, uuid, &err) != 0)
        xs_warning ("task of %s %s: %s", method, uuid, err.msg);
    xs_value_destroy (&record);
}

/* Follows task `ref` of tag `tag` to its end (see xs_xenapi_task_follow)
   and records the outcome: {task, method, uuid, status, cancelled,
   vdi_uuid | sr_uuid | error}. */
static json_t *
s_settle (xs_hostops_t *self, const char *ref, const char *method, const char *uuid)
{
    xs_err_t err;
    xs_xenapi_task_t task = { .deadline_ms = self->deadline_ms };
    xs_value_t *value = xs_xenapi_task_follow (self->client, method, ref, &task, &err);
    json_t *entry = xs_nn (json_pack ("{s:s, s:s, s:s, s:s, s:b}", "task", ref, "method", method,
                                      "uuid", uuid, "status", task.status, "cancelled",
                                      task.cancelled));
    if (value) {
        s_record_made (self, method, uuid, xs_value_str (value), entry);
        xs_notice ("task %s (%s %s), left by an earlier run: %s%s%s", ref, method, uuid,
                   task.status,
                   json_object_get (entry, "vdi_uuid") ? ", VDI " : "",
                   json_string_value (json_object_get (entry, "vdi_uuid")) ?
                       json_string_value (json_object_get (entry, "vdi_uuid")) : "");
    }
    else {
        json_object_set_new (entry, "error", xs_hostops_json_string (err.msg));
        const char *code = xs_xenapi_error_code (self->client);
        if (code)
            json_object_set_new (entry, "error_code", xs_hostops_json_string (code));
        xs_notice ("task %s (%s %s), left by an earlier run: %s: %s", ref, method, uuid,
                   task.status, err.msg);
    }
    xs_value_destroy (&value);
    return entry;
}

json_t *
xs_hostops_task_follow (xs_hostops_t *self, const char *task_ref, xs_err_t *err)
{
    xs_hostops_reset (self);
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, task_ref);
    xs_value_t *record = xs_xenapi_call (self->client, "task.get_record", params, err);
    xs_value_destroy (&params);
    if (!record) {
        xs_hostops_xapi_failed (self, err, "task", "task.get_record");
        return NULL;
    }
    char method [S_WORD], uuid [S_WORD], host [S_WORD];
    const char *tag = xs_value_get_str (xs_value_get (record, "other_config"),
                                        XS_XENAPI_TASK_TAG_KEY);
    json_t *entry = NULL;
    if (s_parse_tag (tag, method, uuid, host) != 0)
        xs_err_set (err, XS_EINVAL, "task %s: not a task of xensm (no %s tag)", task_ref,
                    XS_XENAPI_TASK_TAG_KEY);
    else
        entry = s_settle (self, task_ref, method, uuid);
    xs_value_destroy (&record);
    return entry;
}

json_t *
xs_hostops_tasks_adopt (xs_hostops_t *self, bool follow, xs_err_t *err)
{
    xs_hostops_reset (self);
    xs_value_t *records = xs_xenapi_call (self->client, "task.get_all_records", NULL, err);
    if (!records) {
        xs_hostops_xapi_failed (self, err, "tasks", "task.get_all_records");
        return NULL;
    }
    const char *me = self->host_uuid ? self->host_uuid : "-";
    json_t *ended = xs_nn (json_array ());
    json_t *pending = xs_nn (json_array ());
    for (size_t i = 0; i < xs_value_size (records); i++) {
        const char *ref = xs_value_key_at (records, i);
        const xs_value_t *record = xs_value_value_at (records, i);
        const char *tag = xs_value_get_str (xs_value_get (record, "other_config"),
                                            XS_XENAPI_TASK_TAG_KEY);
        char method [S_WORD], uuid [S_WORD], host [S_WORD];
        if (!ref || s_parse_tag (tag, method, uuid, host) != 0
        ||  strcmp (host, me) != 0)
            continue;           /* not xensm's, or another host's */
        const char *status = xs_value_get_str (record, "status");
        if (status && strcmp (status, "pending") == 0 && !follow)
            json_array_append_new (pending, xs_nn (json_pack ("{s:s, s:s, s:s, s:s}", "task", ref,
                                                              "method", method, "uuid", uuid,
                                                              "status", "pending")));
        else
            json_array_append_new (ended, s_settle (self, ref, method, uuid));
    }
    xs_value_destroy (&records);
    xs_hostops_reset (self);
    return xs_nn (json_pack ("{s:o, s:o}", "ended", ended, "pending", pending));
}

int
xs_hostops_tasks_await (xs_hostops_t *self, const char *uuid, xs_err_t *err)
{
    xs_hostops_reset (self);
    xs_value_t *records = xs_xenapi_call (self->client, "task.get_all_records", NULL, err);
    if (!records) {
        xs_hostops_xapi_failed (self, err, "tasks", "task.get_all_records");
        return -1;
    }
    int followed = 0;
    for (size_t i = 0; i < xs_value_size (records); i++) {
        const char *ref = xs_value_key_at (records, i);
        const xs_value_t *record = xs_value_value_at (records, i);
        const char *tag = xs_value_get_str (xs_value_get (record, "other_config"),
                                            XS_XENAPI_TASK_TAG_KEY);
        const char *status = xs_value_get_str (record, "status");
        char method [S_WORD], tagged [S_WORD], host [S_WORD];
        if (!ref || s_parse_tag (tag, method, tagged, host) != 0 || strcmp (tagged, uuid) != 0
        ||  !status || strcmp (status, "pending") != 0)
            continue;
        xs_info ("%s: host %s's task %s (%s) is still running: waiting for its end", uuid,
                 host, ref, method);
        /* Unreadable meanwhile: its owner destroyed it, so it ended. */
        xs_xenapi_task_t task = { .deadline_ms = self->deadline_ms, .watch = true };
        xs_err_t lost;
        xs_value_t *none = xs_xenapi_task_follow (self->client, method, ref, &task, &lost);
        xs_value_destroy (&none);
        if (strcmp (task.status, "pending") == 0) {
            xs_err_set (err, XS_ETRANSPORT, "%s: host %s's task %s (%s) still running after "
                        "%ld ms: not started a second time", uuid, host, ref, method,
                        self->deadline_ms);
            followed = -1;
            break;
        }
        followed++;
    }
    xs_value_destroy (&records);
    xs_hostops_reset (self);
    return followed;
}
