"""Incremental re-tagging of open editor buffers.

For a buffer that changes by small edits (keystrokes), re-parsing and re-querying the whole
file costs time proportional to its size (70 ms for a 6,000-line Python file). Here the last
tags of a few recently edited buffers are kept and each new text is applied as an edit
instead:

1. the one tree cache (:class:`quill.index.trees.TreeCache`, shared with scope inference)
   parses the new text incrementally and reports the edit: the span of bytes that differ
   from the text these tags came from (the editor's own edits, or common prefix and suffix);
2. the *region* to re-query is the edit plus the tree's changed ranges, widened to whole
   syntax nodes: starting at the root, while exactly one child overlaps it and that child is
   large, descend into it; the region is then the overlapping children of that node;
3. the region is widened further until it is self-contained: every definition named in it
   lies wholly inside it, no definition straddles its border, and it does not touch the
   header line of a definition enclosing it (a signature or a name that members' scopes
   depend on) (steps 2 and 3: :mod:`quill.index.live_region`);
4. the tags query runs over the region only, with the enclosing definitions (from the old
   tags) as the starting scope; old tags before the region are kept, old tags after it are
   shifted by the edit's size.

The result is identical to a full extraction (a test checks this on random edits). Only
:data:`MAX_LIVE_DOCS` buffers are kept (least recently edited dropped first), and every
:data:`FULL_REFRESH_EVERY` updates a buffer's whole tree is queried from scratch, which also
trims the reference name table.
"""

from __future__ import annotations

import logging
from array import array
from bisect import bisect_left
from dataclasses import dataclass

import tree_sitter

from quill.index.languages import get_tags_query
from quill.index.live_region import settle_region
from quill.index.tag_records import (
    REF_FIELDS,
    DefRow,
    ImportRecord,
    Positions,
    RawFileTags,
    count_lines,
)
from quill.index.tags import _collect
from quill.index.trees import BoundedDocuments, TreeCache, TreeChange, point_at

log = logging.getLogger(__name__)

__all__ = ["FULL_REFRESH_EVERY", "MAX_LIVE_DOCS", "LiveDocuments"]

MAX_LIVE_DOCS = 8
FULL_REFRESH_EVERY = 200


@dataclass(slots=True)
class _Doc:
    language: str
    source: bytes
    tree: tree_sitter.Tree
    defs: list[DefRow]
    def_pos: list[tuple[int, int, int]]  # name start, extent start, extent end (bytes)
    names: dict[bytes, int]
    name_list: list[str]
    data: array  # packed references
    ref_pos: array  # name start byte per reference
    imports: list[ImportRecord]
    import_pos: list[int]
    has_error: bool
    updates: int = 0

    def raw(self) -> RawFileTags:
        return RawFileTags(
            list(self.defs),
            list(self.name_list),
            self.data.tobytes(),
            list(self.imports),
            count_lines(self.source),
            self.has_error,
        )


def _full(language: str, source: bytes, tree: tree_sitter.Tree) -> _Doc | None:
    query = get_tags_query(language)
    if query is None:
        return None
    matches = tree_sitter.QueryCursor(query).matches(tree.root_node)
    positions = Positions([], array("i"), [])
    names: dict[bytes, int] = {}
    raw = _collect(
        source,
        language,
        matches,
        0,
        tree.root_node.has_error,
        names=names,
        positions=positions,
    )
    del matches
    imports, import_pos = _sorted_imports(raw.imports, positions.imports)
    data = array("i")
    data.frombytes(raw.ref_data)
    return _Doc(
        language,
        source,
        tree,
        raw.defs,
        positions.defs,
        names,
        [k.decode("utf-8", "replace").replace("\n", " ") for k in names],
        data,
        positions.refs,
        imports,
        import_pos,
        raw.has_error,
    )


def _sorted_imports(
    imports: list[ImportRecord], pos: list[int]
) -> tuple[list[ImportRecord], list[int]]:
    pairs = sorted(zip(pos, range(len(pos)), imports, strict=True))
    return [p[2] for p in pairs], [p[0] for p in pairs]


