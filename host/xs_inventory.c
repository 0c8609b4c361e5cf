/*  xs_inventory: this host's uuid from the XenServer inventory. */
#include "xs_inventory.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define S_KEY "INSTALLATION_UUID"

/* 8-4-4-4-12 hexadecimal digits. */
static bool
s_is_uuid (const char *text, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text [i] != '-' : !isxdigit ((unsigned char) text [i]))
            return false;
    }
    return true;
}

int
xs_inventory_host_uuid (const char *path, char *uuid, size_t size, xs_err_t *err)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        if (errno == ENOENT)
            return 0;
        return xs_err_set (err, XS_EIO, "inventory %s: %s", path, strerror (errno));
    }
    char line [1024];
    int found = 0;
    int lineno = 0;
    while (!found && fgets (line, sizeof line, file)) {
        lineno++;
        if (strncmp (line, S_KEY "=", sizeof S_KEY) != 0)
            continue;
        char *value = line + sizeof S_KEY;
        size_t len = strcspn (value, "\r\n");
        /* The value may be quoted 'like this' or "like this". */
        if (len >= 2 && (value [0] == '\'' || value [0] == '"') && value [len - 1] == value [0]) {
            value++;
            len -= 2;
        }
        if (!s_is_uuid (value, len) || size < 37) {
            fclose (file);
            return xs_err_set (err, XS_EINVAL, "inventory %s, line %d: " S_KEY
                               " is not a host uuid", path, lineno);
        }
        memcpy (uuid, value, 36);
        uuid [36] = '\0';
        found = 1;
    }
    bool failed = ferror (file);
    fclose (file);
    if (failed)
        return xs_err_set (err, XS_EIO, "inventory %s: read error", path);
    if (!found)
        return xs_err_set (err, XS_EINVAL, "inventory %s: no " S_KEY " line", path);
    return 1;
}
