/*  xensm-manage: the catalog's admin CLI. The logic is xs_manage. */
#include "xs_manage.h"

#include <stdio.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
    xs_manage_io_t io = {
        .in = stdin, .out = stdout, .err = stderr,
        .interactive = isatty (STDIN_FILENO) == 1,
    };
    return xs_manage_run (argc, argv, &io);
}
