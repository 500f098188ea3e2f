"""The faults of ``faults.py`` that involve a training job (launched through the API).

- ``restart_redis``: the gpu worker is stopped, a job is launched (its message waits in Redis),
  Redis restarts without persistence (the message is gone), a new gpu worker starts: the
  reconciler must send the job again (``SIGHTLINE_JOB_RESEND_SECONDS``) and it must succeed.
- ``restart_postgres``: PostgreSQL restarts while a job trains (after its first checkpoint): the
  job's progress and metric writes must ride out the outage, and it must succeed in the same
  attempt.
- ``kill_gpu_worker``: SIGKILL of the gpu worker while a job trains; a new worker resumes it
  from its checkpoint.

Each returns figures for the fault line; ``final_status`` must be ``succeeded``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from client import Client
from stack import Stack

TERMINAL = {"succeeded", "failed", "cancelled"}
SIZE = 16


def emit(**values: object) -> None:
    print(json.dumps(values), flush=True)


async def launch(client: Client, project: int, epochs: int) -> str:
    """Starts a small training job; returns its API path."""
    params = {"method": "baseline", "input_size": SIZE, "batch_size": 4, "epochs": epochs,
              "lr": 1e-3, "patience": None}  # fmt: skip
    job = await client.ok(
        "POST", "/api/v1/jobs/", {"project": project, "kind": "train", "parameters": params}
    )
    return f"/api/v1/jobs/{job['id']}/"


async def wait_for_checkpoint(client: Client, path: str, timeout: float) -> dict:
    """Polls the job until it wrote its first checkpoint (or ended, or ``timeout`` passed)."""
    deadline, row = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        answer = await client.call("GET", path)
        if answer.status == 200:
            row = answer.json()
            if (row["checkpoint_epoch"] or 0) >= 1 or row["status"] in TERMINAL:
                break
        await asyncio.sleep(0.2)
    return row


async def follow(client: Client, path: str, since: float, timeout: float) -> dict:
    """Polls the job to its end (503s during a fault are retried); returns the figures."""
    statuses: list[str] = []
    final: dict = {}
    while time.monotonic() < since + timeout:
        answer = await client.call("GET", path)
        if answer.status == 200:
            final = answer.json()
            if not statuses or statuses[-1] != final["status"]:
                statuses.append(final["status"])
            if final["status"] in TERMINAL:
                break
        await asyncio.sleep(0.5)
    return {
        "job": final.get("id"), "statuses_after_fault": statuses,
        "final_status": final.get("status"), "attempts": final.get("attempts"),
        "job_done_after_fault_s": round(time.monotonic() - since, 1),
        "error_message": final.get("error_message") or None,
    }  # fmt: skip


async def restart_redis(
    stack: Stack, client: Client, project: int, args: argparse.Namespace
) -> dict:
    """Redis restarts while a job's message waits for a worker (the gpu worker is stopped)."""
    await asyncio.to_thread(stack.workers["gpu"].stop)
    path = await launch(client, project, epochs=2)
    await asyncio.sleep(1)  # the message is published after the request's commit
    since = time.monotonic()
    await asyncio.to_thread(stack.redis.restart)
    emit(event="redis_restarted_with_a_queued_job", job=path)
    ready = await asyncio.to_thread(stack.start_worker("gpu").wait_ready, 300)
    return {"new_worker_ready": ready, **await follow(client, path, since, args.job_timeout)}


async def restart_postgres(
    stack: Stack, client: Client, project: int, args: argparse.Namespace
) -> dict:
    """PostgreSQL restarts while a job trains."""
    path = await launch(client, project, epochs=args.epochs)
    row = await wait_for_checkpoint(client, path, args.job_timeout)
    since = time.monotonic()
    await asyncio.to_thread(stack.pg.restart)
    emit(event="postgres_restarted_during_training", job=path, epoch=row.get("checkpoint_epoch"))
    return await follow(client, path, since, args.job_timeout)


async def kill_gpu_worker(
    stack: Stack, client: Client, project: int, args: argparse.Namespace
) -> dict:
    """SIGKILL of the gpu worker's process group while a job trains; a new worker starts."""
    path = await launch(client, project, epochs=args.epochs)
    row = await wait_for_checkpoint(client, path, args.job_timeout)
    worker = stack.workers["gpu"]
    since = time.monotonic()
    await asyncio.to_thread(worker.kill)
    emit(event="gpu_worker_killed", pid=worker.pid, job=path, epoch=row.get("checkpoint_epoch"))
    ready = await asyncio.to_thread(stack.start_worker("gpu").wait_ready, 300)
    return {"new_worker_ready": ready, **await follow(client, path, since, args.job_timeout)}
