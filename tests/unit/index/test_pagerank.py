"""The power iteration on small hand-made graphs."""

from __future__ import annotations

import pytest

from quill.index.pagerank import personalized_pagerank

RUN = {"damping": 0.85, "tol": 1e-9, "max_iter": 500}


def weights_of(nodes: set[int], *edge_sets: dict[int, dict[int, float]]) -> dict[int, float]:
    """Every node's total out-edge weight (0 for dangling nodes)."""
    out = dict.fromkeys(nodes, 0.0)
    for edges in edge_sets:
        for r, targets in edges.items():
            out[r] = out.get(r, 0.0) + sum(targets.values())
    return out


def test_empty_graph_has_no_ranks() -> None:
    assert personalized_pagerank(set(), {}, {}, {}, {1: 1.0}, {}, **RUN) == {}


def test_ranks_sum_to_one_and_follow_the_edges() -> None:
    edges = {1: {3: 1.0}, 2: {3: 1.0}, 3: {1: 1.0}}
    nodes = {1, 2, 3}
    rank = personalized_pagerank(nodes, edges, {}, weights_of(nodes, edges), {}, {}, **RUN)
    assert sum(rank.values()) == pytest.approx(1.0)
    assert rank[3] > rank[1] > rank[2]


def test_personalization_and_dangling_nodes() -> None:
    # 2 has no out-edges: its rank goes back by the personalization, all to node 1.
    edges = {1: {2: 1.0}}
    nodes = {1, 2, 3}
    rank = personalized_pagerank(nodes, edges, {}, weights_of(nodes, edges), {1: 5.0}, {}, **RUN)
    assert sum(rank.values()) == pytest.approx(1.0)
    assert rank[3] == 0.0
    assert rank[1] > 0.0 and rank[2] > 0.0


def test_extra_edges_count_as_edges() -> None:
    edges = {1: {2: 1.0}, 2: {1: 1.0}}
    extra = {1: {3: 2.0}}
    merged = {1: {2: 1.0, 3: 2.0}, 2: {1: 1.0}}
    nodes = {1, 2, 3}
    split = personalized_pagerank(
        nodes, edges, extra, weights_of(nodes, edges, extra), {}, {}, **RUN
    )
    whole = personalized_pagerank(nodes, merged, {}, weights_of(nodes, merged), {}, {}, **RUN)
    assert split == pytest.approx(whole)


def test_a_previous_solution_is_the_starting_point() -> None:
    edges = {1: {2: 1.0}, 2: {3: 1.0}, 3: {1: 1.0, 2: 1.0}}
    nodes = {1, 2, 3}
    cold = personalized_pagerank(nodes, edges, {}, weights_of(nodes, edges), {1: 1.0}, {}, **RUN)
    few = {**RUN, "max_iter": 1}
    warm = personalized_pagerank(nodes, edges, {}, weights_of(nodes, edges), {1: 1.0}, cold, **few)
    assert warm == pytest.approx(cold, abs=1e-6)
