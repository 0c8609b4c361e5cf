/*  xs_agent_certs: the agent's CURVE identity: its own certificate (the
    public file and its _secret part) and the catalog's public key. */
#ifndef XS_AGENT_CERTS_H_INCLUDED
#define XS_AGENT_CERTS_H_INCLUDED

#include <czmq.h>

#include "xs_err.h"

/* Loads cert_file (and cert_file_secret, which must be readable: czmq would
   otherwise load an all-zero secret key) into *cert_p, and the public key
   of catalog_key_file into *server_key_p (Z85, caller frees). 0, or -1
   with *err naming the file and the reason (nothing returned). */
int xs_agent_certs_load (const char *cert_file, const char *catalog_key_file,
                         zcert_t **cert_p, char **server_key_p, xs_err_t *err);

#endif
