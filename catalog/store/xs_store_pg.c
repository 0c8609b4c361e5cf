/*  xs_store_pg: the PostgreSQL driver (xs_store_int.h) of the store. */
#include "xs_store_int.h"

static int
s_pg_open (xs_store_t *self, const xs_store_options_t *options, xs_err_t *err)
{
    (void) options;
    return xs_err_set (err, XS_EINVAL, "%s: PostgreSQL is not supported yet", self->path);
}

static void
s_pg_close (xs_store_t *self)
{
    (void) self;
}

const xs_sql_driver_t xs_sql_pg_driver = {
    .name = "PostgreSQL",
    .open = s_pg_open,
    .close = s_pg_close,
};
