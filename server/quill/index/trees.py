"""The one incremental syntax-tree cache for open editor buffers.

Every consumer of a buffer's syntax tree (re-tagging in :mod:`quill.index.live`, scope
inference in :mod:`quill.context.scope`) asks one :class:`TreeCache`, so each version of a
buffer is parsed once, and incrementally: the cache keeps, per document key, the last source
bytes, language and tree, and parses the next version by editing (a copy of) the old tree and
re-parsing with it.

The edit comes from one of two places:

* found by the cache: the differing middle of the old and new bytes (common prefix and
  suffix). This always works and costs a few fast byte comparisons;
* given by a front door: :meth:`TreeCache.edit` takes the editor's own edits (an LSP
  ``didChange`` content change, converted to bytes and tree-sitter points) as they arrive;
  the next :meth:`TreeCache.parse` of that document uses them instead of diffing. This is
  the intended use for keystrokes. Edits that do not add up to the text then parsed (a wrong
  length, or bytes outside the edits that changed) are discarded and the cache diffs instead,
  so a wrong edit costs time, never a wrong tree.

Trees handed out are never edited afterwards (the cache edits copies), so a caller may keep
one. The cache is bounded (least recently used dropped first) and thread-safe; parsing runs
outside its lock, with the calling thread's parser (:func:`quill.index.languages.get_parser`).
It also holds the compiled queries its consumers run on these trees (:meth:`TreeCache.query`):
compiling one costs 10-30 ms.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import tree_sitter

from quill.index.languages import get_language, get_parser

log = logging.getLogger(__name__)

__all__ = [
    "MAX_TREES",
    "BoundedDocuments",
    "Point",
    "TextEdit",
    "TreeCache",
    "TreeChange",
    "common_prefix",
    "common_suffix",
    "diff_edit",
    "point_at",
]

MAX_TREES = 8

#: a tree-sitter point: 0-based row and byte column
Point = tuple[int, int]


@dataclass(frozen=True, slots=True)
class TextEdit:
    """One edit in tree-sitter's terms: bytes ``[start_byte, old_end_byte)`` of the old text
    became ``[start_byte, new_end_byte)`` of the new one; points are (row, byte column)."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: Point
    old_end_point: Point
    new_end_point: Point

    def apply_to(self, tree: tree_sitter.Tree) -> None:
        tree.edit(
            start_byte=self.start_byte,
            old_end_byte=self.old_end_byte,
            new_end_byte=self.new_end_byte,
            start_point=self.start_point,
            old_end_point=self.old_end_point,
            new_end_point=self.new_end_point,
        )


@dataclass(frozen=True, slots=True)
class TreeChange:
    """A document's new tree and how it differs from an older version.

    ``old_source`` / ``old_tree`` are that older version, the tree edited to line up with the
    new text (what :meth:`tree_sitter.Tree.changed_ranges` needs); ``edit`` spans every byte
    that differs (outside it, old and new text are equal). All three are ``None`` after a
    parse from scratch; ``edit`` alone is ``None`` when the text did not change."""

    source: bytes
    tree: tree_sitter.Tree
    old_source: bytes | None = None
    old_tree: tree_sitter.Tree | None = None
    edit: TextEdit | None = None

    def changed_ranges(self) -> list[tree_sitter.Range]:
        """Ranges whose syntax changed beyond the edit (empty when there is no old tree)."""
        if self.old_tree is None:
            return []
        return list(self.old_tree.changed_ranges(self.tree))


# ---------------------------------------------------------------------- byte helpers


def point_at(source: bytes, offset: int) -> Point:
    """The tree-sitter point of byte ``offset`` of ``source``."""
    row = source.count(b"\n", 0, offset)
    return row, offset - (source.rfind(b"\n", 0, offset) + 1)


def common_prefix(a: bytes, b: bytes) -> int:
    """The largest ``n`` with ``a[:n] == b[:n]`` (by halving, at memcmp speed)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """The largest ``n <= limit`` with equal last ``n`` bytes."""
    lo, hi = 0, max(0, limit)
    la, lb = len(a), len(b)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def diff_edit(old: bytes, new: bytes) -> TextEdit | None:
    """The smallest single edit turning ``old`` into ``new``; ``None`` when they are equal."""
    if old == new:
        return None
    start = common_prefix(old, new)
    tail = common_suffix(old, new, min(len(old), len(new)) - start)
    return _span(old, new, start, len(old) - tail, len(new) - tail)


def _span(old: bytes, new: bytes, start: int, old_end: int, new_end: int) -> TextEdit:
    """The edit of bytes ``[start, old_end)`` of ``old`` into ``[start, new_end)`` of ``new``."""
    points = point_at(old, start), point_at(old, old_end), point_at(new, new_end)
    return TextEdit(start, old_end, new_end, *points)


def _combined(old: bytes, new: bytes, edits: list[TextEdit]) -> TextEdit | None:
    """One edit spanning a sequence of editor edits (each in the coordinates left by the one
    before), or ``None`` when they do not turn ``old`` into a text of ``new``'s length whose
    bytes outside them are ``old``'s."""
    length = len(old)
    prefix = suffix = length  # bytes never touched at the start and at the end
    for e in edits:
        if not (0 <= e.start_byte <= e.old_end_byte <= length and e.start_byte <= e.new_end_byte):
            return None
        prefix = min(prefix, e.start_byte)
        suffix = min(suffix, length - e.old_end_byte)
        length += e.new_end_byte - e.old_end_byte
    if length != len(new) or old[:prefix] != new[:prefix]:
        return None
    old_end, new_end = len(old) - suffix, len(new) - suffix
    if old[old_end:] != new[new_end:]:
        return None
    return edits[0] if len(edits) == 1 else _span(old, new, prefix, old_end, new_end)


