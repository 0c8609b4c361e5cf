/*  xs_proto: one message of the catalog <-> host agent protocol. */
#include "xs_mem.h"
#include "xs_proto.h"
#include "xs_text.h"

#include <assert.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct _xs_proto_t {
    xs_proto_type_t type;
    json_t *body;               /* the whole object: v, type, id, fields */
};

/* ---------------------------------------------------------------------
   Schema tables: what each type (and each request op) must carry
   --------------------------------------------------------------------- */

typedef enum { S_STR, S_INT, S_BOOL, S_OBJ, S_ARR, S_STRMAP, S_STRARR } s_ftype_t;

#define S_REQ      0x01         /* must be present                   */
#define S_NULL     0x02         /* may be JSON null                  */
#define S_NONEMPTY 0x04         /* string must not be ""             */
#define S_NONNEG   0x08         /* integer must be >= 0              */
#define S_NAME     0x10         /* string is a zone name (xs_text_check_name, XS_ZONE_MAX) */

typedef struct s_schema_t s_schema_t;
typedef struct {
    const char *name;
    s_ftype_t type;
    unsigned flags;
    const s_schema_t *sub;      /* S_OBJ: fields of the object; S_ARR: of each element */
} s_field_t;

struct s_schema_t {
    const char *name;           /* for messages: "backend", "sr stats" */
    const s_field_t *fields;    /* terminated by {NULL} */
};

static const s_field_t s_backend_fields [] = {
    {"backend_id",    S_INT,    S_REQ | S_NONNEG, NULL},
    {"sr_type",       S_STR,    S_REQ | S_NONEMPTY, NULL},
    {"name_label",    S_STR,    0, NULL},
    {"sr_uuid",       S_STR,    S_REQ | S_NULL | S_NONEMPTY, NULL},
    {"shared",        S_BOOL,   0, NULL},
    {"create",        S_BOOL,   0, NULL},
    {"device_config", S_STRMAP, S_REQ, NULL},
    {NULL, 0, 0, NULL}
};
static const s_schema_t s_backend = {"backend", s_backend_fields};

static const s_field_t s_srstats_fields [] = {
    {"backend_id",           S_INT,    S_REQ | S_NONNEG, NULL},
    {"sr_uuid",              S_STR,    S_REQ | S_NONEMPTY, NULL},
    {"physical_size",        S_INT,    S_REQ | S_NONNEG, NULL},
    {"physical_utilisation", S_INT,    S_REQ | S_NONNEG, NULL},
    {"virtual_allocation",   S_INT,    S_REQ | S_NONNEG, NULL},
    {"capabilities",         S_STRARR, S_REQ, NULL},
    {NULL, 0, 0, NULL}
};
static const s_schema_t s_srstats = {"sr stats", s_srstats_fields};

static const s_field_t s_error_obj_fields [] = {
    {"kind",    S_STR, S_REQ | S_NONEMPTY, NULL},
    {"message", S_STR, S_REQ, NULL},
    {NULL, 0, 0, NULL}
};
static const s_schema_t s_error_obj = {"error", s_error_obj_fields};

/* ---------------------------------------------------------------------
   The message types
   --------------------------------------------------------------------- */

static const s_field_t s_register_fields [] = {
    {"host_uuid",     S_STR, S_REQ | S_NONEMPTY, NULL},
    {"zone",          S_STR, S_REQ | S_NAME, NULL},
    {"name",          S_STR, S_REQ, NULL},
    {"agent_version", S_STR, 0, NULL},
    {NULL, 0, 0, NULL}
};
static const s_field_t s_welcome_fields [] = {
    {"host_uuid",    S_STR, S_REQ | S_NONEMPTY, NULL},
    {"zone",         S_STR, S_REQ | S_NAME, NULL},
    {"heartbeat_ms", S_INT, S_REQ | S_NONNEG, NULL},
    {"backends",     S_ARR, S_REQ, &s_backend},
    {NULL, 0, 0, NULL}
};
static const s_field_t s_heartbeat_fields [] = {
    {"host_uuid", S_STR, S_REQ | S_NONEMPTY, NULL},
    {"busy",      S_INT, S_NONNEG, NULL},
    {"srs",       S_ARR, S_REQ, &s_srstats},
    {NULL, 0, 0, NULL}
};
static const s_field_t s_none_fields [] = {
    {NULL, 0, 0, NULL}
};
static const s_field_t s_sr_state_fields [] = {
    {"backend_id", S_INT, S_REQ | S_NONNEG, NULL},
    {"state",      S_STR, S_REQ | S_NONEMPTY, NULL},
    {"sr_uuid",    S_STR, S_NULL | S_NONEMPTY, NULL},
    {"error",      S_STR, 0, NULL},
    {NULL, 0, 0, NULL}
};
static const s_field_t s_request_fields [] = {
    {"op",   S_STR, S_REQ | S_NONEMPTY, NULL},
    {"args", S_OBJ, S_REQ, NULL},
    {NULL, 0, 0, NULL}
};
static const s_field_t s_result_fields [] = {
    {"ok",    S_BOOL, S_REQ, NULL},
    {"value", S_OBJ,  0, NULL},
    {"error", S_OBJ,  0, &s_error_obj},
    {NULL, 0, 0, NULL}
};
static const s_field_t s_error_fields [] = {
    {"code",    S_STR, S_REQ | S_NONEMPTY, NULL},
    {"message", S_STR, S_REQ, NULL},
    {NULL, 0, 0, NULL}
};

