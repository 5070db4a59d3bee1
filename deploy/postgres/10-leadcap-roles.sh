#!/bin/sh
# Least-privilege roles for leadcap, made once by the postgres image on the first start of an
# empty volume (it runs /docker-entrypoint-initdb.d/* as the superuser POSTGRES_USER):
#   DB_OWNER_USER  owns the schema: `leadcap migrate` (the compose `migrate` service) logs in as it.
#   DB_APP_USER    web and worker: SELECT/INSERT/UPDATE/DELETE on the tables the owner makes,
#                  nothing else (no DDL, no TRUNCATE, no temp tables, no schema_migrations).
# The app's grants are the owner's DEFAULT PRIVILEGES, so every table a later migration creates
# is usable by the app with no GRANT in the migration and no setting naming the role.
# Passwords are read with psql's \getenv: never on a command line (the process list).
# tests/deploy runs this very file against a real PostgreSQL.
set -eu

: "${DB_OWNER_USER:?}" "${DB_OWNER_PASSWORD:?}" "${DB_APP_USER:?}" "${DB_APP_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner="$DB_OWNER_USER" -v app="$DB_APP_USER" -v db="$POSTGRES_DB" <<'SQL'
\getenv owner_password DB_OWNER_PASSWORD
\getenv app_password DB_APP_PASSWORD
\set QUIET on

BEGIN;
CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'app_password';

-- Only these two may connect; PUBLIC loses CONNECT and TEMPORARY (the app needs no temp tables).
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"owner", :"app";

-- The owner creates in `public`; the app may only look names up there.
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";

-- leadcap migrate's bookkeeping table, made here before the defaults below so that the app role
-- gets no right on it (the same statement as leadcap/stores/postgres/migrate.py; tests/deploy checks they agree).
SET ROLE :"owner";
CREATE TABLE IF NOT EXISTS schema_migrations ( name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
RESET ROLE;

ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";
COMMIT;
SQL
