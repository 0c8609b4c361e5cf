/*  xs_agent_watch: SR stats through event.from (see xs_agent_watch.h). */
#include "xs_agent_watch.h"

#include <stdlib.h>

#include "xs_agent_workers.h"
#include "xs_log.h"
#include "xs_mem.h"
#include "xs_xenapi.h"

struct _xs_agent_watch_t {
    xs_agent_workers_t *worker; /* one worker: the long poll            */
    zloop_t *loop;              /* while started, else NULL             */
    int retry_timer;            /* -1 when none                         */
    char *token;                /* the last event.from token, or NULL   */
    bool live;                  /* the last round succeeded             */
    bool running;               /* a round is queued or running         */
    bool warned;                /* "cannot watch" said once             */
    xs_agent_watch_fn *fn;
    void *fn_arg;
};

xs_agent_watch_t *
xs_agent_watch_new (const xs_executor_t *executor, void *executor_arg, xs_err_t *err)
{
    xs_agent_watch_t *self = xs_zalloc (sizeof *self);
    self->retry_timer = -1;
    self->worker = xs_agent_workers_new (1, executor, executor_arg, err);
    if (!self->worker)
        xs_agent_watch_destroy (&self);
    return self;
}

void
xs_agent_watch_destroy (xs_agent_watch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_agent_watch_t *self = *self_p;
    xs_agent_watch_stop (self);
    /* A poll may be waiting up to XS_AGENT_WATCH_S: end it now. */
    xs_xenapi_interrupt_waits (true);
    xs_agent_workers_destroy (&self->worker);
    xs_xenapi_interrupt_waits (false);
    free (self->token);
    free (self);
    *self_p = NULL;
}

/* Queues the next round, from the last token. */
static void
s_round (xs_agent_watch_t *self)
{
    json_t *args = xs_nn (json_pack ("{s:s, s:f}", "token", self->token ? self->token : "",
                                     "timeout", XS_AGENT_WATCH_S));
    xs_agent_job_t *job = xs_agent_job_new (XS_AGENT_JOB_STATS, NULL, XS_OP_SR_WATCH, args);
    json_decref (args);
    self->running = true;
    xs_agent_workers_enqueue (self->worker, &job);
}

static int
s_on_retry (zloop_t *loop, int timer_id, void *arg)
{
    xs_agent_watch_t *self = (xs_agent_watch_t *) arg;
    self->retry_timer = -1;
    if (self->loop && !self->running)
        s_round (self);
    return 0;
}

/* A round ended (xs_agent_done_fn): changes out, the next round in. */
static void
s_on_done (void *arg, xs_agent_job_t *job, bool ok, json_t *payload)
{
    xs_agent_watch_t *self = (xs_agent_watch_t *) arg;
    self->running = false;
    const char *token = json_string_value (json_object_get (payload, "token"));
    if (ok && token) {
        if (!self->live)
            xs_info ("SR stats: following xapi's events (event.from on class SR)");
        self->live = true;
        free (self->token);
        self->token = xs_strdup (token);
        const json_t *srs = json_object_get (payload, "srs");
        if (self->fn && json_array_size (srs) > 0)
            self->fn (self->fn_arg, srs);
        if (self->loop)
            s_round (self);
    }
    else {
        const char *reason = json_string_value (json_object_get (payload, "message"));
        if (!self->warned || self->live)
            xs_notice ("SR stats: cannot follow xapi's events (%s); polling, watching again "
                       "in %d s", reason ? reason : "no token", XS_AGENT_WATCH_RETRY_MS / 1000);
        self->warned = true;
        self->live = false;
        free (self->token);     /* a new start: every SR once more */
        self->token = NULL;
        if (self->loop)
            self->retry_timer = zloop_timer (self->loop, XS_AGENT_WATCH_RETRY_MS, 1, s_on_retry,
                                             self);
    }
    json_decref (payload);
    xs_agent_job_destroy (&job);
}

int
xs_agent_watch_start (xs_agent_watch_t *self, zloop_t *loop, xs_agent_watch_fn *fn, void *arg)
{
    self->fn = fn;
    self->fn_arg = arg;
    self->loop = loop;
    if (xs_agent_workers_watch (self->worker, loop, s_on_done, self))
        return -1;
    if (!self->running)
        s_round (self);
    return 0;
}

void
xs_agent_watch_stop (xs_agent_watch_t *self)
{
    if (!self->loop)
        return;
    if (self->retry_timer != -1)
        zloop_timer_end (self->loop, self->retry_timer);
    self->retry_timer = -1;
    xs_agent_workers_unwatch (self->worker, self->loop);
    self->loop = NULL;
    self->live = false;
}

bool
xs_agent_watch_live (xs_agent_watch_t *self)
{
    return self->live;
}
