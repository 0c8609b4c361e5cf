/*  xs_err: an error a caller can report.

    Every function that can fail takes an `xs_err_t *err` as its last argument
    (it may be NULL), returns -1 or NULL on failure and fills *err with a kind
    and a message that names the object and the reason, e.g.
    "backend 3: SR.create failed on host xs01: SR_BACKEND_FAILURE_73 [...]".
*/
#ifndef XS_ERR_H_INCLUDED
#define XS_ERR_H_INCLUDED

#include <stdarg.h>

typedef enum {
    XS_OK = 0,
    XS_EINVAL,          /* bad input: usage, parse or validation error     */
    XS_ENOTFOUND,       /* the named object does not exist                 */
    XS_ECONFLICT,       /* already exists, or still in use                 */
    XS_EIO,             /* storage, file or SQLite failure                 */
    XS_EXAPI,           /* XenAPI answered with a failure                  */
    XS_ETRANSPORT,      /* socket, HTTP or timeout failure                 */
    XS_EINTERNAL,       /* anything else                                   */
    XS_ENOTLEADER       /* this catalogd does not lead (or no longer): the
                           message names the leader and its address      */
} xs_errkind_t;

#define XS_ERR_MSG_MAX 1024

typedef struct {
    xs_errkind_t kind;
    char msg [XS_ERR_MSG_MAX];
} xs_err_t;

/* Fills *err (when not NULL) with kind and a printf-style message.
   Always returns -1 so a caller can write `return xs_err_set (err, ...)`. */
int xs_err_set (xs_err_t *err, xs_errkind_t kind, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* xs_err_set with a va_list (for functions that take a format). Returns -1. */
int xs_err_vset (xs_err_t *err, xs_errkind_t kind, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 3, 0)));

/* Puts "<context>: " in front of the message already in *err. Returns -1. */
int xs_err_prefix (xs_err_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Resets *err to XS_OK and an empty message. */
void xs_err_clear (xs_err_t *err);

/* Stable name of a kind ("invalid", "not_found", ...); used on the wire. */
const char *xs_errkind_name (xs_errkind_t kind);

/* Kind for a name from xs_errkind_name; XS_EINTERNAL when unknown. */
xs_errkind_t xs_errkind_from_name (const char *name);

/* Process exit code for a kind: 0 ok, 2 usage or not found, 1 otherwise. */
int xs_errkind_exit_code (xs_errkind_t kind);

#endif
