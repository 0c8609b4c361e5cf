/*  xs_cert: CURVE certificates on disk. */
#include "xs_cert.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>

int
xs_cert_generate (const char *file, xs_err_t *err)
{
    zcert_t *cert = zcert_new ();
    if (!cert)
        return xs_err_set (err, XS_EINTERNAL, "certificate %s: cannot generate keys", file);
    mode_t old = umask (077);
    int rc = zcert_save (cert, file);
    int saved = errno;
    umask (old);
    zcert_destroy (&cert);
    if (rc == -1)
        return xs_err_set (err, XS_EIO, "certificate %s: cannot write it or %s_secret: %s",
                           file, file, strerror (saved));
    /* The public part may be read by anyone. */
    if (chmod (file, 0644))
        return xs_err_set (err, XS_EIO, "certificate %s: chmod 0644: %s", file,
                           strerror (errno));
    return 0;
}

/* 1 when `path` exists, 0 when not, -1 (with *err) when it cannot be told. */
static int
s_exists (const char *path, xs_err_t *err)
{
    struct stat st;
    if (stat (path, &st) == 0)
        return 1;
    if (errno == ENOENT)
        return 0;
    return xs_err_set (err, XS_EIO, "certificate %s: %s", path, strerror (errno));
}

int
xs_cert_ensure (const char *file, bool *created, xs_err_t *err)
{
    if (created)
        *created = false;
    char secret [PATH_MAX];
    if (snprintf (secret, sizeof secret, "%s_secret", file) >= (int) sizeof secret)
        return xs_err_set (err, XS_EINVAL, "certificate %s: path too long", file);
    int has_public = s_exists (file, err);
    int has_secret = has_public < 0 ? -1 : s_exists (secret, err);
    if (has_public < 0 || has_secret < 0)
        return -1;
    if (has_public && has_secret)
        return 0;
    if (has_public || has_secret)
        return xs_err_set (err, XS_EINVAL,
                           "certificate %s: %s exists without %s; restore it, or remove "
                           "it to have a new certificate made (agents must then be given "
                           "the new public key)", file, has_public ? file : secret,
                           has_public ? secret : file);
    if (xs_cert_generate (file, err))
        return -1;
    if (created)
        *created = true;
    return 0;
}
