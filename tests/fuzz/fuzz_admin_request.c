/*  libFuzzer target: the catalog's admin API (xs_admin_handle) over a real
    store in a temp directory: envelope parsing, the command table and every
    command's argument checks (flavors, backends with their SR-type keys and
    settings; the volume and host commands are refused: no agents). Every
    request must be answered exactly once, after the group commit at the
    latest, and a failure must carry a code and a message; no input may
    crash it. */
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
static int s_answers;

/* xs_reply sink: checks the answer. */
static void
s_sink (void *arg, xs_reply_answer_t *answer)
{
    s_answers++;
    if (answer->err && (!answer->code || !*answer->err->msg))
        abort ();           /* a refusal that does not say why */
    if (!answer->err && !json_is_object (answer->result))
        abort ();           /* a result no client can read */
    json_decref (answer->result);
}

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
    static xs_batch_t *batch = NULL;
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
        batch = xs_batch_new (store, NULL);
        xs_admin_deps_t deps = {.store = store, .config = config, .batch = batch};
        admin = xs_admin_new (&deps);
    }
    s_answers = 0;
    xs_reply_t *reply = xs_reply_new (s_sink, NULL);
    xs_admin_handle (admin, data, size, &reply);
    if (reply)
        abort ();           /* the reply must have been taken */
    xs_batch_flush (batch);
    if (s_answers != 1)
        abort ();           /* answered never, or twice */
    return 0;
}
