/*  xs_kvlist: an ordered list of key=value pairs, such as the arguments of
    `xensm-manage sm backend_add gold nfs server=a serverpath=/x`.

    An argument is split at its FIRST '=' and the value is kept whole, so
    `options=rw,sec=sys` gives key "options" and value "rw,sec=sys". Values
    may hold '=', spaces and any printable character (UTF-8 included); control
    characters are refused. Keys are 1-64 characters of [A-Za-z0-9_.-]. A key
    given twice is refused (no silent "last one wins").

    Error messages never show a value whose key is a secret (xs_redact).

    (Named kvlist, not kv: catalog/store/xs_rows.h already has xs_kv_t for
    ONE stored pair of a backend's config.)

    Ownership: an xs_kvlist_t owns copies of its keys and values; getters return
    borrowed pointers valid until the pair is removed or the set destroyed.
*/
#ifndef XS_KVLIST_H_INCLUDED
#define XS_KVLIST_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "xs_err.h"

#define XS_KVLIST_KEY_MAX 64
#define XS_KVLIST_VALUE_MAX 4096

typedef struct _xs_kvlist_t xs_kvlist_t;

/* New empty set. Never NULL. Caller destroys. */
xs_kvlist_t *xs_kvlist_new (void);

/* Frees the set; NULLs *self_p; idempotent. */
void xs_kvlist_destroy (xs_kvlist_t **self_p);

/* Parses one "key=value" argument and adds it. Returns 0, or -1 with
   XS_EINVAL in *err (no '=', empty or bad key, bad value, duplicate key). */
int xs_kvlist_parse (xs_kvlist_t *self, const char *arg, xs_err_t *err);

/* Parses every argument of argv[0..argc-1]; stops at the first bad one.
   Returns 0 or -1. */
int xs_kvlist_parse_argv (xs_kvlist_t *self, int argc, char *const *argv, xs_err_t *err);

/* Adds key -> value after checking both as xs_kvlist_parse does. 0 or -1. */
int xs_kvlist_add (xs_kvlist_t *self, const char *key, const char *value, xs_err_t *err);

/* Value of `key` (borrowed), or NULL when absent. */
const char *xs_kvlist_get (const xs_kvlist_t *self, const char *key);

/* True when `key` is present. */
bool xs_kvlist_has (const xs_kvlist_t *self, const char *key);

/* Removes `key`. Returns 0 when it was present, -1 when not. */
int xs_kvlist_remove (xs_kvlist_t *self, const char *key);

/* Number of pairs, and the i-th key / value in insertion order (borrowed). */
size_t xs_kvlist_size (const xs_kvlist_t *self);
const char *xs_kvlist_key (const xs_kvlist_t *self, size_t index);
const char *xs_kvlist_value (const xs_kvlist_t *self, size_t index);

/* A new JSON object {key: value, ...} (values as strings; secrets are
   replaced by XS_REDACTED when `redact`). Caller owns the reference. */
json_t *xs_kvlist_to_json (const xs_kvlist_t *self, bool redact);

/* A new set from a JSON object whose values are all strings, checked as
   xs_kvlist_add does. Returns NULL with *err set otherwise. Caller destroys. */
xs_kvlist_t *xs_kvlist_from_json (const json_t *object, xs_err_t *err);

/* "k1=v1 k2=v2" in insertion order, secrets as XS_REDACTED when `redact`.
   Caller frees (free()). */
char *xs_kvlist_format (const xs_kvlist_t *self, bool redact);

/* Checks a key / a value as xs_kvlist_add does. 0 or -1 with *err set. */
int xs_kvlist_check_key (const char *key, xs_err_t *err);
int xs_kvlist_check_value (const char *key, const char *value, xs_err_t *err);

#endif
