"""``quill index`` and ``quill map``: terminal front ends to the workspace index.

These are plain functions writing to ``out``; the CLI owns argument parsing and logging.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TextIO

from quill.index.records import IndexStats
from quill.index.service import WorkspaceIndex

log = logging.getLogger(__name__)

__all__ = ["format_stats", "run_index", "run_map"]


def _check_root(path: Path, out: TextIO) -> Path | None:
    root = Path(path).expanduser()
    if not root.is_dir():
        out.write(f"quill: {path} is not a folder\n")
        return None
    return root.resolve()


def format_stats(stats: IndexStats) -> str:
    """A table of per-language counts and a totals line."""
    header = ("language", "files", "lines", "modules", "classes", "functions")
    rows = [
        (s.language, s.files, s.lines, s.modules, s.classes, s.functions)
        for s in sorted(stats.languages.values(), key=lambda s: (-s.lines, s.language))
    ]
    rows.append(("total", stats.files, stats.lines, stats.modules, stats.classes, stats.functions))
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for n, row in enumerate([header, *rows]):
        cells = [str(row[0]).ljust(widths[0])]
        cells.extend(str(v).rjust(widths[i]) for i, v in enumerate(row[1:], start=1))
        if n == len(rows):  # the totals row
            lines.append("  ".join("-" * w for w in widths))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def run_index(path: Path, stats: bool, out: TextIO) -> int:
    """Index (or refresh the index of) the tree at ``path``; print what it holds."""
    root = _check_root(path, out)
    if root is None:
        return 2
    with WorkspaceIndex(root) as index:
        result = index.index_all()
    out.write(
        f"{root}: {result.files} files, {result.lines} lines indexed in {result.elapsed_s:.2f}s "
        f"({result.parsed} parsed, {result.unchanged} unchanged, {result.removed} removed, "
        f"{result.skipped} skipped)\n"
    )
    if stats:
        out.write(format_stats(result))
    return 0


def run_map(path: Path, budget: int, focus: list[Path], out: TextIO) -> int:
    """Print the repo map of the tree at ``path`` for the given focus files and budget."""
    root = _check_root(path, out)
    if root is None:
        return 2
    if budget <= 0:
        out.write("quill: the token budget must be positive\n")
        return 2
    resolved = []
    for f in focus:
        p = Path(f).expanduser()
        resolved.append(p if p.is_absolute() else (Path.cwd() / p))
    with WorkspaceIndex(root) as index:
        index.index_all()
        repo_map = index.repo_map(budget_tokens=budget, focus_files=resolved)
    if not repo_map.text:
        out.write("quill: nothing to show (no indexed definitions fit the budget)\n")
        return 0
    out.write(repo_map.text)
    return 0
