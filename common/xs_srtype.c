/*  xs_srtype: the SR types xensm knows and the device_config each needs. */
#include "xs_srtype.h"
#include "xs_text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------
   The table (docs/DESIGN.md; keys as xapi-project/sm drivers spell them)
   --------------------------------------------------------------------- */

#define S_KEYS(...) ((const char *const []) { __VA_ARGS__, NULL })
#define S_NONE ((const char *const []) { NULL })

static const xs_srtype_t s_types [] = {
    { "nfs", S_KEYS ("server", "serverpath"), S_KEYS ("nfsversion", "options"), true, true, false },
    { "lvmoiscsi", S_KEYS ("target", "targetIQN", "SCSIid"),
      S_KEYS ("port", "chapuser", "chappassword", "incoming_chapuser",
              "incoming_chappassword", "multihomed", "allocation"), true, true, false },
    { "lvmohba", S_KEYS ("SCSIid"), S_KEYS ("allocation"), true, true, false },
    { "iscsi", S_KEYS ("target", "targetIQN"),
      S_KEYS ("port", "chapuser", "chappassword", "multihomed"), true, false, true },
    { "hba", S_NONE, S_KEYS ("type"), true, false, true },
    { "netapp", S_KEYS ("target", "username", "password", "aggregate"),
      S_KEYS ("FlexVols", "allocation"), true, true, false },
    { "equal", S_KEYS ("target", "username", "password", "storagepool"),
      S_KEYS ("snap-reserve-percentage", "snap-depletion"), true, true, false },
    /* SMBSR: only server is required; without credentials it mounts as
       guest (getMountOptions). */
    { "smb", S_KEYS ("server"), S_KEYS ("username", "password"), true, true, false },
    { "ext", S_KEYS ("device"), S_NONE, false, true, false },
    { "lvm", S_KEYS ("device"), S_NONE, false, true, false },
    { "file", S_KEYS ("location"), S_NONE, false, true, false },
};

#define S_NTYPES (sizeof s_types / sizeof s_types [0])

static const char *const s_settings [] = {
    "name_label", "sr_uuid", "zone", "ratio", "reserve", NULL
};

/* ---------------------------------------------------------------------
   Lookup
   --------------------------------------------------------------------- */

const xs_srtype_t *
xs_srtype_find (const char *name)
{
    for (size_t i = 0; name && i < S_NTYPES; i++)
        if (strcmp (s_types [i].name, name) == 0)
            return &s_types [i];
    return NULL;
}

size_t
xs_srtype_count (void)
{
    return S_NTYPES;
}

const xs_srtype_t *
xs_srtype_at (size_t index)
{
    return index < S_NTYPES ? &s_types [index] : NULL;
}

/* Writes the NULL-terminated `list` as "a, b, c" (or `none`) to `stream`. */
static void
s_print_list (FILE *stream, const char *const *list, const char *none)
{
    if (!list [0]) {
        fputs (none, stream);
        return;
    }
    for (size_t i = 0; list [i]; i++)
        fprintf (stream, "%s%s", i ? ", " : "", list [i]);
}

char *
xs_srtype_known_list (void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&text, &size);
    if (!stream)
        abort ();
    for (size_t i = 0; i < S_NTYPES; i++)
        fprintf (stream, "%s%s", i ? ", " : "", s_types [i].name);
    if (fclose (stream))
        abort ();
    return text;
}

static bool
s_in_list (const char *const *list, const char *key)
{
    for (size_t i = 0; list [i]; i++)
        if (strcmp (list [i], key) == 0)
            return true;
    return false;
}

bool
xs_srtype_is_setting (const char *key)
{
    return key && s_in_list (s_settings, key);
}

/* ---------------------------------------------------------------------
   Settings
   --------------------------------------------------------------------- */

static bool
s_is_uuid (const char *text)
{
    /* 8-4-4-4-12 hexadecimal digits. */
    static const int groups [] = { 8, 4, 4, 4, 12 };
    const char *p = text;
    for (size_t g = 0; g < 5; g++) {
        for (int i = 0; i < groups [g]; i++, p++)
            if (!isxdigit ((unsigned char) *p))
                return false;
        if (g < 4 && *p++ != '-')
            return false;
    }
    return *p == '\0';
}

/* Parses a finite decimal number; 0 or -1. */
static int
s_parse_number (const char *text, double *number)
{
    char *end = NULL;
    errno = 0;
    double value = strtod (text, &end);
    if (errno || end == text || *end != '\0' || !isfinite (value))
        return -1;
    *number = value;
    return 0;
}

