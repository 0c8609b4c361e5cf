/*  What the files of itest_xenapi share (test_xenapi.c: the helpers and
    main; test_xenapi_fake.c: groups "fake" and "https"; test_xenapi_sim.c:
    "sim" and "member"; test_xenapi_faults.c: "faults"). See test_xenapi.c
    for the environment each group reads. */
#ifndef TEST_XENAPI_H_INCLUDED
#define TEST_XENAPI_H_INCLUDED

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/xs_log.h"
#include "common/xs_xmlrpc.h"
#include "host/xs_xenapi.h"

#define assert_contains(haystack, needle) \
    do { \
        const char *h_ = (haystack), *n_ = (needle); \
        if (!h_ || !strstr (h_, n_)) \
            fail_msg ("'%s' does not contain '%s'", h_ ? h_ : "(null)", n_); \
    } while (0)

/* Environment variable `name`; fails the test when it is not set. */
const char *xt_env (const char *name);

/* Monotonic seconds. */
double xt_now (void);

/* A client on XT_URL with a borrowed session (the fake server takes any). */
xs_xenapi_t *xt_fake_client (void);

/* A client logged in to XT_URL as XT_USER. */
xs_xenapi_t *xt_sim_client (void);

/* Creates a shared nfs SR labelled `label` on the session's host (caller
   frees); its device_config in *config_p (caller destroys). */
char *xt_create_nfs_sr (xs_xenapi_t *client, const char *label, xs_value_t **config_p);

/* The groups: each file's tests. */
typedef struct {
    const char *name;
    const struct CMUnitTest *tests;
    size_t count;
} xt_group_t;

extern const xt_group_t xt_fake_group, xt_https_group;      /* test_xenapi_fake.c   */
extern const xt_group_t xt_sim_group, xt_member_group;      /* test_xenapi_sim.c    */
extern const xt_group_t xt_faults_group;                    /* test_xenapi_faults.c */

#define XT_GROUP(name, array) { name, array, sizeof array / sizeof array [0] }

#endif
