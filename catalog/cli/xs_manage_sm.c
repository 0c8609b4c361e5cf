/*  xs_manage_sm: the nova-manage commands, `sm flavor_*` and `sm backend_*`. */
#include "xs_kvlist.h"
#include "xs_manage_cmd.h"
#include "xs_manage_print.h"
#include "xs_mem.h"
#include "xs_redact.h"
#include "xs_srtype.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* ---------------------------------------------------------------------
   sm flavor_*
   --------------------------------------------------------------------- */

static void
s_flavor_created (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    json_t *flavor = json_object_get (result, "flavor");
    fprintf (ctx->io->out, "flavor %s created (id %" JSON_INTEGER_FORMAT ")\n",
             json_string_value (json_object_get (flavor, "label")),
             json_integer_value (json_object_get (flavor, "id")));
}

int
xs_manage_flavor_create (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    json_t *args = json_pack ("{s:s, s:s}", "label", argv [0], "description", argv [1]);
    return xs_manage_call_print (ctx, "flavor_create", &args, "label and description",
                                 s_flavor_created, argv);
}

static void
s_flavor_table (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    /* nova-manage sm flavor_list layout */
    fprintf (ctx->io->out, "%-18s\t%-20s\t%s\n", "id", "Label", "Description");
    size_t i;
    json_t *flavor;
    json_array_foreach (json_object_get (result, "flavors"), i, flavor)
        fprintf (ctx->io->out, "%-18" JSON_INTEGER_FORMAT "\t%-20s\t%s\n",
                 json_integer_value (json_object_get (flavor, "id")),
                 json_string_value (json_object_get (flavor, "label")),
                 json_string_value (json_object_get (flavor, "description")));
}

int
xs_manage_flavor_list (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    json_t *args = argc ? json_pack ("{s:s}", "label", argv [0]) : xs_nn (json_object ());
    return xs_manage_call_print (ctx, "flavor_list", &args, "label", s_flavor_table, argv);
}

static void
s_flavor_deleted (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    fprintf (ctx->io->out, "flavor %s deleted\n", argv [0]);
}

int
xs_manage_flavor_delete (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    json_t *args = json_pack ("{s:s}", "label", argv [0]);
    return xs_manage_call_print (ctx, "flavor_delete", &args, "label", s_flavor_deleted, argv);
}

/* ---------------------------------------------------------------------
   sm backend_add
   --------------------------------------------------------------------- */

/* The first line of `in` (at most XS_SECRET_MAX bytes) into *value, no
   echo when `in` is a terminal. 0, or -1 with *err naming `what`. */
#define XS_SECRET_MAX 1024
static int
s_read_secret_line (FILE *in, bool prompt, FILE *err_out, const char *what, char **value,
                    xs_err_t *err)
{
    struct termios saved;
    bool quiet = prompt && tcgetattr (fileno (in), &saved) == 0;
    if (quiet) {
        struct termios noecho = saved;
        noecho.c_lflag &= (tcflag_t) ~ECHO;
        tcsetattr (fileno (in), TCSAFLUSH, &noecho);
        fprintf (err_out, "%s: ", what);
        fflush (err_out);
    }
    char line [XS_SECRET_MAX + 2];
    bool got = fgets (line, sizeof line, in) != NULL;
    if (quiet) {
        tcsetattr (fileno (in), TCSAFLUSH, &saved);
        fputc ('\n', err_out);
    }
    size_t n = got ? strcspn (line, "\r\n") : 0;
    if (n == 0)
        return xs_err_set (err, XS_EINVAL, "%s: nothing to read (an empty secret)", what);
    if (n > XS_SECRET_MAX)
        return xs_err_set (err, XS_EINVAL, "%s: longer than %d bytes", what, XS_SECRET_MAX);
    line [n] = '\0';
    *value = xs_strdup (line);
    explicit_bzero (line, sizeof line);
    return 0;
}

/* The first line of FILE (the file may end with or without a newline). */
static int
s_read_secret_file (const char *path, const char *what, char **value, xs_err_t *err)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return xs_err_set (err, XS_EINVAL, "%s: cannot read %s: %s", what, path,
                           strerror (errno));
    int rc = s_read_secret_line (f, false, NULL, what, value, err);
    fclose (f);
    if (rc)
        xs_err_prefix (err, "%s", path);
    return rc;
}

/* `given` into `params`, secret values given as @FILE (its first line) or
   - (a line read from standard input) replaced by what they point to; a
   secret given in the clear works but draws a warning: every user of the
   machine can read a command line. 0, or -1 with *err. */
