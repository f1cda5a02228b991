"""The gateway's one door to chat: :func:`open_chat`.

Today it builds the turn as ``quill ask`` does (``app.ask_messages``: the one prompt path,
secrets redacted), adds codebase context (:mod:`quill.gateway.codebase`) and the connection's
earlier turns, and streams through the app's router with chat's options, like
:meth:`Quill.ask`. When the chat service (``quill.chat``: sessions, memory, context) lands,
only this module changes: :class:`ChatSession` becomes a handle on a stored session and
:func:`open_chat` calls the service; the WebSocket protocol and the page stay as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from quill.app import Quill
from quill.chat.repetition import stop_on_repetition
from quill.gateway.codebase import ContextItem, codebase_context, render_items
from quill.gateway.workspace import display_name, read_workspace_file, workspace_rel
from quill.models.base import ChatMessage, GenerationOptions
from quill.models.router import RoutedStream
from quill.prompts import read_prompt
from quill.prompts.placeholders import fill_placeholders

#: earlier turns a connection keeps (the chat service will replace this with its memory)
MAX_HISTORY_MESSAGES = 40


@dataclass(frozen=True)
class ChatTurn:
    """One user message, optionally about a workspace file (its editor text when given)."""

    message: str
    file: str | None = None  # workspace-relative
    text: str | None = None  # the file's text; read from the workspace when None
    line: int | None = None  # 0-based line the question is about


@dataclass
class ChatSession:
    """One connection's conversation, kept in memory for as long as the connection lives."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    history: list[ChatMessage] = field(default_factory=list)

    def remember(self, question: str, answer: str) -> None:
        if not answer.strip():
            return
        self.history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
        del self.history[:-MAX_HISTORY_MESSAGES]


class ChatStream:
    """An answer being streamed.

    Iterating gives the model's pieces as they arrive (token by token); :attr:`text` is the
    answer as kept, cut where :func:`quill.chat.repetition.stop_on_repetition` cuts a model
    that started repeating itself (that also stops the model). ``aclose()`` stops the model.
    """

    def __init__(self, stream: RoutedStream, context: list[ContextItem], prompt_tokens: int):
        self.stream = stream
        self.context = context
        self.prompt_tokens = prompt_tokens
        self._kept: list[str] = []
        self._live: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @property
    def model(self) -> str | None:
        return self.stream.model

    @property
    def text(self) -> str:
        return "".join(self._kept)

    async def _tap(self) -> AsyncGenerator[str, None]:
        try:
            async for piece in self.stream:
                self._live.put_nowait(("piece", piece))
                yield piece
        finally:
            await self.stream.aclose()

    async def _run(self) -> None:
        try:
            async for kept in stop_on_repetition(self._tap()):
                self._kept.append(kept)
        except Exception as exc:  # handed to the reader, which raises it
            self._live.put_nowait(("error", exc))
        finally:
            self._live.put_nowait(("end", None))

    async def __aiter__(self) -> AsyncGenerator[str, None]:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="chat-stream")
        while True:
            kind, value = await self._live.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value

    async def aclose(self) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        elif task is None:
            await self.stream.aclose()


def with_context(question: str, context: str) -> str:
    """``question`` preceded by the chat context section (template ``chat/context.md``)."""
    if not context.strip():
        return question
    section = fill_placeholders(read_prompt("chat/context.md"), {"context": context.rstrip()})
    return f"{section.rstrip()}\n\n{question}"


def _history_within(app: Quill, history: list[ChatMessage], budget: int) -> list[ChatMessage]:
    kept: list[ChatMessage] = []
    for message in reversed(history):
        cost = app.count_tokens(message["content"])
        if cost > budget:
            break
        budget -= cost
        kept.append(message)
    kept.reverse()
    if kept and kept[0]["role"] == "assistant":
        kept = kept[1:]  # never start with half a turn
    return kept


async def open_chat(app: Quill, session: ChatSession, turn: ChatTurn) -> ChatStream:
    """Start streaming the answer to ``turn`` in ``session``.

    Raises :class:`quill.gateway.workspace.PathRefused` for a file the gateway may not read
    and :class:`quill.models.errors.ModelError` (e.g. a secret file) before anything streams.
    """
    text = turn.text
    file = context_file = turn.file
    if file is not None and text is None:
        found = read_workspace_file(app, file)
        file = context_file = found.rel_path
        text = found.text
    elif file is not None:
        # The client sent the text: a path outside the workspace only names it in the prompt.
        context_file = workspace_rel(app, file)
        file = context_file or display_name(file)
    items = await codebase_context(app, turn.message, file=context_file, text=text, line=turn.line)
    context = render_items(items)
    if text is not None:
        messages = app.ask_messages(
            turn.message, file_path=file, file_text=text, line=turn.line, context=context
        )
    else:
        messages = app.ask_messages(with_context(turn.message, context))
    chat = app.settings.chat
    history = _history_within(app, session.history, chat.context_tokens // 2)
    messages = messages[:1] + history + messages[1:]
    options = GenerationOptions(
        max_tokens=chat.max_tokens, temperature=chat.temperature, priority="chat"
    )
    stream = app.router.stream_chat("chat", messages, options)
    prompt_tokens = sum(app.count_tokens(m["content"]) for m in messages)
    return ChatStream(stream, items, prompt_tokens)
