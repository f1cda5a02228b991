"""`quill bench completion`: a short real run against `quill lsp` and the embedded model."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from quill.bench.completion_bench import run_completion_bench
from quill.bench.completion_workspace import candidate_lines
from tests.conftest import clean_environment

SHAPES = '''"""Small geometry helpers."""

import math


def circle_area(radius):
    """The area of a circle."""
    if radius < 0:
        raise ValueError("negative radius")
    area = math.pi * radius * radius
    return area


def rectangle_area(width, height):
    total = width * height
    return total


def describe(shape, size):
    name = shape.lower()
    if name == "circle":
        return f"circle of area {circle_area(size)}"
    result = rectangle_area(size, size)
    return f"square of area {result}"
'''

STATS = '''"""Tiny statistics."""


def mean(values):
    count = len(values)
    if count == 0:
        return 0.0
    total = sum(values)
    return total / count


def variance(values):
    middle = mean(values)
    squares = [(v - middle) ** 2 for v in values]
    return mean(squares)


def clamp(value, low, high):
    # keep it in range
    if value < low:
        return low
    if value > high:
        return high
    return value
'''


def _workspace(root: Path) -> Path:
    root.mkdir()
    (root / "shapes.py").write_text(SHAPES, encoding="utf-8")
    (root / "stats.py").write_text(STATS, encoding="utf-8")
    return root


def test_candidate_lines_are_statements_in_function_bodies() -> None:
    lines = SHAPES.split("\n")
    picked = [lines[i].strip() for i in candidate_lines(SHAPES, ".py")]
    assert "area = math.pi * radius * radius" in picked
    assert "return total" in picked
    assert '"""The area of a circle."""' not in picked  # docstrings are not typed
    assert "import math" not in picked  # module level
    assert not any(p.startswith("def ") for p in picked)


def test_missing_workspace_is_a_usage_error(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_completion_bench(tmp_path / "nowhere", out, keystrokes=5) == 2
    assert "does not exist" in out.getvalue()


def test_a_server_that_cannot_be_driven_fails_with_one_line(tmp_path: Path) -> None:
    out = io.StringIO()
    code = run_completion_bench(
        _workspace(tmp_path / "ws"),
        out,
        keystrokes=5,
        server_command=[sys.executable, "-c", "import sys; sys.stderr.write('boom\\n')"],
        env=clean_environment(tmp_path),
    )
    assert code == 1
    text = out.getvalue()
    assert text.count("\n") == 1 and "cannot drive the server" in text and "boom" in text


@pytest.mark.model
def test_short_real_run_reports_sane_figures(tmp_path: Path, gguf_path: Path) -> None:
    out = io.StringIO()
    code = run_completion_bench(
        _workspace(tmp_path / "ws"),
        out,
        keystrokes=40,
        seed=1,
        env=clean_environment(tmp_path),
        big_file_lines=60,  # the big-file case itself is what the real benchmark measures
        accept_probability=1.0,
    )
    text = out.getvalue()
    assert code == 0, text
    figures = json.loads(text.strip().splitlines()[-1])
    assert figures["bench"] == "completion"
    assert figures["keystrokes"] == 40
    assert [s["name"] for s in figures["sessions"]] == ["real-files", "big-file"]
    assert figures["requests"] > 0 and figures["inlineRequestsSent"] >= 40
    assert figures["modelCalls"] >= 1
    assert 0 < figures["modelCallsPer100Keystrokes"] <= 100
    for key in ("typeThroughAttempts", "typeThroughHits", "superseded", "pausePoints"):
        assert isinstance(figures[key], int) and figures[key] >= 0
    assert figures["typeThroughHits"] <= figures["typeThroughAttempts"]
    if figures["pausesWithSuggestion"]:
        # this run accepts every suggestion (of two characters or more) by typing
        assert figures["acceptedByTyping"] >= 1 and figures["typeThroughAttempts"] >= 1
    for key in ("typeThroughHitRate", "supersededModelShare", "cacheHitRate"):
        value = figures[key]
        assert value is None or 0.0 <= value <= 1.0, (key, value)
    assert figures["baselineSamples"] > 0 and figures["baselineMsP50"] > 0
    assert figures["coldFirstAnswerMs"] is not None and figures["coldFirstAnswerMs"] > 0
    for line in ("server overhead per completion", "model calls:", "type-through:"):
        assert line in text
