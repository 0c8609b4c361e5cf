/*  xs_manage: the admin CLI, `xensm-manage [options] CATEGORY ACTION ARGS...`.

    Every command lives in ONE static table {category, action, min_args,
    max_args, handler, usage, help}: dispatch, argument-count checks, the
    usage lines and `--help` all come from it. Category and action accept a
    case-insensitive unique prefix (an exact name always wins); an ambiguous
    prefix is a usage error that lists the matches.

    Output: nova-manage's table layout, or JSON with --json. Exit codes:
    0 success, 1 the operation failed (including "no reply from the
    catalog"), 2 usage error or not found (xs_errkind_exit_code).

    The endpoint is --endpoint, else $XENSM_ADMIN_ENDPOINT, else
    admin_endpoint from the catalog config file ($XENSM_CONFIG, default
    /etc/xensm/catalog.cfg, when it exists), else the built-in default.
*/
#ifndef XS_MANAGE_H_INCLUDED
#define XS_MANAGE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *in;               /* answers to the backend_add prompt          */
    FILE *out;              /* results                                    */
    FILE *err;              /* errors, warnings and the prompt            */
    bool interactive;       /* `in` is a terminal: the prompt may be asked */
} xs_manage_io_t;

/* Runs one xensm-manage invocation: argv as main's (argv [0] is the
   program). argv and io are borrowed; nothing stays allocated after the
   return, so a test may call it many times. Returns the process exit code. */
int xs_manage_run (int argc, char **argv, const xs_manage_io_t *io);

/* Parses a volume size: decimal bytes, or with a suffix K, M, G, T (also
   KiB..TiB, any case; powers of 1024) or B. Refuses 0, signs, spaces,
   fractions and anything over INT64_MAX bytes. 0 with *bytes, or -1. */
int xs_manage_parse_size (const char *text, int64_t *bytes);

#endif
