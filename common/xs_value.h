/*  xs_value: the XML-RPC value model (a tree of typed values).

    Types: nil, string, int (i4/int/i8, held as int64), boolean, double,
    dateTime.iso8601 (held as its text), base64 (held as raw bytes), array and
    struct (members kept in insertion order; names unique, set replaces).

    Ownership: a value owns its children. Functions taking `xs_value_t **`
    take ownership and NULL the caller's pointer, even on failure. Getters
    return borrowed pointers that live as long as the parent.
*/
#ifndef XS_VALUE_H_INCLUDED
#define XS_VALUE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    XS_VALUE_NIL = 0,
    XS_VALUE_STRING,
    XS_VALUE_INT,
    XS_VALUE_BOOL,
    XS_VALUE_DOUBLE,
    XS_VALUE_DATETIME,
    XS_VALUE_BASE64,
    XS_VALUE_ARRAY,
    XS_VALUE_STRUCT
} xs_value_type_t;

typedef struct _xs_value_t xs_value_t;

/* ---- constructors (never return NULL; allocation failure aborts) ---- */
xs_value_t *xs_value_nil_new (void);
xs_value_t *xs_value_string_new (const char *text);             /* copies; NULL → "" */
xs_value_t *xs_value_string_newn (const char *text, size_t len);
xs_value_t *xs_value_int_new (int64_t number);
xs_value_t *xs_value_bool_new (bool flag);
xs_value_t *xs_value_double_new (double number);
xs_value_t *xs_value_datetime_new (const char *iso8601);        /* copies the text */
xs_value_t *xs_value_base64_new (const void *data, size_t len); /* copies raw bytes */
xs_value_t *xs_value_array_new (void);
xs_value_t *xs_value_struct_new (void);

/* Deep copy. Caller owns. */
xs_value_t *xs_value_dup (const xs_value_t *self);

/* Frees the value and its children; NULLs *self_p; idempotent. */
void xs_value_destroy (xs_value_t **self_p);

/* ---- inspection ---- */
xs_value_type_t xs_value_type (const xs_value_t *self);
const char *xs_value_type_name (xs_value_type_t type);          /* "string", "struct", ... */

/* Text of a string or dateTime; NULL for any other type. */
const char *xs_value_str (const xs_value_t *self);
/* Length in bytes of a string's or dateTime's text (a string made with
   xs_value_string_newn may hold NULs), or of a base64 value's bytes; 0 for
   any other type. */
size_t xs_value_len (const xs_value_t *self);
/* Number of a int; 0 for any other type. */
int64_t xs_value_int (const xs_value_t *self);
bool xs_value_bool (const xs_value_t *self);
double xs_value_double (const xs_value_t *self);
/* Bytes of a base64 value (len set); NULL for any other type. */
const void *xs_value_base64 (const xs_value_t *self, size_t *len);

/* Items in an array or members in a struct; 0 otherwise. */
size_t xs_value_size (const xs_value_t *self);

/* ---- arrays ---- */
/* Item at index, borrowed; NULL when out of range or not an array. */
xs_value_t *xs_value_at (const xs_value_t *self, size_t index);
/* Appends *item_p (ownership taken). Returns -1 when self is not an array. */
int xs_value_append (xs_value_t *self, xs_value_t **item_p);
int xs_value_append_str (xs_value_t *self, const char *text);

/* ---- structs ---- */
/* Member by name, borrowed; NULL when absent or not a struct. */
xs_value_t *xs_value_get (const xs_value_t *self, const char *name);
/* Member's text when it is a string, else NULL. */
const char *xs_value_get_str (const xs_value_t *self, const char *name);
/* Sets (or replaces) member name to *value_p (ownership taken). -1 when not a struct. */
int xs_value_set (xs_value_t *self, const char *name, xs_value_t **value_p);
int xs_value_set_str (xs_value_t *self, const char *name, const char *text);
/* Member name / value at position index (insertion order), borrowed. */
const char *xs_value_key_at (const xs_value_t *self, size_t index);
xs_value_t *xs_value_value_at (const xs_value_t *self, size_t index);

/* True when both trees have the same types and contents (struct member order ignored). */
bool xs_value_equal (const xs_value_t *a, const xs_value_t *b);

#endif
