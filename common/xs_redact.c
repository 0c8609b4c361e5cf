/*  xs_redact: secrets never reach a log line, a listing or an error message. */
#include "xs_redact.h"

#include <string.h>

bool
xs_redact_is_secret (const char *key)
{
    /* password, chappassword, incoming_chappassword and cifspassword all
       contain "password"; the substring rule covers them and any future key. */
    return key && (strcasestr (key, "password") || strcasestr (key, "secret"));
}

const char *
xs_redact_value (const char *key, const char *value)
{
    if (value && xs_redact_is_secret (key))
        return XS_REDACTED;
    return value;
}
