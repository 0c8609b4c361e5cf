/*  xs_manage: the admin CLI (xensm-manage). */
#include "xs_admin_client.h"
#include "xs_catalog_cfg.h"
#include "xs_kvlist.h"
#include "xs_manage.h"
#include "xs_mem.h"
#include "xs_srtype.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <strings.h>
#include <time.h>

#define S_PROGRAM "xensm-manage"
#define S_DEFAULT_TIMEOUT_MS 10000
#define S_VOLUME_TIMEOUT_MS 120000
#define S_CERT_MAX 4096                 /* a czmq public certificate is ~300 bytes */

typedef struct {
    const xs_manage_io_t *io;
    const char *endpoint;
    const char *zone;               /* --zone, or NULL                        */
    bool json;
    bool yes;
    int timeout_ms;
    bool timeout_given;             /* --timeout: else volume changes wait longer */
    const struct s_command *command;   /* the one being run                 */
    xs_admin_client_t *client;      /* connected on first use                 */
} s_ctx_t;

typedef int (s_handler_fn) (s_ctx_t *ctx, int argc, char **argv);

typedef struct s_command {
    const char *category;
    const char *action;
    int min_args;
    int max_args;                   /* -1: no limit                           */
    s_handler_fn *handler;
    const char *usage;              /* the arguments                          */
    const char *help;
} s_command_t;

static s_handler_fn s_flavor_create, s_flavor_list, s_flavor_delete,
    s_backend_add, s_backend_list, s_backend_remove, s_host_enroll, s_host_list,
    s_host_remove, s_volume_create, s_volume_delete, s_volume_snapshot, s_volume_clone,
    s_volume_list, s_volume_show, s_volume_connection, s_status;

/* The command table: the single source of dispatch, checks and help. */
static const s_command_t s_commands [] = {
    { "sm", "flavor_create", 2, 2, s_flavor_create, "<label> <description>",
      "Create a flavor (a quality-of-service class). Labels are unique." },
    { "sm", "flavor_list", 0, 1, s_flavor_list, "[label]",
      "List flavors, or only the one named." },
    { "sm", "flavor_delete", 1, 1, s_flavor_delete, "<label>",
      "Delete a flavor. Refused while backends use it." },
    { "sm", "backend_add", 2, -1, s_backend_add,
      "<flavor label> <SR type> [key=value ...]",
      "Add a storage backend to a flavor. Keys are the SR type's device_config plus the\n"
      "catalog settings name_label=, sr_uuid=, zone=, ratio=, reserve=. Without sr_uuid=\n"
      "a NEW SR will be created (formatting the storage): confirm at the prompt or pass\n"
      "--yes. With sr_uuid= the existing SR is introduced and never formatted." },
    { "sm", "backend_list", 0, 1, s_backend_list, "[id]",
      "List backends with their config (secrets shown as ******), or only backend id." },
    { "sm", "backend_remove", 1, 1, s_backend_remove, "<id>",
      "Remove a backend from the catalog. Refused while volumes live on it; the SR is\n"
      "detached from the hosts, never destroyed." },
    { "host", "enroll", 1, 1, s_host_enroll, "<public certificate file>",
      "Admit a host agent: its public certificate (made with `xensm-agentd --gen-cert\n"
      "FILE`: give FILE, never FILE_secret) joins the catalog's allow-list." },
    { "host", "list", 0, 0, s_host_list, "",
      "List hosts: zone, state, last heartbeat and attached SRs, and enrolled keys\n"
      "that have not registered yet." },
    { "host", "remove", 1, 1, s_host_remove, "<host uuid or public key>",
      "Revoke a host: its key leaves the allow-list and its session is dropped.\n"
      "Asks for confirmation on a terminal; --yes skips it." },
    { "volume", "create", 0, -1, s_volume_create,
      "--flavor F --size S [--name N] [--request-id R]",
      "Create a volume of flavor F and size S (bytes, or with a K, M, G or T suffix:\n"
      "powers of 1024). Placement is first-fit over the flavor's backends; `volume\n"
      "show` lists every attempt. The same --request-id always returns the same volume.\n"
      "Waits for the outcome (120 s unless --timeout is given)." },
    { "volume", "delete", 1, 1, s_volume_delete, "<uuid>",
      "Delete a volume and its VDI." },
    { "volume", "snapshot", 1, -1, s_volume_snapshot, "<uuid> [--name N]",
      "Snapshot a volume on its own backend (the SR must support VDI_SNAPSHOT)." },
    { "volume", "clone", 1, -1, s_volume_clone, "<uuid> [--name N]",
      "Clone a volume on its own backend (the SR must support VDI_CLONE)." },
    { "volume", "list", 0, 1, s_volume_list, "[--all]",
      "List volumes (--all: deleted ones too)." },
    { "volume", "show", 1, 1, s_volume_show, "<uuid>",
      "Show a volume, its placement attempts and its jobs." },
    { "volume", "connection", 1, 2, s_volume_connection, "<uuid> [--show-secrets]",
      "The connection info of a volume: sr_uuid, sr_type, vdi_uuid and the SR's\n"
      "device_config (secrets as ****** unless --show-secrets)." },
    { "catalog", "status", 0, 0, s_status, "",
      "The catalog's version, schema, agent endpoint and public key (give the key to\n"
      "every host agent as its catalog_key)." },
};

#define S_NCOMMANDS (sizeof s_commands / sizeof s_commands [0])

/* ---------------------------------------------------------------------
   Help and usage
   --------------------------------------------------------------------- */

static void
s_print_command_usage (FILE *stream, const s_command_t *c)
{
    fprintf (stream, "usage: %s [options] %s %s%s%s\n", S_PROGRAM, c->category, c->action,
             *c->usage ? " " : "", c->usage);
}

static void
s_print_command_help (FILE *stream, const s_command_t *c)
{
    s_print_command_usage (stream, c);
    fprintf (stream, "\n%s\n", c->help);
}

