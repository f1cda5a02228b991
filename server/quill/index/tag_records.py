"""The records a tags extraction produces, and the forms they are kept in.

Positions are 0-based. Lines count ``\\n``-separated lines; columns are **byte offsets** into
the UTF-8 encoded line (tree-sitter points), not characters and not UTF-16 code units.

Three forms of one file's tags:

* :class:`FileTags`: :class:`Tag` objects in document order (what callers of
  :func:`quill.index.tags.extract_file` get);
* :class:`RawFileTags`: the storage form, definitions as :data:`DefRow` tuples and references
  packed (:data:`REF_FIELDS` ints each), cheap to pickle and to store;
* stored rows: definition rows and the packed references as the store keeps them.

:func:`unpack_refs` and :func:`build_tags` turn the packed and row forms back into
:data:`RefRow` tuples and :class:`Tag` lists, for extraction and for stored rows alike.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "DEFINITION_KINDS",
    "REFERENCE_KINDS",
    "REF_FIELDS",
    "REF_KINDS_BY_CODE",
    "REF_KIND_CODES",
    "DefRow",
    "FileTags",
    "ImportRecord",
    "Positions",
    "RawFileTags",
    "RefRow",
    "Tag",
    "build_tags",
    "count_lines",
    "unpack_refs",
]

DEFINITION_KINDS = ("function", "method", "class", "interface", "module", "constant", "variable")
REFERENCE_KINDS = ("call", "type", "import")


@dataclass(frozen=True, slots=True)
class Tag:
    """One definition or reference.

    ``kind`` is one of :data:`DEFINITION_KINDS` for definitions and :data:`REFERENCE_KINDS`
    for references. Lines are 0-based; columns are 0-based byte offsets in the line.
    ``signature`` (definitions only) is the literal header line as written, stripped; when a
    definition starts on earlier lines (a C return type, a Java modifier line) those are
    joined in front of it, annotations and comments left out.
    """

    name: str
    kind: str
    is_definition: bool
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    scope: str | None = None
    signature: str | None = None
    extent: tuple[int, int, int, int] | None = None
    """Definitions: (start_line, start_col, end_line, end_col) of the whole definition."""


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One imported name: ``from module import name as alias`` (Python), ``import {name as
    alias} from "module"`` (JS/TS), ``use module::name`` (Rust), ``import "module"`` (Go),
    ``#include "module"`` (C/C++). ``module`` is written as in the source (relative imports
    keep their dots or ``./``)."""

    module: str | None
    name: str
    alias: str | None
    line: int


@dataclass(slots=True)
class FileTags:
    """Everything extracted from one file."""

    tags: list[Tag]
    imports: list[ImportRecord]
    lines: int
    has_error: bool


def count_lines(source: bytes) -> int:
    """Number of lines, counting a last line without a trailing newline."""
    if not source:
        return 0
    n = source.count(b"\n")
    return n if source.endswith(b"\n") else n + 1


DefRow = tuple[str, str, int, int, int, int, str | None, str, int, int, int, int]
"""name, kind, start_line, start_col, end_line, end_col, scope, signature, then the extent's
start_line, start_col, end_line, end_col."""
RefRow = tuple[str, str, int, int, int, int, str | None]
"""name, kind, start_line, start_col, end_line, end_col, scope."""

REF_FIELDS = 7
"""Packed references: seven ints each (name index, kind code, start line, start column, end
line, end column, scope index or -1) in an ``array('i')``, with the names listed once."""
REF_KINDS_BY_CODE = REFERENCE_KINDS
REF_KIND_CODES = {kind: code for code, kind in enumerate(REF_KINDS_BY_CODE)}


@dataclass(slots=True)
class RawFileTags:
    """:class:`FileTags` in storage form: definitions as tuples, references packed (see
    :data:`REF_FIELDS`). Cheap to pickle and to store."""

    defs: list[DefRow]
    ref_names: list[str]
    ref_data: bytes
    imports: list[ImportRecord]
    lines: int
    has_error: bool


@dataclass(slots=True)
class Positions:
    """Byte offsets that go with a :class:`RawFileTags` (incremental updates splice by them):
    per definition (name start, extent start, extent end), per reference its name start, per
    import its name start."""

    defs: list[tuple[int, int, int]]
    refs: array
    imports: list[int]


def unpack_refs(names: Sequence[str], data: bytes, name_index: int | None = None) -> list[RefRow]:
    """Packed references back to tuples, in stored (document) order; with ``name_index``,
    only the references whose name is ``names[name_index]``."""
    arr = array("i")
    arr.frombytes(data)
    kinds = REF_KINDS_BY_CODE
    out: list[RefRow] = []
    for i in range(0, len(arr), REF_FIELDS):
        if name_index is not None and arr[i] != name_index:
            continue
        si = arr[i + 6]
        out.append(
            (
                names[arr[i]],
                kinds[arr[i + 1]],
                arr[i + 2],
                arr[i + 3],
                arr[i + 4],
                arr[i + 5],
                names[si] if si >= 0 else None,
            )
        )
    return out


def build_tags(defs: Iterable[Sequence], refs: Iterable[RefRow]) -> list[Tag]:
    """:class:`Tag` objects of definition rows (:data:`DefRow`, as extracted or as stored) and
    reference rows, in document order (a definition before a reference at the same place)."""
    tags = [
        Tag(d[0], d[1], True, d[2], d[3], d[4], d[5], d[6], d[7], (d[8], d[9], d[10], d[11]))
        for d in defs
    ]
    tags.extend(Tag(r[0], r[1], False, r[2], r[3], r[4], r[5], r[6]) for r in refs)
    tags.sort(key=_tag_order)
    return tags


def _tag_order(tag: Tag) -> tuple[int, int, bool]:
    return (tag.start_line, tag.start_col, not tag.is_definition)
