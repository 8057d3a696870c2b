#!/bin/sh
# Creates the role the application runs as (docker-compose.yml mounts this file into
# /docker-entrypoint-initdb.d/ of the postgres container; the image runs it once, when
# the database volume is first initialised).
#
# Two roles:
#   POSTGRES_USER      owns the schema; only the migrate step and the operator use it.
#   POSTGRES_APP_USER  what web, worker and beat connect as: it may read and write rows,
#                      nothing more. It cannot TRUNCATE, ALTER or DROP tables, nor disable
#                      the triggers that keep the audit log append-only, nor bypass them
#                      (session_replication_role needs a superuser).
set -e

app_user="${POSTGRES_APP_USER:-carbonx_app}"
if [ -z "${POSTGRES_APP_PASSWORD:-}" ]; then
    echo "postgres-init: POSTGRES_APP_PASSWORD is empty" >&2
    exit 1
fi

psql --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set ON_ERROR_STOP=1 \
    --set owner="$POSTGRES_USER" \
    --set db="$POSTGRES_DB" \
    --set app_user="$app_user" \
    --set app_password="$POSTGRES_APP_PASSWORD" <<'SQL'
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app_user";
GRANT USAGE ON SCHEMA public TO :"app_user";
-- Every table and sequence the owner creates from now on (the migrations):
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_user";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"app_user";
SQL
