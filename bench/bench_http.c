/*  xs-bench-http: the HTTP load client of the catalog benchmarks (bench/run,
    section 3). Drives catalogd's Block Storage API (docs/API.md, noauth:
    the project in the URL) with libcurl's multi interface: `window` slots,
    each one easy handle reused for every request it sends, so that its
    connection is kept alive; `window` requests are in flight at any time.

    xs-bench-http --endpoint URL run --count N --window W [--project P] [--flavor F]
                  [--no-delete]
        N POST /v3/P/volumes ({"volume": {"size": 1, "volume_type": F}}, 202
        with an `available` volume: the create is committed) with W in
        flight, then DELETE /v3/P/volumes/{id} of every volume made (202:
        the VDI is gone), W in flight.
    xs-bench-http --endpoint URL page --project P --limit L --count N [--window W]
        finds a marker in the middle of P's volumes (GET with with_count,
        then GET at an offset), then N GET /v3/P/volumes/detail?limit=L
        &marker=M, W (1) in flight; every reply must hold the full page.

    URL is catalogd's api_endpoint (ping tells it), e.g. http://127.0.0.1:8776.
    Prints one line per phase, tab-separated, as xs-bench-load does:
        phase  requests  failed  seconds  per_second  p50_ms  p99_ms  max_ms
    Latency is from handing the request to libcurl to its completion; the
    rate is the requests of the phase over its wall time.
*/
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#define S_TIMEOUT_MS 120000L

typedef struct s_bench_t s_bench_t;

/* Sets up easy for request i; 0, or -1 (printed). */
typedef int (s_make_fn) (s_bench_t *self, CURL *easy, size_t i);
/* Whether request i succeeded, from its status and body. */
typedef bool (s_check_fn) (s_bench_t *self, size_t i, long status, json_t *body);

typedef struct {
    CURL *easy;
    char *buf;                  /* the reply body                           */
    size_t len, cap;
    size_t index;               /* request in flight, or SIZE_MAX: idle     */
    int64_t sent;
} s_slot_t;

struct s_bench_t {
    const char *base;           /* <endpoint>/v3/<project>                  */
    const char *flavor;
    struct curl_slist *headers;
    char **ids;                 /* volumes made by run                      */
    const char *marker;         /* page: the volume the pages start after  */
    size_t limit;               /* page: volumes per page                   */
    size_t expect;              /* page: volumes each page must hold        */
};

static int64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static size_t
s_on_body (char *data, size_t size, size_t nmemb, void *arg)
{
    s_slot_t *slot = (s_slot_t *) arg;
    size_t n = size * nmemb;
    if (slot->len + n + 1 > slot->cap) {
        size_t cap = (slot->len + n + 1) * 2;
        char *buf = realloc (slot->buf, cap);
        if (!buf)
            return 0;           /* libcurl fails the transfer */
        slot->buf = buf;
        slot->cap = cap;
    }
    memcpy (slot->buf + slot->len, data, n);
    slot->len += n;
    return n;
}

/* Resets easy (its connection stays in the multi's pool) for url. */
static void
s_prepare (s_bench_t *self, CURL *easy, const char *url)
{
    curl_easy_reset (easy);
    curl_easy_setopt (easy, CURLOPT_URL, url);
    curl_easy_setopt (easy, CURLOPT_HTTPHEADER, self->headers);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, S_TIMEOUT_MS);
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
}

static int
s_cmp_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

