"""An HTTP/1.1 proxy that puts faults between Quill and a real OpenAI-compatible server.

Every POST to ``/v1/chat/completions`` or ``/v1/completions`` takes the next mode of the
script (or the default mode once the script is spent); everything else (``/v1/models``,
``/props``, ...) is always passed through. Modes:

``pass``
    forward the request and stream the answer back as it comes (SSE events unchanged);
``refuse``
    close the connection at once, without a byte of answer;
``429``
    answer 429 with ``Retry-After: 1``;
``500``
    answer 500 with an OpenAI-style error body;
``503``
    answer 503 with ``{"error": {"message": "Loading model"}}`` (llama.cpp while loading);
``cut``
    forward the stream until an event with text went through, then half of the next event,
    then drop the connection (the answer stops inside an SSE event);
``hang``
    read the request and never answer (the connection stays open until the client leaves);
``drip``
    forward the stream as it comes until an event with text went through, then each
    further SSE event after ``drip_delay`` seconds (the answer starts, then crawls).

:meth:`FaultProxy.down` closes the listening socket, so the port is one nobody listens on
(connection refused), and :meth:`FaultProxy.up` listens on it again.

The proxy runs its own event loop on a thread, so a synchronous test (one talking to
``quill lsp`` over stdio) can drive it. It counts open client connections, and the ones in
the middle of a request (``active``), so a test can check that the client closed every
connection it gave up on. Idle keep-alive connections are closed after ``keepalive_s``, as
servers do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import httpx

MODES = ("pass", "refuse", "429", "500", "503", "cut", "hang", "drip")
FAULTED_PATHS = ("/v1/chat/completions", "/v1/completions")
_EVENT_END = re.compile(rb"\r?\n\r?\n")
_HOP_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
    "host",
}


@dataclass
class Seen:
    """One request that reached the proxy."""

    method: str
    path: str
    mode: str
    at: float
    body: object = None


@dataclass
class _Request:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class _ClientGone(Exception):
    """The client closed its end of the connection."""


@dataclass
class FaultProxy:
    upstream: str
    default: str = "pass"
    drip_delay: float = 2.0
    keepalive_s: float = 2.0
    port: int = 0
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.upstream = self.upstream.rstrip("/").removesuffix("/v1")
        self._script: deque[str] = deque()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy")
        self._server: asyncio.Server | None = None
        self._client: httpx.AsyncClient | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._idle: set[asyncio.StreamWriter] = set()
        self._open = 0
        self._active = 0
        self.connections_total = 0

    # ------------------------------------------------------------------ control

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._start())
        return self

    def close(self) -> None:
        self._call(self._stop(), timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set(self, default: str, script: Iterable[str] = ()) -> None:
        """Answer the next faultable requests with ``script``, then with ``default``."""
        modes = [default, *script]
        unknown = [m for m in modes if m not in MODES]
        if unknown:
            raise ValueError(f"unknown fault modes {unknown}")
        with self._lock:
            self.default = default
            self._script = deque(script)

    def down(self) -> None:
        """Stop listening and drop every connection: the port refuses connections."""
        self._call(self._down())

    def up(self) -> None:
        """Listen again on the same port."""
        self._call(self._listen())

    @property
    def open_connections(self) -> int:
        return self._open

    @property
    def active_connections(self) -> int:
        """Connections in the middle of a request (a hung one counts until the client
        leaves it)."""
        return self._active

    def posts(self) -> list[Seen]:
        """The faultable requests seen so far."""
        with self._lock:
            return [s for s in self.seen if s.method == "POST" and s.path in FAULTED_PATHS]

    def wait_until(self, ready: object, timeout: float) -> bool:
        """Poll ``ready()`` until it holds or ``timeout`` passes; whether it held."""
        assert callable(ready)
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def _call(self, coro: object, timeout: float = 30) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ serving

    async def _start(self) -> None:
        self._client = httpx.AsyncClient(
            base_url=self.upstream, timeout=httpx.Timeout(5.0, read=None), trust_env=False
        )
        await self._listen()

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _down(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if server is not None:
            await server.wait_closed()

    async def _stop(self) -> None:
        await self._down()
        if self._client is not None:
            await self._client.aclose()

    def _next_mode(self, req: _Request) -> str:
        path = req.target.split("?", 1)[0]
        with self._lock:
            if req.method == "POST" and path in FAULTED_PATHS:
                mode = self._script.popleft() if self._script else self.default
            else:
                mode = "pass"
            try:
                body: object = json.loads(req.body) if req.body else None
            except ValueError:
                body = None
            self.seen.append(Seen(req.method, path, mode, time.monotonic(), body))
        return mode

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open += 1
        self.connections_total += 1
        self._writers.add(writer)
        try:
            while True:
                self._idle.add(writer)
                try:
                    async with asyncio.timeout(self.keepalive_s):
                        req = await _read_request(reader)
                except TimeoutError:
                    return
                finally:
                    self._idle.discard(writer)
                if req is None:
                    return
                self._active += 1
                try:
                    keep = await self._serve(req, self._next_mode(req), reader, writer)
                finally:
                    self._active -= 1
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, _ClientGone, ValueError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._open -= 1

    async def _serve(
        self,
        req: _Request,
        mode: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Answer ``req`` the way ``mode`` says; whether the connection may serve another."""
        if mode == "refuse":
            writer.transport.abort()
            return False
        if mode == "hang":
            while await reader.read(65536):  # until the client gives up on it
                pass
            return False
        if mode == "429":
            await _send_json(
                writer, 429, {"error": {"message": "Too many requests"}}, {"Retry-After": "1"}
            )
            return True
        if mode == "500":
            await _send_json(writer, 500, {"error": {"message": "Internal server error"}})
            return True
        if mode == "503":
            await _send_json(writer, 503, {"error": {"message": "Loading model"}})
            return True
        return await self._forward(req, mode, reader, writer)

    async def _forward(
        self,
        req: _Request,
        mode: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        assert self._client is not None
        headers = [(k, v) for k, v in req.headers if k.lower() not in _HOP_HEADERS]
        upstream = self._client.build_request(
            req.method, req.target, headers=headers, content=req.body
        )
        response = await self._client.send(upstream, stream=True)
        try:
            head = f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n"
            for key, value in response.headers.multi_items():
                if key.lower() not in _HOP_HEADERS:
                    head += f"{key}: {value}\r\n"
            streaming = "text/event-stream" in response.headers.get("content-type", "")
            if not streaming:
                body = await response.aread()
                head += f"Content-Length: {len(body)}\r\n\r\n"
                writer.write(head.encode("latin-1") + body)
                await writer.drain()
                return True
            head += "Transfer-Encoding: chunked\r\n"
            if mode != "pass":
                head += "Connection: close\r\n"
            writer.write((head + "\r\n").encode("latin-1"))
            await writer.drain()
            if mode == "pass":
                async for data in response.aiter_raw():
                    await _send_chunk(reader, writer, data)
            else:
                text_sent = False
                async for event in _events(response):
                    if mode == "cut" and text_sent:
                        writer.write(_chunk(event[: max(1, len(event) // 2)]))
                        await writer.drain()
                        writer.transport.abort()  # the connection dies inside an event
                        return False
                    if mode == "drip" and text_sent:
                        await _sleep_unless_gone(reader, writer, self.drip_delay)
                    await _send_chunk(reader, writer, event)
                    text_sent = text_sent or _has_text(event)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return mode == "pass"
        finally:
            await response.aclose()


# ---------------------------------------------------------------------- HTTP pieces


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    line = await reader.readline()
    if not line:
        return None
    method, target, _version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers: list[tuple[str, str]] = []
    while True:
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n"):
            break
        if not raw:
            raise asyncio.IncompleteReadError(b"", None)
        key, _, value = raw.decode("latin-1").partition(":")
        headers.append((key.strip(), value.strip()))
    req = _Request(method, target, headers, b"")
    if (req.header("transfer-encoding") or "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += data[:-2]
        req.body = body
    else:
        req.body = await reader.readexactly(int(req.header("content-length") or 0))
    return req


def _gone(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    return reader.at_eof() or writer.transport.is_closing()


async def _sleep_unless_gone(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _gone(reader, writer):
            raise _ClientGone
        await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def _send_chunk(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes
) -> None:
    if not data:
        return
    if _gone(reader, writer):
        raise _ClientGone
    writer.write(_chunk(data))
    await writer.drain()


async def _send_json(
    writer: asyncio.StreamWriter, code: int, obj: object, extra: dict[str, str] | None = None
) -> None:
    body = json.dumps(obj).encode()
    reason = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
    head = f"HTTP/1.1 {code} {reason.get(code, 'Error')}\r\nContent-Type: application/json\r\n"
    for key, value in (extra or {}).items():
        head += f"{key}: {value}\r\n"
    head += f"Content-Length: {len(body)}\r\n\r\n"
    writer.write(head.encode("latin-1") + body)
    await writer.drain()


async def _events(response: httpx.Response) -> AsyncIterator[bytes]:
    """The raw SSE events of ``response``, each with its terminating blank line."""
    buffer = b""
    async for data in response.aiter_raw():
        buffer += data
        while (end := _EVENT_END.search(buffer)) is not None:
            yield buffer[: end.end()]
            buffer = buffer[end.end() :]
    if buffer:
        yield buffer


def _has_text(event: bytes) -> bool:
    """Whether an SSE event carries a piece of answer text (not a role or a comment)."""
    for line in event.decode("utf-8", "replace").splitlines():
        if not line.startswith("data:"):
            continue
        try:
            data = json.loads(line[5:].strip())
        except ValueError:
            continue
        choices = data.get("choices") if isinstance(data, dict) else None
        for choice in choices if isinstance(choices, list) else []:
            delta = choice.get("delta") or {}
            if choice.get("text") or (isinstance(delta, dict) and delta.get("content")):
                return True
    return False
