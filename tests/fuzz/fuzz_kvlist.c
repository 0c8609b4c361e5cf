/*  libFuzzer target for the CLI's key=value arguments (xs_kvlist) and the
    SR-type validation of backend_add (xs_srtype_split).

    The input is NUL-separated: the first part is an SR type, the others are
    key=value arguments. Any input parses or gives a clear error, never a
    crash, leak or sanitizer report. What parses keeps every value whole
    (the text after the FIRST '='), survives JSON and back unchanged, and a
    successful split puts every pair in exactly one of the two sets.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xs_kvlist.h"
#include "common/xs_srtype.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_die (const char *what)
{
    fprintf (stderr, "fuzz_kvlist: %s\n", what);
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
    char *argv [64];
    int argc = 0;
    for (char *p = text; argc < 64 && p <= text + size; p += strlen (p) + 1)
        argv [argc++] = p;

    xs_err_t err;
    xs_kvlist_t *kv = xs_kvlist_new ();
    if (xs_kvlist_parse_argv (kv, argc - 1, argv + 1, &err) == 0) {
        if (xs_kvlist_size (kv) != (size_t) (argc - 1))
            s_die ("a pair was lost");
        for (int i = 1; i < argc; i++) {
            const char *eq = strchr (argv [i], '=');
            if (!eq || strcmp (xs_kvlist_value (kv, (size_t) i - 1), eq + 1) != 0)
                s_die ("value not kept whole");
        }
        json_t *json = xs_kvlist_to_json (kv, false);
        xs_kvlist_t *back = xs_kvlist_from_json (json, &err);
        if (!back || xs_kvlist_size (back) != xs_kvlist_size (kv))
            s_die ("JSON round trip failed");
        for (size_t i = 0; i < xs_kvlist_size (kv); i++)
            if (strcmp (xs_kvlist_get (back, xs_kvlist_key (kv, i)), xs_kvlist_value (kv, i)))
                s_die ("JSON round trip changed a value");
        xs_kvlist_destroy (&back);
        json_decref (json);
        free (xs_kvlist_format (kv, true));

        xs_kvlist_t *config = NULL, *settings = NULL;
        if (xs_srtype_split (argv [0], kv, &config, &settings, &err) == 0) {
            if (xs_kvlist_size (config) + xs_kvlist_size (settings) != xs_kvlist_size (kv))
                s_die ("split lost a pair");
            for (size_t i = 0; i < xs_kvlist_size (settings); i++)
                if (!xs_srtype_is_setting (xs_kvlist_key (settings, i)))
                    s_die ("device_config key among the settings");
        }
        else
        if (err.kind != XS_EINVAL || !err.msg [0])
            s_die ("split failed without a clear error");
        xs_kvlist_destroy (&config);
        xs_kvlist_destroy (&settings);
    }
    else
    if (err.kind != XS_EINVAL || !err.msg [0])
        s_die ("parse failed without a clear error");
    xs_kvlist_destroy (&kv);
    free (text);
    return 0;
}
