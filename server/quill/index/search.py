"""Fuzzy matching of symbol names (workspace symbols).

Tiers, best first: exact (0), exact ignoring case (1), prefix ignoring case (2), substring
ignoring case (3), word-boundary match (4: each query piece starts a camelCase / snake_case
word of the name, e.g. ``wsi`` or ``WoIn`` for ``WorkspaceIndex``), subsequence ignoring case
(5). Within a tier shorter names rank first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache

__all__ = ["match_tier", "rank_names"]


def _boundaries(name: str) -> list[bool]:
    starts = []
    prev = ""
    for i, ch in enumerate(name):
        if i == 0:
            start = ch != "_"
        elif ch in "_-.$":
            start = False
        elif prev in "_-.$":
            start = True
        elif ch.isupper() and (prev.islower() or prev.isdigit()):
            start = True
        elif ch.isupper() and i + 1 < len(name) and name[i + 1].islower() and prev.isupper():
            start = True  # the "P" of "HTTPServer"
        elif ch.isdigit() and not prev.isdigit():
            start = True
        else:
            start = False
        starts.append(start)
        prev = ch
    if starts and not any(starts):
        starts[0] = True
    return starts


def _word_match(query: str, name: str) -> bool:
    """Each run of query characters continues a word that starts at a boundary."""
    q = query.lower()
    low = name.lower()
    starts = _boundaries(name)

    @cache
    def go(qi: int, ni: int, continuing: bool) -> bool:
        if qi == len(q):
            return True
        if ni >= len(low):
            return False
        if continuing and low[ni] == q[qi] and go(qi + 1, ni + 1, True):
            return True
        for j in range(ni, len(low)):
            if starts[j] and low[j] == q[qi] and go(qi + 1, j + 1, True):
                return True
        return False

    return go(0, 0, False)


def match_tier(query: str, name: str) -> int | None:
    """The tier of ``name`` for ``query`` (lower is better), or ``None`` if it does not match."""
    if not query:
        return 5
    if name == query:
        return 0
    low = name.lower()
    q = query.lower()
    if low == q:
        return 1
    if low.startswith(q):
        return 2
    if q in low:
        return 3
    if len(q) > MAX_PATTERN_CHARS or _subsequence(q).search(low) is None:
        return None
    if _word_match(query, name):
        return 4
    return 5


@lru_cache(maxsize=64)
def _subsequence(q: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(ch) for ch in q))


#: queries longer than this are not compiled into a pattern (an editor's query is a word or
#: two; a megabyte one would take minutes to compile and stay in the pattern cache)
MAX_PATTERN_CHARS = 256


def rank_names(query: str, names: Iterable[str], limit: int) -> list[tuple[int, str]]:
    """Matching names as (tier, name), best first, at most ``limit``."""
    q = query.lower()
    need = len(q)  # every tier matches the query's characters in order: no shorter name can
    pattern = _subsequence(q) if need <= MAX_PATTERN_CHARS else None
    hits: list[tuple[int, int, str]] = []
    for name in names:
        low = name.lower()
        if len(low) < need:
            continue
        if q and pattern is not None and pattern.search(low) is None:
            continue
        tier = match_tier(query, name)
        if tier is not None:
            hits.append((tier, len(name), name))
    hits.sort()
    return [(tier, name) for tier, _len, name in hits[:limit]]
