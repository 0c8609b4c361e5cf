/*  xs_srtype: the SR types xensm knows and the device_config each needs
    (docs/DESIGN.md "SR types and their device-config", from xapi-project/sm).

    The key=value arguments of `backend_add` mix two kinds of keys:
    - catalog settings (XS_SRTYPE_SETTINGS: name_label, sr_uuid, zone, ratio,
      reserve), kept by the catalog and never sent as device_config;
    - device_config keys, checked against the type: every required key must
      be present, and only required or optional keys are accepted.
    xs_srtype_split separates and checks them; its errors name the type, the
    missing or unknown keys and, for an unknown type, the known types.

    The table is static: returned xs_srtype_t pointers are borrowed forever.
*/
#ifndef XS_SRTYPE_H_INCLUDED
#define XS_SRTYPE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "xs_err.h"
#include "xs_kvlist.h"

typedef struct {
    const char *name;               /* xapi SR type: "nfs", "lvmoiscsi", ...   */
    const char *const *required;    /* NULL-terminated device_config keys      */
    const char *const *optional;    /* NULL-terminated device_config keys      */
    bool shared;                    /* SR.create shared=true                   */
    bool clone_snapshot;            /* VDI.clone / VDI.snapshot supported      */
    bool lun_per_vdi;               /* the driver hands out existing LUNs as
                                       VDIs (RawISCSISR, RawHBASR): no
                                       VDI_CREATE, so no volume can be made  */
} xs_srtype_t;

/* The type named `name` (exact, lower case as xapi spells it), or NULL. */
const xs_srtype_t *xs_srtype_find (const char *name);

/* Number of known types and the i-th one (table order), NULL past the end. */
size_t xs_srtype_count (void);
const xs_srtype_t *xs_srtype_at (size_t index);

/* "nfs, lvmoiscsi, ..." (table order). Caller frees. */
char *xs_srtype_known_list (void);

/* True when `key` is a catalog setting rather than device_config. */
bool xs_srtype_is_setting (const char *key);

/* Checks `args` (every key=value of backend_add) for SR type `type_name` and
   splits them. On success returns 0 and, when the pointers are not NULL,
   gives the caller new sets *device_config_p and *settings_p (caller
   destroys both). On failure returns -1, creates nothing, and sets *err
   (XS_EINVAL) to e.g.
     "SR type 'foo' unknown (known types: nfs, lvmoiscsi, ...)"
     "SR type nfs: missing required key(s) serverpath (required: server, serverpath)"
     "SR type nfs: unknown key(s) nfsvers (allowed: server, serverpath, nfsversion, options; catalog settings: name_label, ...)"
   Settings are checked too: sr_uuid is a UUID, ratio a number > 0 and
   <= 100, reserve a number in [0, 100), zone and name_label non-empty. */
int xs_srtype_split (const char *type_name, const xs_kvlist_t *args,
                     xs_kvlist_t **device_config_p, xs_kvlist_t **settings_p, xs_err_t *err);

/* Checks one catalog setting value (as xs_srtype_split does). 0 or -1. */
int xs_srtype_check_setting (const char *key, const char *value, xs_err_t *err);

#endif