static const s_schema_t s_types [XS_PROTO_NTYPES] = {
    [XS_PROTO_REGISTER]      = {"register",      s_register_fields},
    [XS_PROTO_WELCOME]       = {"welcome",       s_welcome_fields},
    [XS_PROTO_HEARTBEAT]     = {"heartbeat",     s_heartbeat_fields},
    [XS_PROTO_HEARTBEAT_ACK] = {"heartbeat_ack", s_none_fields},
    [XS_PROTO_SR_STATE]      = {"sr_state",      s_sr_state_fields},
    [XS_PROTO_REQUEST]       = {"request",       s_request_fields},
    [XS_PROTO_RESULT]        = {"result",        s_result_fields},
    [XS_PROTO_ERROR]         = {"error",         s_error_fields},
};

/* ---------------------------------------------------------------------
   The request ops and their args
   --------------------------------------------------------------------- */

static const s_field_t s_op_sr_attach [] = {
    {"backend", S_OBJ, S_REQ, &s_backend},
    {NULL, 0, 0, NULL}
};
static const s_field_t s_op_sr_detach [] = {
    {"backend_id", S_INT, S_REQ | S_NONNEG, NULL},
    {"sr_uuid",    S_STR, S_REQ | S_NONEMPTY, NULL},
    {NULL, 0, 0, NULL}
};
static const s_field_t s_op_sr_stats [] = {
    {"sr_uuid", S_STR, S_REQ | S_NONEMPTY, NULL},
    {NULL, 0, 0, NULL}
};
static const s_field_t s_op_vdi_create [] = {
    {"sr_uuid",     S_STR, S_REQ | S_NONEMPTY, NULL},
    {"volume_uuid", S_STR, S_REQ | S_NONEMPTY, NULL},
    {"size",        S_INT, S_REQ | S_NONNEG, NULL},
    {"name",        S_STR, 0, NULL},
    {NULL, 0, 0, NULL}
};
static const s_field_t s_op_vdi_destroy [] = {
    {"volume_uuid", S_STR, S_REQ | S_NONEMPTY, NULL},
    {"sr_uuid",     S_STR, S_NULL | S_NONEMPTY, NULL},
    {"vdi_uuid",    S_STR, S_NONEMPTY, NULL},
    {NULL, 0, 0, NULL}
};
static const s_field_t s_op_vdi_list [] = {
    {"sr_uuid", S_STR, S_REQ | S_NONEMPTY, NULL},
    {NULL, 0, 0, NULL}
};
static const s_field_t s_op_vdi_copy [] = {
    {"sr_uuid",         S_STR, S_REQ | S_NONEMPTY, NULL},
    {"volume_uuid",     S_STR, S_REQ | S_NONEMPTY, NULL},
    {"new_volume_uuid", S_STR, S_REQ | S_NONEMPTY, NULL},
    {"source_vdi_uuid", S_STR, S_NONEMPTY, NULL},
    {"name",            S_STR, 0, NULL},
    {NULL, 0, 0, NULL}
};
static const s_field_t s_op_vdi_find [] = {
    {"volume_uuid", S_STR, S_REQ | S_NONEMPTY, NULL},
    {"sr_uuid",     S_STR, S_NULL | S_NONEMPTY, NULL},
    {NULL, 0, 0, NULL}
};

