/*  Unit tests for xs_keystone against a real HTTP peer: fake_keystone.py,
    a Keystone stand-in on Python's http.server (started and stopped here).
    The validator runs in this thread's zloop. */
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "catalog/api/xs_keystone.h"

static pid_t s_pid;
static char s_url [64];

typedef struct {
    int calls;
    xs_ks_result_t result;
    xs_keystone_token_t token;
    char why [256];
} s_outcome_t;

static void
s_on_result (void *arg, xs_ks_result_t result, const xs_keystone_token_t *token, const char *why)
{
    s_outcome_t *o = (s_outcome_t *) arg;
    o->calls++;
    o->result = result;
    if (token)
        o->token = *token;
    snprintf (o->why, sizeof o->why, "%s", why ? why : "");
}

static int
s_setup (void **state)
{
    int fds [2];
    if (pipe (fds))
        return -1;
    s_pid = fork ();
    if (s_pid == 0) {
        dup2 (fds [1], 1);
        close (fds [0]);
        execl (XS_TEST_PYTHON, "python3", XS_FAKE_KEYSTONE, (char *) NULL);
        _exit (127);
    }
    close (fds [1]);
    FILE *f = fdopen (fds [0], "r");
    int port = 0;
    if (fscanf (f, "%d", &port) != 1)
        return -1;
    fclose (f);
    snprintf (s_url, sizeof s_url, "http://127.0.0.1:%d", port);
    return 0;
}

static int
s_teardown (void **state)
{
    kill (s_pid, SIGTERM);
    waitpid (s_pid, NULL, 0);
    return 0;
}

static xs_keystone_opts_t
s_opts (void)
{
    return (xs_keystone_opts_t) {.url = s_url, .user = "xensm", .password = "svcpass",
                                 .project = "service", .timeout_ms = 5000};
}

typedef struct {
    s_outcome_t *outcomes;
    size_t n;
} s_wait_t;

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    s_wait_t *w = (s_wait_t *) arg;
    for (size_t i = 0; i < w->n; i++)
        if (!w->outcomes [i].calls)
            return 0;
    return -1;
}

static int
s_on_guard (zloop_t *loop, int timer_id, void *arg)
{
    return -1;                  /* 10 s without an answer: the asserts fail */
}

/* Runs the loop until every outcome has its call (10 s at most). */
static void
s_run (zloop_t *loop, s_outcome_t *outcomes, size_t n)
{
    s_wait_t w = {outcomes, n};
    int tick = zloop_timer (loop, 2, 0, s_on_tick, &w);
    int guard = zloop_timer (loop, 10000, 1, s_on_guard, NULL);
    zloop_start (loop);
    zloop_timer_end (loop, tick);
    zloop_timer_end (loop, guard);
}

static void
test_valid_cached_and_roles (void **state)
{
    zloop_t *loop = zloop_new ();
    xs_keystone_opts_t opts = s_opts ();
    xs_keystone_t *ks = xs_keystone_new (loop, &opts, NULL);
    assert_non_null (ks);
    s_outcome_t o = {0};
    assert_non_null (xs_keystone_validate (ks, "good-proj1-admin", s_on_result, &o));
    s_run (loop, &o, 1);
    assert_int_equal (o.result, XS_KS_VALID);
    assert_string_equal (o.token.project_id, "proj1");
    assert_string_equal (o.token.user_id, "u-proj1");
    assert_true (o.token.is_admin);
    assert_true (o.token.expires_at > 4000000000LL);
    assert_int_equal (xs_keystone_logins (ks), 1);
    assert_int_equal (xs_keystone_validations (ks), 1);
    /* cached: answered before validate returns, no HTTP call */
    s_outcome_t again = {0};
    assert_null (xs_keystone_validate (ks, "good-proj1-admin", s_on_result, &again));
    assert_int_equal (again.calls, 1);
    assert_string_equal (again.token.project_id, "proj1");
    assert_int_equal (xs_keystone_validations (ks), 1);
    assert_int_equal (xs_keystone_cache_hits (ks), 1);
    s_outcome_t member = {0};
    xs_keystone_validate (ks, "good-proj2-member", s_on_result, &member);
    s_run (loop, &member, 1);
    assert_int_equal (member.result, XS_KS_VALID);
    assert_false (member.token.is_admin);
    assert_string_equal (xs_keystone_www_authenticate (ks),
                         strstr (xs_keystone_www_authenticate (ks), "Keystone uri=\"http://"));
    xs_keystone_destroy (&ks);
    xs_keystone_destroy (&ks);
    zloop_destroy (&loop);
}