static int
s_secret_values (xs_manage_ctx_t *ctx, const xs_kvlist_t *given, xs_kvlist_t *params,
                 xs_err_t *err)
{
    for (size_t i = 0; i < xs_kvlist_size (given); i++) {
        const char *key = xs_kvlist_key (given, i);
        const char *text = xs_kvlist_value (given, i);
        char what [96];
        snprintf (what, sizeof what, "%.64s=", key);
        bool secret = xs_redact_is_secret (key);
        char *value = NULL;
        int rc = 0;
        if (secret && strcmp (text, "-") == 0)
            rc = s_read_secret_line (ctx->io->in, ctx->io->interactive, ctx->io->err, what,
                                     &value, err);
        else
        if (secret && text [0] == '@')
            rc = s_read_secret_file (text + 1, what, &value, err);
        else
        if (secret)
            fprintf (ctx->io->err,
                     "WARNING: %s given on the command line, where every user of this "
                     "machine can read it; pass %s@FILE or %s- (standard input) instead.\n",
                     what, what, what);
        if (!rc)
            rc = xs_kvlist_add (params, key, value ? value : text, err);
        if (value) {
            explicit_bzero (value, strlen (value));
            free (value);
        }
        if (rc)
            return -1;
    }
    return 0;
}

/* The key=value arguments into `params`, with --zone added as zone= (they
   must agree when both are given). 0, or -1 with *err. */
static int
s_backend_params (xs_manage_ctx_t *ctx, int argc, char **argv, xs_kvlist_t *params,
                  xs_err_t *err)
{
    xs_kvlist_t *args = xs_kvlist_new ();
    int rc = xs_kvlist_parse_argv (args, argc, argv, err)
          || s_secret_values (ctx, args, params, err);
    xs_kvlist_destroy (&args);
    if (rc)
        return -1;
    if (!ctx->zone)
        return 0;
    const char *given = xs_kvlist_get (params, "zone");
    if (given && strcmp (given, ctx->zone) != 0)
        return xs_err_set (err, XS_EINVAL, "--zone %s and zone=%s disagree", ctx->zone, given);
    if (!given && xs_kvlist_add (params, "zone", ctx->zone, err))
        return xs_err_prefix (err, "--zone");
    return 0;
}

/* Checks that flavor `label` exists (flavor_list). 0, or the exit code. */
static int
s_check_flavor (xs_manage_ctx_t *ctx, const char *label)
{
    xs_err_t err;
    json_t *args = json_pack ("{s:s}", "label", label);
    if (!args) {
        xs_err_set (&err, XS_EINVAL, "sm backend_add: flavor label must be UTF-8 text");
        return xs_manage_report (ctx, &err);
    }
    json_t *result = xs_manage_call (ctx, "flavor_list", &args, &err);
    if (!result)
        return xs_manage_report (ctx, &err);
    json_decref (result);
    return 0;
}

/* Warns that a new SR will be created (formatting the storage) and asks to
   go on. 0 to go on, else the exit code. */
static int
s_confirm_new_sr (xs_manage_ctx_t *ctx, const char *flavor, const char *sr_type,
                  const xs_kvlist_t *config)
{
    char *shown = xs_kvlist_format (config, true);
    fprintf (ctx->io->err,
             "WARNING: no sr_uuid= given: a NEW %s SR will be created for flavor %s%s%s.\n"
             "Creating it FORMATS the storage and destroys any data on it.\n"
             "To use an existing SR instead, pass sr_uuid=<uuid>.\n",
             sr_type, flavor, *shown ? " on " : "", shown);
    free (shown);
    return xs_manage_confirm (ctx, " to create a new SR", NULL, "created");
}

/* argv: the flavor label and the SR type, as given. */
static void
s_backend_added (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    json_t *backend = json_object_get (result, "backend");
    const char *zone = xs_manage_str (backend, "zone", "?");
    const char *sr_uuid = xs_manage_str (backend, "sr_uuid", NULL);
    fprintf (ctx->io->out, "backend %" JSON_INTEGER_FORMAT " added: flavor %s, SR type %s, zone %s",
             json_integer_value (json_object_get (backend, "id")), argv [0], argv [1], zone);
    if (sr_uuid)
        fprintf (ctx->io->out, ", existing SR %s (introduced by the zone's agents)\n", sr_uuid);
    else
        fprintf (ctx->io->out, ", new SR (created by one agent of the zone)\n");
    /* Added, but its pool cannot make volumes there (placement skips it). */
    const char *unusable = json_string_value (json_object_get (backend, "unusable"));
    if (unusable)
        fprintf (ctx->io->err, "sm backend_add: warning: backend %" JSON_INTEGER_FORMAT
                 " cannot hold volumes: %s\n",
                 json_integer_value (json_object_get (backend, "id")), unusable);
}

/* In this order: the key=value syntax, the SR type and its keys (nothing is
   sent before they pass); the flavor exists; a new SR is confirmed; then
   the backend is added. */
