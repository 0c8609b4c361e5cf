/*  xs_log: one logging call for every program, daemon or plugin.

    Daemons log to syslog (journald) when started with xs_log_init (..., true);
    everything else logs to stderr. Never pass a secret: redact with
    xs_redact first. Messages below the set level cost one comparison.
*/
#ifndef XS_LOG_H_INCLUDED
#define XS_LOG_H_INCLUDED

#include <stdbool.h>

typedef enum {
    XS_LOG_ERROR = 0,
    XS_LOG_WARNING,
    XS_LOG_NOTICE,
    XS_LOG_INFO,
    XS_LOG_DEBUG
} xs_loglevel_t;

/* The level names, in xs_loglevel_t order, NULL-terminated: "error",
   "warning", "notice", "info", "debug" (for config enums and help). */
extern const char *const xs_log_level_names [];

/* The level named `name` (exact, lowercase), or -1 when name is NULL or
   not a level name. */
int xs_log_level_from_name (const char *name);

/* Sets the program name, the destination and the most verbose level shown. */
void xs_log_init (const char *ident, bool use_syslog, xs_loglevel_t level);

/* True when a message at `level` would be written (check before costly formatting). */
bool xs_log_enabled (xs_loglevel_t level);

void xs_log (xs_loglevel_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define xs_error(...)   xs_log (XS_LOG_ERROR, __VA_ARGS__)
#define xs_warning(...) xs_log (XS_LOG_WARNING, __VA_ARGS__)
#define xs_notice(...)  xs_log (XS_LOG_NOTICE, __VA_ARGS__)
#define xs_info(...)    xs_log (XS_LOG_INFO, __VA_ARGS__)
#define xs_debug(...)   xs_log (XS_LOG_DEBUG, __VA_ARGS__)

#endif
