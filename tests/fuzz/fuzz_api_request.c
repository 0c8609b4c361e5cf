/*  libFuzzer target for the Block Storage API's request path that does not
    need a socket: the router (method + path against the route table, both
    URL forms), the OpenStack-API-Version header, the JSON body (parse, null
    stripping, the element and field checks a route handler makes), the
    pagination parameters and the noauth identity rule.

    The input is NUL-separated: method, path, version header, a query value
    used as limit/marker/offset, an X-Auth-Token, then the body (the rest,
    which may contain NULs). Any input routes or gives 404/405, parses or
    gives a clear 400/406, never a crash, leak or sanitizer report.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/api/xs_api_proto.h"
#include "catalog/api/xs_api_router.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void s_h (xs_api_req_t *req, void *arg) {}

static const xs_api_route_t s_routes [] = {
    {"GET", "/", s_h, XS_ROUTE_ROOT, "versions"},
    {"GET", "/v3", s_h, XS_ROUTE_ROOT, "versions"},
    {"GET", "/v3/", s_h, XS_ROUTE_ROOT, "versions"},
    {"GET", "/volumes/detail", s_h, 0, "volume.list_detail"},
    {"GET", "/volumes", s_h, 0, "volume.list"},
    {"POST", "/volumes", s_h, XS_ROUTE_BODY, "volume.create"},
    {"GET", "/volumes/{id}", s_h, 0, "volume.show"},
    {"PUT", "/volumes/{id}", s_h, XS_ROUTE_BODY, "volume.update"},
    {"DELETE", "/volumes/{id}", s_h, 0, "volume.delete"},
    {"POST", "/volumes/{id}/action", s_h, XS_ROUTE_BODY, "volume.action"},
    {"GET", "/types/{id}", s_h, 0, "type.show"},
    {"POST", "/types/{id}/extra_specs", s_h, XS_ROUTE_BODY, "type.extra_specs"},
    {"GET", "/os-quota-sets/{project}", s_h, 0, "quota.show"},
    {"GET", "/snapshots/detail", s_h, 0, "snapshot.list_detail"},
    {NULL, NULL, NULL, 0, NULL},
};

static xs_api_router_t *s_router;

static void
s_die (const char *what)
{
    fprintf (stderr, "fuzz_api_request: %s\n", what);
    abort ();
}

static void
s_fields (json_t *body)
{
    xs_err_t err;
    json_t *vol;
    if (xs_api_json_element (body, "volume", &vol, &err))
        return;
    const char *s;
    long long n;
    bool present, b;
    xs_api_json_string (vol, "name", 255, &s, &err);
    xs_api_json_string (vol, "description", 255, &s, &err);
    if (xs_api_json_int (vol, "size", 1, 1 << 30, &n, &present, &err) == 0 && present
        && (n < 1 || n > (1 << 30)))
        s_die ("size out of the range asked for");
    xs_api_json_bool (vol, "multiattach", &b, &present, &err);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_router)
        s_router = xs_api_router_new (s_routes);
    char *text = malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text [size] = '\0';
    const char *part [5] = {"", "", "", "", ""};
    size_t used = 0;
    for (int i = 0; i < 5 && used <= size; i++) {
        part [i] = text + used;
        used += strlen (text + used) + 1;
    }
    const char *body = used <= size ? text + used : "";
    size_t body_len = used <= size ? size - used : 0;

    xs_route_match_t m;
    xs_route_result_t r = xs_api_router_match (s_router, part [0], part [1], &m);
    if (r == XS_ROUTE_FOUND) {
        if (!m.route || (m.project && !xs_api_project_id_valid (m.project)))
            s_die ("found without a route, or with a bad project");
        for (size_t i = 0; i < m.nparams; i++)
            if (!m.values [i] || !*m.values [i] || strchr (m.values [i], '/'))
                s_die ("bad capture");
        xs_route_param (&m, "id");
    }
    else if (r == XS_ROUTE_BAD_METHOD && !m.allow [0])
        s_die ("405 without Allow");

    xs_api_version_t v;
    xs_err_t err;
    unsigned status = xs_api_version_parse (part [2], &v, &err);
    if (status == 0 && (v.major != 3 || v.minor < 0 || v.minor > XS_API_MAX_MINOR))
        s_die ("accepted a version out of range");
    if (status && status != 400 && status != 406)
        s_die ("version error neither 400 nor 406");

    xs_api_page_t page;
    if (xs_api_page_parse (part [3], part [3], part [3], &page, &err) == 0
        && (page.limit < 1 || page.limit > XS_API_MAX_LIMIT))
        s_die ("limit out of range");

    xs_api_identity_t id;
    if (xs_api_noauth_identity (m.route ? m.project : NULL, part [3], NULL, part [4], NULL, &id,
                                &err) == 0
        && (!xs_api_project_id_valid (id.project_id) || !id.is_admin))
        s_die ("bad noauth identity");

    json_t *json = xs_api_json_parse (body, body_len, &err);
    if (json) {
        if (!json_is_object (json))
            s_die ("body not an object");
        s_fields (json);
        json_decref (json);
    }
    free (text);
    return 0;
}
