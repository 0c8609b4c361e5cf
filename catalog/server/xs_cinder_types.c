/*  xs_cinder_types: the Block Storage API's volume types, which are the
    flavors (ids: name-based uuids of their labels).
*/
#include "xs_cinder_int.h"

#include <stdlib.h>
#include <string.h>

#include "xs_mem.h"

/* Cinder's volume type of f (an admin flavor view). */
static json_t *
s_type_view (const json_t *f)
{
    char id [37];
    xs_cinder_type_id (xs_cinder_str (f, "label"), id);
    const char *description = xs_cinder_str (f, "description");
    return xs_nn (json_pack ("{s:s, s:s, s:o, s:b, s:{}, s:b, s:n}", "id", id,
                             "name", xs_cinder_str (f, "label"),
                             "description", description && *description
                                            ? xs_nn (json_string (description)) : json_null (),
                             "is_public", 1, "extra_specs",
                             "os-volume-type-access:is_public", 1, "qos_specs_id"));
}

/* The flavor of `key` (a type id or a name) in an admin flavor list, or
   NULL. Borrowed. */
static json_t *
s_find_type (json_t *flavors, const char *key)
{
    size_t i;
    json_t *f;
    json_array_foreach (flavors, i, f) {
        char id [37];
        xs_cinder_type_id (xs_cinder_str (f, "label"), id);
        if (streq (id, key) || streq (xs_cinder_str (f, "label"), key))
            return f;
    }
    return NULL;
}

/* =========================================================================
    Volume types: the flavors
   ========================================================================= */

static void
s_types_done (xs_cinder_t *self, xs_api_req_t **req_p, xs_cinder_call_t *call,
              const xs_reply_answer_t *answer)
{
    if (!answer->result) {
        xs_cinder_reply_failure (req_p, answer, 500);
        return;
    }
    json_t *flavors = json_object_get (answer->result, "flavors");
    if (call->key) {
        json_t *f = s_find_type (flavors, call->key);
        if (f)
            xs_api_reply_json (req_p, 200, xs_nn (json_pack ("{s:o}", "volume_type",
                                                             s_type_view (f))));
        else
            xs_api_reply_error (req_p, 404, "Volume type %s could not be found.", call->key);
        return;
    }
    json_t *types = xs_nn (json_array ());
    size_t i;
    json_t *f;
    json_array_foreach (flavors, i, f)
        json_array_append_new (types, s_type_view (f));
    xs_api_reply_json (req_p, 200, xs_nn (json_pack ("{s:o}", "volume_types", types)));
}

void
xs_cinder_types (xs_api_req_t *req, void *arg)
{
    xs_cinder_call ((xs_cinder_t *) arg, req, "flavor_list", xs_nn (json_object ()),
                    s_types_done, NULL);
}

void
xs_cinder_type_show (xs_api_req_t *req, void *arg)
{
    xs_cinder_call ((xs_cinder_t *) arg, req, "flavor_list", xs_nn (json_object ()), s_types_done,
                    xs_api_req_param (req, "id"));
}

static void
s_type_create_done (xs_cinder_t *self, xs_api_req_t **req_p, xs_cinder_call_t *call,
                    const xs_reply_answer_t *answer)
{
    if (answer->result)
        xs_api_reply_json (req_p, 200, xs_nn (json_pack ("{s:o}", "volume_type",
                           s_type_view (json_object_get (answer->result, "flavor")))));
    else
    if (answer->err->kind == XS_ECONFLICT)
        xs_api_reply_error (req_p, 409, "Volume Type %s already exists.", call->key);
    else
        xs_cinder_reply_failure (req_p, answer, 409);
}

void
xs_cinder_type_create (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    json_t *body = NULL;
    const char *name = NULL, *description = NULL;
    xs_err_t err;
    if (xs_cinder_refuse_non_admin (self, &req))
        return;
    if (xs_api_json_element (xs_api_req_json (req), "volume_type", &body, &err)
    ||  xs_api_json_string (body, "name", 255, &name, &err)
    ||  xs_api_json_string (body, "description", 255, &description, &err)) {
        xs_api_reply_err (&req, &err);
        return;
    }
    if (!name || !*name) {
        xs_api_reply_error (&req, 400, "Invalid input received: a volume type needs a name.");
        return;
    }
    json_t *args = xs_nn (json_pack ("{s:s}", "label", name));
    if (description)
        json_object_set_new (args, "description", json_string (description));
    xs_cinder_call (self, req, "flavor_create", args, s_type_create_done, name);
}

/* The flavor label of the route's {id} (type id or name), or NULL after a
   404 (answered). Caller frees. */
static char *
s_route_type (xs_cinder_t *self, xs_api_req_t **req_p)
{
    const char *key = xs_api_req_param (*req_p, "id");
    char *label = NULL;
    xs_flavor_t **flavors = xs_store_flavor_list (self->store, NULL);
    for (xs_flavor_t **f = flavors; f && *f && !label; f++) {
        char id [37];
        xs_cinder_type_id ((*f)->label, id);
        if (streq (id, key) || streq ((*f)->label, key))
            label = xs_strdup ((*f)->label);
    }
    xs_flavor_list_destroy (&flavors);
    if (!label)
        xs_api_reply_error (req_p, 404, "Volume type %s could not be found.", key);
    return label;
}

static void
s_type_delete_done (xs_cinder_t *self, xs_api_req_t **req_p, xs_cinder_call_t *call,
                    const xs_reply_answer_t *answer)
{
    if (answer->result)
        xs_api_reply_empty (req_p, 202);
    else
    if (answer->err->kind == XS_ECONFLICT)
        xs_api_reply_error (req_p, 400, "Target volume type is still in use. (%s)",
                            answer->err->msg);
    else
        xs_cinder_reply_failure (req_p, answer, 400);
}

void
xs_cinder_type_delete (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    if (xs_cinder_refuse_non_admin (self, &req))
        return;
    char *label = s_route_type (self, &req);
    if (label)
        xs_cinder_call (self, req, "flavor_delete", xs_nn (json_pack ("{s:s}", "label", label)),
                        s_type_delete_done, label);
    free (label);
}

void
xs_cinder_type_extra_specs (xs_api_req_t *req, void *arg)
{
    char *label = s_route_type ((xs_cinder_t *) arg, &req);
    if (label)
        xs_api_reply_json (&req, 200, xs_nn (json_pack ("{s:{}}", "extra_specs")));
    free (label);
}

void
xs_cinder_type_extra_specs_set (xs_api_req_t *req, void *arg)
{
    xs_cinder_t *self = (xs_cinder_t *) arg;
    if (xs_cinder_refuse_non_admin (self, &req))
        return;
    char *label = s_route_type (self, &req);
    if (label)
        xs_api_reply_error (&req, 400, "Invalid input received: xensm keeps no extra specs; a "
                            "type's backends are added with `xensm-manage sm backend add %s "
                            "...`.", label);
    free (label);
}
