/*  xs_api_proto: Cinder's protocol details as pure functions. */
#include "xs_api_proto.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "xs_mem.h"
#include "xs_text.h"

#define S_MAX_DEPTH 32

/* ---------------------------------------------------------------------------
 *  Faults
 * ------------------------------------------------------------------------- */

static const struct {
    unsigned status;
    const char *name;
} s_faults [] = {
    {307, "temporaryRedirect"},     /* a follower's answer to a change */
    {400, "badRequest"},
    {401, "unauthorized"},
    {403, "forbidden"},
    {404, "itemNotFound"},
    {405, "badMethod"},
    {409, "conflictingRequest"},
    {413, "overLimit"},
    {415, "badMediaType"},
    {501, "notImplemented"},
    {503, "serviceUnavailable"},
};

const char *
xs_api_fault_name (unsigned status)
{
    for (size_t i = 0; i < sizeof s_faults / sizeof s_faults [0]; i++)
        if (s_faults [i].status == status)
            return s_faults [i].name;
    return "computeFault";
}

json_t *
xs_api_fault (unsigned status, const char *message)
{
    return xs_nn (json_pack ("{s:{s:s, s:i}}", xs_api_fault_name (status),
                             "message", message ? message : "", "code", (int) status));
}

unsigned
xs_api_status_for (xs_errkind_t kind)
{
    switch (kind) {
        case XS_EINVAL:     return 400;
        case XS_ENOTFOUND:  return 404;
        case XS_ECONFLICT:  return 409;
        case XS_ETRANSPORT: return 503;
        case XS_ENOTLEADER: return 503;
        default:            return 500;
    }
}

/* ---------------------------------------------------------------------------
 *  OpenStack-API-Version
 * ------------------------------------------------------------------------- */

/* "3.62" as Cinder's regex ^([1-9]\d*)\.([1-9]\d*|0)$ reads it. */
static bool
s_version_syntax (const char *s, xs_api_version_t *v)
{
    const char *dot = strchr (s, '.');
    if (!dot || dot == s || s [0] == '0' || !dot [1] || (dot [1] == '0' && dot [2]))
        return false;
    for (const char *p = s; *p; p++)
        if (p != dot && !isdigit ((unsigned char) *p))
            return false;
    if (dot - s > 4 || strlen (dot + 1) > 4)
        return false;           /* bigger than any version: not a number we read */
    v->major = atoi (s);
    v->minor = atoi (dot + 1);
    return true;
}

unsigned
xs_api_version_parse (const char *header, xs_api_version_t *v, xs_err_t *err)
{
    *v = (xs_api_version_t) {3, XS_API_MIN_MINOR};
    if (!header)
        return 0;
    char *copy = xs_strdup (header);
    char *save = NULL;
    unsigned rc = 0;
    for (char *item = strtok_r (copy, ",", &save); item; item = strtok_r (NULL, ",", &save)) {
        char *isave = NULL;
        char *service = strtok_r (item, " \t", &isave);
        char *version = service ? strtok_r (NULL, " \t", &isave) : NULL;
        if (!service || strcasecmp (service, "volume") != 0)
            continue;
        if (!version || strtok_r (NULL, " \t", &isave)) {
            rc = 400;
            xs_err_set (err, XS_EINVAL, "API Version String %s is of invalid format. Must be "
                        "of format MajorNum.MinorNum.", version ? version : "(none)");
        }
        else if (strcmp (version, "latest") == 0)
            *v = (xs_api_version_t) {3, XS_API_MAX_MINOR};
        else if (!s_version_syntax (version, v)) {
            rc = 400;
            xs_err_set (err, XS_EINVAL, "API Version String %s is of invalid format. Must be "
                        "of format MajorNum.MinorNum.", version);
        }
        else if (v->major != 3 || v->minor < XS_API_MIN_MINOR || v->minor > XS_API_MAX_MINOR) {
            rc = 406;
            xs_err_set (err, XS_EINVAL, "Version %s is not supported by the API. Minimum is "
                        "3.%d and maximum is 3.%d.", version, XS_API_MIN_MINOR,
                        XS_API_MAX_MINOR);
        }
        break;
    }
    if (rc)
        *v = (xs_api_version_t) {3, XS_API_MIN_MINOR};
    free (copy);
    return rc;
}

