/*  xs_agent_workers: the agent's worker pool (see xs_agent_workers.h). */
#include "xs_agent_workers.h"

#include <stdlib.h>

#include "xs_log.h"
#include "xs_mem.h"

typedef struct {
    zactor_t *actor;
    xs_agent_job_t *job;        /* running job, or NULL when idle */
} s_worker_t;

/* What every worker thread reads (never writes). */
typedef struct {
    const xs_executor_t *executor;
    void *executor_arg;
} s_worker_args_t;

struct _xs_agent_workers_t {
    s_worker_t *workers;
    int count;
    s_worker_args_t wargs;
    zlist_t *queue;             /* xs_agent_job_t * waiting for a worker */
    int busy;                   /* requests queued or running            */
    xs_agent_done_fn *done;
    void *done_arg;
};

/* ---------------------------------------------------------------------
   Jobs
   --------------------------------------------------------------------- */

xs_agent_job_t *
xs_agent_job_new (xs_agent_jobkind_t kind, const char *id, xs_op_t op, const json_t *args)
{
    xs_agent_job_t *job = xs_zalloc (sizeof *job);
    job->kind = kind;
    job->id = xs_strdup (id);
    job->op = op;
    job->args = args ? xs_nn (json_dumps (args, JSON_COMPACT)) : xs_strdup ("{}");
    if (kind == XS_AGENT_JOB_REQUEST) {
        /* The volume it makes (a snapshot's or clone's new one) or removes. */
        const char *volume = json_string_value (json_object_get (args, "new_volume_uuid"));
        if (!volume)
            volume = json_string_value (json_object_get (args, "volume_uuid"));
        job->volume = xs_strdup (volume);
    }
    return job;
}

void
xs_agent_job_destroy (xs_agent_job_t **job_p)
{
    if (job_p && *job_p) {
        free ((*job_p)->id);
        free ((*job_p)->args);
        free ((*job_p)->volume);
        free (*job_p);
        *job_p = NULL;
    }
}

/* ---------------------------------------------------------------------
   A worker thread: runs one job at a time through the executor
   --------------------------------------------------------------------- */

/* The executor's answer as the pipe carries it: the result object's text,
   or {kind, message} when it failed. Sets *ok. Caller frees. */
static char *
s_answer_text (json_t *value, xs_op_t op, xs_err_t *err, bool *ok)
{
    if (value && json_is_object (value)) {
        *ok = true;
        return xs_nn (json_dumps (value, JSON_COMPACT));
    }
    *ok = false;
    if (value)
        xs_err_set (err, XS_EINTERNAL, "%s: executor result is not an object", xs_op_name (op));
    else
    if (err->kind == XS_OK)
        xs_err_set (err, XS_EINTERNAL, "%s: executor gave no result", xs_op_name (op));
    json_t *e = json_pack ("{s:s, s:s}", "kind", xs_errkind_name (err->kind), "message", err->msg);
    if (!e)
        e = xs_nn (json_pack ("{s:s, s:s}", "kind", xs_errkind_name (err->kind),
                              "message", "failed (message not UTF-8)"));
    char *text = xs_nn (json_dumps (e, JSON_COMPACT));
    json_decref (e);
    return text;
}

static void
s_worker_actor (zsock_t *pipe, void *arg)
{
    s_worker_args_t *wa = (s_worker_args_t *) arg;
    xs_err_t err;
    void *ctx = wa->executor->open (wa->executor_arg, &err);
    if (!ctx)
        xs_warning ("worker: %s executor not ready yet: %s", wa->executor->name, err.msg);
    zsock_signal (pipe, 0);

    while (true) {
        char *cmd = NULL, *args_text = NULL;
        int op_number = XS_OP_NONE;
        if (zsock_recv (pipe, "sis", &cmd, &op_number, &args_text) == -1 || !cmd
        ||  streq (cmd, "$TERM")) {
            zstr_free (&cmd);
            zstr_free (&args_text);
            break;
        }
        xs_op_t op = (xs_op_t) op_number;
        json_t *value = NULL;
        xs_err_clear (&err);
        if (!ctx)
            ctx = wa->executor->open (wa->executor_arg, &err);
        if (ctx) {
            json_t *args = json_loads (args_text ? args_text : "{}", 0, NULL);
            value = wa->executor->run (ctx, op, args, &err);
            json_decref (args);
        }
        bool ok = false;
        char *text = s_answer_text (value, op, &err, &ok);
        zsock_send (pipe, "is", ok ? 1 : 0, text);
        free (text);
        json_decref (value);
        zstr_free (&cmd);
        zstr_free (&args_text);
    }
    wa->executor->close (&ctx);
}

/* ---------------------------------------------------------------------
   The pool
   --------------------------------------------------------------------- */

