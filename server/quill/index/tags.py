"""Definitions and references of one source file, from the language's tags query.

Positions are 0-based. Lines count ``\\n``-separated lines; columns are **byte offsets** into
the UTF-8 encoded line (tree-sitter points), not characters and not UTF-16 code units: convert
with the line's text before handing them to an LSP client.

A :class:`Tag`'s ``start_*``/``end_*`` span the identifier (the ``@name`` capture). For
definitions ``extent`` spans the whole definition node (the ``@definition.*`` capture), which
is what document symbols need as their full range.

Scopes are computed by nesting: a tag's ``scope`` is the dotted qualified name of the innermost
definition whose extent contains it (``"Layout"`` for a method of class ``Layout``,
``"Layout.update"`` for a function nested in that method). A query may name the scope
explicitly with an ``@scope`` capture (Go method receivers, Rust ``impl`` blocks, C++
``A::f``); it is appended to the enclosing scope. A ``function`` whose innermost enclosing
definition is a ``class`` or ``interface`` is reported as a ``method``.

The records (:class:`Tag`, :class:`RawFileTags`, the packed references) are defined in
:mod:`quill.index.tag_records` and importable from here too; this module turns a tags query's
captures into them.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Sequence
from typing import Literal

import tree_sitter

from quill.index.languages import get_parser, get_tags_query
from quill.index.tag_records import (
    DEFINITION_KINDS,
    REF_FIELDS,
    REF_KIND_CODES,
    REF_KINDS_BY_CODE,
    REFERENCE_KINDS,
    DefRow,
    FileTags,
    ImportRecord,
    Positions,
    RawFileTags,
    RefRow,
    Tag,
    build_tags,
    count_lines,
    unpack_refs,
)

log = logging.getLogger(__name__)

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
    "count_lines",
    "extract_file",
    "extract_raw",
    "extract_tags",
    "unpack_refs",
]

MAX_SIGNATURE_CHARS = 200

_CONTAINER_KINDS = frozenset({"class", "interface"})
_SKIP_PREFIX_LINES = (b"@", b"#[", b"//", b"/*", b"*", b"#")


def extract_tags(source: bytes, language: str, path: str = "") -> list[Tag]:
    """Definitions and references in ``source``, in document order.

    Never raises on bad input (invalid UTF-8, syntax errors, unknown language): logs and
    returns whatever could be extracted. ``path`` is only used in log lines.
    """
    return extract_file(source, language, path).tags


#: (role capture name, is_definition, kind, reference kind code or -1), or False: no role
Role = tuple[str, bool, str, int] | Literal[False]
_pattern_roles: dict[str, dict[int, Role]] = {}  # per language, per pattern index


def _role_for(language: str, pattern: int, keys: Sequence[str]) -> Role:
    role: Role = False
    for cap in keys:
        if cap.startswith("definition."):
            role = (cap, True, cap[11:], -1)
            break
        if cap.startswith("reference.") and cap[10:] in REF_KIND_CODES:
            role = (cap, False, cap[10:], REF_KIND_CODES[cap[10:]])
            break
    if role is False:
        log.warning(
            "%s tags query: pattern %d has no @definition.* or known @reference.* capture",
            language,
            pattern,
        )
    _pattern_roles.setdefault(language, {})[pattern] = role
    return role


def _signature(source: bytes, ext_start: int, name_start: int) -> str:
    line_start = source.rfind(b"\n", 0, name_start) + 1
    line_end = source.find(b"\n", name_start)
    if line_end < 0:
        line_end = len(source)
    line = source[line_start:line_end].strip()
    if ext_start < line_start:
        first = source.rfind(b"\n", 0, ext_start) + 1
        keep = [
            stripped
            for raw in source[first:line_start].split(b"\n")
            if (stripped := raw.strip()) and not stripped.startswith(_SKIP_PREFIX_LINES)
        ]
        if 0 < len(keep) <= 2:
            line = b" ".join([*keep, line])
    text = line.decode("utf-8", "replace")
    if len(text) > MAX_SIGNATURE_CHARS:
        text = text[: MAX_SIGNATURE_CHARS - 1] + "…"
    return text


def extract_file(source: bytes, language: str, path: str = "") -> FileTags:
    """Tags and import records of one file. Never raises; see :func:`extract_tags`."""
    raw = extract_raw(source, language, path)
    tags = build_tags(raw.defs, unpack_refs(raw.ref_names, raw.ref_data))
    return FileTags(tags, raw.imports, raw.lines, raw.has_error)


def _empty(lines: int, has_error: bool) -> RawFileTags:
    return RawFileTags([], [], b"", [], lines, has_error)


def extract_raw(source: bytes, language: str, path: str = "") -> RawFileTags:
    """Like :func:`extract_file` but in storage form (definitions and references each in
    document order). Never raises."""
    lines = count_lines(source)
    parser = get_parser(language)
    query = get_tags_query(language)
    if parser is None or query is None:
        return _empty(lines, False)
    try:
        tree = parser.parse(source)
    except (ValueError, RuntimeError, MemoryError):
        log.warning("%s: tree-sitter could not parse this %s file", path or "<buffer>", language)
        return _empty(lines, True)
    root = tree.root_node
    has_error = root.has_error
    try:
        matches = tree_sitter.QueryCursor(query).matches(root)
    except (ValueError, RuntimeError, MemoryError):
        log.warning("%s: tags query failed on this %s file", path or "<buffer>", language)
        return _empty(lines, has_error)
    del tree, root
    try:
        return _collect(source, language, matches, lines, has_error)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        # Defensive: a query capturing something unexpected must not sink the whole index.
        log.exception("%s: cannot extract %s tags", path or "<buffer>", language)
        return _empty(lines, has_error)


def _collect(
    source: bytes,
    language: str,
    matches: list[tuple[int, dict[str, list[tree_sitter.Node]]]],
    lines: int,
    has_error: bool,
    *,
    keep: tuple[int, int] | None = None,
    stack: list[list] | None = None,
    names: dict[bytes, int] | None = None,
    positions: Positions | None = None,
) -> RawFileTags:
    """Turn query matches into tags.

    Incremental updates pass ``keep`` (only identifiers starting in this byte range count),
    ``stack`` (the enclosing definitions of that range, as built below), ``names`` (the
    reference name table to extend; the result's ``ref_names`` is then left empty) and
    ``positions`` (filled with byte offsets).
    """
    roles = _pattern_roles.get(language) or {}
    # Deduplicate by name node: several patterns may capture the same identifier; the first
    # pattern in the query file wins (queries list specific patterns before general ones).
    defs: dict[int, tuple] = {}  # name start byte -> raw definition
    refs: dict[int, tuple] = {}  # name start byte -> raw reference
    imports: list[ImportRecord] = []
    imported: set[int] = set()
    lo, hi = keep if keep is not None else (0, len(source) + 1)
    import_code = REF_KIND_CODES["import"]
    for pattern, caps in matches:
        role = roles.get(pattern)
        if role is None:
            role = _role_for(language, pattern, list(caps))
            roles = _pattern_roles[language]
        if role is False:  # no role capture in this pattern
            continue
        name_nodes = caps.get("name")
        if not name_nodes:
            continue
        name_node = name_nodes[0]
        ns = name_node.start_byte
        if ns < lo or ns >= hi:
            continue
        code = role[3]
        if code < 0:  # a definition
            old = defs.get(ns)
            if old is not None and old[0] <= pattern:
                continue
            ext = caps[role[0]][0]
            scope_nodes = caps.get("scope")
            defs[ns] = (
                pattern,
                role[2],
                name_node,
                ext.start_byte,
                ext.end_byte,
                ext.start_point,
                ext.end_point,
                _text(source, scope_nodes[0]) if scope_nodes else None,
            )
            continue
        if code == import_code and ns not in imported:
            imported.add(ns)
            module_nodes = caps.get("module")
            alias_nodes = caps.get("alias")
            imports.append(
                ImportRecord(
                    module=_text(source, module_nodes[0]) if module_nodes else None,
                    name=_text(source, name_node),
                    alias=_text(source, alias_nodes[0]) if alias_nodes else None,
                    line=name_node.start_point[0],
                )
            )
            if positions is not None:
                positions.imports.append(ns)
        old_ref = refs.get(ns)
        if old_ref is None or old_ref[0] > pattern:
            refs[ns] = (pattern, code, name_node)

    # Walk definitions (by extent start, outer before inner) and references (by name start)
    # together in document order, keeping the stack of enclosing definitions.
    def_items = sorted(defs.values(), key=_def_order)
    # The identifier being defined is not also a use of itself (imports excepted).
    ref_keys = sorted(ns for ns, r in refs.items() if r[1] == import_code or ns not in defs)

    out_defs: list[tuple[int, DefRow, int, int]] = []
    own_names = names is None
    if names is None:
        names = {}
    data = array("i")
    put = data.extend
    ref_pos = positions.refs if positions is not None else None
    # Enclosing definitions: [extent end byte, qualified name, kind, name index or -1].
    if stack is None:
        stack = []
    base = len(stack)

    def add_def(raw: tuple) -> None:
        _pattern, kind, node, ext_start, ext_end, ext_sp, ext_ep, explicit = raw
        while len(stack) > base and stack[-1][0] <= ext_start:
            stack.pop()
        parent = stack[-1] if stack else None
        ns = node.start_byte
        name = source[ns : node.end_byte].decode("utf-8", "replace")
        if explicit:
            scope: str | None = f"{parent[1]}.{explicit}" if parent else explicit
            if kind == "function":
                kind = "method"
        else:
            scope = parent[1] if parent else None
            if kind == "function" and parent is not None and parent[2] in _CONTAINER_KINDS:
                kind = "method"
        sp = node.start_point
        ep = node.end_point
        row = (
            name,
            kind,
            sp[0],
            sp[1],
            ep[0],
            ep[1],
            scope,
            _signature(source, ext_start, ns),
            ext_sp[0],
            ext_sp[1],
            ext_ep[0],
            ext_ep[1],
        )
        out_defs.append((ns, row, ext_start, ext_end))
        stack.append([ext_end, f"{scope}.{name}" if scope else name, kind, -1])

    di = 0
    n_defs = len(def_items)
    next_def = def_items[0][3] if n_defs else len(source) + 1
    for start in ref_keys:
        while next_def <= start:
            add_def(def_items[di])
            di += 1
            next_def = def_items[di][3] if di < n_defs else len(source) + 1
        while len(stack) > base and stack[-1][0] <= start:
            stack.pop()
        raw = refs[start]
        node = raw[2]
        end = node.end_byte
        key = source[start:end]
        ni = names.get(key)
        if ni is None:
            ni = names[key] = len(names)
        sp = node.start_point
        if b"\n" in key:
            el, ec = node.end_point
        else:
            el, ec = sp[0], sp[1] + end - start
        if stack:
            parent = stack[-1]
            si = parent[3]
            if si < 0:
                skey = parent[1].encode("utf-8", "surrogatepass")
                si = names.get(skey, -1)
                if si < 0:
                    si = names[skey] = len(names)
                parent[3] = si
        else:
            si = -1
        put((ni, raw[1], sp[0], sp[1], el, ec, si))
        if ref_pos is not None:
            ref_pos.append(start)
    while di < n_defs:
        add_def(def_items[di])
        di += 1
    del stack[base:]

    out_defs.sort(key=_first)
    if positions is not None:
        positions.defs.extend((d[0], d[2], d[3]) for d in out_defs)
    # A caller passing its own name table keeps the decoded list itself.
    ref_names = (
        [k.decode("utf-8", "replace").replace("\n", " ") for k in names] if own_names else []
    )
    return RawFileTags(
        [d[1] for d in out_defs], ref_names, data.tobytes(), imports, lines, has_error
    )


def _first(item: tuple[int, DefRow, int, int]) -> int:
    return item[0]


def _def_order(raw: tuple) -> tuple[int, int]:
    return (raw[3], -raw[4])


def _text(source: bytes, node: tree_sitter.Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")