static void
s_print_usage (FILE *stream, const char *category)
{
    fprintf (stream,
             "usage: %s [--endpoint E] [--json] [--yes] [--zone Z] [--timeout S] CATEGORY ACTION [ARGS...]\n"
             "       %s help [CATEGORY [ACTION]]\n"
             "\n"
             "Options (before the category):\n"
             "  --endpoint E  catalog admin endpoint (default: $XENSM_ADMIN_ENDPOINT, then the\n"
             "                catalog config's admin_endpoint, then %s)\n"
             "  --json        print results as JSON\n"
             "  --yes, -y     do not ask before creating a new SR or removing a host\n"
             "  --zone Z      zone of a new backend (default: the catalog's default_zone)\n"
             "  --timeout S   seconds to wait for the catalog (default %d; %d for volume\n"
             "                create, delete, snapshot and clone, which wait for an agent)\n"
             "  --help, -h    this help; `%s help CATEGORY ACTION` for one command\n"
             "\n"
             "Commands (category and action accept a unique prefix):\n",
             S_PROGRAM, S_PROGRAM, XS_CATALOG_DEFAULT_ADMIN, S_DEFAULT_TIMEOUT_MS / 1000,
             S_VOLUME_TIMEOUT_MS / 1000, S_PROGRAM);
    for (size_t i = 0; i < S_NCOMMANDS; i++)
        if (!category || strcmp (category, s_commands [i].category) == 0)
            fprintf (stream, "  %s %s%s%s\n", s_commands [i].category, s_commands [i].action,
                     *s_commands [i].usage ? " " : "", s_commands [i].usage);
}

/* ---------------------------------------------------------------------
   Prefix matching
   --------------------------------------------------------------------- */

static bool
s_prefix (const char *prefix, const char *name)
{
    return strncasecmp (prefix, name, strlen (prefix)) == 0;
}

/* Resolves the category `word` to its canonical name. Returns it, or NULL
   after printing a usage error (unknown or ambiguous). */
static const char *
s_match_category (const s_ctx_t *ctx, const char *word)
{
    const char *exact = NULL, *match = NULL;
    size_t matches = 0;
    for (size_t i = 0; i < S_NCOMMANDS; i++) {
        const char *name = s_commands [i].category;
        if (i > 0 && strcmp (name, s_commands [i - 1].category) == 0)
            continue;           /* the table groups each category */
        if (strcasecmp (word, name) == 0)
            exact = name;
        if (*word && s_prefix (word, name)) {
            match = name;
            matches++;
        }
    }
    if (exact)
        return exact;
    if (matches == 1)
        return match;
    FILE *err = ctx->io->err;
    if (matches == 0) {
        fprintf (err, "%s: unknown category '%s' (known:", S_PROGRAM, word);
        for (size_t i = 0; i < S_NCOMMANDS; i++)
            if (i == 0 || strcmp (s_commands [i].category, s_commands [i - 1].category))
                fprintf (err, " %s", s_commands [i].category);
        fprintf (err, ")\n");
    }
    else {
        fprintf (err, "%s: ambiguous category '%s' (matches:", S_PROGRAM, word);
        for (size_t i = 0; i < S_NCOMMANDS; i++)
            if ((i == 0 || strcmp (s_commands [i].category, s_commands [i - 1].category))
            &&  s_prefix (word, s_commands [i].category))
                fprintf (err, " %s", s_commands [i].category);
        fprintf (err, ")\n");
    }
    return NULL;
}

/* Resolves `word` to an action of `category`; NULL after a usage error. */
static const s_command_t *
s_match_action (const s_ctx_t *ctx, const char *category, const char *word)
{
    const s_command_t *exact = NULL, *match = NULL;
    size_t matches = 0;
    for (size_t i = 0; i < S_NCOMMANDS; i++) {
        const s_command_t *c = &s_commands [i];
        if (strcmp (c->category, category) != 0)
            continue;
        if (strcasecmp (word, c->action) == 0)
            exact = c;
        if (*word && s_prefix (word, c->action)) {
            match = c;
            matches++;
        }
    }
    if (exact)
        return exact;
    if (matches == 1)
        return match;
    FILE *err = ctx->io->err;
    fprintf (err, "%s: %s action '%s' in category %s (%s:", S_PROGRAM,
             matches ? "ambiguous" : "unknown", word, category,
             matches ? "matches" : "known");
    for (size_t i = 0; i < S_NCOMMANDS; i++)
        if (strcmp (s_commands [i].category, category) == 0
        &&  (!matches || s_prefix (word, s_commands [i].action)))
            fprintf (err, " %s", s_commands [i].action);
    fprintf (err, ")\n");
    return NULL;
}

/* `help [CATEGORY [ACTION]]`: the usage, a category's commands or one
   command's help, on stdout. Returns the exit code. */
static int
s_help (const s_ctx_t *ctx, int argc, char **argv)
{
    if (argc == 0) {
        s_print_usage (ctx->io->out, NULL);
        return 0;
    }
    if (argc > 2) {
        fprintf (ctx->io->err, "%s: help: expected at most a category and an action, got %d "
                 "argument(s)\n", S_PROGRAM, argc);
        return 2;
    }
    const char *category = s_match_category (ctx, argv [0]);
    if (!category)
        return 2;
    if (argc == 1) {
        s_print_usage (ctx->io->out, category);
        return 0;
    }
    const s_command_t *command = s_match_action (ctx, category, argv [1]);
    if (!command)
        return 2;
    s_print_command_help (ctx->io->out, command);
    return 0;
}

/* ---------------------------------------------------------------------
   Talking to the catalog
   --------------------------------------------------------------------- */

/* Prints an error (and, with --json, a JSON error object on stdout) and
   returns the exit code for it. */
static int
s_fail (s_ctx_t *ctx, const xs_err_t *err)
{
    fprintf (ctx->io->err, "%s: %s\n", S_PROGRAM, err->msg);
    if (ctx->json) {
        json_t *obj = json_pack ("{s:{s:s, s:s}}", "error", "kind", xs_errkind_name (err->kind),
                                 "message", err->msg);
        if (obj) {
            json_dumpf (obj, ctx->io->out, JSON_INDENT (2));
            fputc ('\n', ctx->io->out);
            json_decref (obj);
        }
    }
    int code = xs_errkind_exit_code (err->kind);
    return code ? code : 1;
}

static int
s_bad_id (s_ctx_t *ctx, const char *arg)
{
    const s_command_t *c = ctx->command;
    fprintf (ctx->io->err, "%s: %s %s: backend id '%s': not a positive integer\n",
             S_PROGRAM, c->category, c->action, arg);
    s_print_command_usage (ctx->io->err, c);
    return 2;
}

