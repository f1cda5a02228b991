"""``quill bench gateway``'s history part: a session of many messages, opened over the
WebSocket as the chat page opens it and through the chat service directly, and one more turn
in it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from typing import Any

from quill.app import Quill
from quill.bench.gateway_clients import open_ws, question_text
from quill.chat.records import Role
from quill.chat.store import ChatStore
from quill.stats import percentile

__all__ = [
    "PAGE_MESSAGES",
    "fill_history",
    "measure_continue_ws",
    "measure_history_service",
    "measure_history_ws",
]

#: the page of messages the chat page asks for when it opens a session
PAGE_MESSAGES = 200


def _timings(values: Sequence[float], count: int) -> dict[str, Any]:
    return {
        "firstMs": round(values[0], 3) if values else None,
        "p50Ms": percentile(values, 50),
        "p99Ms": percentile(values, 99),
        "maxMs": percentile(values, 100),
        "repeats": len(values),
        "messages": count,
    }


async def measure_history_ws(
    url: str, token: str, session_id: str, *, limit: int = PAGE_MESSAGES, repeats: int = 20
) -> dict[str, Any]:
    """Open ``session_id`` over the WebSocket as the chat page does (a ``history`` request
    for the last ``limit`` messages), ``repeats`` times; ms from send to parsed answer."""
    values: list[float] = []
    count = 0
    async with await open_ws(url, token) as ws:
        for r in range(repeats):
            request = {"v": 1, "type": "history", "id": f"h{r}", "session": session_id}
            started = time.monotonic()
            await ws.send(json.dumps({**request, "limit": limit}))
            frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
            values.append((time.monotonic() - started) * 1000)
            if frame.get("type") != "done":
                why = f"{frame.get('code', frame.get('type'))}: {frame.get('message', '')}"
                return {"available": False, "why": why}
            count = len(frame["result"]["messages"])
    return {"available": True, **_timings(values, count)}


async def measure_continue_ws(
    url: str, token: str, session_id: str, session: int
) -> dict[str, Any]:
    """One more turn in ``session_id`` over the WebSocket (its history trimmed to the budget
    first): ms from send to the first chunk and to ``done``."""
    request = {"v": 1, "type": "chat", "id": "more", "message": question_text(session)}
    first: float | None = None
    async with await open_ws(url, token) as ws:
        started = time.monotonic()
        await ws.send(json.dumps({**request, "session": session_id}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if frame.get("type") == "chunk" and first is None:
                first = (time.monotonic() - started) * 1000
            elif frame.get("type") != "chunk":
                break
    done = (time.monotonic() - started) * 1000
    return {
        "ok": frame.get("type") == "done" and not frame.get("cancelled"),
        "firstChunkMs": round(first, 3) if first is not None else None,
        "doneMs": round(done, 3),
    }


async def measure_history_service(
    app: Quill, session_id: str, *, limit: int = PAGE_MESSAGES, repeats: int = 20
) -> dict[str, Any]:
    """The same page through ``app.chat`` without the gateway (session, then its messages,
    as the gateway's handler asks for them)."""
    values: list[float] = []
    count = 0
    for _ in range(repeats):
        started = time.monotonic()
        await app.chat.session(session_id)
        messages = await app.chat.history(session_id, limit=limit)
        [m.to_json(thinking=False) for m in messages]
        values.append((time.monotonic() - started) * 1000)
        count = len(messages)
    return _timings(values, count)


def fill_history(store: ChatStore, messages: int) -> str:
    session = store.create_session("A long conversation", now=1.0)
    filler = "with a sentence or two of ordinary length about the code under discussion"
    for k in range(messages):
        role: Role = "user" if k % 2 == 0 else "assistant"
        text = f"Message {k} of the long conversation, {filler} ({k * 7919 % 10007})."
        store.add_message(session.id, role, text, tokens=len(text) // 4, now=2.0 + k)
    return session.id
