"""What a running job tells the database: heartbeat, progress, log tail, metrics, cancel flag.

``JobReporter`` is handed to the training code as callbacks. Progress and log writes are
throttled (one ``UPDATE`` every ``min_interval`` seconds at most, always one at an epoch end), a
background thread keeps the heartbeat fresh while a long batch runs, and the cancel flag is read
at most every ``cancel_poll`` seconds so checking it between batches costs almost nothing.
Every write retries through a short database outage (``job_runtime``), and progress that could
not be written stays pending for the next write.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any

from django.db import close_old_connections, connection

from modeling.services import job_runtime
from modeling.services.job_runtime import DatabaseUnavailable, Worker

logger = logging.getLogger(__name__)


class JobCancelled(Exception):
    """Raised between batches when the job's cancel flag is set."""


class ClaimLost(Exception):
    """Raised when another worker took the job over (this one was presumed dead)."""


class JobReporter:
    """Reports one job's progress; thread-safe for the heartbeat thread.

    Args:
        job_id: the job row.
        worker: the claim (host and pid) that guards every write.
        heartbeat_seconds: heartbeat period of the background thread (None: no thread; the
            heartbeat is then refreshed by progress writes only).
        min_interval: minimum seconds between two progress writes.
        cancel_poll: minimum seconds between two reads of the cancel flag.
    """

    def __init__(
        self,
        *,
        job_id: int,
        worker: Worker,
        heartbeat_seconds: float | None,
        min_interval: float = 0.5,
        cancel_poll: float = 0.25,
    ) -> None:
        self.job_id = job_id
        self.worker = worker
        self.min_interval = min_interval
        self.cancel_poll = cancel_poll
        self._lines: collections.deque[str] = collections.deque(maxlen=job_runtime.LOG_TAIL_LINES)
        self._total_lines = 0
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # one flush at a time: writes land in order
        self._last_write = 0.0
        self._last_cancel_check = 0.0
        self._cancelled = threading.Event()
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._pending: dict[str, Any] = {}
        self._thread: threading.Thread | None = None
        if heartbeat_seconds:
            self._thread = threading.Thread(
                target=self._beat,
                args=(heartbeat_seconds,),
                name=f"job-{job_id}-heartbeat",
                daemon=True,
            )

    def __enter__(self) -> JobReporter:
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.flush()
        except DatabaseUnavailable:
            logger.warning("job %s: the last progress was not written", self.job_id)

    # -- heartbeat ---------------------------------------------------------------------------
    def _beat(self, period: float) -> None:
        # Wakes every second: progress held back by the throttle is written within a second
        # even while a long batch runs, and the heartbeat goes out every ``period`` seconds.
        tick = min(period, 1.0)
        last_beat = time.monotonic()
        try:
            while not self._stop.wait(tick):
                try:
                    if self._pending:
                        self.flush()
                    if time.monotonic() - last_beat < period:
                        continue
                    last_beat = time.monotonic()
                    flag = job_runtime.job_heartbeat(job_id=self.job_id, worker=self.worker)
                except Exception:  # a database hiccup must not kill the job; retry next beat
                    logger.warning("heartbeat of job %s failed", self.job_id, exc_info=True)
                    close_old_connections()
                    continue
                if flag is None:
                    self._lost.set()
                elif flag:
                    self._cancelled.set()
        finally:
            connection.close()

    # -- cancel ------------------------------------------------------------------------------
    @property
    def claim_lost(self) -> bool:
        """Whether another worker took the job over (this one must stop writing)."""
        return self._lost.is_set()

    def check(self) -> None:
        """Raises ``JobCancelled`` or ``ClaimLost``; call it between batches."""
        if self._lost.is_set():
            raise ClaimLost(f"job {self.job_id} was taken over by another worker")
        now = time.monotonic()
        if not self._cancelled.is_set() and now - self._last_cancel_check >= self.cancel_poll:
            self._last_cancel_check = now
            if job_runtime.job_cancel_requested(job_id=self.job_id):
                self._cancelled.set()
        if self._cancelled.is_set():
            raise JobCancelled(f"job {self.job_id} cancelled")

    def should_stop(self) -> bool:
        """True when the job must stop (cancelled or taken over), for loops that poll."""
        try:
            self.check()
        except (JobCancelled, ClaimLost):
            return True
        return False

    # -- progress and logs -------------------------------------------------------------------
    def log(self, message: str) -> None:
        """Appends a line to the job's log tail (and to the worker log)."""
        logger.info("job %s: %s", self.job_id, message)
        stamp = time.strftime("%H:%M:%S", time.gmtime())
        with self._lock:
            for line in str(message).splitlines() or [""]:
                self._lines.append(f"{stamp} {line}")
                self._total_lines += 1
            self._pending["log"] = True

    def progress(
        self,
        fraction: float,
        *,
        step: int | None = None,
        total: int | None = None,
        message: str | None = None,
        force: bool = False,
    ) -> None:
        """Records progress; written now if ``force`` or ``min_interval`` has passed."""
        with self._lock:
            self._pending.update(
                {
                    k: v
                    for k, v in (
                        ("progress", fraction),
                        ("step", step),
                        ("total", total),
                        ("message", message),
                    )
                    if v is not None
                }
            )
        if force or time.monotonic() - self._last_write >= self.min_interval:
            self.flush()

    def metric(self, *, step: int, values: dict[str, Any], epoch: int | None = None) -> None:
        """Adds a point to the metrics time series (written at once)."""
        clean = {k: _json_number(v) for k, v in values.items()}
        job_runtime.job_metric_add(job_id=self.job_id, step=step, values=clean, epoch=epoch)

    def flush(self) -> None:
        """Writes pending progress and log lines."""
        with self._write_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
                tail = "\n".join(self._lines) if pending.pop("log", False) else None
                total_lines = self._total_lines
            self._last_write = time.monotonic()
            if not pending and tail is None:
                return
            try:
                ok = job_runtime.job_report(
                    job_id=self.job_id,
                    worker=self.worker,
                    progress=pending.get("progress"),
                    step=pending.get("step"),
                    total=pending.get("total"),
                    message=pending.get("message"),
                    log_tail=tail,
                    log_count=total_lines if tail is not None else None,
                )
            except Exception:  # kept for the next write; newer values win
                with self._lock:
                    self._pending = {**pending, "log": tail is not None, **self._pending}
                raise
            if not ok:
                self._lost.set()


def _json_number(value: Any) -> Any:
    """Plain floats for JSON (tensors and numpy scalars expose ``item``); NaN/inf become None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value
