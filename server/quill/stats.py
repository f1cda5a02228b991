"""Order statistics: the one percentile used by the server's counters and the benchmarks;
and the process's own figures (memory, tasks, threads) that ``quill/status`` reports."""

from __future__ import annotations

import asyncio
import os
import resource
import threading
from collections.abc import Iterable

__all__ = ["percentile", "process_figures", "rss_bytes"]


def rss_bytes() -> int:
    """The process's resident memory now (Linux ``/proc``), else its peak."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def process_figures() -> dict[str, int]:
    """``rssBytes``, ``tasks`` (asyncio tasks of the running loop) and ``threads``: what a
    soak test or a watchful user checks for leaks."""
    try:
        tasks = len(asyncio.all_tasks())
    except RuntimeError:  # no running loop
        tasks = 0
    return {"rssBytes": rss_bytes(), "tasks": tasks, "threads": threading.active_count()}


def percentile(values: Iterable[float], pct: float) -> float | None:
    """The ``pct``-th percentile (0-100) of ``values``, or ``None`` when there are none.

    Nearest rank, no interpolation: the sorted sample at index ``round(pct / 100 * (n - 1))``
    (Python's ``round``, halves to even), clamped to the samples, rounded to 3 decimals.
    """
    ordered = sorted(values)
    if not ordered:
        return None
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return round(ordered[k], 3)
