/*  xs_cert: CURVE certificates on disk (czmq zcert format), shared by the
    catalog and the host agent.

    A certificate FILE is two files: FILE (the public key, mode 0644: copy it
    to the other side) and FILE_secret (both keys, mode 0600).

    The caller links czmq (this object only uses it).
*/
#ifndef XS_CERT_H_INCLUDED
#define XS_CERT_H_INCLUDED

#include <stdbool.h>

#include "xs_err.h"

/* Writes a new certificate to FILE and FILE_secret (0600, then FILE made
   0644). Overwrites. 0 or -1 with *err naming the file. */
int xs_cert_generate (const char *file, xs_err_t *err);

/* Makes sure certificate FILE exists: generates it when neither FILE nor
   FILE_secret exists (*created set true), accepts it when both exist, and
   refuses a half (one part without the other) rather than replace a key
   other hosts may already trust. 0 or -1 with *err. */
int xs_cert_ensure (const char *file, bool *created, xs_err_t *err);

#endif
