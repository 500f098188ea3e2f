"""``manage.py bench_jobs``: measure the job system's latencies and print them.

Figures: enqueue-to-start latency with an idle worker, the interval between progress updates of
a running training job, cancel latency (request to ``cancelled``), and interactive prediction
latency (request to answer, cold and warm) with the device the worker used and its ``N``.

It runs against the configured database and broker: a throwaway project with tiny synthetic
images is created and deleted at the end. By default it starts its own worker subprocess
(``--worker external`` uses the workers already running). The database must be shared with the
worker: PostgreSQL, or the SQLite file of the default settings (never an in-memory database).

    python manage.py bench_jobs                  # defaults: 5 launches, 32 px images
    python manage.py bench_jobs --launches 10 --size 64
"""

from __future__ import annotations

import io
import itertools
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from PIL import Image as PILImage

from labeling import services as labeling_services
from labeling.models import Project
from modeling import services
from modeling.models import Job, JobStatus, ModelVersion, Prediction, PredictionStatus
from sightline.processes import WorkerProcess, start_worker

POLL = 0.02


class Command(BaseCommand):
    help = "Measure enqueue-to-start, progress interval, cancel and prediction latencies."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--launches", type=int, default=5, help="jobs for enqueue-to-start")
        parser.add_argument("--predictions", type=int, default=5, help="warm predictions")
        parser.add_argument("--size", type=int, default=32, help="image side in pixels")
        parser.add_argument(
            "--worker",
            choices=("start", "external"),
            default="start",
            help="start a worker subprocess (default) or use running workers",
        )
        parser.add_argument("--timeout", type=float, default=900, help="seconds per stage")
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="torch CPU threads of the started worker (SIGHTLINE_WORKER_TORCH_THREADS)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor == "sqlite" and ":memory:" in str(connection.settings_dict["NAME"]):
            raise CommandError("an in-memory database cannot be shared with a worker")
        self.timeout = float(options["timeout"])
        size = int(options["size"])
        user = get_user_model().objects.filter(is_superuser=True).first()
        project = self._project(user, size)
        worker = self._start_worker(options["threads"]) if options["worker"] == "start" else None
        try:
            self._run(project, user, size, options)
        finally:
            if worker is not None:
                worker.stop()
            project.delete()

    # -- stages ------------------------------------------------------------------------------
    def _run(self, project: Project, user: Any, size: int, options: dict[str, Any]) -> None:
        quick = {"input_size": size, "batch_size": 2, "lr": 1e-3, "patience": None}
        self.stdout.write(f"worker warm-up: training a version ({size}x{size} images) ...")
        first = self._launch(
            project, user, "train", {**quick, "method": "vapl", "epochs": 1, "n_masks": 16}
        )
        self._wait_end(first)
        version = ModelVersion.objects.get(job_id=first)
        device = Job.objects.get(pk=first).device

        starts = []
        for _ in range(int(options["launches"])):
            job_id = self._launch(project, user, "evaluate", {"model_version": version.pk})
            job = self._wait_end(job_id)
            starts.append((job.started_at - job.enqueued_at).total_seconds())
        self._figure("enqueue-to-start (idle worker)", starts, "s")

        job_id = self._launch(project, user, "train", {**quick, "method": "baseline", "epochs": 3})
        intervals = self._progress_intervals(job_id)
        self._figure("progress update interval (running training)", intervals, "s")

        job_id = self._launch(
            project, user, "train", {**quick, "method": "baseline", "epochs": 500}
        )
        self._wait(lambda: Job.objects.get(pk=job_id).progress > 0, "the first batch")
        asked = time.monotonic()
        services.job_cancel(job=Job.objects.get(pk=job_id))
        job = self._wait_end(job_id)
        cancel = time.monotonic() - asked
        self.stdout.write(f"cancel latency: {cancel:.2f} s (ended {job.status})")

        latencies, answers = self._predictions(project, user, version, int(options["predictions"]))
        self._figure("prediction, cold (model loaded)", latencies[:1], "s")
        self._figure("prediction, warm (model cached)", latencies[1:], "s")
        result = answers[-1].result if answers else {}
        self.stdout.write(
            f"predictions on {result.get('device', device)} with N = {result.get('n_masks')} "
            f"masks (reduced: {result.get('n_masks_reduced')}); worker-side "
            f"{result.get('elapsed_ms')} ms"
        )

    def _predictions(
        self, project: Project, user: Any, version: ModelVersion, count: int
    ) -> tuple[list[float], list[Prediction]]:
        images = list(project.images.filter(prompts__current_version__gt=0).distinct()[: count + 1])
        latencies, answers = [], []
        for image in images:
            prompt = image.prompts.filter(current_version__gt=0).first()
            started = time.monotonic()
            prediction = services.prediction_request(
                user=user,
                model_version=version,
                image=image,
                prompt_version=prompt.current if prompt else None,
                use_prompt=prompt is not None,
            )
            self._wait(
                lambda p=prediction: (
                    Prediction.objects.get(pk=p.pk).status != PredictionStatus.PENDING
                ),
                "a prediction",
            )
            latencies.append(time.monotonic() - started)
            answers.append(Prediction.objects.get(pk=prediction.pk))
        return latencies, answers

    def _progress_intervals(self, job_id: int) -> list[float]:
        seen: list[float] = []
        last = None
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            job = Job.objects.only("status", "progress", "progress_message").get(pk=job_id)
            key = (job.progress, job.progress_message)
            if job.status == JobStatus.RUNNING and key != last:
                seen.append(time.monotonic())
                last = key
            if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
                break
            time.sleep(POLL)
        return [b - a for a, b in itertools.pairwise(seen)]

    # -- helpers -----------------------------------------------------------------------------
    def _launch(self, project: Project, user: Any, kind: str, params: dict[str, Any]) -> int:
        return services.job_create(project=project, user=user, kind=kind, parameters=params).pk

    def _wait(self, condition: Callable[[], object], what: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not condition():
            if time.monotonic() > deadline:
                raise CommandError(f"timed out waiting for {what}")
            time.sleep(POLL)

    def _wait_end(self, job_id: int) -> Job:
        ended = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
        self._wait(lambda: Job.objects.get(pk=job_id).status in ended, f"job {job_id}")
        job = Job.objects.get(pk=job_id)
        if job.status == JobStatus.FAILED:
            raise CommandError(f"job {job_id} failed: {job.error_message}")
        return job

    def _figure(self, name: str, values: list[float], unit: str) -> None:
        if not values:
            self.stdout.write(f"{name}: no samples")
            return
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        self.stdout.write(
            f"{name}: median {statistics.median(values):.3f} {unit}, p90 {p90:.3f} {unit}, "
            f"max {max(values):.3f} {unit} (n={len(values)})"
        )

    def _project(self, user: Any, size: int) -> Project:
        project = labeling_services.project_create(
            name=f"bench-jobs-{uuid.uuid4().hex[:8]}",
            class_names=["normal", "abnormal"],
            creator=user,
        )
        owner = user or get_user_model().objects.first()
        rng = np.random.default_rng(0)
        splits = ["train"] * 8 + ["val"] * 4 + ["test"] * 8
        for index, split in enumerate(splits):
            label = project.class_names[index % 2]
            pixels = rng.integers(0, 60, (size, size)).astype(np.uint8)
            prompt = np.full((size, size), -1, dtype=np.int8)
            if index % 2:
                pixels[size // 4 : size // 2, size // 4 : size // 2] = 230
                prompt[size // 4 : size // 2, size // 4 : size // 2] = 1
            buffer = io.BytesIO()
            PILImage.fromarray(pixels).save(buffer, format="PNG")
            (image,) = labeling_services.image_create(
                project=project,
                name=f"{split}-{index}.png",
                data=buffer.getvalue(),
                created_by=owner,
                label=label,
                split=split,
            )
            if owner is not None:
                labeling_services.prompt_save(
                    image=image,
                    annotator=owner,
                    target_class=label,
                    mask=prompt,
                    base_version=0,
                )
        return project

    def _start_worker(self, threads: int | None) -> WorkerProcess:
        env = dict(os.environ)
        if threads:
            env["SIGHTLINE_WORKER_TORCH_THREADS"] = str(threads)
        log_dir = Path(tempfile.mkdtemp(prefix="bench-worker-"))
        worker = start_worker(log_dir, env=env, prefix="bench")
        self.stdout.write(f"started a worker (pid {worker.pid}, log {worker.log})")
        if not worker.wait_ready(self.timeout):
            raise CommandError(f"the worker did not start: see {worker.log}")
        return worker
