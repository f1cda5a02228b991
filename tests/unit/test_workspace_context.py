"""Cross-file completion context from the real index of a small workspace."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from quill.context.sections import ContextQuery
from quill.context.workspace import (
    definitions_source,
    identifiers_near_cursor,
    repo_map_source,
)
from quill.index.service import WorkspaceIndex

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "workspace_app"
TEXT = "from app.geometry import Layout, area\n\n\ndef build():\n    layout = Layout()\n    "


def make_index(tmp_path: Path) -> WorkspaceIndex:
    root = tmp_path / "ws"
    shutil.copytree(FIXTURE, root)
    index = WorkspaceIndex(root, cache_dir=tmp_path / "cache")
    index.index_all()
    return index


def query(text: str = TEXT) -> ContextQuery:
    return ContextQuery(
        "file:///ws/app/main.py", "app/main.py", "python", text, text.count("\n"), text, 256
    )


def test_identifiers_near_cursor_nearest_first() -> None:
    assert identifiers_near_cursor("import os\nvalue = compute_total(items)\nresult = ") == [
        "result",
        "items",
        "compute_total",
        "value",
    ]


def test_definitions_of_names_near_the_cursor(tmp_path: Path) -> None:
    index = make_index(tmp_path)
    try:
        (section,) = definitions_source(lambda: index)(query())
        assert section.source == "definition"
        assert "# app/geometry.py: class Layout:" in section.text
        assert "def area(width: float, height: float) -> float:" in section.text
    finally:
        index.close()


def test_repo_map_is_served_from_a_background_cache(tmp_path: Path) -> None:
    index = make_index(tmp_path)
    try:
        source = repo_map_source(lambda: index)
        assert source(query()) == []  # nothing cached yet: never waits on the keystroke
        for _ in range(200):
            sections = source(query())
            if sections:
                break
            time.sleep(0.02)
        assert sections and sections[0].source == "repo_map"
        assert "app/geometry.py" in sections[0].text
        assert "def update_dimensions" in sections[0].text
    finally:
        index.close()
