/*  xs_fake_catalog: a stand-in for xensm-catalogd's admin socket. */
#include "xs_fake_catalog.h"
#include "xs_mem.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct _xs_fake_catalog_t {
    zactor_t *actor;
    char *endpoint;
};

/* ---------------------------------------------------------------------
   The actor
   --------------------------------------------------------------------- */

typedef struct {
    zsock_t *pipe;
    zsock_t *router;
    zlist_t *requests;      /* request bodies since the last TAKE (strings) */
    char *reply;            /* the standing reply; NULL or "": none          */
    zmsg_t *script;         /* bodies for the next request, or NULL          */
} s_actor_t;

/* `size` bytes of `data` with every XS_FAKE_CATALOG_ID replaced by `id`. */
static zframe_t *
s_substitute (const char *data, size_t size, const char *id)
{
    const size_t mark = strlen (XS_FAKE_CATALOG_ID);
    zchunk_t *out = zchunk_new (NULL, size);
    const char *p = data, *end = data + size;
    const char *hit;
    while ((hit = memmem (p, (size_t) (end - p), XS_FAKE_CATALOG_ID, mark))) {
        zchunk_extend (out, p, (size_t) (hit - p));
        zchunk_extend (out, id, strlen (id));
        p = hit + mark;
    }
    zchunk_extend (out, p, (size_t) (end - p));
    zframe_t *frame = zframe_new (zchunk_data (out), zchunk_size (out));
    zchunk_destroy (&out);
    return frame;
}

/* Sends [routing id][""][body] on the router. */
static void
s_send_body (s_actor_t *self, zframe_t *routing_id, zframe_t **body_p)
{
    zmsg_t *out = zmsg_new ();
    zframe_t *copy = zframe_dup (routing_id);
    zmsg_append (out, &copy);
    zmsg_addstr (out, "");
    zmsg_append (out, body_p);
    zmsg_send (&out, self->router);
}

/* Answers one request (`body`, NUL-terminated, may be NULL) from `routing_id`. */
static void
s_answer (s_actor_t *self, zframe_t *routing_id, const char *body)
{
    json_t *request = body ? json_loads (body, 0, NULL) : NULL;
    const char *id = json_string_value (json_object_get (request, "id"));
    if (self->script) {
        for (zframe_t *f = zmsg_first (self->script); f; f = zmsg_next (self->script)) {
            zframe_t *reply = s_substitute ((const char *) zframe_data (f), zframe_size (f),
                                            id ? id : "");
            s_send_body (self, routing_id, &reply);
        }
        zmsg_destroy (&self->script);
    }
    else {
        json_t *answer = self->reply && *self->reply ? json_loads (self->reply, 0, NULL) : NULL;
        if (answer) {
            json_object_set_new (answer, "v", json_integer (1));
            json_object_set (answer, "id", json_object_get (request, "id"));
            char *text = xs_nn (json_dumps (answer, JSON_COMPACT));
            zframe_t *reply = zframe_new (text, strlen (text));
            s_send_body (self, routing_id, &reply);
            free (text);
        }
        json_decref (answer);
    }
    json_decref (request);
}

/* A request on the router: [routing id][""][body]. */
static void
s_on_request (s_actor_t *self, zmsg_t *msg)
{
    zframe_t *routing_id = zmsg_pop (msg);
    zframe_t *delimiter = zmsg_pop (msg);
    char *body = zmsg_popstr (msg);
    if (body)
        zlist_append (self->requests, body);     /* autofree: copied */
    if (routing_id)
        s_answer (self, routing_id, body);
    zstr_free (&body);
    zframe_destroy (&routing_id);
    zframe_destroy (&delimiter);
}

/* A command on the pipe. Returns false on $TERM. */
static bool
s_on_command (s_actor_t *self, zmsg_t *msg)
{
    char *cmd = zmsg_popstr (msg);
    bool go_on = cmd && !streq (cmd, "$TERM");
    if (go_on && streq (cmd, "REPLY")) {
        zstr_free (&self->reply);
        self->reply = zmsg_popstr (msg);
    }
    else
    if (go_on && streq (cmd, "SCRIPT")) {
        zframe_t *body = zmsg_pop (msg);
        if (!self->script)
            self->script = zmsg_new ();
        if (body)
            zmsg_append (self->script, &body);
    }
    else
    if (go_on && streq (cmd, "TAKE")) {
        zmsg_t *out = zmsg_new ();
        zmsg_addstr (out, "REQUESTS");       /* an empty zmsg sends nothing */
        for (char *r = (char *) zlist_first (self->requests); r;
             r = (char *) zlist_next (self->requests))
            zmsg_addstr (out, r);
        zlist_purge (self->requests);
        zmsg_send (&out, self->pipe);
    }
    else
    if (go_on && streq (cmd, "ENDPOINT")) {
        char *endpoint = zsock_last_endpoint (self->router);
        zstr_send (self->pipe, endpoint ? endpoint : "");
        zstr_free (&endpoint);
    }
    zstr_free (&cmd);
    return go_on;
}