/* Calls `cmd`; returns the result (caller decrefs) or NULL with *err set. */
static json_t *
s_call (s_ctx_t *ctx, const char *cmd, json_t *args, xs_err_t *err)
{
    if (!ctx->client) {
        ctx->client = xs_admin_client_new (ctx->endpoint, ctx->timeout_ms, err);
        if (!ctx->client) {
            json_decref (args);
            return NULL;
        }
    }
    return xs_admin_client_call (ctx->client, cmd, &args, err);
}

static void
s_print_json (s_ctx_t *ctx, json_t *result)
{
    json_dumpf (result, ctx->io->out, JSON_INDENT (2));
    fputc ('\n', ctx->io->out);
}

/* Prints a command's result for a person; argv is the command's arguments. */
typedef void (s_table_fn) (s_ctx_t *ctx, json_t *result, char **argv);

/* Calls `cmd` with args (ownership taken; NULL means the arguments were not
   UTF-8 text, reported as `bad_args`), then prints the result as JSON with
   --json, else with `table`. Returns the exit code. */
static int
s_run (s_ctx_t *ctx, const char *cmd, json_t *args, const char *bad_args,
       s_table_fn *table, char **argv)
{
    xs_err_t err;
    if (!args) {
        xs_err_set (&err, XS_EINVAL, "%s: %s must be UTF-8 text", cmd, bad_args);
        return s_fail (ctx, &err);
    }
    json_t *result = s_call (ctx, cmd, args, &err);
    if (!result)
        return s_fail (ctx, &err);
    if (ctx->json)
        s_print_json (ctx, result);
    else
        table (ctx, result, argv);
    json_decref (result);
    return 0;
}

/* Parses a backend id: a positive decimal integer. */
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

/* ---------------------------------------------------------------------
   sm flavor_*
   --------------------------------------------------------------------- */

static void
s_flavor_created (s_ctx_t *ctx, json_t *result, char **argv)
{
    json_t *flavor = json_object_get (result, "flavor");
    fprintf (ctx->io->out, "flavor %s created (id %" JSON_INTEGER_FORMAT ")\n",
             json_string_value (json_object_get (flavor, "label")),
             json_integer_value (json_object_get (flavor, "id")));
}

static int
s_flavor_create (s_ctx_t *ctx, int argc, char **argv)
{
    json_t *args = json_pack ("{s:s, s:s}", "label", argv [0], "description", argv [1]);
    return s_run (ctx, "flavor_create", args, "label and description", s_flavor_created, argv);
}

static void
s_flavor_table (s_ctx_t *ctx, json_t *result, char **argv)
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

static int
s_flavor_list (s_ctx_t *ctx, int argc, char **argv)
{
    json_t *args = argc ? json_pack ("{s:s}", "label", argv [0]) : json_object ();
    return s_run (ctx, "flavor_list", args, "label", s_flavor_table, argv);
}

static void
s_flavor_deleted (s_ctx_t *ctx, json_t *result, char **argv)
{
    fprintf (ctx->io->out, "flavor %s deleted\n", argv [0]);
}

static int
s_flavor_delete (s_ctx_t *ctx, int argc, char **argv)
{
    json_t *args = json_pack ("{s:s}", "label", argv [0]);
    return s_run (ctx, "flavor_delete", args, "label", s_flavor_deleted, argv);
}

/* ---------------------------------------------------------------------
   sm backend_*
   --------------------------------------------------------------------- */

/* Asks `Proceed? (y/n)` before a new SR is created. 0 to go on, else the
   exit code. */
static int
s_confirm_new_sr (s_ctx_t *ctx, const char *flavor, const char *sr_type,
                  const xs_kvlist_t *config)
{
    FILE *err = ctx->io->err;
    char *shown = xs_kvlist_format (config, true);
    fprintf (err,
             "WARNING: no sr_uuid= given: a NEW %s SR will be created for flavor %s%s%s.\n"
             "Creating it FORMATS the storage and destroys any data on it.\n"
             "To use an existing SR instead, pass sr_uuid=<uuid>.\n",
             sr_type, flavor, *shown ? " on " : "", shown);
    free (shown);
    if (ctx->yes)
        return 0;
    if (!ctx->io->interactive) {
        fprintf (err, "%s: sm backend_add: refusing to create a new SR without confirmation: "
                      "not on a terminal (pass --yes to confirm); nothing was created\n", S_PROGRAM);
        return 2;
    }
    fprintf (err, "Proceed? (y/n) ");
    fflush (err);
    char answer [64] = "";
    if (!fgets (answer, sizeof answer, ctx->io->in))
        answer [0] = '\0';
    answer [strcspn (answer, "\r\n")] = '\0';
    if (strcasecmp (answer, "y") == 0 || strcasecmp (answer, "yes") == 0)
        return 0;
    fprintf (err, "%s: sm backend_add: not confirmed; nothing was created\n", S_PROGRAM);
    return 1;
}

