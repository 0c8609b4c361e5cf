/*  xs_api_proto: Cinder's protocol details, in one place, as pure functions
    (no sockets, no loop): fault names and bodies, the microversion header,
    request bodies, field checks, pagination parameters, the noauth identity
    rule and request ids. xs_api uses them for every request; tests and the
    fuzzer call them directly.

    Everything returned as char * or json_t * is the caller's.
*/
#ifndef XS_API_PROTO_H_INCLUDED
#define XS_API_PROTO_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "xs_err.h"

/* The microversions served. Every microversion up to the maximum only adds
   fields or routes that xensm either serves or answers with 404. */
#define XS_API_MIN_MINOR 0
#define XS_API_MAX_MINOR 70
#define XS_API_UPDATED   "2022-08-31T00:00:00Z"

typedef struct {
    int major;
    int minor;
} xs_api_version_t;

/* ---------------------------------------------------------------------------
 *  Faults
 * ------------------------------------------------------------------------- */

/* Cinder's fault name for an HTTP status: badRequest 400, unauthorized 401,
   forbidden 403, itemNotFound 404, badMethod 405, conflictingRequest 409,
   overLimit 413, badMediaType 415, notImplemented 501, serviceUnavailable
   503, computeFault for every other (406 included). */
const char *xs_api_fault_name (unsigned status);

/* {"<fault name>": {"message": message, "code": status}}. */
json_t *xs_api_fault (unsigned status, const char *message);

/* The HTTP status for an error kind: invalid 400, not_found 404, conflict
   409, transport 503, others 500. */
unsigned xs_api_status_for (xs_errkind_t kind);

/* ---------------------------------------------------------------------------
 *  OpenStack-API-Version
 * ------------------------------------------------------------------------- */

/* Reads the header (NULL: absent) into *v: "volume 3.62", "volume latest",
   or a comma-separated list naming other services too ("compute 2.1,
   volume 3.5"); a header naming no volume version means the default 3.0.
   Returns 0, or the HTTP status of the error with *err set: 400 for bad
   syntax, 406 for a version out of range (Cinder's message, naming the
   minimum and maximum). */
unsigned xs_api_version_parse (const char *header, xs_api_version_t *v, xs_err_t *err);

/* "3.62" into buf (at least 16 bytes). */
const char *xs_api_version_str (xs_api_version_t v, char *buf, size_t size);

/* ---------------------------------------------------------------------------
 *  Request bodies and fields
 * ------------------------------------------------------------------------- */

/* Parses a request body: a JSON object, at most 32 levels deep, with every
   null member removed (null means absent). NULL with XS_EINVAL and Cinder's
   "Malformed request body" message otherwise. */
json_t *xs_api_json_parse (const char *body, size_t len, xs_err_t *err);

/* The object body[key] ("volume"): 0 and *out borrowed, or -1 with
   XS_EINVAL "Missing required element 'volume' in request body." */
int xs_api_json_element (json_t *body, const char *key, json_t **out, xs_err_t *err);

/* obj[key] as a string of at most max bytes of printable text (xs_text):
   0 with *out borrowed, NULL when absent; -1 with XS_EINVAL naming the
   field when it is not a string or not acceptable text. */
int xs_api_json_string (const json_t *obj, const char *key, size_t max, const char **out,
                        xs_err_t *err);

/* obj[key] as an integer in [min, max]; Cinder also takes a string of
   digits ("size": "10"). 0 with *present, or -1 with XS_EINVAL. */
int xs_api_json_int (const json_t *obj, const char *key, long long min, long long max,
                     long long *out, bool *present, xs_err_t *err);

/* obj[key] as a boolean: true/false, or the strings Cinder takes ("true",
   "False", "1", "no", "on" ...). 0 with *present, or -1 with XS_EINVAL. */
int xs_api_json_bool (const json_t *obj, const char *key, bool *out, bool *present,
                      xs_err_t *err);

/* ---------------------------------------------------------------------------
 *  Pagination
 * ------------------------------------------------------------------------- */

#define XS_API_MAX_LIMIT 1000           /* Cinder's osapi_max_limit */

typedef struct {
    const char *marker;         /* id of the last item seen, or NULL (borrowed) */
    size_t limit;               /* 1..1000 (a larger limit is capped)           */
    size_t offset;
    bool limit_given;
} xs_api_page_t;

/* Fills *page from the raw query values (each NULL when absent). 0, or -1
   with XS_EINVAL: "limit param must be an integer", "limit param must be
   positive", "offset ..." (Cinder's words). limit=0 means the maximum. */
int xs_api_page_parse (const char *limit, const char *marker, const char *offset,
                       xs_api_page_t *page, xs_err_t *err);

/* A page of `items` (a JSON array in the collection's stable order, each an
   object with "id"): the items after the one whose id is the marker, from
   offset, at most limit of them (new references in a new array). NULL with
   XS_EINVAL "marker [x] not found" for an unknown marker. */
json_t *xs_api_page_array (const json_t *items, const xs_api_page_t *page, xs_err_t *err);

/* True when a next link is due: a full page. */
bool xs_api_page_full (const xs_api_page_t *page, size_t nitems);

