"""The gateway's one door to chat: :func:`open_chat`, a turn of the app's chat service
(:mod:`quill.chat`: stored sessions, memory, context through the one prompt path), in the
shape the WebSocket handler streams; and :func:`with_context` for the stateless OpenAI facade.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from quill.app import Quill, SecretFileRefused
from quill.chat.turn import ChatTurn as ServiceTurn
from quill.gateway.codebase import ContextItem
from quill.gateway.workspace import display_name, read_workspace_file, workspace_rel
from quill.prompts import read_prompt
from quill.prompts.placeholders import fill_placeholders
from quill.safety.secrets import is_secret_file


@dataclass(frozen=True)
class ChatTurn:
    """One user message, optionally about a workspace file (its editor text when given)."""

    message: str
    file: str | None = None  # workspace-relative
    text: str | None = None  # the file's text; read from the workspace when None
    line: int | None = None  # 0-based line the question is about


@dataclass
class ChatSession:
    """One connection's conversation: a stored chat session once the first turn is asked."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    stored_id: str | None = None

    def remember(self, question: str, answer: str) -> None:
        """Nothing to do: the chat service stores every turn itself."""


def with_context(question: str, context: str) -> str:
    """``question`` preceded by the chat context section (template ``chat/context.md``)."""
    if not context.strip():
        return question
    section = fill_placeholders(read_prompt("chat/context.md"), {"context": context.rstrip()})
    return f"{section.rstrip()}\n\n{question}"


async def open_chat(app: Quill, session: ChatSession, turn: ChatTurn) -> ServiceChatStream:
    """Start streaming the answer to ``turn`` in ``session``, through the app's chat service
    (stored sessions, memory, context from mentions, the file and the index).

    Raises :class:`quill.gateway.workspace.PathRefused` for a file the gateway may not read
    and :class:`quill.models.errors.ModelError` (e.g. a secret file) before anything streams.
    """
    text = turn.text
    file = turn.file
    if file is not None and text is None:
        found = read_workspace_file(app, file)
        file, text = found.rel_path, found.text
    elif file is not None:
        # The client sent the text: a path outside the workspace only names it in the prompt.
        file = workspace_rel(app, file) or display_name(file)
    if file is not None and is_secret_file(file):
        raise SecretFileRefused(f"{file} holds secrets; it is never sent to a model")
    chat_turn = await app.chat.send(
        session.stored_id,
        turn.message,
        file=(file, text, turn.line) if text is not None else None,
    )
    session.stored_id = chat_turn.session_id
    session.id = chat_turn.session_id
    return ServiceChatStream(chat_turn)


class ServiceChatStream:
    """The chat service's turn in the shape the WebSocket handler streams."""

    def __init__(self, turn: ServiceTurn) -> None:
        self.turn = turn
        self._done = False

    @property
    def model(self) -> str | None:
        return self.turn.model

    @property
    def text(self) -> str:
        return self.turn.answer

    @property
    def prompt_tokens(self) -> int:
        return int(self.turn.prompt_tokens or 0)

    @property
    def context(self) -> list[ContextItem]:
        return [
            ContextItem(item.name, f"{item.source}: {item.path}", "")
            for item in self.turn.context_items
        ]

    async def __aiter__(self) -> AsyncGenerator[str, None]:
        async for piece in self.turn.stream():
            yield piece
        await self.turn.wait()  # raises the model's error, if any
        self._done = True

    async def aclose(self) -> None:
        if not self._done:
            self.turn.cancel()
        await self.turn.ended()