class _Shift:
    """Maps old byte offsets and points at or after the old region end to the new text."""

    def __init__(self, old: bytes, new: bytes, old_end: int, new_end: int) -> None:
        self.delta = new_end - old_end
        old_row, old_col = point_at(old, old_end)
        new_row, new_col = point_at(new, new_end)
        self.old_row = old_row
        self.rows = new_row - old_row
        self.cols = new_col - old_col

    def point(self, row: int, col: int) -> tuple[int, int]:
        return row + self.rows, (col + self.cols if row == self.old_row else col)


class LiveDocuments(BoundedDocuments[_Doc]):
    """The last tags of recently edited buffers, keyed by workspace path; their trees come
    from ``trees``, the one tree cache (whoever builds this passes it; by default a cache of
    its own). :meth:`drop` forgets a buffer's tags; its tree stays in the shared cache."""

    def __init__(self, max_docs: int = MAX_LIVE_DOCS, *, trees: TreeCache | None = None) -> None:
        super().__init__(max_docs)
        self.trees = trees if trees is not None else TreeCache(max_docs)
        self.full_updates = 0  # counters for tests and benchmarks
        self.incremental_updates = 0

    def update(self, key: str, language: str, source: bytes) -> RawFileTags | None:
        """Tags of ``source``, reusing the previous version of ``key`` when there is one.
        ``None`` when the language is unavailable."""
        with self._lock:
            doc = self._docs.pop(key, None)
            if doc is not None and doc.language != language:
                doc = None
            if get_tags_query(language) is None:
                return None
            change = self.trees.update(
                key, language, source, base=(doc.source, doc.tree) if doc is not None else None
            )
            if change is None:
                return None
            new_doc: _Doc | None = None
            if doc is not None and doc.updates < FULL_REFRESH_EVERY:
                try:
                    new_doc = self._incremental(doc, change)
                    self.incremental_updates += 1
                except (ValueError, RuntimeError, IndexError, KeyError) as exc:
                    log.debug("%s: incremental update failed (%s); full re-query", key, exc)
                    new_doc = None
            if new_doc is None:
                new_doc = _full(language, source, change.tree)
                self.full_updates += 1
                if new_doc is None:
                    return None
            self._keep_locked(key, new_doc)
            return new_doc.raw()

    # ------------------------------------------------------------------ the incremental step

    def _incremental(self, doc: _Doc, change: TreeChange) -> _Doc:
        old, new = doc.source, change.source
        if new == old:
            return doc
        query = get_tags_query(doc.language)
        edit = change.edit
        if query is None or edit is None or change.old_tree is None:
            raise RuntimeError("no edit from the tree cache")
        if change.old_source is not old and change.old_source != old:
            raise RuntimeError("the tree cache's edit is from another version")
        p, old_end, new_end = edit.start_byte, edit.old_end_byte, edit.new_end_byte
        new_tree = change.tree
        lo, hi = max(0, p - 1), min(len(new), max(new_end, p) + 1)
        for r in change.changed_ranges():
            lo = min(lo, r.start_byte)
            hi = max(hi, r.end_byte)
        root = new_tree.root_node
        delta = new_end - old_end
        old_by_name = {pos[0]: i for i, pos in enumerate(doc.def_pos)}
        region = settle_region(
            doc.language,
            query,
            new,
            root,
            lo,
            hi,
            edit_start=p,
            delta=delta,
            old_def_pos=doc.def_pos,
            old_by_name=old_by_name,
        )
        rs, re, matches, context = region.start, region.end, region.matches, region.context
        re_old = re - delta

        # Enclosing definitions of the region, outermost first, as _collect's stack.
        enclosing = []
        for ns, (es, ee, _ep, _pattern) in context.items():
            row = doc.defs[old_by_name[ns]]
            qual = f"{row[6]}.{row[0]}" if row[6] else row[0]
            enclosing.append((es, -ee, [ee, qual, row[1], -1]))
        enclosing.sort(key=lambda e: (e[0], e[1]))
        stack = [e[2] for e in enclosing]

        positions = Positions([], array("i"), [])
        names = doc.names
        old_names = len(names)
        part = _collect(
            new,
            doc.language,
            matches,
            0,
            False,
            keep=(rs, re),
            stack=stack,
            names=names,
            positions=positions,
        )
        for (_ns, es, ee), row in zip(positions.defs, part.defs, strict=True):
            if es < rs or ee > re:  # a new definition reaching outside: start over, wider
                raise ValueError(f"definition {row[0]!r} outgrew the region")
        shift = _Shift(old, new, re_old, re)

        # Definitions: before the region (enclosing ones get their end moved), the region's,
        # then the ones after it, shifted.
        defs: list[DefRow] = []
        def_pos: list[tuple[int, int, int]] = []
        after_defs: list[DefRow] = []
        after_pos: list[tuple[int, int, int]] = []
        for (ns, es, ee), row in zip(doc.def_pos, doc.defs, strict=True):
            if ns < rs:
                found = context.get(ns)
                if found is not None:  # encloses the region: new end from the new tree
                    ee = found[1]
                    row = (*row[:10], found[2][0], found[2][1])
                defs.append(row)
                def_pos.append((ns, es, ee))
            elif ns >= re_old:
                sl, sc = shift.point(row[2], row[3])
                el, ec2 = shift.point(row[4], row[5])
                xl, xc = shift.point(row[8], row[9])
                yl, yc = shift.point(row[10], row[11])
                after_defs.append((row[0], row[1], sl, sc, el, ec2, row[6], row[7], xl, xc, yl, yc))
                after_pos.append((ns + delta, es + delta, ee + delta))
        defs.extend(part.defs)
        def_pos.extend(positions.defs)
        defs.extend(after_defs)
        def_pos.extend(after_pos)

        # References: the packed arrays are spliced, the tail shifted.
        ref_pos = doc.ref_pos
        i = bisect_left(ref_pos, rs)
        j = bisect_left(ref_pos, re_old)
        data = doc.data[: i * REF_FIELDS]
        data.frombytes(part.ref_data)
        tail = doc.data[j * REF_FIELDS :]
        if shift.cols:  # references on the line where the region ended move sideways
            for k in range(0, len(tail), REF_FIELDS):
                if tail[k + 2] != shift.old_row:
                    break
                tail[k + 3] += shift.cols
                if tail[k + 4] == shift.old_row:
                    tail[k + 5] += shift.cols
        if shift.rows:
            rows = shift.rows
            for field in (2, 4):
                tail[field::REF_FIELDS] = array("i", [r + rows for r in tail[field::REF_FIELDS]])
        data.extend(tail)
        new_ref_pos = ref_pos[:i]
        new_ref_pos.extend(positions.refs)
        new_ref_pos.extend(b + delta for b in ref_pos[j:])

        # Imports.
        part_imports, part_import_pos = _sorted_imports(part.imports, positions.imports)
        imports: list[ImportRecord] = []
        import_pos: list[int] = []
        for pos, rec in zip(doc.import_pos, doc.imports, strict=True):
            if pos < rs:
                imports.append(rec)
                import_pos.append(pos)
        imports.extend(part_imports)
        import_pos.extend(part_import_pos)
        for pos, rec in zip(doc.import_pos, doc.imports, strict=True):
            if pos >= re_old:
                imports.append(ImportRecord(rec.module, rec.name, rec.alias, rec.line + shift.rows))
                import_pos.append(pos + delta)

        name_list = doc.name_list
        if len(names) > old_names:
            fresh = list(names)[old_names:]
            name_list = name_list + [k.decode("utf-8", "replace").replace("\n", " ") for k in fresh]
        return _Doc(
            doc.language,
            new,
            new_tree,
            defs,
            def_pos,
            names,
            name_list,
            data,
            new_ref_pos,
            imports,
            import_pos,
            root.has_error,
            doc.updates + 1,
        )