const char *
xs_api_version_str (xs_api_version_t v, char *buf, size_t size)
{
    snprintf (buf, size, "%d.%d", v.major, v.minor);
    return buf;
}

/* ---------------------------------------------------------------------------
 *  Bodies and fields
 * ------------------------------------------------------------------------- */

/* Drops null members of every object, depth-first; -1 when too deep. */
static int
s_strip_nulls (json_t *value, int depth)
{
    if (depth > S_MAX_DEPTH)
        return -1;
    if (json_is_object (value)) {
        const char *key;
        json_t *member;
        void *tmp;
        json_object_foreach_safe (value, tmp, key, member) {
            if (json_is_null (member))
                json_object_del (value, key);
            else if (s_strip_nulls (member, depth + 1))
                return -1;
        }
    }
    else if (json_is_array (value)) {
        size_t i;
        json_t *item;
        json_array_foreach (value, i, item)
            if (s_strip_nulls (item, depth + 1))
                return -1;
    }
    return 0;
}

json_t *
xs_api_json_parse (const char *body, size_t len, xs_err_t *err)
{
    if (!body || len == 0) {
        xs_err_set (err, XS_EINVAL, "Malformed request body: the body is empty");
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb (body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        xs_err_set (err, XS_EINVAL, "Malformed request body: %s at line %d, column %d",
                    jerr.text, jerr.line, jerr.column);
        return NULL;
    }
    if (!json_is_object (root)) {
        json_decref (root);
        xs_err_set (err, XS_EINVAL, "Malformed request body: not a JSON object");
        return NULL;
    }
    if (s_strip_nulls (root, 0)) {
        json_decref (root);
        xs_err_set (err, XS_EINVAL, "Malformed request body: nested deeper than %d levels",
                    S_MAX_DEPTH);
        return NULL;
    }
    return root;
}

int
xs_api_json_element (json_t *body, const char *key, json_t **out, xs_err_t *err)
{
    json_t *value = body ? json_object_get (body, key) : NULL;
    if (!json_is_object (value))
        return xs_err_set (err, XS_EINVAL, "Missing required element '%s' in request body.",
                           key);
    *out = value;
    return 0;
}

/* "Invalid input for field/attribute size. Value: ... <why>" with the value
   shown as compact JSON, cut to 64 bytes. */
static int
s_invalid (xs_err_t *err, const char *key, const json_t *value, const char *why)
{
    char *text = json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text && strlen (text) > 64)
        strcpy (text + 61, "...");
    xs_err_set (err, XS_EINVAL, "Invalid input for field/attribute %s. Value: %s. %s", key,
                text ? text : "?", why);
    free (text);
    return -1;
}

int
xs_api_json_string (const json_t *obj, const char *key, size_t max, const char **out,
                    xs_err_t *err)
{
    *out = NULL;
    json_t *value = json_object_get (obj, key);
    if (!value)
        return 0;
    if (!json_is_string (value))
        return s_invalid (err, key, value, "Not a string.");
    xs_err_t terr;
    if (xs_text_check (key, json_string_value (value), max, XS_TEXT_MAY_BE_EMPTY, &terr))
        return s_invalid (err, key, value, terr.msg);
    *out = json_string_value (value);
    return 0;
}

