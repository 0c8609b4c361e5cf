/*  xs_store_sql: the SQL vocabulary of the store, in one file to review:
    the schema with its migrations and every statement the store's
    operations run. Nothing else in xensm holds SQL text, except the
    connection settings and file checks of opening (the PRAGMAs in
    xs_store.c), which stay next to the checks they are part of.
*/
#include "xs_store_int.h"
#include "xs_store_cols.h"

/* The database's clock in ms: leases are timed by it, not by the hosts'. */
#define S_NOW "CAST ((julianday ('now') - 2440587.5) * 86400000 AS INTEGER)"

/* ---------------------------------------------------------------------
   Schema: xs_sql_migrations [v] brings a database from user_version v to
   v + 1. Never edit a released step: add a new one and bump
   XS_STORE_SCHEMA_VERSION.
   --------------------------------------------------------------------- */

const char *const xs_sql_migrations [] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE flavor ("
    "  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  label       TEXT NOT NULL UNIQUE CHECK (label <> ''),"
    "  description TEXT NOT NULL DEFAULT '',"
    "  created_at  INTEGER NOT NULL"
    ");"
    "CREATE TABLE backend ("
    "  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  flavor_id   INTEGER NOT NULL REFERENCES flavor (id) ON DELETE RESTRICT,"
    "  zone        TEXT NOT NULL CHECK (zone <> ''),"
    "  sr_type     TEXT NOT NULL CHECK (sr_type <> ''),"
    "  name_label  TEXT,"
    "  sr_uuid     TEXT UNIQUE CHECK (sr_uuid IS NULL OR sr_uuid <> ''),"
    "  state       TEXT NOT NULL DEFAULT 'new'"
    "              CHECK (state IN ('new', 'attaching', 'attached', 'error', 'draining')),"
    "  ratio       REAL CHECK (ratio IS NULL OR ratio > 0),"
    "  reserve     REAL CHECK (reserve IS NULL OR (reserve >= 0 AND reserve <= 100)),"
    "  error       TEXT,"
    "  created_at  INTEGER NOT NULL"
    ");"
    "CREATE INDEX backend_by_flavor ON backend (flavor_id, id);"
    "CREATE INDEX backend_by_zone ON backend (zone, id);"
    "CREATE TABLE backend_config ("
    "  backend_id  INTEGER NOT NULL REFERENCES backend (id) ON DELETE CASCADE,"
    "  position    INTEGER NOT NULL,"
    "  key         TEXT NOT NULL CHECK (key <> ''),"
    "  value       TEXT NOT NULL,"
    "  PRIMARY KEY (backend_id, key)"
    ");"
    "CREATE TABLE host ("
    "  uuid        TEXT NOT NULL PRIMARY KEY CHECK (uuid <> ''),"
    "  zone        TEXT NOT NULL CHECK (zone <> ''),"
    "  name        TEXT,"
    "  public_key  TEXT,"
    "  state       TEXT NOT NULL DEFAULT 'up' CHECK (state IN ('up', 'down')),"
    "  last_seen   INTEGER NOT NULL,"
    "  created_at  INTEGER NOT NULL"
    ");"
    "CREATE INDEX host_by_zone ON host (zone, uuid);"
    "CREATE TABLE host_sr ("
    "  backend_id  INTEGER NOT NULL REFERENCES backend (id) ON DELETE CASCADE,"
    "  host_uuid   TEXT NOT NULL REFERENCES host (uuid) ON DELETE CASCADE,"
    "  attached    INTEGER NOT NULL DEFAULT 0 CHECK (attached IN (0, 1)),"
    "  physical_size        INTEGER,"
    "  physical_utilisation INTEGER,"
    "  virtual_allocation   INTEGER,"
    "  capabilities TEXT NOT NULL DEFAULT '[]',"
    "  updated_at  INTEGER NOT NULL,"
    "  PRIMARY KEY (backend_id, host_uuid)"
    ");"
    "CREATE INDEX host_sr_by_host ON host_sr (host_uuid);"
    "CREATE TABLE volume ("
    "  uuid        TEXT NOT NULL PRIMARY KEY CHECK (uuid <> ''),"
    "  name        TEXT,"
    "  size_bytes  INTEGER NOT NULL CHECK (size_bytes >= 0),"
    "  flavor_id   INTEGER REFERENCES flavor (id) ON DELETE SET NULL,"
    "  backend_id  INTEGER REFERENCES backend (id) ON DELETE SET NULL,"
    "  vdi_uuid    TEXT,"
    "  host_uuid   TEXT,"
    "  state       TEXT NOT NULL CHECK (state IN ('creating', 'available', 'deleting',"
    "                                   'deleted', 'error', 'error_deleting')),"
    "  error       TEXT,"
    "  parent_uuid TEXT,"
    "  request_id  TEXT UNIQUE,"      /* its index serves get-by-request-id */
    "  created_at  INTEGER NOT NULL,"
    "  updated_at  INTEGER NOT NULL"
    ");"
    "CREATE INDEX volume_by_backend ON volume (backend_id);"
    "CREATE INDEX volume_by_flavor ON volume (flavor_id);"
    "CREATE INDEX volume_by_parent ON volume (parent_uuid) WHERE parent_uuid IS NOT NULL;"
    "CREATE TABLE job ("
    "  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  volume_uuid TEXT REFERENCES volume (uuid) ON DELETE CASCADE,"
    "  op          TEXT NOT NULL CHECK (op <> ''),"
    "  args        TEXT,"
    "  state       TEXT NOT NULL CHECK (state IN ('pending', 'dispatched', 'done', 'failed')),"
    "  backend_id  INTEGER,"          /* history: ids are never reused */
    "  host_uuid   TEXT,"
    "  result      TEXT,"
    "  error       TEXT,"
    "  created_at  INTEGER NOT NULL,"
    "  updated_at  INTEGER NOT NULL"
    ");"
    "CREATE INDEX job_unfinished ON job (id) WHERE state IN ('pending', 'dispatched');"
    "CREATE INDEX job_by_volume ON job (volume_uuid, id);"
    "CREATE TABLE attempt ("
    "  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  volume_uuid TEXT NOT NULL REFERENCES volume (uuid) ON DELETE CASCADE,"
    "  backend_id  INTEGER NOT NULL,"
    "  host_uuid   TEXT,"
    "  outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'skipped')),"
    "  reason      TEXT,"
    "  at          INTEGER NOT NULL"
    ");"
    "CREATE INDEX attempt_by_volume ON attempt (volume_uuid, id);",
    /* 1 -> 2: every volume belongs to a project (the Block Storage API's
       tenant; '' for volumes made before projects). */
    "ALTER TABLE volume ADD COLUMN project TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX volume_by_project ON volume (project, state);",
    /* 2 -> 3: the states of extend (extending, error_extending). SQLite
       cannot change a CHECK: the table is rebuilt (sqlite.org/lang_altertable
       "other kinds of table schema changes"; migrations run before foreign
       keys are switched on), keeping every row and its rowid (the list
       order). */
    "CREATE TABLE volume_v3 ("
    "  uuid        TEXT NOT NULL PRIMARY KEY CHECK (uuid <> ''),"
    "  name        TEXT,"
    "  size_bytes  INTEGER NOT NULL CHECK (size_bytes >= 0),"
    "  flavor_id   INTEGER REFERENCES flavor (id) ON DELETE SET NULL,"
    "  backend_id  INTEGER REFERENCES backend (id) ON DELETE SET NULL,"
    "  vdi_uuid    TEXT,"
    "  host_uuid   TEXT,"
    "  state       TEXT NOT NULL CHECK (state IN ('creating', 'available', 'deleting',"
    "                                   'deleted', 'error', 'error_deleting',"
    "                                   'extending', 'error_extending')),"
    "  error       TEXT,"
    "  parent_uuid TEXT,"
    "  request_id  TEXT UNIQUE,"
    "  created_at  INTEGER NOT NULL,"
    "  updated_at  INTEGER NOT NULL,"
    "  project     TEXT NOT NULL DEFAULT ''"
    ");"
    "INSERT INTO volume_v3 (rowid, uuid, name, size_bytes, flavor_id, backend_id, vdi_uuid,"
    "  host_uuid, state, error, parent_uuid, request_id, created_at, updated_at, project)"
    " SELECT rowid, uuid, name, size_bytes, flavor_id, backend_id, vdi_uuid, host_uuid,"
    "  state, error, parent_uuid, request_id, created_at, updated_at, project FROM volume;"
    "DROP TABLE volume;"
    "ALTER TABLE volume_v3 RENAME TO volume;"
    "CREATE INDEX volume_by_backend ON volume (backend_id);"
    "CREATE INDEX volume_by_flavor ON volume (flavor_id);"
    "CREATE INDEX volume_by_parent ON volume (parent_uuid) WHERE parent_uuid IS NOT NULL;"
    "CREATE INDEX volume_by_project ON volume (project, state);",
    /* 3 -> 4: several catalogd on one database, one of them leads
       (xs_store_leader.c): the leader row with its fencing generation, and
       every instance seen. */
    "CREATE TABLE catalog_leader ("
    "  id             INTEGER PRIMARY KEY CHECK (id = 1),"
    "  generation     INTEGER NOT NULL,"
    "  instance       TEXT,"
    "  admin_endpoint TEXT,"
    "  agent_endpoint TEXT,"
    "  api_endpoint   TEXT,"
    "  since          INTEGER NOT NULL DEFAULT 0,"
    "  expires_at     INTEGER NOT NULL DEFAULT 0,"
    "  pid            INTEGER"
    ");"
    "INSERT INTO catalog_leader (id, generation) VALUES (1, 0);"
    "CREATE TABLE catalog_instance ("
    "  instance       TEXT NOT NULL PRIMARY KEY CHECK (instance <> ''),"
    "  admin_endpoint TEXT,"
    "  agent_endpoint TEXT,"
    "  api_endpoint   TEXT,"
    "  started_at     INTEGER NOT NULL,"
    "  seen_at        INTEGER NOT NULL"
    ");",
    /* 4 -> 5: the Block Storage API's list pages (xs_store_volume_page) are
       index range scans in their order (created_at, uuid), newest first:
       a project's volumes, every project's (an admin's all_tenants), a
       project's snapshots (copies: few among many volumes). Deleted rows
       are in none of them. */
    "CREATE INDEX volume_page_by_project ON volume (project, created_at, uuid)"
    "  WHERE state <> 'deleted';"
    "CREATE INDEX volume_page ON volume (created_at, uuid) WHERE state <> 'deleted';"
    "CREATE INDEX volume_copy_page_by_project ON volume (project, created_at, uuid)"
    "  WHERE state <> 'deleted' AND parent_uuid IS NOT NULL;",
    /* 5 -> 6: the volumes still `creating` (xs_store_volume_list_creating,
       read at every start): as many index entries as such rows, not a
       walk of every live volume. */
    "CREATE INDEX volume_creating ON volume (uuid) WHERE state = 'creating';",
    /* 6 -> 7: the creates that ended in error (xs_store_volume_list_errors,
       the API's user messages): as many entries as such rows, not a walk
       of every volume at every GET /messages. */
    "CREATE INDEX volume_error ON volume (created_at, uuid)"
    "  WHERE state = 'error' AND request_id IS NOT NULL;"
};

