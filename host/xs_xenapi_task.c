/*  xs_xenapi_task: Async.* calls and following their task (see xs_xenapi.h,
    "Tasks"). */
#include "xs_xenapi_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xs_log.h"
#include "xs_mem.h"
#include "xs_xmlrpc.h"

/* How long one event.from waits at most (seconds), and how long the task
   may take to end after task.cancel before it is left to xapi. */
#define S_EVENT_WAIT_S      30.0
#define S_CANCEL_GRACE_MS   30000
/* Failed reads (task.get_record, event.from) in a row before the task is
   given up (left to xapi, tagged, for the next run to settle). */
#define S_FOLLOW_RETRIES    2

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Calls `method` (task.*) with the task ref and an optional string. */
static xs_value_t *
s_task_call (xs_xenapi_t *self, const char *method, const char *task, const char *a,
             const char *b, xs_err_t *err)
{
    xs_value_t *params = xs_value_array_new ();
    xs_value_append_str (params, task);
    if (a)
        xs_value_append_str (params, a);
    if (b)
        xs_value_append_str (params, b);
    xs_value_t *reply = xs_xenapi_call (self, method, params, err);
    xs_value_destroy (&params);
    return reply;
}

/* Waits (event.from on the task, at most `wait_ms`) for a change of the
   task; *token_p is the event token (caller frees). 0 or -1 + err. */
static int
s_wait_event (xs_xenapi_t *self, const char *task, char **token_p, int64_t wait_ms,
              xs_err_t *err)
{
    char what [160];
    snprintf (what, sizeof what, "task/%s", task);
    xs_value_t *params = xs_value_array_new ();
    xs_value_t *classes = xs_value_array_new ();
    xs_value_append_str (classes, what);
    xs_value_append (params, &classes);
    xs_value_append_str (params, *token_p ? *token_p : "");
    double wait_s = (double) wait_ms / 1000.0;
    if (wait_s > S_EVENT_WAIT_S)
        wait_s = S_EVENT_WAIT_S;
    /* The call must end, with or without events, before curl gives up. */
    double call_s = (double) xs_xenapi_total_timeout_ms (self) / 2000.0;
    if (wait_s > call_s)
        wait_s = call_s;
    if (wait_s < 0.1)
        wait_s = 0.1;
    xs_value_t *timeout = xs_value_double_new (wait_s);
    xs_value_append (params, &timeout);
    xs_value_t *reply = xs_xenapi_call (self, "event.from", params, err);
    xs_value_destroy (&params);
    if (!reply)
        return -1;
    const char *token = xs_value_get_str (reply, "token");
    if (token) {
        free (*token_p);
        *token_p = xs_strdup (token);
    }
    xs_value_destroy (&reply);
    return 0;
}

/* The value inside a task's result ("<value>OpaqueRef:...</value>", or ""
   for a call without one). Caller destroys; NULL + err. */
static xs_value_t *
s_task_value (const char *result, const char *method, xs_err_t *err)
{
    if (!result || !*result)
        return xs_value_string_new ("");
    static const char head [] = "<methodResponse><params><param>";
    static const char tail [] = "</param></params></methodResponse>";
    size_t len = strlen (head) + strlen (result) + strlen (tail);
    char *doc = xs_zalloc (len + 1);
    snprintf (doc, len + 1, "%s%s%s", head, result, tail);
    xs_value_t *value = xs_xmlrpc_decode_response (doc, len, NULL, err);
    free (doc);
    if (!value)
        xs_err_prefix (err, "%s: the task's result", method);
    return value;
}

/* What task `ref`, whose last `record` says task->status, came to: its
   result (the task destroyed), or NULL + err (its error, or still running
   after the cancel: left to xapi, tagged). A watched task is left as is. */
static xs_value_t *
s_ended (xs_xenapi_t *self, const char *method, const char *ref, xs_xenapi_task_t *task,
         const xs_value_t *record, xs_err_t *err)
{
    const char *status = task->status;
    if (strcmp (status, "success") != 0 && strcmp (status, "failure") != 0
    &&  strcmp (status, "cancelled") != 0) {
        xs_err_set (err, XS_ETRANSPORT,
                    "%s: task %s still %s %d ms after task.cancel; left to xapi", method, ref,
                    status, S_CANCEL_GRACE_MS);
        return NULL;
    }
    if (task->watch)
        return NULL;            /* its owner reads and destroys it */
    /* Destroyed first: every call forgets the client's last XenAPI error. */
    xs_value_t *reply = s_task_call (self, "task.destroy", ref, NULL, NULL, NULL);
    xs_value_destroy (&reply);
    if (strcmp (status, "success") != 0) {
        xs_xenapi_task_failed (self, method, xs_value_get (record, "error_info"), err);
        return NULL;
    }
    xs_value_t *result = s_task_value (xs_value_get_str (record, "result"), method, err);
    if (task->cancelled)
        xs_notice ("%s: task %s finished before the cancel took effect: kept", method, ref);
    return result;
}

