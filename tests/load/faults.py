"""Fault injection under load: no lost prompt, no stuck job, clean 503s, bounded recovery.

Starts a private production profile (``tests/load/stack.py``: its own PostgreSQL cluster and
Redis server on spare ports, gunicorn with 2 workers, a ``default`` and a ``gpu`` Celery worker,
beat), creates a user, a project and labelled images through the API, then drives steady load at
a fixed rate (prompt saves with ``If-Match``, one in flight per image; prompt GETs; image list
pages) plus a probe every 0.5 s, while it injects one fault after another, each followed by a
recovery period:

1. ``kill_web_worker``: SIGKILL of one gunicorn worker (the master must start a new one);
2. ``restart_redis``: the broker and cache restart (in memory: their data is gone) while a
   training job's message waits for the stopped gpu worker; a new gpu worker is started;
3. ``restart_postgres``: ``pg_ctl restart -m fast`` while a training job runs;
4. ``kill_gpu_worker``: a training job is launched, and once it has written a checkpoint the gpu
   worker's process group gets SIGKILL; a new gpu worker is started.
(The job faults are in ``job_faults.py``.)

Checks: every save answered 2xx is in the prompt's history afterwards; every other answer is a
503 with a JSON error body (connection resets are counted apart and allowed only while a web
worker is killed; the client then re-reads the prompt before its next save); the probe answers
200 again within ``--recovery-limit`` seconds of each fault; the killed web worker is replaced;
each fault's job ends ``succeeded`` within ``--job-timeout`` seconds (the one that trained
through the database restart in its first attempt) and no job is left unfinished.

    .venv/bin/python tests/load/faults.py [--rate 30] [--recovery 20] [--images 40]

Prints one JSON object per line (figures per fault, then the checks); exits 0 only when every
check holds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import job_faults
from client import Answer, Client, multipart  # tests/load is on sys.path when run as a script
from job_faults import SIZE, TERMINAL, emit
from loadgen import png
from stack import Stack


@dataclass
class Load:
    """Fixed-rate load and a probe; every answer is recorded with the phase it fell in."""

    client: Client
    project: int
    images: list[int]
    rate: float
    phase: str = "warm-up"
    versions: dict[int, int] = field(default_factory=dict)
    prompts: dict[int, int] = field(default_factory=dict)
    acked: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    records: list[tuple[float, str, str, int, bool, str]] = field(default_factory=list)
    stopped: bool = False

    async def call(self, kind: str, method: str, path: str, **kwargs: object) -> Answer:
        """One request, recorded with the phase it was sent in."""
        phase = self.phase
        answer = await self.client.call(method, path, **kwargs)
        if answer.status == 0:  # a reset belongs to the phase that broke the connection
            phase = self.phase
        self.records.append(
            (time.monotonic(), phase, kind, answer.status, answer.clean_error, answer.error)
        )
        return answer

    def mine(self, image: int) -> str:
        return f"/api/v1/images/{image}/prompts/mine/?target_class=abnormal"

    async def save(self, image: int, lock: asyncio.Lock) -> None:
        async with lock:
            base = self.versions[image]
            mask = {
                "width": SIZE,
                "height": SIZE,
                "rle": [[1, base % 200 + 1], [0, 255 - base % 200]],
            }
            answer = await self.call(
                "save", "PUT", self.mine(image), body={"mask": mask, "base_version": base},
                headers={"If-Match": f'"{base}"'},
            )  # fmt: skip
            if answer.status == 200:
                self.versions[image] = answer.json()["version"]
                self.acked[image].add(self.versions[image])
            else:  # a reset or a 503 may hide a commit: read the version before the next save
                await self.resync(image)

    async def resync(self, image: int) -> None:
        for _ in range(120):
            answer = await self.call("resync", "GET", self.mine(image))
            if answer.status == 200:
                self.versions[image] = answer.json()["version"]
                return
            await asyncio.sleep(0.5)

    async def run(self) -> None:
        locks = {image: asyncio.Lock() for image in self.images}
        pending: set[asyncio.Task] = set()
        started, i = time.monotonic(), 0
        while not self.stopped:
            await asyncio.sleep(max(0.0, started + i / self.rate - time.monotonic()))
            image = self.images[i % len(self.images)]
            if i % 5 in (0, 1):
                job = self.save(image, locks[image])
            elif i % 5 in (2, 3):
                job = self._get("prompt_get", self.mine(image))
            else:
                job = self._get(
                    "image_list", f"/api/v1/projects/{self.project}/images/?page_size=50"
                )
            task = asyncio.create_task(job)
            pending.add(task)
            task.add_done_callback(pending.discard)
            i += 1
        await asyncio.gather(*pending)

    async def _get(self, kind: str, path: str) -> None:
        await self.call(kind, "GET", path)

    async def probe(self) -> None:
        while not self.stopped:
            await self._get("probe", self.mine(self.images[0]))
            await asyncio.sleep(0.5)

    def recovery(self, phase: str, since: float) -> dict[str, object]:
        """Probe failures in the phase and seconds from the fault to the first 200 after them."""
        probes = [
            (t, status) for t, p, kind, status, *_ in self.records if kind == "probe" and p == phase
        ]
        failed = [t for t, status in probes if status != 200]
        if not failed:
            return {"probe_failures": 0, "recovery_s": 0.0}
        after = [t for t, status in probes if status == 200 and t > failed[-1]]
        recovered = round(after[0] - since, 1) if after else None
        return {"probe_failures": len(failed), "recovery_s": recovered}

    def outcomes(self, phase: str) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for _, p, _, status, clean, error in self.records:
            if p == phase:
                counts[_outcome(status, clean, error)] += 1
        return dict(counts)


def _outcome(status: int, clean: bool, error: str) -> str:
    if 200 <= status < 300:
        return "2xx"
    if status == 0:
        return f"reset:{error}"
    return f"{status}{'' if clean else ':not-json'}"


async def setup(client: Client, n_images: int) -> tuple[int, list[int]]:
    project = await client.ok("POST", "/api/v1/projects/", {
        "name": f"faults-{uuid.uuid4().hex[:6]}", "class_names": ["normal", "abnormal"],
    })  # fmt: skip
    splits = ["train"] * (n_images * 6 // 10) + ["val"] * (n_images // 5)
    splits += ["test"] * (n_images - len(splits))
    ids: list[int] = []
    for split in ("train", "val", "test"):
        for label in ("normal", "abnormal"):
            count = splits.count(split) // 2  # png(seed) is distinct for seeds below 256
            files = [(f"{split}-{label}-{k}.png", png(len(ids) + k)) for k in range(count)]
            raw, ctype = multipart(files, {"label": label, "split": split})
            result = await client.ok(
                "POST", f"/api/v1/projects/{project['id']}/images/", raw=raw, content_type=ctype
            )
            ids += [image["id"] for image in result["created"]]
    return project["id"], ids


async def inject(
    name: str, stack: Stack, client: Client, load: Load, args: argparse.Namespace
) -> dict:
    if name == "kill_web_worker":
        before = stack.web_workers()
        os.kill(before[0], signal.SIGKILL)
        await asyncio.sleep(args.recovery)
        after = stack.web_workers()
        return {"killed": before[0], "workers_before": len(before), "workers_after": len(after),
                "respawned": len(after) == len(before) and before[0] not in after}  # fmt: skip
    fault = getattr(job_faults, name)
    return await fault(stack, client, load.project, args)


JOB_CHECKS = {
    "restart_redis": "the job whose message Redis lost was sent again and succeeded",
    "restart_postgres": "the job training through the database restart succeeded (attempt 1)",
    "kill_gpu_worker": "the job was resumed and succeeded",
}


async def history_versions(client: Client, prompt: int) -> set[int]:
    found, path = set(), f"/api/v1/prompts/{prompt}/history/?page_size=500"
    while path:
        page = await client.ok("GET", path)
        found |= {version["version"] for version in page["results"]}
        parts = urlsplit(page["next"] or "")
        path = f"{parts.path}?{parts.query}" if page["next"] else ""
    return found


async def run(stack: Stack, args: argparse.Namespace) -> list[tuple[str, bool, object]]:
    client = Client(stack.web_port)
    client.token = (
        await client.ok(
            "POST", "/api/v1/auth/token/", {"username": "faults", "password": args.password}
        )
    )["token"]
    project, images = await setup(client, args.images)
    load = Load(client, project, images, args.rate)
    for image in images:
        answer = await client.ok(
            "PUT",
            load.mine(image),
            {"mask": {"width": SIZE, "height": SIZE, "rle": [[1, 256]]}, "base_version": 0},
        )
        load.versions[image], load.prompts[image] = answer["version"], answer["id"]
        load.acked[image].add(answer["version"])
    emit(event="setup", project=project, images=len(images), rate_rps=args.rate)
    tasks = [asyncio.create_task(load.run()), asyncio.create_task(load.probe())]
    await asyncio.sleep(args.recovery)
    checks: list[tuple[str, bool, object]] = []
    for name in ("kill_web_worker", "restart_redis", "restart_postgres", "kill_gpu_worker"):
        load.phase, since = name, time.monotonic()
        figures = await inject(name, stack, client, load, args)
        await asyncio.sleep(max(0.0, since + args.recovery - time.monotonic()))
        figures.update(load.recovery(name, since))
        emit(
            event="fault",
            achieved_rps=round(sum(load.outcomes(name).values()) / (time.monotonic() - since), 1),
            fault=name,
            seconds=round(time.monotonic() - since, 1),
            **figures,
            answers=load.outcomes(name),
        )
        limit = figures["recovery_s"] is not None and figures["recovery_s"] <= args.recovery_limit
        checks.append(
            (
                f"{name}: probe 200 again within {args.recovery_limit} s",
                limit,
                figures["recovery_s"],
            )
        )
        if name == "kill_web_worker":
            checks.append(
                (
                    "gunicorn replaced the killed worker",
                    figures["respawned"],
                    figures["workers_after"],
                )
            )
        if name in JOB_CHECKS:
            ok = figures["final_status"] == "succeeded"
            if name == "restart_postgres":
                ok = ok and figures["attempts"] == 1
            checks.append((JOB_CHECKS[name], ok, [figures["final_status"], figures["attempts"]]))
    load.phase = "after"
    await asyncio.sleep(5)
    load.stopped = True
    await asyncio.gather(*tasks)
    emit(event="steady", answers=load.outcomes("warm-up"), after=load.outcomes("after"))
    return checks + await final_checks(client, load)


async def final_checks(client: Client, load: Load) -> list[tuple[str, bool, object]]:
    lost = {}
    for image, acked in load.acked.items():
        missing = acked - await history_versions(client, load.prompts[image])
        if missing:
            lost[image] = sorted(missing)
    saves = sum(len(v) for v in load.acked.values())
    unclean = Counter(_outcome(s, c, e) for _, _, _, s, c, e in load.records
                      if s != 0 and not 200 <= s < 300 and not (s == 503 and c))  # fmt: skip
    resets = Counter(p for _, p, _, s, _, _ in load.records if s == 0)
    jobs = await client.ok("GET", f"/api/v1/jobs/?project={load.project}&page_size=500")
    unfinished = [j["id"] for j in jobs["results"] if j["status"] not in TERMINAL]
    return [
        ("no lost prompt: every 2xx save is in the history", not lost,
         {"acked_saves": saves, "lost": lost}),
        ("every error answer is a 503 with a JSON body", not unclean, dict(unclean)),
        ("connection resets only while a web worker is killed",
         set(resets) <= {"kill_web_worker"}, dict(resets)),
        ("no job left unfinished", not unfinished, unfinished),
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=30, help="requests per second, in all")
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--recovery", type=float, default=20, help="seconds after each fault")
    parser.add_argument(
        "--recovery-limit", type=float, default=15, help="seconds allowed to answer 200 again"
    )
    parser.add_argument("--epochs", type=int, default=12, help="epochs of the training job")
    parser.add_argument("--job-timeout", type=float, default=600)
    parser.add_argument("--web-port", type=int, default=58100)
    parser.add_argument("--pg-port", type=int, default=55432)
    parser.add_argument("--redis-port", type=int, default=56379)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args()
    args.password = uuid.uuid4().hex
    folder = Path(tempfile.mkdtemp(prefix="sightline-faults-"))
    stack = Stack.create(
        folder, web_port=args.web_port, pg_port=args.pg_port, redis_port=args.redis_port
    )
    started = time.monotonic()
    try:
        stack.start()
        stack.manage(
            "createsuperuser", "--noinput", "--username", "faults", "--email", "f@example.org",
            extra={"DJANGO_SUPERUSER_PASSWORD": args.password},
        )  # fmt: skip
        emit(
            event="started",
            folder=str(folder),
            web_workers=stack.web_workers(),
            seconds=round(time.monotonic() - started, 1),
        )
        checks = asyncio.run(run(stack, args))
    finally:
        stack.stop()
        if not args.keep:
            stack.remove()
    for name, ok, value in checks:
        emit(check=name, ok=ok, value=value)
    passed = all(ok for _, ok, _ in checks)
    emit(verdict="pass" if passed else "fail", seconds=round(time.monotonic() - started, 1))
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
