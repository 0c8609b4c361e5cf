/*  xs_prom: writes Prometheus' text exposition format (version 0.0.4) for
    GET /metrics, and keeps histograms.

    Write a family header (# HELP, # TYPE) with xs_prom_family, then its
    samples; label pairs are given as NULL-terminated "name", "value", ...
    varargs. Label values and help texts are escaped as the format says
    (\\, \", \n). Metric and label names are the caller's constants and
    are checked with assert. Values are written exactly for integers up to
    2^53 and in the shortest form that reads back for others; +Inf, -Inf
    and NaN as Prometheus spells them.

    No secret and no user-chosen name belongs in a label: the caller's rule.
    Ownership: the writer owns its text until xs_prom_take hands it over.
*/
#ifndef XS_PROM_H_INCLUDED
#define XS_PROM_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef struct _xs_prom_t xs_prom_t;
typedef struct _xs_histo_t xs_histo_t;

typedef enum {
    XS_PROM_COUNTER,
    XS_PROM_GAUGE,
    XS_PROM_HISTOGRAM
} xs_prom_type_t;

/* The content type of the text: "text/plain; version=0.0.4; charset=utf-8". */
extern const char xs_prom_content_type [];

xs_prom_t *xs_prom_new (void);
void xs_prom_destroy (xs_prom_t **self_p);

/* Starts a family: "# HELP name help" and "# TYPE name type". */
void xs_prom_family (xs_prom_t *self, const char *name, xs_prom_type_t type, const char *help);

/* One sample of the current counter or gauge family: name{labels} value.
   Varargs: label name, label value, ..., NULL. */
void xs_prom_sample (xs_prom_t *self, double value, ...) __attribute__ ((sentinel));

/* The current histogram family's series for h: cumulative name_bucket{le}
   lines (le="+Inf" last), name_sum and name_count, with the labels given. */
void xs_prom_histogram (xs_prom_t *self, const xs_histo_t *h, ...) __attribute__ ((sentinel));

/* The text so far (caller frees; *len its length), and a fresh start. */
char *xs_prom_take (xs_prom_t *self, size_t *len);

/* A histogram over increasing upper bounds (copied; +Inf is implicit). */
xs_histo_t *xs_histo_new (const double *bounds, size_t nbounds);
void xs_histo_destroy (xs_histo_t **self_p);

/* Counts one observation. */
void xs_histo_observe (xs_histo_t *self, double value);

/* Observations so far. */
uint64_t xs_histo_count (const xs_histo_t *self);

#endif