static int
s_backend_add (s_ctx_t *ctx, int argc, char **argv)
{
    int rc = 1;
    xs_err_t err;
    xs_kvlist_t *params = xs_kvlist_new ();
    xs_kvlist_t *config = NULL, *settings = NULL;
    json_t *result = NULL;
    const char *flavor = argv [0];
    const char *sr_type = argv [1];

    /* 1. key=value syntax, the SR type and its keys: before anything else. */
    if (xs_kvlist_parse_argv (params, argc - 2, argv + 2, &err)) {
        xs_err_prefix (&err, "sm backend_add");
        rc = s_fail (ctx, &err);
        goto out;
    }
    if (ctx->zone) {
        const char *given = xs_kvlist_get (params, "zone");
        if (given && strcmp (given, ctx->zone) != 0) {
            xs_err_set (&err, XS_EINVAL, "sm backend_add: --zone %s and zone=%s disagree",
                        ctx->zone, given);
            rc = s_fail (ctx, &err);
            goto out;
        }
        if (!given && xs_kvlist_add (params, "zone", ctx->zone, &err)) {
            xs_err_prefix (&err, "sm backend_add: --zone");
            rc = s_fail (ctx, &err);
            goto out;
        }
    }
    if (xs_srtype_split (sr_type, params, &config, &settings, &err)) {
        xs_err_prefix (&err, "sm backend_add");
        rc = s_fail (ctx, &err);
        goto out;
    }
    /* 2. The flavor exists. */
    json_t *args = json_pack ("{s:s}", "label", flavor);
    if (!args) {
        xs_err_set (&err, XS_EINVAL, "sm backend_add: flavor label must be UTF-8 text");
        rc = s_fail (ctx, &err);
        goto out;
    }
    result = s_call (ctx, "flavor_list", args, &err);
    if (!result) {
        rc = s_fail (ctx, &err);
        goto out;
    }
    json_decref (result);
    result = NULL;
    /* 3. A new SR formats storage: confirm. */
    if (!xs_kvlist_has (settings, "sr_uuid")) {
        rc = s_confirm_new_sr (ctx, flavor, sr_type, config);
        if (rc)
            goto out;
    }
    /* 4. Add it. */
    args = json_pack ("{s:s, s:s, s:o}", "flavor", flavor, "sr_type", sr_type,
                      "params", xs_kvlist_to_json (params, false));
    if (!args)
        abort ();
    result = s_call (ctx, "backend_add", args, &err);
    if (!result) {
        rc = s_fail (ctx, &err);
        goto out;
    }
    if (ctx->json)
        s_print_json (ctx, result);
    else {
        json_t *backend = json_object_get (result, "backend");
        const char *zone = json_string_value (json_object_get (backend, "zone"));
        const char *sr_uuid = json_string_value (json_object_get (backend, "sr_uuid"));
        fprintf (ctx->io->out, "backend %" JSON_INTEGER_FORMAT " added: flavor %s, SR type %s, zone %s",
                 json_integer_value (json_object_get (backend, "id")), flavor, sr_type,
                 zone ? zone : "?");
        if (sr_uuid)
            fprintf (ctx->io->out, ", existing SR %s (introduced by the zone's agents)\n", sr_uuid);
        else
            fprintf (ctx->io->out, ", new SR (created by one agent of the zone)\n");
    }
    rc = 0;
out:
    json_decref (result);
    xs_kvlist_destroy (&params);
    xs_kvlist_destroy (&config);
    xs_kvlist_destroy (&settings);
    return rc;
}

/* "name_label=x server=y ..." for the Config Parameters column, from the
   (already redacted) JSON backend. Caller frees. */
static char *
s_backend_params (json_t *backend)
{
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&text, &size);
    if (!stream)
        abort ();
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
    if (fclose (stream))
        abort ();
    return text;
}

static void
s_backend_table (s_ctx_t *ctx, json_t *result, char **argv)
{
    /* nova-manage sm backend_list layout */
    fprintf (ctx->io->out, "%-5s %-10s %-40s %-10s %s\n", "id", "Flavor id", "SR UUID",
             "SR Type", "Config Parameters");
    size_t i;
    json_t *backend;
    json_array_foreach (json_object_get (result, "backends"), i, backend) {
        const char *sr_uuid = json_string_value (json_object_get (backend, "sr_uuid"));
        char *params = s_backend_params (backend);
        fprintf (ctx->io->out, "%-5" JSON_INTEGER_FORMAT " %-10" JSON_INTEGER_FORMAT " %-40s %-10s %s\n",
                 json_integer_value (json_object_get (backend, "id")),
                 json_integer_value (json_object_get (backend, "flavor_id")),
                 sr_uuid ? sr_uuid : "-",
                 json_string_value (json_object_get (backend, "sr_type")), params);
        free (params);
    }
}

static int
s_backend_list (s_ctx_t *ctx, int argc, char **argv)
{
    int64_t id = 0;
    json_t *args = json_object ();
    if (argc) {
        if (s_parse_id (argv [0], &id)) {
            json_decref (args);
            return s_bad_id (ctx, argv [0]);
        }
        json_object_set_new (args, "id", json_integer (id));
    }
    return s_run (ctx, "backend_list", args, "id", s_backend_table, argv);
}

static void
s_backend_removed (s_ctx_t *ctx, json_t *result, char **argv)
{
    int64_t id = 0;
    s_parse_id (argv [0], &id);         /* checked before the call */
    fprintf (ctx->io->out, "backend %" PRId64 " removed\n", id);
}

static int
s_backend_remove (s_ctx_t *ctx, int argc, char **argv)
{
    int64_t id = 0;
    if (s_parse_id (argv [0], &id))
        return s_bad_id (ctx, argv [0]);
    json_t *args = json_pack ("{s:I}", "id", (json_int_t) id);
    return s_run (ctx, "backend_remove", args, "id", s_backend_removed, argv);
}

/* ---------------------------------------------------------------------
   Sizes
   --------------------------------------------------------------------- */

int
xs_manage_parse_size (const char *text, int64_t *bytes)
{
    static const struct { const char *suffix; int shift; } units [] = {
        { "", 0 }, { "b", 0 },
        { "k", 10 }, { "kib", 10 }, { "m", 20 }, { "mib", 20 },
        { "g", 30 }, { "gib", 30 }, { "t", 40 }, { "tib", 40 },
    };
    if (!text || !isdigit ((unsigned char) text [0]))
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (errno)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units [0]; i++)
        if (strcasecmp (end, units [i].suffix) == 0) {
            if (value == 0 || value > ((unsigned long long) INT64_MAX >> units [i].shift))
                return -1;
            *bytes = (int64_t) (value << units [i].shift);
            return 0;
        }
    return -1;
}

/* "10 GiB", "1.5 MiB", "512 B": for people. */
static void
s_format_size (int64_t bytes, char *buffer, size_t size)
{
    static const char *const units [] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double value = (double) bytes;
    size_t u = 0;
    while (value >= 1024 && u + 1 < sizeof units / sizeof units [0]) {
        value /= 1024;
        u++;
    }
    if (u == 0 || value == (double) (int64_t) value)
        snprintf (buffer, size, "%.0f %s", value, units [u]);
    else
        snprintf (buffer, size, "%.1f %s", value, units [u]);
}

