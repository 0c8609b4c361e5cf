/*  What the host operation tests share (test_hostops*.c): the xapi
    simulator (one pool of two hosts, started once per test program), a
    logged-in client and xs_hostops per test, and small helpers. */
#ifndef HOSTOPS_FIXTURE_H_INCLUDED
#define HOSTOPS_FIXTURE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "host/xs_hostops.h"
#include "tests/support/xs_test_xapisim.h"

#define GIB (INT64_C (1) << 30)
#define VOL_A "0a000000-0000-4000-8000-00000000000a"
#define VOL_B "0b000000-0000-4000-8000-00000000000b"
#define VOL_C "0c000000-0000-4000-8000-00000000000c"
#define VOL_D "0d000000-0000-4000-8000-00000000000d"
#define VOL_E "0e000000-0000-4000-8000-00000000000e"
#define VOL_F "0f000000-0000-4000-8000-00000000000f"
#define VOL_G "01000000-0000-4000-8000-000000000010"

extern xs_test_xapisim_t *hx_sim;

typedef struct {
    xs_xenapi_t *client;
    xs_hostops_t *ops;
} fixture_t;

/* cmocka group setup/teardown: the simulator; test setup/teardown: a
   fixture_t with a logged-in client and its xs_hostops. */
int hx_group_setup (void **state);
int hx_group_teardown (void **state);
int hx_setup (void **state);
int hx_teardown (void **state);

/* A string or boolean member of a JSON object. */
const char *hx_str (const json_t *json, const char *key);
bool hx_bool (const json_t *json, const char *key);

/* A new SR of `type` made by sr_attach (takes device_config); its uuid in
   uuid (>= 64 bytes). */
void hx_new_sr (fixture_t *f, const char *type, json_t *device_config, char *uuid);

/* device_config of an NFS SR on path. */
json_t *hx_nfs_config (const char *path);

/* True when the JSON array `list` holds the string `item`. */
bool hx_has (const json_t *list, const char *item);

#endif
