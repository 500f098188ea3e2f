"""A private production profile for fault runs: its own PostgreSQL cluster and Redis server on
spare ports in a temporary folder, and gunicorn, Celery workers and beat started as
``deploy/run-prod.sh`` starts them (same settings and environment variables), each process in
its own process group so a fault can kill exactly one of them.

The shared PostgreSQL (5432) and Redis (6379) of the machine are never touched.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

from sightline.processes import WorkerProcess, spawn, start_worker  # noqa: E402

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def wait_port(port: int, seconds: float, up: bool = True) -> bool:
    """Waits until 127.0.0.1:``port`` accepts connections (or refuses them, ``up=False``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                if up:
                    return True
        except OSError:
            if not up:
                return True
        time.sleep(0.1)
    return False


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its tools as the ``postgres`` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class Postgres:
    """A throwaway cluster (trust authentication) under ``folder``."""

    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/sightline"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        subprocess.run(
            as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-l",
                         str(self.folder / "postgres.log"), "-o", options, "-w", *args]),
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def create(self) -> None:
        if os.geteuid() == 0:
            self.folder.parent.chmod(0o755)  # mkdtemp's 0700 would keep the postgres user out
            shutil.chown(self.folder, "postgres")
        subprocess.run(
            as_postgres([str(PG_BIN / "initdb"), "-D", str(self.folder / "data"), "-U",
                         "postgres", "-A", "trust", "--no-sync"]),
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        self._ctl("start")
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "sightline"],
            check=True,
        )  # fmt: skip

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if (self.folder / "data" / "postmaster.pid").exists():
            self._ctl("stop", "-m", "immediate")


@dataclass
class Redis:
    """An in-memory redis-server (no RDB, no AOF), as a production cache/broker restart sees."""

    folder: Path
    port: int
    process: subprocess.Popen | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--dir", str(self.folder)]  # fmt: skip
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log)
        if not wait_port(self.port, 10):
            raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Stack:
    """The production profile against the private PostgreSQL and Redis."""

    folder: Path
    web_port: int
    pg: Postgres
    redis: Redis
    env: dict[str, str] = field(default_factory=dict)
    web: subprocess.Popen | None = None
    beat: subprocess.Popen | None = None
    workers: dict[str, WorkerProcess] = field(default_factory=dict)

    @classmethod
    def create(cls, folder: Path, *, web_port: int, pg_port: int, redis_port: int) -> Stack:
        stack = cls(folder, web_port, Postgres(folder / "pg", pg_port), Redis(folder, redis_port))
        (folder / "pg").mkdir(parents=True)
        data = folder / "data"
        stack.env = {
            **os.environ,
            "DJANGO_DEBUG": "0",
            "SIGHTLINE_ENV_FILE": "/dev/null",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "SIGHTLINE_DATA_DIR": str(data),
            "DATABASE_URL": stack.pg.url,
            "DATABASE_CONN_MAX_AGE": "60",
            "CELERY_BROKER_URL": stack.redis.url(2),
            "CACHE_URL": stack.redis.url(3),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_COOKIES": "0",
            "SIGHTLINE_LOG_FORMAT": "json",
            "GUNICORN_BIND": f"127.0.0.1:{web_port}",
            "GUNICORN_WORKERS": "2",
            "PROMETHEUS_MULTIPROC_DIR": str(data / "prometheus"),
            # Short enough for a run of minutes: a dead worker's job is noticed after 15 s.
            "SIGHTLINE_JOB_HEARTBEAT_SECONDS": "2",
            "SIGHTLINE_JOB_STALE_SECONDS": "15",
            "SIGHTLINE_RECONCILE_SECONDS": "5",
            # A job message lost in a Redis restart is sent again after 20 s.
            "SIGHTLINE_JOB_RESEND_SECONDS": "20",
            "OMP_NUM_THREADS": "1",
            "SIGHTLINE_WORKER_TORCH_THREADS": "1",
        }
        return stack

    def manage(self, *args: str, extra: dict[str, str] | None = None) -> None:
        log = (self.folder / "manage.log").open("ab")
        with log:
            subprocess.run(
                [PYTHON, "manage.py", *args], cwd=ROOT, check=True, stdout=log, stderr=log,
                env={**self.env, "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}", **(extra or {})},
            )  # fmt: skip

    def start(self) -> None:
        self.pg.create()
        self.redis.start()
        self.manage("migrate", "--noinput")
        self.manage("prepare_data_dir")
        self.web = spawn(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py"],
            self.folder / "gunicorn.log",
            env=self.env,
        )
        self.start_worker("default")
        self.start_worker("gpu")
        beat = [PYTHON, "-m", "celery", "-A", "sightline", "beat", "--loglevel", "INFO",
                "--schedule", str(self.folder / "data" / "celerybeat-schedule")]  # fmt: skip
        self.beat = spawn(beat, self.folder / "beat.log", env=self.env)
        if not wait_port(self.web_port, 120):
            raise RuntimeError(f"gunicorn did not start: see {self.folder / 'gunicorn.log'}")
        for worker in self.workers.values():
            if not worker.wait_ready(300):
                raise RuntimeError(f"worker {worker.name} did not start: see {worker.log}")

    def start_worker(self, queue: str) -> WorkerProcess:
        env = dict(self.env)
        if queue == "default":
            env["SIGHTLINE_WORKER_PRELOAD"] = "0"
        worker = start_worker(self.folder, env=env, prefix=queue, queues=queue, quiet=False)
        self.workers[queue] = worker
        return worker

    def web_workers(self) -> list[int]:
        """Pids of gunicorn's worker processes (the master's children)."""
        assert self.web is not None
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.web.pid:
                children.append(int(stat.parent.name))
        return sorted(children)

    def stop(self) -> None:
        for process in [self.web, self.beat, *(w.process for w in self.workers.values())]:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [self.web, self.beat, *(w.process for w in self.workers.values())]:
            if process is not None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        self.redis.stop()
        self.pg.stop()

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
