/*  xs_agent_workers: the agent's worker pool. Each worker is a zactor (a
    thread) with its own executor context, so a slow xapi call never blocks
    the agent's message loop; the loop and the workers share nothing and
    talk over the actors' pipes.

    Jobs run in the order they were queued, except that a job for a volume
    waits while another job for the same volume runs: a catalog that
    restarted sends its unfinished requests again, and the second vdi_create
    must find the VDI the first one made (every op is idempotent) rather
    than race it.

    Ownership: xs_agent_workers_enqueue takes the job; the `done` callback
    receives the finished job and its payload and owns both.
*/
#ifndef XS_AGENT_WORKERS_H_INCLUDED
#define XS_AGENT_WORKERS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <czmq.h>
#include <jansson.h>

#include "xs_err.h"
#include "xs_executor.h"

typedef enum {
    XS_AGENT_JOB_HOST_INFO,     /* who am I: before registering            */
    XS_AGENT_JOB_REQUEST,       /* a catalog request: answered by a result */
    XS_AGENT_JOB_ATTACH,        /* a welcome backend: answered by sr_state */
    XS_AGENT_JOB_STATS          /* refresh one SR's stats for heartbeats   */
} xs_agent_jobkind_t;

typedef struct {
    xs_agent_jobkind_t kind;
    char *id;                   /* request id (XS_AGENT_JOB_REQUEST), or NULL */
    xs_op_t op;
    char *args;                 /* JSON text                                  */
    int64_t backend_id;         /* XS_AGENT_JOB_ATTACH, XS_AGENT_JOB_STATS    */
    char *volume;               /* the volume a request makes or removes      */
    unsigned generation;        /* the agent's connection it belongs to       */
} xs_agent_job_t;

/* A job of `kind` running `op` with `args` (copied as text; NULL = {}). A
   request's volume is its new_volume_uuid, else its volume_uuid. */
xs_agent_job_t *xs_agent_job_new (xs_agent_jobkind_t kind, const char *id, xs_op_t op,
                                  const json_t *args);

/* Frees a job; NULLs *job_p; idempotent. */
void xs_agent_job_destroy (xs_agent_job_t **job_p);

/* A finished job (owned by the callee) and what the executor gave: ok and
   its result object, or not ok and {kind, message} (owned by the callee). */
typedef void (xs_agent_done_fn) (void *arg, xs_agent_job_t *job, bool ok, json_t *payload);

typedef struct _xs_agent_workers_t xs_agent_workers_t;

/* Starts `count` workers running `executor` (borrowed, with executor_arg;
   both must outlive the pool). NULL + err when a worker cannot start. */
xs_agent_workers_t *xs_agent_workers_new (int count, const xs_executor_t *executor,
                                          void *executor_arg, xs_err_t *err);

/* Stops the workers (waits for running jobs) and drops queued jobs; NULLs
   *self_p; idempotent. */
void xs_agent_workers_destroy (xs_agent_workers_t **self_p);

/* Watches the workers' pipes from `loop`; `done` (with arg) gets every
   finished job. 0 or -1. */
int xs_agent_workers_watch (xs_agent_workers_t *self, zloop_t *loop, xs_agent_done_fn *done,
                            void *arg);

/* Stops watching from `loop`. */
void xs_agent_workers_unwatch (xs_agent_workers_t *self, zloop_t *loop);

/* Queues *job_p (taken, NULLed) and hands out what can run. */
void xs_agent_workers_enqueue (xs_agent_workers_t *self, xs_agent_job_t **job_p);

/* Catalog requests queued or running (for heartbeats). */
int xs_agent_workers_busy (xs_agent_workers_t *self);

#endif
