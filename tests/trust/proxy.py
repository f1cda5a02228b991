"""A recording HTTP forwarder: every request body that passes it is kept, then forwarded.

It sits between Quill and a real OpenAI-compatible server so a test can read exactly what
reached the model. It speaks plain HTTP/1.1 on 127.0.0.1 with keep-alive, reads bodies sent
with Content-Length or chunked, forwards each request with httpx and streams the answer
back as it arrives (chunked), so streamed completions stay streamed and a client that hangs
up stops the upstream request too. It runs its own event loop on a thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass

import httpx

#: headers that belong to one hop, not to the request
_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"content-length",
        b"host",
        b"te",
        b"trailer",
        b"upgrade",
    }
)


@dataclass(frozen=True)
class Recorded:
    """One request as it reached the proxy."""

    method: str
    path: str
    body: bytes
    at: float


class RecordingProxy:
    def __init__(self, upstream: str) -> None:
        #: e.g. ``http://127.0.0.1:8080`` (no path: the request's path is kept)
        self.upstream = upstream.rstrip("/")
        self.records: list[Recorded] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None
        self._client: httpx.AsyncClient | None = None
        self._thread = threading.Thread(target=self._run, name="recording-proxy", daemon=True)
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> RecordingProxy:
        self._thread.start()
        assert self._ready.wait(10), "the recording proxy did not start"
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            if self._client is not None:
                await self._client.aclose()

        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def serve() -> None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(300.0, connect=5.0))
            self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()

        self._loop.run_until_complete(serve())
        self._loop.run_forever()

    # ------------------------------------------------------------------ reading

    def snapshot(self) -> list[Recorded]:
        with self._lock:
            return list(self.records)

    def since(self, mark: int) -> list[Recorded]:
        """Requests recorded after the first ``mark`` (a length of :meth:`snapshot`)."""
        with self._lock:
            return list(self.records[mark:])

    def mark(self) -> int:
        with self._lock:
            return len(self.records)

    def wait_for_more(self, mark: int, count: int = 1, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.mark() - mark >= count:
                return True
            time.sleep(0.05)
        return False

    # ------------------------------------------------------------------ serving

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head[:-4].split(b"\r\n")
                method, target, _version = lines[0].decode("latin-1").split(" ", 2)
                headers: list[tuple[bytes, bytes]] = []
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    headers.append((name.strip().lower(), value.strip()))
                fields = dict(headers)
                if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
                    body = await _read_chunked(reader)
                else:
                    body = await reader.readexactly(int(fields.get(b"content-length", b"0")))
                with self._lock:
                    self.records.append(Recorded(method, target, body, time.monotonic()))
                keep = await self._forward(method, target, headers, body, writer)
                if not keep or fields.get(b"connection", b"").lower() == b"close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _forward(
        self,
        method: str,
        target: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        writer: asyncio.StreamWriter,
    ) -> bool:
        assert self._client is not None
        sent = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers if k not in _HOP]
        request = self._client.build_request(
            method, self.upstream + target, headers=sent, content=body
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            message = f"upstream failed: {exc}".encode()
            writer.write(
                b"HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\n"
                + f"content-length: {len(message)}\r\n\r\n".encode()
                + message
            )
            await writer.drain()
            return True
        try:
            out = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n".encode()]
            for name, value in response.headers.raw:
                if name.lower() not in _HOP:
                    out.append(name + b": " + value + b"\r\n")
            out.append(b"transfer-encoding: chunked\r\n\r\n")
            writer.write(b"".join(out))
            await writer.drain()
            async for chunk in response.aiter_raw():
                if chunk:
                    writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        finally:
            await response.aclose()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
