/*  xs-bench-codec: XML-RPC decode and encode throughput of the xensm codec
    (common/xs_xmlrpc) on a large SR.get_all_records response, against a
    bare libxml2 parse (xmlReadMemory + xmlFreeDoc) of the same bytes.

    The response is generated: --records SR records (default 2,000), each
    with every field xenapi.json lists for class SR, wrapped as xapi wraps
    every answer ({Status: Success, Value: {ref: record, ...}}). It is
    written twice: in xapi's compact untyped form (strings as bare
    <value>text</value>, empty ones as <value/>, int64 as decimal strings)
    and in the typed form (<string> everywhere, as Python writes it). Both
    decode to the same tree; the program checks that before timing anything.

    After one untimed warm-up round, every run times, interleaved: the
    libxml2 parse of each form, the codec's decode of each form, the codec's
    encode of the decoded tree and, as the encode's baseline, libxml2
    serializing the parsed typed document. Times are the thread's CPU time
    (CLOCK_THREAD_CPUTIME_ID), not wall time, so that other jobs on a busy
    machine do not count; the code is single-threaded. It prints one
    tab-separated line per measurement for bench/run:
        <name> TAB <bytes> TAB <median seconds> TAB <min seconds> TAB <runs>
    Exit status 0, or 1 with a message on stderr.
*/
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "xs_err.h"
#include "xs_value.h"
#include "xs_xmlrpc.h"

/* ------------------------------------------------------------------------
 *  Generating the response
 * ------------------------------------------------------------------------ */

static uint64_t s_seed = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: deterministic, so every run parses the same bytes. */
static uint64_t
s_rand_next (void)
{
    s_seed ^= s_seed >> 12;
    s_seed ^= s_seed << 25;
    s_seed ^= s_seed >> 27;
    return s_seed * 2685821657736338717ULL;
}

static void
s_make_uuid (char out [37])
{
    uint64_t a = s_rand_next (), b = s_rand_next ();
    snprintf (out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned) (a >> 32), (unsigned) (a >> 16) & 0xffff,
              (unsigned) a & 0xffff, (unsigned) (b >> 48), (unsigned long long) (b & 0xffffffffffffULL));
}

static void
s_set_ref (xs_value_t *dst, const char *name)
{
    char uuid [37], ref [64];
    s_make_uuid (uuid);
    snprintf (ref, sizeof ref, "OpaqueRef:%s", uuid);
    if (name)
        xs_value_set_str (dst, name, ref);
    else
        xs_value_append_str (dst, ref);
}

static void
s_set_int (xs_value_t *record, const char *name, int64_t number)
{
    char text [32];
    snprintf (text, sizeof text, "%lld", (long long) number);   /* xapi: int64 as a string */
    xs_value_set_str (record, name, text);
}

static void
s_set_bool (xs_value_t *record, const char *name, bool flag)
{
    xs_value_t *value = xs_value_bool_new (flag);
    xs_value_set (record, name, &value);
}

static void
s_set_take (xs_value_t *record, const char *name, xs_value_t *value)
{
    xs_value_set (record, name, &value);
}

/* One SR record with every field of class SR in xenapi.json, in the order
   the datamodel lists them. */