/* "2026-11-24 23:05:01" (UTC) from milliseconds since the epoch; "-" for 0. */
static void
s_format_time (json_int_t ms, char *buffer, size_t size)
{
    if (ms <= 0) {
        snprintf (buffer, size, "-");
        return;
    }
    time_t seconds = (time_t) (ms / 1000);
    struct tm tm;
    if (!gmtime_r (&seconds, &tm) || !strftime (buffer, size, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf (buffer, size, "%" JSON_INTEGER_FORMAT, ms);
}

/* A JSON string member, or `dash` when absent or null. */
static const char *
s_str (json_t *object, const char *key, const char *dash)
{
    const char *value = json_string_value (json_object_get (object, key));
    return value ? value : dash;
}

/* ---------------------------------------------------------------------
   Options after the action (`volume create --flavor F ...`)
   --------------------------------------------------------------------- */

/* Parses the command's options with getopt_long (`spec` and `longopts`);
   on_option (ctx, opt, optarg, state) stores each. The positional
   arguments left are moved to argv [0..*npos). Returns 0, or 2 after a
   usage error. */
typedef int (s_option_fn) (s_ctx_t *ctx, int opt, const char *value, void *state);

static int
s_parse_options (s_ctx_t *ctx, int argc, char **argv, const struct option *longopts,
                 s_option_fn *on_option, void *state, int *npos)
{
    const s_command_t *c = ctx->command;
    /* getopt wants a program name in front: the action word is there. */
    char **av = argv - 1;
    int ac = argc + 1;
    int opt;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long (ac, av, "", longopts, NULL)) != -1) {
        if (opt == '?' || opt == ':') {
            fprintf (ctx->io->err, "%s: %s %s: option '%s': unknown or missing its value\n",
                     S_PROGRAM, c->category, c->action, av [optind - 1]);
            s_print_command_usage (ctx->io->err, c);
            return 2;
        }
        if (on_option (ctx, opt, optarg, state))
            return 2;
    }
    /* GNU getopt moved the positional arguments to the end. */
    *npos = 0;
    for (int i = optind; i < ac; i++)
        argv [(*npos)++] = av [i];
    return 0;
}

