"""The context of one chat question, gathered within a token budget.

In order of precedence: the user's selection, the files and symbols the message mentions
(``@path``, ``@symbol``), the current file around the cursor, the definitions that code uses
(the app's context assembler, added by the service), the index's best matches for the names
in the question, and the repo map. Each piece is redacted, counted with the model's token
counter and cut to what is left of the budget; every piece sent is listed as a
:class:`~quill.chat.records.ContextItem`.

Everything here is synchronous and may block (the index, the disk): run it off the loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from quill.chat.mentions import (
    FileRefused,
    confine,
    find_mentions,
    identifiers,
    plain_words,
    read_workspace_file,
)
from quill.chat.records import ContextItem
from quill.context.budget import file_window
from quill.context.prompt import language_name
from quill.index.records import Definition
from quill.index.service import WorkspaceIndex
from quill.safety.secrets import is_secret_file, redact_with_count

__all__ = ["ContextGatherer", "GatheredContext"]

log = logging.getLogger(__name__)

CountTokens = Callable[[str], int]
ReadText = Callable[[str], "str | None"]

#: a block is not worth sending with fewer tokens than this left for its text
MIN_BLOCK_TOKENS = 48
#: what the block's header and code fence cost besides its text
BLOCK_OVERHEAD_TOKENS = 12
#: longest definition shown for a symbol, in lines
MAX_DEFINITION_LINES = 80
#: definitions shown for one mentioned symbol
MAX_DEFINITIONS_PER_SYMBOL = 3


@dataclass
class GatheredContext:
    """What was gathered: blocks for :func:`quill.context.prompt.chat_messages`, the items
    they stand for, notes for the user (mentions refused), tokens spent, secrets redacted."""

    blocks: list[dict[str, str]] = field(default_factory=list)
    items: list[ContextItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tokens: int = 0
    redacted: int = 0


class ContextGatherer:
    def __init__(
        self,
        *,
        root: Path | None,
        index: WorkspaceIndex | None,
        count: CountTokens,
        budget: int,
        read_text: ReadText | None = None,
    ) -> None:
        self.root = root
        self.index = index
        self.count = count
        self.budget = max(0, budget)
        self.read_text = read_text
        self.result = GatheredContext()
        self._texts: dict[str, str] = {}
        self._whole_files: set[str] = set()
        self._definitions: set[tuple[str, int]] = set()

    @property
    def remaining(self) -> int:
        return self.budget - self.result.tokens

    # ------------------------------------------------------------ pieces

    def add(
        self,
        source: str,
        path: str,
        name: str,
        text: str,
        *,
        line: int | None = None,
        cap: int | None = None,
    ) -> bool:
        """Add one block (redacted, cut around ``line`` to fit, at most ``cap`` tokens)."""
        text, found = redact_with_count(text.rstrip("\n"))
        room = self.remaining if cap is None else min(cap, self.remaining)
        room -= BLOCK_OVERHEAD_TOKENS + self.count(path + name)
        if not text.strip() or room < MIN_BLOCK_TOKENS:
            return False
        text = file_window(text, line, room, self.count).rstrip("\n")
        cost = self.count(text) + BLOCK_OVERHEAD_TOKENS + self.count(path + name)
        self.result.blocks.append(
            {"path": path, "name": name, "language": language_name(path), "text": text}
        )
        self.result.items.append(ContextItem(source, path, name))
        self.result.tokens += cost
        self.result.redacted += found
        return True

    def add_selection(self, selection: str | None, path: str | None) -> None:
        """The user's selection (from ``path``: a secret file's selection is not sent)."""
        if not selection or not selection.strip():
            return
        if is_secret_file(path):
            self.result.notes.append(f"`{path}` holds secrets; it is never sent to a model")
            return
        self.add("selection", path or "untitled", "selection", selection)

    def add_mentions(self, message: str) -> None:
        """The files, then the symbols, that ``message`` mentions with ``@`` (a symbol of a
        file already shown whole is not repeated)."""
        mentions = find_mentions(message)
        files = [m for m in mentions if m.path_like or self._is_file(m.text)]
        for mention in files + [m for m in mentions if m not in files]:
            if self.remaining < MIN_BLOCK_TOKENS + BLOCK_OVERHEAD_TOKENS:
                self.result.notes.append(f"`@{mention.text}` left out: the context is full")
            elif mention in files:
                self._add_file(mention.text)
            elif not self._add_symbol(mention.text, source="symbol"):
                self.result.notes.append(f"`@{mention.text}` names no file or symbol")

    def add_current(self, path: str | None, text: str, line: int | None) -> None:
        """The current file around ``line`` (at most half of what is left)."""
        name = path or "untitled"
        if is_secret_file(name):
            note = f"`{name}` holds secrets; it is never sent to a model"
            if note not in self.result.notes:
                self.result.notes.append(note)
            return
        if name in self._whole_files:
            return
        label = f"around line {line + 1}" if line is not None else "current file"
        self._texts.setdefault(name, text)
        self.add("current", name, label, text, line=line, cap=max(self.remaining // 2, 256))

    def add_search(self, message: str, limit: int) -> None:
        """Definitions of the names the question uses (exact, then fuzzy), best first."""
        if self.index is None or limit <= 0:
            return
        found: list[Definition] = []
        for name in identifiers(message):
            found += self.index.definitions(name)[:2] or self.index.search_symbols(name, 2)
        for word in plain_words(message):
            found += self.index.definitions(word)[:1]
        added = 0
        for definition in found:
            if added >= limit or self.remaining < MIN_BLOCK_TOKENS + BLOCK_OVERHEAD_TOKENS:
                break
            if self._add_definition(definition, "search", cap=max(self.remaining // 3, 96)):
                added += 1

    def add_map(self, message: str, focus: str | None, cap: int) -> None:
        """The repo map's best-ranked definitions for the question, within ``cap`` tokens
        (the files already shown whole are its focus, so their definitions are left out)."""
        room = min(cap, self.remaining) - BLOCK_OVERHEAD_TOKENS
        if self.index is None or room < 2 * MIN_BLOCK_TOKENS:
            return
        try:
            repo_map = self.index.repo_map(
                budget_tokens=room,
                focus_files=[
                    Path(p) for p in ([focus] if focus else []) + sorted(self._whole_files)
                ],
                mentioned_idents=identifiers(message) + plain_words(message),
                count_tokens=self.count,
            )
        except Exception:  # the map is a bonus: a failure must not lose the question
            log.warning("repo map for a chat question failed", exc_info=True)
            return
        if repo_map.text.strip():
            self.add("map", ".", "repo map", repo_map.text, cap=room)

    # ------------------------------------------------------------ helpers

    def _is_file(self, rel: str) -> bool:
        if self.root is None:
            return False
        path = confine(self.root, rel)
        return path is not None and path.is_file()

    def _add_file(self, rel: str) -> None:
        try:
            path, text = read_workspace_file(self.root, rel, self.read_text)
        except FileRefused as exc:
            self.result.notes.append(str(exc))
            return
        if path in self._whole_files:
            return
        self._texts[path] = text
        if self.add("file", path, "file", text):
            self._whole_files.add(path)

    def _add_symbol(self, name: str, *, source: str) -> bool:
        if self.index is None:
            return False
        scope, _, simple = name.rpartition(".")
        definitions = self.index.definitions(simple)
        if scope:
            definitions = [d for d in definitions if d.qualified_name.endswith(name)] or [
                d for d in definitions if d.scope and d.scope.endswith(scope)
            ]
        if not definitions:
            return False
        for definition in definitions[:MAX_DEFINITIONS_PER_SYMBOL]:
            self._add_definition(definition, source)
        return True

    def _add_definition(self, definition: Definition, source: str, cap: int | None = None) -> bool:
        key = (definition.path, definition.extent[0])
        if key in self._definitions or definition.path in self._whole_files:
            return False
        if is_secret_file(definition.path):
            return False
        text = self._text_of(definition.path)
        if text is None:
            return False
        lines = text.split("\n")
        start, end = definition.extent[0], definition.extent[2]
        shown = lines[start : min(end + 1, start + MAX_DEFINITION_LINES)]
        if end + 1 > start + MAX_DEFINITION_LINES:
            shown.append("… (cut)")
        name = f"{definition.kind} {definition.qualified_name}, line {start + 1}".strip()
        self._definitions.add(key)
        return self.add(source, definition.path, name, "\n".join(shown), cap=cap)

    def _text_of(self, rel: str) -> str | None:
        if rel not in self._texts:
            try:
                self._texts[rel] = read_workspace_file(self.root, rel, self.read_text)[1]
            except FileRefused:
                return None
        return self._texts[rel]
