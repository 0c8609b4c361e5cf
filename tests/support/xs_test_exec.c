/*  xs_test_exec: a scripted executor for agent tests (see xs_test_exec.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xs_mem.h"
#include "tests/support/xs_test_exec.h"

struct _xs_test_exec_t {
    xs_test_script_fn *script;
    void *arg;
    pthread_mutex_t lock;
    pthread_cond_t changed;     /* held, waiting or released             */
    char *held;                 /* the held volume, or NULL              */
    int waiting;                /* held calls waiting now                */
    int calls [XS_OP_COUNT];
};

xs_test_exec_t *
xs_test_exec_new (xs_test_script_fn *script, void *arg)
{
    xs_test_exec_t *self = xs_zalloc (sizeof *self);
    self->script = script;
    self->arg = arg;
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->changed, NULL);
    return self;
}

void
xs_test_exec_destroy (xs_test_exec_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_test_exec_t *self = *self_p;
    xs_test_exec_release (self);
    pthread_cond_destroy (&self->changed);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

int
xs_test_exec_calls (xs_test_exec_t *self, xs_op_t op)
{
    pthread_mutex_lock (&self->lock);
    int total = 0;
    for (int i = 0; i < XS_OP_COUNT; i++)
        if (op == XS_OP_NONE || op == (xs_op_t) i)
            total += self->calls [i];
    pthread_mutex_unlock (&self->lock);
    return total;
}

void
xs_test_exec_hold (xs_test_exec_t *self, const char *volume)
{
    pthread_mutex_lock (&self->lock);
    free (self->held);
    self->held = xs_strdup (volume);
    pthread_mutex_unlock (&self->lock);
}

bool
xs_test_exec_wait_held (xs_test_exec_t *self, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime (CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long) (timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock (&self->lock);
    int rc = 0;
    while (self->waiting == 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait (&self->changed, &self->lock, &deadline);
    bool waiting = self->waiting > 0;
    pthread_mutex_unlock (&self->lock);
    return waiting;
}

bool
xs_test_exec_holding (xs_test_exec_t *self)
{
    pthread_mutex_lock (&self->lock);
    bool waiting = self->waiting > 0;
    pthread_mutex_unlock (&self->lock);
    return waiting;
}

void
xs_test_exec_release (xs_test_exec_t *self)
{
    pthread_mutex_lock (&self->lock);
    free (self->held);
    self->held = NULL;
    pthread_cond_broadcast (&self->changed);
    pthread_mutex_unlock (&self->lock);
}

/* ---------------------------------------------------------------------
   The executor
   --------------------------------------------------------------------- */

static void *
s_open (void *arg, xs_err_t *err)
{
    return arg;
}

static void
s_close (void **ctx_p)
{
    *ctx_p = NULL;
}

/* True when the call names the held volume. Called with the lock held. */
static bool
s_is_held (xs_test_exec_t *self, const json_t *args)
{
    if (!self->held)
        return false;
    const char *keys [] = { "volume_uuid", "new_volume_uuid" };
    for (size_t i = 0; i < 2; i++) {
        const char *volume = json_string_value (json_object_get (args, keys [i]));
        if (volume && strcmp (volume, self->held) == 0)
            return true;
    }
    return false;
}

static json_t *
s_run (void *ctx, xs_op_t op, const json_t *args, xs_err_t *err)
{
    xs_test_exec_t *self = (xs_test_exec_t *) ctx;
    pthread_mutex_lock (&self->lock);
    if (s_is_held (self, args)) {
        self->waiting++;
        pthread_cond_broadcast (&self->changed);
        while (s_is_held (self, args))
            pthread_cond_wait (&self->changed, &self->lock);
        self->waiting--;
    }
    if (op > XS_OP_NONE && op < XS_OP_COUNT)
        self->calls [op]++;
    json_t *result = self->script (self->arg, op, args, err);
    pthread_mutex_unlock (&self->lock);
    return result;
}

const xs_executor_t xs_test_executor = { "test", s_open, s_close, s_run };
