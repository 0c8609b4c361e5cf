/*  xs_reply: a reply owed to one client.

    Whoever receives a request makes one xs_reply_t with a sink, the
    function that delivers the answer to that client: the admin socket
    (xs_admin_socket: a JSON envelope on a ZeroMQ ROUTER) or the HTTP API
    (catalog/api: an xs_api_req_t answered with a status and a body). The
    reply then travels with the request to whatever serves it (an xs_admin
    handler, xs_volumes), which answers it exactly once with xs_reply_ok,
    xs_reply_err, xs_reply_fail or xs_reply_refuse: at once, or much later
    (a volume create answers once the agent's outcome is committed).
    Answering frees the reply and NULLs the caller's pointer, so nobody can
    answer twice.

    A reply bound to a batch (xs_reply_after_commit) is delivered after the
    batch's next commit, so the writes behind an answer are on disk before
    the client hears of it; if that commit fails, the client gets an `io`
    error instead ("not stored: ..."). An unbound reply is delivered at
    once.

    The sink is called exactly once, with the answer borrowed for the call
    except for answer->result, which becomes the sink's (json_decref it).
    The sink owns its `arg` and frees it then. A client that went away (an
    HTTP client that hung up) is the sink's business: it drops the answer.
*/
#ifndef XS_REPLY_H_INCLUDED
#define XS_REPLY_H_INCLUDED

#include <stdbool.h>
#include <jansson.h>

#include "xs_batch.h"
#include "xs_err.h"

typedef struct _xs_reply_t xs_reply_t;

/* What the sink delivers. */
typedef struct {
    const char *id;             /* the request's id (xs_reply_set_id), or ""   */
    json_t *result;             /* success: the result object, the sink's      */
    const xs_err_t *err;        /* failure: kind and message; NULL on success  */
    const char *code;           /* failure: a protocol code ("malformed", ...)
                                   or the name of err's kind; NULL on success  */
} xs_reply_answer_t;

/* Delivers `answer` to the client; owns and frees `arg`. */
typedef void (xs_reply_sink_fn) (void *arg, xs_reply_answer_t *answer);

/* A reply owed to one client, delivered by sink (arg). Never NULL. */
xs_reply_t *xs_reply_new (xs_reply_sink_fn *sink, void *arg);

/* The request's id, echoed in the answer (copied; NULL clears it). */
void xs_reply_set_id (xs_reply_t *self, const char *id);

/* The request's id, borrowed; "" when none was set. */
const char *xs_reply_id (const xs_reply_t *self);

/* Delivers the answer, once given, after the next commit of `batch`
   (borrowed; it outlives the reply), or as an `io` error when that commit
   fails. */
void xs_reply_after_commit (xs_reply_t *self, xs_batch_t *batch);

/* Answers with `result` (taken; NULL means {}). NULLs *self_p. */
void xs_reply_ok (xs_reply_t **self_p, json_t *result);

/* Answers with the failure in *err (copied; its kind names the code).
   NULLs *self_p. */
void xs_reply_err (xs_reply_t **self_p, const xs_err_t *err);

/* Answers with a failure of `kind` and a printf-style message. */
void xs_reply_fail (xs_reply_t **self_p, xs_errkind_t kind, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Answers with a protocol refusal: kind `invalid` and `code` (a string
   constant, e.g. "malformed"). */
void xs_reply_refuse (xs_reply_t **self_p, const char *code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
