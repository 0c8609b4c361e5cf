/*  xs_manage: the admin CLI (xensm-manage): the command table, matching the
    command words, help, the global options and the run. The handlers live
    by category in xs_manage_sm.c, xs_manage_volume.c and xs_manage_host.c. */
#include "xs_build_config.h"
#include "xs_catalog_cfg.h"
#include "xs_manage.h"
#include "xs_manage_cmd.h"
#include "xs_mem.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The command table: the single source of dispatch, checks and help. The
   rows of a category are together. */
static const xs_manage_command_t s_commands [] = {
    { "sm", "flavor_create", 2, 2, xs_manage_flavor_create, "<label> <description>",
      "Create a flavor (a quality-of-service class). Labels are unique." },
    { "sm", "flavor_list", 0, 1, xs_manage_flavor_list, "[label]",
      "List flavors, or only the one named." },
    { "sm", "flavor_delete", 1, 1, xs_manage_flavor_delete, "<label>",
      "Delete a flavor. Refused while backends use it." },
    { "sm", "backend_add", 2, -1, xs_manage_backend_add,
      "<flavor label> <SR type> [key=value ...]",
      "Add a storage backend to a flavor. Keys are the SR type's device_config plus the\n"
      "catalog settings name_label=, sr_uuid=, zone=, ratio=, reserve=. A secret (password=,\n"
      "chappassword=, ...) is best given as key=@FILE (the file's first line) or key=-\n"
      "(read from standard input): a command line is readable by every user. Without sr_uuid=\n"
      "a NEW SR will be created (formatting the storage): confirm at the prompt or pass\n"
      "--yes. With sr_uuid= the existing SR is introduced and never formatted." },
    { "sm", "backend_list", 0, 1, xs_manage_backend_list, "[id]",
      "List backends with their config (secrets shown as ******), or only backend id." },
    { "sm", "backend_remove", 1, 1, xs_manage_backend_remove, "<id>",
      "Remove a backend from the catalog. Refused while volumes live on it; the SR is\n"
      "detached from the hosts, never destroyed." },
    { "sm", "backend_delete", 1, 1, xs_manage_backend_remove, "<id>",
      "The same as backend_remove (the name nova-manage sm's usage gives it)." },
    { "host", "enroll", 1, 1, xs_manage_host_enroll, "<public certificate file>",
      "Admit a host agent: its public certificate (made with `xensm-agentd --gen-cert\n"
      "FILE`: give FILE, never FILE_secret) joins the catalog's allow-list." },
    { "host", "list", 0, 0, xs_manage_host_list, "",
      "List hosts: zone, state, last heartbeat and attached SRs, and enrolled keys\n"
      "that have not registered yet." },
    { "host", "remove", 1, 1, xs_manage_host_remove, "<host uuid or public key>",
      "Revoke a host: its key leaves the allow-list and its session is dropped.\n"
      "Asks for confirmation on a terminal; --yes skips it." },
    { "volume", "create", 0, -1, xs_manage_volume_create,
      "--flavor F --size S [--name N] [--request-id R] [--project P]",
      "Create a volume of flavor F and size S (bytes, or with a K, M, G or T suffix:\n"
      "powers of 1024). Placement is first-fit over the flavor's backends; `volume\n"
      "show` lists every attempt. The same --request-id always returns the same volume.\n"
      "--project: the owning project, as the Block Storage API sees it.\n"
      "Waits for the outcome (120 s unless --timeout is given)." },
    { "volume", "delete", 1, 1, xs_manage_volume_delete, "<uuid>",
      "Delete a volume and its VDI." },
    { "volume", "snapshot", 1, -1, xs_manage_volume_snapshot, "<uuid> [--name N]",
      "Snapshot a volume on its own backend (the SR must support VDI_SNAPSHOT)." },
    { "volume", "clone", 1, -1, xs_manage_volume_clone, "<uuid> [--name N]",
      "Clone a volume on its own backend (the SR must support VDI_CLONE)." },
    { "volume", "extend", 1, -1, xs_manage_volume_extend, "<uuid> --size S",
      "Grow a volume to size S (bytes, or with a K, M, G or T suffix, as for create;\n"
      "more than its size). Its SR must support VDI_RESIZE; the volume is `extending`\n"
      "meanwhile, then `available` with the new size, or `error_extending` and why." },
    { "volume", "list", 0, 3, xs_manage_volume_list, "[--all] [--project P]",
      "List volumes (--all: deleted ones too; --project: only that project's)." },
    { "volume", "show", 1, 1, xs_manage_volume_show, "<uuid>",
      "Show a volume, its placement attempts and its jobs." },
    { "volume", "connection", 1, 2, xs_manage_volume_connection, "<uuid> [--show-secrets]",
      "The connection info of a volume: sr_uuid, sr_type, vdi_uuid and the SR's\n"
      "device_config (secrets as ****** unless --show-secrets)." },
    { "volume", "orphans", 0, 0, xs_manage_volume_orphans, "",
      "VDIs xensm tagged that no volume records (left by a crash or a lost xapi reply),\n"
      "as the catalog's orphan sweep last saw them: zone, backend, SR, VDI, the volume\n"
      "its tag names, when first seen and why. Each is destroyed once seen for\n"
      "orphan_grace_ms; untagged VDIs are never touched." },
    { "catalog", "status", 0, 0, xs_manage_catalog_status, "",
      "The catalog's version, schema, agent endpoint and public key (give the key to\n"
      "every host agent as its catalog_key)." },
};

