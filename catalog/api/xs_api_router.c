/*  xs_api_router: the Block Storage API's route table and its matcher. */
#include "xs_api_router.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_mem.h"

#define S_MAX_SEGMENTS 16
#define S_MAX_COLLECTIONS 64

/* Cinder's top-level collections that xensm may not serve: never projects,
   so "/v3/backups/..." is a 404 rather than a project named "backups". */
static const char *s_cinder_collections [] = {
    "attachments", "backups", "capabilities", "cgsnapshots", "clusters",
    "consistencygroups", "default-types", "extensions", "group_snapshots",
    "group_types", "groups", "limits", "manageable_snapshots", "manageable_volumes",
    "messages", "os-availability-zone", "os-hosts", "os-quota-class-sets",
    "os-quota-sets", "os-services", "os-snapshot-manage", "os-volume-manage",
    "os-volume-transfer", "qos-specs", "resource_filters", "scheduler-stats",
    "servers", "snapshots", "types", "volume-transfers", "volumes", "workers",
    NULL
};

struct _xs_api_router_t {
    const xs_api_route_t *table;
    size_t ncollections;
    char *collections [S_MAX_COLLECTIONS];
};

/* ---------------------------------------------------------------------------
 *  Construction
 * ------------------------------------------------------------------------- */

static void
s_add_collection (xs_api_router_t *self, const char *name, size_t len)
{
    for (size_t i = 0; i < self->ncollections; i++)
        if (strlen (self->collections [i]) == len && !memcmp (self->collections [i], name, len))
            return;
    assert (self->ncollections < S_MAX_COLLECTIONS);
    self->collections [self->ncollections++] = xs_strndup (name, len);
}

xs_api_router_t *
xs_api_router_new (const xs_api_route_t *table)
{
    xs_api_router_t *self = xs_zalloc (sizeof *self);
    self->table = table;
    for (size_t i = 0; s_cinder_collections [i]; i++)
        s_add_collection (self, s_cinder_collections [i], strlen (s_cinder_collections [i]));
    for (const xs_api_route_t *r = table; r->method; r++) {
        assert (r->pattern [0] == '/' && r->handler);
        if (r->flags & XS_ROUTE_ROOT)
            continue;
        const char *seg = r->pattern + 1;
        size_t len = strcspn (seg, "/");
        assert (len > 0 && seg [0] != '{');     /* a collection comes first */
        s_add_collection (self, seg, len);
    }
    return self;
}

void
xs_api_router_destroy (xs_api_router_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_api_router_t *self = *self_p;
    for (size_t i = 0; i < self->ncollections; i++)
        free (self->collections [i]);
    free (self);
    *self_p = NULL;
}

bool
xs_api_router_is_collection (const xs_api_router_t *self, const char *segment)
{
    for (size_t i = 0; i < self->ncollections; i++)
        if (strcmp (self->collections [i], segment) == 0)
            return true;
    return false;
}

