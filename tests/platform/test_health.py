"""Health endpoints, Prometheus metrics and structured logs."""

from __future__ import annotations

import json
import logging

import pytest
from django.utils import timezone

from sightline import health
from sightline.logging import JsonFormatter


def _fail() -> str:
    raise ConnectionError("connection refused")


@pytest.fixture
def healthy_dependencies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Broker and workers answer (the database is the real test database)."""
    monkeypatch.setitem(health.READINESS_CHECKS, "broker", lambda: "ok")
    monkeypatch.setitem(health.READINESS_CHECKS, "workers", lambda: "1 worker(s)")


def test_liveness_answers_without_authentication(client) -> None:
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_is_ok_when_every_dependency_answers(client, healthy_dependencies) -> None:
    response = client.get("/health/ready/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "workers"}
    assert body["checks"]["database"] == {
        "ok": True,
        "detail": "ok",
        "ms": pytest.approx(0, abs=5e3),
    }


@pytest.mark.django_db
def test_readiness_is_503_naming_the_broken_broker(
    client, healthy_dependencies, monkeypatch
) -> None:
    monkeypatch.setitem(health.READINESS_CHECKS, "broker", _fail)
    response = client.get("/health/ready/")
    assert response.status_code == 503
    broker = response.json()["checks"]["broker"]
    assert broker["ok"] is False
    assert broker["detail"] == "ConnectionError: connection refused"


@pytest.mark.django_db
def test_readiness_fails_without_workers_unless_they_are_optional(
    client, healthy_dependencies, monkeypatch, settings
) -> None:
    monkeypatch.setitem(health.READINESS_CHECKS, "workers", _fail)
    assert client.get("/health/ready/").status_code == 503
    settings.SIGHTLINE_HEALTH_REQUIRE_WORKERS = False
    response = client.get("/health/ready/")
    assert response.status_code == 200
    assert response.json()["checks"]["workers"]["ok"] is False


def test_database_check_fails_when_the_database_is_unreachable(settings) -> None:
    # Without the django_db mark pytest-django blocks every database access.
    assert health.run_check(health.check_database)["ok"] is False


def test_worker_check_fails_when_no_worker_answers_a_ping(monkeypatch, settings) -> None:
    from sightline.celery_app import app

    settings.SIGHTLINE_HEALTH_TIMEOUT_MS = 50
    monkeypatch.setattr(app.control, "ping", lambda timeout: [])
    result = health.run_check(health.check_workers)
    assert result == {"ok": False, "detail": "RuntimeError: no worker answered", "ms": result["ms"]}


def test_broker_check_fails_fast_on_a_closed_port(settings) -> None:
    from sightline.celery_app import app

    settings.SIGHTLINE_HEALTH_TIMEOUT_MS = 300
    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        result = health.run_check(health.check_broker)
    finally:
        app.conf.broker_url = original
    assert result["ok"] is False
    assert result["ms"] < 5000


@pytest.mark.django_db
def test_metrics_exposes_the_latency_histogram_by_route(client) -> None:
    client.get("/health/")
    body = client.get("/metrics").content.decode()
    assert (
        'sightline_http_request_duration_seconds_bucket{le="0.005",method="GET",route="health/"'
        in body
    )


@pytest.mark.django_db
def test_metrics_counts_jobs_by_kind_and_status_and_their_durations(client, owner, project) -> None:
    from modeling.models import Job

    now = timezone.now()
    Job.objects.create(project=project, kind="train", status="queued")
    Job.objects.create(
        project=project,
        kind="train",
        status="succeeded",
        started_at=now - timezone.timedelta(seconds=30),
        finished_at=now,
    )
    body = client.get("/metrics").content.decode()
    assert 'sightline_jobs{kind="train",status="queued"} 1.0' in body
    assert 'sightline_job_duration_seconds_sum{kind="train",status="succeeded"} 30.0' in body
    assert "sightline_jobs_waiting 1.0" in body
    assert 'sightline_queue_depth{queue="gpu"}' in body


@pytest.mark.django_db
def test_metrics_requires_the_token_when_one_is_configured(client, settings) -> None:
    settings.SIGHTLINE_METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


def test_json_formatter_writes_one_object_with_the_extra_fields() -> None:
    record = logging.LogRecord(
        "sightline.request", logging.INFO, __file__, 1, "GET %s", ("/x",), None
    )
    record.status = 200
    record.route = "x/"
    line = JsonFormatter().format(record)
    payload = json.loads(line)
    assert payload["message"] == "GET /x"
    assert payload["level"] == "INFO"
    assert payload["status"] == 200
    assert payload["route"] == "x/"
    assert payload["ts"].endswith("+00:00")
    assert "\n" not in line


@pytest.mark.django_db
def test_every_request_is_logged_with_method_route_status_and_duration(client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="sightline.request"):
        client.get("/health/")
    (record,) = [r for r in caplog.records if r.name == "sightline.request"]
    assert (record.method, record.route, record.status) == ("GET", "health/", 200)
    assert record.duration_ms >= 0
