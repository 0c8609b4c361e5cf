/*  xs_store_pg_conn: what the PostgreSQL driver (xs_store_pg.c) checks
    before it connects: the URI (never one with a password) and the
    password file. */
#include "xs_mem.h"
#include "xs_store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *
xs_pg_read_password (xs_store_t *self, const char *path, xs_err_t *err)
{
    char *password = NULL;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        xs_err_set (err, XS_EINVAL, "%s: cannot read the password file %s: %s",
                    self->path, path, strerror (errno));
        return NULL;
    }
    struct stat sb;
    char buf [1024];
    ssize_t n = -1;
    int rc = 0;
    if (fstat (fd, &sb) != 0 || !S_ISREG (sb.st_mode))
        rc = xs_err_set (err, XS_EINVAL, "%s: password file %s is not a regular file",
                         self->path, path);
    else
    if (sb.st_mode & 077)
        rc = xs_err_set (err, XS_EINVAL, "%s: password file %s can be read by others "
                         "(mode %04o): chmod 600 it", self->path, path,
                         (unsigned) (sb.st_mode & 07777));
    else
    if ((n = read (fd, buf, sizeof buf - 1)) < 0)
        rc = xs_err_set (err, XS_EINVAL, "%s: cannot read the password file %s: %s",
                         self->path, path, strerror (errno));
    close (fd);
    if (rc == 0) {
        buf [n] = '\0';
        buf [strcspn (buf, "\r\n")] = '\0';
        if (!*buf)
            rc = xs_err_set (err, XS_EINVAL, "%s: password file %s is empty",
                             self->path, path);
        else
            password = xs_strdup (buf);
    }
    explicit_bzero (buf, sizeof buf);
    return password;
}

int
xs_pg_check_uri (xs_store_t *self, xs_err_t *err)
{
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse (self->path, &why);
    if (!opts) {
        /* libpq's message may quote the URI: say only that it is bad. */
        PQfreemem (why);
        return xs_err_set (err, XS_EINVAL, "catalog database: not a valid PostgreSQL URI "
                           "(postgresql://[user@]host[:port]/dbname[?param=value...])");
    }
    bool has_password = false;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp (o->keyword, "password") == 0 && o->val && *o->val)
            has_password = true;
    PQconninfoFree (opts);
    if (has_password) {
        /* Redact: never repeat it. */
        free (self->path);
        self->path = xs_strdup ("postgresql://(URI with a password)");
        return xs_err_set (err, XS_EINVAL, "catalog database: the URI carries a password; "
                           "put it in ~/.pgpass or in the file named by db_password_file");
    }
    return 0;
}
