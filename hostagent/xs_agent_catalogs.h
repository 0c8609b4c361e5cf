/*  xs_agent_catalogs: the catalogd an agent may register with, from its
    catalog_endpoint setting: one endpoint, or a list "A,B,..." of several
    catalogd on one database of which one leads (the others bind no agent
    socket). The agent talks to the current one and moves to the next, in
    order and round again, when the current one is silent or gone.

    Ownership: the caller owns the list (xs_agent_catalogs_destroy); the
    endpoints it returns are borrowed until then.
*/
#ifndef XS_AGENT_CATALOGS_H_INCLUDED
#define XS_AGENT_CATALOGS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _xs_agent_catalogs_t xs_agent_catalogs_t;

/* The endpoints of `list` (separated by commas and/or spaces), the first
   one current. Never NULL; an empty list has size 0 and current "". */
xs_agent_catalogs_t *xs_agent_catalogs_new (const char *list);

/* Frees; NULLs *self_p; idempotent. */
void xs_agent_catalogs_destroy (xs_agent_catalogs_t **self_p);

/* Number of endpoints. */
size_t xs_agent_catalogs_size (const xs_agent_catalogs_t *self);

/* The current endpoint, borrowed. */
const char *xs_agent_catalogs_current (const xs_agent_catalogs_t *self);

/* Makes the next endpoint current (after the last: the first). False, and
   nothing changes, when there is only one. */
bool xs_agent_catalogs_next (xs_agent_catalogs_t *self);

#endif
