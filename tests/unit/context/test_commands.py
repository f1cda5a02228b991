"""`quill context FILE:LINE[:COL] --budget N` as a function: output, root and exit codes."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from quill.context.commands import (
    default_column,
    find_workspace_root,
    parse_spec,
    run_context,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "context"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "pyproj"
    shutil.copytree(FIXTURES / "pyproj", root)
    (root / ".git").mkdir()
    return root


def canvas_blank_line(root: Path) -> int:
    """1-based number of the blank line after `self.layout.update_dimensions(...)`."""
    lines = (root / "app/render/canvas.py").read_text().split("\n")
    return next(i for i, line in enumerate(lines) if "update_dimensions" in line) + 2


def test_prints_the_context_then_a_table(project: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    line = canvas_blank_line(project)
    spec = f"{project / 'app/render/canvas.py'}:{line}"
    status = run_context(spec, 256, out, cache_dir=tmp_path / "cache")
    text = out.getvalue()
    assert status == 0, text
    assert text.startswith("# Definitions from other files:\n")
    assert "#     def update_dimensions(self, width: int, height: int) -> None:" in text
    assert "in Canvas.resize — self: Canvas, self.layout: Layout" in text
    table = text[text.index("\nsource") + 1 :].splitlines()
    assert table[0].split() == ["source", "path", "name", "tokens"]
    first = table[1].split()
    assert first[:3] == ["type:self.layout", "app/geometry/layout.py", "Layout"]
    total = table[-1]
    assert total.startswith("total: ") and " tokens of 256 " in total
    used = int(total.split()[1])
    assert 0 < used <= 256
    assert used >= sum(int(row.split()[-1]) for row in table[1:-1])


def test_column_and_explicit_root(project: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    lines = (project / "app/render/canvas.py").read_text().split("\n")
    line = lines.index("class Canvas:")  # 1-based: the blank line above the class
    assert lines[line - 1] == ""
    # An explicit column 5 there: module level, not inside the class.
    status = run_context(
        f"{project / 'app/render/canvas.py'}:{line}:5",
        128,
        out,
        root=project,
        cache_dir=tmp_path / "cache",
    )
    assert status == 0
    assert "in Canvas" not in out.getvalue()
    assert "total: " in out.getvalue()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no-line-number", "expected FILE:LINE[:COL]"),
        ("missing.py:3", "cannot read missing.py"),
        ("{root}/app/utils.py:999", "has 6 lines, not 999"),
    ],
)
def test_bad_arguments_exit_2(project: Path, tmp_path: Path, spec: str, message: str) -> None:
    out = io.StringIO()
    status = run_context(spec.format(root=project), 64, out, cache_dir=tmp_path / "cache")
    assert status == 2
    assert message in out.getvalue()


def test_outside_the_root_and_bad_budget(project: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    other = tmp_path / "elsewhere.py"
    other.write_text("x = 1\n")
    assert run_context(f"{other}:1", 64, out, root=project, cache_dir=tmp_path / "c") == 2
    assert "not inside the workspace" in out.getvalue()
    assert run_context(f"{other}:1", 0, io.StringIO()) == 2


def test_root_detection_and_helpers(tmp_path: Path) -> None:
    (tmp_path / "ws" / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "ws" / ".quill.toml").write_text("")
    file = tmp_path / "ws" / "pkg" / "sub" / "m.py"
    file.write_text("")
    assert find_workspace_root(file) == tmp_path / "ws"
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "a.py").write_text("")
    assert find_workspace_root(lone / "a.py") in (lone, *lone.parents)
    assert parse_spec("a/b.py:12") == ("a/b.py", 12, None)
    assert parse_spec("C:/x/b.py:3:5") == ("C:/x/b.py", 3, 5)
    assert parse_spec("b.py") is None
    lines = ["class A:", "    def f(self):", "        x = 1", "", "def g() {", ""]
    assert default_column(lines, 2) == 8
    assert default_column(lines, 3) == 8  # blank: the previous statement's indentation
    assert default_column(lines, 5) == 4  # after a line opening a block
    assert default_column(["", "x"], 0) == 0
