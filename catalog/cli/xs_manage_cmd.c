/*  xs_manage_cmd: calling the catalog, reporting errors, options after the
    action and confirmation prompts, for every xensm-manage command. */
#include "xs_manage_cmd.h"
#include "xs_manage_print.h"
#include "xs_mem.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---------------------------------------------------------------------
   Errors
   --------------------------------------------------------------------- */

int
xs_manage_report (xs_manage_ctx_t *ctx, const xs_err_t *err)
{
    fprintf (ctx->io->err, "%s: %s\n", XS_MANAGE_PROGRAM, err->msg);
    if (ctx->json) {
        json_t *obj = json_pack ("{s:{s:s, s:s}}", "error", "kind", xs_errkind_name (err->kind),
                                 "message", err->msg);
        if (obj) {
            xs_manage_print_json (ctx->io->out, obj);
            json_decref (obj);
        }
    }
    int code = xs_errkind_exit_code (err->kind);
    return code ? code : 1;
}

int
xs_manage_usage_error (xs_manage_ctx_t *ctx, const char *fmt, ...)
{
    const xs_manage_command_t *c = ctx->command;
    va_list ap;
    va_start (ap, fmt);
    fprintf (ctx->io->err, "%s: %s %s: ", XS_MANAGE_PROGRAM, c->category, c->action);
    vfprintf (ctx->io->err, fmt, ap);
    fputc ('\n', ctx->io->err);
    va_end (ap);
    xs_manage_print_command_usage (ctx->io->err, c);
    return 2;
}

/* ---------------------------------------------------------------------
   Calling the catalog
   --------------------------------------------------------------------- */

/* How long a ping of one catalogd of a list may take. */
#define S_PING_MS 3000
/* The pause before asking again when no leader is named. */
#define S_AGAIN_MS 1000

/* Pings `endpoint` briefly: the leader's admin endpoint (caller frees) when
   it leads or names who does, else NULL with *err. */
static char *
s_leader_via (xs_manage_ctx_t *ctx, const char *endpoint, xs_err_t *err)
{
    xs_admin_client_t *client = xs_admin_client_new (
        endpoint, ctx->timeout_ms < S_PING_MS ? ctx->timeout_ms : S_PING_MS, err);
    json_t *result = client ? xs_admin_client_call (client, "ping", NULL, err) : NULL;
    xs_admin_client_destroy (&client);
    if (!result)
        return NULL;
    const char *role = json_string_value (json_object_get (result, "role"));
    const char *leader = json_string_value (
        json_object_get (json_object_get (result, "leader"), "admin_endpoint"));
    char *found = NULL;
    if (!role || strcmp (role, "follower") != 0)
        found = xs_strdup (endpoint);
    else
    if (leader && *leader)
        found = xs_strdup (leader);
    else
        xs_err_set (err, XS_ENOTLEADER, "%s: does not lead, and no catalogd does at the "
                    "moment", endpoint);
    json_decref (result);
    return found;
}

/* The endpoint to talk to: ctx->endpoint, or the leader of a list. */
static char *
s_choose (xs_manage_ctx_t *ctx, xs_err_t *err)
{
    if (!strchr (ctx->endpoint, ','))
        return xs_strdup (ctx->endpoint);
    char *list = xs_strdup (ctx->endpoint), *save = NULL, *found = NULL;
    for (char *e = strtok_r (list, ", ", &save); e && !found; e = strtok_r (NULL, ", ", &save))
        found = s_leader_via (ctx, e, err);
    free (list);
    if (!found)
        xs_err_prefix (err, "no catalogd of %s leads", ctx->endpoint);
    return found;
}

/* The leader's admin endpoint a not_leader message names, or NULL. */
static char *
s_named_leader (const char *msg)
{
    const char *at = strstr (msg, "admin_endpoint=");
    if (!at)
        return NULL;
    at += strlen ("admin_endpoint=");
    size_t n = strcspn (at, " ");
    return n ? xs_strndup (at, n) : NULL;
}

void
xs_manage_ctx_release (xs_manage_ctx_t *ctx)
{
    xs_admin_client_destroy (&ctx->client);
    free (ctx->chosen);
    ctx->chosen = NULL;
}

