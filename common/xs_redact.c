/*  xs_redact: secrets never reach a log line, a listing or an error message. */
#include "xs_redact.h"

#include <pthread.h>
#include <stdlib.h>
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

/* ---------------------------------------------------------------------
   Secrets inside free text
   --------------------------------------------------------------------- */

static bool
s_is_key_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '_' || c == '-' || c == '.';
}

static bool
s_ends_value (char c)
{
    return c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ','
        || c == ';' || c == ')' || c == ']' || c == '}' || c == '&';
}

char *
xs_redact_text (const char *text)
{
    if (!text)
        return NULL;
    size_t len = strlen (text);
    /* Each value becomes at most strlen (XS_REDACTED) bytes, and a value is
       at least one byte: the result fits in len * 7 + 1. */
    char *out = malloc (len * sizeof XS_REDACTED + 1);
    if (!out)
        abort ();
    size_t o = 0;
    size_t i = 0;
    while (i < len) {
        if (!s_is_key_char (text [i]) || (i > 0 && s_is_key_char (text [i - 1]))) {
            out [o++] = text [i++];
            continue;
        }
        /* A key: [A-Za-z0-9_.-]+, then maybe a closing quote, spaces, = or :. */
        size_t k = i;
        while (k < len && s_is_key_char (text [k]))
            k++;
        char key [128];
        size_t klen = k - i < sizeof key - 1 ? k - i : sizeof key - 1;
        memcpy (key, text + i, klen);
        key [klen] = '\0';
        size_t j = k;
        if (j < len && (text [j] == '"' || text [j] == '\''))
            j++;
        while (j < len && (text [j] == ' ' || text [j] == '\t'))
            j++;
        if (j >= len || (text [j] != '=' && text [j] != ':') || !xs_redact_is_secret (key)) {
            memcpy (out + o, text + i, k - i);
            o += k - i;
            i = k;
            continue;
        }
        j++;
        while (j < len && (text [j] == ' ' || text [j] == '\t'))
            j++;
        /* Copy the key and separator, then the value's replacement. */
        memcpy (out + o, text + i, j - i);
        o += j - i;
        size_t v = j;
        if (v < len && (text [v] == '"' || text [v] == '\'')) {
            char quote = text [v];
            const char *close = strchr (text + v + 1, quote);
            size_t end = close ? (size_t) (close - text) + 1 : len;
            out [o++] = quote;
            memcpy (out + o, XS_REDACTED, sizeof XS_REDACTED - 1);
            o += sizeof XS_REDACTED - 1;
            if (close)
                out [o++] = quote;
            i = end;
            continue;
        }
        while (v < len && !s_ends_value (text [v]))
            v++;
        if (v > j) {
            memcpy (out + o, XS_REDACTED, sizeof XS_REDACTED - 1);
            o += sizeof XS_REDACTED - 1;
        }
        i = v;
    }
    out [o] = '\0';
    return out;
}

void
xs_redact_values (char *text, size_t size, const char *const *values)
{
    if (!text || !values)
        return;
    const size_t rlen = sizeof XS_REDACTED - 1;
    for (const char *const *value = values; *value; value++) {
        size_t vlen = strlen (*value);
        if (vlen < 3)
            continue;
        char *at = text;
        while ((at = strstr (at, *value)) != NULL) {
            size_t len = strlen (text);
            if (len - vlen + rlen + 1 <= size) {
                memmove (at + rlen, at + vlen, strlen (at + vlen) + 1);
                memcpy (at, XS_REDACTED, rlen);
                at += rlen;
            }
            else {
                memset (at, '*', vlen);
                at += vlen;
            }
        }
    }
}

/* ---------------------------------------------------------------------
   Secrets the process knows
   --------------------------------------------------------------------- */

static pthread_mutex_t s_known_lock = PTHREAD_MUTEX_INITIALIZER;
static char *s_known [XS_REDACT_KNOWN_MAX + 1];    /* NULL-terminated */
static size_t s_nknown;

void
xs_redact_remember (const char *value)
{
    if (!value || strlen (value) < 3)
        return;
    pthread_mutex_lock (&s_known_lock);
    bool have = false;
    for (size_t i = 0; i < s_nknown && !have; i++)
        have = strcmp (s_known [i], value) == 0;
    if (!have && s_nknown < XS_REDACT_KNOWN_MAX) {
        char *copy = strdup (value);
        if (!copy)
            abort ();
        s_known [s_nknown++] = copy;
    }
    pthread_mutex_unlock (&s_known_lock);
}

void
xs_redact_known (char *text, size_t size)
{
    pthread_mutex_lock (&s_known_lock);
    if (s_nknown)
        xs_redact_values (text, size, (const char *const *) s_known);
    pthread_mutex_unlock (&s_known_lock);
}

void
xs_redact_forget_all (void)
{
    pthread_mutex_lock (&s_known_lock);
    for (size_t i = 0; i < s_nknown; i++) {
        explicit_bzero (s_known [i], strlen (s_known [i]));
        free (s_known [i]);
        s_known [i] = NULL;
    }
    s_nknown = 0;
    pthread_mutex_unlock (&s_known_lock);
}