static int
s_usage_error (s_ctx_t *ctx, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
s_usage_error (s_ctx_t *ctx, const char *fmt, ...)
{
    const s_command_t *c = ctx->command;
    va_list ap;
    va_start (ap, fmt);
    fprintf (ctx->io->err, "%s: %s %s: ", S_PROGRAM, c->category, c->action);
    vfprintf (ctx->io->err, fmt, ap);
    fputc ('\n', ctx->io->err);
    va_end (ap);
    s_print_command_usage (ctx->io->err, c);
    return 2;
}

/* Volume changes wait for agents: give them longer than reads. */
static void
s_wait_long (s_ctx_t *ctx)
{
    if (!ctx->timeout_given)
        ctx->timeout_ms = S_VOLUME_TIMEOUT_MS;
}

/* ---------------------------------------------------------------------
   host *
   --------------------------------------------------------------------- */

static void
s_host_enrolled (s_ctx_t *ctx, json_t *result, char **argv)
{
    fprintf (ctx->io->out, "host key %s enrolled (from %s); the agent may now register\n",
             s_str (result, "public_key", "?"), argv [0]);
}

static int
s_host_enroll (s_ctx_t *ctx, int argc, char **argv)
{
    xs_err_t err;
    const char *path = argv [0];
    size_t len = strlen (path);
    if (len > 7 && strcmp (path + len - 7, "_secret") == 0) {
        xs_err_set (&err, XS_EINVAL, "host enroll: %s is a SECRET certificate: give the public "
                    "file (without _secret); the secret part never leaves the host", path);
        return s_fail (ctx, &err);
    }
    FILE *file = fopen (path, "r");
    if (!file) {
        xs_err_set (&err, errno == ENOENT ? XS_ENOTFOUND : XS_EIO, "host enroll: %s: %s",
                    path, strerror (errno));
        return s_fail (ctx, &err);
    }
    char text [S_CERT_MAX + 2];
    errno = 0;
    size_t size = fread (text, 1, sizeof text - 1, file);
    bool failed = ferror (file);
    int read_errno = failed ? errno : 0;
    fclose (file);
    if (failed) {
        /* A directory opens but does not read: say so (EISDIR). */
        xs_err_set (&err, read_errno == EISDIR ? XS_EINVAL : XS_EIO,
                    "host enroll: %s: cannot read it: %s", path,
                    read_errno ? strerror (read_errno) : "read error");
        return s_fail (ctx, &err);
    }
    if (size > S_CERT_MAX) {
        xs_err_set (&err, XS_EINVAL, "host enroll: %s: larger than %d bytes: not a public "
                    "certificate", path, S_CERT_MAX);
        return s_fail (ctx, &err);
    }
    text [size] = '\0';
    if (size == 0 || strlen (text) != size) {
        xs_err_set (&err, XS_EINVAL, "host enroll: %s: %s", path,
                    size ? "holds NUL bytes: not a public certificate" : "empty file");
        return s_fail (ctx, &err);
    }
    json_t *key = json_string (text);
    if (!key) {
        xs_err_set (&err, XS_EINVAL, "host enroll: %s: not UTF-8 text: not a public "
                    "certificate", path);
        return s_fail (ctx, &err);
    }
    json_t *args = json_pack ("{s:o}", "public_key", key);
    return s_run (ctx, "host_enroll", args, "the certificate file", s_host_enrolled, argv);
}

static void
s_host_table (s_ctx_t *ctx, json_t *result, char **argv)
{
    FILE *out = ctx->io->out;
    fprintf (out, "%-36s  %-12s %-10s %-8s %-19s  %s\n", "Host UUID", "Name", "Zone", "State",
             "Last seen (UTC)", "SRs (backend:SR uuid)");
    size_t i;
    json_t *host;
    json_array_foreach (json_object_get (result, "hosts"), i, host) {
        char seen [32];
        s_format_time (json_integer_value (json_object_get (host, "last_seen")), seen,
                       sizeof seen);
        const char *uuid = s_str (host, "uuid", "");
        fprintf (out, "%-36s  %-12s %-10s %-8s %-19s ", *uuid ? uuid : "-",
                 *s_str (host, "name", "") ? s_str (host, "name", "") : "-",
                 *s_str (host, "zone", "") ? s_str (host, "zone", "") : "-",
                 s_str (host, "state", "?"), seen);
        size_t j;
        json_t *sr;
        json_t *srs = json_object_get (host, "srs");
        json_array_foreach (srs, j, sr)
            fprintf (out, " %" JSON_INTEGER_FORMAT ":%s",
                     json_integer_value (json_object_get (sr, "backend_id")),
                     s_str (sr, "sr_uuid", "-"));
        if (!json_array_size (srs))
            fprintf (out, " -");
        if (!*uuid)
            fprintf (out, "  (key %s, not registered yet)", s_str (host, "public_key", "?"));
        fputc ('\n', out);
    }
}

static int
s_host_list (s_ctx_t *ctx, int argc, char **argv)
{
    return s_run (ctx, "host_list", json_object (), "", s_host_table, argv);
}

static void
s_host_removed (s_ctx_t *ctx, json_t *result, char **argv)
{
    fprintf (ctx->io->out, "host %s removed: its key is no longer admitted\n", argv [0]);
}

static int
s_host_remove (s_ctx_t *ctx, int argc, char **argv)
{
    if (!ctx->yes) {
        FILE *err = ctx->io->err;
        if (!ctx->io->interactive) {
            fprintf (err, "%s: host remove: refusing without confirmation: not on a terminal "
                          "(pass --yes to confirm); nothing was removed\n", S_PROGRAM);
            return 2;
        }
        fprintf (err, "Host %s will no longer be admitted; its work moves to other hosts of "
                      "its zone.\nProceed? (y/n) ", argv [0]);
        fflush (err);
        char answer [64] = "";
        if (!fgets (answer, sizeof answer, ctx->io->in))
            answer [0] = '\0';
        answer [strcspn (answer, "\r\n")] = '\0';
        if (strcasecmp (answer, "y") && strcasecmp (answer, "yes")) {
            fprintf (err, "%s: host remove: not confirmed; nothing was removed\n", S_PROGRAM);
            return 1;
        }
    }
    json_t *args = json_pack ("{s:s}", "host", argv [0]);
    return s_run (ctx, "host_remove", args, "the host", s_host_removed, argv);
}

/* ---------------------------------------------------------------------
   volume *
   --------------------------------------------------------------------- */

/* One volume as `key: value` lines. */
static void
s_volume_print (s_ctx_t *ctx, json_t *v)
{
    FILE *out = ctx->io->out;
    char size [32], created [32], updated [32];
    s_format_size (json_integer_value (json_object_get (v, "size")), size, sizeof size);
    s_format_time (json_integer_value (json_object_get (v, "created_at")), created,
                   sizeof created);
    s_format_time (json_integer_value (json_object_get (v, "updated_at")), updated,
                   sizeof updated);
    json_t *backend = json_object_get (v, "backend_id");
    fprintf (out, "uuid:        %s\n", s_str (v, "uuid", "?"));
    fprintf (out, "name:        %s\n", s_str (v, "name", "-"));
    fprintf (out, "state:       %s\n", s_str (v, "state", "?"));
    fprintf (out, "size:        %s (%" JSON_INTEGER_FORMAT " bytes)\n", size,
             json_integer_value (json_object_get (v, "size")));
    fprintf (out, "flavor:      %s\n", s_str (v, "flavor", "-"));
    if (json_is_integer (backend))
        fprintf (out, "backend:     %" JSON_INTEGER_FORMAT "\n", json_integer_value (backend));
    else
        fprintf (out, "backend:     -\n");
    fprintf (out, "vdi_uuid:    %s\n", s_str (v, "vdi_uuid", "-"));
    fprintf (out, "host:        %s\n", s_str (v, "host_uuid", "-"));
    if (json_is_string (json_object_get (v, "parent_uuid")))
        fprintf (out, "parent:      %s\n", s_str (v, "parent_uuid", "-"));
    if (json_is_string (json_object_get (v, "request_id")))
        fprintf (out, "request_id:  %s\n", s_str (v, "request_id", "-"));
    if (json_is_string (json_object_get (v, "error")))
        fprintf (out, "error:       %s\n", s_str (v, "error", "-"));
    fprintf (out, "created:     %s UTC\n", created);
    fprintf (out, "updated:     %s UTC\n", updated);
}

static void
s_volume_done (s_ctx_t *ctx, json_t *result, char **argv)
{
    s_volume_print (ctx, json_object_get (result, "volume"));
}

typedef struct {
    const char *flavor, *size, *name, *request_id;
} s_create_opts_t;

static int
s_create_option (s_ctx_t *ctx, int opt, const char *value, void *state)
{
    s_create_opts_t *o = state;
    switch (opt) {
    case 'f': o->flavor = value; break;
    case 's': o->size = value; break;
    case 'n': o->name = value; break;
    case 'r': o->request_id = value; break;
    }
    return 0;
}

static int
s_volume_create (s_ctx_t *ctx, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "flavor",     required_argument, NULL, 'f' },
        { "size",       required_argument, NULL, 's' },
        { "name",       required_argument, NULL, 'n' },
        { "request-id", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 }
    };
    s_create_opts_t o = { NULL, NULL, NULL, NULL };
    int npos = 0;
    int rc = s_parse_options (ctx, argc, argv, longopts, s_create_option, &o, &npos);
    if (rc)
        return rc;
    if (npos)
        return s_usage_error (ctx, "unexpected argument '%s'", argv [0]);
    if (!o.flavor || !o.size)
        return s_usage_error (ctx, "--flavor and --size are required");
    int64_t bytes = 0;
    if (xs_manage_parse_size (o.size, &bytes))
        return s_usage_error (ctx, "--size '%s': expected a positive size in bytes or with a "
                              "K, M, G or T suffix (e.g. 10G), at most 8 EiB", o.size);
    json_t *args = json_pack ("{s:s, s:I}", "flavor", o.flavor, "size", (json_int_t) bytes);
    if (args && o.name && json_object_set_new (args, "name", json_string (o.name)))
        json_decref (args), args = NULL;
    if (args && o.request_id
    &&  json_object_set_new (args, "request_id", json_string (o.request_id)))
        json_decref (args), args = NULL;
    s_wait_long (ctx);
    return s_run (ctx, "volume_create", args, "flavor, name and request id", s_volume_done,
                  argv);
}

/* A volume uuid argument: never an option (uuids do not start with '-'). */
static int
s_check_uuid_arg (s_ctx_t *ctx, const char *arg)
{
    if (arg [0] == '-')
        return s_usage_error (ctx, "option '%s': unknown (expected a volume uuid)", arg);
    return 0;
}

static int
s_volume_delete (s_ctx_t *ctx, int argc, char **argv)
{
    if (s_check_uuid_arg (ctx, argv [0]))
        return 2;
    s_wait_long (ctx);
    return s_run (ctx, "volume_delete", json_pack ("{s:s}", "uuid", argv [0]), "uuid",
                  s_volume_done, argv);
}

