/*  xs_manage_volume: the `volume *` commands. The changes (create, delete,
    snapshot, clone) wait for an agent's outcome, so they take the longer
    timeout unless --timeout was given. */
#include "xs_manage_cmd.h"
#include "xs_manage_print.h"
#include "xs_mem.h"

#include <string.h>

/* ---------------------------------------------------------------------
   Arguments
   --------------------------------------------------------------------- */

/* Sets *args_p [key] to `text` when text is given. Text that is not UTF-8
   releases *args_p and NULLs it (xs_manage_call_print reports it). */
static void
s_set_text (json_t **args_p, const char *key, const char *text)
{
    if (!*args_p || !text)
        return;
    if (json_object_set_new (*args_p, key, json_string (text))) {
        json_decref (*args_p);
        *args_p = NULL;
    }
}

/* A volume uuid argument: never an option (uuids do not start with '-').
   0, or 2 after a usage error. */
static int
s_check_uuid_arg (xs_manage_ctx_t *ctx, const char *arg)
{
    if (arg [0] == '-')
        return xs_manage_usage_error (ctx, "option '%s': unknown (expected a volume uuid)", arg);
    return 0;
}

/* ---------------------------------------------------------------------
   One volume, for people
   --------------------------------------------------------------------- */

/* One volume as `key: value` lines. */
static void
s_volume_print (xs_manage_ctx_t *ctx, json_t *v)
{
    FILE *out = ctx->io->out;
    char size [32], created [32], updated [32];
    xs_manage_format_size (json_integer_value (json_object_get (v, "size")), size, sizeof size);
    xs_manage_format_time (json_integer_value (json_object_get (v, "created_at")), created,
                           sizeof created);
    xs_manage_format_time (json_integer_value (json_object_get (v, "updated_at")), updated,
                           sizeof updated);
    json_t *backend = json_object_get (v, "backend_id");
    fprintf (out, "uuid:        %s\n", xs_manage_str (v, "uuid", "?"));
    fprintf (out, "name:        %s\n", xs_manage_str (v, "name", "-"));
    fprintf (out, "state:       %s\n", xs_manage_str (v, "state", "?"));
    fprintf (out, "size:        %s (%" JSON_INTEGER_FORMAT " bytes)\n", size,
             json_integer_value (json_object_get (v, "size")));
    fprintf (out, "flavor:      %s\n", xs_manage_str (v, "flavor", "-"));
    if (*xs_manage_str (v, "project", ""))
        fprintf (out, "project:     %s\n", xs_manage_str (v, "project", "-"));
    if (json_is_integer (backend))
        fprintf (out, "backend:     %" JSON_INTEGER_FORMAT "\n", json_integer_value (backend));
    else
        fprintf (out, "backend:     -\n");
    fprintf (out, "vdi_uuid:    %s\n", xs_manage_str (v, "vdi_uuid", "-"));
    fprintf (out, "host:        %s\n", xs_manage_str (v, "host_uuid", "-"));
    if (json_is_string (json_object_get (v, "parent_uuid")))
        fprintf (out, "parent:      %s\n", xs_manage_str (v, "parent_uuid", "-"));
    if (json_is_string (json_object_get (v, "request_id")))
        fprintf (out, "request_id:  %s\n", xs_manage_str (v, "request_id", "-"));
    if (json_is_string (json_object_get (v, "error")))
        fprintf (out, "error:       %s\n", xs_manage_str (v, "error", "-"));
    fprintf (out, "created:     %s UTC\n", created);
    fprintf (out, "updated:     %s UTC\n", updated);
}

static void
s_volume_done (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    s_volume_print (ctx, json_object_get (result, "volume"));
}

/* ---------------------------------------------------------------------
   volume create, delete, snapshot, clone
   --------------------------------------------------------------------- */

/* xs_manage_call_print for a command that makes a volume (create, snapshot,
   clone): the volume is printed, and a volume left in state `error` (a
   snapshot or clone whose request id was used by a copy that failed) makes
   the exit status 1, with the reason on stderr. */
