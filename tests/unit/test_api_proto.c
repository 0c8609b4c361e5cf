/*  Unit tests for xs_api_proto: Cinder's faults, microversions, bodies,
    fields, pagination, the noauth rule and request ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "catalog/api/xs_api_proto.h"

static void
test_fault_names (void **state)
{
    assert_string_equal (xs_api_fault_name (400), "badRequest");
    assert_string_equal (xs_api_fault_name (401), "unauthorized");
    assert_string_equal (xs_api_fault_name (404), "itemNotFound");
    assert_string_equal (xs_api_fault_name (405), "badMethod");
    assert_string_equal (xs_api_fault_name (409), "conflictingRequest");
    assert_string_equal (xs_api_fault_name (413), "overLimit");
    assert_string_equal (xs_api_fault_name (415), "badMediaType");
    assert_string_equal (xs_api_fault_name (503), "serviceUnavailable");
    assert_string_equal (xs_api_fault_name (406), "computeFault");
    assert_string_equal (xs_api_fault_name (500), "computeFault");
    json_t *f = xs_api_fault (404, "Volume x could not be found.");
    char *text = json_dumps (f, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal (text, "{\"itemNotFound\":{\"code\":404,"
                               "\"message\":\"Volume x could not be found.\"}}");
    free (text);
    json_decref (f);
    assert_int_equal (xs_api_status_for (XS_EINVAL), 400);
    assert_int_equal (xs_api_status_for (XS_ENOTFOUND), 404);
    assert_int_equal (xs_api_status_for (XS_ECONFLICT), 409);
    assert_int_equal (xs_api_status_for (XS_EIO), 500);
}

static void
test_versions (void **state)
{
    xs_api_version_t v;
    xs_err_t err;
    assert_int_equal (xs_api_version_parse (NULL, &v, &err), 0);
    assert_int_equal (v.minor, 0);
    assert_int_equal (xs_api_version_parse ("volume 3.62", &v, &err), 0);
    assert_int_equal (v.major, 3);
    assert_int_equal (v.minor, 62);
    assert_int_equal (xs_api_version_parse ("volume latest", &v, &err), 0);
    assert_int_equal (v.minor, XS_API_MAX_MINOR);
    assert_int_equal (xs_api_version_parse ("compute 2.1, volume 3.5", &v, &err), 0);
    assert_int_equal (v.minor, 5);
    assert_int_equal (xs_api_version_parse ("Volume 3.0", &v, &err), 0);
    assert_int_equal (xs_api_version_parse ("compute 2.90", &v, &err), 0);  /* not ours */
    assert_int_equal (v.minor, 0);
    assert_int_equal (xs_api_version_parse ("volume 3.71", &v, &err), 406);
    assert_string_equal (err.msg, "Version 3.71 is not supported by the API. Minimum is 3.0 "
                                  "and maximum is 3.70.");
    assert_int_equal (v.minor, 0);
    assert_int_equal (xs_api_version_parse ("volume 2.0", &v, &err), 406);
    assert_int_equal (xs_api_version_parse ("volume 3.x", &v, &err), 400);
    assert_string_equal (err.msg, "API Version String 3.x is of invalid format. Must be of "
                                  "format MajorNum.MinorNum.");
    assert_int_equal (xs_api_version_parse ("volume 03.1", &v, &err), 400);
    assert_int_equal (xs_api_version_parse ("volume 3.01", &v, &err), 400);
    assert_int_equal (xs_api_version_parse ("volume", &v, &err), 400);
    assert_int_equal (xs_api_version_parse ("volume 3.1 x", &v, &err), 400);
    assert_int_equal (xs_api_version_parse ("volume 3.99999999999", &v, &err), 400);
    char buf [16];
    assert_string_equal (xs_api_version_str ((xs_api_version_t) {3, 7}, buf, sizeof buf), "3.7");
}

