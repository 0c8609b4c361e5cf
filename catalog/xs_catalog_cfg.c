/*  xs_catalog_cfg: the settings of xensm-catalogd. */
#include "xs_catalog_cfg.h"
#include "xs_log.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int
s_check_zone (const char *value, xs_err_t *err)
{
    for (const char *p = value; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            return xs_err_set (err, XS_EINVAL, "control character in zone name");
    return 0;
}

static const char *const s_api_auth_names [] = {"noauth", "keystone", NULL};

/* api_listen: empty (off), "a.b.c.d:port" or "[v6]:port", numeric (the
   daemon's xs_http parses it again; this check keeps the CLI free of it). */
static int
s_check_listen (const char *value, xs_err_t *err)
{
    if (!*value)
        return 0;
    char host [64];
    const char *colon = strrchr (value, ':');
    size_t hlen = colon ? (size_t) (colon - value) : 0;
    bool v6 = hlen >= 2 && value [0] == '[' && value [hlen - 1] == ']';
    if (v6) {
        value++;
        hlen -= 2;
    }
    unsigned char buf [16];
    char *end = NULL;
    long port = colon ? strtol (colon + 1, &end, 10) : -1;
    if (!colon || hlen == 0 || hlen >= sizeof host || !colon [1] || *end || port < 0
    ||  port > 65535)
        return xs_err_set (err, XS_EINVAL, "api_listen '%s': expected a.b.c.d:port or "
                           "[v6]:port (numeric), or empty for no API", v6 ? value - 1 : value);
    snprintf (host, sizeof host, "%.*s", (int) hlen, value);
    if (inet_pton (v6 ? AF_INET6 : AF_INET, host, buf) != 1)
        return xs_err_set (err, XS_EINVAL, "api_listen: '%s' is not a numeric IP%s address",
                           host, v6 ? "v6" : "v4");
    return 0;
}

const xs_config_option_t xs_catalog_cfg_options [] = {
    { XS_CATALOG_SECTION, "db", XS_CONFIG_STRING, XS_CATALOG_DEFAULT_DB, 0, 0, NULL, false,
      NULL, "SQLite database file (created with mode 0600), or a PostgreSQL database "
      "as a libpq URI postgresql://user@host/dbname (no password in it)" },
    { XS_CATALOG_SECTION, "db_password_file", XS_CONFIG_STRING, "", 0, 0, NULL, true,
      NULL, "PostgreSQL: file whose first line is the password (mode 0600), when "
      "~/.pgpass has none" },
    { XS_CATALOG_SECTION, "accept_lost_wal", XS_CONFIG_BOOL, "false", 0, 0, NULL, false,
      NULL, "SQLite: start although the catalog was not closed cleanly and its -wal file "
      "is missing (what it held is lost); for one start, as --accept-lost-wal" },
    { XS_CATALOG_SECTION, "admin_endpoint", XS_CONFIG_STRING, XS_CATALOG_DEFAULT_ADMIN, 0, 0,
      NULL, false, xs_catalog_cfg_check_endpoint,
      "ZeroMQ endpoint of the admin API (ipc:// socket file mode 0600; tcp:// on "
      "loopback only, unless admin_allow_remote)" },
    { XS_CATALOG_SECTION, "admin_allow_remote", XS_CONFIG_BOOL, "false", 0, 0, NULL, false,
      NULL, "allow a tcp:// admin_endpoint on an address other than loopback (the admin "
      "API has no authentication: anyone who reaches it administers the catalog)" },
    { XS_CATALOG_SECTION, "default_zone", XS_CONFIG_STRING, "default", 0, 0, NULL, false,
      s_check_zone, "zone of a backend added without zone= or --zone" },
    { XS_CATALOG_SECTION, "default_ratio", XS_CONFIG_DOUBLE, "1.0", 0.01, 100, NULL, false,
      NULL, "over-subscription ratio of a backend without ratio=" },
    { XS_CATALOG_SECTION, "default_reserve", XS_CONFIG_DOUBLE, "0", 0, 99.99, NULL, false,
      NULL, "percent of an SR kept free, for a backend without reserve=" },
    { XS_CATALOG_SECTION, "log_level", XS_CONFIG_ENUM, "notice", 0, 0, xs_log_level_names, false,
      NULL, "error, warning, notice, info or debug (-v sets debug)" },
    { XS_CATALOG_SECTION, "admin_batch", XS_CONFIG_INT, "64", 1, 10000, NULL, false,
      NULL, "most admin requests committed in one transaction" },
    { XS_CATALOG_SECTION, "agent_endpoint", XS_CONFIG_STRING, XS_CATALOG_DEFAULT_AGENT, 0, 0,
      NULL, false, xs_catalog_cfg_check_endpoint,
      "ZeroMQ endpoint host agents connect to (always CURVE)" },
    { XS_CATALOG_SECTION, "cert", XS_CONFIG_STRING, XS_CATALOG_DEFAULT_CERT, 0, 0, NULL, false,
      NULL, "the catalog's CURVE certificate (FILE and FILE_secret; made when both are missing)" },
    { XS_CATALOG_SECTION, "agent_keys", XS_CONFIG_STRING, XS_CATALOG_DEFAULT_KEYS, 0, 0, NULL,
      false, NULL, "allow-list directory of agent public certificates" },
    { XS_CATALOG_SECTION, "heartbeat_ms", XS_CONFIG_INT, "1000", 50, 60000, NULL, false,
      NULL, "milliseconds between agent heartbeats (3 missed: host down)" },
    { XS_CATALOG_SECTION, "agent_timeout_ms", XS_CONFIG_INT, "360000", 1000, 86400000, NULL,
      false, NULL, "an operation an agent has not answered after this fails over" },
    { XS_CATALOG_SECTION, "job_wait_ms", XS_CONFIG_INT, "30000", 100, 86400000, NULL, false,
      NULL, "how long a job waits for a live agent of its zone" },
    { XS_CATALOG_SECTION, "orphan_sweep_ms", XS_CONFIG_INT, "600000", 0, 86400000, NULL, false,
      NULL, "milliseconds between orphan sweeps of every backend's SR (0: no sweep)" },
    { XS_CATALOG_SECTION, "orphan_grace_ms", XS_CONFIG_INT, "3600000", 0, 604800000, NULL,
      false, NULL, "an orphan VDI seen for this long is destroyed" },
    /* Several catalogd on one PostgreSQL database (docs/INSTALL.md). */
    { XS_CATALOG_SECTION, "instance", XS_CONFIG_STRING, "", 0, 0, NULL, true, NULL,
      "this catalogd's name among those on one database (empty: host name and admin endpoint)" },
    { XS_CATALOG_SECTION, "leader_lease_ms", XS_CONFIG_INT, "5000", 200, 600000, NULL, false,
      NULL, "a leader not heard of for this long is replaced (PostgreSQL)" },
    { XS_CATALOG_SECTION, "leader_retry_ms", XS_CONFIG_INT, "1000", 50, 60000, NULL, false,
      NULL, "how often a follower tries to lead and a leader renews its lease" },
    /* The OpenStack Block Storage API (docs/API.md). */
    { XS_CATALOG_SECTION, "api_listen", XS_CONFIG_STRING, XS_CATALOG_DEFAULT_API, 0, 0, NULL,
      true, s_check_listen, "HTTP address of the Block Storage API (empty: off)" },
    { XS_CATALOG_SECTION, "api_public_endpoint", XS_CONFIG_STRING, "", 0, 0, NULL, true,
      NULL, "base URL clients reach the API at, for next links (empty: the Host header)" },
    { XS_CATALOG_SECTION, "api_cert", XS_CONFIG_STRING, "", 0, 0, NULL, true, NULL,
      "PEM certificate (chain) of the API: https when set" },
    { XS_CATALOG_SECTION, "api_key", XS_CONFIG_STRING, "", 0, 0, NULL, true, NULL,
      "PEM private key of api_cert" },
    { XS_CATALOG_SECTION, "api_auth", XS_CONFIG_ENUM, "noauth", 0, 0, s_api_auth_names, false,
      NULL, "noauth (every caller is admin; loopback only) or keystone" },
    { XS_CATALOG_SECTION, "api_allow_insecure", XS_CONFIG_BOOL, "false", 0, 0, NULL, false,
      NULL, "allow api_auth = noauth on a non-loopback api_listen" },
    { XS_CATALOG_SECTION, "api_noauth_project", XS_CONFIG_STRING, "admin", 0, 0, NULL, false,
      NULL, "project of a noauth request that names none" },
    { XS_CATALOG_SECTION, "api_quota_volumes", XS_CONFIG_INT, "1000", -1, 1e9, NULL, false,
      NULL, "volumes per project (-1: unlimited)" },
    { XS_CATALOG_SECTION, "api_quota_gigabytes", XS_CONFIG_INT, "100000", -1, 1e12, NULL, false,
      NULL, "GiB of volumes per project (-1: unlimited)" },
    { XS_CATALOG_SECTION, "keystone_url", XS_CONFIG_STRING, "", 0, 0, NULL, true, NULL,
      "Keystone (api_auth = keystone): http(s)://host:5000" },
    { XS_CATALOG_SECTION, "keystone_user", XS_CONFIG_STRING, "", 0, 0, NULL, true, NULL,
      "the service user that validates tokens" },
    { XS_CATALOG_SECTION, "keystone_password_file", XS_CONFIG_STRING, "", 0, 0, NULL, true,
      NULL, "file holding keystone_user's password (never in argv or the config)" },
    { XS_CATALOG_SECTION, "keystone_project", XS_CONFIG_STRING, "service", 0, 0, NULL, false,
      NULL, "keystone_user's project" },
    { XS_CATALOG_SECTION, "keystone_cafile", XS_CONFIG_STRING, "", 0, 0, NULL, true, NULL,
      "CA bundle for an https Keystone (empty: the system's)" },
    { .key = NULL }
};

xs_config_t *
xs_catalog_cfg_new (void)
{
    return xs_config_new (xs_catalog_cfg_options);
}

int
xs_catalog_cfg_check_endpoint (const char *endpoint, xs_err_t *err)
{
    if (strncmp (endpoint, "ipc://", 6) == 0) {
        const char *path = endpoint + 6;
        if (path [0] != '/')
            return xs_err_set (err, XS_EINVAL,
                               "endpoint '%s': an ipc:// endpoint needs an absolute path", endpoint);
        /* sun_path holds 108 bytes; keep room for ZeroMQ. */
        if (strlen (path) > 100)
            return xs_err_set (err, XS_EINVAL,
                               "endpoint '%s': socket path longer than 100 bytes", endpoint);
        return 0;
    }
    if (strncmp (endpoint, "tcp://", 6) == 0) {
        const char *colon = strrchr (endpoint + 6, ':');
        if (!colon || colon == endpoint + 6 || !colon [1])
            return xs_err_set (err, XS_EINVAL,
                               "endpoint '%s': expected tcp://<host>:<port>", endpoint);
        return 0;
    }
    return xs_err_set (err, XS_EINVAL,
                       "endpoint '%s': expected ipc://<path> or tcp://<host>:<port>", endpoint);
}

/* Whether host (of tcp://host:port) is a loopback address: 127.0.0.0/8,
   ::1 (bracketed or not) or "localhost". Anything else (a wildcard, an
   interface or another name) may be reachable from elsewhere. */
static bool
s_is_loopback (const char *host, size_t len)
{
    char buf [64];
    if (len >= 2 && host [0] == '[' && host [len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof buf)
        return false;
    snprintf (buf, sizeof buf, "%.*s", (int) len, host);
    if (strcmp (buf, "localhost") == 0)
        return true;
    unsigned char addr [16];
    if (inet_pton (AF_INET, buf, addr) == 1)
        return addr [0] == 127;
    if (inet_pton (AF_INET6, buf, addr) == 1) {
        static const unsigned char one [16] = {[15] = 1};
        return memcmp (addr, one, sizeof one) == 0;
    }
    return false;
}

int
xs_catalog_cfg_check_admin_endpoint (const char *endpoint, bool allow_remote, xs_err_t *err)
{
    if (xs_catalog_cfg_check_endpoint (endpoint, err))
        return -1;
    if (strncmp (endpoint, "tcp://", 6) != 0 || allow_remote)
        return 0;
    const char *host = endpoint + 6;
    const char *colon = strrchr (host, ':');
    if (s_is_loopback (host, (size_t) (colon - host)))
        return 0;
    return xs_err_set (err, XS_EINVAL,
                       "admin endpoint '%s': not a loopback address, and the admin API has "
                       "no authentication (anyone who reaches it administers the catalog); "
                       "bind it to 127.0.0.1 or an ipc:// socket, or set admin_allow_remote "
                       "= true in [catalog] if a firewall protects it", endpoint);
}
