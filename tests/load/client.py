"""A small HTTP/1.1 client for fault runs: one connection per request, so a killed web worker
costs only the requests it held, and a request that got no answer says why instead of raising.
Standard library only.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass


@dataclass
class Answer:
    status: int  # 0: no HTTP answer (reset, closed, timeout)
    headers: dict[str, str]
    body: bytes
    error: str = ""

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def clean_error(self) -> bool:
        """A JSON body of the shape ``{"error": {"code", ...}}``."""
        if not self.headers.get("content-type", "").startswith("application/json"):
            return False
        try:
            return "code" in self.json()["error"]
        except (ValueError, KeyError, TypeError):
            return False


class Client:
    """HTTP/1.1, one connection per request (a killed worker then costs only its requests)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.token = ""

    async def call(
        self, method: str, path: str, body: object = None, *, raw: bytes | None = None,
        content_type: str = "application/json", headers: dict[str, str] | None = None,
    ) -> Answer:  # fmt: skip
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        head = {"Host": "127.0.0.1", "Connection": "close", "Content-Length": str(len(data))}
        if data:
            head["Content-Type"] = content_type
        if self.token:
            head["Authorization"] = f"Token {self.token}"
        head.update(headers or {})
        request = f"{method} {path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in head.items()
        )
        try:
            return await asyncio.wait_for(self._exchange(request.encode() + b"\r\n" + data), 30)
        except (OSError, TimeoutError, ValueError, IndexError) as exc:
            return Answer(0, {}, b"", error=type(exc).__name__)

    async def _exchange(self, payload: bytes) -> Answer:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(payload)
            await writer.drain()
            response = await reader.read()
        finally:
            writer.close()
        head, _, body = response.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])  # no answer at all: IndexError
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        return Answer(status, headers, body)

    async def ok(self, method: str, path: str, body: object = None, **kwargs: object) -> dict:
        answer = await self.call(method, path, body, **kwargs)
        if not 200 <= answer.status < 300:
            raise RuntimeError(f"{method} {path}: {answer.status} {answer.body[:300]!r}")
        return answer.json() if answer.body else {}


def multipart(files: list[tuple[str, bytes]], fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    for name, data in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            f"Content-Type: image/png\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
