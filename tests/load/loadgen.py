"""Fixed-arrival-rate load generator for Sightline (standard library only).

Requests are sent on a fixed schedule (open model: request ``i`` is due at ``i / rate``), over a
pool of keep-alive HTTP/1.1 connections; latency is measured from the scheduled time, so a slow
server is not hidden by a client that waits (no coordinated omission). Prints one JSON line per
scenario: achieved rate, p50/p90/p99/max latency in ms, the error count (non-2xx, timeouts,
broken answers) and how many requests were sent again because their reused keep-alive
connection had been closed by the server (:class:`Pool`).

Usage (against ``deploy/run-prod.sh``; create the user first, see deploy/README.md):

    python tests/load/loadgen.py --base http://127.0.0.1:8100 --username load --password ... \\
        --duration 30 --images 200

Scenarios: ``images`` (GET project image list, page 1, 50 per page) at 200/s, ``prompt_get``
(GET the caller's prompt on an image) at 500/s, ``prompt_save`` (PUT a new version with
``If-Match``; one save in flight per image so versions never conflict) at 100/s. Rates and the
scenario list can be changed with ``--rates images=200,prompt_get=500,prompt_save=100``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import struct
import time
import urllib.request
import uuid
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

SIZE = 16  # tiny images: the figures measure the web stack, not decoding


def png(seed: int) -> bytes:
    """An 8-bit grey SIZE x SIZE PNG, distinct per seed."""
    rows = b"".join(
        b"\x00" + bytes((seed * 7 + x + y) % 256 for x in range(SIZE)) for y in range(SIZE)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def api(
    base: str,
    method: str,
    path: str,
    token: str | None,
    body: object = None,
    raw: bytes | None = None,
    content_type: str = "application/json",
) -> object:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"null")


def multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, data in files:
        disposition = f'form-data; name="files"; filename="{name}"'
        out.write(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode())
        out.write(b"Content-Type: image/png\r\n\r\n")
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def setup(base: str, username: str, password: str, n_images: int) -> tuple[str, int, list[int]]:
    token = api(
        base, "POST", "/api/v1/auth/token/", None, {"username": username, "password": password}
    )["token"]
    project = api(
        base,
        "POST",
        "/api/v1/projects/",
        token,
        {"name": f"load-{uuid.uuid4().hex[:8]}", "class_names": ["normal", "abnormal"]},
    )
    ids: list[int] = []
    for start in range(0, n_images, 100):
        body, ctype = multipart(
            [(f"i{i}.png", png(i)) for i in range(start, min(n_images, start + 100))]
        )
        result = api(
            base,
            "POST",
            f"/api/v1/projects/{project['id']}/images/",
            token,
            raw=body,
            content_type=ctype,
        )
        ids += [image["id"] for image in result["created"]]
    return token, project["id"], ids


class StaleConnection(Exception):
    """A reused keep-alive connection the server had closed (no byte of an answer came back)."""


class Pool:
    """Keep-alive HTTP/1.1 connections to one host.

    Like browsers and HTTP libraries, a request that finds its reused connection closed by the
    server before any byte of the answer (a gunicorn worker recycled or restarted, an idle
    timeout) is sent again once on a new connection; ``retries`` counts those. Anything else
    (a reset mid-answer, a timeout, a non-2xx status) is an error of the scenario.
    """

    def __init__(self, base: str, size: int) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.idle: asyncio.Queue = asyncio.Queue()
        self.size = size
        self.opened = 0
        self.retries = 0

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str]]:
        if self.idle.empty() and self.opened < self.size:
            self.opened += 1
            conn, reused = await asyncio.open_connection(self.host, self.port), False
        else:
            conn, reused = await self.idle.get(), True
        try:
            return await self._exchange(conn, method, path, headers, body, reused)
        except StaleConnection:
            self.retries += 1
            self.opened += 1
            conn = await asyncio.open_connection(self.host, self.port)
            return await self._exchange(conn, method, path, headers, body, False)

    async def _exchange(
        self,
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        reused: bool,
    ) -> tuple[int, dict[str, str]]:
        reader, writer = conn
        try:
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
            )
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            try:
                writer.write(head.encode() + body)
                await writer.drain()
                status_line = await reader.readline()
            except ConnectionError:
                status_line = b""
            if not status_line:
                writer.close()
                self.opened -= 1
                if reused:
                    raise StaleConnection
                raise ConnectionError("the server closed a new connection without answering")
            status = int(status_line.split()[1])
            response_headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                key, _, value = line.decode("latin-1").partition(":")
                response_headers[key.strip().lower()] = value.strip()
            await reader.readexactly(int(response_headers.get("content-length", "0")))
        except StaleConnection:
            raise
        except BaseException:  # a timeout cancels mid-response: the connection is unusable
            if not writer.is_closing():
                writer.close()
                self.opened -= 1
            raise
        self.idle.put_nowait(conn)
        return status, response_headers


async def run_scenario(
    name: str, rate: float, duration: float, call: Callable[[int], Awaitable[int]]
) -> dict[str, object]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    start = time.perf_counter() + 0.2
    total = int(rate * duration)

    async def one(i: int, due: float) -> None:
        try:
            status = await asyncio.wait_for(call(i), timeout=30)
            if status >= 300:
                errors[str(status)] = errors.get(str(status), 0) + 1
        except Exception as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
        latencies.append((time.perf_counter() - due) * 1000)

    # Requests are started by one loop at their due times (not created all at once: a soak of
    # ten minutes is several hundred thousand requests); lateness of the loop itself counts.
    running: set[asyncio.Task] = set()
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(i, due))
        running.add(task)
        task.add_done_callback(running.discard)
    await asyncio.gather(*running)
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    return {
        "scenario": name,
        "target_rps": rate,
        "achieved_rps": round(total / elapsed, 1),
        "requests": total,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "p50_ms": pct(0.5),
        "p90_ms": pct(0.9),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1], 1),
    }


def rss_kib(master: int) -> dict[int, int]:
    """Resident memory (KiB) of each child process of ``master`` (the gunicorn workers)."""
    found = {}
    for child in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                found[int(child)] = int(line.split()[1])
    return found


async def watch_memory(master: int, warmup: float, every: float, out: dict) -> None:
    """Samples the workers' RSS: the baseline after ``warmup`` seconds, then every ``every``."""
    await asyncio.sleep(warmup)
    out["baseline_kib"] = rss_kib(master)
    while True:
        await asyncio.sleep(every)
        out["last_kib"] = rss_kib(master)
        out["max_kib"] = {
            pid: max(kib, out.get("max_kib", {}).get(pid, 0))
            for pid, kib in out["last_kib"].items()
        }


