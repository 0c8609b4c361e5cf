/*  xs_value: the XML-RPC value model (a tree of typed values).

    Strings and dateTimes keep their text inline (one allocation per value).
    Structs keep members in insertion order in a vector; from S_INDEX_MIN
    members on, an open-addressing hash index (FNV-1a over the name) makes
    lookups and set-or-replace O(1), so decoding a struct with tens of
    thousands of members (VDI.get_all_records) stays linear.
*/
#include "xs_mem.h"
#include "xs_value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Build a hash index once a struct has this many members. */
#define S_INDEX_MIN 8

typedef struct {
    char *name;
    uint32_t hash;
    xs_value_t *value;
} s_member_t;

struct _xs_value_t {
    xs_value_type_t type;
    union {
        struct {                /* STRING, DATETIME: text points at inline storage */
            const char *text;
            size_t len;
        } s;
        int64_t i;
        bool b;
        double d;
        struct {                /* BASE64 */
            unsigned char *data;
            size_t len;
        } bin;
        struct {                /* ARRAY */
            xs_value_t **items;
            size_t size, cap;
        } arr;
        struct {                /* STRUCT */
            s_member_t *members;
            size_t size, cap;
            uint32_t *index;    /* slots hold member position + 1; 0 = empty */
            size_t index_cap;   /* power of two, or 0 when there is no index */
        } st;
    } u;
    char inline_text [];        /* STRING, DATETIME only */
};

/* ---------------------------------------------------------------------------
 *  Allocation
 * ------------------------------------------------------------------------- */

static xs_value_t *
s_value_new (xs_value_type_t type)
{
    xs_value_t *self = xs_zalloc (sizeof *self);
    memset (self, 0, sizeof *self);
    self->type = type;
    return self;
}

static xs_value_t *
s_text_new (xs_value_type_t type, const char *text, size_t len)
{
    if (len > SIZE_MAX - sizeof (xs_value_t) - 1)
        abort ();
    xs_value_t *self = xs_zalloc (sizeof *self + len + 1);
    memset (self, 0, sizeof *self);
    self->type = type;
    if (len)
        memcpy (self->inline_text, text, len);
    self->inline_text [len] = '\0';
    self->u.s.text = self->inline_text;
    self->u.s.len = len;
    return self;
}

/* ---------------------------------------------------------------------------
 *  Constructors
 * ------------------------------------------------------------------------- */

xs_value_t *
xs_value_nil_new (void)
{
    return s_value_new (XS_VALUE_NIL);
}

xs_value_t *
xs_value_string_new (const char *text)
{
    return s_text_new (XS_VALUE_STRING, text ? text : "", text ? strlen (text) : 0);
}

xs_value_t *
xs_value_string_newn (const char *text, size_t len)
{
    return s_text_new (XS_VALUE_STRING, text ? text : "", text ? len : 0);
}

xs_value_t *
xs_value_int_new (int64_t number)
{
    xs_value_t *self = s_value_new (XS_VALUE_INT);
    self->u.i = number;
    return self;
}

xs_value_t *
xs_value_bool_new (bool flag)
{
    xs_value_t *self = s_value_new (XS_VALUE_BOOL);
    self->u.b = flag;
    return self;
}

xs_value_t *
xs_value_double_new (double number)
{
    xs_value_t *self = s_value_new (XS_VALUE_DOUBLE);
    self->u.d = number;
    return self;
}

xs_value_t *
xs_value_datetime_new (const char *iso8601)
{
    return s_text_new (XS_VALUE_DATETIME, iso8601 ? iso8601 : "", iso8601 ? strlen (iso8601) : 0);
}

xs_value_t *
xs_value_base64_new (const void *data, size_t len)
{
    xs_value_t *self = s_value_new (XS_VALUE_BASE64);
    if (!data)
        len = 0;
    self->u.bin.data = xs_zalloc (len);
    if (len)
        memcpy (self->u.bin.data, data, len);
    self->u.bin.len = len;
    return self;
}

xs_value_t *
xs_value_array_new (void)
{
    return s_value_new (XS_VALUE_ARRAY);
}

xs_value_t *
xs_value_struct_new (void)
{
    return s_value_new (XS_VALUE_STRUCT);
}

/* ---------------------------------------------------------------------------
 *  Struct index
 * ------------------------------------------------------------------------- */

