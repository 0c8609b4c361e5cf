/*  xs_log: one logging call for every program, daemon or plugin. */
#include "xs_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "xs_redact.h"

static const char *s_ident = "xensm";
static bool s_syslog = false;
static xs_loglevel_t s_level = XS_LOG_NOTICE;

static const int s_syslog_prio [] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
static const char *s_level_tag [] = { "E", "W", "N", "I", "D" };

const char *const xs_log_level_names [] = { "error", "warning", "notice", "info", "debug", NULL };

int
xs_log_level_from_name (const char *name)
{
    for (int i = 0; name && xs_log_level_names [i]; i++)
        if (strcmp (name, xs_log_level_names [i]) == 0)
            return i;
    return -1;
}

void
xs_log_init (const char *ident, bool use_syslog, xs_loglevel_t level)
{
    s_ident = ident ? ident : "xensm";
    s_syslog = use_syslog;
    s_level = level;
    if (s_syslog)
        openlog (s_ident, LOG_PID, LOG_DAEMON);
}

bool
xs_log_enabled (xs_loglevel_t level)
{
    return level <= s_level;
}

void
xs_log (xs_loglevel_t level, const char *fmt, ...)
{
    if (level > s_level)
        return;
    va_list ap;
    va_start (ap, fmt);
    char *line = NULL;
    int n = vasprintf (&line, fmt, ap);
    va_end (ap);
    if (n < 0)
        return;
    /* A secret this process was handed never reaches a log line. */
    xs_redact_known (line, (size_t) n + 1);
    if (s_syslog)
        syslog (s_syslog_prio [level], "%s", line);
    else {
        char stamp [32];
        time_t now = time (NULL);
        struct tm tm;
        strftime (stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", localtime_r (&now, &tm));
        flockfile (stderr);
        fprintf (stderr, "%s %s %s: %s\n", s_level_tag [level], stamp, s_ident, line);
        funlockfile (stderr);
    }
    free (line);
}
