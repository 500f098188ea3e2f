"""Starting and stopping Celery worker processes (benchmarks, integration tests, fault runs).

Standard library only and no Django settings at import time, so scripts that drive a server
from outside (``tests/load/faults.py``) can use it as well as ``manage.py`` commands and tests.
A worker runs in its own process group (``start_new_session``), so a kill reaches its pool
children too, and its output goes to a log file that ``wait_ready`` watches for Celery's
``ready.`` line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def python_path() -> str:
    """``PYTHONPATH`` that makes the repository and ``platform/`` importable."""
    return f"{ROOT}{os.pathsep}{ROOT / 'platform'}"


def worker_command(
    name: str,
    *,
    queues: str = "gpu,default",
    concurrency: int = 1,
    quiet: bool = True,
    python: str = sys.executable,
) -> list[str]:
    """``celery worker`` as the gpu queue wants it: prefetch 1, one process per job.

    ``quiet`` turns off gossip, mingle and heartbeat events (a private worker needs none).
    """
    command = [python, "-m", "celery", "-A", "sightline", "worker", "-Q", queues]
    command += ["--concurrency", str(concurrency), "--prefetch-multiplier", "1"]
    command += ["--loglevel", "INFO", "-n", f"{name}@%h"]
    if quiet:
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return command


@dataclass
class WorkerProcess:
    """A started worker and where its output goes."""

    name: str
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def running(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, seconds: float) -> bool:
        """Waits for Celery's ``ready.`` line; False when the process exited or time ran out."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if " ready." in self.output():
                return True
            if not self.running():
                return False
            time.sleep(0.2)
        return False

    def kill(self) -> None:
        """SIGKILL of the worker and its pool children (its own process group)."""
        self._signal(signal.SIGKILL)

    def stop(self, grace: float = 30) -> None:
        """SIGTERM (warm shutdown), then SIGKILL after ``grace`` seconds."""
        self._signal(signal.SIGTERM, grace)

    def _signal(self, sig: int, grace: float = 30) -> None:
        if not self.running():
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def spawn(
    command: Sequence[str], log: Path, *, env: Mapping[str, str] | None = None
) -> subprocess.Popen:
    """Starts ``command`` in the repository root, in its own process group, output to ``log``,
    with ``env`` (default: this process's environment) plus the project's ``PYTHONPATH``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    variables = {**(os.environ if env is None else env), "PYTHONPATH": python_path()}
    with log.open("ab") as out:
        return subprocess.Popen(
            list(command),
            cwd=ROOT,
            env=variables,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start_worker(
    log_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    prefix: str = "worker",
    queues: str = "gpu,default",
    quiet: bool = True,
) -> WorkerProcess:
    """Starts a worker (see ``worker_command`` and ``spawn``); does not wait for it to be ready
    (``WorkerProcess.wait_ready``)."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    log = log_dir / f"{name}.log"
    process = spawn(worker_command(name, queues=queues, quiet=quiet), log, env=env)
    return WorkerProcess(name, process, log)
