/*  libFuzzer target: the catalog's admin API (xs_admin_handle) over a real
    store in a temp directory: envelope parsing, the command table and every
    command's argument checks (flavors, backends with their SR-type keys and
    settings). Every reply must be one JSON object with v = 1 and a boolean
    ok, and a failure must carry an error message; no input may crash it. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "catalog/server/xs_admin.h"
#include "catalog/xs_catalog_cfg.h"
#include "common/xs_log.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char s_dir [64];

static void
s_cleanup (void)
{
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system (cmd) != 0)
        fprintf (stderr, "fuzz_admin_request: could not remove %s\n", s_dir);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static xs_store_t *store = NULL;
    static xs_config_t *config = NULL;
    static xs_admin_t *admin = NULL;
    if (!admin) {
        xs_log_init ("fuzz", false, XS_LOG_ERROR);
        strcpy (s_dir, "/tmp/xs_fuzz_adminXXXXXX");
        if (!mkdtemp (s_dir))
            abort ();
        atexit (s_cleanup);
        char db [128];
        snprintf (db, sizeof db, "%s/catalog.db", s_dir);
        xs_err_t err;
        store = xs_store_new (db, &err);
        if (!store)
            abort ();
        config = xs_catalog_cfg_new ();
        admin = xs_admin_new (store, config);
    }
    size_t len = 0;
    char *reply = xs_admin_handle (admin, data, size, &len);
    if (!reply || strlen (reply) != len)
        abort ();
    json_t *json = json_loads (reply, 0, NULL);
    if (!json_is_object (json)
    ||  json_integer_value (json_object_get (json, "v")) != 1
    ||  !json_is_boolean (json_object_get (json, "ok")))
        abort ();           /* a reply no client can read */
    if (json_is_false (json_object_get (json, "ok"))
    &&  !json_string_value (json_object_get (json_object_get (json, "error"), "message")))
        abort ();           /* a refusal that does not say why */
    json_decref (json);
    free (reply);
    return 0;
}
