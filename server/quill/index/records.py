"""Plain result types of the index. Positions follow :mod:`quill.index.tags`: 0-based lines,
0-based byte columns in the UTF-8 line; ``path`` is workspace-relative with ``/``."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Definition",
    "IndexStats",
    "LanguageStats",
    "MapItem",
    "Reference",
    "RepoMap",
    "SymbolNode",
]


@dataclass(frozen=True, slots=True)
class Definition:
    path: str
    name: str
    kind: str
    start_line: int  # the identifier's range
    start_col: int
    end_line: int
    end_col: int
    scope: str | None
    signature: str | None
    extent: tuple[int, int, int, int]  # the whole definition: start line/col, end line/col
    language: str = ""

    @property
    def qualified_name(self) -> str:
        return f"{self.scope}.{self.name}" if self.scope else self.name


@dataclass(frozen=True, slots=True)
class Reference:
    path: str
    name: str
    kind: str  # "call", "type" or "import"
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    scope: str | None


@dataclass(slots=True)
class SymbolNode:
    """A definition with the definitions nested in it (document symbols)."""

    name: str
    kind: str
    detail: str | None  # the signature line
    range: tuple[int, int, int, int]  # whole definition
    selection_range: tuple[int, int, int, int]  # the identifier
    children: list[SymbolNode] = field(default_factory=list)


@dataclass(slots=True)
class LanguageStats:
    language: str
    files: int = 0
    lines: int = 0
    modules: int = 0
    classes: int = 0  # classes and interfaces
    functions: int = 0  # functions and methods
    methods: int = 0
    definitions: int = 0
    references: int = 0
    parse_errors: int = 0  # files whose tree had syntax errors (indexed partially)


@dataclass(slots=True)
class IndexStats:
    """Totals of the index, and what the last :meth:`index_all` did."""

    languages: dict[str, LanguageStats] = field(default_factory=dict)
    files: int = 0
    lines: int = 0
    skipped: int = 0  # files seen but not indexed (binary, too large, unreadable)
    parsed: int = 0  # files parsed by the last index_all
    unchanged: int = 0  # files the last index_all found unchanged
    removed: int = 0  # files the last index_all dropped
    elapsed_s: float = 0.0  # wall time of the last index_all
    workers: int = 0  # worker processes used by the last index_all (0 = in-process)

    @property
    def modules(self) -> int:
        return sum(s.modules for s in self.languages.values())

    @property
    def classes(self) -> int:
        return sum(s.classes for s in self.languages.values())

    @property
    def functions(self) -> int:
        return sum(s.functions for s in self.languages.values())


@dataclass(frozen=True, slots=True)
class MapItem:
    path: str
    name: str
    kind: str
    signature: str
    line: int
    rank: float
    tokens: int  # tokens of this item's rendered line


@dataclass(slots=True)
class RepoMap:
    text: str
    items: list[MapItem]
    tokens: int  # tokens of ``text`` by the counter used
    budget_tokens: int
    candidates: int = 0  # ranked definitions before the cut
