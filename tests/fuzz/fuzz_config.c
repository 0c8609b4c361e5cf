/*  libFuzzer target for config files (xs_config over inih).

    Any input loads or gives an error "fuzz.cfg:<line>: ..." (or
    "fuzz.cfg: ..."), never a crash, leak or sanitizer report; a failed load
    leaves every value as it was, and every value of a successful load passes
    its option's check when set again.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xs_config.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *const s_levels [] = { "error", "notice", "debug", NULL };

static const xs_config_option_t s_options [] = {
    { "catalog", "db", XS_CONFIG_STRING, "/var/lib/x.db", 0, 0, NULL, false, NULL, "" },
    { "catalog", "ratio", XS_CONFIG_DOUBLE, "1.0", 0.01, 100, NULL, false, NULL, "" },
    { "catalog", "batch", XS_CONFIG_INT, "64", 1, 10000, NULL, false, NULL, "" },
    { "catalog", "log_level", XS_CONFIG_ENUM, "notice", 0, 0, s_levels, false, NULL, "" },
    { "catalog", "syslog", XS_CONFIG_BOOL, "no", 0, 0, NULL, false, NULL, "" },
    { "agent", "note", XS_CONFIG_STRING, "", 0, 0, NULL, true, NULL, "" },
    { .key = NULL }
};

static void
s_die (const char *what, const char *detail)
{
    fprintf (stderr, "fuzz_config: %s: %s\n", what, detail);
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text [size] = '\0';
    xs_config_t *config = xs_config_new (s_options);
    xs_err_t err;
    if (xs_config_load_string (config, "fuzz.cfg", text, &err)) {
        if (strncmp (err.msg, "fuzz.cfg", 8) != 0)
            s_die ("error does not name the file", err.msg);
        if (strcmp (xs_config_get (config, "catalog", "db"), "/var/lib/x.db")
        ||  strcmp (xs_config_origin (config, "catalog", "db"), "default"))
            s_die ("failed load changed a value", err.msg);
    }
    else {
        for (size_t i = 0; s_options [i].key; i++) {
            const char *value = xs_config_get (config, s_options [i].section, s_options [i].key);
            char *copy = value ? strdup (value) : NULL;
            if (copy && xs_config_set (config, s_options [i].section, s_options [i].key, copy, &err))
                s_die ("loaded value fails its check", err.msg);
            free (copy);
        }
    }
    xs_config_destroy (&config);
    free (text);
    return 0;
}
