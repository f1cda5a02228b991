"""The LSP base protocol: JSON-RPC messages framed by ``Content-Length`` headers.

One reader and one writer of the wire, shared by the server's read loop
(:mod:`quill.lsp.protocol`), the client that drives ``quill lsp`` in benchmarks and tests
(:mod:`quill.lsp.client`), and anything else that speaks to an LSP stream (a TCP socket's
``makefile("rb")`` included). Nothing here imports pygls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import IO, Any

__all__ = [
    "MAX_HEADER_LINE",
    "Frame",
    "encode_message",
    "frame_body",
    "read_frame",
    "read_message",
    "write_message",
]

#: the longest header line read; a longer one is read in pieces (and ignored)
MAX_HEADER_LINE = 8192
_CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)\s*$", re.IGNORECASE)
_SKIP_CHUNK = 1 << 20


class Frame:
    """One message read off the wire: its body, or why there is none."""

    __slots__ = ("body", "error")

    def __init__(self, body: bytes | None = None, error: str | None = None) -> None:
        self.body = body
        self.error = error


def read_frame(stream: IO[bytes], max_bytes: Callable[[], int] | None = None) -> Frame | None:
    """Read one frame from ``stream`` (blocking); ``None`` at the end of input.

    Blank lines before the headers are skipped; headers other than ``Content-Length`` are
    ignored. A frame without ``Content-Length`` comes back as ``Frame(error=...)``, and so
    does a body longer than ``max_bytes()`` (asked once the headers are in), which is read
    and dropped so that the stream stays in step. Input that ends inside a frame is the end
    of input.
    """
    length: int | None = None
    saw_header = False
    while True:
        line = stream.readline(MAX_HEADER_LINE)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            if saw_header:
                break
            continue
        saw_header = True
        match = _CONTENT_LENGTH.match(line.strip())
        if match:
            length = int(match.group(1))
    if length is None:
        return Frame(error="missing Content-Length header")
    if max_bytes is not None:
        cap = max_bytes()
        if length > cap:
            remaining = length
            while remaining > 0:
                chunk = stream.read(min(remaining, _SKIP_CHUNK))
                if not chunk:
                    return None
                remaining -= len(chunk)
            return Frame(error=f"message of {length} bytes exceeds the limit of {cap} bytes")
    body = b""
    while len(body) < length:
        chunk = stream.read(length - len(body))
        if not chunk:
            return None
        body += chunk
    return Frame(body=body)


def read_message(stream: IO[bytes], max_bytes: Callable[[], int] | None = None) -> Any:
    """Read and decode one message. Raises ``EOFError`` at the end of input and
    ``ValueError`` for a frame without a usable body or a body that is not JSON."""
    frame = read_frame(stream, max_bytes)
    if frame is None:
        raise EOFError("end of input")
    if frame.body is None:
        raise ValueError(frame.error or "empty frame")
    return json.loads(frame.body)


def frame_body(body: bytes) -> bytes:
    """``body`` with its ``Content-Length`` header: what goes on the wire."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode_message(message: Any) -> bytes:
    """One JSON-RPC message (a JSON value), framed."""
    return frame_body(json.dumps(message, separators=(",", ":")).encode("utf-8"))


def write_message(stream: IO[bytes], message: Any) -> None:
    """Write one message to ``stream`` and flush it."""
    stream.write(encode_message(message))
    stream.flush()
