"""The systems ``quill bench context`` compares (aider's is in :mod:`quill.bench.aider_runs`):
Quill's context (``assemble_context``, or the repo map where that does not exist) and the
import-following baseline; and what counts as a hit."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from quill.bench.context_cases import Case
from quill.bench.context_project import Project
from quill.index.repomap import estimate_tokens

__all__ = [
    "SYSTEMS",
    "baseline_text",
    "hit",
    "identifiers_near_cursor",
    "quill_system",
    "remove_line",
]

SYSTEMS = ("quill", "baseline", "aider")


def remove_line(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    ending = "\r" if lines[line].endswith("\r") else ""
    lines[line] = lines[line][:column] + ending
    return "\n".join(lines)


def quill_system() -> tuple[str, Callable[..., Any] | None]:
    """("assemble_context", function) when quill.context.assemble exists, else the map."""
    try:
        spec = importlib.util.find_spec("quill.context.assemble")
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        module = importlib.import_module("quill.context.assemble")
        assembler_class = getattr(module, "ContextAssembler", None)
        if assembler_class is not None:
            # One assembler per index, as the server keeps one: what calls share is reused.
            assemblers: dict[int, Any] = {}

            def assemble(index: Any, *args: Any, **kwargs: Any) -> Any:
                assembler = assemblers.get(id(index))
                if assembler is None or assembler.index is not index:
                    assembler = assemblers[id(index)] = assembler_class(index)
                return assembler.assemble(*args, **kwargs)

            return "assemble_context (quill.context.assemble)", assemble
        function = getattr(module, "assemble_context", None)
        if callable(function):
            return "assemble_context (quill.context.assemble)", function
    return "repo map fallback (index.repo_map, focus file + identifiers near the cursor)", None


def identifiers_near_cursor(prefix: str) -> list[str]:
    from quill.context.assemble import identifiers_near

    return identifiers_near(prefix.split("\n")[-12:])


def baseline_text(project: Project, rel: str, budget: int) -> str:
    """Import following: signatures of the names imported from project modules and the
    top-level definitions of project modules imported whole (for a package, also the names
    its ``__init__`` imports), in file order, cut to the budget."""
    items: list[tuple[str, str]] = []  # (path, signature)
    seen: set[tuple[str, str]] = set()

    def add(path: str, signature: str | None) -> None:
        if signature and (path, signature) not in seen:
            seen.add((path, signature))
            items.append((path, signature))

    for module_file, name in project.bindings(rel).imported:
        if name is not None:
            d = project.resolve_def(module_file, name)
            if d is not None:
                add(d.path, d.signature)
            continue
        for d in project.defs(module_file):
            if d.scope is None:
                add(d.path, d.signature)
        if module_file.endswith("__init__.py"):
            # A package's namespace is mostly what its __init__ imports: follow those too.
            for source, exported in project.bindings(module_file).imported:
                if exported is not None:
                    d = project.resolve_def(source, exported)
                    if d is not None:
                        add(d.path, d.signature)
    out: list[str] = []
    current = None
    text = ""
    for path, signature in items:
        piece = ([f"{path}:"] if path != current else []) + [f"│{signature}"]
        candidate = "\n".join([*out, *piece]) + "\n"
        if estimate_tokens(candidate) > budget:
            break
        out.extend(piece)
        current = path
        text = candidate
    return text


def hit(case: Case, text: str) -> bool:
    return bool(case.target.signature) and str(case.target.signature) in text