static int
s_call_volume (xs_manage_ctx_t *ctx, const char *cmd, json_t **args_p, const char *bad_args,
               char **argv)
{
    int rc;
    json_t *result = xs_manage_call_shown (ctx, cmd, args_p, bad_args, s_volume_done, argv, &rc);
    if (!result)
        return rc;
    json_t *v = json_object_get (result, "volume");
    if (strcmp (xs_manage_str (v, "state", ""), "error") == 0) {
        fprintf (ctx->io->err, "%s: volume %s is in state error: %s\n", XS_MANAGE_PROGRAM,
                 xs_manage_str (v, "uuid", "?"), xs_manage_str (v, "error", "no reason given"));
        rc = 1;
    }
    json_decref (result);
    return rc;
}

typedef struct {
    const char *flavor, *size, *name, *request_id, *project;
} s_create_opts_t;

static int
s_create_option (int opt, const char *value, void *state)
{
    s_create_opts_t *o = state;
    switch (opt) {
    case 'f': o->flavor = value; break;
    case 's': o->size = value; break;
    case 'n': o->name = value; break;
    case 'r': o->request_id = value; break;
    case 'p': o->project = value; break;
    }
    return 0;
}

int
xs_manage_volume_create (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "flavor",     required_argument, NULL, 'f' },
        { "size",       required_argument, NULL, 's' },
        { "name",       required_argument, NULL, 'n' },
        { "request-id", required_argument, NULL, 'r' },
        { "project",    required_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 }
    };
    s_create_opts_t o = { NULL, NULL, NULL, NULL, NULL };
    int npos = 0;
    int rc = xs_manage_parse_options (ctx, argc, argv, longopts, s_create_option, &o, &npos);
    if (rc)
        return rc;
    if (npos)
        return xs_manage_usage_error (ctx, "unexpected argument '%s'", argv [0]);
    if (!o.flavor || !o.size)
        return xs_manage_usage_error (ctx, "--flavor and --size are required");
    int64_t bytes = 0;
    if (xs_manage_parse_size (o.size, &bytes))
        return xs_manage_usage_error (ctx, "--size '%s': expected a positive size in bytes or "
                                      "with a K, M, G or T suffix (e.g. 10G), at most 8 EiB",
                                      o.size);
    json_t *args = json_pack ("{s:s, s:I}", "flavor", o.flavor, "size", (json_int_t) bytes);
    s_set_text (&args, "name", o.name);
    s_set_text (&args, "request_id", o.request_id);
    s_set_text (&args, "project", o.project);
    xs_manage_wait_long (ctx);
    return s_call_volume (ctx, "volume_create", &args, "flavor, name and request id", argv);
}

int
xs_manage_volume_delete (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    if (s_check_uuid_arg (ctx, argv [0]))
        return 2;
    xs_manage_wait_long (ctx);
    json_t *args = json_pack ("{s:s}", "uuid", argv [0]);
    return xs_manage_call_print (ctx, "volume_delete", &args, "uuid", s_volume_done, argv);
}

/* The value of a command's only option (--name, --size). */
static int
s_only_option (int opt, const char *value, void *state)
{
    *(const char **) state = value;
    return 0;
}

/* volume snapshot|clone <uuid> [--name N]: `cmd` is the catalog's command. */
static int
s_volume_copy (xs_manage_ctx_t *ctx, int argc, char **argv, const char *cmd)
{
    static const struct option longopts [] = {
        { "name", required_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 }
    };
    const char *name = NULL;
    int npos = 0;
    int rc = xs_manage_parse_options (ctx, argc, argv, longopts, s_only_option, &name, &npos);
    if (rc)
        return rc;
    if (npos != 1)
        return xs_manage_usage_error (ctx, "expected one volume uuid, got %d argument(s)", npos);
    json_t *args = json_pack ("{s:s}", "uuid", argv [0]);
    s_set_text (&args, "name", name);
    xs_manage_wait_long (ctx);
    return s_call_volume (ctx, cmd, &args, "uuid and name", argv);
}

int
xs_manage_volume_snapshot (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    return s_volume_copy (ctx, argc, argv, "volume_snapshot");
}

int
xs_manage_volume_clone (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    return s_volume_copy (ctx, argc, argv, "volume_clone");
}

