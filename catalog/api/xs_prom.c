/*  xs_prom: Prometheus text exposition format writer and histograms. */
#include "xs_prom.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_mem.h"

const char xs_prom_content_type [] = "text/plain; version=0.0.4; charset=utf-8";

struct _xs_prom_t {
    FILE *out;
    char *text;
    size_t len;
    char family [128];
    xs_prom_type_t type;
};

struct _xs_histo_t {
    size_t nbounds;
    double *bounds;
    uint64_t *counts;           /* per bucket, not cumulative; [nbounds] = +Inf */
    double sum;
    uint64_t count;
};

/* ---------------------------------------------------------------------------
 *  Writer
 * ------------------------------------------------------------------------- */

static void
s_open (xs_prom_t *self)
{
    self->out = xs_nn (open_memstream (&self->text, &self->len));
}

xs_prom_t *
xs_prom_new (void)
{
    xs_prom_t *self = xs_zalloc (sizeof *self);
    s_open (self);
    return self;
}

void
xs_prom_destroy (xs_prom_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_prom_t *self = *self_p;
    fclose (self->out);
    free (self->text);
    free (self);
    *self_p = NULL;
}

static bool __attribute__ ((unused))
s_name_ok (const char *name, bool colon)
{
    if (!name || !*name || (name [0] >= '0' && name [0] <= '9'))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '_' || (colon && *p == ':')))
            return false;
    return true;
}

/* Escapes for a HELP text (quote false) or a label value (quote true). */
static void
s_escaped (FILE *f, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs ("\\\\", f);
        else if (*s == '\n')
            fputs ("\\n", f);
        else if (quote && *s == '"')
            fputs ("\\\"", f);
        else
            fputc (*s, f);
    }
}

static void
s_value (FILE *f, double v)
{
    if (isnan (v))
        fputs ("NaN", f);
    else if (isinf (v))
        fputs (v > 0 ? "+Inf" : "-Inf", f);
    else if (v == floor (v) && fabs (v) <= 9007199254740992.0)
        fprintf (f, "%.0f", v);
    else {
        char buf [32];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf (buf, sizeof buf, "%.*g", prec, v);
            if (strtod (buf, NULL) == v)
                break;
        }
        fputs (buf, f);
    }
}

void
xs_prom_family (xs_prom_t *self, const char *name, xs_prom_type_t type, const char *help)
{
    assert (s_name_ok (name, true) && strlen (name) < sizeof self->family);
    static const char *types [] = {"counter", "gauge", "histogram"};
    snprintf (self->family, sizeof self->family, "%s", name);
    self->type = type;
    fprintf (self->out, "# HELP %s ", name);
    s_escaped (self->out, help ? help : "", false);
    fprintf (self->out, "\n# TYPE %s %s\n", name, types [type]);
}

/* {a="x",b="y"} from the varargs, plus one extra pair (le) when given. */
static void
s_labels (FILE *f, va_list ap, const char *extra_name, const char *extra_value)
{
    bool any = false;
    const char *name;
    while ((name = va_arg (ap, const char *))) {
        const char *value = va_arg (ap, const char *);
        assert (s_name_ok (name, false) && strncmp (name, "__", 2) != 0);
        fprintf (f, "%s%s=\"", any ? "," : "{", name);
        s_escaped (f, value ? value : "", true);
        fputc ('"', f);
        any = true;
    }
    if (extra_name) {
        fprintf (f, "%s%s=\"%s\"", any ? "," : "{", extra_name, extra_value);
        any = true;
    }
    if (any)
        fputc ('}', f);
}

void
xs_prom_sample (xs_prom_t *self, double value, ...)
{
    assert (self->family [0] && self->type != XS_PROM_HISTOGRAM);
    va_list ap;
    va_start (ap, value);
    fputs (self->family, self->out);
    s_labels (self->out, ap, NULL, NULL);
    va_end (ap);
    fputc (' ', self->out);
    s_value (self->out, value);
    fputc ('\n', self->out);
}

void
xs_prom_histogram (xs_prom_t *self, const xs_histo_t *h, ...)
{
    assert (self->family [0] && self->type == XS_PROM_HISTOGRAM);
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= h->nbounds; i++) {
        cumulative += h->counts [i];
        char le [40];
        if (i == h->nbounds)
            snprintf (le, sizeof le, "+Inf");
        else {
            char *text = NULL;
            size_t len = 0;
            FILE *f = xs_nn (open_memstream (&text, &len));
            s_value (f, h->bounds [i]);
            fclose (f);
            snprintf (le, sizeof le, "%s", text);
            free (text);
        }
        va_list ap;
        va_start (ap, h);
        fprintf (self->out, "%s_bucket", self->family);
        s_labels (self->out, ap, "le", le);
        va_end (ap);
        fprintf (self->out, " %llu\n", (unsigned long long) cumulative);
    }
    va_list ap;
    va_start (ap, h);
    fprintf (self->out, "%s_sum", self->family);
    s_labels (self->out, ap, NULL, NULL);
    va_end (ap);
    fputc (' ', self->out);
    s_value (self->out, h->sum);
    fputc ('\n', self->out);
    va_start (ap, h);
    fprintf (self->out, "%s_count", self->family);
    s_labels (self->out, ap, NULL, NULL);
    va_end (ap);
    fprintf (self->out, " %llu\n", (unsigned long long) h->count);
}

char *
xs_prom_take (xs_prom_t *self, size_t *len)
{
    fclose (self->out);
    char *text = self->text;
    if (len)
        *len = self->len;
    self->text = NULL;
    self->len = 0;
    self->family [0] = '\0';
    s_open (self);
    return text;
}

/* ---------------------------------------------------------------------------
 *  Histograms
 * ------------------------------------------------------------------------- */

xs_histo_t *
xs_histo_new (const double *bounds, size_t nbounds)
{
    xs_histo_t *self = xs_zalloc (sizeof *self);
    self->nbounds = nbounds;
    self->bounds = xs_zalloc ((nbounds ? nbounds : 1) * sizeof *self->bounds);
    for (size_t i = 0; i < nbounds; i++) {
        assert (i == 0 || bounds [i] > bounds [i - 1]);
        self->bounds [i] = bounds [i];
    }
    self->counts = xs_zalloc ((nbounds + 1) * sizeof *self->counts);
    return self;
}

void
xs_histo_destroy (xs_histo_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->bounds);
    free ((*self_p)->counts);
    free (*self_p);
    *self_p = NULL;
}

void
xs_histo_observe (xs_histo_t *self, double value)
{
    size_t i = 0;
    while (i < self->nbounds && value > self->bounds [i])
        i++;
    self->counts [i]++;
    self->sum += value;
    self->count++;
}

uint64_t xs_histo_count (const xs_histo_t *self) { return self->count; }
