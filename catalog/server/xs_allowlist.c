/*  xs_allowlist: which agent keys the catalog admits. */
#include "xs_allowlist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xs_log.h"
#include "xs_mem.h"

struct _xs_allowlist_t {
    char *dir;
    zhashx_t *admitted;         /* key -> (void *) 1: the directory's keys as
                                   last read, NULL when not to be trusted  */
    struct timespec mtime;      /* the directory's when that was read      */
    ino_t ino;
};

xs_allowlist_t *
xs_allowlist_new (const char *dir, xs_err_t *err)
{
    if (!dir || !*dir) {
        xs_err_set (err, XS_EINVAL, "agent keys directory: not set (agent_keys)");
        return NULL;
    }
    if (mkdir (dir, 0700) == -1 && errno != EEXIST) {
        xs_err_set (err, XS_EIO, "agent keys directory %s: %s", dir, strerror (errno));
        return NULL;
    }
    xs_allowlist_t *self = xs_zalloc (sizeof *self);
    self->dir = xs_strdup (dir);
    return self;
}

void
xs_allowlist_destroy (xs_allowlist_t **self_p)
{
    if (self_p && *self_p) {
        zhashx_destroy (&(*self_p)->admitted);
        free ((*self_p)->dir);
        free (*self_p);
        *self_p = NULL;
    }
}

const char *
xs_allowlist_dir (const xs_allowlist_t *self)
{
    return self->dir;
}

/* The public key in certificate file `path`, as zcert_load reads it
   ("curve/public-key", 40 Z85 characters), or NULL. Caller frees. Read by
   hand: zconfig_load leaks its zfile on a file that is not ZPL. */
static char *
s_file_key (const char *path)
{
    char *key = NULL;
    zfile_t *file = zfile_new (NULL, path);
    zchunk_t *chunk = NULL;
    if (file && zfile_input (file) == 0)
        chunk = zfile_read (file, zfile_cursize (file), 0);
    zconfig_t *root = chunk ? zconfig_chunk_load (chunk) : NULL;
    const char *text = root ? zconfig_get (root, "curve/public-key", NULL) : NULL;
    uint8_t raw [32];
    if (text && strlen (text) == 40 && zmq_z85_decode (raw, text))
        key = xs_strdup (text);
    zconfig_destroy (&root);
    zchunk_destroy (&chunk);
    zfile_destroy (&file);
    return key;
}

/* Calls fn (path, key, arg) for every certificate file in the directory,
   read as zauth's zcertstore reads it; stops when fn returns non-zero and
   returns that. */
typedef int (s_each_fn) (const char *path, const char *key, void *arg);

static int
s_each_cert (xs_allowlist_t *self, s_each_fn *fn, void *arg)
{
    int rc = 0;
    zdir_t *dir = zdir_new (self->dir, NULL);
    if (!dir)
        return 0;
    zfile_t **files = zdir_flatten (dir);
    for (int i = 0; files && files [i] && rc == 0; i++) {
        const char *path = zfile_filename (files [i], NULL);
        char *key = s_file_key (path);
        if (key)
            rc = fn (path, key, arg);
        free (key);
    }
    zdir_flatten_free (&files);
    zdir_destroy (&dir);
    return rc;
}

static int
s_is_key (const char *path, const char *key, void *arg)
{
    return streq (key, (const char *) arg) ? 1 : 0;
}

static int
s_admit (const char *path, const char *key, void *arg)
{
    zhashx_update ((zhashx_t *) arg, key, (void *) 1);
    return 0;
}

/* Whether self->admitted holds the directory's keys now, read again only
   when the directory changed (its mtime or inode): register checks every
   agent's key, and reading every certificate file each time made one
   register cost a read of every enrolled key (10,000 hosts: 10^8 file
   reads at start-up). A directory changed less than 2 s before it is read
   is not cached (its mtime is coarse: a file added within the same tick
   would be missed). Enroll and remove create and unlink files, which
   changes the mtime; a certificate rewritten in place is seen at the
   directory's next change. */
static bool
s_fresh (xs_allowlist_t *self)
{
    struct stat st;
    if (stat (self->dir, &st) == -1) {
        zhashx_destroy (&self->admitted);
        return false;
    }
    if (self->admitted && st.st_ino == self->ino
    &&  st.st_mtim.tv_sec == self->mtime.tv_sec && st.st_mtim.tv_nsec == self->mtime.tv_nsec)
        return true;
    zhashx_destroy (&self->admitted);
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    if (now.tv_sec - st.st_mtim.tv_sec < 2)
        return false;
    self->admitted = xs_nn (zhashx_new ());
    s_each_cert (self, s_admit, self->admitted);
    self->mtime = st.st_mtim;
    self->ino = st.st_ino;
    return true;
}

