"""The workspace as import resolution reads it: which files exist, and each file's text,
definitions and import records, with open editor buffers read before the disk.

:class:`WorkspaceFiles` is the one place the import resolvers read a file. Its text comes,
in this order, from

1. the text the caller passed for the file it resolves (``resolve_file(rel, text=...)``),
2. ``read_text(rel)``: the open editor buffer, or ``None`` when the file is not open,
3. the disk (read once per :class:`WorkspaceFiles`).

Definitions and import records come from the index, except for a file whose current text the
index may not have: an open buffer that differs from the disk, or a text passed for a file
the index has not seen (a new file). Those are parsed here, once per version of their text.
The file passed with ``text=`` *is* in the index otherwise: the editor's changes reach it on
every keystroke, and parsing the file being typed in again on each request would double that
work. Workspace-wide lookups (:meth:`WorkspaceFiles.definitions_named`) come from the index.

:class:`LanguageImports` is the base of the per-language resolvers: the workspace and the
resolver's ``module_definitions`` are their collaborators.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from quill.context.imports_result import ResolvedImport
from quill.index.languages import language_for_path
from quill.index.records import Definition
from quill.index.service import WorkspaceIndex
from quill.index.tags import ImportRecord, extract_raw

log = logging.getLogger(__name__)

__all__ = [
    "MAX_DEPTH",
    "LanguageImports",
    "ModuleDefinitions",
    "ReadText",
    "WorkspaceFiles",
    "nearest_upwards",
    "top_level",
    "visit",
]

#: how deep re-exports are followed (a chain longer than this is almost surely a cycle)
MAX_DEPTH = 8

#: workspace-relative path → the open editor buffer's text, or ``None`` (read the disk)
ReadText = Callable[[str], str | None]
#: workspace-relative module file or package folder → its public top-level definitions
ModuleDefinitions = Callable[[str], list[Definition]]

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class _BufferTags:
    """What a buffer parsed here holds, and the text it was parsed from."""

    text: str
    definitions: list[Definition]
    imports: list[ImportRecord]


class WorkspaceFiles:
    """Files, texts, definitions and imports of the workspace, cached for the lifetime of
    one resolver (see the module docstring for where each comes from)."""

    def __init__(self, index: WorkspaceIndex, read_text: ReadText | None = None) -> None:
        self.index = index
        self.root = index.root
        self._read_text = read_text
        self._files: set[str] | None = None
        self._dirs: set[str] | None = None
        self._given: dict[str, str] = {}
        self._disk: dict[str, str | None] = {}
        self._buffers: dict[str, _BufferTags] = {}
        self._defs: dict[str, list[Definition]] = {}
        self._imports: dict[str, list[ImportRecord]] = {}
        self._members: dict[tuple[str, str], list[Definition]] = {}
        self._named: dict[str, list[Definition]] = {}

    def use_text(self, rel: str, text: str) -> None:
        """``text`` is the current text of ``rel`` (the file the caller resolves)."""
        self._given[rel] = text

    def forget(self, rel: str) -> None:
        """Drop what is cached about one file (the one being edited), so it is read again."""
        for cache in (self._given, self._disk, self._buffers, self._defs, self._imports):
            cache.pop(rel, None)
        for key in [k for k in self._members if k[0] == rel]:
            del self._members[key]

    # ---------------------------------------------------------------- file table

    @property
    def files(self) -> set[str]:
        if self._files is None:
            self._files = set(self.index.indexed_files())
        return self._files

    @property
    def dirs(self) -> set[str]:
        if self._dirs is None:
            dirs: set[str] = set()
            for f in self.files:
                d = posixpath.dirname(f)
                while d and d not in dirs:
                    dirs.add(d)
                    d = posixpath.dirname(d)
            self._dirs = dirs
        return self._dirs

    # ---------------------------------------------------------------- one file

    def text_of(self, rel: str) -> str | None:
        """The text of a workspace file: the caller's, the open buffer's, or the disk's."""
        given = self._given.get(rel)
        if given is not None:
            return given
        buffer = self._read_text(rel) if self._read_text is not None else None
        return buffer if buffer is not None else self._disk_text(rel)

    def definitions_in(self, rel: str) -> list[Definition]:
        parsed = self._buffer_tags(rel)
        if parsed is not None:
            return parsed.definitions
        return _cached(self._defs, rel, lambda: self.index.definitions_in_file(self.root / rel))

    def imports_of(self, rel: str) -> list[ImportRecord]:
        parsed = self._buffer_tags(rel)
        if parsed is not None:
            return parsed.imports
        return _cached(self._imports, rel, lambda: self.index.imports(self.root / rel))

    def members_of(self, path: str, qualified_name: str) -> list[Definition]:
        """:meth:`WorkspaceIndex.members_of` of a class in one file, cached."""
        parsed = self._buffer_tags(path)
        if parsed is not None:
            suffix = "." + qualified_name
            return [
                d
                for d in parsed.definitions
                if d.scope == qualified_name or (d.scope or "").endswith(suffix)
            ]
        return _cached(
            self._members,
            (path, qualified_name),
            lambda: self.index.members_of(qualified_name, self.root / path),
        )

    def definitions_named(self, name: str) -> list[Definition]:
        """:meth:`WorkspaceIndex.definitions`, cached."""
        return _cached(self._named, name, lambda: self.index.definitions(name))

    def top_level_named(self, rel: str, name: str) -> list[Definition]:
        """The top-level definitions of ``rel`` called ``name``."""
        return [d for d in self.definitions_in(rel) if d.scope is None and d.name == name]

    def _disk_text(self, rel: str) -> str | None:
        if rel not in self._disk:
            try:
                self._disk[rel] = (self.root / rel).read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                log.debug("cannot read %s: %s", rel, exc)
                self._disk[rel] = None
        return self._disk[rel]

    def _unindexed_text(self, rel: str) -> str | None:
        """The text of ``rel`` when the index may not hold it: a text passed for a file the
        index has not seen, or an open buffer that differs from the disk."""
        if rel in self._given:
            return None if rel in self.files else self._given[rel]
        if self._read_text is None:
            return None
        buffer = self._read_text(rel)
        if buffer is None or buffer == self._disk_text(rel):
            return None
        return buffer

    def _buffer_tags(self, rel: str) -> _BufferTags | None:
        text = self._unindexed_text(rel)
        if text is None:
            return None
        parsed = self._buffers.get(rel)
        if parsed is not None and parsed.text == text:
            return parsed
        language = language_for_path(rel)
        if language is None:
            return None
        raw = extract_raw(text.encode("utf-8", "surrogatepass"), language, rel)
        defs = [
            Definition(rel, *d[:8], (d[8], d[9], d[10], d[11]), language)
            for d in sorted(raw.defs, key=lambda d: (d[8], d[9], d[2]))
        ]
        parsed = self._buffers[rel] = _BufferTags(text, defs, raw.imports)
        return parsed