static void
test_json_bodies (void **state)
{
    xs_err_t err;
    const char ok [] = "{\"volume\":{\"size\":1,\"imageRef\":null,\"metadata\":{\"a\":null},"
                       "\"l\":[null,{\"b\":null}]}}";
    json_t *body = xs_api_json_parse (ok, strlen (ok), &err);
    assert_non_null (body);
    json_t *vol;
    assert_int_equal (xs_api_json_element (body, "volume", &vol, &err), 0);
    assert_null (json_object_get (vol, "imageRef"));
    assert_int_equal (json_object_size (json_object_get (vol, "metadata")), 0);
    assert_int_equal (json_object_size (json_array_get (json_object_get (vol, "l"), 1)), 0);
    assert_int_equal (xs_api_json_element (body, "snapshot", &vol, &err), -1);
    assert_string_equal (err.msg, "Missing required element 'snapshot' in request body.");
    json_decref (body);

    assert_null (xs_api_json_parse ("{\"volume\":", 10, &err));
    assert_non_null (strstr (err.msg, "Malformed request body"));
    assert_null (xs_api_json_parse ("[1]", 3, &err));
    assert_null (xs_api_json_parse ("", 0, &err));
    assert_null (xs_api_json_parse ("{\"a\":1,\"a\":2}", 13, &err));
    char deep [400] = "";
    for (int i = 0; i < 40; i++)
        strcat (deep, "{\"a\":");
    strcat (deep, "1");
    for (int i = 0; i < 40; i++)
        strcat (deep, "}");
    assert_null (xs_api_json_parse (deep, strlen (deep), &err));
    assert_non_null (strstr (err.msg, "deeper"));
}

static void
test_json_fields (void **state)
{
    xs_err_t err;
    json_t *o = json_pack ("{s:s, s:i, s:s, s:s, s:b, s:s, s:i, s:f, s:s}", "name", "web",
                           "size", 10, "ssize", "12", "bad", "1x", "flag", 1, "sflag", "No",
                           "n", 5, "real", 1.0, "ctl", "a\001b");
    const char *s;
    assert_int_equal (xs_api_json_string (o, "name", 255, &s, &err), 0);
    assert_string_equal (s, "web");
    assert_int_equal (xs_api_json_string (o, "absent", 255, &s, &err), 0);
    assert_null (s);
    assert_int_equal (xs_api_json_string (o, "size", 255, &s, &err), -1);
    assert_string_equal (err.msg, "Invalid input for field/attribute size. Value: 10. "
                                  "Not a string.");
    assert_int_equal (xs_api_json_string (o, "ctl", 255, &s, &err), -1);
    assert_non_null (strstr (err.msg, "control character"));
    assert_int_equal (xs_api_json_string (o, "name", 2, &s, &err), -1);
    long long n;
    bool present;
    assert_int_equal (xs_api_json_int (o, "size", 1, 100, &n, &present, &err), 0);
    assert_true (present);
    assert_int_equal (n, 10);
    assert_int_equal (xs_api_json_int (o, "ssize", 1, 100, &n, &present, &err), 0);
    assert_int_equal (n, 12);
    assert_int_equal (xs_api_json_int (o, "bad", 1, 100, &n, &present, &err), -1);
    assert_int_equal (xs_api_json_int (o, "real", 1, 100, &n, &present, &err), -1);
    assert_int_equal (xs_api_json_int (o, "size", 11, 100, &n, &present, &err), -1);
    assert_non_null (strstr (err.msg, "Must be between 11 and 100."));
    assert_int_equal (xs_api_json_int (o, "absent", 1, 100, &n, &present, &err), 0);
    assert_false (present);
    bool b;
    assert_int_equal (xs_api_json_bool (o, "flag", &b, &present, &err), 0);
    assert_true (b);
    assert_int_equal (xs_api_json_bool (o, "sflag", &b, &present, &err), 0);
    assert_false (b);
    assert_true (present);
    assert_int_equal (xs_api_json_bool (o, "n", &b, &present, &err), -1);
    json_decref (o);
}