_Static_assert (sizeof xs_sql_migrations / sizeof xs_sql_migrations [0]
                == XS_STORE_SCHEMA_VERSION, "one migration step per schema version");

/* ---------------------------------------------------------------------
   List pages (xs_store_volume_page): a copy is a snapshot when its first
   job was vdi_snapshot (as XS_SQL_VOLUME_USAGE tells them). A page is ?1
   ?2 the marker's (created_at, uuid) (or past every row), ?3 name, ?4
   state, ?5 parent (each NULL: any), ?6 limit, ?7 offset, ?8 project; the
   marker's check and the count are ?1 project, ?2 name, ?3 state, ?4
   parent (each NULL: any), ?5 1 for snapshots, ?6 the marker.
   --------------------------------------------------------------------- */

#define S_FIRST_OP \
    "(SELECT j.op FROM job j WHERE j.volume_uuid = volume.uuid ORDER BY j.id LIMIT 1)"
#define S_PAGE_SNAPSHOTS \
    " AND parent_uuid IS NOT NULL AND " S_FIRST_OP " = 'vdi_snapshot'"
#define S_PAGE_VOLUMES \
    " AND (parent_uuid IS NULL OR coalesce (" S_FIRST_OP ", '') <> 'vdi_snapshot')"
#define S_PAGE(project, kind) \
    S_VOLUME_COLS "WHERE state <> 'deleted'" project kind \
    " AND (created_at, uuid) < (?1, ?2)" \
    " AND (?3 IS NULL OR coalesce (name, '') = ?3) AND (?4 IS NULL OR state = ?4)" \
    " AND (?5 IS NULL OR parent_uuid = ?5)" \
    " ORDER BY created_at DESC, uuid DESC LIMIT ?6 OFFSET ?7"
