"""Codebase context for a question: what the gateway adds to chat and the context provider.

With a file (and its text), the app's context assembler picks the definitions the code around
the line uses (:meth:`Quill.question_context`). From the question alone, the index gives the
definitions it names and the repo map ranked for those names. Every item is read through
:mod:`quill.gateway.workspace` (confined, no secret files) and redacted, within a token budget.

When the chat service (``quill.chat``) lands with its own context assembly, chat should use
that; this module then only serves the Continue context provider.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from quill.app import Quill
from quill.gateway.workspace import PathRefused, read_workspace_file
from quill.index.records import Definition
from quill.index.service import WorkspaceIndex
from quill.safety.secrets import redact

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
MAX_IDENTS = 16
MAX_DEFINITIONS = 6
MAX_DEFINITION_LINES = 60


@dataclass(frozen=True)
class ContextItem:
    """One piece of context, in the shape Continue's ``http`` provider expects."""

    name: str
    description: str
    content: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "description": self.description, "content": self.content}


def identifiers(text: str, limit: int = MAX_IDENTS) -> list[str]:
    """Names in ``text`` that may be code identifiers, first occurrence first."""
    seen: dict[str, None] = {}
    for match in _IDENT.finditer(text):
        seen.setdefault(match.group(0), None)
        if len(seen) >= limit:
            break
    return list(seen)


def _definitions(index: WorkspaceIndex, names: list[str]) -> list[Definition]:
    found: list[Definition] = []
    for name in names:
        found.extend(index.definitions(name)[:2])
        if len(found) >= MAX_DEFINITIONS:
            break
    return found[:MAX_DEFINITIONS]


def _definition_code(app: Quill, definition: Definition) -> str | None:
    try:
        file = read_workspace_file(app, definition.path)
    except PathRefused:
        return None
    start, end = definition.extent[0], definition.extent[2]
    lines = file.text.split("\n")[start : min(end + 1, start + MAX_DEFINITION_LINES)]
    return "\n".join(lines).rstrip() + "\n" if lines else None


async def codebase_context(
    app: Quill,
    query: str,
    *,
    file: str | None = None,
    text: str | None = None,
    line: int | None = None,
    budget: int | None = None,
) -> list[ContextItem]:
    """Context items for ``query`` (about ``file`` at ``line`` when given), within ``budget``
    tokens (default: half of the chat context budget)."""
    if budget is None:
        budget = app.settings.chat.context_tokens // 2
    items: list[ContextItem] = []
    left = budget

    def add(item: ContextItem) -> bool:
        nonlocal left
        # every item passes here: the repo map shows module-level values, which may be keys
        item = ContextItem(redact(item.name), redact(item.description), redact(item.content))
        cost = app.count_tokens(item.content)
        if cost > left:
            return False
        left -= cost
        items.append(item)
        return True

    if file and text is not None:
        rendered = await app.question_context(file, text, line, budget // 2)
        if rendered.strip():
            add(ContextItem(f"{file}: used definitions", "Definitions this code uses", rendered))
    index = app.index
    if index is None:
        return items
    names = identifiers(query)
    if names:
        definitions = await app.index_call(_definitions, index, names)
        for d in definitions:
            if file and d.path == file:
                continue
            code = await app.index_call(_definition_code, app, d)
            if code:
                where = f"{d.path}:{d.start_line + 1}"
                described = d.signature or f"{d.kind} {d.qualified_name}"
                add(ContextItem(f"{d.qualified_name} ({where})", described, redact(code)))
    if left > 64:
        focus = [index.root / file] if file else []
        repo_map = await app.index_call(
            lambda: index.repo_map(
                budget_tokens=left,
                focus_files=focus,
                mentioned_idents=names,
                count_tokens=app.count_tokens,
            )
        )
        if repo_map.text.strip():
            add(ContextItem("repo map", "The workspace's most relevant definitions", repo_map.text))
    return items


def render_items(items: list[ContextItem]) -> str:
    """Items as one text block for a prompt (the template around it comes from prompts/)."""
    return "".join(f"# {item.name}\n{item.content.rstrip()}\n\n" for item in items).rstrip()
