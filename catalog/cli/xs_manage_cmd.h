/*  xs_manage_cmd: what every xensm-manage command handler works with.
    Private to catalog/cli/ (the public interface is xs_manage.h).

    xs_manage.c parses the global options and the command words, checks the
    argument count against the command table, then calls the command's
    handler with a context and the command's own arguments. The handlers
    live by category: xs_manage_sm.c (flavor_*, backend_*),
    xs_manage_volume.c (volume *), xs_manage_host.c (host *, catalog status).
    They talk to the catalog and report errors only through the helpers
    here, so every command reports the same way: one line on stderr (and an
    error object on stdout with --json), and the exit code of the error's
    kind (xs_errkind_exit_code; 1 when the kind has none).

    Ownership: the context lives on xs_manage_run's stack. It borrows io,
    endpoint and zone; it owns `client`, which xs_manage_call connects on
    first use and xs_manage_run destroys.

    Several catalogd (docs/INSTALL.md): `endpoint` may be a list "A,B,...".
    The first call pings each in order (3 s at most each) and talks to the
    leader: the one that says it leads, or the one a follower names; a
    command answered `not_leader` (it was not run) is sent again to the
    leader the answer names (or, when it names none, after a second to the
    endpoint or list again), twice at most.
*/
#ifndef XS_MANAGE_CMD_H_INCLUDED
#define XS_MANAGE_CMD_H_INCLUDED

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "xs_admin_client.h"
#include "xs_err.h"
#include "xs_manage.h"

#define XS_MANAGE_PROGRAM "xensm-manage"
/* How long a command waits for the catalog, unless --timeout is given. */
#define XS_MANAGE_DEFAULT_TIMEOUT_MS 10000
/* ... and a volume change, which waits for an agent (xs_manage_wait_long). */
#define XS_MANAGE_VOLUME_TIMEOUT_MS 120000
/* Largest file `host enroll` reads: a czmq public certificate is ~300 bytes. */
#define XS_MANAGE_CERT_MAX 4096

typedef struct xs_manage_command xs_manage_command_t;

/* One invocation's settings (the global options) and state. */
typedef struct {
    const xs_manage_io_t *io;
    const char *endpoint;
    const char *zone;               /* --zone, or NULL                        */
    bool json;                      /* --json                                 */
    bool yes;                       /* --yes                                  */
    int timeout_ms;
    bool timeout_given;             /* --timeout: else volume changes wait longer */
    const xs_manage_command_t *command;     /* the one being run            */
    xs_admin_client_t *client;      /* connected on first use                 */
    char *chosen;                   /* the endpoint `client` talks to (owned) */
} xs_manage_ctx_t;

/* Ends an invocation: its connection and the endpoint it chose go. */
void xs_manage_ctx_release (xs_manage_ctx_t *ctx);

/* Runs a command with its `argc` arguments (their count already checked
   against the table). Returns the exit code. */
typedef int (xs_manage_handler_fn) (xs_manage_ctx_t *ctx, int argc, char **argv);

/* A row of the command table (xs_manage.c). */
struct xs_manage_command {
    const char *category;
    const char *action;
    int min_args;
    int max_args;                   /* -1: no limit                           */
    xs_manage_handler_fn *handler;
    const char *usage;              /* the arguments                          */
    const char *help;
};

/* ---------------------------------------------------------------------
   The handlers (one per row of the command table)
   --------------------------------------------------------------------- */

xs_manage_handler_fn xs_manage_flavor_create, xs_manage_flavor_list, xs_manage_flavor_delete,
    xs_manage_backend_add, xs_manage_backend_list, xs_manage_backend_remove;
xs_manage_handler_fn xs_manage_volume_create, xs_manage_volume_delete,
    xs_manage_volume_snapshot, xs_manage_volume_clone, xs_manage_volume_extend,
    xs_manage_volume_list,
    xs_manage_volume_show, xs_manage_volume_connection, xs_manage_volume_orphans;
