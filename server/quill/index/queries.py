"""Symbol lookups on the index: definitions (by name, by file, by enclosing class), imports,
document symbols, fuzzy workspace-symbol search, references and a file's stored tags.

Every lookup reads through :meth:`quill.index.state.IndexState.reader` (the lock, with
buffered editor-buffer results written first) and converts stored rows to the plain records
of :mod:`quill.index.records` after releasing it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from quill.index.records import Definition, Reference, SymbolNode
from quill.index.search import rank_names
from quill.index.state import IndexState
from quill.index.store import FileRow
from quill.index.tag_records import ImportRecord, Tag, build_tags, unpack_refs

__all__ = ["SymbolQueries"]

_Fetch = Callable[[int], list[tuple]]  # stored rows of one file, by its id


class SymbolQueries:
    """The read side of the index: see :class:`quill.index.service.WorkspaceIndex` for what
    each method answers."""

    def __init__(self, state: IndexState) -> None:
        self._state = state

    def definitions(self, name: str) -> list[Definition]:
        with self._state.reader():
            rows = self._state.store.defs_by_name(name)
        return [_definition(r) for r in rows]

    def definitions_in_file(self, path: Path) -> list[Definition]:
        row, rows = self._file_rows(path, lambda fid: self._state.store.defs_of_file(fid))
        if row is None:
            return []
        return [_definition((row.path, row.language, *r)) for r in rows]

    def members_of(self, class_name: str, path: Path | None = None) -> list[Definition]:
        state = self._state
        with state.reader():
            fid: int | None = None
            if path is not None:
                row = state.row_locked(path)
                if row is None:
                    return []
                fid = row.id
            rows = state.store.defs_in_scope(class_name, fid)
        return [_definition(r) for r in rows]

    def imports(self, path: Path) -> list[ImportRecord]:
        _row, rows = self._file_rows(path, lambda fid: self._state.store.imports_of_file(fid))
        return [ImportRecord(m, n, a, line) for m, n, a, line in rows]

    def _file_rows(self, path: Path, fetch: _Fetch) -> tuple[FileRow | None, list[tuple]]:
        """The indexed file at ``path`` and ``fetch(its id)``; ``(None, [])`` when it is not
        indexed."""
        with self._state.reader():
            row = self._state.row_locked(path)
            if row is None:
                return None, []
            return row, fetch(row.id)

    def document_symbols(self, path: Path) -> list[SymbolNode]:
        defs = self.definitions_in_file(path)
        roots: list[SymbolNode] = []
        by_qual: dict[str, SymbolNode] = {}
        deferred: list[tuple[str, SymbolNode]] = []
        for d in defs:
            node = SymbolNode(
                d.name,
                d.kind,
                d.signature,
                d.extent,
                (d.start_line, d.start_col, d.end_line, d.end_col),
            )
            if d.scope:
                parent = by_qual.get(d.scope)
                if parent is not None:
                    parent.children.append(node)
                else:
                    deferred.append((d.scope, node))
            else:
                roots.append(node)
            by_qual[d.qualified_name] = node
        for scope, node in deferred:
            parent = by_qual.get(scope)
            if parent is not None and parent is not node:
                parent.children.append(node)
            else:
                roots.append(node)
        _sort_symbols(roots)
        return roots

    def search_symbols(self, query: str, limit: int = 100) -> list[Definition]:
        if limit <= 0:
            return []
        names = self._state.def_names()
        ranked = rank_names(query, names, limit)
        tiers = {name: tier for tier, name in ranked}
        with self._state.reader():
            rows = self._state.store.defs_matching(tiers)
        defs = [_definition(r) for r in rows]
        defs.sort(key=lambda d: (tiers[d.name], len(d.name), d.name, d.path, d.start_line))
        return defs[:limit]

    def references(self, name: str) -> list[Reference]:
        state = self._state
        with state.reader():
            graph = state.graph_locked()
            fids = list(graph.referencers.get(name, {}))
            blobs = [(state.paths.get(fid), state.store.refs_of_file(fid)) for fid in fids]
        out: list[Reference] = []
        for path, blob in blobs:
            if path is None or blob is None:
                continue
            names = blob[0].split("\n")
            try:
                target = names.index(name)
            except ValueError:
                continue
            out.extend(Reference(path, *row) for row in unpack_refs(names, blob[1], target))
        out.sort(key=lambda r: (r.path, r.start_line, r.start_col))
        return out

    def file_tags(self, path: Path) -> list[Tag]:
        state = self._state
        with state.reader():
            row = state.row_locked(path)
            if row is None:
                return []
            def_rows = state.store.defs_of_file(row.id)
            blob = state.store.refs_of_file(row.id)
        refs = unpack_refs(blob[0].split("\n"), blob[1]) if blob is not None else []
        return build_tags(def_rows, refs)

    def indexed_files(self) -> list[str]:
        with self._state.reader():
            return sorted(rel for rel, row in self._state.files.items() if row.skipped is None)


def _definition(row: Sequence) -> Definition:
    """A stored definition row (path and language first) as a :class:`Definition`."""
    path, language, name, kind, line, col, end_line, end_col, scope, sig, *ext = row
    return Definition(
        path,
        name,
        kind,
        line,
        col,
        end_line,
        end_col,
        scope,
        sig,
        (ext[0], ext[1], ext[2], ext[3]),
        language,
    )


def _sort_symbols(nodes: list[SymbolNode]) -> None:
    nodes.sort(key=lambda n: (n.range[0], n.range[1]))
    for n in nodes:
        if n.children:
            _sort_symbols(n.children)
