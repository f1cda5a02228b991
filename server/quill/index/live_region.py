"""The region of an edited buffer that re-tagging must query again (steps 2 and 3 of
:mod:`quill.index.live`).

Starting from the bytes an edit touched (and the tree's changed ranges), the region is widened
to whole lines and whole syntax nodes (:func:`syntax_region`), then until it is self-contained
(:func:`settle_region`): every definition named in it lies wholly inside it, no definition
straddles its border, and it does not touch the header line of a definition enclosing it.
Offsets are bytes of the new text unless said otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import tree_sitter

from quill.index.tags import _pattern_roles, _role_for

__all__ = ["MAX_WIDENINGS", "REGION_MIN_BYTES", "Region", "settle_region", "syntax_region"]

REGION_MIN_BYTES = 1024
MAX_WIDENINGS = 8

Matches = list[tuple[int, dict[str, list[tree_sitter.Node]]]]
#: name start -> (extent start, extent end, extent end point, pattern)
ContextDefs = dict[int, tuple[int, int, tuple[int, int], int]]


@dataclass(slots=True)
class Region:
    """A self-contained region ``[start, end)`` of the new text, the tags query's matches over
    it, and the definitions named outside it whose extents meet it (those enclosing it, with
    their new extents)."""

    start: int
    end: int
    matches: Matches
    context: ContextDefs


def _lines(source: bytes, lo: int, hi: int) -> tuple[int, int]:
    """[lo, hi) widened to whole lines (signatures are lines)."""
    lo = source.rfind(b"\n", 0, lo) + 1
    end = source.find(b"\n", max(lo, hi - 1))
    return lo, len(source) if end < 0 else end + 1


def syntax_region(source: bytes, root: tree_sitter.Node, lo: int, hi: int) -> tuple[int, int]:
    """Whole lines and whole syntax nodes around [lo, hi): starting at the root, while exactly
    one child overlaps it and that child is large, descend into it; the region is then the
    overlapping children of that node."""
    while True:
        lo, hi = _lines(source, lo, hi)
        new_lo, new_hi = _nodes(root, lo, hi)
        if (new_lo, new_hi) == (lo, hi):
            return lo, hi
        lo, hi = new_lo, new_hi


def _nodes(root: tree_sitter.Node, lo: int, hi: int) -> tuple[int, int]:
    node = root
    while True:
        kids = [c for c in node.children if c.start_byte < hi and c.end_byte > lo]
        if not kids:
            return lo, hi
        if len(kids) == 1:
            only = kids[0]
            if only.child_count > 0 and only.end_byte - only.start_byte > REGION_MIN_BYTES:
                node = only
                continue
        return min(kids[0].start_byte, lo), max(kids[-1].end_byte, hi)


def _context_defs(
    language: str, matches: Matches, lo: int, hi: int
) -> tuple[ContextDefs, int, int]:
    """Definitions named outside [lo, hi) whose extents meet it: name start -> (extent start,
    extent end, extent end point, pattern), the first pattern winning as in extraction; and
    the span of the extents of the definitions named inside."""
    roles = _pattern_roles.get(language) or {}
    out: ContextDefs = {}
    inner_lo, inner_hi = lo, hi
    for pattern, caps in matches:
        role = roles.get(pattern)
        if role is None:
            role = _role_for(language, pattern, list(caps))
            roles = _pattern_roles[language]
        if not isinstance(role, tuple) or not role[1]:
            continue
        name_nodes = caps.get("name")
        if not name_nodes:
            continue
        ns = name_nodes[0].start_byte
        if lo <= ns < hi:
            ext = caps[role[0]][0]
            inner_lo = min(inner_lo, ext.start_byte)
            inner_hi = max(inner_hi, ext.end_byte)
            continue
        old = out.get(ns)
        if old is not None and old[3] <= pattern:
            continue
        ext = caps[role[0]][0]
        if ext.start_byte < hi and ext.end_byte > lo:
            ep = ext.end_point
            out[ns] = (ext.start_byte, ext.end_byte, (ep[0], ep[1]), pattern)
    return out, inner_lo, inner_hi


def settle_region(
    language: str,
    query: tree_sitter.Query,
    new: bytes,
    root: tree_sitter.Node,
    lo: int,
    hi: int,
    *,
    edit_start: int,
    delta: int,
    old_def_pos: list[tuple[int, int, int]],
    old_by_name: Mapping[int, int],
) -> Region:
    """Widen [lo, hi) of ``new`` until it is self-contained (see the module docstring).

    The old tags' definitions are ``old_def_pos`` (name start, extent start, extent end, in
    the old text; ``old_by_name`` maps their name starts to their index); ``edit_start`` and
    ``delta`` (new length minus old) place the edit. Raises :class:`ValueError` when the
    region has not settled after :data:`MAX_WIDENINGS` rounds."""
    p = edit_start
    rs, re = syntax_region(new, root, lo, hi)

    def to_new(b: int) -> int:  # old offsets outside the edited bytes
        return b if b <= p else b + delta

    # The ranged query also reports the definitions whose extents meet the region (with their
    # new extents).
    cursor = tree_sitter.QueryCursor(query)
    for _ in range(MAX_WIDENINGS):
        re_old = re - delta
        cursor.set_byte_range(rs, re)
        matches = cursor.matches(root)
        context, ws, we = _context_defs(language, matches, rs, re)
        for ns, (es, ee, _ep, _pattern) in context.items():
            if es <= rs and ee >= re:  # encloses the region: is its header touched?
                line_end = new.find(b"\n", ns)
                if rs <= (len(new) if line_end < 0 else line_end) or ns not in old_by_name:
                    ws, we = min(ws, es), max(we, ee)
            else:  # straddles the border
                ws, we = min(ws, es), max(we, ee)
        for ns, es, ee in old_def_pos:
            if rs <= ns < re_old:  # replaced: its old extent must be re-read too
                ws, we = min(ws, to_new(es)), max(we, to_new(ee))
            elif ns < rs:
                # Its old extent reached into the region but the new one does not (or
                # no longer encloses it): read it again.
                if ee > rs and ns not in context:
                    ws, we = min(ws, es), max(we, to_new(ee))
            elif es < re_old:  # named after the region, starts inside it
                ws, we = min(ws, to_new(es)), max(we, to_new(ee))
        if (ws, we) == (rs, re):
            return Region(rs, re, matches, context)
        rs, re = syntax_region(new, root, max(0, ws), min(len(new), we))
    raise ValueError("the region did not settle")
