/*  xs_agent_certs: see xs_agent_certs.h. */
#include "xs_agent_certs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xs_mem.h"

int
xs_agent_certs_load (const char *cert_file, const char *catalog_key_file,
                     zcert_t **cert_p, char **server_key_p, xs_err_t *err)
{
    char secret_file [4096];
    snprintf (secret_file, sizeof secret_file, "%s_secret", cert_file);
    if (access (secret_file, R_OK) != 0)
        return xs_err_set (err, XS_EINVAL, "certificate %s: cannot read its secret part %s: %s",
                           cert_file, secret_file, strerror (errno));
    zcert_t *cert = zcert_load (cert_file);
    if (!cert)
        return xs_err_set (err, XS_EINVAL, "certificate %s: cannot load (not a czmq certificate?)",
                           cert_file);
    zcert_t *server = zcert_load (catalog_key_file);
    if (!server) {
        zcert_destroy (&cert);
        return xs_err_set (err, XS_EINVAL, "catalog key %s: cannot load (not a czmq certificate?)",
                           catalog_key_file);
    }
    *server_key_p = xs_strdup (zcert_public_txt (server));
    zcert_destroy (&server);
    *cert_p = cert;
    return 0;
}
