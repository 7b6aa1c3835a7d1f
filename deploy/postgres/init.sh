#!/bin/bash
# The postgres image runs this once, when the data volume is new (docker-entrypoint-initdb.d): one database and
# one role per service, the role's password from the compose secret <service>_db_password.
set -euo pipefail
for service in ingest evaluator alerts; do
  psql --username "$POSTGRES_USER" --dbname postgres --no-psqlrc --quiet \
    -v role="$service" -v password="$(cat "/run/secrets/${service}_db_password")" \
    -f /etc/wuxi-targets/service-database.sql
done
