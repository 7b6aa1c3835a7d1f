#!/bin/sh
# Makes docker-compose's random secrets in ./secrets, once (an existing file is kept): database passwords,
# ingest's admin token, the evaluator's read token for the alerts API (its SHA-256 goes in ALERTS_API_TOKENS
# with the read scope), the alerts service's signing keys, Grafana's admin password. Two are not random and
# are the operator's to write: secrets/operator_webhook_url (where Alertmanager sends pipeline alerts) and,
# when the SMTP server wants a login, secrets/alerts_smtp_password (left empty here).
# The directory is private (700); the files are readable (644) because the containers' users are not yours.
set -eu
cd "$(dirname "$0")/.."
mkdir -p secrets
chmod 700 secrets
umask 022
for name in postgres_password ingest_db_password evaluator_db_password alerts_db_password \
            ingest_admin_token evaluator_alerts_token alerts_webhook_secret alerts_link_secret grafana_admin_password; do
  if [ ! -s "secrets/$name" ]; then
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "secrets/$name"
    echo "made secrets/$name"
  fi
done
[ -e secrets/alerts_smtp_password ] || : > secrets/alerts_smtp_password
# Each ALERTS_WEBHOOK_URLS entry's own signing key (JSON: department id -> key); none until the operator adds them.
[ -s secrets/alerts_webhook_secrets ] || echo '{}' > secrets/alerts_webhook_secrets
if [ ! -s secrets/operator_webhook_url ]; then
  echo "now write the operator's webhook URL into secrets/operator_webhook_url (Alertmanager's receiver)" >&2
  exit 1
fi
