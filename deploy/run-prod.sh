#!/usr/bin/env bash
# Runs the production profile on this machine, without containers: gunicorn (deploy/
# gunicorn.conf.py), a Celery worker for the default queue, one for the gpu queue and beat,
# against the local PostgreSQL (127.0.0.1:5432, user postgres, trust) and Redis (127.0.0.1:6379).
#
#   deploy/run-prod.sh                 # http://127.0.0.1:8100/
#   SIGHTLINE_PROD_PORT=8200 GUNICORN_WORKERS=3 deploy/run-prod.sh
#
# Production settings apply (DEBUG off, JSON logs, Redis cache and broker) except the TLS-only
# ones (HSTS, SSL redirect, secure cookies), which would lock a plain-HTTP loopback client out;
# nginx adds TLS in a real deployment (deploy/README.md). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
py=$root/.venv/bin/python
port=${SIGHTLINE_PROD_PORT:-8100}
db=${SIGHTLINE_PROD_DB:-sightline_prod}
redis=${SIGHTLINE_PROD_REDIS:-redis://127.0.0.1:6379}
data=${SIGHTLINE_DATA_DIR:-$root/var/prod}
mkdir -p "$data"

export PYTHONPATH="$root:$root/platform${PYTHONPATH:+:$PYTHONPATH}"
export DJANGO_DEBUG=0
export SIGHTLINE_ENV_FILE=/dev/null
export SIGHTLINE_DATA_DIR=$data
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$db}
export DATABASE_CONN_MAX_AGE=${DATABASE_CONN_MAX_AGE:-60}
export CELERY_BROKER_URL=${CELERY_BROKER_URL:-$redis/2}
export CACHE_URL=${CACHE_URL:-$redis/3}
export DJANGO_ALLOWED_HOSTS=${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost}
export DJANGO_SECURE_COOKIES=${DJANGO_SECURE_COOKIES:-0}
export SIGHTLINE_LOG_FORMAT=${SIGHTLINE_LOG_FORMAT:-json}
export GUNICORN_BIND=127.0.0.1:$port
export PROMETHEUS_MULTIPROC_DIR=$data/prometheus
# A secret generated once per data folder and kept out of the environment listing.
if [[ -z "${DJANGO_SECRET_KEY:-}" && -z "${DJANGO_SECRET_KEY_FILE:-}" ]]; then
  if [[ ! -s "$data/secret-key" ]]; then
    (umask 077 && "$py" -c 'import secrets; print(secrets.token_urlsafe(50))' > "$data/secret-key")
  fi
  export DJANGO_SECRET_KEY_FILE=$data/secret-key
fi

if [[ $DATABASE_URL == postgres://postgres@127.0.0.1:5432/* ]]; then
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
    || createdb -h 127.0.0.1 -U postgres "$db"
fi
"$py" manage.py migrate --noinput
"$py" manage.py prepare_data_dir
"$py" manage.py collectstatic --noinput -v 0

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

celery=("$py" -m celery -A sightline)
SIGHTLINE_WORKER_PRELOAD=0 "${celery[@]}" worker -Q default --concurrency "${SIGHTLINE_DEFAULT_CONCURRENCY:-1}" \
  --hostname "default@%h" --loglevel INFO &
pids+=($!)
"${celery[@]}" worker -Q gpu --concurrency 1 --prefetch-multiplier 1 \
  --hostname "gpu@%h" --loglevel INFO &
pids+=($!)
"${celery[@]}" beat --schedule "$data/celerybeat-schedule" --loglevel INFO &
pids+=($!)
"$root/.venv/bin/gunicorn" -c deploy/gunicorn.conf.py &
pids+=($!)
echo "Sightline (production profile): http://127.0.0.1:$port/  health: /health/ready/  metrics: /metrics" >&2
wait -n "${pids[@]}"
