"""Which earlier turns go with a new question, and what is remembered of the rest.

The history sent to the model is trimmed to a token budget oldest-first, except *protected*
messages (pinned, or containing one of the configured keywords), which are never trimmed.
Trimmed turns are folded into a running summary: made by the model in the background, and at
once (or when the model fails) extractively, from the first sentence of each message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from quill.chat.records import StoredMessage
from quill.models.base import ChatMessage

__all__ = [
    "MESSAGE_OVERHEAD_TOKENS",
    "Trimmed",
    "extractive_summary",
    "gist",
    "history_messages",
    "is_protected",
    "matches_keyword",
    "message_cost",
    "title_from",
    "trim_history",
]

CountTokens = Callable[[str], int]

#: what a chat template adds around each message (role markers), in tokens
MESSAGE_OVERHEAD_TOKENS = 4
#: longest gist of one message in an extractive summary, in characters
GIST_CHARS = 200
TITLE_CHARS = 60

_CODE_BLOCK = re.compile(r"```.*?(```|$)", re.DOTALL)
_SENTENCE = re.compile(r"(.+?[.!?])(\s|$)")


def title_from(text: str, limit: int = TITLE_CHARS) -> str:
    """A session title from its first message: the first non-empty line, cut at a word."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    if not line:
        return "New chat"
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] if " " in line[:limit] else line[:limit]
    return cut.rstrip(" ,.;:") + "…"


def matches_keyword(text: str, keywords: Sequence[str]) -> bool:
    """True when ``text`` contains one of ``keywords`` (case-insensitive)."""
    folded = text.casefold()
    return any(k.strip() and k.strip().casefold() in folded for k in keywords)


def is_protected(message: StoredMessage, keywords: Sequence[str]) -> bool:
    """Pinned messages and messages matching a keyword are never trimmed."""
    return message.pinned or matches_keyword(message.content, keywords)


def message_cost(message: StoredMessage, count: CountTokens) -> int:
    return count(message.content) + MESSAGE_OVERHEAD_TOKENS


@dataclass
class Trimmed:
    """The history that fits (in order) and the unprotected messages trimmed from it."""

    kept: list[StoredMessage] = field(default_factory=list)
    trimmed: list[StoredMessage] = field(default_factory=list)
    tokens: int = 0


def trim_history(
    messages: Sequence[StoredMessage],
    budget: int,
    count: CountTokens,
    keywords: Sequence[str] = (),
) -> Trimmed:
    """Drop unprotected messages, oldest first, until the rest costs at most ``budget``.

    Protected messages stay even when they alone exceed the budget. An answer whose question
    was dropped is dropped with it, so the history never starts with a lone answer.
    """
    ordered = sorted(messages, key=lambda m: m.id)
    costs = [message_cost(m, count) for m in ordered]
    total = sum(costs)
    dropped: set[int] = set()
    for index, message in enumerate(ordered):
        if total <= budget:
            break
        if is_protected(message, keywords):
            continue
        dropped.add(index)
        total -= costs[index]
    # an unprotected answer right after a dropped question goes too
    for index, message in enumerate(ordered):
        if (
            index not in dropped
            and message.role == "assistant"
            and index > 0
            and (index - 1) in dropped
            and not is_protected(message, keywords)
        ):
            dropped.add(index)
            total -= costs[index]
    kept = [m for i, m in enumerate(ordered) if i not in dropped]
    trimmed = [m for i, m in enumerate(ordered) if i in dropped]
    return Trimmed(kept, trimmed, total)


def history_messages(messages: Sequence[StoredMessage]) -> list[ChatMessage]:
    """Stored messages as chat messages for the model (without their thinking)."""
    return [{"role": m.role, "content": m.content} for m in messages if m.content.strip()]


def gist(text: str, limit: int = GIST_CHARS) -> str:
    """The first sentence of ``text`` (code blocks left out), at most ``limit`` characters."""
    prose = _CODE_BLOCK.sub(" [code] ", text)
    flat = " ".join(prose.split())
    if not flat:
        return ""
    found = _SENTENCE.match(flat)
    first = found.group(1) if found else flat
    if len(first) > limit:
        first = first[: limit - 1].rsplit(" ", 1)[0] + "…"
    return first


def extractive_summary(
    previous: str,
    trimmed: Sequence[StoredMessage],
    budget: int,
    count: CountTokens,
) -> str:
    """``previous`` with one line per trimmed message added; the oldest lines go first when
    the summary outgrows ``budget`` tokens."""
    old = [ln for ln in previous.splitlines() if ln.strip()]
    kept: list[str] = []  # newest first
    spent = 0
    for source in (reversed(trimmed), reversed(old)):
        for item in source:
            if isinstance(item, StoredMessage):
                text = gist(item.content)
                line = f"- {item.role}: {text}" if text else ""
            else:
                line = item
            if not line:
                continue
            spent += count(line) + 1
            if spent > budget and kept:
                return "\n".join(reversed(kept))
            kept.append(line)
    return "\n".join(reversed(kept))
