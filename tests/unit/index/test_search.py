"""Fuzzy symbol matching tiers."""

from __future__ import annotations

import pytest

from quill.index.search import match_tier, rank_names


@pytest.mark.parametrize(
    ("query", "name", "tier"),
    [
        ("Layout", "Layout", 0),
        ("layout", "Layout", 1),
        ("lay", "LayoutEngine", 2),
        ("engine", "LayoutEngine", 3),
        ("LE", "LayoutEngine", 4),
        ("wsi", "WorkspaceIndex", 5),
        ("wsi", "workspace_symbol_index", 4),
        ("WoIn", "WorkspaceIndex", 4),
        ("hs", "HTTPServer", 4),
        ("lyt", "Layout", 5),
        ("xyz", "Layout", None),
    ],
)
def test_match_tier(query: str, name: str, tier: int | None) -> None:
    assert match_tier(query, name) == tier


def test_rank_names_orders_by_tier_then_length() -> None:
    names = ["get_layout", "layout", "LayoutEngine", "Layout", "lay_out_things", "layouts"]
    assert [n for _, n in rank_names("layout", names, 10)] == [
        "layout",
        "Layout",
        "layouts",
        "LayoutEngine",
        "get_layout",
        "lay_out_things",
    ]
    assert len(rank_names("layout", names, 2)) == 2


def test_a_huge_query_is_answered_at_once_and_compiles_no_pattern() -> None:
    from quill.index.search import _subsequence, rank_names

    names = ["reticulate_splines", "x" * 300, "xy"]
    before = _subsequence.cache_info().currsize
    assert rank_names("x" * 300, names, 10) == [(0, "x" * 300)]
    assert _subsequence.cache_info().currsize == before  # nothing that long was compiled
    assert rank_names("x" * 1_000_000, names, 10) == []
    assert [n for _, n in rank_names("rs", names, 10)] == ["reticulate_splines"]