def _lsp_edit(
    text: bytes,
    start: tuple[int, int],
    end: tuple[int, int],
    new_text: str,
    to_column: Callable[[str, int], int],
) -> tuple[TextEdit, bytes] | None:
    """The edit replacing ``start``..``end`` of ``text`` by ``new_text``, and the new text."""
    lines = text.split(b"\n")

    def offset(line: int, character: int) -> tuple[int, int] | None:
        if not 0 <= line < len(lines):
            return None
        raw = lines[line]
        try:
            decoded = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        column = len(decoded[: to_column(decoded, character)].encode("utf-8"))
        return sum(len(x) + 1 for x in lines[:line]) + column, column

    first, last = offset(*start), offset(*end)
    if first is None or last is None or last[0] < first[0]:
        return None
    new = new_text.encode("utf-8")
    start_byte, old_end_byte = first[0], last[0]
    rows = new.count(b"\n")
    end_column = len(new) - new.rfind(b"\n") - 1 if rows else first[1] + len(new)
    edit = TextEdit(
        start_byte,
        old_end_byte,
        start_byte + len(new),
        (start[0], first[1]),
        (end[0], last[1]),
        (start[0] + rows, end_column),
    )
    return edit, text[:start_byte] + new + text[old_end_byte:]


# ---------------------------------------------------------------------- the cache


@dataclass(slots=True)
class _Entry:
    language: str
    source: bytes
    tree: tree_sitter.Tree  # never edited: handed out as is
    pending: list[TextEdit] = field(default_factory=list)  # editor edits since `source`
    #: the text after ``pending`` when the edits came with their text (see edit_text)
    expected: bytes | None = None


_Value = TypeVar("_Value")


class BoundedDocuments(Generic[_Value]):
    """Something kept per document key for up to ``max_docs`` documents, least recently used
    (stored, or moved to the end by a subclass) dropped first, behind one lock: the bookkeeping
    :class:`TreeCache` and :class:`quill.index.live.LiveDocuments` share. Subclasses read and
    write ``_docs`` while holding ``_lock``."""

    def __init__(self, max_docs: int) -> None:
        self.max_docs = max_docs
        self._docs: OrderedDict[str, _Value] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        return key in self._docs

    def __len__(self) -> int:
        return len(self._docs)

    def drop(self, key: str) -> None:
        """Forget what is kept for ``key``."""
        with self._lock:
            self._docs.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._docs.clear()

    def _keep_locked(self, key: str, value: _Value) -> None:
        """Keep ``value`` as the most recent for ``key``, dropping the least recent beyond
        ``max_docs``. The caller holds ``_lock``."""
        self._docs[key] = value
        self._docs.move_to_end(key)
        while len(self._docs) > self.max_docs:
            self._docs.popitem(last=False)