json_t *
xs_manage_call (xs_manage_ctx_t *ctx, const char *cmd, json_t **args_p, xs_err_t *err)
{
    xs_err_t local;
    if (!err)
        err = &local;
    json_t *args = *args_p, *result = NULL;
    *args_p = NULL;
    for (int hop = 0; hop < 3; hop++) {
        if (!ctx->chosen && !(ctx->chosen = s_choose (ctx, err)))
            break;
        if (!ctx->client
        &&  !(ctx->client = xs_admin_client_new (ctx->chosen, ctx->timeout_ms, err)))
            break;
        json_t *copy = args ? json_incref (args) : NULL;
        result = xs_admin_client_call (ctx->client, cmd, &copy, err);
        if (result || err->kind != XS_ENOTLEADER)
            break;
        /* Not run there: to the leader it names; when it names none (a
           fenced leader, a takeover under way), ask again in a moment. */
        char *next = s_named_leader (err->msg);
        if (!next)
            usleep (S_AGAIN_MS * 1000);
        xs_admin_client_destroy (&ctx->client);
        free (ctx->chosen);
        ctx->chosen = next;
    }
    json_decref (args);
    return result;
}

json_t *
xs_manage_call_shown (xs_manage_ctx_t *ctx, const char *cmd, json_t **args_p,
                      const char *bad_args, xs_manage_print_fn *print, char **argv, int *rc)
{
    xs_err_t err;
    *rc = 0;
    if (!*args_p) {
        xs_err_set (&err, XS_EINVAL, "%s: %s must be UTF-8 text", cmd, bad_args);
        *rc = xs_manage_report (ctx, &err);
        return NULL;
    }
    json_t *result = xs_manage_call (ctx, cmd, args_p, &err);
    if (!result) {
        *rc = xs_manage_report (ctx, &err);
        return NULL;
    }
    if (ctx->json)
        xs_manage_print_json (ctx->io->out, result);
    else
        print (ctx, result, argv);
    return result;
}

int
xs_manage_call_print (xs_manage_ctx_t *ctx, const char *cmd, json_t **args_p,
                      const char *bad_args, xs_manage_print_fn *print, char **argv)
{
    int rc;
    json_decref (xs_manage_call_shown (ctx, cmd, args_p, bad_args, print, argv, &rc));
    return rc;
}

void
xs_manage_wait_long (xs_manage_ctx_t *ctx)
{
    if (!ctx->timeout_given)
        ctx->timeout_ms = XS_MANAGE_VOLUME_TIMEOUT_MS;
}

/* ---------------------------------------------------------------------
   Options after the action (`volume create --flavor F ...`)
   --------------------------------------------------------------------- */

int
xs_manage_parse_options (xs_manage_ctx_t *ctx, int argc, char **argv,
                         const struct option *longopts, xs_manage_option_fn *on_option,
                         void *state, int *npos)
{
    const xs_manage_command_t *c = ctx->command;
    /* getopt wants a program name in front: the action word is there. */
    char **av = argv - 1;
    int ac = argc + 1;
    int opt;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long (ac, av, "", longopts, NULL)) != -1) {
        if (opt == '?' || opt == ':') {
            fprintf (ctx->io->err, "%s: %s %s: option '%s': unknown or missing its value\n",
                     XS_MANAGE_PROGRAM, c->category, c->action, av [optind - 1]);
            xs_manage_print_command_usage (ctx->io->err, c);
            return 2;
        }
        if (on_option (opt, optarg, state))
            return 2;
    }
    /* GNU getopt moved the positional arguments to the end. */
    *npos = 0;
    for (int i = optind; i < ac; i++)
        argv [(*npos)++] = av [i];
    return 0;
}

/* ---------------------------------------------------------------------
   Confirmation
   --------------------------------------------------------------------- */

int
xs_manage_confirm (xs_manage_ctx_t *ctx, const char *refusing, const char *question,
                   const char *undone)
{
    const xs_manage_command_t *c = ctx->command;
    FILE *err = ctx->io->err;
    if (ctx->yes)
        return 0;
    if (!ctx->io->interactive) {
        fprintf (err, "%s: %s %s: refusing%s without confirmation: not on a terminal "
                      "(pass --yes to confirm); nothing was %s\n",
                 XS_MANAGE_PROGRAM, c->category, c->action, refusing, undone);
        return 2;
    }
    if (question)
        fputs (question, err);
    fprintf (err, "Proceed? (y/n) ");
    fflush (err);
    char answer [64] = "";
    if (!fgets (answer, sizeof answer, ctx->io->in))
        answer [0] = '\0';
    answer [strcspn (answer, "\r\n")] = '\0';
    if (strcasecmp (answer, "y") == 0 || strcasecmp (answer, "yes") == 0)
        return 0;
    fprintf (err, "%s: %s %s: not confirmed; nothing was %s\n", XS_MANAGE_PROGRAM,
             c->category, c->action, undone);
    return 1;
}
