/*  xs-bench-load: the load client of the catalog benchmarks (bench/run,
    section 3). Speaks the admin protocol (docs/PROTOCOL.md: a DEALER,
    frames [""][JSON]) to xensm-catalogd or to xs-bench-relay.

    xs-bench-load --endpoint E ping
        prints the agent endpoint the server reports and, on a second line,
        its Block Storage API endpoint when it serves one.
    xs-bench-load --endpoint E setup --backends N [--flavor F] [--zone Z] [--window W]
                  [--first K]
        flavor_create F, then N backend_add (nfs, with an sr_uuid, so the
        agents attach an existing SR: numbered from K + 1, default 1), W
        requests in flight.
    xs-bench-load --endpoint E wait --backends N --hosts H [--timeout-ms T]
        polls host_list and backend_list until H hosts are up with the N
        backends' SRs attached and every backend is `attached`.
    xs-bench-load --endpoint E run --count N --window W [--flavor F] [--tag T] [--no-delete]
        N volume_create (1 GiB, request_id "<tag>-<i>") with W requests in
        flight, then volume_delete of every volume made, W in flight.

    `run` prints one line per phase, tab-separated:
        phase  requests  failed  seconds  per_second  p50_ms  p99_ms  max_ms
    Latency is from sending a request to receiving its reply; the rate is
    the requests of the phase over its wall time, first send to last reply.
*/
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <czmq.h>
#include <jansson.h>

#define S_GIB 1073741824LL

typedef json_t *(s_make_fn) (void *arg, size_t i);
typedef void (s_seen_fn) (void *arg, size_t i, json_t *reply);

typedef struct {
    zsock_t *sock;
    int timeout_ms;
} s_client_t;

static int64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
s_send (s_client_t *c, json_t *req)
{
    char *text = json_dumps (req, JSON_COMPACT);
    int rc = zmq_send (zsock_resolve (c->sock), "", 0, ZMQ_SNDMORE);
    if (rc >= 0)
        rc = zmq_send (zsock_resolve (c->sock), text, strlen (text), 0);
    free (text);
    return rc < 0 ? -1 : 0;
}

/* Next reply (new reference), or NULL after timeout_ms. */
static json_t *
s_recv (s_client_t *c)
{
    zmsg_t *msg = zmsg_recv (c->sock);
    if (!msg)
        return NULL;
    json_t *reply = NULL;
    zframe_t *empty = zmsg_pop (msg);
    zframe_t *body = zmsg_pop (msg);
    if (empty && body && zframe_size (empty) == 0)
        reply = json_loadb ((const char *) zframe_data (body), zframe_size (body), 0, NULL);
    zframe_destroy (&empty);
    zframe_destroy (&body);
    zmsg_destroy (&msg);
    return reply;
}

/* One request, its reply's result (new reference) or NULL (printed). */
static json_t *
s_call (s_client_t *c, const char *cmd, json_t *args)
{
    json_t *req = json_pack ("{s:i, s:s, s:s, s:o}", "v", 1, "id", "call", "cmd", cmd,
                             "args", args ? args : json_object ());
    int rc = s_send (c, req);
    json_decref (req);
    json_t *reply = rc ? NULL : s_recv (c);
    json_t *result = NULL;
    if (!reply)
        fprintf (stderr, "xs-bench-load: %s: no reply\n", cmd);
    else
    if (!json_is_true (json_object_get (reply, "ok")))
        fprintf (stderr, "xs-bench-load: %s: %s\n", cmd, json_string_value (
                     json_object_get (json_object_get (reply, "error"), "message")));
    else
        result = json_incref (json_object_get (reply, "result"));
    json_decref (reply);
    return result;
}

static int
s_cmp_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

/* Sends n requests made by make (id "<i>"), at most window in flight;
   seen gets each successful reply. Prints the phase line. Returns the
   number of failed requests, or -1 when the server stopped answering. */
