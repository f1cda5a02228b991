"""``quill bench rules`` on the rule fixtures: Quill and ruff agree there, figures come out."""

from __future__ import annotations

import io
import json
from pathlib import Path

from quill.bench import rules_bench
from quill.bench.rules_bench import RUFF_CODES, run_rules_bench
from tests.conftest import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "rules"


def _run(path: Path, **kwargs: object) -> tuple[int, str, dict]:
    out = io.StringIO()
    rc = run_rules_bench(path, out, **kwargs)  # type: ignore[arg-type]
    text = out.getvalue()
    return rc, text, json.loads(text.strip().splitlines()[-1])


def test_quill_and_ruff_agree_on_the_fixtures() -> None:
    assert rules_bench._ruff_executable() is not None, "ruff is a dev dependency: run make test"
    rc, text, report = _run(FIXTURES)
    assert rc == 0
    assert report["ruff"]["available"] is True
    for rule in RUFF_CODES:
        row = report["rules"][f"{rule} [python]"]
        assert row["quill"] == row["ruff"] == row["both"] >= 1, (rule, row)
        assert row["only_quill"] == row["only_ruff"] == [], (rule, row)
    assert report["rules"]["self-assignment [go]"] == {"quill": 1, "fixes": 1}
    assert report["quill"]["files"] == 7
    assert "whole tree" in text and "target <= 20 ms" in text


def test_without_comparison_and_sampled() -> None:
    rc, text, report = _run(FIXTURES, compare=False, max_files=2)
    assert rc == 0
    assert report["quill"]["files"] == 2
    assert report["ruff"]["available"] is False
    assert "not compared" in text


def test_not_a_folder(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_rules_bench(tmp_path / "missing", out) == 2
    assert "is not a folder" in out.getvalue()


def test_what_is_set_aside_from_ruff() -> None:
    wider = rules_bench._wider_than_quill
    assert wider("S110", "", "except:", [])
    assert not wider("S110", "", "except Exception:", [])
    lines = ["import os", "def os(): pass", "def f(): pass", "def f(): pass"]
    assert wider("F811", "Redefinition of unused `os` from line 1", lines[1], lines)
    assert not wider("F811", "Redefinition of unused `f` from line 3", lines[3], lines)
    assert wider("PLW2901", "`with` statement variable `f` overwritten", "f = 1", [])
    assert not wider("PLW2901", "`for` loop variable `x` overwritten", "x = 1", [])
