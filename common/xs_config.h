/*  xs_config: a program's settings, from defaults in code, an INI file
    (read by inih) and command-line overrides, in that order.

    A program describes its settings once, in a static table of
    xs_config_option_t ending with an all-NULL entry. Each option has a
    section, a key, a type, a default (as text) and, for numbers, a range.
    Loading a file refuses unknown sections and keys, keys given twice,
    syntax errors and values that do not fit the option; every error reads
    "<file>:<line>: <what is wrong>". Values are checked by the same code
    whether they come from the file or from xs_config_set.

        [catalog]
        db = /var/lib/xensm/catalog.db     ; comments start with ; or #

    Ownership: the option table is borrowed (keep it static). Getters return
    borrowed strings valid until the value is set again or the config is
    destroyed.
*/
#ifndef XS_CONFIG_H_INCLUDED
#define XS_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "xs_err.h"

typedef enum {
    XS_CONFIG_STRING = 0,   /* any text (may be empty only if `allow_empty`)   */
    XS_CONFIG_INT,          /* decimal integer in [min, max]                   */
    XS_CONFIG_DOUBLE,       /* decimal number in [min, max]                    */
    XS_CONFIG_BOOL,         /* true/false, yes/no, on/off, 1/0                 */
    XS_CONFIG_ENUM          /* one of `choices`                                */
} xs_config_type_t;

typedef struct {
    const char *section;
    const char *key;
    xs_config_type_t type;
    const char *dflt;                   /* default as text; NULL = unset       */
    double min, max;                    /* INT/DOUBLE bounds, inclusive        */
    const char *const *choices;         /* ENUM: NULL-terminated               */
    bool allow_empty;                   /* STRING: "" accepted                 */
    /* Extra check of a value (e.g. an endpoint's scheme); 0 or -1 + *err. */
    int (*check) (const char *value, xs_err_t *err);
    const char *help;                   /* one line, for docs and --help       */
} xs_config_option_t;

typedef struct _xs_config_t xs_config_t;

/* New config holding the defaults of `options` (borrowed, static, ended by
   an entry whose key is NULL). Never NULL. Caller destroys. */
xs_config_t *xs_config_new (const xs_config_option_t *options);

/* Frees the config; NULLs *self_p; idempotent. */
void xs_config_destroy (xs_config_t **self_p);

/* Reads the INI file at `path` over the current values. On any error
   returns -1 with *err = "<path>:<line>: ..." (XS_EINVAL) or
   "<path>: cannot open: ..." (XS_ENOTFOUND when it does not exist, XS_EIO
   otherwise), and leaves the current values unchanged. */
int xs_config_load (xs_config_t *self, const char *path, xs_err_t *err);

/* Same from a string; `name` stands for the file name in messages. */
int xs_config_load_string (xs_config_t *self, const char *name, const char *text,
                           xs_err_t *err);

/* Sets one value (e.g. from a command-line flag) after checking it.
   Returns 0, or -1 with *err = "[section] key: ..." (XS_EINVAL). */
int xs_config_set (xs_config_t *self, const char *section, const char *key,
                   const char *value, xs_err_t *err);

/* Current value as text (borrowed), NULL when unset or unknown. */
const char *xs_config_get (const xs_config_t *self, const char *section, const char *key);

/* Typed getters; `dflt` when unset or unknown. */
int64_t xs_config_int (const xs_config_t *self, const char *section, const char *key,
                       int64_t dflt);
double xs_config_double (const xs_config_t *self, const char *section, const char *key,
                         double dflt);
bool xs_config_bool (const xs_config_t *self, const char *section, const char *key,
                     bool dflt);

/* Where the current value came from: "default", "<file>:<line>" or "set".
   Borrowed; NULL for an unknown key. */
const char *xs_config_origin (const xs_config_t *self, const char *section, const char *key);

#endif