int
xs_srtype_check_setting (const char *key, const char *value, xs_err_t *err)
{
    double number = 0;
    if (!xs_srtype_is_setting (key))
        return xs_err_set (err, XS_EINVAL, "'%s' is not a catalog setting", key ? key : "");
    if (!value)
        return xs_err_set (err, XS_EINVAL, "%s: no value", key);
    if (strcmp (key, "sr_uuid") == 0) {
        if (!s_is_uuid (value))
            return xs_err_set (err, XS_EINVAL,
                               "sr_uuid '%s': not a UUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                               value);
        if (strspn (value, "0-") == strlen (value))
            return xs_err_set (err, XS_EINVAL, "sr_uuid '%s': the nil UUID names no SR", value);
    }
    else
    if (strcmp (key, "zone") == 0)
        return xs_text_check_name ("zone", value, XS_ZONE_MAX, err);
    else
    if ((strcmp (key, "ratio") == 0 || strcmp (key, "reserve") == 0)
    &&  (value [0] == '-' || value [0] == '+'))
        return xs_err_set (err, XS_EINVAL, "%s '%s': no sign allowed", key, value);
    else
    if (strcmp (key, "ratio") == 0) {
        if (s_parse_number (value, &number) || number <= 0 || number > 100)
            return xs_err_set (err, XS_EINVAL,
                               "ratio '%s': expected a number greater than 0 and at most 100 (over-subscription, 1.0 = none)",
                               value);
    }
    else
    if (strcmp (key, "reserve") == 0) {
        if (s_parse_number (value, &number) || number < 0 || number >= 100)
            return xs_err_set (err, XS_EINVAL,
                               "reserve '%s': expected a percentage from 0 to less than 100",
                               value);
    }
    else
    if (!*value)
        return xs_err_set (err, XS_EINVAL, "%s: empty value", key);
    return 0;
}

/* ---------------------------------------------------------------------
   Validation
   --------------------------------------------------------------------- */

/* Checks that config holds only the keys `type` knows and every one it
   requires. 0, or -1 with err listing all unknown (else all missing) keys. */
static int
s_check_keys (const xs_srtype_t *type, const xs_kvlist_t *config, xs_err_t *err)
{
    int rc = 0;
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&text, &size);
    if (!stream)
        abort ();
    size_t unknown = 0;
    for (size_t i = 0; i < xs_kvlist_size (config); i++) {
        const char *key = xs_kvlist_key (config, i);
        if (!s_in_list (type->required, key) && !s_in_list (type->optional, key))
            fprintf (stream, "%s%s", unknown++ ? ", " : "", key);
    }
    if (unknown) {
        fputs (" (allowed: ", stream);
        s_print_list (stream, type->required, "");
        if (type->required [0] && type->optional [0])
            fputs (", ", stream);
        s_print_list (stream, type->optional, type->required [0] ? "" : "none");
        fputs ("; catalog settings: ", stream);
        s_print_list (stream, s_settings, "");
        fputs (")", stream);
        fflush (stream);
        rc = xs_err_set (err, XS_EINVAL, "SR type %s: unknown key(s) %s", type->name, text);
        goto out;
    }
    size_t missing = 0;
    for (size_t i = 0; type->required [i]; i++)
        if (!xs_kvlist_has (config, type->required [i]))
            fprintf (stream, "%s%s", missing++ ? ", " : "", type->required [i]);
    if (missing) {
        fputs (" (required: ", stream);
        s_print_list (stream, type->required, "");
        fputs (")", stream);
        fflush (stream);
        rc = xs_err_set (err, XS_EINVAL, "SR type %s: missing required key(s) %s",
                         type->name, text);
    }
out:
    fclose (stream);
    free (text);
    return rc;
}

int
xs_srtype_split (const char *type_name, const xs_kvlist_t *args,
                 xs_kvlist_t **device_config_p, xs_kvlist_t **settings_p, xs_err_t *err)
{
    int rc = -1;
    xs_kvlist_t *config = xs_kvlist_new ();
    xs_kvlist_t *settings = xs_kvlist_new ();

    const xs_srtype_t *type = xs_srtype_find (type_name);
    if (!type) {
        char *known = xs_srtype_known_list ();
        xs_err_set (err, XS_EINVAL, "SR type '%s' unknown (known types: %s)",
                    type_name ? type_name : "", known);
        free (known);
        goto out;
    }
    for (size_t i = 0; i < xs_kvlist_size (args); i++) {
        const char *key = xs_kvlist_key (args, i);
        const char *value = xs_kvlist_value (args, i);
        if (xs_srtype_is_setting (key)) {
            if (xs_srtype_check_setting (key, value, err)
            ||  xs_kvlist_add (settings, key, value, err))
                goto out;
        }
        else
        if (xs_kvlist_add (config, key, value, err))
            goto out;
    }
    if (s_check_keys (type, config, err))
        goto out;
    if (device_config_p) {
        *device_config_p = config;
        config = NULL;
    }
    if (settings_p) {
        *settings_p = settings;
        settings = NULL;
    }
    rc = 0;
out:
    xs_kvlist_destroy (&config);
    xs_kvlist_destroy (&settings);
    return rc;
}