static const s_field_t s_op_vdi_resize [] = {
    {"volume_uuid", S_STR, S_REQ | S_NONEMPTY, NULL},
    {"size",        S_INT, S_REQ | S_NONNEG, NULL},
    {"sr_uuid",     S_STR, S_NULL | S_NONEMPTY, NULL},
    {NULL, 0, 0, NULL}
};

/* The args of each request op; NULL for an op that is not sent to agents
   (host_info, which the agent runs for itself). */
static const s_field_t *const s_op_args [XS_OP_COUNT] = {
    [XS_OP_SR_ATTACH]    = s_op_sr_attach,
    [XS_OP_SR_DETACH]    = s_op_sr_detach,
    [XS_OP_SR_STATS]     = s_op_sr_stats,
    [XS_OP_VDI_CREATE]   = s_op_vdi_create,
    [XS_OP_VDI_DESTROY]  = s_op_vdi_destroy,
    [XS_OP_VDI_CLONE]    = s_op_vdi_copy,
    [XS_OP_VDI_SNAPSHOT] = s_op_vdi_copy,
    [XS_OP_VDI_FIND]     = s_op_vdi_find,
    [XS_OP_VDI_RESIZE]   = s_op_vdi_resize,
    [XS_OP_VDI_LIST]     = s_op_vdi_list,
};

static const s_field_t *
s_op_fields (xs_op_t op)
{
    return op > XS_OP_NONE && op < XS_OP_COUNT ? s_op_args [op] : NULL;
}

bool
xs_proto_op_known (const char *op)
{
    return s_op_fields (xs_op_from_name (op)) != NULL;
}

/* ---------------------------------------------------------------------
   Validation
   --------------------------------------------------------------------- */

static int s_check_object (const json_t *obj, const s_field_t *fields,
                           const char *where, xs_err_t *err);

static const char *
s_ftype_name (s_ftype_t type)
{
    switch (type) {
        case S_STR:    return "a string";
        case S_INT:    return "an integer";
        case S_BOOL:   return "a boolean";
        case S_OBJ:    return "an object";
        case S_ARR:    return "an array";
        case S_STRMAP: return "an object of strings";
        case S_STRARR: return "an array of strings";
    }
    return "?";
}

static int
s_check_field (const json_t *value, const s_field_t *f, const char *where, xs_err_t *err)
{
    if (json_is_null (value)) {
        if (f->flags & S_NULL)
            return 0;
        return xs_err_set (err, XS_EINVAL, "%s: field %s must be %s, not null",
                           where, f->name, s_ftype_name (f->type));
    }
    bool ok = false;
    switch (f->type) {
        case S_STR:    ok = json_is_string (value); break;
        case S_INT:    ok = json_is_integer (value); break;
        case S_BOOL:   ok = json_is_boolean (value); break;
        case S_OBJ:
        case S_STRMAP: ok = json_is_object (value); break;
        case S_ARR:
        case S_STRARR: ok = json_is_array (value); break;
    }
    if (!ok)
        return xs_err_set (err, XS_EINVAL, "%s: field %s must be %s",
                           where, f->name, s_ftype_name (f->type));
    if ((f->flags & S_NONEMPTY) && f->type == S_STR && json_string_length (value) == 0)
        return xs_err_set (err, XS_EINVAL, "%s: field %s must not be empty", where, f->name);
    if ((f->flags & S_NONNEG) && f->type == S_INT && json_integer_value (value) < 0)
        return xs_err_set (err, XS_EINVAL, "%s: field %s must not be negative", where, f->name);
    if ((f->flags & S_NAME) && f->type == S_STR
    &&  xs_text_check_name (f->name, json_string_value (value), XS_ZONE_MAX, err))
        return xs_err_prefix (err, "%s: field", where);

    char sub_where [256];
    if (f->type == S_OBJ && f->sub) {
        snprintf (sub_where, sizeof sub_where, "%s: %s", where, f->name);
        return s_check_object (value, f->sub->fields, sub_where, err);
    }
    if (f->type == S_STRMAP) {
        const char *key;
        json_t *v;
        json_object_foreach ((json_t *) value, key, v) {
            if (!json_is_string (v))
                return xs_err_set (err, XS_EINVAL, "%s: %s key %s must be a string",
                                   where, f->name, key);
        }
        return 0;
    }
    if (f->type == S_ARR || f->type == S_STRARR) {
        size_t i;
        json_t *elem;
        json_array_foreach (value, i, elem) {
            if (f->type == S_STRARR) {
                if (!json_is_string (elem))
                    return xs_err_set (err, XS_EINVAL, "%s: %s[%zu] must be a string",
                                       where, f->name, i);
                continue;
            }
            if (!f->sub)
                continue;
            snprintf (sub_where, sizeof sub_where, "%s: %s[%zu]", where, f->name, i);
            if (!json_is_object (elem))
                return xs_err_set (err, XS_EINVAL, "%s must be a %s object",
                                   sub_where, f->sub->name);
            if (s_check_object (elem, f->sub->fields, sub_where, err))
                return -1;
        }
    }
    return 0;
}