class TreeCache(BoundedDocuments[_Entry]):
    """The last source, language and syntax tree of up to ``max_docs`` documents, by key:
    whatever the consumers of one document agree on (the index and scope inference use the
    workspace-relative path, so a front door feeding :meth:`edit` must too)."""

    def __init__(self, max_docs: int = MAX_TREES) -> None:
        super().__init__(max_docs)
        self._queries: dict[tuple[str, str], tree_sitter.Query | None] = {}
        self.full_parses = 0  # counters for tests and benchmarks
        self.incremental_parses = 0

    def parse(self, key: str, language: str, source: bytes) -> tree_sitter.Tree | None:
        """The tree of ``source``, parsed incrementally from the last version of ``key`` when
        there is one; ``None`` when the language is unavailable. Parse errors propagate."""
        change = self.update(key, language, source)
        return change.tree if change is not None else None

    def edit(
        self,
        key: str,
        start_byte: int,
        old_end_byte: int,
        new_end_byte: int,
        start_point: Point,
        old_end_point: Point,
        new_end_point: Point,
    ) -> bool:
        """Record an editor edit of document ``key`` (bytes and (row, byte column) points, as
        :meth:`tree_sitter.Tree.edit` takes them). Edits accumulate in order, each in the
        coordinates left by the one before (as LSP ``didChange`` content changes are), until
        the next :meth:`parse` of ``key``, which then re-parses without diffing. False when the
        cache has no tree for ``key`` (the edit is not needed: the next parse is a full one)."""
        edit = TextEdit(
            start_byte, old_end_byte, new_end_byte, start_point, old_end_point, new_end_point
        )
        with self._lock:
            entry = self._docs.get(key)
            if entry is None:
                return False
            entry.pending.append(edit)
            return True

    def edit_text(
        self,
        key: str,
        start: tuple[int, int],
        end: tuple[int, int],
        new_text: str,
        to_column: Callable[[str, int], int],
    ) -> bool:
        """Record an editor's change as LSP ``didChange`` sends it: the range ``start`` to
        ``end`` ((line, character) in the editor's units; ``to_column(line_text, character)``
        converts to a string index) replaced by ``new_text``. The bytes are worked out on the
        cache's own copy of the text, so changes chain in order until the next parse. False
        when the cache cannot follow (no tree for ``key``, a range it cannot place): the next
        parse then finds the change by comparing texts."""
        with self._lock:
            entry = self._docs.get(key)
            if entry is None:
                return False
            current = entry.expected if entry.pending else entry.source
            edit = None if current is None else _lsp_edit(current, start, end, new_text, to_column)
            if edit is None or current is None:
                entry.expected = None
                entry.pending.clear()
                return False
            text_edit, entry.expected = edit
            entry.pending.append(text_edit)
            return True

    def update(
        self,
        key: str,
        language: str,
        source: bytes,
        *,
        base: tuple[bytes, tree_sitter.Tree] | None = None,
    ) -> TreeChange | None:
        """Like :meth:`parse`, and also how the new tree differs from the previous version.

        ``base`` is the (source, tree) last seen by a consumer that keeps its own version (as
        :class:`quill.index.live.LiveDocuments` keeps the tree its tags came from). The change
        is then relative to ``base``: when the cache holds another version of ``key`` (another
        consumer parsed a newer text in between), the new text is parsed from ``base``."""
        with self._lock:
            entry = self._docs.get(key)
            if entry is not None:
                self._docs.move_to_end(key)
                if entry.language != language or (base is not None and base[1] is not entry.tree):
                    entry = None
            pending = list(entry.pending) if entry is not None else []
            if entry is not None and entry.expected is not None and entry.expected != source:
                pending = []  # the recorded changes do not give this text: compare instead
        old = (entry.source, entry.tree) if entry is not None else base
        result = self._parse(language, source, old, pending)
        if result is None:
            return None
        change, used_pending = result
        with self._lock:
            current = self._docs.get(key)
            if current is not None and current is entry and change.tree is entry.tree:
                if not used_pending:
                    del current.pending[: len(pending)]  # edits that did not add up to this text
                return change  # the text had not changed
            leftover: list[TextEdit] = []
            if used_pending and current is not None and current is entry:
                # Editor edits recorded while this parse ran apply to this text.
                leftover = current.pending[len(pending) :]
            self._keep_locked(key, _Entry(language, source, change.tree, leftover))
        return change

    def _parse(
        self,
        language: str,
        source: bytes,
        old: tuple[bytes, tree_sitter.Tree] | None,
        pending: list[TextEdit],
    ) -> tuple[TreeChange, bool] | None:
        """The new tree, and whether the editor edits ``pending`` were used."""
        if old is not None and not pending and (old[0] is source or old[0] == source):
            return TreeChange(source, old[1], old[0], old[1]), False
        parser = get_parser(language)
        if parser is None:
            return None
        if old is None:
            self.full_parses += 1
            return TreeChange(source, parser.parse(source)), False
        old_source, old_tree = old
        edits = pending
        combined = _combined(old_source, source, pending) if pending else None
        if combined is None:
            if pending:
                log.debug("editor edits do not add up to the text; diffing instead")
            edits = []
            combined = diff_edit(old_source, source)
            if combined is None:
                return TreeChange(source, old_tree, old_source, old_tree), False
            edits = [combined]
        edited = old_tree.copy()
        for e in edits:
            e.apply_to(edited)
        self.incremental_parses += 1
        new_tree = parser.parse(source, edited)
        return TreeChange(source, new_tree, old_source, edited, combined), edits is pending

    def query(self, language: str, text: str) -> tree_sitter.Query | None:
        """``text`` compiled as a query for ``language``, once per cache; ``None`` (logged
        once) when the language is unavailable or the query does not compile."""
        key = (language, text)
        with self._lock:
            if key in self._queries:
                return self._queries[key]
            lang = get_language(language)
            query: tree_sitter.Query | None = None
            if lang is not None:
                try:
                    query = tree_sitter.Query(lang, text)
                except (tree_sitter.QueryError, ValueError, TypeError) as exc:
                    log.error("a %s query does not compile: %s", language, exc)
            self._queries[key] = query
            return query