/* Appends key=value to *query ("" or "a=1&b=2"), percent-encoding both
   (unreserved characters kept). *query is realloc'ed. */
void xs_api_query_append (char **query, const char *key, const char *value);

/* ---------------------------------------------------------------------------
 *  A list reply written item by item
 *
 *  {"<key>":[item,item,...],<the tail's members>}: jansson dumps the key,
 *  every item (written from a template, below) and the tail object; the
 *  writer puts only the brackets and commas between what jansson wrote. A 1,000-volume
 *  page is then never one tree of 1,000 objects: building, dumping and
 *  freeing that tree was most of a page's CPU (bench/run "list one page").
 * ------------------------------------------------------------------------- */

typedef struct _xs_api_list_t xs_api_list_t;

/* A new list under `key`; size_hint: the bytes expected (0: a default). */
xs_api_list_t *xs_api_list_new (const char *key, size_t size_hint);

/* Frees the list (NULL and a NULL *self_p are fine) and NULLs *self_p. */
void xs_api_list_destroy (xs_api_list_t **self_p);

/* The items added so far. */
size_t xs_api_list_size (const xs_api_list_t *self);

/* Closes the list: the reply's text (NUL-terminated, the caller's to free)
   with tail's members after the list (tail: an object, or NULL for none),
   its length in *len; destroys the list. */
char *xs_api_list_text (xs_api_list_t **self_p, const json_t *tail, size_t *len);

/* ---------------------------------------------------------------------------
 *  Items written from a template
 *
 *  An object whose members are mostly the same from item to item (a
 *  volume's detail: 31 members, 14 its own) is dumped once by jansson
 *  with a marker where each varying value goes (a hole); an item is then
 *  that text with jansson's dump of each hole's value in its place. Per
 *  item, jansson dumps only the values, not the keys, the constants and
 *  the nesting (the page's dump was 62% of catalogd's CPU per page).
 * ------------------------------------------------------------------------- */

typedef struct _xs_api_tmpl_t xs_api_tmpl_t;

/* The marker of hole i, to put as a value in a template. New string. */
json_t *xs_api_tmpl_hole (size_t i);

/* A template of object `object`, in which each hole below `holes` appears
   at most once. NULL when one appears twice or object is no object (a
   bug of the caller's). */
xs_api_tmpl_t *xs_api_tmpl_new (const json_t *object, size_t holes);

/* Frees the template (NULL and a NULL *self_p are fine), NULLs *self_p. */
void xs_api_tmpl_destroy (xs_api_tmpl_t **self_p);

/* A hole's value: value, which jansson dumps there, or when value is
   NULL, json: the len bytes jansson dumped of a value before (one shared
   by many items is dumped once, not once per item). */
typedef struct {
    const json_t *value;
    const char *json;
    size_t len;
} xs_api_val_t;

/* jansson's JSON text of value (any value), as the json of an
   xs_api_val_t: a new string, the caller's. */
json_t *xs_api_dumped (const json_t *value);

/* The string own, set to text, as a value (own is reused item after
   item); JSON null for NULL or text that is not UTF-8, which no JSON
   reply may hold. */
xs_api_val_t xs_api_val_text (json_t *own, const char *text);

/* The integer own, set to n, as a value. */
xs_api_val_t xs_api_val_int (json_t *own, json_int_t n);

/* Appends the template with values [i] in hole i; the values of holes
   the template lacks are not read. */
void xs_api_list_add_tmpl (xs_api_list_t *self, const xs_api_tmpl_t *tmpl,
                           const xs_api_val_t *values);

/* The template with values in its holes, as a new object (jansson reads
   back what it wrote: for one item, where the text is no saving). */
json_t *xs_api_tmpl_object (const xs_api_tmpl_t *tmpl, const xs_api_val_t *values);

/* ---------------------------------------------------------------------------
 *  Identity
 * ------------------------------------------------------------------------- */

#define XS_API_ID_MAX 64

typedef struct {
    char project_id [XS_API_ID_MAX + 1];
    char user_id [XS_API_ID_MAX + 1];
    bool is_admin;
} xs_api_identity_t;

/* The noauth rule (block-storage-api.md 3.1, Cinder's NoAuthMiddleware made
   more tolerant). Project: the URL's, else X-Project-Id, else the part of
   X-Auth-Token after ':', else default_project. User: X-User-Id, else the
   part of the token before ':', else "admin". Everyone is admin. Any of
   the inputs may be NULL. 0, or -1 with XS_EINVAL (400) when the id picked
   is not [A-Za-z0-9_-]{1,64}. No URL/token project check: OSC sends the
   token "notused". */
int xs_api_noauth_identity (const char *url_project, const char *hdr_project,
                            const char *hdr_user, const char *token,
                            const char *default_project, xs_api_identity_t *id,
                            xs_err_t *err);

/* ---------------------------------------------------------------------------
 *  Request ids
 * ------------------------------------------------------------------------- */

#define XS_API_REQ_ID_SIZE 41           /* "req-" + 36 + NUL */

/* A new "req-<uuid4>" (lowercase) into buf. */
void xs_api_request_id (char buf [XS_API_REQ_ID_SIZE]);

/* True when id has oslo's request id form: req-<lowercase uuid>. */
bool xs_api_request_id_valid (const char *id);

#endif
