/*  xs_allowlist: which agent keys the catalog admits.

    One source of truth: the allow-list directory (`agent_keys`). A key is
    admitted when a czmq public certificate in that directory holds it,
    whatever the file is called: exactly what zauth checks at the CURVE
    handshake (a zcertstore on the same directory), and what register and
    `host list` check here, with the same czmq code (zcertstore). Enroll
    writes "<hex of the key>.key"; remove deletes every certificate in the
    directory that holds the key (a file copied in by hand too), so a
    removed host can neither connect again nor register on a session it
    still has.

    The directory is created (0700) when missing.
*/
#ifndef XS_ALLOWLIST_H_INCLUDED
#define XS_ALLOWLIST_H_INCLUDED

#include <stdbool.h>
#include <czmq.h>

#include "xs_err.h"

typedef struct _xs_allowlist_t xs_allowlist_t;

/* The allow-list in directory `dir` (copied). NULL with *err when it
   cannot be created. Caller destroys. */
xs_allowlist_t *xs_allowlist_new (const char *dir, xs_err_t *err);

/* NULLs *self_p; idempotent. */
void xs_allowlist_destroy (xs_allowlist_t **self_p);

/* The directory, borrowed (for zauth). */
const char *xs_allowlist_dir (const xs_allowlist_t *self);

/* Whether `key` (40 Z85 characters) is admitted now. */
bool xs_allowlist_admits (xs_allowlist_t *self, const char *key);

/* Admits the key in `cert_text` (a czmq public certificate or a bare
   40-character Z85 key). Returns a new string with the Z85 key (caller
   frees), or NULL with *err. */
char *xs_allowlist_enroll (xs_allowlist_t *self, const char *cert_text, xs_err_t *err);

/* Removes every certificate holding `key`. 1 when one was removed, 0 when
   none held it, -1 with *err when a file could not be removed. */
int xs_allowlist_remove (xs_allowlist_t *self, const char *key, xs_err_t *err);

/* The admitted keys (Z85 strings, each once). Caller destroys the list. */
zlist_t *xs_allowlist_keys (xs_allowlist_t *self);

/* The Z85 key in a czmq public certificate or a bare key (surrounding
   blanks ignored); NULL when there is none. Caller frees. */
char *xs_allowlist_parse_key (const char *text);

#endif
