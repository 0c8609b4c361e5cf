/*  xs_manage_host: the `host *` commands (the catalog's allow-list of host
    agents and their live state) and `catalog status`. */
#include "xs_manage_cmd.h"
#include "xs_manage_print.h"
#include "xs_mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------------
   host enroll
   --------------------------------------------------------------------- */

/* Reads the public certificate at `path` (at most XS_MANAGE_CERT_MAX bytes
   of UTF-8 text). Returns it as a JSON string (caller decrefs), or NULL
   with *err naming the file and the reason. */
static json_t *
s_read_cert (const char *path, xs_err_t *err)
{
    size_t len = strlen (path);
    if (len > 7 && strcmp (path + len - 7, "_secret") == 0) {
        xs_err_set (err, XS_EINVAL, "host enroll: %s is a SECRET certificate: give the public "
                    "file (without _secret); the secret part never leaves the host", path);
        return NULL;
    }
    FILE *file = fopen (path, "r");
    if (!file) {
        xs_err_set (err, errno == ENOENT ? XS_ENOTFOUND : XS_EIO, "host enroll: %s: %s",
                    path, strerror (errno));
        return NULL;
    }
    char text [XS_MANAGE_CERT_MAX + 2];
    errno = 0;
    size_t size = fread (text, 1, sizeof text - 1, file);
    bool failed = ferror (file);
    int read_errno = failed ? errno : 0;
    fclose (file);
    if (failed) {
        /* A directory opens but does not read: say so (EISDIR). */
        xs_err_set (err, read_errno == EISDIR ? XS_EINVAL : XS_EIO,
                    "host enroll: %s: cannot read it: %s", path,
                    read_errno ? strerror (read_errno) : "read error");
        return NULL;
    }
    if (size > XS_MANAGE_CERT_MAX) {
        xs_err_set (err, XS_EINVAL, "host enroll: %s: larger than %d bytes: not a public "
                    "certificate", path, XS_MANAGE_CERT_MAX);
        return NULL;
    }
    text [size] = '\0';
    if (size == 0 || strlen (text) != size) {
        xs_err_set (err, XS_EINVAL, "host enroll: %s: %s", path,
                    size ? "holds NUL bytes: not a public certificate" : "empty file");
        return NULL;
    }
    json_t *key = json_string (text);
    if (!key)
        xs_err_set (err, XS_EINVAL, "host enroll: %s: not UTF-8 text: not a public "
                    "certificate", path);
    return key;
}

static void
s_host_enrolled (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    fprintf (ctx->io->out, "host key %s enrolled (from %s); the agent may now register\n",
             xs_manage_str (result, "public_key", "?"), argv [0]);
}

int
xs_manage_host_enroll (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    xs_err_t err;
    json_t *key = s_read_cert (argv [0], &err);
    if (!key)
        return xs_manage_report (ctx, &err);
    json_t *args = xs_nn (json_pack ("{s:o}", "public_key", key));
    return xs_manage_call_print (ctx, "host_enroll", &args, "", s_host_enrolled, argv);
}

/* ---------------------------------------------------------------------
   host list, remove
   --------------------------------------------------------------------- */

/* A string member for a table cell: "-" when absent or empty. */
static const char *
s_cell (json_t *object, const char *key)
{
    const char *value = xs_manage_str (object, key, "");
    return *value ? value : "-";
}

static void
s_host_table (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    FILE *out = ctx->io->out;
    fprintf (out, "%-36s  %-12s %-10s %-8s %-19s  %s\n", "Host UUID", "Name", "Zone", "State",
             "Last seen (UTC)", "SRs (backend:SR uuid)");
    size_t i;
    json_t *host;
    json_array_foreach (json_object_get (result, "hosts"), i, host) {
        char seen [32];
        xs_manage_format_time (json_integer_value (json_object_get (host, "last_seen")), seen,
                               sizeof seen);
        fprintf (out, "%-36s  %-12s %-10s %-8s %-19s ", s_cell (host, "uuid"),
                 s_cell (host, "name"), s_cell (host, "zone"),
                 xs_manage_str (host, "state", "?"), seen);
        size_t j;
        json_t *sr;
        json_t *srs = json_object_get (host, "srs");
        json_array_foreach (srs, j, sr)
            fprintf (out, " %" JSON_INTEGER_FORMAT ":%s",
                     json_integer_value (json_object_get (sr, "backend_id")),
                     xs_manage_str (sr, "sr_uuid", "-"));
        if (!json_array_size (srs))
            fprintf (out, " -");
        if (!*xs_manage_str (host, "uuid", ""))
            fprintf (out, "  (key %s, not registered yet)",
                     xs_manage_str (host, "public_key", "?"));
        fputc ('\n', out);
        /* The SR types its pool has SM drivers for, once reported. */
        json_t *drivers = json_object_get (host, "sm_drivers");
        if (json_is_array (drivers)) {
            fprintf (out, "%-36s  SM drivers:", "");
            json_array_foreach (drivers, j, sr)
                fprintf (out, " %s", json_string_value (sr) ? json_string_value (sr) : "?");
            if (!json_array_size (drivers))
                fprintf (out, " none");
            fputc ('\n', out);
        }
    }
}

