/*  xs_store_cache: flavor and backend rows read once per transaction.

    A create reads its flavor (by label), the next backend of that flavor,
    the backend (with its device config), and, for its reply, the flavor
    again (by id). On PostgreSQL each read is a round trip on catalogd's
    single loop; the creates of one group commit mostly share these rows
    (bench/results.md, "3 catalog on PostgreSQL: where a create goes").
    So inside the caller's open transaction (xs_store_begin), the store
    keeps copies of what it read of these three tables and answers the same
    reads from them.

    Correctness first:
      - only inside a transaction the caller opened, never for a read in
        autocommit: the cache lives at most one group commit, so a change
        another catalogd committed is seen by the next one;
      - every statement that writes flavor, backend or backend_config
        (xs_sql_cache_touch, called by xs_sql_stmt) empties it, so a
        backend removed or a flavor changed through this store is seen by
        the very next read;
      - a savepoint or transaction rolled back empties it (what was read
        after a write may be undone);
      - nothing missing is cached: a row not found is asked again.
*/
#include "xs_mem.h"
#include "xs_store_int.h"

#include <stdlib.h>
#include <string.h>

#define S_FLAVORS  16
#define S_BACKENDS 64
#define S_NEXTS    64

typedef struct {
    int64_t flavor_id, after, next;
} s_next_t;

struct _xs_store_cache_t {
    xs_flavor_t *flavors [S_FLAVORS];
    size_t nflavors;
    xs_backend_t *backends [S_BACKENDS];
    size_t nbackends;
    s_next_t nexts [S_NEXTS];
    size_t nnexts;
};

static char *
s_dup (const char *text)
{
    return text ? xs_strdup (text) : NULL;
}

static xs_flavor_t *
s_flavor_dup (const xs_flavor_t *f)
{
    xs_flavor_t *c = xs_zalloc (sizeof *c);
    *c = *f;
    c->label = s_dup (f->label);
    c->description = s_dup (f->description);
    return c;
}

static xs_backend_t *
s_backend_dup (const xs_backend_t *b)
{
    xs_backend_t *c = xs_zalloc (sizeof *c);
    *c = *b;
    c->flavor_label = s_dup (b->flavor_label);
    c->zone = s_dup (b->zone);
    c->sr_type = s_dup (b->sr_type);
    c->name_label = s_dup (b->name_label);
    c->sr_uuid = s_dup (b->sr_uuid);
    c->error = s_dup (b->error);
    c->config = b->nconfig ? xs_zalloc (b->nconfig * sizeof *c->config) : NULL;
    for (size_t i = 0; i < b->nconfig; i++) {
        c->config [i].key = s_dup (b->config [i].key);
        c->config [i].value = s_dup (b->config [i].value);
    }
    return c;
}

/* The cache when reads may be answered from it now, else NULL. */
static xs_store_cache_t *
s_cache (xs_store_t *self)
{
    if (!self->in_txn || self->txn_lost || self->fenced)
        return NULL;
    if (!self->cache)
        self->cache = xs_zalloc (sizeof *self->cache);
    return self->cache;
}

void
xs_sql_cache_clear (xs_store_t *self)
{
    xs_store_cache_t *c = self->cache;
    if (!c)
        return;
    for (size_t i = 0; i < c->nflavors; i++)
        xs_flavor_destroy (&c->flavors [i]);
    for (size_t i = 0; i < c->nbackends; i++)
        xs_backend_destroy (&c->backends [i]);
    c->nflavors = c->nbackends = c->nnexts = 0;
}

void
xs_sql_cache_destroy (xs_store_t *self)
{
    xs_sql_cache_clear (self);
    free (self->cache);
    self->cache = NULL;
}

void
xs_sql_cache_touch (xs_store_t *self, xs_sql_id_t id)
{
    switch (id) {
        case XS_SQL_FLAVOR_INSERT: case XS_SQL_FLAVOR_DELETE:
        case XS_SQL_BACKEND_INSERT: case XS_SQL_CONFIG_INSERT: case XS_SQL_BACKEND_DELETE:
        case XS_SQL_BACKEND_SET_STATE: case XS_SQL_BACKEND_SET_SR:
        case XS_SQL_ROLLBACK: case XS_SQL_ROLLBACK_TO:
            xs_sql_cache_clear (self);
            break;
        default:
            break;
    }
}

xs_flavor_t *
xs_sql_cache_flavor (xs_store_t *self, const char *label, int64_t id)
{
    xs_store_cache_t *c = s_cache (self);
    for (size_t i = 0; c && i < c->nflavors; i++) {
        const xs_flavor_t *f = c->flavors [i];
        if (label ? strcmp (f->label, label) == 0 : f->id == id)
            return s_flavor_dup (f);
    }
    return NULL;
}

void
xs_sql_cache_put_flavor (xs_store_t *self, const xs_flavor_t *flavor)
{
    xs_store_cache_t *c = s_cache (self);
    if (c && flavor && c->nflavors < S_FLAVORS)
        c->flavors [c->nflavors++] = s_flavor_dup (flavor);
}

xs_backend_t *
xs_sql_cache_backend (xs_store_t *self, int64_t id)
{
    xs_store_cache_t *c = s_cache (self);
    for (size_t i = 0; c && i < c->nbackends; i++)
        if (c->backends [i]->id == id)
            return s_backend_dup (c->backends [i]);
    return NULL;
}

void
xs_sql_cache_put_backend (xs_store_t *self, const xs_backend_t *backend)
{
    xs_store_cache_t *c = s_cache (self);
    if (c && backend && c->nbackends < S_BACKENDS)
        c->backends [c->nbackends++] = s_backend_dup (backend);
}

bool
xs_sql_cache_next (xs_store_t *self, int64_t flavor_id, int64_t after, int64_t *next_p)
{
    xs_store_cache_t *c = s_cache (self);
    for (size_t i = 0; c && i < c->nnexts; i++)
        if (c->nexts [i].flavor_id == flavor_id && c->nexts [i].after == after) {
            *next_p = c->nexts [i].next;
            return true;
        }
    return false;
}

void
xs_sql_cache_put_next (xs_store_t *self, int64_t flavor_id, int64_t after, int64_t next)
{
    xs_store_cache_t *c = s_cache (self);
    if (c && c->nnexts < S_NEXTS)
        c->nexts [c->nnexts++] = (s_next_t) {flavor_id, after, next};
}