/* Follows task `ref` (see xs_xenapi_task_follow). */
static xs_value_t *
s_follow (xs_xenapi_t *self, const char *method, const char *ref, xs_xenapi_task_t *task,
          xs_err_t *err)
{
    xs_value_t *result = NULL;
    xs_value_t *record = NULL;
    xs_value_t *reply = NULL;
    char *token = NULL;
    int64_t start = s_now_ms ();
    int64_t deadline = task->deadline_ms > 0 ? start + task->deadline_ms : 0;
    int64_t give_up = 0;
    const char *status = NULL;
    int misses = 0;             /* following calls failed in a row */
    for (;;) {
        xs_value_destroy (&record);
        record = s_task_call (self, "task.get_record", ref, NULL, NULL, err);
        if (!record && ++misses <= S_FOLLOW_RETRIES) {
            /* Reads may be repeated: losing the task would orphan what
               it makes (a copy still carrying its parent's tag). */
            xs_info ("%s: task %s: %s; asking again", method, ref, err->msg);
            continue;
        }
        if (!record) {
            xs_err_prefix (err, "%s: following task %s", method, ref);
            goto out;
        }
        status = xs_value_get_str (record, "status");
        if (!status || strcmp (status, "pending") != 0)
            break;
        int64_t now = s_now_ms ();
        if (deadline && now >= deadline && task->watch)
            break;              /* another's call: never cancelled by us */
        if (deadline && now >= deadline && !task->cancelled) {
            xs_notice ("%s: task %s still running after %ld ms: cancelling it", method, ref,
                       task->deadline_ms);
            reply = s_task_call (self, "task.cancel", ref, NULL, NULL, err);
            if (!reply)
                xs_warning ("%s: task.cancel %s: %s", method, ref, err->msg);
            xs_value_destroy (&reply);
            task->cancelled = true;
            give_up = now + S_CANCEL_GRACE_MS;
        }
        if (give_up && now >= give_up)
            break;
        int64_t wait = give_up ? give_up - now : deadline ? deadline - now : 30000;
        if (s_wait_event (self, ref, &token, wait, err) != 0) {
            if (++misses <= S_FOLLOW_RETRIES) {
                xs_info ("%s: task %s: %s; asking again", method, ref, err->msg);
                continue;
            }
            xs_err_prefix (err, "%s: following task %s", method, ref);
            goto out;
        }
        misses = 0;
    }
    snprintf (task->status, sizeof task->status, "%s", status ? status : "?");
    result = s_ended (self, method, ref, task, record, err);
out:
    xs_value_destroy (&record);
    free (token);
    return result;
}

xs_value_t *
xs_xenapi_task_follow (xs_xenapi_t *self, const char *method, const char *ref,
                       xs_xenapi_task_t *task, xs_err_t *err)
{
    xs_err_t local;
    if (!err)
        err = &local;
    task->cancelled = false;
    snprintf (task->status, sizeof task->status, "none");
    snprintf (task->ref, sizeof task->ref, "%s", ref);
    return s_follow (self, method, ref, task, err);
}

xs_value_t *
xs_xenapi_call_async (xs_xenapi_t *self, const char *method, const xs_value_t *params,
                      xs_xenapi_task_t *task, xs_err_t *err)
{
    char async [128];
    xs_err_t local;
    if (!err)
        err = &local;
    task->cancelled = false;
    snprintf (task->status, sizeof task->status, "none");
    task->ref [0] = '\0';

    snprintf (async, sizeof async, "Async.%s", method);
    xs_value_t *reply = xs_xenapi_call (self, async, params, err);
    if (!reply)
        return NULL;
    char *ref = xs_strdup (xs_value_str (reply) ? xs_value_str (reply) : "");
    xs_value_destroy (&reply);
    snprintf (task->ref, sizeof task->ref, "%s", ref);
    if (task->tag) {
        /* A restarted agent finds its tasks again by this tag. */
        reply = s_task_call (self, "task.add_to_other_config", ref, XS_XENAPI_TASK_TAG_KEY,
                             task->tag, err);
        if (!reply)
            xs_warning ("%s: task %s: cannot tag it: %s", method, ref, err->msg);
        xs_value_destroy (&reply);
    }
    xs_value_t *result = s_follow (self, method, ref, task, err);
    free (ref);
    return result;
}