int
xs_manage_volume_extend (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "size", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 }
    };
    const char *size = NULL;
    int npos = 0;
    int rc = xs_manage_parse_options (ctx, argc, argv, longopts, s_only_option, &size, &npos);
    if (rc)
        return rc;
    if (npos != 1)
        return xs_manage_usage_error (ctx, "expected one volume uuid, got %d argument(s)", npos);
    if (s_check_uuid_arg (ctx, argv [0]))
        return 2;
    if (!size)
        return xs_manage_usage_error (ctx, "--size is required");
    int64_t bytes = 0;
    if (xs_manage_parse_size (size, &bytes))
        return xs_manage_usage_error (ctx, "--size '%s': expected a positive size in bytes or "
                                      "with a K, M, G or T suffix (e.g. 10G), at most 8 EiB",
                                      size);
    json_t *args = json_pack ("{s:s, s:I}", "uuid", argv [0], "size", (json_int_t) bytes);
    xs_manage_wait_long (ctx);
    return xs_manage_call_print (ctx, "volume_extend", &args, "uuid", s_volume_done, argv);
}

/* ---------------------------------------------------------------------
   volume list, show, connection
   --------------------------------------------------------------------- */

static void
s_volume_table (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    FILE *out = ctx->io->out;
    fprintf (out, "%-36s  %-16s %10s  %-10s %-10s %-7s %s\n", "UUID", "Name", "Size", "Flavor",
             "State", "Backend", "VDI UUID");
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get (result, "volumes"), i, v) {
        char size [32], backend [24] = "-";
        xs_manage_format_size (json_integer_value (json_object_get (v, "size")), size,
                               sizeof size);
        if (json_is_integer (json_object_get (v, "backend_id")))
            snprintf (backend, sizeof backend, "%" JSON_INTEGER_FORMAT,
                      json_integer_value (json_object_get (v, "backend_id")));
        fprintf (out, "%-36s  %-16s %10s  %-10s %-10s %-7s %s\n", xs_manage_str (v, "uuid", "?"),
                 xs_manage_str (v, "name", "-"), size, xs_manage_str (v, "flavor", "-"),
                 xs_manage_str (v, "state", "?"), backend, xs_manage_str (v, "vdi_uuid", "-"));
    }
}

int
xs_manage_volume_list (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    bool all = false;
    const char *project = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp (argv [i], "--all") == 0)
            all = true;
        else
        if (strcmp (argv [i], "--project") == 0 && i + 1 < argc)
            project = argv [++i];
        else
        if (strncmp (argv [i], "--project=", 10) == 0)
            project = argv [i] + 10;
        else
            return xs_manage_usage_error (ctx, "unexpected argument '%s'", argv [i]);
    }
    json_t *args = xs_nn (json_pack ("{s:b}", "all", all));
    s_set_text (&args, "project", project);
    return xs_manage_call_print (ctx, "volume_list", &args, "", s_volume_table, argv);
}

/* The placement attempts and the jobs of volume v. */
static void
s_volume_history (FILE *out, json_t *v)
{
    json_t *attempts = json_object_get (v, "attempts");
    fprintf (out, "attempts:%s\n", json_array_size (attempts) ? "" : "    none");
    size_t i;
    json_t *a;
    json_array_foreach (attempts, i, a) {
        char at [32];
        xs_manage_format_time (json_integer_value (json_object_get (a, "at")), at, sizeof at);
        fprintf (out, "  %s  backend %" JSON_INTEGER_FORMAT "  %-8s host %s: %s\n", at,
                 json_integer_value (json_object_get (a, "backend_id")),
                 xs_manage_str (a, "outcome", "?"), xs_manage_str (a, "host_uuid", "-"),
                 xs_manage_str (a, "reason", "-"));
    }
    json_t *jobs = json_object_get (v, "jobs");
    json_t *j;
    if (json_array_size (jobs))
        fprintf (out, "jobs:\n");
    json_array_foreach (jobs, i, j)
        fprintf (out, "  %" JSON_INTEGER_FORMAT "  %-13s %-9s backend %" JSON_INTEGER_FORMAT
                 "  host %s%s%s\n",
                 json_integer_value (json_object_get (j, "id")), xs_manage_str (j, "op", "?"),
                 xs_manage_str (j, "state", "?"),
                 json_integer_value (json_object_get (j, "backend_id")),
                 xs_manage_str (j, "host_uuid", "-"),
                 json_is_string (json_object_get (j, "error")) ? ": " : "",
                 xs_manage_str (j, "error", ""));
}

