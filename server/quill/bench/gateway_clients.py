"""The client side of ``quill bench gateway``: WebSocket sessions that chat at once and check
that every chunk they receive is the next piece of their own answer.

:func:`chat_sessions` opens every connection first, then sends one ``chat`` frame on each at
once, and takes the monotonic time at which each frame arrives (before parsing it).
:func:`chat_in_process` runs it in a process of its own (``python -m
quill.bench.gateway_clients``, the request as JSON on stdin, the runs as JSON on stdout), as an
editor's client is; the monotonic clock is the same for both processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

__all__ = [
    "SessionRun",
    "answer_text",
    "chat_in_process",
    "chat_sessions",
    "chunk_text",
    "open_ws",
    "question_text",
]

WORD = re.compile(r"s(\d+)c(\d+)")
ASKED = re.compile(r"bench session (\d+)\b")


def chunk_text(session: int, index: int) -> str:
    return f"s{session}c{index} "


def answer_text(session: int, chunks: int) -> str:
    return "".join(chunk_text(session, i) for i in range(chunks))


def question_text(session: int) -> str:
    return f"Answer bench session {session} with its own words."


@dataclass
class SessionRun:
    """What one session (direct or over the WebSocket) received."""

    session: int
    #: chunk index -> monotonic arrival time
    arrivals: dict[int, float] = field(default_factory=dict)
    #: words of another session, text that is no answer's, frames of another request
    leaks: int = 0
    #: own words out of order, missing or repeated
    misordered: int = 0
    completed: bool = False
    error: str | None = None

    def _foreign(self, text: str) -> int:
        others = sum(int(s) != self.session for s, _ in WORD.findall(text))
        return others + (1 if WORD.sub("", text).strip() else 0)

    def take(self, text: str, at: float, chunks: int) -> None:
        """One received chunk: every word must be the next one of this session's answer."""
        self.leaks += self._foreign(text)
        expected = len(self.arrivals)
        for s, i in WORD.findall(text):
            if int(s) != self.session:
                continue
            if int(i) != expected or expected >= chunks:
                self.misordered += 1
                continue
            self.arrivals[expected] = at
            expected += 1

    def finish(self, text: str, chunks: int) -> None:
        """The whole answer as the end reported it."""
        self.leaks += self._foreign(text)
        whole = text == answer_text(self.session, chunks).strip()
        if not whole:
            self.misordered += 1
        self.completed = whole and len(self.arrivals) == chunks and self.error is None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionRun:
        arrivals = {int(i): float(at) for i, at in data["arrivals"].items()}
        return cls(**{**data, "arrivals": arrivals})


async def open_ws(url: str, token: str) -> ClientConnection:
    """A connection to the gateway, its ``hello`` read."""
    ws = await connect(
        url,
        additional_headers={"Authorization": f"Bearer {token}"},
        compression=None,
        open_timeout=60,
        max_size=None,
    )
    hello = json.loads(await ws.recv())
    if hello.get("type") != "hello":
        await ws.close()
        raise ConnectionError(f"no hello from the gateway: {hello}")
    return ws


async def _chat(ws: ClientConnection, session: int, chunks: int, limit_s: float) -> SessionRun:
    run = SessionRun(session)
    request = {"v": 1, "type": "chat", "id": f"q{session}", "message": question_text(session)}
    try:
        async with asyncio.timeout(limit_s):
            await ws.send(json.dumps(request))
            while True:
                raw = await ws.recv()
                at = time.monotonic()
                frame = json.loads(raw)
                if frame.get("id") != request["id"]:
                    run.leaks += 1
                elif frame["type"] == "chunk":
                    run.take(str(frame.get("text", "")), at, chunks)
                elif frame["type"] == "done":
                    if frame.get("cancelled"):
                        run.error = "cancelled"
                    run.finish(str(frame.get("text", "")).strip(), chunks)
                    return run
                else:
                    run.error = f"{frame.get('code', frame['type'])}: {frame.get('message', '')}"
                    return run
    except Exception as exc:  # counted as not completed, named in the report
        run.error = f"{type(exc).__name__}: {exc}"
    return run


async def chat_sessions(
    url: str, token: str, sessions: Sequence[int], chunks: int, limit_s: float
) -> list[SessionRun]:
    """Open a connection for every session, then ask every session's question at once."""
    async with contextlib.AsyncExitStack() as stack:
        opened = await asyncio.gather(
            *(open_ws(url, token) for _ in sessions), return_exceptions=True
        )
        for ws in opened:
            if isinstance(ws, ClientConnection):
                await stack.enter_async_context(ws)
        runs: list[SessionRun] = []
        pending = []
        for session, ws in zip(sessions, opened, strict=True):
            if isinstance(ws, BaseException):
                runs.append(SessionRun(session, error=f"connect: {type(ws).__name__}: {ws}"))
            else:
                pending.append(_chat(ws, session, chunks, limit_s))
        runs += await asyncio.gather(*pending)
    return runs


async def chat_in_process(
    url: str, token: str, sessions: Sequence[int], chunks: int, limit_s: float
) -> list[SessionRun]:
    """:func:`chat_sessions` in a child process (see the module docstring)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "quill.bench.gateway_clients",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    request = {
        "url": url,
        "token": token,
        "sessions": list(sessions),
        "chunks": chunks,
        "limit_s": limit_s,
    }
    try:
        out, err = await asyncio.wait_for(
            proc.communicate(json.dumps(request).encode()), limit_s + 60
        )
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError("the client process did not finish") from None
    if proc.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"the client process failed ({proc.returncode}): {' '.join(tail)}")
    return [SessionRun.from_json(item) for item in json.loads(out)]


def _main() -> None:  # the child process of chat_in_process
    request = json.loads(sys.stdin.read())
    runs = asyncio.run(
        chat_sessions(
            request["url"],
            request["token"],
            request["sessions"],
            request["chunks"],
            request["limit_s"],
        )
    )
    sys.stdout.write(json.dumps([asdict(run) for run in runs]))


if __name__ == "__main__":
    _main()
