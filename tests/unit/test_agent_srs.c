/*  Unit tests of xs_agent_srs, the SRs the agent reports in heartbeats:
    only SRs with stats are sent, unchanged stats only on every full
    heartbeat, a refresh is asked once until it is done, and a replaced SR
    loses the old one's stats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hostagent/xs_agent_srs.h"

typedef struct {
    int calls;
    int64_t backend_id;
    char sr_uuid [64];
} s_seen_t;

static void
s_seen (void *arg, int64_t backend_id, const char *sr_uuid)
{
    s_seen_t *seen = arg;
    seen->calls++;
    seen->backend_id = backend_id;
    snprintf (seen->sr_uuid, sizeof seen->sr_uuid, "%s", sr_uuid);
}

static void
s_stats (xs_agent_srs_t *srs, int64_t backend_id, json_int_t free_bytes)
{
    json_t *stats = json_pack ("{s:I}", "free", free_bytes);
    assert_int_equal (xs_agent_srs_stats_done (srs, backend_id, &stats), 0);
    assert_null (stats);
}

static void
test_heartbeat_carries_changed_stats (void **state)
{
    (void) state;
    xs_agent_srs_t *srs = xs_agent_srs_new ();
    xs_agent_srs_put (srs, 7, "sr-7");
    json_t *hb = xs_agent_srs_heartbeat (srs);       /* full, but no stats yet */
    assert_int_equal (json_array_size (hb), 0);
    json_decref (hb);

    s_stats (srs, 7, 100);
    hb = xs_agent_srs_heartbeat (srs);
    assert_int_equal (json_array_size (hb), 1);
    json_t *e = json_array_get (hb, 0);
    assert_int_equal (json_integer_value (json_object_get (e, "backend_id")), 7);
    assert_string_equal (json_string_value (json_object_get (e, "sr_uuid")), "sr-7");
    assert_int_equal (json_integer_value (json_object_get (e, "free")), 100);
    assert_true (json_is_array (json_object_get (e, "capabilities")));
    json_decref (hb);

    /* Unchanged: not sent again until the next full heartbeat. */
    for (int i = 2; i < XS_AGENT_SRS_FULL_EVERY; i++) {
        hb = xs_agent_srs_heartbeat (srs);
        assert_int_equal (json_array_size (hb), 0);
        json_decref (hb);
    }
    hb = xs_agent_srs_heartbeat (srs);
    assert_int_equal (json_array_size (hb), 1);
    json_decref (hb);

    /* Changed: sent at once; send_all makes the next one full. */
    s_stats (srs, 7, 50);
    hb = xs_agent_srs_heartbeat (srs);
    assert_int_equal (json_array_size (hb), 1);
    json_decref (hb);
    xs_agent_srs_send_all (srs);
    hb = xs_agent_srs_heartbeat (srs);
    assert_int_equal (json_array_size (hb), 1);
    json_decref (hb);
    xs_agent_srs_destroy (&srs);
    assert_null (srs);
    xs_agent_srs_destroy (&srs);
}

static void
test_refresh_once_until_done (void **state)
{
    (void) state;
    xs_agent_srs_t *srs = xs_agent_srs_new ();
    xs_agent_srs_put (srs, 3, "sr-3");
    s_seen_t seen = { 0 };
    xs_agent_srs_refresh (srs, s_seen, &seen);
    assert_int_equal (seen.calls, 1);
    assert_int_equal (seen.backend_id, 3);
    assert_string_equal (seen.sr_uuid, "sr-3");
    xs_agent_srs_refresh (srs, s_seen, &seen);
    assert_int_equal (seen.calls, 1);               /* still under way */
    assert_int_equal (xs_agent_srs_stats_done (srs, 3, NULL), 0);    /* failed */
    xs_agent_srs_refresh (srs, s_seen, &seen);
    assert_int_equal (seen.calls, 2);
    /* An SR no longer tracked: nothing taken. */
    json_t *stats = json_object ();
    assert_int_equal (xs_agent_srs_stats_done (srs, 99, &stats), -1);
    assert_non_null (stats);
    json_decref (stats);
    xs_agent_srs_destroy (&srs);
}

static void
test_put_and_remove (void **state)
{
    (void) state;
    xs_agent_srs_t *srs = xs_agent_srs_new ();
    xs_agent_srs_put (srs, 1, "sr-a");
    s_stats (srs, 1, 10);
    xs_agent_srs_put (srs, 1, "sr-a");      /* the same SR keeps its stats */
    json_t *hb = xs_agent_srs_heartbeat (srs);
    assert_int_equal (json_array_size (hb), 1);
    json_decref (hb);
    xs_agent_srs_put (srs, 1, "sr-b");      /* another SR starts without */
    xs_agent_srs_send_all (srs);
    hb = xs_agent_srs_heartbeat (srs);
    assert_int_equal (json_array_size (hb), 0);
    json_decref (hb);
    assert_int_equal (xs_agent_srs_size (srs), 1);
    xs_agent_srs_remove (srs, 1);
    xs_agent_srs_remove (srs, 1);
    assert_int_equal (xs_agent_srs_size (srs), 0);
    xs_agent_srs_destroy (&srs);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_heartbeat_carries_changed_stats),
        cmocka_unit_test (test_refresh_once_until_done),
        cmocka_unit_test (test_put_and_remove),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
