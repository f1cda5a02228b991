"""`quill index` / `quill map` front-end functions."""

from __future__ import annotations

import io
from pathlib import Path

from quill.index.commands import run_index, run_map


def test_run_index_prints_per_language_counts(project: Path) -> None:
    (project / "web").mkdir()
    (project / "web" / "app.ts").write_text("export function start(): void {}\n")
    out = io.StringIO()
    assert run_index(project, stats=True, out=out) == 0
    text = out.getvalue()
    assert "9 files" in text
    header = next(line for line in text.splitlines() if line.startswith("language"))
    assert header.split() == ["language", "files", "lines", "modules", "classes", "functions"]
    python = next(line for line in text.splitlines() if line.startswith("python"))
    assert python.split()[1] == "8"
    assert any(line.startswith("typescript") for line in text.splitlines())
    assert any(line.startswith("total") for line in text.splitlines())
    # A second run is warm.
    again = io.StringIO()
    assert run_index(project, stats=False, out=again) == 0
    assert "0 parsed, 9 unchanged" in again.getvalue()
    assert "language" not in again.getvalue()


def test_run_map_prints_the_map(project: Path) -> None:
    out = io.StringIO()
    assert run_map(project, 200, [project / "app" / "main.py"], out) == 0
    assert out.getvalue().startswith("app/geometry.py:\n│class PageLayout:")


def test_bad_arguments(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_index(tmp_path / "missing", stats=True, out=out) == 2
    assert "not a folder" in out.getvalue()
    assert run_map(tmp_path, 0, [], io.StringIO()) == 2
    empty = io.StringIO()
    assert run_map(tmp_path, 100, [], empty) == 0
    assert "nothing to show" in empty.getvalue()
