#!/usr/bin/env bash
# The platform's roles and databases, created by the postgres image the first time its data
# directory is initialised (scripts in /docker-entrypoint-initdb.d run once, as the superuser).
#
#   SDP_WAREHOUSE_USER   owns database SDP_WAREHOUSE_DB: the platform creates its schemas there
#   DAGSTER_PG_USER      owns database DAGSTER_PG_DB: Dagster's runs, events and schedules
#   SDP_READER_USER      reads schemas `quality` and `controls` (Grafana) and the server's
#                        statistics (pg_monitor: the Prometheus exporter); writes nothing
#
# Names and passwords come from the environment (docker-compose.yml, from .env) and reach SQL
# only as psql variables (:"identifier", :'literal'), so they are quoted, never spliced.
set -euo pipefail

: "${SDP_WAREHOUSE_USER:?}" "${SDP_WAREHOUSE_PASSWORD:?}" "${SDP_WAREHOUSE_DB:?}"
: "${DAGSTER_PG_USER:?}" "${DAGSTER_PG_PASSWORD:?}" "${DAGSTER_PG_DB:?}"
: "${SDP_READER_USER:?}" "${SDP_READER_PASSWORD:?}"

psql --no-psqlrc -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v warehouse_user="$SDP_WAREHOUSE_USER" -v warehouse_password="$SDP_WAREHOUSE_PASSWORD" \
    -v warehouse_db="$SDP_WAREHOUSE_DB" \
    -v dagster_user="$DAGSTER_PG_USER" -v dagster_password="$DAGSTER_PG_PASSWORD" \
    -v dagster_db="$DAGSTER_PG_DB" \
    -v reader_user="$SDP_READER_USER" -v reader_password="$SDP_READER_PASSWORD" <<'SQL'
create role :"warehouse_user" login password :'warehouse_password';
create role :"dagster_user" login password :'dagster_password';
create role :"reader_user" login password :'reader_password';
grant pg_monitor to :"reader_user";

create database :"warehouse_db" owner :"warehouse_user";
create database :"dagster_db" owner :"dagster_user";
revoke all on database :"warehouse_db" from public;
revoke all on database :"dagster_db" from public;
grant connect on database :"warehouse_db" to :"reader_user";

\connect :"warehouse_db"
-- The schemas the dashboards read exist before the platform's first run (which creates them
-- with `if not exists`), so the reader's grants cover every table created in them later.
create schema if not exists quality authorization :"warehouse_user";
create schema if not exists controls authorization :"warehouse_user";
grant usage on schema quality, controls to :"reader_user";
alter default privileges for role :"warehouse_user" in schema quality, controls
    grant select on tables to :"reader_user";
SQL
