/*  xs_inventory: this host's uuid from the XenServer / XCP-ng inventory
    (/etc/xensource-inventory: shell-style lines KEY='value'; the host uuid
    is INSTALLATION_UUID). The agent uses it to know which host it runs on:
    on a pool member, a session on the local xapi socket belongs to the
    master, so session.get_this_host cannot tell.
*/
#ifndef XS_INVENTORY_H_INCLUDED
#define XS_INVENTORY_H_INCLUDED

#include <stddef.h>

#include "xs_err.h"

#define XS_INVENTORY_PATH "/etc/xensource-inventory"

/* Reads INSTALLATION_UUID from `path` into uuid (>= 37 bytes). Returns 1
   when found, 0 when the file does not exist, -1 with *err naming the file
   when it cannot be read or holds no valid INSTALLATION_UUID. */
int xs_inventory_host_uuid (const char *path, char *uuid, size_t size, xs_err_t *err);

#endif
