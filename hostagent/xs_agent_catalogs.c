/*  xs_agent_catalogs: the catalogd an agent may register with. */
#include "xs_agent_catalogs.h"

#include <stdlib.h>
#include <string.h>

#include "xs_mem.h"

struct _xs_agent_catalogs_t {
    char **endpoints;
    size_t size, current;
};

xs_agent_catalogs_t *
xs_agent_catalogs_new (const char *list)
{
    xs_agent_catalogs_t *self = xs_zalloc (sizeof *self);
    char *copy = xs_strdup (list ? list : ""), *save = NULL;
    for (char *e = strtok_r (copy, ", ", &save); e; e = strtok_r (NULL, ", ", &save)) {
        self->endpoints = xs_realloc (self->endpoints, (self->size + 1) * sizeof (char *));
        self->endpoints [self->size++] = xs_strdup (e);
    }
    free (copy);
    return self;
}

void
xs_agent_catalogs_destroy (xs_agent_catalogs_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_agent_catalogs_t *self = *self_p;
    for (size_t i = 0; i < self->size; i++)
        free (self->endpoints [i]);
    free (self->endpoints);
    free (self);
    *self_p = NULL;
}

size_t
xs_agent_catalogs_size (const xs_agent_catalogs_t *self)
{
    return self->size;
}

const char *
xs_agent_catalogs_current (const xs_agent_catalogs_t *self)
{
    return self->size ? self->endpoints [self->current] : "";
}

bool
xs_agent_catalogs_next (xs_agent_catalogs_t *self)
{
    if (self->size < 2)
        return false;
    self->current = (self->current + 1) % self->size;
    return true;
}
