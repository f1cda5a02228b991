"""Cross-file context from the workspace index, as completion context sources.

Two sources, each a plain function of a :class:`ContextQuery`:

* ``definitions`` — the signature lines of the identifiers written just above the cursor that
  are defined in other files of the workspace (what the next line most likely calls);
* ``repo_map`` — the top of the repo map personalized for the current file, the open files,
  the recently edited files and the identifiers near the cursor.

Both render as comments in the file's language so the model reads them as code it has seen.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from quill.context.sections import ContextQuery, ContextSection
from quill.index.records import Definition
from quill.index.service import WorkspaceIndex

log = logging.getLogger(__name__)

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
#: identifiers this common say nothing about what the next line needs
COMMON_WORDS = frozenset(
    "self cls this return import from None True False def class function const let var "
    "async await for while with else elif try except finally raise pass break continue "
    "and not print len str int float bool dict list set tuple range new null undefined "
    "public private static void func package struct impl pub use mut".split()
)
LINE_COMMENT = {
    "python": "#",
    "go": "//",
    "rust": "//",
    "java": "//",
    "c": "//",
    "cpp": "//",
    "javascript": "//",
    "typescript": "//",
    "tsx": "//",
}
MAX_DEFINITIONS = 12
#: a file's repo map is recomputed in the background when it is older than this
REPO_MAP_MAX_AGE_S = 10.0


def identifiers_near_cursor(prefix: str, lines: int = 12, limit: int = 16) -> list[str]:
    """Identifiers in the last ``lines`` lines before the cursor, nearest first, unique."""
    tail = prefix.rsplit("\n", lines)[-lines:] if prefix else []
    seen: list[str] = []
    for line in reversed(tail):
        for word in reversed(IDENTIFIER.findall(line)):
            if word not in COMMON_WORDS and word not in seen:
                seen.append(word)
                if len(seen) >= limit:
                    return seen
    return seen


def comment_prefix(language: str | None) -> str:
    return LINE_COMMENT.get(language or "", "#")


def definitions_source(
    index: Callable[[], WorkspaceIndex | None],
) -> Callable[[ContextQuery], Sequence[ContextSection]]:
    def source(query: ContextQuery) -> Sequence[ContextSection]:
        idx = index()
        if idx is None or not query.path:
            return []
        here = query.path
        found: list[Definition] = []
        for name in identifiers_near_cursor(query.prefix):
            defs = [d for d in idx.definitions(name) if d.path != here and d.signature]
            if 0 < len(defs) <= 3:  # a name defined everywhere tells nothing
                found.extend(defs[:2])
            if len(found) >= MAX_DEFINITIONS:
                break
        if not found:
            return []
        mark = comment_prefix(query.language)
        lines = [f"{mark} Definitions used near the cursor, from other files:"]
        for d in found:
            lines.append(f"{mark} {d.path}: {d.signature}")
        return [ContextSection("definition", "\n".join(lines) + "\n", priority=2.0)]

    return source


def repo_map_source(
    index: Callable[[], WorkspaceIndex | None],
    open_files: Callable[[], Sequence[str]] = lambda: (),
    recent_files: Callable[[], Sequence[str]] = lambda: (),
    *,
    max_age_s: float = REPO_MAP_MAX_AGE_S,
) -> Callable[[ContextQuery], Sequence[ContextSection]]:
    """The personalized repo map for the current file.

    Ranking the whole workspace takes tens to hundreds of milliseconds, too long to wait for
    on a keystroke, and the map changes slowly. So the map is computed on a background thread
    and the latest one for the file is served at once; a missing or old one is refreshed
    for the next request.
    """
    cache: dict[str, tuple[float, list[ContextSection]]] = {}
    pending: set[str] = set()
    lock = threading.Lock()
    worker = ThreadPoolExecutor(1, thread_name_prefix="quill-repo-map")

    def compute(query: ContextQuery) -> None:
        try:
            sections = _render_repo_map(index(), query, open_files(), recent_files())
            with lock:
                cache[query.path or ""] = (time.monotonic(), sections)
        except Exception:
            log.exception("repo map for %s failed", query.path)
        finally:
            with lock:
                pending.discard(query.path or "")

    def source(query: ContextQuery) -> Sequence[ContextSection]:
        if index() is None or not query.path:
            return []
        key = query.path
        with lock:
            entry = cache.get(key)
            stale = entry is None or time.monotonic() - entry[0] > max_age_s
            if stale and key not in pending:
                pending.add(key)
                worker.submit(compute, query)
        return entry[1] if entry is not None else []

    return source


def _render_repo_map(
    idx: WorkspaceIndex | None,
    query: ContextQuery,
    open_files: Sequence[str],
    recent_files: Sequence[str],
) -> list[ContextSection]:
    if idx is None or not query.path:
        return []
    root = idx.root
    result = idx.repo_map(
        budget_tokens=max(32, query.budget_tokens // 2),
        focus_files=[root / query.path],
        open_files=[root / p for p in open_files],
        recent_files=[root / p for p in recent_files],
        mentioned_idents=identifiers_near_cursor(query.prefix),
    )
    items = [item for item in result.items if item.path != query.path]
    if not items:
        return []
    mark = comment_prefix(query.language)
    lines = [f"{mark} Related code elsewhere in the workspace:"]
    current = None
    for item in items:
        if item.path != current:
            lines.append(f"{mark} {item.path}:")
            current = item.path
        lines.append(f"{mark}   {item.signature}")
    return [ContextSection("repo_map", "\n".join(lines) + "\n", priority=1.0)]


def relative_path(root: Path, path: str | Path) -> str | None:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return None
