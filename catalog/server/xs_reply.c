/*  xs_reply: a reply owed to one client. */
#include "xs_reply.h"

#include <stdarg.h>
#include <stdlib.h>

#include "xs_mem.h"

struct _xs_reply_t {
    xs_reply_sink_fn *sink;
    void *arg;                  /* the sink's                                  */
    char *id;                   /* NULL: ""                                    */
    xs_batch_t *batch;          /* deliver after its commit; NULL: at once     */
    /* The answer, once given. */
    json_t *result;
    bool failed;
    const char *code;           /* NULL: the name of err.kind                  */
    xs_err_t err;
};

xs_reply_t *
xs_reply_new (xs_reply_sink_fn *sink, void *arg)
{
    xs_reply_t *self = xs_zalloc (sizeof *self);
    self->sink = sink;
    self->arg = arg;
    return self;
}

void
xs_reply_set_id (xs_reply_t *self, const char *id)
{
    free (self->id);
    self->id = xs_strdup (id);
}

const char *
xs_reply_id (const xs_reply_t *self)
{
    return self->id ? self->id : "";
}

void
xs_reply_after_commit (xs_reply_t *self, xs_batch_t *batch)
{
    self->batch = batch;
}

/* ---------------------------------------------------------------------
   Delivery
   --------------------------------------------------------------------- */

/* Hands the answer to the sink and frees the reply. */
static void
s_deliver (xs_reply_t *self)
{
    xs_reply_answer_t answer = {
        .id = xs_reply_id (self),
        .result = self->failed ? NULL : self->result,
        .err = self->failed ? &self->err : NULL,
        .code = !self->failed ? NULL
              : self->code ? self->code : xs_errkind_name (self->err.kind),
    };
    if (self->failed)
        json_decref (self->result);
    self->sink (self->arg, &answer);
    free (self->id);
    free (self);
}

/* xs_batch action: the commit that holds the answer's writes is over. */
static void
s_after_commit (void *arg, bool committed)
{
    xs_reply_t *self = (xs_reply_t *) arg;
    if (!committed) {
        self->failed = true;
        self->code = NULL;
        xs_err_set (&self->err, XS_EIO, "not stored: the commit failed (see the catalog log)");
    }
    s_deliver (self);
}

/* The answer is complete: deliver it now or after the commit. */
static void
s_answered (xs_reply_t **self_p)
{
    xs_reply_t *self = *self_p;
    *self_p = NULL;
    if (self->batch)
        xs_batch_defer (self->batch, s_after_commit, self);
    else
        s_deliver (self);
}

/* ---------------------------------------------------------------------
   Answers
   --------------------------------------------------------------------- */

void
xs_reply_ok (xs_reply_t **self_p, json_t *result)
{
    xs_reply_t *self = *self_p;
    self->result = result ? result : xs_nn (json_object ());
    s_answered (self_p);
}

void
xs_reply_err (xs_reply_t **self_p, const xs_err_t *err)
{
    xs_reply_t *self = *self_p;
    self->failed = true;
    self->err = *err;
    if (self->err.kind == XS_OK)
        self->err.kind = XS_EINTERNAL;
    s_answered (self_p);
}

void
xs_reply_fail (xs_reply_t **self_p, xs_errkind_t kind, const char *fmt, ...)
{
    xs_reply_t *self = *self_p;
    va_list ap;
    va_start (ap, fmt);
    self->failed = true;
    xs_err_vset (&self->err, kind == XS_OK ? XS_EINTERNAL : kind, fmt, ap);
    va_end (ap);
    s_answered (self_p);
}

void
xs_reply_refuse (xs_reply_t **self_p, const char *code, const char *fmt, ...)
{
    xs_reply_t *self = *self_p;
    va_list ap;
    va_start (ap, fmt);
    self->failed = true;
    self->code = code;
    xs_err_vset (&self->err, XS_EINVAL, fmt, ap);
    va_end (ap);
    s_answered (self_p);
}
