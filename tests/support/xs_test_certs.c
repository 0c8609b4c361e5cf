/*  xs_test_certs: CURVE certificates for a test (see xs_test_certs.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <czmq.h>

#include "common/xs_cert.h"
#include "tests/support/xs_test_certs.h"

xs_test_certs_t *
xs_test_certs_new (const char *prefix)
{
    xs_test_certs_t *self = calloc (1, sizeof *self);
    assert_non_null (self);
    snprintf (self->dir, sizeof self->dir, "/tmp/%s.XXXXXX", prefix);
    assert_non_null (mkdtemp (self->dir));
    snprintf (self->keys_dir, sizeof self->keys_dir, "%s/agents.d", self->dir);
    assert_int_equal (zsys_dir_create ("%s", self->keys_dir), 0);
    snprintf (self->agent_cert, sizeof self->agent_cert, "%s/agent.cert", self->dir);
    snprintf (self->catalog_cert, sizeof self->catalog_cert, "%s/catalog.cert", self->dir);
    assert_int_equal (xs_cert_generate (self->agent_cert, NULL), 0);
    assert_int_equal (xs_cert_generate (self->catalog_cert, NULL), 0);
    xs_test_certs_enroll (self, self->agent_cert);
    return self;
}

void
xs_test_certs_destroy (xs_test_certs_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    xs_test_certs_t *self = *self_p;
    char cmd [400];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", self->dir);
    assert_int_equal (system (cmd), 0);
    free (self);
    *self_p = NULL;
}

void
xs_test_certs_make (xs_test_certs_t *self, const char *name, char *path, size_t size)
{
    snprintf (path, size, "%s/%s", self->dir, name);
    assert_int_equal (xs_cert_generate (path, NULL), 0);
}

void
xs_test_certs_enroll (xs_test_certs_t *self, const char *cert)
{
    zcert_t *loaded = zcert_load (cert);
    assert_non_null (loaded);
    const char *base = strrchr (cert, '/');
    char path [600];
    snprintf (path, sizeof path, "%s/%s", self->keys_dir, base ? base + 1 : cert);
    assert_int_equal (zcert_save_public (loaded, path), 0);
    zcert_destroy (&loaded);
}