/* Hands request `next` to an idle slot. */
static int
s_start (s_bench_t *self, CURLM *multi, s_slot_t *slot, size_t next, s_make_fn *make)
{
    if (make (self, slot->easy, next))
        return -1;
    curl_easy_setopt (slot->easy, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (slot->easy, CURLOPT_WRITEDATA, slot);
    curl_easy_setopt (slot->easy, CURLOPT_PRIVATE, slot);
    slot->len = 0;
    slot->index = next;
    slot->sent = s_now_ns ();
    return curl_multi_add_handle (multi, slot->easy) == CURLM_OK ? 0 : -1;
}

/* Checks a finished request; whether it succeeded (a failure is printed,
   the first three of a phase). */
static bool
s_finish (s_bench_t *self, const char *phase, s_slot_t *slot, CURLcode code,
          s_check_fn *check, long failed)
{
    long status = 0;
    json_t *body = NULL;
    if (code == CURLE_OK) {
        curl_easy_getinfo (slot->easy, CURLINFO_RESPONSE_CODE, &status);
        body = slot->len ? json_loadb (slot->buf, slot->len, 0, NULL) : NULL;
    }
    bool ok = code == CURLE_OK && check (self, slot->index, status, body);
    if (!ok && failed < 3)
        fprintf (stderr, "xs-bench-http: %s %zu failed: %s (HTTP %ld) %.*s\n", phase,
                 slot->index, code == CURLE_OK ? "unexpected answer" : curl_easy_strerror (code),
                 status, (int) (slot->len > 300 ? 300 : slot->len), slot->buf ? slot->buf : "");
    json_decref (body);
    return ok;
}

/* p99 is the nearest rank, the ceil (0.99 n)-th latency: of 100 GETs the
   99th, not the slowest (it was lat [99 n / 100], the maximum up to 100). */
static void
s_print (const char *phase, size_t n, long failed, int64_t start, int64_t *lat, size_t nlat)
{
    double seconds = (double) (s_now_ns () - start) / 1e9;
    qsort (lat, nlat, sizeof *lat, s_cmp_i64);
    if (nlat)
        printf ("%s\t%zu\t%ld\t%.3f\t%.1f\t%.3f\t%.3f\t%.3f\n", phase, n, failed, seconds,
                (double) n / seconds, (double) lat [nlat / 2] / 1e6,
                (double) lat [(nlat * 99 + 99) / 100 - 1] / 1e6,
                (double) lat [nlat - 1] / 1e6);
    fflush (stdout);
}

/* Sends n requests made by make, at most window in flight over window
   kept-alive handles; check judges each answer. Prints the phase line
   when print. Returns the number of failed requests, or -1 when a request
   could not be started. */
static long
s_pipeline (s_bench_t *self, const char *phase, size_t n, size_t window, s_make_fn *make,
            s_check_fn *check, bool print)
{
    CURLM *multi = curl_multi_init ();
    s_slot_t *slots = calloc (window, sizeof *slots);
    int64_t *lat = calloc (n + 1, sizeof *lat);
    if (!multi || !slots || !lat) {
        fprintf (stderr, "xs-bench-http: %s: out of memory\n", phase);
        exit (1);
    }
    for (size_t s = 0; s < window; s++) {
        slots [s].easy = curl_easy_init ();
        slots [s].index = SIZE_MAX;
    }
    size_t next = 0, done = 0;
    long failed = 0;
    int64_t start = s_now_ns ();
    while (done < n && failed >= 0) {
        for (size_t s = 0; s < window && next < n; s++)
            if (slots [s].index == SIZE_MAX) {
                if (s_start (self, multi, &slots [s], next, make)) {
                    fprintf (stderr, "xs-bench-http: %s: cannot start request %zu\n", phase, next);
                    failed = -1;
                    break;
                }
                next++;
            }
        int running = 0;
        if (failed < 0 || curl_multi_perform (multi, &running) != CURLM_OK)
            break;
        CURLMsg *msg;
        int left;
        bool any = false;
        while ((msg = curl_multi_info_read (multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            s_slot_t *slot = NULL;
            curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &slot);
            lat [done++] = s_now_ns () - slot->sent;
            if (!s_finish (self, phase, slot, msg->data.result, check, failed))
                failed++;
            curl_multi_remove_handle (multi, slot->easy);
            slot->index = SIZE_MAX;
            any = true;
        }
        if (!any && done < n)
            curl_multi_poll (multi, NULL, 0, 1000, NULL);
    }
    if (print && failed >= 0)
        s_print (phase, n, failed, start, lat, done);
    for (size_t s = 0; s < window; s++) {
        if (slots [s].index != SIZE_MAX)
            curl_multi_remove_handle (multi, slots [s].easy);
        curl_easy_cleanup (slots [s].easy);
        free (slots [s].buf);
    }
    curl_multi_cleanup (multi);
    free (slots);
    free (lat);
    return failed;
}

/* =========================================================================
    run: creates, then deletes
   ========================================================================= */

static int
s_make_create (s_bench_t *self, CURL *easy, size_t i)
{
    (void) i;
    char url [512];
    snprintf (url, sizeof url, "%s/volumes", self->base);
    json_t *body = json_pack ("{s:{s:i, s:s}}", "volume", "size", 1, "volume_type", self->flavor);
    char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;
    json_decref (body);
    if (!text)
        return -1;
    s_prepare (self, easy, url);
    curl_easy_setopt (easy, CURLOPT_COPYPOSTFIELDS, text);
    free (text);
    return 0;
}

/* 202 with the volume, `available`: committed and placed. */
static bool
s_check_create (s_bench_t *self, size_t i, long status, json_t *body)
{
    json_t *vol = json_object_get (body, "volume");
    const char *id = json_string_value (json_object_get (vol, "id"));
    const char *state = json_string_value (json_object_get (vol, "status"));
    if (status != 202 || !id || !state || strcmp (state, "available") != 0)
        return false;
    self->ids [i] = strdup (id);
    return self->ids [i] != NULL;
}

static int
s_make_delete (s_bench_t *self, CURL *easy, size_t i)
{
    char url [512];
    snprintf (url, sizeof url, "%s/volumes/%s", self->base,
              self->ids [i] ? self->ids [i] : "no-id-in-the-create-reply");
    s_prepare (self, easy, url);
    curl_easy_setopt (easy, CURLOPT_CUSTOMREQUEST, "DELETE");
    return 0;
}

static bool
s_check_delete (s_bench_t *self, size_t i, long status, json_t *body)
{
    (void) self;
    (void) i;
    (void) body;
    return status == 202;
}

/* =========================================================================
    page: one page from the middle, again and again
   ========================================================================= */

static int
s_make_page (s_bench_t *self, CURL *easy, size_t i)
{
    (void) i;
    char url [512];
    if (self->marker)
        snprintf (url, sizeof url, "%s/volumes/detail?limit=%zu&marker=%s", self->base,
                  self->limit, self->marker);
    else
        snprintf (url, sizeof url, "%s/volumes/detail?limit=%zu", self->base, self->limit);
    s_prepare (self, easy, url);
    /* A page is about 1.3 MB: read it in 512 KiB (libcurl's default of
       16 KiB made the client the slow reader: 80 callbacks a page and the
       server waiting on a full socket; p99 27-57 ms against 19-20 ms). */
    curl_easy_setopt (easy, CURLOPT_BUFFERSIZE, 512L * 1024);
    return 0;
}

static bool
s_check_page (s_bench_t *self, size_t i, long status, json_t *body)
{
    (void) i;
    return status == 200
        && json_array_size (json_object_get (body, "volumes")) == self->expect;
}

/* One GET of `query` under <base>/volumes, its body (new reference) or
   NULL (printed). */
static json_t *
s_get (s_bench_t *self, const char *query)
{
    char url [512];
    snprintf (url, sizeof url, "%s/volumes?%s", self->base, query);
    CURL *easy = curl_easy_init ();
    s_slot_t slot = {.easy = easy};
    s_prepare (self, easy, url);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (easy, CURLOPT_WRITEDATA, &slot);
    CURLcode code = curl_easy_perform (easy);
    long status = 0;
    curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
    json_t *body = NULL;
    if (code == CURLE_OK && status == 200)
        body = json_loadb (slot.buf, slot.len, 0, NULL);
    if (!body)
        fprintf (stderr, "xs-bench-http: GET %s: %s (HTTP %ld) %.*s\n", url,
                 code == CURLE_OK ? "unexpected answer" : curl_easy_strerror (code), status,
                 (int) (slot.len > 300 ? 300 : slot.len), slot.buf ? slot.buf : "");
    curl_easy_cleanup (easy);
    free (slot.buf);
    return body;
}

/* Sets the marker so that a full page follows it, in the middle of the
   project's volumes (none when they fit in one page). 0 or -1. */
static int
s_find_marker (s_bench_t *self, char **marker)
{
    json_t *first = s_get (self, "limit=1&with_count=true");
    json_int_t total = json_integer_value (json_object_get (first, "count"));
    json_decref (first);
    if (!first || total < 1) {
        fprintf (stderr, "xs-bench-http: page: no volumes to list at %s\n", self->base);
        return -1;
    }
    *marker = NULL;
    self->expect = (size_t) total < self->limit ? (size_t) total : self->limit;
    if ((size_t) total <= self->limit)
        return 0;
    char query [64];
    snprintf (query, sizeof query, "limit=1&offset=%" JSON_INTEGER_FORMAT,
              (total - (json_int_t) self->limit - 1) / 2);
    json_t *at = s_get (self, query);
    const char *id = json_string_value (json_object_get (json_array_get (
        json_object_get (at, "volumes"), 0), "id"));
    *marker = id ? strdup (id) : NULL;
    json_decref (at);
    if (!*marker)
        fprintf (stderr, "xs-bench-http: page: no volume at the middle offset\n");
    return *marker ? 0 : -1;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: xs-bench-http --endpoint URL run --count N --window W [--project P]"
        " [--flavor F] [--no-delete]\n"
        "       xs-bench-http --endpoint URL page --project P --limit L --count N"
        " [--window W]\n");
}

static int
s_run (s_bench_t *self, long count, long window, const char *mode, bool no_delete)
{
    int rc = 1;
    if (strcmp (mode, "run") == 0) {
        self->ids = calloc ((size_t) count, sizeof *self->ids);
        long failed = s_pipeline (self, "create", (size_t) count, (size_t) window,
                                  s_make_create, s_check_create, true);
        if (failed == 0 && !no_delete)
            failed = s_pipeline (self, "delete", (size_t) count, (size_t) window,
                                 s_make_delete, s_check_delete, true);
        rc = failed == 0 ? 0 : 1;
        for (long i = 0; i < count; i++)
            free (self->ids [i]);
        free (self->ids);
    }
    else {
        char *marker = NULL;
        if (s_find_marker (self, &marker) == 0) {
            self->marker = marker;
            rc = s_pipeline (self, "page", (size_t) count, (size_t) window, s_make_page,
                             s_check_page, true) == 0 ? 0 : 1;
        }
        free (marker);
    }
    return rc;
}

int
main (int argc, char **argv)
{
    static const struct option longopts [] = {
        {"endpoint", required_argument, NULL, 'e'},
        {"project", required_argument, NULL, 'p'},
        {"flavor", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'n'},
        {"window", required_argument, NULL, 'w'},
        {"limit", required_argument, NULL, 'l'},
        {"no-delete", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    const char *endpoint = NULL, *project = "bench", *flavor = "bench";
    long count = 0, window = 0, limit = 1000;
    bool no_delete = false;
    int c;
    while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
            case 'e': endpoint = optarg; break;
            case 'p': project = optarg; break;
            case 'f': flavor = optarg; break;
            case 'n': count = atol (optarg); break;
            case 'w': window = atol (optarg); break;
            case 'l': limit = atol (optarg); break;
            case 'D': no_delete = true; break;
            case 'h': s_usage (stdout); return 0;
            default: s_usage (stderr); return 2;
        }
    }
    const char *mode = optind == argc - 1 ? argv [optind] : "";
    bool is_run = strcmp (mode, "run") == 0, is_page = strcmp (mode, "page") == 0;
    if (!window)
        window = is_page ? 1 : 64;
    if (!endpoint || !*project || (!is_run && !is_page) || count < 1 || window < 1
    ||  limit < 1 || limit > 1000) {
        s_usage (stderr);
        return 2;
    }
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf (stderr, "xs-bench-http: cannot initialise libcurl\n");
        return 1;
    }
    char base [512];
    size_t len = strlen (endpoint);
    while (len && endpoint [len - 1] == '/')
        len--;
    snprintf (base, sizeof base, "%.*s/v3/%s", (int) len, endpoint, project);
    s_bench_t self = {.base = base, .flavor = flavor, .limit = (size_t) limit};
    self.headers = curl_slist_append (NULL, "Content-Type: application/json");
    self.headers = curl_slist_append (self.headers, "Accept: application/json");
    self.headers = curl_slist_append (self.headers, "Expect:");
    int rc = s_run (&self, count, window, mode, no_delete);
    curl_slist_free_all (self.headers);
    curl_global_cleanup ();
    return rc;
}
