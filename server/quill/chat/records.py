"""What a chat is made of, as plain values: sessions, messages and the context items an answer
used. The store (:mod:`quill.chat.store`) reads and writes them; front doors turn them into
JSON with ``to_json`` (camelCase keys, like the settings)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ChatSession", "ContextItem", "Role", "StoredMessage"]

Role = Literal["user", "assistant"]


@dataclass(frozen=True, slots=True)
class ContextItem:
    """One piece of context sent with a question: where it came from (``source``: ``file``,
    ``symbol``, ``selection``, ``current``, ``related``, ``search`` or ``map``), its
    workspace-relative path and the name shown for it (a symbol, a line range)."""

    source: str
    path: str
    name: str

    def to_json(self) -> dict[str, str]:
        return {"source": self.source, "path": self.path, "name": self.name}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContextItem:
        return cls(
            str(data.get("source", "")), str(data.get("path", "")), str(data.get("name", ""))
        )


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One message of a session as stored.

    ``tokens`` counts ``content``; ``prompt_tokens`` (answers only) counts the whole prompt the
    answer was given for. ``stopped`` marks an answer cut short (cancelled, or the model
    failed part way). ``thinking`` is a reasoning model's hidden ``<think>`` text.
    """

    id: int
    session_id: str
    role: Role
    content: str
    created: float
    model: str | None = None
    tokens: int = 0
    prompt_tokens: int | None = None
    pinned: bool = False
    stopped: bool = False
    thinking: str = ""
    context: tuple[ContextItem, ...] = ()

    def to_json(self, *, thinking: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "sessionId": self.session_id,
            "role": self.role,
            "content": self.content,
            "created": self.created,
            "model": self.model,
            "tokens": self.tokens,
            "promptTokens": self.prompt_tokens,
            "pinned": self.pinned,
            "stopped": self.stopped,
            "context": [item.to_json() for item in self.context],
        }
        if thinking:
            out["thinking"] = self.thinking
        return out


@dataclass(frozen=True, slots=True)
class ChatSession:
    """One conversation. ``summary`` folds the turns trimmed from the history, up to and
    including message ``summary_upto`` (0: nothing folded yet)."""

    id: str
    title: str
    created: float
    updated: float
    model: str | None = None
    message_count: int = 0
    summary: str = ""
    summary_upto: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "created": self.created,
            "updated": self.updated,
            "model": self.model,
            "messageCount": self.message_count,
            "summary": self.summary,
        }