/* The actor: binds a ROUTER on `args` (the endpoint), then serves the pipe
   (REPLY text, SCRIPT body, TAKE, ENDPOINT, $TERM) and the router. */
static void
s_actor (zsock_t *pipe, void *args)
{
    s_actor_t self = { .pipe = pipe };
    self.router = zsock_new (ZMQ_ROUTER);
    if (self.router)
        zsock_set_sndhwm (self.router, 0);  /* never drop a reply */
    if (!self.router || zsock_bind (self.router, "%s", (const char *) args) < 0) {
        zsock_signal (pipe, 1);
        zsock_destroy (&self.router);
        return;
    }
    zsock_signal (pipe, 0);
    self.requests = xs_nn (zlist_new ());
    zlist_autofree (self.requests);
    zpoller_t *poller = xs_nn (zpoller_new (pipe, self.router, NULL));
    bool go_on = true;
    while (go_on) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, -1);
        zmsg_t *msg = which ? zmsg_recv (which) : NULL;
        if (!msg)
            break;
        if (which == pipe)
            go_on = s_on_command (&self, msg);
        else
            s_on_request (&self, msg);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zmsg_destroy (&self.script);
    zstr_free (&self.reply);
    zlist_destroy (&self.requests);
    zsock_destroy (&self.router);
}

/* ---------------------------------------------------------------------
   The object
   --------------------------------------------------------------------- */

xs_fake_catalog_t *
xs_fake_catalog_new (const char *endpoint)
{
    zactor_t *actor = zactor_new (s_actor, (void *) endpoint);
    if (!actor)
        return NULL;
    xs_fake_catalog_t *self = xs_zalloc (sizeof *self);
    self->actor = actor;
    zstr_send (actor, "ENDPOINT");
    self->endpoint = zstr_recv (actor);
    if (!self->endpoint || !*self->endpoint)
        xs_fake_catalog_destroy (&self);
    return self;
}

void
xs_fake_catalog_destroy (xs_fake_catalog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_fake_catalog_t *self = *self_p;
    zactor_destroy (&self->actor);
    zstr_free (&self->endpoint);
    free (self);
    *self_p = NULL;
}

const char *
xs_fake_catalog_endpoint (xs_fake_catalog_t *self)
{
    return self->endpoint;
}

void
xs_fake_catalog_reply (xs_fake_catalog_t *self, const char *reply)
{
    zstr_sendx (self->actor, "REPLY", reply, NULL);
}

void
xs_fake_catalog_reply_ok (xs_fake_catalog_t *self, const char *result)
{
    char *text = xs_sprintf ("{\"ok\": true, \"result\": %s}", result);
    xs_fake_catalog_reply (self, text);
    free (text);
}

void
xs_fake_catalog_reply_error (xs_fake_catalog_t *self, const char *kind, const char *message)
{
    char *text = xs_sprintf ("{\"ok\": false, \"error\": {\"code\": \"%s\", \"kind\": \"%s\", "
                             "\"message\": \"%s\"}}", kind, kind, message);
    xs_fake_catalog_reply (self, text);
    free (text);
}

void
xs_fake_catalog_script (xs_fake_catalog_t *self, const void *data, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "SCRIPT");
    zmsg_addmem (msg, data, size);
    zmsg_send (&msg, self->actor);
}

json_t *
xs_fake_catalog_take (xs_fake_catalog_t *self)
{
    zstr_send (self->actor, "TAKE");
    zmsg_t *msg = zmsg_recv (self->actor);
    char *header = msg ? zmsg_popstr (msg) : NULL;
    json_t *list = NULL;
    if (header && streq (header, "REQUESTS")) {
        list = xs_nn (json_array ());
        char *body;
        while ((body = zmsg_popstr (msg))) {
            json_t *request = json_loads (body, 0, NULL);
            json_array_append_new (list, request ? request : json_null ());
            zstr_free (&body);
        }
    }
    zstr_free (&header);
    zmsg_destroy (&msg);
    return list;
}