static int
s_name_option (s_ctx_t *ctx, int opt, const char *value, void *state)
{
    *(const char **) state = value;
    return 0;
}

/* volume snapshot|clone <uuid> [--name N] */
static int
s_volume_copy (s_ctx_t *ctx, int argc, char **argv, const char *cmd)
{
    static const struct option longopts [] = {
        { "name", required_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 }
    };
    const char *name = NULL;
    int npos = 0;
    int rc = s_parse_options (ctx, argc, argv, longopts, s_name_option, &name, &npos);
    if (rc)
        return rc;
    if (npos != 1)
        return s_usage_error (ctx, "expected one volume uuid, got %d argument(s)", npos);
    json_t *args = json_pack ("{s:s}", "uuid", argv [0]);
    if (args && name && json_object_set_new (args, "name", json_string (name)))
        json_decref (args), args = NULL;
    s_wait_long (ctx);
    return s_run (ctx, cmd, args, "uuid and name", s_volume_done, argv);
}

static int
s_volume_snapshot (s_ctx_t *ctx, int argc, char **argv)
{
    return s_volume_copy (ctx, argc, argv, "volume_snapshot");
}

static int
s_volume_clone (s_ctx_t *ctx, int argc, char **argv)
{
    return s_volume_copy (ctx, argc, argv, "volume_clone");
}

static void
s_volume_table (s_ctx_t *ctx, json_t *result, char **argv)
{
    FILE *out = ctx->io->out;
    fprintf (out, "%-36s  %-16s %10s  %-10s %-10s %-7s %s\n", "UUID", "Name", "Size", "Flavor",
             "State", "Backend", "VDI UUID");
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get (result, "volumes"), i, v) {
        char size [32], backend [24] = "-";
        s_format_size (json_integer_value (json_object_get (v, "size")), size, sizeof size);
        if (json_is_integer (json_object_get (v, "backend_id")))
            snprintf (backend, sizeof backend, "%" JSON_INTEGER_FORMAT,
                      json_integer_value (json_object_get (v, "backend_id")));
        fprintf (out, "%-36s  %-16s %10s  %-10s %-10s %-7s %s\n", s_str (v, "uuid", "?"),
                 s_str (v, "name", "-"), size, s_str (v, "flavor", "-"), s_str (v, "state", "?"),
                 backend, s_str (v, "vdi_uuid", "-"));
    }
}

static int
s_volume_list (s_ctx_t *ctx, int argc, char **argv)
{
    bool all = false;
    if (argc) {
        if (strcmp (argv [0], "--all") != 0)
            return s_usage_error (ctx, "unexpected argument '%s'", argv [0]);
        all = true;
    }
    return s_run (ctx, "volume_list", json_pack ("{s:b}", "all", all), "", s_volume_table, argv);
}

static void
s_volume_shown (s_ctx_t *ctx, json_t *result, char **argv)
{
    FILE *out = ctx->io->out;
    json_t *v = json_object_get (result, "volume");
    s_volume_print (ctx, v);
    json_t *attempts = json_object_get (v, "attempts");
    fprintf (out, "attempts:%s\n", json_array_size (attempts) ? "" : "    none");
    size_t i;
    json_t *a;
    json_array_foreach (attempts, i, a) {
        char at [32];
        s_format_time (json_integer_value (json_object_get (a, "at")), at, sizeof at);
        fprintf (out, "  %s  backend %" JSON_INTEGER_FORMAT "  %-8s host %s: %s\n", at,
                 json_integer_value (json_object_get (a, "backend_id")),
                 s_str (a, "outcome", "?"), s_str (a, "host_uuid", "-"),
                 s_str (a, "reason", "-"));
    }
    json_t *jobs = json_object_get (v, "jobs");
    json_t *j;
    if (json_array_size (jobs))
        fprintf (out, "jobs:\n");
    json_array_foreach (jobs, i, j)
        fprintf (out, "  %" JSON_INTEGER_FORMAT "  %-13s %-9s backend %" JSON_INTEGER_FORMAT
                 "  host %s%s%s\n",
                 json_integer_value (json_object_get (j, "id")), s_str (j, "op", "?"),
                 s_str (j, "state", "?"), json_integer_value (json_object_get (j, "backend_id")),
                 s_str (j, "host_uuid", "-"), json_is_string (json_object_get (j, "error"))
                 ? ": " : "", s_str (j, "error", ""));
}

static int
s_volume_show (s_ctx_t *ctx, int argc, char **argv)
{
    if (s_check_uuid_arg (ctx, argv [0]))
        return 2;
    return s_run (ctx, "volume_show", json_pack ("{s:s}", "uuid", argv [0]), "uuid",
                  s_volume_shown, argv);
}

static void
s_connection_shown (s_ctx_t *ctx, json_t *result, char **argv)
{
    FILE *out = ctx->io->out;
    json_t *c = json_object_get (result, "connection");
    fprintf (out, "volume_uuid:   %s\n", s_str (c, "volume_uuid", "?"));
    fprintf (out, "vdi_uuid:      %s\n", s_str (c, "vdi_uuid", "?"));
    fprintf (out, "sr_uuid:       %s\n", s_str (c, "sr_uuid", "?"));
    fprintf (out, "sr_type:       %s\n", s_str (c, "sr_type", "?"));
    fprintf (out, "name_label:    %s\n", s_str (c, "name_label", "-"));
    fprintf (out, "zone:          %s\n", s_str (c, "zone", "?"));
    fprintf (out, "device_config:");
    const char *key;
    json_t *value;
    json_object_foreach (json_object_get (c, "device_config"), key, value)
        fprintf (out, " %s=%s", key, json_is_string (value) ? json_string_value (value) : "?");
    fputc ('\n', out);
}

static int
s_volume_connection (s_ctx_t *ctx, int argc, char **argv)
{
    bool secrets = false;
    const char *uuid = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp (argv [i], "--show-secrets") == 0)
            secrets = true;
        else
        if (uuid || argv [i][0] == '-')
            return s_usage_error (ctx, "unexpected argument '%s'", argv [i]);
        else
            uuid = argv [i];
    }
    if (!uuid)
        return s_usage_error (ctx, "missing the volume uuid");
    json_t *args = json_pack ("{s:s, s:b}", "uuid", uuid, "show_secrets", secrets);
    return s_run (ctx, "volume_connection", args, "uuid", s_connection_shown, argv);
}

