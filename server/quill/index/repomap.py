"""Rendering ranked definitions into a repo map that fits a token budget.

Format: files in path order, each as its workspace-relative path and a colon, then one line
per definition in source order, prefixed with ``│`` and indented four spaces per enclosing
definition. The enclosing definitions of a chosen one (its class, say) are shown as context
lines even when they did not place by themselves::

    pkg/geometry.py:
    │class Layout:
    │    def update_dimensions(self, width: int) -> None:
    │def area(w: int, h: int) -> int:

The cut-off is found by binary search on how many of the best-ranked definitions to include:
the largest prefix whose rendered text fits ``budget_tokens`` by the given counter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from quill.index.records import MapItem, RepoMap
from quill.models.tokens import estimate_tokens

__all__ = ["Candidate", "estimate_tokens", "fit_to_budget", "render"]

INDENT = "    "
BAR = "│"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One definition that may go into the map."""

    path: str
    name: str
    kind: str
    signature: str
    line: int
    col: int
    depth: int  # number of enclosing definitions
    rank: float
    ancestors: tuple[tuple[int, int, int, str], ...] = ()  # (line, col, depth, signature)


def _line(depth: int, signature: str) -> str:
    return f"{BAR}{INDENT * depth}{signature}"


def render(candidates: Sequence[Candidate]) -> str:
    """The map text for exactly these candidates (any order)."""
    by_file: dict[str, dict[tuple[int, int], tuple[int, str]]] = {}
    for c in candidates:
        lines = by_file.setdefault(c.path, {})
        for line, col, depth, signature in c.ancestors:
            lines.setdefault((line, col), (depth, signature))
        lines[(c.line, c.col)] = (c.depth, c.signature)
    out: list[str] = []
    for path in sorted(by_file):
        out.append(f"{path}:")
        for _pos, (depth, signature) in sorted(by_file[path].items()):
            out.append(_line(depth, signature))
    return "\n".join(out) + "\n" if out else ""


def fit_to_budget(
    candidates: Sequence[Candidate],
    budget_tokens: int,
    count_tokens: Callable[[str], int] | None = None,
) -> RepoMap:
    """The best-ranked prefix of ``candidates`` (sorted best first) that fits the budget."""
    counter = count_tokens or estimate_tokens
    total = len(candidates)
    if budget_tokens <= 0 or total == 0:
        return RepoMap("", [], 0, budget_tokens, total)
    lo, hi = 0, min(total, budget_tokens)
    best_text, best_tokens = "", 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        text = render(candidates[:mid])
        tokens = counter(text)
        if tokens <= budget_tokens:
            lo = mid
            best_text, best_tokens = text, tokens
        else:
            hi = mid - 1
    chosen = candidates[:lo]
    if lo and not best_text:
        best_text = render(chosen)
        best_tokens = counter(best_text)
    items = [
        MapItem(
            c.path,
            c.name,
            c.kind,
            c.signature,
            c.line,
            c.rank,
            counter(_line(c.depth, c.signature)),
        )
        for c in chosen
    ]
    return RepoMap(best_text, items, best_tokens, budget_tokens, total)