class LanguageImports:
    """Base of the per-language resolvers: reads go through ``files``; a module imported
    whole gets its definitions from ``module_definitions`` (the resolver's, cached)."""

    def __init__(self, files: WorkspaceFiles, module_definitions: ModuleDefinitions) -> None:
        self.files = files
        self.module_definitions = module_definitions

    def whole_module(
        self, local: str, module: str | None, path: str, line: int
    ) -> list[ResolvedImport]:
        """``local`` bound to the module at ``path`` imported whole."""
        return [ResolvedImport(local, module, path, "module", self.module_definitions(path), line)]


def top_level(defs: Iterable[Definition]) -> list[Definition]:
    """The top-level definitions, without the ``module`` entry (a Go package clause...)."""
    return [d for d in defs if d.scope is None and d.kind != "module"]


def visit(seen: set[tuple[str, str]], key: tuple[str, str]) -> bool:
    """Record ``key`` (a module and a name) as followed; ``False`` when it already was (a
    cycle) or the chain is too long."""
    if key in seen or len(seen) > MAX_DEPTH * 4:
        log.debug("import cycle through %s %s", *key)
        return False
    seen.add(key)
    return True


def nearest_upwards(
    directory: str, cache: dict[str, V | None], probe: Callable[[str], V | None]
) -> V | None:
    """The first non-``None`` ``probe(folder)`` from ``directory`` up to the workspace root
    (``""``), e.g. the nearest ``tsconfig.json``; every folder walked remembers the answer in
    ``cache``."""
    chain: list[str] = []
    found: V | None = None
    d = directory
    while True:
        if d in cache:
            found = cache[d]
            break
        chain.append(d)
        found = probe(d)
        if found is not None or not d:
            break
        d = posixpath.dirname(d)
    for c in chain:
        cache[c] = found
    return found


def _cached(cache: dict[K, V], key: K, compute: Callable[[], V]) -> V:
    if key not in cache:
        cache[key] = compute()
    return cache[key]