static uint32_t
s_hash_name (const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h;
}

static void
s_index_insert (xs_value_t *self, size_t pos)
{
    size_t mask = self->u.st.index_cap - 1;
    size_t slot = self->u.st.members [pos].hash & mask;
    while (self->u.st.index [slot])
        slot = (slot + 1) & mask;
    self->u.st.index [slot] = (uint32_t) (pos + 1);
}

static void
s_index_rebuild (xs_value_t *self, size_t cap)
{
    free (self->u.st.index);
    self->u.st.index = xs_zalloc (cap * sizeof (uint32_t));
    memset (self->u.st.index, 0, cap * sizeof (uint32_t));
    self->u.st.index_cap = cap;
    for (size_t pos = 0; pos < self->u.st.size; pos++)
        s_index_insert (self, pos);
}

/* Position of the member called name, or -1. */
static ptrdiff_t
s_member_find (const xs_value_t *self, const char *name, uint32_t hash)
{
    if (self->u.st.index_cap) {
        size_t mask = self->u.st.index_cap - 1;
        for (size_t slot = hash & mask; self->u.st.index [slot]; slot = (slot + 1) & mask) {
            const s_member_t *m = &self->u.st.members [self->u.st.index [slot] - 1];
            if (m->hash == hash && strcmp (m->name, name) == 0)
                return (ptrdiff_t) self->u.st.index [slot] - 1;
        }
        return -1;
    }
    for (size_t pos = 0; pos < self->u.st.size; pos++) {
        const s_member_t *m = &self->u.st.members [pos];
        if (m->hash == hash && strcmp (m->name, name) == 0)
            return (ptrdiff_t) pos;
    }
    return -1;
}

/* ---------------------------------------------------------------------------
 *  Copy and destroy
 * ------------------------------------------------------------------------- */

xs_value_t *
xs_value_dup (const xs_value_t *self)
{
    if (!self)
        return NULL;
    switch (self->type) {
    case XS_VALUE_STRING:
    case XS_VALUE_DATETIME:
        return s_text_new (self->type, self->u.s.text, self->u.s.len);
    case XS_VALUE_BASE64:
        return xs_value_base64_new (self->u.bin.data, self->u.bin.len);
    case XS_VALUE_ARRAY: {
        xs_value_t *copy = xs_value_array_new ();
        copy->u.arr.items = xs_zalloc (self->u.arr.size * sizeof (xs_value_t *));
        copy->u.arr.cap = self->u.arr.size;
        for (size_t i = 0; i < self->u.arr.size; i++)
            copy->u.arr.items [i] = xs_value_dup (self->u.arr.items [i]);
        copy->u.arr.size = self->u.arr.size;
        return copy;
    }
    case XS_VALUE_STRUCT: {
        xs_value_t *copy = xs_value_struct_new ();
        copy->u.st.members = xs_zalloc (self->u.st.size * sizeof (s_member_t));
        copy->u.st.cap = self->u.st.size;
        for (size_t i = 0; i < self->u.st.size; i++) {
            const s_member_t *m = &self->u.st.members [i];
            copy->u.st.members [i].name = xs_strdup (m->name);
            copy->u.st.members [i].hash = m->hash;
            copy->u.st.members [i].value = xs_value_dup (m->value);
        }
        copy->u.st.size = self->u.st.size;
        if (self->u.st.index_cap)
            s_index_rebuild (copy, self->u.st.index_cap);
        return copy;
    }
    default: {
        xs_value_t *copy = s_value_new (self->type);
        copy->u = self->u;
        return copy;
    }
    }
}

