/*  xs_manage_cmd: calling the catalog, reporting errors, options after the
    action and confirmation prompts, for every xensm-manage command. */
#include "xs_manage_cmd.h"
#include "xs_manage_print.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

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

json_t *
xs_manage_call (xs_manage_ctx_t *ctx, const char *cmd, json_t **args_p, xs_err_t *err)
{
    if (!ctx->client) {
        ctx->client = xs_admin_client_new (ctx->endpoint, ctx->timeout_ms, err);
        if (!ctx->client) {
            json_decref (*args_p);
            *args_p = NULL;
            return NULL;
        }
    }
    return xs_admin_client_call (ctx->client, cmd, args_p, err);
}

int
xs_manage_call_print (xs_manage_ctx_t *ctx, const char *cmd, json_t **args_p,
                      const char *bad_args, xs_manage_print_fn *print, char **argv)
{
    xs_err_t err;
    if (!*args_p) {
        xs_err_set (&err, XS_EINVAL, "%s: %s must be UTF-8 text", cmd, bad_args);
        return xs_manage_report (ctx, &err);
    }
    json_t *result = xs_manage_call (ctx, cmd, args_p, &err);
    if (!result)
        return xs_manage_report (ctx, &err);
    if (ctx->json)
        xs_manage_print_json (ctx->io->out, result);
    else
        print (ctx, result, argv);
    json_decref (result);
    return 0;
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