int
xs_api_json_int (const json_t *obj, const char *key, long long min, long long max,
                 long long *out, bool *present, xs_err_t *err)
{
    *present = false;
    json_t *value = json_object_get (obj, key);
    if (!value)
        return 0;
    long long n = 0;
    if (json_is_integer (value))
        n = json_integer_value (value);
    else if (json_is_string (value)) {
        const char *s = json_string_value (value);
        char *end = NULL;
        errno = 0;
        if (!*s || strspn (s, "0123456789") != strlen (s))
            return s_invalid (err, key, value, "Not an integer.");
        n = strtoll (s, &end, 10);
        if (errno)
            return s_invalid (err, key, value, "Out of range.");
    }
    else
        return s_invalid (err, key, value, "Not an integer.");
    if (n < min || n > max) {
        char why [96];
        snprintf (why, sizeof why, "Must be between %lld and %lld.", min, max);
        return s_invalid (err, key, value, why);
    }
    *out = n;
    *present = true;
    return 0;
}

int
xs_api_json_bool (const json_t *obj, const char *key, bool *out, bool *present, xs_err_t *err)
{
    static const char *yes [] = {"true", "1", "on", "yes", "y", "t", NULL};
    static const char *no [] = {"false", "0", "off", "no", "n", "f", NULL};
    *present = false;
    json_t *value = json_object_get (obj, key);
    if (!value)
        return 0;
    if (json_is_boolean (value)) {
        *out = json_is_true (value);
        *present = true;
        return 0;
    }
    if (json_is_string (value)) {
        const char *s = json_string_value (value);
        for (size_t i = 0; yes [i]; i++)
            if (strcasecmp (s, yes [i]) == 0) {
                *out = *present = true;
                return 0;
            }
        for (size_t i = 0; no [i]; i++)
            if (strcasecmp (s, no [i]) == 0) {
                *out = false;
                *present = true;
                return 0;
            }
    }
    return s_invalid (err, key, value, "Not a boolean.");
}

/* ---------------------------------------------------------------------------
 *  Pagination
 * ------------------------------------------------------------------------- */

/* Python's int () on a query value: optional blanks and sign, digits. */
static int
s_int_param (const char *s, long long *out)
{
    while (isspace ((unsigned char) *s))
        s++;
    char *end = NULL;
    errno = 0;
    long long n = strtoll (s, &end, 10);
    if (end == s || errno || (!isdigit ((unsigned char) end [-1])))
        return -1;
    while (isspace ((unsigned char) *end))
        end++;
    if (*end)
        return -1;
    *out = n;
    return 0;
}

int
xs_api_page_parse (const char *limit, const char *marker, const char *offset,
                   xs_api_page_t *page, xs_err_t *err)
{
    memset (page, 0, sizeof *page);
    page->limit = XS_API_MAX_LIMIT;
    page->marker = marker && *marker ? marker : NULL;
    if (limit) {
        long long n;
        if (s_int_param (limit, &n))
            return xs_err_set (err, XS_EINVAL, "limit param must be an integer");
        if (n < 0)
            return xs_err_set (err, XS_EINVAL, "limit param must be positive");
        page->limit_given = true;
        if (n > 0 && n < XS_API_MAX_LIMIT)
            page->limit = (size_t) n;
    }
    if (offset) {
        long long n;
        if (s_int_param (offset, &n))
            return xs_err_set (err, XS_EINVAL, "offset must be an integer.");
        if (n < 0)
            return xs_err_set (err, XS_EINVAL, "offset must be >= 0.");
        if (n > 2147483647LL)
            return xs_err_set (err, XS_EINVAL, "offset must be <= 2147483647.");
        page->offset = (size_t) n;
    }
    return 0;
}

json_t *
xs_api_page_array (const json_t *items, const xs_api_page_t *page, xs_err_t *err)
{
    size_t start = 0;
    size_t n = json_array_size (items);
    if (page->marker) {
        size_t i;
        for (i = 0; i < n; i++) {
            const char *id = json_string_value (json_object_get (json_array_get (items, i), "id"));
            if (id && strcmp (id, page->marker) == 0)
                break;
        }
        if (i == n) {
            xs_err_set (err, XS_EINVAL, "Invalid input received: marker not found: %s",
                        page->marker);
            return NULL;
        }
        start = i + 1;
    }
    json_t *out = xs_nn (json_array ());
    for (size_t i = start + page->offset; i < n && json_array_size (out) < page->limit; i++)
        json_array_append (out, json_array_get (items, i));
    return out;
}