int
xs_manage_host_list (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    json_t *args = xs_nn (json_object ());
    return xs_manage_call_print (ctx, "host_list", &args, "", s_host_table, argv);
}

static void
s_host_removed (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    fprintf (ctx->io->out, "host %s removed: its key is no longer admitted\n", argv [0]);
}

int
xs_manage_host_remove (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    char *question = xs_sprintf ("Host %s will no longer be admitted; its work moves to other "
                                 "hosts of its zone.\n", argv [0]);
    int rc = xs_manage_confirm (ctx, "", question, "removed");
    free (question);
    if (rc)
        return rc;
    json_t *args = json_pack ("{s:s}", "host", argv [0]);
    return xs_manage_call_print (ctx, "host_remove", &args, "the host", s_host_removed, argv);
}

/* ---------------------------------------------------------------------
   catalog status
   --------------------------------------------------------------------- */

/* A Unix time in ms as UTC text, in a static buffer. */
static const char *
s_time_text (json_int_t ms)
{
    static char text [32];
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    if (!gmtime_r (&t, &tm) || !strftime (text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf (text, sizeof text, "%lld", (long long) ms);
    return text;
}

static void
s_status_shown (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    FILE *out = ctx->io->out;
    fprintf (out, "xensm-catalogd %s (admin protocol %" JSON_INTEGER_FORMAT ", schema %"
             JSON_INTEGER_FORMAT ")\n", xs_manage_str (result, "version", "?"),
             json_integer_value (json_object_get (result, "protocol")),
             json_integer_value (json_object_get (result, "schema")));
    fprintf (out, "admin endpoint: %s\n", ctx->endpoint);
    fprintf (out, "agent endpoint: %s\n", xs_manage_str (result, "agent_endpoint", "-"));
    fprintf (out, "catalog key:    %s\n", xs_manage_str (result, "catalog_key", "-"));
    fprintf (out, "role:           %s\n", xs_manage_str (result, "role", "leader"));
    json_t *leader = json_object_get (result, "leader");
    if (json_is_object (leader))
        fprintf (out, "leader:         %s since %s (generation %" JSON_INTEGER_FORMAT
                 ", lease %" JSON_INTEGER_FORMAT " ms left)\n",
                 xs_manage_str (leader, "instance", "?"),
                 s_time_text (json_integer_value (json_object_get (leader, "since"))),
                 json_integer_value (json_object_get (leader, "generation")),
                 json_integer_value (json_object_get (leader, "lease_left_ms")));
    json_t *instances = json_object_get (result, "instances");
    size_t i;
    json_t *row;
    if (json_array_size (instances) > 0)
        fprintf (out, "instances:\n");
    json_array_foreach (instances, i, row) {
        fprintf (out, "  %s %-8s admin %s, agents %s, seen %" JSON_INTEGER_FORMAT " ms ago\n",
                 xs_manage_str (row, "instance", "?"),
                 json_is_true (json_object_get (row, "leads")) ? "leader" : "-",
                 xs_manage_str (row, "admin_endpoint", "-"),
                 xs_manage_str (row, "agent_endpoint", "-"),
                 json_integer_value (json_object_get (row, "seen_ms_ago")));
    }
}

int
xs_manage_catalog_status (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    json_t *args = xs_nn (json_object ());
    return xs_manage_call_print (ctx, "catalog_status", &args, "", s_status_shown, argv);
}