static void
test_paging (void **state)
{
    xs_api_page_t p;
    xs_err_t err;
    assert_int_equal (xs_api_page_parse (NULL, NULL, NULL, &p, &err), 0);
    assert_int_equal (p.limit, 1000);
    assert_false (p.limit_given);
    assert_int_equal (xs_api_page_parse ("5000", "m", " 3 ", &p, &err), 0);
    assert_int_equal (p.limit, 1000);
    assert_string_equal (p.marker, "m");
    assert_int_equal (p.offset, 3);
    assert_int_equal (xs_api_page_parse ("0", "", NULL, &p, &err), 0);
    assert_int_equal (p.limit, 1000);
    assert_null (p.marker);
    assert_int_equal (xs_api_page_parse ("x", NULL, NULL, &p, &err), -1);
    assert_string_equal (err.msg, "limit param must be an integer");
    assert_int_equal (xs_api_page_parse ("-1", NULL, NULL, &p, &err), -1);
    assert_string_equal (err.msg, "limit param must be positive");
    assert_int_equal (xs_api_page_parse (NULL, NULL, "-2", &p, &err), -1);
    assert_int_equal (xs_api_page_parse (NULL, NULL, "1e3", &p, &err), -1);

    json_t *items = json_pack ("[{s:s},{s:s},{s:s},{s:s},{s:s}]", "id", "e", "id", "d",
                               "id", "c", "id", "b", "id", "a");
    assert_int_equal (xs_api_page_parse ("2", NULL, NULL, &p, &err), 0);
    json_t *page = xs_api_page_array (items, &p, &err);
    assert_int_equal (json_array_size (page), 2);
    assert_true (xs_api_page_full (&p, 2));
    json_decref (page);
    assert_int_equal (xs_api_page_parse ("2", "d", NULL, &p, &err), 0);
    page = xs_api_page_array (items, &p, &err);
    assert_string_equal (json_string_value (json_object_get (json_array_get (page, 0), "id")),
                         "c");
    json_decref (page);
    assert_int_equal (xs_api_page_parse ("2", "b", NULL, &p, &err), 0);
    page = xs_api_page_array (items, &p, &err);
    assert_int_equal (json_array_size (page), 1);
    assert_false (xs_api_page_full (&p, 1));
    json_decref (page);
    assert_int_equal (xs_api_page_parse (NULL, "zz", NULL, &p, &err), 0);
    assert_null (xs_api_page_array (items, &p, &err));
    assert_string_equal (err.msg, "Invalid input received: marker not found: zz");
    json_decref (items);

    char *q = NULL;
    xs_api_query_append (&q, "name", "a b&c=d/é");
    xs_api_query_append (&q, "all_tenants", "1");
    xs_api_query_append (&q, "flag", NULL);
    assert_string_equal (q, "name=a%20b%26c%3Dd%2F%C3%A9&all_tenants=1&flag");
    free (q);
}

static void
test_noauth_rule (void **state)
{
    xs_api_identity_t id;
    xs_err_t err;
    /* the URL first, then X-Project-Id, then the token after ':' */
    assert_int_equal (xs_api_noauth_identity ("urlp", "hdrp", "bob", "alice:tokp", NULL, &id,
                                              &err), 0);
    assert_string_equal (id.project_id, "urlp");
    assert_string_equal (id.user_id, "bob");
    assert_true (id.is_admin);
    assert_int_equal (xs_api_noauth_identity (NULL, "hdrp", NULL, "alice:tokp", NULL, &id,
                                              &err), 0);
    assert_string_equal (id.project_id, "hdrp");
    assert_string_equal (id.user_id, "alice");
    assert_int_equal (xs_api_noauth_identity (NULL, NULL, NULL, "alice:tokp", NULL, &id,
                                              &err), 0);
    assert_string_equal (id.project_id, "tokp");
    /* OSC: "notused", no headers */
    assert_int_equal (xs_api_noauth_identity (NULL, NULL, NULL, "notused", "dflt", &id, &err), 0);
    assert_string_equal (id.project_id, "dflt");
    assert_string_equal (id.user_id, "admin");
    assert_int_equal (xs_api_noauth_identity (NULL, NULL, NULL, NULL, NULL, &id, &err), 0);
    assert_string_equal (id.project_id, "admin");
    /* the URL project wins over a different token project: no 400 */
    assert_int_equal (xs_api_noauth_identity ("p1", NULL, NULL, "u:p2", NULL, &id, &err), 0);
    assert_string_equal (id.project_id, "p1");
    assert_int_equal (xs_api_noauth_identity (NULL, "bad id", NULL, NULL, NULL, &id, &err), -1);
    assert_int_equal (err.kind, XS_EINVAL);
    assert_int_equal (xs_api_noauth_identity (NULL, NULL, "u/x", NULL, NULL, &id, &err), -1);
}

static void
test_request_ids (void **state)
{
    char a [XS_API_REQ_ID_SIZE], b [XS_API_REQ_ID_SIZE];
    xs_api_request_id (a);
    xs_api_request_id (b);
    assert_int_equal (strlen (a), 40);
    assert_true (xs_api_request_id_valid (a));
    assert_string_not_equal (a, b);
    assert_int_equal (a [4 + 14], '4');                 /* version 4 */
    assert_non_null (strchr ("89ab", a [4 + 19]));      /* RFC 4122 variant */
    assert_false (xs_api_request_id_valid ("req-ABCDEF00-0000-4000-8000-000000000000"));
    assert_false (xs_api_request_id_valid ("6f4a2b3c-0000-4000-8000-00000000dead"));
    assert_false (xs_api_request_id_valid (NULL));
}

