"""Shared fixtures: every test runs with no user configuration and no QUILL_* variables."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from quill.models.local import embedded_model_path

REPO_ROOT = Path(__file__).resolve().parents[1]


def clean_environment(tmp: Path) -> dict[str, str]:
    """The environment a server under test gets: no user config, caches in ``tmp``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUILL_")}
    env.pop("OPENAI_API_KEY", None)
    env["QUILL_CONFIG_FILE"] = str(tmp / "no-user-config.toml")
    env["XDG_CACHE_HOME"] = str(tmp / "cache")
    env["XDG_STATE_HOME"] = str(tmp / "state")
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("QUILL_"):
            monkeypatch.delenv(key)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("QUILL_CONFIG_FILE", str(tmp_path / "no-user-config.toml"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    """The embedded model file; `make test` installs it, so its absence is a failure."""
    path = embedded_model_path()
    assert path is not None, "the embedded model is missing: run `make setup`"
    return path


@pytest.fixture
def quill_command() -> Iterator[list[str]]:
    yield [sys.executable, "-m", "quill.cli"]
