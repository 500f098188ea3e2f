"""Fixed-arrival-rate load generator for Sightline (standard library only).

Requests are sent on a fixed schedule (open model: request ``i`` is due at ``i / rate``), over a
pool of keep-alive HTTP/1.1 connections; latency is measured from the scheduled time, so a slow
server is not hidden by a client that waits (no coordinated omission). Prints one JSON line per
scenario: achieved rate, p50/p90/p99/max latency in ms and the error count (non-2xx, timeouts).

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


class Pool:
    """Keep-alive HTTP/1.1 connections to one host."""

    def __init__(self, base: str, size: int) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.idle: asyncio.Queue = asyncio.Queue()
        self.size = size
        self.opened = 0

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str]]:
        if self.idle.empty() and self.opened < self.size:
            self.opened += 1
            conn = await asyncio.open_connection(self.host, self.port)
        else:
            conn = await self.idle.get()
        reader, writer = conn
        try:
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
            )
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            writer.write(head.encode() + body)
            await writer.drain()
            status_line = await reader.readline()
            status = int(status_line.split()[1])
            response_headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                key, _, value = line.decode("latin-1").partition(":")
                response_headers[key.strip().lower()] = value.strip()
            await reader.readexactly(int(response_headers.get("content-length", "0")))
        except BaseException:  # a timeout cancels mid-response: the connection is unusable
            writer.close()
            self.opened -= 1
            raise
        self.idle.put_nowait(conn)
        return status, response_headers


async def run_scenario(
    name: str, rate: float, duration: float, call: Callable[[int], Awaitable[int]]
) -> dict[str, object]:
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter() + 0.2
    total = int(rate * duration)

    async def one(i: int) -> None:
        nonlocal errors
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        try:
            status = await asyncio.wait_for(call(i), timeout=30)
            if status >= 300:
                errors += 1
        except Exception:
            errors += 1
        latencies.append((time.perf_counter() - due) * 1000)

    await asyncio.gather(*(one(i) for i in range(total)))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    return {
        "scenario": name,
        "target_rps": rate,
        "achieved_rps": round(total / elapsed, 1),
        "requests": total,
        "errors": errors,
        "p50_ms": pct(0.5),
        "p90_ms": pct(0.9),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1], 1),
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
    for item in args.rates.split(","):
        name, _, rate = item.partition("=")
        print(
            json.dumps(await run_scenario(name, float(rate), args.duration, scenarios[name])),
            flush=True,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8100")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rates", default="images=200,prompt_get=500,prompt_save=100")
    asyncio.run(main(parser.parse_args()))
