/*  xs_config: a program's settings from defaults, an INI file and overrides. */
#include "xs_config.h"
#include "xs_mem.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    char *value;            /* NULL = unset                            */
    char *origin;           /* "default", "<file>:<line>" or "set"     */
} s_slot_t;

struct _xs_config_t {
    const xs_config_option_t *options;
    size_t count;
    s_slot_t *slots;
};

/* ---------------------------------------------------------------------
   Slots
   --------------------------------------------------------------------- */

static void
s_slot_set (s_slot_t *slot, const char *value, const char *origin)
{
    free (slot->value);
    free (slot->origin);
    slot->value = value ? xs_strdup (value) : NULL;
    slot->origin = xs_strdup (origin);
}

static void
s_slots_free (s_slot_t *slots, size_t count)
{
    for (size_t i = 0; slots && i < count; i++) {
        free (slots [i].value);
        free (slots [i].origin);
    }
    free (slots);
}

static s_slot_t *
s_slots_copy (const xs_config_t *self)
{
    s_slot_t *copy = xs_zalloc ((self->count ? self->count : 1) * sizeof *copy);
    for (size_t i = 0; i < self->count; i++) {
        copy [i].value = self->slots [i].value ? xs_strdup (self->slots [i].value) : NULL;
        copy [i].origin = xs_strdup (self->slots [i].origin);
    }
    return copy;
}

static ssize_t
s_find (const xs_config_t *self, const char *section, const char *key)
{
    for (size_t i = 0; section && key && i < self->count; i++)
        if (strcmp (self->options [i].section, section) == 0
        &&  strcmp (self->options [i].key, key) == 0)
            return (ssize_t) i;
    return -1;
}

static bool
s_section_known (const xs_config_t *self, const char *section)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->options [i].section, section) == 0)
            return true;
    return false;
}

xs_config_t *
xs_config_new (const xs_config_option_t *options)
{
    xs_config_t *self = xs_zalloc (sizeof *self);
    self->options = options;
    while (options [self->count].key)
        self->count++;
    self->slots = xs_zalloc ((self->count ? self->count : 1) * sizeof *self->slots);
    for (size_t i = 0; i < self->count; i++)
        s_slot_set (&self->slots [i], options [i].dflt, "default");
    return self;
}