static int
s_check_object (const json_t *obj, const s_field_t *fields, const char *where, xs_err_t *err)
{
    for (const s_field_t *f = fields; f->name; f++) {
        json_t *value = json_object_get (obj, f->name);
        if (!value) {
            if (f->flags & S_REQ)
                return xs_err_set (err, XS_EINVAL, "%s: field %s is missing", where, f->name);
            continue;
        }
        if (s_check_field (value, f, where, err))
            return -1;
    }
    return 0;
}

int
xs_proto_validate (const xs_proto_t *self, xs_err_t *err)
{
    assert (self);
    assert ((unsigned) self->type < XS_PROTO_NTYPES);
    const s_schema_t *schema = &s_types [self->type];
    const char *id = xs_proto_id (self);
    char where [128];
    snprintf (where, sizeof where, "%s %s", schema->name, id);

    if (s_check_object (self->body, schema->fields, where, err))
        return -1;
    if (self->type == XS_PROTO_REQUEST) {
        const char *op = xs_proto_str (self, "op");
        const s_field_t *fields = s_op_fields (xs_op_from_name (op));
        if (!fields)
            return xs_err_set (err, XS_EINVAL, "%s: unknown op %s", where, op);
        snprintf (where, sizeof where, "request %s (%s) args", id, op);
        if (s_check_object (xs_proto_args (self), fields, where, err))
            return -1;
    }
    if (self->type == XS_PROTO_RESULT) {
        bool ok = xs_proto_bool (self, "ok", false);
        if (ok && !json_is_object (xs_proto_get (self, "value")))
            return xs_err_set (err, XS_EINVAL, "%s: ok result needs a value object", where);
        if (!ok && !json_is_object (xs_proto_get (self, "error")))
            return xs_err_set (err, XS_EINVAL, "%s: failed result needs an error object", where);
    }
    return 0;
}

/* ---------------------------------------------------------------------
   Construction and inspection
   --------------------------------------------------------------------- */

/* A process-unique id: pid, a start stamp and a counter. */
static void
s_fresh_id (char *buf, size_t size)
{
    static atomic_uint_fast64_t counter;
    static long stamp;
    if (!stamp)
        stamp = (long) time (NULL) % 100000;
    uint64_t n = atomic_fetch_add (&counter, 1) + 1;
    snprintf (buf, size, "%ld-%ld-%llu", (long) getpid (), stamp, (unsigned long long) n);
}

xs_proto_t *
xs_proto_new (xs_proto_type_t type, const char *id)
{
    assert ((unsigned) type < XS_PROTO_NTYPES);
    xs_proto_t *self = xs_zalloc (sizeof *self);
    char fresh [XS_PROTO_MAX_ID];
    if (!id || !*id) {
        s_fresh_id (fresh, sizeof fresh);
        id = fresh;
    }
    self->type = type;
    self->body = json_pack ("{s:i, s:s, s:s%}", "v", XS_PROTO_VERSION,
                            "type", s_types [type].name,
                            "id", id, strnlen (id, XS_PROTO_MAX_ID));
    if (!self->body)
        abort ();
    return self;
}

void
xs_proto_destroy (xs_proto_t **self_p)
{
    if (self_p && *self_p) {
        json_decref ((*self_p)->body);
        free (*self_p);
        *self_p = NULL;
    }
}

int
xs_proto_set (xs_proto_t *self, const char *key, json_t **value_p)
{
    assert (self && key && value_p);
    json_t *value = *value_p;
    *value_p = NULL;
    if (!value || !strcmp (key, "v") || !strcmp (key, "type") || !strcmp (key, "id")) {
        json_decref (value);
        return -1;
    }
    return json_object_set_new (self->body, key, value) ? -1 : 0;
}

int
xs_proto_set_str (xs_proto_t *self, const char *key, const char *value)
{
    json_t *v = value ? json_string (value) : json_null ();
    return xs_proto_set (self, key, &v);
}

int
xs_proto_set_int (xs_proto_t *self, const char *key, int64_t value)
{
    json_t *v = json_integer ((json_int_t) value);
    return xs_proto_set (self, key, &v);
}

