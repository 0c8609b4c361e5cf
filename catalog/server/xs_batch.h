/*  xs_batch: group commit for the catalog daemon.

    Handlers that change the store call xs_batch_open () first: it starts a
    store transaction when none is open and arms a zero-delay zloop timer, so
    every write made while the loop handles the messages that are ready now
    lands in ONE transaction, committed (synchronous=FULL) when the loop comes
    round. Whatever must wait for durability (sending work to an agent,
    answering a client) is handed to xs_batch_defer () and runs right after
    the commit, in the order deferred, told whether the commit succeeded.

    Ownership: the batch borrows the store and the loop; both outlive it.
*/
#ifndef XS_BATCH_H_INCLUDED
#define XS_BATCH_H_INCLUDED

#include <stdbool.h>
#include <czmq.h>

#include "xs_err.h"
#include "xs_store.h"

typedef struct _xs_batch_t xs_batch_t;

/* Runs after the commit; `committed` is false when it failed (the writes
   are then lost and the action should answer with an error instead). The
   function owns `arg` (free it in fn). */
typedef void (xs_batch_fn) (void *arg, bool committed);

/* New batch over store and loop (NULL loop: flush only when asked). */
xs_batch_t *xs_batch_new (xs_store_t *store, zloop_t *loop);

/* Flushes what is pending, then frees; NULLs *self_p; idempotent. */
void xs_batch_destroy (xs_batch_t **self_p);

/* Makes sure a transaction is open and a flush is scheduled. 0 or -1. */
int xs_batch_open (xs_batch_t *self, xs_err_t *err);

/* Queues fn (arg, committed) to run after the next commit. When no
   transaction is open it runs at the next flush all the same. */
void xs_batch_defer (xs_batch_t *self, xs_batch_fn *fn, void *arg);

/* Commits now and runs the deferred actions. Returns 0, or -1 when the
   commit failed (the actions then ran with committed = false). */
int xs_batch_flush (xs_batch_t *self);

#endif