xs_manage_handler_fn xs_manage_host_enroll, xs_manage_host_list, xs_manage_host_remove,
    xs_manage_catalog_status;

/* ---------------------------------------------------------------------
   The command table (xs_manage.c)
   --------------------------------------------------------------------- */

/* The command named exactly `category` `action`, or NULL. Borrowed (static). */
const xs_manage_command_t *xs_manage_command_lookup (const char *category, const char *action);

/* Prints "usage: xensm-manage [options] CATEGORY ACTION ARGS" for `command`. */
void xs_manage_print_command_usage (FILE *stream, const xs_manage_command_t *command);

/* ---------------------------------------------------------------------
   Helpers for the handlers (xs_manage_cmd.c)
   --------------------------------------------------------------------- */

/* Reports an error that ends the command: "xensm-manage: <message>" on
   stderr and, with --json, {"error": {"kind", "message"}} on stdout.
   Returns the exit code for its kind (1 when the kind has none). */
int xs_manage_report (xs_manage_ctx_t *ctx, const xs_err_t *err);

/* Reports a usage error of the running command: "xensm-manage: CATEGORY
   ACTION: <message>" and the command's usage line on stderr. Returns 2. */
int xs_manage_usage_error (xs_manage_ctx_t *ctx, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Calls `cmd` with *args_p (taken, NULLed; NULL sends {}), connecting to the
   catalog on first use. Returns the result (caller decrefs) or NULL with
   *err set. */
json_t *xs_manage_call (xs_manage_ctx_t *ctx, const char *cmd, json_t **args_p, xs_err_t *err);

/* Prints a command's result for a person; argv is the command's arguments. */
typedef void (xs_manage_print_fn) (xs_manage_ctx_t *ctx, json_t *result, char **argv);

/* The common path of a command: calls `cmd` with *args_p (taken, NULLed; a
   NULL *args_p means the arguments were not UTF-8 text, reported as
   "<cmd>: <bad_args> must be UTF-8 text" without calling), then prints the
   result as JSON with --json, else with `print`. Returns the exit code. */
int xs_manage_call_print (xs_manage_ctx_t *ctx, const char *cmd, json_t **args_p,
                          const char *bad_args, xs_manage_print_fn *print, char **argv);

/* xs_manage_call_print that also hands back the result it printed (caller
   decrefs): NULL when the call failed, reported, with *rc its exit code. */
json_t *xs_manage_call_shown (xs_manage_ctx_t *ctx, const char *cmd, json_t **args_p,
                              const char *bad_args, xs_manage_print_fn *print, char **argv,
                              int *rc);

/* Stores one option of a command (xs_manage_parse_options); `state` is the
   handler's. Returns 0, or non-zero to stop with a usage error. */
typedef int (xs_manage_option_fn) (int opt, const char *value, void *state);

/* Parses the options after the action with getopt_long (`longopts`),
   handing each to on_option. The positional arguments left are moved to
   argv [0 .. *npos). Returns 0, or 2 after a usage error. */
int xs_manage_parse_options (xs_manage_ctx_t *ctx, int argc, char **argv,
                             const struct option *longopts, xs_manage_option_fn *on_option,
                             void *state, int *npos);

/* For a volume change, which waits for an agent: the longer timeout,
   unless --timeout was given. */
void xs_manage_wait_long (xs_manage_ctx_t *ctx);

/* Asks before a change that cannot be undone. --yes answers yes. Without a
   terminal it refuses: "CATEGORY ACTION: refusing<refusing> without
   confirmation: not on a terminal (pass --yes to confirm); nothing was
   <undone>". On a terminal it prints `question` (may be NULL), then
   "Proceed? (y/n) ", and reads the answer: y or yes goes on. Returns 0 to
   go on, 2 when refused, 1 when not confirmed. */
int xs_manage_confirm (xs_manage_ctx_t *ctx, const char *refusing, const char *question,
                       const char *undone);

#endif