static xs_value_t *
s_make_sr_record (int index)
{
    static const char *types [] = { "nfs", "lvmoiscsi", "lvmohba", "ext", "lvm", "smb" };
    static const char *ops [] = {
        "scan", "destroy", "forget", "plug", "unplug", "update", "vdi_create", "vdi_introduce",
        "vdi_destroy", "vdi_resize", "vdi_clone", "vdi_snapshot", "vdi_mirror", "vdi_enable_cbt",
        "vdi_disable_cbt", "vdi_data_destroy", "vdi_list_changed_blocks", "vdi_set_on_boot",
        "pbd_create", "pbd_destroy"
    };
    const char *type = types [index % 6];
    char uuid [37], text [128];
    xs_value_t *record = xs_value_struct_new ();

    s_make_uuid (uuid);
    xs_value_set_str (record, "uuid", uuid);
    snprintf (text, sizeof text, "%s SR %d", type, index);
    xs_value_set_str (record, "name_label", text);
    xs_value_set_str (record, "name_description", index % 3 ? "" : "Storage of the gold flavor");

    xs_value_t *allowed = xs_value_array_new ();
    for (size_t i = 0; i < sizeof ops / sizeof ops [0]; i++)
        xs_value_append_str (allowed, ops [i]);
    s_set_take (record, "allowed_operations", allowed);

    xs_value_t *current = xs_value_struct_new ();
    if (index % 10 == 0) {
        char task [64];
        s_make_uuid (uuid);
        snprintf (task, sizeof task, "OpaqueRef:%s", uuid);
        xs_value_set_str (current, task, "scan");
    }
    s_set_take (record, "current_operations", current);

    xs_value_t *vdis = xs_value_array_new ();
    int n_vdis = (int) (s_rand_next () % 21);               /* 0..20, 10 on average */
    for (int i = 0; i < n_vdis; i++)
        s_set_ref (vdis, NULL);
    s_set_take (record, "VDIs", vdis);

    xs_value_t *pbds = xs_value_array_new ();
    for (int i = 0; i < 3; i++)
        s_set_ref (pbds, NULL);
    s_set_take (record, "PBDs", pbds);

    int64_t size = (int64_t) (1 + s_rand_next () % 64) << 34;
    s_set_int (record, "virtual_allocation", size / 3);
    s_set_int (record, "physical_utilisation", size / 4);
    s_set_int (record, "physical_size", size);
    xs_value_set_str (record, "type", type);
    xs_value_set_str (record, "content_type", strcmp (type, "ext") ? "user" : "");
    s_set_bool (record, "shared", strcmp (type, "ext") && strcmp (type, "lvm"));

    xs_value_t *other = xs_value_struct_new ();
    xs_value_set_str (other, "auto-scan", "true");
    s_make_uuid (uuid);
    xs_value_set_str (other, "xensm-backend", uuid);
    s_set_take (record, "other_config", other);

    xs_value_t *tags = xs_value_array_new ();
    if (index % 4 == 0)
        xs_value_append_str (tags, "xensm");
    s_set_take (record, "tags", tags);

    xs_value_t *sm_config = xs_value_struct_new ();
    xs_value_set_str (sm_config, "allocation", "thin");
    snprintf (text, sizeof text, "scsi-3600a0b80001%08d", index);
    xs_value_set_str (sm_config, "devserial", text);
    s_set_take (record, "sm_config", sm_config);

    s_set_take (record, "blobs", xs_value_struct_new ());
    s_set_bool (record, "local_cache_enabled", false);
    xs_value_set_str (record, "introduced_by", "OpaqueRef:NULL");
    s_set_bool (record, "clustered", false);
    s_set_bool (record, "is_tools_sr", false);
    return record;
}

/* {Status: Success, Value: {ref: record, ...}} */
static xs_value_t *
s_make_response (int records)
{
    xs_value_t *all = xs_value_struct_new ();
    for (int i = 0; i < records; i++) {
        char uuid [37], ref [64];
        s_make_uuid (uuid);
        snprintf (ref, sizeof ref, "OpaqueRef:%s", uuid);
        xs_value_t *record = s_make_sr_record (i);
        xs_value_set (all, ref, &record);
    }
    xs_value_t *response = xs_value_struct_new ();
    xs_value_set_str (response, "Status", "Success");
    xs_value_set (response, "Value", &all);
    return response;
}

/* ------------------------------------------------------------------------
 *  xapi's compact untyped form (a writer for generated data; the codec's own
 *  encoder always writes typed values)
 * ------------------------------------------------------------------------ */

static void
s_put_text (FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '&')
            fputs ("&amp;", out);
        else if (*p == '<')
            fputs ("&lt;", out);
        else if (*p == '>')
            fputs ("&gt;", out);
        else
            fputc (*p, out);
    }
}

static void
s_put_untyped (FILE *out, const xs_value_t *value)
{
    switch (xs_value_type (value)) {
        case XS_VALUE_STRING:
            if (xs_value_len (value) == 0)
                fputs ("<value/>", out);
            else {
                fputs ("<value>", out);
                s_put_text (out, xs_value_str (value));
                fputs ("</value>", out);
            }
            break;
        case XS_VALUE_BOOL:
            fprintf (out, "<value><boolean>%d</boolean></value>", xs_value_bool (value) ? 1 : 0);
            break;
        case XS_VALUE_ARRAY:
            fputs ("<value><array><data>", out);
            for (size_t i = 0; i < xs_value_size (value); i++)
                s_put_untyped (out, xs_value_at (value, i));
            fputs ("</data></array></value>", out);
            break;
        case XS_VALUE_STRUCT:
            fputs ("<value><struct>", out);
            for (size_t i = 0; i < xs_value_size (value); i++) {
                fputs ("<member><name>", out);
                s_put_text (out, xs_value_key_at (value, i));
                fputs ("</name>", out);
                s_put_untyped (out, xs_value_value_at (value, i));
                fputs ("</member>", out);
            }
            fputs ("</struct></value>", out);
            break;
        default:                                    /* the generator makes no other type */
            fputs ("<value/>", out);
            break;
    }
}

