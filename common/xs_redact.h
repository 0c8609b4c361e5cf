/*  xs_redact: secrets never reach a log line, a listing or an error message.

    A key is secret when it is one of password, chappassword,
    incoming_chappassword, cifspassword, or contains "password" or "secret"
    (case-insensitive). Listings print such values as XS_REDACTED.
*/
#ifndef XS_REDACT_H_INCLUDED
#define XS_REDACT_H_INCLUDED

#include <stdbool.h>

#define XS_REDACTED "******"

/* True when values stored under `key` are secrets. */
bool xs_redact_is_secret (const char *key);

/* `value`, or XS_REDACTED when `key` is secret. Borrowed; never NULL for a non-NULL value. */
const char *xs_redact_value (const char *key, const char *value);

#endif
