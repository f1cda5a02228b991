"""The cases of ``quill bench context``: one-line statements inside function bodies that
need a definition from another file of the project, found in an indexed project and sampled
(see :mod:`quill.bench.context_bench` for the kinds)."""

from __future__ import annotations

import ast
import builtins
import functools
import random
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from quill.bench.context_project import Project
from quill.index.records import Definition
from quill.index.service import WorkspaceIndex

__all__ = ["KINDS", "Case", "find_cases", "find_project_cases", "sample_cases"]

KINDS = ("import", "module", "method")
#: method names too common to say which definition a call needs
UBIQUITOUS_METHODS = frozenset(
    "append extend insert pop remove clear copy get set items keys values update setdefault "
    "join split rsplit strip lstrip rstrip format replace startswith endswith lower upper "
    "encode decode read write readline readlines close flush open send recv start stop run "
    "add discard put find index count sort reverse match search sub group groups "
    "__init__ __call__ __enter__ __exit__ __aenter__ __aexit__ __iter__ __next__".split()
)
_DOTTED_BEFORE_DOT = re.compile(
    r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*\.\s*$"
)
_DOT_BEFORE = re.compile(r"\.\s*$")


@dataclass(frozen=True, slots=True)
class Case:
    """One cursor position and the definition the removed line needed."""

    path: str  # workspace-relative
    line: int  # 0-based
    column: int  # the line's indentation: where the cursor is put
    kind: str  # one of KINDS
    name: str  # the identifier as written on the line
    target: Definition
    source_line: str  # the removed line

    @property
    def key(self) -> tuple[str, int]:
        return (self.path, self.line)


@functools.cache
def _excluded_names() -> frozenset[str]:
    """Builtins and standard-library module names (every kind)."""
    return frozenset(dir(builtins)) | frozenset(sys.stdlib_module_names)


@functools.cache
def _excluded_methods() -> frozenset[str]:
    """Method names that say nothing about the project: ubiquitous ones and the attributes
    of the builtin types and of a few standard-library classes everyone uses."""
    import collections
    import io
    import logging
    import pathlib
    import threading

    names: set[str] = set(UBIQUITOUS_METHODS)
    kinds: list[type] = [
        object,
        str,
        bytes,
        bytearray,
        int,
        float,
        list,
        dict,
        set,
        frozenset,
        tuple,
        io.IOBase,
        io.TextIOWrapper,
        io.BytesIO,
        io.StringIO,
        logging.Logger,
        pathlib.Path,
        threading.Thread,
        collections.deque,
        collections.OrderedDict,
        type(re.compile("")),
        type(re.match("", "")),
    ]
    for kind in kinds:
        names.update(dir(kind))
    return frozenset(names)


_COMPOUND = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.TryStar,
)


