"""Personalized PageRank by plain power iteration (pure Python) over a weighted directed graph.

The personalization vector is used both for teleports and for the rank of dangling nodes
(nodes without out-edges); iteration stops when the L1 change falls below ``tol * N``. It
starts from a previous solution when one covers the nodes, which makes re-ranking after a
small change converge in a few steps. :mod:`quill.index.graph` builds the file graph it runs on.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["personalized_pagerank"]

Edges = Mapping[int, Mapping[int, float]]  # node -> {target: weight}


def personalized_pagerank(
    nodes: set[int],
    edges: Edges,
    extra_edges: Edges,
    weights: Mapping[int, float],
    personalization: Mapping[int, float],
    previous: Mapping[int, float],
    *,
    damping: float,
    tol: float,
    max_iter: int,
) -> dict[int, float]:
    """The rank of every node of ``nodes`` (summing to 1).

    ``extra_edges`` add their weights to those of ``edges`` (the two are kept apart so that
    the caller need not merge them); ``weights[r]`` is the total weight of node ``r``'s
    out-edges in both. ``personalization`` need not be
    normalized and may name other nodes (ignored); uniform when it has no positive weight.
    ``previous`` is the last solution, used as the starting point when it covers most of
    the rank."""
    n = len(nodes)
    if n == 0:
        return {}
    pers = {f: w for f, w in personalization.items() if f in nodes and w > 0}
    total = sum(pers.values())
    if total <= 0:
        pers = dict.fromkeys(nodes, 1.0 / n)
    else:
        pers = {f: w / total for f, w in pers.items()}
    start_total = sum(previous.get(f, 0.0) for f in nodes)
    if start_total > 0.5:
        rank = {f: previous.get(f, 0.0) / start_total for f in nodes}
    else:
        rank = dict(pers) if len(pers) == n else {f: pers.get(f, 0.0) for f in nodes}
    alpha = damping
    for _ in range(max_iter):
        new = dict.fromkeys(nodes, 0.0)
        dangling = 0.0
        for r, rr in rank.items():
            if rr == 0.0:
                continue
            w = weights[r]
            if w <= 0.0:
                dangling += rr
                continue
            f = alpha * rr / w
            out = edges.get(r)
            if out:
                for d, ew in out.items():
                    new[d] += f * ew
            e = extra_edges.get(r)
            if e:
                for d, ew in e.items():
                    new[d] += f * ew
        base = alpha * dangling + (1.0 - alpha)
        for f, p in pers.items():
            new[f] += base * p
        err = 0.0
        for f, v in new.items():
            err += abs(v - rank[f])
        rank = new
        if err < tol * n:
            break
    return rank
