/*  xs_redact: secrets never reach a log line, a listing or an error message.

    A key is secret when it is one of password, chappassword,
    incoming_chappassword, cifspassword, or contains "password" or "secret"
    (case-insensitive). Listings print such values as XS_REDACTED.
*/
#ifndef XS_REDACT_H_INCLUDED
#define XS_REDACT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define XS_REDACTED "******"

/* True when values stored under `key` are secrets. */
bool xs_redact_is_secret (const char *key);

/* `value`, or XS_REDACTED when `key` is secret. Borrowed; never NULL for a non-NULL value. */
const char *xs_redact_value (const char *key, const char *value);

/* Free text from elsewhere (a xapi error's params: SR_BACKEND_FAILURE_*
   carries the SM driver's stderr, which may echo a command line or a
   config) with the value after every secret key replaced by XS_REDACTED:
   "chappassword=abc", "password: abc", "secret = 'a b'", "\"cifspassword\":
   \"abc\"" (the value runs to the closing quote, else to white space or
   one of , ; ) ] } &). Returns a new string (caller frees). */
char *xs_redact_text (const char *text);

/* Replaces, in place, every occurrence of each secret value of the
   NULL-terminated `values` (values shorter than 3 bytes are left: too
   likely to be ordinary text) in the NUL-terminated `text` by
   XS_REDACTED, as long as `text` (of `size` bytes) has room; when it has
   not, the value's bytes become '*'. For messages that may quote a secret
   the caller knows (a device_config's passwords). */
void xs_redact_values (char *text, size_t size, const char *const *values);

/* Known secrets, process-wide: a program that is handed secret values (an
   agent, the device_config of the SRs it attaches) remembers each with
   xs_redact_remember (values shorter than 3 bytes are skipped; at most
   XS_REDACT_KNOWN_MAX are kept, the first ones), and from then on
   xs_redact_known replaces every remembered value in a text (as
   xs_redact_values does) and every log line and XenAPI error message
   passes through it. Thread-safe. */
#define XS_REDACT_KNOWN_MAX 1024
void xs_redact_remember (const char *value);
void xs_redact_known (char *text, size_t size);

/* Forgets every remembered value (tests). */
void xs_redact_forget_all (void);

#endif