static void
test_invalid_and_failing (void **state)
{
    zloop_t *loop = zloop_new ();
    xs_keystone_opts_t opts = s_opts ();
    xs_keystone_t *ks = xs_keystone_new (loop, &opts, NULL);
    s_outcome_t o [2] = {{0}};
    xs_keystone_validate (ks, "bad-token", s_on_result, &o [0]);
    xs_keystone_validate (ks, "boom", s_on_result, &o [1]);
    s_run (loop, o, 2);
    assert_int_equal (o [0].result, XS_KS_INVALID);
    assert_int_equal (o [1].result, XS_KS_UNAVAILABLE);
    assert_non_null (strstr (o [1].why, "HTTP 500"));
    /* an invalid answer is not cached */
    s_outcome_t again = {0};
    assert_non_null (xs_keystone_validate (ks, "bad-token", s_on_result, &again));
    s_run (loop, &again, 1);
    assert_int_equal (again.result, XS_KS_INVALID);
    xs_keystone_destroy (&ks);
    zloop_destroy (&loop);
}

static void
test_service_token_renewed_once (void **state)
{
    zloop_t *loop = zloop_new ();
    xs_keystone_opts_t opts = s_opts ();
    xs_keystone_t *ks = xs_keystone_new (loop, &opts, NULL);
    s_outcome_t o = {0};
    xs_keystone_validate (ks, "good-p3-member", s_on_result, &o);
    s_run (loop, &o, 1);
    assert_int_equal (xs_keystone_logins (ks), 1);
    /* Keystone forgets our service token: the next validation gets 401,
       logs in again and retries */
    char cmd [128];
    snprintf (cmd, sizeof cmd, "%s/control/expire", s_url);
    CURL *c = curl_easy_init ();
    curl_easy_setopt (c, CURLOPT_URL, cmd);
    curl_easy_setopt (c, CURLOPT_POSTFIELDS, "");
    assert_int_equal (curl_easy_perform (c), CURLE_OK);
    curl_easy_cleanup (c);
    s_outcome_t o2 = {0};
    xs_keystone_validate (ks, "good-p4-member", s_on_result, &o2);
    s_run (loop, &o2, 1);
    assert_int_equal (o2.result, XS_KS_VALID);
    assert_string_equal (o2.token.project_id, "p4");
    assert_int_equal (xs_keystone_logins (ks), 2);
    xs_keystone_destroy (&ks);
    zloop_destroy (&loop);
}

static void
test_one_call_per_token_and_cancel (void **state)
{
    zloop_t *loop = zloop_new ();
    xs_keystone_opts_t opts = s_opts ();
    xs_keystone_t *ks = xs_keystone_new (loop, &opts, NULL);
    s_outcome_t o [3] = {{0}};
    xs_keystone_validate (ks, "good-p5-admin", s_on_result, &o [0]);
    xs_keystone_wait_t *w = xs_keystone_validate (ks, "good-p5-admin", s_on_result, &o [1]);
    xs_keystone_validate (ks, "good-p5-admin", s_on_result, &o [2]);
    xs_keystone_cancel (ks, &w);
    assert_null (w);
    o [1].calls = 1;            /* cancelled: never called */
    s_run (loop, o, 3);
    assert_int_equal (o [0].result, XS_KS_VALID);
    assert_int_equal (o [2].result, XS_KS_VALID);
    assert_int_equal (o [1].result, 0);
    assert_int_equal (o [1].calls, 1);
    assert_int_equal (xs_keystone_validations (ks), 1);
    xs_keystone_destroy (&ks);
    zloop_destroy (&loop);
}

static void
test_unreachable_and_bad_service_user (void **state)
{
    zloop_t *loop = zloop_new ();
    xs_keystone_opts_t opts = s_opts ();
    opts.password = "wrong";
    xs_keystone_t *ks = xs_keystone_new (loop, &opts, NULL);
    s_outcome_t o = {0};
    xs_keystone_validate (ks, "good-p6-admin", s_on_result, &o);
    s_run (loop, &o, 1);
    assert_int_equal (o.result, XS_KS_UNAVAILABLE);
    assert_non_null (strstr (o.why, "service user cannot log in"));
    assert_null (strstr (o.why, "good-p6"));    /* never the token */
    xs_keystone_destroy (&ks);
    opts = s_opts ();
    opts.url = "http://127.0.0.1:1/v3";         /* nothing listens on port 1 */
    ks = xs_keystone_new (loop, &opts, NULL);
    s_outcome_t down = {0};
    xs_keystone_validate (ks, "good-p7-admin", s_on_result, &down);
    s_run (loop, &down, 1);
    assert_int_equal (down.result, XS_KS_UNAVAILABLE);
    assert_non_null (strstr (down.why, "unreachable"));
    xs_keystone_destroy (&ks);
    xs_err_t err;
    opts.password = NULL;
    assert_null (xs_keystone_new (loop, &opts, &err));
    opts = s_opts ();
    opts.url = "ftp://x";
    assert_null (xs_keystone_new (loop, &opts, &err));
    assert_non_null (strstr (err.msg, "http://"));
    zloop_destroy (&loop);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_valid_cached_and_roles),
        cmocka_unit_test (test_invalid_and_failing),
        cmocka_unit_test (test_service_token_renewed_once),
        cmocka_unit_test (test_one_call_per_token_and_cancel),
        cmocka_unit_test (test_unreachable_and_bad_service_user),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
