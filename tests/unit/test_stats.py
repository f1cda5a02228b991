"""The one percentile: nearest rank, halves to even, 3 decimals, None without samples."""

from __future__ import annotations

from collections import deque

import pytest

from quill.stats import percentile


def test_no_samples_is_none() -> None:
    assert percentile([], 50) is None
    assert percentile(deque(), 99) is None


def test_nearest_rank_without_interpolation() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]  # sorted: 1 2 3 4 5; index round(pct / 100 * 4)
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 3.0
    assert percentile(values, 60) == 3.0  # 2.4 -> 2
    assert percentile(values, 65) == 4.0  # 2.6 -> 3
    assert percentile(values, 99) == 5.0
    assert percentile(values, 100) == 5.0


def test_halves_round_to_even_and_out_of_range_clamps() -> None:
    assert percentile([1.0, 2.0], 50) == 1.0  # index 0.5 -> 0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 3.0  # index 1.5 -> 2
    assert percentile([1.0, 2.0], -10) == 1.0
    assert percentile([1.0, 2.0], 250) == 2.0


@pytest.mark.parametrize("values", [[0.1234567], [2.0004, 9.9996], list(range(101))])
def test_rounded_to_three_decimals(values: list[float]) -> None:
    for pct in (0, 50, 95, 99, 100):
        result = percentile(values, pct)
        assert result is not None and result == round(result, 3)
    assert percentile([0.1234567], 50) == 0.123