bool
xs_api_page_full (const xs_api_page_t *page, size_t nitems)
{
    return nitems > 0 && nitems >= page->limit;
}

static void
s_encode (FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (isalnum (*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
            fputc (*p, f);
        else
            fprintf (f, "%%%02X", *p);
    }
}

void
xs_api_query_append (char **query, const char *key, const char *value)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = xs_nn (open_memstream (&text, &size));
    if (*query && **query)
        fprintf (f, "%s&", *query);
    s_encode (f, key);
    if (value) {
        fputc ('=', f);
        s_encode (f, value);
    }
    fclose (f);
    free (*query);
    *query = text;
}

/* ---------------------------------------------------------------------------
 *  Identity
 * ------------------------------------------------------------------------- */

static bool
s_id_ok (const char *id)
{
    size_t n = strlen (id);
    if (n == 0 || n > XS_API_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum ((unsigned char) id [i]) && id [i] != '_' && id [i] != '-')
            return false;
    return true;
}

int
xs_api_noauth_identity (const char *url_project, const char *hdr_project, const char *hdr_user,
                        const char *token, const char *default_project, xs_api_identity_t *id,
                        xs_err_t *err)
{
    memset (id, 0, sizeof *id);
    const char *colon = token ? strchr (token, ':') : NULL;
    char token_user [XS_API_ID_MAX + 2] = "";
    if (colon && (size_t) (colon - token) < sizeof token_user) {
        memcpy (token_user, token, (size_t) (colon - token));
        token_user [colon - token] = '\0';
    }
    const char *project = url_project && *url_project ? url_project
                        : hdr_project && *hdr_project ? hdr_project
                        : colon && colon [1] ? colon + 1
                        : default_project && *default_project ? default_project : "admin";
    const char *user = hdr_user && *hdr_user ? hdr_user
                     : token_user [0] ? token_user : "admin";
    if (!s_id_ok (project))
        return xs_err_set (err, XS_EINVAL, "Malformed request: the project id must be 1 to %d "
                           "letters, digits, '_' or '-'", XS_API_ID_MAX);
    if (!s_id_ok (user))
        return xs_err_set (err, XS_EINVAL, "Malformed request: the user id must be 1 to %d "
                           "letters, digits, '_' or '-'", XS_API_ID_MAX);
    strcpy (id->project_id, project);
    strcpy (id->user_id, user);
    id->is_admin = true;
    return 0;
}

/* ---------------------------------------------------------------------------
 *  Request ids
 * ------------------------------------------------------------------------- */

void
xs_api_request_id (char buf [XS_API_REQ_ID_SIZE])
{
    unsigned char b [16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom (b + got, sizeof b - got, 0);
        if (n > 0)
            got += (size_t) n;
        else if (errno != EINTR)
            abort ();           /* the kernel's CSPRNG failing is not survivable */
    }
    b [6] = (unsigned char) ((b [6] & 0x0f) | 0x40);    /* version 4 */
    b [8] = (unsigned char) ((b [8] & 0x3f) | 0x80);    /* RFC 4122 variant */
    snprintf (buf, XS_API_REQ_ID_SIZE,
              "req-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
              b [0], b [1], b [2], b [3], b [4], b [5], b [6], b [7], b [8], b [9], b [10],
              b [11], b [12], b [13], b [14], b [15]);
}

