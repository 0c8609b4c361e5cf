/*  Unit tests for xs_api_router: Cinder's URL forms, with and without a
    project, literal segments before captures, 404 and 405. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "catalog/api/xs_api_router.h"

static void s_h (xs_api_req_t *req, void *arg) {}

static const xs_api_route_t s_table [] = {
    {"GET", "/", s_h, XS_ROUTE_ROOT, "root"},
    {"GET", "/v3", s_h, XS_ROUTE_ROOT, "v3"},
    {"GET", "/v3/", s_h, XS_ROUTE_ROOT, "v3/"},
    {"GET", "/volumes/{id}", s_h, 0, "volume.show"},
    {"GET", "/volumes/detail", s_h, 0, "volume.detail"},
    {"GET", "/volumes", s_h, 0, "volume.list"},
    {"POST", "/volumes", s_h, XS_ROUTE_BODY, "volume.create"},
    {"DELETE", "/volumes/{id}", s_h, 0, "volume.delete"},
    {"POST", "/volumes/{id}/action", s_h, XS_ROUTE_BODY, "volume.action"},
    {"GET", "/os-quota-sets/{project}", s_h, 0, "quota.show"},
    {"POST", "/types/{type_id}/extra_specs", s_h, XS_ROUTE_BODY, "type.specs"},
    {NULL, NULL, NULL, 0, NULL},
};

static xs_api_router_t *s_router;

static int
s_setup (void **state)
{
    s_router = xs_api_router_new (s_table);
    return 0;
}

static int
s_teardown (void **state)
{
    xs_api_router_destroy (&s_router);
    xs_api_router_destroy (&s_router);     /* idempotent */
    return 0;
}

static const char *
s_name (const char *method, const char *path, xs_route_match_t *m)
{
    if (xs_api_router_match (s_router, method, path, m) != XS_ROUTE_FOUND)
        return NULL;
    return m->route->name;
}

static void
test_version_roots (void **state)
{
    xs_route_match_t m;
    assert_string_equal (s_name ("GET", "/", &m), "root");
    assert_string_equal (s_name ("GET", "/v3", &m), "v3");
    assert_string_equal (s_name ("GET", "/v3/", &m), "v3/");
    assert_null (m.project);
}

static void
test_without_project (void **state)
{
    xs_route_match_t m;
    assert_string_equal (s_name ("GET", "/v3/volumes/detail", &m), "volume.detail");
    assert_null (m.project);
    assert_string_equal (s_name ("GET", "/v3/volumes/6f4a", &m), "volume.show");
    assert_string_equal (xs_route_param (&m, "id"), "6f4a");
    assert_null (xs_route_param (&m, "i"));
    assert_string_equal (s_name ("POST", "/v3/volumes", &m), "volume.create");
}

static void
test_with_project (void **state)
{
    xs_route_match_t m;
    assert_string_equal (s_name ("GET", "/v3/demo-project/volumes/detail", &m), "volume.detail");
    assert_string_equal (m.project, "demo-project");
    assert_string_equal (s_name ("POST", "/v3/p_1/volumes/abc/action", &m), "volume.action");
    assert_string_equal (m.project, "p_1");
    assert_string_equal (xs_route_param (&m, "id"), "abc");
    assert_string_equal (s_name ("POST", "/v3/p/types/gold/extra_specs", &m), "type.specs");
    assert_string_equal (xs_route_param (&m, "type_id"), "gold");
    /* a collection name first: no project, even if a project had that name */
    assert_string_equal (s_name ("GET", "/v3/os-quota-sets/proj1", &m), "quota.show");
    assert_null (m.project);
    assert_string_equal (xs_route_param (&m, "project"), "proj1");
    assert_string_equal (s_name ("GET", "/v3/proj1/os-quota-sets/proj1", &m), "quota.show");
    assert_string_equal (m.project, "proj1");
}

static void
test_literal_beats_capture (void **state)
{
    xs_route_match_t m;
    /* "/volumes/{id}" comes first in the table, "detail" still wins */
    assert_string_equal (s_name ("GET", "/v3/volumes/detail", &m), "volume.detail");
    assert_int_equal (m.nparams, 0);
}