int
xs_proto_set_bool (xs_proto_t *self, const char *key, bool value)
{
    json_t *v = json_boolean (value);
    return xs_proto_set (self, key, &v);
}

xs_proto_t *
xs_proto_request_new (const char *id, xs_op_t op, json_t **args_p)
{
    xs_proto_t *self = xs_proto_new (XS_PROTO_REQUEST, id);
    xs_proto_set_str (self, "op", xs_op_name (op));
    json_t *args = args_p && *args_p ? *args_p : json_object ();
    if (args_p)
        *args_p = NULL;
    xs_proto_set (self, "args", &args);
    return self;
}

xs_proto_t *
xs_proto_result_ok_new (const char *id, json_t **value_p)
{
    xs_proto_t *self = xs_proto_new (XS_PROTO_RESULT, id);
    xs_proto_set_bool (self, "ok", true);
    json_t *value = value_p && *value_p ? *value_p : json_object ();
    if (value_p)
        *value_p = NULL;
    xs_proto_set (self, "value", &value);
    return self;
}

xs_proto_t *
xs_proto_result_fail_new (const char *id, const xs_err_t *err)
{
    xs_proto_t *self = xs_proto_new (XS_PROTO_RESULT, id);
    xs_proto_set_bool (self, "ok", false);
    json_t *error = json_pack ("{s:s, s:s}",
                               "kind", xs_errkind_name (err ? err->kind : XS_EINTERNAL),
                               "message", err && err->msg [0] ? err->msg : "failed");
    if (!error)                 /* message not UTF-8: keep the kind */
        error = json_pack ("{s:s, s:s}", "kind", xs_errkind_name (err ? err->kind : XS_EINTERNAL),
                           "message", "failed (message not UTF-8)");
    xs_proto_set (self, "error", &error);
    return self;
}

xs_proto_t *
xs_proto_error_new (const char *id, const char *code, const char *fmt, ...)
{
    char message [XS_ERR_MSG_MAX];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (message, sizeof message, fmt, ap);
    va_end (ap);
    xs_proto_t *self = xs_proto_new (XS_PROTO_ERROR, id);
    xs_proto_set_str (self, "code", code);
    json_t *m = json_string (message);
    if (!m)
        m = json_string ("(message not UTF-8)");
    xs_proto_set (self, "message", &m);
    return self;
}

xs_proto_type_t
xs_proto_type (const xs_proto_t *self)
{
    assert (self);
    return self->type;
}

const char *
xs_proto_type_name (xs_proto_type_t type)
{
    if ((unsigned) type < XS_PROTO_NTYPES)
        return s_types [type].name;
    return "?";
}

const char *
xs_proto_id (const xs_proto_t *self)
{
    assert (self);
    return json_string_value (json_object_get (self->body, "id"));
}

json_t *
xs_proto_get (const xs_proto_t *self, const char *key)
{
    assert (self);
    return json_object_get (self->body, key);
}

const char *
xs_proto_str (const xs_proto_t *self, const char *key)
{
    return json_string_value (xs_proto_get (self, key));
}

int64_t
xs_proto_int (const xs_proto_t *self, const char *key, int64_t dflt)
{
    json_t *v = xs_proto_get (self, key);
    return json_is_integer (v) ? (int64_t) json_integer_value (v) : dflt;
}

bool
xs_proto_bool (const xs_proto_t *self, const char *key, bool dflt)
{
    json_t *v = xs_proto_get (self, key);
    return json_is_boolean (v) ? json_is_true (v) : dflt;
}

xs_op_t
xs_proto_op (const xs_proto_t *self)
{
    return xs_op_from_name (xs_proto_str (self, "op"));
}

json_t *
xs_proto_args (const xs_proto_t *self)
{
    return xs_proto_get (self, "args");
}

void
xs_proto_result_err (const xs_proto_t *self, xs_err_t *err)
{
    json_t *error = xs_proto_get (self, "error");
    const char *kind = json_string_value (json_object_get (error, "kind"));
    const char *message = json_string_value (json_object_get (error, "message"));
    xs_err_set (err, kind ? xs_errkind_from_name (kind) : XS_EINTERNAL,
                "%s", message ? message : "failed (no reason given)");
}

/* ---------------------------------------------------------------------
   Wire
   --------------------------------------------------------------------- */