bool
xs_api_request_id_valid (const char *id)
{
    static const char form [] = "req-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (!id || strlen (id) != sizeof form - 1 || strncmp (id, "req-", 4) != 0)
        return false;
    for (size_t i = 4; form [i]; i++) {
        char c = id [i];
        if (form [i] == '-' ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------------------
 *  A list reply written item by item
 * ------------------------------------------------------------------------- */

struct _xs_api_list_t {
    char *data;
    size_t len;
    size_t cap;
    size_t items;
};

/* Room for size more bytes and the terminating NUL. */
static void
s_list_reserve (xs_api_list_t *self, size_t size)
{
    if (self->len + size + 1 > self->cap) {
        while (self->len + size + 1 > self->cap)
            self->cap *= 2;
        self->data = xs_realloc (self->data, self->cap);
    }
}

static void
s_list_put (xs_api_list_t *self, const char *text, size_t size)
{
    s_list_reserve (self, size);
    memcpy (self->data + self->len, text, size);
    self->len += size;
    self->data [self->len] = '\0';
}

/* Appends value's compact JSON: jansson dumps it straight into the room
   left (json_dumpb), again into more room when it did not fit. */
static void
s_list_dump_value (xs_api_list_t *self, const json_t *value)
{
    size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
    size_t room = self->cap - self->len;
    size_t n = json_dumpb (value, self->data + self->len, room, flags);
    xs_nn (n ? self : NULL);            /* on a whole value, only out of memory fails */
    if (n >= room) {
        s_list_reserve (self, n);
        n = json_dumpb (value, self->data + self->len, self->cap - self->len, flags);
    }
    self->len += n;
    self->data [self->len] = '\0';
}

/* An empty buffer of cap bytes (a list with no "{key:[" yet). */
static xs_api_list_t *
s_list_raw (size_t cap)
{
    xs_api_list_t *self = xs_zalloc (sizeof *self);
    self->cap = cap;
    self->data = xs_realloc (NULL, self->cap);
    self->data [0] = '\0';
    return self;
}

xs_api_list_t *
xs_api_list_new (const char *key, size_t size_hint)
{
    xs_api_list_t *self = s_list_raw (size_hint > 64 ? size_hint : 4096);
    s_list_put (self, "{", 1);
    json_t *name = xs_nn (json_string (key));
    s_list_dump_value (self, name);
    json_decref (name);
    s_list_put (self, ":[", 2);
    return self;
}

void
xs_api_list_destroy (xs_api_list_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->data);
    free (*self_p);
    *self_p = NULL;
}

size_t
xs_api_list_size (const xs_api_list_t *self)
{
    return self->items;
}

char *
xs_api_list_text (xs_api_list_t **self_p, const json_t *tail, size_t *len)
{
    xs_api_list_t *self = *self_p;
    s_list_put (self, "]", 1);
    if (json_object_size (tail)) {
        /* The tail's "{...}" without its "{": its members follow a comma. */
        size_t at = self->len;
        s_list_dump_value (self, tail);
        self->data [at] = ',';
    }
    else
        s_list_put (self, "}", 1);
    char *text = self->data;
    *len = self->len;
    self->data = NULL;
    xs_api_list_destroy (self_p);
    return text;
}

/* ---------------------------------------------------------------------------
 *  Items written from a template
 * ------------------------------------------------------------------------- */

struct _xs_api_tmpl_t {
    char *text;                 /* jansson's dump of the template          */
    size_t len;
    size_t nholes;              /* markers found in text, in text's order: */
    size_t *hole;               /*   the k-th is hole [k]'s, spanning       */
    size_t *at;                 /*   text [at [k], end [k])                 */
    size_t *end;
};

json_t *
xs_api_tmpl_hole (size_t i)
{
    char marker [32];
    snprintf (marker, sizeof marker, "\x01xs-hole-%zu", i);
    return xs_nn (json_string (marker));
}

/* Where hole i's dumped marker is in text (its offset, its length in
   *len), or -1 when it is not there; -2 when it is there twice. */
static ptrdiff_t
s_tmpl_find (const char *text, size_t i, size_t *len)
{
    json_t *hole = xs_api_tmpl_hole (i);
    char *marker = xs_nn (json_dumps (hole, JSON_ENCODE_ANY));
    json_decref (hole);
    const char *at = strstr (text, marker);
    *len = strlen (marker);
    bool twice = at && strstr (at + *len, marker);
    free (marker);
    return !at ? -1 : twice ? -2 : at - text;
}

xs_api_tmpl_t *
xs_api_tmpl_new (const json_t *object, size_t holes)
{
    if (!json_is_object (object))
        return NULL;
    xs_api_tmpl_t *self = xs_zalloc (sizeof *self);
    self->text = xs_nn (json_dumps (object, JSON_COMPACT));
    self->len = strlen (self->text);
    self->hole = xs_zalloc ((holes + 1) * sizeof *self->hole);
    self->at = xs_zalloc ((holes + 1) * sizeof *self->at);
    self->end = xs_zalloc ((holes + 1) * sizeof *self->end);
    /* The markers' spans, kept in text order by insertion. */
    for (size_t i = 0; i < holes; i++) {
        size_t len;
        ptrdiff_t pos = s_tmpl_find (self->text, i, &len);
        if (pos == -2) {
            xs_api_tmpl_destroy (&self);
            return NULL;
        }
        if (pos < 0)
            continue;
        size_t k = self->nholes++;
        for (; k > 0 && self->at [k - 1] > (size_t) pos; k--) {
            self->hole [k] = self->hole [k - 1];
            self->at [k] = self->at [k - 1];
            self->end [k] = self->end [k - 1];
        }
        self->hole [k] = i;
        self->at [k] = (size_t) pos;
        self->end [k] = (size_t) pos + len;
    }
    return self;
}

void
xs_api_tmpl_destroy (xs_api_tmpl_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_api_tmpl_t *self = *self_p;
    free (self->text);
    free (self->hole);
    free (self->at);
    free (self->end);
    free (self);
    *self_p = NULL;
}

json_t *
xs_api_dumped (const json_t *value)
{
    char *text = xs_nn (json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY));
    json_t *dumped = xs_nn (json_string_nocheck (text));     /* jansson's: UTF-8 */
    free (text);
    return dumped;
}

xs_api_val_t
xs_api_val_text (json_t *own, const char *text)
{
    if (text && json_string_set (own, text) == 0)
        return (xs_api_val_t) {.value = own};
    return (xs_api_val_t) {.value = json_null ()};
}

xs_api_val_t
xs_api_val_int (json_t *own, json_int_t n)
{
    json_integer_set (own, n);
    return (xs_api_val_t) {.value = own};
}

/* Appends the template with its holes filled: the text between markers,
   each marker's hole's value in its place. */
static void
s_list_put_tmpl (xs_api_list_t *self, const xs_api_tmpl_t *tmpl, const xs_api_val_t *values)
{
    size_t from = 0;
    for (size_t k = 0; k < tmpl->nholes; k++) {
        s_list_put (self, tmpl->text + from, tmpl->at [k] - from);
        const xs_api_val_t *v = &values [tmpl->hole [k]];
        if (v->value)
            s_list_dump_value (self, v->value);
        else
            s_list_put (self, v->json, v->len);
        from = tmpl->end [k];
    }
    s_list_put (self, tmpl->text + from, tmpl->len - from);
}

void
xs_api_list_add_tmpl (xs_api_list_t *self, const xs_api_tmpl_t *tmpl,
                      const xs_api_val_t *values)
{
    if (self->items++)
        s_list_put (self, ",", 1);
    s_list_put_tmpl (self, tmpl, values);
}

json_t *
xs_api_tmpl_object (const xs_api_tmpl_t *tmpl, const xs_api_val_t *values)
{
    xs_api_list_t *buf = s_list_raw (4096);
    s_list_put_tmpl (buf, tmpl, values);
    json_t *object = xs_nn (json_loadb (buf->data, buf->len, 0, NULL));
    xs_api_list_destroy (&buf);
    return object;
}
