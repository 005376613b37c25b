#!/usr/bin/env bash
# Back up the five compose databases as plain SQL, one file per database:
#
#   ./deploy/scripts/backup-databases.sh [OUTPUT_DIR]      # default: the current directory
#
# writes backup_auth_db.sql … backup_notifications_db.sql, so the design document's restore works
# as written:
#
#   docker exec -i postgres_auth psql -U auth_user -d auth_db < backup_auth_db.sql
#
# Each dump uses that service's own user (least privilege: no superuser needed) and runs inside its
# container, so no local PostgreSQL client is required. --clean --if-exists makes a restore replace
# what is there instead of failing on existing tables; --no-owner/--no-privileges keep the dump
# loadable by the service user. Each file starts with `\set ON_ERROR_STOP on` and `BEGIN;` and
# ends with `COMMIT;`: psql alone goes on after an error and exits 0, so a dump that no longer
# fits the database (a table added since depends on a dropped one) half-restored it, silently;
# now the restore stops at the first error, changes nothing and exits non-zero. For scheduled, compressed, checksummed backups of any environment
# use `manage_all.py backup`; on Kubernetes the backup CronJobs (deploy/k8s) run pg_dump -Fc.
set -euo pipefail

OUTPUT_DIR="${1:-.}"
DOCKER="${DOCKER:-docker}"
mkdir -p "$OUTPUT_DIR"

# service:database:user — the compose containers are postgres_<service>.
DATABASES=(
  "auth:auth_db:auth_user"
  "movie:movies_db:movie_user"
  "booking:bookings_db:booking_user"
  "payment:payments_db:payment_user"
  "notification:notifications_db:notification_user"
)

status=0
for entry in "${DATABASES[@]}"; do
  IFS=: read -r service database user <<<"$entry"
  target="$OUTPUT_DIR/backup_${database}.sql"
  partial="$target.partial"
  # Write to a temporary name first: a failed dump never overwrites the last good backup.
  # The group's status is pg_dump's, the last command in it.
  if { printf '\\set ON_ERROR_STOP on\nBEGIN;\n'
       "$DOCKER" exec "postgres_${service}" \
         pg_dump -U "$user" -d "$database" --clean --if-exists --no-owner --no-privileges
     } >"$partial" && printf 'COMMIT;\n' >>"$partial"; then
    mv "$partial" "$target"
    echo "backed up ${database} -> ${target} ($(wc -c <"$target" | tr -d ' ') bytes)"
  else
    rm -f "$partial"
    echo "FAILED to back up ${database} from postgres_${service}" >&2
    status=1
  fi
done
exit "$status"
