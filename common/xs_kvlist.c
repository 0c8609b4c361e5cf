/*  xs_kvlist: an ordered list of key=value pairs. */
#include "xs_kvlist.h"
#include "xs_mem.h"
#include "xs_redact.h"
#include "xs_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;
    char *value;
} s_pair_t;

struct _xs_kvlist_t {
    s_pair_t *pairs;
    size_t size;
    size_t capacity;
};

xs_kvlist_t *
xs_kvlist_new (void)
{
    xs_kvlist_t *self = xs_zalloc (sizeof *self);
    return self;
}

void
xs_kvlist_destroy (xs_kvlist_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_kvlist_t *self = *self_p;
    for (size_t i = 0; i < self->size; i++) {
        free (self->pairs [i].key);
        free (self->pairs [i].value);
    }
    free (self->pairs);
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------
   Checks
   --------------------------------------------------------------------- */

int
xs_kvlist_check_key (const char *key, xs_err_t *err)
{
    if (!key || !*key)
        return xs_err_set (err, XS_EINVAL, "empty key (expected key=value)");
    size_t len = strlen (key);
    if (len > XS_KVLIST_KEY_MAX)
        return xs_err_set (err, XS_EINVAL, "key '%.20s...': longer than %d characters",
                           key, XS_KVLIST_KEY_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) key [i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
               || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok) {
            if (c >= 0x20 && c < 0x7f)
                return xs_err_set (err, XS_EINVAL,
                                   "key '%s': character '%c' not allowed (use letters, digits, '_', '-', '.')",
                                   key, c);
            return xs_err_set (err, XS_EINVAL,
                               "key at byte %zu: character 0x%02x not allowed (use letters, digits, '_', '-', '.')",
                               i, c);
        }
    }
    return 0;
}

int
xs_kvlist_check_value (const char *key, const char *value, xs_err_t *err)
{
    if (!value)
        return xs_err_set (err, XS_EINVAL, "key '%s': no value", key);
    char what [XS_KVLIST_KEY_MAX + 32];
    snprintf (what, sizeof what, "key '%s': value", key);
    return xs_text_check (what, value, XS_KVLIST_VALUE_MAX, XS_TEXT_MAY_BE_EMPTY, err);
}

/* ---------------------------------------------------------------------
   Building
   --------------------------------------------------------------------- */

static ssize_t
s_find (const xs_kvlist_t *self, const char *key)
{
    for (size_t i = 0; i < self->size; i++)
        if (strcmp (self->pairs [i].key, key) == 0)
            return (ssize_t) i;
    return -1;
}

int
xs_kvlist_add (xs_kvlist_t *self, const char *key, const char *value, xs_err_t *err)
{
    if (xs_kvlist_check_key (key, err) || xs_kvlist_check_value (key, value, err))
        return -1;
    if (s_find (self, key) >= 0)
        return xs_err_set (err, XS_EINVAL, "key '%s' given twice", key);
    if (self->size == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 8;
        s_pair_t *pairs = xs_realloc (self->pairs, capacity * sizeof *pairs);
        self->pairs = pairs;
        self->capacity = capacity;
    }
    char *k = xs_strdup (key);
    char *v = xs_strdup (value);
    if (!k || !v)
        abort ();
    self->pairs [self->size].key = k;
    self->pairs [self->size].value = v;
    self->size++;
    return 0;
}

int
xs_kvlist_parse (xs_kvlist_t *self, const char *arg, xs_err_t *err)
{
    if (!arg)
        return xs_err_set (err, XS_EINVAL, "missing key=value argument");
    const char *eq = strchr (arg, '=');
    if (!eq) {
        /* Never echo the whole argument: it could be a bare secret. */
        return xs_err_set (err, XS_EINVAL,
                           "argument '%.40s%s': expected key=value",
                           arg, strlen (arg) > 40 ? "..." : "");
    }
    if (eq == arg)
        return xs_err_set (err, XS_EINVAL,
                           "argument '=...': empty key (expected key=value)");
    size_t klen = (size_t) (eq - arg);
    if (klen > XS_KVLIST_KEY_MAX)
        return xs_err_set (err, XS_EINVAL, "key '%.20s...': longer than %d characters",
                           arg, XS_KVLIST_KEY_MAX);
    char key [XS_KVLIST_KEY_MAX + 1];
    memcpy (key, arg, klen);
    key [klen] = '\0';
    return xs_kvlist_add (self, key, eq + 1, err);
}

