"""Shared helpers for the index tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "index"
PROJECT = FIXTURES / "project"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A writable copy of the repo-map fixture project."""
    dest = tmp_path / "project"
    shutil.copytree(PROJECT, dest)
    return dest


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    path = tmp_path / "index-cache"
    path.mkdir()
    return path