def _statement_lines(source: str) -> dict[int, int]:
    """0-based line -> indentation of the one-line simple statements inside function
    bodies that have the line to themselves. A statement alone in its block counts too:
    removing it leaves an empty block, which is what the buffer looks like while someone
    writes the first line of a body."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    lines = source.split("\n")
    found: dict[int, int] = {}
    per_line: dict[int, int] = {}

    def block(stmts: Sequence[ast.stmt]) -> None:
        for stmt in stmts:
            per_line[stmt.lineno] = per_line.get(stmt.lineno, 0) + 1
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue  # functions are visited on their own; class bodies are not bodies
            if isinstance(stmt, ast.Match):
                for case in stmt.cases:
                    block(case.body)
                continue
            if isinstance(stmt, _COMPOUND):
                for attr in ("body", "orelse", "finalbody"):
                    block(getattr(stmt, attr, None) or [])
                for handler in getattr(stmt, "handlers", None) or []:
                    block(handler.body)
                continue
            if stmt.end_lineno != stmt.lineno:
                continue
            if (
                isinstance(stmt, ast.Expr)
                and isinstance(stmt.value, ast.Constant)
                and isinstance(stmt.value.value, str)
            ):
                continue  # a docstring or a bare string
            line = stmt.lineno - 1
            if line < len(lines) and not lines[line][: stmt.col_offset].strip():
                found[line] = stmt.col_offset

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            block(node.body)
    return {line: col for line, col in found.items() if per_line.get(line + 1) == 1}


def find_cases(index: WorkspaceIndex, files: Sequence[str] | None = None) -> dict[str, list[Case]]:
    """Every case of each kind in the indexed Python files, by kind, in (path, line) order."""
    project = Project(index, files if files is not None else index.indexed_files())
    return find_project_cases(project)


def find_project_cases(project: Project) -> dict[str, list[Case]]:
    excluded = _excluded_names()
    excluded_methods = _excluded_methods()
    method_defs: dict[str, Definition | None] = {}

    def unique_method(name: str) -> Definition | None:
        if name not in method_defs:
            defs = project.index.definitions(name)
            only = defs[0] if len(defs) == 1 else None
            ok = only is not None and only.kind == "method" and only.scope and only.signature
            method_defs[name] = only if ok else None
        return method_defs[name]

    out: dict[str, list[Case]] = {kind: [] for kind in KINDS}
    for rel in project.files:
        path = project.root / rel
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        statements = _statement_lines(text)
        if not statements:
            continue
        lines = text.split("\n")
        own_names = {d.name for d in project.defs(rel)}
        b = project.bindings(rel)
        seen: set[tuple[int, str]] = set()
        for tag in project.index.file_tags(path):
            if tag.is_definition or tag.kind not in ("call", "type"):
                continue
            line = tag.start_line
            indent = statements.get(line)
            if indent is None or line >= len(lines):
                continue
            name = tag.name
            if name in own_names or name in excluded:
                continue
            raw = lines[line].encode("utf-8")
            prefix = raw[: tag.start_col].decode("utf-8", errors="replace")
            dotted = _DOTTED_BEFORE_DOT.search(prefix)
            kind: str | None = None
            target: Definition | None = None
            if dotted is not None:
                base = re.sub(r"\s+", "", dotted.group(1))
                module_file = b.modules.get(base)
                if module_file is not None:
                    kind, target = "module", project.resolve_def(module_file, name)
            if kind is None and _DOT_BEFORE.search(prefix):
                if name not in excluded_methods:
                    kind, target = "method", unique_method(name)
            elif kind is None and name in b.names:
                source, orig = b.names[name]
                if orig not in own_names and orig not in excluded:
                    kind, target = "import", project.resolve_def(source, orig)
            if kind is None or target is None or target.path == rel or not target.signature:
                continue
            if (line, kind) in seen:
                continue
            seen.add((line, kind))
            out[kind].append(Case(rel, line, indent, kind, name, target, lines[line]))
    for cases in out.values():
        cases.sort(key=lambda c: (c.path, c.line))
    return out


def sample_cases(by_kind: dict[str, list[Case]], max_cases: int, rng: random.Random) -> list[Case]:
    """At most ``max_cases``, one per file and needed definition, balanced across kinds
    where there are enough of each; the result in (path, line, kind) order."""
    pools: dict[str, list[Case]] = {}
    for kind in KINDS:
        # One case per (file, needed definition): a definition used thirty times in one
        # test file counts once, at one of its uses picked at random.
        groups: dict[tuple[str, str, int], list[Case]] = {}
        for case in by_kind.get(kind, []):
            key = (case.path, case.target.path, case.target.start_line)
            groups.setdefault(key, []).append(case)
        pools[kind] = [rng.choice(groups[key]) for key in sorted(groups)]
        rng.shuffle(pools[kind])
    chosen: list[Case] = []
    quota = max_cases // len(KINDS)
    for kind in KINDS:
        chosen.extend(pools[kind][:quota])
        pools[kind] = pools[kind][quota:]
    # Fill what is left round-robin from the kinds that have more.
    while len(chosen) < max_cases and any(pools.values()):
        for kind in KINDS:
            if pools[kind] and len(chosen) < max_cases:
                chosen.append(pools[kind].pop(0))
    chosen.sort(key=lambda c: (c.path, c.line, KINDS.index(c.kind)))
    return chosen