#define S_PAGE_MATCH \
    "state <> 'deleted' AND (?1 IS NULL OR project = ?1)" \
    " AND (?2 IS NULL OR coalesce (name, '') = ?2) AND (?3 IS NULL OR state = ?3)" \
    " AND (?4 IS NULL OR parent_uuid = ?4)" \
    " AND (CASE WHEN parent_uuid IS NOT NULL AND " S_FIRST_OP " = 'vdi_snapshot'" \
    " THEN 1 ELSE 0 END) = ?5"

/* ---------------------------------------------------------------------
   Statements, by xs_sql_id_t (xs_store_int.h). The column order of each
   S_<TABLE>_COLS is the order s_<table>_row in xs_store_<table>.c reads.
   --------------------------------------------------------------------- */

const char *const xs_sql_text [XS_SQL_NSTMTS] = {
    [XS_SQL_BEGIN]        = "BEGIN IMMEDIATE",
    [XS_SQL_COMMIT]       = "COMMIT",
    [XS_SQL_ROLLBACK]     = "ROLLBACK",
    [XS_SQL_SAVEPOINT]    = "SAVEPOINT xs_op",
    [XS_SQL_RELEASE]      = "RELEASE xs_op",
    [XS_SQL_ROLLBACK_TO]  = "ROLLBACK TO xs_op",

    [XS_SQL_FLAVOR_INSERT] =
        "INSERT INTO flavor (label, description, created_at) VALUES (?1, ?2, ?3)",
    [XS_SQL_FLAVOR_BY_LABEL] = S_FLAVOR_COLS "WHERE label = ?1",
    [XS_SQL_FLAVOR_BY_ID]    = S_FLAVOR_COLS "WHERE id = ?1",
    [XS_SQL_FLAVOR_LIST]     = S_FLAVOR_COLS "ORDER BY id",
    [XS_SQL_FLAVOR_BACKENDS] = "SELECT count(*) FROM backend WHERE flavor_id = ?1",
    [XS_SQL_FLAVOR_LIVE_VOLUMES] =
        "SELECT count(*) FROM volume WHERE flavor_id = ?1 AND state <> 'deleted'"
        " AND NOT (state = 'error' AND vdi_uuid IS NULL)",
    [XS_SQL_FLAVOR_DELETE]   = "DELETE FROM flavor WHERE id = ?1",
    [XS_SQL_FLAVOR_EXISTS]   = "SELECT 1 FROM flavor WHERE id = ?1",

    [XS_SQL_BACKEND_INSERT] =
        "INSERT INTO backend (flavor_id, zone, sr_type, name_label, sr_uuid, state,"
        " ratio, reserve, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'new', ?6, ?7, ?8)",
    [XS_SQL_CONFIG_INSERT] =
        "INSERT INTO backend_config (backend_id, position, key, value) VALUES (?1, ?2, ?3, ?4)",
    [XS_SQL_BACKEND_GET]       = S_BACKEND_COLS "WHERE b.id = ?1",
    [XS_SQL_BACKEND_LIST]      = S_BACKEND_COLS "ORDER BY b.id",
    [XS_SQL_BACKEND_BY_FLAVOR] = S_BACKEND_COLS "WHERE b.flavor_id = ?1 ORDER BY b.id",
    [XS_SQL_BACKEND_BY_ZONE]   = S_BACKEND_COLS "WHERE b.zone = ?1 ORDER BY b.id",
    [XS_SQL_CONFIG_OF] =
        "SELECT key, value FROM backend_config WHERE backend_id = ?1 ORDER BY position",
    [XS_SQL_BACKEND_LIVE_VOLUMES] =
        "SELECT count(*) FROM volume WHERE backend_id = ?1 AND state <> 'deleted'",
    [XS_SQL_BACKEND_DELETE]    = "DELETE FROM backend WHERE id = ?1",
    [XS_SQL_BACKEND_SET_STATE] = "UPDATE backend SET state = ?2, error = ?3 WHERE id = ?1",
    [XS_SQL_BACKEND_SET_SR] =
        "UPDATE backend SET sr_uuid = ?2 WHERE id = ?1 AND sr_uuid IS NULL",
    [XS_SQL_BACKEND_BY_SR]     = "SELECT id FROM backend WHERE sr_uuid = ?1",
    [XS_SQL_BACKEND_EXISTS]    = "SELECT 1 FROM backend WHERE id = ?1",
    /* Volume operations journaled on a backend and not finished (D11). */
    [XS_SQL_BACKEND_BUSY] =
        "SELECT count(*), (SELECT 'volume ' || coalesce(volume_uuid, '-') || ': ' || op"
        " FROM job WHERE backend_id = ?1 AND state IN ('pending', 'dispatched')"
        " ORDER BY id LIMIT 1)"
        " FROM job WHERE backend_id = ?1 AND state IN ('pending', 'dispatched')",
    [XS_SQL_BACKEND_NEXT_OF_FLAVOR] =
        "SELECT id FROM backend WHERE flavor_id = ?1 AND id > ?2 ORDER BY id LIMIT 1",

    [XS_SQL_HOST_UPSERT] =
        "INSERT INTO host (uuid, zone, name, public_key, state, last_seen, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT (uuid) DO UPDATE SET zone = excluded.zone, name = excluded.name,"
        " public_key = excluded.public_key, state = excluded.state,"
        " last_seen = excluded.last_seen",
    [XS_SQL_HOST_GET]       = S_HOST_COLS "WHERE uuid = ?1",
    [XS_SQL_HOST_LIST]      = S_HOST_COLS "WHERE ?1 IS NULL OR zone = ?1 ORDER BY zone, uuid",
    [XS_SQL_HOST_SET_STATE] = "UPDATE host SET state = ?2 WHERE uuid = ?1",
    [XS_SQL_HOST_TOUCH]     = "UPDATE host SET last_seen = ?2 WHERE uuid = ?1",
    [XS_SQL_HOST_DELETE]    = "DELETE FROM host WHERE uuid = ?1",
    [XS_SQL_HOST_EXISTS]    = "SELECT 1 FROM host WHERE uuid = ?1",

    [XS_SQL_SR_UPSERT] =
        "INSERT INTO host_sr (host_uuid, backend_id, attached, physical_size,"
        " physical_utilisation, virtual_allocation, capabilities, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        " ON CONFLICT (backend_id, host_uuid) DO UPDATE SET attached = excluded.attached,"
        " physical_size = excluded.physical_size,"
        " physical_utilisation = excluded.physical_utilisation,"
        " virtual_allocation = excluded.virtual_allocation,"
        " capabilities = excluded.capabilities, updated_at = excluded.updated_at",
    [XS_SQL_SR_SET_ATTACHED] =
        "INSERT INTO host_sr (host_uuid, backend_id, attached, updated_at)"
        " VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT (backend_id, host_uuid) DO UPDATE SET attached = excluded.attached,"
        " updated_at = excluded.updated_at",
    [XS_SQL_SR_LIST] = S_SR_COLS
        "WHERE (?1 = 0 OR backend_id = ?1) AND (?2 IS NULL OR host_uuid = ?2)"
        " ORDER BY backend_id, host_uuid",

    [XS_SQL_VOLUME_INSERT] =
        "INSERT INTO volume (uuid, name, size_bytes, flavor_id, backend_id, vdi_uuid,"
        " host_uuid, state, error, parent_uuid, request_id, created_at, updated_at, project)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)",
    [XS_SQL_VOLUME_GET]        = S_VOLUME_COLS "WHERE uuid = ?1",
    [XS_SQL_VOLUME_BY_REQUEST] = S_VOLUME_COLS "WHERE request_id = ?1",
    /* A copy is a snapshot when its first job was vdi_snapshot. */
    [XS_SQL_VOLUME_USAGE] =
        "SELECT COALESCE(SUM(CASE WHEN k = 'vdi_snapshot' THEN 0 ELSE 1 END), 0),"
        " COALESCE(SUM(CASE WHEN k = 'vdi_snapshot' THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM((size_bytes + 1073741823) / 1073741824), 0)"
        " FROM (SELECT v.size_bytes, CASE WHEN v.parent_uuid IS NULL THEN NULL ELSE"
        " (SELECT j.op FROM job j WHERE j.volume_uuid = v.uuid ORDER BY j.id LIMIT 1) END AS k"
        " FROM volume v WHERE v.project = ?1 AND v.state IN ('creating', 'available',"
        " 'deleting', 'error', 'error_deleting', 'extending', 'error_extending')) u",
    [XS_SQL_VOLUME_SNAPSHOTS_OF] =
        "SELECT count(*) FROM volume v WHERE v.parent_uuid = ?1 AND v.state <> 'deleted'"
        " AND (SELECT j.op FROM job j WHERE j.volume_uuid = v.uuid ORDER BY j.id LIMIT 1) = 'vdi_snapshot'",
    [XS_SQL_VOLUME_PAGE]         = S_PAGE (" AND project = ?8", S_PAGE_VOLUMES),
    [XS_SQL_VOLUME_PAGE_ALL]     = S_PAGE ("", S_PAGE_VOLUMES),
    [XS_SQL_SNAPSHOT_PAGE]       = S_PAGE (" AND project = ?8", S_PAGE_SNAPSHOTS),
    [XS_SQL_SNAPSHOT_PAGE_ALL]   = S_PAGE ("", S_PAGE_SNAPSHOTS),
    [XS_SQL_VOLUME_PAGE_MARKER]  =
        "SELECT created_at, uuid FROM volume WHERE uuid = ?6 AND " S_PAGE_MATCH,
    [XS_SQL_VOLUME_PAGE_COUNT]   = "SELECT count(*) FROM volume WHERE " S_PAGE_MATCH,
    [XS_SQL_VOLUME_COUNTS] =
        "SELECT f.label, v.state, count(*) FROM volume v LEFT JOIN flavor f"
        " ON f.id = v.flavor_id WHERE v.state <> 'deleted' GROUP BY f.label, v.state"
        " ORDER BY 1, 2",
    [XS_SQL_VOLUME_LIST]       = S_VOLUME_COLS "WHERE ?1 OR state <> 'deleted' ORDER BY rowid",
    [XS_SQL_VOLUME_UPDATE] =
        "UPDATE volume SET name = ?2, state = ?3, backend_id = ?4, vdi_uuid = ?5,"
        " host_uuid = ?6, error = ?7, updated_at = ?8 WHERE uuid = ?1",
    [XS_SQL_VOLUME_SET_STATE] =
        "UPDATE volume SET state = ?2, error = ?3, updated_at = ?4 WHERE uuid = ?1",
    [XS_SQL_VOLUME_EXISTS] = "SELECT 1 FROM volume WHERE uuid = ?1",
    [XS_SQL_VOLUME_CREATING] =
        S_VOLUME_COLS "WHERE state = 'creating' AND uuid > ?1 ORDER BY uuid LIMIT ?2",
    [XS_SQL_VOLUME_ERRORS] =
        S_VOLUME_COLS "WHERE state = 'error' AND request_id IS NOT NULL"
        " AND (?1 IS NULL OR project = ?1) ORDER BY created_at, uuid",
    [XS_SQL_VOLUME_SET_MADE] =
        "UPDATE volume SET state = 'available', backend_id = ?2, vdi_uuid = ?3,"
        " host_uuid = ?4, error = NULL, updated_at = ?5 WHERE uuid = ?1",
    [XS_SQL_VOLUME_SET_SIZE] =
        "UPDATE volume SET size_bytes = ?2, state = ?3, error = ?4, updated_at = ?5"
        " WHERE uuid = ?1",

    [XS_SQL_JOB_INSERT] =
        "INSERT INTO job (volume_uuid, op, args, state, backend_id, host_uuid, result,"
        " error, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    [XS_SQL_JOB_GET] = S_JOB_COLS "WHERE id = ?1",
    [XS_SQL_JOB_UPDATE] =
        "UPDATE job SET state = ?2, backend_id = ?3, host_uuid = ?4, result = ?5,"
        " error = ?6, updated_at = ?7 WHERE id = ?1",
    [XS_SQL_JOB_UNFINISHED] = S_JOB_COLS "WHERE state IN ('pending', 'dispatched') ORDER BY id",
    [XS_SQL_JOB_BY_VOLUME]  = S_JOB_COLS "WHERE volume_uuid = ?1 ORDER BY id",

    [XS_SQL_ATTEMPT_INSERT] =
        "INSERT INTO attempt (volume_uuid, backend_id, host_uuid, outcome, reason, at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [XS_SQL_ATTEMPT_BY_VOLUME] = S_ATTEMPT_COLS "WHERE volume_uuid = ?1 ORDER BY id",

    [XS_SQL_COUNTS] =
        "SELECT (SELECT count(*) FROM flavor), (SELECT count(*) FROM backend),"
        " (SELECT count(*) FROM host), (SELECT count(*) FROM host WHERE state = 'up'),"
        " (SELECT count(*) FROM volume),"
        " (SELECT count(*) FROM volume WHERE state <> 'deleted'),"
        " (SELECT count(*) FROM job WHERE state IN ('pending', 'dispatched'))",
    [XS_SQL_LEAD_LOCK] = "SELECT 1",
    [XS_SQL_LEAD_KILL_EXPIRED] =
        "SELECT 0",
    [XS_SQL_LEAD_TAKE] =
        "UPDATE catalog_leader SET generation = generation + 1, instance = ?1,"
        " admin_endpoint = ?2, agent_endpoint = ?3, api_endpoint = ?4,"
        " since = " S_NOW ", expires_at = " S_NOW " + ?5, pid = NULL"
        " WHERE id = 1 RETURNING generation",
    [XS_SQL_LEAD_RENEW] =
        "UPDATE catalog_leader SET expires_at = " S_NOW " + ?2, admin_endpoint = ?3,"
        " agent_endpoint = ?4, api_endpoint = ?5 WHERE id = 1 AND generation = ?1",
    [XS_SQL_LEAD_RESIGN] =
        "UPDATE catalog_leader SET expires_at = 0 WHERE id = 1 AND generation = ?1",
    [XS_SQL_LEAD_GET] =
        "SELECT generation, instance, admin_endpoint, agent_endpoint, api_endpoint, since,"
        " expires_at, " S_NOW " FROM catalog_leader WHERE id = 1",
    [XS_SQL_LEAD_FENCE] = "SELECT generation FROM catalog_leader WHERE id = 1",
    [XS_SQL_INSTANCE_BEAT] =
        "INSERT INTO catalog_instance (instance, admin_endpoint, agent_endpoint,"
        " api_endpoint, started_at, seen_at) VALUES (?1, ?2, ?3, ?4, " S_NOW ", " S_NOW ")"
        " ON CONFLICT (instance) DO UPDATE SET admin_endpoint = excluded.admin_endpoint,"
        " agent_endpoint = excluded.agent_endpoint, api_endpoint = excluded.api_endpoint,"
        " seen_at = excluded.seen_at, started_at = CASE WHEN ?5 = 1"
        " THEN excluded.started_at ELSE catalog_instance.started_at END",
    [XS_SQL_INSTANCE_LIST] =
        "SELECT 0, instance, admin_endpoint, agent_endpoint, api_endpoint, started_at,"
        " seen_at, " S_NOW " FROM catalog_instance ORDER BY instance",
};
