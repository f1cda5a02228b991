"""A tiny OpenAI-style HTTP server that misbehaves on purpose.

Only for faults a real server cannot be made to show on demand: 429 with Retry-After, a 500,
a stream cut mid-way, a hang. Each POST takes the next action from ``script``; GETs to
``/v1/models`` always list one model.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FaultServer:
    script: list[str] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        self._script = deque(self.script)
        self._server: asyncio.Server | None = None
        self._hung: list[asyncio.StreamWriter] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> FaultServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._hung:
            writer.close()
        assert self._server is not None
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, path, _ = line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (h := await reader.readline()) not in (b"\r\n", b""):
                    k, _, v = h.decode().partition(":")
                    headers[k.strip().lower()] = v.strip()
                raw = await reader.readexactly(int(headers.get("content-length", "0")))
                body = json.loads(raw) if raw else None
                self.requests.append(Request(method, path, headers, body))
                if method == "GET":
                    await self._send_json(writer, 200, {"data": [{"id": "stub-model"}]})
                    continue
                action = self._script.popleft() if self._script else "ok"
                if not await self._act(action, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return

    async def _act(self, action: str, writer: asyncio.StreamWriter) -> bool:
        """Perform ``action``; False when the connection is finished with."""
        if action == "ok":
            await self._send_stream(writer, ["Hel", "lo"], done=True)
            return True
        if action.startswith("status:"):
            _, code, *rest = action.split(":")
            extra = {"Retry-After": rest[0]} if rest else {}
            await self._send_json(writer, int(code), {"error": {"message": f"stub {code}"}}, extra)
            return True
        if action == "cut":
            await self._send_stream(writer, ["partial "], done=False)
            writer.transport.abort()  # the connection dies mid-answer
            return False
        if action == "hang":
            self._hung.append(writer)
            await asyncio.sleep(3600)
            return False
        raise AssertionError(f"unknown action {action}")

    @staticmethod
    async def _send_json(
        writer: asyncio.StreamWriter, code: int, obj: Any, extra: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(obj).encode()
        head = f"HTTP/1.1 {code} X\r\nContent-Type: application/json\r\n"
        for k, v in (extra or {}).items():
            head += f"{k}: {v}\r\n"
        head += f"Content-Length: {len(body)}\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()

    @staticmethod
    async def _send_stream(writer: asyncio.StreamWriter, pieces: list[str], done: bool) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )

        def chunk(data: str) -> bytes:
            raw = data.encode()
            return f"{len(raw):x}\r\n".encode() + raw + b"\r\n"

        for i, piece in enumerate(pieces):
            event = {
                "choices": [
                    {
                        "delta": {"content": piece},
                        "text": piece,
                        "finish_reason": "stop" if done and i == len(pieces) - 1 else None,
                    }
                ]
            }
            writer.write(chunk(f"data: {json.dumps(event)}\n\n"))
            await writer.drain()
        if done:
            writer.write(chunk("data: [DONE]\n\n") + b"0\r\n\r\n")
            await writer.drain()
