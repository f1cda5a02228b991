"""A small workspace (with a secret file and a symlink out) and its index, for chat tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from quill.index.service import WorkspaceIndex

GEOMETRY = '''"""Shapes."""


def area(width: float, height: float) -> float:
    """The area of a rectangle."""
    return width * height


class Circle:
    def __init__(self, radius: float) -> None:
        self.radius = radius

    def circumference(self) -> float:
        return 2 * 3.14159 * self.radius
'''

SETTINGS = """API_TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB"


def load_settings(path: str) -> dict[str, str]:
    return {"path": path}
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "geometry.py").write_text(GEOMETRY)
    (root / "pkg" / "settings.py").write_text(SETTINGS)
    (root / "big.py").write_text("x = 1\n" * 5000)
    (root / ".env").write_text("API_KEY=sk-live-0123456789abcdef0123456789abcdef\n")
    (root / "blob.bin").write_bytes(b"\0\1\2" * 100)
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET_OUTSIDE = 1\n")
    (root / "link.py").symlink_to(outside)
    return root


@pytest.fixture
def index(workspace: Path, tmp_path: Path) -> Iterator[WorkspaceIndex]:
    with WorkspaceIndex(workspace, tmp_path / "cache") as index:
        index.index_all()
        yield index