static void
s_volume_shown (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    json_t *v = json_object_get (result, "volume");
    s_volume_print (ctx, v);
    s_volume_history (ctx->io->out, v);
}

int
xs_manage_volume_show (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    if (s_check_uuid_arg (ctx, argv [0]))
        return 2;
    json_t *args = json_pack ("{s:s}", "uuid", argv [0]);
    return xs_manage_call_print (ctx, "volume_show", &args, "uuid", s_volume_shown, argv);
}

static void
s_connection_shown (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    FILE *out = ctx->io->out;
    json_t *c = json_object_get (result, "connection");
    fprintf (out, "volume_uuid:   %s\n", xs_manage_str (c, "volume_uuid", "?"));
    fprintf (out, "vdi_uuid:      %s\n", xs_manage_str (c, "vdi_uuid", "?"));
    fprintf (out, "sr_uuid:       %s\n", xs_manage_str (c, "sr_uuid", "?"));
    fprintf (out, "sr_type:       %s\n", xs_manage_str (c, "sr_type", "?"));
    fprintf (out, "name_label:    %s\n", xs_manage_str (c, "name_label", "-"));
    fprintf (out, "zone:          %s\n", xs_manage_str (c, "zone", "?"));
    fprintf (out, "device_config:");
    const char *key;
    json_t *value;
    json_object_foreach (json_object_get (c, "device_config"), key, value)
        fprintf (out, " %s=%s", key, json_is_string (value) ? json_string_value (value) : "?");
    fputc ('\n', out);
}

int
xs_manage_volume_connection (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    bool secrets = false;
    const char *uuid = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp (argv [i], "--show-secrets") == 0)
            secrets = true;
        else
        if (uuid || argv [i][0] == '-')
            return xs_manage_usage_error (ctx, "unexpected argument '%s'", argv [i]);
        else
            uuid = argv [i];
    }
    if (!uuid)
        return xs_manage_usage_error (ctx, "missing the volume uuid");
    json_t *args = json_pack ("{s:s, s:b}", "uuid", uuid, "show_secrets", secrets);
    return xs_manage_call_print (ctx, "volume_connection", &args, "uuid", s_connection_shown,
                                 argv);
}

/* `volume orphans`: what the orphan sweep found (docs/PROTOCOL.md
   volume_orphans). */
static void
s_orphans_table (xs_manage_ctx_t *ctx, json_t *result, char **argv)
{
    FILE *out = ctx->io->out;
    json_t *orphans = json_object_get (result, "orphans");
    char last [32] = "never";
    json_int_t at = json_integer_value (json_object_get (result, "last_sweep"));
    if (at > 0)
        xs_manage_format_time (at, last, sizeof last);
    fprintf (out, "%zu orphan VDI(s); last sweep %s; destroyed %" JSON_INTEGER_FORMAT
             " s after first seen\n", json_array_size (orphans), last,
             json_integer_value (json_object_get (result, "grace_ms")) / 1000);
    if (!json_array_size (orphans))
        return;
    fprintf (out, "%-8s %-7s %-36s  %-36s  %-36s  %-19s %s\n", "Zone", "Backend", "SR UUID",
             "VDI UUID", "Tagged volume", "First seen", "Why");
    size_t i;
    json_t *o;
    json_array_foreach (orphans, i, o) {
        char seen [32];
        xs_manage_format_time (json_integer_value (json_object_get (o, "first_seen")), seen,
                               sizeof seen);
        fprintf (out, "%-8s %-7" JSON_INTEGER_FORMAT " %-36s  %-36s  %-36s  %-19s %s%s\n",
                 xs_manage_str (o, "zone", "?"),
                 json_integer_value (json_object_get (o, "backend_id")),
                 xs_manage_str (o, "sr_uuid", "?"), xs_manage_str (o, "vdi_uuid", "?"),
                 xs_manage_str (o, "volume_uuid", "?"), seen, xs_manage_str (o, "why", "-"),
                 json_is_true (json_object_get (o, "destroying")) ? " (destroying)" : "");
    }
}

int
xs_manage_volume_orphans (xs_manage_ctx_t *ctx, int argc, char **argv)
{
    json_t *args = xs_nn (json_object ());
    return xs_manage_call_print (ctx, "volume_orphans", &args, "", s_orphans_table, argv);
}