static char *
s_encode_untyped (const xs_value_t *value, size_t *len_p)
{
    char *doc = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&doc, &len);
    if (!out)
        return NULL;
    fputs ("<?xml version=\"1.0\"?><methodResponse><params><param>", out);
    s_put_untyped (out, value);
    fputs ("</param></params></methodResponse>", out);
    if (fclose (out) != 0) {
        free (doc);
        return NULL;
    }
    *len_p = len;
    return doc;
}

/* ------------------------------------------------------------------------
 *  Timing
 * ------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    size_t bytes;
    double *samples;
    int count;
} s_series_t;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
s_compare_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static void
s_series_print (s_series_t *series)
{
    qsort (series->samples, (size_t) series->count, sizeof (double), s_compare_double);
    int n = series->count;
    double median = n % 2 ? series->samples [n / 2]
                          : (series->samples [n / 2 - 1] + series->samples [n / 2]) / 2;
    printf ("%s\t%zu\t%.9f\t%.9f\t%d\n", series->name, series->bytes, median, series->samples [0], n);
}

/* The options the codec gives libxml2, so that the baseline parses alike. */
#define S_XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_HUGE | XML_PARSE_COMPACT \
                       | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

static double
s_time_libxml2 (const char *doc, size_t len)
{
    double start = s_now ();
    xmlDocPtr tree = xmlReadMemory (doc, (int) len, "response.xml", NULL, S_XML_OPTIONS);
    if (!tree) {
        fprintf (stderr, "xs-bench-codec: libxml2 cannot parse the generated response\n");
        exit (1);
    }
    xmlFreeDoc (tree);
    return s_now () - start;
}

static double
s_time_serialize (xmlDocPtr tree, size_t *len_p)
{
    xmlChar *text = NULL;
    int len = 0;
    double start = s_now ();
    xmlDocDumpMemory (tree, &text, &len);
    double elapsed = s_now () - start;
    if (!text) {
        fprintf (stderr, "xs-bench-codec: libxml2 cannot serialize the response\n");
        exit (1);
    }
    xmlFree (text);
    *len_p = (size_t) len;
    return elapsed;
}

static double
s_time_decode (const char *doc, size_t len, xs_value_t **tree_p)
{
    xs_err_t err = { 0 };
    double start = s_now ();
    xs_value_t *tree = xs_xmlrpc_decode_response (doc, len, NULL, &err);
    double elapsed = s_now () - start;
    if (!tree) {
        fprintf (stderr, "xs-bench-codec: decode failed: %s\n", err.msg);
        exit (1);
    }
    if (tree_p) {
        xs_value_destroy (tree_p);
        *tree_p = tree;
    }
    else
        xs_value_destroy (&tree);
    return elapsed;
}

static double
s_time_encode (const xs_value_t *tree, size_t *len_p)
{
    double start = s_now ();
    char *doc = xs_xmlrpc_encode_response (tree, len_p);
    double elapsed = s_now () - start;
    if (!doc) {
        fprintf (stderr, "xs-bench-codec: encode failed\n");
        exit (1);
    }
    free (doc);
    return elapsed;
}

static void
s_usage (void)
{
    fprintf (stderr, "usage: xs-bench-codec [--records N] [--runs N] [--write-dir DIR]\n");
    exit (2);
}

static int
s_parse_count (const char *text)
{
    char *end = NULL;
    errno = 0;
    long n = strtol (text ? text : "", &end, 10);
    if (errno || !text || end == text || *end || n < 1 || n > 1000000)
        s_usage ();
    return (int) n;
}

static void
s_write_file (const char *dir, const char *name, const char *doc, size_t len)
{
    char path [4096];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen (path, "w");
    if (!file || fwrite (doc, 1, len, file) != len || fclose (file) != 0) {
        fprintf (stderr, "xs-bench-codec: cannot write %s: %s\n", path, strerror (errno));
        exit (1);
    }
}

