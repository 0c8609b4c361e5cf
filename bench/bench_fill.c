/*  xs-bench-fill: fills a catalog database through the store API (xs_store)
    for the scale benchmark (bench/run, section 3).

    xs-bench-fill --db PATH --volumes N [--backends B] [--flavor F] [--zone Z]
                  [--project P]

    Makes flavor F and B nfs backends (sr_uuid 00000000-0000-4000-9000-<id>,
    the ones xs-bench-load setup makes) when the flavor is new, then N
    available volumes spread over the backends, each with what the create
    path leaves behind: a request id, its finished vdi_create job (args and
    result) and its `ok` placement attempt, owned by project P (default ""
    as the admin CLI leaves it; the Block Storage API lists a project's
    own). Commits every 10,000 volumes.
    Prints the seconds it took.
*/
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <czmq.h>

#include "xs_store.h"

#define S_CHUNK 10000

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: xs-bench-fill --db PATH --volumes N [--backends B] [--flavor F] "
                  "[--zone Z] [--project P]\n");
}

static int
s_fail (const char *what, const xs_err_t *err)
{
    fprintf (stderr, "xs-bench-fill: %s: %s\n", what, err->msg);
    return 1;
}

int
main (int argc, char **argv)
{
    static const struct option longopts [] = {
        {"db", required_argument, NULL, 'd'},
        {"volumes", required_argument, NULL, 'n'},
        {"backends", required_argument, NULL, 'b'},
        {"flavor", required_argument, NULL, 'f'},
        {"zone", required_argument, NULL, 'z'},
        {"project", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    const char *db = NULL, *flavor = "bench", *zone = "default", *project = NULL;
    long volumes = 0, backends = 100;
    int c;
    while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
            case 'd': db = optarg; break;
            case 'n': volumes = atol (optarg); break;
            case 'b': backends = atol (optarg); break;
            case 'f': flavor = optarg; break;
            case 'z': zone = optarg; break;
            case 'p': project = optarg; break;
            case 'h': s_usage (stdout); return 0;
            default: s_usage (stderr); return 2;
        }
    }
    if (!db || volumes < 0 || backends < 1 || optind < argc) {
        s_usage (stderr);
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    xs_err_t err;
    xs_store_t *store = xs_store_new (db, &err);
    if (!store)
        return s_fail (db, &err);
    int rc = 1;
    int64_t *ids = zmalloc ((size_t) backends * sizeof *ids);
    xs_flavor_t *f = xs_store_flavor_get (store, flavor, &err);
    if (!f) {
        if (xs_store_begin (store, &err) || xs_store_flavor_create (store, flavor, NULL, &err) < 0)
            goto fail;
        for (long b = 0; b < backends; b++) {
            char sr [64], path [64], label [64];
            snprintf (sr, sizeof sr, "00000000-0000-4000-9000-%012ld", b + 1);
            snprintf (path, sizeof path, "/bench/%ld", b + 1);
            snprintf (label, sizeof label, "bench-%ld", b + 1);
            xs_kv_spec_t config [] = {{"server", "192.0.2.1"}, {"serverpath", path}};
            xs_backend_spec_t spec = {.flavor_label = flavor, .zone = zone, .sr_type = "nfs",
                                      .name_label = label, .sr_uuid = sr, .nconfig = 2,
                                      .config = config};
            ids [b] = xs_store_backend_add (store, &spec, &err);
            if (ids [b] < 0)
                goto fail;
        }
        if (xs_store_commit (store, &err))
            goto fail;
    }
    else {
        xs_backend_t **list = xs_store_backend_list_by_flavor (store, f->id, &err);
        if (!list)
            goto fail;
        backends = 0;
        for (xs_backend_t **b = list; *b; b++)
            ids [backends++] = (*b)->id;
        xs_backend_list_destroy (&list);
        if (backends == 0) {
            xs_err_set (&err, XS_EINVAL, "flavor %s has no backends", flavor);
            goto fail;
        }
    }
    xs_flavor_destroy (&f);
    f = xs_store_flavor_get (store, flavor, &err);
    if (!f)
        goto fail;
    for (long i = 0; i < volumes; i++) {
        if (i % S_CHUNK == 0 && xs_store_begin (store, &err))
            goto fail;
        char uuid [37], rid [64], host [64], sr [64], args [256], result [256];
        zuuid_t *u = zuuid_new ();
        snprintf (uuid, sizeof uuid, "%s", zuuid_str_canonical (u));
        zuuid_destroy (&u);
        long b = i % backends;
        snprintf (rid, sizeof rid, "fill-%ld", i);
        snprintf (host, sizeof host, "00000000-0000-4000-8000-%012ld", i % 10);
        snprintf (sr, sizeof sr, "00000000-0000-4000-9000-%012lld", (long long) ids [b]);
        snprintf (args, sizeof args, "{\"volume_uuid\":\"%s\",\"size\":%lld,\"sr_uuid\":\"%s\"}",
                  uuid, 1073741824LL, sr);
        snprintf (result, sizeof result,
                  "{\"vdi_uuid\":\"%s\",\"sr_uuid\":\"%s\",\"size\":%lld}", uuid, sr,
                  1073741824LL);
        xs_volume_spec_t vol = {.uuid = uuid, .size_bytes = 1073741824LL, .flavor_id = f->id,
                                .backend_id = ids [b], .vdi_uuid = uuid, .host_uuid = host,
                                .state = XS_VOLUME_AVAILABLE, .request_id = rid,
                                .project = project};
        xs_job_spec_t job = {.volume_uuid = uuid, .op = "vdi_create", .args = args,
                             .state = XS_JOB_DONE, .backend_id = ids [b], .host_uuid = host,
                             .result = result};
        xs_attempt_spec_t at = {.volume_uuid = uuid, .backend_id = ids [b], .host_uuid = host,
                                .outcome = XS_ATTEMPT_OK};
        if (xs_store_volume_insert (store, &vol, &err) || xs_store_job_insert (store, &job, &err) < 0
        ||  xs_store_attempt_insert (store, &at, &err) < 0)
            goto fail;
        if ((i + 1) % S_CHUNK == 0 || i + 1 == volumes)
            if (xs_store_commit (store, &err))
                goto fail;
    }
    clock_gettime (CLOCK_MONOTONIC, &t1);
    printf ("%.3f\n", (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
    rc = 0;
fail:
    if (rc)
        s_fail (db, &err);
    xs_flavor_destroy (&f);
    free (ids);
    xs_store_destroy (&store);
    return rc;
}