/* ---------------------------------------------------------------------
   status
   --------------------------------------------------------------------- */

static void
s_status_shown (s_ctx_t *ctx, json_t *result, char **argv)
{
    FILE *out = ctx->io->out;
    fprintf (out, "xensm-catalogd %s (admin protocol %" JSON_INTEGER_FORMAT ", schema %"
             JSON_INTEGER_FORMAT ")\n", s_str (result, "version", "?"),
             json_integer_value (json_object_get (result, "protocol")),
             json_integer_value (json_object_get (result, "schema")));
    fprintf (out, "admin endpoint: %s\n", ctx->endpoint);
    fprintf (out, "agent endpoint: %s\n", s_str (result, "agent_endpoint", "-"));
    fprintf (out, "catalog key:    %s\n", s_str (result, "catalog_key", "-"));
}

static int
s_status (s_ctx_t *ctx, int argc, char **argv)
{
    return s_run (ctx, "ping", json_object (), "", s_status_shown, argv);
}

/* ---------------------------------------------------------------------
   Entry point
   --------------------------------------------------------------------- */

/* The endpoint when --endpoint is not given. Caller frees. */
static char *
s_default_endpoint (FILE *err_stream)
{
    const char *env = getenv ("XENSM_ADMIN_ENDPOINT");
    if (env && *env)
        return xs_strdup (env);
    const char *path = getenv ("XENSM_CONFIG");
    if (!path || !*path)
        path = XS_CATALOG_CFG_PATH;
    xs_config_t *config = xs_catalog_cfg_new ();
    xs_err_t err;
    if (xs_config_load (config, path, &err) && err.kind != XS_ENOTFOUND)
        fprintf (err_stream, "%s: warning: %s (using the default endpoint)\n", S_PROGRAM, err.msg);
    char *endpoint = xs_strdup (xs_config_get (config, XS_CATALOG_SECTION, "admin_endpoint"));
    xs_config_destroy (&config);
    return endpoint;
}

int
xs_manage_run (int argc, char **argv, const xs_manage_io_t *io)
{
    static const struct option options [] = {
        { "endpoint", required_argument, NULL, 'e' },
        { "json",     no_argument,       NULL, 'j' },
        { "yes",      no_argument,       NULL, 'y' },
        { "zone",     required_argument, NULL, 'z' },
        { "timeout",  required_argument, NULL, 't' },
        { "help",     no_argument,       NULL, 'h' },
        { "version",  no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    s_ctx_t ctx = { .io = io, .timeout_ms = S_DEFAULT_TIMEOUT_MS };
    char *endpoint = NULL;
    int rc = 2;
    int opt;
    optind = 0;         /* GNU: start over, so a test can call us again */
    opterr = 0;
    while ((opt = getopt_long (argc, argv, "+yh", options, NULL)) != -1) {
        switch (opt) {
        case 'e': ctx.endpoint = optarg; break;
        case 'j': ctx.json = true; break;
        case 'y': ctx.yes = true; break;
        case 'z':
            if (!*optarg) {
                fprintf (io->err, "%s: --zone: empty zone\n", S_PROGRAM);
                goto out;
            }
            ctx.zone = optarg;
            break;
        case 't': {
            char *end = NULL;
            double seconds = strtod (optarg, &end);
            if (end == optarg || *end || !(seconds > 0) || seconds > 3600) {
                fprintf (io->err, "%s: --timeout '%s': expected seconds (0 < S <= 3600)\n",
                         S_PROGRAM, optarg);
                goto out;
            }
            ctx.timeout_ms = (int) (seconds * 1000);
            ctx.timeout_given = true;
            break;
        }
        case 'h':
            s_print_usage (io->out, NULL);
            rc = 0;
            goto out;
        case 'V':
            fprintf (io->out, "%s %s\n", S_PROGRAM, XENSM_VERSION);
            rc = 0;
            goto out;
        default:
            if (optopt)
                fprintf (io->err, "%s: option -%c: unknown or missing its value\n", S_PROGRAM, optopt);
            else
                fprintf (io->err, "%s: option '%s': unknown or missing its value\n", S_PROGRAM,
                         argv [optind - 1]);
            s_print_usage (io->err, NULL);
            goto out;
        }
    }
    if (optind >= argc) {
        s_print_usage (io->err, NULL);
        goto out;
    }
    if (strcasecmp (argv [optind], "help") == 0) {
        rc = s_help (&ctx, argc - optind - 1, argv + optind + 1);
        goto out;
    }
    const char *category = s_match_category (&ctx, argv [optind]);
    if (!category)
        goto out;
    if (optind + 1 >= argc) {
        fprintf (io->err, "%s: %s: missing action\n", S_PROGRAM, category);
        s_print_usage (io->err, category);
        goto out;
    }
    if (strcmp (argv [optind + 1], "--help") == 0 || strcmp (argv [optind + 1], "-h") == 0) {
        s_print_usage (io->out, category);
        rc = 0;
        goto out;
    }
    const s_command_t *command = s_match_action (&ctx, category, argv [optind + 1]);
    if (!command)
        goto out;
    int nargs = argc - optind - 2;
    char **args = argv + optind + 2;
    for (int i = 0; i < nargs; i++)
        if (strcmp (args [i], "--help") == 0 || strcmp (args [i], "-h") == 0) {
            s_print_command_help (io->out, command);
            rc = 0;
            goto out;
        }
    if (nargs < command->min_args || (command->max_args >= 0 && nargs > command->max_args)) {
        fprintf (io->err, "%s: %s %s: expected ", S_PROGRAM, command->category, command->action);
        if (command->max_args < 0)
            fprintf (io->err, "at least %d", command->min_args);
        else
        if (command->min_args == command->max_args)
            fprintf (io->err, "%d", command->min_args);
        else
            fprintf (io->err, "%d to %d", command->min_args, command->max_args);
        fprintf (io->err, " argument(s), got %d\n", nargs);
        s_print_command_usage (io->err, command);
        goto out;
    }
    if (!ctx.endpoint) {
        endpoint = s_default_endpoint (io->err);
        ctx.endpoint = endpoint;
    }
    ctx.command = command;
    rc = command->handler (&ctx, nargs, args);
out:
    xs_admin_client_destroy (&ctx.client);
    free (endpoint);
    fflush (io->out);
    return rc;
}
