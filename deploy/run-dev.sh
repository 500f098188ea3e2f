#!/usr/bin/env bash
# Serves Sightline on the embedded default: the web server and one Celery worker (all queues,
# with the beat schedule) on the filesystem broker. Ctrl-C stops both.
set -euo pipefail
host=${1:-127.0.0.1}
port=${2:-8000}
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD:$PWD/platform${PYTHONPATH:+:$PYTHONPATH}"
py=.venv/bin/python
$py manage.py prepare_data_dir
# -B: the worker also runs the beat schedule (the job reconciler); one process in development.
$py -m celery -A sightline worker -Q gpu,default --concurrency 1 --prefetch-multiplier 1 \
  -B --loglevel INFO &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM
echo "Sightline: http://$host:$port/  (API docs: http://$host:$port/api/docs/)"
$py manage.py runserver "$host:$port" --noreload