int
xs_kvlist_parse_argv (xs_kvlist_t *self, int argc, char *const *argv, xs_err_t *err)
{
    for (int i = 0; i < argc; i++)
        if (xs_kvlist_parse (self, argv [i], err))
            return -1;
    return 0;
}

/* ---------------------------------------------------------------------
   Access
   --------------------------------------------------------------------- */

const char *
xs_kvlist_get (const xs_kvlist_t *self, const char *key)
{
    if (!self || !key)
        return NULL;
    ssize_t i = s_find (self, key);
    return i < 0 ? NULL : self->pairs [i].value;
}

bool
xs_kvlist_has (const xs_kvlist_t *self, const char *key)
{
    return xs_kvlist_get (self, key) != NULL;
}

int
xs_kvlist_remove (xs_kvlist_t *self, const char *key)
{
    ssize_t i = key ? s_find (self, key) : -1;
    if (i < 0)
        return -1;
    free (self->pairs [i].key);
    free (self->pairs [i].value);
    memmove (&self->pairs [i], &self->pairs [i + 1],
             (self->size - (size_t) i - 1) * sizeof self->pairs [0]);
    self->size--;
    return 0;
}

size_t
xs_kvlist_size (const xs_kvlist_t *self)
{
    return self ? self->size : 0;
}

const char *
xs_kvlist_key (const xs_kvlist_t *self, size_t index)
{
    return self && index < self->size ? self->pairs [index].key : NULL;
}

const char *
xs_kvlist_value (const xs_kvlist_t *self, size_t index)
{
    return self && index < self->size ? self->pairs [index].value : NULL;
}

/* ---------------------------------------------------------------------
   Conversions
   --------------------------------------------------------------------- */

json_t *
xs_kvlist_to_json (const xs_kvlist_t *self, bool redact)
{
    json_t *object = json_object ();
    if (!object)
        abort ();
    for (size_t i = 0; self && i < self->size; i++) {
        const char *value = self->pairs [i].value;
        if (redact)
            value = xs_redact_value (self->pairs [i].key, value);
        /* Values were checked for UTF-8 when added. */
        json_object_set_new (object, self->pairs [i].key, json_string (value));
    }
    return object;
}

xs_kvlist_t *
xs_kvlist_from_json (const json_t *object, xs_err_t *err)
{
    xs_kvlist_t *self = NULL;
    if (!json_is_object (object)) {
        xs_err_set (err, XS_EINVAL, "expected an object of key: \"value\" strings");
        goto fail;
    }
    self = xs_kvlist_new ();
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) object, key, value) {
        if (!json_is_string (value)) {
            xs_err_set (err, XS_EINVAL, "key '%s': value must be a string", key);
            goto fail;
        }
        if (xs_kvlist_add (self, key, json_string_value (value), err))
            goto fail;
    }
    return self;
fail:
    xs_kvlist_destroy (&self);
    return NULL;
}

char *
xs_kvlist_format (const xs_kvlist_t *self, bool redact)
{
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&text, &size);
    if (!stream)
        abort ();
    for (size_t i = 0; self && i < self->size; i++) {
        const char *value = self->pairs [i].value;
        if (redact)
            value = xs_redact_value (self->pairs [i].key, value);
        fprintf (stream, "%s%s=%s", i ? " " : "", self->pairs [i].key, value);
    }
    if (fclose (stream))
        abort ();
    return text;
}