char *
xs_proto_encode (const xs_proto_t *self, size_t *size_p, xs_err_t *err)
{
    assert (self);
    if (xs_proto_validate (self, err))
        return NULL;
    char *text = json_dumps (self->body, JSON_COMPACT);
    if (!text) {
        xs_err_set (err, XS_EINTERNAL, "%s %s: cannot serialise",
                    xs_proto_type_name (self->type), xs_proto_id (self));
        return NULL;
    }
    size_t len = strlen (text);
    if (len > XS_PROTO_MAX_SIZE) {
        xs_err_set (err, XS_EINVAL, "%s %s: %zu bytes, more than the %d-byte limit",
                    xs_proto_type_name (self->type), xs_proto_id (self), len, XS_PROTO_MAX_SIZE);
        free (text);
        return NULL;
    }
    if (size_p)
        *size_p = len;
    return text;
}

/* The envelope of a parsed message: its id, version and type. Returns the
   type, or -1 with *err and *code_p (the error code to answer with); *id_p
   is the message's id once it is readable. */
static int
s_check_envelope (const json_t *body, const char **id_p, const char **code_p, xs_err_t *err)
{
    json_t *jid = json_object_get (body, "id");
    if (!json_is_string (jid) || json_string_length (jid) == 0
    ||  json_string_length (jid) > XS_PROTO_MAX_ID)
        return xs_err_set (err, XS_EINVAL, "message has no id (a string of 1 to %d bytes)",
                           XS_PROTO_MAX_ID);
    const char *id = *id_p = json_string_value (jid);
    json_t *v = json_object_get (body, "v");
    if (!json_is_integer (v))
        return xs_err_set (err, XS_EINVAL, "message %s has no protocol version v", id);
    if (json_integer_value (v) != XS_PROTO_VERSION) {
        *code_p = XS_PROTO_E_VERSION;
        return xs_err_set (err, XS_EINVAL,
                           "message %s: protocol version %lld not supported (this side speaks %d)",
                           id, (long long) json_integer_value (v), XS_PROTO_VERSION);
    }
    const char *type = json_string_value (json_object_get (body, "type"));
    if (!type)
        return xs_err_set (err, XS_EINVAL, "message %s has no type", id);
    for (int t = 0; t < XS_PROTO_NTYPES; t++)
        if (strcmp (s_types [t].name, type) == 0)
            return t;
    *code_p = XS_PROTO_E_UNKNOWN_TYPE;
    return xs_err_set (err, XS_EINVAL, "message %s: unknown type %.64s", id, type);
}

xs_proto_t *
xs_proto_decode (const void *data, size_t size, xs_proto_t **reply_p, xs_err_t *err)
{
    json_t *body = NULL;
    xs_proto_t *self = NULL;
    const char *code = XS_PROTO_E_MALFORMED;
    const char *id = "";
    bool is_error = false;
    xs_err_t my_err;
    if (!err)
        err = &my_err;
    if (reply_p)
        *reply_p = NULL;

    if (size > XS_PROTO_MAX_SIZE) {
        code = XS_PROTO_E_TOO_LARGE;
        xs_err_set (err, XS_EINVAL, "message of %zu bytes is over the %d-byte limit",
                    size, XS_PROTO_MAX_SIZE);
        goto fail;
    }
    if (!data || size == 0) {
        xs_err_set (err, XS_EINVAL, "empty message");
        goto fail;
    }
    json_error_t jerr;
    body = json_loadb (data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!body) {
        xs_err_set (err, XS_EINVAL, "not JSON: %s at offset %d", jerr.text, jerr.position);
        goto fail;
    }
    if (!json_is_object (body)) {
        xs_err_set (err, XS_EINVAL, "message is not a JSON object");
        goto fail;
    }
    const char *type = json_string_value (json_object_get (body, "type"));
    is_error = type && strcmp (type, "error") == 0;
    int t = s_check_envelope (body, &id, &code, err);
    if (t < 0)
        goto fail;
    self = xs_zalloc (sizeof *self);
    self->type = (xs_proto_type_t) t;
    self->body = body;
    body = NULL;
    if (self->type == XS_PROTO_REQUEST && json_is_string (xs_proto_get (self, "op"))
    &&  !xs_proto_op_known (xs_proto_str (self, "op")))
        code = XS_PROTO_E_UNKNOWN_OP;
    if (xs_proto_validate (self, err))
        goto fail;
    return self;

fail:
    if (reply_p && !is_error)
        *reply_p = xs_proto_error_new (id, code, "%s", err->msg);
    xs_proto_destroy (&self);
    json_decref (body);
    return NULL;
}