void
xs_value_destroy (xs_value_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_value_t *self = *self_p;
    switch (self->type) {
    case XS_VALUE_BASE64:
        free (self->u.bin.data);
        break;
    case XS_VALUE_ARRAY:
        for (size_t i = 0; i < self->u.arr.size; i++)
            xs_value_destroy (&self->u.arr.items [i]);
        free (self->u.arr.items);
        break;
    case XS_VALUE_STRUCT:
        for (size_t i = 0; i < self->u.st.size; i++) {
            free (self->u.st.members [i].name);
            xs_value_destroy (&self->u.st.members [i].value);
        }
        free (self->u.st.members);
        free (self->u.st.index);
        break;
    default:
        break;
    }
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------------
 *  Inspection
 * ------------------------------------------------------------------------- */

xs_value_type_t
xs_value_type (const xs_value_t *self)
{
    return self ? self->type : XS_VALUE_NIL;
}

const char *
xs_value_type_name (xs_value_type_t type)
{
    switch (type) {
    case XS_VALUE_NIL:      return "nil";
    case XS_VALUE_STRING:   return "string";
    case XS_VALUE_INT:      return "int";
    case XS_VALUE_BOOL:     return "boolean";
    case XS_VALUE_DOUBLE:   return "double";
    case XS_VALUE_DATETIME: return "dateTime.iso8601";
    case XS_VALUE_BASE64:   return "base64";
    case XS_VALUE_ARRAY:    return "array";
    case XS_VALUE_STRUCT:   return "struct";
    }
    return "unknown";
}

const char *
xs_value_str (const xs_value_t *self)
{
    if (self && (self->type == XS_VALUE_STRING || self->type == XS_VALUE_DATETIME))
        return self->u.s.text;
    return NULL;
}

size_t
xs_value_len (const xs_value_t *self)
{
    if (self && (self->type == XS_VALUE_STRING || self->type == XS_VALUE_DATETIME))
        return self->u.s.len;
    if (self && self->type == XS_VALUE_BASE64)
        return self->u.bin.len;
    return 0;
}

int64_t
xs_value_int (const xs_value_t *self)
{
    return self && self->type == XS_VALUE_INT ? self->u.i : 0;
}

bool
xs_value_bool (const xs_value_t *self)
{
    return self && self->type == XS_VALUE_BOOL ? self->u.b : false;
}

double
xs_value_double (const xs_value_t *self)
{
    return self && self->type == XS_VALUE_DOUBLE ? self->u.d : 0.0;
}

const void *
xs_value_base64 (const xs_value_t *self, size_t *len)
{
    if (self && self->type == XS_VALUE_BASE64) {
        if (len)
            *len = self->u.bin.len;
        return self->u.bin.data;
    }
    if (len)
        *len = 0;
    return NULL;
}

size_t
xs_value_size (const xs_value_t *self)
{
    if (self && self->type == XS_VALUE_ARRAY)
        return self->u.arr.size;
    if (self && self->type == XS_VALUE_STRUCT)
        return self->u.st.size;
    return 0;
}

/* ---------------------------------------------------------------------------
 *  Arrays
 * ------------------------------------------------------------------------- */

xs_value_t *
xs_value_at (const xs_value_t *self, size_t index)
{
    if (self && self->type == XS_VALUE_ARRAY && index < self->u.arr.size)
        return self->u.arr.items [index];
    return NULL;
}

int
xs_value_append (xs_value_t *self, xs_value_t **item_p)
{
    if (!item_p)
        return -1;
    if (!self || self->type != XS_VALUE_ARRAY || !*item_p || *item_p == self) {
        if (*item_p != self)
            xs_value_destroy (item_p);
        *item_p = NULL;
        return -1;
    }
    if (self->u.arr.size == self->u.arr.cap) {
        size_t cap = self->u.arr.cap ? self->u.arr.cap * 2 : 4;
        self->u.arr.items = xs_realloc (self->u.arr.items, cap * sizeof (xs_value_t *));
        self->u.arr.cap = cap;
    }
    self->u.arr.items [self->u.arr.size++] = *item_p;
    *item_p = NULL;
    return 0;
}

int
xs_value_append_str (xs_value_t *self, const char *text)
{
    xs_value_t *item = xs_value_string_new (text);
    return xs_value_append (self, &item);
}

/* ---------------------------------------------------------------------------
 *  Structs
 * ------------------------------------------------------------------------- */

xs_value_t *
xs_value_get (const xs_value_t *self, const char *name)
{
    if (!self || self->type != XS_VALUE_STRUCT || !name)
        return NULL;
    ptrdiff_t pos = s_member_find (self, name, s_hash_name (name));
    return pos < 0 ? NULL : self->u.st.members [pos].value;
}

const char *
xs_value_get_str (const xs_value_t *self, const char *name)
{
    xs_value_t *member = xs_value_get (self, name);
    return member && member->type == XS_VALUE_STRING ? member->u.s.text : NULL;
}

int
xs_value_set (xs_value_t *self, const char *name, xs_value_t **value_p)
{
    if (!value_p)
        return -1;
    if (!self || self->type != XS_VALUE_STRUCT || !name || !*value_p || *value_p == self) {
        if (*value_p != self)
            xs_value_destroy (value_p);
        *value_p = NULL;
        return -1;
    }
    uint32_t hash = s_hash_name (name);
    ptrdiff_t pos = s_member_find (self, name, hash);
    if (pos >= 0) {
        xs_value_destroy (&self->u.st.members [pos].value);
        self->u.st.members [pos].value = *value_p;
        *value_p = NULL;
        return 0;
    }
    if (self->u.st.size >= UINT32_MAX - 1)
        abort ();
    if (self->u.st.size == self->u.st.cap) {
        size_t cap = self->u.st.cap ? self->u.st.cap * 2 : 4;
        self->u.st.members = xs_realloc (self->u.st.members, cap * sizeof (s_member_t));
        self->u.st.cap = cap;
    }
    s_member_t *m = &self->u.st.members [self->u.st.size++];
    m->name = xs_strdup (name);
    m->hash = hash;
    m->value = *value_p;
    *value_p = NULL;

    /* Keep the index at most half full. */
    if (self->u.st.index_cap) {
        if (self->u.st.size * 2 > self->u.st.index_cap)
            s_index_rebuild (self, self->u.st.index_cap * 2);
        else
            s_index_insert (self, self->u.st.size - 1);
    }
    else
    if (self->u.st.size >= S_INDEX_MIN)
        s_index_rebuild (self, S_INDEX_MIN * 4);
    return 0;
}

int
xs_value_set_str (xs_value_t *self, const char *name, const char *text)
{
    xs_value_t *value = xs_value_string_new (text);
    return xs_value_set (self, name, &value);
}

const char *
xs_value_key_at (const xs_value_t *self, size_t index)
{
    if (self && self->type == XS_VALUE_STRUCT && index < self->u.st.size)
        return self->u.st.members [index].name;
    return NULL;
}

xs_value_t *
xs_value_value_at (const xs_value_t *self, size_t index)
{
    if (self && self->type == XS_VALUE_STRUCT && index < self->u.st.size)
        return self->u.st.members [index].value;
    return NULL;
}

/* ---------------------------------------------------------------------------
 *  Equality
 * ------------------------------------------------------------------------- */

bool
xs_value_equal (const xs_value_t *a, const xs_value_t *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->type != b->type)
        return false;
    switch (a->type) {
    case XS_VALUE_NIL:
        return true;
    case XS_VALUE_STRING:
    case XS_VALUE_DATETIME:
        return a->u.s.len == b->u.s.len && memcmp (a->u.s.text, b->u.s.text, a->u.s.len) == 0;
    case XS_VALUE_INT:
        return a->u.i == b->u.i;
    case XS_VALUE_BOOL:
        return a->u.b == b->u.b;
    case XS_VALUE_DOUBLE:
        /* NaN equals NaN here: a decoded "nan" must equal itself after a round trip. */
        if (isnan (a->u.d) || isnan (b->u.d))
            return isnan (a->u.d) && isnan (b->u.d);
        return a->u.d == b->u.d && signbit (a->u.d) == signbit (b->u.d);
    case XS_VALUE_BASE64:
        return a->u.bin.len == b->u.bin.len
            && (a->u.bin.len == 0 || memcmp (a->u.bin.data, b->u.bin.data, a->u.bin.len) == 0);
    case XS_VALUE_ARRAY:
        if (a->u.arr.size != b->u.arr.size)
            return false;
        for (size_t i = 0; i < a->u.arr.size; i++)
            if (!xs_value_equal (a->u.arr.items [i], b->u.arr.items [i]))
                return false;
        return true;
    case XS_VALUE_STRUCT:
        if (a->u.st.size != b->u.st.size)
            return false;
        for (size_t i = 0; i < a->u.st.size; i++) {
            const s_member_t *m = &a->u.st.members [i];
            ptrdiff_t pos = s_member_find (b, m->name, m->hash);
            if (pos < 0 || !xs_value_equal (m->value, b->u.st.members [pos].value))
                return false;
        }
        return true;
    }
    return false;
}