int
xs_manage_backend_add (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    const char *flavor = argv [0];
    const char *sr_type = argv [1];
    xs_kvlist_t *params = xs_kvlist_new ();
    xs_kvlist_t *config = NULL, *settings = NULL;
    xs_err_t err;
    int rc = 0;
    if (s_backend_params (ctx, argc - 2, argv + 2, params, &err)
    ||  xs_srtype_split (sr_type, params, &config, &settings, &err)) {
        xs_err_prefix (&err, "sm backend_add");
        rc = xs_manage_report (ctx, &err);
    }
    if (!rc)
        rc = s_check_flavor (ctx, flavor);
    if (!rc && !xs_kvlist_has (settings, "sr_uuid"))
        rc = s_confirm_new_sr (ctx, flavor, sr_type, config);
    if (!rc) {
        /* Every part is text already checked: only memory can fail. */
        json_t *args = xs_nn (json_pack ("{s:s, s:s, s:o}", "flavor", flavor, "sr_type",
                                         sr_type, "params", xs_kvlist_to_json (params, false)));
        rc = xs_manage_call_print (ctx, "backend_add", &args, "", s_backend_added, argv);
    }
    xs_kvlist_destroy (&params);
    xs_kvlist_destroy (&config);
    xs_kvlist_destroy (&settings);
    return rc;
}

/* ---------------------------------------------------------------------
   sm backend_list, backend_remove
   --------------------------------------------------------------------- */

/* Parses a backend id: a positive decimal integer. 0, or -1. */
static int
s_parse_id (const char *text, int64_t *id)
{
    char *end = NULL;
    errno = 0;
    long long value = strtoll (text, &end, 10);
    if (errno || end == text || *end || value <= 0 || !isdigit ((unsigned char) text [0]))
        return -1;
    *id = value;
    return 0;
}

static int
s_bad_id (xs_manage_ctx_t *ctx, const char *arg)
{
    return xs_manage_usage_error (ctx, "backend id '%s': not a positive integer", arg);
}

/* "name_label=x server=y ..." for the Config Parameters column, from the
   (already redacted) JSON backend. Caller frees. */
static char *
s_backend_config_text (json_t *backend)
{
    char *text = NULL;
    size_t size = 0;
    FILE *stream = xs_nn (open_memstream (&text, &size));
    const char *sep = "";
    const char *label = json_string_value (json_object_get (backend, "name_label"));
    if (label) {
        fprintf (stream, "name_label=%s", label);
        sep = " ";
    }
    const char *key;
    json_t *value;
    json_object_foreach (json_object_get (backend, "config"), key, value) {
        fprintf (stream, "%s%s=%s", sep, key, json_string_value (value));
        sep = " ";
    }
    fprintf (stream, "%szone=%s", sep, json_string_value (json_object_get (backend, "zone")));
    json_t *ratio = json_object_get (backend, "ratio");
    if (json_is_number (ratio))
        fprintf (stream, " ratio=%g", json_number_value (ratio));
    json_t *reserve = json_object_get (backend, "reserve");
    if (json_is_number (reserve))
        fprintf (stream, " reserve=%g", json_number_value (reserve));
    /* A memory stream fails only when out of memory. */
    return xs_nn (fclose (stream) == 0 ? text : NULL);
}

static void
s_backend_table (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    /* nova-manage sm backend_list layout */
    fprintf (ctx->io->out, "%-5s %-10s %-40s %-10s %s\n", "id", "Flavor id", "SR UUID",
             "SR Type", "Config Parameters");
    size_t i;
    json_t *backend;
    json_array_foreach (json_object_get (result, "backends"), i, backend) {
        char *config = s_backend_config_text (backend);
        fprintf (ctx->io->out,
                 "%-5" JSON_INTEGER_FORMAT " %-10" JSON_INTEGER_FORMAT " %-40s %-10s %s\n",
                 json_integer_value (json_object_get (backend, "id")),
                 json_integer_value (json_object_get (backend, "flavor_id")),
                 xs_manage_str (backend, "sr_uuid", "-"),
                 json_string_value (json_object_get (backend, "sr_type")), config);
        free (config);
        /* Why its pool cannot hold volumes there (the catalog knows). */
        const char *unusable = json_string_value (json_object_get (backend, "unusable"));
        if (unusable)
            fprintf (ctx->io->out, "      unusable: %s\n", unusable);
    }
}

int
xs_manage_backend_list (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    int64_t id = 0;
    if (argc && s_parse_id (argv [0], &id))
        return s_bad_id (ctx, argv [0]);
    json_t *args = xs_nn (json_object ());
    if (argc)
        json_object_set_new (args, "id", json_integer (id));
    return xs_manage_call_print (ctx, "backend_list", &args, "id", s_backend_table, argv);
}

static void
s_backend_removed (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    int64_t id = 0;
    s_parse_id (argv [0], &id);         /* checked before the call */
    fprintf (ctx->io->out, "backend %" PRId64 " removed\n", id);
}

int
xs_manage_backend_remove (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    int64_t id = 0;
    if (s_parse_id (argv [0], &id))
        return s_bad_id (ctx, argv [0]);
    json_t *args = xs_nn (json_pack ("{s:I}", "id", (json_int_t) id));
    return xs_manage_call_print (ctx, "backend_remove", &args, "", s_backend_removed, argv);
}