static long
s_pipeline (s_client_t *c, const char *phase, size_t n, size_t window, s_make_fn *make,
            s_seen_fn *seen, void *arg, bool print)
{
    int64_t *sent = zmalloc ((n + 1) * sizeof *sent);
    int64_t *lat = zmalloc ((n + 1) * sizeof *lat);
    size_t next = 0, done = 0, nlat = 0;
    long failed = 0;
    int64_t start = s_now_ns ();
    while (done < n) {
        while (next < n && next - done < window) {
            json_t *req = make (arg, next);
            char id [32];
            snprintf (id, sizeof id, "%zu", next);
            json_object_set_new (req, "v", json_integer (1));
            json_object_set_new (req, "id", json_string (id));
            sent [next] = s_now_ns ();
            int rc = s_send (c, req);
            json_decref (req);
            if (rc) {
                fprintf (stderr, "xs-bench-load: %s: send failed: %s\n", phase,
                         zmq_strerror (zmq_errno ()));
                free (sent);
                free (lat);
                return -1;
            }
            next++;
        }
        json_t *reply = s_recv (c);
        int64_t now = s_now_ns ();
        if (!reply) {
            fprintf (stderr, "xs-bench-load: %s: no reply for %d ms (%zu of %zu done)\n", phase,
                     c->timeout_ms, done, n);
            free (sent);
            free (lat);
            return -1;
        }
        const char *id = json_string_value (json_object_get (reply, "id"));
        char *end = NULL;
        unsigned long long i = id ? strtoull (id, &end, 10) : n;
        if (!id || *end || i >= next) {
            fprintf (stderr, "xs-bench-load: %s: reply with unknown id %s\n", phase,
                     id ? id : "(none)");
            json_decref (reply);
            continue;
        }
        done++;
        lat [nlat++] = now - sent [i];
        if (json_is_true (json_object_get (reply, "ok"))) {
            if (seen)
                seen (arg, (size_t) i, json_object_get (reply, "result"));
        }
        else {
            if (failed < 3)
                fprintf (stderr, "xs-bench-load: %s %llu failed: %s\n", phase, i,
                         json_string_value (json_object_get (json_object_get (reply, "error"),
                                                             "message")));
            failed++;
        }
        json_decref (reply);
    }
    double seconds = (double) (s_now_ns () - start) / 1e9;
    qsort (lat, nlat, sizeof *lat, s_cmp_i64);
    if (print && nlat)
        printf ("%s\t%zu\t%ld\t%.3f\t%.1f\t%.3f\t%.3f\t%.3f\n", phase, n, failed, seconds,
                (double) n / seconds, (double) lat [nlat / 2] / 1e6,
                (double) lat [(nlat * 99) / 100 < nlat ? (nlat * 99) / 100 : nlat - 1] / 1e6,
                (double) lat [nlat - 1] / 1e6);
    fflush (stdout);
    free (sent);
    free (lat);
    return failed;
}

/* =========================================================================
    setup
   ========================================================================= */

typedef struct {
    const char *flavor;
    const char *zone;
    long first;                 /* SR numbers start after it */
    const char *tag;
    char **uuids;               /* volumes made by run */
} s_job_t;

static json_t *
s_make_backend (void *arg, size_t i)
{
    s_job_t *job = (s_job_t *) arg;
    char sr [64], path [64], label [64];
    size_t n = i + 1 + (size_t) job->first;
    snprintf (sr, sizeof sr, "00000000-0000-4000-9000-%012zu", n);
    snprintf (path, sizeof path, "/bench/%zu", n);
    snprintf (label, sizeof label, "bench-%zu", n);
    return json_pack ("{s:s, s:{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}}}", "cmd", "backend_add",
                      "args", "flavor", job->flavor, "sr_type", "nfs", "params",
                      "server", "192.0.2.1", "serverpath", path, "sr_uuid", sr,
                      "zone", job->zone, "name_label", label);
}

static json_t *
s_make_create (void *arg, size_t i)
{
    s_job_t *job = (s_job_t *) arg;
    char rid [96];
    snprintf (rid, sizeof rid, "%s-%zu", job->tag, i);
    return json_pack ("{s:s, s:{s:s, s:I, s:s}}", "cmd", "volume_create", "args",
                      "flavor", job->flavor, "size", (json_int_t) S_GIB, "request_id", rid);
}

static void
s_seen_create (void *arg, size_t i, json_t *result)
{
    s_job_t *job = (s_job_t *) arg;
    const char *uuid = json_string_value (json_object_get (json_object_get (result, "volume"),
                                                           "uuid"));
    if (uuid)
        job->uuids [i] = strdup (uuid);
}

static json_t *
s_make_delete (void *arg, size_t i)
{
    s_job_t *job = (s_job_t *) arg;
    return json_pack ("{s:s, s:{s:s}}", "cmd", "volume_delete", "args", "uuid",
                      job->uuids [i] ? job->uuids [i] : "(no uuid in the create's reply)");
}

/* Whether H hosts are up with N SRs each and N backends are attached. */
static int
s_attached (s_client_t *c, size_t backends, size_t hosts, char *why, size_t size)
{
    json_t *r = s_call (c, "host_list", NULL);
    if (!r)
        return -1;
    size_t up = 0, i;
    json_t *h;
    json_array_foreach (json_object_get (r, "hosts"), i, h)
        if (streq (json_string_value (json_object_get (h, "state")) ?: "", "up")
        &&  json_array_size (json_object_get (h, "srs")) >= backends)
            up++;
    json_decref (r);
    r = s_call (c, "backend_list", NULL);
    if (!r)
        return -1;
    size_t attached = 0;
    json_t *b;
    json_array_foreach (json_object_get (r, "backends"), i, b)
        if (streq (json_string_value (json_object_get (b, "state")) ?: "", "attached"))
            attached++;
    json_decref (r);
    snprintf (why, size, "%zu of %zu hosts up with every SR, %zu of %zu backends attached",
              up, hosts, attached, backends);
    return up >= hosts && attached >= backends;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: xs-bench-load --endpoint E [--timeout-ms T] ping\n"
        "       xs-bench-load --endpoint E setup --backends N [--flavor F] [--zone Z] [--first K]\n"
        "       xs-bench-load --endpoint E wait --backends N --hosts H\n"
        "       xs-bench-load --endpoint E run --count N --window W [--flavor F] [--tag T]"
        " [--no-delete]\n");
}

