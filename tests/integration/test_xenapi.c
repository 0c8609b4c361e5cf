/*  The XenAPI client against real servers: driven by test_xenapi.py, which
    starts the xapi simulator and a misbehaving XML-RPC server, sets faults
    and runs one group of this program per scenario:

        itest_xenapi <group>

    Environment (set by test_xenapi.py):
        XT_URL         the server under test (http://127.0.0.1:<port>/,
                       https://... or unix:/path)
        XT_MEMBER_URL  a pool member of the simulator (HOST_IS_SLAVE)
        XT_USER, XT_PASS
        XT_CA_FILE     CA bundle for the https group
        XT_TIMEOUT_MS  a short total timeout for the timeout cases
        XT_SIM_URL     where the simulator's control methods (sim.*) are
        XT_HOST_UUID   the uuid of the host XT_URL reaches (group sim)
    Each group prints cmocka's report; the exit status is the number of
    failed tests. The groups are in test_xenapi_fake.c, test_xenapi_sim.c
    and test_xenapi_faults.c; this file holds what they share and main.
*/
#include "test_xenapi.h"

#include <time.h>

const char *
xt_env (const char *name)
{
    const char *value = getenv (name);
    if (!value || !*value)
        fail_msg ("environment variable %s is not set", name);
    return value;
}

double
xt_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

xs_xenapi_t *
xt_fake_client (void)
{
    xs_err_t err;
    xs_xenapi_t *client = xs_xenapi_new (xt_env ("XT_URL"), &err);
    if (!client)
        fail_msg ("xs_xenapi_new: %s", err.msg);
    const char *ca = getenv ("XT_CA_FILE");
    if (ca && *ca)
        xs_xenapi_set_ca_file (client, ca);
    xs_xenapi_set_timeouts (client, 2000, 10000);
    xs_xenapi_set_session (client, "OpaqueRef:fake-session");
    return client;
}

xs_xenapi_t *
xt_sim_client (void)
{
    xs_err_t err;
    xs_xenapi_t *client = xs_xenapi_new (xt_env ("XT_URL"), &err);
    if (!client)
        fail_msg ("xs_xenapi_new: %s", err.msg);
    xs_xenapi_set_timeouts (client, 2000, 20000);
    if (xs_xenapi_login (client, xt_env ("XT_USER"), xt_env ("XT_PASS"), &err))
        fail_msg ("login to %s: %s", xt_env ("XT_URL"), err.msg);
    return client;
}

char *
xt_create_nfs_sr (xs_xenapi_t *client, const char *label, xs_value_t **config_p)
{
    xs_err_t err;
    char *master = xs_xenapi_session_get_this_host (client, &err);
    assert_non_null (master);
    xs_value_t *config = xs_value_struct_new ();
    xs_value_set_str (config, "server", "nfs01.example.com");
    xs_value_set_str (config, "serverpath", "/export/xensm <&> \"test\"");
    xs_xenapi_sr_args_t args = {
        .host = master, .device_config = config, .physical_size = 0,
        .name_label = label, .name_description = "made by itest_xenapi",
        .type = "nfs", .content_type = "user", .shared = true,
    };
    char *sr = xs_xenapi_sr_create (client, &args, &err);
    if (!sr)
        fail_msg ("SR.create: %s", err.msg);
    free (master);
    *config_p = config;
    return sr;
}

int
main (int argc, char *argv [])
{
    const xt_group_t *groups [] = {
        &xt_faults_group, &xt_sim_group, &xt_member_group, &xt_fake_group, &xt_https_group,
    };
    xs_log_init ("itest_xenapi", false, getenv ("XT_DEBUG") ? XS_LOG_DEBUG : XS_LOG_ERROR);
    for (size_t i = 0; argc == 2 && i < sizeof groups / sizeof groups [0]; i++)
        if (strcmp (argv [1], groups [i]->name) == 0)
            return _cmocka_run_group_tests (groups [i]->name, groups [i]->tests,
                                            groups [i]->count, NULL, NULL);
    fprintf (stderr, "usage: itest_xenapi <group>; groups:");
    for (size_t i = 0; i < sizeof groups / sizeof groups [0]; i++)
        fprintf (stderr, " %s", groups [i]->name);
    fprintf (stderr, "\n");
    return 2;
}