/* The list writer's text is the one jansson dumps for the same tree. */
static void
s_assert_list_is (const char *text, size_t len, const json_t *tree)
{
    char *want = json_dumps (tree, JSON_COMPACT);
    assert_string_equal (text, want);
    assert_int_equal (len, strlen (want));
    free (want);
}

static void
test_list_writer (void **state)
{
    /* Empty, no tail: {"volumes":[]}. */
    xs_api_list_t *list = xs_api_list_new ("volumes", 0);
    assert_int_equal (xs_api_list_size (list), 0);
    size_t len = 0;
    char *text = xs_api_list_text (&list, NULL, &len);
    assert_null (list);
    assert_string_equal (text, "{\"volumes\":[]}");
    assert_int_equal (len, 14);
    free (text);

    /* Items written from ONE template, its values changed in between (as
       a page does), a small size hint (the buffer grows), an empty tail. */
    json_t *h0 = xs_api_tmpl_hole (0), *h1 = xs_api_tmpl_hole (1);
    json_t *shape = json_pack ("{s:O, s:O}", "id", h0, "name", h1);
    xs_api_tmpl_t *tmpl = xs_api_tmpl_new (shape, 2);
    json_t *own_id = json_integer (0), *own_name = json_string ("");
    list = xs_api_list_new ("snap\"shots", 1);
    json_t *item = json_object ();
    json_t *want = json_pack ("{s:[]}", "snap\"shots");
    for (int i = 0; i < 300; i++) {
        const char *name = i % 2 ? "caf\u00e9 \"x\"" : NULL;
        xs_api_val_t values [2] = { xs_api_val_int (own_id, i),
                                    xs_api_val_text (own_name, name) };
        xs_api_list_add_tmpl (list, tmpl, values);
        json_object_set_new (item, "id", json_integer (i));
        json_object_set_new (item, "name", name ? json_string (name) : json_null ());
        json_array_append_new (json_object_get (want, "snap\"shots"), json_deep_copy (item));
    }
    assert_int_equal (xs_api_list_size (list), 300);
    json_t *tail = json_object ();
    text = xs_api_list_text (&list, tail, &len);
    s_assert_list_is (text, len, want);
    free (text);

    /* A tail's members follow the list, in their order. */
    list = xs_api_list_new ("volumes", 0);
    xs_api_val_t values [2] = { xs_api_val_int (own_id, 299),
                                xs_api_val_text (own_name, "caf\u00e9 \"x\"") };
    xs_api_list_add_tmpl (list, tmpl, values);
    json_object_set_new (tail, "volumes_links", json_pack ("[{s:s}]", "rel", "next"));
    json_object_set_new (tail, "count", json_integer (7));
    text = xs_api_list_text (&list, tail, &len);
    json_decref (want);
    want = json_pack ("{s:[O], s:[{s:s}], s:i}", "volumes", item, "volumes_links", "rel", "next",
                      "count", 7);
    s_assert_list_is (text, len, want);
    free (text);
    json_decref (want);
    json_decref (tail);
    json_decref (item);
    json_decref (own_id);
    json_decref (own_name);
    xs_api_tmpl_destroy (&tmpl);
    json_decref (shape);
    json_decref (h0);
    json_decref (h1);

    /* Destroyed unfinished: nothing leaks (ASan), NULL is fine. */
    list = xs_api_list_new ("volumes", 0);
    xs_api_list_destroy (&list);
    assert_null (list);
    xs_api_list_destroy (&list);
    xs_api_list_destroy (NULL);
}

/* Items from a template are the text jansson dumps for the template with
   the values in place of its holes, whatever the values hold. */
