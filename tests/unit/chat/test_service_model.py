"""ChatService with the real embedded model: answers streamed and stored with their context,
memory across a new service, cancellation keeping the partial answer, the model's summary,
and a kill -9 in the middle of an answer."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from quill.chat.records import Role
from quill.chat.service import ChatService
from quill.chat.store import ChatStore
from quill.config import ChatSettings, Settings
from quill.index.service import WorkspaceIndex
from quill.models.router import ModelRouter
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.model

COUNT = "Count from 1 to 300, one number per line, nothing else."


@pytest.fixture
async def router(gguf_path: Path) -> AsyncIterator[ModelRouter]:
    router = ModelRouter(Settings())
    yield router
    await router.aclose()


def _service(
    router: ModelRouter, path: Path, chat: ChatSettings, index: WorkspaceIndex | None = None
) -> ChatService:
    return ChatService(lambda: router, lambda: chat, None, ChatStore(path), lambda: index)


async def test_an_answer_is_streamed_stored_and_remembered(
    router: ModelRouter, tmp_path: Path, index: WorkspaceIndex
) -> None:
    settings = ChatSettings(max_tokens=48)
    path = tmp_path / "chat.db"
    chat = _service(router, path, settings, index)
    turn = await chat.send(None, "What does @area in @pkg/geometry.py return?")
    pieces = [piece async for piece in turn.stream()]
    assert pieces and "".join(pieces).strip()
    message = turn.message
    assert message is not None and message.role == "assistant"
    assert message.content == "".join(pieces).strip()
    assert message.model == "local" and not message.stopped
    assert message.tokens > 0 and message.prompt_tokens and message.prompt_tokens > 20
    assert (message.context[0].source, message.context[0].path) == ("file", "pkg/geometry.py")
    assert all(i.source != "symbol" for i in message.context)  # area is in the file shown
    session_id = turn.session_id
    await chat.aclose()

    again = _service(router, path, settings, index)  # a restart: a new service, same database
    sessions = await again.sessions()
    assert [s.id for s in sessions] == [session_id] and sessions[0].model == "local"
    history = await again.history(session_id)
    assert [m.role for m in history] == ["user", "assistant"]
    assert history[1] == message
    follow = await again.send(session_id, "And for a square of side 2?")
    assert [m["role"] for m in follow.messages] == ["system", "user", "assistant", "user"]
    assert follow.messages[2]["content"] == message.content
    await follow.wait()
    assert len(await again.history(session_id)) == 4
    await again.aclose()


async def test_cancel_keeps_the_partial_answer(router: ModelRouter, tmp_path: Path) -> None:
    chat = _service(router, tmp_path / "chat.db", ChatSettings(max_tokens=400))
    turn = await chat.send(None, COUNT)
    streamed: list[str] = []
    async for piece in turn.stream():
        streamed.append(piece)
        if len(streamed) == 3:
            assert turn.cancel()
            assert not turn.cancel()  # a second cancel does nothing
    assert len(streamed) >= 3  # pieces already made when it stopped still arrive
    message = turn.message
    assert message is not None and message.stopped
    assert message.content == "".join(streamed).strip()
    assert (await chat.history(turn.session_id))[-1] == message

    early = await chat.send(turn.session_id, COUNT)  # stopped before the first token
    early.start()
    await asyncio.sleep(0)
    assert early.cancel()
    stored = await early.wait()
    assert stored is not None and stored.stopped and stored.content == ""
    await chat.aclose()


async def test_a_reader_that_goes_away_stops_the_answer(
    router: ModelRouter, tmp_path: Path
) -> None:
    chat = _service(router, tmp_path / "chat.db", ChatSettings(max_tokens=400))
    turn = await chat.send(None, COUNT)
    stream = turn.stream()
    first = await anext(stream)
    await stream.aclose()  # e.g. the client disconnected
    await turn.ended()
    assert turn.stopped and turn.message is not None
    assert turn.message.content.startswith(first.strip())
    await chat.aclose()


async def test_the_model_rewrites_the_summary_in_the_background(
    router: ModelRouter, tmp_path: Path
) -> None:
    settings = ChatSettings(max_tokens=16, history_tokens=200, summary_tokens=48)
    chat = _service(router, tmp_path / "chat.db", settings)
    store = chat.store
    session = store.create_session("long")
    for i in range(12):
        role: Role = "user" if i % 2 == 0 else "assistant"
        text = f"Step {i}: we configure the cache of service number {i} with a TTL of {i} minutes."
        store.add_message(session.id, role, text)
    turn = await chat.send(session.id, "Which TTL did service 11 get?")
    folded = await chat.session(session.id)
    assert folded is not None and folded.summary.startswith("- ")  # extractive first
    assert "Step" in folded.summary and folded.summary_upto > 0
    await turn.wait()
    await chat.drain()
    rewritten = await chat.session(session.id)
    assert rewritten is not None and rewritten.summary_upto == folded.summary_upto
    assert rewritten.summary.strip() and rewritten.summary != folded.summary
    await chat.aclose()


_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from quill.chat.service import ChatService
    from quill.chat.store import ChatStore
    from quill.config import ChatSettings, Settings
    from quill.models.router import ModelRouter

    async def main():
        router = ModelRouter(Settings())
        settings = ChatSettings(max_tokens=600)
        chat = ChatService(lambda: router, lambda: settings, None, ChatStore(sys.argv[1]),
                           lambda: None)
        first = await chat.send(None, "Say hello.")
        await first.wait()
        print("answered", first.session_id, flush=True)
        second = await chat.send(first.session_id, sys.argv[2])
        async for piece in second.stream():
            print("streaming", flush=True)
            await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


def test_kill_9_mid_stream_loses_only_the_answer_being_streamed(
    gguf_path: Path, tmp_path: Path
) -> None:
    path = tmp_path / "chat.db"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "server"))
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path), COUNT],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    try:
        kind, session_id = proc.stdout.readline().split()
        assert kind == "answered"
        assert proc.stdout.readline().strip() == "streaming"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    store = ChatStore(path)
    messages = store.messages(session_id)
    assert [m.role for m in messages] == ["user", "assistant", "user"]
    assert messages[0].content == "Say hello." and messages[1].content
    assert messages[2].content == COUNT
    session = store.session(session_id)
    assert session is not None and session.message_count == 3
    store.close()
