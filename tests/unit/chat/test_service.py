"""ChatService without a working model: sessions, trimming and the extractive summary, the
"no thinking" switch, a reasoning model's thinking kept out of the answer, export."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from pathlib import Path

import pytest

from quill.chat.records import Role, StoredMessage
from quill.chat.service import ChatService, UnknownSession
from quill.chat.store import ChatStore
from quill.chat.summary import model_summary
from quill.config import ChatSettings, ModelSettings, RouteSettings, Settings
from quill.index.service import WorkspaceIndex
from quill.models.base import ChatMessage, GenerationOptions, ModelHealth, ModelProvider
from quill.models.errors import ModelError
from quill.models.router import ModelRouter
from quill.models.tokens import estimate_tokens

#: nothing listens on the discard port: a real connection failure, at once
DEAD_URL = "http://127.0.0.1:9/v1"


def _dead_router(model: str = "some-model") -> ModelRouter:
    settings = Settings(
        models={
            "dead": ModelSettings(provider="openai", base_url=DEAD_URL, model=model, max_retries=0)
        },
        routes=RouteSettings(chat=["dead"]),
    )
    return ModelRouter(settings)


def _service(
    router: ModelRouter,
    path: Path,
    chat: ChatSettings | None = None,
    index: WorkspaceIndex | None = None,
) -> ChatService:
    settings = chat or ChatSettings()
    return ChatService(lambda: router, lambda: settings, None, ChatStore(path), lambda: index)


async def test_a_failed_model_keeps_the_question_and_reports_the_error(tmp_path: Path) -> None:
    router = _dead_router()
    chat = _service(router, tmp_path / "chat.db")
    turn = await chat.send(None, "What is WAL mode?\nmore detail")
    with pytest.raises(ModelError):
        async for _ in turn.stream():
            pass
    assert turn.error is not None and turn.message is None
    sessions = await chat.sessions()
    assert [s.title for s in sessions] == ["What is WAL mode?"]
    history = await chat.history(turn.session_id)
    assert [(m.role, m.content) for m in history] == [("user", "What is WAL mode?\nmore detail")]
    with pytest.raises(UnknownSession):
        await chat.send("no-such-session", "hi")
    await chat.aclose()
    await router.aclose()


async def test_trimming_keeps_pinned_and_keyword_messages_and_folds_a_summary(
    tmp_path: Path,
) -> None:
    router = _dead_router()
    settings = ChatSettings(history_tokens=400, summary_tokens=200, keep_keywords=["DECISION"])
    chat = _service(router, tmp_path / "chat.db", settings)
    store = chat.store
    session = store.create_session("long")
    filler = " and some more words to make this message cost tokens" * 2
    ids: list[int] = []
    for i in range(20):
        role: Role = "user" if i % 2 == 0 else "assistant"
        ids.append(
            store.add_message(session.id, role, f"Turn {i} talks about topic{i}.{filler}").id
        )
    store.set_pinned(ids[1], True)
    store.add_message(session.id, "user", "decision: the port is 8123.")  # a keyword, any case
    store.add_message(session.id, "assistant", "Noted.")

    turn = await chat.send(session.id, "What did we decide?")
    history = "\n".join(m["content"] for m in turn.messages[1:-1])
    assert "Turn 1 talks" in history  # pinned
    assert "decision: the port is 8123." in history  # keyword
    assert "Turn 19 talks" in history  # the newest
    assert "Turn 0 talks" not in history and "Turn 2 talks" not in history  # trimmed
    saved = await chat.session(session.id)
    assert saved is not None and ids[2] <= saved.summary_upto < ids[19]
    last = ids.index(saved.summary_upto)
    line = f"- {'user' if last % 2 == 0 else 'assistant'}: Turn {last} talks about topic{last}."
    assert saved.summary.splitlines()[-1] == line  # folded extractively
    assert line in turn.messages[0]["content"]  # the summary is sent
    assert all(f"Turn {k} talks" not in history for k in range(last + 1) if k != 1)

    await turn.ended()
    await chat.drain()  # the model summary fails: the extractive one stays
    after = await chat.session(session.id)
    assert after is not None and after.summary == saved.summary

    again = await chat.send(session.id, "And the port?")  # folded turns are not reloaded
    assert "Turn 1 talks" in "\n".join(m["content"] for m in again.messages)
    await chat.aclose()
    await router.aclose()


async def test_secrets_in_the_question_and_history_are_redacted(tmp_path: Path) -> None:
    router = _dead_router()
    chat = _service(router, tmp_path / "chat.db")
    key = "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB"
    first = await chat.send(None, f'my token = "{key}" fails')
    await first.ended()
    second = await chat.send(first.session_id, "why?")
    assert all(key not in m["content"] for m in first.messages + second.messages)
    assert first.redacted >= 1 and second.redacted >= 1
    stored = await chat.history(first.session_id)
    assert key in stored[0].content  # the user's own record keeps what they wrote
    await chat.aclose()
    await router.aclose()


async def test_the_no_thinking_switch(tmp_path: Path) -> None:
    router = _dead_router("Qwen3-8B")
    chat = _service(router, tmp_path / "chat.db", ChatSettings(thinking=False))
    turn = await chat.send(None, "hi")
    assert turn.messages[-1]["content"].endswith("hi /no_think")
    assert turn.options.thinking is False  # also sent as the server's template switch
    thinking = _service(router, tmp_path / "chat2.db", ChatSettings(thinking=True))
    default = await thinking.send(None, "hi")
    assert default.messages[-1]["content"] == "hi" and default.options.thinking is None
    for service in (chat, thinking):
        await service.aclose()
    await router.aclose()


async def test_context_from_the_workspace_is_listed(
    tmp_path: Path, workspace: Path, index: WorkspaceIndex
) -> None:
    router = _dead_router()
    chat = _service(router, tmp_path / "chat.db", index=index)
    turn = await chat.send(
        None,
        "Explain @pkg/geometry.py and @load_settings; not @.env",
        file=("pkg/geometry.py", "x = 1\n", 0),
        selection="x = 1",
    )
    assert [i.source for i in turn.context_items][:3] == ["selection", "file", "symbol"]
    assert any("holds secrets" in note for note in turn.notes)
    await turn.ended()
    await chat.aclose()
    await router.aclose()


class _Scripted(ModelProvider):
    """A reasoning model's output, piece by piece (the embedded model does not think)."""

    def __init__(self, pieces: Sequence[str]) -> None:
        super().__init__("thinker")
        self.pieces = list(pieces)
        self.prompts: list[list[ChatMessage]] = []

    @property
    def provider(self) -> str:
        return "scripted"

    async def _gen(self) -> AsyncGenerator[str, None]:
        for piece in self.pieces:
            yield piece

    def stream_chat(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncGenerator[str, None]:
        self.prompts.append(list(messages))
        return self._gen()

    def stream_completion(
        self, prompt: str, options: GenerationOptions, *, suffix: str | None = None
    ) -> AsyncGenerator[str, None]:
        return self._gen()

    async def probe(self, *, generate: bool = False) -> ModelHealth:
        return ModelHealth(self.name, self.provider, True, True)


async def _all(pieces: AsyncIterator[str]) -> str:
    return "".join([p async for p in pieces])


async def test_think_blocks_are_hidden_stored_and_exported_on_request(tmp_path: Path) -> None:
    pieces = ["<th", "ink>The user", " greets.</thi", "nk>\n\nHel", "lo!"]
    settings = Settings(routes=RouteSettings(chat=["local"]))
    router = ModelRouter(settings, providers={"local": _Scripted(pieces)})
    chat = _service(router, tmp_path / "chat.db")
    turn = await chat.send(None, "hi")
    seen = []
    async for piece in turn.pieces():
        seen.append(piece)
    assert "".join(p.text for p in seen if p.kind == "answer") == "Hello!"
    assert "".join(p.text for p in seen if p.kind == "thinking").strip() == "The user greets."
    message = turn.message
    assert isinstance(message, StoredMessage)
    assert (message.content, message.thinking, message.stopped) == (
        "Hello!",
        "The user greets.",
        False,
    )

    second = await chat.send(turn.session_id, "again")
    assert await _all(second.stream()) == "Hello!"
    assert all("greets" not in m["content"] for m in second.messages)  # thinking is not resent

    markdown = await chat.export(turn.session_id)
    assert "Hello!" in markdown and "greets" not in markdown
    shown = await chat.export(turn.session_id, thinking=True)
    assert "<details><summary>Thinking</summary>" in shown and "The user greets." in shown
    data = json.loads(await chat.export(turn.session_id, "json", thinking=True))
    assert data["version"] == 1 and data["session"]["messageCount"] == 4
    assert [m["role"] for m in data["messages"]] == ["user", "assistant", "user", "assistant"]
    assert data["messages"][1]["thinking"] == "The user greets."
    assert "thinking" not in json.loads(await chat.export(turn.session_id, "json"))["messages"][1]
    with pytest.raises(UnknownSession):
        await chat.export("nope")
    await chat.aclose()


async def test_rename_pin_delete(tmp_path: Path) -> None:
    router = ModelRouter(Settings(), providers={"local": _Scripted(["ok"])})
    chat = _service(router, tmp_path / "chat.db")
    turn = await chat.send(None, "first question")
    await turn.wait()
    assert await chat.rename(turn.session_id, "  Renamed   chat ")
    assert (await chat.session(turn.session_id)).title == "Renamed chat"  # type: ignore[union-attr]
    assert await chat.pin(turn.question.id)
    assert (await chat.history(turn.session_id))[0].pinned
    assert await chat.pin(turn.question.id, False)
    assert not (await chat.history(turn.session_id))[0].pinned
    assert await chat.delete(turn.session_id)
    assert await chat.sessions() == [] and await chat.history(turn.session_id) == []
    assert not await chat.delete(turn.session_id)
    await chat.aclose()


async def test_pieces_stream_as_they_come_and_a_loop_is_cut_from_the_answer(
    tmp_path: Path,
) -> None:
    line = "The function returns the area of the rectangle it is given.\n"
    pieces = ["Fi", "rst", " line of the answer, long enough.\n", *([line[:20], line[20:]] * 4)]
    router = ModelRouter(Settings(), providers={"local": _Scripted(pieces)})
    chat = _service(router, tmp_path / "chat.db")
    turn = await chat.send(None, "area?")
    streamed = [piece async for piece in turn.stream()]
    assert streamed[:3] == ["Fi", "rst", " line of the answer, long enough.\n"]  # not per line
    message = turn.message
    assert message is not None and not message.stopped
    assert message.content == "First line of the answer, long enough.\n" + line.strip()
    assert turn.answer == "First line of the answer, long enough.\n" + line
    await chat.aclose()


async def test_the_prompt_fits_the_models_context_window(
    tmp_path: Path, index: WorkspaceIndex
) -> None:
    model = _Scripted(["ok"])
    settings = Settings(models={"local": ModelSettings(context_size=512)})
    router = ModelRouter(settings, providers={"local": model})
    chat = _service(router, tmp_path / "chat.db", ChatSettings(max_tokens=128), index)
    store = chat.store
    session = store.create_session("s")
    for i in range(30):
        store.add_message(session.id, "user" if i % 2 == 0 else "assistant", f"turn {i} " * 30)
    turn = await chat.send(session.id, "Explain @big.py and @pkg/geometry.py and area()")
    assert turn.prompt_tokens + 128 <= 512
    assert turn.context_items and turn.context_items[0].path == "big.py"
    await turn.wait()
    with pytest.raises(ValueError):
        await chat.send(session.id, "   ")
    await chat.aclose()


async def test_a_large_fold_sends_the_model_only_what_fits(tmp_path: Path) -> None:
    model = _Scripted(["A short summary."])
    router = ModelRouter(Settings(), providers={"local": model})
    folded = [
        StoredMessage(
            i, "s", "user" if i % 2 else "assistant", f"Point {i}. " + "detail " * 20, 0.0
        )
        for i in range(1, 201)
    ]
    text = await model_summary(router, "- user: at first", folded, 64, estimate_tokens, room=300)
    assert text == "A short summary."
    prompt = model.prompts[-1][-1]["content"]
    assert estimate_tokens(prompt) < 300 + 64 + 200
    assert "Point 200." in prompt and "user: Point 1. detail" not in prompt
    assert "Summary so far:" in prompt  # the older turns, folded extractively