static void
test_not_found (void **state)
{
    xs_route_match_t m;
    assert_int_equal (xs_api_router_match (s_router, "GET", "/v3/nope", &m), XS_ROUTE_NOT_FOUND);
    assert_int_equal (xs_api_router_match (s_router, "GET", "/v2/volumes", &m),
                      XS_ROUTE_NOT_FOUND);
    assert_int_equal (xs_api_router_match (s_router, "GET", "/v3/bad project/volumes", &m),
                      XS_ROUTE_NOT_FOUND);
    assert_int_equal (xs_api_router_match (s_router, "GET", "/v3//volumes", &m),
                      XS_ROUTE_NOT_FOUND);
    assert_int_equal (xs_api_router_match (s_router, "GET", "/v3/p/servers/detail", &m),
                      XS_ROUTE_NOT_FOUND);
    /* "backups" is one of Cinder's collections: never a project */
    assert_int_equal (xs_api_router_match (s_router, "GET", "/v3/backups/volumes", &m),
                      XS_ROUTE_NOT_FOUND);
    assert_int_equal (xs_api_router_match (s_router, "GET", "volumes", &m), XS_ROUTE_NOT_FOUND);
    assert_int_equal (xs_api_router_match (s_router, "GET", "", &m), XS_ROUTE_NOT_FOUND);
    char long_path [3000];
    memset (long_path, 'a', sizeof long_path - 1);
    long_path [0] = '/';
    long_path [sizeof long_path - 1] = '\0';
    assert_int_equal (xs_api_router_match (s_router, "GET", long_path, &m), XS_ROUTE_NOT_FOUND);
    assert_null (m.route);
}

static void
test_bad_method_lists_allowed (void **state)
{
    xs_route_match_t m;
    assert_int_equal (xs_api_router_match (s_router, "PUT", "/v3/p/volumes/x", &m),
                      XS_ROUTE_BAD_METHOD);
    assert_string_equal (m.allow, "GET, DELETE");
    assert_int_equal (xs_api_router_match (s_router, "DELETE", "/v3/volumes", &m),
                      XS_ROUTE_BAD_METHOD);
    assert_string_equal (m.allow, "GET, POST");
    assert_int_equal (xs_api_router_match (s_router, "POST", "/", &m), XS_ROUTE_BAD_METHOD);
    assert_string_equal (m.allow, "GET");
}

static void
test_head_and_trailing_slash (void **state)
{
    xs_route_match_t m;
    assert_string_equal (s_name ("HEAD", "/v3/volumes", &m), "volume.list");
    assert_string_equal (s_name ("GET", "/v3/p/volumes/", &m), "volume.list");
}

static void
test_project_ids (void **state)
{
    assert_true (xs_api_project_id_valid ("demo-project_2"));
    assert_true (xs_api_project_id_valid ("be2d26c03f62413db62d5923e3fefeea"));
    assert_false (xs_api_project_id_valid (""));
    assert_false (xs_api_project_id_valid ("a.b"));
    assert_false (xs_api_project_id_valid ("a%20b"));
    char id [80];
    memset (id, 'a', 65);
    id [65] = '\0';
    assert_false (xs_api_project_id_valid (id));
    id [64] = '\0';
    assert_true (xs_api_project_id_valid (id));
    assert_true (xs_api_router_is_collection (s_router, "volumes"));
    assert_true (xs_api_router_is_collection (s_router, "os-quota-sets"));
    assert_false (xs_api_router_is_collection (s_router, "proj1"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_version_roots),
        cmocka_unit_test (test_without_project),
        cmocka_unit_test (test_with_project),
        cmocka_unit_test (test_literal_beats_capture),
        cmocka_unit_test (test_not_found),
        cmocka_unit_test (test_bad_method_lists_allowed),
        cmocka_unit_test (test_head_and_trailing_slash),
        cmocka_unit_test (test_project_ids),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
