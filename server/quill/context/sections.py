"""The vocabulary of context: what a source is asked, and what it answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ContextSection:
    """A piece of context for the model: where it comes from, its text, how much it matters.

    ``source`` is a free label such as ``"repo_map"``, ``"definition"`` or
    ``"recent_edit"``; a higher ``priority`` is kept first.
    """

    source: str
    text: str
    priority: float = 0.0
    truncated: bool = False
    #: what the section is made of, for ``quill.lastPrompt``: {source, path, name, tokens}
    items: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ContextQuery:
    """What a context source gets to decide what the model should see."""

    uri: str
    path: str | None  # workspace-relative
    language: str | None
    text: str
    line: int
    prefix: str
    budget_tokens: int
    #: the model's token counter; the budget is measured with it
    count_tokens: Callable[[str], int] | None = None


ContextSource = Callable[[ContextQuery], Sequence[ContextSection]]