bool
xs_allowlist_admits (xs_allowlist_t *self, const char *key)
{
    if (!key || strlen (key) != 40)
        return false;
    if (s_fresh (self))
        return zhashx_lookup (self->admitted, key) != NULL;
    return s_each_cert (self, s_is_key, (void *) key) == 1;
}

char *
xs_allowlist_parse_key (const char *text)
{
    char *key = NULL;
    char *copy = xs_strdup (text);
    /* A bare key: 40 Z85 characters, maybe with surrounding blanks. */
    char *start = copy;
    while (*start == ' ' || *start == '\n' || *start == '\t' || *start == '\r')
        start++;
    char *end = start + strlen (start);
    while (end > start && (end [-1] == ' ' || end [-1] == '\n' || end [-1] == '\r'
                           || end [-1] == '\t'))
        *--end = '\0';
    if (strlen (start) == 40 && !strpbrk (start, " \t\r\n"))
        key = xs_strdup (start);
    else
    if (strstr (copy, "public-key")) {
        zconfig_t *config = zconfig_str_load (copy);
        char *pub = config ? zconfig_get (config, "curve/public-key", NULL) : NULL;
        if (pub)
            key = xs_strdup (pub);
        zconfig_destroy (&config);
    }
    free (copy);
    uint8_t raw [32];
    if (key && (strlen (key) != 40 || !zmq_z85_decode (raw, key))) {
        free (key);
        key = NULL;
    }
    return key;
}

/* "<dir>/<hex of key>.key": where enroll writes key. */
static void
s_key_file (const char *dir, const uint8_t raw [32], char *buf, size_t size)
{
    char hex [65];
    for (int i = 0; i < 32; i++)
        snprintf (hex + 2 * i, 3, "%02x", raw [i]);
    snprintf (buf, size, "%s/%s.key", dir, hex);
}

char *
xs_allowlist_enroll (xs_allowlist_t *self, const char *cert_text, xs_err_t *err)
{
    char *key = cert_text ? xs_allowlist_parse_key (cert_text) : NULL;
    uint8_t pub [32], zero [32] = {0};
    if (!key || !zmq_z85_decode (pub, key)) {
        free (key);
        xs_err_set (err, XS_EINVAL, "public key: not a czmq public certificate nor a "
                                    "40-character Z85 key");
        return NULL;
    }
    char path [4096];
    s_key_file (self->dir, pub, path, sizeof path);
    zcert_t *cert = xs_nn (zcert_new_from (pub, zero));
    zcert_set_meta (cert, "enrolled-by", "xensm-manage host enroll");
    int rc = zcert_save_public (cert, path);
    zcert_destroy (&cert);
    if (rc == -1) {
        xs_err_set (err, XS_EIO, "allow-list %s: cannot write %s: %s", self->dir, path,
                    strerror (errno));
        free (key);
        return NULL;
    }
    xs_notice ("enrolled agent key %s", key);
    return key;
}

typedef struct {
    const char *key;
    int removed;
    xs_err_t *err;
} s_remove_t;

static int
s_remove_one (const char *path, const char *key, void *arg)
{
    s_remove_t *r = (s_remove_t *) arg;
    if (!streq (key, r->key))
        return 0;
    if (unlink (path) == 0 || errno == ENOENT) {
        r->removed = 1;
        return 0;
    }
    xs_err_set (r->err, XS_EIO, "allow-list: cannot remove %s: %s", path, strerror (errno));
    return -1;
}

int
xs_allowlist_remove (xs_allowlist_t *self, const char *key, xs_err_t *err)
{
    s_remove_t r = {key, 0, err};
    if (s_each_cert (self, s_remove_one, &r) < 0)
        return -1;
    return r.removed;
}

typedef struct {
    zlist_t *keys;
    zhashx_t *seen;
} s_collect_t;

static int
s_collect (const char *path, const char *key, void *arg)
{
    s_collect_t *c = (s_collect_t *) arg;
    if (zhashx_insert (c->seen, key, (void *) 1) == 0)
        zlist_append (c->keys, (void *) key);    /* autofree: copied */
    return 0;
}

zlist_t *
xs_allowlist_keys (xs_allowlist_t *self)
{
    s_collect_t c = {xs_nn (zlist_new ()), xs_nn (zhashx_new ())};
    zlist_autofree (c.keys);
    s_each_cert (self, s_collect, &c);
    zhashx_destroy (&c.seen);
    return c.keys;
}
