"""The WebSocket protocol against a real server and the real embedded model: chat streams
chunks then done, cancel stops it, bad frames get error frames on a connection that keeps
serving, and a client that leaves mid-stream stops the model."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from quill.models.local import LocalProvider

from .conftest import Harness

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]

LONG = "List the numbers from 1 to 200, one per line, with a word about each."


@pytest.fixture(autouse=True)
def _model(gguf_path: Path) -> None:
    """These tests need the embedded model (its absence is a failure, as everywhere)."""


async def _open(h: Harness) -> ClientConnection:
    ws = await connect(h.ws_url, additional_headers=h.auth, open_timeout=30)
    hello = json.loads(await ws.recv())
    assert hello["type"] == "hello" and hello["versions"] == [1]
    return ws


async def _recv(ws: ClientConnection, wait: float = 120) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), wait))


def _send(ws: ClientConnection, **frame: Any) -> Any:
    return ws.send(json.dumps({"v": 1, **frame}))


def _provider(h: Harness) -> LocalProvider:
    provider = h.app.router.providers["local"]
    assert isinstance(provider, LocalProvider)
    return provider


async def test_chat_streams_chunks_then_done(harness: Harness) -> None:
    async with await _open(harness) as ws:
        await _send(ws, type="chat", id="q1", message="What does Circle.area return?")
        chunks: list[str] = []
        while True:
            frame = await _recv(ws)
            assert frame["id"] == "q1", frame
            if frame["type"] != "chunk":
                break
            chunks.append(frame["text"])
        assert frame["type"] == "done", frame
        assert len(chunks) >= 2, "the answer came in one piece: not streamed"
        assert frame["cancelled"] is False and frame["model"] == "local"
        assert frame["text"] and "".join(chunks).startswith(frame["text"][:20])
        assert frame["usage"]["promptTokens"] > 0
        # the index found the definition the question names
        assert any("area" in item["name"] for item in frame["context"]), frame["context"]


async def test_chat_about_a_workspace_file(harness: Harness) -> None:
    async with await _open(harness) as ws:
        await _send(ws, type="chat", id=7, message="What does this file define?", file="shapes.py")
        frame = await _recv(ws)
        while frame["type"] == "chunk":
            frame = await _recv(ws)
        assert frame["type"] == "done" and frame["text"].strip(), frame


async def test_cancel_stops_the_stream_and_a_second_cancel_is_an_error(harness: Harness) -> None:
    async with await _open(harness) as ws:
        await _send(ws, type="chat", id="long", message=LONG)
        first = await _recv(ws)
        assert first["type"] == "chunk", first
        await _send(ws, type="cancel", id="long")
        started = time.perf_counter()
        frame = await _recv(ws, 10)
        while frame["type"] == "chunk":
            frame = await _recv(ws, 10)
        assert frame == {**frame, "type": "done", "id": "long", "cancelled": True}
        assert time.perf_counter() - started < 5
        await _send(ws, type="cancel", id="long")
        again = await _recv(ws, 10)
        assert (again["type"], again["code"], again["id"]) == ("error", "not_running", "long")
        await _send(ws, type="ping", id="still-there")
        assert (await _recv(ws, 10))["type"] == "pong"
    await asyncio.wait_for(_provider(harness).wait_idle(), 10)


async def test_malformed_frames_get_error_frames_and_the_connection_keeps_serving(
    harness: Harness,
) -> None:
    max_bytes = harness.running.asgi.gateway.max_frame_bytes
    bad: list[tuple[str | bytes, str]] = [
        ("{oops", "bad_json"),
        ("[]", "bad_frame"),
        (b"\x00\x01binary", "bad_frame"),
        (json.dumps({"v": 9, "type": "ping", "id": 1}), "bad_version"),
        (json.dumps({"v": 1, "type": "shell", "id": 1}), "unknown_type"),
        (json.dumps({"v": 1, "type": "chat", "message": "no id"}), "bad_request"),
        (json.dumps({"v": 1, "type": "chat", "id": 2, "message": ""}), "bad_request"),
        (json.dumps({"v": 1, "type": "chat", "id": 3, "message": 5}), "bad_request"),
        (json.dumps({"v": 1, "type": "action", "id": 4, "action": "rm"}), "bad_request"),
        (json.dumps({"v": 1, "type": "complete", "id": 5, "text": "x"}), "bad_request"),
        (json.dumps({"v": 1, "type": "cancel", "id": "nothing"}), "not_running"),
        (json.dumps({"v": 1, "type": "ping", "id": 6, "pad": "x" * (max_bytes + 1)}), "too_large"),
    ]
    async with await _open(harness) as ws:
        for data, code in bad:
            await ws.send(data)
            frame = await _recv(ws, 10)
            assert (frame["type"], frame["code"]) == ("error", code), (data[:80], frame)
            assert frame["message"]
        await _send(ws, type="ping", id="ok")
        assert await _recv(ws, 10) == {"v": 1, "type": "pong", "id": "ok"}
        await _send(ws, type="chat", id="after", message="Say hello.")
        frame = await _recv(ws)
        while frame["type"] == "chunk":
            frame = await _recv(ws)
        assert frame["type"] == "done" and frame["id"] == "after"


async def test_a_client_that_leaves_mid_stream_stops_the_model(harness: Harness) -> None:
    provider = _provider(harness)
    ws = await _open(harness)
    await _send(ws, type="chat", id="gone", message=LONG)
    assert (await _recv(ws))["type"] == "chunk"
    assert harness.metric("quill_gateway_open_streams") == 1
    ws.transport.abort()  # no close frame: the client just vanished
    deadline = time.monotonic() + 10
    while harness.metric("quill_gateway_open_streams") and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    assert harness.metric("quill_gateway_open_streams") == 0
    await asyncio.wait_for(provider.wait_idle(), 10)
    generated = provider.tokens_generated
    await asyncio.sleep(0.5)
    assert provider.tokens_generated == generated, "the model kept generating"
    assert harness.metric("quill_gateway_ws_connections") == 0


async def test_sessions_are_isolated(harness: Harness) -> None:
    async with await _open(harness) as one, await _open(harness) as two:
        await _send(one, type="chat", id=1, message="My name is Ada. Say hi.")
        frame = await _recv(one)
        while frame["type"] == "chunk":
            frame = await _recv(one)
        session_one = frame["session"]
        await _send(two, type="chat", id=1, message="Say hi.")  # the same id on another line
        frame = await _recv(two)
        while frame["type"] == "chunk":
            frame = await _recv(two)
        assert frame["type"] == "done" and frame["session"] != session_one


async def test_completion_and_action_requests(harness: Harness) -> None:
    text = (harness.workspace / "shapes.py").read_text()
    async with await _open(harness) as ws:
        await _send(
            ws,
            type="complete",
            id="c",
            file="shapes.py",
            text=text + "\n\ndef perimeter(c: Circle) -> float:\n    return ",
            line=12,
            character=11,
        )
        done = await _recv(ws)
        assert done["type"] == "done", done
        assert isinstance(done["result"]["items"], list) and done["result"]["reason"]
        await _send(ws, type="action", id="a", action="explain", file="shapes.py", line=7)
        done = await _recv(ws)
        assert done["type"] == "done", done
        assert done["result"]["target"]["name"] == "area"
        assert done["result"]["markdown"].strip()
        await _send(ws, type="action", id="b", action="explain", text="x = 1\n", line=0)
        refused = await _recv(ws)
        assert (refused["type"], refused["code"]) == ("error", "no_target")


async def _answer(ws: ClientConnection) -> dict[str, Any]:
    frame = await _recv(ws)
    while frame["type"] == "chunk":
        frame = await _recv(ws)
    return frame


async def test_saved_sessions_are_listed_opened_and_continued_from_another_connection(
    harness: Harness,
) -> None:
    async with await _open(harness) as first:
        await _send(first, type="chat", id=1, message="Remember the word pelican. Say ok.")
        done = await _answer(first)
        assert done["type"] == "done", done
        saved = done["session"]
    async with await _open(harness) as later:
        await _send(later, type="sessions", id="s", limit=200)
        listed = await _recv(later)
        assert listed["type"] == "done", listed
        ours = [s for s in listed["result"] if s["id"] == saved]
        assert ours and ours[0]["messageCount"] == 2, listed["result"]
        assert "pelican" in ours[0]["title"].lower()

        await _send(later, type="history", id="h", session=saved)
        history = await _recv(later)
        assert history["type"] == "done", history
        assert history["result"]["session"]["id"] == saved
        roles = [m["role"] for m in history["result"]["messages"]]
        assert roles == ["user", "assistant"]
        assert "pelican" in history["result"]["messages"][0]["content"]
        assert "thinking" not in history["result"]["messages"][1]

        await _send(later, type="chat", id=2, message="Say ok again.", session=saved)
        done = await _answer(later)
        assert done["type"] == "done" and done["session"] == saved, done
        await _send(later, type="history", id="h2", session=saved, limit=1)
        last = await _recv(later)
        assert [m["role"] for m in last["result"]["messages"]] == ["assistant"]
        assert (await harness.app.chat.session(saved)).message_count == 4  # type: ignore[union-attr]


async def test_unknown_sessions_and_bad_history_requests_get_error_frames(
    harness: Harness,
) -> None:
    async with await _open(harness) as ws:
        await _send(ws, type="history", id=1, session="no-such-session")
        assert (await _recv(ws))["code"] == "unknown_session"
        await _send(ws, type="chat", id=2, message="hi", session="no-such-session")
        assert (await _recv(ws))["code"] == "unknown_session"
        await _send(ws, type="history", id=3)
        assert (await _recv(ws))["code"] == "bad_request"
        await _send(ws, type="sessions", id=4, limit=0)
        assert (await _recv(ws))["code"] == "bad_request"
        await _send(ws, type="ping", id=5)
        assert (await _recv(ws))["type"] == "pong"  # still serving