int
main (int argc, char **argv)
{
    static const struct option longopts [] = {
        {"endpoint", required_argument, NULL, 'e'},
        {"timeout-ms", required_argument, NULL, 't'},
        {"backends", required_argument, NULL, 'b'},
        {"hosts", required_argument, NULL, 'H'},
        {"flavor", required_argument, NULL, 'f'},
        {"zone", required_argument, NULL, 'z'},
        {"first", required_argument, NULL, 'F'},
        {"count", required_argument, NULL, 'n'},
        {"window", required_argument, NULL, 'w'},
        {"tag", required_argument, NULL, 'T'},
        {"no-delete", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    const char *endpoint = NULL, *flavor = "bench", *zone = "default", *tag = "bench";
    long backends = 0, hosts = 0, count = 0, window = 64, first = 0;
    int timeout_ms = 60000;
    bool no_delete = false;
    int c;
    while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
            case 'e': endpoint = optarg; break;
            case 't': timeout_ms = atoi (optarg); break;
            case 'b': backends = atol (optarg); break;
            case 'H': hosts = atol (optarg); break;
            case 'f': flavor = optarg; break;
            case 'z': zone = optarg; break;
            case 'F': first = atol (optarg); break;
            case 'n': count = atol (optarg); break;
            case 'w': window = atol (optarg); break;
            case 'T': tag = optarg; break;
            case 'D': no_delete = true; break;
            case 'h': s_usage (stdout); return 0;
            default: s_usage (stderr); return 2;
        }
    }
    if (!endpoint || optind != argc - 1 || window < 1 || timeout_ms < 1) {
        s_usage (stderr);
        return 2;
    }
    const char *mode = argv [optind];
    zsys_init ();
    s_client_t client = {zsock_new (ZMQ_DEALER), timeout_ms};
    zsock_set_rcvtimeo (client.sock, timeout_ms);
    zsock_set_linger (client.sock, 0);
    zsock_set_sndhwm (client.sock, 0);
    zsock_set_rcvhwm (client.sock, 0);
    if (zsock_connect (client.sock, "%s", endpoint) == -1) {
        fprintf (stderr, "xs-bench-load: cannot connect to %s\n", endpoint);
        return 1;
    }
    int rc = 1;
    s_job_t job = {.flavor = flavor, .zone = zone, .tag = tag, .first = first};
    if (streq (mode, "ping")) {
        json_t *r = s_call (&client, "ping", NULL);
        const char *agent = json_string_value (json_object_get (r, "agent_endpoint"));
        const char *api = json_string_value (json_object_get (r, "api_endpoint"));
        if (agent) {
            printf ("%s\n", agent);
            if (api)
                printf ("%s\n", api);
            rc = 0;
        }
        json_decref (r);
    }
    else
    if (streq (mode, "setup") && backends > 0) {
        json_t *r = s_call (&client, "flavor_create", json_pack ("{s:s}", "label", flavor));
        if (r && s_pipeline (&client, "backend_add", (size_t) backends, (size_t) window,
                             s_make_backend, NULL, &job, false) == 0)
            rc = 0;
        json_decref (r);
    }
    else
    if (streq (mode, "wait") && backends > 0 && hosts > 0) {
        int64_t deadline = s_now_ns () + (int64_t) timeout_ms * 1000000;
        char why [256] = "";
        int met;
        while ((met = s_attached (&client, (size_t) backends, (size_t) hosts, why,
                                  sizeof why)) == 0 && s_now_ns () < deadline)
            zclock_sleep (50);     /* polling the server's own state */
        if (met == 1)
            rc = 0;
        else
            fprintf (stderr, "xs-bench-load: wait: %s\n", why);
    }
    else
    if (streq (mode, "run") && count > 0) {
        job.uuids = zmalloc ((size_t) count * sizeof *job.uuids);
        long failed = s_pipeline (&client, "create", (size_t) count, (size_t) window,
                                  s_make_create, s_seen_create, &job, true);
        if (failed == 0 && !no_delete)
            failed = s_pipeline (&client, "delete", (size_t) count, (size_t) window,
                                 s_make_delete, NULL, &job, true);
        rc = failed == 0 ? 0 : 1;
        for (long i = 0; i < count; i++)
            free (job.uuids [i]);
        free (job.uuids);
    }
    else {
        s_usage (stderr);
        rc = 2;
    }
    zsock_destroy (&client.sock);
    return rc;
}
