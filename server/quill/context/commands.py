"""``quill context FILE:LINE[:COL] --budget N``: show the context a completion there gets.

The workspace is the nearest ancestor of FILE holding ``.git`` or ``.quill.toml`` (else
FILE's folder), unless a root is given. Its index is brought up to date first, then the
assembled context is printed as the model would read it, followed by a table of its items
and the total. LINE and COL are 1-based; COL defaults to the line's indentation (on a blank
line: the indentation the next statement would get).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from quill.context.assemble import AssembledContext, assemble_context
from quill.index.languages import language_for_path
from quill.index.service import WorkspaceIndex

log = logging.getLogger(__name__)

__all__ = ["find_workspace_root", "parse_spec", "run_context"]

_SPEC = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")
ROOT_MARKERS = (".git", ".quill.toml")


def parse_spec(spec: str) -> tuple[str, int, int | None] | None:
    """``FILE:LINE[:COL]`` → (file, line, col or ``None``), 1-based; ``None`` if malformed."""
    match = _SPEC.match(spec.strip())
    if match is None:
        return None
    col = match.group("col")
    return (match.group("file"), int(match.group("line")), int(col) if col else None)


def find_workspace_root(path: Path) -> Path:
    """The nearest ancestor of ``path`` holding ``.git`` or ``.quill.toml``, else its folder."""
    start = path if path.is_dir() else path.parent
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return start


def default_column(lines: list[str], line: int) -> int:
    """The indentation of ``line`` (0-based), or on a blank line the indentation the next
    statement would get: the previous non-blank line's, one level deeper after a line
    opening a block (``:``, ``{``, ``(``)."""
    text = lines[line] if 0 <= line < len(lines) else ""
    if text.strip():
        return len(text) - len(text.lstrip())
    for prev in reversed(lines[:line]):
        if not prev.strip():
            continue
        indent = prev[: len(prev) - len(prev.lstrip())]
        stripped = prev.split("#", 1)[0].rstrip() if "#" in prev else prev.rstrip()
        if stripped.endswith((":", "{", "(", "[")):
            indent += "\t" if indent.startswith("\t") else "    "
        return len(indent)
    return 0


def run_context(
    spec: str,
    budget: int,
    out: TextIO,
    *,
    root: Path | None = None,
    cache_dir: Path | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> int:
    """Print the context for ``spec`` (``FILE:LINE[:COL]``) within ``budget`` tokens to
    ``out``. Returns the exit status: 0, or 2 for a bad argument."""
    parsed = parse_spec(spec)
    if parsed is None:
        out.write(f"quill context: expected FILE:LINE[:COL], got {spec!r}\n")
        return 2
    file_arg, line_no, col_no = parsed
    if budget <= 0:
        out.write("quill context: --budget must be a positive number of tokens\n")
        return 2
    path = Path(file_arg).expanduser()
    try:
        path = path.resolve()
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        out.write(f"quill context: cannot read {file_arg}: {exc.strerror or exc}\n")
        return 2
    workspace = (root or find_workspace_root(path)).resolve()
    try:
        rel = path.relative_to(workspace).as_posix()
    except ValueError:
        out.write(f"quill context: {path} is not inside the workspace {workspace}\n")
        return 2
    lines = text.split("\n")
    if not 1 <= line_no <= len(lines):
        out.write(f"quill context: {file_arg} has {len(lines)} lines, not {line_no}\n")
        return 2
    line = line_no - 1
    column = col_no - 1 if col_no else default_column(lines, line)
    if language_for_path(rel) is None:
        out.write(f"quill context: {rel} is not in a supported language; showing the repo map\n")
    with WorkspaceIndex(workspace, cache_dir) as index:
        index.index_all()
        result = assemble_context(
            index, rel, text, line, max(0, column), budget, count_tokens=count_tokens
        )
    write_report(result, out, where=f"{rel}:{line_no}:{column + 1}")
    return 0


def write_report(result: AssembledContext, out: TextIO, *, where: str = "") -> None:
    """The context text, then one row per item and the total."""
    if result.text:
        out.write(result.text)
        if not result.text.endswith("\n"):
            out.write("\n")
    else:
        out.write(f"(no context from other files{' for ' + where if where else ''})\n")
    out.write("\n")
    scope = result.scope
    if scope.enclosing_class or scope.enclosing_function:
        inside = ".".join(p for p in (scope.enclosing_class, scope.enclosing_function) if p)
        out.write(f"in {inside}")
        typed = [f"{var}: {'|'.join(types)}" for var, types in scope.variables.items()]
        if typed:
            out.write(" — " + ", ".join(typed[:12]) + (" ..." if len(typed) > 12 else ""))
        out.write("\n\n")
    if result.items:
        width_source = max(6, *(len(i.source) for i in result.items))
        width_path = max(4, *(len(i.path) for i in result.items))
        width_name = max(4, *(len(i.name) for i in result.items))
        out.write(
            f"{'source':<{width_source}}  {'path':<{width_path}}  {'name':<{width_name}}  tokens\n"
        )
        for item in result.items:
            out.write(
                f"{item.source:<{width_source}}  {item.path:<{width_path}}  "
                f"{item.name:<{width_name}}  {item.tokens:>6}\n"
            )
    out.write(
        f"total: {result.tokens} tokens of {result.budget_tokens} "
        f"({len(result.items)} items from {result.candidates} ranked candidates, "
        f"{result.elapsed_ms:.1f} ms)\n"
    )