static void
test_tmpl (void **state)
{
    (void) state;
    json_t *h0 = xs_api_tmpl_hole (0), *h1 = xs_api_tmpl_hole (1), *h2 = xs_api_tmpl_hole (2);
    json_t *h3 = xs_api_tmpl_hole (3), *h10 = xs_api_tmpl_hole (10);
    /* Hole 2 is left out; hole 10 after hole 1 must not be taken for it. */
    json_t *object = json_pack ("{s:O, s:[{s:s, s:O}], s:n, s:O, s:{}, s:O}", "id", h1, "links",
                                "rel", "self", "href", h10, "description", "size", h0,
                                "metadata", "last", h3);
    xs_api_tmpl_t *tmpl = xs_api_tmpl_new (object, 11);
    assert_non_null (tmpl);
    json_t *want = json_pack ("{s:[]}", "volumes");
    xs_api_list_t *list = xs_api_list_new ("volumes", 1);      /* grows */
    const char *texts [] = { "plain", "caf\u00e9 \"quoted\" \\ \n", "" };
    for (int i = 0; i < 3; i++) {
        json_t *v [11];
        v [0] = json_integer (i * 1000000000000LL);
        v [1] = json_string (texts [i]);
        v [3] = i == 2 ? json_null () : json_pack ("{s:i}", "nested", i);
        for (int k = 4; k < 10; k++)
            v [k] = json_string ("not in the template");
        v [10] = json_string (texts [2 - i]);
        v [2] = json_null ();
        /* Hole 3's value given as the text jansson dumped of it, the
           others dumped by the writer; hole 2's never read. */
        json_t *dumped = xs_api_dumped (v [3]);
        xs_api_val_t values [11];
        for (int k = 0; k < 11; k++)
            values [k] = (xs_api_val_t) {.value = v [k]};
        values [2] = (xs_api_val_t) {.value = NULL, .json = NULL, .len = 0};
        values [3] = (xs_api_val_t) {.json = json_string_value (dumped),
                                     .len = json_string_length (dumped)};
        xs_api_list_add_tmpl (list, tmpl, values);
        json_t *item = json_pack ("{s:O, s:[{s:s, s:O}], s:n, s:O, s:{}, s:O}", "id", v [1],
                                  "links", "rel", "self", "href", v [10], "description",
                                  "size", v [0], "metadata", "last", v [3]);
        json_array_append_new (json_object_get (want, "volumes"), item);
        /* One item alone, as an object: the same. */
        json_t *one = xs_api_tmpl_object (tmpl, values);
        assert_true (json_equal (one, item));
        json_decref (one);
        json_decref (dumped);
        for (int k = 0; k < 11; k++)
            json_decref (v [k]);
    }
    size_t len;
    char *text = xs_api_list_text (&list, NULL, &len);
    s_assert_list_is (text, len, want);
    free (text);
    json_decref (want);
    xs_api_tmpl_destroy (&tmpl);
    assert_null (tmpl);
    xs_api_tmpl_destroy (&tmpl);
    xs_api_tmpl_destroy (NULL);
    json_decref (object);

    /* No holes: the constant text itself. */
    object = json_pack ("{s:b}", "encrypted", 0);
    tmpl = xs_api_tmpl_new (object, 0);
    json_t *one = xs_api_tmpl_object (tmpl, NULL);
    assert_true (json_equal (one, object));
    json_decref (one);
    xs_api_tmpl_destroy (&tmpl);
    json_decref (object);

    /* A string value: the text, null for NULL or for bytes that are not
       UTF-8 (a store row's garbage never reaches a reply). */
    json_t *own = json_string ("");
    assert_string_equal (json_string_value (xs_api_val_text (own, "ok").value), "ok");
    assert_true (json_is_null (xs_api_val_text (own, NULL).value));
    assert_true (json_is_null (xs_api_val_text (own, "bad \xff\xfe").value));
    json_decref (own);

    /* A hole twice, or no object: refused. */
    object = json_pack ("{s:O, s:O}", "a", h0, "b", h0);
    assert_null (xs_api_tmpl_new (object, 1));
    json_decref (object);
    assert_null (xs_api_tmpl_new (h0, 1));
    assert_null (xs_api_tmpl_new (NULL, 1));
    json_decref (h0);
    json_decref (h1);
    json_decref (h2);
    json_decref (h3);
    json_decref (h10);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_fault_names),
        cmocka_unit_test (test_versions),
        cmocka_unit_test (test_json_bodies),
        cmocka_unit_test (test_json_fields),
        cmocka_unit_test (test_paging),
        cmocka_unit_test (test_noauth_rule),
        cmocka_unit_test (test_request_ids),
        cmocka_unit_test (test_list_writer),
        cmocka_unit_test (test_tmpl),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