async def main(args: argparse.Namespace) -> None:
    token, project, images = setup(args.base, args.username, args.password, args.images)
    auth = {"Authorization": f"Token {token}"}
    pool = Pool(args.base, args.connections)
    rle = {"width": SIZE, "height": SIZE, "rle": [[1, SIZE * SIZE // 2], [0, SIZE * SIZE // 2]]}
    versions = dict.fromkeys(images, 0)
    locks = {image: asyncio.Lock() for image in images}
    for image in images:  # every image gets a prompt, so GET mine is a 200
        api(
            args.base,
            "PUT",
            f"/api/v1/images/{image}/prompts/mine/?target_class=abnormal",
            token,
            {"mask": rle, "base_version": 0},
        )
        versions[image] = 1

    async def images_list(i: int) -> int:
        return (
            await pool.request("GET", f"/api/v1/projects/{project}/images/?page_size=50", auth)
        )[0]

    async def prompt_get(i: int) -> int:
        image = images[i % len(images)]
        return (
            await pool.request(
                "GET", f"/api/v1/images/{image}/prompts/mine/?target_class=abnormal", auth
            )
        )[0]

    async def prompt_save(i: int) -> int:
        image = images[i % len(images)]
        async with locks[image]:
            body = json.dumps({"mask": rle}).encode()
            headers = {
                **auth,
                "Content-Type": "application/json",
                "If-Match": f'"{versions[image]}"',
            }
            status, _ = await pool.request(
                "PUT", f"/api/v1/images/{image}/prompts/mine/?target_class=abnormal", headers, body
            )
            if status == 200:
                versions[image] += 1
            return status

    scenarios = {"images": images_list, "prompt_get": prompt_get, "prompt_save": prompt_save}
    chosen = [item.partition("=") for item in args.rates.split(",")]
    memory: dict = {}
    watcher = None
    if args.watch_master:
        watcher = asyncio.create_task(
            watch_memory(args.watch_master, args.memory_warmup, 10.0, memory)
        )
    if args.together:  # every scenario at once, as a mixed workload (a soak)
        runs = [run_scenario(n, float(r), args.duration, scenarios[n]) for n, _, r in chosen]
        results = await asyncio.gather(*runs)
        for result in results:
            print(json.dumps(result), flush=True)
        print(json.dumps({"stale_connection_retries": pool.retries}), flush=True)
    else:
        for name, _, rate in chosen:
            retried = pool.retries
            result = await run_scenario(name, float(rate), args.duration, scenarios[name])
            result["stale_connection_retries"] = pool.retries - retried
            print(json.dumps(result), flush=True)
    if watcher is not None:
        watcher.cancel()
        base, last = memory.get("baseline_kib", {}), memory.get("last_kib", {})
        growth = {
            pid: round(100 * (last[pid] - base[pid]) / base[pid], 1) for pid in base if pid in last
        }
        print(json.dumps({"worker_rss_kib": memory, "growth_percent": growth}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8100")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rates", default="images=200,prompt_get=500,prompt_save=100")
    parser.add_argument("--together", action="store_true", help="run the scenarios at once")
    parser.add_argument(
        "--watch-master", type=int, default=0, help="gunicorn master pid: report worker RSS"
    )
    parser.add_argument(
        "--memory-warmup", type=float, default=60, help="seconds before the RSS baseline"
    )
    asyncio.run(main(parser.parse_args()))
