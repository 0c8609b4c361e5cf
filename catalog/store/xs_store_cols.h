/*  xs_store_cols: the columns each table's row function reads, in its
    order (s_<table>_row in xs_store_<table>.c), shared by both dialects'
    statements (xs_store_sql.c, xs_store_pg_sql.c) so they cannot drift. */
#ifndef XS_STORE_COLS_H_INCLUDED
#define XS_STORE_COLS_H_INCLUDED

#define S_FLAVOR_COLS "SELECT id, label, description, created_at FROM flavor "
#define S_BACKEND_COLS \
    "SELECT b.id, b.flavor_id, f.label, b.zone, b.sr_type, b.name_label, b.sr_uuid," \
    " b.state, b.error, b.ratio, b.reserve, b.created_at" \
    " FROM backend b JOIN flavor f ON f.id = b.flavor_id "
#define S_HOST_COLS \
    "SELECT uuid, zone, name, public_key, state, last_seen, created_at FROM host "
#define S_SR_COLS \
    "SELECT host_uuid, backend_id, attached, physical_size, physical_utilisation," \
    " virtual_allocation, capabilities, updated_at FROM host_sr "
#define S_VOLUME_COLS \
    "SELECT uuid, name, size_bytes, flavor_id, backend_id, vdi_uuid, host_uuid, state," \
    " error, parent_uuid, request_id, created_at, updated_at, project FROM volume "
#define S_JOB_COLS \
    "SELECT id, volume_uuid, op, args, state, backend_id, host_uuid, result, error," \
    " created_at, updated_at FROM job "
#define S_ATTEMPT_COLS \
    "SELECT id, volume_uuid, backend_id, host_uuid, outcome, reason, at FROM attempt "

#endif
