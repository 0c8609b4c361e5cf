/*  xs_batch: group commit for the catalog daemon. */
#include "xs_batch.h"

#include <string.h>

#include "xs_log.h"
#include "xs_mem.h"

typedef struct {
    xs_batch_fn *fn;
    void *arg;
} s_action_t;

struct _xs_batch_t {
    xs_store_t *store;
    zloop_t *loop;
    int timer;                  /* flush timer or -1 */
    s_action_t *actions;
    size_t nactions, cap;
    bool flushing;
};

xs_batch_t *
xs_batch_new (xs_store_t *store, zloop_t *loop)
{
    xs_batch_t *self = xs_zalloc (sizeof *self);
    self->store = store;
    self->loop = loop;
    self->timer = -1;
    return self;
}

void
xs_batch_destroy (xs_batch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_batch_t *self = *self_p;
    xs_batch_flush (self);
    free (self->actions);
    free (self);
    *self_p = NULL;
}

static int
s_on_flush (zloop_t *loop, int timer_id, void *arg)
{
    xs_batch_t *self = (xs_batch_t *) arg;
    self->timer = -1;
    xs_batch_flush (self);
    return 0;
}

static void
s_arm (xs_batch_t *self)
{
    if (self->loop && self->timer < 0)
        self->timer = zloop_timer (self->loop, 0, 1, s_on_flush, self);
}

int
xs_batch_open (xs_batch_t *self, xs_err_t *err)
{
    s_arm (self);
    if (xs_store_in_transaction (self->store))
        return 0;
    return xs_store_begin (self->store, err);
}

void
xs_batch_defer (xs_batch_t *self, xs_batch_fn *fn, void *arg)
{
    if (self->nactions == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 64;
        self->actions = xs_realloc (self->actions, self->cap * sizeof *self->actions);
    }
    self->actions [self->nactions++] = (s_action_t) {fn, arg};
    s_arm (self);
}

int
xs_batch_flush (xs_batch_t *self)
{
    if (self->flushing)
        return 0;
    self->flushing = true;
    if (self->timer >= 0) {
        zloop_timer_end (self->loop, self->timer);
        self->timer = -1;
    }
    int rc = 0;
    if (xs_store_in_transaction (self->store)) {
        xs_err_t err;
        if (xs_store_commit (self->store, &err)) {
            xs_error ("catalog store: group commit failed, its changes are lost: %s", err.msg);
            rc = -1;
        }
    }
    /* Run the actions of this commit only: one that writes and defers more
       leaves its own for the next commit. */
    size_t n = self->nactions;
    for (size_t i = 0; i < n; i++) {
        s_action_t a = self->actions [i];
        a.fn (a.arg, rc == 0);
    }
    if (self->nactions > n)
        memmove (self->actions, self->actions + n, (self->nactions - n) * sizeof *self->actions);
    self->nactions -= n;
    self->flushing = false;
    if (self->nactions || xs_store_in_transaction (self->store))
        s_arm (self);           /* an action wrote: commit that next time round */
    return rc;
}

