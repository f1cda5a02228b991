"""Shared set-up for the context tests: a fresh, fully indexed copy of a fixture project."""

from __future__ import annotations

import shutil
from pathlib import Path

from quill.index.service import WorkspaceIndex

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "context"
CANVAS = "app/render/canvas.py"


def index_copy(src: str, base: Path) -> WorkspaceIndex:
    shutil.copytree(FIXTURES / src, base / src)
    index = WorkspaceIndex(base / src, cache_dir=base / "cache")
    index.index_all()
    return index


def project_index(base: Path, files: dict[str, str]) -> WorkspaceIndex:
    """A fully indexed project of ``files`` (workspace-relative path -> text) under ``base``."""
    root = base / "proj"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    index = WorkspaceIndex(root, cache_dir=base / "cache")
    index.index_all()
    return index