#define S_NCOMMANDS (sizeof s_commands / sizeof s_commands [0])

const xs_manage_command_t *
xs_manage_command_lookup (const char *category, const char *action)
{
    for (size_t i = 0; i < S_NCOMMANDS; i++)
        if (strcmp (s_commands [i].category, category) == 0
        &&  strcmp (s_commands [i].action, action) == 0)
            return &s_commands [i];
    return NULL;
}

/* ---------------------------------------------------------------------
   Help and usage
   --------------------------------------------------------------------- */

void
xs_manage_print_command_usage (FILE *stream, const xs_manage_command_t *c)
{
    fprintf (stream, "usage: %s [options] %s %s%s%s\n", XS_MANAGE_PROGRAM, c->category, c->action,
             *c->usage ? " " : "", c->usage);
}

static void
s_print_command_help (FILE *stream, const xs_manage_command_t *c)
{
    xs_manage_print_command_usage (stream, c);
    fprintf (stream, "\n%s\n", c->help);
}

/* The program's usage and its commands (only those of `category` when not
   NULL). */
static void
s_print_usage (FILE *stream, const char *category)
{
    fprintf (stream,
             "usage: %s [--endpoint E] [--json] [--yes] [--zone Z] [--timeout S] "
             "CATEGORY ACTION [ARGS...]\n"
             "       %s help [CATEGORY [ACTION]]\n"
             "\n"
             "Options (before the category):\n"
             "  --endpoint E  catalog admin endpoint (default: $XENSM_ADMIN_ENDPOINT, then the\n"
             "                catalog config's admin_endpoint, then %s); a list A,B\n"
             "                of several catalogd: the leader among them is used\n"
             "  --json        print results as JSON\n"
             "  --yes, -y     do not ask before creating a new SR or removing a host\n"
             "  --zone Z      zone of a new backend (default: the catalog's default_zone)\n"
             "  --timeout S   seconds to wait for the catalog (default %d; %d for volume\n"
             "                create, delete, snapshot, clone and extend, which wait for an\n"
             "                agent)\n"
             "  --help, -h    this help; `%s help CATEGORY ACTION` for one command\n"
             "A `--` right after the action makes the arguments that follow literal\n"
             "(`sm flavor_create -- --help \"a flavor named --help\"`).\n"
             "\n"
             "Commands (category and action accept a unique prefix):\n",
             XS_MANAGE_PROGRAM, XS_MANAGE_PROGRAM, XS_CATALOG_DEFAULT_ADMIN,
             XS_MANAGE_DEFAULT_TIMEOUT_MS / 1000, XS_MANAGE_VOLUME_TIMEOUT_MS / 1000,
             XS_MANAGE_PROGRAM);
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

/* True for the first row of each category. */
static bool
s_first_of_category (size_t i)
{
    return i == 0 || strcmp (s_commands [i].category, s_commands [i - 1].category) != 0;
}

/* Resolves the category `word` to its canonical name. Returns it, or NULL
   after printing a usage error on `err` (unknown or ambiguous). */
static const char *
s_match_category (FILE *err, const char *word)
{
    const char *exact = NULL, *match = NULL;
    size_t matches = 0;
    for (size_t i = 0; i < S_NCOMMANDS; i++) {
        const char *name = s_commands [i].category;
        if (!s_first_of_category (i))
            continue;
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
    fprintf (err, "%s: %s category '%s' (%s:", XS_MANAGE_PROGRAM, matches ? "ambiguous" : "unknown",
             word, matches ? "matches" : "known");
    for (size_t i = 0; i < S_NCOMMANDS; i++)
        if (s_first_of_category (i) && (!matches || s_prefix (word, s_commands [i].category)))
            fprintf (err, " %s", s_commands [i].category);
    fprintf (err, ")\n");
    return NULL;
}

/* Resolves `word` to an action of `category`; NULL after a usage error on
   `err`. */
static const xs_manage_command_t *
s_match_action (FILE *err, const char *category, const char *word)
{
    const xs_manage_command_t *exact = NULL, *match = NULL;
    size_t matches = 0;
    for (size_t i = 0; i < S_NCOMMANDS; i++) {
        const xs_manage_command_t *c = &s_commands [i];
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
    fprintf (err, "%s: %s action '%s' in category %s (%s:", XS_MANAGE_PROGRAM,
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
s_help (const xs_manage_io_t *io, int argc, char **argv)
{
    if (argc == 0) {
        s_print_usage (io->out, NULL);
        return 0;
    }
    if (argc > 2) {
        fprintf (io->err, "%s: help: expected at most a category and an action, got %d "
                 "argument(s)\n", XS_MANAGE_PROGRAM, argc);
        return 2;
    }
    const char *category = s_match_category (io->err, argv [0]);
    if (!category)
        return 2;
    if (argc == 1) {
        s_print_usage (io->out, category);
        return 0;
    }
    const xs_manage_command_t *command = s_match_action (io->err, category, argv [1]);
    if (!command)
        return 2;
    s_print_command_help (io->out, command);
    return 0;
}

/* ---------------------------------------------------------------------
   The run
   --------------------------------------------------------------------- */

/* Parses the global options (before the category) into ctx. Returns true
   with *first the index of the category word, or false when the run ends
   here (--help, --version, a bad option) with *rc its exit code. */
static bool
s_parse_globals (xs_manage_ctx_t *ctx, int argc, char **argv, int *first, int *rc)
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
    const xs_manage_io_t *io = ctx->io;
    int opt;
    *rc = 2;
    optind = 0;         /* GNU: start over, so a test can call us again */
    opterr = 0;
    while ((opt = getopt_long (argc, argv, "+yh", options, NULL)) != -1) {
        switch (opt) {
        case 'e': ctx->endpoint = optarg; break;
        case 'j': ctx->json = true; break;
        case 'y': ctx->yes = true; break;
        case 'z':
            if (!*optarg) {
                fprintf (io->err, "%s: --zone: empty zone\n", XS_MANAGE_PROGRAM);
                return false;
            }
            ctx->zone = optarg;
            break;
        case 't': {
            char *end = NULL;
            double seconds = strtod (optarg, &end);
            if (end == optarg || *end || !(seconds > 0) || seconds > 3600) {
                fprintf (io->err, "%s: --timeout '%s': expected seconds (0 < S <= 3600)\n",
                         XS_MANAGE_PROGRAM, optarg);
                return false;
            }
            ctx->timeout_ms = (int) (seconds * 1000);
            ctx->timeout_given = true;
            break;
        }
        case 'h':
            s_print_usage (io->out, NULL);
            *rc = 0;
            return false;
        case 'V':
            fprintf (io->out, "%s %s\n", XS_MANAGE_PROGRAM, XENSM_VERSION);
            *rc = 0;
            return false;
        default:
            if (optopt)
                fprintf (io->err, "%s: option -%c: unknown or missing its value\n",
                         XS_MANAGE_PROGRAM, optopt);
            else
                fprintf (io->err, "%s: option '%s': unknown or missing its value\n",
                         XS_MANAGE_PROGRAM, argv [optind - 1]);
            s_print_usage (io->err, NULL);
            return false;
        }
    }
    *first = optind;
    return true;
}

static bool
s_is_help (const char *arg)
{
    return strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0;
}

/* Resolves the words `CATEGORY ACTION ARGS...` (argc of them) to a command.
   Returns it, or NULL when the run ends here (help, a usage error) with *rc
   its exit code. */
static const xs_manage_command_t *
s_resolve (const xs_manage_io_t *io, int argc, char **argv, int *rc)
{
    *rc = 2;
    if (argc == 0) {
        s_print_usage (io->err, NULL);
        return NULL;
    }
    if (strcasecmp (argv [0], "help") == 0) {
        *rc = s_help (io, argc - 1, argv + 1);
        return NULL;
    }
    const char *category = s_match_category (io->err, argv [0]);
    if (!category)
        return NULL;
    if (argc < 2) {
        fprintf (io->err, "%s: %s: missing action\n", XS_MANAGE_PROGRAM, category);
        s_print_usage (io->err, category);
        return NULL;
    }
    if (s_is_help (argv [1])) {
        s_print_usage (io->out, category);
        *rc = 0;
        return NULL;
    }
    const xs_manage_command_t *command = s_match_action (io->err, category, argv [1]);
    if (!command)
        return NULL;
    /* After `--`, every argument is literal (a flavor may be named --help). */
    for (int i = 2; i < argc && strcmp (argv [2], "--") != 0; i++)
        if (s_is_help (argv [i])) {
            s_print_command_help (io->out, command);
            *rc = 0;
            return NULL;
        }
    return command;
}

/* Checks the argument count against the table. 0, or 2 after a usage error. */
static int
s_check_arity (const xs_manage_io_t *io, const xs_manage_command_t *command, int nargs)
{
    if (nargs >= command->min_args && (command->max_args < 0 || nargs <= command->max_args))
        return 0;
    fprintf (io->err, "%s: %s %s: expected ", XS_MANAGE_PROGRAM, command->category,
             command->action);
    if (command->max_args < 0)
        fprintf (io->err, "at least %d", command->min_args);
    else
    if (command->min_args == command->max_args)
        fprintf (io->err, "%d", command->min_args);
    else
        fprintf (io->err, "%d to %d", command->min_args, command->max_args);
    fprintf (io->err, " argument(s), got %d\n", nargs);
    xs_manage_print_command_usage (io->err, command);
    return 2;
}

/* The endpoint when --endpoint is not given: $XENSM_ADMIN_ENDPOINT, else
   admin_endpoint of the catalog config ($XENSM_CONFIG or the default path;
   a file that does not exist is no error), else the built-in default.
   Caller frees. */
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
        fprintf (err_stream, "%s: warning: %s (using the default endpoint)\n", XS_MANAGE_PROGRAM,
                 err.msg);
    char *endpoint = xs_strdup (xs_config_get (config, XS_CATALOG_SECTION, "admin_endpoint"));
    xs_config_destroy (&config);
    return endpoint;
}

int
xs_manage_run (int argc, char **argv, const xs_manage_io_t *io)
{
    xs_manage_ctx_t ctx = { .io = io, .timeout_ms = XS_MANAGE_DEFAULT_TIMEOUT_MS };
    char *endpoint = NULL;
    int first = 0;
    int rc = 2;
    if (!s_parse_globals (&ctx, argc, argv, &first, &rc))
        goto out;
    const xs_manage_command_t *command = s_resolve (io, argc - first, argv + first, &rc);
    if (!command)
        goto out;
    int nargs = argc - first - 2;
    char **args = argv + first + 2;
    if (nargs > 0 && strcmp (args [0], "--") == 0) {
        nargs--;
        args++;
    }
    rc = s_check_arity (io, command, nargs);
    if (rc)
        goto out;
    if (!ctx.endpoint) {
        endpoint = s_default_endpoint (io->err);
        ctx.endpoint = endpoint;
    }
    ctx.command = command;
    rc = command->handler (&ctx, nargs, args);
out:
    xs_manage_ctx_release (&ctx);
    free (endpoint);
    fflush (io->out);
    return rc;
}