xs_agent_workers_t *
xs_agent_workers_new (int count, const xs_executor_t *executor, void *executor_arg,
                      xs_err_t *err)
{
    xs_agent_workers_t *self = xs_zalloc (sizeof *self);
    self->queue = xs_nn (zlist_new ());
    self->count = count;
    self->workers = xs_zalloc (sizeof (s_worker_t) * (size_t) count);
    self->wargs.executor = executor;
    self->wargs.executor_arg = executor_arg;
    for (int i = 0; i < count; i++) {
        self->workers [i].actor = zactor_new (s_worker_actor, &self->wargs);
        if (!self->workers [i].actor) {
            xs_err_set (err, XS_EINTERNAL, "agent: cannot start worker %d", i);
            xs_agent_workers_destroy (&self);
            return NULL;
        }
    }
    return self;
}

void
xs_agent_workers_destroy (xs_agent_workers_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_agent_workers_t *self = *self_p;
    for (int i = 0; self->workers && i < self->count; i++) {
        zactor_destroy (&self->workers [i].actor);
        xs_agent_job_destroy (&self->workers [i].job);
    }
    free (self->workers);
    while (self->queue && zlist_size (self->queue)) {
        xs_agent_job_t *job = (xs_agent_job_t *) zlist_pop (self->queue);
        xs_agent_job_destroy (&job);
    }
    zlist_destroy (&self->queue);
    free (self);
    *self_p = NULL;
}

/* Whether a worker is running a job for `volume`. */
static bool
s_volume_busy (xs_agent_workers_t *self, const char *volume)
{
    for (int i = 0; volume && i < self->count; i++) {
        xs_agent_job_t *job = self->workers [i].job;
        if (job && job->volume && streq (job->volume, volume))
            return true;
    }
    return false;
}

/* Hands queued jobs to idle workers, in order, skipping jobs whose volume
   is busy (see the header). */
static void
s_dispatch (xs_agent_workers_t *self)
{
    for (int i = 0; i < self->count && zlist_size (self->queue) > 0; i++) {
        s_worker_t *w = &self->workers [i];
        if (w->job)
            continue;
        xs_agent_job_t *next = NULL;
        for (xs_agent_job_t *job = (xs_agent_job_t *) zlist_first (self->queue); job && !next;
             job = (xs_agent_job_t *) zlist_next (self->queue))
            if (!s_volume_busy (self, job->volume))
                next = job;
        if (!next)
            return;
        zlist_remove (self->queue, next);
        w->job = next;
        zsock_send (w->actor, "sis", "JOB", (int) w->job->op, w->job->args);
    }
}

void
xs_agent_workers_enqueue (xs_agent_workers_t *self, xs_agent_job_t **job_p)
{
    xs_agent_job_t *job = *job_p;
    *job_p = NULL;
    if (job->kind == XS_AGENT_JOB_REQUEST)
        self->busy++;
    zlist_append (self->queue, job);
    s_dispatch (self);
}

int
xs_agent_workers_busy (xs_agent_workers_t *self)
{
    return self->busy;
}

/* A worker finished its job: hand it to `done`, then the next one out. */
static int
s_on_worker (zloop_t *loop, zsock_t *reader, void *arg)
{
    xs_agent_workers_t *self = (xs_agent_workers_t *) arg;
    s_worker_t *w = NULL;
    for (int i = 0; i < self->count; i++)
        if (zactor_sock (self->workers [i].actor) == reader)
            w = &self->workers [i];
    int ok = 0;
    char *text = NULL;
    if (!w || zsock_recv (reader, "is", &ok, &text) == -1 || !w->job) {
        zstr_free (&text);
        return 0;
    }
    xs_agent_job_t *job = w->job;
    w->job = NULL;
    if (job->kind == XS_AGENT_JOB_REQUEST)
        self->busy--;
    json_t *payload = json_loads (text ? text : "{}", 0, NULL);
    zstr_free (&text);
    if (!payload)
        payload = xs_nn (json_object ());
    self->done (self->done_arg, job, ok != 0, payload);
    s_dispatch (self);
    return 0;
}

int
xs_agent_workers_watch (xs_agent_workers_t *self, zloop_t *loop, xs_agent_done_fn *done,
                        void *arg)
{
    self->done = done;
    self->done_arg = arg;
    for (int i = 0; i < self->count; i++)
        if (zloop_reader (loop, zactor_sock (self->workers [i].actor), s_on_worker, self) == -1)
            return -1;
    return 0;
}

void
xs_agent_workers_unwatch (xs_agent_workers_t *self, zloop_t *loop)
{
    for (int i = 0; i < self->count; i++)
        zloop_reader_end (loop, zactor_sock (self->workers [i].actor));
}
