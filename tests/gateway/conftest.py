"""A real gateway (uvicorn on 127.0.0.1, a real app object) shared by a test module."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from quill.app import Quill
from quill.gateway.runner import RunningGateway, start_gateway
from quill.settings_sources import SettingsSources
from tests.conftest import REPO_ROOT

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "e2e"
#: short answers keep the model tests fast; long enough to cancel one mid-stream
CLIENT_SETTINGS = {"chat": {"maxTokens": 96}, "actions": {"maxTokens": 96}}


@dataclass
class Harness:
    app: Quill
    running: RunningGateway
    workspace: Path
    outside: Path

    @property
    def port(self) -> int:
        return self.running.port

    @property
    def token(self) -> str:
        return self.running.token

    @property
    def base(self) -> str:
        return self.running.url

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def metric(self, name: str, **labels: str) -> float:
        value = self.running.asgi.gateway.metrics.registry.get_sample_value(name, labels)
        return value or 0.0


def make_workspace(root: Path) -> tuple[Path, Path]:
    """A workspace with a Python file, a secret file and a link that points outside it."""
    workspace = root / "ws"
    shutil.copytree(FIXTURE, workspace)
    (workspace / ".env").write_text("API_KEY=sk-live-0123456789abcdef0123456789abcdef\n")
    outside = root / "outside.txt"
    outside.write_text("TOP SECRET OUTSIDE THE WORKSPACE\n")
    os.symlink(outside, workspace / "link.txt")
    return workspace, outside


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    root = tmp_path_factory.mktemp("gateway")
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith("QUILL_"):
                mp.delenv(key)
        mp.setenv("QUILL_CONFIG_FILE", str(root / "no-user-config.toml"))
        mp.setenv("XDG_CACHE_HOME", str(root / "cache"))
        workspace, outside = make_workspace(root)
        sources = SettingsSources(workspace=workspace, initialization_options=CLIENT_SETTINGS)
        app = Quill(sources)
        await app.start_index()
        options: dict[str, Any] = {"http_rate": 200.0, "ws_rate": 50.0}
        running, _port, _token = await start_gateway(app, 0, token_dir=root / "run", **options)
        try:
            yield Harness(app, running, workspace, outside)
        finally:
            await running.stop()
            await app.aclose()