bool
xs_api_project_id_valid (const char *id)
{
    size_t n = 0;
    for (; id [n]; n++) {
        char c = id [n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_' || c == '-'))
            return false;
    }
    return n > 0 && n <= 64;
}

/* ---------------------------------------------------------------------------
 *  Matching
 * ------------------------------------------------------------------------- */

/* Splits buf ("/a/b/c", modified) into segments; -1 on an empty segment or
   too many. A single trailing slash is ignored. */
static int
s_split (char *buf, char **segs, size_t *nsegs)
{
    size_t n = 0;
    size_t len = strlen (buf);
    if (len > 1 && buf [len - 1] == '/')
        buf [len - 1] = '\0';
    if (strcmp (buf, "/") == 0) {
        *nsegs = 0;
        return 0;
    }
    char *p = buf + 1;
    while (p) {
        char *slash = strchr (p, '/');
        if (slash)
            *slash = '\0';
        if (!*p || n == S_MAX_SEGMENTS)
            return -1;
        segs [n++] = p;
        p = slash ? slash + 1 : NULL;
    }
    *nsegs = n;
    return 0;
}

typedef struct {
    size_t n;
    const char *names [XS_ROUTE_MAX_PARAMS];    /* "{id}..." in the pattern */
    const char *values [XS_ROUTE_MAX_PARAMS];
} s_caps_t;

/* Number of literal segments when pattern matches segs (captures filled),
   or -1. */
static int
s_match_pattern (const char *pattern, char **segs, size_t nsegs, s_caps_t *m)
{
    int literals = 0;
    size_t i = 0;
    size_t nparams = 0;
    const char *p = pattern;
    if (strcmp (p, "/") == 0)
        return nsegs == 0 ? 0 : -1;
    while (*p == '/') {
        p++;
        size_t len = strcspn (p, "/");
        if (i == nsegs)
            return -1;
        if (len >= 2 && p [0] == '{' && p [len - 1] == '}') {
            if (nparams < XS_ROUTE_MAX_PARAMS) {
                m->values [nparams] = segs [i];
                m->names [nparams] = p;
                nparams++;
            }
        }
        else if (strlen (segs [i]) != len || memcmp (segs [i], p, len) != 0)
            return -1;
        else
            literals++;
        i++;
        p += len;
    }
    if (i != nsegs)
        return -1;
    m->n = nparams;
    return literals;
}

static bool
s_method_is (const char *route_method, const char *method)
{
    if (strcmp (route_method, method) == 0)
        return true;
    return strcmp (method, "HEAD") == 0 && strcmp (route_method, "GET") == 0;
}

static void
s_allow (xs_route_match_t *m, const char *method)
{
    if (strstr (m->allow, method))
        return;
    size_t used = strlen (m->allow);
    snprintf (m->allow + used, sizeof m->allow - used, "%s%s", used ? ", " : "", method);
}

/* Splits a path into *segs (in m->buf) and finds the project: the route
   set to try is ROOT (exact paths) or VERSIONED (under /v3). */
static int
s_prepare (const xs_api_router_t *self, const char *path, xs_route_match_t *m,
           char **segs, size_t *nsegs, bool *versioned)
{
    size_t plen = strlen (path);
    if (plen == 0 || plen > XS_ROUTE_PATH_MAX || path [0] != '/')
        return -1;
    memcpy (m->buf, path, plen + 1);
    if (s_split (m->buf, segs, nsegs))
        return -1;
    *versioned = *nsegs >= 2 && strcmp (segs [0], "v3") == 0;
    if (!*versioned)
        return 0;
    if (xs_api_router_is_collection (self, segs [1])) {
        memmove (segs, segs + 1, (*nsegs - 1) * sizeof *segs);
        *nsegs -= 1;
        return 0;
    }
    if (*nsegs < 3 || !xs_api_project_id_valid (segs [1]))
        return -1;
    m->project = segs [1];
    memmove (segs, segs + 2, (*nsegs - 2) * sizeof *segs);
    *nsegs -= 2;
    return 0;
}

xs_route_result_t
xs_api_router_match (const xs_api_router_t *self, const char *method, const char *path,
                     xs_route_match_t *match)
{
    memset (match, 0, offsetof (xs_route_match_t, buf));
    char *segs [S_MAX_SEGMENTS];
    size_t nsegs = 0;
    bool versioned = false;
    s_caps_t best = {0};
    int best_score = -1;
    if (s_prepare (self, path, match, segs, &nsegs, &versioned) == 0) {
        for (const xs_api_route_t *r = self->table; r->method; r++) {
            s_caps_t caps = {0};
            int score = -1;
            if (r->flags & XS_ROUTE_ROOT)
                score = strcmp (r->pattern, path) == 0 ? 0 : -1;
            else if (versioned)
                score = s_match_pattern (r->pattern, segs, nsegs, &caps);
            if (score < 0)
                continue;
            if (!s_method_is (r->method, method))
                s_allow (match, r->method);
            else if (score > best_score) {
                best_score = score;
                best = caps;
                match->route = r;
            }
        }
    }
    if (best_score < 0) {
        match->route = NULL;
        match->project = NULL;
        return match->allow [0] ? XS_ROUTE_BAD_METHOD : XS_ROUTE_NOT_FOUND;
    }
    if (match->route->flags & XS_ROUTE_ROOT)
        match->project = NULL;
    match->nparams = best.n;
    for (size_t i = 0; i < best.n; i++) {
        match->names [i] = best.names [i];
        match->values [i] = best.values [i];
    }
    return XS_ROUTE_FOUND;
}

const char *
xs_route_param (const xs_route_match_t *match, const char *name)
{
    size_t len = strlen (name);
    for (size_t i = 0; i < match->nparams; i++) {
        const char *n = match->names [i];       /* "{id}" followed by "/" or "" */
        if (strncmp (n + 1, name, len) == 0 && n [len + 1] == '}')
            return match->values [i];
    }
    return NULL;
}