int
main (int argc, char *argv [])
{
    int records = 2000, runs = 15;
    const char *write_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv [i], "--records") == 0 && i + 1 < argc)
            records = s_parse_count (argv [++i]);
        else if (strcmp (argv [i], "--runs") == 0 && i + 1 < argc)
            runs = s_parse_count (argv [++i]);
        else if (strcmp (argv [i], "--write-dir") == 0 && i + 1 < argc)
            write_dir = argv [++i];
        else
            s_usage ();
    }
    LIBXML_TEST_VERSION;
    /* Keep freed memory in the process: with glibc's defaults every
       multi-megabyte buffer is mmap'ed and unmapped again, and whichever
       step runs first in a round pays the page faults of the one before
       (costly in a VM). The runs measure the code, not the kernel. */
    mallopt (M_MMAP_THRESHOLD, 32 << 20);        /* glibc's maximum on 64-bit */
    mallopt (M_TRIM_THRESHOLD, 1 << 30);

    xs_value_t *response = s_make_response (records);
    size_t untyped_len = 0, typed_len = 0;
    char *untyped = s_encode_untyped (response, &untyped_len);
    char *typed = xs_xmlrpc_encode_response (response, &typed_len);
    if (!untyped || !typed) {
        fprintf (stderr, "xs-bench-codec: cannot generate the response\n");
        return 1;
    }
    if (write_dir) {
        s_write_file (write_dir, "sr_get_all_records.untyped.xml", untyped, untyped_len);
        s_write_file (write_dir, "sr_get_all_records.typed.xml", typed, typed_len);
    }

    /* Both forms must decode to what was generated, or nothing is measured. */
    xs_value_t *tree = NULL;
    s_time_decode (untyped, untyped_len, &tree);
    bool same_untyped = xs_value_equal (tree, response);
    s_time_decode (typed, typed_len, &tree);
    bool same_typed = xs_value_equal (tree, response);
    if (!same_untyped || !same_typed) {
        fprintf (stderr, "xs-bench-codec: the %s form does not decode to the generated records\n",
                 same_untyped ? "typed" : "untyped");
        return 1;
    }

    size_t encoded_len = 0;
    s_series_t series [] = {
        { "libxml2_parse_untyped", untyped_len, NULL, 0 },
        { "decode_untyped", untyped_len, NULL, 0 },
        { "libxml2_parse_typed", typed_len, NULL, 0 },
        { "decode_typed", typed_len, NULL, 0 },
        { "encode", 0, NULL, 0 },
        { "libxml2_serialize_typed", 0, NULL, 0 },
    };
    xmlDocPtr typed_doc = xmlReadMemory (typed, (int) typed_len, "response.xml", NULL, S_XML_OPTIONS);
    if (!typed_doc) {
        fprintf (stderr, "xs-bench-codec: libxml2 cannot parse the typed response\n");
        return 1;
    }
    size_t serialized_len = 0;
    size_t n_series = sizeof series / sizeof series [0];
    for (size_t s = 0; s < n_series; s++)
        series [s].samples = calloc ((size_t) runs, sizeof (double));

    for (int r = -1; r < runs; r++) {                /* r = -1: untimed warm-up round */
        if (r < 0) {
            s_time_libxml2 (untyped, untyped_len);
            s_time_libxml2 (typed, typed_len);
            s_time_decode (untyped, untyped_len, NULL);
            s_time_encode (tree, &encoded_len);
            s_time_serialize (typed_doc, &serialized_len);
            continue;
        }
        series [0].samples [r] = s_time_libxml2 (untyped, untyped_len);
        series [1].samples [r] = s_time_decode (untyped, untyped_len, NULL);
        series [2].samples [r] = s_time_libxml2 (typed, typed_len);
        series [3].samples [r] = s_time_decode (typed, typed_len, NULL);
        series [4].samples [r] = s_time_encode (tree, &encoded_len);
        series [5].samples [r] = s_time_serialize (typed_doc, &serialized_len);
        for (size_t s = 0; s < n_series; s++)
            series [s].count = r + 1;
    }
    series [4].bytes = encoded_len;
    series [5].bytes = serialized_len;
    xmlFreeDoc (typed_doc);
    printf ("records\t%d\t0\t0\t0\n", records);
    for (size_t s = 0; s < n_series; s++) {
        s_series_print (&series [s]);
        free (series [s].samples);
    }

    xs_value_destroy (&tree);
    xs_value_destroy (&response);
    free (untyped);
    free (typed);
    xmlCleanupParser ();
    return 0;
}
