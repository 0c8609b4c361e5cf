/*  xs_test_certs: CURVE certificates for a test, in a fresh temp directory.

    xs_test_certs_new makes <dir>/agent.cert and <dir>/catalog.cert (each
    with its _secret part) and enrolls the agent: its public part is copied
    into <dir>/agents.d, the allow-list a zauth or a catalog reads.
    xs_test_certs_destroy removes the whole directory. Failures fail the
    running cmocka test.
*/
#ifndef XS_TEST_CERTS_H_INCLUDED
#define XS_TEST_CERTS_H_INCLUDED

#include <stddef.h>

typedef struct {
    char dir [256];             /* the temp directory                    */
    char keys_dir [300];        /* the allow-list: <dir>/agents.d        */
    char agent_cert [300];      /* an enrolled agent's certificate       */
    char catalog_cert [300];    /* the catalog's certificate             */
} xs_test_certs_t;

/* A new temp directory /tmp/<prefix>.XXXXXX with both certificates. */
xs_test_certs_t *xs_test_certs_new (const char *prefix);

/* Removes the directory and frees; NULLs *self_p; idempotent. */
void xs_test_certs_destroy (xs_test_certs_t **self_p);

/* Makes another certificate <dir>/<name> (not enrolled); its path in
   path (size bytes). */
void xs_test_certs_make (xs_test_certs_t *self, const char *name, char *path, size_t size);

/* Enrolls the certificate `cert`: its public part into keys_dir. */
void xs_test_certs_enroll (xs_test_certs_t *self, const char *cert);

#endif
