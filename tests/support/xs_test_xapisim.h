/*  xs_test_xapisim: the xapi simulator (tests/xapisim/xapisim.py, a real
    process speaking XML-RPC as xapi does) as a peer for C tests.

    xs_test_xapisim_start runs it in a temp directory (its unix sockets) with
    the given extra arguments, e.g. { "--pool", "p1:xs01,xs02", "--user",
    "root:", NULL }, and waits for its start-up line (no sleeping). Hosts are
    numbered in the order of that line: pool by pool, master first.
    Control calls (sim.*: faults, dump, storage) go over HTTP to the first
    host. Failures fail the running cmocka test.
*/
#ifndef XS_TEST_XAPISIM_H_INCLUDED
#define XS_TEST_XAPISIM_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "common/xs_value.h"

typedef struct _xs_test_xapisim_t xs_test_xapisim_t;

/* Starts the simulator; `args` (NULL-terminated, may be NULL) are added to
   its command line. */
xs_test_xapisim_t *xs_test_xapisim_start (const char *const *args);

/* Stops it (SIGTERM), removes its directory; NULLs *self_p; idempotent. */
void xs_test_xapisim_stop (xs_test_xapisim_t **self_p);

/* Host `index`: "unix:<socket>" (an xs_xenapi URL), its http:// URL, its
   uuid and its name. Borrowed. */
const char *xs_test_xapisim_unix_url (xs_test_xapisim_t *self, size_t index);
const char *xs_test_xapisim_http_url (xs_test_xapisim_t *self, size_t index);
const char *xs_test_xapisim_host_uuid (xs_test_xapisim_t *self, size_t index);
const char *xs_test_xapisim_host_name (xs_test_xapisim_t *self, size_t index);

/* Calls sim.<method> with `params` (an array, taken; NULL = none) and
   returns its Value (caller destroys). */
xs_value_t *xs_test_xapisim_control (xs_test_xapisim_t *self, const char *method,
                                     xs_value_t *params);

/* Fails the nth call of XenAPI `method` from now (every one from the nth
   on with repeat) with `code` and `params` (NULL-terminated; NULL = none). */
void xs_test_xapisim_fail (xs_test_xapisim_t *self, const char *method, int nth, bool repeat,
                           const char *code, const char *const *params);

/* Removes every fault rule. */
void xs_test_xapisim_clear_faults (xs_test_xapisim_t *self);

/* sim.dump, parsed (caller json_decrefs). */
json_t *xs_test_xapisim_dump (xs_test_xapisim_t *self);

/* From a dump: the VDI record whose other_config says it is the VDI of
   volume `volume_uuid` (borrowed from dump), or NULL. */
json_t *xs_test_xapisim_vdi_of (json_t *dump, const char *volume_uuid);

#endif
