"""Order statistics: the one percentile used by the server's counters and the benchmarks."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["percentile"]


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
