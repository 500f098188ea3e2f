"""gunicorn settings of the production profile; every value can be overridden by environment.

Threaded workers (gthread, which keep HTTP connections alive), one process per core plus one:
requests are short and mostly CPU in Python (tests/load/profile_requests.py), so more processes
than cores only add context switches and memory, while the threads of a process overlap its
requests' waits on PostgreSQL and Redis. On a machine that also runs PostgreSQL (and the load
generator), as on the 2-core test box, that is 3 processes x 4 threads. Long work runs in
Celery workers, never here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str((os.cpu_count() or 1) + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak in a native decoder cannot grow without bound, but
# rarely: a recycled worker closes its keep-alive connections and boots Django again (1-3 s of
# CPU), which at 5000 requests meant a restart every 30 s per worker at the target load.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "200000"))
max_requests_jitter = max_requests // 10
# Upload limits are enforced by Django and nginx; these bound the request line and headers.
limit_request_line = 8190
limit_request_fields = 100
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # sightline.metrics writes one structured line per request
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
wsgi_app = "sightline.wsgi:application"
pythonpath = str(Path(__file__).resolve().parents[1] / "platform")

# prometheus_client's multiprocess mode: each worker writes its samples to files here and
# /metrics aggregates them. The folder must be empty at start and private to this server.
_metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), "sightline-prometheus")
)


def on_starting(server: object) -> None:
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    os.makedirs(_metrics_dir, exist_ok=True)


def child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
