"""Prometheus metrics at ``/metrics`` and the structured request log.

- ``sightline_http_request_duration_seconds`` (histogram): latency by ``method``, ``route`` (the
  URL pattern, e.g. ``api/v1/images/<int:image_id>/``, never the raw path, so label values stay
  few) and ``status``.
- ``sightline_jobs`` (gauge): jobs by ``kind`` and ``status``, read from the job table at scrape.
- ``sightline_job_duration_seconds`` (summary-like gauges): count and sum of run times of finished
  jobs by ``kind`` and ``status``, plus ``sightline_job_duration_max_seconds``.
- ``sightline_queue_depth`` (gauge): messages waiting per Celery queue (Redis ``LLEN``; files in
  the filesystem broker's folder), and ``sightline_jobs_waiting`` (queued job rows).

Several gunicorn workers share one view of the histogram through prometheus_client's
multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set (``deploy/gunicorn.conf.py`` sets it
and cleans up after dead workers). ``SIGHTLINE_METRICS_TOKEN``, when set, must be sent as
``Authorization: Bearer <token>``; nginx also keeps ``/metrics`` off the public listener.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Sum
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger("sightline.request")

REQUEST_LATENCY = Histogram(
    "sightline_http_request_duration_seconds",
    "Latency of HTTP requests by route.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def route_of(request: HttpRequest) -> str:
    """The matched URL pattern (bounded label values), or ``unmatched``."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.route or match.view_name or "unmatched"


class MetricsMiddleware:
    """Times every request, observes the histogram and writes one structured log line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_of(request)
        REQUEST_LATENCY.labels(request.method, route, str(response.status_code)).observe(elapsed)
        user = getattr(request, "user", None)
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        logger.log(
            level,
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "route": route,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
                "user": user.pk if user is not None and user.is_authenticated else None,
            },
        )
        return response


class JobCollector(Collector):
    """Job counts, durations and queue depth, read when Prometheus scrapes."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from modeling.models import Job, JobStatus

        jobs = GaugeMetricFamily(
            "sightline_jobs", "Jobs by kind and status.", labels=["kind", "status"]
        )
        for row in Job.objects.values("kind", "status").annotate(n=Count("id")).order_by():
            jobs.add_metric([row["kind"], row["status"]], row["n"])
        yield jobs

        duration = ExpressionWrapper(
            F("finished_at") - F("started_at"), output_field=DurationField()
        )
        count = GaugeMetricFamily(
            "sightline_job_duration_seconds_count",
            "Finished jobs with a run time.",
            labels=["kind", "status"],
        )
        total = GaugeMetricFamily(
            "sightline_job_duration_seconds_sum",
            "Total run time of finished jobs.",
            labels=["kind", "status"],
        )
        longest = GaugeMetricFamily(
            "sightline_job_duration_max_seconds",
            "Longest run time of a finished job.",
            labels=["kind", "status"],
        )
        finished = (
            Job.objects.filter(started_at__isnull=False, finished_at__isnull=False)
            .values("kind", "status")
            .annotate(n=Count("id"), total=Sum(duration), longest=Max(duration))
            .order_by()
        )
        for row in finished:
            labels = [row["kind"], row["status"]]
            count.add_metric(labels, row["n"])
            total.add_metric(labels, row["total"].total_seconds() if row["total"] else 0.0)
            longest.add_metric(labels, row["longest"].total_seconds() if row["longest"] else 0.0)
        yield from (count, total, longest)

        waiting = GaugeMetricFamily("sightline_jobs_waiting", "Jobs queued and not yet started.")
        waiting.add_metric([], Job.objects.filter(status=JobStatus.QUEUED).count())
        yield waiting

        depth = GaugeMetricFamily(
            "sightline_queue_depth", "Messages waiting per queue.", labels=["queue"]
        )
        for queue, n in queue_depths().items():
            depth.add_metric([queue], n)
        yield depth


def queue_names() -> list[str]:
    """The queues Sightline routes to."""
    return sorted(
        {
            settings.CELERY_TASK_DEFAULT_QUEUE,
            settings.SIGHTLINE_JOB_QUEUE,
            settings.SIGHTLINE_PREDICT_QUEUE,
        }
    )


def queue_depths() -> dict[str, int]:
    """Messages waiting per queue; an unreachable broker yields no samples (and a log line)."""
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith("redis"):
            import redis

            client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1)
            return {name: int(client.llen(name)) for name in queue_names()}
        if url.startswith("filesystem"):
            folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
            # kombu names each message file "<time>_<uuid>.<queue>.msg".
            files = [p.name for p in folder.glob("*.msg")] if folder.is_dir() else []
            return {name: sum(f.endswith(f".{name}.msg") for f in files) for name in queue_names()}
    except Exception:  # a scrape must not fail because the broker is down
        logger.warning("queue depth unavailable", exc_info=True)
    return {}


_JOB_COLLECTOR = JobCollector()


def render_metrics() -> bytes:
    """The exposition text: request histogram (all processes when multiprocess) and job gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
        output = generate_latest(registry)
    else:
        output = generate_latest(REGISTRY)
    jobs = CollectorRegistry()
    jobs.register(_JOB_COLLECTOR)
    return output + generate_latest(jobs)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics`` in the Prometheus text format."""
    token = settings.SIGHTLINE_METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return HttpResponse("metrics token required\n", status=401, content_type="text/plain")
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)
