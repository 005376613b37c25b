#!/bin/sh
# Chooses the role of a service image. The commands are the team's conventions (see docs/deployment.md).
set -eu

: "${SERVICE:?SERVICE is set in the image}"
PACKAGE="${SERVICE_PACKAGE:-${SERVICE}_service}"

case "$SERVICE" in
  auth) default_port=8001 ;;
  movie) default_port=8002 ;;
  booking) default_port=8003 ;;
  payment) default_port=8004 ;;
  notification) default_port=8005 ;;
  *) echo "unknown SERVICE=$SERVICE" >&2; exit 64 ;;
esac
PORT="${PORT:-$default_port}"

role="${1:-web}"
# Its PostgreSQL sessions carry its name (application_name): pg_stat_activity tells booking-web
# from booking-worker, as under manage_all.py up.
PGAPPNAME="${PGAPPNAME:-${SERVICE}-${role}}"
export PGAPPNAME
case "$role" in
  web)
    exec gunicorn "${PACKAGE}.wsgi:application" -c deploy/gunicorn.conf.py --bind "0.0.0.0:${PORT}" ;;
  worker)
    # Its processes' Prometheus counters, summed on WORKER_METRICS_PORT (common/observability/metrics.py).
    PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$(mktemp -d)}"
    export PROMETHEUS_MULTIPROC_DIR
    exec celery -A "$PACKAGE" worker -Q "${SERVICE}.tasks" --loglevel "${CELERY_LOGLEVEL:-INFO}" ;;
  beat)
    # The schedule file lives in /tmp: the code directory is read-only for the app user.
    exec celery -A "$PACKAGE" beat --loglevel "${CELERY_LOGLEVEL:-INFO}" -s /tmp/celerybeat-schedule ;;
  migrate)
    exec python "${PACKAGE}/manage.py" migrate --noinput ;;
  collectstatic)
    exec python "${PACKAGE}/manage.py" collectstatic --noinput ;;
  *)
    exec "$@" ;;
esac
