"""`quill bench completion --quality`: held-out lines asked with and without Quill's context,
on a tiny project and the real embedded model."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from quill.bench.completion_quality import run_quality_bench
from quill.bench.completion_quality_cases import (
    edit_similarity,
    first_line,
    levenshtein,
    project_cases,
    sample_cases,
)
from quill.cli import build_parser

GEOMETRY = '''"""Shape helpers used across the project."""


def quillbench_scaled_area(width, height, factor):
    """The area of a rectangle scaled by ``factor``."""
    area = width * height
    return area * factor


def quillbench_perimeter(width, height):
    edges = 2 * (width + height)
    return edges
'''

REPORT = '''"""Reports built from the shape helpers."""

from geometry import quillbench_perimeter, quillbench_scaled_area


def describe(width, height):
    scaled = quillbench_scaled_area(width, height, 2)
    around = quillbench_perimeter(width, height)
    label = f"{width}x{height}"
    return f"{label}: area {scaled}, perimeter {around}"


def total_area(shapes):
    total = 0
    for width, height in shapes:
        total += quillbench_scaled_area(width, height, 1)
    return total
'''


def _project(root: Path) -> Path:
    root.mkdir()
    (root / "geometry.py").write_text(GEOMETRY, encoding="utf-8")
    (root / "report.py").write_text(REPORT, encoding="utf-8")
    tests = root / "tests"
    tests.mkdir()
    (tests / "test_report.py").write_text(
        "def test_it():\n    value = 1\n    assert value == 1\n", encoding="utf-8"
    )
    return root


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("kitten", "sitting", 3), ("", "abc", 3), ("flaw", "lawn", 2), ("same", "same", 0)],
)
def test_levenshtein(a: str, b: str, distance: int) -> None:
    assert levenshtein(a, b) == distance
    assert levenshtein(b, a) == distance


def test_edit_similarity_on_known_pairs() -> None:
    assert edit_similarity("x = f(a)", "x = f(a)") == 1.0
    assert edit_similarity("  x = f(a)  ", "x = f(a)") == 1.0  # whitespace-stripped
    assert edit_similarity("", "") == 1.0
    assert edit_similarity("", "return x") == 0.0
    assert edit_similarity("abcd", "abce") == pytest.approx(0.75)
    assert edit_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)


def test_first_line_skips_blank_lines() -> None:
    assert first_line("\n   total = 0\n    more()") == "total = 0"
    assert first_line("value = 1") == "value = 1"
    assert first_line("\n  \n") == ""


def test_cases_come_from_function_bodies_outside_tests(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    cases = project_cases("proj", root)
    assert cases
    assert {c.rel for c in cases} <= {"geometry.py", "report.py"}
    by_target = {c.target: c for c in cases}
    assert by_target["scaled = quillbench_scaled_area(width, height, 2)"].cross_file
    assert not by_target['label = f"{width}x{height}"'].cross_file
    assert "return edges" in by_target  # no docstrings, but short statements stay
    for c in cases:
        line = (root / c.rel).read_text(encoding="utf-8").split("\n")[c.line]
        assert line[: c.column].strip() == ""
        assert line[c.column :] == c.target
    picked = sample_cases(cases, 3, seed=1)
    assert picked == sample_cases(cases, 3, seed=1)
    assert len(picked) == 3
    assert sum(c.cross_file for c in picked) >= 1
    assert picked == sorted(picked, key=lambda c: (c.rel, c.line))


def test_cli_takes_the_quality_options() -> None:
    args = build_parser().parse_args(
        ["bench", "completion", "--quality", "--cases", "5", "--prompt-mode", "chat", "--json"]
    )
    assert (args.quality, args.cases, args.prompt_mode, args.json) == (True, 5, "chat", True)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_quality_bench([str(tmp_path)], out, cases=0) == 2
    assert "--cases" in out.getvalue()
    out = io.StringIO()
    assert run_quality_bench([str(tmp_path)], out, model_path=str(tmp_path / "no.gguf")) == 2
    assert "--model-path" in out.getvalue()


def test_quality_run_on_the_embedded_model(tmp_path: Path, gguf_path: Path) -> None:
    root = _project(tmp_path / "proj")
    out, progress = io.StringIO(), io.StringIO()
    code = run_quality_bench([str(root)], out, cases=3, seed=0, json_only=True, progress=progress)
    assert code == 0, out.getvalue()
    figures = json.loads(out.getvalue())
    assert figures["bench"] == "completion-quality"
    assert figures["cases"] == 3
    assert figures["model"].startswith("local:")
    assert figures["promptMode"] in ("chat", "continuation")
    assert figures["projects"] == [
        {"project": "proj", "cases": 3, "crossFile": figures["projects"][0]["crossFile"]}
    ]
    for key in ("withContext", "withoutContext"):
        mode = figures[key]
        assert 0.0 <= mode["exactMatch"] <= 1.0
        assert 0.0 <= mode["editSimilarity"] <= 1.0
        assert mode["errors"] == 0
        assert mode["latencyMs"]["p50"] <= mode["latencyMs"]["p90"]
    assert figures["withoutContext"]["contextTokensMean"] == 0
    assert set(figures["withVsWithout"]) == {"exactMatch", "editSimilarity"}
    assert isinstance(figures["met"], bool)
    assert len(figures["perCase"]) == 3
    for case in figures["perCase"]:
        assert case["path"] in ("geometry.py", "report.py")
        for mode_name in ("with", "without"):
            answer = case[mode_name]
            assert 0.0 <= answer["similarity"] <= 1.0
            assert answer["exact"] == (answer["prediction"] == case["target"])
            assert answer["exact"] <= (answer["similarity"] == 1.0)
            assert answer["ms"] >= 0
            assert answer["fileLines"] >= 0
        assert case["without"]["contextTokens"] == 0
    assert progress.getvalue().count("\n") == 6  # one line per case and mode


def test_readable_report_ends_with_one_json_line(tmp_path: Path, gguf_path: Path) -> None:
    root = _project(tmp_path / "proj")
    out = io.StringIO()
    assert run_quality_bench([str(root)], out, cases=1, progress=io.StringIO()) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("completion quality: 1 held-out lines")
    assert any(line.startswith("with context") for line in lines)
    assert any(line.startswith("without context") for line in lines)
    assert any(line.startswith("with vs without context:") for line in lines)
    assert json.loads(lines[-1])["cases"] == 1
