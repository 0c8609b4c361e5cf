/*  xs_kv: an ordered set of key=value pairs, such as the arguments of
    `xensm-manage sm backend_add gold nfs server=a serverpath=/x`.

    An argument is split at its FIRST '=' and the value is kept whole, so
    `options=rw,sec=sys` gives key "options" and value "rw,sec=sys". Values
    may hold '=', spaces and any printable character (UTF-8 included); control
    characters are refused. Keys are 1-64 characters of [A-Za-z0-9_.-]. A key
    given twice is refused (no silent "last one wins").

    Error messages never show a value whose key is a secret (xs_redact).

    Ownership: an xs_kv_t owns copies of its keys and values; getters return
    borrowed pointers valid until the pair is removed or the set destroyed.
*/
#ifndef XS_KV_H_INCLUDED
#define XS_KV_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "xs_err.h"

#define XS_KV_KEY_MAX 64
#define XS_KV_VALUE_MAX 4096

typedef struct _xs_kv_t xs_kv_t;

/* New empty set. Never NULL. Caller destroys. */
xs_kv_t *xs_kv_new (void);

/* Frees the set; NULLs *self_p; idempotent. */
void xs_kv_destroy (xs_kv_t **self_p);

/* Parses one "key=value" argument and adds it. Returns 0, or -1 with
   XS_EINVAL in *err (no '=', empty or bad key, bad value, duplicate key). */
int xs_kv_parse (xs_kv_t *self, const char *arg, xs_err_t *err);

/* Parses every argument of argv[0..argc-1]; stops at the first bad one.
   Returns 0 or -1. */
int xs_kv_parse_argv (xs_kv_t *self, int argc, char *const *argv, xs_err_t *err);

/* Adds key -> value after checking both as xs_kv_parse does. 0 or -1. */
int xs_kv_add (xs_kv_t *self, const char *key, const char *value, xs_err_t *err);

/* Value of `key` (borrowed), or NULL when absent. */
const char *xs_kv_get (const xs_kv_t *self, const char *key);

/* True when `key` is present. */
bool xs_kv_has (const xs_kv_t *self, const char *key);

/* Removes `key`. Returns 0 when it was present, -1 when not. */
int xs_kv_remove (xs_kv_t *self, const char *key);

/* Number of pairs, and the i-th key / value in insertion order (borrowed). */
size_t xs_kv_size (const xs_kv_t *self);
const char *xs_kv_key (const xs_kv_t *self, size_t index);
const char *xs_kv_value (const xs_kv_t *self, size_t index);

/* A new JSON object {key: value, ...} (values as strings; secrets are
   replaced by XS_REDACTED when `redact`). Caller owns the reference. */
json_t *xs_kv_to_json (const xs_kv_t *self, bool redact);

/* A new set from a JSON object whose values are all strings, checked as
   xs_kv_add does. Returns NULL with *err set otherwise. Caller destroys. */
xs_kv_t *xs_kv_from_json (const json_t *object, xs_err_t *err);

/* "k1=v1 k2=v2" in insertion order, secrets as XS_REDACTED when `redact`.
   Caller frees (free()). */
char *xs_kv_format (const xs_kv_t *self, bool redact);

/* Checks a key / a value as xs_kv_add does. 0 or -1 with *err set. */
int xs_kv_check_key (const char *key, xs_err_t *err);
int xs_kv_check_value (const char *key, const char *value, xs_err_t *err);

#endif