void
xs_config_destroy (xs_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_config_t *self = *self_p;
    s_slots_free (self->slots, self->count);
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------
   Checking one value
   --------------------------------------------------------------------- */

static const char *s_true_words [] = { "true", "yes", "on", "1", NULL };
static const char *s_false_words [] = { "false", "no", "off", "0", NULL };

static int
s_parse_bool (const char *text, bool *value)
{
    for (size_t i = 0; s_true_words [i]; i++)
        if (strcasecmp (text, s_true_words [i]) == 0) {
            *value = true;
            return 0;
        }
    for (size_t i = 0; s_false_words [i]; i++)
        if (strcasecmp (text, s_false_words [i]) == 0) {
            *value = false;
            return 0;
        }
    return -1;
}

/* Checks `value` against option `opt`. 0, or -1 with a message that does
   not yet name the option (callers prefix it). */
static int
s_check (const xs_config_option_t *opt, const char *value, xs_err_t *err)
{
    char *end = NULL;
    switch (opt->type) {
    case XS_CONFIG_STRING:
        if (!*value && !opt->allow_empty)
            return xs_err_set (err, XS_EINVAL, "empty value");
        break;
    case XS_CONFIG_INT: {
        errno = 0;
        long long number = strtoll (value, &end, 10);
        if (errno || end == value || *end)
            return xs_err_set (err, XS_EINVAL, "'%s' is not an integer", value);
        if ((double) number < opt->min || (double) number > opt->max)
            return xs_err_set (err, XS_EINVAL, "%s is out of range [%.0f, %.0f]",
                               value, opt->min, opt->max);
        break;
    }
    case XS_CONFIG_DOUBLE: {
        errno = 0;
        double number = strtod (value, &end);
        if (errno || end == value || *end || !isfinite (number))
            return xs_err_set (err, XS_EINVAL, "'%s' is not a number", value);
        if (number < opt->min || number > opt->max)
            return xs_err_set (err, XS_EINVAL, "%s is out of range [%g, %g]",
                               value, opt->min, opt->max);
        break;
    }
    case XS_CONFIG_BOOL: {
        bool flag;
        if (s_parse_bool (value, &flag))
            return xs_err_set (err, XS_EINVAL,
                               "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)", value);
        break;
    }
    case XS_CONFIG_ENUM: {
        bool found = false;
        for (size_t i = 0; opt->choices && opt->choices [i] && !found; i++)
            found = strcmp (opt->choices [i], value) == 0;
        if (!found) {
            char choices [256] = "";
            size_t used = 0;
            for (size_t i = 0; opt->choices && opt->choices [i]; i++) {
                int n = snprintf (choices + used, sizeof choices - used, "%s%s",
                                  i ? ", " : "", opt->choices [i]);
                if (n < 0 || (size_t) n >= sizeof choices - used)
                    break;
                used += (size_t) n;
            }
            return xs_err_set (err, XS_EINVAL, "'%s' is not one of: %s", value, choices);
        }
        break;
    }
    }
    if (opt->check && opt->check (value, err))
        return -1;
    return 0;
}

int
xs_config_set (xs_config_t *self, const char *section, const char *key,
               const char *value, xs_err_t *err)
{
    ssize_t i = s_find (self, section, key);
    if (i < 0)
        return xs_err_set (err, XS_EINVAL, "[%s] %s: unknown setting",
                           section ? section : "", key ? key : "");
    if (!value)
        return xs_err_set (err, XS_EINVAL, "[%s] %s: no value", section, key);
    if (s_check (&self->options [i], value, err))
        return xs_err_prefix (err, "[%s] %s", section, key);
    s_slot_set (&self->slots [i], value, "set");
    return 0;
}

/* ---------------------------------------------------------------------
   Loading (inih calls s_handler for every key; s_reader counts lines)
   --------------------------------------------------------------------- */

typedef struct {
    xs_config_t *self;
    s_slot_t *staged;       /* values being loaded                      */
    bool *seen;             /* key already given in this file           */
    const char *name;       /* file name for messages                   */
    /* reading */
    FILE *file;             /* when reading a file                      */
    const char *text;       /* when reading a string                    */
    int line;               /* number of the line last read             */
    bool at_line_start;     /* the last chunk ended a line              */
    /* first error */
    int err_line;
    xs_err_t err;
} s_load_t;

static char *
s_reader (char *buffer, int size, void *stream)
{
    s_load_t *load = stream;
    char *chunk = NULL;
    if (load->err_line)
        return NULL;        /* stop reading after a reader error */
    if (load->file)
        chunk = fgets (buffer, size, load->file);
    else
    if (load->text && *load->text) {
        const char *newline = strchr (load->text, '\n');
        size_t len = newline ? (size_t) (newline - load->text) + 1 : strlen (load->text);
        if (len > (size_t) size - 1)
            len = (size_t) size - 1;
        memcpy (buffer, load->text, len);
        buffer [len] = '\0';
        load->text += len;
        chunk = buffer;
    }
    if (!chunk)
        return NULL;
    if (load->at_line_start)
        load->line++;
    size_t len = strlen (chunk);
    load->at_line_start = len > 0 && chunk [len - 1] == '\n';
    bool at_end = load->file ? feof (load->file) : !*load->text;
    if (!load->at_line_start && !at_end) {
        /* inih would parse the rest of the line as a new line. */
        load->err_line = load->line;
        xs_err_set (&load->err, XS_EINVAL, "%s:%d: line longer than %d characters",
                    load->name, load->line, size - 3);
        return NULL;
    }
    return chunk;
}

static int
s_handler (void *user, const char *section, const char *key, const char *value)
{
    s_load_t *load = user;
    xs_config_t *self = load->self;
    xs_err_t err;
    xs_err_clear (&err);
    ssize_t i = s_find (self, section, key);
    if (i < 0) {
        if (!*section)
            xs_err_set (&err, XS_EINVAL, "%s:%d: '%s' outside a section (put it under [section])",
                        load->name, load->line, key);
        else
        if (!s_section_known (self, section))
            xs_err_set (&err, XS_EINVAL, "%s:%d: unknown section [%s]",
                        load->name, load->line, section);
        else
            xs_err_set (&err, XS_EINVAL, "%s:%d: [%s] %s: unknown setting",
                        load->name, load->line, section, key);
    }
    else
    if (load->seen [i])
        xs_err_set (&err, XS_EINVAL, "%s:%d: [%s] %s: given twice",
                    load->name, load->line, section, key);
    else
    if (s_check (&self->options [i], value, &err))
        xs_err_prefix (&err, "%s:%d: [%s] %s", load->name, load->line, section, key);
    else {
        char origin [512];
        snprintf (origin, sizeof origin, "%s:%d", load->name, load->line);
        s_slot_set (&load->staged [i], value, origin);
        load->seen [i] = true;
        return 1;
    }
    if (!load->err_line) {
        load->err_line = load->line;
        load->err = err;
    }
    return 0;
}

static int
s_load (xs_config_t *self, s_load_t *load, xs_err_t *err)
{
    load->self = self;
    load->staged = s_slots_copy (self);
    load->seen = xs_zalloc ((self->count ? self->count : 1) * sizeof *load->seen);
    load->at_line_start = true;
    int rc = ini_parse_stream (s_reader, load, s_handler, load);
    int result = -1;
    if (rc == -2)
        xs_err_set (err, XS_EINTERNAL, "%s: out of memory", load->name);
    else
    if (load->err_line && (rc <= 0 || load->err_line <= rc))
        *err = load->err;
    else
    if (rc > 0)
        xs_err_set (err, XS_EINVAL, "%s:%d: syntax error (expected [section] or key = value)",
                    load->name, rc);
    else
    if (load->file && ferror (load->file))
        xs_err_set (err, XS_EIO, "%s: read error", load->name);
    else {
        s_slots_free (self->slots, self->count);
        self->slots = load->staged;
        load->staged = NULL;
        result = 0;
    }
    s_slots_free (load->staged, self->count);
    free (load->seen);
    return result;
}

int
xs_config_load (xs_config_t *self, const char *path, xs_err_t *err)
{
    s_load_t load = { .name = path };
    load.file = fopen (path, "re");
    if (!load.file)
        return xs_err_set (err, errno == ENOENT ? XS_ENOTFOUND : XS_EIO,
                           "%s: cannot open: %s", path, strerror (errno));
    int rc = s_load (self, &load, err);
    fclose (load.file);
    return rc;
}

int
xs_config_load_string (xs_config_t *self, const char *name, const char *text,
                       xs_err_t *err)
{
    s_load_t load = { .name = name, .text = text ? text : "" };
    return s_load (self, &load, err);
}

/* ---------------------------------------------------------------------
   Getters
   --------------------------------------------------------------------- */

const char *
xs_config_get (const xs_config_t *self, const char *section, const char *key)
{
    ssize_t i = s_find (self, section, key);
    return i < 0 ? NULL : self->slots [i].value;
}

const char *
xs_config_origin (const xs_config_t *self, const char *section, const char *key)
{
    ssize_t i = s_find (self, section, key);
    return i < 0 ? NULL : self->slots [i].origin;
}

int64_t
xs_config_int (const xs_config_t *self, const char *section, const char *key, int64_t dflt)
{
    const char *value = xs_config_get (self, section, key);
    return value ? (int64_t) strtoll (value, NULL, 10) : dflt;
}

double
xs_config_double (const xs_config_t *self, const char *section, const char *key, double dflt)
{
    const char *value = xs_config_get (self, section, key);
    return value ? strtod (value, NULL) : dflt;
}

bool
xs_config_bool (const xs_config_t *self, const char *section, const char *key, bool dflt)
{
    const char *value = xs_config_get (self, section, key);
    bool flag = dflt;
    if (value && s_parse_bool (value, &flag))
        flag = dflt;
    return flag;
}
